package sqlite

import (
	"errors"
	"fmt"
	"os"

	"github.com/custos-vault/custos/events"
)

// The log's files stay the ones the store opened. SQLite keeps writing
// to the files it opened: a database file, or its WAL, that someone
// renames over, moves or removes while the vault runs is written on
// unlinked, and what each append wrote after it is gone at the next
// start, though the vault acknowledged it and acted on it. Append
// therefore checks, after each commit, that the log's path and its WAL's
// still name the files the store opened; once they do not, that append
// and every later use of the store fail with ErrFileReplaced, so that the
// vault stops recording, and so stops acting, at the first batch
// written after the change (docs/log-backends.md, "The files stay the
// ones opened").

// ErrFileReplaced is a use of the store after its database file or WAL
// was found replaced, moved or removed while the store had it open. The
// errors that carry it also wrap events.ErrStoreReplaced.
var ErrFileReplaced = errors.New("the custody log's file or its write-ahead log was replaced, moved or removed while the vault had it open: nothing more is recorded, as what is written to a file no longer in its place would be lost at the next start; save the files the vault still holds open, then stop it, and find out who changed them (docs/operations.md, \"The log's file replaced under the vault\")")

// replacedError is ErrFileReplaced naming the file found changed.
type replacedError struct{ path, how string }

func (e *replacedError) Error() string {
	return fmt.Sprintf("sqlite: %s %s: %v", e.path, e.how, ErrFileReplaced)
}

func (e *replacedError) Unwrap() []error { return []error{ErrFileReplaced, events.ErrStoreReplaced} }

// replacedErr is the error the store found its files replaced with, or
// nil.
func (s *Store) replacedErr() error {
	if p := s.replaced.Load(); p != nil {
		return *p
	}
	return nil
}

// checkItsFiles stats the log's path and its WAL's against the files
// the store opened (s.rawFile, and s.walFile once the WAL exists), and
// remembers the first difference for good. A path that is a link is
// followed, as SQLite follows it (its WAL is beside the file the link
// names: s.walPath). The WAL's identity is taken
// the first time it is seen: SQLite makes it at the first write, and
// never removes it while a connection is open (the long reads' pool
// keeps some open for the store's life).
func (s *Store) checkItsFiles() error {
	if err := s.replacedErr(); err != nil {
		return err
	}
	if s.rawFile == nil {
		return nil // still opening: nothing to compare with yet
	}
	found := func(path string, want os.FileInfo) error {
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			return &replacedError{path, "is no longer there"}
		case !os.SameFile(fi, want):
			return &replacedError{path, "is another file than the one the store opened"}
		}
		return nil
	}
	err := found(s.path, s.rawFile)
	if err == nil {
		wal := s.walPath
		if w := s.walFile.Load(); w != nil {
			err = found(wal, *w)
		} else if fi, statErr := os.Lstat(wal); statErr == nil && fi.Mode().IsRegular() {
			s.walFile.CompareAndSwap(nil, &fi)
		}
	}
	if err != nil {
		s.replaced.CompareAndSwap(nil, &err)
		return s.replacedErr()
	}
	return nil
}
