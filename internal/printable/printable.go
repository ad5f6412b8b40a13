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

	"golang.org/x/text/unicode/norm"
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
			escapeBytes(&out, part)
			continue
		}
		for i := 0; i < len(part); {
			r, n := utf8.DecodeRuneInString(part[i:])
			if r == utf8.RuneError && n <= 1 || r == '\\' || Conceals(part, i) {
				escapeBytes(&out, part[i:i+n])
			} else {
				out.WriteString(part[i : i+n])
			}
			i += n
		}
	}
	return out.String()
}

// escapeBytes writes each byte of s as \xHH.
func escapeBytes(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(b, `\x%02x`, s[i])
	}
}

// escapeRune writes r as \uXXXX, or \UXXXXXXXX above U+FFFF: fixed
// widths, so that no two texts are shown alike.
func escapeRune(b *strings.Builder, r rune) {
	if r > 0xffff {
		fmt.Fprintf(b, `\U%08x`, r)
	} else {
		fmt.Fprintf(b, `\u%04x`, r)
	}
}

// Joiner reports whether r is a character that shows as nothing but
// that writing needs: the zero-width space U+200B (word boundaries in
// Khmer, Thai, Lao and Burmese), the zero-width non-joiner U+200C and
// joiner U+200D (Indic, Arabic and Persian letters, emoji sequences such
// as 👨‍👩‍👧).
func Joiner(r rune) bool { return r == '\u200b' || r == '\u200c' || r == '\u200d' }

// Selector reports whether r is a variation selector: U+FE00 to U+FE0F
// (U+FE0F makes ❤ the emoji ❤️) and U+E0100 to U+E01EF (a variant of a
// Han ideograph).
func Selector(r rune) bool {
	return r >= '\ufe00' && r <= '\ufe0f' || r >= '\U000e0100' && r <= '\U000e01ef'
}

// spaceScripts are the scripts written without spaces between words,
// whose writers mark word boundaries with the zero-width space.
var spaceScripts = []*unicode.RangeTable{
	unicode.Khmer, unicode.Thai, unicode.Lao, unicode.Myanmar, unicode.Tibetan, unicode.Tai_Tham, unicode.New_Tai_Lue,
	unicode.Balinese, unicode.Javanese, unicode.Sundanese, unicode.Buginese,
}

// joiningScripts are the scripts whose letters the zero-width non-joiner
// and joiner keep apart or join (Indic conjuncts and half forms, Arabic
// and Persian letter forms).
var joiningScripts = []*unicode.RangeTable{
	unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya, unicode.Tamil,
	unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala, unicode.Myanmar, unicode.Khmer,
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian,
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

// Needed reports whether the character at byte i of s is a joiner or a
// variation selector standing where writing needs it:
//
//   - a zero-width space (U+200B) right after a letter, mark, digit or
//     punctuation of a script written without spaces between words
//     (Khmer, Thai, Lao, Burmese, Tibetan, Tai Tham, New Tai Lue,
//     Balinese, Javanese, Sundanese, Buginese), whatever follows it (a
//     Khmer keyboard puts one after each word, before the next, a space,
//     the sign ។ or the end);
//   - a zero-width non-joiner or joiner (U+200C, U+200D) between two
//     letters or marks of a script whose letters they keep apart or join
//     (the Indic scripts, Sinhala, Burmese, Khmer, Arabic, Syriac, N'Ko,
//     Mongolian), or a joiner between two emoji (a symbol So other than
//     the blank Braille pattern, or a skin tone), the first possibly
//     followed by a U+FE0F that is itself needed (❤️‍🔥);
//   - U+FE0E or U+FE0F right after a symbol So, after ‼ ⁉ 〰 〽, or after
//     #, * or a digit that U+20E3 follows (a keycap, 1️⃣): the text or
//     emoji form of that character;
//   - an ideographic variation selector (U+E0100 to U+E01EF) right after
//     a Han ideograph.
//
// Anywhere else (first, doubled, beside Latin letters, digits or ASCII
// symbols, after a letter no selector applies to) a joiner or a selector
// only hides that two texts differ, and Needed is false; it is false for
// every other character.
func Needed(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	before, bn := utf8.DecodeLastRuneInString(s[:i])
	after, an := utf8.DecodeRuneInString(s[i+n:])
	switch {
	case r == '\ufe0e' || r == '\ufe0f':
		switch {
		case bn == 0, before == utf8.RuneError && bn == 1:
			return false
		case unicode.Is(unicode.So, before) && !Invisible(before), before == '\u203c', before == '\u2049', before == '\u3030', before == '\u303d':
			return true
		case before == '#' || before == '*' || before >= '0' && before <= '9':
			return an > 0 && after == '\u20e3'
		}
		return false
	case r >= '\U000e0100' && r <= '\U000e01ef':
		return bn > 0 && unicode.Is(unicode.Ideographic, before)
	case r == '\u200b':
		return bn > 0 && inScript(before, spaceScripts, unicode.L, unicode.M, unicode.N, unicode.P)
	case r == '\u200c' || r == '\u200d':
		if bn == 0 || an == 0 {
			return false
		}
		if inScript(before, joiningScripts, unicode.L, unicode.M) && inScript(after, joiningScripts, unicode.L, unicode.M) {
			return true
		}
		if r == '\u200c' {
			return false
		}
		if before == '\ufe0f' {
			// Only a selector that is itself where it belongs: one that
			// is escaped (after a skin tone) leaves the joiner beside an
			// escape.
			if !Needed(s, i-bn) {
				return false
			}
			before, _ = utf8.DecodeLastRuneInString(s[:i-bn])
		}
		return emoji(before) && emoji(after)
	}
	return false
}

// inScript reports whether r is a character of one of scripts and of
// one of the general categories given (letters, marks...).
func inScript(r rune, scripts []*unicode.RangeTable, categories ...*unicode.RangeTable) bool {
	return r != utf8.RuneError && unicode.In(r, scripts...) && unicode.In(r, categories...) && !Invisible(r)
}

// emoji reports whether r can stand on either side of an emoji
// sequence's joiner: a symbol So (no ASCII character is one) that is
// not invisible (the blank Braille pattern U+2800 is So), or a skin tone
// (U+1F3FB to U+1F3FF, Sk).
func emoji(r rune) bool {
	return r != utf8.RuneError && (unicode.Is(unicode.So, r) && !Invisible(r) || r >= 0x1f3fb && r <= 0x1f3ff)
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

// LookalikeMarks returns s with the characters that would make it read
// as another text written \uXXXX (\UXXXXXXXX above U+FFFF):
//
//   - each nonspacing mark (Mn) on a Latin, Greek, Cyrillic or common
//     character (an e and U+0301 read as é, i and U+0307, = and U+0338
//     read as ≠): letters that are written precomposed, or not marked at
//     all;
//   - in a part of s that Unicode Normalization Form C would change (か
//     and U+3099 for が, a Hangul syllable spelt in conjoining jamo, as
//     macOS names files), every character after the part's first, and
//     the first too where NFC changes it alone (U+F90F, a compatibility
//     form of 蘿).
//
// The marks of other scripts (Khmer, Thai, Devanagari, Arabic), which
// their writing is made of, are kept where NFC keeps them, and so are
// variation selectors, which Needed judges. A name passes through it
// before it is shown (a command's output, a custody document), so that
// two names that differ never read alike.
func LookalikeMarks(s string) string {
	if !utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	base := ' '
	for len(s) > 0 {
		n := norm.NFC.NextBoundaryInString(s, true)
		if n <= 0 {
			n = len(s)
		}
		seg := s[:n]
		s = s[n:]
		if !norm.NFC.IsNormalString(seg) {
			first := true
			for _, r := range seg {
				// The part's first character is shown as it is, unless
				// it is a mark itself (a run of marks is cut into parts
				// of at most 30) or NFC changes it alone (a CJK
				// compatibility ideograph).
				if first && !unicode.Is(unicode.M, r) && norm.NFC.IsNormalString(string(r)) {
					b.WriteRune(r)
				} else {
					escapeRune(&b, r)
				}
				first = false
			}
			base = ' '
			continue
		}
		for _, r := range seg {
			switch {
			case Selector(r):
				b.WriteRune(r)
			case !unicode.Is(unicode.Mn, r):
				base = r
				b.WriteRune(r)
			case unicode.In(base, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Common):
				escapeRune(&b, r)
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// Terminal is s as it may reach a terminal or a document: bytes that are
// not UTF-8 as \xHH; hidden characters (Hidden), and invisible ones
// where writing does not need them (Invisible, Needed: a stray variation
// selector, a Hangul filler), as \uXXXX, or \UXXXXXXXX above U+FFFF
// (fixed widths, so that no two texts are shown alike); the rest as it
// is. Its result holds no hidden character: a joiner writing needs is
// escaped too (Readable keeps it).
func Terminal(s string) string { return shown(s, false) }

// Readable is s as the command line shows text people wrote and names
// they gave: as Terminal, but a zero-width space, non-joiner or joiner
// where writing needs it (Needed) is kept, so that Khmer, Persian or an
// emoji sequence reads as written and can be copied back into a command.
// Custody documents use Terminal.
func Readable(s string) string { return shown(s, true) }

func shown(s string, keepJoiners bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepJoiners && Joiner(r) && Needed(s, i):
			b.WriteString(s[i : i+n])
		case Hidden(r) || Conceals(s, i):
			escapeRune(&b, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
