// Package pdf writes PDF 1.7 documents of pages of positioned glyphs and
// rules: exactly what a report laid out elsewhere needs, and nothing else.
//
// Text is drawn by glyph ID, as a text shaper produced it, in Type0 fonts
// (Identity-H) whose CIDFontType2 descendants embed a subset of a
// TrueType font (FontFile2). Each glyph that stands for its characters
// alone gets a ToUnicode entry; where glyphs and characters are not one
// to one (a Khmer syllable, a ligature, or a glyph already mapped to
// other characters), the glyphs are wrapped in a marked-content span
// whose ActualText is the characters, so that text extraction gives
// the text that was meant.
//
// Output is deterministic: the same calls give the same bytes. The
// document ID is a hash of the content, and the only date is the one the
// caller gives.
//
// Coordinates are PDF user space: points (1/72 inch), origin at the
// bottom left of the page, y upwards.
package pdf

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
)

// Info is the document information dictionary.
type Info struct {
	Title, Subject, Creator, Producer string
	// Created is written as both CreationDate and ModDate, in UTC; zero
	// writes neither.
	Created time.Time
	// Lang is the document's natural language (BCP 47, "en").
	Lang string
}

// Mark is the box of one thing drawn, in user space: a glyph's outline
// box, or a rule's or rectangle's extent. It is what Document.Trace is
// called with.
type Mark struct {
	// Page is the page's index, from 0.
	Page int
	// X0, Y0, X1, Y1 are the box's corners, X0 <= X1, Y0 <= Y1.
	X0, Y0, X1, Y1 float64
	// Glyph is true for a glyph, false for a rule or rectangle.
	Glyph bool
}

// Document is a PDF being made. Its methods are not safe for concurrent
// use.
type Document struct {
	info  Info
	fonts []*Font
	pages []*Page
	// Trace, if set, is called with the box of everything drawn, as it
	// is drawn: for tests that check that nothing leaves the page.
	Trace func(Mark)
}

// New returns an empty document.
func New(info Info) *Document { return &Document{info: info} }

// AddFont parses a TrueType font file (glyf outlines, not a collection)
// for use in the document. Only the glyphs drawn are embedded.
func (d *Document) AddFont(data []byte) (*Font, error) {
	tt, err := parseTrueType(data)
	if err != nil {
		return nil, err
	}
	f := &Font{tt: tt, res: "F" + strconv.Itoa(len(d.fonts)+1), used: map[uint16]bool{}, toUnicode: map[uint16]string{}, anchor: -1}
	for g := 1; g < tt.numGlyphs; g++ {
		if tt.advances[g] == 0 && len(tt.glyph(g)) == 0 {
			f.anchor = g
			break
		}
	}
	d.fonts = append(d.fonts, f)
	return f, nil
}

// AddPage adds a page of the given size, in points (A4 is 595.28 ×
// 841.89).
func (d *Document) AddPage(width, height float64) *Page {
	p := &Page{doc: d, index: len(d.pages), w: width, h: height}
	d.pages = append(d.pages, p)
	return p
}

// Write writes the document. It fails only if w does, or if the document
// has no page.
func (d *Document) Write(w io.Writer) error {
	if len(d.pages) == 0 {
		return fmt.Errorf("pdf: a document needs a page")
	}
	var used []*Font
	for _, f := range d.fonts {
		if len(f.used) > 0 {
			used = append(used, f)
		}
	}

	// Object numbers: catalog, page tree, info, resources, then each
	// page and its content, then each font's five objects.
	const catalog, pages, info, resources = 1, 2, 3, 4
	next := 5
	pageObj := make([]int, len(d.pages))
	for i := range d.pages {
		pageObj[i] = next
		next += 2
	}
	fontObj := make([]int, len(used))
	for i := range used {
		fontObj[i] = next
		next += 5
	}

	ob := &objWriter{}
	ob.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

	cat := "<< /Type /Catalog /Pages 2 0 R /ViewerPreferences << /DisplayDocTitle true >>"
	if d.info.Lang != "" {
		cat += " /Lang " + textString(d.info.Lang)
	}
	ob.object(catalog, cat+" >>")

	kids := new(bytes.Buffer)
	for i := range d.pages {
		fmt.Fprintf(kids, "%d 0 R ", pageObj[i])
	}
	ob.object(pages, fmt.Sprintf("<< /Type /Pages /Kids [ %s] /Count %d >>", kids, len(d.pages)))

	inf := new(bytes.Buffer)
	inf.WriteString("<<")
	for _, kv := range [][2]string{{"Title", d.info.Title}, {"Subject", d.info.Subject}, {"Creator", d.info.Creator}, {"Producer", d.info.Producer}} {
		if kv[1] != "" {
			fmt.Fprintf(inf, " /%s %s", kv[0], textString(kv[1]))
		}
	}
	if !d.info.Created.IsZero() {
		date := "(D:" + d.info.Created.UTC().Format("20060102150405") + "Z)"
		fmt.Fprintf(inf, " /CreationDate %s /ModDate %s", date, date)
	}
	inf.WriteString(" >>")
	ob.object(info, inf.String())

	res := new(bytes.Buffer)
	res.WriteString("<< /ProcSet [/PDF /Text] /Font <<")
	for i, f := range used {
		fmt.Fprintf(res, " /%s %d 0 R", f.res, fontObj[i])
	}
	res.WriteString(" >> >>")
	ob.object(resources, res.String())

	for i, p := range d.pages {
		ob.object(pageObj[i], fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources 4 0 R /Contents %d 0 R >>",
			num(p.w), num(p.h), pageObj[i]+1))
		ob.stream(pageObj[i]+1, "", p.content.Bytes())
	}
	for i, f := range used {
		f.write(ob, fontObj[i])
	}

	// Cross-reference table and trailer; the ID is a hash of all that
	// precedes it, so the same document always has the same ID.
	xref := ob.buf.Len()
	fmt.Fprintf(&ob.buf, "xref\n0 %d\n0000000000 65535 f\r\n", next)
	for n := 1; n < next; n++ {
		fmt.Fprintf(&ob.buf, "%010d 00000 n\r\n", ob.offsets[n])
	}
	sum := sha256.Sum256(ob.buf.Bytes())
	id := fmt.Sprintf("<%x>", sum[:16])
	fmt.Fprintf(&ob.buf, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n",
		next, catalog, info, id, id, xref)

	bw := bufio.NewWriter(w)
	if _, err := bw.Write(ob.buf.Bytes()); err != nil {
		return err
	}
	return bw.Flush()
}

// objWriter writes numbered objects and remembers where each starts.
type objWriter struct {
	buf     bytes.Buffer
	offsets map[int]int
}

func (o *objWriter) object(n int, body string) {
	o.begin(n)
	o.buf.WriteString(body)
	o.buf.WriteString("\nendobj\n")
}

func (o *objWriter) begin(n int) {
	if o.offsets == nil {
		o.offsets = map[int]int{}
	}
	o.offsets[n] = o.buf.Len()
	fmt.Fprintf(&o.buf, "%d 0 obj\n", n)
}

// stream writes a Flate-compressed stream; extra is more dictionary
// entries.
func (o *objWriter) stream(n int, extra string, data []byte) {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(data) // writes to a bytes.Buffer do not fail
	zw.Close()
	o.begin(n)
	fmt.Fprintf(&o.buf, "<< /Length %d /Filter /FlateDecode%s >>\nstream\n", z.Len(), extra)
	o.buf.Write(z.Bytes())
	o.buf.WriteString("\nendstream\nendobj\n")
}

// textString is s as a PDF text string: UTF-16BE with a byte order mark,
// in hex, so that no character needs escaping.
func textString(s string) string {
	return "<" + utf16Hex(s, true) + ">"
}

func utf16Hex(s string, bom bool) string {
	var b bytes.Buffer
	if bom {
		b.WriteString("FEFF")
	}
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// num formats a coordinate or size: at most three decimals, no
// exponent, no "-0".
func num(v float64) string {
	s := strconv.FormatFloat(round3(v), 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

func round3(v float64) float64 {
	r := float64(int64(v*1000+sign(v)*0.5)) / 1000
	if r == 0 {
		return 0
	}
	return r
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func sortedGlyphs(m map[uint16]bool) []uint16 {
	out := make([]uint16, 0, len(m))
	for g := range m {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
