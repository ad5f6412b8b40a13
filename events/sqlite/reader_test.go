package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
)

// The reader an audit without the server uses reads a closed log (the
// server stopped: no -wal or -shm beside it) and a log a store has open,
// returns its events with their lookup columns, its checkpoints and its
// seal, and leaves the folder as it found it: no file created, none
// changed. What is not a custody log is refused.
func TestReaderReadsWithoutWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custody.db")
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(seq uint64) events.Record {
		return events.Record{Seq: seq, ID: events.NewID(), Case: "c", Item: fmt.Sprint("i", seq), Bytes: []byte(fmt.Sprintf(`{"seq":%d}`, seq))}
	}
	if err := s.Append(ctx, 0, []events.Record{rec(0), rec(1), rec(2)}, &events.StoredCheckpoint{Size: 3, Note: []byte("published 3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 3, []events.Record{rec(3)}, &events.StoredCheckpoint{Size: 4, Note: []byte("seal 4"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		r, err := sqlite.OpenReader(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer r.Close()
		var got []events.Record
		if err := r.Read(ctx, 1, func(rec events.Record) error {
			rec.Bytes = slices.Clone(rec.Bytes)
			got = append(got, rec)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(got) != 3 || got[0].Seq != 1 || got[2].Item != "i3" || string(got[2].Bytes) != `{"seq":3}` {
			t.Fatalf("%s: read %+v", when, got)
		}
		cps, err := events.AllCheckpoints(ctx, r)
		if err != nil || len(cps) != 1 || cps[0].Size != 3 || string(cps[0].Note) != "published 3" {
			t.Fatalf("%s: checkpoints %+v %v", when, cps, err)
		}
		seal, err := r.Seal(ctx)
		if err != nil || seal == nil || seal.Size != 4 || string(seal.Note) != "seal 4" {
			t.Fatalf("%s: seal %+v %v", when, seal, err)
		}
	}
	check("with the store open")
	s.Close()
	before := listing(t, dir)
	check("with the store closed")
	if after := listing(t, dir); after != before {
		t.Fatalf("the reader changed the folder:\nbefore %s\nafter  %s", before, after)
	}
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("not a database"), 0o600)
	if _, err := sqlite.OpenReader(ctx, other); err == nil || !strings.Contains(err.Error(), "not a readable SQLite database") {
		t.Fatalf("a text file: %v", err)
	}
	if _, err := sqlite.OpenReader(ctx, filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("a missing file was opened")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("opening a missing file created it")
	}
}

// listing names each file of dir with its size and modification time.
func listing(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%d", e.Name(), fi.Size(), fi.ModTime().UnixNano()))
	}
	return strings.Join(out, " ")
}

// A copy of a running server's log taken with its write-ahead log (cp
// custody.db custody.db-wal): the reader reads the events that are only
// in the write-ahead log, and writes neither file (SQLite makes its
// shared-memory index, the -shm file, beside them: nothing else).
func TestReaderReadsACopyWithItsWriteAheadLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custody.db")
	s := sealedLog(t, path)
	defer s.Close()
	copyDir := t.TempDir()
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copyDir, "custody.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := listing(t, copyDir)
	r, err := sqlite.OpenReader(ctx, filepath.Join(copyDir, "custody.db"))
	if err != nil {
		t.Fatal(err)
	}
	n, _, err := r.Count(ctx)
	seal, serr := r.Seal(ctx)
	r.Close()
	if err != nil || n != 1 || serr != nil || seal == nil || seal.Size != 1 {
		t.Fatalf("read %d events (%v), seal %+v (%v): the write-ahead log's content was not read", n, err, seal, serr)
	}
	after := listing(t, copyDir)
	var kept []string
	for _, f := range strings.Fields(after) {
		if !strings.HasPrefix(f, "custody.db-shm:") {
			kept = append(kept, f)
		}
	}
	if strings.Join(kept, " ") != before {
		t.Fatalf("the reader changed the copy, or made more than the -shm file beside it:\nbefore %s\nafter  %s", before, after)
	}
}

// A database administrator puts views in place of the log's tables (rows
// computed without end), or a checkpoint note of megabytes: the reader
// refuses the file, or the row, instead of reading on or holding it.
func TestReaderRefusesWhatTheLogCannotHold(t *testing.T) {
	ctx := context.Background()
	for name, stmts := range map[string][]string{
		"events a view": {`ALTER TABLE events RENAME TO old_events`,
			`CREATE VIEW events AS WITH RECURSIVE r(seq) AS (SELECT 0 UNION ALL SELECT seq+1 FROM r) SELECT seq, 'id' AS id, 'c' AS case_id, 'i' AS item_id, zeroblob(10) AS bytes FROM r`},
		"checkpoints a view": {`ALTER TABLE checkpoints RENAME TO old_checkpoints`,
			`CREATE VIEW checkpoints AS WITH RECURSIVE r(size, note) AS (SELECT 1, zeroblob(1000) UNION ALL SELECT size+1, note FROM r) SELECT size, note FROM r`},
		"seal dropped":      {`DROP TABLE seal`},
		"a huge checkpoint": {`INSERT INTO checkpoints (size, note) VALUES (7, zeroblob(50000000))`},
		// A column SQLite computes at each read, of any size.
		"a generated column": {`ALTER TABLE events RENAME TO old_events`,
			`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT GENERATED ALWAYS AS (printf('%.*c', 50000000, 'x')) VIRTUAL, bytes BLOB NOT NULL)`,
			`INSERT INTO events (seq, id, case_id, bytes) SELECT seq, id, case_id, bytes FROM old_events`},
		// A primary key that is not the rowid holds any value, which
		// every read by position would load.
		"a key that is not the rowid": {`ALTER TABLE checkpoints RENAME TO old_checkpoints`,
			`CREATE TABLE checkpoints (size INTEGER PRIMARY KEY DESC, note BLOB NOT NULL)`,
			`INSERT INTO checkpoints VALUES (zeroblob(50000000), x'00')`},
		"a table without a rowid": {`ALTER TABLE events RENAME TO old_events`,
			`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID`},
		"a seal whose size is not a number": {`UPDATE seal SET size = zeroblob(50000000)`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "custody.db")
			sealedLog(t, path).Close()
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range stmts {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(q, err)
				}
			}
			db.Close()
			done := make(chan error, 1)
			go func() {
				r, err := sqlite.OpenReader(ctx, path)
				if err != nil {
					done <- err
					return
				}
				defer r.Close()
				if _, _, err := r.Count(ctx); err != nil {
					done <- err
					return
				}
				if _, err = events.AllCheckpoints(ctx, r); err != nil {
					done <- err
					return
				}
				_, err = r.Seal(ctx)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("the file was read as a custody log")
				}
				if len(err.Error()) > 1000 {
					t.Errorf("the refusal is %d bytes long: it quotes what was stored", len(err.Error()))
				}
				t.Logf("refused: %v", err)
			case <-time.After(20 * time.Second):
				t.Fatal("still reading after 20 s")
			}
		})
	}
}

// sealedLog makes a custody log at path of one event, sealed.
func sealedLog(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 0, []events.Record{{Seq: 0, ID: events.NewID(), Case: "c", Bytes: []byte(`{"seq":0}`)}}, &events.StoredCheckpoint{Size: 1, Note: []byte("seal 1"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReaderReadsCheckpointsByPages: the reader an audit without the
// server uses gives the stored checkpoints a page at a time, in order,
// while a read of the events is under way on the same snapshot (the
// audit reads both at once), and its last one by size; none for a log
// without checkpoints.
func TestReaderReadsCheckpointsByPages(t *testing.T) {
	defer sqlite.SetCheckpointPage(3)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(seq uint64) events.Record {
		return events.Record{Seq: seq, ID: events.NewID(), Bytes: []byte(fmt.Sprintf(`{"seq":%d}`, seq))}
	}
	if err := s.Append(ctx, 0, []events.Record{rec(0)}, nil); err != nil {
		t.Fatal(err)
	}
	empty, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if last, err := empty.LastCheckpoint(ctx); last != nil || err != nil {
		t.Fatalf("the last checkpoint of a log without any: %v %v", last, err)
	}
	empty.Close()
	for i := uint64(1); i <= 10; i++ {
		if err := s.Append(ctx, i, []events.Record{rec(i)}, &events.StoredCheckpoint{Size: i + 1, Note: []byte(fmt.Sprint("published ", i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	r, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []uint64
	read := 0
	err = r.Read(ctx, 0, func(events.Record) error {
		read++
		if read == 2 {
			return r.ReadCheckpoints(ctx, 3, func(c events.StoredCheckpoint) error {
				if string(c.Note) != fmt.Sprint("published ", c.Size) {
					t.Errorf("checkpoint of size %d: %q", c.Size, c.Note)
				}
				sizes = append(sizes, c.Size)
				return nil
			})
		}
		return nil
	})
	if err != nil || read != 11 {
		t.Fatalf("read %d events: %v", read, err)
	}
	if fmt.Sprint(sizes) != "[3 4 5 6 7 8 9 10 11]" {
		t.Fatalf("checkpoints from 3 in pages of 3: %v", sizes)
	}
	if last, err := r.LastCheckpoint(ctx); err != nil || last == nil || last.Size != 11 || string(last.Note) != "published 11" {
		t.Fatalf("the last checkpoint: %+v %v", last, err)
	}
	r.Close()
	// A row given a negative size, which no page of sizes from 0 reaches,
	// is found all the same.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE checkpoints SET size = -5 WHERE size = 6`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err = sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.ReadCheckpoints(ctx, 0, func(events.StoredCheckpoint) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "a checkpoint row's size is -5, below 0: the row was altered") {
		t.Fatalf("a row of a negative size: %v", err)
	}
}

// TestReaderSaysWhenItsFileWasWritten: a log without a write-ahead log
// beside it (a stopped vault's) is read as a file nobody writes, and
// Changed says when a store wrote it since; a log read beside its
// write-ahead log is read through SQLite's locks, and never Changed.
func TestReaderSaysWhenItsFileWasWritten(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	rec := func(seq uint64) events.Record {
		return events.Record{Seq: seq, ID: events.NewID(), Bytes: []byte(fmt.Sprintf(`{"seq":%d}`, seq))}
	}
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 0, []events.Record{rec(0)}, &events.StoredCheckpoint{Size: 1, Note: []byte("seal 1"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	// Beside the open store: its write-ahead log is there.
	live, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 1, []events.Record{rec(1)}, &events.StoredCheckpoint{Size: 2, Note: []byte("seal 2"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	if live.Changed() {
		t.Error("a reader beside the write-ahead log says its file was written under it")
	}
	live.Close()
	s.Close()
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatal("the closed store left its write-ahead log: the case this guards does not arise")
	}
	stopped, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer stopped.Close()
	if stopped.Changed() {
		t.Fatal("a stopped store's file is said written before anything wrote it")
	}
	s, err = sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append(ctx, 2, []events.Record{rec(2)}, &events.StoredCheckpoint{Size: 3, Note: []byte("seal 3"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	if !stopped.Changed() {
		t.Fatal("a store started on the file and appending is not seen by the reader that read it as a file nobody writes")
	}
}
