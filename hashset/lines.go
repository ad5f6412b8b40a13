package hashset

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader reads lines of any length, handing back at most maxLine
// bytes of each (the rest is dropped and the line marked too long).
type lineReader struct {
	br   *bufio.Reader
	line int
}

const maxLine = 64 << 10

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next line without its line ending ("\n" or "\r\n"),
// valid until the next call; long is true if it exceeded maxLine. At the
// end it returns io.EOF.
func (l *lineReader) next() (b []byte, long bool, err error) {
	b, err = l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long = true
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.br.ReadSlice('\n')
		}
		b = nil
	}
	if err == io.EOF {
		if len(b) == 0 && !long {
			return nil, false, io.EOF
		}
		err = nil
	}
	if err != nil {
		return nil, false, err
	}
	l.line++
	if l.line == 1 {
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) > maxLine {
		long = true
	}
	return b, long, nil
}

// offsetLines maps byte offsets of a stream to line numbers. It keeps the
// bytes read but not yet counted, which are the bytes a json.Decoder has
// buffered ahead of its position: the memory is bounded by that buffer.
type offsetLines struct {
	r       io.Reader
	pending []byte
	base    int64 // stream offset of pending[0]
	line    int   // line number at base
	nc      newlineCounter
}

func newOffsetLines(r io.Reader) *offsetLines { return &offsetLines{r: r, line: 1} }

func (o *offsetLines) Read(p []byte) (int, error) {
	o.nc.r = o.r
	n, err := o.nc.Read(p)
	o.pending = append(o.pending, p[:n]...)
	return n, err
}

// lineAt returns the line of the first byte at or after off that is not
// white space or a comma (the start of the next JSON value). Offsets must
// not decrease between calls.
func (o *offsetLines) lineAt(off int64) int {
	i := int(off - o.base)
	if i < 0 || i > len(o.pending) {
		return o.line
	}
	o.line += bytes.Count(o.pending[:i], []byte("\n"))
	// Drop the counted bytes, compacting so the buffer does not grow.
	n := copy(o.pending, o.pending[i:])
	o.pending = o.pending[:n]
	o.base = off
	line := o.line
	for _, c := range o.pending {
		if c == '\n' {
			line++
		} else if c != ' ' && c != '\t' && c != '\r' && c != ',' {
			break
		}
	}
	return line
}

// lines returns the number of lines in everything read so far.
func (o *offsetLines) lines() int { return o.nc.lines() }
