package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The case and item lookups.
//
// ReadCase, ReadItem and ReadCaseOwn answer from a lookup table: one row
// per event and case or item it names, and one more for an event that
// names a case and no item (the case's own: its opening, members, holds,
// packages), so that reading those does not read the case's items'
// events. Case and item ids are random, so its rows land
// all over its b-tree; inserting them in each append's transaction made
// every commit several times slower, and any transaction on the log's
// file holds up the appends. So the table lives in a file of its own
// beside the log (PATH-lookups), which only an indexer writes, a few
// thousand events per transaction, once a second; appends never wait for
// it. lookups_size records how many events are indexed; a lookup reads the
// indexed rows and scans only the log's events after them. Nothing is
// held in memory per event.
//
// The file is derived data: it is made again from the log when it is
// missing, unreadable, of another log (lookups_anchor names the id of the
// last indexed event, checked before indexing more), or ahead of the log.
// The case's own rows exist from a position on, which the anchor names
// ("2:FROM:ID", anchorVersion): a lookup file of a version without them
// (whose anchor is the bare id) is kept and gains them from the events it
// indexes next, so that an upgrade reindexes nothing; before FROM, a
// case's own events are its rows whose events have an empty item_id. A
// version without them that finds this anchor takes the file for another
// log's and makes it again, and the next anchor it writes is a bare id
// again: no own rows are ever read where they may be missing.
//
// Like the case_id and item_id columns it is made from, it is not signed:
// the vault checks what a lookup returns against the signed events and
// their count (vault/reads.go).

// lookupSuffix names the lookup file: the log's path and this.
const lookupSuffix = "-lookups"

// lookupApplicationID marks a Custos lookup file ("CSTL").
const lookupApplicationID = 0x4353544c

const lookupSchema = `
CREATE TABLE IF NOT EXISTS lookups (
	key TEXT NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lookups_size (
	one    INTEGER PRIMARY KEY CHECK (one = 1),
	size   INTEGER NOT NULL,
	anchor TEXT NOT NULL
);
`

func caseKey(id string) string    { return "c:" + id }
func itemKey(id string) string    { return "i:" + id }
func caseOwnKey(id string) string { return "o:" + id }

// anchorVersion begins the anchors of lookup files whose rows include
// the cases' own events (caseOwnKey) from a position on.
const anchorVersion = "2:"

// readAnchor reads a lookup table's anchor: the id of its last indexed
// event, and the position from which it holds the cases' own rows (size,
// that is none yet, for the bare id a version without them wrote). ok is
// false for an anchor of neither form.
func readAnchor(anchor string, size uint64) (id string, ownFrom uint64, ok bool) {
	rest, ours := strings.CutPrefix(anchor, anchorVersion)
	if !ours {
		return anchor, size, !strings.Contains(anchor, ":")
	}
	from, id, found := strings.Cut(rest, ":")
	n, err := strconv.ParseUint(from, 10, 64)
	if !found || err != nil || n > size {
		return "", 0, false
	}
	return id, n, true
}

// writeAnchor is the anchor of a table whose last indexed event is id and
// whose own rows begin at ownFrom.
func writeAnchor(id string, ownFrom uint64) string {
	return anchorVersion + strconv.FormatUint(ownFrom, 10) + ":" + id
}

// indexChunk is how many events one indexer transaction covers.
const indexChunk = 4096

// indexInterval is how often the indexer catches up with the appends.
const indexInterval = time.Second

// openIndex opens the lookup file at path, making it afresh if it is
// missing or is not a lookup file.
func openIndex(ctx context.Context, path string) (*sql.DB, error) {
	if err := restrictFiles(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// Derived data: a crash may lose the last indexed chunks (they are
	// indexed again), never corrupt the file (WAL).
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "trusted_schema(0)")
	q.Set("_txlock", "immediate")
	open := func() (*sql.DB, error) {
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		var app int64
		if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
			db.Close()
			return nil, err
		}
		if app != lookupApplicationID {
			var tables int
			db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&tables)
			if tables > 0 {
				db.Close()
				return nil, fmt.Errorf("%s is not a lookup file", path)
			}
			if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", lookupApplicationID)); err != nil {
				db.Close()
				return nil, err
			}
		}
		if _, err := db.ExecContext(ctx, lookupSchema); err != nil {
			db.Close()
			return nil, err
		}
		// CREATE TABLE IF NOT EXISTS keeps a view of the same name, which
		// could compute rows without end: the file is made again instead.
		if err := checkSchema(ctx, db, lookupTables, nil, nil, map[string]bool{"lookups": true}); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s is not a lookup file as the vault writes it: %v", path, err)
		}
		return db, restrictFiles(path)
	}
	db, err := open()
	if err != nil {
		// Derived data: start it again.
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			os.Remove(p)
		}
		if db, err = open(); err != nil {
			return nil, fmt.Errorf("sqlite: the lookup file %s: %w", path, err)
		}
	}
	return db, nil
}

func (s *Store) runIndexer() {
	defer close(s.indexerDone)
	t := time.NewTicker(indexInterval)
	defer t.Stop()
	// Close stops a query under way too (one of an edited lookup file
	// that runs long), not only the next tick.
	stop := s.stopIndexer // Close sets the field to nil once this returns
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			// An error (a full disk) leaves the table behind: lookups
			// scan further, and the next tick tries again.
			s.catchUp(ctx, stop)
		}
	}
}

// indexed returns how many events the lookup table covers and its
// anchor (readAnchor). A size row edited to hold what the schema does not
// allow (SQLite keeps whatever a column is given: a fraction, text, a
// negative number) is read as an anchor no log has, so that the table is
// made again rather than every lookup failing on it.
func (s *Store) indexed(ctx context.Context) (uint64, string, error) {
	// A count stored as SQLite converts it under another column affinity
	// (text, a whole real) is read as that count, so that a size table
	// declared again with such a column is not made again forever; any
	// other value (a fraction, a word, a negative number) is NULL here.
	var n sql.NullInt64
	var anchor sql.NullString
	// A value longer than a count or an anchor can be is not loaded
	// (octet_length, as bounded.go reads the log), and reads as NULL.
	err := s.index.QueryRowContext(ctx, `SELECT
		CASE WHEN octet_length(size) > 32 THEN NULL WHEN CAST(size AS INTEGER) = size AND size >= 0 THEN CAST(size AS INTEGER) END,
		CASE WHEN octet_length(anchor) <= 256 THEN CAST(anchor AS TEXT) END
		FROM lookups_size WHERE one = 1`).Scan(&n, &anchor)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", err
	}
	if !n.Valid || !anchor.Valid {
		return 0, unreadableAnchor, nil
	}
	return uint64(n.Int64), anchor.String, nil
}

// unreadableAnchor stands for a size row that cannot be read: readAnchor
// refuses it at every size (it holds a colon and no version), so the
// table is taken for another log's and made again.
const unreadableAnchor = "unreadable:"

// catchUp adds the events not yet indexed to the lookup table, a chunk
// per transaction, until it covers the log or stop is closed.
func (s *Store) catchUp(ctx context.Context, stop <-chan struct{}) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	for resets := 0; ; {
		select {
		case <-stop:
			return nil
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n, reset, err := s.indexChunk(ctx)
		if err != nil || n == 0 {
			return err
		}
		// A table emptied and begun again twice in a row cannot keep what
		// it is given (its schema was edited): stop rather than spin.
		resets++
		if !reset {
			resets = 0
		}
		if resets > 1 {
			return fmt.Errorf("sqlite: the lookup file %s does not keep what it is given (was its schema edited?): lookups scan the log until it is removed and made again", s.path+lookupSuffix)
		}
	}
}

// anchored reports whether a lookup table of size events whose anchor is
// anchor is of this log: the anchor names the id of the log's event
// size-1 (readAnchor).
func (s *Store) anchored(ctx context.Context, size uint64, anchor string) bool {
	if anchor == unreadableAnchor {
		return false
	}
	if size == 0 {
		return true
	}
	anchor, _, ok := readAnchor(anchor, size)
	if !ok {
		return false
	}
	var id string
	err := s.reader.QueryRowContext(ctx, `SELECT `+boundedText("id")+` FROM events WHERE seq = ?`, int64(size-1)).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return true // cannot tell now: do not throw the table away
	}
	return err == nil && id == anchor
}

type lookupRow struct {
	key string
	seq int64
}

// indexChunk indexes up to indexChunk events in one transaction of the
// lookup file and returns how many. A table that is not of this log's
// history (its last indexed event is not the log's) is emptied first,
// and reset says so.
func (s *Store) indexChunk(ctx context.Context) (int, bool, error) {
	from, anchor, err := s.indexed(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: the lookup file: %w", err)
	}
	reset := !s.anchored(ctx, from, anchor)
	_, ownFrom, _ := readAnchor(anchor, from)
	if reset {
		from, ownFrom = 0, 0
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT seq, `+boundedText("id")+`, `+boundedText("case_id")+`, `+boundedText("item_id")+` FROM events WHERE seq >= ? ORDER BY seq LIMIT ?`, int64(from), indexChunk)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: %w", err)
	}
	var add []lookupRow
	n, last := 0, ""
	next := from
	for rows.Next() {
		var seq int64
		var id, c, it string
		if err := rows.Scan(&seq, &id, &c, &it); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("sqlite: %w", err)
		}
		if c != "" {
			add = append(add, lookupRow{caseKey(c), seq})
			if it == "" {
				add = append(add, lookupRow{caseOwnKey(c), seq})
			}
		}
		if it != "" {
			add = append(add, lookupRow{itemKey(it), seq})
		}
		n, last, next = n+1, id, uint64(seq)+1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("sqlite: %w", err)
	}
	if n == 0 && !reset {
		return 0, false, nil
	}
	// In key order, so that the rows of one case or item go to the same
	// pages.
	slices.SortFunc(add, func(a, b lookupRow) int { return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.seq, b.seq)) })
	tx, err := s.index.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: the lookup file: %w", err)
	}
	defer tx.Rollback()
	if reset {
		if _, err := tx.ExecContext(ctx, `DELETE FROM lookups; DELETE FROM lookups_size`); err != nil {
			return 0, false, fmt.Errorf("sqlite: the lookup file: %w", err)
		}
	}
	for len(add) > 0 {
		k := min(len(add), maxRowsPerInsert)
		args := make([]any, 0, 2*k)
		for _, r := range add[:k] {
			args = append(args, r.key, r.seq)
		}
		q := `INSERT OR IGNORE INTO lookups(key, seq) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?),", k), ",")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return 0, false, fmt.Errorf("sqlite: indexing events from %d: %w", from, err)
		}
		add = add[k:]
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lookups_size(one, size, anchor) VALUES (1, ?, ?) ON CONFLICT(one) DO UPDATE SET size = excluded.size, anchor = excluded.anchor`,
			int64(next), writeAnchor(last, ownFrom)); err != nil {
			return 0, false, fmt.Errorf("sqlite: the lookup file: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("sqlite: the lookup file: %w", err)
	}
	return max(n, 1), reset, nil
}

// lookup returns the positions of the events key (caseKey, itemKey or
// caseOwnKey of an id) indexes: the indexed ones from the lookup table,
// the rest by a scan of the log's events after them that meet tail (an
// SQL condition on the events table with one parameter, the id). A table
// far behind (a new lookup file, or a bulk import) is brought up first,
// so that the scan stays short.
func (s *Store) lookup(ctx context.Context, key, tail string) ([]uint64, error) {
	if len(key) <= 2 {
		return nil, nil
	}
	done, _, err := s.indexState(ctx)
	if err != nil {
		return nil, err
	}
	seqs, err := s.collect(ctx, s.index, nil, `SELECT seq FROM lookups WHERE key = ? AND seq < ? AND `+wholeSeq+` ORDER BY seq`, key, int64(done))
	if err != nil {
		return nil, err
	}
	return s.collect(ctx, s.reader, seqs, `SELECT seq FROM events WHERE seq >= ? AND `+tail+` ORDER BY seq`, int64(done), key[2:])
}

// indexState returns how many of the log's events the lookup table
// covers, and from which position it holds the cases' own rows. A table
// far behind (a new lookup file, or a bulk import) is brought up first,
// so that the scans of the events after it stay short.
func (s *Store) indexState(ctx context.Context) (done, ownFrom uint64, err error) {
	size, err := s.Size(ctx)
	if err != nil {
		return 0, 0, err
	}
	done, anchor, err := s.indexed(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: the lookup file: %w", err)
	}
	if done > size || size-done > 16*indexChunk || !s.anchored(ctx, done, anchor) {
		if err := s.catchUp(ctx, nil); err != nil {
			return 0, 0, err
		}
		if done, anchor, err = s.indexed(ctx); err != nil {
			return 0, 0, fmt.Errorf("sqlite: the lookup file: %w", err)
		}
	}
	_, ownFrom, ok := readAnchor(anchor, done)
	if !ok {
		ownFrom = done
	}
	done = min(done, size)
	return done, min(ownFrom, done), nil
}

// wholeSeq keeps, of a lookup's rows, those whose seq is what the
// schema says: SQLite stores what a column is given, and a row edited to
// hold a fraction or a negative number must not make every lookup of its
// key fail (the vault checks what the lookups return against the signed
// events and their count, so a row left out is found there).
const wholeSeq = `typeof(seq) = 'integer' AND seq >= 0`

// collect appends to seqs the positions a query of db returns.
func (s *Store) collect(ctx context.Context, db *sql.DB, seqs []uint64, q string, args ...any) ([]uint64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		seqs = append(seqs, uint64(seq))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return seqs, nil
}

// caseOwn returns the positions of a case's own events (those naming it
// and no item), in order, and how many of them come first that must be
// read only where their item_id is empty: the case's rows before the
// table's own rows begin (a table a version without them indexed). The
// rest come from the own rows and from a scan of the events after the
// table.
func (s *Store) caseOwn(ctx context.Context, caseID string) (seqs []uint64, filtered int, err error) {
	if caseID == "" {
		return nil, 0, nil
	}
	done, ownFrom, err := s.indexState(ctx)
	if err != nil {
		return nil, 0, err
	}
	if seqs, err = s.collect(ctx, s.index, nil, `SELECT seq FROM lookups WHERE key = ? AND seq < ? AND `+wholeSeq+` ORDER BY seq`, caseKey(caseID), int64(ownFrom)); err != nil {
		return nil, 0, err
	}
	filtered = len(seqs)
	if seqs, err = s.collect(ctx, s.index, seqs, `SELECT seq FROM lookups WHERE key = ? AND seq >= ? AND seq < ? AND `+wholeSeq+` ORDER BY seq`,
		caseOwnKey(caseID), int64(ownFrom), int64(done)); err != nil {
		return nil, 0, err
	}
	seqs, err = s.collect(ctx, s.reader, seqs, `SELECT seq FROM events WHERE seq >= ? AND `+lookupEquals("case_id", "?")+` AND `+lookupEquals("item_id", "''")+` ORDER BY seq`, int64(done), caseID)
	return seqs, filtered, err
}
