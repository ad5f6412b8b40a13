//go:build windows

package pkgformat

import (
	"errors"
	"syscall"
)

// Windows error codes for refused names.
const (
	errorInvalidName        = syscall.Errno(123) // ERROR_INVALID_NAME
	errorBadPathname        = syscall.Errno(161) // ERROR_BAD_PATHNAME
	errorFilenameExcedRange = syscall.Errno(206) // ERROR_FILENAME_EXCED_RANGE
)

// nameRefused reports whether the file system refused a file name, as
// opposed to failing for another reason.
func nameRefused(err error) bool {
	return errors.Is(err, errorInvalidName) || errors.Is(err, errorBadPathname) || errors.Is(err, errorFilenameExcedRange) ||
		errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENAMETOOLONG)
}
