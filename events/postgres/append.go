package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// copyThreshold is the batch size from which rows go in with COPY rather
// than one multi-row INSERT: COPY costs an extra round trip but streams.
const copyThreshold = 64

// Append implements events.Store. It runs in one transaction that first
// locks the head row: every writer queues there, so the expected-position
// check and the inserts cannot interleave with another writer's.
func (s *Store) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	for i, r := range recs {
		if r.Seq != expected+uint64(i) {
			return fmt.Errorf("postgres: record %d has seq %d, want %d", i, r.Seq, expected+uint64(i))
		}
	}
	end := expected + uint64(len(recs))
	if cp != nil && cp.Size > end {
		return fmt.Errorf("postgres: checkpoint for size %d would cover events that are not stored (the log would have %d)", cp.Size, end)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.errorf("%w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var size int64
	var altered bool
	var xid string // the transaction's id, to learn its fate if its COMMIT's answer is lost
	// The wait for the head's lock, as for any lock of the server's
	// sessions, is bounded (lockWait, the connections' lock_timeout).
	if err := tx.QueryRow(ctx, `SELECT size, `+alteredSince+`, pg_catalog.pg_current_xact_id()::pg_catalog.text FROM custody_head FOR UPDATE`).Scan(&size, &altered, &xid); err != nil {
		if lockNotAvailable(err) {
			return s.errorf("the custody log's head stayed locked by another session for %s (a commit waiting for a synchronous standby that does not answer, or an administrator's lock: pg_locks and pg_stat_activity show which); nothing was appended: %w", lockWait, err)
		}
		return s.errorf("locking the head: %w", err)
	}
	if altered {
		return s.errorf("a table of the custody log was given a trigger, a rule or row-level security, or declared again, while the vault had it open; nothing was appended (a trigger dropped since still marks its table until the table is vacuumed: VACUUM it, then restart the server, which checks the tables again)")
	}
	if uint64(size) != expected {
		if uint64(size) > expected {
			stored, err := alreadyStored(ctx, tx, recs)
			if err != nil {
				return s.errorf("%w", err)
			}
			if stored {
				return nil
			}
		}
		return fmt.Errorf("%w (expected %d events, found %d)", events.ErrConflict, expected, size)
	}
	if err := insert(ctx, tx, recs); err != nil {
		return s.errorf("appending events %d..%d: %w", expected, end, err)
	}
	if len(recs) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE custody_head SET size = $1`, int64(end)); err != nil {
			return s.errorf("moving the head: %w", err)
		}
	}
	switch {
	case cp != nil && cp.Seal:
		if _, err := tx.Exec(ctx, `INSERT INTO custody_seal(one, size, note) VALUES (true, $1, $2)
			ON CONFLICT (one) DO UPDATE SET size = excluded.size, note = excluded.note`, int64(cp.Size), cp.Note); err != nil {
			return s.errorf("storing the seal of %d: %w", cp.Size, err)
		}
	case cp != nil:
		if _, err := tx.Exec(ctx, `INSERT INTO custody_checkpoints(size, note) VALUES ($1, $2)`, int64(cp.Size), cp.Note); err != nil {
			return s.errorf("storing checkpoint %d: %w", cp.Size, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return s.commitFailed(ctx, xid, recs, err)
	}
	return nil
}

// lockWait bounds how long any statement of the server's sessions waits
// for a lock (their lock_timeout), first an append's for the head's: a
// transaction that holds it without ending (a commit held by a synchronous
// standby that does not answer, or a session an administrator left open
// with the row or the table locked) would otherwise hold up every append,
// and every request waiting for one, for as long as it lasts. The append
// then fails, storing nothing, and says why; a read fails saying it could
// not take its lock. It is a connection parameter, so that it bounds the
// statements a connection prepares before running them too.
var lockWait = 30 * time.Second // tests lower it, before opening a store

// lockNotAvailable reports whether err is PostgreSQL's lock_not_available
// (SQLSTATE 55P03), which a lock_timeout raises.
func lockNotAvailable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// commitWait bounds how long an append whose COMMIT failed waits for its
// transaction to end on the server; commitPoll is how often it asks.
var (
	commitWait = 10 * time.Second // tests lower it
	commitPoll = 20 * time.Millisecond
)

// commitFailed learns what became of transaction xid, whose COMMIT
// failed (cerr): a connection lost while the server committed leaves the
// transaction running there, and other sessions see nothing of it until
// it ends. It asks the server (pg_xact_status, on another connection)
// until the transaction has ended, for at most commitWait: aborted is
// cerr; committed is success once the last of recs is read back at its
// position with its id (a server reached after a failover may have given
// the same transaction id to another transaction: then, and when the
// transaction is still running or not known, or the server cannot be
// asked, the error wraps events.ErrOutcomeUnknown, so that nobody takes
// the append for one that stored nothing, or for one that did).
func (s *Store) commitFailed(ctx context.Context, xid string, recs []events.Record, cerr error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitWait)
	defer cancel()
	unknown := func(why string, args ...any) error {
		return s.errorf("commit: %v; %s: %w", cerr, fmt.Sprintf(why, args...), events.ErrOutcomeUnknown)
	}
	var lastErr error
	for {
		var status *string
		err := s.pool.QueryRow(ctx, `SELECT pg_catalog.pg_xact_status($1::pg_catalog.text::pg_catalog.xid8)`, xid).Scan(&status)
		switch {
		case err == nil && status == nil:
			return unknown("the server no longer knows transaction %s", xid)
		case err == nil && *status == "aborted":
			return s.errorf("commit: %w", cerr)
		case err == nil && *status == "committed":
			if len(recs) == 0 {
				return unknown("transaction %s committed, and holds no event to read back", xid)
			}
			last := recs[len(recs)-1]
			var id string
			if err := s.pool.QueryRow(ctx, `SELECT `+boundedText("id")+` FROM custody_events WHERE seq OPERATOR(pg_catalog.=) $1`, int64(last.Seq)).Scan(&id); err != nil || id != last.ID {
				return unknown("transaction %s committed, but event %d is not read back as written (%v)", xid, last.Seq, err)
			}
			return nil
		case err != nil:
			lastErr = err // asked again: the pool may find a working connection
		}
		select {
		case <-time.After(commitPoll):
		case <-ctx.Done():
			if lastErr != nil {
				return unknown("asking the server what became of transaction %s: %v", xid, lastErr)
			}
			return unknown("transaction %s was still in progress on the server %v later", xid, commitWait)
		}
	}
}

// alteredSince is true when a table of the log now has what New refuses
// at open (checkColumns): a trigger, a rule or row-level security, or
// another kind than a plain table. It is read with the head's lock, in
// the same statement, so that an administrator who adds a trigger that
// drops each event written (or a rule that does so instead) while the
// server runs stops the next append before anything is written, rather
// than having the vault acknowledge events never stored. The tables are
// found as the append's statements find them (the search path), and
// every operator is pg_catalog's.
const alteredSince = `(SELECT pg_catalog.bool_or(c.relkind OPERATOR(pg_catalog.<>) 'r' OR c.relrowsecurity OR c.relhasrules OR c.relhastriggers)
	FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY['custody_head'::regclass, 'custody_events'::regclass,
	'custody_checkpoints'::regclass, 'custody_seal'::regclass]::pg_catalog.oid[]))`

func insert(ctx context.Context, tx pgx.Tx, recs []events.Record) error {
	if len(recs) >= copyThreshold {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"custody_events"},
			[]string{"seq", "id", "case_id", "item_id", "bytes"},
			pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
				r := recs[i]
				return []any{int64(r.Seq), r.ID, r.Case, r.Item, r.Bytes}, nil
			}))
		if err == nil && n != int64(len(recs)) {
			err = fmt.Errorf("copied %d rows of %d", n, len(recs))
		}
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	var q bytes.Buffer
	q.WriteString(`INSERT INTO custody_events(seq, id, case_id, item_id, bytes) VALUES `)
	args := make([]any, 0, 5*len(recs))
	for i, r := range recs {
		if i > 0 {
			q.WriteByte(',')
		}
		fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d)", 5*i+1, 5*i+2, 5*i+3, 5*i+4, 5*i+5)
		args = append(args, int64(r.Seq), r.ID, r.Case, r.Item, r.Bytes)
	}
	_, err := tx.Exec(ctx, q.String(), args...)
	return err
}

// alreadyStored reports whether every record is stored at its position with
// the same id and bytes: the append is a retry of one that succeeded.
func alreadyStored(ctx context.Context, tx pgx.Tx, recs []events.Record) (bool, error) {
	if len(recs) == 0 {
		return false, nil
	}
	first := recs[0].Seq
	rows, err := tx.Query(ctx, `SELECT seq, `+boundedText("id")+`, `+boundedBytes("bytes")+` FROM custody_events
		WHERE seq OPERATOR(pg_catalog.>=) $1 AND seq OPERATOR(pg_catalog.<) $2 ORDER BY seq`,
		int64(first), int64(first)+int64(len(recs)))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var seq int64
		var id string
		var b []byte
		if err := rows.Scan(&seq, &id, &b); err != nil {
			return false, err
		}
		r := recs[n]
		if uint64(seq) != r.Seq || id != r.ID || !bytes.Equal(b, r.Bytes) {
			return false, nil
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	return n == len(recs), nil
}
