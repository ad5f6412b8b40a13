package web

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
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
	Reports []vault.ReportView
	Status  string
	URL     string
	Number  string
	// Case keeps the reports assessed into one case (from its page).
	Case     string
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

// reportList answers GET /app/reports?status=&url=&number=&case=&page=,
// 50 a page (analysts, custodians, auditors: the vault refuses anyone
// else, and a case's reports to anyone but its analysts, custodians and
// auditors).
func (h *Handler) reportList(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	d := reportsData{Status: q.Get("status"), URL: strings.TrimSpace(q.Get("url")), Number: strings.TrimSpace(q.Get("number")), Case: strings.TrimSpace(q.Get("case")), Statuses: reportStatuses}
	var urls []string
	if d.URL != "" {
		urls = append(urls, d.URL)
	}
	all, err := h.v.ListReports(r.Context(), s.who, vault.ReportFilter{Status: d.Status, URLs: urls, Case: d.Case})
	if err != nil {
		return err
	}
	// Newest received first (a report entered later may have been
	// received earlier); a receipt number matches by its start, as
	// people read it out.
	var list []vault.ReportView
	for _, rv := range all {
		if d.Number == "" || strings.HasPrefix(rv.Report, strings.ToLower(d.Number)) {
			list = append(list, rv)
		}
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].ReceivedAt.After(list[j].ReceivedAt) })
	d.Total = len(list)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Pages = max(1, (d.Total+PageSize-1)/PageSize)
	d.Page = min(max(1, d.Page), d.Pages)
	from := (d.Page - 1) * PageSize
	d.Reports = list[from:min(from+PageSize, d.Total)]
	d.From, d.To = from+1, from+len(d.Reports)
	link := func(page int) string {
		v := url.Values{"page": {strconv.Itoa(page)}}
		for k, val := range map[string]string{"status": d.Status, "url": d.URL, "number": d.Number, "case": d.Case} {
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

// otherReport is another report naming one of a report's URLs: whether
// it was received before it, and, for each URL both name, what was done
// about it there (Notice nil: no notice it shows).
type otherReport struct {
	vault.ReportView
	Before bool
	URLs   []otherURL
}

type otherURL struct {
	URL    string
	Notice *vault.NoticeView
}

// reportedBefore lists the other reports that name one of rep's URLs (as
// the list's URL filter matches them), newest received first, each with
// the URLs they share and what was done about each there: was it
// reported before, and noticed or taken down already?
func (h *Handler) reportedBefore(r *http.Request, s *session, rep vault.ReportView) []otherReport {
	byID := map[string]*otherReport{}
	for _, u := range rep.URLs {
		others, err := h.v.Reports(r.Context(), s.who, "", u)
		if err != nil {
			return nil
		}
		for _, o := range others {
			if o.Report == rep.Report {
				continue
			}
			x := byID[o.Report]
			if x == nil {
				x = &otherReport{ReportView: o, Before: o.ReceivedAt.Before(rep.ReceivedAt)}
				byID[o.Report] = x
			}
			// The address as the other report spells it.
			shared := otherURL{URL: u}
			if i := slices.IndexFunc(o.URLs, func(x string) bool { return vault.SameURL(x, u) }); i >= 0 {
				shared.URL = o.URLs[i]
			}
			for i, n := range o.Notices {
				if vault.SameURL(n.URL, u) {
					shared.Notice = &o.Notices[i]
				}
			}
			x.URLs = append(x.URLs, shared)
		}
	}
	out := make([]otherReport, 0, len(byID))
	for _, x := range byID {
		out = append(out, *x)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ReceivedAt.Equal(out[j].ReceivedAt) {
			return out[i].ReceivedAt.After(out[j].ReceivedAt)
		}
		return out[i].Report < out[j].Report
	})
	return out
}
