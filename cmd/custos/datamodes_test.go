//go:build unix

package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataFolderNarrowedAtStart: a data folder whose files and folders
// someone opened to other users (chmod -R go+rwX) is narrowed to the
// vault's user by the start's check, which says so at WARN; a link in it
// is neither followed nor changed, and the object store's objects are
// left alone.
func TestDataFolderNarrowedAtStart(t *testing.T) {
	data := t.TempDir()
	outside := filepath.Join(t.TempDir(), "elsewhere.txt")
	for path, mode := range map[string]os.FileMode{
		outside:                            0o644,
		filepath.Join(data, "keys", "kek"): 0o666,
		filepath.Join(data, "keyring", "log.key"):  0o644,
		filepath.Join(data, "custody.db"):          0o600,
		filepath.Join(data, "objects", "ab", "cd"): 0o644,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{data, filepath.Join(data, "keys"), filepath.Join(data, "keyring"), filepath.Join(data, "objects"), filepath.Join(data, "objects", "ab")} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(data, "keyring", "link")); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	narrowDataFolder(data, slog.New(slog.NewTextHandler(&log, nil)))
	want := map[string]os.FileMode{
		data:                                       0o700,
		filepath.Join(data, "keys"):                0o700,
		filepath.Join(data, "keys", "kek"):         0o600,
		filepath.Join(data, "keyring"):             0o700,
		filepath.Join(data, "keyring", "log.key"):  0o600,
		filepath.Join(data, "custody.db"):          0o600,
		filepath.Join(data, "objects"):             0o700,
		filepath.Join(data, "objects", "ab"):       0o777,
		filepath.Join(data, "objects", "ab", "cd"): 0o644,
		outside: 0o644,
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "count=6") || !strings.Contains(log.String(), "find out who") {
		t.Errorf("the warning: %s", log.String())
	}
	// Narrowed, a second start says nothing.
	log.Reset()
	narrowDataFolder(data, slog.New(slog.NewTextHandler(&log, nil)))
	if log.Len() != 0 {
		t.Errorf("a second check logged %s", log.String())
	}
}
