package postgres

import (
	"context"
	"errors"

	"github.com/custos-vault/custos/events"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// pageSize is how many events one query returns. Reads go page by page
// (each page a short query keyed on seq) rather than as one query over the
// whole log, so a long replay holds no connection, snapshot or server
// memory for its whole duration and a callback that stops early costs
// nothing. The log is append-only, so pages from successive snapshots
// still form one consistent prefix.
const pageSize = 2048

// Size implements events.Store.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT size FROM custody_head`).Scan(&n); err != nil {
		return 0, s.errorf("%w", err)
	}
	return uint64(n), nil
}

// Read implements events.Store.
func (s *Store) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return s.pages(ctx, from, fn, `SELECT `+eventColumns+` FROM custody_events
		WHERE seq OPERATOR(pg_catalog.>=) $1 ORDER BY seq LIMIT $2`, "")
}

// ReadCase implements events.Store.
func (s *Store) ReadCase(ctx context.Context, caseID string, fn func(events.Record) error) error {
	if caseID == "" {
		return nil
	}
	// case_id <> '' lets the planner use the partial index even with a
	// generic plan for the prepared statement.
	return s.pages(ctx, 0, fn, `SELECT `+eventColumns+` FROM custody_events
		WHERE seq OPERATOR(pg_catalog.>=) $1 AND case_id OPERATOR(pg_catalog.=) $3 AND case_id OPERATOR(pg_catalog.<>) '' ORDER BY seq LIMIT $2`, caseID)
}

// ReadCaseOwn implements events.CaseOwnReader: the case's rows by its
// index, of which only those whose item_id is empty are returned.
func (s *Store) ReadCaseOwn(ctx context.Context, caseID string, fn func(events.Record) error) error {
	if caseID == "" {
		return nil
	}
	return s.pages(ctx, 0, fn, `SELECT `+eventColumns+` FROM custody_events
		WHERE seq OPERATOR(pg_catalog.>=) $1 AND case_id OPERATOR(pg_catalog.=) $3 AND case_id OPERATOR(pg_catalog.<>) '' AND item_id OPERATOR(pg_catalog.=) '' ORDER BY seq LIMIT $2`, caseID)
}

// ReadItem implements events.Store.
func (s *Store) ReadItem(ctx context.Context, itemID string, fn func(events.Record) error) error {
	if itemID == "" {
		return nil
	}
	return s.pages(ctx, 0, fn, `SELECT `+eventColumns+` FROM custody_events
		WHERE seq OPERATOR(pg_catalog.>=) $1 AND item_id OPERATOR(pg_catalog.=) $3 AND item_id OPERATOR(pg_catalog.<>) '' ORDER BY seq LIMIT $2`, itemID)
}

// ReadBytes implements events.BytesReader: the positions and bytes
// alone, page by page as Read, each b the driver's own buffer
// (pgtype.DriverBytes), valid until fn returns, so that the check of the
// events a state snapshot covers copies nothing.
func (s *Store) ReadBytes(ctx context.Context, from uint64, fn func(seq uint64, b []byte) error) error {
	for limit := firstPageSize; ; limit = min(8*limit, pageSize) {
		rows, err := s.pool.Query(ctx, `SELECT seq, `+boundedBytes("bytes")+` FROM custody_events WHERE seq OPERATOR(pg_catalog.>=) $1 ORDER BY seq LIMIT $2`,
			int64(min(from, 1<<63-1)), limit)
		if err != nil {
			return s.errorf("%w", err)
		}
		n, last, err := s.lendRows(rows, fn)
		if err != nil {
			return err
		}
		if n < limit {
			return nil
		}
		from = last + 1
	}
}

// lendRows calls fn for each (seq, bytes) row, the bytes the driver's,
// and closes rows; it returns how many rows there were and the last seq.
func (s *Store) lendRows(rows pgx.Rows, fn func(seq uint64, b []byte) error) (int, uint64, error) {
	defer rows.Close()
	n, last := 0, uint64(0)
	for rows.Next() {
		var seq int64
		var b pgtype.DriverBytes
		if err := rows.Scan(&seq, &b); err != nil {
			return n, last, s.errorf("%w", err)
		}
		n, last = n+1, uint64(seq)
		if err := fn(last, b); err != nil {
			return n, last, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, last, s.errorf("%w", err)
	}
	return n, last, nil
}

// firstPageSize is the size of a read's first page; each later page is
// eight times larger, up to pageSize. A reader that wants one event (a
// deposit record, an event's time) then fetches a few rows, not 2,048.
const firstPageSize = 16

// pages runs q ($1 = first seq, $2 = page size, $3 = key if any) until a
// page comes back short.
func (s *Store) pages(ctx context.Context, from uint64, fn func(events.Record) error, q string, key string) error {
	for limit := firstPageSize; ; limit = min(8*limit, pageSize) {
		args := []any{int64(min(from, 1<<63-1)), limit}
		if key != "" {
			args = append(args, key)
		}
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return s.errorf("%w", err)
		}
		page, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (events.Record, error) {
			var r events.Record
			var seq int64
			err := row.Scan(&seq, &r.ID, &r.Case, &r.Item, &r.Bytes)
			r.Seq = uint64(seq)
			return r, err
		})
		if err != nil {
			return s.errorf("%w", err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < limit {
			return nil
		}
		from = page[len(page)-1].Seq + 1
	}
}

// Seal implements events.Store.
func (s *Store) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+noteColumns+` FROM custody_seal`)
	if err != nil {
		return nil, s.errorf("reading the seal: %w", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, s.scanNote)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.errorf("reading the seal: %w", err)
	}
	c.Seal = true
	return &c, nil
}

// checkpointPage is how many checkpoint rows ReadCheckpoints reads in one
// query: notes of about 400 bytes, about 400 KiB a page.
var checkpointPage = 1024

// ReadCheckpoints implements events.Store: a page of checkpointPage rows
// a query, each page read whole (its connection back in the pool) before
// fn sees it. Sizes are the table's primary key, so a page begins after
// the last size of the one before.
func (s *Store) ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error {
	if from == 0 {
		// A row of a negative size, which the pages (sizes of at least
		// from) never reach: the table's check forbids it, unless the
		// check was dropped.
		var neg int64
		switch err := s.pool.QueryRow(ctx, `SELECT size FROM custody_checkpoints WHERE size OPERATOR(pg_catalog.<) 0 LIMIT 1`).Scan(&neg); {
		case err == nil:
			return s.errorf("a checkpoint row's size is %d, below 0: the row was altered", neg)
		case !errors.Is(err, pgx.ErrNoRows):
			return s.errorf("%w", err)
		}
	}
	limit := checkpointPage
	return events.PageCheckpoints(from, limit, func(from uint64) ([]events.StoredCheckpoint, error) {
		rows, err := s.pool.Query(ctx, `SELECT `+noteColumns+` FROM custody_checkpoints WHERE size OPERATOR(pg_catalog.>=) $1 ORDER BY size LIMIT $2`, int64(from), limit)
		if err != nil {
			return nil, s.errorf("%w", err)
		}
		page, err := pgx.CollectRows(rows, s.scanNote)
		if err != nil {
			return nil, s.errorf("%w", err)
		}
		return page, nil
	}, fn)
}

// LastCheckpoint returns the stored checkpoint of the largest size, or
// nil if there is none.
func (s *Store) LastCheckpoint(ctx context.Context) (*events.StoredCheckpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+noteColumns+` FROM custody_checkpoints ORDER BY size DESC LIMIT 1`)
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, s.scanNote)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	return &c, nil
}

// Count returns how many events the log holds, and the position of the
// last (0 for none), for an audit without the server (OpenReader).
func (s *Store) Count(ctx context.Context) (n, last uint64, err error) {
	var count, maxSeq int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_catalog.count(*), coalesce(pg_catalog.max(seq), 0) FROM custody_events`).Scan(&count, &maxSeq); err != nil {
		return 0, 0, s.errorf("%w", err)
	}
	return uint64(count), uint64(maxSeq), nil
}
