package custody

import (
	"strings"

	"github.com/custos-vault/custos/internal/printable"
)

// Shown is free text from an event (a purpose, note, source, title,
// reason, person name) as a document shows it, so that every backslash
// in a document starts an escape and nothing else:
//
//   - a backslash that a reader could take for the start of an escape
//     (followed by u, U or x) is written \x5c;
//   - every character that is a control, a format character (such as
//     U+202E RIGHT-TO-LEFT OVERRIDE), a line or paragraph separator, or
//     otherwise not graphic is written \uXXXX (\UXXXXXXXX above U+FFFF);
//   - bytes that are not UTF-8 are written \xHH.
//
// So a name cannot reorder, hide or forge any part of a document, and a
// text that holds the characters "\u202e" reads differently from one that
// holds U+202E. Letters of every script (Khmer, Arabic, Tagalog) are kept
// as they are.
func Shown(s string) string {
	if strings.Contains(s, `\`) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U' || s[i+1] == 'x') {
				b.WriteString(`\x5c`)
				continue
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	}
	return printable.Terminal(s)
}

// ShownName is an item name as a document shows it. Names are recorded
// in an escaped form already (docs/package-format.md, section 7: bytes
// that are not UTF-8, the backslash itself, and the bytes of hidden
// characters, as \xHH), so only the joiners a name keeps are escaped
// further (printable.Terminal), as Shown does, and the marks that would
// make it read as another name (printable.LookalikeMarks: café written
// as e and U+0301 is shown cafe\u0301).
func ShownName(name string) string { return printable.Terminal(printable.LookalikeMarks(name)) }
