package vault

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/hashset"
	"github.com/custos-vault/custos/internal/secret"
)

func sums(b []byte) (md5hex, sha1hex, sha256hex string) {
	m, s1, s2 := md5.Sum(b), sha1.Sum(b), sha256.Sum256(b)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:])
}

// TestHashSetMatching imports a set of each kind from fixtures the test
// writes, deposits files they list, and checks what each match means:
// a known-illegal set's category is inherited and the item hidden; a
// known-good set marks the item as ordinary.
func TestHashSetMatching(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	listed := []byte("a file a partner hotline has already classified")
	vicsFile := []byte("a file listed in a VICS case")
	ordinary := []byte("MZ this is an ordinary operating-system file")
	_, _, listedSHA := sums(listed)
	vicsMD5, _, _ := sums(vicsFile)
	goodMD5, goodSHA1, _ := sums(ordinary)

	imp := func(who Principal, name, format, category, body string) (*HashSetImportResult, error) {
		return importSet(t, v, ctx, who, HashSetImport{Name: name, Format: format, Category: category, Body: strings.NewReader(body)})
	}
	if _, err := imp(h.a1, "sums", "sha256sum", "baseline", listedSHA+"  x.jpg\n"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst imported a hash set: %v", err)
	}
	res, err := imp(h.cust, "sums", "sha256sum", "baseline", listedSHA+"  x.jpg\nnot-a-hash  y.jpg\n")
	if err != nil || res.Imported != 1 || res.Rejected != 1 || len(res.Problems) != 1 || res.Problems[0].Line != 2 {
		t.Fatalf("sha256sum import: %+v %v", res, err)
	}
	vics := fmt.Sprintf(`{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases","value":[{"CaseNumber":"P-1","Media":[{"MediaID":1,"Category":1,"MD5":%q,"MediaSize":%d,"Series":"S-1"}]}]}`,
		strings.ToUpper(vicsMD5), len(vicsFile))
	if _, err := imp(h.cust, "projectvic", "vics", "", vics); err != nil {
		t.Fatal(err)
	}
	nsrl := `"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"` + "\n" +
		fmt.Sprintf(`%q,%q,"00000000","notepad.exe",%d,1,"WIN",""`, strings.ToUpper(goodSHA1), strings.ToUpper(goodMD5), len(ordinary)) + "\n"
	if _, err := imp(h.cust, "nsrl", "nsrl", "known-good", nsrl); err != nil {
		t.Fatal(err)
	}

	a := h.deposit(t, h.a1, "listed.jpg", listed, "")
	if len(a.Matches) != 1 || a.Matches[0].Set != "sums" || a.Matches[0].Category != CategoryBaseline || a.Matches[0].Algorithm != "sha256" {
		t.Fatalf("sha256sum match: %+v", a.Matches)
	}
	if !strings.Contains(a.Known, "hash set sums") {
		t.Fatalf("a known-illegal match is not known material: %q", a.Known)
	}
	b := h.deposit(t, h.a1, "vics.jpg", vicsFile, "")
	if len(b.Matches) != 1 || b.Matches[0].Category != CategoryBaseline || b.Matches[0].SourceCategory != "1" || b.Matches[0].Series != "S-1" {
		t.Fatalf("VICS match: %+v", b.Matches)
	}
	it, _, _ := v.state.getItem(b.ID)
	if cl := v.classification(it); cl.Category != CategoryBaseline || cl.Source != "hashset" {
		t.Fatalf("the VICS category is not inherited: %+v", cl)
	}
	c := h.deposit(t, h.a1, "notepad.exe", ordinary, "")
	it, _, _ = v.state.getItem(c.ID)
	if cl := v.classification(it); !cl.KnownGood || c.Known != "" {
		t.Fatalf("an NSRL match is not known good: %+v %q", cl, c.Known)
	}
	if _, err := h.view(h.a2, a.ID, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a hash-set match was shown without an override: %v", err)
	}
	s, _ := v.Statistics(ctx, h.cust, it.At.Time().Add(-60e9), it.At.Time().Add(60e9))
	if s.MatchesByHashSet["sums"] != 1 || s.MatchesByHashSet["projectvic"] != 1 || s.MatchesByHashSet["nsrl"] != 1 || s.Items.KnownGood != 1 {
		t.Fatalf("stats: %+v", s)
	}

	// A fatal import error changes nothing: the set stays as it was.
	before := v.log.Size()
	if _, err := imp(h.cust, "sums", "vics", "baseline", `{"value": [ {"Media": [`); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a broken file: %v", err)
	}
	if _, err := imp(h.cust, "sums", "sha256sum", "", "nothing valid here\n"); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a file without one valid entry: %v", err)
	}
	if _, err := imp(h.cust, "../escape", "sha256sum", "", listedSHA+"  x\n"); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a path in the name: %v", err)
	}
	if v.log.Size() != before {
		t.Fatal("failed imports changed the log")
	}
	if again := h.deposit(t, h.a1, "listed-again.jpg", listed, ""); len(again.Matches) != 1 {
		t.Fatalf("the set was damaged by a failed import: %+v", again.Matches)
	}
}

// TestHashSetTamperedOnDisk: a set whose files are edited after its
// import, or put in the folder without one, is not used after a start,
// and hashset list says why.
func TestHashSetTamperedOnDisk(t *testing.T) {
	v, hsDir, cust, anaTok := restartableHashSetVault(t)
	ctx := context.Background()
	file := []byte("listed content")
	_, _, sum := sums(file)
	for _, name := range []string{"edited", "intact"} {
		if _, err := importSet(t, v, ctx, cust, HashSetImport{Name: name, Format: "sha256sum", Category: "baseline", Body: strings.NewReader(sum + "  a\n")}); err != nil {
			t.Fatal(err)
		}
	}
	// The database administrator's edit: a byte of a table flipped,
	// and a set copied in without an import.
	var table string
	filepath.WalkDir(filepath.Join(hsDir, "edited"), func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() && !strings.HasSuffix(p, ".json") && table == "" {
			if fi, _ := d.Info(); fi.Size() > 64 {
				table = p
			}
		}
		return nil
	})
	b, _ := os.ReadFile(table)
	b[len(b)-1] ^= 0xFF
	os.Chmod(table, 0o600)
	if err := os.WriteFile(table, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(hsDir, "smuggled"), os.DirFS(filepath.Join(hsDir, "intact"))); err != nil {
		t.Fatal(err)
	}
	v.Close()
	v2, err := Open(ctx, v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	list, err := v2.HashSets(ctx, cust)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, h := range list {
		status[h.Name] = h.Status
	}
	if status["intact"] != "in use" || !strings.Contains(status["edited"], "not used") {
		t.Fatalf("statuses after the edit: %v", status)
	}
	if _, listed := status["smuggled"]; listed {
		t.Fatalf("a set without an import is listed as imported")
	}
	if !strings.Contains(v2.hashsets.problems["smuggled"], "no import in the custody log") {
		t.Fatalf("the smuggled set: %q", v2.hashsets.problems["smuggled"])
	}
	// Both are recorded as unused, with why.
	var unused []string
	v2.cfg.Log.Read(ctx, 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err == nil && ev.Type == TypeHashSetUnused {
			var d HashSetUnused
			ev.DecodeData(&d)
			unused = append(unused, d.Name)
		}
		return err
	})
	if strings.Join(unused, ",") != "edited,smuggled" {
		t.Fatalf("hashset.unused events name %v", unused)
	}
	ana2, err := signIn(v2, anaTok)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v2.Deposit(ctx, ana2, DepositRequest{Case: "HL-1", Name: "f", Body: bytes.NewReader(file)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 1 || res.Matches[0].Set != "intact" {
		t.Fatalf("matches after the edit: %+v (only the intact set may match)", res.Matches)
	}
}

// restartableHashSetVault is a vault keeping hash sets in hsDir, with a
// custodian and an analyst (whose credential is returned, to sign in
// again after a restart) who opened case HL-1.
func restartableHashSetVault(t *testing.T) (v *Vault, hsDir string, cust Principal, anaTok secret.String) {
	t.Helper()
	hsDir = filepath.Join(t.TempDir(), "hashsets")
	v, _ = openTestVaultDir(t, func(c *Config) { c.HashSetDir = hsDir })
	ctx := context.Background()
	cust = enrolled(t, v, "cust", RoleCustodian)
	anaTok, err := v.Enroll(ctx, "ana", RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	ana, _ := signIn(v, anaTok)
	if err := v.OpenCase(ctx, ana, "HL-1", "t"); err != nil {
		t.Fatal(err)
	}
	return v, hsDir, cust, anaTok
}

// TestScrubFindsAHashSetEditedInPlace: the sets' lookups read their files
// as they are on disk, and a file edited in place (the same file, so the
// open descriptor reads the edit) after the start's check would change
// what is known material unseen. A scrub re-hashes every set in use:
// the edited one is reported, recorded in the scrub's event, and taken
// out of use until imported again; a set left alone stays in use.
func TestScrubFindsAHashSetEditedInPlace(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	for _, name := range []string{"partner", "other"} {
		sum := sha256.Sum256([]byte("listed by " + name))
		if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: name, Format: "sha256sum", Category: "baseline",
			Body: strings.NewReader(hex.EncodeToString(sum[:]) + "  x.jpg\n")}); err != nil {
			t.Fatal(err)
		}
	}
	auditor := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, auditor)
	if err != nil || !res.OK || res.HashSets != 2 || len(res.HashSetsAltered) != 0 {
		t.Fatalf("a scrub of untouched sets: %+v %v", res, err)
	}
	alterHashSetTable(t, filepath.Join(dir, "hashsets"), "partner")
	before := v.log.Size()
	res, err = v.Scrub(ctx, auditor)
	if err != nil || res.OK || !slices.Equal(res.HashSetsAltered, []string{"partner"}) {
		t.Fatalf("a scrub after an edit in place: %+v %v", res, err)
	}
	var d AuditScrubbed
	evs := logged(t, v)[before:]
	if len(evs) == 0 || evs[0].Type != TypeAuditScrubbed || evs[0].DecodeData(&d) != nil || !slices.Equal(d.HashSetsAltered, []string{"partner"}) {
		t.Fatalf("the scrub's event: %v %+v", evs, d)
	}
	views, err := v.HashSets(ctx, h.cust)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range views {
		switch {
		case s.Name == "partner" && !strings.Contains(s.Status, "a scrub found its files changed"):
			t.Fatalf("the edited set's status: %q", s.Status)
		case s.Name == "other" && s.Status != "in use":
			t.Fatalf("the untouched set's status: %q", s.Status)
		}
	}
}

// TestHashSetEditedWhileInUseIsNeverAnsweredFrom: an administrator edits
// a set's files in place while the vault runs, to relabel an entry or to
// hide a listed digest, meaning to put the bytes back before the next
// scrub. The deposit that would have been decided on the edited bytes is
// refused instead (nothing recorded), the set is taken out of use with
// why, and no deposit event ever carries an answer read from them.
func TestHashSetEditedWhileInUseIsNeverAnsweredFrom(t *testing.T) {
	for _, c := range []struct {
		name, file string
		// at is the offset to edit, given the file's bytes.
		at func(b []byte) int64
	}{
		{"an entry relabelled", "entries.dat", func(b []byte) int64 { return int64(bytes.Index(b, []byte("known-2.jpg"))) }},
		{"a listed digest's last byte", "sha256.tab", func(b []byte) int64 {
			sum := sha256.Sum256([]byte("known 2"))
			return int64(bytes.Index(b, sum[:])) + 31
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			h := newHotline(t, func(cfg *Config) { cfg.HashSetDir = filepath.Join(dir, "hashsets") })
			v, ctx := h.v, h.ctx
			var list strings.Builder
			for i := 1; i <= 2; i++ {
				sum := sha256.Sum256(fmt.Appendf(nil, "known %d", i))
				fmt.Fprintf(&list, "%x  known-%d.jpg\n", sum, i)
			}
			if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline",
				Body: strings.NewReader(list.String())}); err != nil {
				t.Fatal(err)
			}
			if res := h.deposit(t, h.a1, "one.jpg", []byte("known 1"), ""); len(res.Matches) != 1 || res.Known == "" {
				t.Fatalf("precondition: %+v", res)
			}
			p := filepath.Join(dir, "hashsets", "partner", c.file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			off := c.at(b)
			if off < 0 {
				t.Fatal("precondition: the bytes to edit are not in the file")
			}
			flipByte(t, p, off)
			before := v.log.Size()
			_, err = v.Deposit(ctx, h.a1, DepositRequest{Case: "HL-1", Name: "two.jpg", Body: bytes.NewReader([]byte("known 2"))})
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "hash set partner could not be read") {
				t.Fatalf("a deposit decided on a set edited in place: %v", err)
			}
			for _, ev := range logged(t, v)[before:] {
				if ev.Type == TypeItemDeposited {
					t.Fatalf("a deposit was recorded from the edited set: %s", ev.Data)
				}
			}
			// Taken out of use, and so recorded, as a start records a set
			// it does not use: a court reads why later deposits did not
			// match it.
			var unused *events.Event
			for deadline := time.Now().Add(10 * time.Second); unused == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				for _, ev := range logged(t, v)[before:] {
					var d HashSetUnused
					if ev.Type == TypeHashSetUnused && ev.DecodeData(&d) == nil && d.Name == "partner" && strings.Contains(d.Reason, "could not be read as imported") {
						unused = ev
					}
				}
			}
			if unused == nil {
				t.Fatal("the set taken out of use was not recorded (hashset.unused)")
			}
			flipByte(t, p, off) // put back, before any scrub
			views, err := v.HashSets(ctx, h.cust)
			if err != nil || len(views) != 1 || !strings.Contains(views[0].Status, "could not be read as imported") {
				t.Fatalf("the set's status after the edit: %+v %v", views, err)
			}
			// Out of use until imported again: the next deposit is
			// decided without it, as the set list says.
			if res := h.deposit(t, h.a1, "two.jpg", []byte("known 2"), ""); len(res.Matches) != 0 {
				t.Fatalf("a set out of use matched: %+v", res.Matches)
			}
		})
	}
}

// TestViewOfASetEditedInPlaceIsRefused: an item known by a set (listed:
// a view without the override is refused) is viewed again after a key
// of the set was edited in place. The view that read the edited bytes is
// refused, not decided as if the item were not listed, and nothing is
// recorded as shown.
func TestViewOfASetEditedInPlaceIsRefused(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(cfg *Config) { cfg.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	item := h.deposit(t, h.a1, "two.jpg", []byte("known 2"), "")
	sum := sha256.Sum256([]byte("known 2"))
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline",
		Body: strings.NewReader(fmt.Sprintf("%x  known-2.jpg\n", sum))}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.view(h.a2, item.ID, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("precondition: a listed item viewed without the override: %v", err)
	}
	p := filepath.Join(dir, "hashsets", "partner", "sha256.tab")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, p, int64(bytes.Index(b, sum[:]))+31)
	views := len(h.eventsOf(t, TypeItemAccessed))
	if _, err := h.view(h.a2, item.ID, false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a view that read an edited set: %v", err)
	}
	if n := len(h.eventsOf(t, TypeItemAccessed)); n != views {
		t.Fatalf("the view was recorded as made (%d item.accessed events, were %d)", n, views)
	}
}

// TestImportedSetSwappedBeforeUseIsNotUsed: the server's administrator
// swaps an import's files, once in place, for a set built elsewhere with
// the same name, format and category that leaves out one listed digest.
// The vault opens what the import event recorded or nothing: the import
// answers 503, neither set is used, the log says why (hashset.unused),
// and a scrub agrees.
func TestImportedSetSwappedBeforeUseIsNotUsed(t *testing.T) {
	root := filepath.Join(t.TempDir(), "hashsets")
	h := newHotline(t, func(c *Config) { c.HashSetDir = root })
	v, ctx := h.v, h.ctx
	var full, forged strings.Builder
	for i := 1; i <= 3; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "known %d", i))
		fmt.Fprintf(&full, "%x  known-%d.jpg\n", sum, i)
		if i != 2 {
			fmt.Fprintf(&forged, "%x  known-%d.jpg\n", sum, i)
		}
	}
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(full.String())}); err != nil {
		t.Fatal(err)
	}
	prep := t.TempDir()
	if _, err := hashset.Build(prep, "partner", strings.NewReader(forged.String()), "sha256sum", hashset.BuildOptions{DefaultCategory: "baseline"}); err != nil {
		t.Fatal(err)
	}
	testHookImported = func(name string) {
		for _, f := range []string{"entries.dat", "offsets.dat", "pdq.dat", "md5.tab", "sha1.tab", "sha256.tab", "manifest.json"} {
			if err := os.Rename(filepath.Join(prep, "partner", f), filepath.Join(root, name, f)); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { testHookImported = nil }()
	before := v.log.Size()
	_, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(full.String())})
	testHookImported = nil
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not the one it recorded") {
		t.Fatalf("an import whose files were swapped before use: %v", err)
	}
	views, err := v.HashSets(ctx, h.cust)
	if err != nil || len(views) != 1 || views[0].Status == "in use" {
		t.Fatalf("the swapped set's status: %+v %v", views, err)
	}
	// Recorded before the import answered (and before views went on).
	var recorded bool
	for _, ev := range logged(t, v)[before:] {
		recorded = recorded || ev.Type == TypeHashSetUnused
	}
	if !recorded {
		t.Fatal("the swap was not recorded (hashset.unused) by the time the import answered")
	}
	if d := h.deposit(t, h.a1, "two.jpg", []byte("known 2"), ""); len(d.Matches) != 0 {
		t.Fatalf("a set not in use matched: %+v", d.Matches)
	}
}

// TestReimportingAPDQSetBesideMatching: a set of PDQ hashes is imported
// again and again, between sizes, while deposits and similar-image
// searches match against it. No match reads one import's entry numbers
// against the other's files (which used to fail the match and take the
// fresh set out of use as if its files had been edited).
func TestReimportingAPDQSetBesideMatching(t *testing.T) {
	root := filepath.Join(t.TempDir(), "hashsets")
	h := newHotline(t, func(c *Config) { c.HashSetDir = root })
	v, ctx := h.v, h.ctx
	big, small := vicsWithPDQ(t, 300), vicsWithPDQ(t, 1)
	stop := make(chan struct{})
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	var target [32]byte
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := v.hashsets.pdqMatches([][32]byte{target}, 256); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for i := range 20 {
		body := big
		if i%2 == 1 {
			body = small
		}
		if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "pv", Format: "vics", Category: "baseline", Body: strings.NewReader(body)}); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("import %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("a match beside a re-import: %v", err)
	default:
	}
	if views, _ := v.HashSets(ctx, h.cust); len(views) != 1 || views[0].Status != "in use" {
		t.Fatalf("after the re-imports: %+v", views)
	}
}

// vicsWithPDQ is a Project VIC VICS 2.0 document of n media, each with a
// PDQ hash (the i-th: SHA-256 of "pdq i"), category 1.
func vicsWithPDQ(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases","value":[{"CaseNumber":"P","Media":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		p := sha256.Sum256(fmt.Appendf(nil, "pdq %d", i))
		fmt.Fprintf(&b, `{"MediaID":%d,"Category":1,"AlternativeHashes":[{"HashName":"PDQ","HashValue":"%x"}]}`, i, p)
	}
	b.WriteString(`]}]}`)
	return b.String()
}

// On a halted custody log a hash set is not imported: refused before its
// file is read or anything written, since its event could not be
// recorded (as a deposit's ciphertext is not stored,
// TestAlteredLogUnderASnapshotHaltsTheVault), and nothing is left.
func TestHashSetNotImportedOnAHaltedLog(t *testing.T) {
	dir := t.TempDir()
	hsDir := filepath.Join(dir, "hashsets")
	h := newHotline(t, func(c *Config) { c.HashSetDir = hsDir })
	before := filesUnder(t, hsDir)
	h.v.log.Halt(fmt.Errorf("%w: the store's events are not the log's", ErrIntegrity))
	body := strings.NewReader(strings.Repeat("a", 64) + "  a\n")
	_, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "late", Format: "sha256sum", Category: "baseline", Body: body})
	if !errors.Is(err, ErrLogHalted) {
		t.Fatalf("an import on a halted log: %v", err)
	}
	if body.Len() != int(body.Size()) {
		t.Fatalf("the import read %d bytes of its set before it was refused", body.Size()-int64(body.Len()))
	}
	if after := filesUnder(t, hsDir); after != before {
		t.Fatalf("a refused import left files: %d before, %d after", before, after)
	}
}

// filesUnder counts the regular files under dir (0 if it is missing).
func filesUnder(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// After a set is taken out of use because its files were edited, the
// items it may list stay hidden: a view without the override is refused
// as known material, naming the set, until a custodian imports the set
// again or removes it. A set that cannot be read is never taken for "no
// match". Another item that the set does not list is hidden too: the
// vault cannot tell which items the set lists without reading it.
func TestItemsStayHiddenWhileASetIsOutOfUse(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(cfg *Config) { cfg.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	listed := h.deposit(t, h.a1, "two.jpg", []byte("known 2"), "")
	other := h.deposit(t, h.a1, "other.txt", []byte("a chat log"), "")
	empty := h.deposit(t, h.a1, "empty.dat", nil, "")
	sum := sha256.Sum256([]byte("known 2"))
	set := fmt.Sprintf("%x  known-2.jpg\n", sum)
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline",
		Body: strings.NewReader(set)}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "hashsets", "partner", "sha256.tab")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, p, int64(bytes.Index(b, sum[:]))+31)
	if _, err := h.view(h.a2, listed.ID, false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("the view that read the edited set: %v", err)
	}
	for _, id := range []string{listed.ID, other.ID} {
		_, err := h.view(h.a2, id, false)
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "hash set partner, which may list it, is out of use") {
			t.Fatalf("a view of %s while the set is out of use: %v, want it refused as possibly known", id, err)
		}
	}
	// A scrub names the set out of use rather than say all match.
	if res, err := v.Scrub(ctx, h.cust); err != nil || len(res.HashSetsOutOfUse) != 1 || res.HashSetsOutOfUse[0] != "partner" {
		t.Fatalf("scrub while the set is out of use: %+v %v", res, err)
	}
	// An empty file matches no set's listing, so none may list it.
	if _, err := h.view(h.a2, empty.ID, false); err != nil {
		t.Fatalf("a view of an empty file while the set is out of use: %v", err)
	}
	items, err := v.Items(ctx, h.a2, "HL-1", ItemFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Known == "" && it.ID != empty.ID {
			t.Errorf("item %s (%s) is listed as not known while the set is out of use", it.ID, it.Name)
		}
	}
	// The triage queue does not empty without a word: its items stay,
	// each marked with why it is hidden.
	queue, err := v.Items(ctx, h.a2, "HL-1", ItemFilter{Unclassified: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(queue) == 0 {
		t.Fatal("the triage queue is empty while the set is out of use")
	}
	for _, it := range queue {
		if it.ID != empty.ID && !strings.Contains(it.Known, "is out of use") {
			t.Errorf("queued item %s (%s) is not marked as hidden: %q", it.ID, it.Name, it.Known)
		}
	}
	if _, err := h.view(h.a2, listed.ID, true); err != nil {
		t.Fatalf("a view with the override: %v", err)
	}
	// Imported again: the listed item is known by the set, the other is
	// shown.
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline",
		Body: strings.NewReader(set)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.view(h.a2, listed.ID, false); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "matches entry") {
		t.Fatalf("the listed item after the set was imported again: %v", err)
	}
	if _, err := h.view(h.a2, other.ID, false); err != nil {
		t.Fatalf("an item the set does not list, after it was imported again: %v", err)
	}
}

// A known-good list out of use (system files' hashes) hides nothing: a
// match against it cannot make an item known material.
func TestAKnownGoodSetOutOfUseHidesNothing(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(cfg *Config) { cfg.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	dll := h.deposit(t, h.a1, "ordinary.dll", []byte("an ordinary system file"), "")
	other := h.deposit(t, h.a1, "photo.jpg", []byte("a photo to review"), "")
	sum := sha256.Sum256([]byte("an ordinary system file"))
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "goodfiles", Format: "sha256sum", Category: CategoryKnownGood,
		Body: strings.NewReader(fmt.Sprintf("%x  ordinary.dll\n", sum))}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "hashsets", "goodfiles", "sha256.tab")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, p, int64(bytes.Index(b, sum[:]))+31)
	if _, err := h.view(h.a2, dll.ID, false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("the view that read the edited set: %v", err)
	}
	if _, err := h.view(h.a2, other.ID, false); err != nil {
		t.Fatalf("a view while only a known-good set is out of use: %v", err)
	}
}

// A hash set's table grown in place to a sparse 6 GiB (nothing on disk
// for whoever grew it) is altered after one byte past its size, not read
// whole: the scrub ends at once and takes the set out of use.
func TestScrubReadsNoMoreOfAHashSetThanItsSize(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	sum := sha256.Sum256([]byte("listed"))
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline",
		Body: strings.NewReader(hex.EncodeToString(sum[:]) + "  x.jpg\n")}); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(dir, "hashsets", "partner", "sha256.tab"), 6<<30); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	res, err := v.Scrub(sctx, enrolled(t, v, "aud", RoleAuditor))
	if err != nil || !slices.Equal(res.HashSetsAltered, []string{"partner"}) {
		t.Fatalf("scrub: %+v %v", res, err)
	}
}

// The rest of the class: a set whose format carries a category per entry
// (CAID, VICS, ICSE), imported as known good, lists nothing illegal
// either (every entry of a known-good set is known good), so its loss
// hides nothing; the same list imported as not illegal, whose entries
// keep a category of their own, hides every unsettled item while it is
// out of use.
func TestAKnownGoodCAIDSetOutOfUseHidesNothing(t *testing.T) {
	for _, tc := range []struct {
		category string
		hides    bool
	}{{CategoryKnownGood, false}, {CategoryNotIllegal, true}} {
		t.Run(tc.category, func(t *testing.T) {
			dir := t.TempDir()
			h := newHotline(t, func(cfg *Config) { cfg.HashSetDir = filepath.Join(dir, "hashsets") })
			v, ctx := h.v, h.ctx
			good := []byte("a non-pertinent image from a reference set")
			other := h.deposit(t, h.a1, "photo.jpg", []byte("a photo to review"), "")
			sum := md5.Sum(good)
			caid := fmt.Sprintf(`{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml#Media","value":[{"MediaID":1,"MD5":"%X","MediaSize":"%d"}]}`, sum, len(good))
			if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "reference", Format: "caid", Category: tc.category,
				Body: strings.NewReader(caid)}); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "hashsets", "reference", "md5.tab")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, p, int64(bytes.Index(b, sum[:]))+15)
			if altered := v.hashsets.verifyLoaded(ctx, v.state); !slices.Equal(altered, []string{"reference"}) {
				t.Fatalf("the edited set was not taken out of use: %v", altered)
			}
			_, err = h.view(h.a2, other.ID, false)
			if hidden := errors.Is(err, ErrForbidden) && strings.Contains(err.Error(), "hash set reference, which may list it, is out of use"); hidden != tc.hides {
				t.Fatalf("a view of an unrelated item while the %s set is out of use: %v (hidden: %v, want %v)", tc.category, err, hidden, tc.hides)
			}
		})
	}
}

// importSet imports a hash set as who and, where the vault makes an
// import a request (Config.HashSetApproval), has another custodian
// approve it (one is enrolled if there is none): the answer is the
// import's, with the event that recorded it. An error of the import or
// of the approval is returned as is.
func importSet(t testing.TB, v *Vault, ctx context.Context, who Principal, req HashSetImport) (*HashSetImportResult, error) {
	t.Helper()
	res, err := v.ImportHashSet(ctx, who, req)
	if err != nil || res.Request == "" {
		return res, err // put in use at once (Config.HashSetApproval unset)
	}
	a, err := v.Approve(ctx, otherCustodian(t, v, who.Name), res.Request)
	if err != nil {
		return nil, err
	}
	res.Event, res.RequestedBy = a.HashSet.Event, a.HashSet.RequestedBy
	return res, nil
}

// otherCustodian is an active custodian other than name, enrolled if
// the vault has none.
func otherCustodian(t testing.TB, v *Vault, name string) Principal {
	t.Helper()
	for _, p := range v.state.allPersons() {
		if p.Role == RoleCustodian && p.Name != name && !p.Suspended && !p.Removed {
			return Principal{Name: p.Name, Role: p.Role}
		}
	}
	return enrolled(t, v, "second-custodian", RoleCustodian)
}

// alterHashSetTable flips one byte of the first record of set name's
// SHA-256 table under root, written in place (the same file, so that an
// open descriptor reads the edit), as an administrator of the folder
// could.
func alterHashSetTable(t *testing.T, root, name string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(root, name, "sha256.tab"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 32); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, 32); err != nil {
		t.Fatal(err)
	}
}
