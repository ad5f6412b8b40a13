// Package readfull fills a buffer from a stream while keeping the end of
// the stream apart from a failure of it.
//
// io.ReadFull returns io.ErrUnexpectedEOF both for a stream that ended
// before the buffer filled (a last, short chunk: the data is whole) and
// for a stream that itself failed with io.ErrUnexpectedEOF, as an HTTP
// request body cut short by its client does (net/http). A reader that
// takes the first for the end of the data takes the second for it too,
// and so a cut-short upload for a whole file. Read does not.
package readfull

import "io"

// maxEmptyReads is how many reads in a row may return no byte and no
// error before Read gives up with io.ErrNoProgress (as bufio does).
const maxEmptyReads = 100

// Read reads r until buf is full (err nil), r ends (io.EOF, with the n
// bytes read before it: n may be 0, or less than len(buf)), or r fails
// (r's error, unchanged, with the n bytes read before it).
func Read(r io.Reader, buf []byte) (n int, err error) {
	empty := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		switch {
		case err != nil:
			return n, err
		case m == 0:
			if empty++; empty == maxEmptyReads {
				return n, io.ErrNoProgress
			}
		default:
			empty = 0
		}
	}
	return n, nil
}

// Sticky returns a reader of r whose failure stays: once r fails with
// an error other than io.EOF, every later read fails with that error
// too. A bufio.Reader's Peek hands a failure to its caller once, and
// net/http's request body, read again after io.ErrUnexpectedEOF (an
// upload cut short), says io.EOF: a reader that peeks (to sniff a file
// type, a byte-order mark, a delimiter) and reads on would otherwise
// take an upload cut short for a whole one.
func Sticky(r io.Reader) io.Reader { return &sticky{r: r} }

type sticky struct {
	r   io.Reader
	err error
}

func (s *sticky) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}
