package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
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

// TestAFolderWithoutAVaultIsNoNewVault: outside --dev, the server and
// the offline verbs refuse a data folder that does not exist (missing,
// not mounted, mistyped) before anything is written; with the custody
// log an embedded SQLite file, all but admin enroll also refuse one that
// holds no vault (no log key, no log), saying to check the path or
// restore it, and how a new vault is made. A log without its keyring is
// left to the start's own refusal, which says to recover the keyring.
func TestAFolderWithoutAVaultIsNoNewVault(t *testing.T) {
	rec := "age1qmc082n9ma9kdejp033xk3u3jeuucts30ca03ysptuvp43ev4elq49rxk6"
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	identity := filepath.Join(t.TempDir(), "recovery.key")
	if err := os.WriteFile(identity, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		exists bool
		says   []string
	}{
		{"server, no folder", []string{"server", "--listen", "127.0.0.1:0"}, false, []string{"does not exist: check the path", "restore the folder from backup", "For a new vault, create it first"}},
		{"server, empty folder", []string{"server", "--listen", "127.0.0.1:0"}, true, []string{"holds no vault", "restore the folder from backup", "custos admin enroll"}},
		{"accept-rollback, no folder", []string{"admin", "accept-rollback", "--reason", "restored"}, false, []string{"does not exist"}},
		{"accept-rollback, empty folder", []string{"admin", "accept-rollback", "--reason", "restored"}, true, []string{"holds no vault"}},
		{"recover, no folder", []string{"admin", "recover", "--identity", identity}, false, []string{"does not exist"}},
		{"recover, empty folder", []string{"admin", "recover", "--identity", identity}, true, []string{"holds no vault"}},
		{"enroll, no folder", []string{"admin", "enroll", "ana", "--role", "custodian"}, false, []string{"does not exist", "create it first"}},
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
			for _, want := range c.says {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("custos %s: %v, want it to say %q", strings.Join(c.args, " "), err, want)
				}
			}
			entries, statErr := os.ReadDir(data)
			if c.exists && len(entries) != 0 || !c.exists && statErr == nil {
				t.Errorf("the refused command wrote in the data folder: %v %v", entries, statErr)
			}
		})
	}
	// A vault's local-disk store that is missing is refused, not made.
	{
		data := filepath.Join(t.TempDir(), "data")
		os.MkdirAll(filepath.Join(data, "keyring"), 0o700)
		os.WriteFile(filepath.Join(data, "keyring", "log.key.sealed"), []byte("x"), 0o600)
		mistyped := filepath.Join(data, "objekts")
		err := run([]string{"server", "--listen", "127.0.0.1:0", "--data", data, "--log", "sqlite:" + filepath.Join(data, "custody.db"),
			"--objects", "fs:" + mistyped, "--sealer", "tpm:/dev/null", "--recovery-recipient", rec}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "the folder does not exist, but --data") {
			t.Errorf("a vault's object store mistyped: %v", err)
		}
		if _, err := os.Stat(mistyped); err == nil {
			t.Error("the refused start made the mistyped folder")
		}
	}
	for name, prepare := range map[string]func(data string){
		// A container's first start on an empty log kept elsewhere
		// makes the vault (a log with events beside no keyring is
		// refused by the start itself).
		"a log kept elsewhere": func(string) {},
		// The keyring lost beside a log with events: the start says to
		// recover it, not to enrol anyone.
		"a log without its keyring": func(data string) {
			os.WriteFile(filepath.Join(data, "custody.db"), []byte("SQLite format 3\x00"), 0o600)
		},
	} {
		data := filepath.Join(t.TempDir(), "data")
		os.Mkdir(data, 0o700)
		prepare(data)
		log := "sqlite:" + filepath.Join(data, "custody.db")
		if name == "a log kept elsewhere" {
			log = "postgres://custos@127.0.0.1:1/custody"
		}
		err := run([]string{"server", "--listen", "127.0.0.1:0", "--data", data, "--log", log,
			"--objects", "fs:" + filepath.Join(data, "objects"), "--sealer", "tpm:/dev/null", "--recovery-recipient", rec}, io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), "holds no vault") || strings.Contains(err.Error(), "does not exist: check the path") {
			t.Errorf("%s: %v", name, err)
		}
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

// TestANewDataFolderIsMadePrivateSilently: a new, empty data folder made
// with the usual umask (0755, as make run's mkdir -p makes it) is the
// vault's user's alone once the vault takes it, without the warning a
// folder someone widened gets; a folder that holds anything keeps its
// mode here (narrowDataFolder narrows it, and warns).
func TestANewDataFolderIsMadePrivateSilently(t *testing.T) {
	fresh := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(fresh, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(fresh, 0o755) // whatever the test's umask
	lock, err := lockData(fresh)
	if err != nil {
		t.Fatal(err)
	}
	lock.Close()
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o700 {
		t.Fatalf("a new data folder is %v after the vault took it, want 0700", fi.Mode().Perm())
	}
	used := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(used, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(used, "custody.db"), nil, 0o600)
	os.Chmod(used, 0o755)
	lock, err = lockData(used)
	if err != nil {
		t.Fatal(err)
	}
	lock.Close()
	if fi, _ := os.Stat(used); fi.Mode().Perm() != 0o755 {
		t.Fatalf("a data folder holding files was changed to %v by its lock; narrowing it is the start's, with a warning", fi.Mode().Perm())
	}
}
