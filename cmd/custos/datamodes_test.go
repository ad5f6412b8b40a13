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
// vault's user by the start's check, which says so at WARN. The data
// folder given as a link is followed; a link inside it, to a file or a
// folder elsewhere, is neither followed nor changed; the evidence
// objects are left alone, the key replicas and heads are not.
func TestDataFolderNarrowedAtStart(t *testing.T) {
	data := t.TempDir()
	elsewhere := t.TempDir()
	outsideFile := filepath.Join(elsewhere, "elsewhere.txt")
	outsideDir := filepath.Join(elsewhere, "dir")
	files := map[string]os.FileMode{
		outsideFile:                                          0o644,
		filepath.Join(outsideDir, "inner"):                   0o644,
		filepath.Join(data, "keys", "kek"):                   0o666,
		filepath.Join(data, "keyring", "log.key"):            0o644,
		filepath.Join(data, "custody.db"):                    0o600,
		filepath.Join(data, "objects", "key", "replica"):     0o644,
		filepath.Join(data, "objects", "ev", "ciphertext"):   0o644,
		filepath.Join(data, "objects", "head", "0000000001"): 0o666,
	}
	for path, mode := range files {
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
	wideDirs := []string{data, outsideDir}
	for _, d := range []string{"keys", "keyring", "objects", "objects/key", "objects/ev", "objects/head"} {
		wideDirs = append(wideDirs, filepath.Join(data, d))
	}
	for _, d := range wideDirs {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outsideFile, filepath.Join(data, "keyring", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outsideDir, filepath.Join(data, "spool")); err != nil {
		t.Fatal(err)
	}
	// The data folder itself given through a link.
	link := filepath.Join(t.TempDir(), "data")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	narrowDataFolder(link, slog.New(slog.NewTextHandler(&log, nil)))
	want := map[string]os.FileMode{
		data:                                                 0o700,
		filepath.Join(data, "keys"):                          0o700,
		filepath.Join(data, "keys", "kek"):                   0o600,
		filepath.Join(data, "keyring"):                       0o700,
		filepath.Join(data, "keyring", "log.key"):            0o600,
		filepath.Join(data, "custody.db"):                    0o600,
		filepath.Join(data, "objects"):                       0o700,
		filepath.Join(data, "objects", "key"):                0o700,
		filepath.Join(data, "objects", "key", "replica"):     0o600,
		filepath.Join(data, "objects", "head"):               0o700,
		filepath.Join(data, "objects", "head", "0000000001"): 0o600,
		filepath.Join(data, "objects", "ev"):                 0o700,
		filepath.Join(data, "objects", "ev", "ciphertext"):   0o644,
		outsideFile:                        0o644,
		outsideDir:                         0o777,
		filepath.Join(outsideDir, "inner"): 0o644,
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
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "count=11") || !strings.Contains(log.String(), "find out who") {
		t.Errorf("the warning: %s", log.String())
	}
	// Narrowed, a second start says nothing.
	log.Reset()
	narrowDataFolder(link, slog.New(slog.NewTextHandler(&log, nil)))
	if log.Len() != 0 {
		t.Errorf("a second check logged %s", log.String())
	}
}
