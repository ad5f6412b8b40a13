package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault"
)

// publicIntake serves the public intake of tv's vault.
func publicIntake(t *testing.T, tv *testVault, opts PublicOptions) *httptest.Server {
	t.Helper()
	p := NewPublic(tv.v, slog.New(slog.DiscardHandler), opts)
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); p.Close() })
	return srv
}

func send(t *testing.T, srv *httptest.Server, method, path, ctype, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// TestPublicIntakeTakesReportsOnly: the form and report submission work,
// JSON and form-encoded; the receipt is all that comes back; nothing of
// the vault's API is reachable through the public listener, and every
// refused request is recorded.
func TestPublicIntakeTakesReportsOnly(t *testing.T) {
	tv := newTestVault(t, Options{})
	srv := publicIntake(t, tv, PublicOptions{Hotline: "APLE Cambodia"})
	if a := send(t, srv, "GET", "/", "", ""); a.code != 200 || !strings.Contains(a.body, "APLE Cambodia") || !strings.Contains(a.body, `action="/report"`) ||
		!strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("form: %d %v %s", a.code, a.header, a.body)
	}
	a := send(t, srv, "POST", "/report", "application/json", `{"urls":["https://host.example/a.jpg"],"description":"seen in a chat group","contact":"parent@example.org"}`)
	var created ReportCreated
	if a.code != 201 || json.Unmarshal([]byte(a.body), &created) != nil || !strings.HasPrefix(created.Report, "rp_") {
		t.Fatalf("JSON report: %d %s", a.code, a.body)
	}
	// A contact given with "anonymously" ticked is neither kept nor
	// dropped without a word: the form comes back, with what was typed,
	// and asks which was meant.
	form := url.Values{"urls": {"https://one.example/\r\nhttps://two.example/x"}, "description": {"two links <b>"}, "anonymous": {"1"}, "contact": {"parent@example.org"}}
	a = send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", form.Encode())
	if a.code != 400 || !strings.Contains(a.body, "untick it to leave your contact") || !strings.Contains(a.body, "two links &lt;b&gt;</textarea>") ||
		!strings.Contains(a.body, "https://two.example/x</textarea>") || !strings.Contains(a.body, `value="parent@example.org"`) {
		t.Fatalf("form report anonymous with a contact: %d %s", a.code, a.body)
	}
	// No address at all: said in the reporter's words, what they typed
	// kept.
	if a := send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", url.Values{"urls": {" \r\n"}, "description": {"a chat group"}}.Encode()); a.code != 400 ||
		!strings.Contains(a.body, "Please give at least one web address") || !strings.Contains(a.body, "a chat group</textarea>") {
		t.Fatalf("form report without an address: %d %s", a.code, a.body)
	}
	// A browser at a wrong address gets the form and why, not JSON.
	req, _ := http.NewRequest("GET", srv.URL+"/admin", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if resp, err := srv.Client().Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(b), "There is no such page here") || !strings.Contains(string(b), `action="/report"`) {
			t.Fatalf("a wrong address from a browser: %d %s", resp.StatusCode, b)
		}
	}
	// A URL the intake does not take: the reporter's text is kept too,
	// and their choice of anonymity as they made it.
	bad := url.Values{"urls": {"javascript:alert(1)"}, "description": {"what I saw"}, "contact": {"me@example.org"}}
	if a := send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", bad.Encode()); a.code != 400 || !strings.Contains(a.body, "what I saw</textarea>") ||
		strings.Contains(a.body, `value="1" checked`) {
		t.Fatalf("form report with a bad URL: %d %s", a.code, a.body)
	}
	form.Del("contact")
	a = send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", form.Encode())
	if a.code != 201 || !strings.Contains(a.body, "Receipt number: <strong>rp_") {
		t.Fatalf("form report: %d %s", a.code, a.body)
	}
	recv := tv.events(vault.TypeReportReceived)
	if len(recv) != 2 {
		t.Fatalf("%d reports recorded", len(recv))
	}
	var d vault.ReportReceived
	json.Unmarshal(recv[1].Data, &d)
	if len(d.URLs) != 2 || d.ContactSealed != "" || !d.Anonymous || d.Channel != "web" {
		t.Fatalf("form report recorded as %+v", d)
	}
	// Nothing else: the API's routes, other methods, reading reports.
	refusedBefore := len(tv.events(vault.TypeAccessRefused))
	for _, r := range []struct{ method, path string }{
		{"GET", "/v1/reports"}, {"GET", "/v1/reports/" + created.Report}, {"GET", "/report"}, {"GET", "/v1/health"},
		{"POST", "/v1/cases"}, {"GET", "/metrics"}, {"GET", "/checkpoint"}, {"PUT", "/"},
	} {
		a := send(t, srv, r.method, r.path, "", "")
		if a.code != 404 && a.code != 405 {
			t.Errorf("%s %s answered %d %s", r.method, r.path, a.code, a.body)
		}
		if strings.Contains(a.body, "rp_") {
			t.Errorf("%s %s leaked a report id", r.method, r.path)
		}
	}
	if got := len(tv.events(vault.TypeAccessRefused)); got <= refusedBefore {
		t.Fatalf("refused public requests were not recorded")
	}
	// Bad input: a clear error, nothing recorded.
	before := len(tv.events(vault.TypeReportReceived))
	for _, body := range []string{`{"urls":["javascript:alert(1)"]}`, `{"urls":[]}`, `{"urls":["https://a.example/"],"extra":1}`, `{"urls":"https://a.example/"}`} {
		if a := send(t, srv, "POST", "/report", "application/json", body); a.code != 400 {
			t.Errorf("%s: %d %s", body, a.code, a.body)
		}
	}
	if a := send(t, srv, "POST", "/report", "text/plain", "https://a.example/"); a.code != 415 {
		t.Errorf("text/plain: %d", a.code)
	}
	if got := len(tv.events(vault.TypeReportReceived)); got != before {
		t.Fatalf("bad reports were recorded")
	}
}

// TestPublicIntakeLimits: an oversized body is refused and recorded, and
// one address cannot flood the log with reports.
func TestPublicIntakeLimits(t *testing.T) {
	tv := newTestVault(t, Options{RefusalWindow: time.Hour})
	srv := publicIntake(t, tv, PublicOptions{ReportRate: 1.0 / 3600, ReportBurst: 3, MaxBody: 4096, RefusalWindow: time.Hour})
	big := `{"urls":["https://a.example/"],"description":"` + strings.Repeat("x", 5000) + `"}`
	if a := send(t, srv, "POST", "/report", "application/json", big); a.code != 413 {
		t.Fatalf("oversized report: %d %s", a.code, a.body)
	}
	ok, limited := 0, 0
	for i := range 20 {
		a := send(t, srv, "POST", "/report", "application/json", `{"urls":["https://flood.example/`+strings.Repeat("a", i+1)+`"]}`)
		switch a.code {
		case 201:
			ok++
		case 429:
			limited++
			if a.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		default:
			t.Fatalf("report %d: %d %s", i, a.code, a.body)
		}
	}
	if ok != 3 || limited != 17 {
		t.Fatalf("%d accepted, %d limited; want 3 and 17", ok, limited)
	}
	// A person at the form who is limited gets the form back with what
	// they typed, to send later.
	typed := url.Values{"urls": {"https://flood.example/form"}, "description": {"what I saw there"}}
	if a := send(t, srv, "POST", "/report", "application/x-www-form-urlencoded", typed.Encode()); a.code != 429 ||
		!strings.Contains(a.body, "what I saw there</textarea>") || !strings.Contains(a.body, "https://flood.example/form</textarea>") {
		t.Fatalf("a limited form: %d %s", a.code, a.body)
	}
	if n := len(tv.events(vault.TypeReportReceived)); n != 3 {
		t.Fatalf("%d reports recorded, want 3", n)
	}
	// The refusals of one window cost one event per reason (and the
	// summary at the window's end), not one per request.
	var limitedEvents int
	for _, ev := range tv.events(vault.TypeAccessRefused) {
		if strings.Contains(string(ev.Data), "too many reports") {
			limitedEvents++
		}
	}
	if limitedEvents != 1 {
		t.Fatalf("%d refusal events for 17 limited reports, want 1 until the window ends", limitedEvents)
	}
}

// TestAttackPublicRefusalsKeepNoAddress: reporters are anonymous to the
// vault (docs/hotline.md). A reporter who sends a sixth report at once
// is refused (429), and a request to another path (404); neither
// refusal, written in the custody log beside their reports for good,
// names the address they came from, in the refusal or its summary, nor
// does anything else the log holds.
func TestAttackPublicRefusalsKeepNoAddress(t *testing.T) {
	tv := newTestVault(t, Options{})
	p := NewPublic(tv.v, slog.New(slog.DiscardHandler), PublicOptions{})
	t.Cleanup(p.Close)
	const addr = "203.0.113.77"
	send := func(method, path, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr + ":4444"
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		return rec.Code
	}
	codes := map[int]int{}
	for i := range 7 {
		codes[send("POST", "/report", fmt.Sprintf(`{"urls":["https://abuse.example/%d"],"anonymous":true}`, i))]++
	}
	codes[send("PUT", "/report", `{}`)]++
	codes[send("GET", "/admin", "")]++
	if codes[http.StatusCreated] != 5 || codes[http.StatusTooManyRequests] != 2 {
		t.Fatalf("answers: %v", codes)
	}
	p.Close() // writes the refusal windows' summaries
	refusals := tv.events(vault.TypeAccessRefused)
	if len(refusals) < 3 {
		t.Fatalf("%d refusals recorded", len(refusals))
	}
	err := tv.v.Store().Read(context.Background(), 0, func(rec events.Record) error {
		if strings.Contains(string(rec.Bytes), "203.0.113") {
			t.Errorf("an event names the reporter's address: %s", rec.Bytes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAttackPublicServerLogKeepsNoAddress: what net/http writes to the
// public listener's server log names the client ("TLS handshake error
// from ADDR"); PublicServerLog takes the address out, so that the
// server's log, kept as long as the journal keeps it, ties no address to
// the hotline. A real TLS listener on loopback, and a client that sends
// it no TLS; then an IPv6 client's line and one with no address.
func TestAttackPublicServerLogKeepsNoAddress(t *testing.T) {
	var logs testenv.LogBuffer
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = PublicServerLog(slog.New(slog.NewTextHandler(&logs, nil)))
	srv.StartTLS()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	io.Copy(io.Discard, conn)
	conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "TLS handshake error") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "TLS handshake error from a client (address not kept)") {
		t.Fatalf("the server log: %s", logs.String())
	}
	l := PublicServerLog(slog.New(slog.NewTextHandler(&logs, nil)))
	l.Printf("http: panic serving [2001:db8::7]:51515: boom")
	l.Printf("http: Accept error: too many open files; retrying in 5ms")
	for _, leaked := range []string{"127.0.0.1", "2001:db8", "51515"} {
		if strings.Contains(logs.String(), leaked) {
			t.Errorf("the server log names %s: %s", leaked, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "too many open files") || !strings.Contains(logs.String(), "panic serving a client (address not kept): boom") {
		t.Errorf("the server log lost what it says: %s", logs.String())
	}
}
