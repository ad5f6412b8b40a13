//go:build unix

package signin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ownedByUs refuses a file another user owns.
func ownedByUs(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot tell its owner")
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("owned by user %d, not by us (%d)", st.Uid, os.Geteuid())
	}
	return nil
}

// openNoFollow opens path for reading, refusing a symbolic link.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; refusing it", path)
	}
	return f, err
}
