// Package agestream encrypts and decrypts evidence as a stream, computing
// every hash on the way, so that plaintext is never buffered whole and
// never touches disk.
//
// Encrypt reads the plaintext once. Each chunk goes to three consumers that
// run on their own goroutines: the SHA-256 + SHA-1 hasher, the MD5 hasher
// and the age encrypter (whose output is hashed again with SHA-256 on its
// way to the object store). On a multi-core server the hashes therefore
// cost little wall time beyond the encryption itself.
package agestream

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"filippo.io/age"

	"github.com/custos-vault/custos/internal/readfull"
)

// ChunkSize is the unit of work handed between the pipeline's goroutines.
const ChunkSize = 1 << 20

// ErrReadPlaintext wraps failures to read the plaintext (for a deposit:
// the client's upload broke), as opposed to failures to write ciphertext.
var ErrReadPlaintext = errors.New("reading plaintext")

// Sums are the digests of one stream.
type Sums struct {
	Size   int64
	SHA256 [32]byte
	MD5    [16]byte
	SHA1   [20]byte
}

// Result describes one encryption.
type Result struct {
	Plain Sums
	// CipherSize and CipherSHA256 describe the age file written to dst.
	CipherSize   int64
	CipherSHA256 [32]byte
	// CipherHeaderSHA256 is the SHA-256 of the age file's first bytes:
	// its header (age-encryption.org/v1, through the MAC line's newline)
	// and the payload's 16-byte nonce, everything before the first
	// encrypted chunk. The header's MAC is keyed by the file's random
	// file key, so no other age file has these bytes: a reader that
	// checks them (Decrypter.HeaderSHA256) knows the file is this one
	// before it decrypts a byte of it.
	CipherHeaderSHA256 [32]byte
}

// Options tune Encrypt.
type Options struct {
	// NoLegacyHashes skips MD5 and SHA-1 (they stay zero).
	NoLegacyHashes bool
	// Progress, if set, is called with the plaintext bytes read so far.
	Progress func(n int64)
}

type chunk struct {
	buf  []byte
	refs atomic.Int32
}

var chunkPool = sync.Pool{New: func() any { return &chunk{buf: make([]byte, ChunkSize)} }}

func (c *chunk) release() {
	if c.refs.Add(-1) == 0 {
		// Plaintext must not linger in pooled memory longer than needed.
		clear(c.buf)
		chunkPool.Put(c)
	}
}

// countingHasher counts and hashes what passes to dst.
type countingHasher struct {
	dst io.Writer
	h   hash.Hash
	n   int64
}

func (c *countingHasher) Write(p []byte) (int, error) {
	n, err := c.dst.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// Encrypt streams src through age to recipients into dst and returns the
// plaintext and ciphertext digests. It does not close dst.
func Encrypt(dst io.Writer, src io.Reader, recipients []age.Recipient, opts Options) (*Result, error) {
	if len(recipients) == 0 {
		return nil, errors.New("agestream: no recipients")
	}
	head := sha256.New()
	ct := &countingHasher{dst: io.MultiWriter(dst, head), h: sha256.New()}
	aw, err := age.Encrypt(ct, recipients...) // writes the header and the nonce
	if err != nil {
		return nil, fmt.Errorf("agestream: %w", err)
	}
	var headSum [32]byte
	head.Sum(headSum[:0])
	ct.dst = dst

	type consumer struct {
		in   chan *chunk
		work func([]byte) error
		err  error
	}
	sha, s1, m5 := sha256.New(), sha1.New(), md5.New()
	consumers := []*consumer{
		{work: func(b []byte) error { _, err := aw.Write(b); return err }},
		{work: func(b []byte) error {
			sha.Write(b)
			if !opts.NoLegacyHashes {
				s1.Write(b)
			}
			return nil
		}},
	}
	if !opts.NoLegacyHashes {
		consumers = append(consumers, &consumer{work: func(b []byte) error { m5.Write(b); return nil }})
	}
	var wg sync.WaitGroup
	var failed atomic.Bool // a consumer failed: stop reading the input
	for _, c := range consumers {
		c.in = make(chan *chunk, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range c.in {
				if c.err == nil {
					if c.err = c.work(ch.buf); c.err != nil {
						failed.Store(true)
					}
				}
				ch.release()
			}
		}()
	}

	var total int64
	var readErr error
	for !failed.Load() {
		ch := chunkPool.Get().(*chunk)
		ch.buf = ch.buf[:cap(ch.buf)]
		n, err := readfull.Read(src, ch.buf)
		if n > 0 {
			ch.buf = ch.buf[:n]
			ch.refs.Store(int32(len(consumers)))
			for _, c := range consumers {
				c.in <- ch
			}
			total += int64(n)
			if opts.Progress != nil {
				opts.Progress(total)
			}
		} else {
			chunkPool.Put(ch)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, c := range consumers {
		close(c.in)
	}
	wg.Wait()
	if readErr != nil {
		return nil, fmt.Errorf("agestream: %w: %w", ErrReadPlaintext, readErr)
	}
	for _, c := range consumers {
		if c.err != nil {
			return nil, fmt.Errorf("agestream: writing ciphertext: %w", c.err)
		}
	}
	if err := aw.Close(); err != nil {
		return nil, fmt.Errorf("agestream: writing ciphertext: %w", err)
	}
	r := &Result{CipherSize: ct.n, CipherHeaderSHA256: headSum}
	r.Plain.Size = total
	sha.Sum(r.Plain.SHA256[:0])
	if !opts.NoLegacyHashes {
		s1.Sum(r.Plain.SHA1[:0])
		m5.Sum(r.Plain.MD5[:0])
	}
	ct.h.Sum(r.CipherSHA256[:0])
	return r, nil
}

// Decrypter streams the plaintext of an age file and hashes it. age
// authenticates every 64 KiB chunk before releasing it, so altered or
// truncated ciphertext fails in Read before any of its plaintext is
// returned.
type Decrypter struct {
	r    io.Reader
	sha  hash.Hash
	n    int64
	head [32]byte
	// headErr says why the header's digest is not known.
	headErr error
}

// MaxHeaderSize bounds the age header NewDecrypter keeps to hash (its
// header and nonce, Result.CipherHeaderSHA256): a header of one X25519
// or ML-KEM-768 stanza is under 2 KiB.
const MaxHeaderSize = 64 << 10

// ErrHeader marks an age file whose header could not be hashed as it was
// written (Decrypter.HeaderSHA256).
var ErrHeader = errors.New("agestream: the age header cannot be checked")

// NewDecrypter opens an age stream with the given identities. It reads
// the header and the payload's nonce, and no chunk of the payload.
func NewDecrypter(src io.Reader, identities ...age.Identity) (*Decrypter, error) {
	rec := &headRecorder{r: src, max: MaxHeaderSize}
	r, err := age.Decrypt(rec, identities...)
	if err != nil {
		return nil, fmt.Errorf("agestream: %w", err)
	}
	d := &Decrypter{r: r, sha: sha256.New()}
	d.head, d.headErr = rec.headSum()
	rec.buf, rec.max = nil, 0 // the payload is not kept
	return d, nil
}

// HeaderSHA256 returns the SHA-256 of the file's header and nonce as
// Result.CipherHeaderSHA256 defines it, read before any of the payload;
// an error wrapping ErrHeader if the header is larger than MaxHeaderSize
// or not in the canonical form age writes (then it is not one age wrote).
func (d *Decrypter) HeaderSHA256() ([32]byte, error) { return d.head, d.headErr }

// headRecorder keeps the first bytes read from r, at most max.
type headRecorder struct {
	r    io.Reader
	buf  []byte
	max  int
	over bool
}

func (h *headRecorder) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if h.max > 0 {
		take := min(n, h.max-len(h.buf))
		h.buf = append(h.buf, p[:take]...)
		h.over = h.over || take < n
	}
	return n, err
}

// headSum hashes the header and the nonce at the start of what was read:
// the header as age writes it (age.ExtractHeader) must be its prefix.
func (h *headRecorder) headSum() ([32]byte, error) {
	const nonceSize = 16
	hdr, err := age.ExtractHeader(bytes.NewReader(h.buf))
	switch {
	case h.over && (err != nil || len(hdr)+nonceSize > len(h.buf)):
		return [32]byte{}, fmt.Errorf("%w: it is larger than %d bytes", ErrHeader, h.max)
	case err != nil:
		return [32]byte{}, fmt.Errorf("%w: %w", ErrHeader, err)
	case !bytes.HasPrefix(h.buf, hdr) || len(hdr)+nonceSize > len(h.buf):
		return [32]byte{}, fmt.Errorf("%w: it is not in the form age writes", ErrHeader)
	}
	return sha256.Sum256(h.buf[:len(hdr)+nonceSize]), nil
}

func (d *Decrypter) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.sha.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// Sum returns the size and SHA-256 of the plaintext read so far.
func (d *Decrypter) Sum() (int64, [32]byte) {
	var s [32]byte
	d.sha.Sum(s[:0])
	return d.n, s
}
