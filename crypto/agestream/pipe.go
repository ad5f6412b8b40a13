package agestream

import (
	"errors"
	"io"
	"sync"
)

// Pipe is a buffered pipe: writes are copied into pooled chunks and queued,
// so the writer (the encrypter) and the reader (the object store) run at
// the same time instead of taking turns as with io.Pipe. At most depth
// chunks of ChunkSize are in flight, so memory stays bounded whatever the
// stream's size. Only ciphertext goes through it.
type Pipe struct {
	ch      chan []byte
	cur     []byte // being filled by Write
	out     []byte // being drained by Read
	outBuf  []byte
	mu      sync.Mutex
	werr    error // set by CloseWithError, seen by Read after the queue
	rerr    error // set by CloseRead, seen by Write
	done    chan struct{}
	closeMu sync.Once
	stopped sync.Once
}

// pipeChunks holds *[]byte, so that putting a buffer back does not
// allocate.
var pipeChunks = sync.Pool{New: func() any { b := make([]byte, 0, ChunkSize); return &b }}

// NewPipe returns a pipe holding at most depth full chunks.
func NewPipe(depth int) *Pipe {
	return &Pipe{ch: make(chan []byte, depth), done: make(chan struct{})}
}

// Write queues a copy of p.
func (p *Pipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = (*pipeChunks.Get().(*[]byte))[:0]
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b = b[k:]
		n += k
		if len(p.cur) == cap(p.cur) {
			if err := p.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (p *Pipe) send() error {
	select {
	case p.ch <- p.cur:
		p.cur = nil
		return nil
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.rerr
	}
}

// CloseWithError ends the stream: the reader sees err (io.EOF if nil)
// after the queued chunks.
func (p *Pipe) CloseWithError(err error) {
	p.closeMu.Do(func() {
		if err == nil && len(p.cur) > 0 {
			if p.send() != nil {
				err = io.ErrClosedPipe
			}
		}
		if err == nil {
			err = io.EOF
		}
		p.mu.Lock()
		p.werr = err
		p.mu.Unlock()
		close(p.ch)
	})
}

// Read drains queued chunks, then returns the writer's closing error.
func (p *Pipe) Read(b []byte) (int, error) {
	for len(p.out) == 0 {
		if p.outBuf != nil {
			b := p.outBuf[:0]
			pipeChunks.Put(&b)
			p.outBuf = nil
		}
		c, ok := <-p.ch
		if !ok {
			p.mu.Lock()
			defer p.mu.Unlock()
			return 0, p.werr
		}
		p.out, p.outBuf = c, c
	}
	n := copy(b, p.out)
	p.out = p.out[n:]
	return n, nil
}

// CloseRead tells the writer that nobody reads any more: its Writes fail
// with err.
func (p *Pipe) CloseRead(err error) {
	if err == nil {
		err = errors.New("agestream: pipe reader closed")
	}
	p.stopped.Do(func() {
		p.mu.Lock()
		p.rerr = err
		p.mu.Unlock()
		close(p.done)
	})
}
