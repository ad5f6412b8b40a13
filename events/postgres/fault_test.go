package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
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
	blocker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	btx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := btx.Exec(ctx, `INSERT INTO custody_checkpoints(size, note) VALUES (110, 'blocker')`); err != nil {
		t.Fatal(err)
	}

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
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := conn.QueryRow(context.Background(),
			`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO custody_checkpoints%'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the append never reached its checkpoint insert")
}
