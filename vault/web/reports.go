package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/vault"
)

func init() {
	register("GET "+Prefix+"reports", (*Handler).reportList)
}

// reportsData is the list of reports: every report a reader may read,
// closed ones included, newest first, filtered by status, by a URL it
// names (was it reported before?) and by its receipt number.
type reportsData struct {
	Reports  []vault.ReportView
	Status   string
	URL      string
	Number   string
	Statuses []string
	Page     int
	Pages    int
	From, To int
	Total    int
	PrevURL  string
	NextURL  string
}

// reportStatuses are the list's status filters ("" is every report).
var reportStatuses = []string{"", "open", vault.StatusReceived, vault.StatusAssessing, vault.StatusActioned, vault.StatusClosed}

// reportList answers GET /app/reports?status=&url=&number=&page=, 50 a
// page (analysts, custodians, auditors: the vault refuses anyone else).
func (h *Handler) reportList(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := reportsData{Status: q.Get("status"), URL: strings.TrimSpace(q.Get("url")), Number: strings.TrimSpace(q.Get("number")), Statuses: reportStatuses}
	var urls []string
	if d.URL != "" {
		urls = append(urls, d.URL)
	}
	all, err := h.v.Reports(r.Context(), s.who, d.Status, urls...)
	if err != nil {
		return err
	}
	// Newest first; a receipt number matches by its start, as people
	// read it out.
	var list []vault.ReportView
	for i := len(all) - 1; i >= 0; i-- {
		if d.Number == "" || strings.HasPrefix(all[i].Report, strings.ToLower(d.Number)) {
			list = append(list, all[i])
		}
	}
	d.Total = len(list)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Pages = max(1, (d.Total+PageSize-1)/PageSize)
	d.Page = min(max(1, d.Page), d.Pages)
	from := (d.Page - 1) * PageSize
	d.Reports = list[from:min(from+PageSize, d.Total)]
	d.From, d.To = from+1, from+len(d.Reports)
	link := func(page int) string {
		v := url.Values{"page": {strconv.Itoa(page)}}
		for k, val := range map[string]string{"status": d.Status, "url": d.URL, "number": d.Number} {
			if val != "" {
				v.Set(k, val)
			}
		}
		return Prefix + "reports?" + v.Encode()
	}
	if d.Page > 1 {
		d.PrevURL = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.NextURL = link(d.Page + 1)
	}
	return h.render(w, r, s, http.StatusOK, "reports", s.lang.text("reports.title"), d)
}

// reportedBefore lists the other reports that name one of rep's URLs (as
// the list's URL filter matches them), newest first: was it reported
// before, and what came of it?
func (h *Handler) reportedBefore(r *http.Request, s *session, rep vault.ReportView) []vault.ReportView {
	seen := map[string]bool{rep.Report: true}
	var out []vault.ReportView
	for _, u := range rep.URLs {
		others, err := h.v.Reports(r.Context(), s.who, "", u)
		if err != nil {
			return nil
		}
		for i := len(others) - 1; i >= 0; i-- {
			if o := others[i]; !seen[o.Report] {
				seen[o.Report] = true
				out = append(out, o)
			}
		}
	}
	return out
}
