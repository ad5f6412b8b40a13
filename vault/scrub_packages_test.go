package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/objects"
)

// packageFixture is a vault with one case of two items, and one package of
// them sealed for a prosecutor; objects is the fs store's folder.
type packageFixture struct {
	v                  *Vault
	objects            string
	inv, pros, auditor Principal
	pkg                *SealedPackage
	object             string // the package's object name
}

func newPackageFixture(t *testing.T, configure ...func(*Config)) *packageFixture {
	t.Helper()
	ctx := context.Background()
	v, dir := openTestVaultDir(t, configure...)
	f := &packageFixture{v: v, objects: filepath.Join(dir, "objects")}
	login := func(name, role string) Principal { return enrolled(t, v, name, role) }
	f.inv, f.pros, f.auditor = login("inv", RoleInvestigator), login("pros", RoleProsecutor), login("aud", RoleAuditor)
	if err := v.OpenCase(ctx, f.inv, "P-1", "packages"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.txt", "b.txt"} {
		if _, err := v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: name, Body: strings.NewReader("evidence " + name)}); err != nil {
			t.Fatal(err)
		}
	}
	id, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(ctx, f.pros, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.pkg, err = v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"}); err != nil {
		t.Fatal(err)
	}
	p, _ := v.state.getPackage(f.pkg.ID)
	f.object = p.Sealed.Object
	return f
}

// objectPath is the file of an object in the fs store, made writable so
// that the test can act as the object store's administrator.
func (f *packageFixture) objectPath(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(f.objects, filepath.FromSlash(name))
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// integrityEvents returns the integrity.failed events naming the package.
func (f *packageFixture) events(t *testing.T, typ, contains string) int {
	t.Helper()
	n := 0
	f.v.cfg.Log.Read(context.Background(), 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err == nil && ev.Type == typ && bytes.Contains(ev.Data, []byte(contains)) {
			n++
		}
		return nil
	})
	return n
}

// Scrub checks package files like evidence objects: a package file
// deleted, altered or truncated by the object store's administrator makes
// the scrub fail and is recorded; fetching it is an integrity failure
// (HTTP 422), recorded, and no retrieval is recorded.
func TestScrubAndFetchCatchPackageObjects(t *testing.T) {
	ctx := context.Background()
	for name, tamper := range map[string]func(t *testing.T, path string){
		"deleted":   func(t *testing.T, path string) { os.Remove(path) },
		"altered":   func(t *testing.T, path string) { flipByte(t, path, 700) },
		"truncated": func(t *testing.T, path string) { os.Truncate(path, 1024) },
		"extended":  func(t *testing.T, path string) { appendBytes(t, path, []byte("x")) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newPackageFixture(t)
			res, err := f.v.Scrub(ctx, f.auditor)
			if err != nil || !res.OK || res.Objects != 2 || res.Packages != 1 {
				t.Fatalf("scrub of an intact vault: %+v %v", res, err)
			}
			tamper(t, f.objectPath(t, f.object))
			res, err = f.v.Scrub(ctx, f.auditor)
			if err != nil {
				t.Fatal(err)
			}
			bad := append(slices.Clone(res.Missing), res.Mismatched...)
			if res.OK || !slices.Equal(bad, []string{f.pkg.ID}) {
				t.Fatalf("scrub after the package file was %s: %+v", name, res)
			}
			if n := f.events(t, TypeIntegrityFailed, f.pkg.ID); n != 1 {
				t.Fatalf("%d integrity.failed events name the package after the scrub, want 1", n)
			}
			rc, _, err := f.v.FetchPackage(ctx, f.pros, f.pkg.ID)
			if !errors.Is(err, ErrIntegrity) {
				if rc != nil {
					rc.Close()
				}
				t.Fatalf("fetching a %s package: %v, want an integrity failure", name, err)
			}
			if n := f.events(t, TypeIntegrityFailed, f.pkg.ID); n != 2 {
				t.Fatalf("%d integrity.failed events name the package after the fetch, want 2", n)
			}
			if n := f.events(t, TypePackageFetched, f.pkg.ID); n != 0 {
				t.Fatalf("a retrieval was recorded for a package that was not sent")
			}
		})
	}
}

// Scrub sees every object in the store: an object under an unknown
// prefix, or an evidence-like name no event accounts for, is unaccounted.
func TestScrubListsEveryObject(t *testing.T) {
	ctx := context.Background()
	f := newPackageFixture(t)
	for _, name := range []string{"zz/0123abcd", "pk/ffffffffffffffffffffffffffffffff"} {
		if _, err := f.v.objects.Put(ctx, name, strings.NewReader("planted"), objects.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.v.Scrub(ctx, f.auditor)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.Unaccounted)
	if res.OK || !slices.Equal(res.Unaccounted, []string{"pk/ffffffffffffffffffffffffffffffff", "zz/0123abcd"}) {
		t.Fatalf("scrub: %+v", res)
	}
}

// The objects of a destroyed case still in the store are listed, and
// one holding other bytes than its event recorded is unaccounted.
func TestScrubReportsRetainedCiphertextOfDestroyedCases(t *testing.T) {
	ctx := context.Background()
	f := newPackageFixture(t)
	// Destruction as the vault records it (two custodians). The store
	// keeps what its retention protects.
	all, _ := f.v.state.caseObjects("P-1")
	c1, _ := f.v.Enroll(ctx, "c1", RoleCustodian)
	c2, _ := f.v.Enroll(ctx, "c2", RoleCustodian)
	p1, _ := signIn(f.v, c1)
	p2, _ := signIn(f.v, c2)
	req, err := f.v.RequestDestruction(ctx, p1, "P-1", "order 1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.ApproveDestruction(ctx, p2, "P-1", req); err != nil {
		t.Fatal(err)
	}
	res, err := f.v.Scrub(ctx, f.auditor)
	if err != nil {
		t.Fatal(err)
	}
	var present []string
	for _, o := range all {
		if _, err := os.Stat(filepath.Join(f.objects, filepath.FromSlash(o))); err == nil {
			present = append(present, o)
		}
	}
	if len(present) == 0 {
		t.Fatal("the store kept no object of the destroyed case; nothing to report")
	}
	slices.Sort(present)
	slices.Sort(res.RetainedDestroyed)
	if !res.OK || res.Objects != 0 || !slices.Equal(res.RetainedDestroyed, present) {
		t.Fatalf("scrub after destruction: %+v, want retained %v", res, present)
	}
	// Other bytes of the same size under a retained object's name are
	// not the retained ciphertext: someone's, hidden under its name.
	p := filepath.Join(f.objects, filepath.FromSlash(present[0]))
	os.Chmod(p, 0o600)
	flipByte(t, p, 0)
	res, err = f.v.Scrub(ctx, f.auditor)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !slices.Equal(res.Unaccounted, present[:1]) || slices.Contains(res.RetainedDestroyed, present[0]) {
		t.Fatalf("scrub after replanting %s: %+v", present[0], res)
	}
}

// The reader a fetch returns withholds the last byte until the whole file
// has matched: a file altered after the check is never delivered whole,
// and the failure is recorded.
func TestFetchStreamNeverDeliversAlteredFile(t *testing.T) {
	f := newPackageFixture(t)
	p, _ := f.v.state.getPackage(f.pkg.ID)
	good, err := os.ReadFile(filepath.Join(f.objects, filepath.FromSlash(f.object)))
	if err != nil {
		t.Fatal(err)
	}
	r := f.v.newVerifiedReader(context.Background(), p, io.NopCloser(bytes.NewReader(good)))
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, good) {
		t.Fatalf("intact file: %d bytes, %v", len(got), err)
	}
	for name, b := range map[string][]byte{
		"last byte":  append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1),
		"first byte": append([]byte{good[0] ^ 1}, good[1:]...),
		"longer":     append(bytes.Clone(good), 0),
		"shorter":    good[:len(good)-1],
	} {
		r := f.v.newVerifiedReader(context.Background(), p, io.NopCloser(bytes.NewReader(b)))
		got, err := io.ReadAll(r)
		if !errors.Is(err, ErrIntegrity) || len(got) >= len(good) {
			t.Errorf("%s: read %d of %d bytes, %v", name, len(got), len(good), err)
		}
	}
	if n := f.events(t, TypeIntegrityFailed, f.pkg.ID); n != 4 {
		t.Errorf("%d integrity.failed events, want 4", n)
	}
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, extra []byte) {
	t.Helper()
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append(b, extra...), 0o600)
}

// TestPackageRetrievalsAreCompleted: a package's retrieval is followed
// by how it ended: the whole file sent (its size and SHA-256, those of
// package.sealed), or the bytes sent before the recipient went away;
// and a retrieval whose file fails its check midway ends with
// integrity.failed, not with a completion.
func TestPackageRetrievalsAreCompleted(t *testing.T) {
	ctx := context.Background()
	f := newPackageFixture(t)
	v := f.v
	completion := func() PackageFetchDone {
		t.Helper()
		evs := logged(t, v)
		last := evs[len(evs)-1]
		var d PackageFetchDone
		if last.Type != TypePackageFetchDone || last.DecodeData(&d) != nil || last.Actor.Person != "pros" || last.Case != "P-1" {
			t.Fatalf("the log ends with %s by %q, want the retrieval's completion by pros", last.Type, last.Actor.Person)
		}
		if prev := evs[len(evs)-2]; prev.Type != TypePackageFetched || d.FetchEvent != fmt.Sprint(prev.Seq) || d.Package != f.pkg.ID {
			t.Fatalf("the completion %+v does not follow its retrieval (%s at %d)", d, prev.Type, prev.Seq)
		}
		return d
	}

	// fetched starts a retrieval as the prosecutor the package is for.
	fetched := func() *PackageFetch {
		t.Helper()
		fetch, _, err := v.FetchPackage(ctx, f.pros, f.pkg.ID)
		if err != nil {
			t.Fatal(err)
		}
		return fetch
	}
	fetch, ps, err := v.FetchPackage(ctx, f.pros, f.pkg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Size < 2000 {
		t.Fatalf("a package of %d bytes: the test needs a larger one", ps.Size)
	}
	h := sha256.New()
	if _, err := io.Copy(h, fetch); err != nil {
		t.Fatal(err)
	}
	if err := fetch.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	fetch.Close()
	if d := completion(); d.Aborted != "" || d.Bytes != ps.Size || d.SHA256 != ps.SHA256 || d.SHA256 != hex.EncodeToString(h.Sum(nil)) {
		t.Fatalf("a whole retrieval's completion: %+v, want %d bytes, %s", d, ps.Size, ps.SHA256)
	}

	// The recipient goes away after 1,000 bytes.
	fetch = fetched()
	if _, err := io.CopyN(io.Discard, fetch, 1000); err != nil {
		t.Fatal(err)
	}
	fetch.Abort(ctx, syscall.ECONNRESET)
	fetch.Close()
	if d := completion(); d.SHA256 != "" || d.Bytes != 1000 || !strings.Contains(d.Aborted, "the recipient's connection closed after 1000 of") {
		t.Fatalf("a cut retrieval's completion: %+v", d)
	}
	// Written on (io.Copy uses WriteTo), what counts as sent is what the
	// writer took, not what was read from the store.
	fetch = fetched()
	_, err = io.Copy(&takesOnly{n: 1500}, fetch)
	fetch.Abort(ctx, err)
	fetch.Close()
	if d := completion(); d.SHA256 != "" || d.Bytes != 1500 || !strings.Contains(d.Aborted, "after 1500 of") {
		t.Fatalf("a retrieval whose writer took 1,500 bytes: %+v", d)
	}
	// Finish on a file not read to its end does not claim it was sent.
	fetch = fetched()
	io.CopyN(io.Discard, fetch, 10)
	fetch.Finish(ctx)
	fetch.Close()
	if d := completion(); d.SHA256 != "" || d.Bytes != 10 || d.Aborted == "" {
		t.Fatalf("a retrieval finished after 10 bytes: %+v", d)
	}

	// The stored file changes after the retrieval's check: the read
	// fails before its last byte, and the retrieval ends with
	// integrity.failed.
	fetch = fetched()
	flipByte(t, f.objectPath(t, f.object), 700)
	_, err = io.Copy(io.Discard, fetch)
	if !errors.Is(err, ErrIntegrity) || !fetch.Failed() {
		t.Fatalf("reading an altered package file: %v", err)
	}
	fetch.Abort(ctx, err)
	fetch.Close()
	if evs := logged(t, v); evs[len(evs)-1].Type != TypeIntegrityFailed {
		t.Fatalf("an altered package file's retrieval ends with %s, want integrity.failed", evs[len(evs)-1].Type)
	}
}

// takesOnly is a writer that takes n bytes, then fails: a connection
// that went away.
type takesOnly struct{ n int }

func (w *takesOnly) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, syscall.EPIPE
}

// Scrub reads the items a chunk at a time, in id order, and still reports
// the items that fail in deposit order (as the custody log lists them).
func TestScrubReportsFailuresInDepositOrder(t *testing.T) {
	ctx := context.Background()
	f := newPackageFixture(t) // P-1 with two items
	for i := range 6 {
		name := fmt.Sprintf("more-%d.txt", i)
		if _, err := f.v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: name, Body: strings.NewReader("evidence " + name)}); err != nil {
			t.Fatal(err)
		}
	}
	ids := caseItemIDs(t, f.v.state, "P-1") // in deposit order
	if slices.IsSorted(ids) {
		t.Fatal("the items' ids sort in deposit order: the test cannot tell the two orders apart")
	}
	for _, id := range ids {
		it, ok, err := f.v.state.getItem(id)
		if err != nil || !ok {
			t.Fatal(id, ok, err)
		}
		if err := os.Remove(f.objectPath(t, it.Deposit.Object)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := f.v.Scrub(ctx, f.auditor)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !slices.Equal(res.Missing, ids) {
		t.Fatalf("missing %v, want every item in deposit order %v", res.Missing, ids)
	}
}
