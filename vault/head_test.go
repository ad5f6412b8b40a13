package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/internal/testenv"
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

// The keyring's files are checked before they are trusted: a log.pub of
// an administrator's own, named as the vault's key (with which a log they
// rewrote and signed themselves would pass every check of a start), and
// a sticky head grown to a sparse gigabyte (nothing on disk, a gigabyte
// read) are each refused, the second without being read.
func TestAlteredKeyringFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	v, err := Open(ctx, testConfig(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	name := v.verifier.Name()
	v.Close()
	pubPath := filepath.Join(dir, "keyring", "log.pub")
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}

	_, other, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, []byte(other+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := Open(ctx, testConfig(t, dir)); err == nil {
		v.Close()
		t.Fatal("the vault started with a log.pub that is not its signing key's")
	} else if !strings.Contains(err.Error(), "is not the public half of its sealed signing key") {
		t.Fatalf("refused with %v, want the key's halves named", err)
	}
	if err := os.WriteFile(pubPath, pub, 0o600); err != nil {
		t.Fatal(err)
	}

	headPath := filepath.Join(dir, "keyring", HeadFile)
	if err := os.Truncate(headPath, 1<<30); err != nil {
		t.Fatal(err)
	}
	before := testenv.ResetPeakMemory(t)
	if v, err := Open(ctx, testConfig(t, dir)); err == nil {
		v.Close()
		t.Fatal("the vault started with a sticky head of a gigabyte")
	} else if !errors.Is(err, smallfile.ErrTooLarge) {
		t.Fatalf("refused with %v, want the head's size named", err)
	}
	if grew := testenv.PeakMemory(t) - before; grew > 256<<20 {
		t.Errorf("the start raised the peak memory by %d MiB: the head was read whole", grew>>20)
	}
}
