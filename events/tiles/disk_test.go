package tiles

import (
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// A FIFO put in place of a full tile (by anyone who can write DATA/tiles:
// the service account, a restored backup) is refused at once, not read:
// a read blocked on it would hold the tree's read lock (the read is
// reachable without sign-in, GET /tile/0/000) and stop every append.
func TestFIFOTileRefused(t *testing.T) {
	dir := t.TempDir()
	tt, _ := build(t, dir, 600, 100)
	p := filepath.Join(dir, "tile", "0", "000")
	os.Remove(p)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	// Unblock whatever is stuck at the end so the test can exit.
	defer func() {
		if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	go tt.Data(0, 0, Width, 600) // the public tile read
	time.Sleep(200 * time.Millisecond)
	appended := make(chan struct{})
	go func() {
		tt.Append(leaf(600)) // the sequencer's next batch
		close(appended)
	}()
	select {
	case <-appended:
	case <-time.After(20 * time.Second):
		t.Errorf("an append is blocked behind a tile read of a FIFO in DATA/tiles")
	}
}

// A tile replaced by a large file is refused by its size before anything
// is read: one public GET /tile/0/000 must not cost the file's size in
// memory.
func TestHugeTileNotRead(t *testing.T) {
	dir := t.TempDir()
	tt, _ := build(t, dir, 600, 100)
	p := filepath.Join(dir, "tile", "0", "000")
	if err := os.Truncate(p, 256<<20); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := tt.Data(0, 0, Width, 600)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Data: %v; allocated %d MiB", err, alloc>>20)
	if alloc > 64<<20 || err == nil {
		t.Errorf("one tile read allocated %d MiB for a tile of %d bytes (%v)", alloc>>20, FullSize, err)
	}
}

// A symbolic link planted in the tile folder (in a restored backup of
// DATA, say) at a name a tile's writer could use is never written
// through: a file outside DATA/tiles (here a stand-in for the custody
// log) stays as it was.
func TestPlantedSymlinkNotWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "log.sqlite")
	os.WriteFile(victim, []byte("the custody log"), 0o600)
	tt, _ := build(t, dir, 300, 100) // tile 0/000 written, 0/001 not yet
	os.MkdirAll(filepath.Join(dir, "tile", "0"), 0o700)
	if err := os.Symlink(victim, filepath.Join(dir, "tile", "0", "001.tmp")); err != nil {
		t.Fatal(err)
	}
	for i := uint64(300); i < 512; i++ {
		tt.Append(leaf(i))
	}
	err := tt.Commit()
	b, _ := os.ReadFile(victim)
	t.Logf("Commit: %v; victim now %d bytes", err, len(b))
	if string(b) != "the custody log" || err != nil {
		t.Errorf("a file outside DATA/tiles was overwritten through a symlink in the tile folder (%v)", err)
	}
	// A symbolic link at a tile's own path is replaced, not followed,
	// and counted as a repair.
	victim2 := filepath.Join(t.TempDir(), "keyring")
	os.WriteFile(victim2, []byte("keys"), 0o600)
	tile2 := filepath.Join(dir, filepath.FromSlash(Path(0, 2, Width)))
	if err := os.Symlink(victim2, tile2); err != nil {
		t.Fatal(err)
	}
	for i := uint64(512); i < 768; i++ {
		tt.Append(leaf(i))
	}
	if err := tt.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim2); string(b) != "keys" {
		t.Error("a file outside DATA/tiles was overwritten through a symlink at a tile's path")
	}
	if fi, err := os.Lstat(tile2); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the tile's path is not a regular file after the commit: %v", err)
	}
}

// A level-0 tile and the level-1 tile above it altered consistently (the
// level-1 entry rewritten to the altered tile's hash) are still refused,
// because the level-1 tile is checked against the level-2 edge held in
// memory.
func TestConsistentTwoLevelAlterationRefused(t *testing.T) {
	dir := t.TempDir()
	tt, _ := build(t, dir, 70000, 5000)
	p0 := filepath.Join(dir, filepath.FromSlash(Path(0, 3, Width)))
	p1 := filepath.Join(dir, filepath.FromSlash(Path(1, 0, Width)))
	b0, _ := os.ReadFile(p0)
	b0[0] ^= 1
	os.WriteFile(p0, b0, 0o600)
	var row [Width]events.Hash
	for i := range row {
		copy(row[i][:], b0[i*HashSize:])
	}
	root := tileRoot(row[:])
	b1, _ := os.ReadFile(p1)
	copy(b1[3*HashSize:], root[:])
	os.WriteFile(p1, b1, 0o600)
	_, err := tt.InclusionProof(3*Width+5, 70000)
	t.Logf("inclusion proof through the altered tiles: %v", err)
	if err == nil {
		t.Errorf("consistently altered tiles were used")
	}
}
