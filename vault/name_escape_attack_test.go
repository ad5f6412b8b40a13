package vault

import "testing"

// TestFileNameEscapesOnlyForNonUTF8: an escape stands for a byte that is
// not UTF-8 in its place. A run of escapes that spells valid UTF-8 (here a
// right-to-left override, the C1 control CSI, a zero-width space and a
// plain é) would carry, once unescaped (custos-verify --extract, anyone
// reading the name's bytes), exactly the characters checkText refuses
// when they are written directly, and makes look-alike names (café and
// caf\xc3\xa9) that are distinct items but the same file on disk. Only
// the canonical form, EscapeName(UnescapeName(name)) == name, is safe.
func TestFileNameEscapesOnlyForNonUTF8(t *testing.T) {
	for _, name := range []string{
		`invoice\xe2\x80\xaefdp.exe`, // U+202E, refused when written directly
		`x\xc2\x9b2J.txt`,            // U+009B (CSI), a C1 control
		`a\xe2\x80\x8bb.jpg`,         // U+200B zero-width space
		`caf\xc3\xa9.txt`,            // "café.txt" in disguise
		`DCIM/\xc2\x85/x.jpg`,        // U+0085 (NEL) as a whole folder name
	} {
		if err := checkFileName(name); err == nil {
			t.Errorf("checkFileName(%q) accepted; unescaped it is %q", name, UnescapeName(name))
		}
	}
	// Bytes that are not UTF-8 stay accepted.
	for _, name := range []string{`caf\xe9.txt`, `\xff\xfe`, `a\x5cb`} {
		if err := checkFileName(name); err != nil {
			t.Errorf("checkFileName(%q): %v", name, err)
		}
	}
}
