package pkgformat

import "testing"

// TestExtractNameNoHiddenCharacters: a package's item names are read by
// the verifier from a file that may not come from an honest vault (or
// from a vault that accepted a non-canonical escape). Escapes are for
// bytes that are not UTF-8; a run of escapes that spells a valid character
// must not put onto the recipient's disk what the vault shows escaped in a
// name: control characters (C1 CSI, NEL), a right-to-left override that
// makes "invoice<RLO>fdp.exe" read as "invoiceexe.pdf", a zero-width
// space out of place, a blank name. Such a name falls back to its
// archive name, and the report gives the name as recorded.
func TestExtractNameNoHiddenCharacters(t *testing.T) {
	for _, name := range []string{
		`invoice\xe2\x80\xaefdp.exe`,
		`x\xc2\x9b2J.txt`,
		`a\xe2\x80\x8bb.jpg`,
		`DCIM/\xc2\x85/x.jpg`,
		`\x20`,
		// A forged package may write what the vault escapes plainly.
		"invoice\u202efdp.exe",
		"a\u200b.jpg",
		"\ufe0f.jpg",
		"a\u200d\u200d.jpg",
		"\u3164.jpg",
	} {
		got, why := extractName(name)
		if why == "" {
			t.Errorf("extractName(%+q) = %+q: writes a name that hides or fakes what it is to the recipient's disk", name, got)
		}
	}
	// What writing needs stays: the recipient gets the name as seized.
	for _, name := range []string{"❤️.jpg", "👨\u200d👩\u200d👧.jpg", "ខ្ញុំ\u200bស្រលាញ់.jpg"} {
		if got, why := extractName(name); why != "" || got != name {
			t.Errorf("extractName(%+q) = %+q (%s)", name, got, why)
		}
	}
}
