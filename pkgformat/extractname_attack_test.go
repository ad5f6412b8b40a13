package pkgformat

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestExtractNameNoHiddenCharacters: a package's item names are read by
// the verifier from a file that may not come from an honest vault (or
// from a vault that accepted a non-canonical escape). Escapes are for
// bytes that are not UTF-8; a run of escapes that spells a valid character
// must not put onto the recipient's disk what the vault refuses in a name:
// control characters (C1 CSI, NEL), a right-to-left override that makes
// "invoice<RLO>fdp.exe" read as "invoiceexe.pdf", a zero-width space.
func TestExtractNameNoHiddenCharacters(t *testing.T) {
	for _, name := range []string{
		`invoice\xe2\x80\xaefdp.exe`,
		`x\xc2\x9b2J.txt`,
		`a\xe2\x80\x8bb.jpg`,
		`DCIM/\xc2\x85/x.jpg`,
	} {
		got, why := extractName(name)
		if why != "" {
			continue
		}
		for _, r := range got {
			if r != utf8.RuneError && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
				t.Errorf("extractName(%q) = %q: writes U+%04X to the recipient's disk", name, got, r)
				break
			}
		}
	}
}
