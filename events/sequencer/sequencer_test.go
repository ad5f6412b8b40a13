package sequencer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/mod/sumdb/note"
)

const origin = "custos.test/log"

type fixture struct {
	path     string
	signer   note.Signer
	verifier note.Verifier
}

func newFixture(t testing.TB) *fixture {
	skey, vkey, _ := note.GenerateKey(rand.Reader, "custos.test")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return &fixture{path: filepath.Join(t.TempDir(), "log.db"), signer: s, verifier: v}
}

func (f *fixture) open(t testing.TB, onEvent func(*events.Event, []byte)) (*sequencer.Sequencer, events.Store) {
	t.Helper()
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := sequencer.Open(context.Background(), sequencer.Config{
		Store: st, Origin: origin, Signer: f.signer, Verifier: f.verifier, OnEvent: onEvent,
	})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return seq, st
}

// start opens a sequencer on cfg with the fixture's origin and keys,
// failing the test if it cannot.
func (f *fixture) start(t testing.TB, cfg sequencer.Config) *sequencer.Sequencer {
	t.Helper()
	cfg.Origin, cfg.Signer, cfg.Verifier = origin, f.signer, f.verifier
	seq, err := sequencer.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// audit replays the store with the verification engine.
func (f *fixture) audit(t *testing.T) *verify.Result {
	t.Helper()
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := verify.New(origin, f.verifier)
	cps, _ := events.AllCheckpoints(context.Background(), st)
	for i, c := range cps {
		if err := e.AddCheckpoint(c.Note, fmt.Sprint("checkpoint ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Read(context.Background(), 0, func(r events.Record) error { return e.Add(r.Bytes) }); err != nil {
		t.Fatal(err)
	}
	res, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestConcurrentAppendsAreTotallyOrderedAndDurable(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	const writers, each = 32, 40
	var mu sync.Mutex
	acked := map[string]uint64{}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				evs, err := seq.Append(context.Background(),
					sequencer.Draft{Type: "test.a", Case: fmt.Sprint("case-", w), Data: map[string]int{"w": w, "i": i}},
					sequencer.Draft{Type: "test.b", Case: fmt.Sprint("case-", w)})
				if err != nil {
					t.Error(err)
					return
				}
				if evs[1].Seq != evs[0].Seq+1 {
					t.Errorf("one request's events were split: %d, %d", evs[0].Seq, evs[1].Seq)
				}
				mu.Lock()
				for _, ev := range evs {
					acked[ev.ID] = ev.Seq
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	seq.Close()
	st.Close()

	// After a restart every acknowledged event is there, where it was
	// acknowledged, and the log verifies with a checkpoint covering it all.
	var seen []*events.Event
	seq2, st2 := f.open(t, func(ev *events.Event, _ []byte) { seen = append(seen, ev) })
	defer st2.Close()
	defer seq2.Close()
	if len(seen) != writers*each*2 {
		t.Fatalf("replayed %d events, want %d", len(seen), writers*each*2)
	}
	for _, ev := range seen {
		if s, ok := acked[ev.ID]; !ok || s != ev.Seq {
			t.Fatalf("event %s at %d was not acknowledged there", ev.ID, ev.Seq)
		}
	}
	res := f.audit(t)
	if res.Latest == nil || res.Latest.Size != uint64(len(seen)) {
		t.Fatalf("no checkpoint covers the whole log after Close: %+v", res.Latest)
	}
}

func TestTwoWritersOnOneStoreNeverFork(t *testing.T) {
	f := newFixture(t)
	a, sa := f.open(t, nil)
	defer sa.Close()
	defer a.Close()
	var fromB []string
	b, sb := f.open(t, func(ev *events.Event, _ []byte) { fromB = append(fromB, ev.ID) })
	defer sb.Close()
	defer b.Close()

	var wg sync.WaitGroup
	for _, s := range []*sequencer.Sequencer{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := s.Append(context.Background(), sequencer.Draft{Type: "test.x"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	a.Close()
	b.Close()
	res := f.audit(t)
	if res.Events != 200 {
		t.Fatalf("log has %d events, want 200", res.Events)
	}
}

// TestOpenRefusesATamperedLog: events edited, deleted or cut from the
// end, and stored checkpoints whose rows were edited, refuse the start,
// each saying what it found. The stored checkpoints are read a page at a
// time after the replay: one read that cannot be explained by another
// writer's appends since is a finding.
func TestOpenRefusesATamperedLog(t *testing.T) {
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"edited", `UPDATE events SET bytes = replace(bytes, '"n":3', '"n":4') WHERE seq = 3`, "hash chain broken"},
		{"deleted", `DELETE FROM events WHERE seq = 9`, "the event stored at position 10 states position 10, where event 9 was expected"},
		{"truncated", `DELETE FROM events WHERE seq >= 15`, "stored checkpoint for size 20: the log has only 15 events: it was truncated or rolled back"},
		{"truncated with its checkpoints", `DELETE FROM events WHERE seq >= 15; DELETE FROM checkpoints WHERE size > 15`, "the log's seal covers 20 events but only 15 are stored: it was truncated"},
		{"a checkpoint row moved", `UPDATE checkpoints SET size = 7 WHERE size = 20`, "the stored checkpoint row of size 7 holds the checkpoint of size 20: the row was altered"},
		{"a checkpoint row raised", `UPDATE checkpoints SET size = 99 WHERE size = 20`, "the stored checkpoint row of size 99 holds the checkpoint of size 20: the row was altered"},
		{"a checkpoint note edited", `UPDATE checkpoints SET note = replace(note, X'0A3230', X'0A3139') WHERE size = 20`, "stored checkpoint for size 20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			seq, st := f.open(t, nil)
			for i := 0; i < 20; i++ {
				seq.Append(context.Background(), sequencer.Draft{Type: "t", Data: map[string]int{"n": i}})
			}
			seq.Checkpoint(context.Background())
			seq.Close()
			st.Close()
			db, _ := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(10000)")
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			st2, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
			if err != nil {
				t.Fatal(err)
			}
			defer st2.Close()
			_, err = sequencer.Open(context.Background(), sequencer.Config{Store: st2, Origin: origin, Signer: f.signer, Verifier: f.verifier})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("a tampered log: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBadDraftFailsAloneAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	defer st.Close()
	defer seq.Close()
	_, err := seq.Append(context.Background(),
		sequencer.Draft{Type: "ok"},
		sequencer.Draft{Type: "big", Data: map[string]string{"x": strings.Repeat("x", events.MaxEventSize)}})
	if err == nil {
		t.Fatal("oversized event accepted")
	}
	if seq.Size() != 0 {
		t.Fatalf("a refused request left %d events", seq.Size())
	}
	if _, err := seq.Append(context.Background(), sequencer.Draft{Type: strings.Repeat("t", 100)}); err == nil {
		t.Fatal("overlong type accepted")
	}
	evs, err := seq.Append(context.Background(), sequencer.Draft{Type: "ok"})
	if err != nil || evs[0].Seq != 0 {
		t.Fatalf("append after refusals: %v", err)
	}
}

func TestClosed(t *testing.T) {
	f := newFixture(t)
	seq, st := f.open(t, nil)
	defer st.Close()
	seq.Close()
	if _, err := seq.Append(context.Background(), sequencer.Draft{Type: "x"}); !errors.Is(err, sequencer.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

// TestALogStoreCutShortUnderTheServerHaltsIt: events removed from the
// store while the sequencer runs (the last rows deleted, with or without
// the seal's row put back to an older one) are found at the next
// append's conflict: the log halts, saying so, and nothing is appended
// at the positions the removed events held.
func TestALogStoreCutShortUnderTheServerHaltsIt(t *testing.T) {
	for _, tc := range []struct{ name, sql string }{
		{"the last events", `DELETE FROM events WHERE seq >= 15`},
		{"the last events and the seal's row", `DELETE FROM events WHERE seq >= 15; UPDATE seal SET size = 15`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			var logs testenv.LogBuffer
			st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			seq := f.start(t, sequencer.Config{Store: st, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			defer seq.Close()
			appendN(t, seq, 20)
			db, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err = seq.Append(context.Background(), sequencer.Draft{Type: "after"})
			if err == nil {
				t.Fatal("an append onto a store cut short under the server was acknowledged")
			}
			// Its own answer says the log halted, not that whether it
			// was stored is unknown: the store's end is before it.
			if !errors.Is(err, sequencer.ErrHalted) || errors.Is(err, sequencer.ErrOutcomeUnknown) {
				t.Fatalf("the append that found the store cut short answered %v, want the log halted and no unknown outcome", err)
			}
			halted := seq.Halted()
			if !errors.Is(halted, sequencer.ErrLogAltered) || !strings.Contains(halted.Error(), "holds 15 events, fewer than the 20") {
				t.Fatalf("the log did not halt saying what it found: %v (the append: %v)", halted, err)
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("the halt was not logged at level ERROR:\n%s", logs.String())
			}
			if _, err := seq.Append(context.Background(), sequencer.Draft{Type: "later"}); !errors.Is(err, sequencer.ErrHalted) {
				t.Fatalf("an append after the halt: %v", err)
			}
			if n, err := st.Size(context.Background()); err != nil || n != 15 {
				t.Fatalf("the store holds %d events (%v): something was appended where the removed ones were", n, err)
			}
		})
	}
}

// TestClockBehindIsLogged: someone with root on the server sets its
// clock back (to backdate what is recorded next). Event times follow the
// clock (holding them at the last time would freeze them, and every
// lifetime counted from them, after a clock that was wrong ahead is put
// right), and the vault logs the clock behind the last event, naming
// both, in the running log and after a restart.
func TestClockBehindIsLogged(t *testing.T) {
	f := newFixture(t)
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var clock atomic.Int64
	base := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	clock.Store(base.UnixNano())
	var logs bytes.Buffer
	var logMu sync.Mutex
	warnings := func() int {
		logMu.Lock()
		defer logMu.Unlock()
		return strings.Count(logs.String(), "the clock is behind the custody log's last event")
	}
	cfg := sequencer.Config{Store: st, Origin: origin, Signer: f.signer, Verifier: f.verifier,
		Now:    func() time.Time { return time.Unix(0, clock.Load()).UTC() },
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))}
	seq, err := sequencer.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := func(seq *sequencer.Sequencer, typ string) string {
		evs, err := seq.Append(ctx, sequencer.Draft{Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		return evs[0].Time
	}
	at(seq, "view")
	back := base.Add(-time.Hour)
	clock.Store(back.UnixNano())
	if got := at(seq, "hold"); got != events.FormatTime(back) {
		t.Fatalf("with the clock set back, an event is dated %s, not the clock's %s", got, events.FormatTime(back))
	}
	at(seq, "another")
	if n := warnings(); n != 1 {
		t.Fatalf("the clock behind was logged %d times, want once:\n%s", n, logs.String())
	}
	seq.Close()
	clock.Store(back.Add(-time.Hour).UnixNano()) // back again, while stopped
	seq, err = sequencer.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	at(seq, "after restart")
	if n := warnings(); n != 2 {
		t.Fatalf("after a restart with the clock behind, logged %d times, want twice", n)
	}
	later := base.Add(time.Minute)
	clock.Store(later.UnixNano())
	if got := at(seq, "caught up"); got != events.FormatTime(later) {
		t.Fatalf("with the clock ahead again, an event is dated %s, not %s", got, events.FormatTime(later))
	}
	clock.Store(later.Add(-500 * time.Millisecond).UnixNano()) // a time server's small step
	at(seq, "small step")
	if n := warnings(); n != 2 {
		t.Fatalf("a step back within a second was logged")
	}
}

// lockedWriter serialises the writes of a logger shared by goroutines.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
