// Package fs is the embedded object store: one folder on local disk.
//
// Every object is written to a temporary file (with O_DIRECT, past the
// page cache, where the filesystem takes it: direct.go), fsynced, linked
// into place (link fails rather than replace an existing name), made
// read-only, and the folder is fsynced, so an object is either complete
// and durable or absent. Retention and legal holds are kept in a small sidecar file next to
// each object and enforced by Delete; they protect against mistakes of the
// vault, not against the machine's root user (use the s3 backend with
// object lock for that).
package fs

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/internal/ctxio"
	"github.com/custos-vault/custos/objects"
	"golang.org/x/sys/unix"
)

const (
	tmpDir     = ".tmp"
	lockSuffix = ".lock"
	// maxLockFile bounds an object's lock record read back (a few
	// dozen bytes of JSON as the store writes it).
	maxLockFile = 64 << 10
)

// Config names the folder.
type Config struct {
	Dir string
	// Now is the clock used for retention; default time.Now.
	Now func() time.Time
}

// Store is the filesystem object store.
type Store struct {
	dir string
	// top is the store's folder, opened once by New (following a link
	// there: an operator's choice) and used by every call, so that
	// swapping the folder for another while the vault runs changes
	// nothing it reads, writes or deletes.
	top   int
	topMu sync.RWMutex // Close against openTop
	// temporary holds the names of the files this store is writing in
	// its temporary folder: ListForeign reports every other file there.
	temporary sync.Map
	now       func() time.Time
	// mu serializes the last step of Put (check, lock file, link) with
	// Delete and SetLegalHold, so a Put that loses a race for a name can
	// never rewrite the winner's lock file.
	mu sync.Mutex
}

var _ objects.Store = (*Store)(nil)

// New opens (creating if needed) the store in cfg.Dir and removes temporary
// files a crash left behind: they never became objects.
func New(_ context.Context, cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("fs objects: no folder")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("fs objects: %w", err)
	}
	top, err := unix.Open(cfg.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("fs objects: %w", &os.PathError{Op: "open", Path: cfg.Dir, Err: err})
	}
	s := &Store{dir: cfg.Dir, top: top, now: cfg.Now}
	// The temporary folder is opened, never followed if it is a link
	// (someone with the store's folder could make it one, to have the
	// leftovers removed from another folder): the leftovers are removed
	// through the folder opened.
	fd, err := s.openTmp()
	if err != nil {
		unix.Close(top)
		return nil, err
	}
	defer unix.Close(fd)
	var leftovers []os.DirEntry
	if dup, err := unix.Dup(fd); err == nil {
		d := os.NewFile(uintptr(dup), filepath.Join(cfg.Dir, tmpDir))
		leftovers, _ = d.ReadDir(-1)
		d.Close()
	}
	for _, e := range leftovers {
		unix.Unlinkat(fd, e.Name(), 0)
	}
	return s, nil
}

// openTmp opens (making it if missing) the store's temporary folder, and
// refuses one that is a link or not a folder: objects.ErrNotRegular.
func (s *Store) openTmp() (int, error) {
	top, err := s.openTop()
	if err != nil {
		return -1, err
	}
	defer unix.Close(top)
	if err := unix.Mkdirat(top, tmpDir, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("fs objects: making %s: %w", tmpDir, err)
	}
	fd, err := unix.Openat(top, tmpDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fs objects: the temporary folder %s: %w", filepath.Join(s.dir, tmpDir), objectError(tmpDir, err))
	}
	return fd, nil
}

type lockInfo struct {
	RetainUntil time.Time `json:"retain_until,omitzero"`
	LegalHold   bool      `json:"legal_hold"`
}

// Put implements objects.Store.
func (s *Store) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (info objects.Info, err error) {
	// The folder it goes in, opened once: its name is checked now, before
	// the bytes are written, and again under the lock below.
	parent, base, err := s.openParent(name, true)
	if err != nil {
		return objects.Info{}, err
	}
	defer unix.Close(parent)
	if _, err := statAt(parent, base); !errors.Is(err, objects.ErrNotFound) {
		if err == nil {
			err = objects.ErrExists
		}
		return objects.Info{}, fmt.Errorf("%s: %w", name, err)
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	tmpName := hex.EncodeToString(rnd[:])
	s.temporary.Store(tmpName, true)
	defer s.temporary.Delete(tmpName) // after the file is removed (defers run last first)
	tmpFolder, err := s.openTmp()
	if err != nil {
		return objects.Info{}, err
	}
	defer unix.Close(tmpFolder)
	fd, direct, err := openObjectFile(tmpFolder, tmpName)
	if err != nil {
		return objects.Info{}, fmt.Errorf("fs objects: %w", err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(s.dir, tmpDir, tmpName))
	defer func() {
		f.Close()
		unix.Unlinkat(tmpFolder, tmpName, 0)
	}()
	n, err := io.Copy(&objectWriter{f: f, direct: direct}, ctxio.NewReader(ctx, r))
	if err != nil {
		return objects.Info{}, fmt.Errorf("fs objects: writing %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return objects.Info{}, fmt.Errorf("fs objects: fsync: %w", err)
	}
	if err := f.Chmod(0o400); err != nil {
		return objects.Info{}, fmt.Errorf("fs objects: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := statAt(parent, base); !errors.Is(err, objects.ErrNotFound) {
		if err == nil {
			err = objects.ErrExists
		}
		return objects.Info{}, fmt.Errorf("%s: %w", name, err)
	}
	// link refuses to replace an existing name, unlike rename; made in
	// the folder opened above, never through a link put in its place.
	if err := unix.Linkat(tmpFolder, tmpName, parent, base, 0); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			return objects.Info{}, fmt.Errorf("%s: %w", name, objects.ErrExists)
		}
		return objects.Info{}, fmt.Errorf("fs objects: %w", err)
	}
	// The lock record follows the object, under s.mu (which Delete
	// takes): a crash between the two leaves an object of a Put that
	// never returned, which no caller relies on, rather than a lock
	// record of no object.
	if !opts.RetainUntil.IsZero() {
		if err := s.writeLock(parent, base, lockInfo{RetainUntil: opts.RetainUntil.UTC()}); err != nil {
			unix.Unlinkat(parent, base, 0) // ours, and not yet returned to anyone
			return objects.Info{}, err
		}
	} else if err := unix.Fsync(parent); err != nil {
		return objects.Info{}, fmt.Errorf("fs objects: fsync of %s's folder: %w", name, err)
	}
	return objects.Info{Name: name, Size: n}, nil
}

// writeLock replaces the lock record of the object base in the folder
// parent: written and fsynced in the temporary folder, then renamed into
// place and the folder fsynced, so a crash never leaves an empty or torn
// lock that would make the object unreadable as locked. Both folders are
// the ones opened, never a link put in their place since.
func (s *Store) writeLock(parent int, base string, li lockInfo) error {
	b, _ := json.Marshal(li)
	tmpFolder, err := s.openTmp()
	if err != nil {
		return err
	}
	defer unix.Close(tmpFolder)
	var rnd [12]byte
	rand.Read(rnd[:])
	tmpName := hex.EncodeToString(rnd[:]) + lockSuffix
	s.temporary.Store(tmpName, true)
	defer s.temporary.Delete(tmpName)
	fd, err := unix.Openat(tmpFolder, tmpName, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("fs objects: lock record: %w", err)
	}
	f := os.NewFile(uintptr(fd), tmpName)
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(tmpFolder, tmpName, parent, base+lockSuffix)
	}
	if err != nil {
		unix.Unlinkat(tmpFolder, tmpName, 0)
		return fmt.Errorf("fs objects: lock record of %s: %w", base, err)
	}
	if err := unix.Fsync(parent); err != nil {
		return fmt.Errorf("fs objects: fsync of %s's folder: %w", base, err)
	}
	return nil
}

// readLock reads the lock record of the object base in the folder
// parent; none is the zero lockInfo.
func readLock(parent int, base string) (lockInfo, error) {
	var li lockInfo
	b, err := readLockBytes(parent, base)
	if err != nil || b == nil {
		return li, err
	}
	if err := json.Unmarshal(b, &li); err != nil {
		return li, fmt.Errorf("fs objects: bad lock record %s: %w", base+lockSuffix, err)
	}
	return li, nil
}

// readLockBytes reads the lock record of the object base in the folder
// parent as it is stored (nil if there is none). A link, pipe or device
// in its place is objects.ErrNotRegular, never followed or waited on.
func readLockBytes(parent int, base string) ([]byte, error) {
	fd, err := unix.Openat(parent, base+lockSuffix, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fs objects: lock record: %w", objectError(base+lockSuffix, err))
	}
	f := os.NewFile(uintptr(fd), base+lockSuffix)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fs objects: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("fs objects: lock record %s: %w", base+lockSuffix, objects.ErrNotRegular)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxLockFile+1))
	if err != nil {
		return nil, fmt.Errorf("fs objects: %w", err)
	}
	if len(b) > maxLockFile {
		return nil, fmt.Errorf("fs objects: lock record %s: %w", base+lockSuffix, objects.ErrTooLarge)
	}
	return b, nil
}

// Open implements objects.Store. It opens neither a link (whatever it
// points to, inside the store or not) nor a named pipe, device or
// socket (without blocking on one), at the name or as the folder it is
// in: objects.ErrNotRegular. No store writes them; whoever can write the
// store's folder could plant them, to make the vault read and serve files
// outside it, or hang on a pipe.
func (s *Store) Open(_ context.Context, name string) (io.ReadCloser, error) {
	parent, base, err := s.openParent(name, false)
	if err != nil {
		return nil, err
	}
	defer unix.Close(parent)
	fd, err := unix.Openat(parent, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, objectError(name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fs objects: %w", err)
	}
	if err := modeError(st.Mode); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fs objects: %w", err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(s.dir, filepath.FromSlash(name))), nil
}

// Stat implements objects.Store; what Open refuses, it refuses.
func (s *Store) Stat(_ context.Context, name string) (objects.Info, error) {
	size, err := s.lstat(name)
	if err != nil {
		return objects.Info{}, err
	}
	return objects.Info{Name: name, Size: size}, nil
}

// lstat returns the size of the object name: objects.ErrNotFound if
// nothing (or a folder) holds the name, objects.ErrNotRegular for a link,
// pipe, device or socket there or in the folder's place.
func (s *Store) lstat(name string) (int64, error) {
	parent, base, err := s.openParent(name, false)
	if err != nil {
		return 0, err
	}
	defer unix.Close(parent)
	size, err := statAt(parent, base)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return size, nil
}

// statAt is lstat(2) of base in the folder parent: its size, or
// objects.ErrNotFound, objects.ErrNotRegular.
func statAt(parent int, base string) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return 0, objects.ErrNotFound
		}
		return 0, fmt.Errorf("fs objects: %w", err)
	}
	if err := modeError(st.Mode); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// modeError is nil for a plain file's mode, objects.ErrNotFound for a
// folder's (as a missing object), objects.ErrNotRegular for anything
// else.
func modeError(mode uint32) error {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return nil
	case unix.S_IFDIR:
		return objects.ErrNotFound
	}
	return objects.ErrNotRegular
}

// objectError words an error of opening the object name.
func objectError(name string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EISDIR):
		return fmt.Errorf("%s: %w", name, objects.ErrNotFound)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENXIO), errors.Is(err, unix.ENOTDIR):
		// A link (O_NOFOLLOW); a socket; a link or file in the
		// folder's place.
		return fmt.Errorf("%s: %w", name, objects.ErrNotRegular)
	}
	return fmt.Errorf("fs objects: %s: %w", name, err)
}

// openParent opens the folder that holds the object name: the store's
// own folder (which may be a link: an operator's choice), or its one
// subfolder (names hold at most one "/", objects.ValidName), which is
// never followed if it is a link; with create, a missing subfolder is
// made. It returns the folder and the name's last part.
func (s *Store) openParent(name string, create bool) (int, string, error) {
	if err := objects.ValidName(name); err != nil {
		return -1, "", err
	}
	top, err := s.openTop()
	if err != nil {
		return -1, "", err
	}
	sub, base, ok := strings.Cut(name, "/")
	if !ok {
		return top, name, nil
	}
	defer unix.Close(top)
	if create {
		if err := unix.Mkdirat(top, sub, 0o700); err == nil {
			if err := unix.Fsync(top); err != nil {
				return -1, "", fmt.Errorf("fs objects: fsync of the store's folder: %w", err)
			}
		} else if !errors.Is(err, unix.EEXIST) {
			return -1, "", fmt.Errorf("fs objects: making folder %s: %w", sub, err)
		}
	}
	fd, err := unix.Openat(top, sub, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", objectError(name, err)
	}
	return fd, base, nil
}

// List implements objects.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(objects.Info) error) error {
	return s.list(ctx, prefix, func(name string, e entry) error {
		st, err := e.stat()
		if errors.Is(err, unix.ENOENT) {
			return nil // deleted since the folder was read
		}
		if err != nil {
			return fmt.Errorf("fs objects: %s: %w", name, err)
		}
		return fn(objects.Info{Name: name, Size: st.Size})
	})
}

// ListNames calls fn with the name of every object whose name starts
// with prefix, as List does but without an lstat(2) of each: a start's
// sweep needs only the names, and the evidence folder holds an object
// for every deposit of the vault's life (objects.NameLister).
func (s *Store) ListNames(ctx context.Context, prefix string, fn func(name string) error) error {
	return s.list(ctx, prefix, func(name string, _ entry) error { return fn(name) })
}

func (s *Store) list(ctx context.Context, prefix string, fn func(name string, e entry) error) error {
	// Walk only the folder the prefix names (the part up to its last
	// slash), not the whole store: a start lists the evidence objects
	// and each case's key replicas, and the store holds every object of
	// the vault's life.
	if i := strings.LastIndexByte(prefix, '/'); i > 0 {
		sub := prefix[:i]
		if objects.ValidName(sub+"/x") != nil {
			return nil // no object can have this prefix
		}
		top, err := s.openTop()
		if err != nil {
			return err
		}
		var st unix.Stat_t
		err = unix.Fstatat(top, sub, &st, unix.AT_SYMLINK_NOFOLLOW)
		unix.Close(top)
		if errors.Is(err, unix.ENOENT) || (err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR) {
			return nil
		}
		return s.walk(ctx, sub, prefix, fn)
	}
	return s.walk(ctx, "", prefix, fn)
}

// walk calls fn for the objects in the store's subfolder sub ("" for
// the store's own folder, and then its subfolders) whose names start
// with prefix, in the order the directory gives them: unlike
// filepath.WalkDir it does not sort each folder's entries (the evidence
// folder holds an entry for every object and lock file of the vault's
// life, and List promises no order), and it reads a folder in batches
// rather than whole. An object's name holds at most one "/", so only
// the store's folder and its subfolders can hold objects: a folder
// inside a subfolder is not entered (ListForeign reports it), however
// deep it goes.
func (s *Store) walk(ctx context.Context, sub, prefix string, fn func(name string, e entry) error) error {
	return s.readFolder(ctx, sub, func(d entry) error {
		name := path.Join(sub, d.Name())
		if d.IsDir() {
			if sub != "" || name == tmpDir {
				return nil
			}
			return s.walk(ctx, name, prefix, fn)
		}
		if !strings.HasPrefix(name, prefix) || !objects.IsValidName(name) {
			return nil
		}
		return fn(name, d)
	})
}

// entry is a folder entry and the folder it was read from, so that it is
// stat'ed there (fstatat), never through a path.
type entry struct {
	iofs.DirEntry
	dir int
}

// stat is lstat(2) of the entry in its folder.
func (e entry) stat() (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(e.dir, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// readFolder calls fn with each entry of the store's subfolder sub (""
// for the store's own folder), read in batches, through the folder New
// opened: a subfolder swapped for a link is not followed.
func (s *Store) readFolder(ctx context.Context, sub string, fn func(e entry) error) error {
	name, flags := ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC
	if sub != "" {
		name, flags = sub, flags|unix.O_NOFOLLOW
	}
	top, err := s.openTop()
	if err != nil {
		return err
	}
	fd, err := unix.Openat(top, name, flags, 0)
	unix.Close(top)
	if err != nil {
		return &os.PathError{Op: "open", Path: filepath.Join(s.dir, sub), Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(s.dir, sub))
	defer f.Close()
	dirfd := fd // f's, valid until it is closed
	for {
		entries, err := f.ReadDir(1024)
		for _, d := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(entry{DirEntry: d, dir: dirfd}); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ListForeign implements objects.ForeignLister: every entry of the
// store's folder that List does not give and that is not an object's
// lock record or the temporary folder. That is a name no object can have
// (a link, pipe, device or socket under a name an object can have is
// given by List, and refused by Open and Stat); a folder inside a
// subfolder (reported, not entered); a lock record of no object, or one
// that is not byte for byte what the store writes (its time in UTC),
// which would otherwise carry up to 64 KiB unread beside each object;
// and in the temporary folder, anything but the files this store is
// writing (each start removes what a crash left there).
func (s *Store) ListForeign(ctx context.Context, fn func(entry, why string) error) error {
	top, err := s.openTop()
	if err != nil {
		return err
	}
	why := xattrsForeign(top)
	unix.Close(top)
	if why != "" {
		if err := fn("./", why); err != nil {
			return err
		}
	}
	return s.foreign(ctx, "", fn)
}

func (s *Store) foreign(ctx context.Context, sub string, fn func(entry, why string) error) error {
	report := func(name, why string) error { return fn(objects.EntryName(name), why) }
	top := sub == ""
	return s.readFolder(ctx, sub, func(d entry) error {
		name := path.Join(sub, d.Name())
		mode := d.Type()
		switch {
		case top && name == tmpDir && mode.IsDir():
			if why := xattrsForeignAt(d.dir, d.Name(), true); why != "" {
				if err := report(name+"/", why); err != nil {
					return err
				}
			}
			return s.foreignTemporary(ctx, report)
		case mode.IsDir() && top && objects.IsValidName(name+"/x"):
			if why := xattrsForeignAt(d.dir, d.Name(), true); why != "" {
				if err := report(name+"/", why); err != nil {
					return err
				}
			}
			return s.foreign(ctx, name, fn)
		case mode.IsDir():
			return report(name+"/", "a folder where no object's folder can be")
		case objects.IsValidName(name) && mode.IsRegular():
			// List gives it, as an object; what it carries beside its
			// bytes is listed here.
			if why := xattrsForeignAt(d.dir, d.Name(), false); why != "" {
				return report(name, why)
			}
			return nil
		case objects.IsValidName(name):
			return nil // List gives it: a link or pipe the caller will find is not an object
		case !mode.IsRegular():
			return report(name, "not a plain file (a link, pipe, device or socket)")
		}
		object, ok := strings.CutSuffix(name, lockSuffix)
		if !ok || !objects.IsValidName(object) {
			return report(name, "a name no object can have")
		}
		if why := lockRecordForeign(d.dir, path.Base(object)); why != "" {
			return report(name, why)
		}
		if why := xattrsForeignAt(d.dir, d.Name(), false); why != "" {
			return report(name, why)
		}
		return nil
	})
}

// xattrsForeignAt is xattrsForeign of the entry base of the folder
// dirfd, opened without following a link ("" if it cannot be opened:
// gone since the folder was read, or not the plain file or folder its
// listing said, which the listing judges).
func xattrsForeignAt(dirfd int, base string, dir bool) string {
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	if dir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := unix.Openat(dirfd, base, flags, 0)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	return xattrsForeign(fd)
}

// xattrsForeign says which extended attributes of the open file or
// folder fd the store never writes ("" if none, foreignXattr): each can
// hold any bytes (up to 64 KiB a value on ext4) beside an object unseen
// by its hash. A list that cannot be read is itself listed; a file system
// without extended attributes has none. The trusted namespace is listed
// to a privileged process only (CAP_SYS_ADMIN): a server running as its
// own user, as deploy/ runs it, cannot see it.
func xattrsForeign(fd int) string {
	n, err := unix.Flistxattr(fd, nil)
	switch {
	case errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) || err == nil && n == 0:
		return ""
	case err != nil:
		// E2BIG: a list longer than the kernel answers (64 KiB of
		// names), which only someone filling it makes.
		return "extended attributes that cannot be listed (" + err.Error() + "): the store never writes any"
	}
	buf := make([]byte, n)
	if n, err = unix.Flistxattr(fd, buf); err != nil {
		return "extended attributes that cannot be listed (" + err.Error() + "): the store never writes any"
	}
	var names []string
	for _, a := range strings.Split(string(buf[:n]), "\x00") {
		if a != "" && foreignXattr(a) {
			names = append(names, strconv.Quote(a))
		}
	}
	if len(names) == 0 {
		return ""
	}
	if len(names) > 5 {
		names = append(names[:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	return "extended attributes the store never writes: " + strings.Join(names, ", ")
}

// foreignXattr reports whether an extended attribute's name is one the
// store never writes and the system does not put there: any of the user
// and trusted namespaces but XFS's own names for access lists
// (trusted.SGI_ACL_*, listed to a privileged process), and any of the
// security namespace but the labels and measurements of the kernel's
// security modules (SELinux, Smack, AppArmor, IMA, EVM) and file
// capabilities. Access lists (system.posix_acl_*) are left alone.
func foreignXattr(name string) bool {
	switch {
	case strings.HasPrefix(name, "trusted.SGI_ACL_"):
		return false
	case strings.HasPrefix(name, "user."), strings.HasPrefix(name, "trusted."):
		return true
	case strings.HasPrefix(name, "security."):
		rest := strings.TrimPrefix(name, "security.")
		switch {
		case rest == "selinux", rest == "apparmor", rest == "ima", rest == "evm", rest == "capability", strings.HasPrefix(rest, "SMACK64"):
			return false
		}
		return true
	}
	return false
}

// foreignTemporary reports what the temporary folder holds besides the
// files this store is writing there: each start removes what a crash
// left, so anything else was put there while the vault runs (whatever
// its times say; one server per store folder).
func (s *Store) foreignTemporary(ctx context.Context, report func(name, why string) error) error {
	return s.readFolder(ctx, tmpDir, func(d entry) error {
		name := path.Join(tmpDir, d.Name())
		if d.Type().IsDir() {
			return report(name+"/", "a folder in the temporary folder, which the store never makes")
		}
		if !d.Type().IsRegular() {
			return report(name, "not a plain file (a link, pipe, device or socket) in the temporary folder")
		}
		if _, ours := s.temporary.Load(d.Name()); ours {
			return nil
		}
		if _, err := d.stat(); errors.Is(err, unix.ENOENT) {
			return nil // a write that ended since the folder was read
		}
		return report(name, "a file in the temporary folder that no write of this store is making")
	})
}

// lockRecordForeign says why the lock record of the object base in the
// folder parent (the one being listed) is not one the store wrote (""
// if it is): its object is gone, or it is not the JSON the store writes.
func lockRecordForeign(parent int, base string) string {
	if _, err := statAt(parent, base); err != nil {
		return "the lock record of no object"
	}
	held, err := readLockBytes(parent, base)
	if err != nil || held == nil {
		return "a lock record that does not read as one"
	}
	var li lockInfo
	if err := json.Unmarshal(held, &li); err != nil {
		return "a lock record that does not read as one"
	}
	canonical := lockInfo{RetainUntil: li.RetainUntil.UTC(), LegalHold: li.LegalHold}
	if b, _ := json.Marshal(canonical); !bytes.Equal(held, b) {
		return "a lock record holding more than the store writes"
	}
	return ""
}

// existing opens the folder of an object that exists and reads its
// lock: the folder (for the caller to close), the name's last part and
// the lock. The caller holds s.mu.
func (s *Store) existing(name string) (int, string, lockInfo, error) {
	parent, base, err := s.openParent(name, false)
	if err != nil {
		return -1, "", lockInfo{}, err
	}
	if _, err := statAt(parent, base); err != nil {
		unix.Close(parent)
		return -1, "", lockInfo{}, fmt.Errorf("%s: %w", name, err)
	}
	li, err := readLock(parent, base)
	if err != nil {
		unix.Close(parent)
		return -1, "", lockInfo{}, err
	}
	return parent, base, li, nil
}

// Delete implements objects.Store. The object and its lock record are
// removed from the folder opened (unlinkat), never through a link put in
// that folder's place: whoever can write the store's folder cannot make
// a Delete remove a file elsewhere.
func (s *Store) Delete(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, base, li, err := s.existing(name)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	if li.LegalHold || s.now().Before(li.RetainUntil) {
		return fmt.Errorf("%s: %w", name, objects.ErrLocked)
	}
	// The lock record goes first: a crash between the two leaves an
	// object whose retention had ended (which the next Delete removes),
	// never a lock record of no object.
	if err := unix.Unlinkat(parent, base+lockSuffix, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("fs objects: removing %s's lock record: %w", name, err)
	}
	if err := unix.Unlinkat(parent, base, 0); err != nil {
		return fmt.Errorf("fs objects: removing %s: %w", name, err)
	}
	if err := unix.Fsync(parent); err != nil {
		return fmt.Errorf("fs objects: fsync of %s's folder: %w", name, err)
	}
	return nil
}

// SetLegalHold implements objects.Store.
func (s *Store) SetLegalHold(_ context.Context, name string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, base, li, err := s.existing(name)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	li.LegalHold = on
	return s.writeLock(parent, base, li)
}

// Lock implements objects.LockReader: the object's lock record.
func (s *Store) Lock(_ context.Context, name string) (objects.Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, _, li, err := s.existing(name)
	if err != nil {
		return objects.Lock{}, err
	}
	unix.Close(parent)
	return objects.Lock{LegalHold: li.LegalHold, RetainUntil: li.RetainUntil}, nil
}

// ExtendRetention implements objects.Store.
func (s *Store) ExtendRetention(_ context.Context, name string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, base, li, err := s.existing(name)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	if !until.After(li.RetainUntil) {
		return nil
	}
	li.RetainUntil = until.UTC()
	return s.writeLock(parent, base, li)
}

// Close implements objects.Store: it closes the store's folder; a call
// after it fails with os.ErrClosed.
func (s *Store) Close() error {
	s.topMu.Lock()
	defer s.topMu.Unlock()
	if s.top < 0 {
		return nil
	}
	err := unix.Close(s.top)
	s.top = -1
	return err
}

// openTop returns a descriptor of its own of the store's folder (the one
// New opened), for the caller to close.
func (s *Store) openTop() (int, error) {
	s.topMu.RLock()
	defer s.topMu.RUnlock()
	if s.top < 0 {
		return -1, fmt.Errorf("fs objects: %w", os.ErrClosed)
	}
	fd, err := unix.FcntlInt(uintptr(s.top), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fs objects: %w", err)
	}
	return fd, nil
}
