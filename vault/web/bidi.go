package web

import (
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strings"
)

// Values people wrote (case titles, reasons, court orders, item names,
// hash set names, notes) may be in any script, and a right-to-left one
// reorders what stands beside it: in "destroy case X (court order “צו
// 16”): “פסק דין”" Unicode's bidirectional algorithm (UAX #9) joins the
// order's digits, the punctuation and the reason into one right-to-left
// run, and the reason is drawn where the order should be. So every such
// value is put on a page in its own <bdi> element: a bidirectional
// isolate (UAX #9's FSI ... PDI) whose direction comes from its own first
// strong character, which neither takes from nor gives to the text around
// it. Copying a value from the page copies no control character.

// isolateOpen and isolateClose mark an isolated argument in a message
// until it is escaped; no message of the catalogs holds them, and a value
// that does has them replaced (isolated.Format).
const isolateOpen, isolateClose = "\x01", "\x02"

var isolateMarks = strings.NewReplacer(isolateOpen, "\uFFFD", isolateClose, "\uFFFD")

// isolated is an argument of a message, formatted with the message's own
// verb (%s, %d, %q) and marked as one isolate.
type isolated struct{ v any }

func (a isolated) Format(f fmt.State, verb rune) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), a.v)
	io.WriteString(f, isolateOpen+isolateMarks.Replace(s)+isolateClose)
}

var isolateTags = strings.NewReplacer(isolateOpen, "<bdi>", isolateClose, "</bdi>")

// isolatedText is key's message as HTML: the message escaped, each of
// args formatted with the verb the message gives it, escaped and put in
// its own <bdi>. In an attribute html/template strips the tags and keeps
// the text.
func (c *catalog) isolatedText(key string, args ...any) template.HTML {
	if len(args) == 0 {
		return template.HTML(template.HTMLEscapeString(c.text(key)))
	}
	marked := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case int, int64, uint64, float64:
			marked[i] = a // a count, a size: no direction of its own
		default:
			marked[i] = isolated{a}
		}
	}
	return template.HTML(isolateTags.Replace(template.HTMLEscapeString(c.text(key, marked...))))
}

// iso is a value put in a page's text on its own, in its own <bdi>, for
// templates: {{iso .Case.Title}}.
func iso(v any) template.HTML {
	return template.HTML("<bdi>" + template.HTMLEscapeString(fmt.Sprint(v)) + "</bdi>")
}

// quotedText is a text people wrote as the custody documents quote it
// (custody's quoted: a quotation mark inside is written \u201c or
// \u201d, so the first ” closes it).
var quotedText = regexp.MustCompile(`“[^“”]*”`)

// clauses is an event's details in words (custody.DescribeClauses) as
// HTML: the clauses joined with "; ", each in its own isolate (one may be
// an item's name alone), and each quoted text in each in one too.
func clauses(cs []string) template.HTML {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		e := quotedText.ReplaceAllStringFunc(template.HTMLEscapeString(c), func(q string) string {
			return "“<bdi>" + strings.TrimSuffix(strings.TrimPrefix(q, "“"), "”") + "</bdi>”"
		})
		b.WriteString("<bdi>" + e + "</bdi>")
	}
	return template.HTML(b.String())
}

// isoText is a value as one bidirectional isolate in plain text (U+2068
// FIRST STRONG ISOLATE ... U+2069 POP DIRECTIONAL ISOLATE), for where
// HTML takes no element: the text of an <option>.
func isoText(s string) string { return "\u2068" + s + "\u2069" }
