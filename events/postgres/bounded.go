package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
	"github.com/jackc/pgx/v5"
)

// The log's tables are the database administrator's to edit, and
// PostgreSQL holds a value of up to a gigabyte in a row. Every read of
// the events, checkpoints and seal, by the server's store and by
// OpenReader's audit alike, fetches a value only when it is no longer
// than the log allows: its length is taken with octet_length (which reads
// a stored value's length without fetching it) and a longer value is
// replaced in SQL by a stand-in the readers refuse or report, so that an
// edited row costs neither the server nor an auditor more memory than a
// valid one (TestReadsDoNotFetchOversizedValues). The SQLite store does
// the same (events/sqlite/bounded.go).
//
// The functions and operators are named with their schema, pg_catalog:
// an administrator who puts another schema before pg_catalog in the
// database's search_path could otherwise define an octet_length of their
// own that says every value is short.

// maxLookup bounds a lookup value (id, case, item) as read: a longer one
// is read as "(a value of N bytes)", which is no value the vault writes
// (none longer than 64 bytes, none with a space), so that it is compared
// as any edited value is, found to differ, and names what was stored.
const maxLookup = logstream.MaxLookup

func boundedText(col string) string {
	return fmt.Sprintf(`CASE WHEN pg_catalog.octet_length(%[1]s) OPERATOR(pg_catalog.<=) %[2]d THEN %[1]s
		ELSE pg_catalog.concat('(a value of ', pg_catalog.octet_length(%[1]s), ' bytes)') END`, col, maxLookup)
}

// boundedBytes reads an event's bytes: the column when it is at most
// events.MaxEventSize bytes long, else events.MaxEventSize+1 zero bytes,
// which no event is, so that a verifier refuses the event at that
// position for its size.
func boundedBytes(col string) string {
	return fmt.Sprintf(`CASE WHEN pg_catalog.octet_length(%[1]s) OPERATOR(pg_catalog.<=) %[2]d THEN %[1]s
		ELSE pg_catalog.decode(pg_catalog.repeat('00', %[3]d), 'hex') END`, col, events.MaxEventSize, events.MaxEventSize+1)
}

// eventColumns reads an event row as events.Record is scanned: seq, id,
// case_id, item_id, bytes.
var eventColumns = `seq, ` + boundedText("id") + `, ` + boundedText("case_id") + `, ` + boundedText("item_id") + `, ` + boundedBytes("bytes")

// noteColumns reads a checkpoint or seal row for scanNote: size, the
// note's length, and the note when it is no longer than a checkpoint can
// be (NULL otherwise).
var noteColumns = fmt.Sprintf(`size, pg_catalog.octet_length(note),
	CASE WHEN pg_catalog.octet_length(note) OPERATOR(pg_catalog.<=) %d THEN note END`, events.MaxCheckpointSize)

// scanNote reads a row of noteColumns. A note longer than a checkpoint
// can be is an error naming the row: no checkpoint the vault signs is, so
// the row was edited.
func (s *Store) scanNote(row pgx.CollectableRow) (events.StoredCheckpoint, error) {
	var c events.StoredCheckpoint
	var size, length int64
	if err := row.Scan(&size, &length, &c.Note); err != nil {
		return c, err
	}
	if length > events.MaxCheckpointSize {
		return c, fmt.Errorf("the checkpoint row of size %d holds %d bytes, more than a checkpoint's %d", size, length, events.MaxCheckpointSize)
	}
	c.Size = uint64(size)
	return c, nil
}

// logColumns are the custody log's tables and their columns as
// information_schema names their types; checkColumns refuses tables
// declared otherwise (a size of another type is read whole; a generated
// column computes what it holds at each read).
var logColumns = map[string][]string{
	"custody_events":      {"seq bigint", "id text", "case_id text", "item_id text", "bytes bytea"},
	"custody_checkpoints": {"size bigint", "note bytea"},
	"custody_seal":        {"one boolean", "size bigint", "note bytea"},
}

// checkColumns checks that each table of logColumns in schema is a plain
// table (not a view, a foreign or partitioned table, nor one inheriting
// or inherited) with exactly those columns, in order, none generated nor
// of a domain type (whose operators would be chosen over the built-in
// ones), and with no rules, triggers or row-level security. optional names a table
// that may be missing (custody_seal of a version 1 log).
func (s *Store) checkColumns(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}, schema, optional string) error {
	// In name order, so that a schema with more than one fault is always
	// refused for the same one.
	for _, table := range slices.Sorted(maps.Keys(logColumns)) {
		want := logColumns[table]
		// Every operator is pg_catalog's: the server's store runs this with
		// the database's own search_path.
		rows, err := q.Query(ctx, `SELECT pg_catalog.concat(c.column_name::text, ' ', c.data_type::text, CASE WHEN c.domain_name IS NOT NULL THEN ' (a domain)' END),
				c.is_generated::text, t.table_type::text
			FROM information_schema.columns c JOIN information_schema.tables t
				ON t.table_schema::text OPERATOR(pg_catalog.=) c.table_schema::text AND t.table_name::text OPERATOR(pg_catalog.=) c.table_name::text
			WHERE c.table_schema::text OPERATOR(pg_catalog.=) $2 AND c.table_name::text OPERATOR(pg_catalog.=) $1 ORDER BY c.ordinal_position`, table, schema)
		if err != nil {
			return s.errorf("reading the columns of %s: %w", table, err)
		}
		var got []string
		problem := ""
		for rows.Next() {
			var col, generated, typ string
			if err := rows.Scan(&col, &generated, &typ); err != nil {
				rows.Close()
				return s.errorf("reading the columns of %s: %w", table, err)
			}
			switch {
			case typ != "BASE TABLE":
				problem = "is a " + strings.ToLower(typ) + ", not a table"
			case generated != "NEVER":
				problem = "has a generated column"
			}
			if len(col) > 80 {
				col = col[:80] + "..."
			}
			got = append(got, col)
		}
		if err := rows.Err(); err != nil {
			return s.errorf("reading the columns of %s: %w", table, err)
		}
		if len(got) == 0 && table == optional {
			continue
		}
		if problem == "" && !slices.Equal(got, want) {
			problem = fmt.Sprintf("has the columns (%s), not (%s)", strings.Join(got, ", "), strings.Join(want, ", "))
		}
		if len(got) == 0 {
			problem = "is missing"
		}
		if problem == "" {
			// What information_schema does not say: a partitioned table or
			// one with children reads rows from elsewhere; rules, triggers
			// and row security change what a read or a write does.
			var kind string
			var security, rules, triggers, inherits bool
			err := q.QueryRow(ctx, `SELECT c.relkind::text, c.relrowsecurity, c.relhasrules, c.relhastriggers,
				EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent OPERATOR(pg_catalog.=) c.oid OR i.inhrelid OPERATOR(pg_catalog.=) c.oid)
				FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
				WHERE n.nspname::text OPERATOR(pg_catalog.=) $1 AND c.relname::text OPERATOR(pg_catalog.=) $2`, schema, table).Scan(&kind, &security, &rules, &triggers, &inherits)
			switch {
			case err != nil:
				return s.errorf("reading how %s is declared: %w", table, err)
			case kind != "r":
				problem = "is not a plain table (relkind " + kind + ")"
			case inherits:
				problem = "inherits from, or is inherited by, another table"
			case security:
				problem = "has row-level security"
			case rules:
				problem = "has rules"
			case triggers:
				problem = "has triggers"
				var n int
				if err := q.QueryRow(ctx, `SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
					JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
					WHERE n.nspname::text OPERATOR(pg_catalog.=) $1 AND c.relname::text OPERATOR(pg_catalog.=) $2`, schema, table).Scan(&n); err == nil && n == 0 {
					// PostgreSQL keeps a table marked as having triggers
					// (pg_class.relhastriggers) after its last one is
					// dropped, until the table is next vacuumed.
					problem = "is still marked as having triggers (pg_class.relhastriggers), though none exists now: one was added and dropped since. " +
						"PostgreSQL clears the mark when the table is next vacuumed (VACUUM " + table + "); the vault starts after that. Find out who added the trigger, and what it did while it was there"
				}
			}
		}
		if problem != "" {
			return s.errorf("the custody log's table %s %s: it was altered", table, problem)
		}
	}
	return nil
}
