package tiles

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-vault/custos/events"
)

// A tree resumed from Edge and the tiles on disk answers what the tree
// it was taken from answers, and grows on from there to the same roots as
// a tree built from the first leaf; sizes on and around tile boundaries.
func TestResumeMatchesReplay(t *testing.T) {
	const n = 70000
	for _, size := range []uint64{1, 255, 256, 257, 65535, 65536, 65537, 69999} {
		dir := t.TempDir()
		built, _ := build(t, dir, size, 1000)
		got, edge, ok := built.Edge()
		if !ok || got != size {
			t.Fatalf("size %d: Edge() = %d, ok %v", size, got, ok)
		}
		resumed, err := Resume(dir, size, edge)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		for i := size; i < n; i++ {
			resumed.Append(leaf(i))
		}
		if err := resumed.Commit(); err != nil {
			t.Fatal(err)
		}
		_, ref := build(t, "", n, n)
		for _, s := range []uint64{size, size + 1, n / 2, n} {
			if s > n {
				continue
			}
			want, _ := ref.Root(s)
			if got, err := resumed.Root(s); err != nil || got != want {
				t.Fatalf("resumed at %d: root(%d) = %x, %v; want %x", size, s, got, err, want)
			}
		}
		p, err := resumed.InclusionProof(size-1, n)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := ref.Root(n)
		if err := events.VerifyInclusion(size-1, n, leaf(size-1), p, root); err != nil {
			t.Fatalf("resumed at %d: %v", size, err)
		}
		if _, repaired := resumed.Stats(); repaired != 0 {
			t.Fatalf("resumed at %d: %d tiles repaired", size, repaired)
		}
	}
}

// An edge that does not fit the size is refused; a tree without a folder
// cannot be resumed; a tile altered on disk under a resumed tree is
// detected, not used.
func TestResumeRefusesWhatDoesNotFit(t *testing.T) {
	dir := t.TempDir()
	built, _ := build(t, dir, 70000, 1000)
	size, edge, _ := built.Edge()
	if _, err := Resume(dir, size+1, edge); err == nil {
		t.Fatal("edge of another size accepted")
	}
	if _, err := Resume(dir, size, edge[:1]); err == nil {
		t.Fatal("edge missing a level accepted")
	}
	if _, err := Resume("", size, edge); err == nil {
		t.Fatal("resumed a tree without a folder")
	}
	file := filepath.Join(dir, filepath.FromSlash(Path(0, 5, Width)))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	data[7] ^= 1
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	resumed, err := Resume(dir, size, edge)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Leaf(5*256 + 3); !errors.Is(err, ErrAltered) {
		t.Fatalf("altered tile under a resumed tree: %v, want ErrAltered", err)
	}
}

// Pending tiles are not on disk: Edge says so.
func TestEdgeNotReadyWithPendingTiles(t *testing.T) {
	tt, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 300; i++ {
		tt.Append(leaf(i))
	}
	if _, _, ok := tt.Edge(); ok {
		t.Fatal("Edge ok with a full tile not yet written")
	}
	if err := tt.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := tt.Edge(); !ok {
		t.Fatal("Edge not ok after Commit")
	}
}
