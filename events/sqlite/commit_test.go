package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
	sqlitedriver "modernc.org/sqlite"
)

// codedError carries a SQLite result code as the driver's *Error does.
// Only one real commit failure can be made here (a write refused by the
// file size limit, below); a failed fsync, a full disk or a busy
// database would take a file system or a second process made to fail
// at the right moment, so this stands in for the driver's error in
// those cases. The assignment below checks that the driver's type has
// the same method, so the classification reads real errors the same way.
type codedError int

func (c codedError) Error() string { return fmt.Sprintf("sqlite error %d", int(c)) }
func (c codedError) Code() int     { return int(c) }

var _ interface{ Code() int } = (*sqlitedriver.Error)(nil)

// TestCommitFailedOutcome: a COMMIT that fails with an I/O error (its
// frames may be in the write-ahead log, which the next open recovers)
// has an unknown outcome; one that fails otherwise stored nothing.
func TestCommitFailedOutcome(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int
		unknown bool
	}{
		{"SQLITE_IOERR_FSYNC", 1034, true},
		{"SQLITE_IOERR_WRITE", 778, true},
		{"SQLITE_IOERR", 10, true},
		{"SQLITE_FULL", 13, false},
		{"SQLITE_BUSY", 5, false},
		{"SQLITE_BUSY_SNAPSHOT", 517, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlite.CommitFailed(fmt.Errorf("committing: %w", codedError(tc.code)))
			if got := errors.Is(err, events.ErrOutcomeUnknown); got != tc.unknown {
				t.Fatalf("%v: outcome unknown %v, want %v", err, got, tc.unknown)
			}
		})
	}
	if err := sqlite.CommitFailed(errors.New("no code")); errors.Is(err, events.ErrOutcomeUnknown) {
		t.Fatalf("an error without a code: %v", err)
	}
}

// TestCommitThatCannotWriteItsLogHasAnUnknownOutcome: a real commit
// whose write-ahead log cannot grow (the process's file size limit,
// RLIMIT_FSIZE, with SIGXFSZ ignored: write fails with EFBIG, which
// SQLite reports as SQLITE_IOERR_WRITE) fails with an unknown outcome,
// stores nothing visible, and the store appends at the same position
// once the limit is lifted.
func TestCommitThatCannotWriteItsLogHasAnUnknownOutcome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	rec := func(seq uint64, size int) events.Record {
		return events.Record{Seq: seq, ID: fmt.Sprintf("%032x", seq), Bytes: bytes.Repeat([]byte{'x'}, size)}
	}
	if err := s.Append(ctx, 0, []events.Record{rec(0, 100)}, nil); err != nil {
		t.Fatal(err)
	}
	var limit syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Fatal(err)
	}
	largest := int64(0)
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(f); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	low := limit
	low.Cur = uint64(largest) + 64<<10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &low); err != nil {
		t.Skipf("cannot lower the file size limit here: %v", err)
	}
	big := []events.Record{rec(1, 1<<20)}
	err := s.Append(ctx, 1, big, nil)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); rerr != nil {
		t.Fatal(rerr)
	}
	if !errors.Is(err, events.ErrOutcomeUnknown) {
		t.Fatalf("a commit that could not write its log: %v, want events.ErrOutcomeUnknown", err)
	}
	if n, err := s.Size(ctx); err != nil || n != 1 {
		t.Fatalf("size %d, %v after the failed commit", n, err)
	}
	if err := s.Append(ctx, 1, big, nil); err != nil {
		t.Fatalf("the same append once the limit is lifted: %v", err)
	}
}
