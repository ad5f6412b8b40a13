package api

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/custos-vault/custos/vault"
)

// The public intake (docs/hotline.md): a listener of its own, which can
// face the internet while the vault's API stays internal. It serves only
// a report form (GET /) and report submission (POST /report): a URL or
// several and a description, no uploads, and nothing read back but the
// receipt number. Every other request is refused and recorded, as the
// API records refusals (aggregated per address, action and reason);
// submissions are rate-limited per source address. Nothing of a
// reporter's connection is written to the custody log: the address is
// kept in memory for the rate limit only (and in a refusal's source when
// a request is refused).

// PublicOptions bound the public intake. A zero field takes the default
// named in its comment.
type PublicOptions struct {
	// ReportRate and ReportBurst are the token bucket of reports per
	// source address, in reports per second and reports (default one a
	// minute, 5).
	ReportRate  float64
	ReportBurst int
	// RequestRate and RequestBurst bound every request per source address
	// (default 2 a second, 20).
	RequestRate  float64
	RequestBurst int
	// MaxBody bounds a submission's body (default 16 KiB).
	MaxBody int64
	// TotalRate and TotalBurst are the token bucket of reports from all
	// sources together, in reports per second and reports (default 30 a
	// minute, 60): a bound on what the internet can add to the custody
	// log, whatever addresses it comes from.
	TotalRate  float64
	TotalBurst int
	// BodyTimeout is how long a request has, once its headers are read,
	// to deliver its body (default 4 seconds: a report is a few KiB).
	BodyTimeout time.Duration
	// RefusalWindow aggregates refusals as Options.RefusalWindow does
	// (default 1 minute); MaxTracked bounds the addresses tracked
	// (default 10000).
	RefusalWindow time.Duration
	MaxTracked    int
	// Hotline is the name shown on the form (default "the hotline").
	Hotline string
}

func (o *PublicOptions) defaults() {
	if o.ReportRate <= 0 {
		o.ReportRate = 1.0 / 60
	}
	if o.ReportBurst <= 0 {
		o.ReportBurst = 5
	}
	if o.RequestRate <= 0 {
		o.RequestRate = 2
	}
	if o.RequestBurst <= 0 {
		o.RequestBurst = 20
	}
	if o.TotalRate <= 0 {
		o.TotalRate = 30.0 / 60
	}
	if o.TotalBurst <= 0 {
		o.TotalBurst = 60
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = 4 * time.Second
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 16 << 10
	}
	if o.RefusalWindow <= 0 {
		o.RefusalWindow = time.Minute
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = 10000
	}
	if o.Hotline == "" {
		o.Hotline = "the hotline"
	}
}

// PublicReport is the JSON body of POST /report (a form posts the same
// fields as application/x-www-form-urlencoded, urls one per line).
type PublicReport struct {
	URLs        []string `json:"urls"`
	Description string   `json:"description,omitempty"`
	Anonymous   bool     `json:"anonymous,omitempty"`
	Contact     string   `json:"contact,omitempty"`
}

// Public serves the public intake.
type Public struct {
	v        *vault.Vault
	log      *slog.Logger
	opts     PublicOptions
	reports  *rateLimiter
	requests *rateLimiter
	total    *rateLimiter
	refusals *refusalLog
}

// NewPublic returns the public intake's handler. Close it after its HTTP
// server has shut down.
func NewPublic(v *vault.Vault, logger *slog.Logger, opts PublicOptions) *Public {
	opts.defaults()
	return &Public{v: v, log: logger, opts: opts,
		reports:  newRateLimiter(opts.ReportRate, opts.ReportBurst, opts.MaxTracked),
		requests: newRateLimiter(opts.RequestRate, opts.RequestBurst, opts.MaxTracked),
		total:    newRateLimiter(opts.TotalRate, opts.TotalBurst, 1),
		refusals: newRefusalLog(v, logger, opts.RefusalWindow, opts.MaxTracked)}
}

// Close records the summaries of refusals still being aggregated.
func (p *Public) Close() { p.refusals.close() }

func (p *Public) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	source := publicSource(r)
	if _, ok := p.requests.allow(source, time.Now()); !ok {
		p.refuse(w, r, "public.request", "too many requests", http.StatusTooManyRequests, p.typedForm(w, r))
		return
	}
	switch {
	case r.URL.Path == "/" && r.Method == http.MethodGet:
		p.form(w, http.StatusOK, "", "", publicForm{})
	case r.URL.Path == "/report" && r.Method == http.MethodPost:
		p.submit(w, r)
	case r.URL.Path == "/" || r.URL.Path == "/report":
		w.Header().Set("Allow", map[string]string{"/": "GET", "/report": "POST"}[r.URL.Path])
		p.refuse(w, r, "route.method", "method not allowed", http.StatusMethodNotAllowed)
	default:
		p.refuse(w, r, "route.unknown", "no such route", http.StatusNotFound)
	}
}

// statusGrounds are the grounds of a refusal answered with an HTTP
// status (vault.AccessRefused.Grounds).
func statusGrounds(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return vault.GroundsCredentials
	case http.StatusForbidden:
		return vault.GroundsPermission
	case http.StatusNotFound:
		return vault.GroundsUnknown
	case http.StatusConflict:
		return vault.GroundsState
	case http.StatusTooManyRequests:
		return vault.GroundsLimit
	}
	return vault.GroundsInput
}

// refuse answers a refused request and records it (aggregated); a form
// comes back with what was typed (typed, where it could be read).
func (p *Public) refuse(w http.ResponseWriter, r *http.Request, action, reason string, code int, typed ...publicForm) {
	target := shortTarget(r.Method + " " + r.URL.EscapedPath())
	// Recorded without the source address: reporters are anonymous to
	// the vault (docs/hotline.md), and a refusal written beside their
	// reports would tie an address to them for good. The address is
	// counted in memory only (the limiters); refusals of all sources
	// share their recording windows, so a flood still costs the log a
	// bounded number of events.
	if err := p.refusals.note(r.Context(), nil, "", "public "+action, target, reason, statusGrounds(code)); err != nil {
		p.log.Error("could not record a refused public request", "err", err)
		code, reason = http.StatusServiceUnavailable, "the hotline cannot take reports just now; try again later"
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "60")
	}
	if code == http.StatusNotFound && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
		// A person who typed a wrong address: the form, and why.
		p.form(w, code, "There is no such page here. This is the hotline's report form.", "", publicForm{})
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" && r.Method == http.MethodPost {
		// A person at a browser gets the form again, in words.
		msg := "The report could not be taken: " + reason + "."
		if code == http.StatusTooManyRequests {
			msg = "Too many reports have arrived in a short time. Please try again in a few minutes."
		}
		var back publicForm
		if len(typed) > 0 {
			back = typed[0]
		}
		p.form(w, code, msg, "", back)
		return
	}
	writeJSON(w, code, ErrorResponse{Error: reason})
}

// typedForm is what a person typed into the report form r sends, read
// within the body's limits of size and time (nothing if r is not the
// form or cannot be read), to give it back with a refusal.
func (p *Public) typedForm(w http.ResponseWriter, r *http.Request) publicForm {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" || r.Method != http.MethodPost {
		return publicForm{}
	}
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(p.opts.BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.opts.MaxBody))
	if err != nil {
		return publicForm{}
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return publicForm{}
	}
	return typedOf(vals)
}

// typedOf is what the form's fields hold, as typed.
func typedOf(vals url.Values) publicForm {
	return publicForm{URLs: vals.Get("urls"), Description: vals.Get("description"), Contact: vals.Get("contact"),
		Anonymous: vals.Get("anonymous") != "", Sent: true}
}

// submit records one report.
func (p *Public) submit(w http.ResponseWriter, r *http.Request) {
	// The whole body must arrive within BodyTimeout: a client trickling
	// it holds nothing for long.
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(p.opts.BodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.opts.MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			p.refuse(w, r, "public.report", fmt.Sprintf("report over %d bytes", p.opts.MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		writeJSON(w, http.StatusBadRequest, ErrorResponse{Error: "the report could not be read"})
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var rep PublicReport
	var typed publicForm // what the reporter typed, shown again with an error
	form := mt == "application/x-www-form-urlencoded"
	switch {
	case mt == "application/json":
		if err := decodeStrict(body, &rep); err != nil {
			writeJSON(w, http.StatusBadRequest, ErrorResponse{Error: sanitize(err.Error())})
			return
		}
	case form:
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			p.form(w, http.StatusBadRequest, "The form could not be read.", "", publicForm{})
			return
		}
		typed = typedOf(vals)
		for _, line := range strings.Split(vals.Get("urls"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				u := vault.TypedURL(line)
				if err := vault.CheckReportedURL(u); err != nil {
					p.form(w, http.StatusBadRequest, publicURLError(line, u), "", typed)
					return
				}
				rep.URLs = append(rep.URLs, u)
			}
		}
		rep.Description = strings.ReplaceAll(vals.Get("description"), "\r\n", "\n")
		rep.Anonymous = vals.Get("anonymous") != ""
		rep.Contact = strings.TrimSpace(vals.Get("contact"))
		// The two mistakes people make at the form, said to them (the
		// vault's own words are for the hotline's staff).
		switch {
		case len(rep.URLs) == 0:
			p.form(w, http.StatusBadRequest, "Please give at least one web address where you saw the material.", "", typed)
			return
		case rep.Anonymous && rep.Contact != "":
			p.form(w, http.StatusBadRequest, `You ticked "Report anonymously" and gave a contact: untick it to leave your contact, so that the hotline can reach you, or clear the contact to stay anonymous.`, "", typed)
			return
		}
	default:
		writeJSON(w, http.StatusUnsupportedMediaType, ErrorResponse{Error: "send the report as application/json or as the form does"})
		return
	}
	req := vault.ReportRequest{URLs: rep.URLs, Description: rep.Description, Anonymous: rep.Anonymous, Contact: rep.Contact}
	// A report that would be refused anyway costs no token.
	if err := vault.CheckPublicReport(req); err != nil {
		p.answerError(w, form, err, typed)
		return
	}
	if _, ok := p.reports.allow(publicSource(r), time.Now()); !ok {
		p.refuse(w, r, "public.report", "too many reports from one address", http.StatusTooManyRequests, typed)
		return
	}
	if _, ok := p.total.allow("", time.Now()); !ok {
		p.refuse(w, r, "public.report", "too many reports from everyone at once", http.StatusTooManyRequests, typed)
		return
	}
	// The report is recorded even if the reporter goes away meanwhile.
	ctx := context.WithoutCancel(r.Context())
	id, err := p.v.ReceivePublicReport(ctx, req)
	if err != nil {
		p.answerError(w, form, err, typed)
		return
	}
	if form {
		p.form(w, http.StatusCreated, "", id, publicForm{})
		return
	}
	writeJSON(w, http.StatusCreated, ReportCreated{Report: id})
}

var publicPage = template.Must(template.New("form").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Report illegal content to {{.Hotline}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}
label{display:block;margin-top:1em;font-weight:bold}textarea,input[type=text]{width:100%;box-sizing:border-box}
.error{color:#a00}.receipt{border:2px solid #060;padding:1em}</style></head><body>
<h1>Report illegal content to {{.Hotline}}</h1>
{{if .Receipt}}<div class="receipt"><p>Thank you. Your report was received.</p>
<p>Receipt number: <strong>{{.Receipt}}</strong></p><p>Keep it: if you write to or call {{.Hotline}} about this report, give them this number and they will find it. Nothing more is shown here.</p></div>
{{else}}<p>Give the web address (URL) where you saw the material. Do not download, copy or send the material itself: only the address.
Analysts of the hotline will look at it; this form never shows anything back.</p>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="/report">
<label for="urls">Web address(es), one per line</label><textarea id="urls" name="urls" rows="3" required>{{.Typed.URLs}}</textarea>
<label for="description">What did you see? (optional)</label><textarea id="description" name="description" rows="6">{{.Typed.Description}}</textarea>
<label><input type="checkbox" name="anonymous" value="1"{{if or .Typed.Anonymous (not .Typed.Sent)}} checked{{end}}> Report anonymously</label>
<label for="contact">Contact (optional: untick "anonymously" to give one, so that the hotline can reach you)</label><input type="text" id="contact" name="contact" value="{{.Typed.Contact}}">
<p><button type="submit">Send report</button></p></form>{{end}}
</body></html>
`))

// publicURLError says, to a member of the public, why a line of the
// form's addresses (typed, read as u: vault.TypedURL) is not taken.
func publicURLError(typed, u string) string {
	if len(u) > vault.MaxURLBytes {
		return fmt.Sprintf("A web address is longer than %d characters: give the address of the page itself, without what follows a \"?\" if it is very long.", vault.MaxURLBytes)
	}
	shown := typed
	if r := []rune(shown); len(r) > 80 {
		shown = string(r[:80]) + "…"
	}
	return fmt.Sprintf("%q is not a web address the hotline can look at. Copy the address from your browser's address bar: it begins with http:// or https://, or with the site's name, such as example.com/page.", shown)
}

// publicForm is what a reporter typed into the form (Sent: the form was
// sent), shown again with an error so that nothing is typed twice.
type publicForm struct {
	URLs, Description, Contact string
	Anonymous, Sent            bool
}

// answerError answers a report that was not recorded: the form again with
// the reason and what was typed, or JSON.
func (p *Public) answerError(w http.ResponseWriter, form bool, err error, typed publicForm) {
	msg := sanitize(err.Error())
	code := status(err)
	if code >= 500 {
		p.log.Error("could not record a public report", "err", err)
		msg = "the hotline cannot take reports just now; try again later"
	}
	if form {
		p.form(w, code, strings.TrimPrefix(msg, vault.ErrBadInput.Error()+": "), "", typed)
		return
	}
	writeJSON(w, code, ErrorResponse{Error: msg})
}

// PublicServerLog is the net/http server log of the public listener:
// logger at level WARN, with the client's address taken out of the lines
// net/http writes ("TLS handshake error from ADDR: ...", "panic serving
// ADDR: ..."). Reporters are anonymous to the vault (docs/hotline.md): the
// address is counted in memory by the limiters, never written down.
func PublicServerLog(logger *slog.Logger) *log.Logger {
	return log.New(addressFilter{slog.NewLogLogger(logger.Handler(), slog.LevelWarn).Writer()}, "", 0)
}

// peerAddress is a client's address as net/http writes it after "from"
// or "serving": an IPv4 or bracketed IPv6 address and a port.
var peerAddress = regexp.MustCompile(`\b(from|serving) (\[[0-9A-Fa-f:.%a-z]+\]|[0-9]{1,3}(\.[0-9]{1,3}){3}):[0-9]+`)

// addressFilter writes each line with the client's address replaced.
type addressFilter struct{ w io.Writer }

func (f addressFilter) Write(p []byte) (int, error) {
	if _, err := f.w.Write(peerAddress.ReplaceAll(p, []byte("$1 a client (address not kept)"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// publicSource is what the public intake counts a client by: its IPv4
// address, or its IPv6 address's /64 (one subscriber's network, which
// holds 2^64 addresses to rotate through).
func publicSource(r *http.Request) string {
	ip := net.ParseIP(clientIP(r))
	if ip == nil || ip.To4() != nil {
		return clientIP(r)
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

// form answers the report form with status code, and an error or a
// receipt.
func (p *Public) form(w http.ResponseWriter, code int, errMsg, receipt string, typed publicForm) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := publicPage.Execute(w, struct {
		Hotline, Error, Receipt string
		Typed                   publicForm
	}{p.opts.Hotline, errMsg, receipt, typed}); err != nil {
		p.log.Error("could not write the report form", "err", err)
	}
}
