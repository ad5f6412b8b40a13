// Package api is the vault's HTTP interface (docs/api.yaml). Bodies stream:
// deposits are read and encrypted as they arrive, plaintext and packages
// are written as they are decrypted or read; nothing is buffered whole.
//
// Routes (routes.go) lists every route with the types of its JSON bodies;
// New registers exactly those, and the tests check the table against
// docs/api.yaml. The handlers sit one file per resource (cases.go,
// items.go, packages.go, persons.go, log.go, audit.go, admin.go);
// errors.go maps errors to statuses and answers.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/vault"
)

// Header and trailer names.
const (
	// HeaderContentSHA256 is the trailer a depositing client sends with the
	// SHA-256 it computed of the bytes it uploaded.
	HeaderContentSHA256 = "Custos-Content-Sha256"
	// HeaderSHA256 carries the expected SHA-256 of a response body (the
	// deposit's plaintext hash, or a package file's hash).
	HeaderSHA256 = "Custos-Sha256"
	// HeaderSize carries the expected size of a response body.
	HeaderSize = "Custos-Size"
	// HeaderAccessEvent names the access event recorded before a reveal.
	HeaderAccessEvent = "Custos-Access-Event"
	// HeaderCheckpointSize is the size of the checkpoint a custody
	// document's events are proven in.
	HeaderCheckpointSize = "Custos-Checkpoint-Size"
	// HeaderItems is how many items a hash list or custody document
	// covers; HeaderEvents how many custody events a custody document
	// holds.
	HeaderItems  = "Custos-Items"
	HeaderEvents = "Custos-Events"
	// HeaderWarning carries a reviewer-welfare warning with a reveal
	// (the person's daily exposure limit is reached).
	HeaderWarning = "Custos-Warning"
	// HeaderLogHalted is on every answer while the vault has halted its
	// custody log (an integrity failure of its store): what is shown may
	// still be read, but nothing can be recorded, so nothing that must be
	// recorded is done. Its value says so.
	HeaderLogHalted = "Custos-Log-Halted"
	// HeaderClient must be on every request a TLS client certificate
	// signs in (any value; the custos program sends its name and
	// version). A browser presents a person's certificate on any request
	// to the vault, a page of another site's included, but sends a header
	// of its own only after asking the vault (a CORS preflight), which
	// the vault never allows: a request carrying it was not forged by
	// another site (crossSiteReason).
	HeaderClient = "Custos-Client"
)

// MaxJSONBody bounds every JSON request body.
const MaxJSONBody = 64 << 10

// DefaultMinUploadRate is Options.MinUploadRate's default, and custos
// server's, in bytes per second.
const DefaultMinUploadRate = 1024

// Options bound what the API spends on requests nobody answers for. A
// zero field takes the default named in its comment.
type Options struct {
	// RefusalWindow is the window over which refusals of requests without
	// valid credentials, and requests for unknown routes or methods, are
	// aggregated per client address, action and reason: the first is
	// recorded at once, the rest in one summary event at the window's end
	// (default 1 minute).
	RefusalWindow time.Duration
	// UnauthRate and UnauthBurst are the token bucket of requests without
	// valid credentials per client address, in requests per second and
	// requests (default 5 and 20); beyond it the API answers 429 with
	// Retry-After.
	UnauthRate  float64
	UnauthBurst int
	// MaxTracked bounds the client addresses the rate limiter and the
	// refusal aggregator each keep (default 10000).
	MaxTracked int
	// MinUploadRate, in bytes per second, over UploadWindow: a request
	// body that delivers fewer than MinUploadRate x UploadWindow bytes in
	// any UploadWindow is cut (default DefaultMinUploadRate over 30
	// seconds; negative: no limit).
	MinUploadRate int64
	UploadWindow  time.Duration
	// WriteStall: a response write that cannot hand its bytes to a client
	// within it (the client stopped reading) cuts the connection
	// (default 30 seconds).
	WriteStall time.Duration

	// Sign-in (docs/identity.md): NoLocalAccounts as the vault has it;
	// OIDC verifies ID tokens and OIDCClient is what clients are told of
	// the provider (nil: no OpenID provider); ClientCerts identifies TLS
	// client certificates (nil: none are accepted).
	NoLocalAccounts bool
	OIDC            OIDCVerifier
	OIDCClient      OIDCClient
	ClientCerts     CertIdentifier
}

func (o *Options) defaults() {
	if o.RefusalWindow <= 0 {
		o.RefusalWindow = time.Minute
	}
	if o.UnauthRate <= 0 {
		o.UnauthRate = 5
	}
	if o.UnauthBurst <= 0 {
		o.UnauthBurst = 20
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = 10000
	}
	if o.MinUploadRate == 0 {
		o.MinUploadRate = DefaultMinUploadRate
	}
	if o.UploadWindow <= 0 {
		o.UploadWindow = 30 * time.Second
	}
	if o.WriteStall <= 0 {
		o.WriteStall = 30 * time.Second
	}
}

// Handler serves the API of one vault.
type Handler struct {
	v        *vault.Vault
	log      *slog.Logger
	mux      *http.ServeMux
	opts     Options
	limiter  *rateLimiter
	refusals *refusalLog
}

// New returns the API handler. Close it after the HTTP server has shut
// down, to record the summaries of refusals still being aggregated.
func New(v *vault.Vault, logger *slog.Logger, opts Options) *Handler {
	opts.defaults()
	h := &Handler{v: v, log: logger, mux: http.NewServeMux(), opts: opts,
		limiter:  newRateLimiter(opts.UnauthRate, opts.UnauthBurst, opts.MaxTracked),
		refusals: newRefusalLog(v, logger, opts.RefusalWindow, opts.MaxTracked)}
	for _, rt := range routes {
		if !rt.Auth {
			h.mux.HandleFunc(rt.action(), func(w http.ResponseWriter, r *http.Request) {
				if err := rt.serve(h, w, r, vault.Principal{}); err != nil {
					h.fail(w, r, err)
				}
			})
			continue
		}
		serve := rt.serve
		if rt.Asks != "" {
			serve = rt.gated()
		}
		action := rt.action()
		if rt.Asks != "" {
			action = rt.Asks
		}
		h.route(rt.action(), action, serve)
	}
	return h
}

// GateTarget returns, for a route's pattern ("POST /v1/cases/{case}/hold"),
// what names the target of its gate (vault.MayAsk) in a request: the
// value of the pattern's first path wildcard, or "" for a pattern with
// none. The API's routes and the web application's forms name it alike.
func GateTarget(pattern string) func(*http.Request) string {
	i := strings.Index(pattern, "{")
	if i < 0 {
		return func(*http.Request) string { return "" }
	}
	wildcard := strings.TrimSuffix(pattern[i+1:i+strings.Index(pattern[i:], "}")], "...")
	return func(r *http.Request) string { return r.PathValue(wildcard) }
}

// gated is the route's handler behind its gate (Route.Asks). A request
// the handler finds malformed (bad input, a body that is not JSON or is
// too large) is first put to the gate: who may not ask at all is refused,
// and recorded, rather than told what was malformed. A well-formed one
// goes to the vault's method, which calls the same gate first and
// records its refusal with the target the body names (a case to open, a
// person to enrol) and the exact action (placing or lifting a hold).
func (rt Route) gated() handlerFunc {
	targetOf := GateTarget(rt.Pattern)
	return func(h *Handler, w http.ResponseWriter, r *http.Request, who vault.Principal) error {
		target := targetOf(r)
		err := rt.serve(h, w, r, who)
		if err == nil || vault.Recorded(err) {
			return err
		}
		switch status(err) {
		case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
			// Malformed: not JSON, too large, or a field or query
			// the route or the vault refused to read.
		default:
			return err
		}
		if gerr := h.v.MayAsk(r.Context(), who, rt.Asks, target); gerr != nil {
			return gerr
		}
		return err
	}
}

// Close records the summaries of refusals still being aggregated.
func (h *Handler) Close() {
	h.refusals.close()
}

// ServeHTTP answers a request. A method or path no route serves is
// refused (404, or 405 with Allow) and recorded; so is HEAD everywhere but
// /v1/health: Go would route it to the GET handler, which records (and
// performs) a reveal whose bytes are then never sent.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if halted := h.v.Log().Halted(); halted != nil {
		if errors.Is(halted, vault.ErrAnotherServer) {
			w.Header().Set(HeaderLogHalted, anotherServerWarning)
		} else if errors.Is(halted, vault.ErrSnapshotSuspect) {
			w.Header().Set(HeaderLogHalted, snapshotHaltedWarning)
		} else {
			w.Header().Set(HeaderLogHalted, haltedWarning)
		}
	}
	h.Guard(w, r, func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := h.mux.Handler(r); pattern == "" || r.Method == http.MethodHead && r.URL.Path != "/v1/health" {
			h.unknown(w, r)
			return
		}
		h.mux.ServeHTTP(w, r)
	})
}

// Guard serves r under the limits on a client that stalls: its body must
// arrive at Options.MinUploadRate over UploadWindow (else it is cut:
// "stalled"), and each write of the answer must reach the client within
// WriteStall (else the connection is cut). The API's routes and the web
// application's pages are served through it.
func (h *Handler) Guard(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) {
	rc := http.NewResponseController(w)
	// No deadline while the handler works (a long deposit answers only
	// at its end); each write gets its own (stallWriter).
	if rc.SetWriteDeadline(time.Time{}) == nil {
		w = &stallWriter{ResponseWriter: w, rc: rc, stall: h.opts.WriteStall}
		// A fresh window for the buffered end of the answer, flushed
		// here; then no deadline, so that none is left on a kept-alive
		// connection for the next request (a long deposit would be cut).
		defer func() {
			rc.SetWriteDeadline(time.Now().Add(h.opts.WriteStall))
			rc.Flush()
			rc.SetWriteDeadline(time.Time{})
		}()
	}
	limitBodyRate(w, r, h.opts.MinUploadRate, h.opts.UploadWindow)
	serve(w, r)
}

// allowed returns the methods (other than HEAD) that some route serves at
// r's path.
func (h *Handler) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" {
			out = append(out, m)
		}
	}
	return out
}

// unknown refuses a request no route serves, and records it (aggregated,
// as unauthenticated refusals are).
func (h *Handler) unknown(w http.ResponseWriter, r *http.Request) {
	who, err := h.authenticate(r)
	var by *vault.Principal
	if err == nil {
		by = signedInHere(r, who)
	}
	if by == nil && h.rateLimited(w, r, "route") {
		return
	}
	target := shortTarget(r.Method + " " + r.URL.EscapedPath())
	allow := h.allowed(r)
	action, reason, code, grounds := "route.unknown", "no such route", http.StatusNotFound, vault.GroundsUnknown
	if len(allow) > 0 {
		action, reason, code, grounds = "route.method", "method not allowed", http.StatusMethodNotAllowed, vault.GroundsInput
	}
	if err := h.refusals.note(r.Context(), by, clientIP(r), action, target, reason, grounds); err != nil {
		h.fail(w, r, err)
		return
	}
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, code, ErrorResponse{Error: "method not allowed: " + target + " (allowed: " + strings.Join(allow, ", ") + ")"})
		return
	}
	writeJSON(w, code, ErrorResponse{Error: "not found: no such route: " + target})
}

// shortTarget is a request line as recorded and echoed: ASCII only (the
// escaped path), at most 256 bytes.
func shortTarget(s string) string {
	q := strconv.QuoteToASCII(s)
	q = q[1 : len(q)-1]
	if len(q) > 256 {
		q = q[:256] + "..."
	}
	return q
}

// rateLimited takes a token of the client's bucket of requests without
// valid credentials; without one it answers 429 with Retry-After, records
// the refusal (aggregated) and returns true.
func (h *Handler) rateLimited(w http.ResponseWriter, r *http.Request, action string) bool {
	wait, ok := h.limiter.allow(clientIP(r), time.Now())
	if ok {
		return false
	}
	if err := h.refusals.note(r.Context(), nil, clientIP(r), action, "", "too many requests without valid credentials", vault.GroundsLimit); err != nil {
		h.fail(w, r, err)
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (wait+time.Second-1)/time.Second))))
	writeJSON(w, http.StatusTooManyRequests, ErrorResponse{Error: "too many requests without valid credentials; retry later"})
	return true
}

// route wraps a handler with authentication, the minimum upload rate and
// error mapping. A request without valid credentials is refused and
// recorded (aggregated per client address, and rate-limited). A refusal
// (403, 404) that the vault did not record is recorded here, under
// action: the vault's action where the route names its gate (Route.Asks),
// so that the log words it as the vault's own refusals, else the route.
func (h *Handler) route(pattern, action string, f handlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		who, aerr := h.authenticate(r)
		if aerr != nil {
			if h.rateLimited(w, r, pattern) {
				return
			}
			if err := h.NoteUnauthenticated(r, pattern, r.URL.EscapedPath(), aerr); err != nil {
				h.fail(w, r, err)
				return
			}
			h.fail(w, r, aerr)
			return
		}
		if who.Credential.Auth == "certificate" {
			if reason := crossSiteReason(r); reason != "" {
				h.refuseCrossSite(w, r, pattern, reason)
				return
			}
		}
		err := f(h, w, r, who)
		if err == nil {
			return
		}
		if code := status(err); (code == http.StatusForbidden || code == http.StatusNotFound) && !vault.Recorded(err) {
			if rerr := h.v.RecordRefusal(r.Context(), &who, vault.AccessRefused{Action: action,
				Target: shortTarget(r.URL.EscapedPath()), Reason: sanitize(err.Error()), Grounds: vault.RefusalGrounds(err), Source: clientIP(r)}); rerr != nil {
				err = rerr
			}
		}
		if status(err) == http.StatusForbidden && who.Name != "" {
			// A refusal for the role names the one the asker has: "only
			// auditors read the custody log" says what to do only to
			// someone who knows they are not one. (The answer only; the
			// log recorded the refusal as the vault gave it.)
			err = fmt.Errorf("%w (you are signed in as %s, in the role %s)", err, who.Name, who.Role)
		}
		h.fail(w, r, err)
	})
}

// writeJSON answers code with v as JSON and a final newline (as
// json.Encoder writes it). v is encoded before the status is sent, so
// that a value that cannot be encoded (a time outside years 0 to 9999)
// is a 500, never a 200 with an empty body.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"internal error: the answer could not be written as JSON"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// anotherServerWarning is HeaderLogHalted's value once another server
// started on the custody log after this one (vault.ErrAnotherServer).
const anotherServerWarning = "another server started on this custody log after this one: this one records nothing more, so sign-ins, views, deposits, packages and audits are refused here; use the server that started last, and stop this one (docs/operations.md, \"Upgrades\")"

// snapshotHaltedWarning is HeaderLogHalted's value when a page of the
// state snapshot in use failed its check: the snapshot is suspect, not
// the log.
const snapshotHaltedWarning = "the vault stopped acting: a page of the state snapshot it resumed from failed its check (the file changed on disk, or could not be read); the custody log itself is not in question; nothing can be recorded, so sign-ins, views, deposits, packages and audits are refused until the server is restarted, which discards the snapshot and replays the log (docs/state-snapshots.md, section 2.1)"

// haltedWarning is HeaderLogHalted's value.
const haltedWarning = "the custody log is halted: the vault found that the events its store holds are not the log's; lists still answer, but nothing can be recorded, so sign-ins, views, deposits, packages and audits are refused (docs/operations.md, \"The custody log halted\")"
