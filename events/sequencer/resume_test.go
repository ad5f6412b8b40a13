package sequencer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/tiles"
)

// openAt opens the fixture's log with tiles in tileDir, resuming from r
// if it is set, and counts the events passed to OnEvent.
func (f *fixture) openAt(t *testing.T, tileDir string, r *sequencer.Resume, applied *int) (*sequencer.Sequencer, events.Store, error) {
	t.Helper()
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := sequencer.Open(context.Background(), sequencer.Config{
		Store: st, Origin: origin, Signer: f.signer, Verifier: f.verifier, TileDir: tileDir, Resume: r,
		OnEvent: func(*events.Event, []byte) { *applied++ },
	})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return seq, st, nil
}

func appendN(t *testing.T, seq *sequencer.Sequencer, n int) {
	t.Helper()
	for i := 0; i < n; i += 100 {
		drafts := make([]sequencer.Draft, min(100, n-i))
		for j := range drafts {
			drafts[j] = sequencer.Draft{Type: "item.accessed", Actor: events.Actor{Person: "ana", Role: "analyst"}, Case: "C-1", Item: "item-1", Data: map[string]int{"n": i + j}}
		}
		if _, err := seq.Append(context.Background(), drafts...); err != nil {
			t.Fatal(err)
		}
	}
}

// Opened from a resume point, the sequencer reads and applies only the
// events after it, and its tree and checkpoints are those of a full
// replay; a resume point that does not fit the log is refused with
// ErrResume, having applied nothing.
func TestResumeReadsOnlyTheTail(t *testing.T) {
	f := newFixture(t)
	tiles := filepath.Join(t.TempDir(), "tiles")
	var applied int
	seq, st, err := f.openAt(t, tiles, nil, &applied)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, seq, 1000)
	cp, err := seq.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	size, edge, ok := seq.Tree().Edge()
	if !ok || size != cp.Size {
		t.Fatalf("edge at %d (ok %v), checkpoint at %d", size, ok, cp.Size)
	}
	head, _ := seq.Tree().Leaf(size - 1)
	appendN(t, seq, 300)
	seq.Close()
	st.Close()
	full := 0
	seq, st, err = f.openAt(t, tiles, nil, &full)
	if err != nil {
		t.Fatal(err)
	}
	wantSize := seq.Size()
	wantRoot, _ := seq.Tree().Root(wantSize)
	seq.Close()
	st.Close()

	good := &sequencer.Resume{Size: size, Root: cp.Root, Head: head, Edge: edge}
	tail := 0
	seq, st, err = f.openAt(t, tiles, good, &tail)
	if err != nil {
		t.Fatal(err)
	}
	if tail != int(wantSize-size) || full != int(wantSize) {
		t.Fatalf("applied %d events from the resume point (want %d), %d in a full replay (want %d)", tail, wantSize-size, full, wantSize)
	}
	if root, _ := seq.Tree().Root(seq.Size()); seq.Size() != wantSize || root != wantRoot {
		t.Fatalf("resumed tree %d/%x, want %d/%x", seq.Size(), root, wantSize, wantRoot)
	}
	appendN(t, seq, 10) // and it appends on
	seq.Close()
	st.Close()
	if res := f.audit(t); res.Events != wantSize+10 {
		t.Fatalf("audit verified %d events, want %d", res.Events, wantSize+10)
	}

	bad := map[string]*sequencer.Resume{
		"root":   {Size: size, Root: events.Hash{1}, Head: head, Edge: edge},
		"head":   {Size: size, Root: cp.Root, Head: events.Hash{2}, Edge: edge},
		"edge":   {Size: size, Root: cp.Root, Head: head, Edge: edge[:1]},
		"beyond": {Size: wantSize + 1000, Root: cp.Root, Head: head, Edge: edge},
		"empty":  {},
	}
	for name, r := range bad {
		n := 0
		if _, _, err := f.openAt(t, tiles, r, &n); !errors.Is(err, sequencer.ErrResume) || n != 0 {
			t.Errorf("%s: open error %v after applying %d events; want ErrResume, none applied", name, err, n)
		}
	}
}

// The tile writer runs beside the appends: when Close returns, every full
// tile of the durable events is on disk (the tree's Edge is ready), and a
// sequencer resumed from that edge has the same root.
func TestCloseLeavesEveryTileWritten(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	var applied int
	seq, st, err := f.openAt(t, dir, nil, &applied)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, seq, 3*256+17)
	tree := seq.Tree()
	if err := seq.Close(); err != nil {
		t.Fatal(err)
	}
	size, edge, ok := tree.Edge()
	if !ok {
		t.Fatal("tiles still in memory after Close")
	}
	want, err := tree.Root(size)
	if err != nil {
		t.Fatal(err)
	}
	head, err := tree.Leaf(size - 1)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for i := range uint64(3) {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(tiles.Path(0, i, tiles.Width)))); err != nil {
			t.Fatalf("tile 0/%d: %v", i, err)
		}
	}
	applied = 0
	seq, st, err = f.openAt(t, dir, &sequencer.Resume{Size: size, Root: want, Head: head, Edge: edge}, &applied)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	defer seq.Close()
	if got, err := seq.Tree().Root(size); err != nil || got != want {
		t.Fatalf("resumed root = %x, %v; want %x", got, err, want)
	}
	if applied != 0 {
		t.Fatalf("resume applied %d events", applied)
	}
}

// AfterPublish sees every full tile of the checkpoint on disk, though the
// tile writer writes them beside the next batch: a checkpoint forced
// right after a batch that completed tiles finds the tree's Edge ready
// (the vault saves a state snapshot there, which needs it).
func TestAfterPublishSeesTheTilesWritten(t *testing.T) {
	f := newFixture(t)
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var seq *sequencer.Sequencer
	var notReady []uint64
	seq, err = sequencer.Open(context.Background(), sequencer.Config{
		Store: st, Origin: origin, Signer: f.signer, Verifier: f.verifier, TileDir: t.TempDir(),
		CheckpointInterval: time.Hour,
		AfterPublish: func(cp *events.Checkpoint) {
			if size, _, ok := seq.Tree().Edge(); !ok || size != cp.Size {
				notReady = append(notReady, cp.Size)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	for range 12 {
		appendN(t, seq, 256) // completes a full tile each time
		if _, err := seq.Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(notReady) > 0 {
		t.Fatalf("AfterPublish called with tiles still in memory at sizes %v", notReady)
	}
}
