package pdfreport

import (
	"fmt"

	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
)

// The page: A4 portrait with 2 cm margins, in points. Everything,
// header and footer included, is drawn inside the margins.
const (
	pageWidth  = 595.2756 // 210 mm
	pageHeight = 841.8898 // 297 mm
	margin     = 56.6929  // 20 mm
	contentW   = pageWidth - 2*margin
	ruleWidth  = 0.5
	// maxHeaderLines is as much of the page as the header may take.
	maxHeaderLines = 2
)

// layout places text and rules on pages, top down, breaking pages as
// content needs. y coordinates here run down from the top of the page;
// they are turned into PDF's upward ones only when drawn.
type layout struct {
	sh    *shaper
	pages []*pageOps
	// y is where the next block starts; top and bottom bound the body
	// of every page (below the header, above the footer).
	y, top, bottom float64
	header         []*line
	footerStyle    style
	footerH        float64
}

// pageOps is what a page holds, before it is drawn.
type pageOps struct {
	texts []textOp
	rules []ruleOp
	fills []fillOp
}

type textOp struct {
	x, baseline float64
	l           *line
}

type ruleOp struct{ x1, y1, x2, y2, width, gray float64 }

type fillOp struct{ x, y, w, h, gray float64 }

// newLayout starts a layout whose every page has the given header
// (wrapped to the page's width) and a footer giving the page number.
func newLayout(sh *shaper, header []span, headerStyle style) *layout {
	L := &layout{sh: sh, footerStyle: headerStyle}
	L.header = sh.wrap(header, contentW, headerStyle)
	if len(L.header) > maxHeaderLines {
		// Identifiers that long are given in full on the first page.
		L.header = L.header[:maxHeaderLines]
		last := *L.header[maxHeaderLines-1]
		ell := sh.wrap([]span{{" …", headerStyle}}, contentW, headerStyle)[0]
		for len(last.pieces) > 0 && last.width+ell.width > contentW {
			p := last.pieces[len(last.pieces)-1]
			last.pieces = last.pieces[:len(last.pieces)-1]
			last.width = p.x
		}
		for _, p := range ell.pieces {
			p.x += last.width
			last.pieces = append(last.pieces, p)
		}
		last.width += ell.width
		L.header[maxHeaderLines-1] = &last
	}
	h := 0.0
	for _, l := range L.header {
		h += l.height()
	}
	L.top = margin + h + 4 + ruleWidth + 10
	probe := sh.wrap([]span{{"Page 1 of 1", headerStyle}}, contentW, headerStyle)[0]
	L.footerH = probe.height() + 4 + ruleWidth + 10
	L.bottom = pageHeight - margin - L.footerH
	L.newPage()
	return L
}

func (L *layout) page() *pageOps { return L.pages[len(L.pages)-1] }

// newPage starts a page.
func (L *layout) newPage() {
	L.pages = append(L.pages, &pageOps{})
	L.y = L.top
}

// atTop reports whether nothing has been placed on the page yet.
func (L *layout) atTop() bool { return L.y == L.top }

// ensure starts a new page unless h points fit below y.
func (L *layout) ensure(h float64) {
	if L.y+h > L.bottom && !L.atTop() {
		L.newPage()
	}
}

// space leaves a gap of h points, unless at the top of a page.
func (L *layout) space(h float64) {
	if !L.atTop() {
		L.y = min(L.y+h, L.bottom)
	}
}

// placeLine puts a line with its top at y, left edge at x.
func (L *layout) placeLine(x, y float64, l *line) {
	if len(l.pieces) > 0 {
		L.page().texts = append(L.page().texts, textOp{x: x, baseline: y + l.ascent, l: l})
	}
}

// paragraph places wrapped text at x, width points wide, breaking pages
// between lines.
func (L *layout) paragraph(spans []span, x, width float64, base style) {
	lines := L.sh.wrap(spans, width, base)
	// A paragraph of up to keepLines lines is kept on one page, so that
	// a sentence a reader quotes (an instruction, a statement of what the
	// report establishes) is never cut by a page's furniture.
	const keepLines = 8
	if len(lines) <= keepLines {
		total := 0.0
		for _, l := range lines {
			total += l.height()
		}
		L.ensure(total)
	}
	for _, l := range lines {
		L.ensure(l.height())
		L.placeLine(x, L.y, l)
		L.y += l.height()
	}
}

// heading places a heading, starting a page first unless its first
// line and keep points more fit.
func (L *layout) heading(text string, st style, before, after, keep float64, rule bool) {
	lines := L.sh.wrap([]span{{text, st}}, contentW, st)
	L.space(before)
	L.ensure(lines[0].height() + after + keep)
	for _, l := range lines {
		L.ensure(l.height())
		L.placeLine(margin, L.y, l)
		L.y += l.height()
	}
	if rule {
		L.y += 2
		L.rule(margin, L.y, margin+contentW, L.y, 0.8, 0.3)
	}
	L.y += after
}

func (L *layout) rule(x1, y1, x2, y2, width, gray float64) {
	L.page().rules = append(L.page().rules, ruleOp{x1, y1, x2, y2, width, gray})
}

func (L *layout) fill(x, y, w, h, gray float64) {
	L.page().fills = append(L.page().fills, fillOp{x, y, w, h, gray})
}

// blank places a label and a ruled line to write on by hand.
func (L *layout) blank(label string, st style) {
	const lineH = 30
	L.ensure(lineH)
	lines := L.sh.wrap([]span{{label + ":", st}}, 170, st)
	y := L.y + lineH - 6
	h := 0.0
	for _, l := range lines {
		h += l.height()
	}
	ty := y - h
	for _, l := range lines {
		L.placeLine(margin, ty, l)
		ty += l.height()
	}
	L.rule(margin+175, y, margin+contentW-ruleWidth/2, y, 0.6, 0)
	L.y += lineH
}

// draw writes the pages into doc, each with its header and its footer
// "Page N of M".
func (L *layout) draw(doc *pdf.Document) {
	for i, p := range L.pages {
		pg := doc.AddPage(pageWidth, pageHeight)
		y := margin
		for _, l := range L.header {
			L.drawLine(pg, margin, y+l.ascent, l)
			y += l.height()
		}
		y += 4
		L.drawRule(pg, ruleOp{margin, y, margin + contentW, y, ruleWidth, 0.5})

		foot := L.sh.wrap([]span{{fmt.Sprintf("Page %d of %d", i+1, len(L.pages)), L.footerStyle}}, contentW, L.footerStyle)[0]
		fy := pageHeight - margin - foot.height()
		L.drawRule(pg, ruleOp{margin, fy - 4, margin + contentW, fy - 4, ruleWidth, 0.5})
		L.drawLine(pg, margin+(contentW-foot.width)/2, fy+foot.ascent, foot)

		for _, f := range p.fills {
			pg.FillRect(f.x, pageHeight-f.y-f.h, f.w, f.h, f.gray)
		}
		for _, r := range p.rules {
			L.drawRule(pg, r)
		}
		for _, t := range p.texts {
			L.drawLine(pg, t.x, t.baseline, t.l)
		}
	}
}

// drawRule draws a rule, kept half its width inside the page's margins.
func (L *layout) drawRule(pg *pdf.Page, r ruleOp) {
	hw := r.width / 2
	clampX := func(x float64) float64 { return min(max(x, margin+hw), pageWidth-margin-hw) }
	clampY := func(y float64) float64 { return min(max(y, margin+hw), pageHeight-margin-hw) }
	pg.Line(clampX(r.x1), pageHeight-clampY(r.y1), clampX(r.x2), pageHeight-clampY(r.y2), r.width, r.gray)
}

// drawLine draws a line's pieces, one ShowText per run of pieces in the
// same font, size and gray.
func (L *layout) drawLine(pg *pdf.Page, x, baseline float64, l *line) {
	ps := l.pieces
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].c.face == ps[i].c.face && ps[j].st.size == ps[i].st.size && ps[j].st.gray == ps[i].st.gray {
			j++
		}
		cs := make([]pdf.Cluster, 0, j-i)
		for _, p := range ps[i:j] {
			cs = append(cs, pdf.Cluster{Glyphs: p.c.glyphs, Text: p.c.text})
		}
		pg.ShowText(ps[i].c.face.pdf, ps[i].st.size, ps[i].st.gray, x+ps[i].x, pageHeight-baseline, cs)
		i = j
	}
}
