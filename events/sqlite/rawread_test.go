package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
)

// appendRecords appends n events after the log's first (sealedLog), in
// batches of 64, cases and items varying, and returns the store.
func appendRecords(t *testing.T, path string, n int) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s := sealedLog(t, path)
	t.Cleanup(func() { s.Close() })
	size := uint64(1)
	for size < uint64(n)+1 {
		var recs []events.Record
		for len(recs) < 64 && size+uint64(len(recs)) < uint64(n)+1 {
			seq := size + uint64(len(recs))
			recs = append(recs, events.Record{Seq: seq, ID: events.NewID(),
				Case: fmt.Sprintf("case-%d", seq/50), Item: fmt.Sprintf("item-%d", seq/7*(seq%2)),
				Bytes: fmt.Appendf(nil, `{"seq":%d,"pad":%q}`, seq, strings.Repeat("p", int(seq%300)))})
		}
		if err := s.Append(ctx, size, recs, nil); err != nil {
			t.Fatal(err)
		}
		size += uint64(len(recs))
	}
	return s
}

// The long reads (ReadTransient and ReadBytes, through SQLite's C API on
// connections of their own) give what Read (database/sql) gives, from
// any position, rows edited by a database administrator included: lookup
// values stored as blobs, bytes stored as text and as a number.
func TestRawReadsAgreeWithDatabaseSQL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 700)
	execAll(t, path,
		`UPDATE events SET case_id = CAST('edited' AS BLOB) WHERE seq = 5`,
		`UPDATE events SET id = CAST('blob-id' AS BLOB), bytes = 1e20 WHERE seq = 6`,
		`UPDATE events SET bytes = CAST('{"seq":7}' AS TEXT) WHERE seq = 7`,
		`UPDATE events SET item_id = '' , case_id = 'ünïcode' WHERE seq = 8`,
	)
	collect := func(read func(context.Context, uint64, func(events.Record) error) error, from uint64) []events.Record {
		t.Helper()
		return collectRecords(t, read, from)
	}
	for _, from := range []uint64{0, 1, 6, 699, 700, 701, 1 << 63} {
		want := collect(s.Read, from)
		got := collect(s.ReadTransient, from)
		var gotBytes []events.Record
		if err := s.ReadBytes(ctx, from, func(seq uint64, b []byte) error {
			gotBytes = append(gotBytes, events.Record{Seq: seq, Bytes: bytes.Clone(b)})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(gotBytes) != len(want) {
			t.Fatalf("from %d: ReadTransient %d records, ReadBytes %d, Read %d", from, len(got), len(gotBytes), len(want))
		}
		for i := range want {
			w, g := want[i], got[i]
			if g.Seq != w.Seq || g.ID != w.ID || g.Case != w.Case || g.Item != w.Item || !bytes.Equal(g.Bytes, w.Bytes) {
				t.Fatalf("from %d: ReadTransient gave %+v, Read %+v", from, g, w)
			}
			if gotBytes[i].Seq != w.Seq || !bytes.Equal(gotBytes[i].Bytes, w.Bytes) {
				t.Fatalf("from %d: ReadBytes gave %d %q, Read %d %q", from, gotBytes[i].Seq, gotBytes[i].Bytes, w.Seq, w.Bytes)
			}
		}
	}
	if got := collect(s.ReadTransient, 5); got[0].Case != "edited" || got[1].ID != "blob-id" || string(got[1].Bytes) != "1.0e+20" || string(got[2].Bytes) != `{"seq":7}` || got[3].Case != "ünïcode" {
		t.Errorf("the edited rows read %q, %q %q, %q, %q", got[0].Case, got[1].ID, got[1].Bytes, got[2].Bytes, got[3].Case)
	}
}

// A long read is one snapshot of the log: events appended while it runs
// are not part of it, and none it began with is missed.
func TestRawReadIsOneSnapshotBesideAppends(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 300)
	var seqs []uint64
	err := s.ReadTransient(ctx, 0, func(r events.Record) error {
		if r.Seq == 10 {
			recs := []events.Record{{Seq: 301, ID: events.NewID(), Bytes: []byte(`{"seq":301}`)}}
			if err := s.Append(ctx, 301, recs, nil); err != nil {
				return err
			}
		}
		seqs = append(seqs, r.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 301 || seqs[300] != 300 {
		t.Fatalf("the read gave %d events, the last %d; want 301, the last 300", len(seqs), seqs[len(seqs)-1])
	}
	for i, seq := range seqs {
		if seq != uint64(i) {
			t.Fatalf("event %d read at position %d", seq, i)
		}
	}
	n := 0
	if err := s.ReadBytes(ctx, 0, func(uint64, []byte) error { n++; return nil }); err != nil || n != 302 {
		t.Fatalf("the next read gave %d events (%v), want 302", n, err)
	}
}

// A long read ends when its context does, within a few thousand rows,
// and says so; an error of fn ends it at once.
func TestRawReadEndsWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 5000)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := s.ReadTransient(ctx, 0, func(events.Record) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 10+2048 {
		t.Fatalf("the read ended with %v after %d events; want context.Canceled within 2,048 more", err, n)
	}
	stop := errors.New("enough")
	n = 0
	err = s.ReadBytes(context.Background(), 0, func(uint64, []byte) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("the read ended with %v after %d events; want fn's error after 3", err, n)
	}
	if err := s.ReadTransient(ctx, 0, func(events.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read with an ended context gave %v", err)
	}
}

// A lookup value the file holds as NULL (the schema's NOT NULL taken out
// by an administrator who edits sqlite_schema) is refused by the long
// read, naming the row and column, as database/sql's scan of it is.
func TestRawReadRefusesANullLookup(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 20)
	execAll(t, path,
		`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_schema SET sql = replace(sql, 'item_id TEXT NOT NULL', 'item_id TEXT') WHERE name = 'events'`,
		`PRAGMA writable_schema = OFF`,
	)
	// A connection of its own, which reads the schema as edited.
	execAll(t, path, `UPDATE events SET item_id = NULL WHERE seq = 12`)
	n := 0
	err := s.ReadTransient(ctx, 0, func(events.Record) error { n++; return nil })
	if err == nil || !strings.Contains(err.Error(), "position 12") || !strings.Contains(err.Error(), "item_id") || n != 12 {
		t.Fatalf("the read of a NULL item gave %v after %d events; want a refusal naming position 12 and item_id after 12", err, n)
	}
	if err := s.Read(ctx, 0, func(events.Record) error { return nil }); err == nil {
		t.Fatal("database/sql's read took the NULL item")
	}
	// The bytes alone do not read the lookup columns.
	n = 0
	if err := s.ReadBytes(ctx, 0, func(uint64, []byte) error { n++; return nil }); err != nil || n != 21 {
		t.Fatalf("ReadBytes gave %d events and %v", n, err)
	}
}

// collectRecords reads the log from position from with read (a Store's
// Read, ReadTransient, ...), each record's bytes copied.
func collectRecords(t *testing.T, read func(context.Context, uint64, func(events.Record) error) error, from uint64) []events.Record {
	t.Helper()
	var got []events.Record
	if err := read(context.Background(), from, func(r events.Record) error {
		r.Bytes = bytes.Clone(r.Bytes)
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// execAll runs each statement on the file at path through a connection
// of its own, as a database administrator would.
func execAll(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
}

// A file put in the log's place while the vault has it open (an older
// copy of it renamed over it, another log, or its WAL removed) is never
// read as the log, and stops the store: the append after it fails with
// ErrFileReplaced, naming the file, and so does every later append,
// read, size and seal. What that append committed went to the file the
// store opened, which is no longer in its place: the file that is there
// holds none of it. (Before, the store went on appending to the file it
// had opened, acknowledging events a restart then lost.)
func TestFileReplacedUnderTheStoreStopsIt(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"an older copy", "another log", "the WAL removed", "the file moved away"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "custody.db")
			s := appendRecords(t, path, 300)
			if err := s.CheckpointWAL(); err != nil {
				t.Fatal(err)
			}
			older, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			next := func(seq uint64) []events.Record {
				return []events.Record{{Seq: seq, ID: events.NewID(), Bytes: fmt.Appendf(nil, `{"seq":%d}`, seq)}}
			}
			if err := s.Append(ctx, 301, next(301), nil); err != nil {
				t.Fatal(err)
			}
			switch how {
			case "an older copy":
				err = os.WriteFile(path+".new", older, 0o600)
				if err == nil {
					err = os.Rename(path+".new", path)
				}
			case "another log":
				other := filepath.Join(dir, "other.db")
				execAll(t, other, `CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT, case_id TEXT, item_id TEXT, bytes BLOB)`,
					`INSERT INTO events VALUES (0, 'forged', 'c', '', CAST('{"forged":true}' AS BLOB))`)
				err = os.Rename(other, path)
			case "the WAL removed":
				err = os.Remove(path + "-wal")
			case "the file moved away":
				err = os.Rename(path, filepath.Join(dir, "elsewhere.db"))
			}
			if err != nil {
				t.Fatal(err)
			}
			var there []byte
			if how != "the WAL removed" && how != "the file moved away" {
				there, _ = os.ReadFile(path)
			}
			err = s.Append(ctx, 302, next(302), nil)
			if !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Fatalf("the append after the change gave %v, want ErrFileReplaced", err)
			}
			if !strings.Contains(err.Error(), "custody.db") {
				t.Errorf("the refusal does not name the file: %v", err)
			}
			if there != nil {
				if now, _ := os.ReadFile(path); !bytes.Equal(now, there) {
					t.Errorf("the file put in the log's place was written to")
				}
			}
			if err := s.Append(ctx, 303, next(303), nil); !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Errorf("a later append gave %v", err)
			}
			var ids []string
			if err := s.ReadTransient(ctx, 0, func(r events.Record) error { ids = append(ids, r.ID); return nil }); !errors.Is(err, sqlite.ErrFileReplaced) || len(ids) != 0 {
				t.Errorf("a long read gave %d events and %v", len(ids), err)
			}
			if err := s.Read(ctx, 0, func(events.Record) error { return nil }); !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Errorf("a read gave %v", err)
			}
			if _, err := s.Size(ctx); !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Errorf("Size gave %v", err)
			}
			if _, err := s.Seal(ctx); !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Errorf("Seal gave %v", err)
			}
		})
	}
}

// Appends, the WAL's checkpoints and a store opened again on its file
// are no change of file: a long run of them is never refused as one.
func TestTheStoresOwnFilesAreNotTakenForReplaced(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 200)
	size := uint64(201)
	for round := range 3 {
		for range 20 {
			recs := []events.Record{{Seq: size, ID: events.NewID(), Bytes: fmt.Appendf(nil, `{"seq":%d}`, size)}}
			if err := s.Append(ctx, size, recs, nil); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			size++
		}
		if err := s.CheckpointWAL(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var err error
		if s, err = sqlite.New(ctx, sqlite.Config{Path: path}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
	}
	if n, err := s.Size(ctx); err != nil || n != size {
		t.Fatalf("size %d, %v; want %d", n, err, size)
	}
}

// A read whose context ends is interrupted inside a step too: an edit
// of the schema (the events table made a view that never yields a row)
// keeps one step running, and it ends with the context; the connection
// then serves the next read.
func TestRawReadIsInterruptedInsideAStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 20)
	execAll(t, path, `ALTER TABLE events RENAME TO e0`,
		`CREATE VIEW events AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c)
		 SELECT x AS seq, 'id' AS id, '' AS case_id, '' AS item_id, X'' AS bytes FROM c WHERE x < 0`)
	for _, read := range []func(context.Context) error{
		func(ctx context.Context) error {
			return s.ReadTransient(ctx, 0, func(events.Record) error { return nil })
		},
		func(ctx context.Context) error {
			return s.ReadBytes(ctx, 0, func(uint64, []byte) error { return nil })
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- read(ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("the read ended with %v, want the context's deadline", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the read still runs 20 s after its context ended")
		}
		cancel()
	}
	execAll(t, path, `DROP VIEW events`, `ALTER TABLE e0 RENAME TO events`)
	for range rawConnsForTest + 1 {
		n := 0
		if err := s.ReadTransient(context.Background(), 0, func(events.Record) error { n++; return nil }); err != nil || n != 21 {
			t.Fatalf("the read after the interrupted ones gave %d events and %v", n, err)
		}
	}
}

// rawConnsForTest is the number of the store's long-read connections
// (rawConns).
const rawConnsForTest = 4

// A position that is not a whole number (the table made again without
// its INTEGER PRIMARY KEY) is refused by the long reads, naming where,
// as database/sql's scan refuses it, not read as another position.
func TestRawReadRefusesAPositionThatIsNotAWholeNumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 5)
	// Text sorts after every number: the row read last.
	for v, after := range map[string]string{"2.5": "after position 1", "'2x'": "after position 5"} {
		execAll(t, path, `ALTER TABLE events RENAME TO e0`,
			`CREATE TABLE events(seq, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT NOT NULL, bytes BLOB NOT NULL)`,
			`INSERT INTO events SELECT * FROM e0`, `DROP TABLE e0`, `UPDATE events SET seq = `+v+` WHERE seq = 2`)
		var seqs []uint64
		err := s.ReadTransient(ctx, 0, func(r events.Record) error { seqs = append(seqs, r.Seq); return nil })
		if err == nil || !strings.Contains(err.Error(), after) || !strings.Contains(err.Error(), "not a whole number") {
			t.Errorf("seq %s: the read gave %v and %v; want a refusal %s", v, seqs, err, after)
		}
		if err := s.ReadBytes(ctx, 0, func(uint64, []byte) error { return nil }); err == nil {
			t.Errorf("seq %s: ReadBytes took it", v)
		}
		if err := s.Read(ctx, 0, func(events.Record) error { return nil }); err == nil {
			t.Errorf("seq %s: database/sql's read took it", v)
		}
		execAll(t, path, `UPDATE events SET seq = 2 WHERE seq = `+v)
	}
}

// When every long-read connection is busy, a read waits for one (it is
// not read through a connection opened by the path, which would read a
// file put in the log's place meanwhile), and ends with its context;
// once the store is closed, reads are refused, and Close waits for the
// reads under way.
func TestRawReadsBeyondThePoolAndAfterClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custody.db")
	s := appendRecords(t, path, 50)
	hold, held := make(chan struct{}), make(chan struct{}, rawConnsForTest)
	var wg sync.WaitGroup
	for range rawConnsForTest {
		wg.Go(func() {
			first := true
			s.ReadBytes(ctx, 0, func(uint64, []byte) error {
				if first {
					first = false
					held <- struct{}{}
					<-hold
				}
				return nil
			})
		})
	}
	for range rawConnsForTest {
		<-held
	}
	// Another log put in the log's place: a connection opened by the
	// path now would read it (or it with the log's write-ahead log).
	other := filepath.Join(dir, "other.db")
	execAll(t, other, `CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT, case_id TEXT, item_id TEXT, bytes BLOB)`,
		`INSERT INTO events VALUES (0, 'forged', 'c', '', CAST('{"forged":true}' AS BLOB))`)
	if err := os.Rename(path, path+".kept"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	var ids []string
	err := s.ReadTransient(short, 0, func(r events.Record) error { ids = append(ids, r.ID); return nil })
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || len(ids) != 0 {
		t.Fatalf("a read beside %d others gave %q and %v; want it to wait, and end with its context", rawConnsForTest, ids, err)
	}
	var got []events.Record
	waited := make(chan error, 1)
	go func() {
		waited <- s.ReadTransient(ctx, 0, func(r events.Record) error {
			r.Bytes = bytes.Clone(r.Bytes)
			got = append(got, r)
			return nil
		})
	}()
	close(hold)
	wg.Wait()
	if err := <-waited; err != nil || len(got) != 51 || got[0].ID == "forged" || string(got[50].Bytes) != fmt.Sprintf(`{"seq":50,"pad":%q}`, strings.Repeat("p", 50)) {
		t.Fatalf("the read that waited gave %d events and %v", len(got), err)
	}
	hold2, held2 := make(chan struct{}), make(chan struct{})
	go func() {
		first := true
		s.ReadBytes(ctx, 0, func(uint64, []byte) error {
			if first {
				first = false
				close(held2)
				<-hold2
			}
			return nil
		})
	}()
	<-held2
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned with a read under way")
	case <-time.After(200 * time.Millisecond):
	}
	close(hold2)
	<-closed
	if err := s.ReadBytes(ctx, 0, func(uint64, []byte) error { return nil }); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a closed store's read gave %v", err)
	}
	if err := s.ReadTransient(ctx, 0, func(events.Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a closed store's read gave %v", err)
	}
}

// Connections closed after interrupted reads are opened again while the
// path names the file the store opened; when it no longer does (the file
// moved away), a read that finds none open is refused, saying so, and
// reads again once the file is back. Close interrupts a read stuck in a
// step.
func TestRawConnectionsAreOpenedAgainOnlyOnTheirFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "custody.db")
	s := appendRecords(t, path, 20)
	stuck := []string{`ALTER TABLE events RENAME TO e0`,
		`CREATE VIEW events AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c)
		 SELECT x AS seq, 'id' AS id, '' AS case_id, '' AS item_id, X'' AS bytes FROM c WHERE x < 0`}
	execAll(t, path, stuck...)
	for range rawConnsForTest {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if err := s.ReadBytes(ctx, 0, func(uint64, []byte) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the stuck read gave %v", err)
		}
		cancel()
	}
	execAll(t, path, `DROP VIEW events`, `ALTER TABLE e0 RENAME TO events`)
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	err := s.ReadTransient(context.Background(), 0, func(events.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "no longer names the file") {
		t.Fatalf("a read with every connection closed and the file moved gave %v", err)
	}
	if err := os.Rename(path+".moved", path); err != nil {
		t.Fatal(err)
	}
	for range rawConnsForTest + 1 {
		n := 0
		if err := s.ReadTransient(context.Background(), 0, func(events.Record) error { n++; return nil }); err != nil || n != 21 {
			t.Fatalf("the read with the file back gave %d events and %v", n, err)
		}
	}
	execAll(t, path, stuck...)
	done := make(chan error, 1)
	go func() { done <- s.ReadBytes(context.Background(), 0, func(uint64, []byte) error { return nil }) }()
	time.Sleep(100 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close waits 20 s for a read stuck in a step")
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("the read stuck when the store closed gave %v", err)
	}
}

// A lookup value an edit stored as a number (the column made again
// without its TEXT type) reads the same through the long reads and
// database/sql.
func TestRawReadsOfALookupStoredAsANumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := appendRecords(t, path, 5)
	execAll(t, path, `ALTER TABLE events RENAME TO e0`,
		`CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, case_id NOT NULL, item_id TEXT NOT NULL, bytes BLOB NOT NULL)`,
		`INSERT INTO events SELECT * FROM e0`, `DROP TABLE e0`, `UPDATE events SET case_id = 1e20 WHERE seq = 2`)
	var viaSQL, viaRaw string
	s.Read(ctx, 2, func(r events.Record) error {
		if r.Seq == 2 {
			viaSQL = r.Case
		}
		return nil
	})
	if err := s.ReadTransient(ctx, 2, func(r events.Record) error {
		if r.Seq == 2 {
			viaRaw = r.Case
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if viaSQL != viaRaw || viaRaw == "" {
		t.Fatalf("the case stored as a number reads %q through database/sql and %q through the C API", viaSQL, viaRaw)
	}
}

// A path with a percent sign is refused: SQLite reads the path as a URI
// and would open the file its escape names, not the one the store checks
// and restricts (log%41.db would open logA.db); the offline reader
// refuses it too.
func TestPathWithAPercentSignIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log%41.db")
	if _, err := sqlite.New(context.Background(), sqlite.Config{Path: path}); err == nil || !strings.Contains(err.Error(), "%") {
		t.Fatalf("New of %s gave %v, want a refusal naming %%", path, err)
	}
	if _, err := sqlite.OpenReader(context.Background(), path); err == nil || !strings.Contains(err.Error(), "%") {
		t.Fatalf("OpenReader of %s gave %v, want a refusal naming %%", path, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "logA.db")); err == nil {
		t.Fatal("the refusal created logA.db")
	}
}

// A log opened by a path that is a link (to a file on another disk, say)
// is its file: appends through it are not taken for a replacement, and
// SQLite's WAL, beside the file the link names, is checked there. The
// file the link names replaced, or its WAL removed, stops the store.
func TestALogOpenedThroughALink(t *testing.T) {
	ctx := context.Background()
	for _, change := range []string{"none", "the file replaced", "the WAL removed"} {
		t.Run(change, func(t *testing.T) {
			real := filepath.Join(t.TempDir(), "custody.db")
			link := filepath.Join(t.TempDir(), "custody.db")
			s := sealedLog(t, real)
			s.Close()
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			s, err := sqlite.New(ctx, sqlite.Config{Path: link})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			appendOne := func(seq uint64) error {
				return s.Append(ctx, seq, []events.Record{{Seq: seq, ID: events.NewID(), Bytes: fmt.Appendf(nil, `{"seq":%d}`, seq)}}, nil)
			}
			for seq := uint64(1); seq < 20; seq++ {
				if err := appendOne(seq); err != nil {
					t.Fatalf("append %d through the link: %v", seq, err)
				}
			}
			switch change {
			case "the file replaced":
				b, _ := os.ReadFile(real)
				os.WriteFile(real+".older", b, 0o600)
				err = os.Rename(real+".older", real)
			case "the WAL removed":
				err = os.Remove(real + "-wal")
			}
			if err != nil {
				t.Fatal(err)
			}
			err = appendOne(20)
			if change == "none" && err != nil {
				t.Fatalf("append after %s: %v", change, err)
			}
			if change != "none" && !errors.Is(err, sqlite.ErrFileReplaced) {
				t.Fatalf("append after %s: %v, want ErrFileReplaced", change, err)
			}
		})
	}
}
