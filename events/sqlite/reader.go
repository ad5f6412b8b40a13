package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/custos-vault/custos/events"
	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Reader reads a custody log's SQLite file without the server and
// without writing to it: its events with their lookup columns, its
// stored checkpoints and its batch seal, for `custos audit verify
// --store` (an auditor's check of the store's own copy of the log, where
// the server is stopped, refuses to start, or has halted its log).
//
// Everything it reads comes from one read transaction, one state of the
// file even while a server appends to it. It never creates, upgrades,
// indexes or checks the file: it opens it read-only (SQLite's mode=ro,
// query_only, trusted_schema off), and never writes the file or its
// write-ahead log: a file without a write-ahead log beside it (no server
// has it open) is read as immutable, making no file beside it; one with
// a -wal file (a live server's, or a copy taken with its write-ahead log)
// is read as any reader of it reads it, through SQLite's shared-memory
// index, the -shm file, which SQLite makes beside a copy that lacks one. The file is the database
// administrator's: the events and checkpoints must be plain tables (not
// views, which could compute rows without end), and values are read at
// most as long as the log allows (an event events.MaxEventSize+1 bytes,
// a lookup value at most MaxLookup bytes, a checkpoint or seal note
// refused beyond events.MaxCheckpointSize; bounded.go), and a longer
// value is never loaded, so that a crafted file cannot make the reader
// hold gigabytes.
type Reader struct {
	path    string
	db      *sql.DB
	conn    *sql.Conn
	tx      *sql.Tx
	version int64 // the file's schema version
	// immutable: no write-ahead log was beside the file at its opening,
	// so SQLite reads it as a file nobody writes (Changed); file and
	// opened are the file read and its status then.
	immutable bool
	file      string
	opened    os.FileInfo
}

// Changed reports whether the file was written since the reader opened
// it as a file nobody writes (no write-ahead log was beside it then, as
// of a stopped vault): its identity, size or modification time differ,
// or a write-ahead log is beside it now. SQLite takes no locks on such a
// file and keeps no view of it consistent under a writer, so what a
// reader read of a file that Changed may mix two states of it: an audit
// says so rather than report a finding. A reader opened beside a
// write-ahead log reads through SQLite's own locks, and Changed is false.
func (r *Reader) Changed() bool {
	if !r.immutable {
		return false
	}
	now, err := os.Stat(r.file)
	if err != nil || !os.SameFile(now, r.opened) || now.Size() != r.opened.Size() || !now.ModTime().Equal(r.opened.ModTime()) {
		return true
	}
	_, err = os.Lstat(r.file + "-wal")
	return err == nil
}

// MaxLookup bounds a lookup value (id, case, item) as the store and the
// reader return it: a longer one is returned as "(a value of N bytes)",
// and compared as such (the vault writes none over 64 bytes), within what
// the records stream carries (logstream.MaxLookup).
const MaxLookup = 1025

// OpenReader opens the custody log at path read-only. It refuses a file
// that does not exist or is not a regular file, is not a SQLite
// database, is not a Custos custody log (its application id), is of a
// schema version this build does not read, whose tables are not as the
// vault writes them (schemacheck.go: views, generated columns, a primary
// key that is not the rowid), or that has a rollback journal beside it.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	if path == "" {
		return nil, errors.New("sqlite: no path")
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sqlite: %s is not a regular file", path)
	}
	// SQLite keeps a file's write-ahead log and journal beside the file a
	// link leads to, not beside the link (a log kept on another disk).
	file, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// A rollback journal beside the file is a write SQLite undoes when
	// the file is next opened for writing (the server's start does):
	// read as immutable, the file would be audited as it is without that
	// undoing, not as the vault reads it. The vault writes its log in WAL
	// mode and never leaves one.
	if st, err := os.Lstat(file + "-journal"); err == nil && st.Size() > 0 {
		return nil, fmt.Errorf("sqlite: %s-journal is beside %s: an interrupted write, which SQLite undoes when the file is next opened for writing, and which the vault never leaves (it writes its log with a write-ahead log): the file was altered or is not the vault's; keep both as they are and audit a copy made with the sqlite3 tool (.backup), which undoes it first", path, path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	var opened os.FileInfo
	if _, err := os.Lstat(file + "-wal"); errors.Is(err, os.ErrNotExist) {
		q.Set("immutable", "1")
		if opened, err = os.Stat(file); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	q.Add("_pragma", "trusted_schema(0)")
	// As New: the path is read as a URI, so a % escape would name
	// another file than the one checked here.
	if strings.ContainsAny(file, "?#%") {
		return nil, fmt.Errorf("sqlite: path %q may not contain ?, # or %%", file)
	}
	db, err := sql.Open("sqlite", "file:"+file+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	r := &Reader{path: path, db: db, immutable: opened != nil, file: file, opened: opened}
	// No value SQLite handles for the reader, the schema's own text
	// included (which it reads whole before any check can run), may be
	// longer than 1 MiB: the log's longest is an event, 64 KiB.
	if r.conn, err = db.Conn(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s is not a readable SQLite database: %w", path, err)
	}
	if _, err := sqlitedriver.Limit(r.conn, sqlite3.SQLITE_LIMIT_LENGTH, maxValueLength); err != nil {
		r.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := r.open(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) open(ctx context.Context) error {
	var err error
	if r.tx, err = r.conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
		return fmt.Errorf("sqlite: %s is not a readable SQLite database: %w", r.path, err)
	}
	r.version, err = checkFile(ctx, r.tx, r.path)
	return err
}

// Count returns how many events the file holds, and the position of the
// last (0 for none).
func (r *Reader) Count(ctx context.Context) (n, last uint64, err error) {
	var count, maxSeq int64
	if err := r.tx.QueryRowContext(ctx, `SELECT count(*), coalesce(max(seq), 0) FROM events NOT INDEXED`).Scan(&count, &maxSeq); err != nil {
		return 0, 0, fmt.Errorf("sqlite: %w", err)
	}
	return uint64(count), uint64(maxSeq), nil
}

// Read calls fn for each stored event from position from on, in
// position order, with the lookup columns stored beside its bytes, as
// Store.Read does; rec.Bytes is valid only while fn runs. Bytes longer
// than events.MaxEventSize are returned as one byte more of zeros (what
// no event is, so a verifier refuses it), and a lookup value longer than
// MaxLookup bytes as "(a value of N bytes)", neither loaded.
func (r *Reader) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE seq >= ? ORDER BY seq`, int64(min(from, 1<<63-1)))
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return scanTransient(rows, fn)
}

// ReadCheckpoints calls fn for each stored checkpoint of size at least
// from, in order of size, as Store.ReadCheckpoints does: a page at a
// time, from the reader's one snapshot of the file.
func (r *Reader) ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error {
	return readCheckpointPages(ctx, r.tx, from, fn)
}

// LastCheckpoint returns the stored checkpoint of the largest size, or
// nil if there is none.
func (r *Reader) LastCheckpoint(ctx context.Context) (*events.StoredCheckpoint, error) {
	return r.oneNote(ctx, `SELECT `+noteColumns+` FROM checkpoints ORDER BY size DESC LIMIT 1`)
}

// oneNote returns the checkpoint or seal row query answers, or nil for
// none.
func (r *Reader) oneNote(ctx context.Context, query string) (*events.StoredCheckpoint, error) {
	rows, err := r.tx.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	c, err := scanNote(rows)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Seal returns the newest batch seal (custody-log.md 5.8: a checkpoint
// note of the size after the last batch appended, signed by the log's
// key, which the store never lists among its checkpoints), or nil for a
// log without one (schema version 1, or no batch yet).
func (r *Reader) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if r.version < 2 {
		return nil, nil
	}
	c, err := r.oneNote(ctx, `SELECT `+noteColumns+` FROM seal WHERE one = 1`)
	if err != nil {
		return nil, err
	}
	if c != nil {
		c.Seal = true
	}
	return c, nil
}

// Close ends the read and closes the file.
func (r *Reader) Close() error {
	if r.tx != nil {
		r.tx.Rollback()
	}
	if r.conn != nil {
		r.conn.Close()
	}
	return r.db.Close()
}

// maxValueLength is the longest string or blob the reader's connection
// handles (SQLITE_LIMIT_LENGTH, sqlite3_limit).
const maxValueLength = 1 << 20

// scanTransient calls fn for each of rows (seq, id, case_id, item_id,
// bytes), each record's Bytes the driver's row buffer, valid until fn
// returns, and closes rows.
func scanTransient(rows *sql.Rows, fn func(events.Record) error) error {
	defer rows.Close()
	var raw sql.RawBytes
	for rows.Next() {
		var r events.Record
		var seq int64
		if err := rows.Scan(&seq, &r.ID, &r.Case, &r.Item, &raw); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		r.Seq, r.Bytes = uint64(seq), raw
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}
