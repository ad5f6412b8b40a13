// Package printable makes text that others chose safe to show and to
// store: item names whose bytes are not all UTF-8 (old media), and any
// text that reaches a terminal from a seized medium or from a package.
//
// Escape and Unescape are the reversible form the vault records item
// names in (docs/package-format.md, section 9): each byte that is not
// part of valid UTF-8, and '\' itself, becomes \xHH (lowercase hex).
// Terminal escapes, further, every control, format, line or paragraph
// separator and otherwise invisible character as \uXXXX.
package printable

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape turns a name's bytes into valid UTF-8: each byte that is not
// part of valid UTF-8 becomes \xHH, and '\' becomes \x5c; everything else
// is kept as it is (NFC and NFD forms stay distinct).
func Escape(b []byte) string {
	var out strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 || r == '\\' {
			fmt.Fprintf(&out, `\x%02x`, b[0])
			b = b[1:]
			continue
		}
		out.Write(b[:n])
		b = b[n:]
	}
	return out.String()
}

// Unescape returns the bytes a name stands for: each \xHH escape
// (lowercase hex) becomes its byte; ok is false for any other backslash.
// Whether the escapes are canonical (Escape(Unescape(s)) == s) is the
// caller's check.
func Unescape(s string) (b []byte, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		if i+4 > len(s) || s[i+1] != 'x' || !lowerHex(s[i+2]) || !lowerHex(s[i+3]) {
			return nil, false
		}
		b = append(b, unhex(s[i+2])<<4|unhex(s[i+3]))
		i += 3
	}
	return b, true
}

func lowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// Hidden reports whether r shows as nothing, or moves or hides what a
// terminal shows: a control, format (Cf), line or paragraph separator, or
// any other character that is not graphic (a space is shown).
func Hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || !unicode.IsGraphic(r) && r != ' '
}

// Terminal is s as it may reach a terminal: bytes that are not UTF-8 as
// \xHH, hidden characters (Hidden) as \uXXXX, or \UXXXXXXXX above
// U+FFFF (fixed widths, so that no two texts are shown alike), the rest
// as it is.
func Terminal(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case Hidden(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}
