// Package api is the vault's HTTP interface (docs/api.yaml). Bodies stream:
// deposits are read and encrypted as they arrive, plaintext and packages
// are written as they are decrypted or read; nothing is buffered whole.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
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
)

// MaxJSONBody bounds every JSON request body.
const MaxJSONBody = 64 << 10

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
	// any UploadWindow is cut (default 1024 bytes/s over 30 seconds;
	// negative: no limit).
	MinUploadRate int64
	UploadWindow  time.Duration
	// WriteStall: a response write that cannot hand its bytes to a client
	// within it (the client stopped reading) cuts the connection
	// (default 30 seconds).
	WriteStall time.Duration
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
		o.MinUploadRate = 1024
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
	h.mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]bool{"ok": true}) })
	h.route("POST /v1/cases", h.openCase)
	h.route("POST /v1/cases/{case}/items", h.deposit)
	h.route("POST /v1/cases/{case}/members", h.addMember)
	h.route("POST /v1/cases/{case}/members/{person}/remove", h.removeMember)
	h.route("POST /v1/cases/{case}/hold", h.hold)
	h.route("POST /v1/cases/{case}/destruction", h.requestDestruction)
	h.route("POST /v1/cases/{case}/destruction/{request}/approve", h.approveDestruction)
	h.route("POST /v1/persons", h.enroll)
	h.route("GET /v1/items/{item}", h.getItem)
	h.route("POST /v1/recipient", h.setRecipient)
	h.route("POST /v1/packages", h.sealPackage)
	h.route("GET /v1/packages/{package}", h.fetchPackage)
	h.route("GET /v1/log/key", h.logKey)
	h.route("GET /v1/log/checkpoints", h.checkpoints)
	h.route("GET /v1/log/events", h.logEvents)
	h.route("GET /v1/log/lookups", h.lookups)
	h.route("GET /v1/log/timeline", h.timeline)
	h.route("GET /v1/log/consistency", h.consistency)
	h.route("POST /v1/audit/scrub", h.scrub)
	h.route("POST /v1/admin/rotate-kek", h.rotateKEK)
	return h
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
	if _, pattern := h.mux.Handler(r); pattern == "" || r.Method == http.MethodHead && r.URL.Path != "/v1/health" {
		h.unknown(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
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
	who, ok := h.authenticate(r)
	var by *vault.Principal
	if ok {
		by = &who
	} else if h.rateLimited(w, r, "route") {
		return
	}
	target := shortTarget(r.Method + " " + r.URL.EscapedPath())
	allow := h.allowed(r)
	action, reason, code := "route.unknown", "no such route", http.StatusNotFound
	if len(allow) > 0 {
		action, reason, code = "route.method", "method not allowed", http.StatusMethodNotAllowed
	}
	if err := h.refusals.note(r.Context(), by, clientIP(r), action, target, reason); err != nil {
		h.fail(w, r, err)
		return
	}
	if code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, code, map[string]string{"error": "method not allowed: " + target + " (allowed: " + strings.Join(allow, ", ") + ")"})
		return
	}
	writeJSON(w, code, map[string]string{"error": "not found: no such route: " + target})
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

func (h *Handler) authenticate(r *http.Request) (vault.Principal, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	who, err := h.v.Authenticate(strings.TrimSpace(token))
	return who, ok && err == nil
}

// rateLimited takes a token of the client's bucket of requests without
// valid credentials; without one it answers 429 with Retry-After, records
// the refusal (aggregated) and returns true.
func (h *Handler) rateLimited(w http.ResponseWriter, r *http.Request, action string) bool {
	wait, ok := h.limiter.allow(clientIP(r), time.Now())
	if ok {
		return false
	}
	if err := h.refusals.note(r.Context(), nil, clientIP(r), action, "", "too many requests without valid credentials"); err != nil {
		h.fail(w, r, err)
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (wait+time.Second-1)/time.Second))))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many requests without valid credentials; retry later"})
	return true
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, who vault.Principal) error

// route wraps a handler with authentication, the minimum upload rate and
// error mapping. A request without valid credentials is refused and
// recorded (aggregated per client address, and rate-limited). A refusal
// (403, 404) that the vault did not record is recorded here.
func (h *Handler) route(pattern string, f handlerFunc) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		who, ok := h.authenticate(r)
		if !ok {
			if h.rateLimited(w, r, pattern) {
				return
			}
			if err := h.refusals.note(r.Context(), nil, clientIP(r), pattern, shortTarget(r.URL.EscapedPath()), "no valid credentials"); err != nil {
				h.fail(w, r, err)
				return
			}
			h.fail(w, r, vault.ErrUnauthenticated)
			return
		}
		limitBodyRate(w, r, h.opts.MinUploadRate, h.opts.UploadWindow)
		err := f(w, r, who)
		if err == nil {
			return
		}
		if code := status(err); (code == http.StatusForbidden || code == http.StatusNotFound) && !vault.Recorded(err) {
			if rerr := h.v.RecordRefusal(r.Context(), &who, vault.AccessRefused{Action: pattern,
				Target: shortTarget(r.URL.EscapedPath()), Reason: sanitize(err.Error()), Source: clientIP(r)}); rerr != nil {
				err = rerr
			}
		}
		h.fail(w, r, err)
	})
}

func status(err error) int {
	switch {
	case errors.Is(err, vault.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, vault.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, vault.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, vault.ErrBadInput):
		return http.StatusBadRequest
	case errors.Is(err, vault.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, vault.ErrIntegrity):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, vault.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.Canceled):
		return 499
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// fail answers err. Refusals and bad input (4xx but 422) carry the
// vault's message, with any character that is not printable escaped
// (sanitize). Internal errors, unavailable backends and integrity
// failures (5xx, 422) can carry local paths and backend addresses: their
// detail goes only to the server's log, under a reference id that the
// answer names.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	msg := sanitize(err.Error())
	if code >= 500 || code == http.StatusUnprocessableEntity || code == 499 {
		ref := newRef()
		level := slog.LevelError
		if code == 499 {
			level = slog.LevelInfo
		}
		h.log.Log(r.Context(), level, "request failed", "ref", ref, "status", code, "method", r.Method, "path", shortTarget(r.URL.EscapedPath()), "err", err)
		msg = genericMessage(code)
		if errors.Is(err, vault.ErrKey) {
			msg = "case key unavailable: the case's key is missing, cannot be unsealed, or is not the case's own; this is a problem of the keys, recorded in the custody log, not of the evidence"
		}
		msg += " (reference " + ref + " in the server log)"
	}
	writeJSON(w, code, map[string]string{"error": msg})
}

// genericMessage names what went wrong, without detail, for an answer
// whose detail stays in the server's log.
func genericMessage(code int) string {
	switch code {
	case http.StatusUnprocessableEntity:
		return "integrity failure: stored evidence or an upload did not match what was recorded; the failure is in the custody log"
	case http.StatusServiceUnavailable:
		return "a backend is unavailable"
	case 499:
		return "request canceled"
	}
	return "internal error"
}

func newRef() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sanitize escapes every character of an answer's message that a
// terminal would not show as itself: controls, line and paragraph
// separators, invisible and default-ignorable code points, invalid UTF-8
// (as \u or \x escapes, as strconv.QuoteToASCII writes them).
func sanitize(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError || !unicode.IsGraphic(r) || r == '\u2800' ||
			unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) {
			_, size := utf8.DecodeRuneInString(s[i:])
			q := strconv.QuoteToASCII(s[i : i+size])
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// CaseRequest is the body of POST /v1/cases.
type CaseRequest struct {
	Case  string `json:"case"`
	Title string `json:"title"`
	// Retention, a Go duration ("87600h"), overrides the default.
	Retention string `json:"retention,omitempty"`
}

func (h *Handler) openCase(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req CaseRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	var retention time.Duration
	if req.Retention != "" {
		d, err := time.ParseDuration(req.Retention)
		if err != nil {
			return fmt.Errorf("%w: retention %q is not a duration such as 87600h", vault.ErrBadInput, req.Retention)
		}
		retention = d
	}
	if err := h.v.OpenCaseWith(r.Context(), who, req.Case, req.Title, retention); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"case": req.Case})
	return nil
}

func (h *Handler) deposit(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	res, err := h.v.Deposit(r.Context(), who, vault.DepositRequest{
		Case: r.PathValue("case"), Name: q.Get("name"), Note: q.Get("note"), Source: q.Get("source"),
		Body:         r.Body,
		ClientSHA256: func() string { return r.Trailer.Get(HeaderContentSHA256) },
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (h *Handler) getItem(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	rev, err := h.v.OpenItem(r.Context(), who, r.PathValue("item"), r.URL.Query().Get("purpose"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderSHA256, rev.Item.Deposit.SHA256)
	w.Header().Set(HeaderSize, strconv.FormatInt(rev.Item.Deposit.Size, 10))
	w.Header().Set(HeaderAccessEvent, strconv.FormatUint(rev.Access, 10))
	w.Header().Set("Content-Length", strconv.FormatInt(rev.Item.Deposit.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rev); err != nil {
		if rev.Failed() {
			rev.Finish(r.Context())
		} else {
			rev.Abort(r.Context(), err)
		}
		// Cut the connection: the client must see a broken transfer, never
		// a short body that looks complete.
		panic(http.ErrAbortHandler)
	}
	if err := rev.Finish(r.Context()); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// RecipientRequest is the body of POST /v1/recipient.
type RecipientRequest struct {
	Recipient string `json:"recipient"`
}

func (h *Handler) setRecipient(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RecipientRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	rec, err := h.v.SetRecipient(r.Context(), who, req.Recipient)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"recipient": rec})
	return nil
}

// PackageRequest is the body of POST /v1/packages.
type PackageRequest struct {
	Case    string   `json:"case"`
	For     string   `json:"for"`
	Purpose string   `json:"purpose"`
	Items   []string `json:"items,omitempty"`
}

func (h *Handler) sealPackage(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PackageRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	p, err := h.v.SealPackage(r.Context(), who, vault.SealRequest{Case: req.Case, For: req.For, Purpose: req.Purpose, Items: req.Items})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (h *Handler) fetchPackage(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	rc, sealed, err := h.v.FetchPackage(r.Context(), who, r.PathValue("package"))
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set(HeaderSHA256, sealed.SHA256)
	w.Header().Set(HeaderSize, strconv.FormatInt(sealed.Size, 10))
	w.Header().Set("Content-Length", strconv.FormatInt(sealed.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// KeyResponse is the answer of GET /v1/log/key.
type KeyResponse struct {
	Origin string `json:"origin"`
	Key    string `json:"key"`
}

func (h *Handler) logKey(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, KeyResponse{Origin: h.v.Origin(), Key: h.v.VerifierKey()})
	return nil
}

// CheckpointsResponse is the answer of GET /v1/log/checkpoints.
type CheckpointsResponse struct {
	Checkpoints []string `json:"checkpoints"`
}

func (h *Handler) checkpoints(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.AuditReader(r.Context(), who, "audit.checkpoints"); err != nil {
		return err
	}
	// Make sure the newest events are covered before an audit starts.
	if _, err := h.v.Log().Checkpoint(r.Context()); err != nil {
		return err
	}
	cps, err := h.v.Store().Checkpoints(r.Context())
	if err != nil {
		return err
	}
	out := CheckpointsResponse{Checkpoints: []string{}}
	for _, c := range cps {
		out.Checkpoints = append(out.Checkpoints, string(c.Note))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// logEvents streams stored event bytes, one per line (NDJSON), exactly as
// stored: the auditor's client hashes these bytes.
func (h *Handler) logEvents(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.AuditReader(r.Context(), who, "audit.events"); err != nil {
		return err
	}
	from, err := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
	if err != nil && r.URL.Query().Get("from") != "" {
		return fmt.Errorf("%w: from must be a number", vault.ErrBadInput)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := newLineWriter(w)
	err = h.v.Store().Read(r.Context(), from, func(rec events.Record) error { return bw.line(rec.Bytes) })
	if err == nil {
		err = bw.flush()
	}
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// TimelineResponse is the answer of GET /v1/log/timeline.
type TimelineResponse struct {
	Events []*events.Event `json:"events"`
}

func (h *Handler) timeline(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	out := TimelineResponse{Events: []*events.Event{}}
	err := h.v.Timeline(r.Context(), who, q.Get("case"), q.Get("item"), func(rec events.Record) error {
		ev, err := events.Decode(rec.Bytes)
		if err != nil {
			return fmt.Errorf("%w: event %d: %v", vault.ErrIntegrity, rec.Seq, err)
		}
		out.Events = append(out.Events, ev)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ConsistencyResponse is the answer of GET /v1/log/consistency.
type ConsistencyResponse struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof"`
}

func (h *Handler) consistency(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.AuditReader(r.Context(), who, "audit.consistency"); err != nil {
		return err
	}
	q := r.URL.Query()
	from, err1 := strconv.ParseUint(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseUint(q.Get("to"), 10, 64)
	if err1 != nil || err2 != nil || from > to {
		return fmt.Errorf("%w: from and to must be sizes with from <= to", vault.ErrBadInput)
	}
	p, err := h.v.Log().Tree().ConsistencyProof(from, to)
	if err != nil {
		return fmt.Errorf("%w: %v", vault.ErrBadInput, err)
	}
	out := ConsistencyResponse{From: from, To: to, Proof: []string{}}
	for _, n := range p {
		out.Proof = append(out.Proof, hex.EncodeToString(n))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) scrub(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	res, err := h.v.Scrub(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// RotateRequest is the body of POST /v1/admin/rotate-kek.
type RotateRequest struct {
	RetireOld bool `json:"retire_old"`
}

func (h *Handler) rotateKEK(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RotateRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	res, err := h.v.RotateKEK(r.Context(), who, req.RetireOld)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// MemberRequest is the body of POST /v1/cases/{case}/members.
type MemberRequest struct {
	Person string `json:"person"`
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req MemberRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.v.AddMember(r.Context(), who, r.PathValue("case"), req.Person); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"case": r.PathValue("case"), "person": req.Person})
	return nil
}

// PersonRequest is the body of POST /v1/persons.
type PersonRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PersonRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	token, err := h.v.EnrollBy(r.Context(), who, req.Name, req.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": req.Name, "role": req.Role, "token": token})
	return nil
}

// HoldRequest is the body of POST /v1/cases/{case}/hold.
type HoldRequest struct {
	On     bool   `json:"on"`
	Reason string `json:"reason"`
}

func (h *Handler) hold(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req HoldRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	n, err := h.v.SetHold(r.Context(), who, r.PathValue("case"), req.On, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": r.PathValue("case"), "held": req.On, "objects": n})
	return nil
}

// DestructionRequest is the body of POST /v1/cases/{case}/destruction.
type DestructionRequest struct {
	Order  string `json:"order"`
	Reason string `json:"reason"`
}

func (h *Handler) requestDestruction(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req DestructionRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	id, err := h.v.RequestDestruction(r.Context(), who, r.PathValue("case"), req.Order, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"case": r.PathValue("case"), "request": id})
	return nil
}

func (h *Handler) approveDestruction(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	res, err := h.v.ApproveDestruction(r.Context(), who, r.PathValue("case"), r.PathValue("request"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
