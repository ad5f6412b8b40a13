package hashset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"sync"
)

// A set's files are read after the start, at every lookup, from a disk
// that a server's administrator can edit. So Open hashes each file once,
// in blocks of blockSize bytes, checks the whole file's SHA-256 against
// the manifest (whose table digest the vault checks against the import's
// event), and keeps the blocks' SHA-256 in memory; every later read
// reads the blocks it touches whole and checks them against those sums.
// A byte edited on disk after the open, even if put back before the next
// scrub, makes the read fail with ErrCorrupt rather than answer from it.
// The sums cost 32 bytes per 4 KiB of the set's files (under 1 %: about
// 8 MB for a set of ten million SHA-256 digests with their names); a
// block of 4 KiB is one page read and about 3 µs of SHA-256 with the
// SHA extensions, which a lookup of a listed digest pays once per read.
const blockSize = 4 << 10

// verifiedFile is one of a set's files with its blocks' SHA-256.
type verifiedFile struct {
	name string
	f    *os.File
	size int64
	sums [][sha256.Size]byte
}

// blockPool holds blockSize buffers for verified reads.
var blockPool = sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}

// openVerified hashes f, size bytes, block by block; the whole file's
// SHA-256 must be want's.
func openVerified(name string, f *os.File, size int64, want FileSum) (*verifiedFile, error) {
	v := &verifiedFile{name: name, f: f, size: size, sums: make([][sha256.Size]byte, 0, (size+blockSize-1)/blockSize)}
	whole := sha256.New()
	bp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bp)
	for off := int64(0); off < size; off += blockSize {
		b := (*bp)[:min(blockSize, size-off)]
		if _, err := f.ReadAt(b, off); err != nil {
			return nil, corrupt(name, "reading: %v", err)
		}
		whole.Write(b)
		v.sums = append(v.sums, sha256.Sum256(b))
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != want.SHA256 || size != want.Size {
		return nil, corrupt(name, "SHA-256 %s (%d bytes), the manifest says %s (%d bytes)", got, size, want.SHA256, want.Size)
	}
	return v, nil
}

// ReadAt reads len(p) bytes at off, every block they touch checked
// against its sum. A read past the file's end is io.EOF; a block whose
// bytes changed since the open is ErrCorrupt.
func (v *verifiedFile) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if off < 0 || off >= v.size {
		return 0, io.EOF
	}
	want := len(p)
	end := off + int64(want)
	if end > v.size {
		end = v.size
	}
	bp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bp)
	n := 0
	for b := off / blockSize; b*blockSize < end; b++ {
		start := b * blockSize
		blk := (*bp)[:min(blockSize, v.size-start)]
		if _, err := v.f.ReadAt(blk, start); err != nil {
			if errors.Is(err, io.EOF) {
				return n, corrupt(v.name, "truncated on disk since the set was opened")
			}
			return n, err
		}
		if sha256.Sum256(blk) != v.sums[b] {
			return n, corrupt(v.name, "bytes %d to %d changed on disk since the set was opened and checked", start, start+int64(len(blk)))
		}
		lo, hi := max(off, start), min(end, start+int64(len(blk)))
		n += copy(p[lo-off:hi-off], blk[lo-start:hi-start])
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}
