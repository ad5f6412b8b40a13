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

// Escape turns a name's bytes into text a person reads as it is, and
// from which Unescape gives the same bytes back: each byte that is not
// part of valid UTF-8, '\\' itself, and every byte of a character that
// would not be seen as itself where it stands (Conceals: a control, a
// line or paragraph separator, an invisible character that writing does
// not need there) becomes \xHH; a '/'-separated component with no
// visible character (blank, Blank) is escaped whole. Everything else is
// kept as it is (NFC and NFD forms stay distinct): "café.jpg",
// "❤️.jpg", "👨‍👩‍👧.jpg" and Khmer words split by U+200B stay as written;
// "invoice\u202efdp.exe" becomes "invoice\xe2\x80\xaefdp.exe" and
// "a\nb" becomes "a\x0ab".
func Escape(b []byte) string {
	var out strings.Builder
	for k, part := range strings.Split(string(b), "/") {
		if k > 0 {
			out.WriteByte('/')
		}
		if part != "" && Blank(part) {
			for i := 0; i < len(part); i++ {
				fmt.Fprintf(&out, `\x%02x`, part[i])
			}
			continue
		}
		for i := 0; i < len(part); {
			r, n := utf8.DecodeRuneInString(part[i:])
			if r == utf8.RuneError && n <= 1 || r == '\\' || Conceals(part, i) {
				for j := i; j < i+n; j++ {
					fmt.Fprintf(&out, `\x%02x`, part[j])
				}
			} else {
				out.WriteString(part[i : i+n])
			}
			i += n
		}
	}
	return out.String()
}

// Joiner reports whether r is a character that shows as nothing but
// that writing needs between two visible characters: the zero-width
// space U+200B (word boundaries in Khmer, Thai, Lao and Burmese), the
// zero-width non-joiner U+200C and joiner U+200D (Indic and Persian
// letters, emoji sequences such as 👨‍👩‍👧).
func Joiner(r rune) bool { return r == '\u200b' || r == '\u200c' || r == '\u200d' }

// Selector reports whether r is a variation selector that picks the
// glyph of the character before it: U+FE00 to U+FE0F (U+FE0F makes ❤
// the emoji ❤️) and U+E0100 to U+E01EF (a variant of a Han ideograph).
func Selector(r rune) bool {
	return r >= '\ufe00' && r <= '\ufe0f' || r >= '\U000e0100' && r <= '\U000e01ef'
}

// Invisible reports whether r shows as nothing, or is not a character at
// all, wherever it stands: a Unicode Default_Ignorable_Code_Point (the
// format characters Cf, among them the direction overrides and isolates;
// Other_Default_Ignorable_Code_Point such as the Hangul fillers U+115F,
// U+1160, U+3164, U+FFA0 and the grapheme joiner U+034F; variation
// selectors; the tags of the U+E0000 block), the blank Braille pattern
// U+2800, and any other code point that is not graphic (controls,
// private use, surrogates, unassigned). Spaces (Zs) are not invisible.
// Joiners and selectors are invisible, and Needed says where writing
// needs them.
func Invisible(r rune) bool {
	if unicode.Is(unicode.Zs, r) {
		return false
	}
	return !unicode.IsGraphic(r) || r == '\u2800' ||
		unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// Needed reports whether the character at byte i of s is a joiner
// (Joiner) standing between two visible letters, marks, digits or
// symbols, the first of which may carry a selector (❤️‍🔥), or a
// selector (Selector) right after a visible character. A visible
// character here is graphic, not a space, and not invisible; a byte that
// is not UTF-8 counts as one after which a selector may stand (it is
// shown escaped). Anywhere else (first, last, doubled, beside a space or
// punctuation), a joiner or a selector only hides that two texts
// differ, and Needed is false; it is false for every other character.
func Needed(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	switch {
	case i == 0:
		return false
	case Selector(r):
		return seen(before)
	case Joiner(r):
		if Selector(before) {
			before, _ = utf8.DecodeLastRuneInString(s[:i-len(string(before))])
		}
		after, m := utf8.DecodeRuneInString(s[i+n:])
		return m > 0 && joins(before) && joins(after)
	}
	return false
}

// joins reports whether a joiner may stand beside r: a visible letter,
// mark, digit or symbol (emoji are symbols), not punctuation.
func joins(r rune) bool {
	return r != utf8.RuneError && seen(r) && unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.S)
}

// seen reports whether r is shown as a mark of its own: graphic, not a
// space, not invisible; utf8.RuneError stands for a byte shown escaped.
func seen(r rune) bool {
	return r == utf8.RuneError || unicode.IsGraphic(r) && !unicode.IsSpace(r) && !Invisible(r)
}

// Conceals reports whether the character at byte i of s would not be
// seen as itself there: a control character, a line or paragraph
// separator (Zl, Zp), or an invisible character (Invisible) that writing
// does not need where it stands (Needed). Text people read in the vault
// holds none (free text refuses it; a name holds it escaped, Escape).
func Conceals(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return false
	}
	return unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || Invisible(r) && !Needed(s, i)
}

// Blank reports whether s has no visible character: nothing but spaces,
// nonspacing marks (Mn) and invisible characters (a text that shows as
// blank on screen). A byte that is not UTF-8 is visible (it is shown
// escaped).
func Blank(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsSpace(r) && !unicode.Is(unicode.Mn, r) && !Invisible(r) {
			return false
		}
	}
	return true
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
