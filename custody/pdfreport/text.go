package pdfreport

import "strings"

// span is text in one style; a paragraph is a list of spans.
type span struct {
	text string
	st   style
}

// piece is one cluster placed on a line, x points from the line's start.
type piece struct {
	c  cluster
	st style
	x  float64
}

// line is one line of text, ready to place: its pieces, its width, and
// how far its ink and its fonts' ascent and descent reach above and
// below the baseline, in points (descent positive).
type line struct {
	pieces []piece
	// width is where the pen ends; ink where the ink ends, at least
	// width (a glyph may reach past its advance).
	width, ink      float64
	ascent, descent float64
}

func (l *line) height() float64 { return l.ascent + l.descent }

// token is a word or a space of a paragraph.
type token struct {
	clusters []cluster
	st       style
	space    bool
	// width is the advance, ink where the ink ends, lead how far the
	// first cluster's ink hangs left of the origin; in points.
	width, ink, lead float64
	// hexFrom and hexTo bound the clusters of a hash in the word (a
	// run of 32 or more hex digits, one cluster each; both 0 if none):
	// a hash too long for a line breaks only every hexGroup digits
	// from its first, so that each line holds whole groups a reader
	// compares, never a stray digit or two.
	hexFrom, hexTo int
}

// hexGroup is how many digits of a hash stay together where it breaks
// across lines.
const hexGroup = 8

// hexBreak reports whether the word may break before its cluster i: at
// any cluster if it holds no hash, else only inside the hash, every
// hexGroup digits from its first.
func (t *token) hexBreak(i int) bool {
	if t.hexTo == 0 {
		return true
	}
	return i > t.hexFrom && i < t.hexTo && (i-t.hexFrom)%hexGroup == 0
}

// groupInk is how far the ink of the clusters from i to the next break
// reaches past the pen, in points.
func (t *token) groupInk(i int) float64 {
	k := t.st.size / 1000
	var w, ink float64
	for j := i; j < len(t.clusters) && (j == i || !t.hexBreak(j)); j++ {
		c := t.clusters[j]
		ink = max(ink, w+c.right*k, w+c.width*k)
		w += c.width * k
	}
	return ink
}

// hexSpan finds the hash in word w, which shapes into cs: the cluster
// range of its hex digits after any opening bracket and before any
// closing punctuation, or 0, 0 if w holds none, or if its characters
// and clusters do not correspond one to one.
func hexSpan(w string, cs []cluster) (from, to int) {
	digits, ok := hexDigits(w)
	if !ok || len(cs) != len(w) {
		return 0, 0
	}
	from = strings.Index(w, digits)
	return from, from + len(digits)
}

// hexDigits are the hex digits of word w where w is a hash or an id:
// without the brackets before it and the closing punctuation after it,
// either 32 or more hex digits, or an id of two lowercase letters, "_"
// and 12 or more lowercase hex digits (it_, rp_, se_, pk_...), whose
// digits follow its prefix. prose sets such a word in the monospaced
// face; hexSpan breaks it by groups of its digits.
func hexDigits(w string) (string, bool) {
	core := strings.TrimRight(strings.TrimLeft(w, "(["), ".,;:)]")
	if isHex(core) {
		return core, true
	}
	if len(core) >= 15 && core[2] == '_' && strings.Trim(core[:2], "abcdefghijklmnopqrstuvwxyz") == "" &&
		strings.Trim(core[3:], "0123456789abcdef") == "" {
		return core[3:], true
	}
	return "", false
}

// tokens splits a paragraph at spaces (U+0020), shaping each word.
func (s *shaper) tokens(spans []span) []token {
	var out []token
	for _, sp := range spans {
		for i, w := range strings.Split(sp.text, " ") {
			if i > 0 {
				c := s.spaceCluster(sp.st.kind)
				out = append(out, token{clusters: []cluster{c}, st: sp.st, space: true, width: c.width * sp.st.size / 1000})
			}
			if w == "" {
				continue
			}
			cs := s.word(sp.st.kind, w)
			t := token{clusters: cs, st: sp.st}
			t.hexFrom, t.hexTo = hexSpan(w, cs)
			k := sp.st.size / 1000
			for _, c := range cs {
				t.ink = max(t.ink, t.width+c.right*k)
				t.width += c.width * k
			}
			if len(cs) > 0 {
				t.lead = max(0, -cs[0].left*k)
			}
			out = append(out, t)
		}
	}
	return out
}

// wrap breaks a paragraph into lines whose ink is no wider than width
// points. Lines break at spaces; a word longer than a line is broken
// between clusters (never inside a Khmer syllable or between a letter
// and its marks). Spaces where a line breaks are not drawn. base gives
// an empty paragraph its height. A paragraph always has at least one
// line. Only a single cluster wider than width (which the report's
// columns do not allow) can make a line wider.
func (s *shaper) wrap(spans []span, width float64, base style) []*line {
	var (
		lines    []*line
		cur      = &line{}
		pending  []token // spaces not yet placed
		pendingW float64
	)
	add := func(c cluster, st style) {
		k := st.size / 1000
		if len(cur.pieces) == 0 && c.left < 0 {
			// A mark with no base before it hangs left of its
			// origin: indent the line so that its ink stays inside.
			cur.width = -c.left * k
		}
		cur.pieces = append(cur.pieces, piece{c: c, st: st, x: cur.width})
		cur.ink = max(cur.ink, cur.width+c.right*k)
		cur.width += c.width * k
		cur.ink = max(cur.ink, cur.width)
	}
	placePending := func() {
		for _, t := range pending {
			add(t.clusters[0], t.st)
		}
		pending, pendingW = nil, 0
	}
	flush := func() {
		s.measure(cur, base)
		lines = append(lines, cur)
		cur = &line{}
		pending, pendingW = nil, 0
	}
	// fits reports whether word t fits on the current line.
	fits := func(t token) bool {
		if len(cur.pieces) == 0 && len(pending) == 0 {
			return t.lead+t.ink <= width
		}
		return cur.width+pendingW+t.ink <= width
	}
	for _, t := range s.tokens(spans) {
		switch {
		case t.space:
			// Spaces at the start of a paragraph are kept; after a
			// break they are dropped.
			if len(cur.pieces) > 0 || len(lines) == 0 {
				pending = append(pending, t)
				pendingW += t.width
			}
		case fits(t):
			placePending()
			for _, c := range t.clusters {
				add(c, t.st)
			}
		case t.lead+t.ink <= width && len(cur.pieces) > 0:
			flush()
			for _, c := range t.clusters {
				add(c, t.st)
			}
		default:
			// A word longer than a line: fill this line's rest, unless
			// little is left, then break it between clusters (a hash
			// only between its groups, unless one group is wider than
			// a line).
			if len(cur.pieces) > 0 && (width-cur.width-pendingW < width/3 || t.hexTo > 0) {
				// Little is left; or a hash or id, which starts a
				// line so that its lines hold the same groups of
				// digits wherever it is shown.
				flush()
			}
			placePending()
			k := t.st.size / 1000
			for i, c := range t.clusters {
				if len(cur.pieces) > 0 && i > 0 && t.hexTo > 0 && t.hexBreak(i) && cur.width+t.groupInk(i) > width {
					flush()
				}
				if len(cur.pieces) > 0 && max(cur.width+c.right*k, cur.width+c.width*k) > width {
					flush()
				}
				add(c, t.st)
			}
		}
	}
	flush()
	return lines
}

// measure sets a line's ascent and descent: the larger of its fonts'
// and its ink's.
func (s *shaper) measure(l *line, base style) {
	if len(l.pieces) == 0 {
		f := s.faces.primary(base.kind)
		l.ascent, l.descent = f.ascent*base.size/1000, -f.descent*base.size/1000
		return
	}
	for _, p := range l.pieces {
		l.ascent = max(l.ascent, p.c.top*p.st.size/1000)
		l.descent = max(l.descent, -p.c.bottom*p.st.size/1000)
	}
}

// width is the width of a single-line text, in points.
func (s *shaper) width(spans []span) float64 {
	var w float64
	for _, t := range s.tokens(spans) {
		w += t.width
	}
	return w
}
