// Package durable writes small files so that they survive a crash: the
// bytes are fsynced before the file gets its name, and the folder is
// fsynced after. The keyring and the development sealer keep their keys
// this way; the object store uses SyncDir for its own renames.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteNew writes b to path with mode 0600, refusing to replace an
// existing file (a key must never be overwritten by accident).
func WriteNew(path string, b []byte) error {
	tmp, err := writeTemp(path, b, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	// link, unlike rename, fails if path exists.
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// Replace writes b to path with mode 0600, atomically replacing any
// existing file.
func Replace(path string, b []byte) error {
	return ReplaceMode(path, b, 0o600)
}

// ReplaceMode is Replace with the file's permission bits perm.
func ReplaceMode(path string, b []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, b, perm)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp writes and fsyncs b into a new temporary file beside path,
// with permission bits perm.
func writeTemp(path string, b []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return "", err
	}
	if err := fill(f, b, perm.Perm()); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// Create writes b to a new file at path, made with mode perm less the
// umask as any new file is, failing with an error wrapping fs.ErrExist if
// path exists; the bytes are fsynced, and the folder after. A crash may
// leave the file short, so it is for files that hold nothing yet.
func Create(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := fill(f, b, 0); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// fill writes b to the new file f (after setting its permission bits to
// perm, unless 0), fsyncs and closes it; on an error it removes it.
func fill(f *os.File, b []byte, perm os.FileMode) error {
	var err error
	if perm != 0 {
		err = f.Chmod(perm)
	}
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// SyncDir fsyncs a folder, making the names created or removed in it
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
