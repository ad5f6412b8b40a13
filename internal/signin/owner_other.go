//go:build !unix

package signin

import (
	"errors"
	"io/fs"
	"os"
)

// ownedByUs cannot check a file's owner here, so the token cache is
// refused on this system.
func ownedByUs(fs.FileInfo) error {
	return errors.New("this system's file owners cannot be checked")
}

// openNoFollow opens path for reading (the owner check refuses it anyway).
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }
