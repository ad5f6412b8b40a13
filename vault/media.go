package vault

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/custos-vault/custos/internal/mp4"
	"github.com/custos-vault/custos/pdq"
)

// What a deposit learns of an image or a video in its one pass: the
// plaintext is read once, by the encryption; a file that starts like an
// image or an ISO media file is also handed, as it streams past, to a
// second reader (an io.Pipe fed by the first), which computes the
// image's PDQ hash or reads the video's duration and then drains the
// rest. Nothing is buffered beyond what the image decoder holds (the
// decoded pixels, bounded by pdq's pixel limit); a file that is not an
// image or a video is not teed at all.

// sniffBytes is how much of a file's start decides what it is.
const sniffBytes = 64

// mediaKind names what the first bytes of a file say it is: "image",
// "video" or "".
func mediaKind(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}),
		bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")),
		bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")),
		len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image"
	case mp4.Sniff(head):
		return "video"
	}
	return ""
}

// mediaProbe is the second reader of a deposit's plaintext.
type mediaProbe struct {
	kind  string
	buf   *probeBuffer
	done  chan *MediaInfo
	grace time.Duration
}

// Bounds of a probe: the plaintext it may fall behind the deposit by
// before it is abandoned, and how long a deposit waits, once its stream
// has ended, for the probe's answer. An abandoned probe leaves the
// deposit "not hashed", never slower.
const (
	probeBufferBytes = 16 << 20
	probeGrace       = 30 * time.Second
)

// probeSlots bounds the images decoded at once (each may hold up to
// pdq's pixel limit in memory); a probe waits for a slot while its
// buffer allows.
var probeSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// probeMedia returns the reader a deposit encrypts from: body itself,
// or, for an image or video, a reader that also feeds the probe. The
// probe's answer is read with result once the encryption has read to
// the end (or failed, which ends the probe too). The deposit never
// waits on the probe while it streams: the probe reads from a bounded
// buffer, and is abandoned if it falls behind.
func (v *Vault) probeMedia(body io.Reader) (io.Reader, *mediaProbe) {
	br := bufio.NewReaderSize(body, 4096)
	head, _ := br.Peek(sniffBytes)
	kind := mediaKind(head)
	if kind == "" || kind == "image" && v.hashImage == nil {
		return br, nil
	}
	grace := v.probeGrace
	if grace <= 0 {
		grace = probeGrace
	}
	p := &mediaProbe{kind: kind, buf: newProbeBuffer(probeBufferBytes), done: make(chan *MediaInfo, 1), grace: grace}
	go func() {
		var m *MediaInfo
		if kind == "image" {
			probeSlots <- struct{}{}
			if p.buf.abandoned() {
				m = &MediaInfo{Kind: "image"}
			} else {
				m = v.hashImage(p.buf)
			}
			<-probeSlots
		} else {
			m = &MediaInfo{Kind: "video", Format: "mp4"}
			if d, err := mp4.Duration(p.buf); err == nil {
				m.DurationMS = d.Milliseconds()
			} else {
				m.NotHashed = "duration not read: " + err.Error()
			}
		}
		// What the probe did not need is dropped: the buffer stops
		// taking the deposit's bytes.
		p.buf.abandon()
		p.done <- m
	}()
	return &teeToProbe{r: br, buf: p.buf}, p
}

// result waits for the probe's answer, at most the probe's grace after
// the deposit's stream ended; an abandoned or late probe answers "not
// hashed" with the reason.
func (p *mediaProbe) result(encErr error) *MediaInfo {
	if p == nil {
		return nil
	}
	p.buf.closeWrite(encErr)
	select {
	case m := <-p.done:
		if p.buf.overflowed() && m.PDQ == "" && m.DurationMS == 0 {
			m.NotHashed = "not hashed: the image was not decoded as fast as it was deposited (the vault was busy)"
		}
		return m
	case <-time.After(p.grace):
		p.buf.abandon()
		if p.kind == "video" {
			return &MediaInfo{Kind: "video", NotHashed: "duration not read: the file took too long to read"}
		}
		return &MediaInfo{Kind: "image", NotHashed: "not hashed: the image took too long to decode"}
	}
}

// teeToProbe reads from r and hands what it read to the probe's buffer.
type teeToProbe struct {
	r   io.Reader
	buf *probeBuffer
}

func (t *teeToProbe) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.buf.write(p[:n])
	}
	if err == io.EOF {
		t.buf.closeWrite(nil)
	}
	return n, err
}

// probeBuffer is a bounded, never-blocking pipe: write copies into it
// unless it holds more than max bytes, which abandons it; Read blocks
// until bytes, the end, or abandonment.
type probeBuffer struct {
	mu       sync.Mutex
	cond     *sync.Cond
	chunks   [][]byte
	size     int
	max      int
	closed   bool
	err      error
	dropped  bool
	overflow bool
}

var errProbeAbandoned = errors.New("the probe fell behind the deposit and was abandoned")

func newProbeBuffer(max int) *probeBuffer {
	b := &probeBuffer{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *probeBuffer) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped || b.closed {
		return
	}
	if b.size+len(p) > b.max {
		b.dropped, b.overflow, b.chunks, b.size = true, true, nil, 0
		b.cond.Broadcast()
		return
	}
	b.chunks = append(b.chunks, bytes.Clone(p))
	b.size += len(p)
	b.cond.Signal()
}

// closeWrite ends the stream: err nil is its end, anything else a failure
// the reader sees.
func (b *probeBuffer) closeWrite(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed, b.err = true, err
		b.cond.Broadcast()
	}
}

// abandon drops the buffer: the writer's bytes are no longer kept, and a
// reader gets errProbeAbandoned.
func (b *probeBuffer) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dropped, b.chunks, b.size = true, nil, 0
	b.cond.Broadcast()
}

func (b *probeBuffer) abandoned() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

func (b *probeBuffer) overflowed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.overflow
}

func (b *probeBuffer) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.chunks) == 0 && !b.closed && !b.dropped {
		b.cond.Wait()
	}
	switch {
	case b.dropped:
		return 0, errProbeAbandoned
	case len(b.chunks) == 0 && b.err != nil:
		return 0, b.err
	case len(b.chunks) == 0:
		return 0, io.EOF
	}
	n := copy(p, b.chunks[0])
	if n == len(b.chunks[0]) {
		b.chunks = b.chunks[1:]
	} else {
		b.chunks[0] = b.chunks[0][n:]
	}
	b.size -= n
	return n, nil
}

// hashImagePDQ computes an image's PDQ hash, quality and dihedral
// variants (docs/pdq.md) with pdq's default limits; an image it cannot
// or will not decode (too many pixels, a damaged file) gets the reason
// instead.
func hashImagePDQ(r io.Reader) *MediaInfo {
	res, err := pdq.HashReader(r, pdq.DefaultLimits)
	if err != nil {
		return &MediaInfo{Kind: "image", NotHashed: err.Error()}
	}
	m := &MediaInfo{Kind: "image", Format: res.Format, PDQ: res.Hash.String(), Quality: res.Quality, Width: res.Width, Height: res.Height}
	for _, h := range res.Dihedral[1:] {
		m.Dihedral = append(m.Dihedral, h.String())
	}
	return m
}
