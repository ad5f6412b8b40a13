package esdb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/esdb"
	"github.com/custos-vault/custos/events/migrate"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"golang.org/x/mod/sumdb/note"
)

// custody makes n chained custody records continuing a log of size from.
type custody struct {
	prev events.Hash
	size uint64
}

func (c *custody) next(t testing.TB, n int, data string) []events.Record {
	t.Helper()
	out := make([]events.Record, n)
	for i := range out {
		ev := &events.Event{
			V: events.Version, Seq: c.size, ID: events.NewID(), Type: "test.event",
			Time: "2026-01-02T03:04:05.000000006Z", Actor: events.Actor{Person: "alice", Role: "investigator", Auth: "token"},
			Case: "case-1", Data: []byte(fmt.Sprintf(`{"n":%d,"d":%q}`, c.size, data)), Prev: c.prev.String(),
		}
		b, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		c.prev = events.LeafHash(b)
		out[i] = events.Record{Seq: ev.Seq, ID: ev.ID, Case: ev.Case, Bytes: b}
		c.size++
	}
	return out
}

func readBack(t *testing.T, s events.Store) []events.Record {
	t.Helper()
	var out []events.Record
	if err := s.Read(context.Background(), 0, func(r events.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameLog(t *testing.T, got, want []events.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("the log has %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].ID != want[i].ID || !bytes.Equal(got[i].Bytes, want[i].Bytes) {
			t.Fatalf("event %d is %d %s, want %d %s", i, got[i].Seq, got[i].ID, want[i].Seq, want[i].ID)
		}
	}
}

func fired(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	default:
		t.Fatalf("the stand-in's fault (%s) never fired", what)
	}
}

// (a) The connection is cut after the server has stored an append and
// before its answer reaches the client: the backend reports an error, the
// retry of the same append succeeds without storing anything twice, and
// the log read back (by this store and a fresh one) holds every event
// once, with the batch's seal. The same for the checkpoint stream, and
// for a cut before the write (the retry then stores the events).
func TestAnswerLostAfterTheAppendIsWritten(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	s := open(t, srv.url(), name)
	defer s.Close()
	var c custody
	a := c.next(t, 3, "")
	if err := s.Append(ctx, 0, a, nil); err != nil {
		t.Fatal(err)
	}

	// Events, with their seal.
	b := c.next(t, 2, "")
	seal := &events.StoredCheckpoint{Size: 5, Note: []byte("seal 5\n"), Seal: true}
	done := srv.inject(&fault{kind: faultDropAfterWrite, stream: name})
	err := s.Append(ctx, 3, b, seal)
	fired(t, done, "drop after write")
	if err == nil || errors.Is(err, events.ErrConflict) {
		t.Fatalf("append whose answer was lost: got %v, want a connection error", err)
	}
	// The backend cannot tell whether a write it sent was applied: it
	// says so, and the sequencer reads the log before concluding
	// anything (a write applied late is never taken for one not stored).
	if !errors.Is(err, events.ErrOutcomeUnknown) {
		t.Fatalf("append whose answer was lost: %v, want events.ErrOutcomeUnknown", err)
	}
	t.Logf("append whose answer was lost: %v", err)
	if n := len(srv.events(name)); n != 5 {
		t.Fatalf("the server holds %d events, want 5 (the append was written)", n)
	}
	if err := s.Append(ctx, 3, b, seal); err != nil {
		t.Fatalf("retry of the append whose answer was lost: %v", err)
	}
	if n := len(srv.events(name)); n != 5 {
		t.Fatalf("the retry stored events again: the server holds %d", n)
	}
	want := append(append([]events.Record(nil), a...), b...)
	sameLog(t, readBack(t, s), want)
	if got, err := s.Seal(ctx); err != nil || got == nil || got.Size != 5 || !bytes.Equal(got.Note, seal.Note) {
		t.Fatalf("seal after the retry: %+v %v", got, err)
	}

	// A published checkpoint whose answer is lost.
	d := c.next(t, 1, "")
	cp := &events.StoredCheckpoint{Size: 6, Note: []byte("checkpoint 6\n")}
	done = srv.inject(&fault{kind: faultDropAfterWrite, stream: name + "-checkpoints"})
	err = s.Append(ctx, 5, d, cp)
	fired(t, done, "drop after the checkpoint write")
	if !errors.Is(err, esdb.ErrCheckpointNotStored) {
		t.Fatalf("checkpoint whose answer was lost: got %v, want ErrCheckpointNotStored", err)
	}
	if err := s.Append(ctx, 5, d, cp); err != nil {
		t.Fatalf("retry of the append whose checkpoint answer was lost: %v", err)
	}
	want = append(want, d...)

	// Cut before the write: nothing stored, the retry stores it once.
	e := c.next(t, 2, "")
	done = srv.inject(&fault{kind: faultDropBeforeWrite, stream: name})
	if err := s.Append(ctx, 6, e, nil); err == nil || errors.Is(err, events.ErrConflict) {
		t.Fatalf("append cut before the write: got %v, want a connection error", err)
	}
	fired(t, done, "drop before write")
	if n := len(srv.events(name)); n != 6 {
		t.Fatalf("the server holds %d events, want 6 (the append was not written)", n)
	}
	if err := s.Append(ctx, 6, e, nil); err != nil {
		t.Fatalf("retry of the append cut before the write: %v", err)
	}
	want = append(want, e...)

	s2 := open(t, srv.url(), name)
	defer s2.Close()
	sameLog(t, readBack(t, s2), want)
	cps, err := events.AllCheckpoints(ctx, s2)
	if err != nil || len(cps) != 1 || cps[0].Size != 6 || !bytes.Equal(cps[0].Note, cp.Note) {
		t.Fatalf("checkpoints after the retries: %+v %v", cps, err)
	}
}

// (a), as the vault meets it: the sequencer's append whose answer is
// lost is found stored when it reads the log back, and is applied once;
// the log then continues and verifies.
func TestSequencerAnswerLostAgainstStandIn(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	signer, verifier := testKeys(t)
	st := open(t, srv.url(), name)
	defer st.Close()
	var mu sync.Mutex
	var applied []uint64
	seq, err := sequencer.Open(ctx, sequencer.Config{
		Store: st, Origin: origin, Signer: signer, Verifier: verifier, CheckpointInterval: time.Hour,
		OnEvent: func(ev *events.Event, _ []byte) { mu.Lock(); applied = append(applied, ev.Seq); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "first"}); err != nil {
		t.Fatal(err)
	}
	done := srv.inject(&fault{kind: faultDropAfterWrite, stream: name})
	evs, err := seq.Append(ctx, sequencer.Draft{Type: "answer.lost"})
	fired(t, done, "drop after write")
	if err != nil || len(evs) != 1 || evs[0].Seq != 1 {
		t.Fatalf("append whose answer was lost: %v %v", evs, err)
	}
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "after"}); err != nil {
		t.Fatal(err)
	}
	if err := seq.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if fmt.Sprint(applied) != "[0 1 2]" {
		t.Fatalf("applied %v, want each event once, in order", applied)
	}
	mu.Unlock()
	res, err := audit(t, st, verifier)
	if err != nil || res.Events != 3 {
		t.Fatalf("audit: %+v %v", res, err)
	}
}

// (b) Another writer appends between the backend's look at the log's end
// and its append: the server answers WrongExpectedVersion, which the
// backend reports as events.ErrConflict, storing nothing of its batch;
// the other writer's events are the log, and the loser can continue after
// them.
func TestConcurrentWriterIsAConflict(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	mine, theirs := open(t, srv.url(), name), open(t, srv.url(), name)
	defer mine.Close()
	defer theirs.Close()
	var c custody
	a := c.next(t, 2, "")
	if err := mine.Append(ctx, 0, a, nil); err != nil {
		t.Fatal(err)
	}
	other := c
	ours, their := c.next(t, 3, "ours"), other.next(t, 1, "theirs")
	var theirErr error
	done := srv.inject(&fault{kind: faultBeforeDecide, stream: name, fn: func() {
		theirErr = theirs.Append(ctx, 2, their, nil)
	}})
	err := mine.Append(ctx, 2, ours, &events.StoredCheckpoint{Size: 5, Note: []byte("seal\n"), Seal: true})
	fired(t, done, "concurrent write")
	if theirErr != nil {
		t.Fatalf("the other writer: %v", theirErr)
	}
	if !errors.Is(err, events.ErrConflict) {
		t.Fatalf("append that lost the race: got %v, want ErrConflict", err)
	}
	t.Logf("append that lost the race: %v", err)
	want := append(append([]events.Record(nil), a...), their...)
	sameLog(t, readBack(t, mine), want)
	if seal, err := mine.Seal(ctx); err != nil || seal != nil {
		t.Fatalf("the losing batch's seal is stored: %+v %v", seal, err)
	}
	next := other.next(t, 1, "")
	if err := mine.Append(ctx, 3, next, nil); err != nil {
		t.Fatalf("continuing after the winner: %v", err)
	}
	sameLog(t, readBack(t, theirs), append(want, next...))
}

// (c) The connection is cut in the middle of a read: the read fails with
// an error, after handing over only what arrived (a prefix of the log, in
// order), never ending as if the log were shorter;
// the next read, on a new connection, sees the whole log.
func TestConnectionLostMidRead(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	s := open(t, srv.url(), name)
	defer s.Close()
	var c custody
	all := c.next(t, 50, "")
	if err := s.Append(ctx, 0, all, nil); err != nil {
		t.Fatal(err)
	}
	for _, read := range []struct {
		what string
		fn   func(func(events.Record) error) error
	}{
		{"Read", func(fn func(events.Record) error) error { return s.Read(ctx, 0, fn) }},
		{"ReadCase", func(fn func(events.Record) error) error { return s.ReadCase(ctx, "case-1", fn) }},
	} {
		done := srv.inject(&fault{kind: faultDropMidRead, stream: name, n: 20})
		var got []events.Record
		err := read.fn(func(r events.Record) error { got = append(got, r); return nil })
		fired(t, done, "drop mid-read")
		if err == nil {
			t.Fatalf("%s cut after 20 of 50 events returned no error (%d events): a shorter log", read.what, len(got))
		}
		if len(got) > 20 {
			t.Fatalf("%s handed over %d events, but only 20 were sent before the cut", read.what, len(got))
		}
		sameLog(t, got, all[:len(got)])
		t.Logf("%s cut mid-way, after %d events: %v", read.what, len(got), err)
		sameLog(t, readBack(t, s), all)
	}
	if n, err := s.Size(ctx); err != nil || n != 50 {
		t.Fatalf("size after the cuts: %d %v", n, err)
	}
}

// A read spanning several of the backend's pages (4096 events each) is
// whole and in order, at and around the page boundary.
func TestReadAcrossPagesAgainstStandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 4097 events")
	}
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	s := open(t, srv.url(), name)
	defer s.Close()
	var c custody
	var all []events.Record
	for len(all) < 4097 {
		n := min(500, 4097-len(all))
		recs := c.next(t, n, "")
		if err := s.Append(ctx, uint64(len(all)), recs, nil); err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	sameLog(t, readBack(t, s), all)
	for _, from := range []uint64{4095, 4096, 4097} {
		var got []events.Record
		if err := s.Read(ctx, from, func(r events.Record) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		sameLog(t, got, all[from:])
	}
}

// The server goes away for longer than the client's rediscovery (a
// restart, a failover): calls while it is away fail with an error, and
// once it is back the same Store works again, without restarting the
// vault. The client library closes itself for good when it loses its
// connection and then fails to find the server within its discovery
// attempts; the Store replaces it.
func TestServerRestartAgainstStandIn(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	s := open(t, srv.url(), name)
	defer s.Close()
	var c custody
	a := c.next(t, 3, "")
	if err := s.Append(ctx, 0, a, nil); err != nil {
		t.Fatal(err)
	}
	// The connection is lost during a read (so the client learns of it
	// whatever gRPC's timing), then the server stops.
	done := srv.inject(&fault{kind: faultDropMidRead, stream: name, n: 1})
	if err := s.Read(ctx, 0, func(events.Record) error { return nil }); err == nil {
		t.Fatal("read cut mid-way returned no error")
	}
	fired(t, done, "drop mid-read")
	srv.stop()
	// The next call looks for the server, gives up after the client's
	// discovery attempts (about a second), and fails.
	b := c.next(t, 1, "")
	if err := s.Append(ctx, 3, b, nil); err == nil || errors.Is(err, events.ErrConflict) {
		t.Fatalf("append while the server is down: got %v, want a connection error", err)
	} else {
		t.Logf("append while the server is down: %v", err)
	}
	srv.start()
	if err := s.Append(ctx, 3, b, nil); err != nil {
		t.Fatalf("append once the server is back: %v", err)
	}
	sameLog(t, readBack(t, s), append(a, b...))
	// A closed Store stays closed.
	s.Close()
	if _, err := s.Size(ctx); err == nil {
		t.Fatal("a closed Store still reads")
	}
}

// A burst of requests that the sequencer gathers into one batch larger
// than the server's MaxAppendSize (1 MiB by default): every request is
// still appended, in batches the server accepts, and the log verifies.
// A single request larger than the limit is refused alone.
func TestSequencerBatchWithinMaxAppendSize(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	name := stream(t)
	signer, verifier := testKeys(t)
	st := open(t, srv.url(), name)
	defer st.Close()
	seq, err := sequencer.Open(ctx, sequencer.Config{Store: st, Origin: origin, Signer: signer, Verifier: verifier, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	// The first request holds the writer until the others are queued, so
	// that the next batch gathers them all: 1000 requests of 4 events of
	// about 700 bytes each in the server's measure, nearly 3 MB.
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := seq.Append(ctx, sequencer.Draft{Type: "hold", Check: func([]*events.Event) error { <-release; return nil }})
		first <- err
	}()
	const requests, perRequest = 1000, 4
	text := string(bytes.Repeat([]byte("x"), 300))
	var wg sync.WaitGroup
	errs := make(chan error, requests)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			drafts := make([]sequencer.Draft, perRequest)
			for j := range drafts {
				drafts[j] = sequencer.Draft{Type: "burst", Case: fmt.Sprintf("case-%d", i), Data: map[string]string{"text": text}}
			}
			_, err := seq.Append(ctx, drafts...)
			errs <- err
		}()
	}
	time.Sleep(300 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	failed := 0
	for err := range errs {
		if err != nil {
			if failed == 0 {
				t.Errorf("request refused: %v", err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d requests refused", failed, requests)
	}
	if n, err := st.Size(ctx); err != nil || n != 1+requests*perRequest {
		t.Fatalf("the log has %d events (%v), want %d", n, err, 1+requests*perRequest)
	}
	// One request over the limit cannot be split: it alone is refused.
	big := make([]sequencer.Draft, 4000)
	for j := range big {
		big[j] = sequencer.Draft{Type: "burst", Data: map[string]string{"text": text}}
	}
	if _, err := seq.Append(ctx, big...); err == nil {
		t.Fatal("a request larger than the server's MaxAppendSize was accepted")
	} else {
		t.Logf("request over the limit: %v", err)
	}
	if _, err := seq.Append(ctx, sequencer.Draft{Type: "after"}); err != nil {
		t.Fatal(err)
	}
	if err := seq.Close(); err != nil {
		t.Fatal(err)
	}
	if res, err := audit(t, st, verifier); err != nil || res.Events != 2+requests*perRequest {
		t.Fatalf("audit: %+v %v", res, err)
	}
}

// The backend's measure of an append (events.AppendLimiter) is the
// server's: a batch at the limit by that measure is accepted by the
// stand-in, which counts as the server does, and one event more is
// refused by the backend before anything is sent, saying why.
func TestAppendSizeIsTheServers(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	const limit = 50_000
	srv.setMaxAppendSize(limit)
	ctx := context.Background()
	name := stream(t)
	s, err := esdb.New(ctx, esdb.Config{URL: srv.url() + "&maxAppendSize=50000", Stream: name})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var c custody
	var recs []events.Record
	size := 0
	for {
		r := c.next(t, 1, "some data")[0]
		if size+s.AppendSize(r) > limit {
			recs = append(recs, r)
			break
		}
		size += s.AppendSize(r)
		recs = append(recs, r)
	}
	// The last record does not fit; make the ones before fill the limit
	// exactly by growing the first one's case name.
	fit := recs[:len(recs)-1]
	pad := limit - size
	fit[0].Case += string(bytes.Repeat([]byte("c"), pad))
	total := 0
	for _, r := range fit {
		total += s.AppendSize(r)
	}
	if total != limit {
		t.Fatalf("padded batch takes %d, want %d", total, limit)
	}
	if err := s.Append(ctx, 0, recs, nil); err == nil || !strings.Contains(err.Error(), "MaxAppendSize of 50000") {
		t.Fatalf("append over the limit: %v", err)
	}
	if n := len(srv.events(name)); n != 0 {
		t.Fatalf("the refused append stored %d events", n)
	}
	if err := s.Append(ctx, 0, fit, nil); err != nil {
		t.Fatalf("append exactly at the server's limit: %v", err)
	}
	// One byte more is refused by the server too, when the backend is
	// told a larger limit than the cluster has.
	loose, err := esdb.New(ctx, esdb.Config{URL: srv.url(), Stream: stream(t), MaxAppendSize: 60_000})
	if err != nil {
		t.Fatal(err)
	}
	defer loose.Close()
	over := append([]events.Record(nil), fit...)
	over[0].Case += "c"
	if err := loose.Append(ctx, 0, over, nil); err == nil {
		t.Fatal("the stand-in accepted an append one byte over its MaxAppendSize")
	} else {
		t.Logf("the server's refusal, through the client: %v", err)
	}
}

// A log moved into KurrentDB whose events, in the migration's batches of
// 1000, are larger than the server's MaxAppendSize: the batches are cut to
// fit, and the copy verifies as the source does.
func TestMigrateIntoStandIn(t *testing.T) {
	t.Log(standInNote)
	srv := newStandIn(t)
	ctx := context.Background()
	signer, verifier := testKeys(t)
	src, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	seq, err := sequencer.Open(ctx, sequencer.Config{Store: src, Origin: origin, Signer: signer, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	// 1200 events of about 1.2 kB: 1000 of them are over 1 MiB.
	text := strings.Repeat("x", 1000)
	for i := 0; i < 1200; i += 100 {
		drafts := make([]sequencer.Draft, 100)
		for j := range drafts {
			drafts[j] = sequencer.Draft{Type: "intake", Case: fmt.Sprint("case-", i+j), Data: map[string]string{"text": text}}
		}
		if _, err := seq.Append(ctx, drafts...); err != nil {
			t.Fatal(err)
		}
	}
	if err := seq.Close(); err != nil {
		t.Fatal(err)
	}
	dst := open(t, srv.url(), stream(t))
	defer dst.Close()
	n, err := migrate.MigrateLog(ctx, src, dst, origin, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1200 {
		t.Fatalf("moved %d events", n)
	}
	sameLog(t, readBack(t, dst), readBack(t, src))
}

// origin is the test logs' origin line.
const origin = "custos.test/log"

// testKeys is a fresh signing key of origin's log and its verifier.
func testKeys(t *testing.T) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	return signer, verifier
}

// audit replays what st holds, checkpoints and events, through the audit
// engine, as `custos audit verify` does.
func audit(t *testing.T, st *esdb.Store, verifier note.Verifier) (*verify.Result, error) {
	t.Helper()
	eng := verify.New(origin, verifier)
	cps, err := events.AllCheckpoints(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cps {
		if err := eng.AddCheckpoint(c.Note, fmt.Sprint("checkpoint ", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range readBack(t, st) {
		if err := eng.Add(r.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	return eng.Finish()
}
