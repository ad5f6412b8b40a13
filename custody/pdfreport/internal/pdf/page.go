package pdf

import (
	"bytes"
	"fmt"
	"math"
)

// Page is one page of a document, drawn on in order.
type Page struct {
	doc     *Document
	index   int
	w, h    float64
	content bytes.Buffer
}

// Glyph is one glyph as a shaper placed it. Advance, XOffset and YOffset
// are in thousandths of the font size (text space units × 1000 / size),
// YOffset upwards.
type Glyph struct {
	ID                        uint16
	Advance, XOffset, YOffset float64
}

// Cluster is the glyphs that together draw Text: one glyph for one
// character in the simple case; several glyphs, in visual order, for a
// Khmer syllable; one glyph for a ligature of several characters.
type Cluster struct {
	Glyphs []Glyph
	Text   string
}

// ShowText draws clusters left to right in font f at size points, in the
// given gray (0 black, 1 white), starting with the pen at (x, y) on the
// baseline. Each cluster that is one glyph gets a ToUnicode entry for its
// text, unless the glyph already has a different one; every other run of
// clusters is wrapped in an ActualText span holding their text.
func (p *Page) ShowText(f *Font, size, gray, x, y float64, clusters []Cluster) {
	if len(clusters) == 0 {
		return
	}
	// Which clusters extraction would get right from ToUnicode alone: a
	// glyph drawn where the pen is, standing for its text alone.
	plain := make([]bool, len(clusters))
	for i, c := range clusters {
		plain[i] = len(c.Glyphs) == 1 && c.Glyphs[0].XOffset == 0 && c.Glyphs[0].YOffset == 0 && f.claim(c.Glyphs[0].ID, c.Text)
	}

	b := &p.content
	fmt.Fprintf(b, "BT\n%s g\n/%s %s Tf\n1 0 0 1 %s %s Tm\n", num(gray), f.res, num(size), num(x), num(y))
	var (
		cur, pen, rise float64 // in thousandths of the font size
		inTJ           bool
	)
	openTJ := func() {
		if !inTJ {
			b.WriteString("[")
			inTJ = true
		}
	}
	closeTJ := func() {
		if inTJ {
			b.WriteString("] TJ\n")
			inTJ = false
		}
	}
	// show draws glyph g with its origin at pen+xoff, yoff.
	show := func(g uint16, xoff, yoff float64) {
		if yoff != rise {
			closeTJ()
			rise = yoff
			fmt.Fprintf(b, "%s Ts\n", num(rise*size/1000))
		}
		openTJ()
		if adj := round3(cur - (pen + xoff)); adj != 0 {
			fmt.Fprintf(b, " %s ", num(adj))
			cur -= adj
		}
		fmt.Fprintf(b, "<%04X>", g)
		f.used[g] = true
		p.traceGlyph(f, g, size, x+cur*size/1000, y+rise*size/1000)
		cur += f.Width(g)
	}
	for i := 0; i < len(clusters); {
		j := i + 1
		span := !plain[i]
		if span {
			for j < len(clusters) && !plain[j] {
				j++
			}
			var text string
			for _, c := range clusters[i:j] {
				text += c.Text
			}
			closeTJ()
			fmt.Fprintf(b, "/Span << /ActualText %s >> BDC\n", textString(text))
			// Text extraction takes a span to run from its first glyph's
			// origin to its last glyph's advance; where marks are
			// offset, an anchor (a glyph that draws nothing) at each
			// end makes that the span's true extent, so no space is
			// read into it or next to it.
			if g := clusters[i].Glyphs; f.anchor >= 0 && len(g) > 0 && (g[0].XOffset != 0 || g[0].YOffset != 0) {
				show(uint16(f.anchor), 0, 0)
			}
		}
		for _, c := range clusters[i:j] {
			for _, g := range c.Glyphs {
				show(g.ID, g.XOffset, g.YOffset)
				pen += g.Advance
			}
		}
		if span {
			if f.anchor >= 0 && round3(cur-pen) != 0 {
				show(uint16(f.anchor), 0, 0)
			}
			closeTJ()
			b.WriteString("EMC\n")
		}
		i = j
	}
	closeTJ()
	if rise != 0 {
		b.WriteString("0 Ts\n")
	}
	b.WriteString("ET\n")
}

// Line strokes a straight line from (x1, y1) to (x2, y2), width points
// wide, in the given gray.
func (p *Page) Line(x1, y1, x2, y2, width, gray float64) {
	fmt.Fprintf(&p.content, "q %s G %s w 0 J %s %s m %s %s l S Q\n", num(gray), num(width), num(x1), num(y1), num(x2), num(y2))
	hw := width / 2
	p.trace(Mark{Page: p.index, X0: math.Min(x1, x2) - hw, Y0: math.Min(y1, y2) - hw, X1: math.Max(x1, x2) + hw, Y1: math.Max(y1, y2) + hw})
}

// FillRect fills the rectangle with corner (x, y), w wide and h high,
// in the given gray.
func (p *Page) FillRect(x, y, w, h, gray float64) {
	fmt.Fprintf(&p.content, "q %s g %s %s %s %s re f Q\n", num(gray), num(x), num(y), num(w), num(h))
	p.trace(Mark{Page: p.index, X0: math.Min(x, x+w), Y0: math.Min(y, y+h), X1: math.Max(x, x+w), Y1: math.Max(y, y+h)})
}

func (p *Page) traceGlyph(f *Font, g uint16, size, x, y float64) {
	if p.doc.Trace == nil {
		return
	}
	box, ok := f.tt.glyphBox(int(g))
	if !ok {
		return
	}
	s := size / float64(f.tt.unitsPerEm)
	p.trace(Mark{Page: p.index, Glyph: true,
		X0: x + float64(box[0])*s, Y0: y + float64(box[1])*s,
		X1: x + float64(box[2])*s, Y1: y + float64(box[3])*s})
}

func (p *Page) trace(m Mark) {
	if p.doc.Trace != nil {
		p.doc.Trace(m)
	}
}
