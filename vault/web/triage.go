package web

import (
	"net/http"
	"strings"

	"github.com/custos-vault/custos/vault"
)

func init() {
	register("GET "+Prefix+"triage", (*Handler).triage)
	register("GET "+Prefix+"reports/{report}", (*Handler).reportPage)
	register("POST "+Prefix+"reports/{report}/{action}", (*Handler).reportAction)
	register("POST "+Prefix+"reports", (*Handler).recordReport)
}

// triageLimit bounds the unclassified items listed per case.
const triageLimit = 20

type triageCase struct {
	Case  vault.CaseSummary
	Items *vault.ItemPage
}

type triageData struct {
	Reports     []vault.ReportView
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
		d.Reports = reps
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
}

func (h *Handler) reportPage(w http.ResponseWriter, r *http.Request, s *session) error {
	rep, err := h.v.ReportDetail(r.Context(), s.who, r.PathValue("report"))
	if err != nil {
		return err
	}
	d := reportData{Report: rep, Analyst: s.who.Role == vault.RoleAnalyst, CloseReasons: vault.ReportCloseReasons, Vias: vault.NoticeVias}
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
	var err error
	switch action := r.PathValue("action"); action {
	case "assess":
		err = h.v.AssessReport(r.Context(), s.who, id, get("case"), get("note"))
	case "notice":
		err = h.v.SendNotice(r.Context(), s.who, id, vault.NoticeSent{URL: get("url"), To: get("to"), Via: get("via"),
			Reference: get("reference"), Country: get("country")})
	case "acknowledged", "removed":
		err = h.v.NoticeProgressed(r.Context(), s.who, id, get("url"), action == "removed", get("note"), "")
	case "close":
		err = h.v.CloseReport(r.Context(), s.who, id, get("reason"), get("note"))
	case "reopen":
		err = h.v.ReopenReport(r.Context(), s.who, id, get("reason"))
	default:
		return vault.ErrNotFound
	}
	if err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"reports/"+id, "report-"+r.PathValue("action"))
	return nil
}

// recordReport records a report received by email, phone or from a
// partner hotline, as `custos report new`: one URL a line.
func (h *Handler) recordReport(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	f := r.PostForm
	var urls []string
	for _, u := range strings.Split(f.Get("urls"), "\n") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	id, err := h.v.RecordReport(r.Context(), s.who, vault.ReportRequest{Channel: f.Get("channel"), URLs: urls,
		Description: strings.TrimSpace(f.Get("description")), Reference: strings.TrimSpace(f.Get("reference")), Anonymous: f.Get("anonymous") == "yes",
		Contact: strings.TrimSpace(f.Get("contact"))})
	if err != nil {
		return err
	}
	h.redirectDone(w, r, Prefix+"reports/"+id, "report-recorded")
	return nil
}
