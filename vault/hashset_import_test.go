package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/hashset"
	"github.com/custos-vault/custos/objects"
)

// TestAHashSetImportTakesTwoCustodians: on a vault that asks two
// custodians for an import (--hashset-approval required), one custodian's import of a
// known-illegal set listing a fresh item's file (its SHA-256 read from a
// custody report, as any custodian may) is a request: the item stays in
// its analysts' review, and the set is not listed or used, until another
// custodian approves it; its requester cannot. The approval records who
// asked and who approved, and puts the set in use.
func TestAHashSetImportTakesTwoCustodians(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), true })
	v, ctx := h.v, h.ctx
	body := []byte("fresh evidence nobody has reviewed yet")
	fresh := h.deposit(t, h.a1, "fresh.bin", body, "")
	sum := sha256.Sum256(body)
	res, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: CategoryBaseline,
		Body: strings.NewReader(fmt.Sprintf("%x  x\n", sum))})
	if err != nil {
		t.Fatal(err)
	}
	if !requestIDPattern.MatchString(res.Request) || res.Event != 0 || res.Imported != 1 {
		t.Fatalf("the import's answer: %+v", res)
	}
	if _, err := os.Stat(hashset.StagedDir(filepath.Join(dir, "hashsets"), res.Request)); err != nil {
		t.Fatalf("the request's tables are not staged: %v", err)
	}
	if _, err := h.view(h.a2, fresh.ID, false); err != nil {
		t.Fatalf("the item is hidden by a set one custodian asked for: %v", err)
	}
	if sets, _ := v.HashSets(ctx, h.cust); len(sets) != 1 || sets[0].Request != res.Request || !strings.HasPrefix(sets[0].Status, "not used yet: waiting for a second custodian's approval") {
		t.Fatalf("a set nobody approved is not listed as waiting: %+v", sets)
	}
	if _, err := v.Approve(ctx, h.cust, res.Request); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the requester approved their own import: %v", err)
	}
	a, err := v.Approve(ctx, h.cust2, res.Request)
	if err != nil {
		t.Fatal(err)
	}
	if a.HashSet == nil || a.HashSet.Event == 0 || a.HashSet.RequestedBy != "cust" {
		t.Fatalf("the approval's answer: %+v", a.HashSet)
	}
	if _, err := h.view(h.a2, fresh.ID, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the approved set does not hide the item: %v", err)
	}
	sets, _ := v.HashSets(ctx, h.cust)
	if len(sets) != 1 || sets[0].ImportedBy != "cust" || sets[0].ApprovedBy != "cust2" || sets[0].Status != "in use" {
		t.Fatalf("hash sets: %+v", sets)
	}
	evs := h.eventsOf(t, TypeHashSetImported)
	var d HashSetImported
	if len(evs) != 1 || evs[0].Actor.Person != "cust2" || evs[0].DecodeData(&d) != nil || d.RequestedBy != "cust" || d.Request != res.Request {
		t.Fatalf("hashset.imported: %+v %+v", evs, d)
	}
	if staged, _ := hashset.Staged(filepath.Join(dir, "hashsets")); len(staged) != 0 {
		t.Fatalf("staged tables left after the approval: %v", staged)
	}
}

// TestStagedHashSetTablesAreChecked: tables edited on disk while the
// request waits are not put in use: the approval is refused, recorded,
// and changes nothing; the rest of the class, tables removed, is refused
// alike.
func TestStagedHashSetTablesAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, staged string)
	}{
		{"a table edited", func(t *testing.T, staged string) {
			flipByte(t, filepath.Join(staged, "sha256.tab"), 3)
		}},
		{"the tables removed", func(t *testing.T, staged string) {
			if err := os.RemoveAll(staged); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			h := newHotline(t, func(c *Config) { c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), true })
			v, ctx := h.v, h.ctx
			sum := sha256.Sum256([]byte("listed"))
			res, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: CategoryBaseline,
				Body: strings.NewReader(fmt.Sprintf("%x  x\n", sum))})
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, hashset.StagedDir(filepath.Join(dir, "hashsets"), res.Request))
			before := len(h.eventsOf(t, TypeHashSetImported))
			if _, err := v.Approve(ctx, h.cust2, res.Request); !errors.Is(err, ErrConflict) || !Recorded(err) {
				t.Fatalf("approving damaged tables: %v", err)
			}
			if after := len(h.eventsOf(t, TypeHashSetImported)); after != before {
				t.Fatal("damaged tables were recorded as imported")
			}
			if sets, _ := v.HashSets(ctx, h.cust); len(sets) != 1 || sets[0].Status == "in use" {
				t.Fatalf("damaged tables are in use: %+v", sets)
			}
		})
	}
}

// TestEndedHashSetImportsLeaveNoTables: a rejected import's staged
// tables are removed at once; an expired one's at the next import or
// start, or when someone tries to reject it; a second pending import of one name is refused, of another name
// is not.
func TestEndedHashSetImportsLeaveNoTables(t *testing.T) {
	dir := t.TempDir()
	var offset atomic.Int64
	h := newHotline(t, func(c *Config) {
		c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), true
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	})
	v, ctx := h.v, h.ctx
	root := filepath.Join(dir, "hashsets")
	list := func(s string) *strings.Reader {
		sum := sha256.Sum256([]byte(s))
		return strings.NewReader(fmt.Sprintf("%x  x\n", sum))
	}
	first, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "a", Format: "sha256sum", Category: CategoryBaseline, Body: list("one")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ImportHashSet(ctx, h.cust2, HashSetImport{Name: "a", Format: "sha256sum", Category: CategoryBaseline, Body: list("two")}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second pending import of one set: %v", err)
	}
	second, err := v.ImportHashSet(ctx, h.cust2, HashSetImport{Name: "b", Format: "sha256sum", Category: CategoryBaseline, Body: list("three")})
	if err != nil {
		t.Fatal(err)
	}
	if staged, _ := hashset.Staged(root); len(staged) != 2 {
		t.Fatalf("staged: %v", staged)
	}
	if _, err := v.Reject(ctx, h.cust2, first.Request, "not from a partner we know"); err != nil {
		t.Fatal(err)
	}
	if staged, _ := hashset.Staged(root); len(staged) != 1 || staged[0] != second.Request {
		t.Fatalf("staged after a rejection: %v", staged)
	}
	offset.Store(int64(v.cfg.RequestTTL + time.Hour))
	third, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "c", Format: "sha256sum", Category: CategoryBaseline, Body: list("four")})
	if err != nil {
		t.Fatal(err)
	}
	if staged, _ := hashset.Staged(root); len(staged) != 1 || staged[0] != third.Request {
		t.Fatalf("staged after an expiry: %v", staged)
	}
	if _, err := v.Approve(ctx, h.cust, second.Request); err == nil {
		t.Fatal("an expired import was approved")
	}
	// An expired import's rejection is refused (it ended unanswered), but
	// its tables go at once, as a rejection's would.
	offset.Store(int64(2 * (v.cfg.RequestTTL + time.Hour)))
	if _, err := v.Reject(ctx, h.cust2, third.Request, "too late"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "expired unanswered") {
		t.Fatalf("rejecting an expired import: %v", err)
	}
	if staged, _ := hashset.Staged(root); len(staged) != 0 {
		t.Fatalf("staged after a refused rejection of an expired import: %v", staged)
	}
}

// TestAMatchOfAReplacedSetSaysSo: an item held by the entry of a set its
// deposit matched says, once that set is replaced by tables that no
// longer list it (or removed), that the match was made at its deposit
// against tables since replaced: entry 0 of the set in use is now
// another hash, and the reason must not read as if it listed the item.
func TestAMatchOfAReplacedSetSaysSo(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(dir, "hashsets") })
	v, ctx := h.v, h.ctx
	body := []byte("a chat log someone wants branded as known material")
	listed, other := sha256.Sum256(body), sha256.Sum256([]byte("another file"))
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "sync", Format: "sha256sum", Category: CategoryBaseline,
		Body: strings.NewReader(fmt.Sprintf("%x  x\n", listed))}); err != nil {
		t.Fatal(err)
	}
	it := h.deposit(t, h.a1, "chat.txt", body, "")
	reason := func() string {
		i, _, _ := v.state.getItem(it.ID)
		k, err := v.knownBecause(ctx, i, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := reason(); k != "it matches entry 0 of hash set sync (baseline)" {
		t.Fatalf("while the set lists it: %q", k)
	}
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "sync", Format: "sha256sum", Category: CategoryBaseline,
		Body: strings.NewReader(fmt.Sprintf("%x  x\n", other))}); err != nil {
		t.Fatal(err)
	}
	if k := reason(); !strings.Contains(k, "when it was deposited") || !strings.Contains(k, "the set was replaced since") {
		t.Fatalf("after the set was replaced: %q", k)
	}
	if rq, err := v.RemoveHashSet(ctx, h.cust, "sync", "superseded"); err != nil || rq != nil {
		t.Fatal(err)
	}
	if k := reason(); !strings.Contains(k, "the set was removed since") {
		t.Fatalf("after the set was removed: %q", k)
	}
}

// headGate holds back the write of the sticky head's object (after a
// batch is appended and applied) once armed, until release is closed.
type headGate struct {
	objects.Store
	mu      sync.Mutex
	armed   bool
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *headGate) Put(ctx context.Context, name string, r io.Reader, o objects.PutOptions) (objects.Info, error) {
	g.mu.Lock()
	armed := g.armed
	g.mu.Unlock()
	if armed && strings.HasPrefix(name, "head") {
		g.once.Do(func() { close(g.entered) })
		<-g.release
	}
	return g.Store.Put(ctx, name, r, o)
}

// TestASweepWaitsForAnApproval: a sweep of staged tables (any
// custodian's import, even of a file that fails to parse) made while an
// approval's events are recorded but its tables not yet in place leaves
// them: the approved set is put in use, not lost with the one it
// replaces.
func TestASweepWaitsForAnApproval(t *testing.T) {
	dir := t.TempDir()
	var offset atomic.Int64
	g := &headGate{entered: make(chan struct{}), release: make(chan struct{})}
	h := newHotline(t, func(c *Config) {
		c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), true
		c.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		g.Store = c.Objects
		c.Objects = g
	})
	v, ctx := h.v, h.ctx
	list := func(s string) *strings.Reader {
		sum := sha256.Sum256([]byte(s))
		return strings.NewReader(fmt.Sprintf("%x  x\n", sum))
	}
	if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: CategoryBaseline, Body: list("v1")}); err != nil {
		t.Fatal(err)
	}
	res, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: CategoryBaseline, Body: list("v2")})
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(5 * time.Second)) // a head is written after the approval's batch
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	approved := make(chan error, 1)
	go func() { _, err := v.Approve(ctx, h.cust2, res.Request); approved <- err }()
	<-g.entered // the approval's events are applied; its tables not yet in place
	swept := make(chan error, 1)
	go func() {
		_, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "other", Format: "sha256sum", Category: CategoryBaseline, Body: strings.NewReader("not a hash list\n")})
		swept <- err
	}()
	time.Sleep(200 * time.Millisecond)
	close(g.release)
	if err := <-approved; err != nil {
		t.Fatalf("the approval: %v", err)
	}
	if err := <-swept; !errors.Is(err, ErrBadInput) {
		t.Fatalf("the sweeping import: %v", err)
	}
	sets, _ := v.HashSets(ctx, h.cust)
	if len(sets) != 1 || sets[0].Status != "in use" || sets[0].TableSHA256 != res.TableSHA256 {
		t.Fatalf("the approved set after a concurrent sweep: %+v", sets)
	}
}

// TestAnApprovalAStopInterruptedIsFinishedAtTheStart: a stop between an
// approval's events and the renaming of its tables leaves them staged;
// the next start puts them in place and uses them, as recorded, instead
// of sweeping them and leaving the set out of use.
func TestAnApprovalAStopInterruptedIsFinishedAtTheStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "hashsets")
	v, cfg, _ := restartable(t, dir, func(c *Config) { c.HashSetDir, c.HashSetApproval = root, true })
	cust, cust2 := enrolled(t, v, "cust", RoleCustodian), enrolled(t, v, "cust2", RoleCustodian)
	sum := sha256.Sum256([]byte("listed"))
	res, err := v.ImportHashSet(ctx, cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: CategoryBaseline, Body: strings.NewReader(fmt.Sprintf("%x  x\n", sum))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, cust2, res.Request); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// As the stop left it: the events recorded, the tables still staged.
	if err := os.Rename(filepath.Join(root, "partner"), hashset.StagedDir(root, res.Request)); err != nil {
		t.Fatal(err)
	}
	v, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	sets, _ := v.HashSets(ctx, cust)
	if len(sets) != 1 || sets[0].Status != "in use" {
		t.Fatalf("the approved set after the start: %+v", sets)
	}
	if staged, _ := hashset.Staged(root); len(staged) != 0 {
		t.Fatalf("left staged: %v", staged)
	}
}

// TestABadImportFileAsksNothing: bad input changes nothing on a vault
// that asks two custodians, as on one that does not: a file that is not
// of its format, and an exported case list given a category, open no
// request and leave no staged tables.
func TestABadImportFileAsksNothing(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), true })
	v, ctx := h.v, h.ctx
	before := len(h.eventsOf(t, TypeRequestOpened))
	if _, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "broken", Format: "vics", Body: strings.NewReader(`{"value": [`)}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a broken file: %v", err)
	}
	h.deposit(t, h.a1, "x.jpg", []byte("an item of the case"), "")
	list, err := v.ExportHashes(ctx, h.a1, "HL-1", "sha256sum")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "case-list", Format: "sha256sum", Category: CategoryBaseline, Body: bytes.NewReader(list.Body)}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("an exported case list with a category: %v", err)
	}
	if after := len(h.eventsOf(t, TypeRequestOpened)); after != before {
		t.Fatalf("bad input opened %d requests", after-before)
	}
	if staged, _ := hashset.Staged(filepath.Join(dir, "hashsets")); len(staged) != 0 {
		t.Fatalf("bad input left staged tables: %v", staged)
	}
}

// TestEveryExportedListWithoutCategoriesIsRefusedACategory: a hash list
// the vault wrote that names no category for items not classified (a
// case's sums and csv, which the ICSE reader reads; a report's csv
// forwarding) is refused as an import with a category, which every such
// item would take; the answer says bad input once, and nothing is
// imported.
func TestEveryExportedListWithoutCategoriesIsRefusedACategory(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	v, ctx := h.v, h.ctx
	h.deposit(t, h.a1, "x.jpg", []byte("an unclassified item of the case"), "")
	for _, c := range []struct{ export, as string }{{"csv", "icse"}, {"md5sum", "md5sum"}, {"sha1sum", "sha1sum"}} {
		list, err := v.ExportHashes(ctx, h.a1, "HL-1", c.export)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "case-" + c.export, Format: c.as, Category: CategoryBaseline, Body: bytes.NewReader(list.Body)})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "this vault exported") {
			t.Errorf("the case's %s list imported as %s with a category: %v", c.export, c.as, err)
		} else if n := strings.Count(err.Error(), ErrBadInput.Error()); n != 1 {
			t.Errorf("the answer says %q %d times: %v", ErrBadInput.Error(), n, err)
		}
	}
	// A report's csv forwarding lists its items' hashes, the category
	// of those not classified left empty: the same.
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/r"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	h.deposit(t, h.a1, "capture.jpg", []byte("a capture not yet classified"), rp)
	fw, err := v.ForwardReport(ctx, h.a1, rp, "Partner", "hotline", "csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "forwarded", Format: "icse", Category: CategoryNational, Body: bytes.NewReader(fw.Body)})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "this vault exported") {
		t.Errorf("a report's csv forwarding imported as icse with a category: %v", err)
	}
	if evs := h.eventsOf(t, TypeHashSetImported); len(evs) != 0 {
		t.Fatalf("%d imports recorded", len(evs))
	}
	sets, err := v.HashSets(ctx, h.cust)
	if err != nil || len(sets) != 0 {
		t.Fatalf("hash sets after refused imports: %v %v", sets, err)
	}
}

// TestAVaultsOwnVICSListIsNotImportedBack: one analyst's vote settles an
// item in their own case, whose policy asks one vote; the case's VICS
// export names that category. Imported back into the same vault, without
// a category as a partner would import it, it would hide an unclassified
// copy in a case that asks three votes, which the vault's own settlement
// does not (heldIllegalCopy): a list the vault wrote is refused as an
// import, with or without a category, and the copy stays in review.
func TestAVaultsOwnVICSListIsNotImportedBack(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 3, ""); err != nil {
		t.Fatal(err)
	}
	body := []byte("a file nobody in HL-1 classified")
	target := h.deposit(t, h.a1, "x.jpg", body, "")
	if err := v.OpenCase(ctx, h.a1, "OWN-1", "mine"); err != nil {
		t.Fatal(err)
	}
	cp, err := v.Deposit(ctx, h.a1, DepositRequest{Case: "OWN-1", Name: "x.jpg", Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Classify(ctx, h.a1, cp.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	known := func() string {
		t.Helper()
		it, _, _ := v.state.getItem(target.ID)
		k, err := v.knownBecause(ctx, it, nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := known(); k != "" {
		t.Fatalf("one vote in OWN-1 hides HL-1's copy before any import: %q", k)
	}
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/own"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "OWN-1", ""); err != nil {
		t.Fatal(err)
	}
	capture, err := v.Deposit(ctx, h.a1, DepositRequest{Case: "OWN-1", Name: "capture.jpg", Body: bytes.NewReader(body), Report: rp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Classify(ctx, h.a1, capture.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	export, err := v.ExportHashes(ctx, h.a1, "OWN-1", "vics")
	if err != nil {
		t.Fatal(err)
	}
	forward, err := v.ForwardReport(ctx, h.a1, rp, "partner", "hotline", "vics")
	if err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string]*HashList{"own-export": export, "own-forward": forward} {
		for _, category := range []string{"", CategoryBaseline} {
			_, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: name, Format: "vics", Category: category, Body: bytes.NewReader(list.Body)})
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "this vault exported") {
				t.Errorf("%s imported back (category %q): %v", name, category, err)
			}
		}
	}
	if k := known(); k != "" {
		t.Fatalf("HL-1's unclassified copy is hidden: %q", k)
	}
	if evs := h.eventsOf(t, TypeHashSetImported); len(evs) != 0 {
		t.Fatalf("%d imports recorded", len(evs))
	}
}

// TestAnImportSaysWhichSetsOfTheOtherKindListTheSameFiles: a set of
// known-good files imported beside one of known material that lists some
// of the same files is answered with that set and how many files both
// list (a deposit of one matches both, and counts as known material), as
// is the reverse, whether the import is used at once or waits for a
// second custodian (who is told them with the request and in the
// approval's answer, as the sets in use stand then); a set of the same
// kind, or listing none of them, is not named.
func TestAnImportSaysWhichSetsOfTheOtherKindListTheSameFiles(t *testing.T) {
	for _, approval := range []bool{false, true} {
		dir := t.TempDir()
		h := newHotline(t, func(c *Config) { c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), approval })
		v, ctx := h.v, h.ctx
		sum := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }
		lines := func(names ...string) string {
			var b strings.Builder
			for _, n := range names {
				fmt.Fprintf(&b, "%s  %s\n", sum(n), n)
			}
			return b.String()
		}
		imp := func(name, category, body string) *HashSetImportResult {
			t.Helper()
			res, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: name, Format: "sha256sum", Category: category, Body: strings.NewReader(body)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Request != "" {
				// The approver is shown them too: listed with the
				// request, and in the approval's answer.
				var listed []HashSetConflict
				found := false
				for _, q := range v.Requests(h.cust2) {
					if q.ID == res.Request {
						listed, found = q.Conflicts, true
					}
				}
				if !found || !slices.Equal(listed, res.Conflicts) {
					t.Fatalf("request %s is listed (%v) to its approver with conflicts %+v, its importer was told %+v", res.Request, found, listed, res.Conflicts)
				}
				a, err := v.Approve(ctx, h.cust2, res.Request)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.HashSet.Conflicts, res.Conflicts) {
					t.Fatalf("the approval of %s answers conflicts %+v, its importer was told %+v", res.Request, a.HashSet.Conflicts, res.Conflicts)
				}
			}
			return res
		}
		if res := imp("known", CategoryBaseline, lines("a", "b", "c")); len(res.Conflicts) != 0 {
			t.Fatalf("approval %v: the first set: %+v", approval, res.Conflicts)
		}
		if res := imp("also-known", CategoryNational, lines("b", "c", "d")); len(res.Conflicts) != 0 {
			t.Fatalf("approval %v: a set of the same kind is named: %+v", approval, res.Conflicts)
		}
		res := imp("ordinary", CategoryKnownGood, lines("c", "d", "e", "f"))
		want := []HashSetConflict{{Set: "also-known", Shared: 2}, {Set: "known", Shared: 1}}
		if !slices.Equal(res.Conflicts, want) {
			t.Fatalf("approval %v: a known-good set listing known material: %+v, want %+v", approval, res.Conflicts, want)
		}
		res = imp("more-known", CategoryBaseline, lines("e", "x"))
		if want := []HashSetConflict{{Set: "ordinary", KnownGood: true, Shared: 1}}; !slices.Equal(res.Conflicts, want) {
			t.Fatalf("approval %v: known material listed by a known-good set: %+v, want %+v", approval, res.Conflicts, want)
		}
		if res := imp("unrelated", CategoryKnownGood, lines("y", "z")); len(res.Conflicts) != 0 {
			t.Fatalf("approval %v: a set sharing no file: %+v", approval, res.Conflicts)
		}
		if !approval {
			continue
		}
		// A set put in use while a request waits is named to its
		// approver, though its importer could not be told of it.
		res, err := v.ImportHashSet(ctx, h.cust, HashSetImport{Name: "late", Format: "sha256sum", Category: CategoryBaseline, Body: strings.NewReader(lines("q", "r"))})
		if err != nil || len(res.Conflicts) != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		imp("meanwhile", CategoryKnownGood, lines("r"))
		want = []HashSetConflict{{Set: "meanwhile", KnownGood: true, Shared: 1}}
		for _, q := range v.Requests(h.cust2) {
			if q.ID == res.Request && !slices.Equal(q.Conflicts, want) {
				t.Fatalf("request %s is listed with conflicts %+v, want %+v", q.ID, q.Conflicts, want)
			}
		}
		a, err := v.Approve(ctx, h.cust2, res.Request)
		if err != nil || !slices.Equal(a.HashSet.Conflicts, want) {
			t.Fatalf("the approval answers conflicts %+v (%v), want %+v", a.HashSet.Conflicts, err, want)
		}
	}
}

// TestAHashSetRemovalTakesTwoCustodians: on a vault whose imports need a
// second custodian, so does a removal. A set lists an item imported
// after its deposit, and one analyst's not-illegal vote does not clear
// it; one custodian's removal would have let that vote settle it. The
// removal is a request: the set stays in use, the item stays known
// material, the requester cannot approve; a set replaced while the
// request waited is not removed on it; another custodian's approval
// removes the set in use it was asked of, recorded with who asked.
func TestAHashSetRemovalTakesTwoCustodians(t *testing.T) {
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { c.HashSetDir, c.HashSetApproval = filepath.Join(dir, "hashsets"), true })
	v, ctx := h.v, h.ctx
	body := []byte("material a partner's list names, deposited before the list came")
	it := h.deposit(t, h.a1, "c.txt", body, "")
	sum := sha256.Sum256(body)
	listing := func(extra string) HashSetImport {
		return HashSetImport{Name: "partner", Format: "sha256sum", Category: CategoryBaseline,
			Body: strings.NewReader(fmt.Sprintf("%x  c\n%s", sum, extra))}
	}
	if _, err := importSet(t, v, ctx, h.cust, listing("")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Classify(ctx, h.a2, it.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	stated := func() string {
		t.Helper()
		detail, err := v.ShowItem(ctx, h.a3, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		return detail.Classification.Category
	}
	if c := stated(); c == CategoryNotIllegal {
		t.Fatal("one vote cleared listed material")
	}
	removals := len(eventsOfType(t, v, TypeHashSetRemoved))
	rq, err := v.RemoveHashSet(ctx, h.cust, "partner", "the partner withdrew the list")
	if err != nil || rq == nil || rq.Kind != KindHashSetRemove {
		t.Fatalf("removing a set: %+v %v, want a request", rq, err)
	}
	if len(eventsOfType(t, v, TypeHashSetRemoved)) != removals || stated() == CategoryNotIllegal {
		t.Fatal("asked, the removal took effect")
	}
	if _, err := h.view(h.a3, it.ID, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("asked, the removal unhid what the set lists: %v", err)
	}
	if again, err := v.RemoveHashSet(ctx, h.cust2, "partner", "twice"); !errors.Is(err, ErrConflict) || again != nil {
		t.Fatalf("a second removal of the set while one waits: %+v %v", again, err)
	}
	if _, err := v.Approve(ctx, h.cust, rq.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the requester approved their own removal: %v", err)
	}
	var shown bool
	for _, r := range v.Requests(h.cust2) {
		if p := r.Parameters(); r.ID == rq.ID && p.Name == "partner" && p.Category == CategoryBaseline && p.Imported == 1 {
			shown = true
		}
	}
	if !shown {
		t.Fatal("the approver is not shown which set the removal asks for")
	}

	// Replaced while the request waited: the approval is refused.
	if _, err := importSet(t, v, ctx, h.cust2, listing(strings.Repeat("1", 64)+"  other\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, h.cust2, rq.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "was replaced since its removal was asked") {
		t.Fatalf("approving the removal of a set replaced since: %v", err)
	}
	if _, ok := v.state.hashSet("partner"); !ok {
		t.Fatal("a refused approval removed the set")
	}
	if _, err := v.Reject(ctx, h.cust, rq.ID, "the set was replaced"); err != nil {
		t.Fatal(err)
	}
	rq, err = v.RemoveHashSet(ctx, h.cust, "partner", "the partner withdrew the list")
	if err != nil || rq == nil {
		t.Fatalf("%+v %v", rq, err)
	}
	if _, err := v.Approve(ctx, h.cust2, rq.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.state.hashSet("partner"); ok {
		t.Fatal("the approved removal left the set in use")
	}
	removed := eventsOfType(t, v, TypeHashSetRemoved)
	var d HashSetRemoved
	last := removed[len(removed)-1]
	if err := last.DecodeData(&d); err != nil || d != (HashSetRemoved{Name: "partner", Reason: "the partner withdrew the list", Request: rq.ID, RequestedBy: "cust"}) || last.Actor.Person != "cust2" {
		t.Fatalf("hashset.removed records %+v by %s (%v)", d, last.Actor.Person, err)
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("replaying the log gives another state: %s", diff)
	}
}
