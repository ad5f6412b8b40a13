package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootIsRefusedAnotherUsersDataFolder: an offline admin verb, or the
// server, started as root on a data folder the vault's user owns would
// leave root's 0600 files there (the sticky head, a snapshot, object
// locks), and the server's next start as its user would be refused. Both
// are refused before anything is written, naming the owner and the way
// to run it; root on its own folder, and any other user, go on.
func TestRootIsRefusedAnotherUsersDataFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give the data folder to another user")
	}
	for _, args := range [][]string{
		{"admin", "enroll", "ana", "--role", "custodian", "--dev"},
		{"server", "--dev", "--listen", "127.0.0.1:0"},
	} {
		t.Run(args[0], func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(data, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			err := run(append(args, "--data", data), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "this command runs as root") || !strings.Contains(err.Error(), "runuser -u ") || !strings.Contains(err.Error(), "nothing was done") {
				t.Fatalf("custos %s as root on another user's folder: %v", args[0], err)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("the refused command wrote %d files in the data folder", len(entries))
			}
		})
	}
	for _, c := range []struct {
		uid, euid int
	}{{0, 0}, {65534, 1000}, {1000, 1000}} {
		dir := t.TempDir()
		if err := os.Chown(dir, c.uid, c.uid); err != nil {
			t.Fatal(err)
		}
		if err := checkDataOwner(dir, c.euid); err != nil {
			t.Errorf("a folder of uid %d, the process's euid %d: %v", c.uid, c.euid, err)
		}
	}
}
