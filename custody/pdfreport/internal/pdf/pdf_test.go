package pdf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-text/typesetting/font"
)

func readFont(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fonts", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSubsetKeepsTheGlyphsUsed: the subset is a well-formed TrueType
// font (checksums, directory) with the same glyph IDs, the outlines of
// the glyphs used and their components, and nothing else.
func TestSubsetKeepsTheGlyphsUsed(t *testing.T) {
	data := readFont(t, "NotoSans-Regular.ttf")
	tt, err := parseTrueType(data)
	if err != nil {
		t.Fatal(err)
	}
	// A composite glyph and a simple one.
	composite := -1
	for g := 1; g < tt.numGlyphs && composite < 0; g++ {
		if len(tt.components(g)) > 0 {
			composite = g
		}
	}
	if composite < 0 {
		t.Fatal("no composite glyph in the font")
	}
	simple := 36 // 'A' in Noto Sans
	used := map[uint16]bool{uint16(composite): true, uint16(simple): true}
	sub := tt.subset(used)

	if got := checksum(sub); got != 0xB1B0AFBA {
		t.Errorf("whole-font checksum %#x, want 0xB1B0AFBA", got)
	}
	n := int(binary.BigEndian.Uint16(sub[4:]))
	for i := range n {
		rec := sub[12+16*i:]
		tag := string(rec[:4])
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		tab := append([]byte(nil), sub[off:off+length]...)
		if tag == "head" {
			binary.BigEndian.PutUint32(tab[8:], 0)
		}
		if checksum(tab) != binary.BigEndian.Uint32(rec[4:]) {
			t.Errorf("table %q: bad checksum", tag)
		}
	}

	st, err := parseTrueType(sub)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	if st.numGlyphs != tt.numGlyphs || st.postScriptName != tt.postScriptName || st.unitsPerEm != tt.unitsPerEm {
		t.Fatalf("subset: %d glyphs %q %d", st.numGlyphs, st.postScriptName, st.unitsPerEm)
	}
	keep := map[int]bool{0: true, simple: true, composite: true}
	for _, c := range tt.components(composite) {
		keep[c] = true
	}
	for g := range tt.numGlyphs {
		if keep[g] {
			if !bytes.Equal(st.glyph(g), tt.glyph(g)) {
				t.Errorf("glyph %d changed", g)
			}
		} else if len(st.glyph(g)) != 0 {
			t.Errorf("glyph %d kept", g)
		}
	}
	if _, err := font.ParseTTF(bytes.NewReader(sub)); err != nil {
		t.Errorf("go-text cannot read the subset: %v", err)
	}
	if len(sub) > len(data)/4 {
		t.Errorf("subset of 3 glyphs is %d bytes, font %d", len(sub), len(data))
	}
}

// testDoc is two pages of text in Noto Sans: plain glyphs, a glyph
// claimed for two texts, and an offset mark.
func testDoc(t *testing.T) (*Document, []Mark) {
	t.Helper()
	d := New(Info{Title: "Тест ✓", Created: time.Date(2026, 11, 30, 21, 50, 3, 0, time.UTC), Lang: "en"})
	var marks []Mark
	d.Trace = func(m Mark) { marks = append(marks, m) }
	f, err := d.AddFont(readFont(t, "NotoSans-Regular.ttf"))
	if err != nil {
		t.Fatal(err)
	}
	face, err := font.ParseTTF(bytes.NewReader(readFont(t, "NotoSans-Regular.ttf")))
	if err != nil {
		t.Fatal(err)
	}
	id := func(r rune) uint16 {
		g, ok := face.NominalGlyph(r)
		if !ok {
			t.Fatalf("no glyph for %q", r)
		}
		return uint16(g)
	}
	g := func(r rune) Glyph { return Glyph{ID: id(r), Advance: f.Width(id(r))} }
	p := d.AddPage(595.28, 841.89)
	p.ShowText(f, 12, 0, 72, 700, []Cluster{{[]Glyph{g('A')}, "A"}, {[]Glyph{g('B')}, "B"}, {[]Glyph{g(' ')}, " "}, {[]Glyph{g('A')}, "Z"}})
	p.Line(72, 690, 300, 690, 0.5, 0)
	p2 := d.AddPage(595.28, 841.89)
	mark := Glyph{ID: id('B'), XOffset: -200, YOffset: 300}
	p2.ShowText(f, 10, 0.5, 72, 700, []Cluster{{[]Glyph{g('A'), mark}, "AB\u0301"}, {[]Glyph{g('A')}, "A"}})
	p2.FillRect(72, 100, 100, 20, 0.9)
	return d, marks
}

// TestDocumentStructure: the cross-reference table points at every
// object, stream lengths are right, streams inflate, the trailer has an
// ID, and the same document is the same bytes.
func TestDocumentStructure(t *testing.T) {
	d, _ := testDoc(t)
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.Bytes()
	if !bytes.HasPrefix(doc, []byte("%PDF-1.7\n")) || !bytes.HasSuffix(doc, []byte("%%EOF\n")) {
		t.Fatal("no PDF 1.7 header or EOF")
	}
	sx := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(doc)
	if sx == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(sx[1]))
	if !bytes.HasPrefix(doc[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	var count int
	rest := doc[xref+len("xref\n0 "):]
	nl := bytes.IndexByte(rest, '\n')
	count, _ = strconv.Atoi(string(rest[:nl]))
	entries := rest[nl+1:]
	for n := 1; n < count; n++ {
		e := entries[20*n : 20*n+20]
		off, _ := strconv.Atoi(string(e[:10]))
		if want := strconv.Itoa(n) + " 0 obj\n"; !bytes.HasPrefix(doc[off:], []byte(want)) {
			t.Errorf("object %d: xref offset %d points at %.12q", n, off, doc[off:])
		}
	}
	streams := regexp.MustCompile(`(?s)/Length (\d+) /Filter /FlateDecode[^>]*>>\nstream\n`).FindAllSubmatchIndex(doc, -1)
	if len(streams) != 2+2 {
		t.Fatalf("%d streams, want 2 pages and a font file and its CMap", len(streams))
	}
	for _, m := range streams {
		n, _ := strconv.Atoi(string(doc[m[2]:m[3]]))
		body := doc[m[1] : m[1]+n]
		if !bytes.HasPrefix(doc[m[1]+n:], []byte("\nendstream")) {
			t.Error("a stream's /Length is wrong")
		}
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(zr); err != nil {
			t.Errorf("a stream does not inflate: %v", err)
		}
	}
	if !regexp.MustCompile(`/ID \[<[0-9a-f]{32}> <[0-9a-f]{32}>\]`).Match(doc) {
		t.Error("no document ID")
	}
	if !bytes.Contains(doc, []byte("/CreationDate (D:20261130215003Z)")) {
		t.Error("no creation date")
	}
	d2, _ := testDoc(t)
	var b2 bytes.Buffer
	if err := d2.Write(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, b2.Bytes()) {
		t.Error("the same document twice gives different bytes")
	}
}

// TestTextExtraction: pdftotext reads plain glyphs through ToUnicode,
// and a glyph already mapped to other text, or offset marks, through
// ActualText, without spaces that are not there.
func TestTextExtraction(t *testing.T) {
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed (Debian poppler-utils)")
	}
	d, marks := testDoc(t)
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "t.pdf")
	if err := os.WriteFile(in, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-enc", "UTF-8", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	pages := strings.Split(string(out), "\f")
	if got := strings.TrimSpace(pages[0]); got != "AB Z" {
		t.Errorf("page 1: %q, want %q", got, "AB Z")
	}
	if got := strings.TrimSpace(pages[1]); got != "AB\u0301A" {
		t.Errorf("page 2: %q, want %q", got, "AB\u0301A")
	}
	// Traced: 4 glyphs with outlines + a rule on page 1; 3 glyphs (and
	// any anchors, which have no outline) + a fill on page 2.
	var glyphs, others int
	for _, m := range marks {
		if m.Glyph {
			glyphs++
		} else {
			others++
		}
		if m.X0 > m.X1 || m.Y0 > m.Y1 {
			t.Errorf("mark %+v is inside out", m)
		}
	}
	if glyphs != 6 || others != 2 {
		t.Errorf("traced %d glyphs and %d others, want 6 and 2", glyphs, others)
	}
}

func TestWriteNeedsAPage(t *testing.T) {
	var b bytes.Buffer
	if err := New(Info{}).Write(&b); err == nil || b.Len() > 0 {
		t.Fatalf("Write of no page: %v, %d bytes", err, b.Len())
	}
}

func TestAddFontRefusesWhatIsNotTrueType(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("OTTO\x00\x01"), bytes.Repeat([]byte{0}, 64), []byte("\x00\x01\x00\x00\x00\x09")} {
		if _, err := New(Info{}).AddFont(b); err == nil {
			t.Errorf("AddFont(%q) accepted", b)
		}
	}
}
