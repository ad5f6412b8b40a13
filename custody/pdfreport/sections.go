package pdfreport

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/custody"
)

// The styles, sizes in points.
var (
	stTitle   = style{size: 18, kind: bold}
	stH2      = style{size: 13, kind: bold}
	stH3      = style{size: 11, kind: bold}
	stBody    = style{size: 9.5}
	stLabel   = style{size: 9, gray: 0.3}
	stValue   = style{size: 9}
	stHash    = style{size: 9, kind: mono}
	stCell    = style{size: 8.5}
	stCellB   = style{size: 8.5, kind: bold}
	stCellH   = style{size: 8.5, kind: mono}
	stNote    = style{size: 8.5, gray: 0.3}
	stHeader  = style{size: 8, gray: 0.35}
	stCertT   = style{size: 14, kind: bold}
	stBlankLb = style{size: 9.5}
)

// shown is text from an event, made safe to show.
func shown(s string) string { return custody.Shown(s) }

func itoa[T ~int | ~int64 | ~uint64](v T) string { return fmt.Sprint(v) }

// prose is text whose long hexadecimal words (hashes, fingerprints) and
// the vault's ids (it_, rp_, se_ and the like, then hex digits) are set
// in the monospaced font, which wrap breaks by groups of digits.
func prose(s string, st, hash style) []span {
	var out []span
	for i, w := range strings.Split(s, " ") {
		t := st
		if _, ok := hexDigits(w); ok {
			t = hash
		}
		if i > 0 {
			out = appendSpan(out, " ", st)
		}
		out = appendSpan(out, w, t)
	}
	return out
}

// appendSpan adds text in a style, to the last span if it has that style.
func appendSpan(spans []span, text string, st style) []span {
	if n := len(spans); n > 0 && spans[n-1].st == st {
		spans[n-1].text += text
		return spans
	}
	return append(spans, span{text, st})
}

// isHex reports whether w looks like a hash: 32 or more hex digits.
func isHex(w string) bool {
	if len(w) < 32 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// kvRow is a label and its value.
type kvRow struct {
	label string
	value []span
}

func val(s string) []span  { return []span{{s, stValue}} }
func hash(s string) []span { return []span{{s, stHash}} }

// kv places label/value rows as a borderless two-column block, leaving
// out rows whose value is empty.
func (rep *report) kv(rows []kvRow) {
	var cells [][]cell
	for _, r := range rows {
		empty := true
		for _, s := range r.value {
			empty = empty && s.text == ""
		}
		if empty {
			continue
		}
		cells = append(cells, []cell{{{{r.label, stLabel}}}, {r.value}})
	}
	spec := tableSpec{cols: []column{{"", 118}, {"", contentW - 118}}, pad: 1.6}
	rep.L.table(spec, cells, stValue)
}

func (rep *report) para(s string) {
	rep.L.paragraph(prose(s, stBody, stHash), margin, contentW, stBody)
	rep.L.y += 4
}

// h2 keeps room below it for a table's header and its first row (or a
// few lines of text): a heading never stands alone at a page's foot.
func (rep *report) h2(s string) { rep.L.heading(s, stH2, 16, 6, 96, true) }
func (rep *report) h3(s string) { rep.L.heading(s, stH3, 12, 4, 50, false) }

// title is the report's first block: what it is, for which case, and
// the package or the request it was made for.
func (rep *report) title() {
	r := rep.r
	rep.L.heading("Chain of custody report", stTitle, 0, 8, 80, false)
	rows := []kvRow{
		{"Case", val(shown(r.Case.ID))},
		{"Case title", val(shown(r.Case.Title))},
	}
	if p := r.Package; p != nil {
		rows = append(rows,
			kvRow{"Package", val(shown(p.ID))},
			kvRow{"Sealed by", val(custody.PersonText(p.SealedBy))},
			kvRow{"Sealed for", val(custody.PersonText(p.SealedFor))},
			kvRow{"Recipient (age)", hash(custody.RecipientText(p.Recipient))},
			kvRow{"Purpose", val(shown(p.Purpose))},
			kvRow{"Sealed at", val(fmt.Sprintf("%s (event %d)", custody.TimeText(p.SealedAt), p.Sealing.Seq))},
		)
		if p.Request != "" {
			rows = append(rows, kvRow{"Requested by", val(fmt.Sprintf("%s, request %s, approved by %s", shown(p.RequestedBy), shown(p.Request), shown(p.SealedBy.Name)))})
		}
	}
	if e := r.Report; e != nil {
		rows = append(rows,
			kvRow{"Requested by", val(custody.PersonText(e.Actor))},
			kvRow{"Purpose", val(shown(e.Purpose))},
			kvRow{"Made at", val(fmt.Sprintf("%s (event %d)", custody.TimeText(e.Time), e.Seq))},
			kvRow{"Authenticated by", val(shown(e.Auth))},
		)
	}
	if o := custody.OtherPackages(r); o != "" {
		rows = append(rows, kvRow{"Other packages", val(o)})
	}
	rows = append(rows, kvRow{"Made with", val(shown(r.Generator) + " (software)")})
	rep.kv(rows)
}

// establishes says what the report establishes and what it does not
// (custody.Establishes), before its rows.
func (rep *report) establishes() {
	lead, does, not := custody.Establishes(rep.r)
	rep.h2("What this report establishes, and what it does not")
	rep.para(lead)
	for _, s := range does {
		rep.para("• " + s)
	}
	rep.para("It does not establish:")
	for _, s := range not {
		rep.para("• " + s)
	}
}

// checkpoint is the signed checkpoint every event is proven included in.
func (rep *report) checkpoint() {
	cp := rep.r.Checkpoint
	rep.h2("Checkpoint")
	rep.kv([]kvRow{
		{"Custody log", val(shown(cp.Origin))},
		{"Size", val(fmt.Sprintf("%s events", custody.Thousands(int64(cp.Size))))},
		{"Root hash", hash(custody.RootText(cp.Root))},
		{"Log key fingerprint", hash(shown(cp.LogKeyFingerprint))},
		{"Log key", hash(shown(cp.LogKey))},
	})
	rep.L.y += 4
	if len(cp.Cosignatures) == 0 {
		rep.para("Witness cosignatures: none.")
	} else {
		rows := make([][]cell, len(cp.Cosignatures))
		for i, c := range cp.Cosignatures {
			rows[i] = []cell{txt(shown(c.Witness)), txt(custody.TimeText(c.Time))}
		}
		spec := ruledSpec([]column{{"Witness", 0}, {"Cosigned at (UTC)", 130}})
		spec.caption = []span{{"Witness cosignatures", stCellB}}
		rep.L.table(spec, rows, stCell)
		rep.L.y += 6
	}
	if len(cp.Timestamps) == 0 {
		rep.para("RFC 3161 time-stamps: none.")
	} else {
		rows := make([][]cell, len(cp.Timestamps))
		for i, t := range cp.Timestamps {
			auth := shown(t.Authority)
			if auth == "" {
				auth = "(the token names no authority)"
			}
			rows[i] = []cell{txt(auth), txt(custody.TimeText(t.Time)), {{{shown(t.Serial), stCellH}}}}
		}
		spec := ruledSpec([]column{{"Time-stamping authority", 0}, {"Time (UTC)", 110}, {"Serial", 130}})
		spec.caption = []span{{"RFC 3161 time-stamps", stCellB}}
		rep.L.table(spec, rows, stCell)
		rep.L.y += 6
	}
	rep.para("Every event listed in this report is proven included in this checkpoint.")
	if cp.Text != "" {
		rep.L.paragraph([]span{{"The signed checkpoint, as stored:", stLabel}}, margin, contentW, stLabel)
		rep.L.y += 2
		for _, l := range strings.Split(strings.TrimRight(cp.Text, "\n"), "\n") {
			rep.L.paragraph([]span{{shown(l), style{size: 8, kind: mono}}}, margin+8, contentW-8, style{size: 8, kind: mono})
		}
		rep.L.y += 4
	}
}

// caseSection is the case's state and its own events.
func (rep *report) caseSection() {
	r := rep.r
	rep.h2("Case")
	rep.kv([]kvRow{
		{"Opened", val(fmt.Sprintf("%s by %s (event %d)", custody.TimeText(r.Case.Opened.Time), custody.PersonText(r.Case.Opened.Actor), r.Case.Opened.Seq))},
		{"Legal hold", val(custody.HoldText(r))},
		{"Export approval", val(yesNo(r.ExportApproval, custody.ExportApprovalRequired, custody.ExportApprovalNone))},
		{"Classification", val(custody.ClassificationPolicyText(r))},
		{"Retention", val(custody.RetentionText(r))},
		{"Destroyed", val(yesNo(r.Destroyed, "yes", "no"))},
	})
	rep.L.y += 6
	rep.events(fmt.Sprintf("Case events (%d)", len(r.CaseEvents)), r.CaseEvents, "No case events.")
}

// openers is who was sent the evidence and why, by person (the text
// report's section of the same name).
func (rep *report) openers() {
	r := rep.r
	rep.h2("Who was sent the evidence, and why")
	openers := custody.Openers(r)
	rep.para(custody.OpenersLead(r, openers))
	for _, o := range openers {
		rows := make([][]cell, len(o.Openings))
		for i, op := range o.Openings {
			rows[i] = []cell{
				txt(strconv.FormatUint(op.Seq, 10)),
				txt(custody.TimeText(op.Time)),
				txt(shown(op.Item) + " (" + op.Name + ")"),
				txt(op.Sent),
				txt(shown(op.Purpose)),
			}
		}
		spec := ruledSpec([]column{{"Event no.", 46}, {"Time (UTC)", 62}, {"Item", 140}, {"Sent", 60}, {"Purpose stated", 0}})
		spec.caption = []span{{custody.PersonText(o.Person) + ": " + custody.Count(len(o.Openings), "time"), stCellB}}
		rep.L.table(spec, rows, stCell)
		rep.L.y += 6
	}
}

// items is each item, its hashes and its complete chain of custody.
func (rep *report) items() {
	r := rep.r
	rep.h2(fmt.Sprintf("Items (%d)", len(r.Items)))
	if len(r.Items) == 0 {
		rep.para("No items.")
	} else if r.Chosen || r.Package == nil && r.Report != nil {
		// Which items the report covers: those asked for, or every item
		// the case held (as the text report's Items line says).
		rep.para(custody.ItemsText(r) + ".")
	}
	for _, it := range r.Items {
		rep.h3("Item " + shown(it.ID) + ": " + custody.ShownName(it.Name))
		rows := []kvRow{
			{"Name", val(custody.ShownName(it.Name))},
			{"File in package", val(shown(it.Path))},
			{"Size", val(custody.Bytes(it.Size))},
			{"SHA-256", hash(shown(it.Hashes.SHA256))},
			{"SHA-1", hash(shown(it.Hashes.SHA1))},
			{"MD5", hash(shown(it.Hashes.MD5))},
		}
		if a := it.Acquisition; a != (custody.Hashes{}) {
			for _, h := range [][2]string{{"SHA-256", a.SHA256}, {"SHA-1", a.SHA1}, {"MD5", a.MD5}} {
				if h[1] != "" {
					rows = append(rows, kvRow{"Acquisition " + h[0], []span{{shown(h[1]), stHash}, {" (matched at deposit)", stValue}}})
				}
			}
			if l := it.AcquisitionList; l != (custody.HashList{}) {
				rows = append(rows, kvRow{"Read from", []span{{custody.ListHead(l) + ", SHA-256 ", stValue}, {shown(l.SHA256), stHash}, {custody.ListTail(r, l), stValue}}})
			}
		} else {
			rows = append(rows, kvRow{"Acquisition hash", val("none given at deposit (optional: the hashes above are the vault's own)")})
		}
		rows = append(rows,
			kvRow{"Source", val(shown(it.Source))},
			kvRow{"Note", val(shown(it.Note))},
			kvRow{"Hotline report", val(shown(it.Report))},
			kvRow{"Classification", val(custody.ClassificationText(it))},
			kvRow{"Deposited", val(fmt.Sprintf("%s by %s (event %d)", custody.TimeText(it.Deposit.Time), custody.PersonText(it.Deposit.Actor), it.Deposit.Seq))},
		)
		rep.kv(rows)
		rep.L.y += 6
		rep.events(fmt.Sprintf("Chain of custody of item %s (%s)", shown(it.ID), custody.Count(len(it.Chain), "event")), it.Chain, "No events.")
	}
}

// events places a table of events with its caption.
func (rep *report) events(caption string, evs []custody.Event, none string) {
	if len(evs) == 0 {
		rep.L.ensure(40)
		rep.L.paragraph([]span{{caption, stCellB}}, margin, contentW, stCellB)
		rep.L.y += 2
		rep.para(none)
		return
	}
	rows := make([][]cell, len(evs))
	for i, e := range evs {
		var pd cell
		if e.Purpose != "" {
			pd = append(pd, []span{{"Purpose: ", stNote}, {shown(e.Purpose), stCell}})
		}
		if e.Details != "" {
			pd = append(pd, prose(e.Details, stCell, stCellH)) // escaped already
		}
		rows[i] = []cell{
			txt(strconv.FormatUint(e.Seq, 10)),
			txt(custody.TimeText(e.Time)),
			txt(custody.PersonText(e.Actor)),
			txt(shown(e.Auth)),
			txt(e.Action), // escaped already
			pd,
		}
	}
	spec := ruledSpec(eventColumns)
	spec.caption = []span{{caption, stCellB}}
	rep.L.table(spec, rows, stCell)
	rep.L.y += 6
}

// eventColumns are the columns of every table of events; the last takes
// the width left.
var eventColumns = []column{
	{"Event no.", 46},
	{"Time (UTC)", 62},
	{"Person (role)", 82},
	{"Authenticated by", 88},
	{"Action", 76},
	{"Purpose / details", 0},
}

// ruledSpec is a ruled table with headings; a column of width 0 takes
// the width the others leave.
func ruledSpec(cols []column) tableSpec {
	cs := append([]column(nil), cols...)
	used := 0.0
	for _, c := range cs {
		used += c.width
	}
	for i := range cs {
		if cs[i].width == 0 {
			cs[i].width = contentW - used
		}
	}
	return tableSpec{cols: cs, head: true, ruled: true, headStyle: stCellB, pad: 3}
}

// txt is a cell of one paragraph of plain text.
// txt is a table cell of text, its hashes and ids in the monospaced face
// (prose).
func txt(s string) cell { return cell{prose(s, stCell, stCellH)} }

// disclosures are the other packages that carried these items.
func (rep *report) disclosures() {
	ds := rep.r.Disclosures
	if len(ds) == 0 {
		return
	}
	rep.h2("Other disclosures of these items")
	rows := make([][]cell, len(ds))
	for i, d := range ds {
		items := custody.DisclosedItemsText(d)
		rows[i] = []cell{
			txt(shown(d.Package)),
			txt(custody.PersonText(d.SealedFor)),
			txt(custody.TimeText(d.SealedAt)),
			txt(items),
			txt(orText(d.Fetched.IsZero(), custody.NotYet(rep.r, "not fetched"), custody.TimeText(d.Fetched))),
			txt(orText(d.Received.IsZero(), custody.NotYet(rep.r, "no signed receipt"), custody.TimeText(d.Received))),
		}
	}
	rep.L.table(ruledSpec([]column{{"Package", 90}, {"Sealed for", 84}, {"Sealed at (UTC)", 66}, {"Items", 0}, {"Fetched (UTC)", 66}, {"Receipt signed (UTC)", 66}}), rows, stCell)
}

// instructions say how to verify the report without the vault, in the
// words the text report uses.
func (rep *report) instructions() {
	rep.h2("How to verify this independently")
	// The paragraphs hold their recorded text escaped already.
	for _, p := range custody.Instructions(rep.r) {
		rep.para(p)
	}
}

// reading says how to read the report (times, order, escapes) and what
// its words mean, before the rows that use them, in the words the text
// report uses.
func (rep *report) reading() {
	rep.h2("Reading this report")
	rep.para(custody.Reading())
	for _, t := range custody.Terms(rep.r) {
		rep.para("• " + t)
	}
}

// certificate is the certificate of the items' hashes, on a page of its
// own, in the words the text report uses, with lines to sign by hand.
func (rep *report) certificate() {
	c := custody.Certificate(rep.r)
	L := rep.L
	if !L.atTop() {
		L.newPage()
	}
	L.heading(shown(c.Title), stCertT, 0, 10, 60, false)
	first := len(L.pages)
	for _, p := range c.Paragraphs { // escaped already
		rep.para(p)
	}
	L.y += 4
	if len(c.Rows) > 0 {
		cols := make([]column, len(c.Columns))
		// The SHA-256 column holds a hash in two lines of 32 digits; the
		// name takes what the others leave, so that a file name breaks
		// across lines as seldom as the page allows.
		zero := rep.sh.width([]span{{strings.Repeat("0", 32), stCellH}})
		for i, h := range c.Columns {
			cols[i] = column{head: shown(h)}
			switch {
			case strings.Contains(h, "SHA"):
				cols[i].width = zero + 6 + 0.5
			case i == 0:
				cols[i].width = 70
			case i == len(c.Columns)-1:
				cols[i].width = 88
			default:
				cols[i].width = 0
			}
		}
		rows := make([][]cell, len(c.Rows))
		for i, row := range c.Rows {
			rows[i] = make([]cell, len(cols))
			for j := range cols {
				if j >= len(row) {
					continue
				}
				if strings.Contains(c.Columns[j], "SHA") {
					rows[i][j] = cell{{{row[j], stCellH}}} // escaped already
				} else {
					rows[i][j] = txt(row[j])
				}
			}
		}
		L.table(ruledSpec(cols), rows, stCell)
	}
	L.y += 18
	// The lines to sign stay together; on another page than the
	// certificate's text they are headed by what they certify (about
	// three lines, 60 points with room to spare).
	parted := len(L.pages) != first
	need := 30 * float64(len(c.Blanks))
	if parted {
		need += 60
	}
	if L.y+need > L.bottom {
		L.newPage()
		parted = true
	}
	if parted {
		rep.para(c.Continued) // escaped already
		L.y += 8
	}
	for _, b := range c.Blanks {
		L.blank(shown(b), stBlankLb)
	}
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func orText(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
