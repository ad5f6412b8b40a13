package sequencer_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
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
