// Package web is the vault's web application (docs/web.md): server-rendered
// pages for every role's daily work, served by `custos server` next to the
// API, on the same vault methods and therefore under the same rules.
// Nothing here decides who may do what: every page calls the vault as the
// signed-in person, so each authorisation check, each custody event and
// record-before-reveal happen exactly as they do for the API and the CLI.
//
// What this package adds is the browser's side of safety:
//
//   - sessions in an HttpOnly, SameSite=Strict cookie that holds the
//     vault's own session token (expiring with the session);
//   - CSRF protection on every state-changing request: net/http's
//     CrossOriginProtection (Sec-Fetch-Site and Origin) and a per-session
//     token in every form;
//   - security headers on every answer: a Content-Security-Policy without
//     inline script or style, frame-ancestors 'none', nosniff,
//     Referrer-Policy same-origin, Cache-Control no-store, HSTS outside
//     loopback;
//   - reviewer welfare: evidence is sent only to a POST that states a
//     purpose (recorded before the first byte), as an attachment under a
//     sandboxing policy, and shown greyscale and blurred (static/app.js).
//
// Every asset is embedded in the binary; no page loads anything from
// another origin.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is the path under which the web application is served; the API
// keeps /v1/, /checkpoint, /tile/ and /metrics.
const Prefix = "/app/"

// Options configure the web application.
type Options struct {
	// BaseURL is the vault's address as people's browsers reach it
	// (https://vault.example.org, or http://127.0.0.1:8443 on loopback);
	// the OpenID provider redirects to BaseURL + /app/sign-in/oidc/callback.
	BaseURL string
	// TLS: the vault is served over HTTPS. Cookies are then Secure and
	// __Host- prefixed, and HSTS is sent unless BaseURL is loopback.
	TLS bool
	// OIDCHTTPClient makes the requests to the OpenID provider (nil: a
	// client with a 30-second timeout).
	OIDCHTTPClient *http.Client
	// Now is the clock of the sign-in flows (nil: time.Now).
	Now func() time.Time
}

// Handler serves the web application and hands every other path to the
// API.
type Handler struct {
	v       *vault.Vault
	api     *api.Handler
	log     *slog.Logger
	opts    Options
	mux     *http.ServeMux
	pages   map[string]*template.Template
	csrfKey []byte
	oidc    *oidcFlows
	static  http.Handler
	hsts    bool
	// sent are the one-time forms sent (a sealing), answered again
	// rather than done twice.
	sent sentForms
}

// New returns the handler of the web application; a path outside Prefix
// (and other than /) goes to apiHandler.
func New(v *vault.Vault, apiHandler *api.Handler, logger *slog.Logger, opts Options) (*Handler, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{v: v, api: apiHandler, log: logger, opts: opts, mux: http.NewServeMux(), csrfKey: make([]byte, 32)}
	rand.Read(h.csrfKey)
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h.pages = pages
	sub, _ := fs.Sub(staticFS, "static")
	h.static = http.StripPrefix(Prefix+"static/", http.FileServerFS(sub))
	h.hsts = opts.TLS && !loopbackURL(opts.BaseURL)
	h.oidc = newOIDCFlows(opts.OIDCHTTPClient)
	h.routes()
	return h, nil
}

func loopbackURL(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// contentPolicy is the Content-Security-Policy of every page: scripts and
// styles only from the vault's own files, images and media only from the
// vault or from blob: URLs the viewer makes of a revealed item.
const contentPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src blob:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// evidencePolicy is sent with evidence bytes: were the answer ever opened
// as a document, it is a sandboxed one without script, in no origin.
const evidencePolicy = "sandbox; default-src 'none'; frame-ancestors 'none'"

// ServeHTTP serves the web application's paths and hands every other one
// to the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	favicon := r.URL.Path == "/favicon.ico" && r.Method == http.MethodGet
	if !favicon && r.URL.Path != "/" && !strings.HasPrefix(r.URL.Path, Prefix) && r.URL.Path != strings.TrimSuffix(Prefix, "/") {
		h.api.ServeHTTP(w, r)
		return
	}
	// The API's limits on a client that stalls hold for pages too: a body
	// that trickles (a sign-in form, an upload) and an answer nobody reads
	// (a reveal, a package) are cut.
	h.api.Guard(w, r, func(w http.ResponseWriter, r *http.Request) { h.serveApp(w, r, favicon) })
}

// serveApp serves a path of the web application.
func (h *Handler) serveApp(w http.ResponseWriter, r *http.Request, favicon bool) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// The vault's own pages name themselves to the vault (crossSite
	// tells a browser without Fetch Metadata by it), and to nobody else.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	hd.Set("Cache-Control", "no-store")
	if h.hsts {
		hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	if favicon {
		// Browsers ask every site for it: the vault's icon, not a refusal
		// in the custody log.
		r.URL.Path = Prefix + "static/favicon.svg"
		h.serveStatic(w, r)
		return
	}
	if r.URL.Path == "/" || r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		if r.Method != http.MethodGet {
			h.notFound(w, r)
			return
		}
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// session is the signed-in person of a request.
type session struct {
	who  vault.Principal
	csrf string
	lang *catalog
	// expires is the session's end (zero for a client certificate).
	expires time.Time
}

// pageFunc serves one page for a signed-in person.
type pageFunc func(h *Handler, w http.ResponseWriter, r *http.Request, s *session) error

// routes registers every page. GET pages render; every state change is a
// POST that carries the CSRF token.
func (h *Handler) routes() {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	handle := func(pattern string, f http.HandlerFunc) {
		h.mux.Handle(pattern, cop.Handler(f))
	}
	page := func(pattern string, f pageFunc) {
		handle(pattern, h.authed(pattern, f))
	}
	handle("GET "+Prefix+"static/", h.serveStatic)
	handle("GET "+Prefix+"sign-in", h.signInPage)
	handle("POST "+Prefix+"sign-in", h.signInLocal)
	handle("GET "+Prefix+"sign-in/oidc", h.signInOIDC)
	handle("GET "+Prefix+"sign-in/oidc/callback", h.oidcCallback)
	handle("GET "+Prefix+"invitation", h.redeemPage)
	handle("POST "+Prefix+"invitation", h.redeem)
	page("POST "+Prefix+"sign-out", (*Handler).signOut)
	page("GET "+Prefix+"{$}", (*Handler).home)
	page("GET "+Prefix+"me", (*Handler).me)
	for _, r := range extraRoutes {
		page(r.pattern, r.f)
	}
	// The address a form was sent to, reloaded or bookmarked once its
	// answer was shown, leads to the page the form belongs to (the
	// nearest page above it), not to "no such page"; nothing is sent
	// again.
	gets := map[string]bool{Prefix + "me": true}
	for _, r := range extraRoutes {
		if m, p, _ := strings.Cut(r.pattern, " "); m == http.MethodGet {
			gets[p] = true
		}
	}
	for _, r := range extraRoutes {
		m, p, _ := strings.Cut(r.pattern, " ")
		if m != http.MethodPost || gets[p] {
			continue
		}
		gets[p] = true
		segs := strings.Split(strings.TrimPrefix(p, Prefix), "/")
		n := len(segs) - 1
		for n > 0 && !gets[Prefix+strings.Join(segs[:n], "/")] {
			n--
		}
		page(http.MethodGet+" "+p, formAddress(n))
	}
	handle(Prefix, h.notFound)
}

// formAddress answers a GET of a form's address with a redirect to the
// page of its first n path segments below Prefix (the start page for 0):
// each wildcard of a pattern is one segment, so the address has as many
// as its pattern.
func formAddress(n int) pageFunc {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, s *session) error {
		segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), Prefix), "/")
		http.Redirect(w, r, Prefix+strings.Join(segs[:min(n, len(segs))], "/"), http.StatusSeeOther)
		return nil
	}
}

// extraRoutes are the pages of the other files, registered by their init.
var extraRoutes []struct {
	pattern string
	f       pageFunc
}

// asks wraps f, the form of the vault's decision action, as the API's
// routes are (api.Route.Asks): a form f answers as bad input, unrecorded
// (a body that is not a form, a field the page or the vault refused to
// read), is answered to someone who may not ask at all as their refusal,
// recorded, as a well-formed form would be (security.md rule 9). The
// gate's target is the pattern's first path wildcard, if any.
func asks(pattern, action string, f pageFunc) pageFunc {
	targetOf := api.GateTarget(pattern)
	return func(h *Handler, w http.ResponseWriter, r *http.Request, s *session) error {
		err := f(h, w, r, s)
		if err == nil || vault.Recorded(err) || !errors.Is(err, vault.ErrBadInput) {
			return err
		}
		if gerr := h.v.MayAsk(r.Context(), s.who, action, targetOf(r)); gerr != nil {
			return gerr
		}
		return err
	}
}

// registerAsks registers f, the form of the vault's decision action, as
// asks wraps it.
func registerAsks(pattern, action string, f pageFunc) { register(pattern, asks(pattern, action, f)) }

func register(pattern string, f pageFunc) {
	extraRoutes = append(extraRoutes, struct {
		pattern string
		f       pageFunc
	}{pattern, f})
}

func (h *Handler) serveStatic(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/") {
		h.notFound(w, r)
		return
	}
	// The vault's own code and style, identical for everyone: cacheable.
	w.Header().Set("Cache-Control", "public, max-age=3600")
	h.static.ServeHTTP(w, r)
}

// crossOrigin refuses a state-changing request another site's page sent
// (a cross-site request forgery), and records it.
func (h *Handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	h.refuseRequest(w, r, http.StatusForbidden, "cross-origin request refused (CSRF protection)",
		"This request came from another site and was refused. Nothing was changed.")
}

// refuseRequest records (aggregated, as the API's unknown routes) and
// answers a request no page serves, keeping the signed-in person, if
// any, on the page.
func (h *Handler) refuseRequest(w http.ResponseWriter, r *http.Request, code int, reason, msg string) {
	who, err := h.api.Authenticate(r, h.sessionToken(r))
	var by *vault.Principal
	var s *session
	if err == nil {
		s = h.sessionOf(r, who)
		// Credentials that come with another site's request (a
		// certificate; a cookie from a sibling site): such a refusal,
		// and a form refused as another origin's (403), name nobody;
		// the source address is recorded.
		if code != http.StatusForbidden && !fromElsewhere(r, who) {
			by = &who
		}
	}
	grounds := vault.GroundsUnknown
	if code != http.StatusNotFound {
		grounds = vault.GroundsInput // a request that did not come from the vault's own pages
	}
	if nerr := h.api.NoteUnknown(r, by, reason, grounds); nerr != nil {
		h.log.Error("recording a refusal", "err", nerr)
	}
	h.errorPage(w, r, s, code, msg)
}

// sessionOf is the session of a signed-in person's request.
func (h *Handler) sessionOf(r *http.Request, who vault.Principal) *session {
	return &session{who: who, csrf: h.csrfToken(who), lang: pickCatalog(r), expires: who.Credential.Expires}
}

// authed wraps a page: a request without a valid session is sent to sign
// in (a page) or refused (a POST); a valid one gets its CSRF token checked
// (POST) and the page served. A 403 or 404 the vault did not record is
// recorded, as the API does.
func (h *Handler) authed(pattern string, f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := h.sessionToken(r)
		who, err := h.api.Authenticate(r, token)
		if err != nil {
			if h.throttled(w, r, pattern) {
				return
			}
			if token != "" || r.Method != http.MethodGet {
				// A session that ended or was ended: recorded like the API's.
				if nerr := h.api.NoteUnauthenticated(r, pattern, r.URL.EscapedPath(), err); nerr != nil {
					h.log.Error("recording a refusal", "err", nerr)
				}
			}
			if token != "" {
				clearSessionCookie(w, h.opts.TLS)
			}
			if r.Method == http.MethodGet {
				q := url.Values{"next": {r.URL.RequestURI()}}
				if token != "" {
					q.Set("ended", endedBecause(err))
				}
				http.Redirect(w, r, Prefix+"sign-in?"+q.Encode(), http.StatusSeeOther)
				return
			}
			h.errorPage(w, r, nil, http.StatusUnauthorized, "Your session has ended. Sign in again; nothing was changed.")
			return
		}
		s := h.sessionOf(r, who)
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && fromElsewhere(r, who) {
			// A page of another site sent the browser here, and the
			// person's certificate (or, from a sibling site of the same
			// domain, their SameSite=Strict cookie) came with it unasked.
			// The page is served only once the person follows on from
			// the vault's own, so that another site's link or image
			// records nothing in their name (a view refused, a
			// checkpoint signed).
			if err := h.render(w, r, s, http.StatusOK, "crosssite", s.lang.text("crosssite.title"), safeNext(r.URL.RequestURI())); err != nil {
				h.log.Error("rendering a page", "err", err)
			}
			return
		}
		if r.Method == http.MethodPost && !h.validCSRF(r, s) {
			by := &who
			if fromElsewhere(r, who) {
				by = nil // names nobody: another site may have sent it
			}
			if nerr := h.api.NoteUnknown(r, by, "CSRF token missing or wrong", vault.GroundsInput); nerr != nil {
				h.log.Error("recording a refusal", "err", nerr)
			}
			h.errorPage(w, r, s, http.StatusForbidden, "This form has expired or did not come from this vault. Go back, reload the page and try again; nothing was changed.")
			return
		}
		if err := f(h, w, r, s); err != nil {
			err = h.api.RecordRefusal(r.Context(), r, who, pattern, err)
			code, msg := h.api.WebMessage(r, err)
			h.errorPage(w, r, s, code, msg)
		}
	}
}

// crossSite reports whether the browser says a page of another site sent
// r (Fetch Metadata's Sec-Fetch-Site); a link typed or bookmarked ("none")
// and the vault's own pages are not.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// fromElsewhere reports whether a request signed in as who may have been
// sent by a page of another site, its credentials coming with it unasked:
// the browser says so (a session's SameSite=Strict cookie still comes
// from a sibling site of the same domain), or, signed in by a client
// certificate, which comes with any request, mayBeCrossSite.
func fromElsewhere(r *http.Request, who vault.Principal) bool {
	return crossSite(r) || who.Credential.Auth == "certificate" && mayBeCrossSite(r)
}

// mayBeCrossSite is crossSite, and for a browser that sends no Fetch
// Metadata (those before 2023), whether its Referer is not one of the
// vault's own pages, which name themselves (Referrer-Policy same-origin):
// what decides whether a client certificate's request is the person's.
func mayBeCrossSite(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") != "" {
		return crossSite(r)
	}
	ref := r.Referer()
	u, err := url.Parse(ref)
	return ref == "" || err != nil || u.Host != r.Host
}

// throttled takes one of the client address's requests without valid
// credentials from the API's rate limit (sign-in attempts included); when
// none is left it answers 429 with Retry-After, the refusal recorded
// (aggregated) as the API records it, and reports true.
func (h *Handler) throttled(w http.ResponseWriter, r *http.Request, action string) bool {
	wait, limited, err := h.api.Throttled(r, action)
	if err != nil {
		h.log.Error("recording a refusal", "err", err)
	}
	if !limited {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
	h.errorPage(w, r, nil, http.StatusTooManyRequests, "Too many requests from this address without signing in; wait a minute and try again.")
	return true
}

// notFound answers a path nothing serves, and records it.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.refuseRequest(w, r, http.StatusNotFound, "no such page", "There is no such page.")
}

// view is what every page's template gets.
type view struct {
	Title string
	// TitleIsValue: Title is a value people wrote (an item's name), which
	// the document's <title> isolates (U+2068 ... U+2069); the page's own
	// titles need no marks in bookmarks and history.
	TitleIsValue bool
	Who          *vault.Principal
	Expires      time.Time
	CSRF         string
	Lang         *catalog
	Notice       string
	Error        string
	Status       int
	// Posted: the page answers a form sent (POST), so that going back
	// returns to the form; otherwise to the page before.
	Posted bool
	Nav    []navLink
	Data   any
}

type navLink struct {
	Href, Label string
	Current     bool
}

// T is the translation of key in the page's language, with args put in
// as fmt.Sprintf would, each in its own bidirectional isolate
// (catalog.isolatedText; bidi.go says why).
func (v *view) T(key string, args ...any) template.HTML { return v.Lang.isolatedText(key, args...) }

// AppName is the application's name in the page's language, as text.
func (v *view) AppName() string { return v.Lang.text("app.name") }

// Kind is a two-person request's kind in words ("Enrol a person"), or
// the kind itself for one the catalog does not name.
func (v *view) Kind(kind string) string {
	if m := v.Lang.lookup("request.kind." + kind); m != "" {
		return m
	}
	return kind
}

// Raw is key's message with its verbs left in, for the page's script to
// fill in (static/app.js reads them from a <template>).
func (v *view) Raw(key string) string {
	if m := v.Lang.lookup(key); m != "" {
		return m
	}
	return "[" + key + "]"
}

// render writes a page. Templates run into a buffer first, so that a
// failing one sends an error page, never half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *session, code int, name, title string, data any) error {
	return h.renderView(w, r, s, &view{Title: title, Data: data, Status: code}, name)
}

// renderValueTitle is render for a page titled by a value people wrote
// (view.TitleIsValue).
func (h *Handler) renderValueTitle(w http.ResponseWriter, r *http.Request, s *session, code int, name, title string, data any) error {
	return h.renderView(w, r, s, &view{Title: title, TitleIsValue: true, Data: data, Status: code}, name)
}

// renderView writes page name for v (its Title, TitleIsValue, Data and
// Status set).
func (h *Handler) renderView(w http.ResponseWriter, r *http.Request, s *session, v *view, name string) error {
	t, ok := h.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	v.Lang, v.Posted = defaultCatalog, r.Method == http.MethodPost
	if s != nil {
		v.Who, v.CSRF, v.Lang, v.Expires = &s.who, s.csrf, s.lang, s.expires
		v.Nav = navFor(s.who, r.URL.Path, s.lang)
	}
	if v.Title == "" {
		v.Title = v.AppName()
	}
	v.Notice = h.takeNotice(w, r, v.Lang)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(v.Status)
	w.Write(buf.Bytes())
	return nil
}

// errorPage answers an error as a page (or as JSON to the page's own
// scripts, which ask with Accept: application/json).
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	// The vault's class of error is said by the page's title; the message
	// is what to do about it.
	for _, e := range []error{vault.ErrBadInput, vault.ErrConflict, vault.ErrForbidden, vault.ErrNotFound, vault.ErrUnauthenticated} {
		msg = strings.TrimPrefix(msg, e.Error()+": ")
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, code, map[string]string{"error": msg})
		return
	}
	// Words a person reads, not the protocol's ("Forbidden").
	title := map[int]string{http.StatusBadRequest: "Please check what you entered", http.StatusForbidden: "Not allowed",
		http.StatusNotFound: "Not found", http.StatusConflict: "Not possible now", 499: "Cancelled"}[code]
	if title == "" {
		title = http.StatusText(code)
	}
	if err := h.render(w, r, s, code, "error", title, msg); err != nil {
		h.log.Error("rendering an error page", "err", err)
		http.Error(w, msg, code)
	}
}

// redirectDone sends the browser to path after a successful POST
// (Post/Redirect/Get), with a notice for that page to show once. The
// notice travels in a short-lived cookie the vault sets, never in the
// address: a link cannot make a page say that something was done.
func (h *Handler) redirectDone(w http.ResponseWriter, r *http.Request, path, notice string) {
	http.SetCookie(w, cookie(h.opts.TLS, noticeCookieName, secureNoticeName, notice, 60))
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// takeNotice is the notice a redirect left for this page (its text in
// the page's language), and clears it; "" if none, or none known.
func (h *Handler) takeNotice(w http.ResponseWriter, r *http.Request, lang *catalog) string {
	key := cookieValue(r, h.opts.TLS, noticeCookieName, secureNoticeName)
	if key == "" {
		return ""
	}
	http.SetCookie(w, cookie(h.opts.TLS, noticeCookieName, secureNoticeName, "", -1))
	return lang.lookup("done." + key)
}

// errBadForm is a form that could not be read.
var errBadForm = errors.New("the form could not be read")

// form reads a POSTed form (at most 64 KiB).
func form(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: %w", vault.ErrBadInput, errBadForm)
	}
	return nil
}

// writeJSON answers code with v as JSON, encoded before the status is
// sent (as vault/api's writeJSON: a value that cannot be encoded is a
// 500, never a 200 with an empty body).
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error: the answer could not be written as JSON"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
