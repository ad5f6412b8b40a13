package hashset

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

// A file of another kind given as a hash list is said to be what it is,
// whatever format it was given as; a hash list is read as before.
func TestOtherKindsOfFileAreSaidSo(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("d41d8cd98f00b204e9800998ecf8427e  empty\n"))
	w.Close()
	for _, c := range []struct {
		name string
		body []byte
		says string
	}{
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "it is an image"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "it is an image"},
		{"mp4", []byte("\x00\x00\x00\x20ftypisom\x00\x00"), "it is a video"},
		{"gzip", gz.Bytes(), "decompress it first (gunzip)"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "ZIP archive"},
		{"sqlite", []byte("SQLite format 3\x00\x10\x00"), "SQLite database"},
	} {
		for _, format := range []string{"vics", "md5sum", "nsrl"} {
			_, err := Parse(bytes.NewReader(c.body), format, func(Entry) error { return nil })
			if !errors.Is(err, ErrNotAList) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("%s as %s: %v, want %q", c.name, format, err, c.says)
			}
		}
	}
	n := 0
	st, err := Parse(strings.NewReader("d41d8cd98f00b204e9800998ecf8427e  empty\n"), "md5sum", func(Entry) error { n++; return nil })
	if err != nil || n != 1 || st.Imported != 1 {
		t.Fatalf("a hash list: %d entries, %+v, %v", n, st, err)
	}
	// A list shorter than the sniffed length is read whole.
	if _, err := Parse(strings.NewReader("x"), "md5sum", func(Entry) error { return nil }); !errors.Is(err, ErrNoEntries) {
		t.Fatalf("a one-byte file: %v", err)
	}
}
