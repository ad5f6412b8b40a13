package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/vault/api"
)

func testClient(t *testing.T, h http.Handler) *client {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	return &client{base: u, http: ts.Client()}
}

// refusing answers every request with status and the JSON body.
func refusing(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

// TestStalledStreamFails: a streamed answer that stops sending, and a GET
// never answered, fail after streamStallLimit instead of hanging the
// command (a POST may be long work and is waited for); an answer that
// keeps sending, however slowly, is read whole.
func TestStalledStreamFails(t *testing.T) {
	defer func(d time.Duration) { streamStallLimit = d }(streamStallLimit)
	streamStallLimit = 300 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	c := testClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "custos-log-records/1\n")
		w.(http.Flusher).Flush()
		if r.URL.Path == "/slow" {
			for range 5 {
				time.Sleep(100 * time.Millisecond)
				io.WriteString(w, "x")
				w.(http.Flusher).Flush()
			}
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// A vault that never answers at all.
	silent := testClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	start := time.Now()
	if _, err := silent.get("/silent", nil); err == nil || !strings.Contains(err.Error(), "did not answer") || time.Since(start) > 5*time.Second {
		t.Fatalf("a vault that never answers gave %v after %v", err, time.Since(start))
	}
	// The JSON answers of GETs too (an audit's key and consistency
	// proof): a vault stopped with SIGSTOP kept audit verify waiting.
	start = time.Now()
	var key map[string]any
	if err := silent.call("GET", "/v1/log/key", nil, nil, &key); err == nil || !strings.Contains(err.Error(), "did not answer") || time.Since(start) > 5*time.Second {
		t.Fatalf("a vault that never answers a JSON GET gave %v after %v", err, time.Since(start))
	}
	resp, err := c.get("/stall", nil)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || !strings.Contains(err.Error(), "stalled") || time.Since(start) > 5*time.Second {
		t.Fatalf("a stalled answer gave %v after %v", err, time.Since(start))
	}
	resp, err = c.get("/slow", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.HasSuffix(string(b), "xxxxx") {
		t.Fatalf("a slow answer: %q, %v", b, err)
	}
}

// TestErrorsReachTheTerminalInert: a refusal's text from the vault (or
// from whoever answers in its place) is shown without the control
// sequences that would let it clear the screen or print a false verdict.
func TestErrorsReachTheTerminalInert(t *testing.T) {
	c := testClient(t, refusing(http.StatusForbidden, `{"error":"forbidden: \u001b[2J\u001b[H\u001b]0;audit OK\u0007\u001b[32mok: 99 events\u202e"}`))
	_, err := c.get("/v1/log/records", nil)
	var se *statusError
	if !errors.As(err, &se) || se.code != http.StatusForbidden {
		t.Fatalf("got %v", err)
	}
	shown := oneLine(err.Error())
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(shown, bad) {
			t.Fatalf("the error as shown holds %q: %q", bad, shown)
		}
	}
	if !strings.Contains(shown, "ok: 99 events") {
		t.Fatalf("the error lost its text: %q", shown)
	}
	if got, err := c.getOptional("/v1/log/records", nil); got != nil || err == nil {
		t.Fatal("a refusal taken for an answer")
	}
}

// TestGetOptional: 404 is "no such route" (nil, nil); other refusals are
// errors.
func TestGetOptional(t *testing.T) {
	c := testClient(t, refusing(http.StatusNotFound, `{"error":"not found: no such route"}`))
	resp, err := c.getOptional("/v1/log/records", nil)
	if resp != nil || err != nil {
		t.Fatalf("404: %v %v", resp, err)
	}
}

// An id holding a line break (two ids where one was meant, as
// $(custos item list ... | grep ...) gives when two items match) is
// refused before anything is sent, naming it as given; in any position
// of the path.
func TestTwoIDsInOneRefusedBeforeSending(t *testing.T) {
	sent := 0
	c := testClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sent++ }))
	for _, path := range []string{
		"/v1/items/" + url.PathEscape("it_000000000000000000000000\nit_111111111111111111111111") + "/open",
		"/v1/cases/" + url.PathEscape("KH-1\r\n") + "/hold",
	} {
		err := c.call("POST", path, nil, nil, nil)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "is not one id: it holds a line break") || !strings.Contains(err.Error(), `\n`) {
			t.Errorf("%s: %v", path, err)
		}
	}
	if sent != 0 {
		t.Fatalf("%d requests reached the vault", sent)
	}
}

// The vault not reached: the message says what to check, and never to
// sign in again.
func TestUnreachableSaysWhatToCheck(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	plain, _ := url.Parse(ts.URL)
	ts.Close() // nothing listens there now
	c := &client{base: plain, http: &http.Client{}}
	err := c.call("GET", "/v1/cases", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "nothing answers there") {
		t.Errorf("refused connection: %v", err)
	}
	if h := signInHint(err); strings.Contains(h.Error(), "custos login") {
		t.Errorf("refused connection: %v", h)
	}
	live := httptest.NewServer(http.NotFoundHandler())
	defer live.Close()
	tlsURL, _ := url.Parse(strings.Replace(live.URL, "http://", "https://", 1))
	c = &client{base: tlsURL, http: &http.Client{}}
	err = c.call("GET", "/v1/cases", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "answers plain HTTP: set CUSTOS_SERVER="+live.URL) {
		t.Errorf("https to a plain vault: %v", err)
	}
	if h := signInHint(err); strings.Contains(h.Error(), "custos login") {
		t.Errorf("https to a plain vault: %v", h)
	}
	// The reverse: plain HTTP to a vault that speaks HTTPS.
	tlsVault := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsVault.Close()
	plainURL, _ := url.Parse(strings.Replace(tlsVault.URL, "https://", "http://", 1))
	c = &client{base: plainURL, http: &http.Client{}}
	err = c.call("GET", "/v1/cases", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "speaks HTTPS, not plain HTTP: set CUSTOS_SERVER="+tlsVault.URL) || !strings.Contains(err.Error(), "custos login --moved-from "+plainURL.String()) {
		t.Errorf("http to a TLS vault: %v", err)
	}
}

// A vault whose custody log is halted says so on every answer; the
// command says it once on standard error, whatever it then prints.
func TestHaltedLogIsSaidOnce(t *testing.T) {
	var out strings.Builder
	defer func(w io.Writer) { warnOut, haltedOnce = w, sync.Once{} }(warnOut)
	warnOut, haltedOnce = &out, sync.Once{}
	c := testClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.HeaderLogHalted, "the custody log is halted\u202e: see the docs")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"cases":[]}`)
	}))
	for range 2 {
		var v map[string]any
		if err := c.call("GET", "/v1/cases", nil, nil, &v); err != nil {
			t.Fatal(err)
		}
	}
	if got := out.String(); strings.Count(got, "custos: warning: the custody log is halted") != 1 || strings.Contains(got, "\u202e") {
		t.Fatalf("warnings: %q", got)
	}
}

// A sign-in the vault (or a proxy before it) cannot answer, whatever its
// answer's form, is not followed by "run custos login": signing in again
// changes nothing. Another refusal still is.
func TestSignInHintAfterServerErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		handler http.Handler
		login   bool
	}{
		{"a halted log's 503", refusing(http.StatusServiceUnavailable, `{"error":"the custody log is halted"}`), false},
		{"a proxy's plain 502", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "bad gateway")
		}), false},
		{"an expired sign-in", refusing(http.StatusUnauthorized, `{"error":"unauthenticated: the session expired"}`), true},
	} {
		_, err := testClient(t, c.handler).openSession(api.SessionRequest{Credential: "cst_x"})
		if err == nil {
			t.Fatalf("%s: signed in", c.name)
		}
		if got := strings.Contains(signInHint(err).Error(), "run custos login"); got != c.login {
			t.Errorf("%s: %q says to sign in again: %v, want %v", c.name, signInHint(err), got, c.login)
		}
	}
}

// A refused sign-in is said in a person's words: the vault's reason
// without its class or status, and, where the vault gives none, that it
// does not know the credential, with what to do about it.
func TestSignInRefusalsInPlainWords(t *testing.T) {
	t.Setenv("CUSTOS_TOKEN", "")
	for _, c := range []struct {
		name, answer, want string
	}{
		{"no reason", `{"error":"unauthenticated"}`, "sign-in refused: the vault does not know this credential or session: your credential is no longer valid; ask the custodians"},
		{"suspended", `{"error":"unauthenticated: alice is suspended"}`, "sign-in refused: alice is suspended: ask a custodian"},
		{"expired", `{"error":"unauthenticated: the session expired; sign in again"}`, "sign-in refused: the session expired; sign in again (run custos login)"},
	} {
		_, err := testClient(t, refusing(http.StatusUnauthorized, c.answer)).openSession(api.SessionRequest{Credential: "cst_x"})
		if err == nil {
			t.Fatalf("%s: signed in", c.name)
		}
		got := signInHint(err).Error()
		if !strings.HasPrefix(got, c.want) || strings.Contains(got, "unauthenticated") || strings.Contains(got, "HTTP") {
			t.Errorf("%s: %q, want it to begin %q, without the class or status", c.name, got, c.want)
		}
	}
	// A credential given in CUSTOS_TOKEN that the vault does not know was
	// most often replaced by a re-issued invitation: both causes are named,
	// the replacement first.
	t.Setenv("CUSTOS_TOKEN", "cst_x")
	_, err := testClient(t, refusing(http.StatusUnauthorized, `{"error":"unauthenticated"}`)).openSession(api.SessionRequest{Credential: "cst_x"})
	got := signInHint(err).Error()
	if want := "CUSTOS_TOKEN was replaced by a newer invitation (custos person reissue), or it is another vault's"; !strings.Contains(got, want) {
		t.Errorf("unknown CUSTOS_TOKEN: %q, want it to say %q", got, want)
	}
}

// A deposit the vault answers with an outcome it cannot tell (the log's
// store lost its answer to the append) is not said to have kept nothing:
// its record may be in the log.
func TestDepositOfUnknownOutcomeIsNotSaidLost(t *testing.T) {
	unknown := &statusError{503, "a backend is unavailable; " + api.OutcomeUnknown + " (reference 0 in the server log) (HTTP 503)"}
	if err := depositFailure("a.txt", unknown, false); strings.Contains(err.Error(), "nothing of it was kept") || !strings.Contains(err.Error(), "not known") {
		t.Errorf("an unknown outcome reads %q", err)
	}
	if err := depositFailure("a.txt", &statusError{503, "a backend is unavailable (HTTP 503)"}, false); !strings.Contains(err.Error(), "nothing of it was kept") {
		t.Errorf("a failure reads %q", err)
	}
}
