package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// TestOpenOnAFullDiskSaysSo: a custody log whose disk filled while the
// server was stopped cannot be opened (SQLite cannot create its
// shared-memory file); the refusal says the disk is full and how much is
// free, not only SQLite's "disk I/O error", which reads as a damaged
// file. The disk is a real one: a tmpfs of 1 MiB (testenv.SmallDisk).
func TestOpenOnAFullDiskSaysSo(t *testing.T) {
	dir := testenv.SmallDisk(t, "1m")
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
