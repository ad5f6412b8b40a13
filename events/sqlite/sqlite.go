// Package sqlite is the embedded custody-log backend: one SQLite database
// file in WAL mode with full fsync, for a vault that runs on one server.
//
// The file is marked with an application id, so a database that belongs to
// something else, or a file that is not a database at all, is refused at
// open with a clear error. Nothing is ever truncated or repaired.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/custos-vault/custos/events"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// applicationID marks a Custos custody log ("CSTD").
const applicationID = 0x43535444

// schemaVersion is the user_version of the schema below.
const schemaVersion = 1

const schema = `
CREATE TABLE events (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL UNIQUE,
	case_id TEXT NOT NULL,
	item_id TEXT NOT NULL,
	bytes   BLOB NOT NULL
);
CREATE INDEX events_by_case ON events(case_id, seq) WHERE case_id != '';
CREATE INDEX events_by_item ON events(item_id, seq) WHERE item_id != '';
CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,
	note BLOB NOT NULL
);
`

// Config names the database file.
type Config struct {
	Path string
}

// Store is the SQLite custody log.
type Store struct {
	path   string
	writer *sql.DB // one connection, BEGIN IMMEDIATE
	reader *sql.DB
	insert *sql.Stmt
}

var _ events.Store = (*Store)(nil)

func dsn(path string, txlock string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	return "file:" + path + "?" + q.Encode()
}

// New opens the log at cfg.Path, creating it if the file does not exist or
// is empty.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite: no path")
	}
	if strings.ContainsAny(cfg.Path, "?#") {
		return nil, fmt.Errorf("sqlite: path %q may not contain ? or #", cfg.Path)
	}
	fi, err := os.Stat(cfg.Path)
	fresh := errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0)
	if err != nil && !fresh {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	writer, err := sql.Open("sqlite", dsn(cfg.Path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1)
	s := &Store{path: cfg.Path, writer: writer}
	if err := s.init(ctx, fresh); err != nil {
		writer.Close()
		return nil, err
	}
	s.reader, err = sql.Open("sqlite", dsn(cfg.Path, ""))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.insert, err = writer.PrepareContext(ctx, `INSERT INTO events(seq, id, case_id, item_id, bytes) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return s, nil
}

func (s *Store) init(ctx context.Context, fresh bool) error {
	if fresh {
		stamp := fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;", applicationID, schemaVersion)
		if _, err := s.writer.ExecContext(ctx, "BEGIN;"+schema+stamp+"COMMIT;"); err != nil {
			return fmt.Errorf("sqlite: creating %s: %w", s.path, err)
		}
		return nil
	}
	var app, version int64
	if err := s.writer.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return fmt.Errorf("sqlite: %s is not a readable SQLite database: %w", s.path, err)
	}
	if app != applicationID {
		return fmt.Errorf("sqlite: %s is not a Custos custody log (application id %#x); refusing to touch it", s.path, app)
	}
	if err := s.writer.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	if version != schemaVersion {
		return fmt.Errorf("sqlite: %s has schema version %d; this build reads version %d", s.path, version, schemaVersion)
	}
	var check string
	if err := s.writer.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return fmt.Errorf("sqlite: %s is corrupt: %w", s.path, err)
	}
	if check != "ok" {
		return fmt.Errorf("sqlite: %s is corrupt: %s", s.path, check)
	}
	return nil
}

// Append implements events.Store.
func (s *Store) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	for i, r := range recs {
		if r.Seq != expected+uint64(i) {
			return fmt.Errorf("sqlite: record %d has seq %d, want %d", i, r.Seq, expected+uint64(i))
		}
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	var size uint64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq)+1, 0) FROM events`).Scan(&size); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if size != expected {
		if size > expected && s.alreadyStored(ctx, tx, recs) {
			return nil
		}
		return fmt.Errorf("%w (expected %d events, found %d)", events.ErrConflict, expected, size)
	}
	ins := tx.StmtContext(ctx, s.insert)
	for _, r := range recs {
		if _, err := ins.ExecContext(ctx, int64(r.Seq), r.ID, r.Case, r.Item, r.Bytes); err != nil {
			return fmt.Errorf("sqlite: appending event %d: %w", r.Seq, err)
		}
	}
	if cp != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints(size, note) VALUES (?, ?)`, int64(cp.Size), cp.Note); err != nil {
			return fmt.Errorf("sqlite: storing checkpoint %d: %w", cp.Size, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// alreadyStored reports whether every record is stored at its position with
// the same id and bytes: the append is a retry of one that succeeded.
func (s *Store) alreadyStored(ctx context.Context, tx *sql.Tx, recs []events.Record) bool {
	if len(recs) == 0 {
		return false
	}
	for _, r := range recs {
		var id string
		var b []byte
		err := tx.QueryRowContext(ctx, `SELECT id, bytes FROM events WHERE seq = ?`, int64(r.Seq)).Scan(&id, &b)
		if err != nil || id != r.ID || string(b) != string(r.Bytes) {
			return false
		}
	}
	return true
}

// Size implements events.Store.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	var n uint64
	if err := s.reader.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq)+1, 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return n, nil
}

// Read implements events.Store.
func (s *Store) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return s.query(ctx, fn, `SELECT seq, id, case_id, item_id, bytes FROM events WHERE seq >= ? ORDER BY seq`, int64(from))
}

// ReadCase implements events.Store.
func (s *Store) ReadCase(ctx context.Context, caseID string, fn func(events.Record) error) error {
	return s.query(ctx, fn, `SELECT seq, id, case_id, item_id, bytes FROM events WHERE case_id = ? AND case_id != '' ORDER BY seq`, caseID)
}

// ReadItem implements events.Store.
func (s *Store) ReadItem(ctx context.Context, itemID string, fn func(events.Record) error) error {
	return s.query(ctx, fn, `SELECT seq, id, case_id, item_id, bytes FROM events WHERE item_id = ? AND item_id != '' ORDER BY seq`, itemID)
}

func (s *Store) query(ctx context.Context, fn func(events.Record) error, q string, args ...any) error {
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r events.Record
		var seq int64
		if err := rows.Scan(&seq, &r.ID, &r.Case, &r.Item, &r.Bytes); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		r.Seq = uint64(seq)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Checkpoints implements events.Store.
func (s *Store) Checkpoints(ctx context.Context) ([]events.StoredCheckpoint, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT size, note FROM checkpoints ORDER BY size`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []events.StoredCheckpoint
	for rows.Next() {
		var c events.StoredCheckpoint
		var size int64
		if err := rows.Scan(&size, &c.Note); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		c.Size = uint64(size)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Close implements events.Store.
func (s *Store) Close() error {
	var errs []error
	if s.insert != nil {
		errs = append(errs, s.insert.Close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	errs = append(errs, s.writer.Close())
	return errors.Join(errs...)
}
