// Package postgres is the custody-log backend on PostgreSQL, for a vault
// whose operators already run a replicated PostgreSQL.
//
// The log lives in four tables of the connection's current schema:
// custody_meta marks the schema as a Custos custody log with its version,
// custody_head is one row holding the log's size, custody_events holds the
// event bytes by position, and custody_checkpoints the signed checkpoint
// notes by size. Every append takes the head row's lock, so two vault
// processes on one database are serialised and can never fork the log.
//
// A database that holds other tables but no custody_meta, or whose
// custody_meta describes something else, is refused at open: the store
// never writes into a database it did not create.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/custos-vault/custos/events"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// kind is what custody_meta says a Custos custody log is.
const kind = "custos custody log"

// schemaVersion is the version of the schema below. Version 1 lacked
// custody_seal; opening one adds it.
const schemaVersion = "2"

// sealTable keeps the newest batch seal, in one row.
const sealTable = `
CREATE TABLE custody_seal (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	size bigint NOT NULL CHECK (size >= 0),
	note bytea NOT NULL
);
`

// caseOwnIndex indexes the cases' own events (those naming no item:
// ReadCaseOwn). An open that finds it missing makes it (ensureCaseOwn),
// so that a log made before it gains it without a new schema version,
// and a build from before it opens the log as before (its appends keep
// the index up).
const caseOwnIndex = `CREATE INDEX IF NOT EXISTS custody_events_case_own ON custody_events(case_id, seq) WHERE case_id <> '' AND item_id = '';`

// initLock is the advisory lock key that serialises schema creation, so
// two processes opening one fresh database do not both create it.
const initLock = 0x43535444 // "CSTD", as the SQLite application id

const schema = `
CREATE TABLE custody_meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);
CREATE TABLE custody_head (
	one  boolean PRIMARY KEY DEFAULT true CHECK (one),
	size bigint NOT NULL CHECK (size >= 0)
);
CREATE TABLE custody_events (
	seq     bigint PRIMARY KEY CHECK (seq >= 0),
	id      text NOT NULL UNIQUE,
	case_id text NOT NULL,
	item_id text NOT NULL,
	bytes   bytea NOT NULL
);
CREATE INDEX custody_events_by_case ON custody_events(case_id, seq) WHERE case_id <> '';
CREATE INDEX custody_events_by_item ON custody_events(item_id, seq) WHERE item_id <> '';
CREATE TABLE custody_checkpoints (
	size bigint PRIMARY KEY CHECK (size >= 0),
	note bytea NOT NULL
);
INSERT INTO custody_head(one, size) VALUES (true, 0);
` + caseOwnIndex + `
` + sealTable

// Config names the database.
type Config struct {
	// URL is a postgres:// or postgresql:// connection URL, with any of
	// libpq's parameters (sslmode, search_path through options, ...).
	URL string
}

// Store is the PostgreSQL custody log.
type Store struct {
	pool *pgxpool.Pool
	name string // the URL without password, for error messages
}

var _ events.Store = (*Store)(nil)

// New connects to the database, creates the schema if the database is
// empty, and checks that an existing one is a Custos custody log of this
// version whose head agrees with its events.
func New(ctx context.Context, cfg Config) (*Store, error) {
	name, pcfg, err := poolConfig(cfg.URL)
	if err != nil {
		return nil, err
	}
	// Acknowledged means durable: refuse to run with asynchronous commit
	// even if the server or role defaults to it.
	pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	pcfg.ConnConfig.RuntimeParams["lock_timeout"] = fmt.Sprintf("%dms", max(lockWait.Milliseconds(), 1))
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", name, err)
	}
	s := &Store{pool: pool, name: name}
	if err := s.init(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) errorf(format string, args ...any) error {
	return fmt.Errorf("postgres: %s: "+format, append([]any{s.name}, args...)...)
}

// init creates or checks the schema under an advisory lock.
func (s *Store) init(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.errorf("connecting: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := s.initTx(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return s.errorf("commit: %w", err)
	}
	return nil
}

func (s *Store) initTx(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock($1)`, int64(initLock)); err != nil {
		return s.errorf("%w", err)
	}
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema OPERATOR(pg_catalog.=) pg_catalog.current_schema() ORDER BY table_name`)
	if err != nil {
		return s.errorf("listing tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return s.errorf("listing tables: %w", err)
	}
	if len(tables) == 0 {
		return s.create(ctx, tx)
	}
	return s.check(ctx, tx, tables)
}

func (s *Store) create(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, schema); err != nil {
		return s.errorf("creating the custody log: %w", err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO custody_meta(key, value) VALUES ('kind', $1), ('version', $2)`, kind, schemaVersion)
	if err != nil {
		return s.errorf("creating the custody log: %w", err)
	}
	return nil
}

func (s *Store) check(ctx context.Context, tx pgx.Tx, tables []string) error {
	have := map[string]bool{}
	for _, t := range tables {
		have[t] = true
	}
	if !have["custody_meta"] {
		if len(tables) > 5 {
			tables = append(tables[:5], "...")
		}
		return s.errorf("the database holds tables (%s) but is not a Custos custody log (no custody_meta); refusing to touch it", strings.Join(tables, ", "))
	}
	meta := map[string]string{}
	// Each value is read at most 64 bytes long (the log writes none
	// longer), so that an edited row is neither fetched whole nor quoted
	// whole in a refusal.
	rows, err := tx.Query(ctx, `SELECT pg_catalog.left(key::text, 64),
		CASE WHEN pg_catalog.octet_length(value::text) OPERATOR(pg_catalog.<=) 64 THEN value::text ELSE '(a longer value)' END
		FROM custody_meta LIMIT 64`)
	if err != nil {
		return s.errorf("custody_meta is not ours: %w; refusing to touch it", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return s.errorf("custody_meta is not ours: %w; refusing to touch it", err)
		}
		meta[k] = v
	}
	if err := rows.Err(); err != nil {
		return s.errorf("custody_meta is not ours: %w; refusing to touch it", err)
	}
	if meta["kind"] != kind {
		return s.errorf("custody_meta does not mark a Custos custody log (kind %q); refusing to touch it", meta["kind"])
	}
	if meta["version"] != "1" && meta["version"] != schemaVersion {
		return s.errorf("the custody log has schema version %q; this build reads version %s", meta["version"], schemaVersion)
	}
	// The tables are checked before anything is written: an altered log
	// is refused as it was found, not upgraded first. Version 1 lacks
	// only the seal table.
	for _, t := range []string{"custody_head", "custody_events", "custody_checkpoints", "custody_seal"} {
		if !have[t] && (t != "custody_seal" || meta["version"] != "1") {
			return s.errorf("the custody log has no %s table: it is damaged", t)
		}
	}
	var schema string
	if err := tx.QueryRow(ctx, `SELECT pg_catalog.current_schema()`).Scan(&schema); err != nil {
		return s.errorf("reading the schema: %w", err)
	}
	optional := ""
	if meta["version"] == "1" {
		optional = "custody_seal"
	}
	if err := s.checkColumns(ctx, tx, schema, optional); err != nil {
		return err
	}
	if meta["version"] == "1" {
		if _, err := tx.Exec(ctx, sealTable); err != nil {
			return s.errorf("upgrading the custody log to schema version %s: %w", schemaVersion, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE custody_meta SET value = $1 WHERE key OPERATOR(pg_catalog.=) 'version'`, schemaVersion); err != nil {
			return s.errorf("upgrading the custody log to schema version %s: %w", schemaVersion, err)
		}
	}
	if err := s.ensureCaseOwn(ctx, tx); err != nil {
		return err
	}
	// The head must agree with the events: the first is 0 and the last is
	// size-1 (the primary key rules out duplicates). MIN and MAX alone are
	// answered from the primary key's index, so this is cheap on any size.
	var heads int64
	var size, lo, hi *int64
	err = tx.QueryRow(ctx, `SELECT (SELECT pg_catalog.count(*) FROM custody_head), (SELECT pg_catalog.max(size) FROM custody_head),
		(SELECT pg_catalog.min(seq) FROM custody_events), (SELECT pg_catalog.max(seq) OPERATOR(pg_catalog.+) 1 FROM custody_events)`).Scan(&heads, &size, &lo, &hi)
	if err != nil {
		return s.errorf("reading the head: %w", err)
	}
	if heads != 1 {
		return s.errorf("the custody log is damaged: its custody_head table holds %d rows, where the vault keeps exactly one (the log's size); someone with write access to the database changed it. Nothing was written. Keep the database as it is for the incident report, and restore it from a backup taken before the change (docs/operations.md, \"Restoring\"); an auditor checks what it holds without the server: custos audit verify --store URL", heads)
	}
	held := "none"
	if lo == nil {
		zero := int64(0)
		lo, hi = &zero, &zero
	} else {
		held = fmt.Sprintf("positions %d to %d", *lo, *hi-1)
	}
	if *hi != *size || *lo != 0 {
		return s.errorf("the custody log is damaged: its head says it holds %d events (positions 0 to %d), but its events table holds %s; someone with write access to the database added, deleted or renumbered events, or changed the head. Nothing was written. Keep the database as it is for the incident report, and restore it from a backup taken before the change (docs/operations.md, \"Restoring\"); an auditor checks what it holds without the server: custos audit verify --store URL", *size, *size-1, held)
	}
	return nil
}

// ensureCaseOwn makes the index of the cases' own events if the log
// lacks it. An open that finds it present writes nothing and takes no
// lock on the events (PostgreSQL checks a read-only session and the
// tables' ownership before IF NOT EXISTS). A session that may not make
// it (read-only, or a role that does not own the tables) opens the log
// without it: ReadCaseOwn then filters the case index's rows, the same
// answer more slowly, until an open as the tables' owner makes it.
func (s *Store) ensureCaseOwn(ctx context.Context, tx pgx.Tx) error {
	var present bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_indexes
		WHERE schemaname OPERATOR(pg_catalog.=) pg_catalog.current_schema() AND indexname OPERATOR(pg_catalog.=) 'custody_events_case_own')`).Scan(&present)
	if err != nil {
		return s.errorf("looking for the index of the cases' own events: %w", err)
	}
	if present {
		return nil
	}
	if _, err := tx.Exec(ctx, `SAVEPOINT case_own`); err != nil {
		return s.errorf("indexing the cases' own events: %w", err)
	}
	if _, err := tx.Exec(ctx, caseOwnIndex); err != nil {
		if lockNotAvailable(err) {
			// Another session holds a lock on the events' table (the
			// server's lock_timeout): a start that waited on would
			// wait as long as it is held; it fails, saying so.
			return s.errorf("indexing the cases' own events: another session held a lock on custody_events for %s (pg_locks shows which); start again once it ends: %w", lockWait, err)
		}
		if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT case_own`); rerr != nil {
			return s.errorf("indexing the cases' own events: %w", errors.Join(err, rerr))
		}
		return nil
	}
	if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT case_own`); err != nil {
		return s.errorf("indexing the cases' own events: %w", err)
	}
	return nil
}

// Close implements events.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// OpenReader connects to the custody log at cfg.URL for reading only,
// for `custos audit verify --store` (an auditor's check of the store's
// own copy of the log without the server): every transaction of its
// connections is read-only (default_transaction_read_only), and it never
// creates, upgrades or locks the schema. Only Read, ReadCheckpoints, Seal and
// Close are for use. It refuses a database without the custody log's
// tables, or where one of them is a view (which could compute rows
// without end) or declared otherwise (checkColumns); values are read
// bounded as the store reads them (bounded.go). A query that waits on a
// lock for 60 s, or runs 15 minutes, fails.
func OpenReader(ctx context.Context, cfg Config) (*Store, error) {
	name, pcfg, err := poolConfig(cfg.URL)
	if err != nil {
		return nil, err
	}
	pcfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	// An audit that waits on a lock (LOCK TABLE by an administrator) or
	// a statement that does not end fails, saying so, rather than hanging:
	// each of its queries reads one page of the log.
	pcfg.ConnConfig.RuntimeParams["lock_timeout"] = "60s"
	pcfg.ConnConfig.RuntimeParams["statement_timeout"] = "15min"
	// A row-level security policy would show this session other rows
	// than the server's: with row_security off, a read such a policy
	// applies to fails instead (checkColumns refuses such tables too).
	pcfg.ConnConfig.RuntimeParams["row_security"] = "off"
	// Each connection's search path becomes pg_catalog, then the schema
	// the database's own path names first (where the server finds the
	// log's tables), then pg_temp: the built-in functions and operators
	// come first, whatever the database's path puts before pg_catalog (an
	// administrator could otherwise define an octet_length, or an
	// operator, of their own that the reader's bounds and checks would
	// call), and a session's temporary tables come last.
	var schema atomic.Pointer[string]
	pcfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		var first *string
		if err := conn.QueryRow(ctx, `SELECT pg_catalog.current_schema()`).Scan(&first); err != nil {
			return err
		}
		if first == nil {
			return errors.New("the database's search_path names no schema that exists")
		}
		schema.CompareAndSwap(nil, first)
		_, err := conn.Exec(ctx, `SELECT pg_catalog.set_config('search_path', pg_catalog.concat('pg_catalog, ', pg_catalog.quote_ident($1), ', pg_temp'), false)`, *schema.Load())
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", name, err)
	}
	s := &Store{pool: pool, name: name}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, s.errorf("connecting: %w", err)
	}
	var n int
	err = pool.QueryRow(ctx, `SELECT pg_catalog.count(*) FROM information_schema.tables WHERE table_schema OPERATOR(pg_catalog.=) $1
		AND table_type OPERATOR(pg_catalog.=) 'BASE TABLE' AND table_name IN ('custody_events', 'custody_checkpoints', 'custody_seal')`, *schema.Load()).Scan(&n)
	if err != nil {
		pool.Close()
		return nil, s.errorf("connecting: %w", err)
	}
	if n != 3 {
		pool.Close()
		return nil, s.errorf("the database holds no Custos custody log (its custody_events, custody_checkpoints and custody_seal tables, each a table, not a view)")
	}
	if err := s.checkColumns(ctx, pool, *schema.Load(), ""); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// poolConfig parses a postgres:// or postgresql:// URL: the name to show
// for it (its password redacted) and the pool's configuration.
func poolConfig(raw string) (string, *pgxpool.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("postgres: the URL must be postgres://USER@HOST:PORT/DBNAME or postgresql://USER@HOST:PORT/DBNAME")
	}
	name := u.Redacted()
	pcfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return "", nil, fmt.Errorf("postgres: %s: %w", name, err)
	}
	return name, pcfg, nil
}
