//go:build !windows

package pkgformat

import (
	"errors"
	"syscall"
)

// nameRefused reports whether a file system refused a file name (as FAT
// and exFAT do for <>:"|?*\, or any file system for a name over its
// length limit), as opposed to failing for another reason.
func nameRefused(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.EILSEQ)
}
