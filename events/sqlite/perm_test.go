package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFilesOwnerOnly: the database and its -wal and -shm files hold
// names, notes and token hashes: they are 0600 whatever the umask, for a
// new log and for one created earlier with wider permissions.
func TestFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	ctx := context.Background()
	check := func(when string) {
		t.Helper()
		for _, name := range []string{"custody.db", "custody.db-wal", "custody.db-shm"} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: %s is %v", when, name, fi.Mode().Perm())
			}
		}
	}
	path := filepath.Join(dir, "custody.db")
	s, err := New(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	check("new log")
	s.Close()
	for _, name := range []string{"custody.db", "custody.db-wal", "custody.db-shm"} {
		os.Chmod(filepath.Join(dir, name), 0o644)
	}
	s, err = New(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("reopened log")
}
