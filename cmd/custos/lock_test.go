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

// TestAFolderWithoutAVaultIsNoNewVault: outside --dev, with the custody
// log an embedded SQLite file, the server and the offline verbs other
// than admin enroll refuse a data folder that holds no vault (missing, not mounted, mistyped, or emptied) before
// anything is written there, saying to check the path or restore it, and
// how a new vault is made; admin enroll makes one.
func TestAFolderWithoutAVaultIsNoNewVault(t *testing.T) {
	rec := "age1qmc082n9ma9kdejp033xk3u3jeuucts30ca03ysptuvp43ev4elq49rxk6"
	for _, c := range []struct {
		name   string
		args   []string
		exists bool
	}{
		{"server, no folder", []string{"server", "--listen", "127.0.0.1:0"}, false},
		{"server, empty folder", []string{"server", "--listen", "127.0.0.1:0"}, true},
		{"accept-rollback", []string{"admin", "accept-rollback", "--reason", "restored"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			if c.exists {
				if err := os.Mkdir(data, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			args := append(c.args, "--data", data, "--log", "sqlite:"+filepath.Join(data, "custody.db"),
				"--objects", "fs:"+filepath.Join(data, "objects"), "--sealer", "tpm:/dev/null", "--recovery-recipient", rec)
			err := run(args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "holds no vault") || !strings.Contains(err.Error(), "restore the folder from backup") || !strings.Contains(err.Error(), "custos admin enroll") {
				t.Fatalf("custos %s on a folder without a vault: %v", strings.Join(c.args, " "), err)
			}
			entries, statErr := os.ReadDir(data)
			if c.exists && len(entries) != 0 || !c.exists && statErr == nil {
				t.Errorf("the refused command wrote in the data folder: %v %v", entries, statErr)
			}
		})
	}
	// A log kept elsewhere tells a lost data folder by itself (a start on
	// a log with events and no log key is refused); a container's first
	// start on an empty one makes the vault: not refused here.
	data := filepath.Join(t.TempDir(), "data")
	err := run([]string{"server", "--listen", "127.0.0.1:0", "--data", data, "--log", "postgres://custos@127.0.0.1:1/custody",
		"--objects", "fs:" + filepath.Join(data, "objects"), "--sealer", "tpm:/dev/null", "--recovery-recipient", rec}, io.Discard, io.Discard)
	if err == nil || strings.Contains(err.Error(), "holds no vault") {
		t.Errorf("a server with its log elsewhere, on a new data folder: %v", err)
	}
}

// TestAdminVerbsShareTheServersConfigFile: the offline verbs read the
// server's config file with its listener, TLS and sign-in keys (which
// configure the server) skipped, not refused; a key neither knows is
// still refused, by its line.
func TestAdminVerbsShareTheServersConfigFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	conf := filepath.Join(dir, "custos.conf")
	body := "data = " + data + "\nlog = sqlite:" + filepath.Join(data, "custody.db") + "\nobjects = fs:" + filepath.Join(data, "objects") +
		"\nsealer = tpm:/dev/null\nrecovery-recipient = age1qmc082n9ma9kdejp033xk3u3jeuucts30ca03ysptuvp43ev4elq49rxk6\n" +
		"listen = 0.0.0.0:8443\ntls-cert = /etc/custos/tls/cert.pem\ntls-key = /etc/custos/tls/key.pem\noidc-claim = email\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"admin", "accept-rollback", "--reason", "restored"},
		{"admin", "enroll", "ana", "--role", "custodian"},
	} {
		err := run(append(args, "--config", conf), io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "is not a flag") {
			t.Errorf("custos %s --config with the server's keys: %v", strings.Join(args[:2], " "), err)
		}
	}
	if err := os.WriteFile(conf, []byte(body+"lisen = 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run([]string{"admin", "accept-rollback", "--reason", "restored", "--config", conf}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `line 10: "lisen" is not a flag of admin accept-rollback`) {
		t.Errorf("a mistyped key: %v", err)
	}
}
