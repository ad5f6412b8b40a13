package pdfreport

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
)

// shapeSize is the size text is shaped at: 1000 units to the em, so that
// shaped positions are in thousandths of the font size, as in PDF glyph
// space, whatever size the text is drawn at.
const shapeSize = 1000

// cluster is the smallest unit of shaped text that lines are broken
// between: the glyphs of one character, or of a Khmer syllable, or of a
// ligature, all in one font.
type cluster struct {
	face   *face
	glyphs []pdf.Glyph
	// text is the characters the glyphs draw (after escaping).
	text string
	// width is the advance; top and bottom (negative below the
	// baseline) the ink's extent and the font's ascent and descent;
	// left and right the ink's extent from the origin (left < 0 where a
	// mark hangs before it); all in thousandths of the font size.
	width, top, bottom, left, right float64
}

// shaper shapes words for one render, remembering each word it has
// shaped (reports repeat names, roles and actions many times).
type shaper struct {
	faces *faces
	hb    shaping.HarfbuzzShaper
	cache map[wordKey][]cluster
	space map[styleKind]cluster
}

type wordKey struct {
	kind styleKind
	text string
}

func newShaper(fs *faces) *shaper {
	return &shaper{faces: fs, cache: map[wordKey][]cluster{}, space: map[styleKind]cluster{}}
}

// spaceCluster is a space in a style's primary font.
func (s *shaper) spaceCluster(k styleKind) cluster {
	if c, ok := s.space[k]; ok {
		return c
	}
	f := s.faces.primary(k)
	cs := s.shapeRun(f, []rune{' '}, 0, 1)
	c := cs[0]
	s.space[k] = c
	return c
}

// maxMarks is the most nonspacing marks in a row that are drawn as
// marks; more are drawn as escapes. Khmer needs no more than four.
const maxMarks = 4

// dispRune is a character as it will be drawn, with the font chosen
// for it.
type dispRune struct {
	r    rune
	face *face
}

// word shapes text that holds no space (U+0020) into clusters, in
// visual (left to right) order. Any byte that is not UTF-8 is drawn as
// \xHH, and any character that is hidden (a control or format
// character) or that no embedded font has as \uXXXX, in the style's
// primary font: nothing is dropped and nothing is drawn as a blank box.
func (s *shaper) word(k styleKind, text string) []cluster {
	key := wordKey{k, text}
	if cs, ok := s.cache[key]; ok {
		return cs
	}
	runes := s.display(k, text)
	var out []cluster
	text32 := make([]rune, len(runes))
	for i, d := range runes {
		text32[i] = d.r
	}
	for i := 0; i < len(runes); {
		j := i + 1
		for j < len(runes) && runes[j].face == runes[i].face {
			j++
		}
		out = append(out, s.shapeRun(runes[i].face, text32, i, j)...)
		i = j
	}
	s.cache[key] = out
	return out
}

// display chooses a font for each character of text and escapes what
// cannot be drawn.
func (s *shaper) display(k styleKind, text string) []dispRune {
	prim := s.faces.primary(k)
	var out []dispRune
	escape := func(format string, v any) {
		for _, r := range fmt.Sprintf(format, v) {
			out = append(out, dispRune{r, prim})
		}
	}
	// escapeRune writes r as \uXXXX, or \UXXXXXXXX above U+FFFF, as
	// custody.Shown does: fixed widths, so no two texts look alike.
	escapeRune := func(r rune) {
		if r > 0xffff {
			escape(`\U%08x`, r)
			return
		}
		escape(`\u%04x`, r)
	}
	var prev *face
	marks := 0 // nonspacing marks in a row
	for len(text) > 0 {
		r, n := utf8.DecodeRuneInString(text)
		if unicode.In(r, unicode.Mn, unicode.Me) {
			marks++
		} else {
			marks = 0
		}
		switch {
		case r == utf8.RuneError && n <= 1:
			escape(`\x%02x`, text[0])
			prev = nil
		case printable.Hidden(r):
			escapeRune(r)
			prev = nil
		case marks > maxMarks:
			// A stack of marks this high is not writing: it would
			// draw over the lines around it.
			escapeRune(r)
			prev = nil
		default:
			f := s.choose(k, r, prev)
			if f == nil {
				escapeRune(r)
				prev = nil
				break
			}
			out = append(out, dispRune{r, f})
			prev = f
		}
		text = text[n:]
	}
	return out
}

// choose picks the font for r: a character common to scripts
// (punctuation, digits) or a combining mark stays in the font before it
// where that font has it; a Khmer, Tagalog, Thai, Lao or Myanmar character goes to its
// script's font; anything else to the style's primary font; failing
// those, to the first font that has it. nil: no font has it.
func (s *shaper) choose(k styleKind, r rune, prev *face) *face {
	sc := language.LookupScript(r)
	if (sc == language.Common || sc == language.Inherited || sc == language.Unknown) && prev != nil && prev.has(r) {
		return prev
	}
	if f := s.faces.forScript(k, sc); f != nil && f.has(r) {
		return f
	}
	if f := s.faces.primary(k); f.has(r) {
		return f
	}
	for _, f := range s.faces.fallbacks(k) {
		if f.has(r) {
			return f
		}
	}
	return nil
}

// shapeRun shapes text[start:end], all in face f, left to right, and
// groups the glyphs into clusters.
func (s *shaper) shapeRun(f *face, text []rune, start, end int) []cluster {
	sc := language.Latin
	for _, r := range text[start:end] {
		if x := language.LookupScript(r); x != language.Common && x != language.Inherited && x != language.Unknown {
			sc = x
			break
		}
	}
	lang := language.NewLanguage("en")
	switch sc {
	case language.Khmer:
		lang = language.NewLanguage("km")
	case language.Tagalog:
		lang = language.NewLanguage("tl")
	case language.Thai:
		lang = language.NewLanguage("th")
	case language.Lao:
		lang = language.NewLanguage("lo")
	case language.Myanmar:
		lang = language.NewLanguage("my")
	}
	out := s.hb.Shape(shaping.Input{
		Text:      text,
		RunStart:  start,
		RunEnd:    end,
		Direction: di.DirectionLTR,
		Face:      f.ot,
		Size:      shapeSize << 6, // 26.6 fixed point
		Script:    sc,
		Language:  lang,
	})
	var cs []cluster
	gs := out.Glyphs
	for i := 0; i < len(gs); {
		j := i + 1
		for j < len(gs) && gs[j].TextIndex() == gs[i].TextIndex() {
			j++
		}
		// The cluster's characters run to the next cluster's first one
		// (left to right text: clusters come in logical order).
		lo, hi := gs[i].TextIndex(), end
		if j < len(gs) {
			hi = gs[j].TextIndex()
		}
		if hi <= lo || lo < start || hi > end {
			lo, hi = gs[i].TextIndex(), min(end, gs[i].TextIndex()+gs[i].RunesCount())
		}
		c := cluster{face: f, text: string(text[lo:hi]), top: f.ascent, bottom: f.descent}
		for _, g := range gs[i:j] {
			pg := pdf.Glyph{
				ID:      uint16(g.GlyphID),
				Advance: fromFixed(g.Advance),
				XOffset: fromFixed(g.XOffset),
				YOffset: fromFixed(g.YOffset),
			}
			if g.GlyphID > 0xffff {
				pg.ID = 0
			}
			c.glyphs = append(c.glyphs, pg)
			top := pg.YOffset + fromFixed(g.YBearing)
			bottom := top + fromFixed(g.Height)
			c.top = max(c.top, top)
			c.bottom = min(c.bottom, bottom)
			if g.Width != 0 {
				left := c.width + pg.XOffset + fromFixed(g.XBearing)
				c.left = min(c.left, left)
				c.right = max(c.right, left+fromFixed(g.Width))
			}
			c.width += pg.Advance
		}
		c.right = max(c.right, c.width)
		cs = append(cs, c)
		i = j
	}
	return cs
}

// fromFixed converts a 26.6 fixed-point value.
func fromFixed[T ~int32](v T) float64 { return float64(v) / 64 }
