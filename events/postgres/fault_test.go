package postgres_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// The server goes down while an append is inside its transaction, after
// its events are inserted and before it commits. The append must fail,
// nothing of it may be visible when the server is back, and the same store
// (no reopen) must work again.
func TestServerStoppedMidAppend(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := pg.URL(t, "fault")
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	var c chainer
	first := c.recs(10)
	if err := s.Append(ctx, 0, first, nil); err != nil {
		t.Fatal(err)
	}

	// Another session inserts checkpoint 110 and keeps its transaction
	// open: our append's checkpoint insert waits for it - after the
	// events are copied and the head moved, before the commit.
	sessionHolding(t, url, `INSERT INTO custody_checkpoints(size, note) VALUES (110, 'blocker')`)

	batch := c.recs(100)
	done := make(chan error, 1)
	go func() {
		done <- s.Append(ctx, 10, batch, &events.StoredCheckpoint{Size: 110, Note: []byte("note 110\n")})
	}()
	waitForLockWait(t, url)
	// At once: a fast shutdown ends the blocking session too, and the
	// append could then commit in the moment before its own session ends.
	pg.Crash()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("append succeeded although the server stopped before its commit")
		}
		if errors.Is(err, events.ErrConflict) {
			t.Fatalf("a lost server was reported as a conflict: %v", err)
		}
		t.Logf("append during shutdown: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("append hung after the server stopped")
	}

	// While the server is down, calls fail promptly.
	down, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := s.Size(down); err == nil {
		t.Fatal("size answered with the server down")
	}
	if err := s.Append(down, 10, batch, nil); err == nil {
		t.Fatal("append succeeded with the server down")
	}

	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	n, err := s.Size(ctx)
	if err != nil {
		t.Fatalf("size after the server came back: %v", err)
	}
	if n != 10 {
		t.Fatalf("log has %d events after the interrupted append, want 10", n)
	}
	var got []events.Record
	s.Read(ctx, 0, func(r events.Record) error { got = append(got, r); return nil })
	if len(got) != 10 {
		t.Fatalf("read %d events, want 10: part of the interrupted append is visible", len(got))
	}
	cps, _ := events.AllCheckpoints(ctx, s)
	if len(cps) != 0 {
		t.Fatalf("the interrupted checkpoint is visible: %v", cps)
	}
	// The writer retries the same batch on the same store.
	if err := s.Append(ctx, 10, batch, &events.StoredCheckpoint{Size: 110, Note: []byte("note 110\n")}); err != nil {
		t.Fatalf("retry after the server came back: %v", err)
	}
	got = got[:0]
	s.Read(ctx, 0, func(r events.Record) error { got = append(got, r); return nil })
	want := append(first, batch...)
	if len(got) != len(want) {
		t.Fatalf("read %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !bytes.Equal(got[i].Bytes, want[i].Bytes) {
			t.Fatalf("event %d differs after recovery", i)
		}
	}
}

// waitForLockWait returns once some session of the database waits on a
// lock: our append has reached its checkpoint insert.
func waitForLockWait(t *testing.T, url string) {
	t.Helper()
	waitForSession(t, url, `wait_event_type = 'Lock' AND query LIKE 'INSERT INTO custody_checkpoints%'`, "the append never reached its checkpoint insert")
}

// waitForSession returns once some session of the database matches where
// (a condition on pg_stat_activity), and fails with never after 20 s.
func waitForSession(t *testing.T, url, where, never string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := conn.QueryRow(context.Background(),
			`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND `+where).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(never)
}

// holdCommits makes every commit of the server wait for a synchronous
// standby that never answers (on), or lets them through (off), as an
// administrator's configuration can.
func holdCommits(t *testing.T, url string, on bool) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	names := ""
	if on {
		names = "nobody"
	}
	for _, q := range []string{`ALTER SYSTEM SET synchronous_standby_names = '` + names + `'`, `SELECT pg_reload_conf()`} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A new session reads the reloaded file; the pool's sessions read
	// it before their next statement.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		err = conn.QueryRow(ctx, `SHOW synchronous_standby_names`).Scan(&got)
		conn.Close(ctx)
		if err == nil && got == names {
			time.Sleep(100 * time.Millisecond)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("synchronous_standby_names never became %q", names)
}

// waitForSyncRep waits until a session of the database waits in its
// commit for the synchronous standby.
func waitForSyncRep(t *testing.T, url string) {
	t.Helper()
	waitForSession(t, url, `wait_event = 'SyncRep'`, "no commit waited for the standby")
}

// An append whose COMMIT's connection is lost while the server is still
// committing (held here by a synchronous standby that never answers, as
// a network cut or a slow standby can): its events may become visible
// later, so the append must not be reported as one that stored nothing.
// It waits for the transaction to end and says what became of it:
// committed, success; still running after commitWait, an error wrapping
// events.ErrOutcomeUnknown. A writer coming back meanwhile waits for the
// head, and finds the late events: the log never forks.
func TestCommitWhoseAnswerIsLost(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := pg.URL(t, "late")
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	var c chainer
	if err := s.Append(ctx, 0, c.recs(10), nil); err != nil {
		t.Fatal(err)
	}

	t.Run("committed after the connection was lost", func(t *testing.T) {
		holdCommits(t, url, true)
		cut, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.Append(cut, 10, c.recs(5), nil) }()
		waitForSyncRep(t, url)
		<-cut.Done() // the client's connection is closed; the commit waits on
		time.Sleep(200 * time.Millisecond)
		holdCommits(t, url, false)
		if err := <-done; err != nil {
			t.Fatalf("an append committed after its connection was lost: %v", err)
		}
		if n, err := s.Size(ctx); err != nil || n != 15 {
			t.Fatalf("size %d, %v; want the 5 events stored", n, err)
		}
	})

	t.Run("still running", func(t *testing.T) {
		commitHeldAndCut(t, url, 15, c.recs(5))
		if n, err := s.Size(ctx); err != nil || n != 15 {
			t.Fatalf("size %d, %v while the commit runs", n, err)
		}
		// A writer that tries the same position waits for the head;
		// once the commit lands, it finds the events there.
		var again chainer
		again.recs(15)
		done := make(chan error, 1)
		go func() { done <- s.Append(ctx, 15, again.recs(1), nil) }()
		time.Sleep(200 * time.Millisecond)
		holdCommits(t, url, false)
		if err := <-done; !errors.Is(err, events.ErrConflict) {
			t.Fatalf("an append at the late commit's position: %v, want a conflict", err)
		}
		if n, err := s.Size(ctx); err != nil || n != 20 {
			t.Fatalf("size %d, %v; want the late commit's 5 events", n, err)
		}
	})
}

// TestAppendWaitsForTheHeadABoundedTime: a transaction that holds the
// head's lock without ending (an administrator's session; a commit held
// by a synchronous standby that does not answer) makes appends fail
// after the lock wait, saying why and storing nothing, instead of
// holding them up for as long as it lasts.
func TestAppendWaitsForTheHeadABoundedTime(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := pg.URL(t, "headwait")
	defer postgres.SetLockWait(300 * time.Millisecond)()
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	var c chainer
	if err := s.Append(ctx, 0, c.recs(10), nil); err != nil {
		t.Fatal(err)
	}
	held := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "stayed locked by another session") || errors.Is(err, events.ErrOutcomeUnknown) {
			t.Fatalf("an append while %s: %v, want a failure saying the head stayed locked", what, err)
		}
	}

	t.Run("an administrator's session", func(t *testing.T) {
		tx := sessionHolding(t, url, `SELECT * FROM custody_head FOR UPDATE`)
		next := c.recs(5)
		held("an administrator holds the head", s.Append(ctx, 10, next, nil))
		if n, err := s.Size(ctx); err != nil || n != 10 {
			t.Fatalf("size %d, %v; want nothing stored", n, err)
		}
		tx.Rollback(ctx)
		if err := s.Append(ctx, 10, next, nil); err != nil {
			t.Fatalf("the same append once the lock is gone: %v", err)
		}
	})

	t.Run("an administrator's lock of the table, on new connections", func(t *testing.T) {
		// A store whose connections have not yet prepared the head's
		// statement: preparing it waits for the table's lock too.
		fresh := open(t, url)
		defer fresh.Close()
		tx := sessionHolding(t, url, `LOCK TABLE custody_head IN ACCESS EXCLUSIVE MODE`)
		var other chainer
		other.recs(15)
		held("an administrator locks the table", fresh.Append(ctx, 15, other.recs(1), nil))
		tx.Rollback(ctx)
	})

	t.Run("a commit held by a standby", func(t *testing.T) {
		commitHeldAndCut(t, url, 15, c.recs(5))
		var other chainer
		other.recs(15)
		held("a commit is held", s.Append(ctx, 15, other.recs(1), nil))
		holdCommits(t, url, false)
		if n, err := s.Size(ctx); err != nil || n != 20 {
			t.Fatalf("size %d, %v; want the held commit's 5 events once it lands", n, err)
		}
	})
}

// TestStartWaitsForAnIndexLockABoundedTime: a start that builds the index
// of the cases' own events (a log made before it existed) while another
// session holds a lock on the events' table that the build waits for
// fails after the lock wait, saying so, instead of waiting as long as
// the lock is held; once it is gone, the start builds the index.
func TestStartWaitsForAnIndexLockABoundedTime(t *testing.T) {
	pg := testenv.StartPostgres(t)
	url := pg.URL(t, "indexwait")
	defer postgres.SetLockWait(300 * time.Millisecond)()
	open(t, url).Close()
	exec(t, url, `DROP INDEX custody_events_case_own`)
	// ROW EXCLUSIVE, as a writer's insert takes it: reads go on, an
	// index build waits.
	tx := sessionHolding(t, url, `LOCK TABLE custody_events IN ROW EXCLUSIVE MODE`)
	began := time.Now()
	if s, err := postgres.New(context.Background(), postgres.Config{URL: url}); err == nil {
		s.Close()
		t.Fatal("a start built the index while another session held the table")
	} else if !strings.Contains(err.Error(), "another session held a lock on custody_events") {
		t.Fatalf("a start waiting for the index's lock: %v", err)
	}
	if waited := time.Since(began); waited > 20*time.Second {
		t.Fatalf("the start waited %s", waited)
	}
	tx.Rollback(context.Background())
	s := open(t, url)
	defer s.Close()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var built bool
	if err := conn.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'custody_events_case_own')`).Scan(&built); err != nil || !built {
		t.Fatalf("the index once the lock is gone: %v, %v", built, err)
	}
}

// sessionHolding opens a session of its own, as an administrator's, and
// runs stmt in a transaction it leaves open, holding what stmt locked
// until the transaction is rolled back or the test ends.
func sessionHolding(t *testing.T, url, stmt string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	return tx
}

// commitHeldAndCut appends recs at position at through a link that is
// then cut as a network cut does (the client's side closes, and its
// cancel request never arrives), while commits wait for a synchronous
// standby that never answers: the append's answer must be
// events.ErrOutcomeUnknown, and its commit stays running on the server
// until holdCommits(t, url, false).
func commitHeldAndCut(t *testing.T, url string, at uint64, recs []events.Record) {
	t.Helper()
	link := newCuttableLink(t, url)
	cutOff := open(t, link.url)
	defer cutOff.Close()
	defer postgres.SetCommitWait(300 * time.Millisecond)()
	holdCommits(t, url, true)
	done := make(chan error, 1)
	go func() { done <- cutOff.Append(context.Background(), at, recs, nil) }()
	waitForSyncRep(t, url)
	link.cut()
	if err := <-done; !errors.Is(err, events.ErrOutcomeUnknown) {
		t.Fatalf("an append whose commit is still running: %v, want events.ErrOutcomeUnknown", err)
	}
}

// cuttableLink forwards connections to a PostgreSQL server; cut closes
// the client's side of every connection made so far while the server's
// side stays open (a network cut: the server goes on with what it was
// doing), and cancel requests are dropped, as a cut network drops them.
type cuttableLink struct {
	url     string
	ln      net.Listener
	mu      sync.Mutex
	clients []net.Conn
	servers []net.Conn
}

func newCuttableLink(t *testing.T, url string) *cuttableLink {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &cuttableLink{ln: ln}
	target := u.Host
	u.Host = ln.Addr().String()
	l.url = u.String()
	t.Cleanup(l.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go l.serve(c, target)
		}
	}()
	return l
}

// cancelRequestCode opens a PostgreSQL cancel request (its protocol's
// "CancelRequest" message: length 16, then this code).
const cancelRequestCode = 80877102

func (l *cuttableLink) serve(c net.Conn, target string) {
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil || binary.BigEndian.Uint32(head[4:]) == cancelRequestCode {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	l.mu.Lock()
	l.clients, l.servers = append(l.clients, c), append(l.servers, s)
	l.mu.Unlock()
	s.Write(head)
	go io.Copy(s, c)
	go io.Copy(c, s)
}

func (l *cuttableLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.clients {
		c.Close()
	}
	l.clients = nil
}

func (l *cuttableLink) close() {
	l.ln.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range append(l.clients, l.servers...) {
		c.Close()
	}
	l.clients, l.servers = nil, nil
}
