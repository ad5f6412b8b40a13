package sqlite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenOnAFullDiskSaysSo: a custody log whose disk filled while the
// server was stopped cannot be opened (SQLite cannot create its
// shared-memory file); the refusal says the disk is full and how much is
// free, not only SQLite's "disk I/O error", which reads as a damaged
// file. The disk is a real one: a tmpfs of 1 MiB, mounted for the test
// (which needs root, and is skipped without).
func TestOpenOnAFullDiskSaysSo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	path := filepath.Join(dir, "custody.db")
	st, err := New(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, p := range []string{path + "-shm", path + "-wal"} {
		os.Remove(p)
	}
	// Fill the disk: write until the kernel refuses.
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	st, err = New(context.Background(), Config{Path: path})
	if err == nil {
		st.Close()
		t.Skip("SQLite opened the log on the full disk: nothing to say")
	}
	if !strings.Contains(err.Error(), "bytes free: a full disk, not a damaged file, is the likely cause") {
		t.Fatalf("opening the log on a full disk: %v", err)
	}
}
