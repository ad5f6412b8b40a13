package vault

import (
	"errors"
	"strings"
	"testing"
)

// A reported URL is recorded as a browser's address bar writes it: the
// scheme and host in lower case and without the scheme's default port,
// the path and query as typed (a server may tell /A from /a); two
// spellings of one such address in a report are refused as a repeat.
func TestReportedURLsAreRecordedAsTheAddressBarWritesThem(t *testing.T) {
	for typed, recorded := range map[string]string{
		"HTTPS://www.IMGSHARE.example.com:443/g/7781/": "https://www.imgshare.example.com/g/7781/",
		"http://Host.Example:80/A?Q=B#Frag":            "http://host.example/A?Q=B#Frag",
		"ftp://FILES.example:21/x":                     "ftp://files.example/x",
		"https://host.example:8443/a":                  "https://host.example:8443/a",
		"http://host.example:443/a":                    "http://host.example:443/a",
		"https://User:Secret@HOST.example/a":           "https://User:Secret@host.example/a",
		"https://[2001:DB8::1]:443/a":                  "https://[2001:db8::1]/a",
		"https://host.example":                         "https://host.example/",
		"http://host.example:0080/a":                   "http://host.example/a",
		"http://host.example:/a":                       "http://host.example/a",
		"http://host.example:08080?q=1":                "http://host.example:8080/?q=1",
		"https://host.example#top":                     "https://host.example/#top",
		"https://[2001:db8::1]:00443":                  "https://[2001:db8::1]/",
		"https://[2001:db8::1]":                        "https://[2001:db8::1]/",
	} {
		if got := addressBarURL(typed); got != recorded {
			t.Errorf("addressBarURL(%q) = %q, want %q", typed, got, recorded)
		}
		if err := checkReportedURL(addressBarURL(typed)); err != nil {
			t.Errorf("%q as recorded fails the check: %v", typed, err)
		}
	}
	// Whatever it leaves out, lookups still find it by.
	for typed := range map[string]bool{"ftp://FILES.example:21/x": true, "HTTPS://Host.example:443/a": true, "http://host.example:80/a": true, "https://host.example": true, "http://host.example:/a": true} {
		if !SameURL(typed, addressBarURL(typed)) {
			t.Errorf("%q and its recorded form %q are not the same URL to lookups", typed, addressBarURL(typed))
		}
	}
	h := newHotline(t)
	rp, err := h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"HTTPS://www.IMGSHARE.example.com:443/g/7781/"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.v.ReportDetail(h.ctx, h.a1, rp)
	if err != nil || len(r.URLs) != 1 || r.URLs[0] != "https://www.imgshare.example.com/g/7781/" {
		t.Fatalf("the report records %q, %v", r.URLs, err)
	}
	size := h.v.log.Size()
	_, err = h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/a", "HTTPS://HOST.example:443/a"}})
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "are the same address (https://host.example/a)") || h.v.log.Size() != size {
		t.Fatalf("one address given in two spellings: %v", err)
	}
}

// A report's csv forward gives each item's source (deposit --source):
// the partner tells which capture came from which reported URL.
func TestForwardSaysWhereEachCaptureCameFrom(t *testing.T) {
	h := newHotline(t)
	rp := h.assessedReport(t, "https://imgshare.example/g/7781")
	if _, err := h.v.Deposit(h.ctx, h.a1, DepositRequest{Case: "HL-1", Name: "gallery.jpg", Report: rp, Source: "https://imgshare.example/g/7781", Body: strings.NewReader("a capture")}); err != nil {
		t.Fatal(err)
	}
	list, err := h.v.ForwardReport(h.ctx, h.a1, rp, "ECPAT Philippines", "hotline", "csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(strings.ReplaceAll(string(list.Body), "\r\n", "\n")), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], `"classification","source"`) || !strings.HasSuffix(lines[1], `"",""`) ||
		!strings.HasSuffix(lines[2], `"unclassified","https://imgshare.example/g/7781"`) {
		t.Fatalf("the forward:\n%s", list.Body)
	}
}

// What an analyst noted of an acknowledgement and a removal is shown
// under the URL, not only in the report's history.
func TestNoticeNotesShownUnderTheURL(t *testing.T) {
	h := newHotline(t)
	u := "https://imgshare.example/g/7781"
	rp := h.assessedReport(t, u)
	if err := h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: u, To: "host", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	if err := h.v.NoticeProgressed(h.ctx, h.a1, rp, u, false, "ticket 5521", ""); err != nil {
		t.Fatal(err)
	}
	if err := h.v.NoticeProgressed(h.ctx, h.a1, rp, u, true, "checked from the isolated machine: 404", ""); err != nil {
		t.Fatal(err)
	}
	r, err := h.v.ReportDetail(h.ctx, h.a1, rp)
	if err != nil || len(r.Notices) != 1 || r.Notices[0].AcknowledgedNote != "ticket 5521" || r.Notices[0].RemovedNote != "checked from the isolated machine: 404" {
		t.Fatalf("the notice: %+v, %v", r.Notices, err)
	}
}
