package tiles

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-vault/custos/events"
	"golang.org/x/mod/sumdb/tlog"
)

func leaf(i uint64) events.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], i)
	return events.LeafHash(b[:])
}

// build appends n leaves to both a tile tree and the in-memory reference
// tree, committing every step leaves.
func build(t *testing.T, dir string, n, step uint64) (*Tree, *events.Tree) {
	t.Helper()
	tt, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ref events.Tree
	for i := uint64(0); i < n; i++ {
		tt.Append(leaf(i))
		ref.Append(leaf(i))
		if (i+1)%step == 0 {
			if err := tt.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tt.Commit(); err != nil {
		t.Fatal(err)
	}
	return tt, &ref
}

// The tile tree answers exactly what the whole in-memory tree answers:
// roots, inclusion and consistency proofs, for sizes on and around tile
// boundaries of levels 0 and 1.
func TestMatchesInMemoryTree(t *testing.T) {
	const n = 70000 // a full level-1 tile (65536 leaves) and more
	for _, dir := range []string{"", t.TempDir()} {
		tt, ref := build(t, dir, n, 1000)
		sizes := []uint64{1, 2, 3, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 69999, n}
		for _, size := range sizes {
			want, _ := ref.Root(size)
			got, err := tt.Root(size)
			if err != nil || got != want {
				t.Fatalf("dir %q: root(%d) = %x, %v; want %x", dir, size, got, err, want)
			}
			for _, index := range []uint64{0, size / 2, size - 1} {
				p, err := tt.InclusionProof(index, size)
				if err != nil {
					t.Fatal(err)
				}
				if err := events.VerifyInclusion(index, size, leaf(index), p, want); err != nil {
					t.Fatalf("inclusion %d in %d: %v", index, size, err)
				}
			}
			for _, old := range []uint64{1, 256, 65536} {
				if old > size {
					continue
				}
				p, err := tt.ConsistencyProof(old, size)
				if err != nil {
					t.Fatal(err)
				}
				oldRoot, _ := ref.Root(old)
				if err := events.VerifyConsistency(old, size, p, oldRoot, want); err != nil {
					t.Fatalf("consistency %d->%d: %v", old, size, err)
				}
			}
		}
		if l, err := tt.Leaf(65600); err != nil || l != leaf(65600) {
			t.Fatalf("leaf = %x, %v", l, err)
		}
	}
}

// Memory does not grow with the log: after Commit only the edge tiles
// stay in memory.
func TestCommittedTilesLeaveMemory(t *testing.T) {
	tt, _ := build(t, t.TempDir(), 70000, 70000)
	if len(tt.pending) != 0 {
		t.Fatalf("%d tiles still pending after commit", len(tt.pending))
	}
	held := 0
	for _, e := range tt.edge {
		held += len(e)
	}
	if held > len(tt.edge)*(Width-1) {
		t.Fatalf("%d hashes held in memory", held)
	}
	written, _ := tt.Stats()
	if written != 70000/256+1 { // 273 level-0 tiles and one level-1 tile
		t.Fatalf("written %d tiles", written)
	}
}

// Truncate undoes appends since the last Commit, across tile boundaries,
// and refuses to go below the committed size.
func TestTruncate(t *testing.T) {
	tt, ref := build(t, t.TempDir(), 65000, 65000)
	for i := uint64(65000); i < 66000; i++ { // completes a level-1 tile
		tt.Append(leaf(i ^ 0xdead))
	}
	if err := tt.Truncate(65000); err != nil {
		t.Fatal(err)
	}
	for i := uint64(65000); i < 66000; i++ {
		tt.Append(leaf(i))
		ref.Append(leaf(i))
	}
	want, _ := ref.Root(66000)
	if got, err := tt.Root(66000); err != nil || got != want {
		t.Fatalf("root after truncate and re-append = %x, %v; want %x", got, err, want)
	}
	if err := tt.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tt.Truncate(65999); err == nil {
		t.Fatal("truncated below the committed size")
	}
	if tt.Size() != 66000 {
		t.Fatalf("size %d after a refused truncate", tt.Size())
	}
}

// A tile altered on disk is detected when read, at level 0 and at level
// 1, and the next replay repairs it.
func TestAlteredTileDetected(t *testing.T) {
	dir := t.TempDir()
	const n = 70000
	tt, ref := build(t, dir, n, 5000)
	root, _ := ref.Root(n)
	for _, p := range []string{Path(0, 3, Width), Path(1, 0, Width)} {
		file := filepath.Join(dir, filepath.FromSlash(p))
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		good := bytes.Clone(data)
		data[100] ^= 1
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fresh, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		// A fresh tree over the same folder that has the edge in memory:
		// replay only up to the last commit without rewriting.
		fresh.edge, fresh.size, fresh.committed = tt.edge, tt.size, tt.committed
		if _, err := fresh.InclusionProof(3*256+7, n); !errors.Is(err, ErrAltered) {
			t.Fatalf("%s altered: inclusion proof error %v, want ErrAltered", p, err)
		}
		if _, err := fresh.Root(65535); !errors.Is(err, ErrAltered) && p == Path(1, 0, Width) {
			t.Fatalf("%s altered: root error %v, want ErrAltered", p, err)
		}
		// Truncated file.
		if err := os.WriteFile(file, good[:FullSize-1], 0o600); err != nil {
			t.Fatal(err)
		}
		fresh.cache = tileCache{max: 64}
		if _, err := fresh.InclusionProof(3*256+7, n); !errors.Is(err, ErrAltered) {
			t.Fatalf("%s truncated: error %v, want ErrAltered", p, err)
		}
	}
	// Replaying the log repairs both.
	again, _ := build(t, dir, n, 5000)
	if _, repaired := again.Stats(); repaired != 2 {
		t.Fatalf("repaired %d tiles, want 2", repaired)
	}
	p, err := again.InclusionProof(3*256+7, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := events.VerifyInclusion(3*256+7, n, leaf(3*256+7), p, root); err != nil {
		t.Fatal(err)
	}
}

// Data serves C2SP tiles that a standard tile client
// (golang.org/x/mod/sumdb/tlog's TileHashReader, which checks every tile
// against the tree hash) turns into the same root and a valid record
// proof; nothing beyond the limit is served.
func TestDataForTileClients(t *testing.T) {
	const n = 70000
	tt, ref := build(t, t.TempDir(), n, 10000)
	for i := uint64(n); i < n+300; i++ { // not covered by the limit
		tt.Append(leaf(i))
	}
	root, _ := ref.Root(n)
	tree := tlog.Tree{N: n, Hash: tlog.Hash(root)}
	reader := tlog.TileHashReader(tree, tileReader{tt: tt, limit: n})
	got, err := tlog.TreeHash(n, reader)
	if err != nil || got != tlog.Hash(root) {
		t.Fatalf("client root %x, %v; want %x", got, err, root)
	}
	p, err := tlog.ProveRecord(n, 65700, reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckRecord(p, n, tree.Hash, 65700, tlog.Hash(leaf(65700))); err != nil {
		t.Fatal(err)
	}
	if _, err := tt.Data(0, n/256, 256, n); !errors.Is(err, ErrNotFound) {
		t.Fatalf("tile past the limit: %v", err)
	}
	if _, err := tt.Data(0, n/256, n%256+1, n); !errors.Is(err, ErrNotFound) {
		t.Fatalf("partial tile past the limit: %v", err)
	}
	if b, err := tt.Data(0, n/256, n%256, n); err != nil || len(b) != n%256*HashSize {
		t.Fatalf("partial tile: %d bytes, %v", len(b), err)
	}
}

type tileReader struct {
	tt    *Tree
	limit uint64
}

func (r tileReader) Height() int { return Height }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		// Fetch by the C2SP path, as an HTTP client would.
		l, n, w, err := ParsePath(Path(uint64(tile.L), uint64(tile.N), tile.W))
		if err != nil {
			return nil, err
		}
		if out[i], err = r.tt.Data(l, n, w, r.limit); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestPaths(t *testing.T) {
	for _, c := range []struct {
		level, index uint64
		width        int
		path         string
	}{
		{0, 0, 256, "tile/0/000"},
		{0, 1234067, 256, "tile/0/x001/x234/067"},
		{1, 5, 17, "tile/1/005.p/17"},
		{3, 1000, 256, "tile/3/x001/000"},
	} {
		if got := Path(c.level, c.index, c.width); got != c.path {
			t.Errorf("Path(%d,%d,%d) = %q, want %q", c.level, c.index, c.width, got, c.path)
		}
		l, n, w, err := ParsePath(c.path)
		if err != nil || l != c.level || n != c.index || w != c.width {
			t.Errorf("ParsePath(%q) = %d,%d,%d,%v", c.path, l, n, w, err)
		}
	}
	for _, bad := range []string{"", "tile/", "tile/0/1", "tile/0/0001", "tile/0/x000/001", "tile/entries/000",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/017x", "tile/8/000", "tile/0/-01", "tile/0/000/", "/tile/0/000",
		"tile/0/000.p/01"} {
		if _, _, _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/0/x001/x234/067", "tile/1/005.p/17", "tile/entries/000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		l, n, w, err := ParsePath(p)
		if err != nil {
			return
		}
		if Path(l, n, w) != p {
			t.Fatalf("%q parsed to %d/%d/%d, which is %q", p, l, n, w, Path(l, n, w))
		}
		if w < 1 || w > Width || l >= 64/Height {
			t.Fatalf("%q: width %d level %d", p, w, l)
		}
	})
}

// WriteDurable writes the tiles of durable leaves only: a tile completed
// by leaves appended after MarkDurable stays in memory (a batch the store
// may still refuse, which Truncate undoes), and is written by the first
// WriteDurable after the next MarkDurable.
func TestWriteDurableWritesOnlyDurableTiles(t *testing.T) {
	dir := t.TempDir()
	tt, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ref events.Tree
	add := func(from, to uint64) {
		for i := from; i < to; i++ {
			tt.Append(leaf(i))
			ref.Append(leaf(i))
		}
	}
	onDisk := func(index uint64) bool {
		_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(Path(0, index, Width))))
		return err == nil
	}
	add(0, 300)
	if !tt.MarkDurable() {
		t.Fatal("MarkDurable reports no tile waiting after a full tile")
	}
	if onDisk(0) {
		t.Fatal("MarkDurable wrote a file")
	}
	add(300, 600) // completes tile 1, not durable
	if err := tt.WriteDurable(); err != nil {
		t.Fatal(err)
	}
	if !onDisk(0) || onDisk(1) {
		t.Fatalf("after WriteDurable: tile 0 on disk %v (want true), tile 1 %v (want false)", onDisk(0), onDisk(1))
	}
	if _, _, ok := tt.Edge(); ok {
		t.Fatal("Edge ok with leaves not durable")
	}
	// The batch is refused: undo it, as the sequencer does.
	if err := tt.Truncate(300); err != nil {
		t.Fatal(err)
	}
	if err := tt.Truncate(299); err == nil {
		t.Fatal("truncated below the durable size")
	}
	ref = events.Tree{}
	for i := range uint64(300) {
		ref.Append(leaf(i))
	}
	for i := uint64(300); i < 600; i++ {
		tt.Append(leaf(i ^ 0xbeef))
		ref.Append(leaf(i ^ 0xbeef))
	}
	if !tt.MarkDurable() {
		t.Fatal("MarkDurable reports no tile waiting")
	}
	if err := tt.WriteDurable(); err != nil {
		t.Fatal(err)
	}
	if !onDisk(1) {
		t.Fatal("the durable tile 1 was not written")
	}
	if tt.MarkDurable() {
		t.Fatal("tiles still waiting after WriteDurable")
	}
	if _, _, ok := tt.Edge(); !ok {
		t.Fatal("Edge not ok with every durable tile written")
	}
	want, _ := ref.Root(600)
	if got, err := tt.Root(600); err != nil || got != want {
		t.Fatalf("root = %x, %v; want %x", got, err, want)
	}
	// What is on disk is the re-appended tile, read back and checked.
	back, err := Resume(dir, 600, mustEdge(t, tt))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := back.Root(600); err != nil || got != want {
		t.Fatalf("resumed root = %x, %v; want %x", got, err, want)
	}
}

func mustEdge(t *testing.T, tt *Tree) [][]events.Hash {
	t.Helper()
	_, edge, ok := tt.Edge()
	if !ok {
		t.Fatal("Edge not ok")
	}
	return edge
}

// Readers and the writer go on while WriteDurable writes files: every
// root and leaf read meanwhile is the reference tree's (run with -race).
func TestWriteDurableBesideReadersAndAppends(t *testing.T) {
	tt, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var ref events.Tree
	const n = 40 * Width
	for i := range uint64(n) {
		ref.Append(leaf(i))
	}
	done := make(chan struct{})
	writerErr := make(chan error, 1)
	go func() {
		defer close(writerErr)
		for {
			select {
			case <-done:
				writerErr <- tt.WriteDurable()
				return
			default:
			}
			if err := tt.WriteDurable(); err != nil {
				writerErr <- err
				return
			}
		}
	}()
	for i := range uint64(n) {
		tt.Append(leaf(i))
		if i%37 == 0 {
			tt.MarkDurable()
		}
		if i%101 == 0 {
			size := tt.Size()
			want, _ := ref.Root(size)
			if got, err := tt.Root(size); err != nil || got != want {
				t.Fatalf("root of %d = %x, %v; want %x", size, got, err, want)
			}
			if got, err := tt.Leaf(i / 2); err != nil || got != leaf(i/2) {
				t.Fatalf("leaf %d = %x, %v", i/2, got, err)
			}
		}
	}
	tt.MarkDurable()
	close(done)
	if err := <-writerErr; err != nil {
		t.Fatal(err)
	}
	if _, _, ok := tt.Edge(); !ok {
		t.Fatal("tiles still in memory after the last WriteDurable")
	}
	if written, _ := tt.Stats(); written != n/Width {
		t.Fatalf("wrote %d tiles, want %d", written, n/Width)
	}
}
