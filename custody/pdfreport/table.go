package pdfreport

// column is a table column: its heading and width in points.
type column struct {
	head  string
	width float64
}

// tableSpec says how a table looks.
type tableSpec struct {
	cols []column
	// head draws the column headings, on every page the table reaches.
	head bool
	// ruled draws a grid; otherwise the table is a borderless block of
	// labels and values.
	ruled     bool
	headStyle style
	pad       float64 // inside each cell, all round, in points
	// caption is placed above the table, on the page where its first
	// row is.
	caption []span
}

// cell is what a table cell holds: paragraphs of spans.
type cell [][]span

// table places a table. Rows that fit on a page are never split; the
// column headings are repeated at the top of each page; a row taller
// than a whole page is split between lines of its cells.
func (L *layout) table(spec tableSpec, rows [][]cell, base style) {
	t := &tableRun{L: L, spec: spec, base: base}
	if spec.head {
		hc := make([]cell, len(spec.cols))
		for i, c := range spec.cols {
			hc[i] = cell{{{c.head, spec.headStyle}}}
		}
		t.headLines = t.wrapRow(hc)
		t.headH = t.height(t.headLines, make([]int, len(spec.cols)))
	}
	var caption []*line
	captionH := 0.0
	if spec.caption != nil {
		caption = L.sh.wrap(spec.caption, contentW, spec.headStyle)
		for _, l := range caption {
			captionH += l.height()
		}
		captionH += 2
	}
	for i, row := range rows {
		lines := t.wrapRow(row)
		first := t.height(lines, make([]int, len(lines)))
		if i == 0 {
			// Keep the caption and headings with the first row (or
			// what of it fits on a page).
			L.ensure(captionH + t.headH + min(first, 60))
			for _, l := range caption {
				L.ensure(l.height())
				L.placeLine(margin, L.y, l)
				L.y += l.height()
			}
			if caption != nil {
				L.y += 2
			}
			t.startPage()
		}
		t.place(lines)
	}
}

// tableRun is a table being placed.
type tableRun struct {
	L         *layout
	spec      tableSpec
	base      style
	headLines [][]*line
	headH     float64
	// bodyTop is where rows start on the current page.
	bodyTop float64
}

// wrapRow wraps each cell of a row to its column.
func (t *tableRun) wrapRow(row []cell) [][]*line {
	out := make([][]*line, len(t.spec.cols))
	for i, col := range t.spec.cols {
		if i >= len(row) {
			continue
		}
		for _, par := range row[i] {
			out[i] = append(out[i], t.L.sh.wrap(par, col.width-2*t.spec.pad, t.base)...)
		}
	}
	return out
}

// height is the height of the rest of a row (its cells' lines from
// from[i] on), padding included.
func (t *tableRun) height(lines [][]*line, from []int) float64 {
	h := 0.0
	for i, ls := range lines {
		s := 0.0
		for _, l := range ls[from[i]:] {
			s += l.height()
		}
		h = max(h, s)
	}
	return h + 2*t.spec.pad
}

// startPage draws the headings (and the table's top rule) where the
// table starts or continues on a page.
func (t *tableRun) startPage() {
	L := t.L
	if t.spec.head {
		if t.spec.ruled {
			L.fill(margin, L.y, contentW, t.headH, 0.9)
			L.rule(margin, L.y, margin+contentW, L.y, ruleWidth, 0.35)
		}
		t.drawCells(t.headLines, make([]int, len(t.headLines)), nil, t.headH)
	} else if t.spec.ruled {
		L.rule(margin, L.y, margin+contentW, L.y, ruleWidth, 0.35)
	}
	t.bodyTop = L.y
}

// newPage continues the table on a new page.
func (t *tableRun) newPage() {
	t.L.newPage()
	t.startPage()
}

// place places one row, across pages if it must.
func (t *tableRun) place(lines [][]*line) {
	L := t.L
	from := make([]int, len(lines))
	for {
		need := t.height(lines, from)
		if L.y+need <= L.bottom {
			t.drawCells(lines, from, nil, need)
			return
		}
		fresh := L.y == t.bodyTop
		if !fresh && need <= L.bottom-L.top-t.headH {
			t.newPage()
			continue
		}
		// Split the row: each cell gives what fits of its lines.
		avail := L.bottom - L.y - 2*t.spec.pad
		to := make([]int, len(lines))
		took := false
		for i, ls := range lines {
			to[i] = from[i]
			h := 0.0
			for to[i] < len(ls) && h+ls[to[i]].height() <= avail {
				h += ls[to[i]].height()
				to[i]++
			}
			took = took || to[i] > from[i]
		}
		if !took {
			if fresh {
				// Cannot happen with lines shorter than a page; draw
				// nothing more rather than loop.
				return
			}
			t.newPage()
			continue
		}
		t.drawCells(lines, from, to, t.height(sliceRows(lines, to), from))
		from = to
		t.newPage()
	}
}

// sliceRows cuts each cell's lines at to[i].
func sliceRows(lines [][]*line, to []int) [][]*line {
	out := make([][]*line, len(lines))
	for i, ls := range lines {
		out[i] = ls[:to[i]]
	}
	return out
}

// drawCells draws a row's cells' lines from[i] up to to[i] (all if to is
// nil) in a row h points high, with its rules, and moves y below it.
func (t *tableRun) drawCells(lines [][]*line, from, to []int, h float64) {
	L := t.L
	x := margin
	for i, col := range t.spec.cols {
		y := L.y + t.spec.pad
		end := len(lines[i])
		if to != nil {
			end = to[i]
		}
		for _, l := range lines[i][from[i]:end] {
			L.placeLine(x+t.spec.pad, y, l)
			y += l.height()
		}
		x += col.width
	}
	if t.spec.ruled {
		L.rule(margin, L.y+h, margin+contentW, L.y+h, ruleWidth, 0.35)
		x := margin
		L.rule(x, L.y, x, L.y+h, ruleWidth, 0.35)
		for _, col := range t.spec.cols {
			x += col.width
			L.rule(x, L.y, x, L.y+h, ruleWidth, 0.35)
		}
	}
	L.y += h
}
