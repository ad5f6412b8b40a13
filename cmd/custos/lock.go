package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockData takes the data folder's lock (an exclusive flock on DIR/lock),
// held by the server for its lifetime and by each offline admin verb
// while it runs, so that no two work on one vault at once (an admin verb
// while the server runs would write behind its back). The lock goes with
// the process, however it ends.
func lockData(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := checkDataOwner(dir, os.Geteuid()); err != nil {
		return nil, err
	}
	privateIfNew(dir)
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another custos process works on %s (it holds %s): stop the server first (systemctl stop custos), or wait for the other admin command to end", dir, path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

// checkDataOwner refuses root (euid 0) a data folder another user owns:
// every file a root process writes there (the sticky head, a snapshot,
// an object's lock, the log's own files) would be root's, 0600, and the
// server, running as the folder's owner, could no longer read them: its
// next start would be refused. Nothing is written before the refusal.
func checkDataOwner(dir string, euid int) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || euid != 0 || st.Uid == 0 {
		return nil
	}
	owner := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	return fmt.Errorf("%s belongs to %s, and this command runs as root: the files it would write there would be root's, and the server, running as %s, could no longer read them. "+
		"Run it as the vault's user, with the server's groups: runuser -u %s -- custos ... (docs/operations.md, \"Offline admin verbs\"); nothing was done", dir, owner, owner, owner)
}

// privateIfNew makes a new data folder, empty, the vault's user's alone
// (group and other permissions off) before anything is written in it, as
// a folder made with the usual umask (mkdir -p, 0755) is open to other
// accounts: nothing in it was ever open to them, so nothing is said. A
// folder that holds anything is left to narrowDataFolder, which warns of
// what someone widened.
func privateIfNew(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) > 0 {
		return
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		os.Chmod(dir, fi.Mode().Perm()&0o700)
	}
}
