package events_test

import (
	"bytes"
	"testing"

	"github.com/custos-vault/custos/events"
)

// FuzzVerifyInclusion tries to prove the vector leaf (leaf 5) in the
// vector tree of size 12 with an arbitrary index and proof, given as
// concatenated 32-byte hashes. The tree size is fixed, as it is in a
// package, where it comes from the signed checkpoint. Nothing but the
// vector's own index and proof may verify.
func FuzzVerifyInclusion(f *testing.F) {
	v := loadVectors(f)
	kv, proof := readProof(f, "inclusion-proof.txt")
	index, size := atoi(f, kv["index"]), atoi(f, kv["size"])
	leaf, root := v.leaves[index], v.roots[size]
	good := bytes.Join(proof, nil)
	f.Add(index, good)
	f.Add(index+1, good)
	f.Add(index, good[:len(good)-32])
	f.Add(index, append(bytes.Clone(good), good[:32]...))
	f.Add(uint64(0), []byte{})
	f.Fuzz(func(t *testing.T, i uint64, raw []byte) {
		var p [][]byte
		for len(raw) >= 32 {
			p = append(p, raw[:32])
			raw = raw[32:]
		}
		if len(raw) != 0 {
			p = append(p, raw) // a short hash must be refused too
		}
		err := events.VerifyInclusion(i, size, leaf, p, root)
		ok := rfcVerifyInclusion(i, size, leaf, p, root)
		if (err == nil) != ok {
			t.Fatalf("library (%v) and RFC 9162 transcription (%v) disagree on index %d, %d hashes", err, ok, i, len(p))
		}
		if err == nil && (i != index || !equalProofs(p, proof)) {
			t.Fatalf("a mutated proof (index %d, %d hashes) proves the vector leaf", i, len(p))
		}
	})
}

// FuzzVerifyConsistency does the same for the consistency proof from the
// vector's size 5 to size 12.
func FuzzVerifyConsistency(f *testing.F) {
	v := loadVectors(f)
	kv, proof := readProof(f, "consistency-proof.txt")
	s1, s2 := atoi(f, kv["size1"]), atoi(f, kv["size2"])
	good := bytes.Join(proof, nil)
	f.Add(good)
	f.Add(good[32:])
	f.Add(append(bytes.Clone(good), good[:32]...))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var p [][]byte
		for len(raw) >= 32 {
			p = append(p, raw[:32])
			raw = raw[32:]
		}
		if len(raw) != 0 {
			p = append(p, raw)
		}
		err := events.VerifyConsistency(s1, s2, p, v.roots[s1], v.roots[s2])
		// The transcription needs whole hashes; the library refuses others.
		whole := len(raw) == 0
		if whole && (err == nil) != rfcVerifyConsistency(s1, s2, p, v.roots[s1], v.roots[s2]) {
			t.Fatalf("library (%v) and RFC 9162 transcription disagree", err)
		}
		if err == nil && !equalProofs(p, proof) {
			t.Fatalf("a mutated consistency proof (%d hashes) verifies", len(p))
		}
	})
}
