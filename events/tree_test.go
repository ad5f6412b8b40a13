package events_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-vault/custos/events"
	"github.com/transparency-dev/merkle/compact"
)

// referenceRoot computes the root with the library's compact range, which
// is independent of Tree's node storage.
func referenceRoot(t *testing.T, leaves []events.Hash) events.Hash {
	var root events.Hash
	if len(leaves) == 0 {
		copy(root[:], events.Hasher.EmptyRoot())
		return root
	}
	rf := compact.RangeFactory{Hash: events.Hasher.HashChildren}
	r := rf.NewEmptyRange(0)
	for _, l := range leaves {
		if err := r.Append(append([]byte(nil), l[:]...), nil); err != nil {
			t.Fatal(err)
		}
	}
	h, err := r.GetRootHash(nil)
	if err != nil {
		t.Fatal(err)
	}
	copy(root[:], h)
	return root
}

func leaves(n int) []events.Hash {
	out := make([]events.Hash, n)
	for i := range out {
		out[i] = events.LeafHash([]byte(fmt.Sprintf("event %d", i)))
	}
	return out
}

func TestTreeRootsAndProofs(t *testing.T) {
	const n = 70
	ls := leaves(n)
	var tree events.Tree
	tree.Append(ls...)
	roots := make([]events.Hash, n+1)
	for size := 0; size <= n; size++ {
		got, err := tree.Root(uint64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceRoot(t, ls[:size]); got != want {
			t.Fatalf("root of size %d: %x, want %x", size, got, want)
		}
		roots[size] = got
	}
	for size := uint64(1); size <= n; size++ {
		for i := uint64(0); i < size; i++ {
			p, err := tree.InclusionProof(i, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := events.VerifyInclusion(i, size, ls[i], p, roots[size]); err != nil {
				t.Fatalf("inclusion %d in %d: %v", i, size, err)
			}
			// The same proof must not prove another leaf.
			if err := events.VerifyInclusion(i, size, ls[(i+1)%n], p, roots[size]); err == nil && n > 1 {
				t.Fatalf("inclusion proof of %d also proves another leaf", i)
			}
		}
		for s1 := uint64(0); s1 <= size; s1++ {
			p, err := tree.ConsistencyProof(s1, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := events.VerifyConsistency(s1, size, p, roots[s1], roots[size]); err != nil {
				t.Fatalf("consistency %d -> %d: %v", s1, size, err)
			}
			if s1 > 0 && s1 < size {
				bad := roots[s1]
				bad[0] ^= 1
				if err := events.VerifyConsistency(s1, size, p, bad, roots[size]); err == nil {
					t.Fatalf("consistency %d -> %d accepted a wrong old root", s1, size)
				}
			}
		}
	}
}

func TestTreeTruncate(t *testing.T) {
	ls := leaves(37)
	var tree events.Tree
	tree.Append(ls...)
	tree.Truncate(20)
	tree.Append(ls[20:]...)
	got, _ := tree.Root(37)
	if want := referenceRoot(t, ls); got != want {
		t.Fatal("root after truncate and re-append differs")
	}
	tree.Truncate(11)
	if tree.Size() != 11 {
		t.Fatalf("size %d after truncate", tree.Size())
	}
	got, _ = tree.Root(11)
	if want := referenceRoot(t, ls[:11]); got != want {
		t.Fatal("root after truncate differs")
	}
	if _, err := tree.Root(12); err == nil {
		t.Fatal("root beyond size accepted")
	}
}

// A checkpoint carries exactly one signature line by the log's key: a
// valid one followed by an invalid one by the same key is refused, as the
// reverse order is (note.Open would skip the second).
func TestCheckpointOneLogSignature(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	cp, err := events.SignCheckpoint(signer, "custos.test/log", 3, events.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.ParseCheckpoint(cp, "custos.test/log", verifier); err != nil {
		t.Fatal(err)
	}
	line := cp[bytes.LastIndex(cp[:len(cp)-1], []byte("\n"))+1:]
	bad := append([]byte(nil), line...)
	bad[len(bad)-3] ^= 'A' ^ 'B' // another signature, same key name and hash
	for name, note := range map[string][]byte{
		"valid then invalid": append(append([]byte(nil), cp...), bad...),
		"invalid then valid": append(append([]byte(nil), cp[:len(cp)-len(line)]...), append(append([]byte(nil), bad...), line...)...),
		"valid twice":        append(append([]byte(nil), cp...), line...),
	} {
		if _, err := events.ParseCheckpoint(note, "custos.test/log", verifier); !errors.Is(err, events.ErrCheckpointKey) {
			t.Errorf("%s: %v, want ErrCheckpointKey", name, err)
		}
	}
}

// The size line of a checkpoint is canonical decimal: "06" is refused
// even under a valid signature.
func TestCheckpointSizeIsCanonical(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	root := events.Hash{7}
	good, err := events.SignCheckpoint(signer, "custos.test/log", 6, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.ParseCheckpoint(good, "custos.test/log", verifier); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(good[:bytes.Index(good, []byte("\n\n"))+1]), "\n6\n", "\n06\n", 1)
	bad, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.ParseCheckpoint(bad, "custos.test/log", verifier); err == nil {
		t.Error("a checkpoint of size 06 was accepted")
	}
}

// StatedSize reads the size a checkpoint states, whoever signed it, and
// tells text that is not a checkpoint's.
func TestStatedSize(t *testing.T) {
	skey, _, err := note.GenerateKey(rand.Reader, "custos.test/other")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	cp, err := events.SignCheckpoint(signer, "custos.test/other", 4096, events.Hash{2})
	if err != nil {
		t.Fatal(err)
	}
	if size, ok := events.StatedSize(cp); !ok || size != 4096 {
		t.Fatalf("a signed checkpoint of 4096: %d %v", size, ok)
	}
	for _, bad := range []string{"", "seal 4", "custos.test/other\nx\nAAAA\n\n\u2014 k sig\n", "custos.test/other\n12\n"} {
		if size, ok := events.StatedSize([]byte(bad)); ok {
			t.Errorf("%q: stated size %d", bad, size)
		}
	}
}
