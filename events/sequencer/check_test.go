package sequencer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/internal/testenv"
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
	seq := f.start(t, sequencer.Config{
		Store: st,
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
	defer seq.Close()
	if _, err := seq.Append(context.Background(), sequencer.Draft{Type: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := seq.Checkpoint(context.Background()); !errors.Is(err, fail) {
		t.Fatalf("checkpoint with a failing BeforePublish: %v", err)
	}
	if cps, _ := events.AllCheckpoints(context.Background(), st); len(cps) != 0 || seq.LatestCheckpoint() != nil {
		t.Fatalf("a checkpoint was stored or served although BeforePublish failed: %d", len(cps))
	}
	failing.Store(false)
	cp, err := seq.Checkpoint(context.Background())
	if err != nil || cp.Size != 1 {
		t.Fatalf("checkpoint: %v %v", cp, err)
	}
	if cps, _ := events.AllCheckpoints(context.Background(), st); len(cps) != 1 {
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

// flakyStore fails appends on demand: either before writing anything
// (down), or after writing (the answer is lost on the way back).
type flakyStore struct {
	events.Store
	down, lostAnswer atomic.Bool
	// appendDown fails appends alone: the store can still be read.
	appendDown atomic.Bool
	// unsure makes a failed append's error say that the store cannot
	// tell whether it was stored (events.ErrOutcomeUnknown).
	unsure atomic.Bool
	// lostCheckpointAnswer loses the answer of appends of a checkpoint
	// alone, after writing it.
	lostCheckpointAnswer atomic.Bool
}

var errDown = errors.New("store unreachable")

func (f *flakyStore) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	failed := errDown
	if f.unsure.Load() {
		failed = fmt.Errorf("%w (%w)", errDown, events.ErrOutcomeUnknown)
	}
	if f.down.Load() || f.appendDown.Load() {
		return failed
	}
	err := f.Store.Append(ctx, expected, recs, cp)
	if err == nil && f.lostAnswer.Load() && len(recs) > 0 {
		return failed
	}
	if err == nil && f.lostCheckpointAnswer.Load() && len(recs) == 0 {
		return failed
	}
	return err
}

func (f *flakyStore) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.Seal(ctx)
}

func (f *flakyStore) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Read(ctx, from, fn)
}

// TestFlushOutcomes walks each named outcome of writing a batch:
// committed; committed although the store's answer was lost (the events
// are found stored and applied once); failed with nothing stored (the
// store refused the write and can be read); failed while the store is
// down (its outcome unknown; answered with the error, nothing applied),
// then committed again once it is back, continuing the chain.
func TestFlushOutcomes(t *testing.T) {
	f := newFixture(t)
	st := &flakyStore{Store: openStore(t, f)}
	defer st.Close()
	var applied []uint64
	var mu sync.Mutex
	seq := f.start(t, sequencer.Config{
		Store:   st,
		OnEvent: func(ev *events.Event, _ []byte) { mu.Lock(); applied = append(applied, ev.Seq); mu.Unlock() },
	})
	defer seq.Close()
	ctx := context.Background()
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "committed"}); err != nil {
		t.Fatal(err)
	}
	st.lostAnswer.Store(true)
	evs, err := seq.Append(ctx, sequencer.Draft{Type: "answer.lost"})
	if err != nil || evs[0].Seq != 1 {
		t.Fatalf("append whose answer was lost: %v", err)
	}
	st.lostAnswer.Store(false)
	// A failed append whose store can be read: nothing was stored, and
	// the error says so by not being ErrOutcomeUnknown.
	st.appendDown.Store(true)
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "failed"}); !errors.Is(err, errDown) || errors.Is(err, sequencer.ErrOutcomeUnknown) {
		t.Fatalf("append refused by a store that can be read: %v", err)
	}
	// The same, from a store that cannot tell whether a write it failed
	// will still land (events.ErrOutcomeUnknown): nothing is visible, and
	// the answer says the outcome is unknown, not that nothing was stored.
	st.unsure.Store(true)
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "failed"}); !errors.Is(err, sequencer.ErrOutcomeUnknown) {
		t.Fatalf("append refused by a store unsure of it: %v", err)
	}
	st.appendDown.Store(false)
	// Its answer lost, from such a store: the batch is found stored.
	st.lostAnswer.Store(true)
	evs, err = seq.Append(ctx, sequencer.Draft{Type: "answer.lost.unsure"})
	if err != nil || evs[0].Seq != 2 {
		t.Fatalf("append whose answer was lost, from a store unsure of it: %v", err)
	}
	st.lostAnswer.Store(false)
	st.unsure.Store(false)
	// A failed append whose store cannot then be read: whether the
	// events were stored is not known (a caller must not undo what it did
	// ahead of them).
	st.down.Store(true)
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "failed"}); !errors.Is(err, errDown) || !errors.Is(err, sequencer.ErrOutcomeUnknown) {
		t.Fatalf("append while the store is down: %v", err)
	}
	st.down.Store(false)
	evs, err = seq.Append(ctx, sequencer.Draft{Type: "after"})
	if err != nil || evs[0].Seq != 3 {
		t.Fatalf("append after the store came back: %v %v", evs, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(applied) != "[0 1 2 3]" {
		t.Fatalf("applied %v, want each durable event once, in order", applied)
	}
	seq.Close()
	if res := f.audit(t); res.Events != 4 {
		t.Fatalf("log has %d events", res.Events)
	}
}

// forge appends n events to the store directly, chained and encoded as a
// writer would, but without any seal: what someone with write access to
// the log store (not the log's key) can do.
func forge(t *testing.T, st events.Store, n int, typ string) {
	t.Helper()
	ctx := context.Background()
	size, _ := st.Size(ctx)
	var prev events.Hash
	if size > 0 {
		st.Read(ctx, size-1, func(r events.Record) error { prev = events.LeafHash(r.Bytes); return nil })
	}
	var recs []events.Record
	for i := range n {
		ev := &events.Event{V: events.Version, Seq: size + uint64(i), ID: events.NewID(), Type: typ,
			Time: events.FormatTime(time.Now()), Actor: events.Actor{Person: "custodian", Role: "custodian", Auth: "token"},
			Data: []byte(`{}`), Prev: prev.String()}
		b, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, events.Record{Seq: ev.Seq, ID: ev.ID, Bytes: b})
		prev = events.LeafHash(b)
	}
	if err := st.Append(ctx, size, recs, nil); err != nil {
		t.Fatal(err)
	}
}

// TestUnsealedEventsAreNeverApplied: events added to the store by someone
// without the log's key are neither applied nor signed over by a running
// writer, and a log ending in them does not open.
func TestUnsealedEventsAreNeverApplied(t *testing.T) {
	f := newFixture(t)
	var applied []string
	var mu sync.Mutex
	seq, st := f.open(t, func(ev *events.Event, _ []byte) { mu.Lock(); applied = append(applied, ev.Type); mu.Unlock() })
	ctx := context.Background()
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "genuine"}); err != nil {
		t.Fatal(err)
	}
	forge(t, st, 2, "forged.enrolment")
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "after"}); err == nil || !strings.Contains(err.Error(), "not sealed") {
		t.Fatalf("append after forged events: %v", err)
	}
	if _, err := seq.Checkpoint(ctx); err == nil {
		if cp := seq.LatestCheckpoint(); cp != nil && cp.Size > 1 {
			t.Fatalf("a checkpoint of size %d covers the forged events", cp.Size)
		}
	}
	mu.Lock()
	for _, typ := range applied {
		if typ == "forged.enrolment" {
			t.Fatal("a forged event was applied")
		}
	}
	mu.Unlock()
	seq.Close()
	st.Close()
	// Forged while the writer was stopped: the log does not open.
	st2 := openStore(t, f)
	defer st2.Close()
	if _, err := sequencer.Open(ctx, sequencer.Config{Store: st2, Origin: origin, Signer: f.signer, Verifier: f.verifier}); err == nil || !strings.Contains(err.Error(), "not sealed") {
		t.Fatalf("open on a log ending in forged events: %v", err)
	}
}

// limitedStore refuses an append whose records' bytes are over limit, as
// KurrentDB refuses one over its MaxAppendSize, and says so
// (events.AppendLimiter).
type limitedStore struct {
	events.Store
	limit   int
	largest atomic.Int64
}

func (l *limitedStore) AppendSize(r events.Record) int { return len(r.Bytes) }
func (l *limitedStore) AppendLimit() int               { return l.limit }

func (l *limitedStore) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	n := 0
	for _, r := range recs {
		n += len(r.Bytes)
	}
	if n > l.limit {
		return fmt.Errorf("append of %d bytes over the limit of %d", n, l.limit)
	}
	if int64(n) > l.largest.Load() {
		l.largest.Store(int64(n))
	}
	return l.Store.Append(ctx, expected, recs, cp)
}

// A store with an append limit: a burst the writer would gather into one
// larger batch is cut between requests and every request is stored, in
// order; a request over the limit on its own is refused alone.
func TestBatchesKeepWithinTheStoresAppendLimit(t *testing.T) {
	f := newFixture(t)
	st := &limitedStore{Store: openStore(t, f), limit: 20_000}
	defer st.Close()
	seq := f.start(t, sequencer.Config{Store: st})
	defer seq.Close()
	ctx := context.Background()
	release := make(chan struct{})
	held := make(chan error, 1)
	go func() {
		_, err := seq.Append(ctx, sequencer.Draft{Type: "hold", Check: func([]*events.Event) error { <-release; return nil }})
		held <- err
	}()
	const requests = 200 // about 3 events of 400 bytes each: 240 kB in all
	var wg sync.WaitGroup
	errs := make(chan error, requests+1)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := sequencer.Draft{Type: "burst", Case: fmt.Sprint("case-", i), Data: map[string]string{"text": strings.Repeat("x", 200)}}
			_, err := seq.Append(ctx, d, d, d)
			errs <- err
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		big := make([]sequencer.Draft, 100)
		for j := range big {
			big[j] = sequencer.Draft{Type: "big", Data: map[string]string{"text": strings.Repeat("x", 200)}}
		}
		if _, err := seq.Append(ctx, big...); err == nil || !strings.Contains(err.Error(), "append limit") {
			t.Errorf("a request over the limit: %v", err)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st.largest.Load() > int64(st.limit) || st.largest.Load() < int64(st.limit)/2 {
		t.Fatalf("largest append %d bytes: batches were not filled up to the limit of %d", st.largest.Load(), st.limit)
	}
	seq.Close()
	if res := f.audit(t); res.Events != 1+3*requests {
		t.Fatalf("log has %d events, want %d", res.Events, 1+3*requests)
	}
}

// AppendPublished returns once a checkpoint covering its events is
// published, without waiting for the interval; when none can be, it
// returns the durable events with ErrUnpublished, and the failure is
// logged whether or not a request waits for it.
func TestAppendPublished(t *testing.T) {
	f := newFixture(t)
	st := openStore(t, f)
	defer st.Close()
	fail := errors.New("head store down")
	var failing atomic.Bool
	var published atomic.Uint64
	var logs testenv.LogBuffer
	seq := f.start(t, sequencer.Config{
		Store:              st,
		CheckpointInterval: time.Hour,
		Logger:             slog.New(slog.NewTextHandler(&logs, nil)),
		BeforePublish: func(_ context.Context, cp *events.Checkpoint) error {
			if failing.Load() {
				return fail
			}
			published.Store(cp.Size)
			return nil
		},
	})
	defer seq.Close()
	ctx := context.Background()
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "a"}); err != nil {
		t.Fatal(err)
	}
	evs, cp, err := seq.AppendPublished(ctx, sequencer.Draft{Type: "view"})
	if err != nil || len(evs) != 1 || cp == nil || cp.Size != 2 || published.Load() != 2 {
		t.Fatalf("AppendPublished: %d events, checkpoint %+v, published %d, %v; want the view covered by a published checkpoint of 2", len(evs), cp, published.Load(), err)
	}
	// Kept as the head, not stored or served: the next interval's
	// checkpoint covers it.
	if cps, _ := events.AllCheckpoints(ctx, st); len(cps) != 0 || seq.LatestCheckpoint() != nil {
		t.Fatalf("stored checkpoints %+v, latest %+v: want none within the interval", cps, seq.LatestCheckpoint())
	}
	// An ordinary append waits for the interval (an hour here).
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "b"}); err != nil || published.Load() != 2 {
		t.Fatalf("an ordinary append published %d (%v)", published.Load(), err)
	}

	failing.Store(true)
	evs, cp, err = seq.AppendPublished(ctx, sequencer.Draft{Type: "view"})
	if !errors.Is(err, sequencer.ErrUnpublished) || !errors.Is(err, fail) || cp != nil {
		t.Fatalf("AppendPublished with a failing BeforePublish: %+v, %v; want ErrUnpublished wrapping the failure", cp, err)
	}
	if len(evs) != 1 || evs[0].Seq != 3 {
		t.Fatalf("the unpublished append returned %d events, want the durable one at 3", len(evs))
	}
	if n, _ := st.Size(ctx); n != 4 || seq.Size() != 4 {
		t.Fatalf("the store holds %d events and the log %d, want 4: the view is durable", n, seq.Size())
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "head store down") {
		t.Fatalf("the failure was not logged: %s", logs.String())
	}
}

// TestAppendsGoOnWhileAHeadIsKept: keeping an anchored request's
// checkpoint (the vault's sticky head: files and an object, with their
// fsyncs) does not hold up other appends, and Close still answers the
// anchored request once its head is kept.
func TestAppendsGoOnWhileAHeadIsKept(t *testing.T) {
	f := newFixture(t)
	st := openStore(t, f)
	defer st.Close()
	entered := make(chan uint64, 16)
	release := make(chan struct{})
	seq := f.start(t, sequencer.Config{
		Store:              st,
		CheckpointInterval: time.Hour,
		BeforePublish: func(_ context.Context, cp *events.Checkpoint) error {
			entered <- cp.Size
			<-release
			return nil
		},
	})
	ctx := context.Background()
	type answer struct {
		evs []*events.Event
		cp  *events.Checkpoint
		err error
	}
	viewed := make(chan answer, 1)
	go func() {
		evs, cp, err := seq.AppendPublished(ctx, sequencer.Draft{Type: "view"})
		viewed <- answer{evs, cp, err}
	}()
	if size := <-entered; size != 1 {
		t.Fatalf("the head kept for the view covers %d events, want 1", size)
	}
	// The head is being kept; ordinary appends are answered meanwhile.
	for i := range 3 {
		done := make(chan error, 1)
		go func() {
			_, err := seq.Append(ctx, sequencer.Draft{Type: "refused"})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("append %d waited for the sticky head of another request's view", i)
		}
	}
	select {
	case a := <-viewed:
		t.Fatalf("the view was answered (%v) before its checkpoint was kept", a.err)
	default:
	}
	closed := make(chan struct{})
	go func() { seq.Close(); close(closed) }()
	close(release)
	a := <-viewed
	if a.err != nil || a.cp == nil || len(a.evs) != 1 || a.cp.Size <= a.evs[0].Seq {
		t.Fatalf("the view: %+v, %v; want its event covered by the kept checkpoint", a.cp, a.err)
	}
	<-closed
}

// TestHeadsAreKeptInOrder: with views, ordinary appends and timed
// checkpoints racing, BeforePublish is called one at a time with growing
// sizes, and every view's checkpoint is a signed checkpoint of the log
// that covers its event and was kept (or a larger one was) before the
// view was answered.
func TestHeadsAreKeptInOrder(t *testing.T) {
	f := newFixture(t)
	st := openStore(t, f)
	defer st.Close()
	var (
		mu     sync.Mutex
		sizes  []uint64
		inside atomic.Int32
	)
	var kept atomic.Uint64
	seq := f.start(t, sequencer.Config{
		Store:              st,
		CheckpointInterval: time.Millisecond,
		BeforePublish: func(_ context.Context, cp *events.Checkpoint) error {
			if inside.Add(1) != 1 {
				t.Error("BeforePublish was called while another call ran")
			}
			defer inside.Add(-1)
			time.Sleep(200 * time.Microsecond)
			mu.Lock()
			sizes = append(sizes, cp.Size)
			mu.Unlock()
			kept.Store(cp.Size)
			return nil
		},
	})
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				evs, cp, err := seq.AppendPublished(ctx, sequencer.Draft{Type: "view"})
				if err != nil {
					t.Error(err)
					return
				}
				if got := kept.Load(); cp == nil || cp.Size <= evs[0].Seq || got < cp.Size {
					t.Errorf("view at %d answered with checkpoint %+v while the kept head was %d", evs[0].Seq, cp, got)
					return
				}
				parsed, err := events.ParseCheckpoint(cp.Note, origin, f.verifier)
				if err != nil || parsed.Size != cp.Size || parsed.Root != cp.Root {
					t.Errorf("view's checkpoint: %+v, %v", parsed, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				if _, err := seq.Append(ctx, sequencer.Draft{Type: "refused"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	seq.Close()
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(sizes); i++ {
		if sizes[i] <= sizes[i-1] {
			t.Fatalf("BeforePublish took size %d after %d: the head went back or was kept twice", sizes[i], sizes[i-1])
		}
	}
	if len(sizes) == 0 || sizes[len(sizes)-1] != 600 {
		t.Fatalf("the last head kept covers %v, want all 600 events", sizes[len(sizes)-1:])
	}
	// Every root the views were given is the tree's: the audit passes.
	if res := f.audit(t); res.Events != 600 || res.Covered() != nil {
		t.Fatalf("audit: %d events, %v", res.Events, res.Covered())
	}
}

// goesDown is a store that fails every append after the next one, and
// every read of its seal with them.
type goesDown struct {
	events.Store
	armed, down atomic.Bool
}

func (g *goesDown) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	if g.down.Load() {
		return errDown
	}
	err := g.Store.Append(ctx, expected, recs, cp)
	if g.armed.CompareAndSwap(true, false) {
		g.down.Store(true)
	}
	return err
}

func (g *goesDown) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if g.down.Load() {
		return nil, errDown
	}
	return g.Store.Seal(ctx)
}

// TestUncertainAppendAnswersEachRequestForItself: when the store fails an
// append and cannot then be read, only the requests whose events were in
// the append are answered ErrOutcomeUnknown; a request of the same batch
// refused by its precondition gets its refusal, as it would otherwise.
func TestUncertainAppendAnswersEachRequestForItself(t *testing.T) {
	f := newFixture(t)
	st := &goesDown{Store: openStore(t, f)}
	defer st.Close()
	seq := f.start(t, sequencer.Config{
		Store: st, CheckpointInterval: time.Hour,
	})
	defer seq.Close()
	ctx := context.Background()
	no := errors.New("refused at its position")
	for round := 0; ; round++ {
		// The writer is held in the first request's check while the two
		// others queue, so that they share the next batch, whose append
		// fails with the store unreadable.
		hold, held := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			_, err := seq.Append(ctx, sequencer.Draft{Type: "first", Check: func([]*events.Event) error {
				close(held)
				<-hold
				return nil
			}})
			first <- err
		}()
		<-held
		var mu sync.Mutex
		var size []uint64 // the log's size each check saw: one batch if equal
		seen := func() { mu.Lock(); size = append(size, seq.Size()); mu.Unlock() }
		refused, kept := make(chan error, 1), make(chan error, 1)
		go func() {
			_, err := seq.Append(ctx, sequencer.Draft{Type: "refused", Check: func([]*events.Event) error { seen(); return no }})
			refused <- err
		}()
		go func() {
			_, err := seq.Append(ctx, sequencer.Draft{Type: "kept", Check: func([]*events.Event) error { seen(); return nil }})
			kept <- err
		}()
		time.Sleep(100 * time.Millisecond)
		st.armed.Store(true)
		close(hold)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		errRefused, errKept := <-refused, <-kept
		st.down.Store(false)
		mu.Lock()
		together := len(size) == 2 && size[0] == size[1]
		mu.Unlock()
		if !together {
			if round == 4 {
				t.Fatalf("the two requests never shared a batch (%v; %v, %v)", size, errRefused, errKept)
			}
			continue
		}
		if !errors.Is(errRefused, no) || errors.Is(errRefused, sequencer.ErrOutcomeUnknown) {
			t.Errorf("the refused request: %v, want its refusal alone", errRefused)
		}
		if !errors.Is(errKept, sequencer.ErrOutcomeUnknown) {
			t.Errorf("the request whose event was in the append: %v, want ErrOutcomeUnknown", errKept)
		}
		return
	}
}

// landsLate is a store whose armed append fails with its outcome unknown
// and lands later: while the writer re-reads the store, just after the
// first read of its size or seal has its answer, as a write held on the
// way to a store's server would.
type landsLate struct {
	events.Store
	armed atomic.Bool
	mu    sync.Mutex
	held  func() error
}

func (l *landsLate) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	if len(recs) > 0 && l.armed.CompareAndSwap(true, false) {
		l.mu.Lock()
		l.held = func() error { return l.Store.Append(ctx, expected, recs, cp) }
		l.mu.Unlock()
		return fmt.Errorf("%w (%w)", errDown, events.ErrOutcomeUnknown)
	}
	return l.Store.Append(ctx, expected, recs, cp)
}

// land writes the held append, once.
func (l *landsLate) land() error {
	l.mu.Lock()
	held := l.held
	l.held = nil
	l.mu.Unlock()
	if held == nil {
		return nil
	}
	return held()
}

func (l *landsLate) Size(ctx context.Context) (uint64, error) {
	n, err := l.Store.Size(ctx)
	if lerr := l.land(); lerr != nil {
		return 0, lerr
	}
	return n, err
}

func (l *landsLate) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	c, err := l.Store.Seal(ctx)
	if lerr := l.land(); lerr != nil {
		return nil, lerr
	}
	return c, err
}

// TestAppendThatLandsWhileReReadIsFoundOurs: an append whose answer was
// lost and which lands while the writer re-reads the store is found
// stored, as the writer's own; it is never taken for events added by
// someone with write access (the size read before the seal, not after).
func TestAppendThatLandsWhileReReadIsFoundOurs(t *testing.T) {
	f := newFixture(t)
	st := &landsLate{Store: openStore(t, f)}
	defer st.Close()
	var logged bytes.Buffer
	seq := f.start(t, sequencer.Config{
		Store:  st,
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	defer seq.Close()
	ctx := context.Background()
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "before"}); err != nil {
		t.Fatal(err)
	}
	st.armed.Store(true)
	evs, err := seq.Append(ctx, sequencer.Draft{Type: "lands.late"})
	if err != nil || evs[0].Seq != 1 {
		t.Fatalf("append that landed while the store was re-read: %v", err)
	}
	if evs, err = seq.Append(ctx, sequencer.Draft{Type: "after"}); err != nil || evs[0].Seq != 2 {
		t.Fatalf("append after it: %v", err)
	}
	if strings.Contains(logged.String(), "write access") {
		t.Errorf("the writer's own late append was reported as added by someone else:\n%s", logged.String())
	}
	seq.Close()
	if res := f.audit(t); res.Events != 3 {
		t.Fatalf("log has %d events", res.Events)
	}
}

// TestStartFindsAWriteThatLandedAfterItsReplay: the last append of a
// writer that stopped, held on its way to the store (a commit waiting
// for a synchronous standby), lands after the next start's replay read
// the log's end. The start reads it, checked against its seal, instead
// of calling the log truncated; a log truly cut short is still refused
// (TestOpenRefusesATamperedLog).
func TestStartFindsAWriteThatLandedAfterItsReplay(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	ctx := context.Background()
	appendN(t, seq, 5)
	// The held write: a batch of two events and its seal, as the
	// stopped writer built it, kept back until the next start replayed.
	back := &heldBack{Store: st}
	seq.Close()
	cfg := sequencer.Config{Store: back, Origin: origin, Signer: f.signer, Verifier: f.verifier}
	stopping, err := sequencer.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stopping.Append(ctx, sequencer.Draft{Type: "held"}, sequencer.Draft{Type: "held"}); err == nil {
		t.Fatal("the held write was answered stored")
	}
	stopping.Close()
	write := back.write
	if write == nil {
		t.Fatal("nothing held")
	}
	var applied []string
	reader := &landsOnSeal{Store: st, write: write}
	cfg.Store = reader
	cfg.OnEvent = func(ev *events.Event, _ []byte) { applied = append(applied, ev.Type) }
	seq, err = sequencer.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("a start after a write that landed late: %v", err)
	}
	if !reader.landed {
		t.Fatal("the held write never landed during the start")
	}
	if seq.Size() != 7 || len(applied) != 7 || applied[6] != "held" {
		t.Fatalf("started at size %d, applied %v", seq.Size(), applied)
	}
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "after"}); err != nil {
		t.Fatal(err)
	}
	seq.Close()
	st.Close()
	if res := f.audit(t); res.Events != 8 {
		t.Fatalf("log has %d events", res.Events)
	}
}

// heldBack keeps the first append of events back, unwritten, and fails
// it: a write on its way to the store's server when its writer stopped.
type heldBack struct {
	events.Store
	write func() error
}

func (h *heldBack) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	if len(recs) > 0 && h.write == nil {
		h.write = func() error { return h.Store.Append(ctx, expected, recs, cp) }
		return errDown
	}
	return h.Store.Append(ctx, expected, recs, cp)
}

// landsOnSeal lands a held write just before the first read of the
// log's seal: after a start's replay, before its check of the seal.
type landsOnSeal struct {
	events.Store
	write  func() error
	landed bool
}

func (l *landsOnSeal) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if !l.landed {
		l.landed = true
		if err := l.write(); err != nil {
			return nil, err
		}
	}
	return l.Store.Seal(ctx)
}

// TestCheckpointsAreStoredOnTheStoreInterval: a checkpoint of the
// interval is signed, kept as the head and handed on each interval in
// which events were appended, and stored only once a store interval; a
// checkpoint asked for is always stored (the newest published one, if it
// covers the log and was not), and so is the one covering the log when
// the writer stops. With a store interval as short as the checkpoint
// interval, every published checkpoint is stored, as before.
func TestCheckpointsAreStoredOnTheStoreInterval(t *testing.T) {
	for _, tc := range []struct {
		name          string
		storeInterval time.Duration
		everyOne      bool
	}{
		{"an hour", time.Hour, false},
		{"each interval", time.Nanosecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			st := openStore(t, f)
			defer st.Close()
			var mu sync.Mutex
			var kept, published []uint64
			seq := f.start(t, sequencer.Config{
				Store:              st,
				CheckpointInterval: 5 * time.Millisecond, StoreInterval: tc.storeInterval,
				BeforePublish: func(_ context.Context, cp *events.Checkpoint) error {
					mu.Lock()
					kept = append(kept, cp.Size)
					mu.Unlock()
					return nil
				},
				AfterPublish: func(cp *events.Checkpoint) { mu.Lock(); published = append(published, cp.Size); mu.Unlock() },
			})
			defer seq.Close()
			ctx := context.Background()
			stored := func() []uint64 {
				t.Helper()
				cps, err := events.AllCheckpoints(ctx, st)
				if err != nil {
					t.Fatal(err)
				}
				var sizes []uint64
				for _, c := range cps {
					sizes = append(sizes, c.Size)
				}
				return sizes
			}
			// Each event waits for the interval's checkpoint covering it.
			for i := 1; i <= 5; i++ {
				if _, err := seq.Append(ctx, sequencer.Draft{Type: "t"}); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(30 * time.Second)
				for cp := seq.LatestCheckpoint(); cp == nil || cp.Size < uint64(i); cp = seq.LatestCheckpoint() {
					if time.Now().After(deadline) {
						t.Fatalf("no checkpoint published for event %d", i)
					}
					time.Sleep(time.Millisecond)
				}
			}
			mu.Lock()
			if fmt.Sprint(published) != "[1 2 3 4 5]" || fmt.Sprint(kept) != "[1 2 3 4 5]" {
				t.Fatalf("published %v, kept as the head %v; want one for each interval that appended", published, kept)
			}
			mu.Unlock()
			want := "[1]" // the first, then none for an hour
			if tc.everyOne {
				want = "[1 2 3 4 5]"
			}
			if got := fmt.Sprint(stored()); got != want {
				t.Fatalf("stored %s, want %s", got, want)
			}
			// Asked for, the newest published checkpoint is stored as it is.
			cp, err := seq.Checkpoint(ctx)
			if err != nil || cp.Size != 5 {
				t.Fatalf("checkpoint asked for: %v, %v", cp, err)
			}
			if got := stored(); got[len(got)-1] != 5 {
				t.Fatalf("stored %v after a checkpoint was asked for", got)
			}
			// The writer stopping stores the one covering the log.
			if _, err := seq.Append(ctx, sequencer.Draft{Type: "t"}); err != nil {
				t.Fatal(err)
			}
			seq.Close()
			if got := stored(); got[len(got)-1] != 6 {
				t.Fatalf("stored %v once the writer stopped", got)
			}
			if res := f.audit(t); res.Events != 6 {
				t.Fatalf("log has %d events", res.Events)
			}
		})
	}
}

// sealGoesBack shows a log whose last events no read sees (they landed,
// as it seems, after the replay), and whose seal covers them at the
// first read and is gone at the next: a log store altered during the
// start (a seal never goes back).
type sealGoesBack struct {
	hiddenTail
	reads atomic.Int32
}

func (g *sealGoesBack) Size(ctx context.Context) (uint64, error) { return g.visible, nil }

func (g *sealGoesBack) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if g.reads.Add(1) > 1 {
		return nil, nil
	}
	return g.Store.Seal(ctx)
}

// TestStartRefusesASealThatGoesBack: a start whose seal is beyond its
// replay reads the store again; a seal found older or gone then is an
// altered store, refused, never a log accepted at the replay's size.
func TestStartRefusesASealThatGoesBack(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	appendN(t, seq, 7)
	seq.Close()
	defer st.Close()
	g := &sealGoesBack{hiddenTail: hiddenTail{Store: st, visible: 5}}
	_, err := sequencer.Open(context.Background(), sequencer.Config{Store: g, Origin: origin, Signer: f.signer, Verifier: f.verifier})
	if !errors.Is(err, sequencer.ErrLogAltered) || !strings.Contains(err.Error(), "covered 7 events, then, read again during the start, 5") {
		t.Fatalf("a start whose seal went back: %v", err)
	}
}

// TestCheckpointWhoseAnswerWasLostIsFoundStored: a checkpoint asked for
// whose store write succeeded but whose answer was lost is found stored,
// as it is, and answered; storing it again would fail on its size until
// events were appended, and every checkpoint asked for with it.
func TestCheckpointWhoseAnswerWasLostIsFoundStored(t *testing.T) {
	f := newFixture(t)
	st := &flakyStore{Store: openStore(t, f)}
	defer st.Close()
	seq := f.start(t, sequencer.Config{
		Store: st, CheckpointInterval: time.Hour,
	})
	defer seq.Close()
	ctx := context.Background()
	appendN(t, seq, 3)
	st.lostCheckpointAnswer.Store(true)
	cp, err := seq.Checkpoint(ctx)
	if err != nil || cp.Size < 3 {
		t.Fatalf("a checkpoint whose answer was lost: %v, %v", cp, err)
	}
	st.lostCheckpointAnswer.Store(false)
	again, err := seq.Checkpoint(ctx)
	if err != nil || again.Size != cp.Size {
		t.Fatalf("the checkpoint asked for again: %v, %v", again, err)
	}
	cps, err := events.AllCheckpoints(ctx, st)
	if err != nil || len(cps) == 0 || cps[len(cps)-1].Size != cp.Size {
		t.Fatalf("stored %v, %v", cps, err)
	}
}

// hiddenTail hides the log's events from visible on, and its stored
// checkpoints beyond them: from every read, or, with replayOnly, from the
// first read of the events (a start's replay) alone, so that they look
// appended after it.
type hiddenTail struct {
	events.Store
	visible    uint64
	replayOnly bool
	replayed   atomic.Bool
}

func (h *hiddenTail) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	if h.replayed.Swap(true) && h.replayOnly {
		return h.Store.Read(ctx, from, fn)
	}
	return h.Store.Read(ctx, from, func(r events.Record) error {
		if r.Seq >= h.visible {
			return nil
		}
		return fn(r)
	})
}

func (h *hiddenTail) ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error {
	return h.Store.ReadCheckpoints(ctx, from, func(c events.StoredCheckpoint) error {
		if c.Size > h.visible {
			return nil
		}
		return fn(c)
	})
}

// TestStartRefusesEventsBeyondALateSeal: a start that reads the events
// stored since its replay up to the log's seal refuses events beyond
// that seal, which no signature of the log's key covers, though the
// events up to the seal check out.
func TestStartRefusesEventsBeyondALateSeal(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	appendN(t, seq, 7)
	seq.Close()
	defer st.Close()
	forge(t, st, 2, "forged")
	h := &hiddenTail{Store: st, visible: 5, replayOnly: true}
	var applied []string
	_, err := sequencer.Open(context.Background(), sequencer.Config{Store: h, Origin: origin, Signer: f.signer, Verifier: f.verifier,
		OnEvent: func(ev *events.Event, _ []byte) { applied = append(applied, ev.Type) }})
	if err == nil || !strings.Contains(err.Error(), "events 7 to 8 are not sealed by this log's key") {
		t.Fatalf("a start with unsealed events beyond a late seal: %v", err)
	}
	for _, typ := range applied {
		if typ == "forged" {
			t.Fatalf("a forged event was applied: %v", applied)
		}
	}
}

// TestHaltFromWhatAReReadFindsWritesNothing: OnEvent may halt the log on
// what it reads of another writer's events (the vault does on another
// server's start). Whether they are read as an append of ours meets them
// (a conflict) or as the store is re-read after an append whose outcome
// was unknown, the batch that read them is answered with the halt and
// nothing of it is written.
func TestHaltFromWhatAReReadFindsWritesNothing(t *testing.T) {
	for _, broken := range []bool{false, true} {
		t.Run(fmt.Sprintf("after an unknown outcome %v", broken), func(t *testing.T) {
			f := newFixture(t)
			st := &flakyStore{Store: openStore(t, f)}
			defer st.Close()
			var seq *sequencer.Sequencer
			halt := errors.New("another writer started")
			seq = f.start(t, sequencer.Config{
				Store: st, CheckpointInterval: time.Hour,
				OnEvent: func(ev *events.Event, _ []byte) {
					if ev.Type == "other.started" {
						seq.Halt(halt)
					}
				},
			})
			defer seq.Close()
			ctx := context.Background()
			if _, err := seq.Append(ctx, sequencer.Draft{Type: "ours"}); err != nil {
				t.Fatal(err)
			}
			if broken {
				st.down.Store(true)
				if _, err := seq.Append(ctx, sequencer.Draft{Type: "lost"}); !errors.Is(err, sequencer.ErrOutcomeUnknown) {
					t.Fatalf("append while the store is down: %v", err)
				}
				st.down.Store(false)
			}
			// Another writer, with the log's key, appends to the store.
			other := f.start(t, sequencer.Config{Store: openStore(t, f)})
			if _, err := other.Append(ctx, sequencer.Draft{Type: "other.started"}); err != nil {
				t.Fatal(err)
			}
			other.Close()
			size, err := st.Size(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := seq.Append(ctx, sequencer.Draft{Type: "after"}); !errors.Is(err, sequencer.ErrHalted) || !errors.Is(err, halt) {
				t.Fatalf("an append that read the other writer's start: %v, want the halt", err)
			}
			if n, err := st.Size(ctx); err != nil || n != size {
				t.Fatalf("the store holds %d events, %v; want %d: nothing written after the halt", n, err, size)
			}
		})
	}
}
