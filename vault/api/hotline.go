package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/custos-vault/custos/vault"
)

// Hotline work (docs/hotline.md): reports, notice and takedown,
// forwarding, classification, exposure and statistics.

// ReportRequest is the body of POST /v1/reports: a report an analyst
// received by email, phone or from a partner hotline.
type ReportRequest struct {
	Channel     string   `json:"channel"`
	URLs        []string `json:"urls"`
	Description string   `json:"description,omitempty"`
	Anonymous   bool     `json:"anonymous,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Reference   string   `json:"reference,omitempty"`
	At          string   `json:"at,omitempty"`
}

// ReportCreated answers POST /v1/reports and the public intake: the
// report's id (the reporter's receipt number).
type ReportCreated struct {
	Report string `json:"report"`
}

// ReportsResponse answers GET /v1/reports.
type ReportsResponse struct {
	Reports []vault.ReportView `json:"reports"`
}

// AssessRequest is the body of POST /v1/reports/{report}/assess.
type AssessRequest struct {
	Case string `json:"case"`
	Note string `json:"note,omitempty"`
}

// CloseReportRequest is the body of POST /v1/reports/{report}/close.
type CloseReportRequest struct {
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// ReopenReportRequest is the body of POST /v1/reports/{report}/reopen.
type ReopenReportRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) reopenReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req ReopenReportRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.v.ReopenReport(r.Context(), who, r.PathValue("report"), req.Reason); err != nil {
		return err
	}
	return h.reportAfter(w, r, who)
}

// NoticeRequest is the body of POST /v1/reports/{report}/notices.
type NoticeRequest struct {
	URL       string `json:"url"`
	To        string `json:"to"`
	Via       string `json:"via"`
	Reference string `json:"reference,omitempty"`
	Country   string `json:"country,omitempty"`
	// At is when it was sent (RFC 3339), if before now.
	At string `json:"at,omitempty"`
}

// NoticeProgressRequest is the body of POST
// /v1/reports/{report}/acknowledged and /v1/reports/{report}/removed.
type NoticeProgressRequest struct {
	URL  string `json:"url"`
	Note string `json:"note,omitempty"`
	// At is when it happened (RFC 3339), if before now.
	At string `json:"at,omitempty"`
}

// ClassifyRequest is the body of POST /v1/items/{item}/classification.
type ClassifyRequest struct {
	Category string `json:"category"`
	AgeGroup string `json:"age_group,omitempty"`
	Sex      string `json:"sex,omitempty"`
	Series   string `json:"series,omitempty"`
	Note     string `json:"note,omitempty"`
}

// ClassifyResponse answers a vote: the category voted, how many current
// votes agree with it, how many settle a category, the settled category
// (if any) and the whole classification.
type ClassifyResponse struct {
	Item           string               `json:"item"`
	Category       string               `json:"category"`
	Votes          int                  `json:"votes"`
	Needed         int                  `json:"needed"`
	Settled        string               `json:"settled,omitempty"`
	Disputed       bool                 `json:"disputed"`
	Classification vault.Classification `json:"classification"`
	// Known says why the item is known material after the vote (hidden
	// from review), "" when it is not.
	Known string `json:"known,omitempty"`
	// Unchanged: the vote asked for is the voter's current vote on the
	// item, every field the same; nothing was recorded.
	Unchanged bool `json:"unchanged,omitempty"`
}

// ClassificationPolicyRequest is the body of POST
// /v1/cases/{case}/classification-policy.
type ClassificationPolicyRequest struct {
	Votes int `json:"votes"`
	// Reason is why (optional, at most 1,024 bytes): recorded with a
	// raising, or with the request a lowering opens.
	Reason string `json:"reason"`
}

// ClassificationPolicyResponse answers a raising, or a policy already in
// force (Recorded false); a lowering is answered with the request it
// opened (RequestResponse, 202).
type ClassificationPolicyResponse struct {
	Case  string `json:"case"`
	Votes int    `json:"votes"`
	// Unsettled and Settled count the case's items whose category the
	// change unsettled, or settled (vault.PolicyEffect).
	Unsettled int  `json:"unsettled"`
	Settled   int  `json:"settled"`
	Recorded  bool `json:"recorded"`
}

func (h *Handler) recordReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req ReportRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	id, err := h.v.RecordReport(r.Context(), who, vault.ReportRequest{Channel: req.Channel, URLs: req.URLs, Description: req.Description,
		Anonymous: req.Anonymous, Contact: req.Contact, Reference: req.Reference, At: req.At})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ReportCreated{Report: id})
	return nil
}

func (h *Handler) listReports(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	list, err := h.v.ListReports(r.Context(), who, vault.ReportFilter{Status: q.Get("status"), URLs: []string{q.Get("url")}, Case: q.Get("case")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ReportsResponse{Reports: list})
	return nil
}

// showReport answers one report; the reporter's contact only when asked
// for (?contact=open: analysts, its opening recorded first), as the web
// application's button asks for it: reading a report is not reading
// the personal data of the person who made it.
func (h *Handler) showReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	show := h.v.ReportAfter
	switch r.URL.Query().Get("contact") {
	case "":
	case "open":
		show = h.v.ReportDetail
	default:
		return fmt.Errorf("%w: contact: the only value is open (the reporter's contact, for analysts; its opening is recorded)", vault.ErrBadInput)
	}
	rep, err := show(r.Context(), who, r.PathValue("report"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// reportAfter answers a decision about a report with the report after
// it, without the reporter's contact (vault.ReportAfter): a decision does
// not ask for it, and its opening would be recorded.
func (h *Handler) reportAfter(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	rep, err := h.v.ReportAfter(r.Context(), who, r.PathValue("report"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (h *Handler) assessReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req AssessRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.v.AssessReport(r.Context(), who, r.PathValue("report"), req.Case, req.Note); err != nil {
		return err
	}
	return h.reportAfter(w, r, who)
}

func (h *Handler) closeReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req CloseReportRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.v.CloseReport(r.Context(), who, r.PathValue("report"), req.Reason, req.Note); err != nil {
		return err
	}
	return h.reportAfter(w, r, who)
}

func (h *Handler) sendNotice(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req NoticeRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.v.SendNotice(r.Context(), who, r.PathValue("report"), vault.NoticeSent{URL: req.URL, To: req.To, Via: req.Via,
		Reference: req.Reference, Country: req.Country, At: req.At}); err != nil {
		return err
	}
	return h.reportAfter(w, r, who)
}

func noticeProgress(removed bool) handlerFunc {
	return func(h *Handler, w http.ResponseWriter, r *http.Request, who vault.Principal) error {
		var req NoticeProgressRequest
		if err := readJSON(w, r, &req); err != nil {
			return err
		}
		if err := h.v.NoticeProgressed(r.Context(), who, r.PathValue("report"), req.URL, removed, req.Note, req.At); err != nil {
			return err
		}
		return h.reportAfter(w, r, who)
	}
}

// forwardReport answers GET /v1/reports/{report}/forward?to=&kind=&format=:
// the export, recorded (report.forwarded) before it is sent; its SHA-256
// in Custos-Sha256 and the recording event in Custos-Access-Event.
func (h *Handler) forwardReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	list, err := h.v.ForwardReport(r.Context(), who, r.PathValue("report"), q.Get("to"), q.Get("kind"), q.Get("format"))
	if err != nil {
		return err
	}
	writeHashList(w, list)
	return nil
}

func (h *Handler) classify(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req ClassifyRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	cl, err := h.v.Classify(r.Context(), who, r.PathValue("item"), vault.ClassifyRequest{Category: req.Category, AgeGroup: req.AgeGroup,
		Sex: req.Sex, Series: req.Series, Note: req.Note})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ClassifyResponse{Item: r.PathValue("item"), Category: req.Category, Votes: cl.Tally[req.Category],
		Needed: cl.Needed, Settled: cl.Category, Disputed: cl.Disputed, Classification: cl, Known: cl.Known(), Unchanged: cl.Unchanged()})
	return nil
}

func (h *Handler) setClassificationPolicy(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req ClassificationPolicyRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	ch, err := h.v.SetClassificationPolicy(r.Context(), who, r.PathValue("case"), req.Votes, req.Reason)
	if err != nil {
		return err
	}
	if ch.Request != nil {
		writeJSON(w, http.StatusAccepted, requestResponse(ch.Request, false))
		return nil
	}
	writeJSON(w, http.StatusOK, ClassificationPolicyResponse{Case: r.PathValue("case"), Votes: req.Votes, Unsettled: ch.Effect.Unsettled, Settled: ch.Effect.Settled, Recorded: ch.Recorded})
	return nil
}

func (h *Handler) exposure(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	e, err := h.v.Exposure(r.Context(), who, r.URL.Query().Get("person"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (h *Handler) staffExposure(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	e, err := h.v.ExposureOfStaff(r.Context(), who, r.URL.Query().Get("date"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

// stats answers GET /v1/stats?from=DATE&to=DATE: dates (2006-01-02, UTC)
// or RFC 3339 times; from defaults to the start of the log, to to now
// (to is exclusive; a date means the start of that day, so to=2026-12-01
// ends with November).
func (h *Handler) stats(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	from, err := parseWhen("from", q.Get("from"), time.Unix(0, 0))
	if err != nil {
		return err
	}
	to, err := parseWhen("to", q.Get("to"), time.Now().Add(time.Second))
	if err != nil {
		return err
	}
	s, err := h.v.Statistics(r.Context(), who, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// parseWhen reads a statistics bound: a date (UTC midnight) or an RFC
// 3339 time, whose UTC year is 1 to 9999 (an offset can carry a time
// written in year 9999 into year 10000, which no answer could write).
func parseWhen(name, s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not a date (2026-11-30) or an RFC 3339 time", vault.ErrBadInput, name, shortTarget(s))
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("%w: %s %q is outside the years 1 to 9999 (UTC)", vault.ErrBadInput, name, shortTarget(s))
	}
	return t, nil
}

// HashSetsResponse answers GET /v1/hashsets.
type HashSetsResponse struct {
	HashSets []vault.HashSetView `json:"hashsets"`
}

// RemoveHashSetRequest is the body of POST /v1/hashsets/{name}/remove.
type RemoveHashSetRequest struct {
	Reason string `json:"reason"`
}

// RemoveHashSetResponse answers it.
type RemoveHashSetResponse struct {
	HashSet string `json:"hashset"`
	Removed bool   `json:"removed"`
}

// importHashSet answers POST /v1/hashsets?name=&format=&category=: the
// body is the hash-set file, read as it arrives.
func (h *Handler) importHashSet(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	res, err := h.v.ImportHashSet(r.Context(), who, vault.HashSetImport{Name: q.Get("name"), Format: q.Get("format"), Category: q.Get("category"), Body: r.Body})
	if err != nil {
		return err
	}
	// The import's answer, with the request another custodian approves.
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (h *Handler) listHashSets(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	list, err := h.v.HashSets(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, HashSetsResponse{HashSets: list})
	return nil
}

func (h *Handler) removeHashSet(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RemoveHashSetRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	info, err := h.v.RemoveHashSet(r.Context(), who, r.PathValue("name"), req.Reason)
	if err != nil {
		return err
	}
	if info != nil {
		writeJSON(w, http.StatusAccepted, requestResponse(info, false))
		return nil
	}
	writeJSON(w, http.StatusOK, RemoveHashSetResponse{HashSet: r.PathValue("name"), Removed: true})
	return nil
}

// SimilarResponse answers GET /v1/items/{item}/similar and
// /v1/cases/{case}/similar.
type SimilarResponse struct {
	Items []vault.SimilarItems `json:"items"`
}

// similar answers the near-duplicate searches (?max_distance=BITS).
func (h *Handler) similar(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	d := 0
	if s := r.URL.Query().Get("max_distance"); s != "" {
		n, err := decimalSize(s)
		if err != nil || n > 64 {
			return fmt.Errorf("%w: max_distance %q is not a number of bits from 0 to 64, in decimal (0, or none: the vault's threshold)", vault.ErrBadInput, shortTarget(s))
		}
		d = int(n)
	}
	items, err := h.v.Similar(r.Context(), who, r.PathValue("case"), r.PathValue("item"), d)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SimilarResponse{Items: items})
	return nil
}
