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
// the caller removes or renames it as its work ends. An interrupt being
// handled makes untrack wait for the handler, which exits: a command
// never goes on to report an outcome (a failure the removal caused, or a
// success whose file was removed) beside the handler's own report.
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
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if !signal.Ignored(syscall.SIGHUP) {
		// Not under nohup, which asks for the command to outlive its
		// terminal: catching SIGHUP would undo that.
		signal.Notify(sigs, syscall.SIGHUP)
	}
	go func() {
		sig := <-sigs
		// Held until the process exits: untrack waits for it. (exit
		// returns only in tests.)
		mu.Lock()
		defer mu.Unlock()
		removed := removeTracked()
		for _, p := range removed {
			fmt.Fprintf(os.Stderr, "%s: interrupted: removed the unfinished %s\n", filepath.Base(os.Args[0]), p)
		}
		code := 130
		switch sig {
		case syscall.SIGTERM:
			code = 143
		case syscall.SIGHUP:
			code = 129
		}
		exit(code)
	}()
}

// Hold marks f, a temporary file or folder this process writes, as held
// until the process ends (or f is closed): Sweep in another process
// leaves it alone. Where the system has no advisory locks it does
// nothing, and Sweep goes by age.
func Hold(f *os.File) error { return hold(f) }

// removeTracked removes every tracked path and returns those it
// removed; mu is held.
func removeTracked() []string {
	var out []string
	for p := range tracked {
		delete(tracked, p)
		if err := os.RemoveAll(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Unheld is how long a leftover must have been left untouched where its
// lock cannot be tried (a system or file system without advisory locks):
// then age alone tells a leftover from a live writer's file, and a live
// writer may wait that long for its server.
const Unheld = 10 * time.Minute

// Sweep removes, in dir, the entries whose name begins with prefix that
// no live process holds (Hold) and that have not been modified for at
// least idle (the moment between a writer's creating its file and
// locking it), and returns their paths. Where the lock cannot be tried,
// an entry must have been untouched for Unheld. What cannot be listed or
// removed is left as it is.
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
		last, ok := lastModified(p)
		if !ok || time.Since(last) < idle {
			continue
		}
		if held, known := lockState(p); held || !known && time.Since(last) < Unheld {
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
