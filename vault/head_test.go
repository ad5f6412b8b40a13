package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
	"golang.org/x/mod/sumdb/note"
)

// TestHeadIsTheLargestSignedNote: an object-store administrator adds a
// head object whose name sorts last but whose (genuine, older) note is
// smaller; the head is the largest signed note found, whatever the names.
func TestHeadIsTheLargestSignedNote(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, _ := note.GenerateKey(rand.Reader, "custos-test")
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	var tree events.Tree
	sign := func(size uint64) []byte {
		for tree.Size() < size {
			tree.Append(events.LeafHash([]byte{byte(tree.Size())}))
		}
		root, _ := tree.Root(size)
		n, err := events.SignCheckpoint(signer, "custos-test", size, root)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	put := func(name string, b []byte) {
		if _, err := store.Put(ctx, name, bytes.NewReader(b), objects.PutOptions{Unlocked: true}); err != nil {
			t.Fatal(err)
		}
	}
	put(headObject(5), sign(5))
	put("head/99999999999999999999", sign(3)) // the decoy
	h := newStickyHead(filepath.Join(dir, "keyring"), store)
	got, where, err := h.load(ctx, "custos-test", verifier)
	if err != nil || got == nil || got.Size != 5 {
		t.Fatalf("head: %v from %s, %v; want the note of size 5", got, where, err)
	}
	// A note not signed by the log's key is refused, not skipped.
	other, _, _ := note.GenerateKey(rand.Reader, "custos-test")
	os, _ := note.NewSigner(other)
	forged, _ := events.SignCheckpoint(os, "custos-test", 9, events.Hash{})
	put("head/00000000000000000009", forged)
	if _, _, err := h.load(ctx, "custos-test", verifier); err == nil {
		t.Fatal("a head not signed by the log's key was accepted")
	}
}
