package web

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"html"
	"html/template"
	"image"
	pngpkg "image/png"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/clientcert"
)

// Tests of the web application without a browser: what the server sends.

// webClient is a cookie-keeping HTTP client of a served test vault that
// sends POSTs as a page of the vault would (Sec-Fetch-Site: same-origin).
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

type sameOrigin struct{ rt http.RoundTripper }

func (s sameOrigin) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Header.Get("Sec-Fetch-Site") == "" {
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return s.rt.RoundTrip(r)
}

func newWebClient(t *testing.T, base string, rt http.RoundTripper) *webClient {
	jar, _ := cookiejar.New(nil)
	if rt == nil {
		rt = http.DefaultTransport
	}
	return &webClient{t: t, base: base, c: &http.Client{Jar: jar, Transport: sameOrigin{rt},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *webClient) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// csrf is the CSRF token of a page.
func (c *webClient) csrf(path string) string {
	c.t.Helper()
	_, body := c.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s has no CSRF token", path)
	}
	return m[1]
}

func (c *webClient) signIn(credential string) *http.Response {
	c.t.Helper()
	resp, _ := c.do("POST", "/app/sign-in", url.Values{"credential": {credential}, "next": {"/app/"}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("signing in answered %d", resp.StatusCode)
	}
	return resp
}

// serve serves bv's vault with the web application on an httptest
// server (TLS if tlsConfig is not nil) and returns its URL.
func serve(t *testing.T, bv *browserVault, apiOpts api.Options, tlsConfig *tls.Config) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	if tlsConfig != nil {
		base = "https://" + srv.Listener.Addr().String()
	}
	logger := slog.New(slog.DiscardHandler)
	ah := api.New(bv.v, logger, apiOpts)
	h, err := New(bv.v, ah, logger, Options{BaseURL: base, TLS: tlsConfig != nil, Now: bv.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	if tlsConfig != nil {
		srv.TLS = tlsConfig
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(func() { srv.Close(); ah.Close() })
	bv.url = srv.URL
	return srv.URL
}

// TestRevealAnswerHeaders: evidence leaves the vault only as a
// never-cached attachment under a sandboxing policy, of no content type a
// browser would render, and only to a POST with the form's CSRF token and
// a purpose.
func TestRevealAnswerHeaders(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	bv.openCase(t, "H-1")
	item := bv.deposit(t, "H-1", "page.html", []byte("<script>alert(1)</script>"))
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	token := c.csrf("/app/items/" + item)

	for _, bad := range []struct {
		name string
		form url.Values
		code int
	}{
		{"no token", url.Values{"purpose": {"x"}}, http.StatusForbidden},
		{"wrong token", url.Values{"purpose": {"x"}, "csrf": {token + "x"}}, http.StatusForbidden},
		{"no purpose", url.Values{"csrf": {token}}, http.StatusBadRequest},
	} {
		resp, body := c.do("POST", "/app/items/"+item+"/reveal", bad.form)
		if resp.StatusCode != bad.code || strings.Contains(body, "alert(1)") {
			t.Errorf("%s: %d", bad.name, resp.StatusCode)
		}
	}
	if n := len(bv.accesses(t, item)); n != 0 {
		t.Fatalf("refused reveals recorded %d accesses", n)
	}
	// GET and HEAD reveal nothing.
	for _, m := range []string{"GET", "HEAD"} {
		if resp, body := c.do(m, "/app/items/"+item+"/reveal", nil); resp.StatusCode == http.StatusOK || strings.Contains(body, "alert(1)") {
			t.Errorf("%s of the reveal answered %d", m, resp.StatusCode)
		}
	}
	resp, body := c.do("POST", "/app/items/"+item+"/reveal", url.Values{"purpose": {"header check"}, "csrf": {token}})
	if resp.StatusCode != http.StatusOK || body != "<script>alert(1)</script>" {
		t.Fatalf("reveal: %d %q", resp.StatusCode, body)
	}
	h := resp.Header
	for name, want := range map[string]string{
		"Content-Type":            "application/octet-stream",
		"Content-Disposition":     `attachment; filename=` + item, // page.html: no extension that opens in a browser
		"Content-Security-Policy": evidencePolicy,
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if len(bv.accesses(t, item)) != 1 {
		t.Fatal("the reveal was not recorded once")
	}
	// The extension comes from the vault's probe of the content, not
	// from the name the depositor gave it.
	var png bytes.Buffer
	if err := pngpkg.Encode(&png, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]struct {
		body []byte
		ext  string
	}{
		"shot.dat":  {png.Bytes(), ".png"},
		"photo.jpg": {[]byte("<script>alert(1)</script>"), ""},
	} {
		id := bv.deposit(t, "H-1", name, f.body)
		token := c.csrf("/app/items/" + id)
		resp, _ := c.do("POST", "/app/items/"+id+"/reveal", url.Values{"purpose": {"name check"}, "csrf": {token}})
		if got, want := resp.Header.Get("Content-Disposition"), "attachment; filename="+id+f.ext; got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestRevealRecordsShownOrCopy: a reveal is recorded as shown only where
// the page's script shows it in the viewer (viewer=yes, in a request the
// browser says a script made) and the vault's
// probe found content the viewer shows; a download, a page without
// script, or content the viewer never shows (whatever the form says) is
// recorded as a copy.
func TestRevealRecordsShownOrCopy(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	bv.openCase(t, "SC-1")
	var png bytes.Buffer
	if err := pngpkg.Encode(&png, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	for _, tc := range []struct {
		name, viewer, dest, want string
		body                     []byte
	}{
		{"photo.png", "yes", "empty", vault.AccessShown, png.Bytes()},
		{"photo.png", "", "empty", vault.AccessCopy, png.Bytes()},
		{"photo.png", "true", "empty", vault.AccessCopy, png.Bytes()},
		// A form sent without script (its field added by hand): a
		// navigation, whose answer the browser saves.
		{"photo.png", "yes", "document", vault.AccessCopy, png.Bytes()},
		{"photo.png", "yes", "", vault.AccessCopy, png.Bytes()},
		{"page.html", "yes", "empty", vault.AccessCopy, []byte("<p>a page</p>")},
		{"claims.png", "yes", "empty", vault.AccessCopy, []byte("not an image at all")},
	} {
		id := bv.deposit(t, "SC-1", tc.name, tc.body)
		form := url.Values{"purpose": {"mode check"}, "csrf": {c.csrf("/app/items/" + id)}}
		if tc.viewer != "" {
			form.Set("viewer", tc.viewer)
		}
		var header []string
		if tc.dest != "" {
			header = []string{"Sec-Fetch-Dest", tc.dest}
		}
		if resp, _ := c.do("POST", "/app/items/"+id+"/reveal", form, header...); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s, viewer=%q, Sec-Fetch-Dest %q: %d", tc.name, tc.viewer, tc.dest, resp.StatusCode)
		}
		if acc := bv.accesses(t, id); len(acc) != 1 || acc[0].Access != tc.want {
			t.Errorf("%s, viewer=%q, Sec-Fetch-Dest %q: recorded %+v, want access %q", tc.name, tc.viewer, tc.dest, acc, tc.want)
		}
	}
}

// TestDownloadName: a downloaded item is named by its id, never by the
// name its depositor chose, with an extension only for what the vault's
// probe found to be an image or a video a viewer shows.
func TestDownloadName(t *testing.T) {
	const id = "it_0123456789abcdef01234567"
	for _, c := range []struct {
		m    *vault.MediaInfo
		want string
	}{
		{&vault.MediaInfo{Kind: "image", Format: "jpeg"}, id + ".jpg"},
		{&vault.MediaInfo{Kind: "image", Format: "png"}, id + ".png"},
		{&vault.MediaInfo{Kind: "image", Format: "webp"}, id + ".webp"},
		{&vault.MediaInfo{Kind: "video", Format: "mp4"}, id + ".mp4"},
		{&vault.MediaInfo{Kind: "image", Format: "svg"}, id},
		{&vault.MediaInfo{Kind: "video", Format: "asf"}, id},
		{&vault.MediaInfo{Kind: "video", Format: "mov"}, id},
		{nil, id},
	} {
		if got := downloadName(id, c.m); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
	}
}

// TestPageHeaders: every page carries the security headers; HSTS only
// over HTTPS off loopback.
func TestPageHeaders(t *testing.T) {
	bv := openTestVault(t)
	logger := slog.New(slog.DiscardHandler)
	ah := api.New(bv.v, logger, api.Options{})
	defer ah.Close()
	for _, tc := range []struct {
		base string
		tls  bool
		hsts bool
	}{
		{"http://127.0.0.1:8443", false, false},
		{"https://127.0.0.1:8443", true, false},
		{"https://localhost:8443", true, false},
		{"https://vault.example.org", true, true},
	} {
		h, err := New(bv.v, ah, logger, Options{BaseURL: tc.base, TLS: tc.tls})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/app/sign-in", "/app/", "/app/no-such-page"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			hd := rec.Header()
			csp := hd.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("%s %s: CSP %q", tc.base, path, csp)
			}
			if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" || hd.Get("Cache-Control") != "no-store" || hd.Get("Referrer-Policy") != "same-origin" {
				t.Errorf("%s %s: headers %v", tc.base, path, hd)
			}
			if got := hd.Get("Strict-Transport-Security") != ""; got != tc.hsts {
				t.Errorf("%s %s: HSTS sent: %v", tc.base, path, got)
			}
		}
	}
	// The API's paths are the API's: no page headers, JSON answers.
	h, _ := New(bv.v, ah, logger, Options{BaseURL: "http://127.0.0.1:8443"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/health", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Security-Policy") != "" {
		t.Fatalf("/v1/health through the web handler: %d %v", rec.Code, rec.Header())
	}
}

// TestCookieOverTLS: over HTTPS the session cookie is Secure, host-only
// (__Host-) and Strict; signing out ends the vault's session, not only
// the cookie.
func TestCookieOverTLS(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, &tls.Config{MinVersion: tls.VersionTLS12})
	c := newWebClient(t, base, &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}})
	resp := c.signIn(bv.creds["aud"])
	var got *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == secureCookieName {
			got = ck
		}
	}
	if got == nil || !got.Secure || !got.HttpOnly || got.SameSite != http.SameSiteStrictMode || got.Path != "/" || got.Domain != "" {
		t.Fatalf("session cookie over TLS: %+v", got)
	}
	if _, body := c.do("GET", "/app/me", nil); !strings.Contains(body, "aud") {
		t.Fatal("the secure cookie does not sign in")
	}
	token := c.csrf("/app/me")
	if resp, _ := c.do("POST", "/app/sign-out", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	if _, err := bv.v.Authenticate(got.Value); err == nil {
		t.Fatal("signing out left the vault's session open")
	}
}

// certificateVault serves bv over HTTPS with a client CA of its own, and
// returns a maker of browsers holding a certificate of that CA for a
// common name.
func certificateVault(t *testing.T, bv *browserVault) (card func(cn string) *webClient) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test unit CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	authority, err := clientcert.New(clientcert.Config{CAFile: filepath.Join(dir, "ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	// The CA was not configured at the vault's first start: two
	// custodians accept it before it signs anyone in.
	for _, sha := range authority.CASHA256() {
		req, err := bv.v.AcceptIdentitySource(context.Background(), vault.Principal{Name: "cust", Role: vault.RoleCustodian}, vault.CASource(sha), "the unit's CA")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bv.v.Approve(context.Background(), vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, req.ID); err != nil {
			t.Fatal(err)
		}
	}
	base := serve(t, bv, api.Options{ClientCerts: api.CertIdentifierOf(authority)}, authority.TLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	serial := int64(1)
	return func(cn string) *webClient {
		serial++
		leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, caCert, &leafKey.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf := tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
		return newWebClient(t, base, &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{leaf}}})
	}
}

// TestClientCertificateSignsIn: over HTTPS a browser with a client
// certificate of the vault's CA, enrolled by its name, is signed in on
// every request without a session or cookie; its forms carry a CSRF
// token bound to the certificate.
func TestClientCertificateSignsIn(t *testing.T) {
	bv := openTestVault(t)
	card := certificateVault(t, bv)
	ctx := context.Background()
	req, err := bv.v.EnrollBy(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, vault.Enrolment{Name: "sokha", Role: vault.RoleAnalyst, Certificate: "sokha"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, req.ID); err != nil {
		t.Fatal(err)
	}
	c := card("sokha")
	base := c.base
	resp, body := c.do("GET", "/app/me", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "sokha") || !strings.Contains(body, "certificate") {
		t.Fatalf("with a client certificate /app/me answered %d: %s", resp.StatusCode, body)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatalf("a certificate sign-in set cookies: %v", resp.Cookies())
	}
	// Without the certificate: sent to sign in.
	anon := newWebClient(t, base, &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}})
	if resp, _ := anon.do("GET", "/app/me", nil); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/app/sign-in") {
		t.Fatalf("without a certificate /app/me answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A form needs the certificate's CSRF token.
	if resp, _ := c.do("POST", "/app/sign-out", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a form without a token answered %d", resp.StatusCode)
	}
}

// TestUnknownPagesRecorded: a page nothing serves is answered 404 and
// recorded, like the API's unknown routes; the favicon is not a refusal.
func TestUnknownPagesRecorded(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{RefusalWindow: time.Hour}, nil)
	c := newWebClient(t, base, nil)
	if resp, _ := c.do("GET", "/favicon.ico", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("favicon: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/app/static/", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the static folder is listed: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/app/../../etc/passwd", nil); resp.StatusCode == http.StatusOK {
		t.Fatal("a path outside the application was served")
	}
	var unknown int
	for _, r := range bv.refusals(t) {
		if r.Action == "route.unknown" {
			unknown++
			if strings.Contains(r.Target, "favicon") {
				t.Errorf("the favicon was recorded as a refusal: %v", r)
			}
		}
	}
	if unknown == 0 {
		t.Fatalf("unknown pages were not recorded: %v", bv.refusals(t))
	}
}

// TestSafeNext: the page to return to after signing in stays inside the
// application.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/app/cases/C-1?page=2": "/app/cases/C-1?page=2",
		"/app/":                 "/app/",
		"":                      "/app/",
		"https://evil.example/": "/app/",
		"//evil.example/app/":   "/app/",
		"/v1/items/x":           "/app/",
		"/app/\\evil":           "/app/",
		"/app/x\r\nSet-Cookie:": "/app/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/app/", "//x", "/app/../v1", "https://e/", "/app/\\x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		u, err := url.Parse(got)
		if !strings.HasPrefix(got, Prefix) || strings.HasPrefix(got, "//") || err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext(%q) = %q leaves the application", s, got)
		}
	})
}

// FuzzSearchFilter: any search text is read as one filter, without
// panicking; hex of a digest's length searches by that digest.
func FuzzSearchFilter(f *testing.F) {
	for _, s := range []string{"", "IMG", "*.jpg", "[", strings.Repeat("a", 64), strings.Repeat("B", 40), strings.Repeat("0", 32)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		fl := searchFilter(q)
		set := 0
		for _, v := range []string{fl.Name, fl.SHA256, fl.SHA1, fl.MD5, fl.SHA256Prefix} {
			if v != "" {
				set++
			}
		}
		if strings.TrimSpace(q) == "" && set != 0 || strings.TrimSpace(q) != "" && set != 1 {
			t.Fatalf("searchFilter(%q) = %+v", q, fl)
		}
	})
}

// FuzzPickCatalog: any Accept-Language header picks a catalog.
func FuzzPickCatalog(f *testing.F) {
	for _, s := range []string{"", "km-KH,km;q=0.9,en;q=0.8", "fil", "*", ";;,,", "en-US"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/app/", nil)
		r.Header.Set("Accept-Language", h)
		if c := pickCatalog(r); c == nil || c.text("app.name") == "" {
			t.Fatalf("no catalog for %q", h)
		}
	})
}

// TestViewable: only what the vault's probe found to be a raster image a
// browser decodes, or an MP4 video, is shown; everything else is a
// download.
func TestViewable(t *testing.T) {
	for _, tc := range []struct {
		m          *vault.MediaInfo
		show, mime string
	}{
		{nil, "", ""},
		{&vault.MediaInfo{Kind: "image", Format: "jpeg"}, "image", "image/jpeg"},
		{&vault.MediaInfo{Kind: "image", Format: "webp"}, "image", "image/webp"},
		{&vault.MediaInfo{Kind: "image", Format: "svg"}, "", ""},
		{&vault.MediaInfo{Kind: "image", Format: "tiff"}, "", ""},
		{&vault.MediaInfo{Kind: "video", Format: "mp4"}, "video", "video/mp4"},
		{&vault.MediaInfo{Kind: "video"}, "", ""},
		{&vault.MediaInfo{Kind: "html", Format: "html"}, "", ""},
	} {
		show, mime := viewable(tc.m)
		if show != tc.show || mime != tc.mime {
			t.Errorf("viewable(%+v) = %q %q", tc.m, show, mime)
		}
	}
}

// TestCSRFTokens: a token belongs to one session and one server start.
func TestCSRFTokens(t *testing.T) {
	bv := openTestVault(t)
	logger := slog.New(slog.DiscardHandler)
	ah := api.New(bv.v, logger, api.Options{})
	defer ah.Close()
	h1, _ := New(bv.v, ah, logger, Options{})
	h2, _ := New(bv.v, ah, logger, Options{})
	a := vault.Principal{Name: "inv", Role: vault.RoleInvestigator, Credential: vault.Credential{Auth: "local", Session: "se_1"}}
	b := a
	b.Credential.Session = "se_2"
	first, again := h1.csrfToken(a), h1.csrfToken(a)
	if first != again || first == h1.csrfToken(b) || first == h2.csrfToken(a) {
		t.Fatal("CSRF tokens are not per session and per server start")
	}
	if bytes.Contains([]byte(h1.csrfToken(a)), []byte("se_1")) {
		t.Fatal("the token shows the session")
	}
}

// TestOwnKeysForms: a prosecutor registers their age recipient and their
// SSH key for receipts on their page; the first registration of each is
// recorded at once, a replacement is a request a custodian approves, and
// another role is refused.
func TestOwnKeysForms(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["pros"])
	token := c.csrf("/app/me")
	first, _ := age.GenerateX25519Identity()
	resp, _ := c.do("POST", "/app/me/recipient", url.Values{"csrf": {token}, "recipient": {first.Recipient().String()}})
	if resp.StatusCode != http.StatusSeeOther || len(bv.events(t, vault.TypeRecipientSet)) != 1 {
		t.Fatalf("the first recipient: %d, %d events", resp.StatusCode, len(bv.events(t, vault.TypeRecipientSet)))
	}
	second, _ := age.GenerateX25519Identity()
	resp, body := c.do("POST", "/app/me/recipient", url.Values{"csrf": {token}, "recipient": {second.Recipient().String()}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "rq_") || len(bv.events(t, vault.TypeRecipientSet)) != 1 {
		t.Fatalf("a replacement recipient: %d, %d events: %s", resp.StatusCode, len(bv.events(t, vault.TypeRecipientSet)), body)
	}
	if resp, _ := c.do("POST", "/app/me/recipient", url.Values{"csrf": {token}, "recipient": {"age1notarecipient"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a malformed recipient: %d", resp.StatusCode)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	if resp, _ := c.do("POST", "/app/me/receipt-key", url.Values{"csrf": {token}, "key": {line}}); resp.StatusCode != http.StatusSeeOther || len(bv.events(t, vault.TypeReceiptKeySet)) != 1 {
		t.Fatalf("the receipt key: %d", resp.StatusCode)
	}
	inv := newWebClient(t, base, nil)
	inv.signIn(bv.creds["inv"])
	if _, body := inv.do("GET", "/app/me", nil); strings.Contains(body, `action="/app/me/recipient"`) {
		t.Fatal("an investigator is offered the recipient form")
	}
	if resp, _ := inv.do("POST", "/app/me/recipient", url.Values{"csrf": {inv.csrf("/app/me")}, "recipient": {first.Recipient().String()}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an investigator registering a recipient: %d", resp.StatusCode)
	}
}

// TestTranslationFallsBack: a language's catalog is chosen from
// Accept-Language, and what it does not translate is shown in English.
func TestTranslationFallsBack(t *testing.T) {
	catalogs["km"] = &catalog{lang: "km", msgs: map[string]string{"nav.home": "ទំព័រដើម"}, fallback: defaultCatalog}
	defer delete(catalogs, "km")
	r := httptest.NewRequest("GET", "/app/", nil)
	r.Header.Set("Accept-Language", "km-KH,km;q=0.9,en;q=0.5")
	c := pickCatalog(r)
	if c.Lang() != "km" || c.text("nav.home") != "ទំព័រដើម" || c.text("nav.triage") != defaultCatalog.text("nav.triage") {
		t.Fatalf("km catalog: %s %q %q", c.Lang(), c.text("nav.home"), c.text("nav.triage"))
	}
	r.Header.Set("Accept-Language", "fil-PH")
	if c := pickCatalog(r); c != defaultCatalog {
		t.Fatalf("a language without a catalog got %s", c.Lang())
	}
	if got := defaultCatalog.text("no.such.key"); got != "[no.such.key]" {
		t.Fatalf("a missing key shows as %q", got)
	}
}

// TestRedeemInvitationInTheBrowser: a person enrolled by two custodians
// redeems both halves of their invitation on the page, sees their own
// credential once, and is signed in; wrong halves are refused and
// recorded.
func TestRedeemInvitationInTheBrowser(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	ctx := context.Background()
	req, err := bv.v.EnrollBy(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, vault.Enrolment{Name: "dara", Role: vault.RoleAnalyst})
	if err != nil {
		t.Fatal(err)
	}
	app, err := bv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	first, second := req.InvitationPart.Reveal(), app.InvitationPart.Reveal()
	c := newWebClient(t, base, nil)
	if resp, body := c.do("POST", "/app/invitation", url.Values{"name": {"dara"}, "first": {first}, "second": {first}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not accepted") {
		t.Fatalf("the same half twice: %d", resp.StatusCode)
	}
	resp, body := c.do("POST", "/app/invitation", url.Values{"name": {"dara"}, "first": {second}, "second": {first}})
	m := regexp.MustCompile(`<code id="credential-once">(cst_[^<]+)</code>`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("redeeming: %d", resp.StatusCode)
	}
	if _, body := c.do("GET", "/app/me", nil); !strings.Contains(body, "dara") {
		t.Fatal("redeeming did not sign the person in")
	}
	if _, err := bv.v.OpenSession(ctx, m[1]); err != nil {
		t.Fatalf("the credential shown does not sign in: %v", err)
	}
	if resp, _ := c.do("POST", "/app/invitation", url.Values{"name": {"dara"}, "first": {first}, "second": {second}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an invitation redeemed twice: %d", resp.StatusCode)
	}
	var refused int
	for _, r := range bv.refusals(t) {
		if r.Action == "invitation.redeem" {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("refused redemptions are not recorded")
	}
}

// TestOpenCaseAndRecordReport: an investigator opens a case and an
// analyst records a report from the pages, each the vault's own event;
// a prosecutor is offered neither and is refused both.
func TestOpenCaseAndRecordReport(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	inv := newWebClient(t, base, nil)
	inv.signIn(bv.creds["inv"])
	token := inv.csrf("/app/")
	if resp, _ := inv.do("POST", "/app/cases", url.Values{"csrf": {token}, "case": {"KH-2026-1"}, "title": {"From the page"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/app/cases/KH-2026-1" {
		t.Fatalf("opening a case: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := inv.do("GET", "/app/cases/KH-2026-1", nil); !strings.Contains(body, "The case is open") || !strings.Contains(body, "From the page") {
		t.Fatal("the new case's page does not say it was opened")
	}
	if _, body := inv.do("GET", "/app/cases/KH-2026-1", nil); strings.Contains(body, "The case is open") {
		t.Fatal("the notice is shown twice")
	}
	// A case id already taken says what to do instead, as the CLI does.
	if resp, body := inv.do("POST", "/app/cases", url.Values{"csrf": {token}, "case": {"KH-2026-1"}, "title": {"Again"}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "choose another case id") {
		t.Fatalf("opening a case again: %d, the page says what to do: %v", resp.StatusCode, strings.Contains(body, "choose another case id"))
	}
	if resp, _ := inv.do("POST", "/app/cases", url.Values{"csrf": {token}, "case": {"bad id!"}, "title": {"x"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a malformed case id: %d", resp.StatusCode)
	}
	ana := newWebClient(t, base, nil)
	ana.signIn(bv.creds["ana"])
	at := ana.csrf("/app/triage")
	// The form offers email first, as custos report new does: web is
	// the public form's channel, and a report recorded by hand with it
	// would count as one in the statistics.
	if _, body := ana.do("GET", "/app/triage", nil); !strings.Contains(body, "<option selected>email</option>") || strings.Contains(body, "<option selected>web</option>") {
		t.Fatal("the report form does not offer email first")
	}
	resp, _ := ana.do("POST", "/app/reports", url.Values{"csrf": {at}, "channel": {"email"}, "urls": {"https://example.org/a\n\n https://example.org/b \n"},
		"description": {"two links\r\nseen in a chat"}, "reference": {"MAIL-7"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/app/reports/rp_") {
		t.Fatalf("recording a report: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A URL as a browser shows it, without its scheme, is taken as the
	// command line and the public form take it.
	if resp, _ := ana.do("POST", "/app/reports", url.Values{"csrf": {at}, "channel": {"phone"}, "urls": {"example.org/typed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a report with a URL typed without its scheme: %d", resp.StatusCode)
	}
	// Its takedown column says no notice was sent, not "0 of 2 removed".
	if _, body := ana.do("GET", "/app/triage", nil); !strings.Contains(body, "no notice sent") || strings.Contains(body, "0 of 2") {
		t.Fatal("the triage list's takedown column for a report without a notice")
	}
	_, body := ana.do("GET", resp.Header.Get("Location"), nil)
	if !strings.Contains(body, "https://example.org/b") || !strings.Contains(body, "MAIL-7") {
		t.Fatal("the report page lacks its URLs or reference")
	}
	// The analyst who entered it recorded it; they did not send it.
	if !strings.Contains(body, "UTC, email, recorded by ana") {
		t.Fatal("the report page does not say who recorded the report")
	}
	pros := newWebClient(t, base, nil)
	pros.signIn(bv.creds["pros"])
	pt := pros.csrf("/app/")
	if _, body := pros.do("GET", "/app/", nil); strings.Contains(body, `action="/app/cases"`) {
		t.Fatal("a prosecutor is offered to open cases")
	}
	if resp, _ := pros.do("POST", "/app/cases", url.Values{"csrf": {pt}, "case": {"P-1"}, "title": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a prosecutor opening a case: %d", resp.StatusCode)
	}
	if resp, _ := pros.do("POST", "/app/reports", url.Values{"csrf": {pt}, "channel": {"email"}, "urls": {"https://example.org/c"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a prosecutor recording a report: %d", resp.StatusCode)
	}
}

// TestRequestKindsInWords: every kind of two-person request is named in
// words on the approvals page.
func TestRequestKindsInWords(t *testing.T) {
	v := &view{Lang: defaultCatalog}
	for _, k := range vault.RequestKinds() {
		if got := v.Kind(k); got == k || got == "" {
			t.Errorf("request kind %s is not named in words", k)
		}
	}
}

// TestNoticeCookieOverTLS: over HTTPS a notice is taken only from the
// vault's own __Host- cookie, never from one another host could plant,
// and it is shown once.
func TestNoticeCookieOverTLS(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, &tls.Config{MinVersion: tls.VersionTLS12})
	c := newWebClient(t, base, &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}})
	c.signIn(bv.creds["cust"])
	notice := defaultCatalog.lookup("done.case-opened")
	if _, body := c.do("GET", "/app/me", nil, "Cookie", c.cookieHeader()+"; "+noticeCookieName+"=case-opened"); strings.Contains(body, notice) {
		t.Fatal("over TLS a planted, unprefixed notice cookie was shown")
	}
	token := c.csrf("/app/")
	if resp, _ := c.do("POST", "/app/cases", url.Values{"csrf": {token}, "case": {"N-1"}, "title": {"notice"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("opening a case: %d", resp.StatusCode)
	}
	if _, body := c.do("GET", "/app/cases/N-1", nil); !strings.Contains(body, notice) {
		t.Fatal("the vault's own notice cookie was not shown")
	}
	if _, body := c.do("GET", "/app/cases/N-1", nil); strings.Contains(body, notice) {
		t.Fatal("the notice was shown twice")
	}
}

// cookieHeader is the Cookie header the client's jar sends to its vault.
func (c *webClient) cookieHeader() string {
	u, _ := url.Parse(c.base + "/app/")
	var parts []string
	for _, ck := range c.c.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// TestSignInAttemptsRateLimited: failed sign-ins from one address, by
// credential and by invitation alike, meet the API's limit of requests
// without valid credentials: 429 with Retry-After, nothing opened.
func TestSignInAttemptsRateLimited(t *testing.T) {
	for _, try := range []struct {
		path string
		form url.Values
	}{
		{"/app/sign-in", url.Values{"credential": {"cst_wrong"}}},
		{"/app/invitation", url.Values{"name": {"x"}, "first": {"csi_a"}, "second": {"csi_b"}}},
	} {
		// A vault of its own for each path, so that each meets the limit
		// by its own attempts.
		bv := openTestVault(t)
		c := newWebClient(t, serve(t, bv, api.Options{UnauthBurst: 3, UnauthRate: 0.001}, nil), nil)
		for i := range 4 {
			resp, _ := c.do("POST", try.path, try.form)
			if limited := resp.StatusCode == http.StatusTooManyRequests; limited != (i == 3) || limited && resp.Header.Get("Retry-After") == "" {
				t.Errorf("%s: attempt %d answered %d", try.path, i+1, resp.StatusCode)
			}
		}
		if n := len(bv.events(t, vault.TypeSessionOpened)); n != 0 {
			t.Fatalf("%d sessions opened", n)
		}
	}
}

// TestReportPageOpensTheContactOnlyWhenAsked: the report's page, read
// after every step of its work, does not open the reporter's contact;
// an analyst's button does, recorded in the report's history first, and
// the page read again afterwards withholds it again. A custodian who
// sends the same form is shown no contact and records nothing.
func TestReportPageOpensTheContactOnlyWhenAsked(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	ana := newWebClient(t, base, nil)
	ana.signIn(bv.creds["ana"])
	at := ana.csrf("/app/triage")
	const contact = "reporter-7@example.org"
	resp, _ := ana.do("POST", "/app/reports", url.Values{"csrf": {at}, "channel": {"email"}, "urls": {"https://example.org/x"},
		"contact": {contact}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("recording a report: %d", resp.StatusCode)
	}
	page := resp.Header.Get("Location")
	opened := func() int {
		t.Helper()
		_, body := ana.do("GET", page, nil)
		return strings.Count(body, "Reporter&#39;s contact opened") + strings.Count(body, "Reporter's contact opened")
	}
	for i := range 2 {
		_, body := ana.do("GET", page, nil)
		if strings.Contains(body, contact) {
			t.Fatalf("read %d of the report's page shows the contact without being asked", i)
		}
		if !strings.Contains(body, `action="`+page+`/contact"`) {
			t.Fatal("the analyst is not offered to open the contact")
		}
	}
	if n := opened(); n != 0 {
		t.Fatalf("reading the page recorded %d openings of the contact", n)
	}
	resp, body := ana.do("POST", page+"/contact", url.Values{"csrf": {at}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, contact) {
		t.Fatalf("asking for the contact: %d, contact shown %v", resp.StatusCode, strings.Contains(body, contact))
	}
	if n := opened(); n != 1 {
		t.Fatalf("the opening is in the report's history %d times, want 1", n)
	}
	if _, body := ana.do("GET", page, nil); strings.Contains(body, contact) {
		t.Fatal("the page read again after the opening shows the contact")
	}
	cust := newWebClient(t, base, nil)
	cust.signIn(bv.creds["cust"])
	ct := cust.csrf("/app/")
	if _, body := cust.do("POST", page+"/contact", url.Values{"csrf": {ct}}); strings.Contains(body, contact) {
		t.Fatal("a custodian was shown the reporter's contact")
	}
	if n := opened(); n != 1 {
		t.Fatalf("a custodian's request recorded an opening: %d in the history", n)
	}
	// Without the form's token, nothing is opened.
	if resp, body := ana.do("POST", page+"/contact", url.Values{}); resp.StatusCode == http.StatusOK || strings.Contains(body, contact) {
		t.Fatalf("an opening without the form's token: %d", resp.StatusCode)
	}
}

// TestCaseListSaysHowFarTheVotesAre: an item with agreeing votes short
// of the case's policy is listed with their count, not as unclassified,
// and its page says the same.
func TestCaseListSaysHowFarTheVotesAre(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	bv.openCase(t, "VO-1")
	item := bv.deposit(t, "VO-1", "voted.jpg", photo(t, 64, 48, 5))
	bv.deposit(t, "VO-1", "untouched.jpg", photo(t, 64, 48, 6))
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	if _, err := bv.v.SetClassificationPolicy(context.Background(), cust, "VO-1", 3, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Classify(context.Background(), inv, item, vault.ClassifyRequest{Category: vault.CategoryNational}); err != nil {
		t.Fatal(err)
	}
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	_, body := c.do("GET", "/app/cases/VO-1", nil)
	body = isolates.Replace(body) // the text as read
	if !strings.Contains(body, "unsettled: 1 of 3 votes for national") || !strings.Contains(body, "not classified") {
		t.Fatalf("the case's list does not say how far the votes are:\n%s", body)
	}
	// So does the item's own page, which said "not classified" above its
	// votes.
	_, body = c.do("GET", "/app/items/"+item, nil)
	body = isolates.Replace(body)
	if !strings.Contains(body, "unsettled: 1 of 3 votes for national") || strings.Contains(body, "not classified") {
		t.Fatalf("the item's page does not say how far the votes are:\n%s", body)
	}
}

// TestSignInOfASuspendedPersonSaysSo: the sign-in form tells whoever
// types a suspended or removed person's credential what the command line
// tells them (whose it is, why it is refused, what can be done), and
// records the refusal in that person's name; an unknown credential is
// answered without a word of whose it could be.
func TestSignInOfASuspendedPersonSaysSo(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{RefusalWindow: time.Hour}, nil)
	ctx := context.Background()
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	if _, err := bv.v.Suspend(ctx, cust, "ana", "under review"); err != nil {
		t.Fatal(err)
	}
	c := newWebClient(t, base, nil)
	resp, body := c.do("POST", "/app/sign-in", url.Values{"credential": {bv.creds["ana"]}, "next": {"/app/"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The credential is ana&#39;s, who may not sign in: ana is suspended; ask a custodian") {
		t.Errorf("a suspended person's sign-in answered %d:\n%s", resp.StatusCode, body)
	}
	var named bool
	for _, r := range bv.refusals(t) {
		named = named || r.Action == "session.open" && r.Person == "ana"
	}
	if !named {
		t.Error("the refused sign-in is not recorded in the suspended person's name")
	}
	resp, body = c.do("POST", "/app/sign-in", url.Values{"credential": {vault.TokenPrefix + strings.Repeat("0", 43)}, "next": {"/app/"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "That credential was not accepted.") || strings.Contains(body, "suspended") {
		t.Errorf("an unknown credential's sign-in answered %d:\n%s", resp.StatusCode, body)
	}
}

// TestSignInPageSaysWhyTheSessionEnded: a browser whose session no
// longer signs it in is sent to sign in with why, from a fixed list (a
// change of the vault's sign-in settings, a session ended, by a
// suspension or otherwise, or one the vault never knew; expiry is in
// TestBrowserSessionExpiry); the page says it in words, and a link's own
// word shows only the plain text.
func TestSignInPageSaysWhyTheSessionEnded(t *testing.T) {
	// A vault whose first start was configured with the provider (its
	// identity source, accepted then) that the API below no longer uses.
	const key = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" // the provider's signing key's thumbprint
	bv := openTestVault(t, func(c *vault.Config) {
		c.SignIn.OIDCIssuer, c.SignIn.OIDCClientID, c.SignIn.OIDCKeys = "https://idp.example/", "custos", []string{key}
	})
	base := serve(t, bv, api.Options{RefusalWindow: time.Hour}, nil)
	ctx := context.Background()
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	oidc, err := bv.v.OpenExternalSession(ctx, vault.ExternalIdentity{Kind: "oidc", Name: "inv", Issuer: "https://idp.example/", Subject: "s-1", ClientID: "custos", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	withCookie := func(token string) *webClient {
		c := newWebClient(t, base, nil)
		u, _ := url.Parse(base + "/app/")
		c.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: token, Path: "/"}})
		return c
	}
	ana := newWebClient(t, base, nil)
	ana.signIn(bv.creds["ana"])
	if _, err := bv.v.Suspend(ctx, cust, "ana", "under review"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *webClient
		why  string
		says string
	}{
		{"suspended", ana, "ended", "suspending a person"},
		{"a provider the server no longer uses", withCookie(oidc.Token.Reveal()), "changed", "sign-in settings changed"},
		{"a session the vault does not know", withCookie(vault.SessionPrefix + strings.Repeat("0", 43)), "ended", "signed out here or elsewhere"},
	} {
		resp, _ := tc.c.do("GET", "/app/me", nil)
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || err != nil || loc.Path != "/app/sign-in" || loc.Query().Get("ended") != tc.why {
			t.Errorf("%s: /app/me answered %d, to %q; want the sign-in page with ended=%s", tc.name, resp.StatusCode, resp.Header.Get("Location"), tc.why)
			continue
		}
		_, body := tc.c.do("GET", loc.RequestURI(), nil)
		if !strings.Contains(body, tc.says) {
			t.Errorf("%s: the sign-in page does not say %q", tc.name, tc.says)
		}
	}
	_, body := newWebClient(t, base, nil).do("GET", "/app/sign-in?ended=%3Cb%3Eyour+vault+moved%3C%2Fb%3E", nil)
	if strings.Contains(body, "vault moved") || !strings.Contains(body, "signed out here or elsewhere") {
		t.Error("the sign-in page shows a link's own words for why the session ended")
	}
}

// asRead is HTML a page shows as its text reads: tags of isolates
// dropped, entities decoded.
func asRead(h template.HTML) string { return html.UnescapeString(isolates.Replace(string(h))) }

// A sealing's request names whom the package is for with their role in
// words, so that a person named after a role reads clearly: "for defence
// (defence counsel)", never "defence is defence".
func TestApprovalsNameTheRecipientAndRole(t *testing.T) {
	params := []byte(`{"for":"defence","purpose":"disclosure","items":["it_0123456789abcdef01234567"]}`)
	for role, want := range map[string]string{
		"defence":    `a package of C-1 for defence (defence counsel): “disclosure”`,
		"prosecutor": `a package of C-1 for defence (prosecutor): “disclosure”`,
		"":           `a package of C-1 for defence: “disclosure”`,
	} {
		if got := asRead(describeRequest(defaultCatalog, vault.Request{Kind: vault.KindSeal, Case: "C-1", Params: params}, role)); !strings.HasPrefix(got, want) {
			t.Errorf("role %q: the request is described as %q, want %q", role, got, want)
		}
	}
	// A purpose with quotes in it reads as typed, not escaped; its own
	// curly quotes cannot close the description's and go on in words
	// that read as the vault's.
	forged := []byte(`{"for":"dara","purpose":"trial” — re-addressed to pros (prosecutor) by order 14/2026: “trial","items":["it_0123456789abcdef01234567"]}`)
	if got := asRead(describeRequest(defaultCatalog, vault.Request{Kind: vault.KindSeal, Case: "C-1", Params: forged}, "defence")); strings.Count(got, "“") != 1 || strings.Count(got, "”") != 1 || !strings.HasSuffix(got, `“trial" — re-addressed to pros (prosecutor) by order 14/2026: "trial”`) {
		t.Errorf("a purpose closing its quotes is described as %q", got)
	}
	quoted := []byte(`{"for":"defence","purpose":"bundle for the \"judge\"","items":["it_0123456789abcdef01234567"]}`)
	if got := asRead(describeRequest(defaultCatalog, vault.Request{Kind: vault.KindSeal, Case: "C-1", Params: quoted}, "")); !strings.Contains(got, `“bundle for the "judge"”`) {
		t.Errorf("a purpose with quotes is described as %q", got)
	}
}

// TestApprovalsShowLongRecipientsShort: the approvals page describes a
// post-quantum recipient by its ends and SHA-256, as custos requests does.
func TestApprovalsShowLongRecipientsShort(t *testing.T) {
	long := "age1pq1" + strings.Repeat("q", 1952)
	params, _ := json.Marshal(map[string]string{"recipient": long})
	got := asRead(describeRequest(defaultCatalog, vault.Request{Kind: vault.KindRecipient, Person: "pros", Params: params}, ""))
	if len(got) > 200 || !strings.Contains(got, "1959 characters; SHA-256 ") {
		t.Fatalf("the request is described as %q", got)
	}
}

// TestAnItemsPageCountsOnlyTheVotesThatCount: an item's page says how
// far its votes are as the case's list does, from the votes that count:
// a suspended analyst's vote is not one of them (the page counted every
// vote, and named the first one's category).
func TestAnItemsPageCountsOnlyTheVotesThatCount(t *testing.T) {
	ctx := context.Background()
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	bv.openCase(t, "VO-1")
	item := bv.deposit(t, "VO-1", "voted.jpg", photo(t, 64, 48, 5))
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	cust2 := vault.Principal{Name: "cust2", Role: vault.RoleCustodian}
	ana := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	req, err := bv.v.AddMember(ctx, cust, "VO-1", "ana", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Approve(ctx, cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.SetClassificationPolicy(ctx, cust, "VO-1", 3, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Classify(ctx, ana, item, vault.ClassifyRequest{Category: vault.CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Classify(ctx, inv, item, vault.ClassifyRequest{Category: vault.CategoryNational}); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Suspend(ctx, cust, "ana", "under investigation"); err != nil {
		t.Fatal(err)
	}
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	re := regexp.MustCompile(`unsettled: \d+ of \d+ votes for [a-z-]+`)
	_, list := c.do("GET", "/app/cases/VO-1", nil)
	_, page := c.do("GET", "/app/items/"+item, nil)
	list, page = isolates.Replace(list), isolates.Replace(page)
	const want = "unsettled: 1 of 3 votes for national"
	if re.FindString(list) != want || re.FindString(page) != want {
		t.Fatalf("a suspended analyst's vote and a counted one: the case list says %q, the item page %q; want %q for both", re.FindString(list), re.FindString(page), want)
	}
}

// TestItemPageShowsItsAcquisition: an item deposited against an
// acquisition list shows, on its page, the acquisition hash it matched
// and the list it was read from (name, SHA-256, its line), each name in
// an isolate; an item deposited without one shows no such rows.
func TestItemPageShowsItsAcquisition(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	bv.openCase(t, "ACQ-1")
	body := []byte("the photo as acquired")
	sum := sha256.Sum256(body)
	listSum := strings.Repeat("ab", 32)
	res, err := bv.v.Deposit(context.Background(), inv, vault.DepositRequest{Case: "ACQ-1", Name: "DCIM/a.jpg", Body: bytes.NewReader(body),
		Expect: vault.Hashes{SHA256: hex.EncodeToString(sum[:])}, ExpectList: &vault.AcquisitionList{Name: "טלפון.sha256", SHA256: listSum, Entry: "./DCIM/a.jpg"}})
	if err != nil {
		t.Fatal(err)
	}
	plain := bv.deposit(t, "ACQ-1", "b.jpg", []byte("no list"))
	c := newWebClient(t, base, nil)
	c.signIn(bv.creds["inv"])
	_, page := c.do("GET", "/app/items/"+res.ID, nil)
	for _, want := range []string{"Acquisition <bdi>SHA-256</bdi>", hex.EncodeToString(sum[:]), "matched at deposit",
		"Read from", "the hash list <bdi>טלפון.sha256</bdi>", listSum, "its line for <bdi>./DCIM/a.jpg</bdi>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the item page lacks %q", want)
		}
	}
	if _, page := c.do("GET", "/app/items/"+plain, nil); strings.Contains(page, "Acquisition") || strings.Contains(page, "Read from") {
		t.Error("an item deposited without an acquisition hash shows one")
	}
}
