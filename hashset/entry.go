package hashset

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/custos-vault/custos/internal/printable"
)

// Entry is one record of a hash set. Absent values are nil or empty; a
// record carries at least one of MD5, SHA1 and SHA256.
type Entry struct {
	MD5    []byte // 16 bytes
	SHA1   []byte // 20 bytes
	SHA256 []byte // 32 bytes
	// PDQ is a 256-bit PDQ perceptual hash (32 bytes), from a VICS
	// AlternativeHashes item named "PDQ".
	PDQ []byte
	// PhotoDNA is kept as the text the source gives (base64 or hex); it
	// is opaque to Custos.
	PhotoDNA string
	// Category is the source's category as text: a VICS category number
	// ("0" to "4" in Project VIC sets), or empty.
	Category string
	Series   string
	// VictimIdentified is nil when the source does not say.
	VictimIdentified *bool
	FileName         string
	// Size is the file size in bytes, or -1 when the source does not say.
	Size int64
	// ID is the record's identifier in its source (VICS MediaID, ICSE
	// Image ID), or empty.
	ID string
}

// Problem is a record that was skipped.
type Problem struct {
	// Line is the 1-based line of the record (for JSON, the line where
	// the record's object starts).
	Line   int
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// MaxProblems bounds ParseStats.Problems; Rejected counts them all.
const MaxProblems = 100

// ParseStats counts what a parse read.
type ParseStats struct {
	Lines    int // lines read (for JSON: lines of the whole document)
	Imported int // entries handed to the callback
	Rejected int // records skipped as malformed
	Problems []Problem
	// CaseMediaWithoutCategory counts the media of VICS cases (the
	// #Cases layout: a case's hash list, as a vault or a review tool
	// exports it, not a curated #Media set) that carry no Category: items
	// nobody classified, or found not illegal, which an import's default
	// category would make known material.
	CaseMediaWithoutCategory int
}

// maxField bounds each text member of an entry (identifier, category,
// series, file name, PhotoDNA), in bytes.
const maxField = 4096

// accept checks what every format's entry must be (text members of at
// most maxField bytes, so that every entry record stays far below what a
// reader accepts; the members people are shown, its identifier,
// category, series and PhotoDNA, valid UTF-8 without a control, format
// or other hidden character, printable.Hidden, which could move, hide or
// forge what a terminal or a page shows beside them; a series may hold
// the zero-width space, non-joiner and joiner its script needs between
// two letters, printable.Needed) and hands
// it to fn,
// or rejects it at line. The file name, which no one is shown, is kept as
// the set gives it: names from seized devices hold anything.
func (s *ParseStats) accept(line int, e Entry, fn func(Entry) error) error {
	for _, f := range []struct {
		name, v string
		shown   bool
	}{{"identifier", e.ID, true}, {"category", e.Category, true}, {"series", e.Series, true}, {"file name", e.FileName, false}, {"PhotoDNA", e.PhotoDNA, true}} {
		if len(f.v) > maxField {
			s.reject(line, "%s of %d bytes: the limit is %d", f.name, len(f.v), maxField)
			return nil
		}
		if !f.shown {
			continue
		}
		if !utf8.ValidString(f.v) {
			s.reject(line, "%s is not valid UTF-8", f.name)
			return nil
		}
		for i, r := range f.v {
			// A series is a name in people's own script: the zero-width
			// space, non-joiner and joiner that Khmer, Thai or Indic text
			// needs between two letters are kept (printable.Needed; a
			// terminal is shown them escaped); every other hidden
			// character, the direction overrides first, is refused.
			if printable.Hidden(r) && !(f.name == "series" && printable.Joiner(r) && printable.Needed(f.v, i)) {
				s.reject(line, "%s holds a control or invisible character (U+%04X), which could change what is shown beside it", f.name, r)
				return nil
			}
		}
	}
	s.Imported++
	return fn(e)
}

func (s *ParseStats) reject(line int, format string, args ...any) {
	s.Rejected++
	if len(s.Problems) < MaxProblems {
		s.Problems = append(s.Problems, Problem{line, fmt.Sprintf(format, args...)})
	}
}

// Formats are the names Parse accepts.
var Formats = []string{"vics", "caid", "icse", "nsrl", "md5sum", "sha1sum", "sha256sum"}

// ErrNoEntries is returned when a source holds no valid entry.
var ErrNoEntries = errors.New("no valid entry in the source")

// ErrNotAList is a source that is a file of another kind, recognised by
// its first bytes (otherKind): an image, a video, a PDF, an archive, a
// database.
var ErrNotAList = errors.New("the file is not a hash list")

// sniffLen is how much of a source otherKind and otherFormat read: a
// first line of a sums file (a 64-digit hash, two spaces, a name) fits.
const sniffLen = 512

// otherKind says what a file beginning with head is, where its first
// bytes are a signature no hash list begins with (the common file
// signatures: PNG, JPEG, GIF, WebP, MP4, PDF, ZIP, gzip, bzip2, xz, 7-Zip,
// SQLite, as their specifications define their magic numbers), and what
// to do; "" otherwise.
func otherKind(head []byte) string {
	h := string(head)
	has := func(p string) bool { return strings.HasPrefix(h, p) }
	switch {
	case has("\x89PNG\r\n\x1a\n"), has("\xff\xd8\xff"), has("GIF87a"), has("GIF89a"),
		len(h) >= 12 && has("RIFF") && h[8:12] == "WEBP":
		return "it is an image: give the hash set's file, and check --format"
	case len(h) >= 8 && h[4:8] == "ftyp":
		return "it is a video: give the hash set's file, and check --format"
	case has("%PDF-"):
		return "it is a PDF document: give the hash set's file itself"
	case has("PK\x03\x04"):
		return "it is a ZIP archive: unpack it and give the hash set's file from it"
	case has("\x1f\x8b"):
		return "it is compressed with gzip: decompress it first (gunzip) and give the file that comes out"
	case has("BZh"):
		return "it is compressed with bzip2: decompress it first (bunzip2)"
	case has("\xfd7zXZ\x00"):
		return "it is compressed with xz: decompress it first (unxz)"
	case has("7z\xbc\xaf\x27\x1c"):
		return "it is a 7-Zip archive: unpack it and give the hash set's file from it"
	case has("SQLite format 3\x00"):
		return "it is a SQLite database (NSRL RDS version 3 is one): export its hashes as text first"
	}
	return ""
}

// ErrOtherFormat is a hash list in another format than the one given,
// told by its first bytes: JSON (VICS, CAID) given as a text format, or
// text given as JSON.
var ErrOtherFormat = errors.New("the file is not in the format given")

// otherFormat says which kind of hash list head (a source's first bytes)
// begins, if it is not the kind format names; "" if it may be.
func otherFormat(head []byte, format string) string {
	h := strings.TrimLeft(strings.TrimPrefix(string(head), "\ufeff"), " \t\r\n")
	if h == "" {
		return ""
	}
	isJSON := h[0] == '{' || h[0] == '['
	switch format {
	case "vics", "caid":
		if isJSON {
			return ""
		}
		first, _, _ := strings.Cut(h, "\n")
		word, _, _ := strings.Cut(first, " ")
		if _, err := hex.DecodeString(word); err == nil && (len(word) == 32 || len(word) == 40 || len(word) == 64) {
			return "it is a list of sums, one hash and a name a line (the md5sum, sha1sum or sha256sum format), not JSON"
		}
		if strings.Contains(first, ",") {
			return "it is comma-separated text, as ICSE CSV and NSRL RDS files are, not JSON"
		}
		return "it is not JSON, as VICS and CAID exports are"
	case "icse", "nsrl", "md5sum", "sha1sum", "sha256sum":
		if isJSON {
			return "it is JSON, as VICS and CAID exports are: import it as vics (or caid, the VICS 1.2 layout)"
		}
	}
	return ""
}

// Parse reads a hash set in the named format from r and calls fn for each
// valid entry, in source order. The Entry and its slices are fn's to keep.
//
// Malformed records are skipped and counted in the stats. A fatal error
// aborts the parse: a source that is not in the format at all, broken
// JSON structure, a read error, an error returned by fn, or a source with
// no valid entry (ErrNoEntries). The stats are valid even with an error.
func Parse(r io.Reader, format string, fn func(Entry) error) (ParseStats, error) {
	var st ParseStats
	var err error
	// A file of another kind (an image, an archive) is said to be what
	// it is, not reported as a line or a JSON character the parser met.
	br := bufio.NewReader(r)
	head, _ := br.Peek(sniffLen)
	if kind := otherKind(head); kind != "" {
		return st, fmt.Errorf("%w: %s", ErrNotAList, kind)
	}
	if kind := otherFormat(head, format); kind != "" {
		return st, fmt.Errorf("%w (%s): %s", ErrOtherFormat, format, kind)
	}
	r = br
	switch format {
	case "vics":
		err = parseVICS(r, fn, &st, false)
	case "caid":
		err = parseVICS(r, fn, &st, true)
	case "icse":
		err = parseICSE(r, fn, &st)
	case "nsrl":
		err = parseNSRL(r, fn, &st)
	case "md5sum":
		err = parseSums(r, MD5, fn, &st)
	case "sha1sum":
		err = parseSums(r, SHA1, fn, &st)
	case "sha256sum":
		err = parseSums(r, SHA256, fn, &st)
	default:
		return st, fmt.Errorf("unknown hash set format %q (known: %s)", format, strings.Join(Formats, ", "))
	}
	if err == nil && st.Imported == 0 {
		err = ErrNoEntries
	}
	return st, err
}

// Algorithm names a hash algorithm of the tables.
type Algorithm string

const (
	MD5    Algorithm = "md5"
	SHA1   Algorithm = "sha1"
	SHA256 Algorithm = "sha256"
)

// Algorithms are the algorithms a set has tables for, in table order.
var Algorithms = []Algorithm{MD5, SHA1, SHA256}

// Size returns the digest size in bytes, or 0 for an unknown algorithm.
func (a Algorithm) Size() int {
	switch a {
	case MD5:
		return 16
	case SHA1:
		return 20
	case SHA256:
		return 32
	}
	return 0
}

func (e *Entry) digest(a Algorithm) []byte {
	switch a {
	case MD5:
		return e.MD5
	case SHA1:
		return e.SHA1
	case SHA256:
		return e.SHA256
	}
	return nil
}

// decodeHex decodes s, which must be exactly n bytes in hex (either case).
func decodeHex(s string, n int) ([]byte, error) {
	if len(s) != 2*n {
		return nil, fmt.Errorf("%d hex digits, want %d", len(s), 2*n)
	}
	b := make([]byte, n)
	if _, err := hex.Decode(b, []byte(s)); err != nil {
		return nil, errors.New("not hexadecimal")
	}
	return b, nil
}

// parseFlag reads the yes/no values the formats use: true/false, yes/no,
// y/n, 1/0, in any case. ok is false for anything else.
func parseFlag(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0":
		return false, true
	}
	return false, false
}
