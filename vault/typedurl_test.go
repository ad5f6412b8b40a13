package vault

import (
	"strings"
	"testing"
)

func TestTypedURL(t *testing.T) {
	for _, c := range []struct{ typed, want string }{
		{"https://host.example/a.jpg", "https://host.example/a.jpg"},
		{"  example.com/page  ", "http://example.com/page"},
		{"www.example.org", "http://www.example.org"},
		{"example.com:8080/x?y=1", "http://example.com:8080/x?y=1"},
		{"https://例え.jp/ページ", "https://xn--r8jz45g.jp/%E3%83%9A%E3%83%BC%E3%82%B8"},
		// The IDNA forms are Python's idna codec's too.
		{"ពិសោធន៍.com/ខ្មែរ", "http://xn--02ech0b2h7c1c.com/%E1%9E%81%E1%9F%92%E1%9E%98%E1%9F%82%E1%9E%9A"},
		{"https://host.example/a b.jpg?q=ü", "https://host.example/a%20b.jpg?q=%C3%BC"},
		{"https://user@host.example:443/x", "https://user@host.example:443/x"},
		{"https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x"},
		// Not addresses: left as typed, for the check to refuse.
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"mailto:a@b.example", "mailto:a@b.example"},
		{"just some words", "just some words"},
		{"/relative/path", "/relative/path"},
		{".example.com", ".example.com"},
	} {
		if got := TypedURL(c.typed); got != c.want {
			t.Errorf("TypedURL(%q) = %q, want %q", c.typed, got, c.want)
		}
	}
}

// FuzzTypedURL: whatever is typed, typedURL returns, and what it returns
// either passes the vault's check or is what was typed (trimmed).
func FuzzTypedURL(f *testing.F) {
	for _, s := range []string{"example.com/x", "https://例え.jp/ページ", "a.b:99999", "http://[::1", "x.y/%zz", "ftp://a.b/ c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := TypedURL(s)
		if CheckReportedURL(got) != nil && got != strings.TrimSpace(s) && !printableASCII(got) {
			t.Fatalf("TypedURL(%q) = %q: changed, yet neither checked nor ASCII", s, got)
		}
	})
}
