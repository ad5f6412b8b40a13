package objtest

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
)

// Stream returns n deterministic pseudo-random bytes for seed, generated
// as they are read, so tests can upload objects far larger than they
// would want to hold in memory.
func Stream(seed byte, n int64) io.Reader {
	var s [32]byte
	s[0] = seed
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// StreamSum is the SHA-256 of Stream(seed, n).
func StreamSum(seed byte, n int64) [32]byte {
	h := sha256.New()
	io.Copy(h, Stream(seed, n))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// failingReader gives n bytes of Stream(seed, n) and then err.
type failingReader struct {
	r   io.Reader
	err error
}

func failAfter(seed byte, n int64, err error) io.Reader {
	return &failingReader{r: Stream(seed, n), err: err}
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// hookReader calls hook once, when at least at bytes have been read.
type hookReader struct {
	r    io.Reader
	read int64
	at   int64
	hook func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.hook != nil && h.read >= h.at {
		h.hook()
		h.hook = nil
	}
	n, err := h.r.Read(p)
	h.read += int64(n)
	return n, err
}
