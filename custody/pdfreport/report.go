// Package pdfreport renders a chain of custody (custody.Record) as a
// PDF report for a court: A4, the case and the package or the on-demand
// report it is, the checkpoint that proves every event, the case's
// events, each item with its hashes and its complete chain of custody,
// other disclosures, how to verify it all independently, and a
// certificate of the items' hashes to sign by hand.
//
// Text is shaped with OpenType (github.com/go-text/typesetting), so
// Khmer, Thai, Lao and Myanmar are drawn as they are written: subscript
// consonants under their base, pre-base vowels before it, marks and
// tones in place. The fonts are embedded
// (fonts/README.md); each PDF carries a subset of them. Every text that
// came from an event is passed through custody.Shown, and anything no
// embedded font can draw is drawn as its \uXXXX escape, so that nothing
// in a report is hidden, reordered or silently dropped.
//
// The same Record always gives the same bytes.
package pdfreport

import (
	"errors"
	"io"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
)

// Render writes r as a PDF 1.7 document to w. It fails if r is nil, if
// an embedded font cannot be read (a broken build), or if writing to w
// fails; it writes nothing to w unless the whole document was made.
func Render(w io.Writer, r *custody.Record) error {
	return render(w, r, options{})
}

// options are what tests may set.
type options struct {
	// trace is called with the box of every glyph and rule drawn.
	trace func(pdf.Mark)
	// pages, if set, is called with the number of pages made.
	pages func(int)
}

func render(w io.Writer, r *custody.Record, o options) error {
	if r == nil {
		return errors.New("pdfreport: no record")
	}
	doc := pdf.New(info(r))
	doc.Trace = o.trace
	fs, err := newFaces(doc)
	if err != nil {
		return err
	}
	rep := &report{r: r, sh: newShaper(fs)}
	rep.L = newLayout(rep.sh, []span{{headerText(r), stHeader}}, stHeader)
	rep.title()
	rep.establishes()
	rep.reading()
	rep.checkpoint()
	rep.caseSection()
	rep.openers()
	rep.items()
	rep.disclosures()
	rep.instructions()
	rep.certificate()
	rep.L.draw(doc)
	if o.pages != nil {
		o.pages(len(rep.L.pages))
	}
	return doc.Write(w)
}

// info is the document's metadata: identifiers only, no evidence, and
// as its date the time the record was made for (the sealing, or the
// report's event), so that the same record gives the same bytes.
func info(r *custody.Record) pdf.Info {
	in := pdf.Info{
		Title:    "Chain of custody report, case " + custody.Shown(r.Case.ID),
		Creator:  custody.Shown(r.Generator),
		Producer: "custos custody/pdfreport",
		Lang:     "en",
	}
	switch {
	case r.Package != nil:
		in.Title += ", package " + custody.Shown(r.Package.ID)
		in.Created = r.Package.SealedAt
	case r.Report != nil:
		in.Title += ", on-demand report"
		in.Created = r.Report.Time
	}
	return in
}

// headerText is the line at the top of every page.
func headerText(r *custody.Record) string {
	s := "Chain of custody report · Case " + custody.Shown(r.Case.ID)
	switch {
	case r.Package != nil:
		s += " · Package " + custody.Shown(r.Package.ID)
	case r.Report != nil:
		s += " · On-demand report, event " + itoa(r.Report.Seq)
	}
	return s
}

// report is one render in progress.
type report struct {
	r  *custody.Record
	sh *shaper
	L  *layout
}
