package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// column is a column a table of the log must have: its name and declared
// type, as PRAGMA table_xinfo reports them.
type column struct{ name, typ string }

// logTables are the custody log's tables and their columns, in order
// (the schema above; version 1 lacks seal). Every column's value is read
// bounded (bounded.go); the checks below make sure SQLite computes none
// of them (no generated columns) and that each table's INTEGER PRIMARY
// KEY is its rowid, which holds a whole number and nothing else.
var logTables = map[string][]column{
	"events":      {{"seq", "INTEGER"}, {"id", "TEXT"}, {"case_id", "TEXT"}, {"item_id", "TEXT"}, {"bytes", "BLOB"}},
	"checkpoints": {{"size", "INTEGER"}, {"note", "BLOB"}},
	"seal":        {{"one", "INTEGER"}, {"size", "INTEGER"}, {"note", "BLOB"}},
}

// logIndexes are the indexes a log file may hold besides the tables'
// own (SQLite's autoindexes, which have no SQL): those of the first
// schema, which files made before the lookups moved to a file of their
// own (2026-11-27) keep. No read of the log uses them: positions are
// read by the rowid, and counted without indexes (Reader.Count).
var logIndexes = map[string]string{
	"events_by_case": "CREATE INDEX events_by_case ON events(case_id, seq) WHERE case_id != ''",
	"events_by_item": "CREATE INDEX events_by_item ON events(item_id, seq) WHERE item_id != ''",
}

// lookupTables are the lookup file's tables (lookups.go).
var lookupTables = map[string][]column{
	"lookups":      {{"key", "TEXT"}, {"seq", "INTEGER"}},
	"lookups_size": {{"one", "INTEGER"}, {"size", "INTEGER"}, {"anchor", "TEXT"}},
}

// querier is a database, connection or transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// checkSchema checks that the database q reads holds nothing but the
// tables of want (checkTables) and the indexes of indexes (by name and
// SQL) or SQLite's own for those tables' keys: no trigger (which could
// drop or rewrite what the server writes, or run without end), no view,
// no index of another's making (which a query could be answered from,
// edited to disagree with its table), no other table.
func checkSchema(ctx context.Context, q querier, want map[string][]column, indexes map[string]string, optional, rowidless map[string]bool) error {
	var problem string
	err := each(ctx, q, `SELECT type, name, tbl_name, sql IS NULL, coalesce(substr(sql, 1, 200), '') FROM sqlite_schema`, nil, func(rows *sql.Rows) error {
		var typ, name, table, def string
		var noSQL bool
		if err := rows.Scan(&typ, &name, &table, &noSQL, &def); err != nil {
			return err
		}
		_, ours := want[table]
		switch {
		case problem != "":
		case typ == "table" && want[name] != nil:
		case typ == "index" && ours && noSQL && strings.HasPrefix(name, "sqlite_autoindex_"):
		case typ == "index" && indexes[name] != "" && strings.Join(strings.Fields(def), " ") == indexes[name]:
		default:
			problem = fmt.Sprintf("it holds a %s, %s, that the vault does not make", short(typ), short(name))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if problem != "" {
		return errors.New(problem)
	}
	return checkTables(ctx, q, want, optional, rowidless)
}

// checkTables checks that each named table of want is a plain table of
// the database q reads (not a view, a virtual table or a table without a
// rowid, unless rowidless names it) with exactly the columns given, none
// of them generated or hidden, and, for a table with a rowid, no primary
// key index: its INTEGER PRIMARY KEY is then the rowid itself (SQLite
// makes such an index for a key declared otherwise, such as "INTEGER
// PRIMARY KEY DESC", which may hold any value). A table of want that is
// missing is an error unless optional names it. The file is the database
// administrator's: a generated column would make SQLite compute a value
// of any size at each read, and a view or a recursive one rows without
// end, where the log's own tables hold only what was stored.
func checkTables(ctx context.Context, q querier, want map[string][]column, optional, rowidless map[string]bool) error {
	// In name order, so that a file with more than one fault is always
	// refused for the same one.
	for _, name := range slices.Sorted(maps.Keys(want)) {
		cols := want[name]
		var typ string
		var wr int
		found := false
		err := each(ctx, q, `SELECT type, wr FROM pragma_table_list WHERE schema = 'main' AND name = ?`, []any{name}, func(rows *sql.Rows) error {
			found = true
			return rows.Scan(&typ, &wr)
		})
		if err != nil {
			return err
		}
		switch {
		case !found && optional[name]:
			continue
		case !found:
			return fmt.Errorf("it has no %s table", name)
		case typ != "table":
			return fmt.Errorf("its %s is a %s, not a table", name, typ)
		case (wr != 0) != rowidless[name]:
			return fmt.Errorf("its %s table was declared again (with or without a rowid)", name)
		}
		var got []column
		err = each(ctx, q, `SELECT name, upper(type), hidden FROM pragma_table_xinfo(?) ORDER BY cid`, []any{name}, func(rows *sql.Rows) error {
			var c column
			var hidden int
			if err := rows.Scan(&c.name, &c.typ, &hidden); err != nil {
				return err
			}
			if hidden != 0 {
				return fmt.Errorf("its %s table has a generated or hidden column, %s", name, short(c.name))
			}
			got = append(got, c)
			return nil
		})
		if err != nil {
			return err
		}
		if !slices.Equal(got, cols) {
			return fmt.Errorf("its %s table has the columns %s, not %s", name, columnList(got), columnList(cols))
		}
		if rowidless[name] {
			continue
		}
		pkIndex := false
		err = each(ctx, q, `SELECT 1 FROM pragma_index_list(?) WHERE origin = 'pk'`, []any{name}, func(*sql.Rows) error {
			pkIndex = true
			return nil
		})
		if err != nil {
			return err
		}
		if pkIndex {
			return fmt.Errorf("the primary key of its %s table is not its rowid (the table was declared again)", name)
		}
	}
	return nil
}

// each runs query and calls fn for each row.
func each(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func columnList(cols []column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = short(c.name) + " " + short(c.typ)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// short is a name from the file as an error quotes it: at most 64 bytes.
func short(name string) string {
	if len(name) > 64 {
		return fmt.Sprintf("%q... (%d bytes)", name[:64], len(name))
	}
	return name
}
