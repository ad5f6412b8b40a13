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
)

// Reader reads a custody log's SQLite file without the server and
// without writing to it: its events with their lookup columns, and its
// stored checkpoints, for `custos audit verify --store` (an auditor's
// check of the store's own copy of the log, where the server is stopped,
// refuses to start, or has halted its log). It never creates, upgrades,
// indexes or checks the file, and opens it read-only (SQLite's
// mode=ro), so a server using the file beside it is not disturbed; a
// file no server has open (no -wal file beside it) is read as immutable,
// so that not even SQLite's -wal and -shm files are made beside it.
type Reader struct {
	path string
	db   *sql.DB
}

// OpenReader opens the custody log at path read-only. It refuses a file
// that does not exist, is not a SQLite database, is not a Custos custody
// log (its application id), or is of a schema version this build does
// not read.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	if path == "" {
		return nil, errors.New("sqlite: no path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: path %q may not contain ? or #", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sqlite: %s is not a regular file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	if _, err := os.Lstat(path + "-wal"); errors.Is(err, os.ErrNotExist) {
		// No write-ahead log beside it: no server has it open (one that
		// stopped removed it). Read it as a file that does not change,
		// or SQLite would create the -wal and -shm files to read it.
		q.Set("immutable", "1")
	}
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	var app, version int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s is not a readable SQLite database: %w", path, err)
	}
	if app != applicationID {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s is not a Custos custody log (application id %#x)", path, app)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	// Version 1 lacks only the seal table, which a reader does not use.
	if version != schemaVersion && version != 1 {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s has schema version %d; this build reads version %d", path, version, schemaVersion)
	}
	return &Reader{path: path, db: db}, nil
}

// Read calls fn for each stored event from position from on, in
// position order, with the lookup columns stored beside its bytes, as
// Store.Read does.
func (r *Reader) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	rows, err := r.db.QueryContext(ctx, `SELECT seq, id, case_id, item_id, bytes FROM events WHERE seq >= ? ORDER BY seq`, int64(min(from, 1<<63-1)))
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var raw sql.RawBytes
	for rows.Next() {
		var rec events.Record
		var seq int64
		if err := rows.Scan(&seq, &rec.ID, &rec.Case, &rec.Item, &raw); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		rec.Seq, rec.Bytes = uint64(seq), raw
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// Checkpoints returns the stored checkpoints, by size, as
// Store.Checkpoints does: the rows as stored, which an auditor checks
// (each note's signature and its size and root against the replay).
func (r *Reader) Checkpoints(ctx context.Context) ([]events.StoredCheckpoint, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT size, note FROM checkpoints ORDER BY size`)
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

// Seal returns the newest batch seal (custody-log.md 5.8: a checkpoint
// note of the size after the last batch appended, signed by the log's
// key, which the store never lists among its checkpoints), or nil for a
// log without one (schema version 1, or no batch yet).
func (r *Reader) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	var version int64
	if err := r.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if version < 2 {
		return nil, nil
	}
	var size int64
	var note []byte
	err := r.db.QueryRowContext(ctx, `SELECT size, note FROM seal WHERE one = 1`).Scan(&size, &note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return &events.StoredCheckpoint{Size: uint64(size), Note: note}, nil
}

// Path is the file read.
func (r *Reader) Path() string { return r.path }

// Close closes the file.
func (r *Reader) Close() error { return r.db.Close() }
