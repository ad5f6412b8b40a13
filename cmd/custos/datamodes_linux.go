package main

import (
	"errors"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// narrowModes takes group and other permissions off the folder dir (a
// link given as dir itself is followed: a data folder kept on another
// disk) and every folder and regular file under it, except what is
// below dir/objects/ev, the evidence objects; it returns the paths
// (relative to dir) it narrowed, and those it could not, with why.
//
// Every entry is opened relative to its folder's descriptor
// (openat(2)), without following a link (O_NOFOLLOW), as a path only
// (O_PATH: neither read nor locked), and changed through that
// descriptor after its type is checked there: a folder or file swapped
// for a link while the walk runs is never followed out of dir, nothing
// put in a place meanwhile (a named pipe) is waited on or changed, and
// the locks SQLite holds on the custody log stay held. The walk stays on
// the data folder's file system, and leaves a file with more than one
// name (a hard link, whose other name may be outside) as it is.
func narrowModes(dir string) (narrowed, failed []string) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, []string{".: " + err.Error()}
	}
	var root unix.Stat_t
	if err := unix.Fstat(fd, &root); err != nil {
		unix.Close(fd)
		return nil, []string{".: " + err.Error()}
	}
	w := &modeWalk{dev: root.Dev}
	w.folder(fd, ".", &root)
	return w.narrowed, w.failed
}

// modeWalk is one walk's findings; dev is the data folder's file
// system, which the walk does not leave.
type modeWalk struct {
	narrowed, failed []string
	dev              uint64
}

// evidence is the folder of the evidence objects, which is not walked.
const evidence = "objects/ev"

// folder narrows the folder open as fd (rel names it, st is its
// status), then what is in it; it closes fd.
func (w *modeWalk) folder(fd int, rel string, st *unix.Stat_t) {
	defer unix.Close(fd)
	w.narrow(fd, rel, st)
	if rel == evidence {
		return
	}
	dup, err := unix.Dup(fd)
	if err != nil {
		w.failed = append(w.failed, rel+": "+err.Error())
		return
	}
	f := os.NewFile(uintptr(dup), rel)
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		w.failed = append(w.failed, rel+": "+err.Error())
	}
	for _, name := range names {
		child := path.Join(rel, name)
		// O_PATH: the entry is not opened for reading, so that closing
		// the descriptor does not drop the POSIX locks this process
		// holds on it (closing any descriptor of a file drops them all,
		// and SQLite's locks on the custody log are such locks: another
		// program could then take the file, and remove the WAL the vault
		// writes).
		cfd, err := unix.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			// A link (ELOOP) is left as it is; anything else open to
			// others that cannot be opened is said.
			var st unix.Stat_t
			if !errors.Is(err, unix.ELOOP) && unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&0o077 != 0 {
				w.failed = append(w.failed, child+": "+err.Error())
			}
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstat(cfd, &st); err != nil {
			unix.Close(cfd)
			w.failed = append(w.failed, child+": "+err.Error())
			continue
		}
		// Another file system mounted inside the folder, and a file with
		// another name elsewhere (a hard link: the vault makes none),
		// are not the data folder's, and are left as they are.
		if st.Dev != w.dev || (st.Mode&unix.S_IFMT == unix.S_IFREG && st.Nlink > 1) {
			unix.Close(cfd)
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			// A folder is read through a descriptor of its own, opened
			// from the one O_PATH holds (no lock is held on a folder).
			dfd, err := unix.Openat(cfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			unix.Close(cfd)
			if err != nil {
				w.failed = append(w.failed, child+": "+err.Error())
				continue
			}
			w.folder(dfd, child, &st)
		case unix.S_IFREG:
			w.narrow(cfd, child, &st)
			unix.Close(cfd)
		default:
			unix.Close(cfd)
		}
	}
}

// narrow takes group and other permissions off what fd is open on (an
// O_PATH descriptor, or a folder's), whose status st was read through
// it: through /proc/self/fd, which names that very file, as fchmod
// cannot change one opened with O_PATH.
func (w *modeWalk) narrow(fd int, rel string, st *unix.Stat_t) {
	if st.Mode&0o077 == 0 {
		return
	}
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(fd), st.Mode&0o7700); err != nil {
		w.failed = append(w.failed, rel+": "+err.Error())
		return
	}
	w.narrowed = append(w.narrowed, rel)
}
