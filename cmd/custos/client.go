package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/secret"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault/api"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// client talks to the vault's API as one person.
type client struct {
	base  *url.URL
	token secret.String
	http  *http.Client
	// hasCert: a client certificate signs every request in.
	hasCert bool
	// status, when set, receives the status of the next call's answer.
	status *int
	// resign, when set, signs in anew after a session from the config
	// folder was refused.
	resign func() error
}

// newClient returns a client signed in as CUSTOS_TOKEN or the stored
// login says (session.go).
func newClient() (*client, error) {
	c, err := newAnonymousClient()
	if err != nil {
		return nil, err
	}
	if err := c.signIn(); err != nil {
		return nil, err
	}
	return c, nil
}

// errNoServer is the answer of a command that needs the vault where
// CUSTOS_SERVER is not set.
var errNoServer = errors.New("CUSTOS_SERVER is not set: export CUSTOS_SERVER=https://ADDRESS-OF-YOUR-VAULT, the address your vault's custodians gave you with your invitation or sign-in instructions, and CUSTOS_CACERT=FILE if they gave you the vault's CA certificate (on a development vault, source one of the .env files it wrote instead, e.g. DIR/dev/investigator.env)")

// newAnonymousClient returns a client of CUSTOS_SERVER that is not signed
// in, for signing in.
func newAnonymousClient() (*client, error) {
	server := os.Getenv("CUSTOS_SERVER")
	if server == "" {
		return nil, errNoServer
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("CUSTOS_SERVER %q is not an http(s) URL", server)
	}
	hc := &http.Client{}
	if ca := os.Getenv("CUSTOS_CACERT"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("CUSTOS_CACERT: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CUSTOS_CACERT %s holds no PEM certificate", ca)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	if cert, key := os.Getenv("CUSTOS_CLIENT_CERT"), os.Getenv("CUSTOS_CLIENT_KEY"); cert != "" || key != "" {
		if cert == "" || key == "" {
			return nil, errors.New("CUSTOS_CLIENT_CERT and CUSTOS_CLIENT_KEY go together: set both (the certificate and its private key, PEM files)")
		}
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("CUSTOS_CLIENT_CERT and CUSTOS_CLIENT_KEY: %w", err)
		}
		t, _ := hc.Transport.(*http.Transport)
		if t == nil {
			t = &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}
		}
		t.TLSClientConfig.Certificates = []tls.Certificate{pair}
		hc.Transport = t
		return &client{base: u, http: hc, hasCert: true}, nil
	}
	return &client{base: u, http: hc}, nil
}

// url is the address of path (escaped: its ids through url.PathEscape)
// under the vault's base URL, with query q. The path is sent as escaped
// once: an id is never escaped twice (an id "a/b" reaches the vault as
// the one segment a%2Fb, not as a%252Fb).
func (c *client) url(path string, q url.Values) string {
	u := *c.base
	raw := strings.TrimSuffix(u.EscapedPath(), "/") + path
	if p, err := url.PathUnescape(raw); err == nil {
		u.Path, u.RawPath = p, raw
	} else {
		u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/")+path, ""
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (c *client) do(req *http.Request) (*http.Response, error) {
	// An id that holds a line break: two ids where one was meant, as
	// $(custos item list ... | grep ...) gives when two items match.
	for _, seg := range strings.Split(req.URL.Path, "/") {
		if strings.ContainsAny(seg, "\r\n") {
			return nil, usageErr("%q is not one id: it holds a line break (did the command that gave it print more than one?)", seg)
		}
	}
	if !c.token.Empty() {
		req.Header.Set("Authorization", "Bearer "+c.token.Reveal())
	}
	// Says the request is this program's, not a web page's: the vault
	// refuses a request its client certificate signs in without it.
	req.Header.Set(api.HeaderClient, "custos")
	var body *sentBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &sentBody{ReadCloser: req.Body}
		req.Body = body
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if rerr := body.readErr(); rerr != nil && req.Context().Err() == nil {
			// This machine could not read what it was sending (a disk
			// error, a folder given as a file): not the network's fault,
			// nor the vault's.
			return nil, fmt.Errorf("reading what was being sent failed: %w (the vault keeps nothing of a request cut short)", unwrapPath(rerr))
		}
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("the vault's TLS certificate is not trusted here: set CUSTOS_CACERT to its CA's certificate (%w)", err)
		}
		var host x509.HostnameError
		if errors.As(err, &host) {
			return nil, fmt.Errorf("the vault's TLS certificate does not name %s: use a name it holds in CUSTOS_SERVER, or have the certificate re-issued with this one (%w)", req.URL.Hostname(), err)
		}
		return nil, unreachable(c.base, err)
	}
	if w := resp.Header.Get(api.HeaderLogHalted); w != "" {
		haltedOnce.Do(func() { fmt.Fprintf(warnOut, "custos: warning: %s\n", printable.Terminal(w)) })
	}
	if resp.StatusCode == http.StatusUnauthorized && c.resign != nil {
		// A kept session the vault no longer knows: sign in again (whose
		// refusal says why) and send the request once more, if its body
		// can be read again.
		resp.Body.Close()
		if err := c.resign(); err != nil {
			return nil, err
		}
		if req.Body != nil && req.GetBody == nil {
			return nil, errors.New("the session had ended and a new one is open; run the command again")
		}
		retry := req.Clone(req.Context())
		if req.GetBody != nil {
			if retry.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		return c.do(retry)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e api.ErrorResponse
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &e) == nil && e.Error != "" && resp.StatusCode < 500 && resp.StatusCode != http.StatusUnauthorized {
			// A refusal or bad input: the vault's sentence, without the
			// class and status a person does not need.
			msg := e.Error
			for _, class := range []string{"bad request: ", "forbidden: ", "not found: ", "conflict: "} {
				msg = strings.TrimPrefix(msg, class)
			}
			return nil, &statusError{resp.StatusCode, msg}
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" && resp.StatusCode == http.StatusUnauthorized {
			// A sign-in refused: the vault's reason, or that it does not
			// know the credential or session, in a person's words.
			msg := strings.TrimPrefix(e.Error, "unauthenticated: ")
			if msg == "unauthenticated" {
				msg = signInUnknown
			}
			if strings.HasPrefix(os.Getenv("CUSTOS_TOKEN"), "css_") {
				msg += ": the session in CUSTOS_TOKEN has expired or ended: unset CUSTOS_TOKEN and use your kept login, or run custos login"
			}
			return nil, &statusError{resp.StatusCode, msg}
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, &statusError{resp.StatusCode, fmt.Sprintf("%s (HTTP %d)", e.Error, resp.StatusCode)}
		}
		if resp.StatusCode == http.StatusBadRequest && req.URL.Scheme == "http" && strings.Contains(string(b), "HTTP request to an HTTPS server") {
			// Go's TLS listener's answer to plain HTTP.
			https := *c.base
			https.Scheme = "https"
			return nil, &statusError{resp.StatusCode, fmt.Sprintf("the vault at %s speaks HTTPS, not plain HTTP: set CUSTOS_SERVER=%s (and CUSTOS_CACERT to its CA certificate, where it is not publicly trusted); a login kept for the http:// address moves with custos login --moved-from %s", c.base.Host, https.String(), c.base.String())}
		}
		return nil, &statusError{resp.StatusCode, fmt.Sprintf("vault answered HTTP %d", resp.StatusCode)}
	}
	return resp, nil
}

// signInUnknown is what a refused sign-in says when the vault gives no
// reason: it knows no such credential or session.
const signInUnknown = "the vault does not know this credential or session"

// statusError is the vault's refusal or failure (an answer of HTTP 300 or
// more): its status code and the sentence to show.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// streamStallLimit is how long a streamed answer may send nothing while
// the command waits for it before the command gives up (the vault's own
// limit on a client that stops reading is 30 s).
var streamStallLimit = 2 * time.Minute

// get starts a GET whose body the caller streams and closes. Waiting
// longer than streamStallLimit for the answer, or for more of its body,
// fails instead of hanging the command.
func (c *client) get(path string, q url.Values) (*http.Response, error) {
	req, err := http.NewRequest("GET", c.url(path, q), nil)
	if err != nil {
		return nil, err
	}
	return c.doBounded(req)
}

// doBounded is do for a request the vault answers without long work
// first (a GET): waiting longer than streamStallLimit for the answer's
// header, or for more of its body, fails instead of hanging the command
// on a vault that stopped answering (a stopped process keeps the
// connection open).
func (c *client) doBounded(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	req = req.WithContext(ctx)
	var waited atomic.Bool
	t := time.AfterFunc(streamStallLimit, func() {
		waited.Store(true)
		cancel()
	})
	resp, err := c.do(req)
	t.Stop()
	if err != nil {
		cancel()
		if waited.Load() {
			return nil, fmt.Errorf("the vault did not answer within %v", streamStallLimit)
		}
		return nil, err
	}
	resp.Body = &stallGuard{body: resp.Body, limit: streamStallLimit, cancel: cancel}
	return resp, nil
}

// stallGuard fails a Read that waits longer than limit, by cancelling
// the request.
type stallGuard struct {
	body    io.ReadCloser
	limit   time.Duration
	cancel  context.CancelFunc
	stalled atomic.Bool
}

func (g *stallGuard) Read(p []byte) (int, error) {
	t := time.AfterFunc(g.limit, func() {
		g.stalled.Store(true)
		g.cancel()
	})
	n, err := g.body.Read(p)
	t.Stop()
	if err != nil && err != io.EOF && g.stalled.Load() {
		err = fmt.Errorf("the vault sent nothing for %v: the connection stalled", g.limit)
	}
	return n, err
}

func (g *stallGuard) Close() error {
	defer g.cancel()
	return g.body.Close()
}

// call sends a JSON request (body may be nil) and decodes a JSON answer.
func (c *client) call(method, path string, q url.Values, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.url(path, q), r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// A GET is answered at once, and its wait is bounded; a POST may
	// be long work the vault answers at its end (a package sealed, a
	// scrub that re-hashes all the evidence), and is waited for.
	do := c.do
	if method == http.MethodGet {
		do = c.doBounded
	}
	resp, err := do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if c.status != nil {
		*c.status = resp.StatusCode
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("malformed answer from the vault: %w", err)
	}
	return nil
}

// sentBody is a request's body as the transport reads it, keeping the
// first failure to read it: a failure of this machine, which do tells
// apart from the network's.
type sentBody struct {
	io.ReadCloser
	mu  sync.Mutex
	err error
}

func (b *sentBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// readErr is the first failure to read the body (nil for a nil body).
func (b *sentBody) readErr() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// unreachableError is a request that never reached the vault: nothing
// answered at its address, or something else did.
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

// unreachable says why the vault at base could not be reached, and what
// to check, for the causes people meet: nothing listening (the vault not
// running, or another address), a plain-HTTP vault named with https://,
// a name that does not resolve.
func unreachable(base *url.URL, err error) error {
	cause := unwrapURL(err)
	msg := cause.Error()
	hint := ""
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		hint = "nothing answers there: is the vault running, and is CUSTOS_SERVER its address?"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		plain := *base
		plain.Scheme = "http"
		hint = "the vault there answers plain HTTP: set CUSTOS_SERVER=" + plain.String()
	case errors.As(err, &dns):
		hint = "no such host: check the name in CUSTOS_SERVER"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		hint = "no answer in time: is the address in CUSTOS_SERVER right, and the network up?"
	}
	if hint == "" {
		return &unreachableError{fmt.Sprintf("vault unreachable at %s: %v", base, cause)}
	}
	return &unreachableError{fmt.Sprintf("vault unreachable at %s: %s (%v)", base, hint, cause)}
}

// unwrapURL is a transport error without the method and URL net/http
// puts before it.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// callOrRequest is call for a route that answers 202 with a
// RequestResponse when the decision needs a custodian other than the
// requester: it returns that request (out untouched), or nil once out
// holds the answer.
func (c *client) callOrRequest(method, path string, body, out any) (*api.RequestResponse, error) {
	var raw json.RawMessage
	var status int
	c.status = &status
	defer func() { c.status = nil }()
	if err := c.call(method, path, nil, body, &raw); err != nil {
		return nil, err
	}
	if status == http.StatusAccepted {
		var req api.RequestResponse
		if err := json.Unmarshal(raw, &req); err != nil || req.Request == "" {
			return nil, fmt.Errorf("malformed answer from the vault: %v", err)
		}
		return &req, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("malformed answer from the vault: %w", err)
	}
	return nil, nil
}

// callAnonymous is call without the session token (signing in).
func (c *client) callAnonymous(method, path string, body, out any) error {
	saved := c.token
	c.token = secret.String{}
	defer func() { c.token = saved }()
	return c.call(method, path, nil, body, out)
}

// printResult prints v as one JSON object with --json, or text otherwise.
func printResult(w io.Writer, asJSON bool, v any, text string) error {
	if asJSON {
		return json.NewEncoder(w).Encode(v)
	}
	_, err := fmt.Fprintln(w, safeText(text))
	return err
}

// safeText is a command's text output, or text the vault stored, as it
// reaches the terminal: every line and tab-separated field
// printable.Readable, whatever the vault answered (a title, a note, a
// source, a name), so that no text from the vault moves, hides or
// rewrites what is shown, and Khmer or an emoji reads as written.
func safeText(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		fields := strings.Split(l, "\t")
		for j, f := range fields {
			fields[j] = printable.Readable(f)
		}
		lines[i] = strings.Join(fields, "\t")
	}
	return strings.Join(lines, "\n")
}

// progress returns a progress bar on stderr when it is a terminal and the
// output is not JSON; otherwise a silent one. The bar's width follows the
// terminal's (a narrow or unknown one gets a short bar, never none), and
// it ends at 100 % (Finish) before the summary line. size -1: unknown
// (standard input).
func progress(stderr io.Writer, quiet bool, size int64, desc string) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return progressbar.DefaultBytesSilent(size, desc)
	}
	width := 10
	cols := 80
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		cols = w
	}
	if cols > 80 {
		width = min(40, cols-70)
	}
	opts := []progressbar.Option{progressbar.OptionSetWriter(stderr),
		progressbar.OptionShowBytes(true), progressbar.OptionUseIECUnits(true),
		progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(width)}
	if cols >= 72 {
		// Room for the description, the count and the time left; a
		// narrow terminal gets the bar and the rate alone, so that no
		// line wraps (a wrapped line leaves a trail at every update).
		opts = append(opts, progressbar.OptionSetDescription(cut(desc, 24)), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true))
	} else {
		opts = append(opts, progressbar.OptionSetPredictTime(false))
	}
	return progressbar.NewOptions64(size, opts...)
}

// cut shortens s to n characters, ending in "…".
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// haltedOnce prints the vault's word that its custody log is halted once
// a command (api.HeaderLogHalted), to warnOut.
var (
	haltedOnce sync.Once
	warnOut    io.Writer = os.Stderr
)
