package logstream

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/custos-vault/custos/events"
)

var update = flag.Bool("update", false, "rewrite testdata/stream.hex from the records in testdata/records.json")

func sample() []events.Record {
	return []events.Record{
		{Seq: 0, ID: "ev_0", Bytes: []byte(`{"seq":0}`)},
		{Seq: 1, ID: "ev_1", Case: "C-1", Item: "it_1", Bytes: []byte(`{"seq":1,"case":"C-1"}`)},
		// An insider's edit: a line end and a tag byte in a lookup value
		// must not shift the framing.
		{Seq: 300, ID: "ev_2\n\x00\x01", Case: "C\n2", Item: "", Bytes: []byte("\x00\x01\n")},
	}
}

func write(t testing.TB, recs []events.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(b []byte) ([]events.Record, error) {
	return readFrom(bytes.NewReader(b))
}

// readFrom reads a whole stream from rd.
func readFrom(rd io.Reader) ([]events.Record, error) {
	r := NewReader(rd)
	var out []events.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, recs := range [][]events.Record{nil, sample()} {
		got, err := readAll(write(t, recs))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(recs) || (len(recs) > 0 && !reflect.DeepEqual(got, recs)) {
			t.Fatalf("read %+v, wrote %+v", got, recs)
		}
	}
}

// TestVector: the stream in testdata/stream.hex is what the writer makes
// of testdata/records.json, byte for byte, and reads back to it.
func TestVector(t *testing.T) {
	var recs []struct {
		Seq   uint64 `json:"seq"`
		ID    string `json:"id"`
		Case  string `json:"case"`
		Item  string `json:"item"`
		Bytes string `json:"bytes"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "records.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	var want []events.Record
	for _, r := range recs {
		want = append(want, events.Record{Seq: r.Seq, ID: r.ID, Case: r.Case, Item: r.Item, Bytes: []byte(r.Bytes)})
	}
	stream := write(t, want)
	path := filepath.Join("testdata", "stream.hex")
	if *update {
		if err := os.WriteFile(path, []byte(hex.EncodeToString(stream)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vec, err := hex.DecodeString(strings.TrimSpace(string(h)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vec, stream) {
		t.Fatalf("the writer's stream differs from the vector:\n got %x\nwant %x", stream, vec)
	}
	got, err := readAll(vec)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the vector reads as %+v, %v", got, err)
	}
}

// TestCutStreamsAreRefused: a stream cut at any byte before its end
// marker's last byte is refused as incomplete, never taken as a shorter
// whole stream.
func TestCutStreamsAreRefused(t *testing.T) {
	full := write(t, sample())
	for n := 0; n < len(full); n++ {
		got, err := readAll(full[:n])
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("cut at %d of %d bytes: %d records, error %v", n, len(full), len(got), err)
		}
	}
}

func TestMalformedStreams(t *testing.T) {
	full := write(t, sample())
	end := bytes.LastIndexByte(full, tagEnd)
	cases := map[string][]byte{
		"another magic":        append([]byte("custos-log-records/2\n"), full[len(Magic):]...),
		"an end counting more": append(append([]byte{}, full[:end]...), tagEnd, 4),
		"an end counting less": append(append([]byte{}, full[:end]...), tagEnd, 2),
		"bytes after the end":  append(append([]byte{}, full...), 0),
		"an unknown tag":       append(append([]byte{}, full[:end]...), 0x02),
		"a length too large": append([]byte(Magic), tagRecord, 0, // seq 0
			0xff, 0xff, 0x04), // an id of 81,919 bytes, beyond MaxLookup
		"a lookup value of 1,026 bytes": append([]byte(Magic), tagRecord, 0, 0x82, 0x08),
		"an 11-byte uvarint": append([]byte(Magic), tagRecord,
			0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
		"a uvarint past 64 bits": append([]byte(Magic), tagRecord,
			0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := readAll(b)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("read without refusal: %v", err)
			}
		})
	}
}

// A refusal names the element it was reading: a value by what it is,
// a length as that value's length (joined only when there is an error).
func TestRefusalsNameTheElement(t *testing.T) {
	rec := []byte{tagRecord, 5, 2, 'i', 'd', 1, 'c', 0} // seq 5, id "id", case "c", item ""
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"a position cut", []byte{tagRecord, 0x80}, "inside a record's position"},
		{"an id's length cut", []byte{tagRecord, 5, 0x80}, "inside an id's length"},
		{"an id cut", []byte{tagRecord, 5, 2, 'i'}, "inside an id"},
		{"a case's length beyond 64 bits", append([]byte{tagRecord, 5, 2, 'i', 'd'}, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02), "a case's length is not a valid uvarint"},
		{"an item too long", append([]byte{tagRecord, 5, 2, 'i', 'd', 1, 'c'}, 0x82, 0x08), "an item is 1026 bytes"},
		{"the bytes' length cut", append(append([]byte{}, rec...), 0x80), "inside an event's bytes's length"},
		{"the end marker's count cut", []byte{tagEnd, 0x80}, "inside the end marker's count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(append([]byte(Magic), tc.b...))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

// TestOverlongValuesAreCut: a stored value longer than any the vault
// writes is carried cut (lookup values to MaxLookup bytes, an event's
// bytes to MaxBytes), so the reader still reaches the record and its
// check names it.
func TestOverlongValuesAreCut(t *testing.T) {
	long := strings.Repeat("x", 3*MaxBytes)
	recs := []events.Record{{Seq: 7, ID: long, Case: long, Item: "it", Bytes: []byte(long)}}
	got, err := readAll(write(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seq != 7 || len(got[0].ID) != MaxLookup || len(got[0].Case) != MaxLookup ||
		len(got[0].Bytes) != MaxBytes || got[0].Item != "it" {
		t.Fatalf("read %d records: seq %d, id %d bytes, case %d, bytes %d", len(got), got[0].Seq, len(got[0].ID), len(got[0].Case), len(got[0].Bytes))
	}
	if _, err := events.Decode(got[0].Bytes); err == nil {
		t.Fatal("an event cut to MaxBytes bytes decodes")
	}
}

// TestErrorsAreSticky: after a refusal, Next keeps refusing.
func TestErrorsAreSticky(t *testing.T) {
	full := write(t, sample())
	r := NewReader(bytes.NewReader(full[:len(full)-1]))
	var first error
	for i := 0; i < 10; i++ {
		if _, err := r.Next(); err != nil {
			if first == nil {
				first = err
			} else if err != first {
				t.Fatalf("second error %v differs from the first %v", err, first)
			}
		}
	}
	if first == nil {
		t.Fatal("no error")
	}
}

// FuzzReader: no input makes the reader panic or return a record after an
// error, and what it reads whole writes back to the same bytes when every
// uvarint in the input is minimal.
func FuzzReader(f *testing.F) {
	f.Add(write(f, sample()))
	f.Add(write(f, nil))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := readAll(b)
		// Read a byte at a time, every record is read element by
		// element; read whole, from the buffer: the same records, the
		// same refusal.
		slow, slowErr := readFrom(iotest.OneByteReader(bytes.NewReader(b)))
		if fmt.Sprint(err) != fmt.Sprint(slowErr) || !reflect.DeepEqual(recs, slow) {
			t.Fatalf("read whole: %d records, %v; a byte at a time: %d records, %v", len(recs), err, len(slow), slowErr)
		}
		if err != nil {
			return
		}
		again := write(t, recs)
		if got, err := readAll(again); err != nil || len(got) != len(recs) {
			t.Fatalf("a stream read whole does not read back: %v", err)
		}
		if len(again) > len(b) {
			t.Fatalf("re-written stream is longer (%d) than the one read (%d)", len(again), len(b))
		}
	})
}

func BenchmarkReadWrite(b *testing.B) {
	ev := bytes.Repeat([]byte("e"), 480)
	rec := events.Record{ID: "ev_0123456789abcdef01234567", Case: "NCU-04832", Item: "it_703ff5186e34970b22e9004b", Bytes: ev}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i := 0; i < b.N; i++ {
		rec.Seq = uint64(i)
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ev)))
	r := NewReader(&buf)
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

// TestRecordsDoNotShareBytes: records carved from one block are separate:
// changing or appending to one leaves the others as read.
func TestRecordsDoNotShareBytes(t *testing.T) {
	recs := sample()
	got, err := readAll(write(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i].Bytes = append(got[i].Bytes, "appended"...)
		got[i].Bytes[0] ^= 0xff
	}
	for i := range got {
		want := append(append([]byte{}, recs[i].Bytes...), "appended"...)
		want[0] ^= 0xff
		if !bytes.Equal(got[i].Bytes, want) {
			t.Fatalf("record %d: %q, want %q", i, got[i].Bytes, want)
		}
	}
}

// A record the buffer holds whole is read from it at once; one it cuts,
// and the end marker, are left to the reading element by element.
func TestBufferedRecords(t *testing.T) {
	recs := sample()
	stream := write(t, recs)
	r := NewReader(bytes.NewReader(stream))
	if _, err := r.Next(); err != nil { // the magic and the first record
		t.Fatal(err)
	}
	got, ok := r.buffered()
	if !ok || !reflect.DeepEqual(got, recs[1]) {
		t.Fatalf("buffered: %v %+v, want %+v", ok, got, recs[1])
	}
	for range recs[2:] {
		if _, ok := r.buffered(); !ok {
			t.Fatal("a record the buffer holds was not read from it")
		}
	}
	if _, ok := r.buffered(); ok {
		t.Fatal("the end marker was read as a record")
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the records: %v, want io.EOF", err)
	}
	// The same stream cut inside its last record: that record is left
	// to Next, which refuses it.
	r = NewReader(bytes.NewReader(stream[:len(stream)-3]))
	for range recs[:len(recs)-1] {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := r.buffered(); ok {
		t.Fatal("a cut record was read from the buffer")
	}
	if _, err := r.Next(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a cut record: %v, want ErrMalformed", err)
	}
}

// BenchmarkRead is the reader alone, over records the size of the scale
// group's (an auditor's side of GET /v1/log/records).
func BenchmarkRead(b *testing.B) {
	ev := bytes.Repeat([]byte("e"), 480)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	const n = 100000
	for i := range n {
		rec := events.Record{Seq: uint64(i), ID: "ev_0123456789abcdef01234567", Case: "NCU-04832", Item: "it_703ff5186e34970b22e9004b", Bytes: ev}
		if err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	stream := buf.Bytes()
	b.SetBytes(int64(len(stream) / n))
	b.ReportAllocs()
	var r *Reader
	for i := 0; b.Loop(); i++ {
		if i%n == 0 {
			r = NewReader(bytes.NewReader(stream))
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// chunkReader answers each Read with at most a random number of bytes up
// to 300 KiB, so that records fall across the reader's 256 KiB buffer.
type chunkReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if n := 1 + c.rng.IntN(300<<10); n < len(p) {
		p = p[:n]
	}
	return c.r.Read(p)
}

// TestBufferedAgreesAtEveryEdge: streams of records at the limits
// (values of MaxLookup and MaxLookup+1 bytes, events of MaxBytes and
// MaxBytes+1, uvarints padded to ten bytes, cut anywhere) read the same,
// record for record and refusal for refusal, from the buffer, a byte at
// a time, and in chunks that cut records at the buffer's edge.
func TestBufferedAgreesAtEveryEdge(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		uvarint := func(s []byte, x uint64) []byte {
			b := binary.AppendUvarint(nil, x)
			if pad := rng.IntN(binary.MaxVarintLen64 - len(b) + 1); rng.IntN(4) == 0 && pad > 0 {
				b[len(b)-1] |= 0x80
				b = append(b, bytes.Repeat([]byte{0x80}, pad-1)...)
				b = append(b, 0)
			}
			return append(s, b...)
		}
		s := []byte(Magic)
		n := rng.IntN(24)
		for range n {
			s = append(s, tagRecord)
			s = uvarint(s, rng.Uint64()>>rng.IntN(64))
			for k := range 3 {
				l := []int{0, 1, 27, MaxLookup, MaxLookup + 1}[rng.IntN(5)]
				if l > MaxLookup && rng.IntN(10) != 0 {
					l = MaxLookup
				}
				s = uvarint(s, uint64(l))
				s = append(s, bytes.Repeat([]byte{byte('a' + k)}, l)...)
			}
			l := []int{0, 480, 60000, MaxBytes, MaxBytes + 1}[rng.IntN(5)]
			if l > MaxBytes && rng.IntN(20) != 0 {
				l = MaxBytes
			}
			s = uvarint(s, uint64(l))
			s = append(s, bytes.Repeat([]byte{'e'}, l)...)
		}
		s = append(s, tagEnd)
		s = uvarint(s, uint64(n))
		if rng.IntN(5) == 0 {
			s = s[:rng.IntN(len(s)+1)]
		}
		whole, err := readAll(s)
		slow, slowErr := readFrom(iotest.OneByteReader(bytes.NewReader(s)))
		cut, cutErr := readFrom(&chunkReader{bytes.NewReader(s), rng})
		if fmt.Sprint(err) != fmt.Sprint(slowErr) || fmt.Sprint(cutErr) != fmt.Sprint(slowErr) ||
			!reflect.DeepEqual(whole, slow) || !reflect.DeepEqual(cut, slow) {
			t.Fatalf("seed %d: from the buffer %d records, %v; a byte at a time %d, %v; in chunks %d, %v",
				seed, len(whole), err, len(slow), slowErr, len(cut), cutErr)
		}
	}
}
