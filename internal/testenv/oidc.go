package testenv

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// OIDC is a real OpenID provider on 127.0.0.1 (the program in
// internal/testenv/oidcprovider, built from the example provider of
// github.com/zitadel/oidc/v3), with two public clients and three users.
// Its package comment describes what it issues.
type OIDC struct {
	// Issuer is the provider's issuer URL, http://127.0.0.1:PORT/ (with
	// the trailing slash: relying parties compare it exactly).
	Issuer string
	// ClientID is a public client allowed the device grant, code + PKCE
	// with loopback redirects http://127.0.0.1:ANY-PORT/callback, and
	// refresh tokens (with offline_access).
	ClientID string
	// OtherClientID is a second client like ClientID: its tokens are for
	// another audience.
	OtherClientID string
	// UserInfoClientID is a client like ClientID whose ID tokens carry no
	// names (preferred_username, email): they come from the userinfo
	// endpoint alone. ClientID's and OtherClientID's carry them.
	UserInfoClientID string
	// MFAUser signs in with a second factor: amr ["pwd","otp","mfa"].
	MFAUser OIDCUser
	// User signs in with a password only: amr ["pwd"].
	User OIDCUser
	// UnverifiedUser has an email address the provider has not verified
	// (email_verified false); password only.
	UnverifiedUser OIDCUser

	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// OIDCUser is one of the provider's users, with the claims it issues
// about them.
type OIDCUser struct {
	Name          string // login name; the preferred_username claim
	Password      string
	Subject       string // the sub claim
	Email         string
	EmailVerified bool
	MFA           bool // amr includes "mfa"
}

// The provider's clients and users; they must match the table in
// oidcprovider/main.go.
var (
	oidcAlice = OIDCUser{Name: "alice", Password: "alice-password", Subject: "1001",
		Email: "alice@custos.example.org", EmailVerified: true, MFA: true}
	oidcBob = OIDCUser{Name: "bob", Password: "bob-password", Subject: "1002",
		Email: "bob@custos.example.org", EmailVerified: true}
	oidcCarol = OIDCUser{Name: "carol", Password: "carol-password", Subject: "1003",
		Email: "carol@custos.example.org"}
)

// oidcDeviceInterval is the polling interval the provider advertises to
// device clients in tests (the library's default is 5 seconds).
const oidcDeviceInterval = "1s"

// StartOIDC starts an OpenID provider for this test alone and stops it
// when the test ends. The provider is built from source once per test
// binary (and kept, by a hash of its sources, go.mod and go.sum, under
// the user's cache folder, so later test binaries reuse it); it is built
// without the race detector whatever the tests use. If it cannot be
// built the test is skipped (failed under `make test`). A start takes
// well under a second once built.
func StartOIDC(t testing.TB) *OIDC {
	t.Helper()
	bin := oidcProviderBinary(t)
	o := &OIDC{
		ClientID:         "custos-cli",
		OtherClientID:    "custos-other",
		UserInfoClientID: "custos-userinfo",
		MFAUser:          oidcAlice,
		User:             oidcBob,
		UnverifiedUser:   oidcCarol,
		logPath:          filepath.Join(t.TempDir(), "oidcprovider.log"),
	}
	if err := o.start(bin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.stop)
	return o
}

var oidcBuild struct {
	once sync.Once
	bin  string
	err  error
}

// oidcProviderBinary builds internal/testenv/oidcprovider, or finds the
// build of the same sources in the cache.
func oidcProviderBinary(t testing.TB) string {
	t.Helper()
	oidcBuild.once.Do(func() { oidcBuild.bin, oidcBuild.err = buildOIDCProvider() })
	if oidcBuild.err != nil {
		Missing(t, "cannot build the test OpenID provider (internal/testenv/oidcprovider): "+oidcBuild.err.Error())
	}
	return oidcBuild.bin
}

func buildOIDCProvider() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("the go command is not on PATH")
	}
	root := Root()
	src := filepath.Join(root, "internal", "testenv", "oidcprovider")
	key, err := oidcSourceKey(root, src)
	if err != nil {
		return "", err
	}
	dir := oidcCacheDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "oidcprovider-"+key)
	if isExec(bin) {
		now := time.Now()
		os.Chtimes(bin, now, now) // keeps it from being pruned
		return bin, nil
	}
	tmp, err := os.CreateTemp(dir, ".oidcprovider-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(goCmd, "build", "-o", tmp.Name(), "./internal/testenv/oidcprovider")
	cmd.Dir = root
	// GOFLAGS is replaced, so that the build is the same whatever flags
	// the tests run with (-race among them).
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, lastBytes(out, 2000))
	}
	// Another test binary may have built it meanwhile: renaming over the
	// same build is harmless.
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", err
	}
	pruneOIDCBuilds(dir, bin)
	return bin, nil
}

// oidcSourceKey hashes what the provider's build depends on: its own
// files, go.mod and go.sum (which pin every module it uses), the Go
// version and the target.
func oidcSourceKey(root, src string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	files, _ := filepath.Glob(filepath.Join(src, "*.go"))
	files = append(files, filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:20], nil
}

func oidcCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "custos", "build")
	}
	return filepath.Join(os.TempDir(), "custos-build")
}

// pruneOIDCBuilds removes builds of other sources unused for a week.
func pruneOIDCBuilds(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "oidcprovider-*"))
	for _, f := range old {
		if fi, err := os.Stat(f); err == nil && f != keep && time.Since(fi.ModTime()) > 7*24*time.Hour {
			os.Remove(f)
		}
	}
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// start runs the provider on a port of its choosing and waits for the
// line that names its issuer.
func (o *OIDC) start(bin string) error {
	logf, err := os.OpenFile(o.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("oidc provider log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-device-interval", oidcDeviceInterval)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the oidc provider: %w", err)
	}
	// One goroutine reads the issuer line, drains the rest and only then
	// waits for the process (Wait must follow the last read of the pipe).
	lines := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(done)
	}()
	fail := func(why string) error {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("oidc provider: %s\n%s", why, tail(o.logPath))
	}
	select {
	case line, ok := <-lines:
		issuer, found := strings.CutPrefix(line, "issuer ")
		if !ok || !found || !strings.HasPrefix(issuer, "http://127.0.0.1:") {
			return fail("exited or printed no issuer line")
		}
		o.Issuer = issuer
	case <-time.After(30 * time.Second):
		return fail("no issuer line after 30s")
	}
	o.cmd, o.done = cmd, done
	return nil
}

// stop ends the provider (SIGTERM, then SIGKILL after 5 seconds).
func (o *OIDC) stop() {
	if o.cmd == nil {
		return
	}
	o.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-o.done:
	case <-time.After(5 * time.Second):
		o.cmd.Process.Kill()
		<-o.done
	}
	o.cmd = nil
}

// RotateKey makes the provider sign with a new key from now on, serving
// it beside the earlier ones (SIGHUP; oidcprovider's "Key rotation"),
// and returns once its keys (jwks_uri) include the new one.
func (o *OIDC) RotateKey(ctx context.Context) error {
	before, err := o.keyCount(ctx)
	if err != nil {
		return err
	}
	if err := o.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return err
	}
	for {
		n, err := o.keyCount(ctx)
		if err != nil {
			return err
		}
		if n > before {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("oidc provider: no new key: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// keyCount reads how many keys the provider serves.
func (o *OIDC) keyCount(ctx context.Context) (int, error) {
	get := func(u string, v any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("oidc provider: %s answered %s", u, resp.Status)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	var disc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := get(o.Issuer+".well-known/openid-configuration", &disc); err != nil {
		return 0, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := get(disc.JWKS, &set); err != nil {
		return 0, err
	}
	return len(set.Keys), nil
}

// browser is a fresh HTTP client with its own cookies, as a person's
// browser would be, bounded by ctx through its requests.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// ApproveDevice does what a person does with a device flow's user code:
// opens the provider's device page for userCode, signs in there as user
// with password, and presses Allow. It returns an error if the provider
// refuses any step (unknown code, wrong password).
func (o *OIDC) ApproveDevice(ctx context.Context, userCode, user, password string) error {
	c := browser()
	page, err := url.Parse(o.Issuer + "device?user_code=" + url.QueryEscape(userCode))
	if err != nil {
		return err
	}
	_, f, err := getForm(ctx, c, page)
	if err != nil {
		return fmt.Errorf("device page: %w", err)
	}
	if f.fields["user_code"] != userCode {
		return fmt.Errorf("device page: the login form is not for this user code")
	}
	f.fields["username"], f.fields["password"] = user, password
	resp, body, err := submit(ctx, c, f)
	if err != nil {
		return fmt.Errorf("device login: %w", err)
	}
	if resp.Request.URL.Path != f.action.Path {
		return fmt.Errorf("device login refused: %s", promptOf(resp.Request.URL))
	}
	if !strings.Contains(body, "confirm?action=allowed") {
		return errors.New("device login: no Allow button on the confirmation page")
	}
	// The Allow button's link, relative to the page it is on.
	allow := resp.Request.URL.ResolveReference(&url.URL{Path: "confirm", RawQuery: "action=allowed"})
	resp, body, err = fetch(ctx, c, http.MethodGet, allow, nil)
	if err != nil {
		return fmt.Errorf("device confirmation: %w", err)
	}
	if resp.Request.URL.Path != allow.Path || !strings.Contains(body, "allowed") {
		return fmt.Errorf("device confirmation refused: %s", promptOf(resp.Request.URL))
	}
	return nil
}

// promptOf is the error message the device pages put in the URL they
// redirect back to.
func promptOf(u *url.URL) string {
	p, _ := url.QueryUnescape(u.Query().Get("prompt"))
	if p == "" {
		return "the provider showed its first page again"
	}
	if len(p) > 200 {
		p = p[:200]
	}
	return p
}

// CompleteAuthorization does what a person's browser does with an
// authorization URL: opens it, signs in on the provider's login page as
// user with password, and follows the redirects to the redirect_uri the
// URL names, so that the relying party listening there receives the code.
// It returns an error if sign-in is refused, if the provider redirects
// with an error, or if the redirect URI does not answer 2xx. Errors name
// no code, state or token.
func (o *OIDC) CompleteAuthorization(ctx context.Context, authURL, user, password string) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return errors.New("authorization URL does not parse")
	}
	redirect, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil || redirect.Host == "" {
		return errors.New("authorization URL has no usable redirect_uri")
	}
	c := browser()
	resp, f, err := getForm(ctx, c, u)
	if err != nil {
		if resp != nil && atRedirect(resp.Request.URL, redirect) {
			return fmt.Errorf("provider redirected without sign-in (error %q)", resp.Request.URL.Query().Get("error"))
		}
		return fmt.Errorf("login page: %w", err)
	}
	f.fields["username"], f.fields["password"] = user, password
	resp, _, err = submit(ctx, c, f)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	final := resp.Request.URL
	if !atRedirect(final, redirect) {
		return errors.New("login refused: the provider showed its login page again")
	}
	if e := final.Query().Get("error"); e != "" {
		return fmt.Errorf("provider redirected with error %q", e)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("redirect URI answered %s", resp.Status)
	}
	return nil
}

func atRedirect(u, redirect *url.URL) bool {
	return u.Scheme == redirect.Scheme && u.Host == redirect.Host && u.Path == redirect.Path
}

// form is an HTML form: where it goes and its fields.
type form struct {
	method string
	action *url.URL
	fields map[string]string
}

func getForm(ctx context.Context, c *http.Client, page *url.URL) (*http.Response, *form, error) {
	resp, body, err := fetch(ctx, c, http.MethodGet, page, nil)
	if err != nil {
		return resp, nil, err
	}
	f, err := parseForm(strings.NewReader(body), resp.Request.URL)
	if err != nil {
		return resp, nil, err
	}
	return resp, f, nil
}

func submit(ctx context.Context, c *http.Client, f *form) (*http.Response, string, error) {
	v := url.Values{}
	for k, x := range f.fields {
		v.Set(k, x)
	}
	if f.method == http.MethodGet {
		a := *f.action
		a.RawQuery = v.Encode()
		return fetch(ctx, c, http.MethodGet, &a, nil)
	}
	return fetch(ctx, c, http.MethodPost, f.action, v)
}

// fetch sends a request, follows redirects and reads at most 1 MiB of the
// answer. Its errors name no URL query (which may hold a code).
func fetch(ctx context.Context, c *http.Client, method string, u *url.URL, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, "", errors.New("bad request URL")
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s: %w", ue.Op, stripQuery(ue.URL), ue.Err)
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp, "", fmt.Errorf("reading %s: %w", stripQuery(resp.Request.URL.String()), err)
	}
	return resp, string(b), nil
}

func stripQuery(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Scheme + "://" + u.Host + u.Path
	}
	return "(unparsable URL)"
}

// parseForm reads the first <form> of an HTML page at base: its method,
// its action resolved against base, and the name and value of each of its
// <input> elements. It reads HTML with encoding/xml's lenient mode, which
// is enough for the provider's plain pages and keeps the test helpers on
// the standard library.
func parseForm(r io.Reader, base *url.URL) (*form, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var f *form
	depth := 0 // elements open inside the form, while in it
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the page does not parse: %w", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(e.Name.Local)
			switch {
			case f == nil && name == "form":
				action, err := url.Parse(attr(e, "action"))
				if err != nil {
					return nil, errors.New("the form's action does not parse")
				}
				method := strings.ToUpper(attr(e, "method"))
				if method != http.MethodPost {
					method = http.MethodGet
				}
				f = &form{method: method, action: base.ResolveReference(action), fields: map[string]string{}}
				depth = 1
				continue
			case depth > 0 && name == "input" && attr(e, "name") != "":
				f.fields[attr(e, "name")] = attr(e, "value")
			}
			if depth > 0 {
				depth++
			}
		case xml.EndElement:
			if depth > 0 {
				if depth--; depth == 0 {
					return f, nil
				}
			}
		}
	}
	if f == nil {
		return nil, errors.New("the page has no form")
	}
	return f, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}
