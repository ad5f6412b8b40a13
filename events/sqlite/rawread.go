package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custos-vault/custos/events"
)

// The long reads of the whole log (an auditor's records stream, a start's
// check of the events a snapshot covers) go through SQLite's C API as
// modernc.org/sqlite/lib exposes it, not through database/sql, on
// read-only connections opened without the library's per-connection
// mutex (SQLITE_OPEN_NOMUTEX; a connection is used by one read at a
// time). On this machine that reads a row of the log in about a third of
// the CPU: database/sql converts every column of every row into a value
// of its own, and modernc.org/sqlite opens its connections with
// SQLITE_OPEN_FULLMUTEX, whose locks, emulated in Go, cost about 0.4 µs a
// row (docs/benchmarks.md, "the log read through SQLite's own
// interface").
//
// The connections are opened by New, after the file was checked, by the
// same URI the store's other connections open (paths with a % are
// refused, so that the URI names the file the checks read), and kept:
// they stay on the file New checked if another is put in its place, and
// they take the same file locks, as connections of one library in one
// process. A long read waits for a free one (there are rawConns); a
// connection closed after an interrupted read is opened again only
// while the path still names the file New opened, and a read that finds
// none free and cannot open one so is refused, saying why, rather than
// read through a connection opened by the path, which would read
// whatever file the path names now.

// rawConns is how many long reads run at once; more wait.
const rawConns = 4

// openRawPool opens the store's rawConns connections, and notes which
// file they read (reopenRaw).
func (s *Store) openRawPool() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	s.rawFile = fi
	s.walPath = s.path + "-wal"
	if real, err := filepath.EvalSymlinks(s.path); err == nil {
		s.walPath = real + "-wal"
	}
	// The WAL SQLite opened with the store's first connections: known
	// from here on, so that one put in its place before the first
	// append is not taken for the store's own.
	if wal, err := os.Stat(s.walPath); err == nil && wal.Mode().IsRegular() {
		s.walFile.Store(&wal)
	}
	s.raw = make(chan *rawConn, rawConns)
	for range rawConns {
		c, err := openRaw(s.path)
		if err != nil {
			s.closeRawPool()
			return err
		}
		s.rawOpen++
		s.raw <- c
	}
	return nil
}

// errFileReplaced refuses a long read when every connection was closed
// and the path no longer names the file the store opened.
var errFileReplaced = errors.New("sqlite: the log's path no longer names the file the store opened (it was replaced, moved or removed while the vault had it open); restart the vault to read the file the path names, after checking why it changed")

// errStoreClosed refuses a long read, or an append, once Close began.
var errStoreClosed = errors.New("sqlite: the store is closed")

// reopenRaw opens a connection in place of one closed, if the path
// still names the file the pool was opened on (checked before and after
// the open).
func (s *Store) reopenRaw() (*rawConn, error) {
	same := func() bool {
		fi, err := os.Stat(s.path)
		return err == nil && os.SameFile(fi, s.rawFile)
	}
	if !same() {
		return nil, errFileReplaced
	}
	c, err := openRaw(s.path)
	if err != nil {
		return nil, err
	}
	if !same() {
		c.close()
		return nil, errFileReplaced
	}
	return c, nil
}

// takeRaw returns a connection for a long read: a free one, or one
// opened in place of one closed (reopenRaw), or, with all rawConns in
// use, the first one given back; an error when ctx ends or the store
// closes first, or no connection is open and none can be. putRaw gives
// it back.
func (s *Store) takeRaw(ctx context.Context) (*rawConn, error) {
	s.rawMu.Lock()
	if s.raw == nil || s.closing.Err() != nil {
		s.rawMu.Unlock()
		return nil, errStoreClosed
	}
	s.rawReads.Add(1)
	var c *rawConn
	select {
	case c = <-s.raw:
	default:
		if s.rawOpen < rawConns {
			var err error
			c, err = s.reopenRaw()
			switch {
			case err == nil:
				s.rawOpen++
			case s.rawOpen == 0:
				// None open and none can be: no read gives one back.
				s.rawMu.Unlock()
				s.rawReads.Done()
				return nil, err
			}
		}
	}
	s.rawMu.Unlock()
	if c != nil {
		return c, nil
	}
	select {
	case c = <-s.raw:
		return c, nil
	case <-ctx.Done():
		s.rawReads.Done()
		return nil, fmt.Errorf("sqlite: waiting for a connection to read the log: %w", ctx.Err())
	case <-s.closing.Done():
		s.rawReads.Done()
		return nil, errStoreClosed
	}
}

// putRaw gives c back after a long read.
//
// A connection whose read was interrupted is closed, not given back: an
// interrupt SQLite has not yet cleared can cut the connection's next
// reload of the schema short, and the connection then reads by the
// schema it had (an edited one, say). modernc.org/sqlite discards such a
// connection too (its IsValid). The next read that finds no connection
// free opens one in its place (takeRaw).
func (s *Store) putRaw(c *rawConn) {
	defer s.rawReads.Done()
	if sqlite3.Xsqlite3_is_interrupted(c.tls, c.db) != 0 {
		c.close()
		s.rawMu.Lock()
		s.rawOpen--
		s.rawMu.Unlock()
		return
	}
	s.raw <- c
}

// closeRawPool interrupts the long reads under way, waits for them to
// end (a read ends at its next row, or when its fn returns: Close must
// not be called from fn), and closes the connections.
func (s *Store) closeRawPool() {
	// Under the lock, so that no read is counted (takeRaw) after the
	// wait below begins.
	s.rawMu.Lock()
	s.closeReads()
	s.rawMu.Unlock()
	s.rawReads.Wait()
	if s.raw == nil {
		return
	}
	for {
		select {
		case c := <-s.raw:
			c.close()
		default:
			return
		}
	}
}

// rawConn is one read-only connection through the C API. Not safe for
// concurrent use, except for its interruption.
type rawConn struct {
	tls *libc.TLS
	db  uintptr // sqlite3*
}

// rawBusyTimeout matches the store's busy_timeout pragma (dsn), in
// milliseconds.
const rawBusyTimeout = 10000

// openRaw opens the log's file at path read-only, by the URI the
// store's other connections open (dsn), with the store's busy timeout,
// extended result codes and trusted_schema off.
func openRaw(path string) (_ *rawConn, err error) {
	c := &rawConn{tls: libc.NewTLS()}
	name, err := libc.CString("file:" + path)
	if err != nil {
		c.tls.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	pdb := c.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pdb, sqlite3.SQLITE_OPEN_READONLY|sqlite3.SQLITE_OPEN_NOMUTEX|sqlite3.SQLITE_OPEN_URI, 0)
	c.db = *(*uintptr)(cPointer(pdb))
	c.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	libc.Xfree(c.tls, name)
	if rc != sqlite3.SQLITE_OK {
		err := c.err(rc)
		c.close()
		return nil, fmt.Errorf("sqlite: opening %s to read: %w", path, err)
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
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

// colType is column i's type in the current row (SQLITE_INTEGER, ...).
func (s *rawStmt) colType(i int32) int32 { return sqlite3.Xsqlite3_column_type(s.c.tls, s.st, i) }

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
// is false; one parameter, the first position) on a connection of the
// pool (takeRaw: it may wait for one) and calls fn for each row, each
// record's Bytes valid only until fn returns. The end of ctx, or Close,
// interrupts the read, inside a step too (a step may take long on an
// edited file), except a wait for a lock, which ends by the busy timeout
// (rawBusyTimeout). A row whose position is not a whole number, or whose
// lookup value is NULL (which the schema allows only in an edited file),
// is an error naming it, as database/sql's scan of it is.
func (s *Store) readRaw(ctx context.Context, q string, from uint64, lookups bool, fn func(events.Record) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := s.replacedErr(); err != nil {
		return err
	}
	c, err := s.takeRaw(ctx)
	if err != nil {
		return err
	}
	defer s.putRaw(c)
	// The read ends with ctx or with the store.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.closing, cancel)()
	defer c.interruptWhenDone(ctx)()
	ended := func(err error) error {
		if s.closing.Err() != nil {
			return errStoreClosed
		}
		if ctx.Err() != nil {
			return fmt.Errorf("sqlite: %w", ctx.Err())
		}
		return err
	}
	st, err := c.prepare(q)
	if err != nil {
		return ended(err)
	}
	defer st.finalize()
	if err := st.bindInt64(1, int64(min(from, 1<<63-1))); err != nil {
		return ended(err)
	}
	// The case and item of consecutive events are mostly the same: the
	// last ones are kept and reused rather than made again.
	var lastCase, lastItem string
	bytesCol := int32(1)
	if lookups {
		bytesCol = 4
	}
	var last uint64
	for n := 0; ; n++ {
		if n%rawCheckEvery == rawCheckEvery-1 && ctx.Err() != nil {
			return ended(nil)
		}
		ok, err := st.step()
		if err != nil {
			return ended(fmt.Errorf("sqlite: reading the events: %w", err))
		}
		if !ok {
			return nil
		}
		if t := st.colType(0); t != sqlite3.SQLITE_INTEGER {
			where := "the first event read"
			if n > 0 {
				where = fmt.Sprintf("the event after position %d", last)
			}
			return fmt.Errorf("sqlite: %s has a seq that is not a whole number (SQLite type %d)", where, t)
		}
		r := events.Record{Seq: uint64(st.int64(0))}
		last = r.Seq
		if lookups {
			for col := int32(1); col <= 3; col++ {
				if st.colType(col) == sqlite3.SQLITE_NULL {
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

// interruptWhenDone interrupts c's statement (sqlite3_interrupt, which
// may be called from another goroutine) once ctx ends, and again every
// rawInterruptEvery until the returned function is called: an interrupt
// that comes before a statement runs is forgotten when it starts. The
// returned function stops the interrupts, and returns only when none
// can reach the connection any more, so that it goes back to the pool
// clean.
func (c *rawConn) interruptWhenDone(ctx context.Context) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		defer close(exited)
		tls := libc.NewTLS()
		defer tls.Close()
		t := time.NewTicker(rawInterruptEvery)
		defer t.Stop()
		for {
			sqlite3.Xsqlite3_interrupt(tls, c.db)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() {
		if !stopAfter() {
			close(done)
			<-exited
		}
	}
}

// rawInterruptEvery is how often an ended read's connection is
// interrupted again.
const rawInterruptEvery = 10 * time.Millisecond

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
