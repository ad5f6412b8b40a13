//go:build unix

package tempfiles

import (
	"errors"
	"os"
	"syscall"
)

// hold takes f's exclusive lock (flock(2)), without waiting: it ends
// with the process that holds it, however that ends.
func hold(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// lockState tells whether a live process holds path's lock: held, or
// not; known is false where the lock cannot be tried (a file system
// without flock, such as some NFS mounts, or no access), and then age
// alone decides.
func lockState(path string) (held, known bool) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		// A folder (or a file not open for writing here): read-only.
		if f, err = os.Open(path); err != nil {
			return false, false
		}
	}
	defer f.Close()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false, true
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, true
	}
	return false, false
}
