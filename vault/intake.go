package vault

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"golang.org/x/text/language"
)

// Reports of URLs (docs/hotline.md): received from the public intake or
// entered by an analyst, assessed into a case, noticed and taken down,
// forwarded, closed. The vault never fetches a reported URL: analysts'
// capture tools deposit what they collect.

// Limits of a report.
const (
	MaxReportURLs        = 20
	MaxURLBytes          = 2048
	MaxDescriptionBytes  = 8192
	MaxContactBytes      = 256
	maxReportFieldBytes  = 256
	maxReportNoteBytes   = 4096
	reportIDPrefixLength = 3
)

// ReportRequest is a report to record.
type ReportRequest struct {
	Channel     string
	URLs        []string
	Description string
	Anonymous   bool
	Contact     string
	Reference   string
	// At is when the report reached the hotline (RFC 3339), if earlier
	// than now: at most MaxBackdate ago (RecordReport only).
	At string
}

// ReceivePublicReport records a report made through the public intake and
// returns its id, the reporter's receipt number. Nobody is signed in: the
// event's actor is the public (auth "none"), and nothing of the
// connection (address, browser) is kept.
func (v *Vault) ReceivePublicReport(ctx context.Context, req ReportRequest) (string, error) {
	req.Channel, req.Reference, req.At = "web", "", ""
	d, err := checkReport(req)
	if err != nil {
		return "", err
	}
	if err := v.withContact(ctx, &d, req); err != nil {
		return "", err
	}
	// A member of the public's act, as a person's: their report's
	// number is given only once a head covers it (Vault.appendActs).
	_, err = v.appendActs(ctx, true, sequencer.Draft{Type: TypeReportReceived, Actor: events.Actor{Person: RolePublic, Role: RolePublic, Auth: "none"}, Data: d})
	if err != nil {
		return "", fmt.Errorf("recording the report: %w", err)
	}
	return d.Report, nil
}

// CheckPublicReport says whether ReceivePublicReport would take req (nil)
// or refuse it as bad input, without recording anything.
func CheckPublicReport(req ReportRequest) error {
	req.Channel, req.Reference = "web", ""
	_, err := checkReport(req)
	return err
}

// RecordReport records a report an analyst received by another channel
// (email, phone, a partner hotline) and returns its id.
func (v *Vault) RecordReport(ctx context.Context, who Principal, req ReportRequest) (string, error) {
	if err := v.MayAsk(ctx, who, "report.record", ""); err != nil {
		return "", err
	}
	if req.Channel == "" {
		req.Channel = "other"
	}
	d, err := checkReport(req)
	if err != nil {
		return "", err
	}
	if d.At, err = v.checkStated(req.At); err != nil {
		return "", err
	}
	if err := v.withContact(ctx, &d, req); err != nil {
		return "", err
	}
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeReportReceived, Actor: who.actor(), Data: d}); err != nil {
		return "", v.refusedAs(ctx, who, "report.record", "", err)
	}
	return d.Report, nil
}

func checkReport(req ReportRequest) (ReportReceived, error) {
	if !slices.Contains(ReportChannels, req.Channel) {
		return ReportReceived{}, notOneOf("channel", req.Channel, ReportChannels)
	}
	if len(req.URLs) == 0 {
		return ReportReceived{}, badInput("a report names at least one URL")
	}
	if len(req.URLs) > MaxReportURLs {
		return ReportReceived{}, badInput("a report names at most %d URLs, not %d", MaxReportURLs, len(req.URLs))
	}
	seen := map[string]string{}
	urls := make([]string, len(req.URLs))
	for i, u := range req.URLs {
		if err := checkReportedURL(u); err != nil {
			return ReportReceived{}, err
		}
		// Repeats are refused as the report would record them; two
		// spellings SameURL takes as one (http and https, a "www.")
		// may name two pages, and are kept both.
		urls[i] = addressBarURL(u)
		if first, ok := seen[urls[i]]; ok {
			if first == u {
				return ReportReceived{}, badInput("URL %q is given twice", truncate(u))
			}
			return ReportReceived{}, badInput("URLs %q and %q are the same address (%s): give it once", truncate(first), truncate(u), truncate(urls[i]))
		}
		seen[urls[i]] = u
	}
	if err := checkText("description", req.Description, MaxDescriptionBytes, false, true); err != nil {
		return ReportReceived{}, err
	}
	if err := checkText("contact", req.Contact, MaxContactBytes, false, false); err != nil {
		return ReportReceived{}, err
	}
	if req.Anonymous && strings.TrimSpace(req.Contact) != "" {
		// Not kept, and not dropped without a word either: the reporter
		// says which they meant.
		return ReportReceived{}, badInput("a contact was given for a report made anonymously: leave the contact out to stay anonymous, or report with the contact so that the hotline can reach the reporter")
	}
	if err := checkText("reference", req.Reference, maxReportFieldBytes, false, false); err != nil {
		return ReportReceived{}, err
	}
	d := ReportReceived{Report: "rp_" + randomHex(12), Channel: req.Channel, URLs: urls,
		Description: req.Description, Anonymous: req.Anonymous, Reference: req.Reference}
	return d, nil
}

// withContact seals req's contact into d, unless the reporter asked to
// stay anonymous or gave none.
func (v *Vault) withContact(ctx context.Context, d *ReportReceived, req ReportRequest) error {
	c := strings.TrimSpace(req.Contact)
	if req.Anonymous || c == "" {
		return nil
	}
	sealed, err := v.sealContact(ctx, c)
	if err != nil {
		return fmt.Errorf("sealing the reporter's contact: %w", err)
	}
	d.ContactSealed = sealed
	return nil
}

// CheckReportedURL is the check every reported URL meets
// (checkReportedURL): a bad-input error saying what is wrong, or nil.
func CheckReportedURL(s string) error { return checkReportedURL(s) }

// checkReportedURL accepts an absolute http, https or ftp URL with a host,
// of at most MaxURLBytes, printable ASCII (an internationalised name is
// given in its punycode or percent-encoded form, as browsers copy it).
func checkReportedURL(s string) error {
	if len(s) > MaxURLBytes {
		return badInput("URL is %d bytes; the limit is %d", len(s), MaxURLBytes)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return badInput("URL %q holds a space, a control character or a non-ASCII byte: give it percent-encoded, as the browser's address bar copies it", truncate(s))
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return badInput("%q is not an absolute URL such as https://host/path", truncate(s))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ftp":
	default:
		return badInput("URL %q: the scheme is http, https or ftp", truncate(s))
	}
	return nil
}

// ReportView is a report as the API shows it. Contact is shown to
// analysts only.
type ReportView struct {
	Report      string    `json:"report"`
	Channel     string    `json:"channel"`
	Status      string    `json:"status"`
	ReceivedAt  time.Time `json:"received_at"`
	ReceivedBy  string    `json:"received_by,omitempty"`
	URLs        []string  `json:"urls"`
	Description string    `json:"description,omitempty"`
	Anonymous   bool      `json:"anonymous"`
	Contact     string    `json:"contact,omitempty"`
	// ContactWithheld says that the reporter gave a contact, which is not
	// shown here: only to analysts, in one report's detail, which records
	// its opening (report.contact.opened).
	ContactWithheld bool   `json:"contact_withheld,omitempty"`
	Reference       string `json:"reference,omitempty"`
	Case            string `json:"case,omitempty"`
	// CaseWithheld says that the report is in a case the reader is not
	// assigned to: its case, items, assessor, closing reason, and the
	// notices and forwardings made in that case are not shown.
	CaseWithheld bool       `json:"case_withheld,omitempty"`
	AssessedBy   string     `json:"assessed_by,omitempty"`
	ClosedReason string     `json:"closed_reason,omitempty"`
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	Items        []string   `json:"items"`
	// Captures describe Items, in their order, to an analyst assigned to
	// the report's case (ReportDetail only; no one else may see the
	// items): each one's name and how its category stands.
	Captures []CaptureView `json:"captures,omitempty"`
	Notices  []NoticeView  `json:"notices"`
	Forwards []ForwardView `json:"forwards"`
	// History is every event of the report, oldest first, in words:
	// notes, reasons, closings and reopenings included (ReportDetail
	// only; read from the custody log).
	History []ReportEventView `json:"history,omitempty"`
}

// CaptureView is one item captured for a report, as its page shows it.
type CaptureView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Category is the settled category ("" while unsettled), and
	// Classification how it stands: votes or hashset (what settled it),
	// disputed, voting, or unclassified (as a forwarded csv says it).
	Category       string `json:"category,omitempty"`
	Classification string `json:"classification"`
	// Known is why the item is known material, and so hidden from
	// review, as item list says it ("" when it is not).
	Known string `json:"known,omitempty"`
	// Source is where the depositor said it came from (deposit
	// --source): for a capture, the reported URL it shows.
	Source string `json:"source,omitempty"`
	// Voted, Votes and Needed are, while agreeing votes are short of
	// settling a category, the category voted, its counted votes and
	// how many settle it (as item list gives them).
	Voted  string `json:"voted,omitempty"`
	Votes  int    `json:"votes,omitempty"`
	Needed int    `json:"needed,omitempty"`
}

// ReportEventView is one event of a report's history, as the custody
// report and the web timeline word it (custody.Describe).
type ReportEventView struct {
	Event   uint64    `json:"event"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	Type    string    `json:"type"`
	Action  string    `json:"action"`
	Details string    `json:"details,omitempty"`
}

// NoticeView is one URL's notice and takedown.
type NoticeView struct {
	URL       string `json:"url"`
	To        string `json:"to"`
	Via       string `json:"via"`
	Reference string `json:"reference,omitempty"`
	Country   string `json:"country,omitempty"`
	// SentAt is when the URL was first noticed, from which its removal
	// is timed; ResentAt, when it was noticed again, the latest sending
	// (to To, via Via).
	SentAt         time.Time  `json:"sent_at"`
	ResentAt       *time.Time `json:"resent_at,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	RemovedAt      *time.Time `json:"removed_at,omitempty"`
	// AcknowledgedNote and RemovedNote are what the analyst noted of
	// them.
	AcknowledgedNote string `json:"acknowledged_note,omitempty"`
	RemovedNote      string `json:"removed_note,omitempty"`

	inCase string // the case it was sent in (reportView)
}

// ForwardView is one forwarding of a report.
type ForwardView struct {
	To     string    `json:"to"`
	Kind   string    `json:"kind"`
	Format string    `json:"format"`
	Items  int       `json:"items"`
	URLs   int       `json:"urls"`
	SHA256 string    `json:"sha256"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`

	inCase string // the case it was forwarded in (reportView)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// reportView is the report as who may see it: the contact for analysts
// only, and only when open (its opening recorded by the caller:
// ReportDetail), and the case and its items only for those who may know
// the case (its analysts, custodians and auditors).
func (v *Vault) reportView(ctx context.Context, r Report, who Principal, open bool) ReportView {
	out := r.fullView()
	if r.ContactSealed != "" && (who.Role != RoleAnalyst || !open) {
		out.ContactWithheld = true
	}
	if who.Role == RoleAnalyst && r.ContactSealed != "" && open {
		c, err := v.openContact(ctx, r.ContactSealed)
		if err != nil {
			v.logger.Error("a reporter's contact could not be opened", "report", r.Report, "err", err)
			c = "(sealed; it could not be opened: " + err.Error() + ")"
		}
		out.Contact = c
	}
	if who.Role != RoleAnalyst {
		return out
	}
	// What was decided about the report in a case (assessing it, its
	// notices, forwardings and closing reason) is that case's analysts'
	// to read, as its history is (ReportDetail): an analyst of another
	// case sees that the report exists, its URLs and its status.
	mayKnow := func(caseID string) bool {
		if caseID == "" {
			return true
		}
		c, _ := v.state.getCase(caseID)
		return assigned(who, c)
	}
	if !mayKnow(r.Case) {
		out.Case, out.Items, out.AssessedBy, out.ClosedReason, out.ClosedAt = "", []string{}, "", "", nil
		out.CaseWithheld = true
		if out.Status == StatusActioned {
			// "Actioned" is what a notice or a forwarding made of it,
			// in the case: shown as it would be without them.
			out.Status = StatusAssessing
		}
	}
	out.Notices = slices.DeleteFunc(out.Notices, func(n NoticeView) bool { return !mayKnow(n.inCase) })
	out.Forwards = slices.DeleteFunc(out.Forwards, func(f ForwardView) bool { return !mayKnow(f.inCase) })
	return out
}

// fullView is the whole report as the API shows it, before reportView
// withholds what a person may not see.
func (r Report) fullView() ReportView {
	out := ReportView{Report: r.Report, Channel: r.Channel, Status: r.Status, ReceivedAt: r.ReceivedAt.UTC(), ReceivedBy: r.ReceivedBy,
		URLs: r.URLs, Description: r.Description, Anonymous: r.Anonymous, Reference: r.Reference, Case: r.Case, AssessedBy: r.AssessedBy,
		ClosedReason: r.ClosedReason, ClosedAt: timePtr(r.ClosedAt), Items: r.Items, Notices: []NoticeView{}, Forwards: []ForwardView{}}
	if out.Items == nil {
		out.Items = []string{}
	}
	for _, n := range r.Notices {
		out.Notices = append(out.Notices, NoticeView{URL: n.URL, To: n.To, Via: n.Via, Reference: n.Reference, Country: n.Country,
			SentAt: n.SentAt.UTC(), ResentAt: timePtr(n.LastSentAt), AcknowledgedAt: timePtr(n.AcknowledgedAt), RemovedAt: timePtr(n.RemovedAt),
			AcknowledgedNote: n.AcknowledgedNote, RemovedNote: n.RemovedNote,
			inCase: n.Case})
	}
	for _, f := range r.Forwards {
		out.Forwards = append(out.Forwards, ForwardView{To: f.To, Kind: f.Kind, Format: f.Format, Items: f.Items, URLs: f.URLs, SHA256: f.SHA256, At: f.At.UTC(), By: f.By,
			inCase: f.Case})
	}
	return out
}

// readsReports: analysts work the reports; custodians and auditors
// oversee them.
func readsReports(role string) bool {
	return role == RoleAnalyst || role == RoleCustodian || role == RoleAuditor
}

// Reports lists reports, oldest first, optionally only those of one
// status, and only those naming one URL (exactly, or after the scheme
// and a "www." are set aside, typed as a browser's address bar shows it:
// TypedURL; "was this reported before?"), for analysts, custodians and
// auditors.
func (v *Vault) Reports(ctx context.Context, who Principal, status string, urls ...string) ([]ReportView, error) {
	return v.ListReports(ctx, who, ReportFilter{Status: status, URLs: urls})
}

// ReportFilter chooses the reports ListReports answers: of one status
// (received, assessing, actioned, closed, or open: all but closed; ""
// for any), naming each of URLs (as Reports finds them), and assessed
// into Case as it stands ("" for any).
type ReportFilter struct {
	Status string
	URLs   []string
	Case   string
}

// ListReports is Reports with a filter: oldest first, for analysts,
// custodians and auditors. A case's reports are its analysts' (custodians'
// and auditors' too) to list: an unknown case, or one an analyst is not
// assigned to, is refused alike (ErrNotFound, recorded), as case show
// refuses it; a report is listed under the case its reader is shown
// (reportView), so that the filter tells no more than the list does.
func (v *Vault) ListReports(ctx context.Context, who Principal, f ReportFilter) ([]ReportView, error) {
	status, urls := f.Status, f.URLs
	if !readsReports(who.Role) {
		return nil, v.refuse(ctx, who, "report.list", "", "only analysts, custodians and auditors read reports", ErrForbidden)
	}
	if f.Case != "" {
		if err := checkCaseID(f.Case); err != nil {
			return nil, err
		}
		if c, ok := v.state.getCase(f.Case); !ok || who.Role == RoleAnalyst && !assigned(who, c) {
			return nil, v.refuseUnseen(ctx, who, "report.list", "case", f.Case, ok, "not assigned to the case",
				"only the case's analysts, custodians and auditors list the reports assessed into a case; "+assignsPeople)
		}
	}
	if status != "" && !slices.Contains([]string{StatusReceived, StatusAssessing, StatusActioned, StatusClosed, "open"}, status) {
		return nil, badInput("status %q: use received, assessing, actioned, closed or open", truncate(status))
	}
	// An address as a person types it (no scheme, a host in another
	// script) is looked for as it was recorded: as TypedURL writes it.
	typed := make([]string, 0, len(urls))
	for _, u := range urls {
		if u != "" {
			typed = append(typed, TypedURL(u))
		}
	}
	names := func(r Report) bool {
		for _, want := range typed {
			found := false
			for _, u := range r.URLs {
				found = found || SameURL(u, want)
			}
			if !found {
				return false
			}
		}
		return true
	}
	out := []ReportView{}
	var reports []Report
	if f.Case != "" {
		reports = v.state.reportsInCase(f.Case)
	} else {
		reports = v.state.allReports()
	}
	for _, r := range reports {
		// The status shown (reportView) is the report's own, or
		// assessing for an actioned one whose case is withheld: a report
		// whose status cannot be shown as the one asked for is not
		// viewed at all.
		if status != "" && status != "open" && r.Status != status && !(status == StatusAssessing && r.Status == StatusActioned) || !names(r) {
			continue
		}
		// By the status the reader is shown (reportView), so that a
		// filter tells no more than the list does.
		rv := v.reportView(ctx, r, who, false)
		if rv.Case != f.Case && f.Case != "" {
			continue
		}
		if status == "" || rv.Status == status || status == "open" && rv.Status != StatusClosed {
			out = append(out, rv)
		}
	}
	return out, nil
}

// ReportDetail is one report (analysts, custodians, auditors), with the
// reporter's contact for an analyst, its opening recorded first
// (report.contact.opened).
func (v *Vault) ReportDetail(ctx context.Context, who Principal, id string) (ReportView, error) {
	return v.reportDetail(ctx, who, id, true)
}

// ReportAfter is ReportDetail without the reporter's contact (and so
// without recording its opening): the answer to a decision about the
// report, which did not ask for the contact.
func (v *Vault) ReportAfter(ctx context.Context, who Principal, id string) (ReportView, error) {
	return v.reportDetail(ctx, who, id, false)
}

func (v *Vault) reportDetail(ctx context.Context, who Principal, id string, contact bool) (ReportView, error) {
	if err := v.mayReadReport(ctx, who, id); err != nil {
		return ReportView{}, err
	}
	r, _ := v.state.getReport(id)
	// The contact is opened for the analysts who may work on the report
	// (reportOpenTo): once it is assessed into a case, that case's.
	open := contact && who.Role == RoleAnalyst && r.ContactSealed != "" && v.reportOpenTo(who, id, r, true) == nil
	if open {
		// A reporter's contact is personal data: its opening is
		// recorded, by name, before it is shown, and is then in the
		// report's history.
		// The event names no case: it is the report's (its history,
		// which its custodians and auditors read), not evidence's.
		// If it cannot be recorded (a halted log), the report is still
		// read, without the contact.
		_, err := v.append(ctx, sequencer.Draft{Type: TypeReportContactOpened, Actor: who.actor(),
			Data: ReportContactOpened{Report: id}})
		if err != nil {
			v.logger.Warn("a reporter's contact is not shown: its opening could not be recorded", "report", id, "err", err)
			open = false
		} else {
			r, _ = v.state.getReport(id)
		}
	}
	view := v.reportView(ctx, r, who, open)
	if c, _ := v.state.getCase(view.Case); view.Case != "" && who.Role == RoleAnalyst && v.memberOf(who, c) {
		stated := newKnownChecks()
		for _, iid := range view.Items {
			it, ok, err := v.state.getItem(iid)
			if err != nil {
				return ReportView{}, err
			}
			if !ok {
				continue
			}
			cl, err := v.statedClassification(ctx, it, stated)
			if err != nil {
				return ReportView{}, err
			}
			rec, err := v.depositRecord(ctx, it)
			if err != nil {
				return ReportView{}, err
			}
			known, err := v.hiddenBecause(ctx, it, &rec)
			if err != nil {
				return ReportView{}, err
			}
			c := CaptureView{ID: it.ID, Name: it.Deposit.Name, Category: cl.Category, Classification: classificationState(cl), Known: known, Source: rec.Source}
			if cat, n := cl.Undecided(); n > 0 {
				c.Voted, c.Votes, c.Needed = cat, n, cl.UndecidedNeeded()
				if cl.NotSettledBecause != "" {
					c.Votes = cl.clearers // two people of the case clear known material
				}
			}
			view.Captures = append(view.Captures, c)
		}
	}
	inCase := "" // the case the report was in at each event, in order
	for _, seq := range r.Events {
		// Read from the log, checked against its tree: what the report's
		// readers see of its history is what the log holds.
		ev, err := v.eventAt(ctx, seq)
		if err != nil {
			return ReportView{}, fmt.Errorf("reading report %s's event %d: %w", id, seq, err)
		}
		if ev.Type == TypeReportAssessing {
			inCase = ev.Case
		}
		if ev.Case != "" && who.Role == RoleAnalyst {
			// A decision about the report in a case is that case's
			// analysts' to read (its case id, notes and reasons), as
			// reportView hides the case and its items: an analyst of
			// another case, or of the case it was reassessed into, does
			// not see it.
			if c, _ := v.state.getCase(ev.Case); !assigned(who, c) {
				continue
			}
		}
		if ev.Type == TypeReportContactOpened && ev.Actor.Person != who.Name && who.Role == RoleAnalyst {
			// Who else opened the contact names the analysts who
			// worked the report in the case it was in then, whom that
			// case hides (AssessedBy) from an analyst not assigned to
			// it: the case withheld now, or the one it was in before
			// it was assessed into this one.
			if view.CaseWithheld {
				continue
			}
			if c, _ := v.state.getCase(inCase); inCase != "" && !assigned(who, c) {
				continue
			}
		}
		action, details := custody.Describe(ev)
		view.History = append(view.History, ReportEventView{Event: seq, At: ev.Timestamp().UTC(), By: ev.Actor.Person, Type: ev.Type,
			Action: action, Details: details})
	}
	return view, nil
}

func checkReportID(id string) error {
	if len(id) != 27 || !strings.HasPrefix(id, "rp_") || strings.Trim(id[3:], "0123456789abcdef") != "" {
		return badInput("report id %q is malformed: report ids are rp_ and 24 hex digits (custos report list lists them)", truncate(id))
	}
	return nil
}

// reportCheck is the precondition of a decision about a report, at its
// event's position: any report event ahead (and any case or person
// event, for decisions that also depend on a case) waits.
func (v *Vault) reportCheck(id, caseID string, pre func(r Report, ok bool) error) func([]*events.Event) error {
	return func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if strings.HasPrefix(ev.Type, "report.") || capturesFor(ev, id) || changesCategories(ev) {
				return sequencer.ErrNotYet
			}
		}
		if caseID != "" && dependsOn(ahead, caseID) {
			return sequencer.ErrNotYet
		}
		r, ok := v.state.getReport(id)
		// An assessment names the case it moves the report into; the
		// case it leaves is decided on too (who is assigned to it, and
		// whether its destruction was approved), at its position.
		if ok && r.Case != "" && r.Case != caseID && dependsOn(ahead, r.Case) {
			return sequencer.ErrNotYet
		}
		return pre(r, ok)
	}
}

// changesCategories reports whether ev may change what category an item
// has (a vote, a case's policy, a hash set, or a voter's standing): a
// forward's export names categories, and is decided with them as they
// stand at its position.
func changesCategories(ev *events.Event) bool {
	switch ev.Type {
	case TypeItemClassified, TypeClassificationPolicySet, TypePersonSuspended, TypePersonReinstated, TypePersonRemoved:
		return true
	}
	return strings.HasPrefix(ev.Type, "hashset.")
}

// capturesFor reports whether ev is a deposit captured for report id: it
// changes the report's captures, which a reassessment's rule reads.
func capturesFor(ev *events.Event, id string) bool {
	if ev.Type != TypeItemDeposited {
		return false
	}
	var d struct {
		Report string `json:"report"`
	}
	return ev.DecodeData(&d) != nil || d.Report == id
}

// reportDecision runs a decision about a report by an analyst: the
// report exists and is not closed, pre holds now and at the event's
// position.
func (v *Vault) reportDecision(ctx context.Context, who Principal, action, id string, pre func(r Report) error, d sequencer.Draft) ([]*events.Event, error) {
	if err := checkReportID(id); err != nil {
		return nil, err
	}
	r, ok := v.state.getReport(id)
	if !ok || who.Role != RoleAnalyst {
		return nil, v.refuseUnseen(ctx, who, action, "report", id, ok, "only analysts work on reports", "analysts work on reports")
	}
	// eventCase is the case the event names (set below); a decision
	// other than an assessment must name the case the report is in at
	// its position.
	var eventCase string
	full := func(r Report, ok bool) error {
		if err := v.reportOpenTo(who, id, r, ok); err != nil {
			return err
		}
		if r.Status == StatusClosed {
			return refusedHints(ErrConflict, fmt.Sprintf("reopen it first, with why: custos report reopen %s --reason TEXT", id),
				"reopen it first, with why, on the report's page", "report %s was closed (%s); a closed report is not changed", id, r.ClosedReason)
		}
		if d.Type != TypeReportAssessing && r.Case != eventCase {
			return refused(ErrConflict, "report %s was assessed into another case meanwhile; repeat", id)
		}
		return pre(r)
	}
	if d.Case == "" {
		d.Case = r.Case
	}
	eventCase = d.Case
	if err := full(r, ok); err != nil {
		return nil, v.refusedAs(ctx, who, action, id, err)
	}
	d.Actor = who.actor()
	d.Check = v.reportCheck(id, d.Case, full)
	evs, err := v.append(ctx, d)
	return evs, v.refusedAs(ctx, who, action, id, err)
}

// reportOpenTo refuses who the analyst may not act on report id (r, ok
// as the state has it): it does not exist, or it is assessed into a case
// they are not assigned to (or one that is gone). A report assessed into
// a case is that case's work: only the analysts assigned to it act on it
// and see its items.
func (v *Vault) reportOpenTo(who Principal, id string, r Report, ok bool) error {
	if !ok {
		return refused(ErrNotFound, "no report %s", id)
	}
	if r.Case != "" {
		// Who is assigned is asked first: the case a report is in, and
		// whether it was destroyed, are its members' to know.
		c, ok := v.state.getCase(r.Case)
		if !ok || !assigned(who, c) {
			return refused(ErrForbidden, "report %s is assessed into a case you are not assigned to; ask its analysts, or a custodian to assign you", id)
		}
		if err := liveCase(r.Case, c, ok); err != nil {
			return err
		}
	}
	return nil
}

// mayWorkOnReport refuses, and records, as reportDecision would, who may
// not work on report id, before anything read from the report shapes an
// answer: a URL matched against its URLs, or its items counted, would
// otherwise tell who may not see the report what it holds.
func (v *Vault) mayWorkOnReport(ctx context.Context, who Principal, action, id string) error {
	if who.Role == RoleAnalyst {
		// Who may work on reports is told of a malformed id; anyone
		// else is refused before it is read.
		if err := checkReportID(id); err != nil {
			return err
		}
	}
	r, ok := v.state.getReport(id)
	if !ok || who.Role != RoleAnalyst {
		return v.refuseUnseen(ctx, who, action, "report", id, ok, "only analysts work on reports", "analysts work on reports")
	}
	if err := v.reportOpenTo(who, id, r, ok); err != nil {
		return v.refusedAs(ctx, who, action, id, err)
	}
	return nil
}

// AssessReport takes a report on into a case: the analyst's captures for
// it are deposited to that case (deposit --report). The analyst is
// assigned to the case.
func (v *Vault) AssessReport(ctx context.Context, who Principal, id, caseID, note string) error {
	if err := v.mayWorkOnReport(ctx, who, "report.assess", id); err != nil {
		return err
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	if err := checkText("note", note, maxReportNoteBytes, false, true); err != nil {
		return err
	}
	pre := func(r Report) error {
		// Who is assigned to the case is asked before anything of it
		// shapes the answer: a case the analyst is not assigned to is
		// answered as one that does not exist, destroyed or not.
		c, ok := v.state.getCase(caseID)
		if !ok || !assigned(who, c) {
			return unseen("case", caseID, ok, fmt.Sprintf("%s is not assigned to case %s", who.Name, caseID),
				"a report is assessed into a case you are assigned to: open one with custos case open, or ask a custodian to assign you")
		}
		if err := liveCase(caseID, c, ok); err != nil {
			return err
		}
		if r.Case == caseID {
			return errUnchanged
		}
		if held := heldInCase(r); len(held) > 0 {
			// What the case's analysts did with the report is theirs
			// (reportView): moved along, it would show them to
			// another case's analysts, or let them change it.
			return refusedHint(ErrConflict, "if it concerns the other case too, record it as a new report for that case",
				"report %s is assessed in case %s, which holds %s", id, r.Case, strings.Join(held, " and "))
		}
		return nil
	}
	_, err := v.reportDecision(ctx, who, "report.assess", id, pre, sequencer.Draft{Type: TypeReportAssessing, Case: caseID, Data: ReportAssessing{Report: id, Note: note}})
	return err
}

// heldInCase is what the case r is assessed into holds of it, which keeps
// it there: its captures, the notices sent, acknowledged or removed and
// the forwardings made while it was in the case (Notice.Case,
// Forward.Case). Nil for a report not assessed yet.
func heldInCase(r Report) []string {
	if r.Case == "" {
		return nil
	}
	var held []string
	if len(r.Items) > 0 {
		held = append(held, "its captures")
	}
	if slices.ContainsFunc(r.Notices, func(n *Notice) bool { return n.Case == r.Case }) {
		held = append(held, "its notices")
	}
	if slices.ContainsFunc(r.Forwards, func(f Forward) bool { return f.Case == r.Case }) {
		held = append(held, "its forwardings")
	}
	return held
}

// CloseReport closes a report with one of ReportCloseReasons.
func (v *Vault) CloseReport(ctx context.Context, who Principal, id, reason, note string) error {
	if err := v.mayWorkOnReport(ctx, who, "report.close", id); err != nil {
		return err
	}
	if !slices.Contains(ReportCloseReasons, reason) {
		return notOneOf("reason", reason, ReportCloseReasons)
	}
	if err := checkText("note", note, maxReportNoteBytes, false, true); err != nil {
		return err
	}
	r, _ := v.state.getReport(id)
	// "actioned" says a notice was sent or the report forwarded, and the
	// statistics count it so: a report with neither closes with the
	// reason no action was taken (decided at the event's position).
	pre := func(r Report) error {
		if reason == StatusActioned && r.openStatus() != StatusActioned {
			return refusedHints(ErrConflict, "record the notice (custos report notice) or the forwarding (custos report forward) first, or close it with the reason no action was taken",
				"record the notice or the forwarding first, on the report's page, or close it with the reason no action was taken",
				"report %s has no notice sent and no forwarding, so it was not actioned; the reasons without an action are %s", id, strings.Join(ReportCloseReasons[1:], ", "))
		}
		return nil
	}
	_, err := v.reportDecision(ctx, who, "report.close", id, pre,
		sequencer.Draft{Type: TypeReportClosed, Case: r.Case, Data: ReportClosed{Report: id, Reason: reason, Note: note}})
	return err
}

// ReopenReport opens a closed report again (an analyst; of the report's
// case, if it was assessed into one), with the reason; it takes the status
// its events give it (received, assessing or actioned).
func (v *Vault) ReopenReport(ctx context.Context, who Principal, id, reason string) error {
	// Who may work on the report first; decided again below, at the
	// event's position, with its state.
	if err := v.mayWorkOnReport(ctx, who, "report.reopen", id); err != nil {
		return err
	}
	r, ok := v.state.getReport(id)
	if err := checkText("reason", reason, maxReportNoteBytes, true, false); err != nil {
		return err
	}
	pre := func(r Report, ok bool) error {
		// Who may not act on it first, whatever state it is in.
		if err := v.reportOpenTo(who, id, r, ok); err != nil {
			return err
		}
		if r.Status != StatusClosed {
			return refused(ErrConflict, "report %s is not closed (%s)", id, r.Status)
		}
		return nil
	}
	if err := pre(r, ok); err != nil {
		return v.refusedAs(ctx, who, "report.reopen", id, err)
	}
	_, err := v.append(ctx, sequencer.Draft{Type: TypeReportReopened, Actor: who.actor(), Case: r.Case,
		Check: v.reportCheck(id, r.Case, pre), Data: ReportReopened{Report: id, Reason: reason}})
	return v.refusedAs(ctx, who, "report.reopen", id, err)
}

// NoticeVias are how a notice is sent.
var NoticeVias = []string{"email", "web-form", "iccam", "phone", "letter", "api", "other"}

// SendNotice records a notice sent for one of the report's URLs.
func (v *Vault) SendNotice(ctx context.Context, who Principal, id string, n NoticeSent) error {
	if err := v.mayWorkOnReport(ctx, who, "report.notice", id); err != nil {
		return err
	}
	n.Report = id
	if err := checkText("to", n.To, maxReportFieldBytes, true, false); err != nil {
		return err
	}
	if !slices.Contains(NoticeVias, n.Via) {
		return notOneOf("via", n.Via, NoticeVias)
	}
	if err := checkText("reference", n.Reference, maxReportFieldBytes, false, false); err != nil {
		return err
	}
	// The code as every way in takes it: "kh" is KH.
	given := n.Country
	n.Country = strings.ToUpper(strings.TrimSpace(n.Country))
	if n.Country != "" {
		// Two letters that name a country (CLDR's regions, through
		// x/text): not XX or EU; UK, which ISO reserves for the United
		// Kingdom, is recorded as its code, GB.
		r, err := language.ParseRegion(n.Country)
		if len(n.Country) != 2 || strings.Trim(n.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" || err != nil || !r.IsCountry() {
			return badInput("country %q: give the two-letter ISO 3166-1 alpha-2 code of a country, such as KH, PH or GB", truncate(given))
		}
		n.Country = r.Canonicalize().String()
	}
	at, err := v.checkStated(n.At)
	if err != nil {
		return err
	}
	n.At = at
	if n.URL, err = v.reportURL(id, n.URL); err != nil {
		return err
	}
	pre := func(r Report) error {
		if !slices.Contains(r.URLs, n.URL) {
			return badInput("report %s does not name the URL %q; its URLs: %s", id, truncate(n.URL), strings.Join(r.URLs, " "))
		}
		if at != "" && statedTime(at, time.Time{}).Before(r.ReceivedAt.Truncate(time.Second)) {
			return badInput("the notice cannot have been sent (%s) before the report was received (%s)", spokenTime(statedTime(at, time.Time{})), spokenTime(r.ReceivedAt))
		}
		if prev := r.notice(n.URL); prev != nil && at != "" {
			// Sent again: not before the sending it follows.
			last := prev.SentAt
			if prev.LastSentAt.After(last) {
				last = prev.LastSentAt
			}
			if statedTime(at, time.Time{}).Before(last.Truncate(time.Second)) {
				return badInput("the notice for %s cannot have been sent again (%s) before it was last sent (%s)", truncate(n.URL), spokenTime(statedTime(at, time.Time{})), spokenTime(last))
			}
		}
		return nil
	}
	r, _ := v.state.getReport(id)
	_, err = v.reportDecision(ctx, who, "report.notice", id, pre, sequencer.Draft{Type: TypeNoticeSent, Case: r.Case, Data: n})
	return err
}

// NoticeProgressed records a provider's acknowledgement of a notice, or
// (removed) that the content is confirmed gone from the URL; at, if set,
// is when that happened (RFC 3339), at most MaxBackdate ago.
func (v *Vault) NoticeProgressed(ctx context.Context, who Principal, id, u string, removed bool, note, at string) error {
	typ, action := TypeNoticeAcknowledged, "report.acknowledged"
	if removed {
		typ, action = TypeContentRemoved, "report.removed"
	}
	if err := v.mayWorkOnReport(ctx, who, action, id); err != nil {
		return err
	}
	if err := checkText("note", note, maxReportNoteBytes, false, true); err != nil {
		return err
	}
	at, err := v.checkStated(at)
	if err != nil {
		return err
	}
	if u, err = v.reportURL(id, u); err != nil {
		return err
	}
	pre := func(r Report) error {
		n := r.notice(u)
		switch {
		case !slices.Contains(r.URLs, u):
			return badInput("report %s does not name the URL %q; its URLs: %s", id, truncate(u), strings.Join(r.URLs, " "))
		case n == nil:
			return refusedHint(ErrConflict, "record the notice first: custos report notice, or the notice form on the report's page", "no notice was recorded for %q in report %s", truncate(u), id)
		case removed && !n.RemovedAt.IsZero():
			return refused(ErrConflict, "the removal of %q was already recorded (%s)", truncate(u), spokenTime(n.RemovedAt))
		case !removed && !n.AcknowledgedAt.IsZero():
			return refused(ErrConflict, "the acknowledgement of the notice for %q was already recorded (%s)", truncate(u), spokenTime(n.AcknowledgedAt))
		case at != "" && statedTime(at, time.Time{}).Before(n.SentAt.Truncate(time.Second)):
			return badInput("that cannot have happened (%s) before the notice was sent (%s)", spokenTime(statedTime(at, time.Time{})), spokenTime(n.SentAt))
		}
		return nil
	}
	r, _ := v.state.getReport(id)
	_, err = v.reportDecision(ctx, who, action, id, pre, sequencer.Draft{Type: typ, Case: r.Case, Data: NoticeProgress{Report: id, URL: u, Note: note, At: at}})
	return err
}

// ForwardFormats are the formats of ForwardReport.
var ForwardFormats = []string{"csv", "vics"}

// ForwardReport builds the export of a report for a partner hotline or the
// police: its URLs and its items' hashes (csv), or its items whose
// category is settled as a VICS document (ErrBadInput if none is),
// records it (report.forwarded) and returns it. Evidence itself
// goes to the police as a sealed package (custos package seal).
func (v *Vault) ForwardReport(ctx context.Context, who Principal, id, to, kind, format string) (*HashList, error) {
	// Who may work on the report first (security.md rule 9), then what
	// was asked.
	if err := v.mayWorkOnReport(ctx, who, "report.forward", id); err != nil {
		return nil, err
	}
	if err := checkText("to", to, maxReportFieldBytes, true, false); err != nil {
		return nil, err
	}
	if kind != "hotline" && kind != "police" {
		return nil, badInput("kind %q: hotline or police", truncate(kind))
	}
	if !slices.Contains(ForwardFormats, format) {
		return nil, notOneOf("format", format, ForwardFormats)
	}
	r, _ := v.state.getReport(id)
	known := newKnownChecks()
	items, unsettled, exported, cls, err := v.forwardItems(ctx, r, format, known)
	if err != nil {
		return nil, err
	}
	if format == "vics" && len(items) == 0 {
		verb := "are"
		if unsettled == 1 {
			verb = "is"
		}
		return nil, badInput("no item of report %s is classified baseline or national (%d %s not, or not yet): a VICS export lists only known-illegal items, as its receiver reads it as a hash set; classify them, or forward it as csv", id, unsettled, verb)
	}
	recorded, err := v.depositRecords(ctx, items)
	if err != nil {
		return nil, err
	}
	// The export says of each item what exported says: the categories
	// read once, which the event's check compares at its position (read
	// again for the body, a vote in between could make the body say
	// what no check compared).
	body, err := v.forwardBody(r, format, recorded, func(it Item) Classification { return cls[it.ID] })
	if err != nil {
		return nil, err
	}
	sum := sha256Hex(body)
	pre := func(now Report) error {
		if len(now.Items) != len(r.Items) {
			return refused(ErrConflict, "report %s changed while its export was built; repeat", id)
		}
		// The categories the export names are those at the event's
		// position (votes, a policy or a voter's standing may change
		// them in between).
		if _, _, at, _, err := v.forwardItems(ctx, now, format, &knownChecks{m: known.m, atPosition: true, sets: known.sets}); err != nil {
			return err
		} else if at != exported {
			return refused(ErrConflict, "an item of report %s was classified while its export was built; repeat", id)
		}
		return nil
	}
	evs, err := v.reportDecision(ctx, who, "report.forward", id, pre, sequencer.Draft{Type: TypeReportForwarded, Case: r.Case,
		Data: ReportForwarded{Report: id, To: to, Kind: kind, Format: format, Items: len(items), URLs: len(r.URLs), Size: len(body), SHA256: sum}})
	if err != nil {
		return nil, err
	}
	return &HashList{Format: format, Body: body, SHA256: sum, Event: evs[0].Seq, Items: len(items)}, nil
}

// forwardItems returns the items of a report an export of format holds,
// how many were left out for want of a settled category, their
// classifications as read (by id), and what the
// export says of them (each item with its category, series and how its
// category stands, classificationState), which
// the export's event checks at its position. A VICS document is read as
// a hash set: an item without a category would take whatever category
// the receiver's import gives entries without one (a partner importing it
// as "national" would list a chat log or a system file as illegal), so
// only items whose category is settled as illegal go in one: VICS has no
// category every reader takes for "not illegal" (0 is read as
// uncategorised, by this vault's import among others).
//
// Categories are as exports state them (statedClassification): one
// person's not-illegal vote does not take known material out of a VICS
// document, nor make a csv call it not illegal.
func (v *Vault) forwardItems(ctx context.Context, r Report, format string, known *knownChecks) ([]Item, int, string, map[string]Classification, error) {
	var items []Item
	var said strings.Builder
	cls := map[string]Classification{}
	unsettled := 0
	for _, iid := range r.Items {
		it, ok, err := v.state.getItem(iid)
		if err != nil {
			return nil, 0, "", nil, err
		}
		if !ok {
			continue
		}
		cl, err := v.statedClassification(ctx, it, known)
		if err != nil {
			return nil, 0, "", nil, err
		}
		if format == "vics" && !Illegal(cl.Category) {
			unsettled++
			continue
		}
		items = append(items, it)
		cls[it.ID] = cl
		said.WriteString(exportedLine(it, cl) + classificationState(cl) + "\n")
	}
	return items, unsettled, said.String(), cls, nil
}

// forwardBody renders a report's export: csv has one row per URL (with
// its notice) and one per item (with hashes and classification); vics is
// the items as a VICS 2.0 case named by the report id.
func (v *Vault) forwardBody(r Report, format string, items []recordedItem, classify func(Item) Classification) ([]byte, error) {
	if format == "vics" {
		return hashList(r.Report, "vics", items, classify)
	}
	var b bytes.Buffer
	// notice_to, notice_sent_at, notice_via, notice_reference and
	// notice_country are one sending: the latest; first_notice_sent_at
	// is the URL's first notice (to whomever it went), from which
	// removal is timed (the same time where it was sent once). The
	// columns after removed_at are appended, so that those before keep
	// their places (docs/hotline.md section 3).
	writeCSVRow(&b, "report", "kind", "url_or_item", "name", "size", "sha256", "sha1", "md5", "category", "notice_to", "notice_sent_at", "removed_at",
		"first_notice_sent_at", "notice_via", "notice_reference", "notice_country", "acknowledged_at", "classification", "source")
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, u := range r.URLs {
		var row [8]string // to, sent, removed, first, via, reference, country, acknowledged
		if n := r.notice(u); n != nil {
			last := n.SentAt
			if !n.LastSentAt.IsZero() {
				last = n.LastSentAt
			}
			row = [8]string{csvText(n.To), stamp(last), stamp(n.RemovedAt), stamp(n.SentAt), n.Via, csvText(n.Reference), n.Country, stamp(n.AcknowledgedAt)}
		}
		writeCSVRow(&b, append(append([]string{r.Report, "url", csvText(u), "", "", "", "", "", ""}, row[:]...), "", "")...)
	}
	for _, it := range items {
		d := it.Record
		cl := classify(it.Item)
		// source: where the depositor says it came from (deposit
		// --source), which for a capture is the reported URL it shows.
		writeCSVRow(&b, r.Report, "item", it.ID, csvText(d.Name), strconv.FormatInt(d.Size, 10), d.SHA256, d.SHA1, d.MD5, cl.Category, "", "", "", "", "", "", "", "",
			classificationState(cl), csvText(d.Source))
	}
	return b.Bytes(), nil
}

// classificationState says how an item's category stands, for a reader
// of a forwarded csv who must tell an item nobody classified from one the
// analysts disagree on (both have no category): votes or hashset (what
// settled the category), once-settled, disputed, voting (agreeing
// counted votes short of what settles it: the case's policy, or, for
// known material, two people of the case), unclassified (no counted vote, no hash-set
// match: the votes of people suspended or removed do not count; those of
// people taken off the case count, but do not clear known material).
func classificationState(cl Classification) string {
	switch {
	case cl.Category != "":
		return cl.Source
	case cl.Disputed:
		return "disputed"
	case cl.UndecidedVotes() > 0:
		return "voting"
	}
	return "unclassified"
}

// checkStated checks a stated time of something that happened before it
// was recorded: RFC 3339, not in the future, at most MaxBackdate ago. It
// returns it in UTC ("" stays "").
func (v *Vault) checkStated(at string) (string, error) {
	if at == "" {
		return "", nil
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return "", badInput("time %q: give it as 2026-11-30T14:05:00Z or with its offset, 2026-11-30T21:05:00+07:00", truncate(at))
	}
	now := v.cfg.Now()
	switch {
	case t.After(now):
		return "", badInput("time %s is in the future", at)
	case now.Sub(t) > MaxBackdate:
		return "", badInput("time %s is more than %d days ago: record it now, without a time, and say when it happened in words where the step takes them (a report's description, or the note of an acknowledgement or a removal)", at, int(MaxBackdate.Hours()/24))
	}
	return t.UTC().Format(time.RFC3339), nil
}

// reportURL is the report's own spelling of u, where exactly one of its
// URLs is the same as u as a person means it (sameURL: report list --url
// matches the same way); u itself where none is, which the decision then
// refuses. Two of them (http://host/a and https://host/a/ in one report)
// is ErrBadInput: which one was meant is not guessed.
func (v *Vault) reportURL(id, u string) (string, error) {
	r, ok := v.state.getReport(id)
	if !ok || slices.Contains(r.URLs, u) {
		return u, nil
	}
	var same []string
	typed := TypedURL(u) // as the report recorded what was typed
	for _, ru := range r.URLs {
		if SameURL(ru, u) || SameURL(ru, typed) {
			same = append(same, ru)
		}
	}
	switch len(same) {
	case 0:
		return u, nil
	case 1:
		return same[0], nil
	}
	return "", badInput("%q could be any of the report's URLs %s: give it exactly as the report has it", truncate(u), strings.Join(same, " "))
}

// SameURL compares two reported URLs as a person means them: what does
// not change the page a browser opens set aside (sameURLForm): the
// scheme, user information, a default port (80 or 443), a leading "www."
// and a final "." of the host, the host's case, a fragment, a final
// "/", and percent-encoding of characters that need none (RFC 3986
// section 6.2.2). The path and query keep their case: a server may tell
// /A from /a.
func SameURL(a, b string) bool { return sameURLForm(a) == sameURLForm(b) }

// defaultPorts are the ports a reported URL's scheme implies, as a
// browser leaves them out (addressBarURL, sameURLForm).
var defaultPorts = map[string]string{"http": ":80", "https": ":443", "ftp": ":21"}

// addressBarURL is a checked reported URL (checkReportedURL) as a
// browser's address bar writes it and the report records it: the scheme
// and host in lower case, the port without leading zeros, and left out
// where it is empty or the scheme's default (80, 443, 21), a path "/"
// where none was typed; user information, path, query and fragment as
// typed (a server may tell /A from /a). HTTPS://WWW.Example.COM:0443/A
// reads https://www.example.com/A, http://host.example:8080 reads
// http://host.example:8080/.
func addressBarURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	scheme = strings.ToLower(scheme)
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostport := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hostport = authority[:i+1], authority[i+1:]
	}
	hostport = strings.ToLower(hostport)
	hostport = browserPort(hostport, defaultPorts[scheme])
	// A URL of these schemes always has a path: "/" where none is typed.
	if defaultPorts[scheme] != "" && (tail == "" || tail[0] == '?' || tail[0] == '#') {
		tail = "/" + tail
	}
	return scheme + "://" + userinfo + hostport + tail
}

// browserPort is hostport (lower case) with its port as a browser writes
// it (WHATWG URL, "port state"): an empty one left out, leading zeros
// dropped, and def (":80"; "" for none) left out.
func browserPort(hostport, def string) string {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.Contains(hostport[i:], "]") {
		return hostport // no port (an IPv6 address's colons are inside [])
	}
	host, port := hostport[:i], hostport[i+1:]
	if port != "" && strings.Trim(port, "0123456789") == "" {
		if port = strings.TrimLeft(port, "0"); port == "" {
			port = "0"
		}
	}
	switch {
	case host == "":
		return hostport
	case port == "", ":"+port == def:
		return host
	}
	return host + ":" + port
}

// sameURLForm is the form of a reported URL SameURL compares.
func sameURLForm(s string) string {
	s = strings.TrimSpace(s)
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme, s = s[:i], s[i+3:]
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	end := strings.IndexAny(s, "/?")
	if end < 0 {
		end = len(s)
	}
	host, rest := s[:end], s[end:]
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	host = browserPort(strings.ToLower(host), "")
	// The scheme is set aside, and with it whichever web port it
	// implies; and the port of its own scheme (ftp's), which
	// addressBarURL leaves out alike.
	ports := []string{defaultPorts["http"], defaultPorts["https"]}
	if p := defaultPorts[strings.ToLower(scheme)]; !slices.Contains(ports, p) && p != "" {
		ports = append(ports, p)
	}
	for _, port := range ports {
		if h, ok := strings.CutSuffix(host, port); ok && !strings.HasSuffix(h, ":") {
			host = h
			break
		}
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "."), "www.")
	rest = strings.TrimPrefix(rest, "/")
	return strings.TrimSuffix(host+"/"+unreservedDecoded(rest), "/")
}

// unreservedDecoded is s with each percent-encoded unreserved character
// (RFC 3986 section 2.3: letters, digits, "-", ".", "_", "~") decoded and
// every other percent-encoding's hex digits in upper case, as RFC 3986
// section 6.2.2 normalises them; anything else as it is.
func unreservedDecoded(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
				b.WriteByte(c)
			} else {
				b.WriteString(strings.ToUpper(s[i : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
