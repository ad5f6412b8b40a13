package sequencer_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
)

// A toy projection: a "lock" event closes a resource; a "use" event is
// allowed only while it is open. Hundreds of concurrent uses race one
// lock; the log order must always explain every answer: no use after the
// lock, and every refused use was refused because the lock came first.
func TestPreconditionHoldsAtTheEventsPosition(t *testing.T) {
	f := newFixture(t)
	var locked atomic.Bool // applied only when durable, as the vault's state is
	seq, st := f.open(t, func(ev *events.Event, _ []byte) {
		if ev.Type == "lock" {
			locked.Store(true)
		}
	})
	defer st.Close()
	defer seq.Close()
	errLocked := errors.New("locked")
	useCheck := func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if ev.Type == "lock" {
				return sequencer.ErrNotYet
			}
		}
		if locked.Load() {
			return errLocked
		}
		return nil
	}
	const users = 300
	var wg sync.WaitGroup
	var accepted, refused atomic.Int64
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == users/3 {
				if _, err := seq.Append(context.Background(), sequencer.Draft{Type: "lock"}); err != nil {
					t.Error(err)
				}
			}
			_, err := seq.Append(context.Background(), sequencer.Draft{Type: "use", Check: useCheck})
			switch {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, errLocked):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen, lockAt, uses := false, uint64(0), int64(0)
	st.Read(context.Background(), 0, func(r events.Record) error {
		ev, _ := events.Decode(r.Bytes)
		switch ev.Type {
		case "lock":
			seen, lockAt = true, ev.Seq
		case "use":
			uses++
			if seen {
				t.Errorf("use event %d follows the lock at %d", ev.Seq, lockAt)
			}
		}
		return nil
	})
	if uses != accepted.Load() || accepted.Load()+refused.Load() != users {
		t.Fatalf("log has %d uses; %d accepted, %d refused of %d", uses, accepted.Load(), refused.Load(), users)
	}
	if refused.Load() == 0 {
		t.Log("the lock came after every use this time; the order is still explained")
	}
}

func TestRefusedPreconditionAppendsNothingOfItsRequest(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	defer st.Close()
	defer seq.Close()
	no := errors.New("no")
	_, err := seq.Append(context.Background(),
		sequencer.Draft{Type: "first"},
		sequencer.Draft{Type: "second", Check: func([]*events.Event) error { return no }})
	if !errors.Is(err, no) || seq.Size() != 0 {
		t.Fatalf("append with a failing check: err %v, log size %d", err, seq.Size())
	}
	// A check answering ErrNotYet with nothing ahead of it is a bug in
	// the check, not a reason to wait for ever.
	_, err = seq.Append(context.Background(), sequencer.Draft{Type: "x", Check: func([]*events.Event) error { return sequencer.ErrNotYet }})
	if err == nil || seq.Size() != 0 {
		t.Fatalf("undecidable check: err %v, size %d", err, seq.Size())
	}
}

func TestCheckpointIsPublishedOnlyAfterBeforePublish(t *testing.T) {
	f := newFixture(t)
	st := openStore(t, f)
	defer st.Close()
	fail := errors.New("head store down")
	var calls atomic.Int64
	var failing atomic.Bool
	failing.Store(true)
	seq, err := sequencer.Open(context.Background(), sequencer.Config{
		Store: st, Origin: origin, Signer: f.signer, Verifier: f.verifier,
		BeforePublish: func(_ context.Context, cp *events.Checkpoint) error {
			calls.Add(1)
			// The events it covers are durable before it is called.
			if n, _ := st.Size(context.Background()); n < cp.Size {
				t.Errorf("BeforePublish for size %d while the store holds %d events", cp.Size, n)
			}
			if failing.Load() {
				return fail
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	if _, err := seq.Append(context.Background(), sequencer.Draft{Type: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := seq.Checkpoint(context.Background()); !errors.Is(err, fail) {
		t.Fatalf("checkpoint with a failing BeforePublish: %v", err)
	}
	if cps, _ := st.Checkpoints(context.Background()); len(cps) != 0 || seq.LatestCheckpoint() != nil {
		t.Fatalf("a checkpoint was stored or served although BeforePublish failed: %d", len(cps))
	}
	failing.Store(false)
	cp, err := seq.Checkpoint(context.Background())
	if err != nil || cp.Size != 1 {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
	if cps, _ := st.Checkpoints(context.Background()); len(cps) != 1 {
		t.Fatalf("stored checkpoints: %d", len(cps))
	}
	if calls.Load() < 2 {
		t.Fatalf("BeforePublish called %d times", calls.Load())
	}
}

func openStore(t testing.TB, f *fixture) events.Store {
	t.Helper()
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
