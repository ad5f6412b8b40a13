package printable

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEscape: any bytes come back exactly, through valid UTF-8 in which
// every character is seen as itself where it stands and no component is
// blank.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"caf\xe9.txt", "café", "cafe\u0301", `a\b`, "\xff\xfe", `\x41`, "", "a\u200b\u200bb", "\u2764\ufe0f\u200d\U0001f525", " /a", "\u200d\xff", "a\u202eb"} {
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

// TestNeeded: joiners between two visible characters and selectors
// right after one are needed; anywhere else they are not.
func TestNeeded(t *testing.T) {
	for s, want := range map[string]bool{
		"a\u200bb":            true,
		"\u2764\ufe0f":        true,
		"\u2764\ufe0f\u200d🔥": true,
		"\u200bb":             false,
		"a\u200b":             false,
		"a \u200bb":           false,
		"a\u200b\u200bb":      false,
		"\ufe0f":              false,
		" \ufe0f":             false,
		"\ufe0f\ufe0f":        false,
		"\u3164\u200d\u3164":  false,
		"a\u200d\u202eb":      false,
	} {
		i := strings.IndexFunc(s, func(r rune) bool { return Joiner(r) || Selector(r) })
		if got := Needed(s, i); got != want {
			t.Errorf("Needed(%+q, %d) = %v, want %v", s, i, got, want)
		}
	}
}

// FuzzTerminal: nothing that reaches a terminal hides or moves text.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"ok", "a\x1b[2Jb", "x\u009b2J", "invoice\u202efdp.exe", "\xff", "a\u200bb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Terminal(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if Hidden(r) {
				t.Fatalf("Terminal(%q) = %q holds U+%04X", s, out, r)
			}
		}
		if !strings.ContainsAny(s, "\\") && utf8.ValidString(s) && !strings.ContainsFunc(s, Hidden) && out != s {
			t.Fatalf("Terminal(%q) = %q changed plain text", s, out)
		}
	})
}

func TestUnescapeRefusesOtherBackslashes(t *testing.T) {
	for _, s := range []string{`a\b`, `\xE9`, `\x4`, `\y41`} {
		if _, ok := Unescape(s); ok {
			t.Errorf("Unescape(%q) accepted", s)
		}
	}
}
