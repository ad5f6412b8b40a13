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
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/custos-vault/custos/events"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// applicationID marks a Custos custody log ("CSTD").
const applicationID = 0x43535444

// schemaVersion is the user_version of the schema below. Version 1
// lacked the seal table; opening one adds it (a log written by version 1
// has no seal, and every durable event of it is covered by a published
// checkpoint written when its writer stopped).
const schemaVersion = 2

// sealTable keeps the newest batch seal, in one row.
const sealTable = `
CREATE TABLE seal (
	one  INTEGER PRIMARY KEY CHECK (one = 1),
	size INTEGER NOT NULL,
	note BLOB NOT NULL
);
`

const schema = `
CREATE TABLE events (
	seq     INTEGER PRIMARY KEY,
	id      TEXT NOT NULL,
	case_id TEXT NOT NULL,
	item_id TEXT NOT NULL,
	bytes   BLOB NOT NULL
);
CREATE TABLE checkpoints (
	size INTEGER PRIMARY KEY,
	note BLOB NOT NULL
);
` + sealTable

// Config names the database file.
type Config struct {
	Path string
}

// Store is the SQLite custody log.
type Store struct {
	path   string
	writer *sql.DB // one connection, BEGIN IMMEDIATE
	reader *sql.DB
	// inserts caches multi-row INSERT statements by row count: one
	// statement per batch costs far less than one per event.
	mu      sync.Mutex
	inserts map[int]*sql.Stmt

	// The case and item lookups are a table in a file of their own,
	// filled beside the appends, not in them (lookups.go).
	index   *sql.DB
	indexMu sync.Mutex
	// checkedAtOpen: New ran quick_check (a small file).
	checkedAtOpen bool
	// schemaCookie is the file's schema_version as last checked
	// (checkFile): SQLite adds one to it at every change to the schema,
	// by any connection, so Append checks the file again when it moved.
	schemaCookie atomic.Int64
	stopIndexer  chan struct{}
	indexerDone  chan struct{}

	// raw holds the free connections of the long reads (rawread.go);
	// rawReads counts those under way.
	raw     chan *rawConn
	rawFile os.FileInfo // the file the pool opened
	// walFile is the WAL the store writes, once seen; replaced is the
	// error a check found the files replaced with (itsfile.go).
	walPath   string // the WAL's path: beside the file s.path names
	walFile   atomic.Pointer[os.FileInfo]
	replaced  atomic.Pointer[error]
	closeOnce sync.Once
	closeErr  error

	rawMu    sync.Mutex
	rawOpen  int // connections open, idle or in use
	rawReads sync.WaitGroup
	// closing ends when Close begins: it interrupts the long reads and
	// refuses new ones, and new appends.
	closing    context.Context
	closeReads context.CancelFunc
}

var _ events.Store = (*Store)(nil)

func dsn(path string, txlock string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	// No SQL function a schema names runs with the store's rights
	// (checkSchema refuses triggers and views besides).
	q.Add("_pragma", "trusted_schema(0)")
	// The page size is SQLite's default, 4 KiB. (A page_size pragma here
	// would do nothing: modernc.org/sqlite runs the list sorted by name,
	// after journal_mode(WAL), when a new file's page size is already
	// fixed. And 16 KiB pages commit a batch of 64 events about a third
	// slower on every driver measured: docs/benchmarks.md, "The SQLite
	// drivers side by side".)
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// Checkpoint the WAL into the database less often than the default
	// 1000 pages: each checkpoint costs extra fsyncs on the append path.
	q.Add("_pragma", "wal_autocheckpoint(8192)")
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
	// SQLite reads the path as a URI ("file:" + path): a ? or # would
	// end it, and a % escape would name another file than the one the
	// store checks and restricts (the checks read the path as it is).
	if strings.ContainsAny(cfg.Path, "?#%") {
		return nil, fmt.Errorf("sqlite: path %q may not contain ?, # or %%", cfg.Path)
	}
	fi, err := os.Stat(cfg.Path)
	fresh := errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0)
	if err != nil && !fresh {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := restrictFiles(cfg.Path); err != nil {
		return nil, err
	}
	writer, err := sql.Open("sqlite", dsn(cfg.Path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1)
	s := &Store{path: cfg.Path, writer: writer}
	s.closing, s.closeReads = context.WithCancel(context.Background())
	if err := s.init(ctx, fresh); err != nil {
		writer.Close()
		return nil, err
	}
	s.reader, err = sql.Open("sqlite", dsn(cfg.Path, ""))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.inserts = map[int]*sql.Stmt{}
	if err := restrictFiles(cfg.Path); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openRawPool(); err != nil {
		s.Close()
		return nil, err
	}
	if s.index, err = openIndex(ctx, cfg.Path+lookupSuffix); err != nil {
		s.Close()
		return nil, err
	}
	s.stopIndexer, s.indexerDone = make(chan struct{}), make(chan struct{})
	go s.runIndexer()
	return s, nil
}

// restrictFiles makes the database file and its -wal and -shm files
// readable and writable by the owner only (0600), whatever the umask: they
// hold names, notes and token hashes. A missing database file is created
// 0600 first; SQLite creates the -wal and -shm files with the database
// file's permissions, and existing ones are changed here.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	return nil
}

// diskSpace says, for an error opening the database at path, that the
// disk holding it is full (less than 1 MiB left to its user), the
// likelier cause of an I/O error there than a damaged file: SQLite
// cannot create its shared-memory file or grow its write-ahead log. ""
// otherwise.
func diskSpace(path string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(filepath.Dir(path), &st) != nil {
		return ""
	}
	free := st.Bavail * uint64(st.Bsize)
	if free >= 1<<20 {
		return ""
	}
	return fmt.Sprintf("; the disk holding it has %d bytes free: a full disk, not a damaged file, is the likely cause: free space on it, then start again", free)
}

// readHeader checks that the database at path is a Custos custody log
// (its application id) and returns its schema version (user_version).
func readHeader(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, path string) (version int64, err error) {
	var app int64
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return 0, fmt.Errorf("sqlite: %s is not a readable SQLite database: %w%s", path, err, diskSpace(path))
	}
	if app != applicationID {
		return 0, fmt.Errorf("sqlite: %s is not a Custos custody log (application id %#x); refusing to touch it", path, app)
	}
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return version, nil
}

// checkFile checks that the database at path is a Custos custody log
// (readHeader) of a schema version this build reads (version 1 lacks only
// the seal table) holding nothing but what the vault writes
// (checkSchema), and returns its version.
func checkFile(ctx context.Context, q interface {
	querier
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, path string) (int64, error) {
	version, err := readHeader(ctx, q, path)
	if err != nil {
		return 0, err
	}
	if version != schemaVersion && version != 1 {
		return 0, fmt.Errorf("sqlite: %s has schema version %d; this build reads version %d", path, version, schemaVersion)
	}
	if err := checkSchema(ctx, q, logTables, logIndexes, map[string]bool{"seal": version == 1}, nil); err != nil {
		return 0, fmt.Errorf("sqlite: %s is not the custody log's file as the vault writes it (%v): the file was altered", path, err)
	}
	return version, nil
}

func (s *Store) init(ctx context.Context, fresh bool) error {
	if fresh {
		stamp := fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;", applicationID, schemaVersion)
		if _, err := s.writer.ExecContext(ctx, "BEGIN;"+schema+stamp+"COMMIT;"); err != nil {
			return fmt.Errorf("sqlite: creating %s: %w", s.path, err)
		}
		return s.noteSchema(ctx, s.writer)
	}
	// The file is checked before anything is written to it: an altered
	// file is refused as it was found, not upgraded first.
	version, err := checkFile(ctx, s.writer, s.path)
	if err != nil {
		return err
	}
	if version == 1 {
		upgrade := fmt.Sprintf("BEGIN;%sPRAGMA user_version = %d;COMMIT;", sealTable, schemaVersion)
		if _, err := s.writer.ExecContext(ctx, upgrade); err != nil {
			return fmt.Errorf("sqlite: upgrading %s to schema version %d: %w", s.path, schemaVersion, err)
		}
	}
	if err := s.noteSchema(ctx, s.writer); err != nil {
		return err
	}
	// quick_check reads the whole file (about 1.3 s a gigabyte): a small
	// log is checked here; a large one by CheckIntegrity, which the vault
	// runs beside the started server.
	if fi, err := os.Stat(s.path); err == nil && fi.Size() <= quickCheckAtOpen {
		s.checkedAtOpen = true
		return s.quickCheck(ctx, s.writer)
	}
	return nil
}

// noteSchema records the file's schema cookie after a check.
func (s *Store) noteSchema(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	var cookie int64
	if err := q.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&cookie); err != nil {
		return fmt.Errorf("sqlite: %s: %w", s.path, err)
	}
	s.schemaCookie.Store(cookie)
	return nil
}

// checkSchemaUnchanged checks the file again, inside the append's
// transaction, when its schema changed since it was last checked: a
// trigger, view or index added while the server runs (a trigger that
// drops each event written would have the vault acknowledge events
// never stored) stops the append before its commit, as it would stop
// the next start. Reading the cookie costs one look at the file's
// header a batch.
func (s *Store) checkSchemaUnchanged(ctx context.Context, tx *sql.Tx) error {
	var cookie int64
	if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&cookie); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if cookie == s.schemaCookie.Load() {
		return nil
	}
	if _, err := checkFile(ctx, tx, s.path); err != nil {
		return fmt.Errorf("%w; its schema changed while the vault had it open, and nothing was appended", err)
	}
	s.schemaCookie.Store(cookie)
	return nil
}

// quickCheckAtOpen is the largest database file New checks itself.
var quickCheckAtOpen int64 = 64 << 20

func (s *Store) quickCheck(ctx context.Context, db *sql.DB) error {
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return fmt.Errorf("sqlite: %s is corrupt: %w; %s", s.path, err, corruptAdvice)
	}
	if check != "ok" {
		return fmt.Errorf("sqlite: %s is corrupt: %s; %s", s.path, check, corruptAdvice)
	}
	return nil
}

// corruptAdvice is what to do about a custody log file SQLite finds
// corrupt.
const corruptAdvice = "nothing was appended to it. Keep the file as it is (for the incident's record), restore the custody log from backup and check the restore against the auditors' newest saved checkpoint before any start (docs/operations.md, \"Restoring\")"

// CheckIntegrity implements events.IntegrityChecker: SQLite's
// quick_check of the whole database file (its pages and b-trees; the
// events' contents are the hash chain's and the tree's to check).
// A log checked at open is not checked again.
func (s *Store) CheckIntegrity(ctx context.Context) error {
	if s.checkedAtOpen {
		return nil
	}
	return s.quickCheck(ctx, s.reader)
}

// Append implements events.Store.
func (s *Store) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	if err := s.replacedErr(); err != nil {
		return err
	}
	for i, r := range recs {
		if r.Seq != expected+uint64(i) {
			return fmt.Errorf("sqlite: record %d has seq %d, want %d", i, r.Seq, expected+uint64(i))
		}
	}
	// Prepare the statements first: the writer has one connection, which
	// the transaction below holds.
	stmts := make([]*sql.Stmt, 0, len(recs)/maxRowsPerInsert+1)
	for rest := len(recs); rest > 0; rest -= maxRowsPerInsert {
		st, err := s.insertStmt(ctx, min(rest, maxRowsPerInsert))
		if err != nil {
			return err
		}
		stmts = append(stmts, st)
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
	if err := s.checkSchemaUnchanged(ctx, tx); err != nil {
		return err
	}
	for _, stmt := range stmts {
		n := min(len(recs), maxRowsPerInsert)
		args := make([]any, 0, 5*n)
		for _, r := range recs[:n] {
			args = append(args, int64(r.Seq), r.ID, r.Case, r.Item, r.Bytes)
		}
		if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite: appending events %d to %d: %w", recs[0].Seq, recs[n-1].Seq, err)
		}
		recs = recs[n:]
	}
	switch {
	case cp != nil && cp.Seal:
		if _, err := tx.ExecContext(ctx, `INSERT INTO seal(one, size, note) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET size = excluded.size, note = excluded.note`, int64(cp.Size), cp.Note); err != nil {
			return fmt.Errorf("sqlite: storing the seal of %d: %w", cp.Size, err)
		}
	case cp != nil:
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints(size, note) VALUES (?, ?)`, int64(cp.Size), cp.Note); err != nil {
			return fmt.Errorf("sqlite: storing checkpoint %d: %w", cp.Size, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return commitFailed(err)
	}
	// Committed to the files the store opened: still the log's only if
	// its path names them (itsfile.go).
	return s.checkItsFiles()
}

// commitFailed words a failed COMMIT. An I/O error may come after the
// transaction's frames reached the write-ahead log (a failed fsync): the
// next open's recovery may then find them whole and replay them, so the
// append's outcome is not known (events.ErrOutcomeUnknown) until the
// next write overwrites them or the next open reads them. Any other
// error (SQLITE_FULL, SQLITE_BUSY) stored nothing. The code is read
// through the driver's Code method (modernc.org/sqlite's *Error); an
// extended code (SQLITE_IOERR_FSYNC, ...) carries its primary code in its
// low byte (https://sqlite.org/rescode.html).
func commitFailed(err error) error {
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqlite3.SQLITE_IOERR {
		return fmt.Errorf("sqlite: commit: %w (%w)", err, events.ErrOutcomeUnknown)
	}
	return fmt.Errorf("sqlite: commit: %w", err)
}

// maxRowsPerInsert keeps a statement's parameters (5 per row) under
// SQLite's default limit of 32766.
const maxRowsPerInsert = 256

// insertStmt returns the prepared INSERT of n rows.
func (s *Store) insertStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Err() != nil {
		return nil, errStoreClosed
	}
	if st, ok := s.inserts[n]; ok {
		return st, nil
	}
	q := "INSERT INTO events(seq, id, case_id, item_id, bytes) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?),", n), ",")
	st, err := s.writer.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.inserts[n] = st
	return st, nil
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
		err := tx.QueryRowContext(ctx, `SELECT `+boundedText("id")+`, `+boundedBytes("bytes")+` FROM events WHERE seq = ?`, int64(r.Seq)).Scan(&id, &b)
		if err != nil || id != r.ID || string(b) != string(r.Bytes) {
			return false
		}
	}
	return true
}

// Size implements events.Store.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	if err := s.replacedErr(); err != nil {
		return 0, err
	}
	var n uint64
	if err := s.reader.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq)+1, 0) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return n, nil
}

// Read implements events.Store.
func (s *Store) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return s.query(ctx, fn, `SELECT `+eventColumns+` FROM events WHERE seq >= ? ORDER BY seq`, int64(min(from, 1<<63-1)))
}

// ReadTransient implements events.TransientReader: Read, with each
// record's Bytes in SQLite's own memory, valid until fn returns, read
// through SQLite's C API (readRaw). fn must not call Close.
func (s *Store) ReadTransient(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return s.readRaw(ctx, `SELECT `+eventColumns+` FROM events WHERE seq >= ? ORDER BY seq`, from, true, fn)
}

// ReadBytes implements events.BytesReader: the positions and bytes
// alone, each b valid until fn returns (readRaw, as ReadTransient).
func (s *Store) ReadBytes(ctx context.Context, from uint64, fn func(seq uint64, b []byte) error) error {
	return s.readRaw(ctx, `SELECT seq, `+boundedBytes("bytes")+` FROM events WHERE seq >= ? ORDER BY seq`, from, false, func(r events.Record) error {
		return fn(r.Seq, r.Bytes)
	})
}

// ReadCase implements events.Store.
func (s *Store) ReadCase(ctx context.Context, caseID string, fn func(events.Record) error) error {
	seqs, err := s.lookup(ctx, caseKey(caseID), lookupEquals("case_id", "?"))
	if err != nil {
		return err
	}
	return s.readSeqs(ctx, seqs, fn)
}

// ReadItem implements events.Store.
func (s *Store) ReadItem(ctx context.Context, itemID string, fn func(events.Record) error) error {
	seqs, err := s.lookup(ctx, itemKey(itemID), lookupEquals("item_id", "?"))
	if err != nil {
		return err
	}
	return s.readSeqs(ctx, seqs, fn)
}

// ReadCaseOwn implements events.CaseOwnReader, from the lookup table's
// rows for the case's own events (lookups.go): it reads none of the
// case's items' events, except in the part of the log a lookup file
// indexed before it held those rows, where the case's rows are read and
// those with an item passed over in SQLite (their bytes not read out).
func (s *Store) ReadCaseOwn(ctx context.Context, caseID string, fn func(events.Record) error) error {
	seqs, filtered, err := s.caseOwn(ctx, caseID)
	if err != nil {
		return err
	}
	if err := s.readSeqsWhere(ctx, seqs[:filtered], ` AND `+lookupEquals("item_id", "''"), fn); err != nil {
		return err
	}
	return s.readSeqs(ctx, seqs[filtered:], fn)
}

// readSeqs reads the events at the given positions, in order, a few
// hundred per query.
func (s *Store) readSeqs(ctx context.Context, seqs []uint64, fn func(events.Record) error) error {
	return s.readSeqsWhere(ctx, seqs, "", fn)
}

// readSeqsWhere reads the events at the given positions that also meet
// cond (an SQL condition on the events table, "" for none).
func (s *Store) readSeqsWhere(ctx context.Context, seqs []uint64, cond string, fn func(events.Record) error) error {
	for len(seqs) > 0 {
		n := min(len(seqs), 500)
		args := make([]any, n)
		for i, q := range seqs[:n] {
			args[i] = int64(q)
		}
		q := `SELECT ` + eventColumns + ` FROM events WHERE seq IN (` +
			strings.TrimSuffix(strings.Repeat("?,", n), ",") + `)` + cond + ` ORDER BY seq`
		if err := s.query(ctx, fn, q, args...); err != nil {
			return err
		}
		seqs = seqs[n:]
	}
	return nil
}

func (s *Store) query(ctx context.Context, fn func(events.Record) error, q string, args ...any) error {
	if err := s.replacedErr(); err != nil {
		return err
	}
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

// Seal implements events.Store.
func (s *Store) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	if err := s.replacedErr(); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+noteColumns+` FROM seal WHERE one = 1`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading the seal: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: reading the seal: %w", err)
		}
		return nil, nil
	}
	c, err := scanNote(rows)
	if err != nil {
		return nil, err
	}
	c.Seal = true
	return &c, nil
}

// ReadCheckpoints implements events.Store: a page of checkpointPage
// rows a query, none held while fn runs.
func (s *Store) ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error {
	return readCheckpointPages(ctx, s.reader, from, fn)
}

// checkpointPage is how many checkpoint rows ReadCheckpoints reads in one
// query: notes of about 400 bytes, about 400 KiB a page.
var checkpointPage = 1024

// readCheckpointPages reads the checkpoints of size at least from a page
// at a time, each page's rows read and closed before fn sees them (a
// slow fn, an auditor's replay, holds no statement open). Sizes are the
// table's primary key, so a page begins after the last size of the one
// before.
func readCheckpointPages(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, from uint64, fn func(events.StoredCheckpoint) error) error {
	if from == 0 {
		// A row of a negative size, which the pages (sizes of at least
		// from) never reach: the vault stores none.
		var neg int64
		switch err := q.QueryRowContext(ctx, `SELECT size FROM checkpoints WHERE size < 0 LIMIT 1`).Scan(&neg); {
		case err == nil:
			return fmt.Errorf("sqlite: a checkpoint row's size is %d, below 0: the row was altered", neg)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	limit := checkpointPage
	return events.PageCheckpoints(from, limit, func(from uint64) ([]events.StoredCheckpoint, error) {
		rows, err := q.QueryContext(ctx, `SELECT `+noteColumns+` FROM checkpoints WHERE size >= ? ORDER BY size LIMIT ?`, int64(from), limit)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		defer rows.Close()
		page := make([]events.StoredCheckpoint, 0, limit)
		for rows.Next() {
			c, err := scanNote(rows)
			if err != nil {
				return nil, err
			}
			page = append(page, c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		return page, nil
	}, fn)
}

// Close implements events.Store. Calls after the first, at once or
// later, wait for it and return its error.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.closeRawPool()
	if s.stopIndexer != nil {
		close(s.stopIndexer)
		<-s.indexerDone
		s.stopIndexer = nil
	}
	var errs []error
	// Under the lock an append takes to find or prepare its statement
	// (insertStmt, which refuses once closing ended): an append under
	// way meets a closed store, not a map being read.
	s.mu.Lock()
	for _, st := range s.inserts {
		errs = append(errs, st.Close())
	}
	clear(s.inserts)
	s.mu.Unlock()
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.index != nil {
		errs = append(errs, s.index.Close())
	}
	errs = append(errs, s.writer.Close())
	return errors.Join(errs...)
}
