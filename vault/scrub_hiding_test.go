package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
)

// TestScrubReadsEveryNameTheVaultGives: someone with the object store's
// folder hides bytes under the names of the vault's own metadata, which
// the scrub used to pass unread, and beside the objects, where a listing
// of objects does not look. Each is reported, and the vault's own are
// not: a cosigned checkpoint with a signature line of a key the vault
// does not know; head objects holding junk, another size's note, or
// under a name the vault never gives; key replicas of a live case
// holding other bytes than its key file, or under a name the keyring
// never gives; and, as foreign entries, a file under a name no object
// can have and a folder nested below an object's folder.
func TestScrubReadsEveryNameTheVaultGives(t *testing.T) {
	// A witness of the policy (without a URL: nothing is submitted), so
	// that a note it cosigned is the vault's.
	wkey, wvkey, _ := note.GenerateKey(rand.Reader, "witness.example/w1")
	wsigner, err := fnote.NewSignerForCosignatureV1(wkey)
	if err != nil {
		t.Fatal(err)
	}
	wcv, _ := fnote.VKeyToCosignatureV1(wvkey)
	policy, err := witness.ParsePolicy([]byte("witness w1 " + wcv + "\nquorum w1\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, dir := openTestVaultDir(t, func(c *Config) { c.Witnesses = policy })
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "S-1")
	depositText(t, v, inv, "S-1", "a.bin", "aaaa")
	cp := v.log.LatestCheckpoint()
	if cp == nil {
		t.Fatal("no checkpoint")
	}
	folder := filepath.Join(dir, "objects")
	put := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(folder, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, b, 0o400); err != nil {
			t.Fatal(err)
		}
		return name
	}
	// Nothing is reported before anything is planted.
	if res, err := v.Scrub(ctx, aud); err != nil || !res.OK {
		t.Fatalf("scrub before: %+v %v", res, err)
	}

	// A cosigned checkpoint: the log's note, with a line of another key.
	text := cp.Note[:strings.Index(string(cp.Note), "\n\n")+1]
	sk, _, _ := note.GenerateKey(rand.Reader, "hidden.example/witness")
	other, _ := note.NewSigner(sk)
	signed, err := note.Sign(&note.Note{Text: string(text)}, other, wsigner)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := append(append([]byte{}, cp.Note...), signed[len(text)+1:]...)
	// The witness's own cosignature is the vault's (the log's note with
	// it).
	wsigned, err := note.Sign(&note.Note{Text: string(text)}, wsigner)
	if err != nil {
		t.Fatal(err)
	}
	witnessed := append(append([]byte{}, cp.Note...), wsigned[len(text)+1:]...)
	put(witnessedObject(cp.Size, witnessed), witnessed)
	// A second line of the log's own key, carrying bytes: note.Open
	// drops it unread.
	var kh [4]byte
	binary.BigEndian.PutUint32(kh[:], v.verifier.KeyHash())
	repeated := append(append([]byte{}, witnessed...), "\u2014 "+v.verifier.Name()+" "+base64.StdEncoding.EncodeToString(append(kh[:], "hidden bytes of any length"...))+"\n"...)
	want := []string{
		put(witnessedObject(cp.Size, cosigned), cosigned),
		put(witnessedObject(cp.Size, repeated), repeated),
		put(fmt.Sprintf("head/%020d", cp.Size+1000), []byte("junk")), // junk under a head's name
		put(fmt.Sprintf("head/%020d", cp.Size+2000), cp.Note),        // another size's note
		put("head/zzz", cp.Note),                                     // a name the vault never gives
	}
	// Key replicas of the live case: other bytes under a name the
	// keyring gives, and its own bytes under one it never gives.
	var replicas []string
	objects.ListNames(ctx, v.objects, "key/", func(name string) error { replicas = append(replicas, name); return nil })
	var sealed string
	for _, r := range replicas {
		if strings.Contains(r, "-s-") && strings.HasPrefix(r, replicaPrefix("S-1", sealedSuffix)) {
			sealed = r
		}
	}
	if sealed == "" {
		t.Fatalf("no sealed replica of the case among %v", replicas)
	}
	own, err := readObject(ctx, v, sealed)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want,
		put(replicaPrefix("S-1", sealedSuffix)+"-7fffffffffffffff", []byte("hidden bytes")),
		put(replicaPrefix("S-1", sealedSuffix)+"-copy", own),
	)
	// Beside the objects.
	put("UPPER", []byte("hidden bytes"))
	put("ev/deep/er/still", []byte("hidden bytes"))
	// The vault's own: its head under its own name, the log's note alone.
	put(fmt.Sprintf("head/%020d", cp.Size), cp.Note)

	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if !slices.Equal(res.Unaccounted, want) {
		t.Errorf("unaccounted\n%s\nwant\n%s", strings.Join(res.Unaccounted, "\n"), strings.Join(want, "\n"))
	}
	wantForeign := []string{"UPPER: a name no object can have", "ev/deep/: a folder where no object's folder can be"}
	slices.Sort(wantForeign)
	if !slices.Equal(res.Foreign, wantForeign) || res.OK {
		t.Errorf("foreign %q (ok %v), want %q", res.Foreign, res.OK, wantForeign)
	}
	scrubbed := lastScrubbed(t, v)
	if !slices.Equal(scrubbed.Foreign, res.Foreign) || !slices.Equal(scrubbed.Unaccounted, res.Unaccounted) {
		t.Errorf("audit.scrubbed records %+v", scrubbed)
	}
}

// scrubFixture is a vault with one case, S-1, and one deposited item,
// the investigator and auditor who act on it, and the path of the item's
// object in the file store (made writable, for a test to alter).
type scrubFixture struct {
	v        *Vault
	dir      string
	inv, aud Principal
	item     string
	object   string
}

func newScrubFixture(t *testing.T) scrubFixture {
	t.Helper()
	v, dir := openTestVaultDir(t)
	f := scrubFixture{v: v, dir: dir, inv: enrolled(t, v, "inv", RoleInvestigator), aud: enrolled(t, v, "aud", RoleAuditor)}
	openCases(t, v, f.inv, "S-1")
	f.item = depositText(t, v, f.inv, "S-1", "a.bin", "aaaa").ID
	it, _, _ := v.state.getItem(f.item)
	f.object = filepath.Join(dir, "objects", filepath.FromSlash(it.Deposit.Object))
	os.Chmod(f.object, 0o600)
	// The start's sweep of unaccounted objects lists the store beside
	// the serving vault: done before a test puts another store in its
	// place.
	if err := v.waitSweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// waitForStoredToken waits (10 s at most) for the vault's time-stamping
// to store a token, stops it, and returns the token's name.
func waitForStoredToken(t *testing.T, v *Vault) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); len(storedTokens(t, v)) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no token stored")
		}
	}
	v.stamper().close()
	return storedTokens(t, v)[0]
}

func lastScrubbed(t *testing.T, v *Vault) AuditScrubbed {
	t.Helper()
	evs := logged(t, v)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == TypeAuditScrubbed {
			var d AuditScrubbed
			if err := evs[i].DecodeData(&d); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatal("no audit.scrubbed")
	return AuditScrubbed{}
}

// listFailsPartWay is an object store whose listing fails part-way, as a
// store does when a folder is swapped for a link while it is listed or
// a bucket stops answering: a fault injected around the real file store.
type listFailsPartWay struct {
	objects.Store
	after int
}

func (f listFailsPartWay) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	n := 0
	stop := errors.New("the listing failed: input/output error")
	err := f.Store.List(ctx, prefix, func(i objects.Info) error {
		if n++; n > f.after {
			return stop
		}
		return fn(i)
	})
	return err
}

// TestScrubRecordsWhatItFoundBeforeAStoreFails: a listing that fails
// part-way (or a package's object that cannot be read) does not make the
// scrub drop what it found: the altered item is reported and recorded
// as an integrity failure, and the audit.scrubbed event says the scrub
// is incomplete and why.
func TestScrubRecordsWhatItFoundBeforeAStoreFails(t *testing.T) {
	f := newScrubFixture(t)
	v, ctx, aud, a := f.v, context.Background(), f.aud, f.item
	depositText(t, v, f.inv, "S-1", "b.bin", "bbbb")
	flipByte(t, f.object, 100)
	before := integrityFailures(t, v, a)
	real := v.objects
	v.objects = listFailsPartWay{Store: real, after: 1}
	res, err := v.Scrub(ctx, aud)
	v.objects = real
	if err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	if res.OK || !slices.Contains(res.Mismatched, a) || !strings.Contains(res.Incomplete, "the listing failed") {
		t.Fatalf("scrub %+v: want the item altered and the scrub incomplete", res)
	}
	if integrityFailures(t, v, a) != before+1 {
		t.Error("the altered item's integrity failure was not recorded")
	}
	if d := lastScrubbed(t, v); d.Incomplete != res.Incomplete || !slices.Contains(d.Mismatched, a) {
		t.Errorf("audit.scrubbed records %+v", d)
	}
}

// TestScrubOfAFloodedStoreIsRecorded: more unaccounted and foreign
// entries than an event holds (300 files with 244-byte names, and as
// many objects the log does not account for) and an altered item: the
// scrub answers every entry, records a bounded audit.scrubbed with the
// number left out and the SHA-256 of the whole lists, and records the
// item's integrity failure. Before, the outcome exceeded the event size
// limit and nothing was recorded, not even the altered item.
func TestScrubOfAFloodedStoreIsRecorded(t *testing.T) {
	f := newScrubFixture(t)
	v, ctx, aud, a := f.v, context.Background(), f.aud, f.item
	folder := filepath.Join(f.dir, "objects")
	flipByte(t, f.object, 100)
	for i := range 300 {
		name := fmt.Sprintf("%03d%s", i, strings.Repeat("X", 241))
		if err := os.WriteFile(filepath.Join(folder, name), []byte("hidden"), 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(folder, "ev", fmt.Sprintf("planted%03d", i)), []byte("hidden"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	before := integrityFailures(t, v, a)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	if len(res.Foreign) != 300 || len(res.Unaccounted) != 300 || !slices.Contains(res.Mismatched, a) {
		t.Fatalf("scrub answered %d foreign, %d unaccounted, mismatched %v", len(res.Foreign), len(res.Unaccounted), res.Mismatched)
	}
	if integrityFailures(t, v, a) != before+1 {
		t.Error("the altered item's integrity failure was not recorded")
	}
	d := lastScrubbed(t, v)
	if d.Omitted != 2*(300-scrubbedMaxEntries) || len(d.Foreign) != scrubbedMaxEntries || len(d.Unaccounted) != scrubbedMaxEntries {
		t.Errorf("audit.scrubbed keeps %d foreign, %d unaccounted, omits %d", len(d.Foreign), len(d.Unaccounted), d.Omitted)
	}
	// The SHA-256 of the whole lists, computed as docs/custody-log.md
	// says, from the answer.
	var b strings.Builder
	for _, f := range []struct {
		name string
		list []string
	}{{"mismatched", res.Mismatched}, {"missing", res.Missing}, {"unaccounted", res.Unaccounted},
		{"retained_destroyed", res.RetainedDestroyed}, {"hash_sets_altered", res.HashSetsAltered}, {"foreign", res.Foreign}, {"incomplete", nil}} {
		fmt.Fprintf(&b, "%s %d\n", f.name, len(f.list))
		for _, e := range f.list {
			fmt.Fprintf(&b, "%d %s\n", len(e), e)
		}
	}
	if sum := sha256.Sum256([]byte(b.String())); d.ListsSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("lists_sha256 %s does not match the answer's lists", d.ListsSHA256)
	}
}

// TestScrubReadsNoMoreThanRecorded: an evidence object grown to a
// sparse 2 GiB (nothing on disk for whoever planted it) is altered after
// one byte more than its deposit recorded, not read whole: the scrub
// ends at once.
func TestScrubReadsNoMoreThanRecorded(t *testing.T) {
	f := newScrubFixture(t)
	v, aud, a := f.v, f.aud, f.item
	if err := os.Truncate(f.object, 2<<30); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	if !slices.Contains(res.Mismatched, a) {
		t.Fatalf("scrub %+v: want the item altered", res)
	}
}

// TestScrubJudgesReplicasOfAMissingKeyFile: with a case's key file gone
// from the keyring folder while the vault runs (a start restores missing
// files, so someone removed it), the file is reported as not the one the
// log recorded, and its replicas are judged against the record: the
// vault's own is the recorded file, one planted beside it is not. For a
// key whose digests the log does not hold (a case opened before they
// were recorded), no replica is judged the vault's against nothing: the
// vault's own and the planted one are both reported.
func TestScrubJudgesReplicasOfAMissingKeyFile(t *testing.T) {
	v, dir := openTestVaultDir(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "S-1")
	if err := os.Remove(v.keys.caseFile("S-1", recoverySuffix)); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "objects")
	plant := func(name string, b []byte) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(folder, filepath.FromSlash(name)), b, 0o400); err != nil {
			t.Fatal(err)
		}
		return name
	}
	planted := plant(replicaPrefix("S-1", recoverySuffix)+"-7fffffffffffffff", make([]byte, 60<<10))
	var own string
	objects.ListNames(ctx, v.objects, replicaPrefix("S-1", recoverySuffix)+"-", func(n string) error {
		if n != planted {
			own = n
		}
		return nil
	})
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{"case S-1: recovery copy: missing from the keyring folder"}
	if own == "" || res.OK || !slices.Equal(res.Unaccounted, []string{planted}) || !slices.Equal(res.KeysAltered, wantKeys) {
		t.Fatalf("unaccounted %v, keys altered %q; want [%s] and %q", res.Unaccounted, res.KeysAltered, planted, wantKeys)
	}

	// The same key as a log from before key files were recorded holds it.
	v.state.mu.Lock()
	delete(v.state.keyFiles, "S-1")
	v.state.mu.Unlock()
	res, err = v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{own, planted}
	slices.Sort(want)
	if res.OK || !slices.Equal(res.Unaccounted, want) || len(res.KeysAltered) != 0 {
		t.Fatalf("without a recorded digest: unaccounted %v, keys altered %q; want %v and none", res.Unaccounted, res.KeysAltered, want)
	}
}

// cancelsOnList is an object store whose List ends the scrub's request,
// as a client that goes away while the store is listed.
type cancelsOnList struct {
	objects.Store
	cancel context.CancelFunc
}

func (c cancelsOnList) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	c.cancel()
	return ctx.Err()
}

// TestAStoppedScrubRecordsWhatItFound: a scrub whose request ends while
// it lists the store (after it found an altered item) records the item's
// integrity failure and an audit.scrubbed that says it was stopped, then
// returns the request's error.
func TestAStoppedScrubRecordsWhatItFound(t *testing.T) {
	f := newScrubFixture(t)
	v, aud, a := f.v, f.aud, f.item
	flipByte(t, f.object, 100)
	before := integrityFailures(t, v, a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	real := v.objects
	v.objects = cancelsOnList{Store: real, cancel: cancel}
	_, err := v.Scrub(ctx, aud)
	v.objects = real
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Scrub: %v, want the request's end", err)
	}
	if integrityFailures(t, v, a) != before+1 {
		t.Error("the altered item's integrity failure was not recorded")
	}
	if d := lastScrubbed(t, v); !strings.Contains(d.Incomplete, "stopped before it ended") || !slices.Contains(d.Mismatched, a) {
		t.Errorf("audit.scrubbed records %+v", d)
	}
}

// TestPinnedTSACertificates: with its authorities' certificates
// configured, the vault refuses a token that does not verify against
// them (the TSA's failure, nothing stored), and a scrub lists a stored
// token that does not: one an insider got from an authority of their
// own, over the vault's note, under the name the vault would give it.
// Without them, that token passes the scrub (its signature verifies with
// the certificate it carries).
func TestPinnedTSACertificates(t *testing.T) {
	ts, other := testenv.StartTSA(t), testenv.StartTSA(t)
	v, dir := openTestVaultDir(t, func(c *Config) {
		c.TSAs = []string{ts.URL}
		c.TSACerts = []*x509.Certificate{ts.CA.Cert}
		c.CheckpointInterval = 5 * time.Millisecond
	})
	ctx := context.Background()
	depositOneFile(t, v)
	token := waitForStoredToken(t, v)
	parts := strings.Split(strings.TrimPrefix(token, timestampsPrefix), "-")
	noteBytes, err := readObject(ctx, v, timestampsPrefix+parts[0]+"-"+parts[1]+"-checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	size, _ := strconv.ParseUint(parts[0], 10, 64)
	forged, err := tsaclient.Request(ctx, nil, other.URL, noteBytes)
	if err != nil {
		t.Fatal(err)
	}
	name := timestampObject(size, noteBytes, forged)
	if err := os.WriteFile(filepath.Join(dir, "objects", filepath.FromSlash(name)), forged, 0o400); err != nil {
		t.Fatal(err)
	}
	// A token of the pinned authority itself, over a requester's
	// kilobyte of nonce: the TSA signs it as given.
	chosen := ts.RequestWithNonce(noteBytes, new(big.Int).Lsh(big.NewInt(1), 8000))
	chosenName := timestampObject(size, noteBytes, chosen)
	if err := os.WriteFile(filepath.Join(dir, "objects", filepath.FromSlash(chosenName)), chosen, 0o400); err != nil {
		t.Fatal(err)
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{name, chosenName}
	slices.Sort(want)
	if !slices.Equal(res.Unaccounted, want) {
		t.Fatalf("unaccounted %v, want %v", res.Unaccounted, want)
	}
	if pinned := sha256.Sum256(ts.CA.Cert.Raw); !slices.Equal(lastScrubbed(t, v).TSACerts, []string{hex.EncodeToString(pinned[:])}) {
		t.Errorf("audit.scrubbed does not name the certificate the tokens were checked against: %v", lastScrubbed(t, v).TSACerts)
	}
	// Without the certificates, the nonce is still judged.
	v.cfg.TSACerts = nil
	if res, err = v.Scrub(ctx, aud); err != nil || !slices.Equal(res.Unaccounted, []string{chosenName}) {
		t.Fatalf("unaccounted without certificates %v (%v), want %s", res.Unaccounted, err, chosenName)
	}

	// A vault whose configured certificate is another authority's
	// stores none of its TSA's tokens, and says why.
	w, _ := openTestVaultDir(t, func(c *Config) {
		c.TSAs = []string{ts.URL}
		c.TSACerts = []*x509.Certificate{other.CA.Cert}
		c.CheckpointInterval = 5 * time.Millisecond
	})
	depositOneFile(t, w)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if st := w.stamper().statuses(); len(st) == 1 && st[0].Failures > 0 && strings.Contains(st[0].lastError, "--tsa-cert") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the TSA's untrusted tokens are not reported: %+v", w.stamper().statuses())
		}
	}
	if got := storedTokens(t, w); len(got) != 0 {
		t.Fatalf("tokens of an authority not configured were stored: %v", got)
	}
}

// TestCosignaturesOfAWitnessLeftOutOfThePolicy: every start records the
// verifier keys of its policy's witnesses (server.started), so that a
// checkpoint a witness cosigned stays the vault's to a scrub after the
// witness leaves the policy, or the vault stops using witnesses; a
// witness no start named is not the vault's.
func TestCosignaturesOfAWitnessLeftOutOfThePolicy(t *testing.T) {
	newWitness := func(name string) (note.Signer, string, string) {
		t.Helper()
		skey, vkey, err := note.GenerateKey(rand.Reader, name)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := fnote.NewSignerForCosignatureV1(skey)
		if err != nil {
			t.Fatal(err)
		}
		cv, _ := fnote.VKeyToCosignatureV1(vkey)
		return signer, cv, vkey
	}
	// The policy gives w1's plain Ed25519 key: the start records the
	// cosignature key it signs with.
	w1, w1key, w1plain := newWitness("witness.example/w1")
	w2, _, _ := newWitness("witness.example/never")
	policy, err := witness.ParsePolicy([]byte("witness w1 " + w1plain + "\nquorum w1\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(t, dir, func(c *Config) { c.Witnesses = policy })
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cp := v.log.LatestCheckpoint()
	text := cp.Note[:strings.Index(string(cp.Note), "\n\n")+1]
	plant := func(w note.Signer) string {
		t.Helper()
		signed, err := note.Sign(&note.Note{Text: string(text)}, w)
		if err != nil {
			t.Fatal(err)
		}
		cosigned := append(append([]byte{}, cp.Note...), signed[len(text)+1:]...)
		name := witnessedObject(cp.Size, cosigned)
		p := filepath.Join(dir, "objects", filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, cosigned, 0o400); err != nil {
			t.Fatal(err)
		}
		return name
	}
	plant(w1)
	stranger := plant(w2)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// Started again without witnesses.
	cfg.Witnesses = nil
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var named []string
	for _, ev := range logged(t, v) {
		if ev.Type == TypeServerStarted {
			var d map[string]string
			if err := ev.DecodeData(&d); err != nil {
				t.Fatal(err)
			}
			named = append(named, d[startedWitnessKeys])
		}
	}
	if !slices.Equal(named, []string{w1key, ""}) {
		t.Fatalf("witness keys of the starts: %q", named)
	}
	aud := enrolled(t, v, "aud", RoleAuditor)
	res, err := v.Scrub(ctx, aud)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Unaccounted, []string{stranger}) {
		t.Fatalf("unaccounted %v, want only the note of a witness no start named (%s)", res.Unaccounted, stranger)
	}
	// A snapshot carries them too.
	checkSnapshotRoundTrip(t, v)
}

// TestServerStartedWitnessKeysAreChecked: a witness key a start records
// is kept only if a policy would take it; one that is not is left out,
// never a reason the log cannot be read.
func TestServerStartedWitnessKeysAreChecked(t *testing.T) {
	_, w1key := func() (note.Signer, string) {
		skey, vkey, _ := note.GenerateKey(rand.Reader, "witness.example/w1")
		s, _ := fnote.NewSignerForCosignatureV1(skey)
		cv, _ := fnote.VKeyToCosignatureV1(vkey)
		return s, cv
	}()
	for _, bad := range []string{"junk", strings.Replace(w1key, "+", "+0", 1), " "} {
		s := newState()
		b, _ := json.Marshal(map[string]string{startedWitnessKeys: bad + " " + w1key})
		if err := applyServerStarted(s, &events.Event{Type: TypeServerStarted, Data: b}); err != nil || len(s.witnessKeys) != 1 || !s.witnessKeys[w1key] {
			t.Errorf("%q beside a good key: %v, kept %v", bad, err, s.witnessKeys)
		}
	}
}
