package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/inputfile"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/pdq"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// Hotline work (docs/hotline.md): reports, notice and takedown,
// forwarding, classification, exposure and statistics.

func runReportNew(args []string, stdout io.Writer) error {
	fs := newFlags("report new")
	var urls stringList
	fs.Var(&urls, "url", "a reported URL (repeat for several)")
	channel := fs.String("channel", "email", "how it reached the hotline: "+strings.Join(vault.ReportChannels, ", "))
	desc := fs.String("description", "", "what the reporter said")
	anonymous := fs.Bool("anonymous", false, "the reporter asked to stay anonymous (no contact is kept)")
	contact := fs.String("contact", "", "the reporter's contact, if they gave one")
	ref := fs.String("reference", "", "the report's reference elsewhere (a partner hotline's, ICCAM's)")
	at := fs.String("at", "", "when it reached the hotline, if earlier (2026-11-30T14:05:00+07:00; at most 30 days ago)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || len(urls) == 0 {
		return usageErr("report new needs --url URL (repeat for several) and takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	// Addresses as people copy them from a browser (no scheme, another
	// script), as the public form takes them (vault.TypedURL).
	for i, u := range urls {
		urls[i] = vault.TypedURL(u)
	}
	var out api.ReportCreated
	if err := c.call("POST", "/v1/reports", nil, api.ReportRequest{Channel: *channel, URLs: urls, Description: *desc, Anonymous: *anonymous,
		Contact: *contact, Reference: *ref, At: *at}, &out); err != nil {
		return err
	}
	text := "recorded report " + out.Report
	if !*asJSON {
		// Was it reported before? Said at once, as the web page says it.
		text += reportedBefore(c, out.Report, urls)
	}
	return printResult(stdout, *asJSON, out, text)
}

// reportedBefore lists, one line each, the other reports the caller may
// see that name one of urls (as report list --url finds them), or "";
// a list that cannot be read is left out, as the report is recorded.
func reportedBefore(c *client, report string, urls []string) string {
	return otherReports(c, report, urls, "reported before (custos report show REPORT; close this one --reason duplicate if it adds nothing):")
}

// otherReports is heading and a line for each other report the caller
// may see that names one of urls, or "" when there is none.
func otherReports(c *client, report string, urls []string, heading string) string {
	seen := map[string]bool{report: true}
	var lines []string
	for _, u := range urls {
		var out api.ReportsResponse
		if err := c.call("GET", "/v1/reports", url.Values{"url": {u}}, nil, &out); err != nil {
			return ""
		}
		for _, r := range out.Reports {
			if seen[r.Report] {
				continue
			}
			seen[r.Report] = true
			// The address as the other report spells it.
			named := u
			if i := slices.IndexFunc(r.URLs, func(x string) bool { return vault.SameURL(x, u) }); i >= 0 {
				named = r.URLs[i]
			}
			lines = append(lines, fmt.Sprintf("\n  %s  received %s, %s, names %s", r.Report, when(r.ReceivedAt), reportStatus(r), cut(named, 60)))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n" + heading + strings.Join(lines, "")
}

// reportStatus is a report's status, with the reason of a closed one.
func reportStatus(r vault.ReportView) string {
	if r.Status == vault.StatusClosed && r.ClosedReason != "" {
		return "closed (" + r.ClosedReason + ")"
	}
	return r.Status
}

func runReportList(args []string, stdout io.Writer) error {
	fs := newFlags("report list")
	status := fs.String("status", "", "only reports of this status: received, assessing, actioned, closed, or open (all but closed)")
	u := fs.String("url", "", "only reports naming this URL (scheme, www. and a final / set aside): was it reported before?")
	caseID := fs.String("case", "", "only the reports assessed into this case (its analysts, custodians and auditors)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("report list takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.ReportsResponse
	q := url.Values{}
	if *status != "" {
		q.Set("status", *status)
	}
	if *u != "" {
		q.Set("url", *u)
	}
	if *caseID != "" {
		q.Set("case", *caseID)
	}
	if err := c.call("GET", "/v1/reports", q, nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return printResult(stdout, true, out, "")
	}
	if len(out.Reports) == 0 {
		fmt.Fprintln(stdout, "no reports")
		return nil
	}
	var rows [][]string
	for _, r := range out.Reports {
		rows = append(rows, []string{r.Report, when(r.ReceivedAt), r.Channel, reportStatus(r), orDash(r.Case), fmt.Sprint(len(r.URLs)), cut(r.URLs[0], 60)})
	}
	_, err = fmt.Fprintln(stdout, table([]string{"REPORT", "RECEIVED", "CHANNEL", "STATUS", "CASE", "URLS", "FIRST URL"}, rows))
	return err
}

func runReportShow(args []string, stdout io.Writer) error {
	fs := newFlags("report show")
	contact := fs.Bool("contact", false, "show the reporter's contact (analysts only): its opening is recorded in the report's history, naming you")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("report show takes one REPORT")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var r vault.ReportView
	var q url.Values
	if *contact {
		q = url.Values{"contact": {"open"}}
	}
	if err := c.call("GET", "/v1/reports/"+url.PathEscape(pos[0]), q, nil, &r); err != nil {
		return err
	}
	if *asJSON {
		return printResult(stdout, true, r, "")
	}
	printReport(stdout, r, *contact)
	if others := otherReports(c, r.Report, r.URLs, "other reports naming its URLs:"); others != "" {
		fmt.Fprintln(stdout, strings.TrimPrefix(others, "\n"))
	}
	return nil
}

// printReport prints a report; askedContact: the reader asked for the
// reporter's contact (report show --contact).
func printReport(w io.Writer, r vault.ReportView, askedContact bool) {
	fmt.Fprintf(w, "report %s (%s)\n", r.Report, r.Status)
	fmt.Fprintf(w, "  received   %s by %s%s\n", when(r.ReceivedAt), r.Channel, prefixed(", recorded by ", r.ReceivedBy))
	if r.Anonymous {
		fmt.Fprintln(w, "  reporter   anonymous")
	} else if r.Contact != "" {
		fmt.Fprintf(w, "  contact    %s\n", safeText(r.Contact))
	} else if r.ContactWithheld && askedContact {
		fmt.Fprintln(w, "  contact    given, not shown to you: only the analysts who work on the report open it (of the case it is assessed into, once it is)")
	} else if r.ContactWithheld && r.CaseWithheld {
		fmt.Fprintln(w, "  contact    given: the analysts of the case it is assessed into see it")
	} else if r.ContactWithheld {
		fmt.Fprintln(w, "  contact    given: an analyst sees it with report show --contact, which records its opening")
	}
	if r.Reference != "" {
		fmt.Fprintf(w, "  reference  %s\n", safeText(r.Reference))
	}
	if r.Case != "" {
		fmt.Fprintf(w, "  case       %s (assessed by %s)\n", r.Case, r.AssessedBy)
	} else if r.CaseWithheld {
		fmt.Fprintln(w, "  case       one you are not assigned to: what was decided in it is for its analysts")
	}
	if r.ClosedAt != nil {
		fmt.Fprintf(w, "  closed     %s: %s\n", when(*r.ClosedAt), r.ClosedReason)
	}
	if r.Description != "" {
		fmt.Fprintf(w, "  description:\n    %s\n", strings.ReplaceAll(safeText(r.Description), "\n", "\n    "))
	}
	fmt.Fprintln(w, "  URLs:")
	for _, u := range r.URLs {
		fmt.Fprintf(w, "    %s\n", u)
		for _, n := range r.Notices {
			if n.URL != u {
				continue
			}
			if n.ResentAt != nil {
				// Noticed again: the latest sending is to n.To; removal
				// is timed from the first.
				fmt.Fprintf(w, "      first noticed at %s\n", when(n.SentAt))
				fmt.Fprintf(w, "      noticed again, to %s by %s at %s%s%s\n", safeText(n.To), n.Via, when(*n.ResentAt), prefixed(", ref ", safeText(n.Reference)), prefixed(", hosted in ", safeText(n.Country)))
			} else {
				fmt.Fprintf(w, "      notice to %s by %s at %s%s%s\n", safeText(n.To), n.Via, when(n.SentAt), prefixed(", ref ", safeText(n.Reference)), prefixed(", hosted in ", safeText(n.Country)))
			}
			if n.AcknowledgedAt != nil {
				fmt.Fprintf(w, "      acknowledged at %s%s\n", when(*n.AcknowledgedAt), quotedNote(n.AcknowledgedNote))
			}
			if n.RemovedAt != nil {
				fmt.Fprintf(w, "      removed at %s (%s after the first notice)%s\n", when(*n.RemovedAt), vault.ElapsedWords(vault.Elapsed(n.SentAt, *n.RemovedAt)), quotedNote(n.RemovedNote))
			}
		}
	}
	switch {
	case len(r.Captures) > 0:
		fmt.Fprintf(w, "  items (%d):\n", len(r.Captures))
		line := func(c vault.CaptureView, indent string) {
			state := captureState(c)
			if c.Known != "" {
				// Hidden from review, and why, as item list says it.
				state = "known material, " + state + " (" + c.Known + ")"
			}
			fmt.Fprintf(w, "%s%s  %s  %s\n", indent, c.ID, displayName(c.Name), state)
		}
		// Under the reported URL each was captured from (deposit
		// --source), where any was; the others after them.
		from := make([]int, len(r.Captures))
		grouped := false
		for i, c := range r.Captures {
			from[i] = slices.IndexFunc(r.URLs, func(u string) bool { return c.Source != "" && vault.SameURL(u, c.Source) })
			grouped = grouped || from[i] >= 0
		}
		if !grouped {
			for _, c := range r.Captures {
				line(c, "    ")
			}
			break
		}
		order := make([]int, 0, len(r.URLs)+1)
		for u := range r.URLs {
			order = append(order, u)
		}
		for _, u := range append(order, -1) {
			var these []vault.CaptureView
			for i, c := range r.Captures {
				if from[i] == u {
					these = append(these, c)
				}
			}
			if len(these) == 0 {
				continue
			}
			if u < 0 {
				fmt.Fprintf(w, "    from no reported URL (deposit --source names none of them):\n")
			} else {
				fmt.Fprintf(w, "    from %s:\n", safeText(r.URLs[u]))
			}
			for _, c := range these {
				line(c, "      ")
			}
		}
	case len(r.Items) > 0:
		fmt.Fprintf(w, "  items: %s\n", strings.Join(r.Items, ", "))
	}
	for _, f := range r.Forwards {
		fmt.Fprintf(w, "  forwarded to %s (%s, %s) at %s by %s\n", safeText(f.To), f.Kind, f.Format, when(f.At), f.By)
	}
	if len(r.History) > 0 {
		// Notes, reasons, closings and reopenings: what happened to the
		// report, as the custody log records it.
		fmt.Fprintln(w, "  history:")
		for _, h := range r.History {
			by := ""
			if h.By != "" {
				by = " by " + h.By
			}
			fmt.Fprintf(w, "    %s  %s%s%s\n", when(h.At), safeText(h.Action), by, prefixed(": ", safeText(h.Details)))
		}
	}
}

// postReport sends a decision about a report and prints the report after
// it.
// postReport posts a decision about report id and prints what was
// recorded (done, one line) and the report after it.
func postReport(id, path, done string, body any, asJSON bool, stdout io.Writer) error {
	c, err := newClient()
	if err != nil {
		return err
	}
	var r vault.ReportView
	if err := c.call("POST", "/v1/reports/"+url.PathEscape(id)+"/"+path, nil, body, &r); err != nil {
		return err
	}
	if asJSON {
		return printResult(stdout, true, r, "")
	}
	fmt.Fprintf(stdout, "recorded: %s\n", done)
	printReport(stdout, r, false)
	return nil
}

func runReportAssess(args []string, stdout io.Writer) error {
	fs := newFlags("report assess")
	caseID := fs.String("case", "", "the case the report's captures are deposited to (you are assigned to it)")
	note := fs.String("note", "", "a note kept with the assessment")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *caseID == "" {
		return usageErr("report assess needs REPORT and --case CASE")
	}
	return postReport(pos[0], "assess", "report "+safeText(pos[0])+" assessed into case "+safeText(*caseID), api.AssessRequest{Case: *caseID, Note: *note}, *asJSON, stdout)
}

func runReportClose(args []string, stdout io.Writer) error {
	fs := newFlags("report close")
	reason := fs.String("reason", "", "why: "+strings.Join(vault.ReportCloseReasons, ", "))
	note := fs.String("note", "", "a note kept with the closing")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *reason == "" {
		return usageErr("report close needs REPORT and --reason (%s)", strings.Join(vault.ReportCloseReasons, ", "))
	}
	return postReport(pos[0], "close", "report "+safeText(pos[0])+" closed ("+safeText(*reason)+")", api.CloseReportRequest{Reason: *reason, Note: *note}, *asJSON, stdout)
}

func runReportReopen(args []string, stdout io.Writer) error {
	fs := newFlags("report reopen")
	reason := fs.String("reason", "", "why the report is opened again (recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *reason == "" {
		return usageErr("report reopen needs REPORT and --reason TEXT")
	}
	return postReport(pos[0], "reopen", "report "+safeText(pos[0])+" reopened", api.ReopenReportRequest{Reason: *reason}, *asJSON, stdout)
}

func runReportNotice(args []string, stdout io.Writer) error {
	fs := newFlags("report notice")
	u := fs.String("url", "", "the reported URL the notice is about")
	to := fs.String("to", "", "who the notice went to: the hosting provider, registrar or partner hotline")
	via := fs.String("via", "email", "how: "+strings.Join(vault.NoticeVias, ", "))
	ref := fs.String("reference", "", "the notice's reference (ticket number, message id)")
	country := fs.String("country", "", "the hosting country, ISO 3166-1 alpha-2 (KH, PH, NL, GB, ...; UK is recorded as GB)")
	at := fs.String("at", "", "when it was sent, if earlier (2026-11-30T14:05:00+07:00; at most 30 days ago)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *u == "" || *to == "" {
		return usageErr("report notice needs REPORT, --url URL and --to PROVIDER")
	}
	typed := vault.TypedURL(*u)
	return postReport(pos[0], "notices", "the notice to "+safeText(*to), api.NoticeRequest{URL: typed, To: *to, Via: *via, Reference: *ref, Country: *country, At: *at}, *asJSON, stdout)
}

func runNoticeProgress(name, path string) func([]string, io.Writer) error {
	return func(args []string, stdout io.Writer) error {
		fs := newFlags(name)
		u := fs.String("url", "", "the reported URL")
		note := fs.String("note", "", "a note (how it was confirmed)")
		at := fs.String("at", "", "when it happened, if earlier (2026-11-30T14:05:00+07:00; at most 30 days ago)")
		asJSON := fs.Bool("json", false, "print JSON")
		pos, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 || *u == "" {
			return usageErr("%s needs REPORT and --url URL", name)
		}
		typed := vault.TypedURL(*u)
		done := map[string]string{"acknowledged": "the notice acknowledged by its receiver", "removed": "the content confirmed gone"}[path]
		return postReport(pos[0], path, done, api.NoticeProgressRequest{URL: typed, Note: *note, At: *at}, *asJSON, stdout)
	}
}

func runReportForward(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report forward")
	to := fs.String("to", "", "who receives it: a partner hotline or police unit")
	kind := fs.String("kind", "hotline", "hotline or police")
	format := fs.String("format", "csv", "csv (URLs and item hashes) or vics (the items settled as baseline or national, as Project VIC VICS 2.0 JSON)")
	out := fs.String("o", "", "file to write the export to")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *to == "" || *out == "" {
		return usageErr("report forward needs REPORT, --to NAME and -o FILE")
	}
	sum, n, err := fetchTo(stderr, true, "/v1/reports/"+url.PathEscape(pos[0])+"/forward", url.Values{"to": {*to}, "kind": {*kind}, "format": {*format}}, *out, "forwarding "+pos[0])
	if err != nil {
		return err
	}
	return printResult(stdout, *asJSON, forwardOutput{Report: pos[0], To: *to, Format: *format, SHA256: sum, Size: n, File: *out},
		fmt.Sprintf("report %s for %s (%s) written to %s (sha256 %s); the forwarding is recorded in the custody log", pos[0], *to, *format, *out, sum))
}

type forwardOutput struct {
	Report string `json:"report"`
	To     string `json:"to"`
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	File   string `json:"file"`
}

func runClassify(args []string, stdout io.Writer) error {
	fs := newFlags("classify")
	category := fs.String("category", "", "baseline (illegal everywhere), national (illegal here) or not-illegal")
	age := fs.String("age-group", "", strings.Join(vault.AgeGroups, ", "))
	sex := fs.String("sex", "", strings.Join(vault.Sexes, ", "))
	series := fs.String("series", "", "the series the material belongs to, if known")
	note := fs.String("note", "", "a note kept with the vote")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *category == "" {
		return usageErr("classify needs ITEM and --category baseline|national|not-illegal")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.ClassifyResponse
	if err := c.call("POST", "/v1/items/"+url.PathEscape(pos[0])+"/classification", nil, api.ClassifyRequest{Category: *category, AgeGroup: *age,
		Sex: *sex, Series: *series, Note: *note}, &out); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, classifyText(out))
}

// classifyText is what classify prints of the vault's answer to a vote.
func classifyText(out api.ClassifyResponse) string {
	why := out.Classification.NotSettledBecause
	// Known material is cleared by two people of the case, whatever the
	// case's policy: the reason says how many agree, not the policy.
	agreeing := fmt.Sprintf("; agreeing votes: %d of the %d that settle it", out.Votes, out.Needed)
	if why != "" {
		agreeing = ""
	}
	text := fmt.Sprintf("%s: your vote %s recorded%s", out.Item, out.Category, agreeing)
	if out.Unchanged {
		text = fmt.Sprintf("%s: your vote %s stands: it is the vote you gave before, so nothing new was recorded%s", out.Item, out.Category, agreeing)
	}
	switch {
	case out.Disputed:
		text += "; the votes disagree: " + tally(out.Classification.Tally) + " (nothing is settled until they agree: talk it over; a later vote of yours replaces this one)"
	case why != "":
		text += "; not settled as not-illegal: " + why
	case out.Settled != "":
		text += "; settled as " + out.Settled
	}
	switch {
	case out.Known != "" && (out.Settled == vault.CategoryNotIllegal || why != ""):
		text += "\nstill hidden from review as known material: " + out.Known +
			"\n(one not-illegal vote does not clear known material: a second person's agreeing not-illegal vote does; " +
			"where nobody else on the case may vote, a custodian assigns a second analyst or investigator: custos case add-member CASE PERSON)"
	case out.Known != "":
		text += "\nhidden from review as known material: " + out.Known
	}
	return text
}

// captureState says how a report's item's category stands, in words.
func captureState(c vault.CaptureView) string {
	switch c.Classification {
	case "votes", "hashset":
		s := c.Category + " (settled by " + map[string]string{"votes": "votes", "hashset": "a hash set"}[c.Classification] + ")"
		if c.Votes > 0 {
			s += fmt.Sprintf("; pending: %d of %d votes for %s", c.Votes, c.Needed, c.Voted)
		}
		return s
	case "once-settled":
		return c.Category + " (votes settled it so; one person's not-illegal vote since does not clear it)"
	case "disputed":
		return "disputed: the votes disagree"
	case "voting":
		if c.Votes > 0 {
			return fmt.Sprintf("unsettled: %d of %d votes for %s", c.Votes, c.Needed, c.Voted)
		}
		return "unsettled: agreeing votes short of what settles it (the case's policy, or for known material two people of the case)"
	}
	return "not classified"
}

func tally(t map[string]int) string {
	var parts []string
	for _, c := range vault.Categories {
		if t[c] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, t[c]))
		}
	}
	return strings.Join(parts, ", ")
}

func runExposure(args []string, stdout io.Writer) error {
	fs := newFlags("exposure")
	person := fs.String("person", "", "whose (custodians; default: yours)")
	staff := fs.Bool("staff", false, "every analyst's and investigator's exposure of one day, most items first (custodians)")
	date := fs.String("date", "", "with --staff: the day (2026-12-02, UTC; default today)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return usageErr("exposure takes no arguments")
	case *staff && *person != "":
		return usageErr("exposure takes --staff or --person NAME, not both")
	case *date != "" && !*staff:
		return usageErr("exposure --date goes with --staff")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	if *staff {
		var s vault.StaffExposure
		q := url.Values{}
		if *date != "" {
			q.Set("date", *date)
		}
		if err := c.call("GET", "/v1/exposure/staff", q, nil, &s); err != nil {
			return err
		}
		var rows [][]string
		for _, p := range s.People {
			over := ""
			if p.OverLimit {
				over = "reached"
			}
			name := p.Person
			if p.Removed {
				name += " (removed since)"
			}
			rows = append(rows, []string{name, p.Role, fmt.Sprint(p.Items), fmt.Sprint(p.Overrides), fmt.Sprintf("%.1f", p.VideoMinutes), over})
		}
		limit := "no daily limit is set"
		if s.Limit > 0 {
			limit = fmt.Sprintf("daily limit %d items", s.Limit)
		}
		return printResult(stdout, *asJSON, s, fmt.Sprintf("exposure of %s (UTC), %s\n", s.Date, limit)+
			table([]string{"PERSON", "ROLE", "ITEMS", "KNOWN, REVEALED", "VIDEO MINUTES", "LIMIT"}, rows))
	}
	var e vault.ExposureView
	q := url.Values{}
	if *person != "" {
		q.Set("person", *person)
	}
	if err := c.call("GET", "/v1/exposure", q, nil, &e); err != nil {
		return err
	}
	var rows [][]string
	for _, d := range e.Days {
		rows = append(rows, []string{d.Date, fmt.Sprint(d.Items), fmt.Sprint(d.Overrides), fmt.Sprintf("%.1f", d.VideoMinutes)})
	}
	limit := "no daily limit is set"
	if e.Limit > 0 {
		limit = fmt.Sprintf("daily limit %d items", e.Limit)
	}
	text := fmt.Sprintf("%s: %s today (%s)", e.Person, plural(e.Today.Items, "item"), limit)
	if len(rows) > 0 {
		text += "\n" + table([]string{"DAY", "ITEMS", "KNOWN, REVEALED", "VIDEO MINUTES"}, rows)
	}
	return printResult(stdout, *asJSON, e, text)
}

func runStats(args []string, stdout io.Writer) error {
	fs := newFlags("stats")
	from := fs.String("from", "", "start of the period (2026-01-01, UTC; default: the log's start)")
	to := fs.String("to", "", "end of the period, exclusive (2026-07-01 ends with June; default: now)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("stats takes no arguments")
	}
	// Two dates, --to not after --from: the period counts nothing, as
	// --to is exclusive; a person asking for one day means that day.
	f, errF := time.Parse(time.DateOnly, *from)
	t, errT := time.Parse(time.DateOnly, *to)
	if errF == nil && errT == nil && !t.After(f) {
		return usageErr("--to is exclusive, so --from %s --to %s counts nothing: for the day %s alone give --from %s --to %s",
			*from, *to, f.Format(time.DateOnly), f.Format(time.DateOnly), f.AddDate(0, 0, 1).Format(time.DateOnly))
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	if *from != "" {
		q.Set("from", *from)
	}
	if *to != "" {
		q.Set("to", *to)
	}
	var s vault.Stats
	if err := c.call("GET", "/v1/stats", q, nil, &s); err != nil {
		return err
	}
	if *asJSON {
		return printResult(stdout, true, s, "")
	}
	start := when(s.From)
	if s.From.Unix() <= 0 {
		start = "the vault's start"
	}
	fmt.Fprintf(stdout, "period: from %s to %s (exclusive)\n", start, when(s.To))
	if end := s.To.UTC(); *to != "" && end.Equal(end.Truncate(24*time.Hour)) {
		// A date given as --to is not counted: say which day is the
		// last, and how to count that one too (the web application's
		// "last day" is included).
		fmt.Fprintf(stdout, "  the last day counted is %s; to count %s too, give --to %s\n",
			end.AddDate(0, 0, -1).Format(time.DateOnly), end.Format(time.DateOnly), end.AddDate(0, 0, 1).Format(time.DateOnly))
	}
	fmt.Fprintf(stdout, "reports: %d received, %d relevant (noticed or forwarded), %d still open\n", s.Reports.Received, s.Reports.Relevant, s.Reports.Open)
	fmt.Fprintf(stdout, "reports by channel: %s\n", counts(s.Reports.ByChannel))
	fmt.Fprintf(stdout, "reports closed, by reason: %s\n", counts(s.Reports.Closed))
	// The counts after the first overlap (an item can be known and new:
	// first seen here, then classified): each is "of those deposited".
	if s.ItemsOfAssignedCases {
		fmt.Fprintln(stdout, "items: of the cases you are assigned to (another case's items are for its own analysts)")
	}
	fmt.Fprintf(stdout, "items deposited: %d; of them (one item may count in several): %d matched a hash set, %d are known material now, %d were new when deposited (first seen, matching no set), of which %d are not known material now (neither a near-copy of known material nor listed by a set imported since), %d known good, %d images, %d videos\n",
		s.Items.Deposited, s.Items.Matched, s.Items.Known, s.Items.New, s.Items.NewNotKnown, s.Items.KnownGood, s.Items.Images, s.Items.Videos)
	fmt.Fprintf(stdout, "by settled category (by votes, or a hash-set match at deposit; known material with no settled category counts as unclassified): %s\n", counts(s.ByCategory))
	fmt.Fprintf(stdout, "matches by hash set: %s\n", counts(s.MatchesByHashSet))
	n := s.Notices
	fmt.Fprintf(stdout, "notices: %d sent, %d acknowledged, %d removed\n", n.Sent, n.Acknowledged, n.Removed)
	if n.RemovalHours.N > 0 {
		h := func(x float64) string { return vault.ElapsedWords(time.Duration(x * float64(time.Hour))) }
		fmt.Fprintf(stdout, "time to removal after the notice: median %s, 90th percentile %s (%s)\n", h(n.RemovalHours.Median), h(n.RemovalHours.P90), plural(n.RemovalHours.N, "removal"))
		fmt.Fprintf(stdout, "time to removal after the report: median %s, 90th percentile %s\n", h(n.FromReportHours.Median), h(n.FromReportHours.P90))
	}
	fmt.Fprintf(stdout, "forwarded: %s\n", counts(s.Forwarded))
	return nil
}

// counts prints a map of counts in key order, or "none".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func runCaseClassificationPolicy(args []string, stdout io.Writer) error {
	fs := newFlags("case classification-votes")
	reason := fs.String("reason", "", "why (recorded with a raising, or with the request a lowering opens)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("case classification-votes takes CASE and N (1 to %d)", vault.MaxClassificationVotes)
	}
	n, err := strconv.Atoi(pos[1])
	if err != nil {
		return usageErr("N %q is not a number", pos[1])
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.ClassificationPolicyResponse
	req, err := c.callOrRequest("POST", "/v1/cases/"+url.PathEscape(pos[0])+"/classification-policy", api.ClassificationPolicyRequest{Votes: n, Reason: *reason}, &out)
	if err != nil {
		return err
	}
	if req != nil {
		return printRequest(stdout, *asJSON, *req, fmt.Sprintf("lowering the agreeing votes that settle an item's category in %s to %d", pos[0], n))
	}
	if !out.Recorded {
		return printResult(stdout, *asJSON, out, fmt.Sprintf("case %s: %d agreeing votes already settle an item's category; nothing changed (nothing recorded, and --reason was not kept)", out.Case, out.Votes))
	}
	text := fmt.Sprintf("case %s: agreeing votes that settle an item's category: %d", out.Case, out.Votes)
	return printResult(stdout, *asJSON, out, text+policyEffectText(out.Case, vault.PolicyEffect{Unsettled: out.Unsettled, Settled: out.Settled}))
}

// policyEffectText says what a change of a case's classification policy
// did to its items, as lines to add to what the command prints.
func policyEffectText(caseID string, e vault.PolicyEffect) string {
	var text string
	if e.Unsettled > 0 {
		text += fmt.Sprintf("\nwarning: the category of %s of %s is no longer settled: those that were known material by it, and their copies, may come back for review, and the case's analysts see them again in their review queue",
			plural(e.Unsettled, "item"), caseID)
	}
	if e.Settled > 0 {
		text += fmt.Sprintf("\nthe category of %s is now settled by the votes already cast", plural(e.Settled, "item"))
		if len(e.SettledAs) > 0 {
			text += ": " + tally(e.SettledAs)
		}
	}
	return text
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runHashSetImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hashset import")
	format := fs.String("format", "", "vics, caid, icse, nsrl, md5sum, sha1sum or sha256sum")
	name := fs.String("name", "", "the set's name (lowercase letters, digits, '.', '_', '-'); a later import of the same name replaces it")
	category := fs.String("category", "", "what a match means: baseline, national, not-illegal, or known-good (an NSRL-style set of ordinary files: every entry is then known-good); otherwise entries naming their own category keep it")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *format == "" || *name == "" {
		return usageErr("hashset import needs FILE, --format FORMAT and --name NAME")
	}
	f, fi, err := inputfile.Open(pos[0])
	if err != nil {
		return fmt.Errorf("%w (nothing was imported)", err)
	}
	defer f.Close()
	c, err := newClient()
	if err != nil {
		return err
	}
	bar := progress(stderr, *asJSON, fi.Size(), "importing "+filepath.Base(pos[0]))
	defer bar.Close()
	q := url.Values{"name": {*name}, "format": {*format}}
	if *category != "" {
		q.Set("category", *category)
	}
	req, err := http.NewRequest("POST", c.url("/v1/hashsets", q), io.TeeReader(f, bar))
	if err != nil {
		return err
	}
	req.ContentLength = fi.Size()
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out vault.HashSetImportResult
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("malformed answer from the vault: %w", err)
	}
	bar.Finish()
	text := fmt.Sprintf("hash set %s: %s read from %s, %d rejected (file sha256 %s)",
		out.HashSet, entries(out.Imported), plural(out.Lines, "line"), out.Rejected, out.SourceSHA256)
	for _, p := range out.Problems {
		text += fmt.Sprintf("\n  line %d: %s", p.Line, printable.Terminal(p.Reason))
	}
	if out.Rejected > len(out.Problems) {
		text += fmt.Sprintf("\n  (%d more rejected lines not listed)", out.Rejected-len(out.Problems))
	}
	if other := vault.OtherMeanings(out.Categories, out.Category); other != "" {
		text += "\nits entries mean: " + other + " (an entry that names its own category keeps it, whatever --category says)"
	}
	text += conflictWarnings(out.Conflicts)
	if out.Request == "" {
		text += fmt.Sprintf("\nrecorded in the custody log (event %d); the set is in use", out.Event)
		return printResult(stdout, *asJSON, out, text)
	}
	text += fmt.Sprintf("\nThe set is not in use until a second custodian approves it: request %s (%s), open until %s.\nA custodian other than you approves it with: custos approve %s (or rejects it; you may withdraw it with custos reject %s --reason ...)",
		out.Request, vault.KindHashSetImport, when(out.Expires), out.Request, out.Request)
	return printResult(stdout, *asJSON, out, text)
}

// conflictWarnings are the lines that warn of the sets in use of the
// other kind that list files an imported set lists too, each beginning
// with a line break ("" if there are none).
func conflictWarnings(conflicts []vault.HashSetConflict) string {
	var text string
	for _, c := range conflicts {
		kind := "known material"
		if c.KnownGood {
			kind = "known-good files"
		}
		text += fmt.Sprintf("\nwarning: set %s, in use, lists %s, and %d of its hashes are this set's too: a deposit of one of them matches both and counts as known material; check which set is wrong", c.Set, kind, c.Shared)
	}
	return text
}

func runHashSetList(args []string, stdout io.Writer) error {
	fs := newFlags("hashset list")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageErr("hashset list takes no arguments")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.HashSetsResponse
	if err := c.call("GET", "/v1/hashsets", nil, nil, &out); err != nil {
		return err
	}
	if len(out.HashSets) == 0 {
		return printResult(stdout, *asJSON, out, "no hash sets")
	}
	var rows [][]string
	for _, h := range out.HashSets {
		by := h.ImportedBy
		if h.ApprovedBy != "" {
			by += ", approved by " + h.ApprovedBy
		}
		category := hashSetCategory(h.Category)
		if other := vault.OtherMeanings(h.Categories, h.Category); other != "" {
			category += " (entries: " + other + ")"
		}
		rows = append(rows, []string{h.Name, h.Format, category, fmt.Sprint(h.Imported), whenText(h.ImportedAt), by, h.Status})
	}
	return printResult(stdout, *asJSON, out, table([]string{"NAME", "FORMAT", "CATEGORY", "ENTRIES", "IMPORTED", "BY", "STATUS"}, rows))
}

// hashSetCategory is what a set's matches mean, as hashset list shows
// it: the category it was imported with, or each entry's own (a VICS or
// ICSE set imported without one).
func hashSetCategory(c string) string {
	if c == "" {
		return "(each entry's own)"
	}
	return c
}

func runHashSetRemove(args []string, stdout io.Writer) error {
	fs := newFlags("hashset remove")
	reason := fs.String("reason", "", "why the set is removed (recorded)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *reason == "" {
		return usageErr("hashset remove needs NAME and --reason TEXT")
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.RemoveHashSetResponse
	req, err := c.callOrRequest("POST", "/v1/hashsets/"+url.PathEscape(pos[0])+"/remove", api.RemoveHashSetRequest{Reason: *reason}, &out)
	if err != nil {
		return err
	}
	if req != nil {
		return printRequest(stdout, *asJSON, *req, "removing hash set "+pos[0]+" (it stays in use until then)")
	}
	return printResult(stdout, *asJSON, out, "removed hash set "+out.HashSet+"; items whose deposit matched it keep that recorded match, but items it matched only after their deposit are no longer known material by it and may come back for review (the web application's triage page, custos item list)")
}

func runSimilar(args []string, stdout io.Writer) error {
	fs := newFlags("similar")
	caseID := fs.String("case", "", "search every image of this case")
	maxD := fs.Int("max-distance", 0, "match within this many bits of 256, 1 to 64 (default: the vault's threshold, 31 unless the server sets --pdq-max-distance)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*caseID != "") || len(pos) > 1 {
		return usageErr("similar takes one ITEM, or --case CASE")
	}
	if given(fs, "max-distance") && (*maxD < 1 || *maxD > 64) {
		return usageErr("--max-distance is a number of bits from 1 to 64 (without it, the vault's threshold)")
	}
	path := "/v1/cases/" + url.PathEscape(*caseID) + "/similar"
	if len(pos) == 1 {
		path = "/v1/items/" + url.PathEscape(pos[0]) + "/similar"
	}
	q := url.Values{}
	if *maxD != 0 {
		q.Set("max_distance", strconv.Itoa(*maxD))
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var out api.SimilarResponse
	if err := c.call("GET", path, q, nil, &out); err != nil {
		return err
	}
	return printResult(stdout, *asJSON, out, similarText(out, *caseID, *maxD))

}

// matchHow says how a hash-set match was found: its algorithm, and for
// a PDQ match its distance in bits.
func matchHow(m vault.HashSetMatch) string {
	if m.Algorithm == "pdq" {
		return fmt.Sprintf("pdq, distance %d of 256 bits", m.Distance)
	}
	return m.Algorithm
}

// hotlineLines are the lines item show adds for hotline work: the report,
// the classification and its votes, the hash-set matches, what the
// deposit learned of an image or video, and whether it is known material.
func hotlineLines(d api.ItemDetailResponse) []string {
	var lines []string
	if d.Report != "" {
		lines = append(lines, "report:     "+d.Report)
	}
	cl := d.Classification
	switch {
	case cl.Category != "" && cl.Source == "hashset":
		lines = append(lines, fmt.Sprintf("category:   %s (inherited from hash set %s, entry %d)", cl.Category, cl.Inherit.Set, cl.Inherit.Entry))
	case cl.Category != "" && cl.Source == "once-settled":
		lines = append(lines, fmt.Sprintf("category:   %s (votes settled it so; the not-illegal votes since do not clear it)", cl.Category))
	case cl.Category != "":
		lines = append(lines, fmt.Sprintf("category:   %s (settled: %d of %d agreeing votes needed)", cl.Category, cl.Tally[cl.Category], cl.Needed))
	case cl.Disputed:
		lines = append(lines, "category:   disputed: the votes disagree ("+tally(cl.Tally)+")")
	case len(cl.Votes) > 0:
		lines = append(lines, fmt.Sprintf("category:   not settled (%s; %d agreeing votes settle it)", tally(cl.Tally), cl.Needed))
	default:
		if d.Known != "" {
			lines = append(lines, "category:   not classified (but known material all the same: see known)")
		} else {
			lines = append(lines, "category:   not classified")
		}
	}
	if cl.NotSettledBecause != "" {
		lines = append(lines, "            not settled as not-illegal: "+cl.NotSettledBecause)
	}
	for _, v := range cl.Votes {
		note := ""
		if v.Note != "" {
			note = ": " + strconv.Quote(v.Note) // free text, one line
		}
		if v.NotCounted != "" {
			note += " (not counted: " + v.NotCounted + ")"
		}
		if v.NotClearing != "" {
			note += " (does not clear known material: " + v.NotClearing + ")"
		}
		lines = append(lines, fmt.Sprintf("  vote:     %s by %s at %s%s%s%s%s", v.Category, v.By, whenText(v.At), prefixed(", ", v.AgeGroup), prefixed(", ", v.Sex),
			prefixed(", series ", safeText(v.Series)), note))
	}
	if cl.KnownGood {
		lines = append(lines, "known good: it matched a known-good (NSRL-style) hash set")
	}
	for _, m := range d.Matches {
		lines = append(lines, fmt.Sprintf("matches:    hash set %s, entry %d (%s%s%s)", m.Set, m.Entry, matchHow(m), prefixed(", ", m.Category), prefixed(", series ", printable.Readable(m.Series))))
	}
	if m := d.Media; m != nil {
		switch {
		case m.PDQ != "":
			line := fmt.Sprintf("image:      %s, %d x %d, PDQ %s (quality %d)", m.Format, m.Width, m.Height, m.PDQ, m.Quality)
			if m.NearCopiesUnsearched() {
				line += fmt.Sprintf(": below %d, so near-copies are not searched for (of known material or of other items); exact copies still are, by their hashes", pdq.MinQuality)
			}
			lines = append(lines, line)
		case m.Kind == "video" && m.DurationMS > 0:
			lines = append(lines, fmt.Sprintf("video:      %s long", (time.Duration(m.DurationMS)*time.Millisecond).Round(time.Second)))
		case m.NotHashed != "":
			lines = append(lines, fmt.Sprintf("%-11s %s", m.Kind+":", m.NotHashed))
		}
	}
	if d.Known != "" {
		lines = append(lines, "known:      known material, hidden from review: "+d.Known+" (custos get --reveal-known shows it, recorded)")
	}
	return lines
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

// derefEntry is a near-duplicate's hash-set entry number (0 if absent).
func derefEntry(e *uint64) uint64 {
	if e == nil {
		return 0
	}
	return *e
}

// similarText words a near-duplicate search of one item, or of every
// image of caseID: each match with its distance, an item of the
// reader's cases by its name (and case, where another), the items not
// searched by name, and what a distance is.
func similarText(out api.SimilarResponse, caseID string, maxD int) string {
	var b strings.Builder
	notSearched := map[string][]string{}
	for _, it := range out.Items {
		switch {
		case it.NotSearched != "":
			if caseID == "" {
				fmt.Fprintf(&b, "%s  %s: not searched (%s)\n", it.Item, displayName(it.Name), it.NotSearched)
			} else {
				notSearched[it.NotSearched] = append(notSearched[it.NotSearched], it.Item+" "+displayName(it.Name))
			}
		case len(it.Matches) == 0:
			fmt.Fprintf(&b, "%s  %s: no near-duplicate among the items of your cases, illegal items of others and the hash sets in use\n", it.Item, displayName(it.Name))
		default:
			fmt.Fprintf(&b, "%s  %s:\n", it.Item, displayName(it.Name))
			for _, m := range it.Matches {
				what := m.Item
				switch {
				case m.Set != "":
					what = fmt.Sprintf("hash set %s, entry %d", m.Set, derefEntry(m.Entry))
				case m.Item == "":
					what = "an item of another case"
				default:
					what += "  " + displayName(m.Name)
					if caseID != m.Case {
						what += " (case " + m.Case + ")"
					}
				}
				fmt.Fprintf(&b, "    distance %2d  %s%s\n", m.Distance, what, prefixed(", ", m.Category))
			}
		}
	}
	// A case's listing names the items it did not search, for each
	// reason, the first ten (--json lists them all).
	for _, why := range slices.Sorted(maps.Keys(notSearched)) {
		names := notSearched[why]
		fmt.Fprintf(&b, "%s not searched: %s: %s", plural(len(names), "item"), why, strings.Join(names[:min(len(names), 10)], ", "))
		if len(names) > 10 {
			fmt.Fprintf(&b, " and %d more (--json lists them)", len(names)-10)
		}
		b.WriteString("\n")
	}
	if b.Len() > 0 {
		within := "the vault's threshold"
		if maxD != 0 {
			within = fmt.Sprintf("%d bits", maxD)
		}
		fmt.Fprintf(&b, "(distance: how many of the 256 bits of two images' PDQ hashes differ; 0 is the same picture, and near-duplicates are those within %s)\n", within)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// quotedNote is a note an analyst gave, after a colon and quoted, or ""
// for none.
func quotedNote(note string) string {
	if note == "" {
		return ""
	}
	return ": " + strconv.Quote(note)
}
