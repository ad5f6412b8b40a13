package readfull

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// cutShort returns data, then fails as a request body cut short does.
type cutShort struct{ data []byte }

func (c *cutShort) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, c.data)
	c.data = c.data[n:]
	return n, nil
}

type silent struct{}

func (silent) Read([]byte) (int, error) { return 0, nil }

func TestRead(t *testing.T) {
	buf := make([]byte, 8)
	// A whole stream in one buffer and a short last one.
	r := iotest.OneByteReader(strings.NewReader("0123456789"))
	if n, err := Read(r, buf); n != 8 || err != nil {
		t.Fatalf("first: %d %v", n, err)
	}
	if n, err := Read(r, buf); n != 2 || err != io.EOF || string(buf[:2]) != "89" {
		t.Fatalf("last: %d %v", n, err)
	}
	// A stream cut short is a failure, never the end.
	n, err := Read(&cutShort{data: []byte("0123")}, buf)
	if n != 4 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut short: %d %v", n, err)
	}
	// io.ReadFull reads both alike, which is why this package exists.
	if _, err := io.ReadFull(strings.NewReader("0123"), buf); err != io.ErrUnexpectedEOF {
		t.Fatalf("io.ReadFull on a short stream: %v", err)
	}
	// Other failures pass as they are; a reader that never answers stops.
	if _, err := Read(iotest.ErrReader(io.ErrClosedPipe), buf); err != io.ErrClosedPipe {
		t.Fatalf("failing reader: %v", err)
	}
	if _, err := Read(silent{}, buf); err != io.ErrNoProgress {
		t.Fatalf("silent reader: %v", err)
	}
}

// onceThenEOF fails once with io.ErrUnexpectedEOF and then says io.EOF,
// as net/http's request body does after an upload cut short.
type onceThenEOF struct{ failed bool }

func (o *onceThenEOF) Read([]byte) (int, error) {
	if o.failed {
		return 0, io.EOF
	}
	o.failed = true
	return 0, io.ErrUnexpectedEOF
}

func TestSticky(t *testing.T) {
	r := Sticky(&onceThenEOF{})
	for i := range 3 {
		if _, err := r.Read(make([]byte, 4)); err != io.ErrUnexpectedEOF {
			t.Fatalf("read %d: %v, want the failure again", i, err)
		}
	}
	// The end of the data is not a failure: it is passed on as it is.
	r = Sticky(strings.NewReader("ab"))
	if b, err := io.ReadAll(r); string(b) != "ab" || err != nil {
		t.Fatalf("whole stream: %q %v", b, err)
	}
}
