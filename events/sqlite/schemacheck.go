package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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

// lookupTables are the lookup file's tables (lookups.go).
var lookupTables = map[string][]column{
	"lookups":      {{"key", "TEXT"}, {"seq", "INTEGER"}},
	"lookups_size": {{"one", "INTEGER"}, {"size", "INTEGER"}, {"anchor", "TEXT"}},
}

// querier is a database, connection or transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
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
	for name, cols := range want {
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
