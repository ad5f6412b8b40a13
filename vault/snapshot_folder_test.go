package vault

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/events/sqlite"

	"filippo.io/age"
)

// A snapshot the storage or its permissions refuse to open shows no sign
// of a change: the start leaves it in place (not renamed .discarded, nor
// recorded as discarded), says so, and replays the log; a later start
// that can read it uses it.
func TestUnreadableSnapshotIsLeftInPlace(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EACCES, syscall.EIO} {
		t.Run(errno.Error(), func(t *testing.T) {
			s := stoppedBusyVault(t, 1)
			// Every snapshot the stopped vault left is unreadable: on a
			// loaded machine it can have written one on its interval
			// besides the one at its stop, and a start rightly resumes
			// from an older readable one.
			unreadable := map[string]bool{}
			for _, name := range snapshotFiles(t, s.dir) {
				unreadable[filepath.Join(s.dir, "snapshots", name)] = true
			}
			if !unreadable[s.snap] {
				t.Fatalf("the newest snapshot %s is not among %v", s.snap, unreadable)
			}
			open := openSnapshotFile
			openSnapshotFile = func(path string) (int, error) {
				if unreadable[path] {
					return -1, errno
				}
				return open(path)
			}
			logs := &logBuffer{}
			v, st := snapshotVault(t, s.dir, slog.New(slog.NewTextHandler(logs, nil)), s.rec)
			openSnapshotFile = open
			started := lastOfType(t, v, TypeServerStarted)
			v.Close()
			st.Close()
			if started["state_snapshot"] != "" || started["state_snapshots_discarded"] != "" {
				t.Fatalf("server.started %v: want a replay, and no discard of a file that could not be read", started)
			}
			if !strings.Contains(logs.String(), "could not be read: left in place") {
				t.Fatalf("not said: %s", logs.String())
			}
			if slices.ContainsFunc(snapshotFiles(t, s.dir), func(n string) bool { return strings.HasSuffix(n, ".discarded") }) {
				t.Fatalf("a snapshot was discarded: %v", snapshotFiles(t, s.dir))
			}
			// Readable again, the newest snapshot (this start's, at its
			// stop) is used.
			v, st = snapshotVault(t, s.dir, slog.New(slog.DiscardHandler), s.rec)
			defer st.Close()
			defer v.Close()
			if lastOfType(t, v, TypeServerStarted)["state_snapshot"] == "" {
				t.Fatal("the next start did not resume from a snapshot")
			}
		})
	}
}

// Files named as snapshots of more events than the vault has, put in the
// folder while it runs, do not displace the vault's own: the snapshot it
// writes at its stop and the one before stay; the next start reads the
// planted files, discards them loudly, and resumes from the vault's own.
// More files than a start reads are left unread, not discarded unread.
func TestPlantedSnapshotFilesDoNotDisplaceTheVaultsOwn(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	// Snapshots written at the stops alone, so that which are the
	// vault's own is known.
	snapshotVault := func(t *testing.T, dir string, logger *slog.Logger, rec string) (*Vault, *sqlite.Store) {
		v, st, err := openSnapshotVault(t, dir, logger, rec, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		return v, st
	}
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 0)
	v.Close()
	st.Close()
	own := snapshotFiles(t, dir)
	v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	busyVault(t, v, 1)
	for _, n := range []uint64{1_000_098, 1_000_099} {
		if err := os.WriteFile(filepath.Join(dir, "snapshots", snapshotName(n)), []byte("junk\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	size := v.log.Size()
	v.Close()
	st.Close()
	files := snapshotFiles(t, dir)
	if !slices.Contains(files, snapshotName(size)) || !slices.Contains(files, own[len(own)-1]) {
		t.Fatalf("the snapshots after the stop: %v, want the one just written (%s) and the vault's before it (%s) kept", files, snapshotName(size), own[len(own)-1])
	}
	// A third planted file: with the vault's two, more than a start reads.
	if err := os.WriteFile(filepath.Join(dir, "snapshots", snapshotName(2_000_000)), []byte("junk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	v, st = snapshotVault(t, dir, slog.New(slog.NewTextHandler(logs, nil)), rec.Recipient().String())
	started := lastOfType(t, v, TypeServerStarted)
	v.Close()
	st.Close()
	if strings.Count(started["state_snapshots_discarded"], "state-") != 3 || started["state_snapshot"] != "" {
		t.Fatalf("server.started %v: want the three planted files read and discarded", started)
	}
	if !strings.Contains(logs.String(), "left in place, unread") {
		t.Fatalf("the files a start does not read are not said to be left unread: %s", logs.String())
	}
	// The vault's own, unread, are still there: the next start uses
	// the newest.
	v, st = snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer st.Close()
	defer v.Close()
	if lastOfType(t, v, TypeServerStarted)["state_snapshot"] == "" {
		t.Fatalf("the start after the planted files were discarded did not resume from the vault's own: %v", snapshotFiles(t, dir))
	}
}

// A file where the snapshots' folder should be refuses the start with
// what to do, not an error of mkdir.
func TestSnapshotFolderReplacedByAFile(t *testing.T) {
	s := stoppedBusyVault(t, 1)
	folder := filepath.Join(s.dir, "snapshots")
	if err := os.RemoveAll(folder); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(folder, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := openSnapshotVault(t, s.dir, slog.New(slog.DiscardHandler), s.rec, 50)
	if err == nil || !strings.Contains(err.Error(), "is a file, not a folder: move the file aside") {
		t.Fatalf("a start with a file for the snapshots' folder: %v", err)
	}
}
