package printable

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEscape: any bytes come back exactly, through valid UTF-8.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"caf\xe9.txt", "café", "cafe\u0301", `a\b`, "\xff\xfe", `\x41`, ""} {
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
	})
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
