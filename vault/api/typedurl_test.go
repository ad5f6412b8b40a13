package api

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

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
