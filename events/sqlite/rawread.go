package sqlite

import (
	"context"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custos-vault/custos/events"
)

// The long reads of the whole log (an auditor's records stream, a start's
// check of the events a snapshot covers) go through SQLite's C API as
// modernc.org/sqlite/lib exposes it, not through database/sql, on a
// read-only connection of their own, opened without the library's
// per-connection mutex (SQLITE_OPEN_NOMUTEX; the connection is used by one
// goroutine at a time). On this machine that reads a row of the log in
// about a third of the CPU: database/sql converts every column of every
// row into a value of its own and modernc.org/sqlite opens its connections
// with SQLITE_OPEN_FULLMUTEX, whose locks, emulated in Go, cost as much as
// the row's read (docs/benchmarks.md, "the log read through SQLite's own
// interface"). The connection is the same library's, in the same process,
// so it takes the same file locks as the store's other connections and
// reads the same committed snapshot a database/sql read would.

// rawConn is one read-only connection through the C API. Not safe for
// concurrent use.
type rawConn struct {
	tls *libc.TLS
	db  uintptr // sqlite3*
}

// rawBusyTimeout matches the store's busy_timeout pragma (dsn), in
// milliseconds.
const rawBusyTimeout = 10000

// openRaw opens the log's file at path read-only, with the store's
// busy timeout and trusted_schema off (dsn).
func openRaw(path string) (_ *rawConn, err error) {
	c := &rawConn{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer libc.Xfree(c.tls, name)
	pdb := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = *(*uintptr)(cPointer(pdb))
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, fmt.Errorf("sqlite: opening %s to read: %w", path, err)
	}
	sqlite3.Xsqlite3_busy_timeout(c.tls, c.db, rawBusyTimeout)
	if err := c.exec("PRAGMA trusted_schema = 0"); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// close closes the connection and frees its thread-local state.
func (c *rawConn) close() {
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// rawError is a result code of the C API with the connection's message.
type rawError struct {
	code int32
	msg  string
}

func (e *rawError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }

// Code is the result code (https://sqlite.org/rescode.html), as
// modernc.org/sqlite's *Error has it.
func (e *rawError) Code() int { return int(e.code) }

// err words result code rc with the connection's message.
func (c *rawConn) err(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if m := libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db)); m != "" {
			msg = m
		}
	}
	return &rawError{code: rc, msg: msg}
}

// exec runs q, a statement that answers no rows.
func (c *rawConn) exec(q string) error {
	st, err := c.prepare(q)
	if err != nil {
		return err
	}
	defer st.finalize()
	if _, err := st.step(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", q, err)
	}
	return nil
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c  *rawConn
	st uintptr // sqlite3_stmt*
}

// prepare compiles the one statement q.
func (c *rawConn) prepare(q string) (*rawStmt, error) {
	sql, err := libc.CString(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer libc.Xfree(c.tls, sql)
	pst := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, sql, -1, pst, 0); rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("sqlite: preparing a read: %w", c.err(rc))
	}
	return &rawStmt{c: c, st: *(*uintptr)(cPointer(pst))}, nil
}

func (s *rawStmt) finalize() { sqlite3.Xsqlite3_finalize(s.c.tls, s.st) }

// bindInt64 sets parameter i (from 1) to v.
func (s *rawStmt) bindInt64(i int32, v int64) error {
	if rc := sqlite3.Xsqlite3_bind_int64(s.c.tls, s.st, i, v); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlite: %w", s.c.err(rc))
	}
	return nil
}

// step reads the next row: true when there is one, false at the end.
func (s *rawStmt) step() (bool, error) {
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.st); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.err(rc)
	}
}

func (s *rawStmt) int64(i int32) int64 { return sqlite3.Xsqlite3_column_int64(s.c.tls, s.st, i) }

func (s *rawStmt) null(i int32) bool {
	return sqlite3.Xsqlite3_column_type(s.c.tls, s.st, i) == sqlite3.SQLITE_NULL
}

// bytes is column i of the current row as text (text true) or as a
// blob, in SQLite's memory: valid until the next step, reset or
// finalize. Nil for an empty value or NULL.
func (s *rawStmt) bytes(i int32, text bool) []byte {
	var p uintptr
	if text {
		p = sqlite3.Xsqlite3_column_text(s.c.tls, s.st, i)
	} else {
		p = sqlite3.Xsqlite3_column_blob(s.c.tls, s.st, i)
	}
	n := sqlite3.Xsqlite3_column_bytes(s.c.tls, s.st, i)
	if p == 0 || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(cPointer(p)), n)
}

// cPointer is the address p of memory the C library allocated, outside
// Go's heap, as a pointer (the conversion through memory keeps it from
// reading as the conversion of a computed integer, which it is not).
func cPointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// rawCheckEvery is how many rows a raw read reads between looks at its
// context.
const rawCheckEvery = 1024

// readRaw runs q (columns as eventColumns, or seq and bytes when lookups
// is false; one parameter, the first position) on a connection of its
// own and calls fn for each row, each record's Bytes valid only until fn
// returns. A lookup column read as NULL (which the schema's NOT NULL
// allows only in an edited file) is an error, as database/sql's scan of
// it into a string is.
func (s *Store) readRaw(ctx context.Context, q string, from uint64, lookups bool, fn func(events.Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := openRaw(s.path)
	if err != nil {
		return err
	}
	defer c.close()
	st, err := c.prepare(q)
	if err != nil {
		return err
	}
	defer st.finalize()
	if err := st.bindInt64(1, int64(min(from, 1<<63-1))); err != nil {
		return err
	}
	// The case and item of consecutive events are mostly the same: the
	// last ones are kept and reused rather than made again.
	var lastCase, lastItem string
	bytesCol := int32(1)
	if lookups {
		bytesCol = 4
	}
	for n := 0; ; n++ {
		if n%rawCheckEvery == rawCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := st.step()
		if err != nil {
			return fmt.Errorf("sqlite: reading the events: %w", err)
		}
		if !ok {
			return nil
		}
		r := events.Record{Seq: uint64(st.int64(0))}
		if lookups {
			for col := int32(1); col <= 3; col++ {
				if st.null(col) {
					return fmt.Errorf("sqlite: the event at position %d has no %s (NULL)", r.Seq, eventColumnNames[col])
				}
			}
			r.ID = string(st.bytes(1, true))
			r.Case = reuse(&lastCase, st.bytes(2, true))
			r.Item = reuse(&lastItem, st.bytes(3, true))
		}
		r.Bytes = st.bytes(bytesCol, false)
		if err := fn(r); err != nil {
			return err
		}
	}
}

// eventColumnNames names the events table's columns by their index in
// eventColumns.
var eventColumnNames = [...]string{"seq", "id", "case_id", "item_id", "bytes"}

// reuse returns b as a string: *last when it holds the same bytes, else
// a new string, kept in *last.
func reuse(last *string, b []byte) string {
	if string(b) != *last {
		*last = string(b)
	}
	return *last
}
