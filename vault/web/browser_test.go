package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// The browser tests drive the web application in a real, headless
// Chromium (testenv.Chromium) against a real vault on the embedded
// backends: they type, click and read what a person would, and check the
// custody log behind. docs/web-testing.md says how to run them.

// browserPersons are enrolled in every browser vault, one per role (two
// custodians, as a vault in use has).
var browserPersons = []struct{ name, role string }{
	{"inv", vault.RoleInvestigator},
	{"ana", vault.RoleAnalyst},
	{"pros", vault.RoleProsecutor},
	{"aud", vault.RoleAuditor},
	{"cust", vault.RoleCustodian},
	{"cust2", vault.RoleCustodian},
}

// stepTimeout bounds one step of a browser test (a page, a click), so
// that a page that never comes fails the test instead of hanging it.
const stepTimeout = 30 * time.Second

// testClock is the vault's clock: the real time, moved on by Advance.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock on by d (never back: the custody log's times
// only grow).
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// openTestVault opens a vault in a temporary folder (SQLite log, objects
// in files, software sealer) on the clock bv.clock, and enrols
// browserPersons; it is closed when the test ends.
func openTestVault(t *testing.T, configure ...func(*vault.Config)) *browserVault {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	clock := &testClock{}
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "custody.db")})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := age.GenerateX25519Identity()
	cfg := vault.Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"),
		SpoolDir: filepath.Join(dir, "spool"), TileDir: filepath.Join(dir, "tiles"), HashSetDir: filepath.Join(dir, "hashsets"),
		RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler), Now: clock.Now}
	for _, c := range configure {
		c(&cfg)
	}
	v, err := vault.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		v.Close()
		st.Close()
	})
	bv := &browserVault{v: v, log: st, objects: filepath.Join(dir, "objects"), clock: clock, creds: map[string]string{}, roles: map[string]string{}, refused: map[string]bool{}}
	for _, p := range browserPersons {
		tok, err := v.Enroll(ctx, p.name, p.role)
		if err != nil {
			t.Fatal(err)
		}
		bv.creds[p.name] = tok.Reveal()
		bv.roles[p.name] = p.role
	}
	return bv
}

// browserVault is a vault served by the web application on loopback, the
// people of browserPersons with their local credentials, and a browser.
type browserVault struct {
	v       *vault.Vault
	log     events.Store
	objects string // the object store's folder
	url     string // http://127.0.0.1:PORT, no trailing slash
	clock   *testClock
	creds   map[string]string // person -> local credential (cst_...)
	roles   map[string]string // person -> role

	// browser is the test's Chromium; ctx its tab (ChromiumTimeout at most).
	browser *testenv.Browser
	ctx     context.Context

	// revealTap, if set, is called before a reveal's first write
	// (evidence_browser_test.go).
	revealTap atomic.Pointer[func(*http.Request)]

	mu sync.Mutex
	// refused are the URLs the test made answer an error status on
	// purpose: the browser's console reports each, and that is no fault.
	refused map[string]bool
}

// newBrowserVault opens a vault in a temporary folder (SQLite log, objects
// in files, software sealer) on the vault's clock bv.clock, enrols
// browserPersons, serves the API and the web application on 127.0.0.1
// and starts a browser. When the test ends it fails it for any error in
// the browser's console (an uncaught exception, console.error, a
// Content-Security-Policy violation, a resource that failed to load)
// other than the refusals the test asked for (expectRefused).
func newBrowserVault(t *testing.T, opts ...func(*api.Options)) *browserVault {
	t.Helper()
	bv := openTestVault(t)
	v, clock := bv.v, bv.clock

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bv.url = "http://" + ln.Addr().String()
	logger := slog.New(slog.DiscardHandler)
	var apiOpts api.Options
	for _, o := range opts {
		o(&apiOpts)
	}
	apiHandler := api.New(v, logger, apiOpts)
	h, err := New(v, apiHandler, logger, Options{BaseURL: bv.url, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: bv.tapped(h)}}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		apiHandler.Close()
	})

	bv.browser = testenv.Chromium(t)
	bv.ctx = bv.browser.Ctx
	t.Cleanup(func() {
		bv.mu.Lock()
		defer bv.mu.Unlock()
		bv.browser.NoErrors(t, func(m testenv.ConsoleMessage) bool {
			path, _, _ := strings.Cut(m.URL, "?")
			return m.Kind == "log" && m.Source == "network" && (bv.refused[m.URL] || bv.refused[path])
		})
	})
	return bv
}

// expectRefused tells the console check that the page or request at path
// (or a full URL; without a query, with any query) answers an error
// status on purpose.
func (bv *browserVault) expectRefused(path string) {
	if !strings.HasPrefix(path, "http") {
		path = bv.url + path
	}
	bv.mu.Lock()
	bv.refused[path] = true
	bv.mu.Unlock()
}

// run runs steps in ctx's tab within stepTimeout, failing the test on an
// error.
func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// value runs one action that returns a value, within stepTimeout.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// navigation runs steps that make the tab load a page (a click on a
// link or a submit button), waits for it and returns its response (the
// last one of a redirect).
func navigation(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(sctx, steps...)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// text is the text of the first element sel selects, spaces trimmed.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(value(t, ctx, chromedp.Text(chromedp.CSS(sel))))
}

// location is the URL the tab shows.
func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	u, err := url.Parse(value(t, ctx, chromedp.Location()))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// signIn signs person in through the sign-in form, as they would: it
// opens /app/sign-in, types their credential, submits, and waits for the
// start page.
func (bv *browserVault) signIn(t *testing.T, ctx context.Context, person string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(bv.url+"/app/sign-in"))
	bv.submitCredential(t, ctx, person)
	if u := location(t, ctx); u.Path != "/app/" {
		t.Fatalf("after signing in as %s the browser shows %s, not the start page", person, u)
	}
}

// submitCredential types person's credential into the sign-in form the
// tab shows and submits it, waiting for the page it leads to (the one
// asked for, or the start page), on which person must be signed in.
func (bv *browserVault) submitCredential(t *testing.T, ctx context.Context, person string) {
	t.Helper()
	cred, ok := bv.creds[person]
	if !ok {
		t.Fatalf("no person %q", person)
	}
	run(t, ctx, chromedp.SendKeys(chromedp.ID("credential"), cred))
	resp := navigation(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/app/sign-in"] button[type=submit]`)))
	if resp.Status != http.StatusOK {
		t.Fatalf("signing in as %s: the page after it answered %d", person, resp.Status)
	}
	if got := text(t, ctx, "header .who a"); got != person {
		t.Fatalf("signed in as %s, the page names %q", person, got)
	}
}

// events returns the custody log's events of type typ, in order.
func (bv *browserVault) events(t *testing.T, typ string) []*events.Event {
	t.Helper()
	var out []*events.Event
	err := bv.log.Read(context.Background(), 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err == nil && ev.Type == typ {
			out = append(out, ev)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refusals returns the access.refused events' data with their actor.
func (bv *browserVault) refusals(t *testing.T) []refusal {
	t.Helper()
	var out []refusal
	for _, ev := range bv.events(t, vault.TypeAccessRefused) {
		var r refusal
		if err := json.Unmarshal(ev.Data, &r.AccessRefused); err != nil {
			t.Fatal(err)
		}
		r.Person = ev.Actor.Person
		out = append(out, r)
	}
	return out
}

type refusal struct {
	vault.AccessRefused
	Person string
}

func (r refusal) String() string {
	return fmt.Sprintf("%s by %q: %s %s", r.Action, r.Person, r.Target, r.Reason)
}

// sessionCookie is the browser's session cookie for the vault, or nil.
func (bv *browserVault) sessionCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	res := value(t, ctx, chromedp.Action[network.GetCookiesResult](func(ctx context.Context, tab *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tab, network.GetCookies, network.GetCookiesParams{URLs: []string{bv.url + "/app/"}})
	}))
	for _, c := range res.Cookies {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// TestBrowserSignInEachRole signs each role in through the form, checks
// the start page names the person and their role, signs out with the
// button, and checks the old session cookie no longer opens anything.
func TestBrowserSignInEachRole(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	run(t, ctx, chromedp.Navigate(bv.url+"/app/"))
	if u := location(t, ctx); u.Path != "/app/sign-in" || u.Query().Get("next") != "/app/" {
		t.Fatalf("/app/ without a session shows %s, not the sign-in page", u)
	}
	testenv.Screenshot(t, ctx, "sign-in")

	for _, p := range browserPersons {
		t.Run(p.name, func(t *testing.T) {
			bv.signIn(t, ctx, p.name)
			if got := text(t, ctx, "main h1"); got != "Start" {
				t.Errorf("start page heading %q", got)
			}
			if got, want := text(t, ctx, "header .who .role"), "("+p.role+")"; got != want {
				t.Errorf("start page shows the role %q, want %q", got, want)
			}
			if title := value(t, ctx, chromedp.Title()); !strings.HasPrefix(title, "Start · ") {
				t.Errorf("title %q", title)
			}
			testenv.Screenshot(t, ctx, "start")

			old := bv.sessionCookie(t, ctx)
			if old == nil {
				t.Fatal("signed in, but the browser holds no session cookie")
			}
			ended := len(bv.events(t, vault.TypeSessionEnded))
			resp := navigation(t, ctx, chromedp.Click(chromedp.CSS("header .who form button[type=submit]")))
			u := location(t, ctx)
			if resp.Status != http.StatusOK || u.Path != "/app/sign-in" {
				t.Fatalf("sign out led to %s (%d), not the sign-in page", u, resp.Status)
			}
			if got := text(t, ctx, "main .notice"); got != "You are signed out." {
				t.Errorf("after signing out the page says %q", got)
			}
			if c := bv.sessionCookie(t, ctx); c != nil {
				t.Errorf("the session cookie stayed after signing out: %+v", c)
			}
			evs := bv.events(t, vault.TypeSessionEnded)
			if len(evs) != ended+1 || evs[len(evs)-1].Actor.Person != p.name {
				t.Fatalf("signing out recorded %d session.ended events (want 1, by %s)", len(evs)-ended, p.name)
			}

			// The old cookie, put back, opens nothing: the page asks to sign
			// in again, saying the session ended.
			run(t, ctx, chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
				_, err := cdp.Call(ctx, tab, network.SetCookie, network.SetCookieParams{Name: old.Name, Value: old.Value,
					URL: bv.url + "/", Path: "/", HTTPOnly: ptr(true), SameSite: network.CookieSameSiteStrict})
				return err
			}), chromedp.Navigate(bv.url+"/app/me"))
			u = location(t, ctx)
			if u.Path != "/app/sign-in" || u.Query().Get("ended") != "ended" || u.Query().Get("next") != "/app/me" {
				t.Errorf("the old session cookie led to %s, not to signing in again", u)
			}
			if c := bv.sessionCookie(t, ctx); c != nil {
				t.Errorf("the vault left the ended session's cookie in place: %+v", c)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestBrowserSessionExpiry lets a session run out on the vault's clock:
// the next page sends the person to sign in, saying the session ended and
// keeping the page asked for, to which signing in again leads.
func TestBrowserSessionExpiry(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.signIn(t, ctx, "ana")

	bv.clock.Advance(12*time.Hour + time.Minute) // the default SessionTTL, and a minute
	resp := navigation(t, ctx, chromedp.Navigate(bv.url+"/app/me"))
	u := location(t, ctx)
	if resp.Status != http.StatusOK || u.Path != "/app/sign-in" {
		t.Fatalf("after the session's end /app/me shows %s (%d), not the sign-in page", u, resp.Status)
	}
	if u.Query().Get("ended") != "expired" || u.Query().Get("next") != "/app/me" {
		t.Errorf("sign-in page URL %s: want ended=expired and next=/app/me", u)
	}
	if got := text(t, ctx, "main .notice"); got != "Your session expired. Sign in again to go on." {
		t.Errorf("the sign-in page says %q", got)
	}
	next := value(t, ctx, chromedp.Value(chromedp.CSS(`form[action="/app/sign-in"] input[name=next]`)))
	if next != "/app/me" {
		t.Errorf("the sign-in form goes on to %q, want /app/me", next)
	}
	testenv.Screenshot(t, ctx, "ended")
	var noted bool
	for _, r := range bv.refusals(t) {
		noted = noted || r.Action == "GET /app/me" && r.Person == ""
	}
	if !noted {
		t.Errorf("the ended session's request was not recorded: %v", bv.refusals(t))
	}

	bv.submitCredential(t, ctx, "ana")
	if u := location(t, ctx); u.Path != "/app/me" {
		t.Errorf("signing in again led to %s, not the page asked for (/app/me)", u)
	}
	if got := text(t, ctx, "main h1"); got != "Who am I" {
		t.Errorf("page heading %q", got)
	}
}

// TestBrowserCSRF has another site's page post to the vault while the
// browser is signed in, and a page script post without the form's token:
// each is refused, changes nothing, and is recorded.
func TestBrowserCSRF(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.signIn(t, ctx, "inv")

	// The attacker's page, on another port (another origin, the same site:
	// the browser sends the SameSite=Strict cookie along) and under the
	// name localhost (another site: it does not).
	attacker := http.NewServeMux()
	attacker.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="%s/app/sign-out"><input type="hidden" name="csrf" value="guessed"></form>
<script src="/go.js"></script>`, bv.url)
	})
	attacker.HandleFunc("GET /go.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write([]byte("document.getElementById('f').submit();\n"))
	})
	evil := httptest.NewServer(attacker)
	defer evil.Close()
	_, port, _ := net.SplitHostPort(evil.Listener.Addr().String())
	bv.expectRefused("/app/sign-out")

	// Neither refusal names inv: another origin's post may be any page's
	// (recorded by source address, the second of the minute in its
	// summary).
	recorded := 0
	for _, site := range []struct{ name, url string }{
		{"same-site", evil.URL},
		{"cross-site", "http://localhost:" + port},
	} {
		t.Run(site.name, func(t *testing.T) {
			before := len(bv.refusals(t))
			wctx, cancel := context.WithTimeout(ctx, stepTimeout)
			defer cancel()
			responses := chromedp.Events(wctx, network.ResponseReceived)
			run(t, ctx, chromedp.Navigate(site.url+"/"))
			// The page posts its form at once: wait for the vault's answer.
			var status int64
			for ev, err := range responses {
				if err != nil {
					t.Fatalf("waiting for the vault's answer to the other site's post: %v", err)
				}
				if ev.Response.URL == bv.url+"/app/sign-out" {
					status = ev.Response.Status
					break
				}
			}
			run(t, ctx, chromedp.WaitVisible(chromedp.CSS("main .error")))
			if status != http.StatusForbidden {
				t.Errorf("the vault answered the other site's post with %d, want 403", status)
			}
			if got := text(t, ctx, "main .error"); !strings.Contains(got, "came from another site and was refused") {
				t.Errorf("refusal page says %q", got)
			}
			testenv.Screenshot(t, ctx, "refused")

			if n := len(bv.events(t, vault.TypeSessionEnded)); n != 0 {
				t.Errorf("the other site's post ended %d sessions", n)
			}
			var noted []refusal
			for _, r := range bv.refusals(t)[before:] {
				if r.Reason == "cross-origin request refused (CSRF protection)" && r.Target == "POST /app/sign-out" {
					noted = append(noted, r)
				}
			}
			if len(noted) > 1 || len(noted) == 1 && noted[0].Person != "" {
				t.Errorf("recorded refusals %v, want at most one of the cross-origin post, naming nobody", noted)
			}
			recorded += len(noted)
			// Still signed in.
			run(t, ctx, chromedp.Navigate(bv.url+"/app/"))
			if got := text(t, ctx, "header .who a"); got != "inv" {
				t.Fatalf("after the other site's post the start page names %q", got)
			}
		})
	}
	if recorded == 0 {
		t.Error("no refusal of the other sites' posts was recorded")
	}

	// A page script of the vault's own origin that posts without the
	// form's token, or with a wrong one, is refused too.
	post := func(body string) int {
		t.Helper()
		return value(t, ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch('/app/sign-out', {method: 'POST',
	headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: %q}).then(r => r.status)`, body), chromedp.EvalAwaitPromise))
	}
	before := len(bv.refusals(t))
	if code := post("next=%2Fapp%2F"); code != http.StatusForbidden {
		t.Errorf("a post without the csrf field answered %d, want 403", code)
	}
	if code := post("csrf=" + url.QueryEscape(strings.Repeat("A", 43))); code != http.StatusForbidden {
		t.Errorf("a post with a wrong csrf field answered %d, want 403", code)
	}
	if n := len(bv.events(t, vault.TypeSessionEnded)); n != 0 {
		t.Errorf("posts without the token ended %d sessions", n)
	}
	var noted []refusal
	for _, r := range bv.refusals(t)[before:] {
		if r.Reason == "CSRF token missing or wrong" {
			noted = append(noted, r)
		}
	}
	// The aggregation records the first of a window at once, and the
	// rest in a summary at the window's end.
	if len(noted) != 1 || noted[0].Person != "inv" || noted[0].Target != "POST /app/sign-out" {
		t.Errorf("recorded refusals %v, want the first post without a token, by inv", noted)
	}
	run(t, ctx, chromedp.Reload())
	if got := text(t, ctx, "header .who a"); got != "inv" {
		t.Fatalf("after the posts without a token the start page names %q", got)
	}

	// With the page's own token the same post signs out: the refusals
	// above were for the token alone.
	token := value(t, ctx, chromedp.Value(chromedp.CSS(`header .who input[name=csrf]`)))
	if code := post("csrf=" + url.QueryEscape(token)); code != http.StatusOK {
		t.Errorf("a post with the page's token answered %d, want 200 (the sign-in page)", code)
	}
	if evs := bv.events(t, vault.TypeSessionEnded); len(evs) != 1 || evs[0].Actor.Person != "inv" {
		t.Errorf("the post with the token recorded %d session.ended events", len(evs))
	}
}

// TestBrowserSecurityHeaders checks what the browser receives with a page:
// the Content-Security-Policy, nosniff, and a session cookie that page
// scripts cannot read and other sites cannot make the browser send.
func TestBrowserSecurityHeaders(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	check := func(page string, resp *network.Response) {
		t.Helper()
		header := func(name string) string {
			for k, v := range resp.Headers {
				if strings.EqualFold(k, name) {
					s, _ := v.(string)
					return s
				}
			}
			return ""
		}
		csp := header("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q lacks frame-ancestors 'none'", page, csp)
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: Content-Security-Policy %q allows inline script or style", page, csp)
		}
		if got := header("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", page, got)
		}
		if got := header("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q", page, got)
		}
		if got := header("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q", page, got)
		}
	}
	check("sign-in", value(t, ctx, chromedp.NavigateResponse(bv.url+"/app/sign-in")))
	bv.signIn(t, ctx, "cust")
	check("start", value(t, ctx, chromedp.NavigateResponse(bv.url+"/app/")))
	check("me", value(t, ctx, chromedp.NavigateResponse(bv.url+"/app/me")))

	c := bv.sessionCookie(t, ctx)
	if c == nil {
		t.Fatal("no session cookie")
	}
	if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/" {
		t.Errorf("session cookie HttpOnly %v, SameSite %q, Path %q: want HttpOnly, Strict, /", c.HTTPOnly, c.SameSite, c.Path)
	}
	if c.Secure {
		t.Error("the session cookie is Secure on plain HTTP: the browser would not send it")
	}
	if got := value(t, ctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(got, cookieName) {
		t.Errorf("a page script reads the session cookie: %q", got)
	}
}

// TestBrowserNoConsoleErrors opens every page each role's menu offers, and
// the sign-in, "who am I" and error pages: no page script may throw or
// log an error, nor break the Content-Security-Policy, and every
// stylesheet and script must load (the check is newBrowserVault's).
func TestBrowserNoConsoleErrors(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	run(t, ctx, chromedp.Navigate(bv.url+"/app/sign-in"))
	bv.expectRefused("/app/no-such-page")
	for _, p := range browserPersons {
		bv.signIn(t, ctx, p.name)
		hrefs := value(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('header nav a')).map(a => a.getAttribute('href'))`))
		if len(hrefs) == 0 {
			t.Errorf("%s: no menu", p.name)
		}
		for _, href := range append(hrefs, "/app/me", "/app/no-such-page") {
			resp := navigation(t, ctx, chromedp.Navigate(bv.url+href))
			if resp.Status != http.StatusOK {
				// A menu entry whose page is not there yet; its error page
				// is checked for errors all the same.
				t.Logf("%s: %s answers %d", p.name, href, resp.Status)
				bv.expectRefused(href)
			}
			if style := value(t, ctx, chromedp.Evaluate[int](`document.styleSheets.length`)); style != 1 {
				t.Errorf("%s: %s has %d stylesheets loaded, want 1", p.name, href, style)
			}
		}
		run(t, ctx, chromedp.Navigate(bv.url+"/app/"))
		navigation(t, ctx, chromedp.Click(chromedp.CSS("header .who form button[type=submit]")))
	}
}

// importHashSet imports a hash set as cust, approved by cust2 where the
// vault makes an import a request.
func importHashSet(t *testing.T, v *vault.Vault, req vault.HashSetImport) {
	t.Helper()
	ctx := context.Background()
	res, err := v.ImportHashSet(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Request == "" {
		return // put in use at once
	}
	if _, err := v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, res.Request); err != nil {
		t.Fatal(err)
	}
}
