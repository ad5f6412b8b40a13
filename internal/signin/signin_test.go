package signin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// The provider in these tests is real (internal/testenv/oidcprovider):
// discovery, keys, the device pages and the login page are the
// zitadel/oidc library's, driven by HTTP as a browser would.

// watcher is the out of a sign-in: it collects what is printed and
// hands over the first match of re's group 1.
type watcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	once  sync.Once
	found chan string
}

func newWatcher(re string) *watcher {
	return &watcher{re: regexp.MustCompile(re), found: make(chan string, 1)}
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := w.re.FindStringSubmatch(w.buf.String()); m != nil {
		w.once.Do(func() { w.found <- m[1] })
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// deviceCode matches the code Device prints.
const deviceCode = `the code ([A-Z0-9-]+)\.`

// deviceSignIn signs in with the device grant, approving as user.
func deviceSignIn(t *testing.T, o *testenv.OIDC, cfg Config, user testenv.OIDCUser) *Tokens {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := newWatcher(deviceCode)
	approved := make(chan error, 1)
	go func() {
		select {
		case code := <-out.found:
			approved <- o.ApproveDevice(ctx, code, user.Name, user.Password)
		case <-ctx.Done():
			approved <- ctx.Err()
		}
	}()
	tok, err := Device(ctx, cfg, out)
	if aerr := <-approved; aerr != nil {
		t.Fatalf("approving the device: %v", aerr)
	}
	if err != nil {
		t.Fatalf("Device: %v\noutput:\n%s", err, out)
	}
	return tok
}

// loopbackSignIn signs in with code + PKCE, the open function playing
// the browser.
func loopbackSignIn(t *testing.T, o *testenv.OIDC, cfg Config, user testenv.OIDCUser) (*Tokens, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	browsed := make(chan error, 1)
	var opened string
	open := func(u string) error {
		opened = u
		go func() { browsed <- o.CompleteAuthorization(ctx, u, user.Name, user.Password) }()
		return nil
	}
	out := newWatcher(`(?s)()open this page`)
	tok, err := Loopback(ctx, cfg, out, open)
	if err != nil {
		t.Fatalf("Loopback: %v", err)
	}
	if berr := <-browsed; berr != nil {
		t.Fatalf("browser: %v", berr)
	}
	if !strings.Contains(out.String(), opened) {
		t.Fatal("the authorization URL was not printed")
	}
	return tok, opened
}

func checkTokens(t *testing.T, tok *Tokens, user testenv.OIDCUser) {
	t.Helper()
	if tok.IDToken.Empty() || tok.AccessToken.Empty() || tok.RefreshToken.Empty() {
		t.Fatal("a token is missing (offline_access should give a refresh token)")
	}
	if tok.Subject != user.Subject {
		t.Fatalf("subject %q, want %q", tok.Subject, user.Subject)
	}
	now := time.Now()
	if !tok.Fresh(now, time.Minute) || tok.Fresh(now, 2*time.Hour) {
		t.Fatalf("expiries: access %v, ID %v", tok.Expiry, tok.IDTokenExpiry)
	}
	printed := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, mustJSON(t, tok))
	for _, s := range []string{tok.IDToken.Reveal(), tok.AccessToken.Reveal(), tok.RefreshToken.Reveal()} {
		if strings.Contains(printed, s) {
			t.Fatal("a token shows when Tokens is printed or encoded")
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDevice(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	cfg := Config{Issuer: o.Issuer, ClientID: o.ClientID}
	tok := deviceSignIn(t, o, cfg, o.User)
	checkTokens(t, tok, o.User)

	// Refresh tokens from the device grant work, and rotate.
	next, err := Refresh(context.Background(), cfg, tok)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	checkTokens(t, next, o.User)
	if next.IDToken.Equal(tok.IDToken) || next.AccessToken.Equal(tok.AccessToken) || next.RefreshToken.Equal(tok.RefreshToken) {
		t.Fatal("refresh gave back an old token")
	}
	if _, err := Refresh(context.Background(), cfg, tok); !errors.Is(err, ErrSignInAgain) {
		t.Fatalf("refresh with a used refresh token: %v, want ErrSignInAgain", err)
	}
}

func TestDeviceRefusedLogin(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	cfg := Config{Issuer: o.Issuer, ClientID: o.ClientID}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := newWatcher(deviceCode)
	done := make(chan error, 1)
	go func() {
		code := <-out.found
		if err := o.ApproveDevice(ctx, code, o.User.Name, "wrong password"); err == nil {
			done <- errors.New("the provider accepted a wrong password")
			return
		}
		if err := o.ApproveDevice(ctx, "BCDF-GHJK", o.User.Name, o.User.Password); err == nil {
			done <- errors.New("the provider accepted an unknown user code")
			return
		}
		done <- nil
		// The device keeps waiting until it is cancelled.
		time.Sleep(1500 * time.Millisecond)
		cancel()
	}()
	_, err := Device(ctx, cfg, out)
	if derr := <-done; derr != nil {
		t.Fatal(derr)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Device after cancel: %v", err)
	}
	if !strings.Contains(out.String(), o.Issuer+"device?user_code=") {
		t.Fatalf("the complete verification URI was not printed:\n%s", out)
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	cfg := Config{Issuer: o.Issuer, ClientID: o.ClientID}
	tok, opened := loopbackSignIn(t, o, cfg, o.MFAUser)
	checkTokens(t, tok, o.MFAUser)
	u, err := url.Parse(opened)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("nonce") == "" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" {
		t.Fatalf("authorization URL lacks PKCE, state, nonce or a loopback redirect: %s", u.Query())
	}
	if got := strings.Fields(q.Get("scope")); len(got) != len(DefaultScopes) {
		t.Fatalf("scopes %v, want %v", got, DefaultScopes)
	}

	next, err := Refresh(context.Background(), cfg, tok)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	checkTokens(t, next, o.MFAUser)
}

func TestLoopbackRefusesWrongState(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	cfg := Config{Issuer: o.Issuer, ClientID: o.ClientID}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	status := make(chan int, 1)
	open := func(authURL string) error {
		u, _ := url.Parse(authURL)
		forged := u.Query().Get("redirect_uri") + "?code=forged&state=forged"
		go func() {
			resp, err := http.Get(forged)
			if err != nil {
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		return nil
	}
	_, err := Loopback(ctx, cfg, &bytes.Buffer{}, open)
	if !errors.Is(err, ErrState) {
		t.Fatalf("Loopback with a forged answer: %v, want ErrState", err)
	}
	if s := <-status; s != http.StatusBadRequest {
		t.Fatalf("the forged answer got %d, want 400", s)
	}
}

func TestLoopbackTimesOut(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	cfg := Config{Issuer: o.Issuer, ClientID: o.ClientID}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	browsed := make(chan error, 1)
	open := func(u string) error {
		go func() { browsed <- o.CompleteAuthorization(ctx, u, o.User.Name, "wrong password") }()
		return errors.New("no browser here")
	}
	out := &watcher{re: regexp.MustCompile(`^$`), found: make(chan string, 1)}
	_, err := Loopback(ctx, cfg, out, open)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Loopback: %v, want the deadline", err)
	}
	if berr := <-browsed; berr == nil || !strings.Contains(berr.Error(), "login refused") {
		t.Fatalf("a wrong password: %v", berr)
	}
	if !strings.Contains(out.String(), "Could not open a browser: no browser here") {
		t.Fatalf("the failure to open a browser was not printed:\n%s", out)
	}
}

func TestRefusesInsecureOrWrongIssuer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, iss := range []string{"http://idp.example.org/", "ftp://127.0.0.1/", "idp.example.org"} {
		if _, err := Device(ctx, Config{Issuer: iss, ClientID: "x"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "issuer") {
			t.Errorf("issuer %q: %v", iss, err)
		}
	}
	o := testenv.StartOIDC(t)
	// go-oidc compares the issuer exactly: without the trailing slash
	// discovery fails.
	_, err := Device(ctx, Config{Issuer: strings.TrimSuffix(o.Issuer, "/"), ClientID: o.ClientID}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "discovery") {
		t.Fatalf("issuer without its slash: %v", err)
	}
}

func TestUnknownClient(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	_, err := Device(context.Background(), Config{Issuer: o.Issuer, ClientID: "no-such-client"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "device authorization") {
		t.Fatalf("unknown client: %v", err)
	}
}
