package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
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
	// A hard link to a file outside: its other name is not the data
	// folder's.
	hardOutside := filepath.Join(elsewhere, "linked.txt")
	if err := os.WriteFile(hardOutside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(hardOutside, 0o644)
	if err := os.Link(hardOutside, filepath.Join(data, "keyring", "hard")); err != nil {
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
		hardOutside:                        0o644,
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

// The narrowing keeps the POSIX locks SQLite holds on the custody log:
// closing any descriptor of a file drops all of a process's locks on it,
// and without them another program's connection to the log, as it
// closes, removes the WAL the running vault writes (an earlier walk
// opened each file to change it, and did just that).
func TestNarrowingKeepsTheLogsLocks(t *testing.T) {
	data := t.TempDir()
	path := filepath.Join(data, "custody.db")
	ctx := context.Background()
	st, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Append(ctx, 0, []events.Record{{Seq: 0, ID: events.NewID(), Bytes: []byte(`{"seq":0}`)}}, &events.StoredCheckpoint{Size: 1, Note: []byte("seal"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Size(ctx); err != nil {
		t.Fatal(err)
	}
	before := heldLocks(t, path)
	if before == 0 {
		t.Fatal("the store holds no lock on its file: the case this guards does not arise")
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(p, 0o644)
	}
	narrowDataFolder(data, slog.New(slog.DiscardHandler))
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the log's file was not narrowed: %v %v", fi.Mode(), err)
	}
	if after := heldLocks(t, path); after < before {
		t.Fatalf("the store held %d locks on its file before the narrowing, %d after", before, after)
	}
}

// heldLocks counts the POSIX locks this process holds on the file at path
// (/proc/locks).
func heldLocks(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Skipf("no /proc/locks: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "POSIX" && f[4] == strconv.Itoa(os.Getpid()) && strings.HasSuffix(f[5], ":"+strconv.FormatUint(ino, 10)) {
			n++
		}
	}
	return n
}
