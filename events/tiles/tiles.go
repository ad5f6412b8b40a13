// Package tiles keeps the custody log's Merkle tree as C2SP tlog-tiles
// hash tiles (https://c2sp.org/tlog-tiles), so that the server's memory
// does not grow with the log: full tiles live on disk, and only the
// rightmost, incomplete tile of each level is held in memory (at most 255
// hashes a level, so under 64 KiB for any log of up to 2^64 events).
//
// A tile of level L and index N holds the 256 hashes of the tree's level
// 8·L at positions 256·N to 256·N+255 (level 0 holds the RFC 6962 leaf
// hashes); a node at tree level 8·L+h (h < 8) is computed from 2^h
// consecutive hashes of one such tile. Tiles are derived data: the
// sequencer writes every full tile once the events under it are durable,
// rebuilds (and repairs) them from the log at every start, and every tile
// read from disk is checked against the node above it, up to the hashes
// held in memory, so a tile altered on disk is detected (ErrAltered) and
// never used.
//
// docs/custody-log.md section 4.1 describes the layout, and section 11
// what is served.
package tiles

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custos-vault/custos/events"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	// Height is the number of tree levels a tile spans.
	Height = 8
	// Width is the number of hashes in a full tile.
	Width = 1 << Height
	// HashSize is the size of one hash in a tile, in bytes.
	HashSize = 32
	// FullSize is the size of a full tile, in bytes.
	FullSize = Width * HashSize
)

// ErrAltered is returned when a tile read from disk does not hash to the
// node the tree above it records: it was altered, truncated or replaced.
var ErrAltered = errors.New("tile altered on disk")

// ErrNotFound is returned by Data for a tile the tree does not hold.
var ErrNotFound = errors.New("no such tile")

type tileID struct{ level, index uint64 }

type fullTile = [Width]events.Hash

// Tree is a Merkle tree of RFC 6962 leaf hashes stored as tiles. It is
// safe for concurrent use: one writer (Append, Truncate, Commit) and any
// number of readers.
type Tree struct {
	dir string

	mu sync.RWMutex
	// writeMu serialises WriteDurable, which writes files without mu.
	writeMu   sync.Mutex
	size      uint64
	committed uint64
	// edge[L] holds the hashes of the rightmost incomplete tile of level
	// L: (size >> (8L)) mod 256 of them.
	edge [][]events.Hash
	// pending holds full tiles completed since the last Commit; mem holds
	// every committed full tile when the tree has no folder.
	pending map[tileID]*fullTile
	mem     map[tileID]*fullTile
	// stats
	written, repaired uint64
	// healed counts tiles found missing or altered when read, rebuilt
	// from the log's leaves (source) and rewritten.
	healed atomic.Uint64
	source LeafSource
	onHeal func(tile string, healed bool, err error)
	// unhealable remembers tiles whose rebuild failed, so that repeated
	// reads (anyone may ask for a tile) do not repeat the work.
	unhealableMu sync.Mutex
	unhealable   map[tileID]error

	cache tileCache
}

// LeafSource returns the leaf hashes of the log's events from to
// from+n-1, read from the custody log itself. A tree with a source
// rebuilds a tile it finds missing or altered on disk from the leaves
// under it, and uses it only if it hashes to the node above it.
type LeafSource func(from uint64, n int) ([]events.Hash, error)

// SetSource sets the tree's LeafSource, and onHeal (if not nil), which
// is told of each tile found missing or altered: its path, and whether it
// was rebuilt from the log (err says why not).
func (t *Tree) SetSource(src LeafSource, onHeal func(tile string, healed bool, err error)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.source, t.onHeal = src, onHeal
}

// tileCacheSize is how many full tiles read from disk (and checked) are
// kept: 1,024 tiles of 8 KiB, 8 MiB. A case's timeline reads one tile per
// 256 events of the log it spans.
const tileCacheSize = 1024

// Open returns an empty tree whose full tiles are kept in dir (created if
// missing); tiles already there are checked, and rewritten if they
// differ, as the log is replayed into the tree (Append, Commit). With dir
// "" every tile is held in memory (for tests and small tools).
func Open(dir string) (*Tree, error) {
	t := &Tree{dir: dir, pending: map[tileID]*fullTile{}, cache: tileCache{max: tileCacheSize}}
	if dir == "" {
		t.mem = map[tileID]*fullTile{}
		return t, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tile folder: %w", err)
	}
	return t, nil
}

// Resume returns a tree of size leaves whose full tiles are in dir and
// whose rightmost incomplete tile of each level is edge (as Edge returned
// it), without replaying the leaves: a start from a state snapshot
// (docs/state-snapshots.md). Nothing on disk is trusted by this: every
// tile read is checked against the node above it, up to edge, so the
// caller must check the result (Root of size) against a signed root
// before using the tree. An edge whose shape does not fit size is an
// error.
func Resume(dir string, size uint64, edge [][]events.Hash) (*Tree, error) {
	if dir == "" {
		return nil, errors.New("tiles: only a tree kept in a folder can be resumed")
	}
	levels := 0
	for n := size; n > 0; n >>= Height {
		levels++
	}
	if len(edge) != levels {
		return nil, fmt.Errorf("tiles: an edge of %d levels does not fit a tree of %d leaves (%d levels)", len(edge), size, levels)
	}
	t, err := Open(dir)
	if err != nil {
		return nil, err
	}
	for level, hashes := range edge {
		if want := (size >> (Height * uint(level))) % Width; uint64(len(hashes)) != want {
			return nil, fmt.Errorf("tiles: edge level %d holds %d hashes; a tree of %d leaves has %d there", level, len(hashes), size, want)
		}
		t.edge = append(t.edge, append(make([]events.Hash, 0, Width), hashes...))
	}
	t.size, t.committed = size, size
	return t, nil
}

// Edge returns the tree's size and a copy of the rightmost incomplete
// tile of each level: with the full tiles on disk, what Resume needs.
// Tiles still pending (not yet committed) are not on disk; ok is false
// then.
func (t *Tree) Edge() (size uint64, edge [][]events.Hash, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	levels := len(t.edge)
	for levels > 0 && len(t.edge[levels-1]) == 0 {
		levels-- // a truncation leaves empty levels on top
	}
	edge = make([][]events.Hash, levels)
	for i, e := range t.edge[:levels] {
		edge[i] = append([]events.Hash(nil), e...)
	}
	return t.size, edge, len(t.pending) == 0 && t.committed == t.size && t.mem == nil
}

// Size returns the number of leaves.
func (t *Tree) Size() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size
}

// Append adds leaf hashes. Tiles they complete are kept in memory until
// Commit.
func (t *Tree) Append(leaves ...events.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, leaf := range leaves {
		t.appendOne(leaf)
	}
}

func (t *Tree) appendOne(h events.Hash) {
	t.size++
	for level := 0; ; level++ {
		if level == len(t.edge) {
			t.edge = append(t.edge, make([]events.Hash, 0, Width))
		}
		t.edge[level] = append(t.edge[level], h)
		if len(t.edge[level]) < Width {
			return
		}
		full := new(fullTile)
		copy(full[:], t.edge[level])
		index := (t.size>>(Height*uint(level)))/Width - 1
		t.pending[tileID{uint64(level), index}] = full
		h = tileRoot(full[:])
		t.edge[level] = t.edge[level][:0]
	}
}

// Truncate drops leaves from size on. Only leaves appended since the last
// Commit can be dropped (the sequencer undoes a batch the store refused);
// Truncate below the committed size returns an error and changes nothing.
func (t *Tree) Truncate(size uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if size < t.committed {
		return fmt.Errorf("tiles: cannot truncate to %d below the committed size %d", size, t.committed)
	}
	if size >= t.size {
		return nil
	}
	for level := range t.edge {
		shift := Height * uint(level)
		n, old := size>>shift, t.size>>shift
		index, count := n/Width, int(n%Width)
		if index != old/Width {
			full, ok := t.pending[tileID{uint64(level), index}]
			if !ok {
				return fmt.Errorf("tiles: tile %d/%d to reopen is not pending", level, index)
			}
			t.edge[level] = append(t.edge[level][:0], full[:count]...)
		} else {
			t.edge[level] = t.edge[level][:count]
		}
		for id := range t.pending {
			if id.level == uint64(level) && id.index >= index {
				delete(t.pending, id)
			}
		}
	}
	t.size = size
	return nil
}

// Commit persists the full tiles completed since the last Commit: the
// caller says the leaves appended so far are durable. It is MarkDurable
// followed by WriteDurable.
func (t *Tree) Commit() error {
	t.MarkDurable()
	return t.WriteDurable()
}

// MarkDurable says the leaves appended so far are durable: Truncate no
// longer drops them, and WriteDurable may write the full tiles they
// complete. It does no I/O, so a writer can mark a batch durable and
// leave the tiles' files to another goroutine (the sequencer does). It
// reports whether full tiles wait to be written.
func (t *Tree) MarkDurable() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.committed = t.size
	if t.mem != nil {
		for id, full := range t.pending {
			t.mem[id] = full
			delete(t.pending, id)
		}
	}
	return len(t.pending) > 0
}

// WriteDurable writes the full tiles of durable leaves (MarkDurable) not
// yet on disk. A tile already on disk with the same contents is left
// alone; one that differs is rewritten and counted as repaired (Stats).
// Tiles are written to a temporary file and renamed into place, without
// fsync: they are rebuilt from the log at every start, so a tile lost in
// a crash costs nothing. The tree's lock is not held while a file is
// written: Append and every reader go on, reading a tile from memory
// until its file is in place. If a write fails the tile stays in memory
// and WriteDurable returns the error; the next call tries again. Calls
// are serialised.
func (t *Tree) WriteDurable() error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	type job struct {
		id   tileID
		full *fullTile
	}
	var jobs []job
	t.mu.RLock()
	for id, full := range t.pending {
		// Every leaf under the tile is durable: the tile of level L and
		// index N spans leaves up to (N+1)·256^(L+1) - 1.
		if t.committed>>(Height*(id.level+1)) > id.index {
			jobs = append(jobs, job{id, full})
		}
	}
	t.mu.RUnlock()
	var firstErr error
	for _, j := range jobs {
		wrote, repaired, err := t.writeTile(j.id, j.full)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		t.mu.Lock()
		if t.pending[j.id] == j.full {
			delete(t.pending, j.id)
		}
		if wrote {
			t.written++
		}
		if repaired {
			t.repaired++
		}
		t.mu.Unlock()
	}
	return firstErr
}

// Stats reports how many tiles Commit wrote and, of those, how many it
// found on disk with other contents (repaired).
func (t *Tree) Stats() (written, repaired uint64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.written, t.repaired + t.healed.Load()
}

// writeTile writes a full tile's file unless the same bytes are there,
// and reports whether it wrote it and whether something else was at its
// path. It reads nothing of the tree but the tile given, and holds none
// of its locks.
func (t *Tree) writeTile(id tileID, full *fullTile) (wrote, repaired bool, err error) {
	data := tileBytes(full[:])
	name := Path(id.level, id.index, Width)
	path := filepath.Join(t.dir, filepath.FromSlash(name))
	old, err := readTile(path)
	if err == nil && bytes.Equal(old, data) {
		return false, false, nil
	}
	if _, serr := os.Lstat(path); serr == nil {
		repaired = true // something else is at the tile's path
	}
	if err := writeTileFile(path, data); err != nil {
		return false, false, fmt.Errorf("writing tile %s: %w", name, err)
	}
	t.cache.drop(id)
	return true, repaired, nil
}

// writeTileFile writes a tile's bytes at path.
func writeTileFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	// A fresh temporary name (created exclusively), so that nothing
	// placed in the folder beforehand (a symbolic link) is written
	// through; the rename replaces whatever is at the tile's path.
	f, err := os.CreateTemp(filepath.Dir(path), ".tile-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}

// readTile reads a full tile's file: a regular file of exactly FullSize
// bytes, opened without following a symbolic link or blocking on a FIFO,
// and never read beyond FullSize.
func readTile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() != FullSize {
		return nil, fmt.Errorf("%w: not a regular file of %d bytes", ErrAltered, FullSize)
	}
	data := make([]byte, FullSize)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAltered, err)
	}
	return data, nil
}

// Leaf returns the leaf hash at index.
func (t *Tree) Leaf(index uint64) (events.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if index >= t.size {
		return events.Hash{}, fmt.Errorf("leaf %d beyond tree size %d", index, t.size)
	}
	return t.node(compact.NodeID{Level: 0, Index: index})
}

// Root returns the root hash of the tree of the given size.
func (t *Tree) Root(size uint64) (events.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.root(size)
}

func (t *Tree) root(size uint64) (events.Hash, error) {
	if size > t.size {
		return events.Hash{}, fmt.Errorf("size %d beyond tree size %d", size, t.size)
	}
	return events.RootOf(size, t.node)
}

// InclusionProof proves that leaf index is in the tree of the given size
// (RFC 6962 section 2.1.1).
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return t.fetch(nodes, size)
}

// ConsistencyProof proves that the tree of size1 is a prefix of the tree
// of size2 (RFC 6962 section 2.1.2).
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return t.fetch(nodes, size2)
}

func (t *Tree) fetch(nodes proof.Nodes, size uint64) ([][]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > t.size {
		return nil, fmt.Errorf("size %d beyond tree size %d", size, t.size)
	}
	return events.ProofOf(nodes, t.size, t.node)
}

// Data returns the first width hashes of the tile of the given level and
// index, concatenated (the tile's bytes as C2SP tlog-tiles serves them),
// if the tree of size limit holds them; ErrNotFound otherwise.
func (t *Tree) Data(level, index uint64, width int, limit uint64) ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if width < 1 || width > Width || level >= 64/Height || limit > t.size {
		return nil, ErrNotFound
	}
	have := limit >> (Height * level)
	if index > have/Width || index*Width+uint64(width) > have {
		return nil, ErrNotFound
	}
	hashes, err := t.tile(level, index)
	if err != nil {
		return nil, err
	}
	return tileBytes(hashes[:width]), nil
}

// node returns a complete node of the tree; t.mu is held.
func (t *Tree) node(id compact.NodeID) (events.Hash, error) {
	level, h := uint64(id.Level)/Height, uint64(id.Level)%Height
	first := id.Index << h
	hashes, err := t.tile(level, first/Width)
	if err != nil {
		return events.Hash{}, err
	}
	from, to := first%Width, first%Width+1<<h
	if to > uint64(len(hashes)) {
		return events.Hash{}, fmt.Errorf("tiles: node %d/%d is not complete", id.Level, id.Index)
	}
	return hashUp(hashes[from:to]), nil
}

// tile returns the hashes of a tile: the edge tile (incomplete), a
// pending or in-memory one, or one read from disk and checked against the
// node above it. t.mu is held.
func (t *Tree) tile(level, index uint64) ([]events.Hash, error) {
	if int(level) < len(t.edge) && index == (t.size>>(Height*level))/Width {
		return t.edge[level], nil
	}
	id := tileID{level, index}
	if full, ok := t.pending[id]; ok {
		return full[:], nil
	}
	if t.mem != nil {
		if full, ok := t.mem[id]; ok {
			return full[:], nil
		}
		return nil, fmt.Errorf("tiles: no tile %d/%d", level, index)
	}
	if full := t.cache.get(id); full != nil {
		return full[:], nil
	}
	p := Path(level, index, Width)
	want, err := t.node(compact.NodeID{Level: uint(Height * (level + 1)), Index: index})
	if err != nil {
		return nil, fmt.Errorf("checking tile %s: %w", p, err)
	}
	path := filepath.Join(t.dir, filepath.FromSlash(p))
	data, err := readTile(path)
	if err != nil {
		err = fmt.Errorf("reading tile %s: %w", p, err)
	}
	full := new(fullTile)
	if err == nil {
		for i := range full {
			copy(full[i][:], data[i*HashSize:])
		}
		if tileRoot(full[:]) != want {
			err = fmt.Errorf("%w: %s does not hash to the tree's node above it", ErrAltered, p)
		}
	}
	if err != nil {
		if t.source == nil {
			return nil, err
		}
		// Rebuild it from the log; use it only if it is the node above.
		t.unhealableMu.Lock()
		known := t.unhealable[id]
		t.unhealableMu.Unlock()
		if known != nil {
			return nil, known
		}
		rebuilt, rerr := t.rebuild(level, index)
		if rerr != nil || tileRoot(rebuilt[:]) != want {
			err = fmt.Errorf("%w; rebuilding it from the custody log: %v", err, cmp.Or(rerr, errors.New("the log's events do not hash to it either")))
			t.unhealableMu.Lock()
			if t.unhealable == nil || len(t.unhealable) >= tileCacheSize {
				t.unhealable = map[tileID]error{}
			}
			t.unhealable[id] = err
			t.unhealableMu.Unlock()
			if t.onHeal != nil {
				t.onHeal(p, false, err)
			}
			return nil, err
		}
		full = rebuilt
		if werr := writeTileFile(path, tileBytes(full[:])); werr == nil {
			t.healed.Add(1)
		}
		if t.onHeal != nil {
			t.onHeal(p, true, err)
		}
	}
	t.cache.put(id, full)
	return full[:], nil
}

// rebuild computes a full tile from the log's leaves under it (256^(L+1)
// leaves for level L), a subtree at a time.
func (t *Tree) rebuild(level, index uint64) (*fullTile, error) {
	span := uint64(1) << (Height * level) // leaves under one hash of the tile
	full := new(fullTile)
	if level == 0 {
		leaves, err := t.source(index*Width, Width)
		if err != nil {
			return nil, err
		}
		if len(leaves) != Width {
			return nil, fmt.Errorf("the log returned %d leaves from %d, want %d", len(leaves), index*Width, Width)
		}
		copy(full[:], leaves)
		return full, nil
	}
	for i := range full {
		from := (index*Width + uint64(i)) * span
		leaves, err := t.source(from, int(span))
		if err != nil {
			return nil, err
		}
		if uint64(len(leaves)) != span {
			return nil, fmt.Errorf("the log returned %d leaves from %d, want %d", len(leaves), from, span)
		}
		full[i] = hashUp(leaves)
	}
	return full, nil
}

// hashUp returns the root of a perfect subtree given its bottom row (a
// power of two of hashes).
func hashUp(row []events.Hash) events.Hash {
	if len(row) == 1 {
		return row[0]
	}
	// RFC 6962 interior nodes, SHA-256(0x01 || left || right), computed
	// level by level into one scratch row, without an allocation per
	// node (this runs for every tile read from disk).
	var in [1 + 2*HashSize]byte
	in[0] = 1
	next := make([]events.Hash, len(row)/2)
	for len(row) > 1 {
		for i := range len(row) / 2 {
			copy(in[1:], row[2*i][:])
			copy(in[1+HashSize:], row[2*i+1][:])
			next[i] = sha256.Sum256(in[:])
		}
		row, next = next[:len(row)/2], next[:len(row)/4]
	}
	return row[0]
}

func tileRoot(row []events.Hash) events.Hash { return hashUp(row) }

func tileBytes(hashes []events.Hash) []byte {
	b := make([]byte, 0, len(hashes)*HashSize)
	for _, h := range hashes {
		b = append(b, h[:]...)
	}
	return b
}

// Path returns the C2SP tlog-tiles path of a hash tile, relative to the
// log's prefix: "tile/<L>/<N>" for a full tile and "tile/<L>/<N>.p/<W>"
// for a partial one of width W, with N in three-digit groups, each but
// the last prefixed "x" (index 1234067 is "x001/x234/067").
func Path(level, index uint64, width int) string {
	// golang.org/x/mod/sumdb/tlog spells N the same way; its paths carry
	// the tile height after "tile/", which C2SP tlog-tiles leaves out.
	p := tlog.Tile{H: Height, L: int(level), N: int64(index), W: width}.Path()
	return "tile/" + strings.TrimPrefix(p, fmt.Sprintf("tile/%d/", Height))
}

// ParsePath parses a C2SP tlog-tiles hash-tile path (see Path). Entry
// bundles ("tile/entries/...") and malformed paths are refused.
func ParsePath(p string) (level, index uint64, width int, err error) {
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok || strings.HasPrefix(rest, "entries/") {
		return 0, 0, 0, fmt.Errorf("not a hash tile path: %q", p)
	}
	tile, err := tlog.ParseTilePath(fmt.Sprintf("tile/%d/", Height) + rest)
	if err != nil || tile.L < 0 || tile.N < 0 || tile.L >= 64/Height {
		return 0, 0, 0, fmt.Errorf("not a hash tile path: %q", p)
	}
	// Refuse spellings other than the canonical one.
	if Path(uint64(tile.L), uint64(tile.N), tile.W) != p {
		return 0, 0, 0, fmt.Errorf("not a canonical hash tile path: %q", p)
	}
	return uint64(tile.L), uint64(tile.N), tile.W, nil
}

// tileCache holds a few verified tiles read from disk.
type tileCache struct {
	mu    sync.Mutex
	max   int
	order []tileID
	tiles map[tileID]*fullTile
}

func (c *tileCache) get(id tileID) *fullTile {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tiles[id]
}

func (c *tileCache) put(id tileID, full *fullTile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tiles == nil {
		c.tiles = map[tileID]*fullTile{}
	}
	if _, ok := c.tiles[id]; ok {
		return
	}
	if len(c.order) >= c.max {
		delete(c.tiles, c.order[0])
		c.order = c.order[1:]
	}
	c.order = append(c.order, id)
	c.tiles[id] = full
}

func (c *tileCache) drop(id tileID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tiles, id)
}
