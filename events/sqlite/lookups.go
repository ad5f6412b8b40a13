package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The case and item lookups.
//
// ReadCase and ReadItem answer from the table lookups: one row per event
// and case or item it names, keyed "c:"+case or "i:"+item. Case and item
// ids are random, so rows land all over the table's b-tree; inserting
// them in each append's transaction made every commit several times
// slower (docs/benchmarks.md). So the appends do not touch it: an indexer
// fills it beside them, a few thousand events per transaction, once a
// second and whenever a lookup finds it behind. lookups_size records how
// many events are indexed; a lookup reads the indexed rows and scans only
// the events after them. Nothing is held in memory per event.
//
// The lookup tables, like the case_id and item_id columns they are made
// from, are not signed: the vault checks what a lookup returns against
// the signed events and their count (vault/reads.go).

const lookupTables = `
CREATE TABLE lookups (
	key TEXT NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE TABLE lookups_size (
	one  INTEGER PRIMARY KEY CHECK (one = 1),
	size INTEGER NOT NULL
);
`

func caseKey(id string) string { return "c:" + id }
func itemKey(id string) string { return "i:" + id }

// indexChunk is how many events one indexer transaction covers: it
// bounds how long an append waits for the indexer.
const indexChunk = 2048

// indexInterval is how often the indexer catches up with the appends.
const indexInterval = time.Second

func (s *Store) runIndexer() {
	defer close(s.indexerDone)
	t := time.NewTicker(indexInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stopIndexer:
			return
		case <-t.C:
			// An error (a busy or full disk) leaves the table behind:
			// lookups scan further, and the next tick tries again.
			s.index(context.Background(), s.stopIndexer)
		}
	}
}

// indexedSize returns how many events the lookup table covers.
func indexedSize(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (uint64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT size FROM lookups_size WHERE one = 1`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return uint64(n), err
}

// index adds the events not yet indexed to the lookup table, a chunk per
// transaction, until it covers the log or stop is closed.
func (s *Store) index(ctx context.Context, stop <-chan struct{}) error {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		n, err := s.indexChunk(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// indexChunk indexes up to indexChunk events in one transaction and
// returns how many.
func (s *Store) indexChunk(ctx context.Context) (int, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	from, err := indexedSize(ctx, tx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, case_id, item_id FROM events WHERE seq >= ? ORDER BY seq LIMIT ?`, int64(from), indexChunk)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	var args []any
	n, next := 0, from
	for rows.Next() {
		var seq int64
		var c, it string
		if err := rows.Scan(&seq, &c, &it); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sqlite: %w", err)
		}
		if c != "" {
			args = append(args, caseKey(c), seq)
		}
		if it != "" {
			args = append(args, itemKey(it), seq)
		}
		n, next = n+1, uint64(seq)+1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	for len(args) > 0 {
		k := min(len(args), 2*maxRowsPerInsert)
		q := `INSERT OR IGNORE INTO lookups(key, seq) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?),", k/2), ",")
		if _, err := tx.ExecContext(ctx, q, args[:k]...); err != nil {
			return 0, fmt.Errorf("sqlite: indexing events from %d: %w", from, err)
		}
		args = args[k:]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO lookups_size(one, size) VALUES (1, ?) ON CONFLICT(one) DO UPDATE SET size = max(size, excluded.size)`, int64(next)); err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: commit: %w", err)
	}
	return n, nil
}

// lookup returns the positions of the events whose column (case_id or
// item_id) holds the key's id: the indexed ones from the lookup table,
// the rest by a scan of the events after them, in one read transaction.
// A table far behind (a log just upgraded, or filled by a bulk import) is
// brought up first, so that the scan stays short.
func (s *Store) lookup(ctx context.Context, column, key string) ([]uint64, error) {
	if len(key) <= 2 {
		return nil, nil
	}
	size, err := s.Size(ctx)
	if err != nil {
		return nil, err
	}
	if done, err := indexedSize(ctx, s.reader); err == nil && size-min(size, done) > 16*indexChunk {
		if err := s.index(ctx, nil); err != nil {
			return nil, err
		}
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	done, err := indexedSize(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	var seqs []uint64
	collect := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				return fmt.Errorf("sqlite: %w", err)
			}
			seqs = append(seqs, uint64(seq))
		}
		return rows.Err()
	}
	if err := collect(`SELECT seq FROM lookups WHERE key = ? AND seq < ? ORDER BY seq`, key, int64(done)); err != nil {
		return nil, err
	}
	if err := collect(`SELECT seq FROM events WHERE seq >= ? AND `+column+` = ? ORDER BY seq`, int64(done), key[2:]); err != nil {
		return nil, err
	}
	return seqs, nil
}
