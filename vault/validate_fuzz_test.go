package vault

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/custos-vault/custos/pkgformat"
)

// FuzzValidators checks the input validators every command relies on:
// whatever they accept has no path separator, no control character, is
// valid UTF-8 and fits its limit; whatever they refuse is refused as bad
// input (HTTP 400). An accepted file name also gives a package item path
// that is one plain file name under items/.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"", "a", "KH-2026-014", "sok.dara", "chat <export> & log.txt", "..", ".", "a/b", `a\b`, "a//b", "/a", "a/", "a/../b", `caf\xe9.txt`, `a\x41`, `a\xE9`, `a\x5c`,
		"line\nbreak", "tab\there", "\x00", "\u0085", "\u202e", "ឯកសារ 0001.jpg", " ", "\xff", strings.Repeat("x", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		noControl := func(multiline bool) bool {
			for _, r := range s {
				if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
					return false
				}
			}
			return true
		}
		check := func(what string, err error, ok func() bool) {
			if err != nil {
				if !errors.Is(err, ErrBadInput) {
					t.Fatalf("%s refused %q with %v, not bad input", what, s, err)
				}
				return
			}
			if !utf8.ValidString(s) || !ok() {
				t.Fatalf("%s accepted %q", what, s)
			}
		}
		check("checkFileName", checkFileName(s), func() bool {
			if len(s) > 4*maxItemName || len(UnescapeName(s)) > maxItemName || !noControl(false) || checkEscapes(s) != nil {
				return false
			}
			for _, part := range strings.Split(s, "/") {
				raw := UnescapeName(part)
				if len(raw) > maxNameComponent && (!utf8.Valid(raw) || utf16Len(raw) > maxNameComponent) || strings.TrimSpace(part) == "" || part == "." || part == ".." {
					return false
				}
			}
			for _, part := range strings.Split(s, "/") {
				if EscapeName(UnescapeName(part)) != part {
					return false
				}
			}
			p := pkgformat.ItemPath(0, s)
			rest, ok := strings.CutPrefix(p, pkgformat.ItemsDir)
			return ok && !strings.ContainsAny(rest, `/\`) && rest != "." && rest != ".." && strings.HasSuffix(rest, ".age")
		})
		for _, c := range []struct {
			field               string
			max                 int
			required, multiline bool
		}{{"title", 256, true, false}, {"purpose", 1024, true, false}, {"note", 4096, false, true}, {"source", 2048, false, false}} {
			check("checkText "+c.field, checkText(c.field, s, c.max, c.required, c.multiline), func() bool {
				return len(s) <= c.max && (!c.required || strings.TrimSpace(s) != "") && noControl(c.multiline)
			})
		}
		ident := func(lower bool) func() bool {
			return func() bool {
				if len(s) < 1 || len(s) > 64 || s[0] == '.' || s[0] == '_' || s[0] == '-' {
					return false
				}
				for _, r := range s {
					ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' || !lower && r >= 'A' && r <= 'Z'
					if !ok {
						return false
					}
				}
				return true
			}
		}
		check("checkCaseID", checkCaseID(s), ident(false))
		check("checkPersonName", checkPersonName(s), ident(true))
	})
}

func TestInvisibleFormattingRefused(t *testing.T) {
	if err := checkFileName("invoice\u202Efdp.exe"); err == nil {
		t.Fatal("accepted a right-to-left override in a file name")
	}
	if err := checkText("note", "zero\u200b width", 100, false, false); err == nil {
		t.Fatal("accepted a zero-width space before a space")
	}
	if err := checkText("note", "zero\u200bwidth", 100, false, false); err == nil {
		t.Fatal("accepted a zero-width space between two Latin letters")
	}
	if err := checkText("note", "ខ្ញុំ\u200bស្រលាញ់", 100, false, false); err != nil {
		t.Fatalf("refused a zero-width space between two Khmer words: %v", err)
	}
}

// FuzzNameEscape: any bytes a file system gives as a name become valid
// UTF-8 whose escapes the name check accepts, and come back exactly; a
// name of a folder's files (components that are not empty, "." or "..")
// within the limits is accepted whole, whatever characters it holds, so
// that no seized file is left behind for its name.
func FuzzNameEscape(f *testing.F) {
	for _, s := range []string{"caf\xe9.txt", "café", "cafe\u0301", `a\b`, "\xff\xfe", "\\x41", "", "a\u202eb", "❤\ufe0f", "a\u200b", " ", "DCIM/\u3164/x", "a\nb"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		name := EscapeName(b)
		if !utf8.ValidString(name) {
			t.Fatalf("EscapeName(%q) = %q is not UTF-8", b, name)
		}
		if err := checkEscapes(name); err != nil {
			t.Fatalf("EscapeName(%q) = %q: %v", b, name, err)
		}
		if got := UnescapeName(name); string(got) != string(b) {
			t.Fatalf("UnescapeName(EscapeName(%q)) = %q", b, got)
		}
		parts := strings.Split(name, "/")
		for _, p := range parts {
			if raw := UnescapeName(p); p == "" || p == "." || p == ".." || len(raw) > maxNameComponent && (!utf8.Valid(raw) || utf16Len(raw) > maxNameComponent) {
				return
			}
		}
		if len(b) <= maxItemName && !strings.ContainsRune(string(b), 0) {
			if err := checkFileName(name); err != nil {
				t.Fatalf("EscapeName(%q) = %q refused: %v", b, name, err)
			}
		}
	})
}

// FuzzReportedURL: a reported URL that is accepted is printable ASCII
// with no space, at most MaxURLBytes, parses as an absolute http, https or
// ftp URL with a host; anything else is refused as bad input; and the
// URL comparison of report list --url never panics.
func FuzzReportedURL(f *testing.F) {
	for _, s := range []string{"https://host.example/a.jpg", "http://[::1]:8080/x?y=1#z", "ftp://h/", "javascript:alert(1)", "//host/a",
		"https://host.example/a b", "https://", "HTTP://WWW.Host.example/", "https://h\x00/", "mailto:a@b", "https://h.example/%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkReportedURL(s)
		_ = SameURL(s, "https://www.host.example/a/")
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("%q refused as %v, not bad input", s, err)
			}
			return
		}
		if len(s) > MaxURLBytes || strings.ContainsAny(s, " \t\r\n") {
			t.Fatalf("%q accepted", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x21 || s[i] > 0x7e {
				t.Fatalf("%q accepted with byte %#x", s, s[i])
			}
		}
		scheme, _, ok := strings.Cut(s, "://")
		if !ok || !map[string]bool{"http": true, "https": true, "ftp": true}[strings.ToLower(scheme)] {
			t.Fatalf("%q accepted without an http, https or ftp scheme", s)
		}
	})
}
