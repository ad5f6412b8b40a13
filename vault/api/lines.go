package api

import (
	"bufio"
	"io"
	"net/http"
)

// lineWriter writes newline-terminated records through a buffer.
type lineWriter struct{ w *bufio.Writer }

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: bufio.NewWriterSize(w, 256<<10)} }

func (l *lineWriter) line(b []byte) error {
	if _, err := l.w.Write(b); err != nil {
		return err
	}
	return l.w.WriteByte('\n')
}

func (l *lineWriter) flush() error { return l.w.Flush() }

// streamAnswer is an answer written through a buffer (a lineWriter, a
// records stream): its status and Content-Type go out with its first
// bytes, so that a failure before any reached the client (the buffer's
// first fill) is answered as the error it is, and one after cuts the
// connection, so that a client never takes a short answer for a whole
// one (end).
type streamAnswer struct {
	w           http.ResponseWriter
	contentType string
	sent        bool
}

func (a *streamAnswer) Write(p []byte) (int, error) {
	if !a.sent {
		a.w.Header().Set("Content-Type", a.contentType)
		a.sent = true
	}
	return a.w.Write(p)
}

// end ends the answer after err, the writing's outcome (its buffer
// flushed): nil once the whole answer was written (an empty one as 200
// with no body), err itself when nothing was sent yet, for the handler
// to answer, and otherwise it cuts the connection.
func (a *streamAnswer) end(err error) error {
	switch {
	case err == nil:
		if !a.sent {
			a.w.Header().Set("Content-Type", a.contentType)
			a.w.WriteHeader(http.StatusOK)
		}
		return nil
	case !a.sent:
		return err
	}
	panic(http.ErrAbortHandler)
}
