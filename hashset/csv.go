package hashset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// newlineCounter counts the lines of what is read through it.
type newlineCounter struct {
	r    io.Reader
	n    int
	last byte
}

func (c *newlineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += bytes.Count(p[:n], []byte("\n"))
		c.last = p[n-1]
	}
	return n, err
}

func (c *newlineCounter) lines() int {
	if c.last != 0 && c.last != '\n' {
		return c.n + 1
	}
	return c.n
}

// csvTable reads a delimited file whose first row names its columns.
// Column names are compared after lower-casing and removing spaces,
// hyphens and underscores, so "Victim identified", "VictimIdentified" and
// "victim_identified" are one column, in any order.
type csvTable struct {
	cr    *csv.Reader
	nc    *newlineCounter
	cols  map[string]int
	width int // fields in the header
}

func normColumn(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "", "-", "", "_", "").Replace(s)
}

// openCSV reads the header row. With sniff, the delimiter is whichever of
// ";", "," and tab occurs most in the header line; otherwise ",".
func openCSV(r io.Reader, sniff bool) (*csvTable, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	comma := ','
	if sniff {
		head, _ := br.Peek(64 << 10)
		// The header is the first line that is not blank (csv.Reader
		// skips empty lines).
		head = bytes.TrimLeft(head, "\r\n")
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i]
		}
		best := 0
		for _, d := range []rune{';', ',', '\t'} {
			if n := bytes.Count(head, []byte(string(d))); n > best {
				best, comma = n, d
			}
		}
	}
	nc := &newlineCounter{r: br}
	cr := csv.NewReader(nc)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header row: %w", err)
	}
	t := &csvTable{cr: cr, nc: nc, cols: map[string]int{}, width: len(header)}
	for i, h := range header {
		if _, dup := t.cols[normColumn(h)]; !dup {
			t.cols[normColumn(h)] = i
		}
	}
	return t, nil
}

// col returns the index of the first of the named columns present, or -1.
func (t *csvTable) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.cols[n]; ok {
			return i
		}
	}
	return -1
}

// rows calls row for each data row with its line; a row that cannot be
// read as CSV is rejected.
func (t *csvTable) rows(st *ParseStats, name string, row func(rec []string, line int) error) error {
	defer func() { st.Lines = t.nc.lines() }()
	for {
		rec, err := t.cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			st.reject(pe.StartLine, "%v", pe.Err)
		} else if err != nil {
			return err
		} else {
			line, _ := t.cr.FieldPos(0)
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue
			}
			if err := row(rec, line); err != nil {
				return err
			}
		}
		if err := notFormat(st, name); err != nil {
			return err
		}
	}
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// hexField decodes an optional hex column.
func hexField(rec []string, i, n int, name string) ([]byte, string) {
	s := field(rec, i)
	if s == "" {
		return nil, ""
	}
	b, err := decodeHex(s, n)
	if err != nil {
		return nil, fmt.Sprintf("%s: %v", name, err)
	}
	return b, ""
}

// parseNSRL reads NIST NSRL RDS text ("NSRLFile.txt" of the RDS 2.x
// "legacy" text release): quoted CSV with the header
// "SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode".
// SHA-1, MD5, FileName and FileSize are kept.
func parseNSRL(r io.Reader, fn func(Entry) error, st *ParseStats) error {
	t, err := openCSV(r, false)
	if err != nil {
		return fmt.Errorf("not an NSRL RDS file: %w", err)
	}
	sha1c, md5c := t.col("sha1"), t.col("md5")
	namec, sizec := t.col("filename"), t.col("filesize")
	if sha1c < 0 || md5c < 0 {
		return errors.New(`not an NSRL RDS file: the header has no "SHA-1" and "MD5" columns`)
	}
	return t.rows(st, "NSRL RDS", func(rec []string, line int) error {
		if len(rec) != t.width {
			st.reject(line, "%d fields, the header has %d", len(rec), t.width)
			return nil
		}
		e := Entry{Size: -1, FileName: field(rec, namec)}
		var reason string
		if e.SHA1, reason = hexField(rec, sha1c, 20, "SHA-1"); reason == "" {
			e.MD5, reason = hexField(rec, md5c, 16, "MD5")
		}
		if reason == "" && e.SHA1 == nil && e.MD5 == nil {
			reason = "no SHA-1 or MD5"
		}
		if reason == "" {
			e.Size, reason = sizeField(rec, sizec, "FileSize")
		}
		if reason != "" {
			st.reject(line, "%s", reason)
			return nil
		}
		return st.accept(line, e, fn)
	})
}

// parseICSE reads an INTERPOL ICSE hash export. No public specification
// exists; the columns are those IPED's HashDBTool (github.com/sepinf-inc/IPED)
// reads from ICSE exports: MD5, SHA1, PhotoDNA, Image ID, Is distributed,
// Victim identified, Offender identified, Series name, Number of
// submissions, File Available, Media Type, Baseline, separated by ";".
// The delimiter is sniffed from the header; SHA256, Category, File name
// and File size columns are read if present. Without a Category column, a
// row whose Baseline is yes gets the category "baseline" (INTERPOL's
// baseline: illegal in every country); a row whose Baseline is no gets
// none.
func parseICSE(r io.Reader, fn func(Entry) error, st *ParseStats) error {
	t, err := openCSV(r, true)
	if err != nil {
		return fmt.Errorf("not an ICSE export: %w", err)
	}
	md5c, sha1c, sha256c := t.col("md5"), t.col("sha1"), t.col("sha256")
	if md5c < 0 && sha1c < 0 && sha256c < 0 {
		return errors.New(`not an ICSE export: the header has no "MD5", "SHA1" or "SHA256" column`)
	}
	pdnac := t.col("photodna")
	idc := t.col("imageid", "id")
	seriesc := t.col("seriesname", "series")
	victimc := t.col("victimidentified")
	catc := t.col("category")
	baselinec := t.col("baseline")
	namec := t.col("filename", "name")
	sizec := t.col("filesize", "size")
	return t.rows(st, "ICSE", func(rec []string, line int) error {
		e := Entry{Size: -1, PhotoDNA: field(rec, pdnac), ID: field(rec, idc),
			Series: field(rec, seriesc), Category: field(rec, catc), FileName: field(rec, namec)}
		var reason string
		if e.MD5, reason = hexField(rec, md5c, 16, "MD5"); reason == "" {
			if e.SHA1, reason = hexField(rec, sha1c, 20, "SHA1"); reason == "" {
				e.SHA256, reason = hexField(rec, sha256c, 32, "SHA256")
			}
		}
		if reason == "" && e.MD5 == nil && e.SHA1 == nil && e.SHA256 == nil {
			reason = "no MD5, SHA1 or SHA256"
		}
		if s := field(rec, baselinec); reason == "" && catc < 0 && s != "" {
			v, ok := parseFlag(s)
			if !ok {
				reason = fmt.Sprintf("Baseline is %q, not yes or no", s)
			} else if v {
				e.Category = "baseline"
			}
		}
		if s := field(rec, victimc); reason == "" && s != "" {
			v, ok := parseFlag(s)
			if !ok {
				reason = fmt.Sprintf("Victim identified is %q, not yes or no", s)
			}
			e.VictimIdentified = &v
		}
		if reason == "" {
			e.Size, reason = sizeField(rec, sizec, "size")
		}
		if reason != "" {
			st.reject(line, "%s", reason)
			return nil
		}
		return st.accept(line, e, fn)
	})
}

// sizeField reads column col as a size in bytes: -1 when the column or
// the field is absent, or a reason naming it when it is not a size.
func sizeField(rec []string, col int, name string) (int64, string) {
	s := field(rec, col)
	if s == "" {
		return -1, ""
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1, fmt.Sprintf("%s %q is not a size in bytes", name, s)
	}
	return n, ""
}
