// Package logstream writes and reads the custody log's records stream: every
// stored event's bytes together with the unsigned lookup values the store
// keeps beside them (docs/custody-log.md 11.1), in one pass over the log.
// It is what GET /v1/log/records serves and what custos audit verify reads,
// so that an audit reads the log store once instead of twice (events, then
// lookups) and decodes no JSON for the lookups.
//
// The stream is binary and length-prefixed, so that no stored value, however
// an insider edited it, can shift the framing:
//
//	stream = magic *record end
//	magic  = "custos-log-records/1" LF          (21 bytes)
//	record = %x01 uvarint(seq) str(id) str(case) str(item) str(bytes)
//	end    = %x00 uvarint(count)                (count = records before it)
//	str    = uvarint(n) n*OCTET              (n <= MaxLookup; bytes: MaxBytes)
//
// uvarint is encoding/binary's unsigned LEB128 (at most 10 bytes). A stream
// that stops before its end marker, or whose end marker's count differs from
// the records read, is incomplete; a reader refuses it.
package logstream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/custos-vault/custos/events"
)

// MediaType is the Content-Type of a records stream.
const MediaType = "application/vnd.custos.log-records"

// Magic opens every records stream: its name and version, and a line end.
const Magic = "custos-log-records/1\n"

// MaxBytes bounds an event's bytes as the stream carries them:
// MaxEventSize + 1. No event is longer than MaxEventSize, so a longer
// stored one is refused anyway; the writer cuts it to MaxBytes, which a
// reader accepts, so that the replay still names its position (an event
// cut so is refused for its size).
const MaxBytes = events.MaxEventSize + 1

// MaxLookup bounds a lookup value (id, case, item) as the stream carries
// it: 1,025 bytes. The values the vault writes are short (an event id is
// 32 hex digits, a case id at most 64 characters, an item id 27); a stored
// value longer than 1,024 bytes is edited, and the writer cuts it to
// MaxLookup, so that a reader still compares it (and finds it differs)
// while holding little of it in memory.
const MaxLookup = 1025

const (
	tagEnd    = 0x00
	tagRecord = 0x01
)

// ErrMalformed wraps every reason a stream is refused: a wrong magic, an
// unknown tag, a length beyond its bound, a stream cut short, or an end
// marker that does not count the records read.
var ErrMalformed = errors.New("malformed custody log records stream")

// Writer writes a records stream. Call Close after the last record to
// write the end marker; a stream without it is incomplete.
type Writer struct {
	w     *bufio.Writer
	count uint64
	err   error
	num   [binary.MaxVarintLen64]byte
}

// NewWriter returns a Writer on w, buffered (256 KiB), and writes the magic.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: bufio.NewWriterSize(w, 256<<10)}
	_, wr.err = wr.w.WriteString(Magic)
	return wr
}

func (w *Writer) uvarint(x uint64) {
	if w.err == nil {
		_, w.err = w.w.Write(w.num[:binary.PutUvarint(w.num[:], x)])
	}
}

func (w *Writer) bytes(b []byte) {
	if len(b) > MaxBytes {
		b = b[:MaxBytes]
	}
	w.uvarint(uint64(len(b)))
	if w.err == nil {
		_, w.err = w.w.Write(b)
	}
}

func (w *Writer) str(s string) {
	if len(s) > MaxLookup {
		s = s[:MaxLookup]
	}
	w.uvarint(uint64(len(s)))
	if w.err == nil {
		_, w.err = w.w.WriteString(s)
	}
}

// Write writes one record. Its bytes are written before Write returns, so
// they need not outlive the call. The first error is sticky.
func (w *Writer) Write(r events.Record) error {
	if w.err == nil {
		w.err = w.w.WriteByte(tagRecord)
	}
	w.uvarint(r.Seq)
	w.str(r.ID)
	w.str(r.Case)
	w.str(r.Item)
	w.bytes(r.Bytes)
	if w.err == nil {
		w.count++
	}
	return w.err
}

// Close writes the end marker and flushes. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err == nil {
		w.err = w.w.WriteByte(tagEnd)
	}
	w.uvarint(w.count)
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// Reader reads a records stream.
type Reader struct {
	r     *bufio.Reader
	count uint64
	begun bool
	err   error
	// slab is where records' bytes are carved from, a slabSize block at a
	// time, instead of one allocation each; scratch holds a record's
	// lookup values until they are made a string.
	slab    []byte
	scratch [3 * MaxLookup]byte
}

// slabSize is the block records' bytes are carved from (a block stays in
// memory while any record carved from it is held).
const slabSize = 1 << 20

// NewReader returns a Reader on r, buffered (256 KiB).
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 256<<10)}
}

func (r *Reader) malformed(format string, args ...any) error {
	return fmt.Errorf("%w after %d records: %s", ErrMalformed, r.count, fmt.Sprintf(format, args...))
}

// short turns a stream cut inside an element into a refusal.
func (r *Reader) short(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.malformed("it ends inside %s (incomplete: the answer was cut)", what)
	}
	return err
}

// uvarint reads an unsigned LEB128 number as encoding/binary writes it,
// refusing one longer than 10 bytes or beyond 64 bits; what and then
// suffix name it in an error (joined only then: a record reads four
// lengths).
func (r *Reader) uvarint(what, suffix string) (uint64, error) {
	var x uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, err := r.r.ReadByte()
		if err != nil {
			return 0, r.short(err, what+suffix)
		}
		if i == binary.MaxVarintLen64-1 && b > 1 {
			break
		}
		x |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, r.malformed("%s%s is not a valid uvarint", what, suffix)
}

// length reads a value's length and checks it against max.
func (r *Reader) length(what string, max int) (int, error) {
	n, err := r.uvarint(what, "'s length")
	if err != nil {
		return 0, err
	}
	if n > uint64(max) {
		return 0, r.malformed("%s is %d bytes, more than the %d a stream may carry", what, n, max)
	}
	return int(n), nil
}

// lookup reads a lookup value into scratch from at on, and returns where
// it ends there.
func (r *Reader) lookup(what string, at int) (int, error) {
	n, err := r.length(what, MaxLookup)
	if err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(r.r, r.scratch[at:at+n]); err != nil {
		return 0, r.short(err, what)
	}
	return at + n, nil
}

// bytes reads an event's bytes into a slice of their own (carved from
// the slab: its capacity ends where they do).
func (r *Reader) bytes() ([]byte, error) {
	const what = "an event's bytes"
	n, err := r.length(what, MaxBytes)
	if err != nil {
		return nil, err
	}
	b := r.carve(n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, r.short(err, what)
	}
	return b, nil
}

// carve returns the next n bytes of the slab, a new slab begun when it
// holds fewer, with the capacity ending where they do.
func (r *Reader) carve(n int) []byte {
	if n > len(r.slab) {
		r.slab = make([]byte, max(slabSize, n))
	}
	b := r.slab[:n:n]
	r.slab = r.slab[n:]
	return b
}

// lookupValues makes the three lookup values read into scratch, ending
// at id, cs and item, one string that they share (one allocation, not
// three).
func (r *Reader) lookupValues(id, cs, item int) (string, string, string) {
	values := string(r.scratch[:item])
	return values[:id], values[id:cs], values[cs:item]
}

// Next returns the next record, with Bytes and the lookup values its own
// copies (Bytes is carved from a block shared with the records read
// around it, with its capacity ending where it does: appending to it
// copies; the three lookup values share one string, a few bytes that
// a caller keeping one keeps whole). At the end marker it returns io.EOF if the marker counts the
// records read; every other failure is an error, wrapping ErrMalformed
// when the stream itself is at fault, and is returned again by later
// calls.
func (r *Reader) Next() (events.Record, error) {
	if r.err != nil {
		return events.Record{}, r.err
	}
	rec, err := r.next()
	if err != nil {
		r.err = err
	}
	return rec, err
}

// buffered reads the next record from what the buffer holds, when it
// holds all of it and it is well formed: a record in a few slice reads
// instead of a call a byte. Anything else (a record the buffer cuts, the
// end marker, any fault) it leaves unread and answers false, and next
// reads it element by element, which words every refusal; both read
// the same bytes the same way (FuzzReader reads each input both ways).
func (r *Reader) buffered() (events.Record, bool) {
	buf, _ := r.r.Peek(r.r.Buffered())
	if len(buf) == 0 || buf[0] != tagRecord {
		return events.Record{}, false
	}
	i := 1
	// value reads a length of at most max and says where its bytes are.
	value := func(max int) (start, end int, ok bool) {
		n, size := binary.Uvarint(buf[i:])
		if size <= 0 || n > uint64(max) || n > uint64(len(buf)-i-size) {
			return 0, 0, false
		}
		start = i + size
		i = start + int(n)
		return start, i, true
	}
	seq, size := binary.Uvarint(buf[i:])
	if size <= 0 {
		return events.Record{}, false
	}
	i += size
	at := 0
	var cut [3]int
	for k := range cut {
		start, end, ok := value(MaxLookup)
		if !ok {
			return events.Record{}, false
		}
		at += copy(r.scratch[at:], buf[start:end])
		cut[k] = at
	}
	start, end, ok := value(MaxBytes)
	if !ok {
		return events.Record{}, false
	}
	rec := events.Record{Seq: seq, Bytes: r.carve(end - start)}
	copy(rec.Bytes, buf[start:end])
	rec.ID, rec.Case, rec.Item = r.lookupValues(cut[0], cut[1], cut[2])
	if _, err := r.r.Discard(i); err != nil {
		// Peek answered these bytes: Discard cannot fail here.
		panic(err)
	}
	r.count++
	return rec, true
}

func (r *Reader) next() (events.Record, error) {
	if !r.begun {
		var m [len(Magic)]byte
		if _, err := io.ReadFull(r.r, m[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return events.Record{}, r.malformed("it does not begin with %q", Magic)
			}
			return events.Record{}, err
		}
		if string(m[:]) != Magic {
			return events.Record{}, r.malformed("it does not begin with %q", Magic)
		}
		r.begun = true
	}
	if rec, ok := r.buffered(); ok {
		return rec, nil
	}
	tag, err := r.r.ReadByte()
	if err == io.EOF {
		return events.Record{}, r.malformed("it ends without its end marker (incomplete: the answer was cut)")
	}
	if err != nil {
		return events.Record{}, err
	}
	switch tag {
	case tagEnd:
		n, err := r.uvarint("the end marker's count", "")
		if err != nil {
			return events.Record{}, err
		}
		if n != r.count {
			return events.Record{}, r.malformed("the end marker counts %d records", n)
		}
		if _, err := r.r.ReadByte(); err != io.EOF {
			if err != nil {
				return events.Record{}, err
			}
			return events.Record{}, r.malformed("bytes follow the end marker")
		}
		return events.Record{}, io.EOF
	case tagRecord:
	default:
		return events.Record{}, r.malformed("unknown tag 0x%02x", tag)
	}
	var rec events.Record
	if rec.Seq, err = r.uvarint("a record's position", ""); err != nil {
		return events.Record{}, err
	}
	// The three values are read one after the other into scratch and
	// made one string, which they share (one allocation, not three).
	var id, cs, item int
	if id, err = r.lookup("an id", 0); err != nil {
		return events.Record{}, err
	}
	if cs, err = r.lookup("a case", id); err != nil {
		return events.Record{}, err
	}
	if item, err = r.lookup("an item", cs); err != nil {
		return events.Record{}, err
	}
	rec.ID, rec.Case, rec.Item = r.lookupValues(id, cs, item)
	if rec.Bytes, err = r.bytes(); err != nil {
		return events.Record{}, err
	}
	r.count++
	return rec, nil
}
