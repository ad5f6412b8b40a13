package fs

import (
	"errors"
	"io"
	"os"
	"sync"
	"unsafe"

	"github.com/custos-vault/custos/internal/readfull"
	"golang.org/x/sys/unix"
)

// An object's bytes are written with O_DIRECT where the filesystem takes
// it (open(2), "O_DIRECT"): from an aligned buffer to the disk, not
// copied into the page cache first. An object is written once and read
// rarely (a package, a scrub), so caching it only takes memory from what
// the machine reads often (tmpfs takes O_DIRECT since Linux 6.6 but keeps
// its bytes in memory all the same: it has no disk); and on a virtual machine, pages the guest has
// not touched lately cost far more to fill than the copy itself (a
// 1 GiB object: 2.4 s of system time against 0.2 s, docs/benchmarks.md
// "objects written past the page cache"). A filesystem that refuses
// O_DIRECT (tmpfs before Linux 6.6, some FUSE mounts) gets the buffered
// writes the store made before, with the writeback started behind them.

// directBlock is the alignment O_DIRECT asks of a write's buffer, file
// offset and length: the device's logical block size, 512 or 4096 bytes
// on the disks Linux serves; 4096 covers both.
const directBlock = 4096

// directBuffer is how much one write hands the disk: the size of the
// plaintext chunks the encrypter works in (agestream.ChunkSize).
const directBuffer = 1 << 20

// directBuffers holds *[]byte of directBuffer bytes, each starting on a
// directBlock boundary. They only ever hold ciphertext.
var directBuffers = sync.Pool{New: func() any { b := alignedBuffer(directBuffer); return &b }}

// alignedBuffer is n bytes whose first is on a directBlock boundary. It
// relies on Go's collector not moving heap objects (it never has; the
// aligned-buffer helpers of other Go storage code rely on it too).
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directBlock)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directBlock - 1)); r != 0 {
		off = directBlock - r
	}
	return b[off : off+n : off+n]
}

// openObjectFile creates name in the folder dir for writing, with
// O_DIRECT if the filesystem takes it; direct says whether it did.
// O_DIRECT is asked for once the file is open (fcntl F_SETFL): open(2)
// with O_CREAT creates the file before it checks O_DIRECT, so a
// filesystem that refuses it would leave the file behind, and a second
// open with O_EXCL would find it.
func openObjectFile(dir int, name string) (fd int, direct bool, err error) {
	fd, err = unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return -1, false, err
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_DIRECT)
	}
	// EINVAL: this filesystem does not do O_DIRECT; the file is written
	// buffered. Any other failure of fcntl leaves it buffered too.
	return fd, err == nil, nil
}

// objectWriter writes an object's bytes to f: through an aligned buffer
// with O_DIRECT while f has it, the last partial block after turning
// O_DIRECT off; buffered otherwise, the kernel's writeback started behind
// each writeBehindStep (sync_file_range, which does not wait) so that
// the fsync making the object durable finds little left to write.
type objectWriter struct {
	f       *os.File
	direct  bool
	written int64
	started int64 // buffered: written up to here has its writeback started
}

const writeBehindStep = 32 << 20

// ReadFrom copies r to the file until r ends (nil) or fails (r's error);
// a write's failure is returned as it is. io.Copy calls it.
func (w *objectWriter) ReadFrom(r io.Reader) (int64, error) {
	bp := directBuffers.Get().(*[]byte)
	defer directBuffers.Put(bp)
	buf := *bp
	var total int64
	for {
		n, rerr := readfull.Read(r, buf)
		total += int64(n)
		if err := w.write(buf[:n]); err != nil {
			return total, err
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// write writes b, which starts on a directBlock boundary of the file
// while O_DIRECT is on (every write before it was whole blocks).
func (w *objectWriter) write(b []byte) error {
	if w.direct {
		whole := len(b) &^ (directBlock - 1)
		if whole > 0 {
			n, err := w.f.Write(b[:whole])
			w.written += int64(n)
			b = b[n:]
			if err != nil && !refusesDirect(err) {
				return err
			}
			if err != nil {
				// The filesystem opened the file with O_DIRECT but
				// refuses its writes: the rest goes buffered.
				if err := w.buffered(); err != nil {
					return err
				}
				return w.write(b)
			}
		}
		if len(b) == 0 {
			return nil
		}
		// The last, partial block: O_DIRECT would refuse its length.
		if err := w.buffered(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(b)
	w.written += int64(n)
	if w.written-w.started >= writeBehindStep {
		// Advisory: an error only means the fsync does all the work.
		unix.SyncFileRange(int(w.f.Fd()), w.started, w.written-w.started, unix.SYNC_FILE_RANGE_WRITE)
		w.started = w.written
	}
	return err
}

// refusesDirect says whether a direct write's error is the filesystem
// refusing O_DIRECT writes (EINVAL: alignment or no support; EOPNOTSUPP
// from some network and FUSE filesystems), not a failure of the disk.
func refusesDirect(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)
}

// buffered turns O_DIRECT off for the writes that follow.
func (w *objectWriter) buffered() error {
	fl, err := unix.FcntlInt(w.f.Fd(), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(w.f.Fd(), unix.F_SETFL, fl&^unix.O_DIRECT)
	}
	if err != nil {
		return err
	}
	w.direct = false
	w.started = w.written
	return nil
}

// Write makes the writer an io.Writer; io.Copy uses ReadFrom. Bytes
// written this way go buffered.
func (w *objectWriter) Write(p []byte) (int, error) {
	if w.direct {
		if err := w.buffered(); err != nil {
			return 0, err
		}
	}
	before := w.written
	err := w.write(p)
	return int(w.written - before), err
}
