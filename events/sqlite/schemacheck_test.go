package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
)

// edit runs statements on the SQLite file at path, as its database
// administrator would.
func edit(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
}

// The server does not start on a log file whose tables were declared
// again: a generated column (a value SQLite computes at each read, of any
// size) or a position that is not the rowid (which may hold any value).
func TestStoreRefusesTablesDeclaredAgain(t *testing.T) {
	ctx := context.Background()
	for name, stmts := range map[string][]string{
		"a generated column": {`ALTER TABLE events RENAME TO old_events`,
			`CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT GENERATED ALWAYS AS (printf('%.*c', 1000, 'x')) VIRTUAL, bytes BLOB NOT NULL)`,
			`INSERT INTO events (seq, id, case_id, bytes) SELECT seq, id, case_id, bytes FROM old_events`, `DROP TABLE old_events`},
		"a position that is not the rowid": {`ALTER TABLE events RENAME TO old_events`,
			`CREATE TABLE events (seq INTEGER PRIMARY KEY DESC, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT NOT NULL, bytes BLOB NOT NULL)`,
			`INSERT INTO events SELECT * FROM old_events`, `DROP TABLE old_events`},
		"a view for the seal": {`DROP TABLE seal`, `CREATE VIEW seal AS SELECT 1 AS one, 1 AS size, x'00' AS note`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "custody.db")
			sealedLog(t, path).Close()
			edit(t, path, stmts...)
			s, err := sqlite.New(ctx, sqlite.Config{Path: path})
			if err == nil {
				s.Close()
				t.Fatal("the server's store opened the altered file")
			}
			if !strings.Contains(err.Error(), "the file was altered") {
				t.Fatalf("refused with %v, want it to say the file was altered", err)
			}
		})
	}
}

// A rollback journal beside the file (what a write interrupted before its
// end leaves, and SQLite undoes when the file is next opened for writing)
// makes the audit's reader refuse the file: read as immutable, the file
// would be audited as it is before that undoing, not as the server reads
// it. The vault writes its log in WAL mode and never leaves one.
func TestReaderRefusesAFileWithARollbackJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	sealedLog(t, path).Close()
	if err := os.WriteFile(path+"-journal", []byte("\xd9\xd5\x05\xf9\x20\xa1\x63\xd7 a hot journal's header"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := sqlite.OpenReader(context.Background(), path); err == nil {
		r.Close()
		t.Fatal("a file with a rollback journal beside it was read")
	} else if !strings.Contains(err.Error(), "-journal is beside") {
		t.Fatalf("refused with %v, want it to name the journal", err)
	}
	// An empty journal (SQLite's truncate mode after a commit) is no
	// interrupted write.
	if err := os.WriteFile(path+"-journal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := sqlite.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// The lookup file is derived and the database administrator's: one whose
// size table is a view (here one computing rows without end, none of
// them the row a lookup asks for, which made
// every lookup and the indexer run until stopped) is made again at
// start, and lookups answer from it.
func TestLookupFileDeclaredAgainIsMadeAgain(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := sealedLog(t, path)
	if err := s.Append(ctx, 1, []events.Record{{Seq: 1, ID: events.NewID(), Case: "c", Item: "i", Bytes: []byte(`{"seq":1}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	edit(t, path+"-lookups", `DROP TABLE lookups_size`,
		`CREATE VIEW lookups_size AS WITH RECURSIVE r(one, size, anchor) AS (SELECT 2, 0, '' UNION ALL SELECT one, size + 1, anchor FROM r) SELECT * FROM r`)
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		n := 0
		err := s.ReadItem(ctx, "i", func(events.Record) error { n++; return nil })
		if err == nil && n != 1 {
			err = fmt.Errorf("read %d events of item i, want 1", n)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a lookup still runs after 20 s")
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close still waits after 20 s")
	}
}

// A log file and a lookup file as the vault writes them pass the checks:
// reopened, the lookup file keeps what it indexed (a file the checks
// refused would be made again, empty).
func TestFilesAsTheVaultWritesThemAreKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s := sealedLog(t, path)
	waitIndexed(t, path, 1)
	s.Close()
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"-lookups?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var size int
	if err := db.QueryRow(`SELECT size FROM lookups_size`).Scan(&size); err != nil || size != 1 {
		t.Fatalf("the reopened lookup file covers %d events (%v), want the 1 it had indexed", size, err)
	}
	r, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// Anything in a log file the vault does not make is refused: a trigger
// (one that drops each event the server writes, acknowledged but never
// stored), an index of another's making (which a count could be answered
// from, edited to disagree with its table), a table or a view besides.
func TestLogFileHoldingMoreIsRefused(t *testing.T) {
	ctx := context.Background()
	for name, stmt := range map[string]string{
		"a trigger": `CREATE TRIGGER drop_events BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END`,
		"an index":  `CREATE INDEX ix ON events(bytes)`,
		"a table":   `CREATE TABLE notes (x)`,
		"a view":    `CREATE VIEW v AS SELECT 1`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "custody.db")
			sealedLog(t, path).Close()
			edit(t, path, stmt)
			if s, err := sqlite.New(ctx, sqlite.Config{Path: path}); err == nil {
				s.Close()
				t.Error("the server's store opened the file")
			} else if !strings.Contains(err.Error(), "that the vault does not make") {
				t.Errorf("the store refused with %v", err)
			}
			if r, err := sqlite.OpenReader(ctx, path); err == nil {
				r.Close()
				t.Error("the audit's reader opened the file")
			} else if !strings.Contains(err.Error(), "that the vault does not make") {
				t.Errorf("the reader refused with %v", err)
			}
		})
	}
}

// A log reached through a link (kept on another disk) is read with the
// write-ahead log beside the file the link leads to, where SQLite keeps
// it: read as immutable from beside the link, the reader would miss what
// a running server committed there.
func TestReaderFollowsALinkToItsWriteAheadLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "disk", "custody.db")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	s := sealedLog(t, path) // left open: its commits are in the -wal
	defer s.Close()
	if err := s.Append(ctx, 1, []events.Record{{Seq: 1, ID: events.NewID(), Bytes: []byte(`{"seq":1}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "custody.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	r, err := sqlite.OpenReader(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n, _, err := r.Count(ctx); err != nil || n != 2 {
		t.Fatalf("through the link the reader counts %d events (%v), want the 2 the server committed", n, err)
	}
}

// The reader handles no value longer than 1 MiB, the schema's own text
// included, which SQLite reads whole before any check runs: a table
// declared with a long default is refused, not loaded.
func TestReaderRefusesALongSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	sealedLog(t, path).Close()
	edit(t, path, `CREATE TABLE pad (x DEFAULT '`+strings.Repeat("x", 4<<20)+`')`)
	r, err := sqlite.OpenReader(context.Background(), path)
	if err == nil {
		r.Close()
		t.Fatal("the file was read")
	}
	if len(err.Error()) > 1000 {
		t.Fatalf("the refusal is %d bytes long", len(err.Error()))
	}
	t.Logf("refused: %v", err)
}

// An altered log file of schema version 1 (before the seal table) is
// refused as it was found: not upgraded first, and so not written to.
func TestAlteredVersionOneIsRefusedUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	sealedLog(t, path).Close()
	edit(t, path, `DROP TABLE seal`, `PRAGMA user_version = 1`, `CREATE TRIGGER keep BEFORE DELETE ON events BEGIN SELECT RAISE(IGNORE); END`)
	if s, err := sqlite.New(context.Background(), sqlite.Config{Path: path}); err == nil {
		s.Close()
		t.Fatal("the server's store opened the altered file")
	} else if !strings.Contains(err.Error(), "that the vault does not make") {
		t.Fatalf("refused with %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version, seal int
	if err := db.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema WHERE name = 'seal')`).Scan(&version, &seal); err != nil {
		t.Fatal(err)
	}
	if version != 1 || seal != 0 {
		t.Fatalf("the refused file was upgraded: version %d, seal tables %d", version, seal)
	}
}

// A file whose schema changes while the server has it open is checked
// again before the next append commits: a trigger that drops each event
// written would have the vault acknowledge events that were never
// stored, and an index of another's making could answer lookups the
// events do not hold. The append is refused and nothing is written; an
// append after a change that leaves the file as the vault writes it
// goes on.
func TestSchemaChangedWhileOpenIsCheckedAgain(t *testing.T) {
	ctx := context.Background()
	rec := func(seq uint64) []events.Record {
		return []events.Record{{Seq: seq, ID: events.NewID(), Case: "c", Bytes: []byte(`{"seq":1}`)}}
	}
	for name, stmts := range map[string][]string{
		"a trigger dropping each event": {`CREATE TRIGGER drop_events BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END`},
		"an index of another's making":  {`CREATE INDEX events_by_item_again ON events(item_id)`},
		"a view":                        {`CREATE VIEW recent AS SELECT * FROM events`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "custody.db")
			s := sealedLog(t, path)
			defer s.Close()
			edit(t, path, stmts...)
			err := s.Append(ctx, 1, rec(1), nil)
			if err == nil {
				t.Fatal("the append went on after the file's schema changed")
			}
			if !strings.Contains(err.Error(), "the file was altered") || !strings.Contains(err.Error(), "changed while the vault had it open") {
				t.Fatalf("refused with %v, want it to say the file was altered while open", err)
			}
			if n, err := s.Size(ctx); err != nil || n != 1 {
				t.Fatalf("the log holds %d events (%v), want the 1 before the refused append", n, err)
			}
		})
	}
	t.Run("a change that leaves the file as the vault writes it", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "custody.db")
		s := sealedLog(t, path)
		defer s.Close()
		edit(t, path, `CREATE TABLE scratch (x)`, `DROP TABLE scratch`)
		if err := s.Append(ctx, 1, rec(1), nil); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Size(ctx); err != nil || n != 2 {
			t.Fatalf("the log holds %d events (%v), want 2", n, err)
		}
	})
}

// A file with two altered tables is refused for the same one each time
// it is opened: an administrator's change reads the same in every log.
func TestTwoAlteredTablesAreRefusedAlike(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	sealedLog(t, path).Close()
	edit(t, path, `ALTER TABLE events RENAME TO old_events`,
		`CREATE TABLE events (seq INTEGER PRIMARY KEY DESC, id TEXT NOT NULL, case_id TEXT NOT NULL, item_id TEXT NOT NULL, bytes BLOB NOT NULL)`,
		`INSERT INTO events SELECT * FROM old_events`, `DROP TABLE old_events`,
		`ALTER TABLE checkpoints RENAME TO old_checkpoints`,
		`CREATE TABLE checkpoints (size INTEGER PRIMARY KEY DESC, note BLOB NOT NULL)`,
		`INSERT INTO checkpoints SELECT * FROM old_checkpoints`, `DROP TABLE old_checkpoints`)
	var first string
	for i := range 8 {
		r, err := sqlite.OpenReader(ctx, path)
		if err == nil {
			r.Close()
			t.Fatal("the audit's reader opened the altered file")
		}
		if i == 0 {
			first = err.Error()
		} else if err.Error() != first {
			t.Fatalf("opened twice, the file was refused first with %q, then with %q", first, err)
		}
	}
}
