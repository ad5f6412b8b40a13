package api

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
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
		if got := typedURL(c.typed); got != c.want {
			t.Errorf("typedURL(%q) = %q, want %q", c.typed, got, c.want)
		}
	}
}

// TestPublicFormTakesAddressesAsBrowsersShowThem: a member of the public
// types an address as a browser's address bar shows it (no scheme, a
// host and path in Khmer or Japanese) and the report is taken, recorded
// as a browser sends it; what is no address is refused in words a
// reporter reads, with what they typed, and nothing is recorded. The
// API's JSON, which programs send, stays strict.
func TestPublicFormTakesAddressesAsBrowsersShowThem(t *testing.T) {
	tv := newTestVault(t, Options{})
	srv := publicIntake(t, tv, PublicOptions{Hotline: "APLE Cambodia"})
	form := url.Values{"urls": {"example.com/gallery\r\nhttps://例え.jp/ページ"}, "anonymous": {"1"}}
	if a := send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", form.Encode()); a.code != 201 {
		t.Fatalf("form report: %d %s", a.code, a.body)
	}
	recv := tv.events(vault.TypeReportReceived)
	var d vault.ReportReceived
	if len(recv) != 1 || json.Unmarshal(recv[0].Data, &d) != nil {
		t.Fatalf("%d reports recorded", len(recv))
	}
	if want := []string{"http://example.com/gallery", "https://xn--r8jz45g.jp/%E3%83%9A%E3%83%BC%E3%82%B8"}; strings.Join(d.URLs, " ") != strings.Join(want, " ") {
		t.Fatalf("recorded %q, want %q", d.URLs, want)
	}
	for _, typed := range []string{"my neighbour's phone", "javascript:alert(1)", "https://" + strings.Repeat("a", vault.MaxURLBytes) + ".example/"} {
		bad := url.Values{"urls": {typed}, "description": {"what I saw"}}
		a := send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", bad.Encode())
		if a.code != 400 || !strings.Contains(a.body, "what I saw</textarea>") || strings.Contains(a.body, "absolute") || strings.Contains(a.body, "scheme") || strings.Contains(a.body, "bad input") {
			t.Errorf("%.40q: %d %s", typed, a.code, a.body)
		}
		if !strings.Contains(a.body, "address bar") && !strings.Contains(a.body, "longer than") {
			t.Errorf("%.40q: the form does not say what to give: %s", typed, a.body)
		}
	}
	if a := send(t, srv, "POST", "/report", "application/json", `{"urls":["example.com/gallery"]}`); a.code != 400 {
		t.Errorf("JSON without a scheme: %d %s", a.code, a.body)
	}
	if n := len(tv.events(vault.TypeReportReceived)); n != 1 {
		t.Fatalf("%d reports recorded, want the one taken", n)
	}
}

// FuzzTypedURL: whatever is typed, typedURL returns, and what it returns
// either passes the vault's check or is what was typed (trimmed).
func FuzzTypedURL(f *testing.F) {
	for _, s := range []string{"example.com/x", "https://例え.jp/ページ", "a.b:99999", "http://[::1", "x.y/%zz", "ftp://a.b/ c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := typedURL(s)
		if vault.CheckReportedURL(got) != nil && got != strings.TrimSpace(s) && !printableASCII(got) {
			t.Fatalf("typedURL(%q) = %q: changed, yet neither checked nor ASCII", s, got)
		}
	})
}
