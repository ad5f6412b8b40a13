package web

import (
	"bufio"
	"context"
	"crypto/tls"
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

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// Attacks on the web application without a browser: what an insider, a
// session thief or an anonymous client can make the server do.

// sessionCookieOf is the session cookie the web client holds for base.
func sessionCookieOf(t *testing.T, c *webClient, base string) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == cookieName || ck.Name == secureCookieName {
			return ck
		}
	}
	t.Fatal("no session cookie")
	return nil
}

// TestAttackWebPageRefusalsUnbounded: a signed-in person who keeps asking
// for pages their role may not have must not grow the custody log without
// bound (docs/security.md rule 5: "a signed-in person's past 20 of one
// kind a minute are summarised"). The refusals the web application
// records itself (the audit page for a role it is not for, a package one
// may not see) go through api.Handler.RecordRefusal, which appends one
// access.refused event per request, outside the vault's refusal budget;
// the package page's reason even carries the id the person chose.
func TestAttackWebPageRefusalsUnbounded(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	const n = 60
	for i := 0; i < n; i++ {
		if resp, _ := c.do("GET", "/app/audit", nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("an investigator's audit page answered %d", resp.StatusCode)
		}
		if resp, _ := c.do("GET", fmt.Sprintf("/app/packages/pk_%024x", i), nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("an unknown package answered %d", resp.StatusCode)
		}
	}
	byInv := 0
	for _, r := range bv.refusals(t) {
		if r.Person == "inv" {
			byInv++
		}
	}
	// Two kinds of refusal, each recorded one by one at most RefusalBurst
	// (20) times in the window; the rest belong in one summary each.
	if byInv > 2*20+2 {
		t.Fatalf("%d page loads recorded %d access.refused events: a signed-in person's refusals are not bounded", 2*n, byInv)
	}
}

// TestAttackWebUnprefixedCookieOverTLS: over HTTPS the session cookie is
// __Host-custos_session, so that only this host, over HTTPS, for /, can
// have set it. The vault also accepts a plain custos_session cookie over
// HTTPS, which a sibling host (Domain=parent) or a plain-HTTP answer
// forged on the network can plant: the browser then works in the
// planter's session (session fixation: the person's deposits, views and
// classifications are recorded in another's name).
func TestAttackWebUnprefixedCookieOverTLS(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, &tls.Config{MinVersion: tls.VersionTLS12})
	s, err := bv.v.OpenSession(context.Background(), bv.creds["inv"])
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", base+"/app/me", nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: s.Token.Reveal()})
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK && strings.Contains(string(body), "inv") {
		t.Fatalf("over HTTPS a plain %s cookie (settable by another host or over HTTP) signs the browser in", cookieName)
	}
}

// TestAttackWebStalledUploadIsCut: the upload page's POST
// /app/cases/CASE/items is a deposit like POST /v1/cases/CASE/items, but
// the web handler never applies the API's minimum upload rate: a signed-in
// client trickling one byte at a time holds the connection, the spool
// file and the deposit open for as long as it likes (the API cuts it
// after UploadWindow, TestStalledUploadIsCut).
func TestAttackWebStalledUploadIsCut(t *testing.T) {
	bv := openTestVault(t)
	bv.openCase(t, "S-1")
	base := serve(t, bv, api.Options{MinUploadRate: 1000, UploadWindow: 300 * time.Millisecond}, nil)
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	token := c.csrf("/app/cases/S-1/upload")
	ck := sessionCookieOf(t, c, base)
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /app/cases/S-1/items?name=slow HTTP/1.1\r\nHost: "+u.Host+"\r\nCookie: "+ck.Name+"="+ck.Value+
		"\r\nX-Custos-CSRF: "+token+"\r\nSec-Fetch-Site: same-origin\r\nAccept: application/json\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	start := time.Now()
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(conn, 4096))
		done <- string(b)
	}()
	var answer string
	cut := false
	// One byte every 100 ms: 10 bytes/s, far under 1000.
	for i := 0; i < 50 && !cut; i++ {
		io.WriteString(conn, "1\r\nx\r\n")
		select {
		case answer = <-done:
			cut = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !cut {
		t.Fatalf("a deposit trickling 10 bytes/s through the web application was still open after %s (the API cuts it after 300ms)", time.Since(start).Round(time.Millisecond))
	}
	if !strings.Contains(answer, "stalled") {
		t.Fatalf("cut after %s with %q", time.Since(start), answer)
	}
}

// TestAttackWebStalledReaderIsCut: a reveal through the web application
// whose client stops reading is never cut: the web handler does not use
// the API's write-stall limit (TestStalledReaderIsCut), so the connection
// and the open access are held as long as the client likes, and the
// access's end (item.access.completed, aborted) is never recorded.
func TestAttackWebStalledReaderIsCut(t *testing.T) {
	bv := openTestVault(t)
	bv.openCase(t, "R-1")
	item := bv.deposit(t, "R-1", "big.bin", make([]byte, 32<<20))
	base := serve(t, bv, api.Options{WriteStall: 300 * time.Millisecond}, nil)
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	token := c.csrf("/app/items/" + item)
	ck := sessionCookieOf(t, c, base)
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	form := url.Values{"purpose": {"stall"}, "csrf": {token}}.Encode()
	io.WriteString(conn, "POST /app/items/"+item+"/reveal HTTP/1.1\r\nHost: "+u.Host+"\r\nCookie: "+ck.Name+"="+ck.Value+
		"\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "+fmt.Sprint(len(form))+"\r\n\r\n"+form)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if evs := bv.events(t, vault.TypeItemAccessCompleted); len(evs) == 1 {
			if !strings.Contains(string(evs[0].Data), "aborted") {
				t.Fatalf("a stalled reader's access was recorded as completed: %s", evs[0].Data)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(bv.accesses(t, item)); n != 1 {
		t.Fatalf("the reveal was not even started (%d accesses)", n)
	}
	t.Fatal("a browser that stopped reading a reveal held the connection and the open access for 10 s (the API cuts it after 300ms)")
}

// TestAttackWebSignInSlowBody: POST /app/sign-in reads its form from
// anyone, before any credential is checked, with no time limit (the
// server has no ReadTimeout and the web handler no minimum rate): an
// anonymous client holds a connection open with a body it never
// finishes. docs/security.md: an anonymous client cannot "hold
// connections open (idle, read and minimum-rate limits ...)".
func TestAttackWebSignInSlowBody(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{MinUploadRate: 1000, UploadWindow: 300 * time.Millisecond}, nil)
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /app/sign-in HTTP/1.1\r\nHost: "+u.Host+"\r\nSec-Fetch-Site: same-origin\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\ncredential=cst_")
	done := make(chan struct{})
	go func() {
		bufio.NewReader(conn).ReadString('\n')
		close(done)
	}()
	start := time.Now()
	for i := 0; i < 50; i++ {
		select {
		case <-done:
			return
		case <-time.After(100 * time.Millisecond):
		}
		io.WriteString(conn, "a")
	}
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatalf("an anonymous sign-in form trickling 10 bytes/s held its connection for %s without an answer", time.Since(start).Round(time.Millisecond))
	}
}

// fakeProvider serves an OpenID provider's discovery document, enough to
// start sign-ins.
func fakeProvider(t *testing.T) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

type refuseAll struct{}

func (refuseAll) Verify(context.Context, string, string) (vault.ExternalIdentity, error) {
	return vault.ExternalIdentity{}, vault.ErrUnauthenticated
}

// TestAttackWebOIDCFlowTableExhaustion: the table of OpenID sign-ins in
// progress holds 1,000 flows for 10 minutes each, shared by every client
// address. One anonymous address fills it (at the default rate limit of 5
// a second, 1,000 GET /app/sign-in/oidc take about 200 s, well inside the
// 10 minutes; the test raises the burst to do it at once), and then nobody
// else can sign in through the provider until the flows expire, again
// and again.
func TestAttackWebOIDCFlowTableExhaustion(t *testing.T) {
	prov := fakeProvider(t)
	bv := openTestVault(t)
	logger := slog.New(slog.DiscardHandler)
	ah := api.New(bv.v, logger, api.Options{OIDC: refuseAll{}, OIDCClient: api.OIDCClient{Issuer: prov.URL, ClientID: "custos-cli"},
		UnauthBurst: maxFlows + 20})
	defer ah.Close()
	h, err := New(bv.v, ah, logger, Options{BaseURL: "http://127.0.0.1:8443", OIDCHTTPClient: prov.Client(), Now: bv.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	start := func(addr string) int {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/app/sign-in/oidc?next=/app/", nil)
		r.RemoteAddr = addr
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	for i := 0; i < maxFlows; i++ {
		want := http.StatusSeeOther
		if i >= maxFlowsPerSource {
			want = http.StatusTooManyRequests // one address holds a bounded share
		}
		if code := start("198.51.100.7:40000"); code != want {
			t.Fatalf("flow %d of the flooding address answered %d, want %d", i, code, want)
		}
	}
	if code := start("203.0.113.9:50000"); code != http.StatusSeeOther {
		t.Fatalf("after one address started %d sign-ins, another person's OpenID sign-in answers %d", maxFlows, code)
	}
}

// TestAttackWebForgedDoneNotice: the notice a page shows after a POST
// ("The legal hold is placed on every object of the case.") is taken from
// the address (?done=), so any link, or a sign-in's next=, shows it on a
// page where nothing was done: a custodian sent
// /app/cases/C/manage?done=hold-placed reads that a legal hold is in
// place when none is.
func TestAttackWebForgedDoneNotice(t *testing.T) {
	bv := openTestVault(t)
	bv.openCase(t, "N-1")
	base := serve(t, bv, api.Options{}, nil)
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["cust"])
	resp, body := c.do("GET", "/app/cases/N-1/manage?done=hold-placed", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("manage page: %d", resp.StatusCode)
	}
	if n := len(bv.events(t, vault.TypeCaseHoldPlaced)); n != 0 {
		t.Fatalf("%d holds", n)
	}
	if strings.Contains(body, "The legal hold is placed") {
		t.Fatal("a link shows a custodian that a legal hold was placed when none was")
	}
}

// TestAttackWebFaviconHeaders: /favicon.ico is answered by the web
// application (an SVG document of the vault's origin) without any of the
// headers every other answer carries: no Content-Security-Policy, no
// nosniff, no frame-ancestors.
func TestAttackWebFaviconHeaders(t *testing.T) {
	bv := openTestVault(t)
	logger := slog.New(slog.DiscardHandler)
	ah := api.New(bv.v, logger, api.Options{})
	defer ah.Close()
	h, _ := New(bv.v, ah, logger, Options{BaseURL: "http://127.0.0.1:8443"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/favicon.ico", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("favicon: %d", rec.Code)
	}
	hd := rec.Header()
	if hd.Get("Content-Security-Policy") == "" || hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("/favicon.ico (an SVG document) is served without the security headers: %v", hd)
	}
}

// TestAttackWebOIDCBindingCookieTossed: the cookie that binds an OpenID
// sign-in to the browser that started it is a plain custos_oidc cookie
// even over HTTPS, so a sibling host (Domain=parent) can plant it. An
// insider who starts a sign-in in their own browser, signs in at the
// provider as themselves and keeps the callback address, plants their
// binding in a colleague's browser and sends it to that callback: the
// binding check passes (the exchange then proceeds), and the colleague's
// browser ends up signed in as the insider (login CSRF), every act of
// theirs recorded in the insider's name.
func TestAttackWebOIDCBindingCookieTossed(t *testing.T) {
	prov := fakeProvider(t)
	bv := openTestVault(t)
	logger := slog.New(slog.DiscardHandler)
	ah := api.New(bv.v, logger, api.Options{OIDC: refuseAll{}, OIDCClient: api.OIDCClient{Issuer: prov.URL, ClientID: "custos-cli"}})
	defer ah.Close()
	h, err := New(bv.v, ah, logger, Options{BaseURL: "https://vault.example.org", TLS: true, OIDCHTTPClient: prov.Client(), Now: bv.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The insider starts a sign-in in their own browser.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://vault.example.org/app/sign-in/oidc", nil))
	loc, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || err != nil {
		t.Fatalf("starting a sign-in: %d %v", rec.Code, err)
	}
	var binding *http.Cookie
	for _, c := range rec.Result().Cookies() {
		binding = c
	}
	if binding == nil {
		t.Fatal("no binding cookie")
	}
	if strings.HasPrefix(binding.Name, "__Host-") {
		return // a sibling host cannot set it
	}
	// The colleague's browser holds the planted cookie and follows the
	// insider's callback address.
	r := httptest.NewRequest("GET", "https://vault.example.org/app/sign-in/oidc/callback?state="+url.QueryEscape(loc.Query().Get("state"))+"&code=insiders-code", nil)
	r.AddCookie(&http.Cookie{Name: binding.Name, Value: binding.Value})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if !strings.Contains(rec.Body.String(), "another browser") {
		t.Fatalf("over HTTPS a binding cookie %q that another host can plant passed the binding check (answer %d: %s)",
			binding.Name, rec.Code, firstLine(rec.Body.String(), "not accepted"))
	}
}

// firstLine is the line of s that contains sub, trimmed.
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestAttackWebSignInOverOpenSession: signing in again in a browser that
// holds a session (another person at the same workstation, or the same
// person) replaces the cookie but leaves the earlier session open in the
// vault until it expires: no session.ended is recorded, and whoever
// copied the earlier token (docs/security.md, known gaps) keeps using it
// although its browser has moved on. The earlier session should be
// ended, as sign-out ends it.
func TestAttackWebSignInOverOpenSession(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	first := sessionCookieOf(t, c, base).Value
	c.signIn(bv.creds["ana"])
	if _, body := c.do("GET", "/app/me", nil); !strings.Contains(body, "ana") {
		t.Fatal("the second sign-in did not take")
	}
	if _, err := bv.v.Authenticate(first); err == nil {
		t.Fatalf("after another sign-in in the same browser the earlier session is still open (%d session.ended events)",
			len(bv.events(t, vault.TypeSessionEnded)))
	}
}
