package web

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/vault"
)

func init() {
	register("GET "+Prefix+"triage", (*Handler).triage)
	register("GET "+Prefix+"reports/{report}", (*Handler).reportPage)
	register("POST "+Prefix+"reports/{report}/{action}", (*Handler).reportAction)
	registerAsks("POST "+Prefix+"reports", "report.record", (*Handler).recordReport)
	register("GET "+Prefix+"stats", (*Handler).stats)
	register("GET "+Prefix+"exposure", (*Handler).staffExposure)
}

// triageLimit bounds the unclassified items listed per case, and
// triageReports the open reports listed (the oldest first; the reports
// list pages through all of them).
const (
	triageLimit   = 20
	triageReports = 50
)

type triageCase struct {
	Case  vault.CaseSummary
	Items *vault.ItemPage
}

type triageData struct {
	Reports []vault.ReportView
	// OpenReports counts the open reports, of which Reports are the
	// first triageReports.
	OpenReports int
	ReadReports bool
	// Analyst: records reports received by email, phone or a partner.
	Analyst  bool
	Channels []string
	Cases    []triageCase
}

// triage is an analyst's or investigator's queue: open reports (for
// those who read reports) and, per case of theirs, the items still
// waiting for a classification.
func (h *Handler) triage(w http.ResponseWriter, r *http.Request, s *session) error {
	d := triageData{ReadReports: s.who.Role == vault.RoleAnalyst || s.who.Role == vault.RoleCustodian || s.who.Role == vault.RoleAuditor,
		Analyst: s.who.Role == vault.RoleAnalyst, Channels: vault.ReportChannels}
	if d.ReadReports {
		reps, err := h.v.Reports(r.Context(), s.who, "open")
		if err != nil {
			return err
		}
		d.Reports, d.OpenReports = reps[:min(len(reps), triageReports)], len(reps)
	}
	if s.who.Role == vault.RoleAnalyst || s.who.Role == vault.RoleInvestigator {
		for _, c := range h.v.Cases(s.who) {
			if c.Destroyed {
				continue
			}
			p, err := h.v.ItemsPage(r.Context(), s.who, c.Case, vault.ItemFilter{Unclassified: true}, 0, triageLimit)
			if err != nil {
				return err
			}
			if p.Total > 0 {
				d.Cases = append(d.Cases, triageCase{Case: c, Items: p})
			}
		}
	}
	return h.render(w, r, s, http.StatusOK, "triage", s.lang.text("triage.title"), d)
}

type reportData struct {
	Report       vault.ReportView
	Analyst      bool
	Cases        []vault.CaseSummary
	CloseReasons []string
	Vias         []string
	Formats      []string // of a forwarding
	// Before are the other reports naming one of its URLs.
	Before []otherReport
}

// reportPage shows a report without the reporter's contact: the page is
// read after every step of the report's work, and each opening of a
// contact is recorded. An analyst opens it with the page's button
// (reportContact).
func (h *Handler) reportPage(w http.ResponseWriter, r *http.Request, s *session) error {
	rep, err := h.v.ReportAfter(r.Context(), s.who, r.PathValue("report"))
	if err != nil {
		return err
	}
	return h.renderReport(w, r, s, rep)
}

// reportContact is the report's page with the reporter's contact, for an
// analyst who asked for it: its opening is recorded first
// (report.contact.opened, vault.ReportDetail). It answers the POST with
// the page itself, so that the contact is never in an address or a
// history entry a reload would repeat without asking.
func (h *Handler) reportContact(w http.ResponseWriter, r *http.Request, s *session) error {
	rep, err := h.v.ReportDetail(r.Context(), s.who, r.PathValue("report"))
	if err != nil {
		return err
	}
	return h.renderReport(w, r, s, rep)
}

func (h *Handler) renderReport(w http.ResponseWriter, r *http.Request, s *session, rep vault.ReportView) error {
	d := reportData{Report: rep, Analyst: s.who.Role == vault.RoleAnalyst, CloseReasons: vault.ReportCloseReasons, Vias: vault.NoticeVias,
		Formats: vault.ForwardFormats, Before: h.reportedBefore(r, s, rep)}
	if d.Analyst {
		d.Cases = h.v.Cases(s.who)
	}
	return h.render(w, r, s, http.StatusOK, "report", s.lang.text("report.title", rep.Report), d)
}

// reportAction records one step of a report's work: assess, notice,
// acknowledged, removed, close, reopen; each is the vault's own method.
func (h *Handler) reportAction(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	id, f := r.PathValue("report"), r.PostForm
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	// A stated time is read only for the steps that take one, and only
	// once who may work on the report is decided (and a refusal
	// recorded), as the vault's own methods decide it first.
	var at string
	var err error
	switch action := r.PathValue("action"); action {
	case "notice", "acknowledged", "removed":
		vaultAction := map[string]string{"notice": "report.notice", "acknowledged": "report.acknowledged", "removed": "report.removed"}[action]
		if err := h.v.MayWorkOnReport(r.Context(), s.who, vaultAction, id); err != nil {
			return err
		}
		if at, err = statedAt(f); err != nil {
			return err
		}
	}
	switch action := r.PathValue("action"); action {
	case "contact":
		// The vault decides who sees it (analysts); the others are
		// shown the page as it is.
		return h.reportContact(w, r, s)
	case "assess":
		err = h.v.AssessReport(r.Context(), s.who, id, get("case"), get("note"))
	case "notice":
		err = h.v.SendNotice(r.Context(), s.who, id, vault.NoticeSent{URL: get("url"), To: get("to"), Via: get("via"),
			Reference: get("reference"), Country: get("country"), At: at})
	case "acknowledged", "removed":
		err = h.v.NoticeProgressed(r.Context(), s.who, id, get("url"), action == "removed", get("note"), at)
	case "close":
		err = h.v.CloseReport(r.Context(), s.who, id, get("reason"), get("note"))
	case "reopen":
		err = h.v.ReopenReport(r.Context(), s.who, id, get("reason"))
	case "forward":
		// The export is the answer: recorded (report.forwarded), then
		// sent as a file to save and pass on.
		list, err := h.v.ForwardReport(r.Context(), s.who, id, get("to"), get("kind"), get("format"))
		if err != nil {
			return err
		}
		ext, ctype := ".csv", "text/csv; charset=utf-8"
		if list.Format == "vics" {
			ext, ctype = ".json", "application/json"
		}
		hd := w.Header()
		hd.Set("Content-Type", ctype)
		hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": id + ext}))
		hd.Set("Cache-Control", "no-store")
		w.Write(list.Body)
		return nil
	default:
		return vault.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"reports/"+id, "report-"+r.PathValue("action"))
	return nil
}

type statsData struct {
	// From and To are the period's first and last days (UTC,
	// YYYY-MM-DD), as the form shows them.
	From, To string
	Stats    *vault.Stats
}

// stats shows the figures of a period (custos stats): from the first day
// to the end of the last, in UTC; by default the year so far.
func (h *Handler) stats(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.v.MayReadStatistics(r.Context(), s.who); err != nil {
		return err
	}
	now := h.opts.Now().UTC()
	d := statsData{From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	if d.From == "" {
		d.From = time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	if d.To == "" {
		d.To = now.Format(time.DateOnly)
	}
	from, err := time.Parse(time.DateOnly, d.From)
	if err != nil {
		return fmt.Errorf("%w: the first day is not a date (YYYY-MM-DD)", vault.ErrBadInput)
	}
	to, err := time.Parse(time.DateOnly, d.To)
	if err != nil {
		return fmt.Errorf("%w: the last day is not a date (YYYY-MM-DD)", vault.ErrBadInput)
	}
	st, err := h.v.Statistics(r.Context(), s.who, from, to.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	d.Stats = st
	return h.render(w, r, s, http.StatusOK, "stats", s.lang.text("stats.title"), d)
}

// staffExposure shows a custodian one day's exposure of every analyst
// and investigator (?date=, UTC; default today), most items first.
func (h *Handler) staffExposure(w http.ResponseWriter, r *http.Request, s *session) error {
	e, err := h.v.ExposureOfStaff(r.Context(), s.who, r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "exposure", s.lang.text("exposure.title"), e)
}

// statedAt is a form's "when, if earlier": a datetime-local value
// (at_local, the person's own clock) and the offset of its time zone from
// UTC in minutes east (tz, set by app.js from the browser for that date;
// or, with scripts off, tz_manual, chosen beside the time),
// as RFC 3339 for the vault to check (at most 30 days ago, not in the
// future); "" when left empty. Without the offset the time cannot be
// placed, and is refused rather than guessed.
func statedAt(f url.Values) (string, error) {
	local := strings.TrimSpace(f.Get("at_local"))
	if local == "" {
		return "", nil
	}
	t, err := time.Parse("2006-01-02T15:04", local)
	if err != nil {
		if t, err = time.Parse("2006-01-02T15:04:05", local); err != nil {
			return "", fmt.Errorf("%w: the time given is not a date and time (YYYY-MM-DDTHH:MM)", vault.ErrBadInput)
		}
	}
	given := strings.TrimSpace(f.Get("tz"))
	if given == "" {
		// Scripts off: the zone the person chose beside the time.
		given = strings.TrimSpace(f.Get("tz_manual"))
	}
	tz, err := strconv.Atoi(given)
	if err != nil || tz < -14*60 || tz > 14*60 {
		return "", fmt.Errorf("%w: your browser did not give its time zone, so the time given cannot be placed in time; choose your time zone beside the time (offered when the browser's scripts are off), leave the time empty, or give it with the command line's --at", vault.ErrBadInput)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", tz*60)).Format(time.RFC3339), nil
}

// recordReport records a report received by email, phone or from a
// partner hotline, as `custos report new`: one URL a line.
func (h *Handler) recordReport(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	// Who may record a report first (vault/askers.go), then the
	// stated time.
	if err := h.v.MayAsk(r.Context(), s.who, "report.record", ""); err != nil {
		return err
	}
	f := r.PostForm
	at, err := statedAt(f)
	if err != nil {
		return err
	}
	var urls []string
	for _, u := range strings.Split(f.Get("urls"), "\n") {
		if u = strings.TrimSpace(u); u != "" {
			// As a browser shows it, as custos report new and the
			// public form take it (vault.TypedURL).
			urls = append(urls, vault.TypedURL(u))
		}
	}
	// A browser sends a textarea's line ends as CR LF (HTML's form
	// submission); the vault's text ends its lines with LF alone.
	id, err := h.v.RecordReport(r.Context(), s.who, vault.ReportRequest{Channel: f.Get("channel"), URLs: urls,
		Description: strings.TrimSpace(strings.ReplaceAll(f.Get("description"), "\r\n", "\n")), Reference: strings.TrimSpace(f.Get("reference")), Anonymous: f.Get("anonymous") == "yes",
		Contact: strings.TrimSpace(f.Get("contact")), At: at})
	if err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"reports/"+id, "report-recorded")
	return nil
}
