package printable

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzEscape: any bytes come back exactly, through valid UTF-8 in which
// every character is seen as itself where it stands and no component is
// blank.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"caf\xe9.txt", "café", "cafe\u0301", `a\b`, "\xff\xfe", `\x41`, "", "a\u200b\u200bb", "\u2764\ufe0f\u200d\U0001f525", " /a", "\u200d\xff", "a\u202eb",
		"\U0001f3fb\ufe0f\u200d\u2764", "ក\u200b\ufe0f\u200dខ", "\u2764\ufe0f\ufe0f\u200d\u2764"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Escape(b)
		if !utf8.ValidString(s) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", b, s)
		}
		got, ok := Unescape(s)
		if !ok || string(got) != string(b) {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", b, got, ok)
		}
		for _, part := range strings.Split(s, "/") {
			for i := range part {
				if Conceals(part, i) {
					t.Fatalf("Escape(%q) = %+q: a character at byte %d of %+q is not seen", b, s, i, part)
				}
			}
			if part != "" && Blank(part) {
				t.Fatalf("Escape(%q) = %+q: the component %+q is blank", b, s, part)
			}
		}
		if again := Escape(got); again != s {
			t.Fatalf("Escape is not one form: %q then %q", s, again)
		}
	})
}

// FuzzTerminal: nothing that reaches a terminal hides or moves text, or
// hides that two texts differ: Terminal's result holds no hidden
// character and no invisible one out of place, Readable's none but the
// joiners writing needs; text without such characters is shown as it is.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"ok", "a\x1b[2Jb", "x\u009b2J", "invoice\u202efdp.exe", "\xff", "a\u200bb", "ក\u200bខ", "photo\ufe00.jpg", "\u2764\ufe0f\u200d🔥", "\u3164"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain := utf8.ValidString(s)
		for i, r := range s {
			plain = plain && r != '\\' && !Hidden(r) && !(Invisible(r) && !Needed(s, i))
		}
		for name, show := range map[string]func(string) string{"Terminal": Terminal, "Readable": Readable} {
			out := show(s)
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q is not UTF-8", name, s, out)
			}
			for i, r := range out {
				if name == "Readable" && Joiner(r) && Needed(out, i) {
					continue
				}
				if Hidden(r) || Invisible(r) && !Needed(out, i) {
					t.Fatalf("%s(%q) = %+q holds U+%04X at %d", name, s, out, r, i)
				}
			}
			if plain && out != s {
				t.Fatalf("%s(%q) = %q changed plain text", name, s, out)
			}
		}
	})
}

// TestReadableKeepsWhatWritingNeeds: the command line shows Khmer and
// emoji as written, and escapes a joiner or selector out of place; a
// document (Terminal) escapes every joiner.
func TestReadableKeepsWhatWritingNeeds(t *testing.T) {
	for in, want := range map[string]string{
		"ខ្ញុំ\u200bស្រលាញ់":  "ខ្ញុំ\u200bស្រលាញ់",
		"👨\u200d👩\u200d👧.jpg": "👨\u200d👩\u200d👧.jpg",
		"ph\u200boto.jpg":     `ph\u200boto.jpg`,
		"photo\ufe00.jpg":     `photo\ufe00.jpg`,
		"\u3164":              `\u3164`,
		"a\u202eb":            `a\u202eb`,
	} {
		if got := Readable(in); got != want {
			t.Errorf("Readable(%+q) = %+q, want %+q", in, got, want)
		}
	}
	if got := Terminal("ខ\u200bខ"); got != `ខ\u200bខ` {
		t.Errorf("Terminal keeps a joiner: %+q", got)
	}
}

// TestNeeded: joiners beside a script that writes with them or between
// emoji, and selectors after the characters they apply to, are needed;
// anywhere else they are not.
func TestNeeded(t *testing.T) {
	for s, want := range map[string]bool{
		"ក\u200bខ":            true, // between two Khmer words
		"រាយការណ៍\u200b។":     true, // before the sign khan
		"ពិនិត្យ\u200b 🙏":     true, // after a word, before a space
		"ពិនិត្យ\u200b":       true, // at the end
		"می\u200cخواهم":       true,
		"क्\u200dष":           true,
		"👨\u200d👩":            true,
		"\u2764\ufe0f\u200d🔥": true,
		"\u2764\ufe0f":        true,
		"\u203c\ufe0f":        true,
		"1\ufe0f\u20e3":       true,
		"葛\U000e0100":         true,
		"a\u200bb":            false, // Latin needs none
		"photo\u200bក":        false, // nor a Latin word before a Khmer one
		"ក\u200dphoto":        false,
		"a$\ufe0f":            false, // ASCII symbols take none
		"x^\u200d^":           false,
		"\u2800\u200d😀":       false, // the blank Braille pattern is no emoji
		"👩🏽\u200d💻":           true,  // a skin tone before the joiner
		"©\ufe0f":             true,
		"محمد\u200b.jpg":      false, // Arabic has spaces: no zero-width space
		"١\u200d٦":            false, // digits join nothing
		"ก\u200dข":            false, // nor do Thai letters
		"ph\u200doto":         false,
		"\u200bb":             false,
		"a \u200bb":           false,
		"ក\u200b\u200b":       false, // the second one
		"\ufe0f":              false,
		"a\ufe0f":             false,
		"photo\ufe00.jpg":     false,
		" \ufe0f":             false,
		"1\ufe0f":             false, // no keycap follows
		"a\U000e0100":         false,
		"\u3164\u200d\u3164":  false,
		"a\u200d\u202eb":      false,
		"\xff\ufe0f":          false,
	} {
		i := strings.IndexFunc(s, func(r rune) bool { return Joiner(r) || Selector(r) })
		if s == "ក\u200b\u200b" {
			i = strings.LastIndex(s, "\u200b")
		}
		if got := Needed(s, i); got != want {
			t.Errorf("Needed(%+q, %d) = %v, want %v", s, i, got, want)
		}
	}
	// A joiner after a selector that is out of place (after a skin
	// tone) stands beside its escape: not needed either.
	s := "\U0001f3fb\ufe0f\u200d\u2764"
	if Needed(s, strings.Index(s, "\u200d")) {
		t.Error("a joiner after an escaped selector is needed")
	}
}

func TestUnescapeRefusesOtherBackslashes(t *testing.T) {
	for _, s := range []string{`a\b`, `\xE9`, `\x4`, `\y41`} {
		if _, ok := Unescape(s); ok {
			t.Errorf("Unescape(%q) accepted", s)
		}
	}
}

// TestLookalikeMarks: names that NFC or a Latin mark would make read as
// another are shown with those characters escaped; marks that Khmer,
// Thai or Devanagari are written with are kept.
func TestLookalikeMarks(t *testing.T) {
	for in, want := range map[string]string{
		"cafe\u0301.txt":         `cafe\u0301.txt`,
		"fi\u0307le.jpg":         `fi\u0307le.jpg`,
		"a=\u0338b":              `a=\u0338b`,
		"\u304b\u3099.txt":       `` + "\u304b" + `\u3099.txt`,
		"\u1112\u1161\u11ab.txt": "\u1112" + `\u1161\u11ab.txt`,
		"ស្រីពៅ.jpg":             "ស្រីពៅ.jpg",
		"ภาพถ่าย.jpg":            "ภาพถ่าย.jpg",
		"क्\u200dष":              "क्\u200dष",
		"ប្រវត្តិរូប-re\u0301sume": `ប្រវត្តិរូប-re\u0301sume`,
		"\u2764\ufe0f.jpg": "\u2764\ufe0f.jpg",
		"é.txt":            "é.txt",
	} {
		if got := LookalikeMarks(in); got != want {
			t.Errorf("LookalikeMarks(%+q) = %+q, want %+q", in, got, want)
		}
	}
}

// FuzzLookalikeMarks: the result is valid UTF-8 for valid input, is what
// NFC leaves as it is, holds no mark on a Latin, Greek, Cyrillic or
// common character, and is its own result again.
func FuzzLookalikeMarks(f *testing.F) {
	for _, s := range []string{"cafe\u0301", "\u304b\u3099", "\u1112\u1161\u11ab", "ស្រីពៅ", "Z" + strings.Repeat("\u0301\u0316", 20), "\u2764\ufe0f", "a=\u0338"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		out := LookalikeMarks(s)
		if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) {
			t.Fatalf("LookalikeMarks(%+q) = %+q: not valid NFC", s, out)
		}
		base := ' '
		for _, r := range out {
			if unicode.Is(unicode.Mn, r) && !Selector(r) && unicode.In(base, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Common) {
				t.Fatalf("LookalikeMarks(%+q) = %+q keeps U+%04X on %q", s, out, r, base)
			}
			if !unicode.Is(unicode.Mn, r) {
				base = r
			}
		}
		if again := LookalikeMarks(out); again != out {
			t.Fatalf("LookalikeMarks is not settled: %+q, then %+q", out, again)
		}
	})
}
