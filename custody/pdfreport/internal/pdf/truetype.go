package pdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"unicode/utf16"
)

// trueType is the part of a TrueType (glyf-outline) font file that
// embedding needs: its tables, metrics and glyph outlines' boxes.
type trueType struct {
	data   []byte
	tables map[string][]byte

	postScriptName string
	unitsPerEm     int
	// bbox is the font's bounding box (xMin, yMin, xMax, yMax), in font units.
	bbox                       [4]int
	ascent, descent, capHeight int
	italicAngle                float64
	fixedPitch                 bool
	numGlyphs                  int
	longLoca                   bool
	advances                   []uint16 // per glyph, in font units
	loca                       []uint32 // numGlyphs+1 offsets into glyf
	glyf                       []byte
	weightClass                int
}

var errFont = errors.New("pdf: not a usable TrueType font")

// parseTrueType reads the tables of a TrueType font file (not a
// collection, not CFF-flavoured OpenType).
func parseTrueType(data []byte) (*trueType, error) {
	if len(data) < 12 {
		return nil, errFont
	}
	if v := binary.BigEndian.Uint32(data); v != 0x00010000 && v != 0x74727565 { // 1.0 or 'true'
		return nil, fmt.Errorf("%w: sfnt version %#x", errFont, v)
	}
	n := int(binary.BigEndian.Uint16(data[4:]))
	if len(data) < 12+16*n {
		return nil, errFont
	}
	t := &trueType{data: data, tables: map[string][]byte{}}
	for i := range n {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		off, length := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if uint64(off)+uint64(length) > uint64(len(data)) {
			return nil, fmt.Errorf("%w: table %q out of the file", errFont, tag)
		}
		t.tables[tag] = data[off : off+length]
	}
	for _, tag := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf"} {
		if t.tables[tag] == nil {
			return nil, fmt.Errorf("%w: no %q table", errFont, tag)
		}
	}
	head, hhea, maxp := t.tables["head"], t.tables["hhea"], t.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 {
		return nil, fmt.Errorf("%w: short head, hhea or maxp", errFont)
	}
	be := binary.BigEndian
	t.unitsPerEm = int(be.Uint16(head[18:]))
	if t.unitsPerEm == 0 {
		return nil, fmt.Errorf("%w: unitsPerEm is 0", errFont)
	}
	for i := range 4 {
		t.bbox[i] = int(int16(be.Uint16(head[36+2*i:])))
	}
	t.longLoca = be.Uint16(head[50:]) == 1
	t.ascent = int(int16(be.Uint16(hhea[4:])))
	t.descent = int(int16(be.Uint16(hhea[6:])))
	t.numGlyphs = int(be.Uint16(maxp[4:]))

	nh := int(be.Uint16(hhea[34:]))
	hmtx := t.tables["hmtx"]
	if nh == 0 || nh > t.numGlyphs || len(hmtx) < 4*nh {
		return nil, fmt.Errorf("%w: bad hmtx", errFont)
	}
	t.advances = make([]uint16, t.numGlyphs)
	for g := range t.numGlyphs {
		if g < nh {
			t.advances[g] = be.Uint16(hmtx[4*g:])
		} else {
			t.advances[g] = t.advances[nh-1]
		}
	}

	loca := t.tables["loca"]
	t.loca = make([]uint32, t.numGlyphs+1)
	for g := range t.numGlyphs + 1 {
		if t.longLoca {
			if len(loca) < 4*(g+1) {
				return nil, fmt.Errorf("%w: short loca", errFont)
			}
			t.loca[g] = be.Uint32(loca[4*g:])
		} else {
			if len(loca) < 2*(g+1) {
				return nil, fmt.Errorf("%w: short loca", errFont)
			}
			t.loca[g] = 2 * uint32(be.Uint16(loca[2*g:]))
		}
		if g > 0 && t.loca[g] < t.loca[g-1] || int(t.loca[g]) > len(t.tables["glyf"]) {
			return nil, fmt.Errorf("%w: bad loca", errFont)
		}
	}
	t.glyf = t.tables["glyf"]

	t.capHeight = t.ascent
	if os2 := t.tables["OS/2"]; len(os2) >= 6 {
		t.weightClass = int(be.Uint16(os2[4:]))
		if len(os2) >= 90 && be.Uint16(os2) >= 2 {
			t.capHeight = int(int16(be.Uint16(os2[88:])))
		}
	}
	if post := t.tables["post"]; len(post) >= 16 {
		t.italicAngle = float64(int32(be.Uint32(post[4:]))) / 65536
		t.fixedPitch = be.Uint32(post[12:]) != 0
	}
	t.postScriptName = nameRecord(t.tables["name"], 6)
	if t.postScriptName == "" {
		return nil, fmt.Errorf("%w: no PostScript name", errFont)
	}
	return t, nil
}

// nameRecord returns the name table's string with the given ID, from the
// Windows Unicode records, or else the Macintosh Roman ones.
func nameRecord(name []byte, id uint16) string {
	be := binary.BigEndian
	if len(name) < 6 {
		return ""
	}
	count, strOff := int(be.Uint16(name[2:])), int(be.Uint16(name[4:]))
	var mac string
	for i := range count {
		r := name[6+12*i:]
		if len(r) < 12 {
			break
		}
		platform, encoding := be.Uint16(r), be.Uint16(r[2:])
		if be.Uint16(r[6:]) != id {
			continue
		}
		l, o := int(be.Uint16(r[8:])), int(be.Uint16(r[10:]))
		if strOff+o+l > len(name) {
			continue
		}
		s := name[strOff+o : strOff+o+l]
		switch {
		case platform == 3 && (encoding == 1 || encoding == 0) && l%2 == 0:
			u := make([]uint16, l/2)
			for j := range u {
				u[j] = be.Uint16(s[2*j:])
			}
			return string(utf16.Decode(u))
		case platform == 1 && encoding == 0:
			mac = string(s)
		}
	}
	return mac
}

// glyph returns glyph g's glyf data ("" for an empty glyph).
func (t *trueType) glyph(g int) []byte {
	if g < 0 || g >= t.numGlyphs {
		return nil
	}
	return t.glyf[t.loca[g]:t.loca[g+1]]
}

// glyphBox returns glyph g's outline box (xMin, yMin, xMax, yMax) in font
// units; ok is false for a glyph with no outline (a space).
func (t *trueType) glyphBox(g int) (box [4]int, ok bool) {
	d := t.glyph(g)
	if len(d) < 10 {
		return box, false
	}
	for i := range 4 {
		box[i] = int(int16(binary.BigEndian.Uint16(d[2+2*i:])))
	}
	return box, true
}

// components returns the glyphs a composite glyph is made of.
func (t *trueType) components(g int) []int {
	d := t.glyph(g)
	if len(d) < 10 || int16(binary.BigEndian.Uint16(d)) >= 0 {
		return nil
	}
	const (
		argsAreWords   = 0x0001
		haveScale      = 0x0008
		moreComponents = 0x0020
		haveXYScale    = 0x0040
		have2x2        = 0x0080
	)
	var out []int
	p := 10
	for p+4 <= len(d) {
		flags := binary.BigEndian.Uint16(d[p:])
		out = append(out, int(binary.BigEndian.Uint16(d[p+2:])))
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&have2x2 != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			break
		}
	}
	return out
}

// subset returns a TrueType font file that keeps glyph IDs as they are but
// holds the outlines of only the given glyphs (with glyph 0 and the
// components of composite glyphs), and only the tables a PDF renderer
// needs: a font for a CIDFontType2 with CIDToGIDMap /Identity.
func (t *trueType) subset(used map[uint16]bool) []byte {
	keep := map[int]bool{0: true}
	var stack []int
	for g := range used {
		stack = append(stack, int(g))
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if keep[g] || g >= t.numGlyphs {
			continue
		}
		keep[g] = true
		stack = append(stack, t.components(g)...)
	}
	// Glyph 0 may itself be composite.
	for _, c := range t.components(0) {
		keep[c] = true
	}

	var glyf []byte
	loca := make([]byte, 4*(t.numGlyphs+1))
	for g := range t.numGlyphs {
		binary.BigEndian.PutUint32(loca[4*g:], uint32(len(glyf)))
		if keep[g] {
			glyf = append(glyf, t.glyph(g)...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	binary.BigEndian.PutUint32(loca[4*t.numGlyphs:], uint32(len(glyf)))

	head := append([]byte(nil), t.tables["head"]...)
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca

	tables := map[string][]byte{
		"head": head,
		"hhea": t.tables["hhea"],
		"maxp": t.tables["maxp"],
		"hmtx": t.tables["hmtx"],
		"loca": loca,
		"glyf": glyf,
		// A cmap that maps nothing: the PDF addresses glyphs by ID, and
		// some readers want the table present.
		"cmap": emptyCmap(),
	}
	for _, tag := range []string{"cvt ", "fpgm", "prep", "OS/2", "name"} {
		if b := t.tables[tag]; b != nil {
			tables[tag] = b
		}
	}
	if post := t.tables["post"]; len(post) >= 32 {
		p := append([]byte(nil), post[:32]...)
		binary.BigEndian.PutUint32(p, 0x00030000) // version 3: no glyph names
		tables["post"] = p
	}
	return writeSfnt(tables)
}

func emptyCmap() []byte {
	// cmap header, one (3,1) subtable of format 4 holding only the
	// closing 0xFFFF segment.
	b := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}
	sub := []byte{
		0, 4, 0, 24, 0, 0, // format, length, language
		0, 2, 0, 2, 0, 0, 0, 0, // segCountX2, searchRange, entrySelector, rangeShift
		0xff, 0xff, // endCode
		0, 0, // reservedPad
		0xff, 0xff, // startCode
		0, 1, // idDelta
		0, 0, // idRangeOffset
	}
	return append(b, sub...)
}

// writeSfnt lays out a font file from its tables, with the table
// directory, checksums and head.checkSumAdjustment set as the
// OpenType specification asks.
func writeSfnt(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	es := int(math.Floor(math.Log2(float64(n))))
	sr := 16 << es
	out := make([]byte, 12+16*n)
	be := binary.BigEndian
	be.PutUint32(out, 0x00010000)
	be.PutUint16(out[4:], uint16(n))
	be.PutUint16(out[6:], uint16(sr))
	be.PutUint16(out[8:], uint16(es))
	be.PutUint16(out[10:], uint16(16*n-sr))
	headOff := 0
	for i, tag := range tags {
		b := tables[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		be.PutUint32(rec[4:], checksum(b))
		be.PutUint32(rec[8:], uint32(len(out)))
		be.PutUint32(rec[12:], uint32(len(b)))
		if tag == "head" {
			headOff = len(out)
		}
		out = append(out, b...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	be.PutUint32(out[headOff+8:], 0xB1B0AFBA-checksum(out))
	return out
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
