// Package inputfile opens the files people name on a command line (a hash
// list to import, a public key, a package to verify) and says, in their
// words, what is wrong with one that cannot be read: it does not exist,
// it is a folder, or it may not be read. The operating system's own
// errors ("open x: no such file or directory", "read x: is a directory")
// name system calls; a folder even opens, and fails only when read, in
// the middle of whatever was sending it. (The vault's own small files,
// which an administrator could swap for a pipe or a sparse gigabyte, are
// read by internal/smallfile instead, which refuses anything not
// regular; a person's input may well be a pipe: <(...) or /dev/stdin.)
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/custos-vault/custos/internal/printable"
)

// Error is a file that cannot be read as an input. Its text names the
// path as given (made safe for a terminal) and the problem; Unwrap gives
// the operating system's error, so that errors.Is(err, fs.ErrNotExist)
// holds.
type Error struct {
	Path    string
	Problem string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s", printable.Terminal(e.Path), e.Problem)
}

func (e *Error) Unwrap() error { return e.Err }

// Open opens path for reading and returns it with what Stat says of it.
// A folder is refused (*Error, "is a folder: give the file itself"), as
// are a path that does not exist and one that may not be read; named
// pipes and devices are opened (process substitution, /dev/stdin).
func Open(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, describe(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, describe(path, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, nil, &Error{Path: path, Problem: "is a folder: give the file itself", Err: fs.ErrInvalid}
	}
	return f, fi, nil
}

// ReadFile reads the whole of path, refusing one of more than limit
// bytes (*Error: "is larger than ..."), as Open refuses what it refuses.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, _, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, describe(path, err)
	}
	if int64(len(b)) > limit {
		return nil, &Error{Path: path, Problem: fmt.Sprintf("is larger than %d bytes: is it the right file?", limit), Err: fs.ErrInvalid}
	}
	return b, nil
}

// describe words the operating system's error about path.
func describe(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{Path: path, Problem: "does not exist", Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &Error{Path: path, Problem: "may not be read by this user (permission denied)", Err: err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &Error{Path: path, Problem: "cannot be read: " + pe.Err.Error(), Err: err}
	}
	return &Error{Path: path, Problem: "cannot be read: " + err.Error(), Err: err}
}
