package fs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/objects/objtest"
	"golang.org/x/sys/unix"
)

func TestConformance(t *testing.T) {
	objtest.Run(t, func(t *testing.T) objects.Store {
		s, err := fs.New(context.Background(), fs.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRetentionClock checks retention against the store's clock, so a
// retention of years can be tested without waiting.
func TestRetentionClock(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := fs.New(ctx, fs.Config{Dir: t.TempDir(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	until := now.AddDate(10, 0, 0)
	if _, err := s.Put(ctx, "ev/a1", bytes.NewReader([]byte("x")), objects.PutOptions{RetainUntil: until}); err != nil {
		t.Fatal(err)
	}
	now = until.Add(-time.Second)
	if err := s.Delete(ctx, "ev/a1"); !errors.Is(err, objects.ErrLocked) {
		t.Fatalf("delete a second before retention ends: got %v, want ErrLocked", err)
	}
	now = until
	if err := s.Delete(ctx, "ev/a1"); err != nil {
		t.Fatalf("delete when retention ends: %v", err)
	}
}

// TestReopenRemovesLeftovers checks that temporary files of a crashed Put
// never become objects and are cleared when the store is opened again.
func TestReopenRemovesLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := fs.New(ctx, fs.Config{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, ".tmp", "0123abcd")
	if err := os.WriteFile(left, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover still there: %v", err)
	}
	n := 0
	s.List(ctx, "", func(objects.Info) error { n++; return nil })
	if n != 0 {
		t.Fatalf("list shows %d objects in an empty store", n)
	}
}

// TestObjectsAreReadOnly checks the file mode the fs backend promises.
func TestObjectsAreReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ev/ro", bytes.NewReader([]byte("x")), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "ev", "ro"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o400 {
		t.Fatalf("object mode %v, want 0400", fi.Mode().Perm())
	}
}

// List reads a store whose folder is a link (an operator's choice), and
// does not follow a link planted inside it for a folder of objects: the
// link is listed as what it is, an entry no event accounts for (a scrub
// reports it), never the files it points to.
func TestListFollowsTheStoreFolderOnly(t *testing.T) {
	ctx := context.Background()
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "objects")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s, err := fs.New(ctx, fs.Config{Dir: link})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ev/one", strings.NewReader("1"), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	os.WriteFile(filepath.Join(elsewhere, "two"), []byte("2"), 0o600)
	if err := os.Symlink(elsewhere, filepath.Join(real, "pk")); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := s.List(ctx, "", func(i objects.Info) error { names = append(names, i.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ev/one", "pk"}) {
		t.Fatalf("listed %v, want [ev/one pk]", names)
	}
}

// TestLinksAndPipesAreNotObjects plants what no store writes in the
// store's folder, as whoever can write it could: a link to a file
// outside (a key, say), a link in place of a folder, a link to another
// object, a named pipe. The store follows none of them, never blocks on
// the pipe, and writes nothing through a link: each is
// objects.ErrNotRegular, and the files outside are neither read nor
// changed.
func TestLinksAndPipesAreNotObjects(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("a key the store must not serve"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "items/a", strings.NewReader("an object"), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	plant := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	plant(os.Symlink(secret, filepath.Join(dir, "stolen")))                            // a link out, at the top
	plant(os.MkdirAll(filepath.Join(dir, "timestamps"), 0o700))                        //
	plant(os.Symlink(secret, filepath.Join(dir, "timestamps", "x")))                   // a link out, in a folder
	plant(os.Symlink(filepath.Join(dir, "items", "a"), filepath.Join(dir, "items/b"))) // a link to an object
	plant(os.Symlink(outside, filepath.Join(dir, "linked")))                           // a link in a folder's place
	plant(syscall.Mkfifo(filepath.Join(dir, "timestamps", "pipe"), 0o600))             // a named pipe
	for _, name := range []string{"stolen", "timestamps/x", "items/b", "linked/secret", "timestamps/pipe"} {
		done := make(chan error, 1)
		go func() {
			rc, err := s.Open(ctx, name)
			if err == nil {
				rc.Close()
			}
			if _, serr := s.Stat(ctx, name); !errors.Is(serr, objects.ErrNotRegular) {
				err = fmt.Errorf("Stat: %v", serr)
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, objects.ErrNotRegular) {
				t.Errorf("%s: %v, want ErrNotRegular", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Open blocked", name)
		}
		if _, err := objects.ReadSmall(ctx, s, name, 1<<10); !errors.Is(err, objects.ErrNotRegular) {
			t.Errorf("ReadSmall %s: %v", name, err)
		}
	}
	// Nothing is written through a link: not over the file it points
	// to, not into the folder a link stands for.
	for _, name := range []string{"stolen", "timestamps/x", "linked/new"} {
		if _, err := s.Put(ctx, name, strings.NewReader("written through a link"), objects.PutOptions{RetainUntil: time.Now().Add(time.Hour)}); !errors.Is(err, objects.ErrNotRegular) {
			t.Errorf("Put %s: %v, want ErrNotRegular", name, err)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "a key the store must not serve" {
		t.Fatalf("the file outside changed: %q", b)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("the folder outside holds %d files", len(ents))
	}
	// Nor are they deleted, held or extended as objects.
	if err := s.Delete(ctx, "stolen"); !errors.Is(err, objects.ErrNotRegular) {
		t.Errorf("Delete: %v", err)
	}
	if err := s.SetLegalHold(ctx, "linked/secret", true); !errors.Is(err, objects.ErrNotRegular) {
		t.Errorf("SetLegalHold: %v", err)
	}
	// The real object still reads.
	if b, err := objects.ReadSmall(ctx, s, "items/a", 1<<10); err != nil || string(b) != "an object" {
		t.Fatalf("items/a: %q %v", b, err)
	}
}

// TestATemporaryFolderLinkIsRefused: the store's temporary folder made a
// link to another folder (whose files a start would remove as leftovers,
// and a Put would write into) makes the store refuse to open, and no
// file of the other folder is removed or written.
func TestATemporaryFolderLinkIsRefused(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(outside, "custody.db")
	os.WriteFile(keep, []byte("the custody log"), 0o600)
	if err := os.RemoveAll(filepath.Join(dir, ".tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, ".tmp")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ev/a", strings.NewReader("x"), objects.PutOptions{}); !errors.Is(err, objects.ErrNotRegular) {
		t.Errorf("Put through a linked temporary folder: %v", err)
	}
	if _, err := fs.New(ctx, fs.Config{Dir: dir}); !errors.Is(err, objects.ErrNotRegular) {
		t.Errorf("New with a linked temporary folder: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 1 {
		t.Fatalf("the folder outside holds %d files", len(ents))
	}
	if b, _ := os.ReadFile(keep); string(b) != "the custody log" {
		t.Fatal("the file outside changed")
	}
}

// TestAFolderSwappedForALinkMidCallIsNotFollowed races Delete,
// SetLegalHold and ExtendRetention against someone who swaps an object's
// folder with a link to another folder holding files of the same names
// (renameat2 RENAME_EXCHANGE, over and over): every call works through
// the folder it opened, so no file of the other folder is removed and no
// lock record is written there. Path-based calls removed such a file in
// a few of every thousand attempts, and wrote lock records there.
func TestAFolderSwappedForALinkMidCallIsNotFollowed(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for i := range n {
		if err := os.WriteFile(filepath.Join(outside, fmt.Sprintf("a%d", i)), []byte("not the store's"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(ctx, "ev/first", strings.NewReader("x"), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "swap")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	swapped := make(chan int)
	go func() {
		// The folder is the link a fifth of the time, a few microseconds
		// at a time: often enough to fall between a check and the step
		// that relies on it, rarely enough for calls to go through.
		k := 0
		spin := func(d time.Duration) {
			for end := time.Now().Add(d); time.Now().Before(end); {
			}
		}
		for {
			select {
			case <-stop:
				swapped <- k
				return
			default:
			}
			if unix.Renameat2(unix.AT_FDCWD, filepath.Join(dir, "ev"), unix.AT_FDCWD, link, unix.RENAME_EXCHANGE) != nil {
				continue
			}
			spin(5 * time.Microsecond)
			unix.Renameat2(unix.AT_FDCWD, filepath.Join(dir, "ev"), unix.AT_FDCWD, link, unix.RENAME_EXCHANGE)
			k++
			spin(20 * time.Microsecond)
		}
	}()
	// Until 200 names were deleted, or 20 seconds (a loaded machine
	// may leave the link in place a whole time slice: calls then fail
	// at once, and the loop waits for it to go).
	deleted, attempts := 0, 0
	for end := time.Now().Add(20 * time.Second); deleted < 200 && time.Now().Before(end); attempts++ {
		name := fmt.Sprintf("ev/a%d", attempts%n)
		if _, err := s.Put(ctx, name, strings.NewReader("the store's"), objects.PutOptions{}); err != nil && !errors.Is(err, objects.ErrExists) {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		// Each writes the object's lock record (a past retention keeps
		// nothing from being deleted).
		s.SetLegalHold(ctx, name, false)
		s.ExtendRetention(ctx, name, time.Now().Add(-time.Hour))
		if s.Delete(ctx, name) == nil {
			deleted++
		}
	}
	close(stop)
	k := <-swapped
	if k < 100 {
		t.Fatalf("the folder was swapped only %d times", k)
	}
	if deleted < 50 {
		t.Fatalf("only %d of %d deletes went through: the race was not exercised", deleted, attempts)
	}
	t.Logf("%d deletes of %d attempts, the folder swapped %d times", deleted, attempts, k)
	ents, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != n {
		var names []string
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), "a") || strings.HasSuffix(e.Name(), ".lock") {
				names = append(names, e.Name())
			}
		}
		t.Fatalf("the folder outside holds %d files, not %d (%d unexpected, such as %v)", len(ents), n, len(names), names[:min(len(names), 5)])
	}
}

// TestForeignEntriesAreListed plants what the store never writes, a
// folder nested deeper than the path limit among them, and checks that
// List still lists what has an object's name (it enters no folder inside
// a subfolder; the links and pipes it gives, Open refuses) and
// ListForeign names exactly the other planted entries.
func TestForeignEntriesAreListed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ev/a", "ev/held", "top"} {
		opts := objects.PutOptions{}
		if name == "ev/held" {
			opts.RetainUntil = time.Now().Add(time.Hour)
		}
		if _, err := s.Put(ctx, name, strings.NewReader(name), opts); err != nil {
			t.Fatal(err)
		}
	}
	plant := func(rel string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	plant("UPPER", []byte("hidden"))
	plant("ev/.hidden", []byte("hidden"))
	plant("ev/gone.lock", []byte(`{"legal_hold":false}`))
	plant("ev/a.lock", []byte(`{"legal_hold":false,"note":"64 KiB of anything"}`))
	plant("bad\nname", []byte("hidden"))
	// In the temporary folder: a folder, which a start does not remove,
	// and files this store is not writing, whatever their times say; a
	// write under way is not listed.
	if err := os.MkdirAll(filepath.Join(dir, ".tmp", "stash", "deeper"), 0o700); err != nil {
		t.Fatal(err)
	}
	plant(".tmp/old", []byte("hidden"))
	plant(".tmp/future", []byte("hidden"))
	os.Chtimes(filepath.Join(dir, ".tmp", "old"), time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour))
	os.Chtimes(filepath.Join(dir, ".tmp", "future"), time.Now().AddDate(20, 0, 0), time.Now().AddDate(20, 0, 0))
	release := make(chan struct{})
	written := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "ev/underway", io.MultiReader(strings.NewReader("a write under way"), readerFunc(func([]byte) (int, error) {
			<-release
			return 0, io.EOF
		})), objects.PutOptions{})
		written <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if ents, _ := os.ReadDir(filepath.Join(dir, ".tmp")); len(ents) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write under way made no temporary file")
		}
	}
	// A lock record in another time zone reads the same, and carries
	// bits of someone's choice.
	if _, err := s.Put(ctx, "ev/zoned", strings.NewReader("x"), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	plant("ev/zoned.lock", []byte(`{"retain_until":"2030-01-01T13:37:00+13:37","legal_hold":false}`))
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "lnk")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "ev", "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "ev", "lnk.x")); err != nil {
		t.Fatal(err)
	}
	// ev/deep/ nested 300 folders of 30 bytes: 9,000 bytes of path.
	fd, err := unix.Open(filepath.Join(dir, "ev"), unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		name := "deep"
		if i > 0 {
			name = strings.Repeat("d", 30)
		}
		if err := unix.Mkdirat(fd, name, 0o700); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	unix.Close(fd)

	var listed []string
	if err := s.List(ctx, "", func(i objects.Info) error { listed = append(listed, i.Name); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	slices.Sort(listed)
	if want := []string{"ev/a", "ev/held", "ev/pipe", "ev/zoned", "lnk", "top"}; !slices.Equal(listed, want) {
		t.Errorf("List: %v, want %v", listed, want)
	}
	got := map[string]string{}
	if err := s.ListForeign(ctx, func(entry, why string) error { got[entry] = why; return nil }); err != nil {
		t.Fatalf("ListForeign: %v", err)
	}
	want := map[string]string{
		"UPPER":         "a name no object can have",
		"ev/.hidden":    "a name no object can have",
		`"bad\nname"`:   "a name no object can have",
		"ev/gone.lock":  "the lock record of no object",
		"ev/a.lock":     "a lock record holding more than the store writes",
		"ev/lnk.x":      "not a plain file (a link, pipe, device or socket)",
		"ev/deep/":      "a folder where no object's folder can be",
		".tmp/stash/":   "a folder in the temporary folder, which the store never makes",
		".tmp/old":      "a file in the temporary folder that no write of this store is making",
		".tmp/future":   "a file in the temporary folder that no write of this store is making",
		"ev/zoned.lock": "a lock record holding more than the store writes",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s listed (%s), not planted", k, v)
		}
	}
	close(release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestTheStoreFolderIsTheOneOpened: the store's folder renamed and a
// link to another folder put in its place while the store is open
// changes nothing the store reads, writes or deletes: it keeps working
// on the folder it opened, and the other folder's files are untouched.
// After Close, calls fail rather than reach any folder.
func TestTheStoreFolderIsTheOneOpened(t *testing.T) {
	ctx := context.Background()
	parent, victim := t.TempDir(), t.TempDir()
	dir := filepath.Join(parent, "objects")
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ev/a", strings.NewReader("the store's"), objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(victim, "ev"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(victim, "ev", "a"), []byte("not the store's"), 0o600)
	moved := filepath.Join(parent, "moved")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "ev/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Put(ctx, "ev/b", strings.NewReader("new"), objects.PutOptions{RetainUntil: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var listed []string
	s.List(ctx, "", func(i objects.Info) error { listed = append(listed, i.Name); return nil })
	if !slices.Equal(listed, []string{"ev/b"}) {
		t.Errorf("List: %v", listed)
	}
	if _, err := os.Stat(filepath.Join(moved, "ev", "b")); err != nil {
		t.Errorf("the object was not written in the folder opened: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(victim, "ev", "a")); err != nil || string(b) != "not the store's" {
		t.Fatalf("the other folder's file: %q %v", b, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(victim, "ev")); len(ents) != 1 {
		t.Fatalf("the other folder holds %d files", len(ents))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "ev/b"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Stat after Close: %v", err)
	}
}

// TestExtendedAttributesAreListed: bytes kept in extended attributes of
// the user namespace (up to 64 KiB a value on ext4) beside an object,
// its lock record, its folder, the temporary folder or the store's
// folder are listed as foreign: the store never writes them, and an
// object's hash does not cover them.
func TestExtendedAttributesAreListed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := fs.New(ctx, fs.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ev/a", "ev/held", "ev/plain"} {
		opts := objects.PutOptions{}
		if name == "ev/held" {
			opts.RetainUntil = time.Now().Add(time.Hour)
		}
		if _, err := s.Put(ctx, name, strings.NewReader(name), opts); err != nil {
			t.Fatal(err)
		}
	}
	set := func(rel, attr string) {
		t.Helper()
		err := unix.Lsetxattr(filepath.Join(dir, rel), attr, []byte(strings.Repeat("hidden bytes ", 100)), 0)
		if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EOPNOTSUPP) {
			t.Skipf("the test folder's file system keeps no extended attributes (%v): nothing can be hidden in them there", err)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	set("ev/a", "user.note")
	set("ev/held.lock", "user.more")
	set("ev", "user.folder")
	set(".tmp", "user.tmp")
	set(".", "user.top")
	// A free-form name of the security namespace, where the process may
	// write one (root): not a security module's label.
	security := unix.Lsetxattr(filepath.Join(dir, "ev", "plain"), "security.custos-notes", []byte("hidden bytes"), 0) == nil
	var got []string
	if err := s.ListForeign(ctx, func(entry, why string) error {
		got = append(got, entry+": "+why)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{
		`./: extended attributes the store never writes: "user.top"`,
		`.tmp/: extended attributes the store never writes: "user.tmp"`,
		`ev/: extended attributes the store never writes: "user.folder"`,
		`ev/a: extended attributes the store never writes: "user.note"`,
		`ev/held.lock: extended attributes the store never writes: "user.more"`,
	}
	if security {
		want = append(want, `ev/plain: extended attributes the store never writes: "security.custos-notes"`)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("foreign\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestForeignXattrNames: which extended attributes are the store's
// business: free-form names of the user, trusted and security
// namespaces are; the labels and measurements of security modules, file
// capabilities, access lists and XFS's names for them are not.
func TestForeignXattrNames(t *testing.T) {
	for name, want := range map[string]bool{
		"user.note": true, "trusted.hidden": true, "security.custos-notes": true,
		"security.selinux": false, "security.SMACK64": false, "security.SMACK64EXEC": false, "security.apparmor": false,
		"security.ima": false, "security.evm": false, "security.capability": false,
		"system.posix_acl_access": false, "trusted.SGI_ACL_FILE": false, "trusted.SGI_ACL_DEFAULT": false,
	} {
		if got := fs.ForeignXattr(name); got != want {
			t.Errorf("%s: foreign %v, want %v", name, got, want)
		}
	}
}
