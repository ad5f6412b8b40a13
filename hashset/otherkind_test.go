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

// A hash list given in another format than its own is said to be in the
// format it is, before any line of it is read as the wrong one; a list
// in its own format is not.
func TestAListInAnotherFormatIsSaidSo(t *testing.T) {
	vics := `{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media","value":[{"MediaID":1,"MD5":"d41d8cd98f00b204e9800998ecf8427e","Category":1}]}`
	sums := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty\n"
	icse := "MD5,SHA1,Category\nd41d8cd98f00b204e9800998ecf8427e,,1\n"
	for _, c := range []struct {
		body, format, says string
	}{
		{vics, "icse", "it is JSON"},
		{vics, "md5sum", "it is JSON"},
		{"\ufeff  " + vics, "nsrl", "it is JSON"},
		{"[" + vics + "]", "sha256sum", "it is JSON"},
		{sums, "vics", "a list of sums"},
		{icse, "caid", "comma-separated"},
		{"hello\n", "vics", "not JSON"},
	} {
		_, err := Parse(strings.NewReader(c.body), c.format, func(Entry) error { return nil })
		if !errors.Is(err, ErrOtherFormat) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%.20q as %s: %v, want %q", c.body, c.format, err, c.says)
		}
	}
	for _, c := range []struct{ body, format string }{{vics, "vics"}, {sums, "sha256sum"}, {"\n\n" + sums, "sha256sum"}} {
		if _, err := Parse(strings.NewReader(c.body), c.format, func(Entry) error { return nil }); err != nil {
			t.Errorf("%.20q as %s: %v", c.body, c.format, err)
		}
	}
}

// An ICSE export that begins with blank lines has its delimiter told by
// its header, the first line that is not blank (csv.Reader skips the
// blank ones), not by the first blank line.
func TestACSVHeaderAfterBlankLines(t *testing.T) {
	body := "\r\n\n" + "MD5;SHA1;Image ID;Baseline\nd41d8cd98f00b204e9800998ecf8427e;;77;Yes\n"
	n := 0
	st, err := Parse(strings.NewReader(body), "icse", func(Entry) error { n++; return nil })
	if err != nil || n != 1 || st.Imported != 1 {
		t.Fatalf("an ICSE export after blank lines: %d entries, %+v, %v", n, st, err)
	}
}
