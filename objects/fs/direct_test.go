package fs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/objtest"
	"golang.org/x/sys/unix"
)

// directSupported says whether dir's filesystem opens files with
// O_DIRECT; tests of the direct path skip, saying so, where it does not.
func directSupported(t *testing.T, dir string) {
	t.Helper()
	probe := filepath.Join(dir, "probe")
	fd, err := unix.Open(probe, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_DIRECT, 0o600)
	os.Remove(probe)
	if errors.Is(err, unix.EINVAL) {
		t.Skipf("the filesystem of %s refuses O_DIRECT: objects there are written buffered", dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
}

// smallReads hands out at most n bytes a read, so that the writer's
// buffer fills over many reads of sizes unrelated to the disk's blocks.
type smallReads struct {
	r io.Reader
	n int
}

func (s smallReads) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

func TestObjectSizesAroundTheDisksBlocks(t *testing.T) {
	s, err := New(context.Background(), Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, size := range []int64{1, directBlock - 1, directBlock, directBlock + 1, 3*directBlock + 100,
		directBuffer - 1, directBuffer, directBuffer + 1, 3*directBuffer + directBlock + 7} {
		name := "b/" + strconv.Itoa(i)
		if _, err := s.Put(context.Background(), name, smallReads{objtest.Stream(byte(i), size), 1000}, objects.PutOptions{}); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		rc, err := s.Open(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if err != nil || n != size || [32]byte(h.Sum(nil)) != objtest.StreamSum(byte(i), size) {
			t.Errorf("%d bytes: read back %d bytes (%v), not the bytes written", size, n, err)
		}
	}
}

// watchFlags reads a stream and, once past after bytes, records the
// open flags of the store's temporary file it is being written to.
type watchFlags struct {
	r     io.Reader
	tmp   string
	after int64
	read  int64
	flags []int64
}

func (w *watchFlags) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.read += int64(n)
	if w.read > w.after && w.flags == nil {
		w.flags = []int64{}
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, e := range fds {
			target, err := os.Readlink("/proc/self/fd/" + e.Name())
			if err != nil || !strings.HasPrefix(target, w.tmp+"/") {
				continue
			}
			info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(line, "flags:"); ok {
					f, _ := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
					w.flags = append(w.flags, f)
				}
			}
		}
	}
	return n, err
}

func TestObjectsAreWrittenPastThePageCache(t *testing.T) {
	dir := t.TempDir()
	directSupported(t, dir)
	s, err := New(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := &watchFlags{r: objtest.Stream(3, 3*directBuffer+5), tmp: filepath.Join(dir, tmpDir), after: 2 * directBuffer}
	if _, err := s.Put(context.Background(), "o", w, objects.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(w.flags) != 1 {
		t.Fatalf("found %d files open in %s while the object was written, want 1", len(w.flags), w.tmp)
	}
	if w.flags[0]&unix.O_DIRECT == 0 {
		t.Errorf("the object's file was open with flags %o, without O_DIRECT (%o)", w.flags[0], unix.O_DIRECT)
	}
}

func TestARefusedDirectWriteGoesBuffered(t *testing.T) {
	dir := t.TempDir()
	directSupported(t, dir)
	fd, direct, err := openObjectFile(unix.AT_FDCWD, filepath.Join(dir, "o"))
	if err != nil || !direct {
		t.Fatalf("open: direct %v, %v", direct, err)
	}
	f := os.NewFile(uintptr(fd), "o")
	defer f.Close()
	w := &objectWriter{f: f, direct: true}
	// A buffer one byte past a block boundary: O_DIRECT refuses it
	// (EINVAL) on disks' filesystems, as some filesystems refuse every
	// direct write. tmpfs (Linux 6.6 and later) and some network
	// filesystems take it: there the fallback cannot be reached so.
	b := alignedBuffer(2*directBlock + 1)[1:]
	probe, err := os.OpenFile(filepath.Join(dir, "probe"), os.O_WRONLY|os.O_CREATE|unix.O_DIRECT, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, err = probe.Write(b)
	probe.Close()
	if !refusesDirect(err) {
		t.Skipf("the filesystem of %s takes a direct write from an unaligned buffer (%v): the fallback is not reached there", dir, err)
	}
	for i := range b {
		b[i] = byte(i * 7)
	}
	if err := w.write(b); err != nil {
		t.Fatal(err)
	}
	if w.direct {
		t.Error("the writer still says O_DIRECT after the filesystem refused a direct write")
	}
	if err := w.write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "o"))
	if err != nil || !bytes.Equal(got, append(bytes.Clone(b), "tail"...)) {
		t.Errorf("the file holds %d bytes, not the %d written (%v)", len(got), len(b)+4, err)
	}
}

// refusingDirect is a folder on a filesystem that refuses O_DIRECT: a
// ramfs mounted for the test (root only; the test skips, saying so,
// otherwise). tmpfs takes O_DIRECT since Linux 6.6, so it no longer
// serves.
func refusingDirect(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("ramfs", dir, "ramfs", 0, ""); err != nil {
		t.Skipf("cannot mount a ramfs to stand for a filesystem without O_DIRECT: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	fd, err := unix.Open(filepath.Join(dir, "probe"), unix.O_WRONLY|unix.O_CREAT|unix.O_DIRECT, 0o600)
	if err == nil {
		unix.Close(fd)
		t.Skip("this kernel's ramfs takes O_DIRECT")
	}
	os.Remove(filepath.Join(dir, "probe"))
	return dir
}

func TestObjectsOnAFilesystemWithoutDirectWrites(t *testing.T) {
	dir := refusingDirect(t)
	s, err := New(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const size = 2*directBuffer + 5000
	if _, err := s.Put(context.Background(), "o", objtest.Stream(1, size), objects.PutOptions{}); err != nil {
		t.Fatalf("put on a filesystem without O_DIRECT: %v", err)
	}
	rc, err := s.Open(context.Background(), "o")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, rc)
	rc.Close()
	if err != nil || n != size || [32]byte(h.Sum(nil)) != objtest.StreamSum(1, size) {
		t.Errorf("read back %d bytes (%v), not the bytes written", n, err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, tmpDir))
	if len(left) != 0 {
		t.Errorf("the temporary folder holds %d files after the put", len(left))
	}
}
