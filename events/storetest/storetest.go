// Package storetest is the conformance suite every custody-log backend must
// pass. A backend's test calls Run with a function that opens a fresh,
// empty store and can reopen the same one.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/custos-vault/custos/events"
)

// Opener opens a fresh, empty store for one test. reopen closes nothing:
// it opens the same underlying log again, as a restarted process would.
type Opener func(t *testing.T) (s events.Store, reopen func() events.Store)

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open) })
	t.Run("AppendAndRead", func(t *testing.T) { testAppendAndRead(t, open) })
	t.Run("ReadFromAnyPosition", func(t *testing.T) { testReadFrom(t, open) })
	t.Run("ReadTransient", func(t *testing.T) { testReadTransient(t, open) })
	t.Run("ReadBytes", func(t *testing.T) { testReadBytes(t, open) })
	t.Run("ConflictOnWrongPosition", func(t *testing.T) { testConflict(t, open) })
	t.Run("IdempotentRetry", func(t *testing.T) { testRetry(t, open) })
	t.Run("DurableAcrossReopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("CloseBesideAppends", func(t *testing.T) { testCloseBesideAppends(t, open) })
	t.Run("ConcurrentWritersNeverFork", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("ReadByCaseAndItem", func(t *testing.T) { testByCaseItem(t, open) })
	t.Run("ReadAcrossPages", func(t *testing.T) { testReadAcrossPages(t, open) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, open) })
	t.Run("ReadCheckpointsAcrossPages", func(t *testing.T) { testReadCheckpoints(t, open) })
	t.Run("SealWithItsBatch", func(t *testing.T) { testSeal(t, open) })
}

// chain builds n records continuing a log of size from, with prev hashes
// that really chain, so the records are realistic event bytes.
type chain struct {
	prev events.Hash
	size uint64
}

func (c *chain) next(t testing.TB, caseID, itemID string) events.Record {
	ev := &events.Event{
		V: events.Version, Seq: c.size, ID: events.NewID(), Type: "test.event",
		Time: "2026-01-02T03:04:05.000000006Z", Actor: events.Actor{Person: "alice", Role: "investigator", Auth: "token"},
		Case: caseID, Item: itemID, Data: []byte(fmt.Sprintf(`{"n":%d}`, c.size)), Prev: c.prev.String(),
	}
	b, err := events.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	c.prev = events.LeafHash(b)
	c.size++
	return events.Record{Seq: ev.Seq, ID: ev.ID, Case: caseID, Item: itemID, Bytes: b}
}

func (c *chain) batch(t testing.TB, n int) []events.Record {
	out := make([]events.Record, n)
	for i := range out {
		out[i] = c.next(t, "", "")
	}
	return out
}

func readAll(t *testing.T, s events.Store, from uint64) []events.Record {
	t.Helper()
	var out []events.Record
	if err := s.Read(context.Background(), from, func(r events.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustAppend(t *testing.T, s events.Store, expected uint64, recs []events.Record) {
	t.Helper()
	if err := s.Append(context.Background(), expected, recs, nil); err != nil {
		t.Fatalf("append at %d: %v", expected, err)
	}
}

func sameRecords(t *testing.T, got, want []events.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.ID != w.ID || g.Case != w.Case || g.Item != w.Item || !bytes.Equal(g.Bytes, w.Bytes) {
			t.Fatalf("record %d differs:\n got %d %s %q\nwant %d %s %q", i, g.Seq, g.ID, g.Bytes, w.Seq, w.ID, w.Bytes)
		}
	}
}

func size(t *testing.T, s events.Store) uint64 {
	t.Helper()
	n, err := s.Size(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testEmpty(t *testing.T, open Opener) {
	s, _ := open(t)
	if n := size(t, s); n != 0 {
		t.Fatalf("new store has size %d", n)
	}
	if got := readAll(t, s, 0); len(got) != 0 {
		t.Fatalf("new store read %d records", len(got))
	}
	cps, err := events.AllCheckpoints(context.Background(), s)
	if err != nil || len(cps) != 0 {
		t.Fatalf("new store checkpoints: %v, %v", cps, err)
	}
}

func testAppendAndRead(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	var all []events.Record
	for _, n := range []int{1, 5, 64} {
		recs := c.batch(t, n)
		mustAppend(t, s, uint64(len(all)), recs)
		all = append(all, recs...)
	}
	if n := size(t, s); n != uint64(len(all)) {
		t.Fatalf("size %d, want %d", n, len(all))
	}
	sameRecords(t, readAll(t, s, 0), all)
}

func testReadFrom(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	all := c.batch(t, 20)
	mustAppend(t, s, 0, all)
	// Positions past the log's end read nothing, however large (the API
	// takes any unsigned 64-bit position: one past int64's range must not
	// wrap to a negative one and read the whole log).
	for _, from := range []uint64{0, 1, 7, 19, 20, 100, 1 << 63, 1<<64 - 1} {
		want := []events.Record{}
		if from < 20 {
			want = all[from:]
		}
		sameRecords(t, readAll(t, s, from), want)
	}
	// A callback error stops the read and is returned as is.
	stop := errors.New("stop")
	n := 0
	err := s.Read(context.Background(), 0, func(events.Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("read did not stop on callback error: n=%d err=%v", n, err)
	}
}

// testReadTransient: events.ReadTransient (the store's own, if it has
// one) gives the records Read gives, from any position, each valid while
// its callback runs; a callback error stops it.
func testReadTransient(t *testing.T, open Opener) {
	testLentRead(t, open, true, events.ReadTransient)
}

// testReadBytes: events.ReadBytes (the store's own, if it has one) gives
// the positions and bytes Read gives, likewise.
func testReadBytes(t *testing.T, open Opener) {
	testLentRead(t, open, false, func(ctx context.Context, s events.Store, from uint64, fn func(events.Record) error) error {
		return events.ReadBytes(ctx, s, from, func(seq uint64, b []byte) error { return fn(events.Record{Seq: seq, Bytes: b}) })
	})
}

// testLentRead checks a read that lends each record's bytes for the
// callback only: from any position it gives the records Read gives (all
// their fields if whole, else positions and bytes), and a callback error
// stops it.
func testLentRead(t *testing.T, open Opener, whole bool, read func(context.Context, events.Store, uint64, func(events.Record) error) error) {
	s, _ := open(t)
	var c chain
	all := c.batch(t, 300)
	mustAppend(t, s, 0, all)
	for _, from := range []uint64{0, 1, 150, 299, 300, 1 << 63, 1<<64 - 1} {
		var got []events.Record
		err := read(context.Background(), s, from, func(r events.Record) error {
			r.Bytes = bytes.Clone(r.Bytes) // valid only during the call
			got = append(got, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []events.Record{}
		if from < 300 {
			want = all[from:]
		}
		if whole {
			sameRecords(t, got, want)
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("from %d: %d events, want %d", from, len(got), len(want))
		}
		for i := range got {
			if got[i].Seq != want[i].Seq || !bytes.Equal(got[i].Bytes, want[i].Bytes) {
				t.Fatalf("from %d: event %d differs", from, want[i].Seq)
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	err := read(context.Background(), s, 0, func(events.Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("the read did not stop on the callback's error: n=%d err=%v", n, err)
	}
}

func testConflict(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	first := c.batch(t, 3)
	mustAppend(t, s, 0, first)
	// A writer that believes the log is shorter, or longer, is refused and
	// writes nothing.
	var other chain
	stale := other.batch(t, 2)
	if err := s.Append(context.Background(), 0, stale, nil); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("append at stale position: got %v, want ErrConflict", err)
	}
	ahead := events.Record{Seq: 5, ID: events.NewID(), Bytes: []byte(`{}`)}
	if err := s.Append(context.Background(), 5, []events.Record{ahead}, nil); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("append beyond the end: got %v, want ErrConflict", err)
	}
	// Same ids at the right positions but other bytes is not a retry.
	forged := first[1:]
	forged = append([]events.Record(nil), forged...)
	forged[0].Bytes = append([]byte(nil), forged[0].Bytes...)
	forged[0].Bytes[len(forged[0].Bytes)-2] ^= 1
	if err := s.Append(context.Background(), 1, forged, &events.StoredCheckpoint{Size: 3, Note: []byte("x")}); !errors.Is(err, events.ErrConflict) {
		t.Fatalf("append of altered bytes at stored positions: got %v, want ErrConflict", err)
	}
	sameRecords(t, readAll(t, s, 0), first)
	if cps, _ := events.AllCheckpoints(context.Background(), s); len(cps) != 0 {
		t.Fatalf("a refused append stored a checkpoint")
	}
}

func testRetry(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	a := c.batch(t, 4)
	mustAppend(t, s, 0, a)
	// The answer to this append was "lost"; the writer retries it as is.
	if err := s.Append(context.Background(), 0, a, nil); err != nil {
		t.Fatalf("retry of a stored append: %v", err)
	}
	if err := s.Append(context.Background(), 2, a[2:], nil); err != nil {
		t.Fatalf("retry of the stored tail: %v", err)
	}
	if n := size(t, s); n != 4 {
		t.Fatalf("retries duplicated events: size %d", n)
	}
	sameRecords(t, readAll(t, s, 0), a)
}

func testReopen(t *testing.T, open Opener) {
	s, reopen := open(t)
	var c chain
	a := c.batch(t, 10)
	mustAppend(t, s, 0, a)
	cp := events.StoredCheckpoint{Size: 10, Note: []byte("checkpoint note\n")}
	b := c.batch(t, 1)
	if err := s.Append(context.Background(), 10, b, &cp); err != nil {
		t.Fatal(err)
	}
	// Closed by two callers at once (a shutdown beside a failed start's
	// clean-up), then again: each waits for the close and none fails.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Close() })
	}
	wg.Wait()
	if err := errors.Join(errors.Join(errs...), s.Close()); err != nil {
		t.Fatalf("closing twice at once, then again: %v", err)
	}
	// A read after Close is refused, by each way the store reads.
	none := func(events.Record) error { return nil }
	if err := s.Read(context.Background(), 0, none); err == nil {
		t.Fatal("a read after Close succeeded")
	}
	if tr, ok := s.(events.TransientReader); ok {
		if err := tr.ReadTransient(context.Background(), 0, none); err == nil {
			t.Fatal("a transient read after Close succeeded")
		}
	}
	if br, ok := s.(events.BytesReader); ok {
		if err := br.ReadBytes(context.Background(), 0, func(uint64, []byte) error { return nil }); err == nil {
			t.Fatal("a read of the bytes after Close succeeded")
		}
	}
	s2 := reopen()
	defer s2.Close()
	sameRecords(t, readAll(t, s2, 0), append(a, b...))
	cps, err := events.AllCheckpoints(context.Background(), s2)
	if err != nil || len(cps) != 1 || cps[0].Size != 10 || !bytes.Equal(cps[0].Note, cp.Note) {
		t.Fatalf("checkpoint after reopen: %v %v", cps, err)
	}
}

// testCloseBesideAppends closes the store while appends of ever new
// sizes are under way (a shutdown that does not wait for the writer):
// each append succeeds or fails, Close succeeds, and nothing of the
// store is touched by both at once (go test -race).
func testCloseBesideAppends(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	var batches [][]events.Record
	for n := 1; n <= 40; n++ {
		batches = append(batches, c.batch(t, n))
	}
	started := make(chan struct{})
	begin := sync.OnceFunc(func() { close(started) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer begin()
		size := uint64(0)
		for i, b := range batches {
			if i == 3 {
				begin()
			}
			if err := s.Append(context.Background(), size, b, nil); err != nil {
				return
			}
			size += uint64(len(b))
		}
	}()
	<-started
	if err := s.Close(); err != nil {
		t.Fatalf("Close beside appends: %v", err)
	}
	<-done
}

func testConcurrent(t *testing.T, open Opener) {
	s, _ := open(t)
	// Writers race for each position with different events; exactly one
	// wins each position and the rest get ErrConflict.
	const writers, rounds = 8, 25
	var mu sync.Mutex
	var chains [writers]chain
	wins := 0
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				n, err := s.Size(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				chains[w].size = n
				rec := chains[w].next(t, "", "")
				mu.Unlock()
				err = s.Append(context.Background(), n, []events.Record{rec}, nil)
				switch {
				case err == nil:
					mu.Lock()
					wins++
					mu.Unlock()
				case errors.Is(err, events.ErrConflict):
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := readAll(t, s, 0)
	if len(got) != wins {
		t.Fatalf("%d appends succeeded but the log has %d events", wins, len(got))
	}
	ids := map[string]bool{}
	for i, r := range got {
		if r.Seq != uint64(i) {
			t.Fatalf("position %d holds seq %d: the order has a gap or a fork", i, r.Seq)
		}
		if ids[r.ID] {
			t.Fatalf("event id %s stored twice", r.ID)
		}
		ids[r.ID] = true
	}
}

func testByCaseItem(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	var recs []events.Record
	for i := 0; i < 30; i++ {
		caseID := fmt.Sprintf("case-%d", i%3)
		item := ""
		if i%2 == 0 {
			item = fmt.Sprintf("item-%d", i%4)
		}
		if i%7 == 6 {
			caseID, item = "", "" // an event of the vault's own, naming neither
		}
		recs = append(recs, c.next(t, caseID, item))
	}
	mustAppend(t, s, 0, recs)
	for _, caseID := range []string{"case-0", "case-2", "nope", ""} {
		var want, got []events.Record
		for _, r := range recs {
			if r.Case == caseID && caseID != "" {
				want = append(want, r)
			}
		}
		if err := s.ReadCase(context.Background(), caseID, func(r events.Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		sameRecords(t, got, want)
		// The case's own events: those of its records that name no item,
		// by the store's own reader if it has one.
		var own, gotOwn []events.Record
		for _, r := range want {
			if r.Item == "" {
				own = append(own, r)
			}
		}
		if caseID == "case-0" && (len(own) == 0 || len(own) == len(want)) {
			t.Fatalf("the test's log should give case-0 events with and without an item")
		}
		if err := events.ReadCaseOwn(context.Background(), s, caseID, func(r events.Record) error { gotOwn = append(gotOwn, r); return nil }); err != nil {
			t.Fatal(err)
		}
		sameRecords(t, gotOwn, own)
	}
	for _, item := range []string{"item-0", "item-2", "item-1", ""} {
		var want, got []events.Record
		for _, r := range recs {
			if r.Item == item && item != "" {
				want = append(want, r)
			}
		}
		if err := s.ReadItem(context.Background(), item, func(r events.Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		sameRecords(t, got, want)
	}
}

// testReadAcrossPages reads a log longer than the pages a backend reads
// in (PostgreSQL: 16 rows, then 128, 1,024 and 2,048), from positions on
// and beside the pages' edges, whole and by case: no event is skipped or
// given twice where one page ends and the next begins.
func testReadAcrossPages(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	var recs []events.Record
	for i := 0; i < 3300; i++ {
		recs = append(recs, c.next(t, fmt.Sprintf("case-%d", i%2), ""))
	}
	for i := 0; i < len(recs); i += 250 {
		mustAppend(t, s, uint64(i), recs[i:min(i+250, len(recs))])
	}
	for _, from := range []uint64{0, 15, 16, 17, 144, 1168, 3216, 3299} {
		sameRecords(t, readAll(t, s, from), recs[from:])
	}
	var want, got []events.Record
	for _, r := range recs {
		if r.Case == "case-1" {
			want = append(want, r)
		}
	}
	if err := s.ReadCase(context.Background(), "case-1", func(r events.Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	sameRecords(t, got, want)
	// The case's own events, across the same pages: every other event of
	// case-1 names an item.
	for i := 3300; i < 3700; i++ {
		item := ""
		if i%4 == 1 {
			item = fmt.Sprintf("item-%d", i)
		}
		recs = append(recs, c.next(t, fmt.Sprintf("case-%d", i%2), item))
	}
	mustAppend(t, s, 3300, recs[3300:])
	var own, gotOwn []events.Record
	for _, r := range recs {
		if r.Case == "case-1" && r.Item == "" {
			own = append(own, r)
		}
	}
	if err := events.ReadCaseOwn(context.Background(), s, "case-1", func(r events.Record) error { gotOwn = append(gotOwn, r); return nil }); err != nil {
		t.Fatal(err)
	}
	sameRecords(t, gotOwn, own)
}

func testCheckpoints(t *testing.T, open Opener) {
	s, _ := open(t)
	var c chain
	var want []events.StoredCheckpoint
	for i := 0; i < 5; i++ {
		recs := c.batch(t, 3)
		cp := &events.StoredCheckpoint{Size: c.size, Note: []byte(fmt.Sprintf("note %d\n", i))}
		if err := s.Append(context.Background(), c.size-3, recs, cp); err != nil {
			t.Fatal(err)
		}
		want = append(want, *cp)
	}
	// A checkpoint may also be appended alone.
	cp := &events.StoredCheckpoint{Size: c.size, Note: []byte("again\n")}
	if err := s.Append(context.Background(), c.size, nil, cp); err == nil {
		t.Fatal("a second checkpoint for the same size was accepted")
	}
	got, err := events.AllCheckpoints(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d checkpoints, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Size != want[i].Size || !bytes.Equal(got[i].Note, want[i].Note) {
			t.Fatalf("checkpoint %d: got %d %q want %d %q", i, got[i].Size, got[i].Note, want[i].Size, want[i].Note)
		}
	}
	// From a size: those of that size and more.
	for _, from := range []uint64{0, want[0].Size, want[0].Size + 1, want[len(want)-1].Size, want[len(want)-1].Size + 1} {
		sameCheckpointsFrom(t, s, want, from)
	}
}

// sameCheckpointsFrom checks that s.ReadCheckpoints from from gives the
// checkpoints of want of that size and more, in order.
func sameCheckpointsFrom(t *testing.T, s events.Store, want []events.StoredCheckpoint, from uint64) {
	t.Helper()
	var got []events.StoredCheckpoint
	if err := s.ReadCheckpoints(context.Background(), from, func(c events.StoredCheckpoint) error {
		got = append(got, events.StoredCheckpoint{Size: c.Size, Note: bytes.Clone(c.Note), Seal: c.Seal})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var exp []events.StoredCheckpoint
	for _, c := range want {
		if c.Size >= from {
			exp = append(exp, c)
		}
	}
	if len(got) != len(exp) {
		t.Fatalf("from %d: %d checkpoints, want %d", from, len(got), len(exp))
	}
	for i := range exp {
		if got[i].Size != exp[i].Size || !bytes.Equal(got[i].Note, exp[i].Note) || got[i].Seal {
			t.Fatalf("from %d, checkpoint %d: got %d %q, want %d %q", from, i, got[i].Size, got[i].Note, exp[i].Size, exp[i].Note)
		}
	}
}

// testReadCheckpoints: ReadCheckpoints gives every checkpoint of size at
// least from, in order, across the pages a store reads them in (2,100
// checkpoints: three pages of the SQLite and PostgreSQL stores' 1,024);
// an error of fn ends the read and is returned.
func testReadCheckpoints(t *testing.T, open Opener) {
	s, _ := open(t)
	ctx := context.Background()
	var c chain
	var want []events.StoredCheckpoint
	for i := 0; i < 2100; i++ {
		recs := c.batch(t, 1)
		cp := &events.StoredCheckpoint{Size: c.size, Note: []byte(fmt.Sprintf("note %d\n", i))}
		if err := s.Append(ctx, c.size-1, recs, cp); err != nil {
			t.Fatal(err)
		}
		want = append(want, *cp)
	}
	for _, from := range []uint64{0, 1, 2, 1024, 1025, 1026, 2048, 2049, 2100, 2101, 1 << 40} {
		sameCheckpointsFrom(t, s, want, from)
	}
	stop := errors.New("enough")
	n := 0
	err := s.ReadCheckpoints(ctx, 0, func(events.StoredCheckpoint) error {
		if n++; n == 1500 {
			return stop
		}
		return nil
	})
	if err != stop || n != 1500 {
		t.Fatalf("fn's error after %d checkpoints: ReadCheckpoints returned %v after %d", 1500, err, n)
	}
}

// testSeal: the batch seal is stored with its batch, atomically; only the
// newest is kept; it is never listed as a published checkpoint; and a
// refused append stores neither its events nor its seal.
func testSeal(t *testing.T, open Opener) {
	ctx := context.Background()
	s, reopen := open(t)
	if got, err := s.Seal(ctx); err != nil || got != nil {
		t.Fatalf("seal of an empty log: %v %v", got, err)
	}
	var c chain
	for i := 0; i < 3; i++ {
		recs := c.batch(t, 4)
		seal := &events.StoredCheckpoint{Size: c.size, Note: []byte(fmt.Sprintf("seal %d\n", i)), Seal: true}
		if err := s.Append(ctx, c.size-4, recs, seal); err != nil {
			t.Fatal(err)
		}
		got, err := s.Seal(ctx)
		if err != nil || got == nil || got.Size != seal.Size || !bytes.Equal(got.Note, seal.Note) || !got.Seal {
			t.Fatalf("seal after batch %d: %+v %v", i, got, err)
		}
	}
	if cps, err := events.AllCheckpoints(ctx, s); err != nil || len(cps) != 0 {
		t.Fatalf("the seal is listed among the published checkpoints: %d %v", len(cps), err)
	}
	// A conflicting append (a stale position) stores nothing.
	stale := chain{size: c.size - 4, prev: c.prev}
	recs := stale.batch(t, 2)
	err := s.Append(ctx, c.size-4, recs, &events.StoredCheckpoint{Size: c.size - 2, Note: []byte("stale seal\n"), Seal: true})
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("stale append: %v", err)
	}
	if got, _ := s.Seal(ctx); got == nil || got.Size != c.size || !bytes.Equal(got.Note, []byte("seal 2\n")) {
		t.Fatalf("a refused append changed the seal: %+v", got)
	}
	if reopen != nil {
		s = reopen()
		if got, err := s.Seal(ctx); err != nil || got == nil || got.Size != c.size {
			t.Fatalf("seal after reopening: %+v %v", got, err)
		}
	}
}
