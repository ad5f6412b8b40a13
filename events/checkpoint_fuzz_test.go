package events_test

import (
	"bytes"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/transparency-dev/formats/log"
)

// FuzzParseCheckpoint feeds arbitrary notes to ParseCheckpoint and
// PeekCheckpoint. Only the vector key signed anything, and only the three
// vector checkpoints, so whatever ParseCheckpoint accepts must be one of
// them: the vector origin, a vector size, that size's root, a canonical
// three-line body, and PeekCheckpoint must read the same origin and size.
func FuzzParseCheckpoint(f *testing.F) {
	v := loadVectors(f)
	_, verifier, _ := vectorKeys(f)
	for _, b := range v.checkpoints {
		f.Add(b)
		f.Add(bytes.Replace(b, []byte("\n\n"), []byte("\nextra\n\n"), 1))
		f.Add(append(bytes.Clone(b), "— other AAAAAAAAAA==\n"...))
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("custos-vectors\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— custos-vectors AAAA\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		origin, size, peekErr := events.PeekCheckpoint(b)
		if peekErr == nil && (origin == "" || bytes.ContainsRune([]byte(origin), '\n')) {
			t.Fatalf("PeekCheckpoint returned origin %q", origin)
		}
		cp, err := events.ParseCheckpoint(b, vectorKeyName, verifier)
		if err != nil {
			if cp != nil {
				t.Fatal("ParseCheckpoint returned a checkpoint with an error")
			}
			return
		}
		if len(b) > events.MaxCheckpointSize || !bytes.Equal(cp.Note, b) {
			t.Fatalf("accepted note of %d bytes, or Note is not the input", len(b))
		}
		if cp.Origin != vectorKeyName || cp.Size >= uint64(len(v.roots)) || cp.Root != v.roots[cp.Size] {
			t.Fatalf("accepted a checkpoint the vector key never signed: %q %d %x", cp.Origin, cp.Size, cp.Root)
		}
		body := log.Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Root[:]}.Marshal()
		if !bytes.HasPrefix(b, append(body, '\n')) {
			t.Fatalf("accepted a note whose text is not the canonical body %q:\n%q", body, b)
		}
		if peekErr != nil || origin != cp.Origin || size != cp.Size {
			t.Fatalf("PeekCheckpoint says %q %d (%v), ParseCheckpoint %q %d", origin, size, peekErr, cp.Origin, cp.Size)
		}
	})
}
