// Package smallfile reads the small files the vault keeps beside its data
// (sealed keys, public keys, the sticky head, lock records, manifests)
// without trusting their size.
//
// Whoever administers the server's disk can replace such a file with a
// sparse file of a gigabyte, which costs nothing on disk, or with a link
// to /dev/zero or to a named pipe: os.ReadFile would load the first whole
// and read the second until memory ran out, and block on the third. Read
// loads at most the limit it is given and refuses anything that is not a
// regular file, before it has read a byte.
package smallfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrTooLarge is wrapped by Read's error for a file longer than its
// limit.
var ErrTooLarge = errors.New("larger than the vault ever writes it")

// ErrNotRegular is wrapped by Read's error for a path that names a
// device, a named pipe, a socket or a folder (after links are followed).
var ErrNotRegular = errors.New("not a regular file")

// Read returns the contents of the regular file at path, which must hold
// at most limit bytes. Errors: those of os.Open (fs.ErrNotExist for a
// missing file, as os.ReadFile's), ErrNotRegular, ErrTooLarge, each
// naming the path.
func Read(path string, limit int64) ([]byte, error) { return read(path, limit, 0) }

// ReadNoLink is Read for a file that must be the vault's own, not a link:
// a link in the path's last element is refused (ErrNotRegular), whatever
// it points to.
func ReadNoLink(path string, limit int64) ([]byte, error) {
	b, err := read(path, limit, syscall.O_NOFOLLOW)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is %w (a link)", path, ErrNotRegular)
	}
	return b, err
}

func read(path string, limit int64, flags int) ([]byte, error) {
	// O_NONBLOCK: opening a named pipe for reading would otherwise wait
	// for a writer; for a regular file it changes nothing.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|flags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %w (%s)", path, ErrNotRegular, fi.Mode().Type())
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s holds %d bytes, %w (at most %d): it was altered", path, fi.Size(), ErrTooLarge, limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		// The file grew between the size's check and the read.
		return nil, fmt.Errorf("%s holds more than %d bytes, %w: it was altered", path, limit, ErrTooLarge)
	}
	return b, nil
}
