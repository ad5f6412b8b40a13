package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	flog "github.com/transparency-dev/formats/log"
	fnote "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// testTree is an RFC 6962 Merkle tree held in memory: its leaf hashes.
type testTree struct{ leaves [][]byte }

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// newTestTree makes a tree of n leaves "<prefix> <i>".
func newTestTree(prefix string, n int) *testTree {
	tr := &testTree{}
	for i := range n {
		tr.leaves = append(tr.leaves, rfc6962.DefaultHasher.HashLeaf(fmt.Appendf(nil, "%s %d", prefix, i)))
	}
	return tr
}

func (tr *testTree) compactRange(t *testing.T, begin, end uint64) *compact.Range {
	t.Helper()
	r := rangeFactory.NewEmptyRange(begin)
	for _, h := range tr.leaves[begin:end] {
		if err := r.Append(h, nil); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// root is the root hash of the tree's first size leaves.
func (tr *testTree) root(t *testing.T, size uint64) []byte {
	t.Helper()
	h, err := tr.compactRange(t, 0, size).GetRootHash(nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// consistency is the RFC 6962 consistency proof from size1 to size2,
// checked here before it is sent.
func (tr *testTree) consistency(t *testing.T, size1, size2 uint64) [][]byte {
	t.Helper()
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		t.Fatal(err)
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		begin, end := id.Coverage()
		r := tr.compactRange(t, begin, end) // a perfect subtree: one hash
		hashes[i] = r.Hashes()[0]
	}
	p, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, p, tr.root(t, size1), tr.root(t, size2)); err != nil {
		t.Fatalf("the test's own proof %d->%d: %v", size1, size2, err)
	}
	return p
}

// checkpoint is the log's signed C2SP checkpoint of the tree at size.
func (tr *testTree) checkpoint(t *testing.T, signer note.Signer, size uint64) []byte {
	t.Helper()
	text := flog.Checkpoint{Origin: signer.Name(), Size: size, Hash: tr.root(t, size)}.Marshal()
	signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

type witnessAnswer struct {
	status int
	ctype  string
	body   []byte
}

func (a witnessAnswer) String() string {
	return fmt.Sprintf("%d, Content-Type %q, body %q", a.status, a.ctype, a.body)
}

// addCheckpoint sends a C2SP tlog-witness add-checkpoint request: "old
// N", the proof's hashes in base64 one a line, an empty line, the note.
func addCheckpoint(w *Witness, old uint64, p [][]byte, signed []byte) (witnessAnswer, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range p {
		fmt.Fprintf(&b, "%s\n", base64.StdEncoding.EncodeToString(h))
	}
	b.WriteString("\n")
	b.Write(signed)
	return postAddCheckpoint(w, b.Bytes())
}

func postAddCheckpoint(w *Witness, body []byte) (witnessAnswer, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(w.URL+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		return witnessAnswer{}, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return witnessAnswer{}, err
	}
	return witnessAnswer{resp.StatusCode, resp.Header.Get("Content-Type"), rb}, nil
}

func mustAdd(t *testing.T, what string, w *Witness, old uint64, p [][]byte, signed []byte) witnessAnswer {
	t.Helper()
	a, err := addCheckpoint(w, old, p, signed)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s: %v", what, a)
	return a
}

// checkCosigned checks that cosigs are cosignature lines from w over the
// signed checkpoint: appended to it they make a note that opens with the
// log's and the witness's keys, with a fresh cosignature/v1 timestamp.
func checkCosigned(t *testing.T, w *Witness, logV note.Verifier, signed []byte, a witnessAnswer) {
	t.Helper()
	if a.status != http.StatusOK {
		t.Fatalf("want 200, got %v", a)
	}
	for _, line := range strings.SplitAfter(string(a.body), "\n") {
		if line != "" && (!strings.HasPrefix(line, "— ") || !strings.HasSuffix(line, "\n")) {
			t.Fatalf("not a signature line: %q", line)
		}
	}
	witV, err := fnote.NewVerifierForCosignatureV1(w.VKey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(append(bytes.Clone(signed), a.body...), note.VerifierList(logV, witV))
	if err != nil {
		t.Fatalf("checkpoint with cosignatures: %v", err)
	}
	var found bool
	for _, s := range n.Sigs {
		if s.Name != w.Name || s.Hash != witV.KeyHash() {
			continue
		}
		found = true
		ts, err := fnote.CoSigV1Timestamp(s)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(ts); d < -time.Minute || d > time.Minute {
			t.Fatalf("cosignature timestamp %v is not now", ts)
		}
	}
	if !found || len(n.UnverifiedSigs) != 0 {
		t.Fatalf("no verified cosignature from %s: %+v, unverified %+v", w.Name, n.Sigs, n.UnverifiedSigs)
	}
}

func wantSize(t *testing.T, w *Witness, origin string, want int64) {
	t.Helper()
	got, err := w.Size(origin)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("witness holds size %d for %s, want %d", got, origin, want)
	}
}

func TestWitness(t *testing.T) {
	began := time.Now()
	w := StartWitness(t, "witness-a.custos.example")
	t.Logf("witness started in %v: %s, vkey %s", time.Since(began), w.URL, w.VKey)

	origin := "custos.example/custody-log/test"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	logV, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.RegisterLog(origin, vkey); err != nil {
		t.Fatal(err)
	}
	if err := w.RegisterLog(origin, vkey); err != nil { // again: nothing changes
		t.Fatal(err)
	}
	wantSize(t, w, origin, 0)

	tree := newTestTree("entry", 12)

	// 0 -> 3: the first checkpoint needs no proof.
	cp3 := tree.checkpoint(t, signer, 3)
	checkCosigned(t, w, logV, cp3, mustAdd(t, "0->3", w, 0, nil, cp3))
	wantSize(t, w, origin, 3)

	// 3 -> 10 with a consistency proof.
	cp10 := tree.checkpoint(t, signer, 10)
	p3to10 := tree.consistency(t, 3, 10)
	checkCosigned(t, w, logV, cp10, mustAdd(t, "3->10", w, 3, p3to10, cp10))
	wantSize(t, w, origin, 10)

	// A stale old size: 409, and the size the witness holds.
	a := mustAdd(t, "stale old 3", w, 3, p3to10, cp10)
	if a.status != http.StatusConflict || a.ctype != "text/x.tlog.size" || strings.TrimSpace(string(a.body)) != "10" {
		t.Fatalf("stale old size: %v", a)
	}

	// A fork: the same first 3 entries, then others; size 12, with a
	// proof from 10 that holds in the forked tree only.
	fork := newTestTree("entry", 3)
	fork.leaves = append(fork.leaves, newTestTree("forked entry", 9).leaves...)
	a = mustAdd(t, "fork 10->12", w, 10, fork.consistency(t, 10, 12), fork.checkpoint(t, signer, 12))
	if a.status != http.StatusUnprocessableEntity {
		t.Fatalf("forked checkpoint: %v", a)
	}
	wantSize(t, w, origin, 10)

	// The right checkpoint signed by a key the witness does not know for
	// this origin.
	otherSkey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	otherSigner, err := note.NewSigner(otherSkey)
	if err != nil {
		t.Fatal(err)
	}
	a = mustAdd(t, "unknown key", w, 10, nil, tree.checkpoint(t, otherSigner, 10))
	if a.status != http.StatusForbidden {
		t.Fatalf("checkpoint signed by an unregistered key: %v", a)
	}

	// A log the witness was never told about.
	unknownSkey, _, err := note.GenerateKey(rand.Reader, "custos.example/custody-log/unregistered")
	if err != nil {
		t.Fatal(err)
	}
	unknownSigner, err := note.NewSigner(unknownSkey)
	if err != nil {
		t.Fatal(err)
	}
	a = mustAdd(t, "unregistered origin", w, 0, nil, tree.checkpoint(t, unknownSigner, 3))
	if a.status != http.StatusForbidden {
		t.Fatalf("unregistered origin: %v", a)
	}
	if _, err := w.Size(unknownSigner.Name()); err == nil {
		t.Fatal("Size of an unregistered origin is not an error")
	}

	// A body that is not an add-checkpoint request.
	a, err = postAddCheckpoint(w, []byte("old three\n\n"+string(cp10)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("malformed body: %v", a)
	if a.status != http.StatusBadRequest {
		t.Fatalf("malformed body: %v", a)
	}

	// Down: requests fail, and what it holds stays in its database.
	w.Stop()
	if a, err := addCheckpoint(w, 10, nil, cp10); err == nil {
		t.Fatalf("a stopped witness answered: %v", a)
	} else {
		t.Logf("stopped: %v", err)
	}
	wantSize(t, w, origin, 10)

	// Back on the same port, database and key.
	oldURL, oldVKey := w.URL, w.VKey
	began = time.Now()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("witness restarted in %v", time.Since(began))
	if w.URL != oldURL || w.VKey != oldVKey {
		t.Fatalf("restart changed the witness: %s %s, was %s %s", w.URL, w.VKey, oldURL, oldVKey)
	}
	wantSize(t, w, origin, 10)
	a = mustAdd(t, "after restart, stale old 3", w, 3, p3to10, cp10)
	if a.status != http.StatusConflict || strings.TrimSpace(string(a.body)) != "10" {
		t.Fatalf("after restart: %v", a)
	}
	cp12 := tree.checkpoint(t, signer, 12)
	checkCosigned(t, w, logV, cp12, mustAdd(t, "after restart, 10->12", w, 10, tree.consistency(t, 10, 12), cp12))
	wantSize(t, w, origin, 12)
}

func TestWitnessTwoAtOnce(t *testing.T) {
	a := StartWitness(t, "witness-a.custos.example")
	b := StartWitness(t, "witness-b.custos.example")
	if a.URL == b.URL || a.VKey == b.VKey {
		t.Fatalf("two witnesses share a URL or key: %s %s, %s %s", a.URL, a.VKey, b.URL, b.VKey)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.example/custody-log/two")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	logV, _ := note.NewVerifier(vkey)
	// Only a knows the log.
	if err := a.RegisterLog(signer.Name(), vkey); err != nil {
		t.Fatal(err)
	}
	cp := newTestTree("entry", 2).checkpoint(t, signer, 2)
	checkCosigned(t, a, logV, cp, mustAdd(t, "a", a, 0, nil, cp))
	if r := mustAdd(t, "b", b, 0, nil, cp); r.status != http.StatusForbidden {
		t.Fatalf("b cosigned a log it does not know: %v", r)
	}
	if err := b.RegisterLog(signer.Name(), "not a key"); err == nil {
		t.Fatal("RegisterLog took a malformed key")
	}
}
