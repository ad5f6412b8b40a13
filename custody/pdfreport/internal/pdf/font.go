package pdf

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
)

// Font is a TrueType font added to a document. Glyphs drawn with it are
// embedded; the rest are not.
type Font struct {
	tt   *trueType
	res  string // resource name, "F1"
	used map[uint16]bool
	// toUnicode maps each glyph to the characters it stands for, as the
	// first glyph drawn alone for its characters said.
	toUnicode map[uint16]string
	// anchor is a glyph that draws nothing and does not advance, or -1.
	anchor int
}

// Width is glyph g's advance as the PDF's W array gives it, in
// thousandths of the font size (rounded to 1/1000).
func (f *Font) Width(g uint16) float64 {
	if int(g) >= len(f.tt.advances) {
		return 0
	}
	return round3(float64(f.tt.advances[g]) * 1000 / float64(f.tt.unitsPerEm))
}

// scale converts font units to thousandths of the font size.
func (f *Font) scale(v int) float64 { return round3(float64(v) * 1000 / float64(f.tt.unitsPerEm)) }

// claim records that glyph g stands for text alone, and reports whether
// the ToUnicode map says so: true if g had no entry (it gets text) or
// had this one.
func (f *Font) claim(g uint16, text string) bool {
	if text == "" {
		return false
	}
	if have, ok := f.toUnicode[g]; ok {
		return have == text
	}
	f.toUnicode[g] = text
	return true
}

// tag is the six capital letters that name a subset, from the font and
// the glyphs it holds, so that the same subset has the same name.
func (f *Font) tag() string {
	h := sha256.New()
	h.Write([]byte(f.tt.postScriptName))
	for _, g := range sortedGlyphs(f.used) {
		h.Write([]byte{byte(g >> 8), byte(g)})
	}
	sum := h.Sum(nil)
	b := make([]byte, 6)
	for i := range b {
		b[i] = 'A' + sum[i]%26
	}
	return string(b)
}

// write writes the font's five objects, numbered from n: the Type0 font,
// its CIDFontType2 descendant, the font descriptor, the embedded subset
// (FontFile2) and the ToUnicode CMap.
func (f *Font) write(o *objWriter, n int) {
	tt := f.tt
	name := f.tag() + "+" + pdfName(tt.postScriptName)
	o.object(n, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
		name, n+1, n+4))
	o.object(n+1, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 0 /W %s /CIDToGIDMap /Identity >>",
		name, n+2, f.widths()))
	flags := 4 // symbolic: glyphs are addressed by ID, not a standard encoding
	if tt.fixedPitch {
		flags |= 1
	}
	stemV := 80
	if tt.weightClass >= 600 {
		stemV = 140
	}
	o.object(n+2, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%s %s %s %s] /ItalicAngle %s /Ascent %s /Descent %s /CapHeight %s /StemV %d /FontFile2 %d 0 R >>",
		name, flags, num(f.scale(tt.bbox[0])), num(f.scale(tt.bbox[1])), num(f.scale(tt.bbox[2])), num(f.scale(tt.bbox[3])),
		num(tt.italicAngle), num(f.scale(tt.ascent)), num(f.scale(tt.descent)), num(f.scale(tt.capHeight)), stemV, n+3))
	sub := tt.subset(f.used)
	o.stream(n+3, " /Length1 "+strconv.Itoa(len(sub)), sub)
	o.stream(n+4, "", f.cmap(name))
}

// widths is the W array for the glyphs used, consecutive glyphs grouped.
func (f *Font) widths() string {
	var b bytes.Buffer
	b.WriteString("[")
	gs := sortedGlyphs(f.used)
	for i := 0; i < len(gs); {
		j := i + 1
		for j < len(gs) && gs[j] == gs[j-1]+1 {
			j++
		}
		fmt.Fprintf(&b, " %d [", gs[i])
		for k := i; k < j; k++ {
			if k > i {
				b.WriteByte(' ')
			}
			b.WriteString(num(f.Width(gs[k])))
		}
		b.WriteString("]")
		i = j
	}
	b.WriteString(" ]")
	return b.String()
}

// cmap is the ToUnicode CMap: each used glyph that stands for its
// characters alone, to those characters (UTF-16BE).
func (f *Font) cmap(name string) []byte {
	var entries []string
	for _, g := range sortedGlyphs(f.used) {
		if s, ok := f.toUnicode[g]; ok {
			entries = append(entries, fmt.Sprintf("<%04X> <%s>", g, utf16Hex(s, false)))
		}
	}
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n")
	b.WriteString("/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n")
	fmt.Fprintf(&b, "/CMapName /%s-UTF16 def\n/CMapType 2 def\n", name)
	b.WriteString("1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(entries) > 0 {
		k := min(len(entries), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", k)
		for _, e := range entries[:k] {
			b.WriteString(e)
			b.WriteByte('\n')
		}
		b.WriteString("endbfchar\n")
		entries = entries[k:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// pdfName keeps the characters a PDF name may hold unescaped, writing
// others as #XX.
func pdfName(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte("/%()<>[]{}#"), c) >= 0 {
			fmt.Fprintf(&b, "#%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
