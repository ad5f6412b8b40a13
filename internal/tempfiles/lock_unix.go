//go:build unix

package tempfiles

import (
	"os"
	"syscall"
)

// lockable: this system has advisory file locks (flock(2)), which end
// with the process that holds them, however it ends.
const lockable = true

// hold takes f's exclusive lock, without waiting.
func hold(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// held reports whether another process holds path's lock: a writer that
// is still alive (or the lock cannot be tried: then it is left alone).
func held(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
