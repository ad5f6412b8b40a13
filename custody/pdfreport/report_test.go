package pdfreport

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
	"github.com/custos-vault/custos/internal/printable"
)

// eventText is what the report must show of an event, whitespace
// normalised.
func eventTexts(e custody.Event) []string {
	out := []string{custody.TimeText(e.Time), norm(custody.PersonText(e.Actor)), norm(custody.Shown(e.Action))}
	if e.Purpose != "" {
		out = append(out, norm(custody.Shown(e.Purpose)))
	}
	return out
}

// TestEveryEventOfEveryItemIsInTheText: each item's section holds every
// event of its chain, with its time, person, action and purpose, in log
// order; the case events, checkpoint, disclosures, instructions and
// certificate are there too.
func TestEveryEventOfEveryItemIsInTheText(t *testing.T) {
	r := testRecord(3, 9)
	out := renderTest(t, r)
	text := norm(strings.Join(pdfText(t, out.pdf, true), " "))
	// A paragraph may run onto the next page, with the running header
	// between its words: read without the headers.
	text = regexp.MustCompile(regexp.QuoteMeta(norm(headerText(r)))+` Page \d+ of \d+ `).ReplaceAllString(text, "")

	for i, it := range r.Items {
		start := strings.Index(text, "Item "+it.ID+": ")
		if start < 0 {
			t.Fatalf("no heading for item %s", it.ID)
		}
		end := len(text)
		if i+1 < len(r.Items) {
			end = strings.Index(text, "Item "+r.Items[i+1].ID+": ")
		} else if e := strings.Index(text, "Other disclosures of these items"); e > start {
			end = e
		}
		section := text[start:end]
		for _, want := range []string{it.Hashes.SHA256, it.Hashes.SHA1, it.Hashes.MD5, "1,234,56", it.Path, it.Source, it.Note} {
			if !strings.Contains(section, want) {
				t.Errorf("item %s: section lacks %q", it.ID, want)
			}
		}
		pos := 0
		for _, e := range it.Chain {
			for _, want := range eventTexts(e) {
				if !strings.Contains(section, want) {
					t.Errorf("item %s, event %d: section lacks %q", it.ID, e.Seq, want)
				}
			}
			// In order: each event's purpose after the one before.
			if e.Purpose != "" {
				p := strings.Index(section[pos:], norm(e.Purpose))
				if p < 0 {
					t.Errorf("item %s, event %d: out of order", it.ID, e.Seq)
					continue
				}
				pos += p
			}
		}
	}
	for _, e := range r.CaseEvents {
		for _, want := range eventTexts(e) {
			if !strings.Contains(text, want) {
				t.Errorf("case event %d: text lacks %q", e.Seq, want)
			}
		}
	}
	for _, want := range []string{
		"Chain of custody report", "Case C-2026-0042", "Package pk_7f3a",
		"Sealed by ana.silva (investigator)", "Sealed for prosecutor.kim (prosecutor)",
		"Sealed at " + custody.TimeText(r.Package.SealedAt) + " (event " + fmt.Sprint(r.Package.Sealing.Seq) + ")",
		"prosecutor.kim, request rq_19, approved by ana.silva",
		"Custody log custos.example.org/log", r.Checkpoint.Root, r.Checkpoint.LogKeyFingerprint,
		"witness.example.net", "CN=Example TSA, O=Example, C=KH", "1234567890123456789",
		"Every event listed in this report is proven included in this checkpoint.",
		"Legal hold on", "Export approval required: every package needs a custodian's approval", "Retention 10y", "Destroyed no",
		"pk_11aa", "defence.lee (defence)", "pk_22bb", "it_01, it_02", "no signed receipt as of the checkpoint of",
		"matched at deposit", "Acquisition hash none given", "Hotline report rp_0a1b",
		"Classification votes, each person's latest: baseline by ana.silva (investigator) (event 31); matched at deposit: entry 7 of hash set caid (pdq, distance 16 of 256 bits, baseline)",
		"Read from the hash list “phone.sha256”, SHA-256 " + fmt.Sprintf("%064x", 0xd8) + ", as the depositor stated it",
		"Name of the person certifying", "Signature", "Date", "Place",
	} {
		if !strings.Contains(text, norm(want)) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, p := range custody.Instructions(r) {
		if !strings.Contains(text, norm(p)) {
			t.Errorf("text lacks the instruction %.60q...", p)
		}
	}
	_, does, not := custody.Establishes(r)
	for _, p := range append(does, not...) {
		if !strings.Contains(text, norm("• "+p)) {
			t.Errorf("text lacks what the report establishes or not: %.60q...", p)
		}
	}
	c := custody.Certificate(r)
	for _, p := range append([]string{c.Title}, c.Paragraphs...) {
		if !strings.Contains(text, norm(p)) {
			t.Errorf("text lacks the certificate's %.60q...", p)
		}
	}
	for _, row := range c.Rows {
		for _, cell := range row {
			if !strings.Contains(text, norm(cell)) {
				t.Errorf("certificate lacks %q", cell)
			}
		}
	}
}

// TestSizesAsTheTextReportWritesThem: an item's size reads the same in
// the PDF as in the text report ("1,234,567 bytes"), without the bare
// number after it that the text report does not have.
func TestSizesAsTheTextReportWritesThem(t *testing.T) {
	r := testRecord(2, 3)
	r.Items[1].Size = 1
	out := renderTest(t, r)
	text := norm(strings.Join(pdfText(t, out.pdf, true), " "))
	plain := string(custody.Text(r))
	for _, it := range r.Items {
		want := custody.Bytes(it.Size)
		if !strings.Contains(text, want) || !strings.Contains(plain, want) {
			t.Errorf("item %s: the PDF or the text report lacks %q", it.ID, want)
		}
		if bare := fmt.Sprintf("(%d)", it.Size); strings.Contains(text, bare) {
			t.Errorf("item %s: the PDF writes the size again as %s, which the text report does not", it.ID, bare)
		}
	}
}

// TestOnDemandReport: a report made on demand says who asked, when, why,
// and its event, and has no package.
func TestOnDemandReport(t *testing.T) {
	r := testRecord(1, 3)
	r.Package, r.Disclosures = nil, nil
	r.Report = &custody.Event{Seq: 99, Time: t0.Add(48 * time.Hour), Type: "custody.report", Action: "Report made",
		Actor: custody.Person{Name: "judge.sok", Role: "auditor"}, Auth: "local session s_1", Purpose: "hearing of 3 December"}
	out := renderTest(t, r)
	text := norm(strings.Join(pdfText(t, out.pdf, true), " "))
	for _, want := range []string{
		"On-demand report, event 99", "Requested by judge.sok (auditor)", "Purpose hearing of 3 December",
		"Made at " + custody.TimeText(r.Report.Time) + " (event 99)", "Authenticated by local session s_1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(text, "Other disclosures") || strings.Contains(text, "Sealed by") {
		t.Error("an on-demand report speaks of a package")
	}
}

// TestLongChainAcrossPages: an item with 300 events fills pages; every
// event is there, in order, and each page the table reaches starts with
// its column headings.
func TestLongChainAcrossPages(t *testing.T) {
	r := testRecord(1, 300)
	start := time.Now()
	out := renderTest(t, r)
	t.Logf("300 events: %d pages, %d bytes, rendered in %v", out.pages, len(out.pdf), time.Since(start).Round(time.Millisecond))
	if out.pages < 10 {
		t.Fatalf("%d pages for 300 events", out.pages)
	}
	pages := pdfText(t, out.pdf, true)
	if len(pages) != out.pages {
		t.Fatalf("pdftotext found %d pages, the layout made %d", len(pages), out.pages)
	}
	text := norm(strings.Join(pages, " "))
	pos := 0
	for _, e := range r.Items[0].Chain {
		for _, want := range eventTexts(e) {
			if !strings.Contains(text, want) {
				t.Fatalf("event %d: text lacks %q", e.Seq, want)
			}
		}
		if e.Purpose != "" {
			p := strings.Index(text[pos:], norm(e.Purpose)+" ")
			if p < 0 {
				t.Fatalf("event %d out of order", e.Seq)
			}
			pos += p
		}
	}
	heads := norm("Event no. Time (UTC) Person (role) Authenticated by Action Purpose / details")
	withRows := 0
	inChain := false
	for i, p := range pages {
		p = norm(p)
		// The chain's rows, from its caption on (the summary of who was
		// sent the evidence lists the same views before it, under its
		// own headings).
		from := 0
		if c := strings.Index(p, "Chain of custody of item"); c >= 0 {
			inChain, from = true, c
		}
		if !inChain || !strings.Contains(p[from:], "for the indictment") {
			continue
		}
		withRows++
		// The headings come before the page's first row of the chain
		// (page 2 also holds the case's events, under the same
		// headings).
		first := from + strings.Index(p[from:], "for the indictment")
		if h := strings.LastIndex(p[:first], heads); h < 0 {
			t.Errorf("page %d: no column headings above the first row", i+1)
		}
		if !strings.HasPrefix(p, "Chain of custody report · Case C-2026-0042 · Package pk_7f3a") {
			t.Errorf("page %d: no header: %.80q", i+1, p)
		}
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d: no %q", i+1, want)
		}
	}
	if withRows < 8 {
		t.Errorf("the chain spans %d pages", withRows)
	}
	checkInside(t, out)
	checkBlankMargins(t, toPNG(t, out.pdf, "long-chain"))
}

// TestHiddenCharactersAreShownEscaped: a right-to-left override, a
// zero-width space, NUL and a byte that is not UTF-8, in names, purposes
// and notes, are drawn as escapes and never reach the text; a character
// no embedded font has is drawn as its escape, not dropped.
func TestHiddenCharactersAreShownEscaped(t *testing.T) {
	r := testRecord(1, 3)
	r.Items[0].Name = "invoice\u202efdp.exe"
	r.Items[0].Chain[1].Actor.Name = "mallory\u202e)rotagitsevni("
	r.Items[0].Chain[1].Purpose = "look\u200bhere\x00now"
	r.Items[0].Note = "bad byte \xff here; Arabic \u0645; emoji \U0001F600"
	out := renderTest(t, r)
	for _, raw := range []bool{false, true} {
		text := strings.Join(pdfText(t, out.pdf, raw), "")
		for _, want := range []string{"Name " + `invoice\u202efdp.exe`, `Note bad byte \xff here; Arabic \u0645; emoji \U0001f600`} {
			if !strings.Contains(norm(text), want) {
				t.Errorf("raw=%v: text lacks %q", raw, want)
			}
		}
		// In the narrow columns of the chain, long words break
		// between lines.
		for _, want := range []string{`mallory\u202e)rotagitsevni(`, `look\u200bhere\u0000now`} {
			if !strings.Contains(squash(text), want) {
				t.Errorf("raw=%v: text lacks %q", raw, want)
			}
		}
		for _, r := range text {
			if r != '\n' && r != '\f' && printable.Hidden(r) {
				t.Errorf("raw=%v: the text holds U+%04X", raw, r)
			}
		}
	}
	if bytes.Contains(out.pdf, []byte("\u202e")) {
		t.Error("the PDF holds a raw U+202E")
	}
}

// TestScriptsAreExtractedExactly: the scripts of the region's victims
// and suspects come back from pdftotext exactly as they went in, in
// names, titles, persons and purposes, none as an escape: Khmer
// syllables (a subscript consonant, a pre-base vowel, a split vowel),
// Baybayin, Thai and Lao (pre-base vowels, stacked vowels and tones) and
// Myanmar (the medial ra drawn left of its consonant).
func TestScriptsAreExtractedExactly(t *testing.T) {
	for _, c := range []struct {
		png                          string
		title, name, person, purpose string
		// shown is the purpose as the table draws it.
		shown string
	}{
		{png: "khmer", title: "ព្រះរាជាណាចក្រកម្ពុជា", name: "ស្រីពៅ ᜊᜌ᜔ᜊᜌᜒᜈ᜔.jpg", person: "ស្រីពៅ",
			purpose: "ពិនិត្យ\u200bរូបភាព ព្រះរាជាណាចក្រកម្ពុជា", shown: custody.Shown("ពិនិត្យ\u200bរូបភាព") + " ព្រះរាជាណាចក្រកម្ពុជា"},
		{png: "thai-lao-myanmar", title: "กรุงเทพมหานคร ວຽງຈັນ ແຂວງ", name: "မြန်မာ ရန်ကုန်.jpg", person: "สมชาย ใจดี",
			purpose: "ตรวจสอบรูปภาพ မြန်မာ ရန်ကုန်", shown: "ตรวจสอบรูปภาพ မြန်မာ ရန်ကုန်"},
	} {
		r := testRecord(1, 3)
		r.Case.Title = c.title
		r.Items[0].Name = c.name
		r.Items[0].Chain[1].Actor = custody.Person{Name: c.person, Role: "hotline analyst"}
		r.Items[0].Chain[1].Purpose = c.purpose
		out := renderTest(t, r)
		for _, raw := range []bool{false, true} {
			text := norm(strings.Join(pdfText(t, out.pdf, raw), " "))
			want := []string{"Case title " + c.title, "Name " + c.name}
			if raw {
				// Table cells, in the order they are drawn.
				want = append(want, c.person+" (hotline analyst)", c.shown)
			}
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s, raw=%v: text lacks %q", c.png, raw, w)
				}
			}
			for _, esc := range []string{`\u0e`, `\u10`, `\u17`} {
				if strings.Contains(text, esc) {
					t.Errorf("%s, raw=%v: a letter is drawn as an escape (%s...)", c.png, raw, esc)
				}
			}
		}
		checkInside(t, out)
		checkBlankMargins(t, toPNG(t, out.pdf, c.png))
	}
}

// TestShapingKhmer: the shaper reorders and stacks Khmer as the font's
// OpenType tables say, in clusters that keep each syllable whole.
func TestShapingKhmer(t *testing.T) {
	doc := pdf.New(pdf.Info{})
	fs, err := newFaces(doc)
	if err != nil {
		t.Fatal(err)
	}
	sh := newShaper(fs)
	cs := sh.word(regular, "ស្រីពៅ")
	if len(cs) != 2 || cs[0].text != "ស្រី" || cs[1].text != "ពៅ" {
		t.Fatalf("clusters %+v, want ស្រី and ពៅ", cs)
	}
	for _, c := range cs {
		if c.face.file != khmerRegular {
			t.Errorf("%q in font %s", c.text, fontFileNames[c.face.file])
		}
	}
	// ស្រី: the subscript RO is drawn first (to the left of its base),
	// ពៅ: the vowel sign E is drawn before PO; neither is drawn with the
	// base's glyph alone, so each needs ActualText.
	sa, _ := fs.all[khmerRegular].ot.NominalGlyph('ស')
	if g := cs[0].glyphs; len(g) < 2 || g[0].ID == uint16(sa) {
		t.Errorf("ស្រី not reordered: %+v", g)
	}
	po, _ := fs.all[khmerRegular].ot.NominalGlyph('ព')
	if g := cs[1].glyphs; len(g) < 2 || g[0].ID == uint16(po) {
		t.Errorf("ពៅ not reordered: %+v", g)
	}
	// A word longer than its line breaks between syllables, never
	// inside one.
	lines := sh.wrap([]span{{strings.Repeat("ព្រះរាជាណាចក្រកម្ពុជា", 6), stCell}}, 60, stCell)
	if len(lines) < 3 {
		t.Fatalf("%d lines", len(lines))
	}
	var got string
	for _, l := range lines {
		if l.width > 60 {
			t.Errorf("line %.1f pt wide in 60", l.width)
		}
		for _, p := range l.pieces {
			got += p.c.text
		}
	}
	if got != strings.Repeat("ព្រះរាជាណាចក្រកម្ពុជា", 6) {
		t.Errorf("lines hold %q", got)
	}
}

// TestRenderIsDeterministic: the same record gives the same bytes, also
// when rendered at the same time in two goroutines; another record gives
// another document ID.
func TestRenderIsDeterministic(t *testing.T) {
	r := testRecord(2, 20)
	var outs [3]bytes.Buffer
	var errs [3]error
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() { errs[i] = Render(&outs[i], r) })
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(outs[i].Bytes(), outs[0].Bytes()) {
			t.Fatalf("render %d differs from render 0", i)
		}
	}
	r2 := testRecord(2, 20)
	r2.Items[1].Note = "another note"
	var other bytes.Buffer
	if err := Render(&other, r2); err != nil {
		t.Fatal(err)
	}
	if id(outs[0].Bytes()) == id(other.Bytes()) {
		t.Error("two different reports have one document ID")
	}
	if !bytes.Contains(outs[0].Bytes(), []byte("/CreationDate (D:"+r.Package.SealedAt.Format("20060102150405")+"Z)")) {
		t.Error("the creation date is not the sealing time")
	}
}

func id(doc []byte) string {
	i := bytes.LastIndex(doc, []byte("/ID ["))
	if i < 0 {
		return ""
	}
	return string(doc[i : i+40])
}

// TestRandomTextStaysOnThePage: random Unicode (invalid UTF-8, NUL,
// surrogate halves, marks without a base, very long words) in every
// text field renders without error and draws nothing outside the
// margins.
func TestRandomTextStaysOnThePage(t *testing.T) {
	rng := newRand(1)
	for i := range 12 {
		r := testRecord(2, 4)
		set := func(p *string) { *p = rng.text() }
		set(&r.Case.ID)
		set(&r.Case.Title)
		set(&r.Package.ID)
		set(&r.Package.Purpose)
		set(&r.Package.SealedBy.Name)
		set(&r.Package.Recipient)
		set(&r.Checkpoint.Origin)
		set(&r.Checkpoint.Text)
		set(&r.Retention)
		set(&r.Generator)
		for k := range r.Items {
			it := &r.Items[k]
			set(&it.ID)
			set(&it.Name)
			set(&it.Path)
			set(&it.Source)
			set(&it.Note)
			set(&it.Hashes.SHA256)
			for j := range it.Chain {
				set(&it.Chain[j].Actor.Name)
				set(&it.Chain[j].Actor.Role)
				set(&it.Chain[j].Auth)
				set(&it.Chain[j].Purpose)
				set(&it.Chain[j].Details)
			}
		}
		for k := range r.Disclosures {
			set(&r.Disclosures[k].Package)
			r.Disclosures[k].Items = []string{rng.text(), rng.text()}
		}
		out := renderTest(t, r)
		checkInside(t, out)
		if i == 0 {
			files := toPNG(t, out.pdf, fmt.Sprintf("random-%d", i))
			checkBlankMargins(t, files)
		}
		for _, p := range pdfText(t, out.pdf, false) {
			for _, c := range p {
				if c != '\n' && c != '\f' && printable.Hidden(c) {
					t.Fatalf("case %d: the text holds U+%04X", i, c)
				}
			}
		}
	}
}

func TestRenderRefusesNoRecord(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, nil); err == nil || b.Len() > 0 {
		t.Fatalf("Render(nil) = %v, wrote %d bytes", err, b.Len())
	}
}

// checkInside fails the test for anything drawn outside the page, or
// inside the 2 cm margins: rules not at all, glyphs by no more than
// their side bearings (1 pt).
func checkInside(t *testing.T, out rendered) {
	t.Helper()
	if len(out.marks) == 0 {
		t.Fatal("nothing was traced")
	}
	bad := 0
	for _, m := range out.marks {
		slack := 0.001
		if m.Glyph {
			slack = 1
		}
		page := m.X0 >= 0 && m.Y0 >= 0 && m.X1 <= pageWidth && m.Y1 <= pageHeight
		inMargins := m.X0 >= margin-slack && m.Y0 >= margin-slack && m.X1 <= pageWidth-margin+slack && m.Y1 <= pageHeight-margin+slack
		if m.Page >= out.pages || !page || !inMargins {
			if bad++; bad <= 5 {
				t.Errorf("drawn outside: %+v", m)
			}
		}
	}
}

// checkBlankMargins fails the test unless the outer 1.8 cm of every page,
// as pdftoppm rendered it, is white.
func checkBlankMargins(t *testing.T, files []string) {
	t.Helper()
	if len(files) == 0 {
		t.Fatal("no page rendered")
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b := img.Bounds()
		band := 56 // 1.8 cm at 80 dpi is 56.7 pixels
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if x >= b.Min.X+band && x < b.Max.X-band && y >= b.Min.Y+band && y < b.Max.Y-band {
					continue
				}
				if !white(img, x, y) {
					t.Fatalf("%s: ink at (%d, %d), in the margin", f, x, y)
				}
			}
		}
	}
}

func white(img image.Image, x, y int) bool {
	r, g, b, _ := img.At(x, y).RGBA()
	return r>>8 >= 250 && g>>8 >= 250 && b>>8 >= 250
}

// BenchmarkRender300 renders a package report of one item with 300
// events (47 pages).
func BenchmarkRender300(b *testing.B) {
	r := testRecord(1, 300)
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := Render(&buf, r); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}

// TestStackedMarksAreEscaped: a letter under a stack of combining marks
// ("zalgo" text) cannot draw over the lines around it: past four marks
// in a row, each is drawn as its escape.
//
// On a Latin letter every mark is escaped already (custody.ShownName:
// an e and U+0301 would read as é); the stack rule holds for the marks
// of other scripts, which are drawn.
func TestStackedMarksAreEscaped(t *testing.T) {
	r := testRecord(1, 2)
	r.Items[0].Name = "Z" + strings.Repeat("\u0301\u0316", 40) + ".jpg"
	r.Items = append(r.Items, r.Items[0])
	r.Items[1].Name = "\u1780" + strings.Repeat("\u17c9\u17d1", 40) + ".jpg"
	out := renderTest(t, r)
	checkInside(t, out)
	text := squash(strings.Join(pdfText(t, out.pdf, true), ""))
	for _, want := range []string{
		"Z" + strings.Repeat(`\u0301\u0316`, 40) + ".jpg",
		"\u1780\u17c9\u17d1\u17c9\u17d1" + strings.Repeat(`\u17c9\u17d1`, 38) + ".jpg",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

// TestHashesBreakBetweenGroups: a hash too long for its line breaks only
// every eight digits from its first, so that every line holds whole
// groups a reader can compare (never "a5a" on one line and "5" on the
// next); the bracket before it and the punctuation after it stay with
// it, the text around it breaks as any text does, and no line is wider
// than its column. A SHA-256 in prose, a SHA-1 in brackets and an MD5
// with a comma, in columns of several widths.
func TestHashesBreakBetweenGroups(t *testing.T) {
	doc := pdf.New(pdf.Info{})
	fs, err := newFaces(doc)
	if err != nil {
		t.Fatal(err)
	}
	sh := newShaper(fs)
	sha256 := "0123456789abcdef0011223344556677fedcba9876543210a5a5a5a5b6b6b6b6"
	sha1 := "da39a3ee5e6b4b0d3255bfef95601890afd80709"
	md5 := "d41d8cd98f00b204e9800998ecf8427e"
	for _, c := range []struct{ text, hash string }{
		{"1234567 bytes streamed, sha256 " + sha256 + " matched the deposit", sha256},
		{"the object (" + sha1 + ") was read back", sha1},
		{"reviewed with md5 " + md5 + ", as given", md5},
		// "ff" would be one glyph in the proportional face: the hash
		// in brackets is set in the monospaced one, digit by digit.
		{"the copy [" + "da39a3ee5e6b4b0d3255bfef95601890aff80709" + "] was read back", "da39a3ee5e6b4b0d3255bfef95601890aff80709"},
		{"(7852bff5" + md5[8:] + ") noted", "7852bff5" + md5[8:]},
		// The vault's ids, by groups of the digits after their prefix.
		{"report rp_87f8a4309bc7ae2f10cc017d, session se_6022c21ff06227a53efcba01", "87f8a4309bc7ae2f10cc017d"},
		{"session se_6022c21ff06227a53efcba01.", "6022c21ff06227a53efcba01"},
	} {
		for _, width := range []float64{60, 75, 90, 110, 140, 200} {
			lines := sh.wrap(prose(c.text, stCell, stCellH), width, stCell)
			var texts []string
			for _, l := range lines {
				if l.ink > width+0.01 {
					t.Errorf("%.0f pt: a line %.1f pt wide", width, l.ink)
				}
				var s string
				for _, p := range l.pieces {
					s += p.c.text
				}
				texts = append(texts, s)
			}
			// Spaces where lines break are not drawn: compare without
			// spaces.
			if strings.ReplaceAll(strings.Join(texts, ""), " ", "") != strings.ReplaceAll(c.text, " ", "") {
				t.Fatalf("%.0f pt: lines %q hold other text than %q", width, texts, c.text)
			}
			// Each line's part of the hash starts at a multiple of
			// eight digits from its first and, unless it ends the
			// hash, is whole groups.
			at := 0
			for _, s := range texts {
				part := hexRun(s, c.hash, at)
				if part == 0 {
					continue
				}
				if at%hexGroup != 0 || (at+part < len(c.hash) && part%hexGroup != 0) {
					t.Errorf("%.0f pt: the hash breaks after %d digits, then %d: lines %q", width, at, part, texts)
				}
				at += part
			}
			if at != len(c.hash) {
				t.Errorf("%.0f pt: %d of the hash's %d digits found in whole groups in %q", width, at, len(c.hash), texts)
			}
		}
	}
}

// hexRun is how many digits of hash, from its digit at on, line s holds:
// where at is 0, from where the hash's first group starts in s; else from
// the line's start. 0 if none.
func hexRun(s, hash string, at int) int {
	if at == 0 {
		i := strings.Index(s, hash[:hexGroup])
		if i < 0 {
			return 0
		}
		s = s[i:]
	}
	n := 0
	for n < len(s) && at+n < len(hash) && s[n] == hash[at+n] {
		n++
	}
	return n
}

// TestShapingThaiLaoMyanmar: each script goes to its own font, in the
// style's weight, and the shaper reorders what the script draws before
// the character it follows in the text (Myanmar's medial ra).
func TestShapingThaiLaoMyanmar(t *testing.T) {
	fs, err := newFaces(pdf.New(pdf.Info{}))
	if err != nil {
		t.Fatal(err)
	}
	sh := newShaper(fs)
	for _, c := range []struct {
		word          string
		regular, bold fontFile
	}{
		{"ใจดี", thaiRegular, thaiBold},
		{"ແຂວງ", laoRegular, laoBold},
		{"မြန်မာ", myanmarRegular, myanmarBold},
	} {
		for _, k := range []struct {
			st   styleKind
			want fontFile
		}{{regular, c.regular}, {bold, c.bold}} {
			cs := sh.word(k.st, c.word)
			var got strings.Builder
			for _, cl := range cs {
				got.WriteString(cl.text)
				if cl.face.file != k.want {
					t.Errorf("%s: a cluster %q in %s, want %s", c.word, cl.text, fontFileNames[cl.face.file], fontFileNames[k.want])
				}
			}
			if got.String() != c.word {
				t.Errorf("%s: clusters hold %q", c.word, got.String())
			}
		}
	}
	// မြ: the medial ra (U+103C) is drawn first, around its consonant.
	cs := sh.word(regular, "မြ")
	ra, _ := fs.all[myanmarRegular].ot.NominalGlyph('\u103c')
	if len(cs) != 1 || len(cs[0].glyphs) < 2 || cs[0].glyphs[0].ID != uint16(ra) {
		t.Errorf("မြ not reordered: %+v", cs)
	}
}

// TestCertificateSignatureStaysWithWhatItCertifies: the lines to sign
// are never split across pages, and when a page break parts them from
// the certificate's text they are headed by what they certify (the
// items, the case, the checkpoint), so that a signed last page cannot be
// moved to another certificate. The record sizes tried make the table
// end at each height of its page.
func TestCertificateSignatureStaysWithWhatItCertifies(t *testing.T) {
	parted := 0
	for items := 1; items <= 40; items++ {
		r := testRecord(items, 1)
		pages := pdfText(t, renderTest(t, r).pdf, false)
		var signed string
		for _, p := range pages {
			if strings.Contains(p, "Signature:") {
				signed = norm(p)
			}
		}
		for _, b := range custody.Certificate(r).Blanks {
			if !strings.Contains(signed, b+":") {
				t.Fatalf("%d items: the page with the signature line lacks %q:\n%s", items, b, signed)
			}
		}
		if strings.Contains(signed, "Certificate of authenticity of digital evidence by hash value I, the undersigned") {
			continue
		}
		parted++
		want := fmt.Sprintf("continued. The person signing below certifies paragraphs 1 to 4 above and the %d item", items)
		if !strings.Contains(signed, want) || !strings.Contains(signed, r.Checkpoint.LogKeyFingerprint) || !strings.Contains(signed, r.Items[items-1].ID) {
			t.Errorf("%d items: the signature page, parted from the certificate, does not say what it certifies:\n%s", items, signed)
		}
	}
	if parted == 0 {
		t.Error("no record size parted the signature lines from the certificate's text: the test tried nothing")
	}
}
