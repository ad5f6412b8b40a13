//go:build unix

package main

import (
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// narrowModes takes group and other permissions off every folder and
// regular file under dir, and dir itself, except what is below
// dir/objects; it returns the paths (relative to dir) it narrowed, and
// those it could not, with why. Each is opened without following a link
// (O_NOFOLLOW) and changed through its descriptor, after its type is
// checked there, so that nothing put in its place meanwhile (a link to a
// file elsewhere, a named pipe) is changed or waited on.
func narrowModes(dir string) (narrowed, failed []string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, path)
		if err != nil {
			failed = append(failed, rel+": "+err.Error())
			return nil
		}
		if d.IsDir() && filepath.Dir(rel) == "objects" {
			return filepath.SkipDir
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
		if d.IsDir() {
			flags |= unix.O_DIRECTORY
		}
		fd, err := unix.Open(path, flags, 0)
		if err != nil {
			if info, ierr := d.Info(); ierr == nil && info.Mode().Perm()&0o077 != 0 {
				failed = append(failed, rel+": "+err.Error())
			}
			return nil
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			failed = append(failed, rel+": "+err.Error())
			return nil
		}
		if kind := st.Mode & unix.S_IFMT; kind != unix.S_IFREG && kind != unix.S_IFDIR {
			return nil
		}
		if st.Mode&0o077 == 0 {
			return nil
		}
		if err := unix.Fchmod(fd, st.Mode&0o7700); err != nil {
			failed = append(failed, rel+": "+err.Error())
			return nil
		}
		narrowed = append(narrowed, rel)
		return nil
	})
	return narrowed, failed
}
