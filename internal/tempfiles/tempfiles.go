// Package tempfiles removes what a command is still writing when it is
// interrupted, so that no unfinished copy of evidence (a fetched file's
// plaintext before its SHA-256 is checked, a package, an extraction)
// outlives the command unseen.
//
// Track registers a temporary file or folder until the command is done
// with it. The first Track installs a handler of SIGINT, SIGTERM and
// SIGHUP (a closed terminal or a dropped SSH session) that removes
// everything tracked, says so on standard error, and exits with 130,
// 143 or 129 as a shell reports those signals. A SIGKILL or a power cut
// cannot be caught: Hold marks a file or folder as being written (an
// advisory lock that ends with the process, however it ends), and Sweep
// removes the leftovers nobody holds, the next time a command writes to
// the same folder.
package tempfiles

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	mu      sync.Mutex
	tracked = map[string]bool{}
	once    sync.Once
	// exit ends the process; tests replace it.
	exit = os.Exit
)

// Track registers path (a file or a folder) to be removed if the process
// is interrupted before untrack is called. Untrack does not remove it:
// the caller removes or renames it as its work ends.
func Track(path string) (untrack func()) {
	once.Do(install)
	mu.Lock()
	tracked[path] = true
	mu.Unlock()
	return func() {
		mu.Lock()
		delete(tracked, path)
		mu.Unlock()
	}
}

func install() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		removed := RemoveTracked()
		for _, p := range removed {
			fmt.Fprintf(os.Stderr, "%s: interrupted: removed the unfinished %s\n", filepath.Base(os.Args[0]), p)
		}
		switch sig {
		case syscall.SIGTERM:
			exit(143)
		case syscall.SIGHUP:
			exit(129)
		}
		exit(130)
	}()
}

// Hold marks f, a temporary file or folder this process writes, as held
// until the process ends (or f is closed): Sweep in another process
// leaves it alone. Where the system has no advisory locks it does
// nothing, and Sweep goes by age.
func Hold(f *os.File) error { return hold(f) }

// RemoveTracked removes every tracked path and returns those it removed.
func RemoveTracked() []string {
	mu.Lock()
	defer mu.Unlock()
	var out []string
	for p := range tracked {
		delete(tracked, p)
		if err := os.RemoveAll(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Sweep removes, in dir, the entries whose name begins with prefix that
// no live process holds (Hold) and that have not been modified for at
// least idle, and returns their paths. Where the system has no advisory
// locks, age alone decides (a live writer touches its file as it
// writes). What cannot be listed or removed is left as it is.
func Sweep(dir, prefix string, idle time.Duration) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) || e.Type()&os.ModeSymlink != 0 {
			continue // not a name of ours, or not a file we made
		}
		p := filepath.Join(dir, e.Name())
		if last, ok := lastModified(p); !ok || time.Since(last) < idle {
			continue
		}
		if lockable && held(p) {
			continue
		}
		if os.RemoveAll(p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// lastModified is when p, or for a folder the newest of its entries, was
// last modified.
func lastModified(p string) (time.Time, bool) {
	fi, err := os.Lstat(p)
	if err != nil {
		return time.Time{}, false
	}
	last := fi.ModTime()
	if fi.IsDir() {
		ents, err := os.ReadDir(p)
		if err != nil {
			return time.Time{}, false
		}
		for _, e := range ents {
			if ei, err := e.Info(); err == nil && ei.ModTime().After(last) {
				last = ei.ModTime()
			}
		}
	}
	return last, true
}
