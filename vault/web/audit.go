package web

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/events/witness/witnessclient"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// The auditor's pages (custodians see the audit page too): the custody
// log's state and its anchors, a scrub of every stored object, a case's
// custody timeline, and the custody report for a court.

func init() {
	register("GET "+Prefix+"audit", (*Handler).auditPage)
	registerAsks("POST "+Prefix+"audit/scrub", "audit.scrub", (*Handler).scrub)
	register("GET "+Prefix+"cases/{case}/timeline", (*Handler).timeline)
	register("GET "+Prefix+"audit/person", (*Handler).personHistory)
	register("POST "+Prefix+"cases/{case}/report", (*Handler).custodyReport)
}

// checkpointView is a checkpoint as the audit page shows it.
type checkpointView struct {
	Size       uint64
	Root       string
	RootBase64 string
	Note       string
	// Newest is the time of the newest event it covers (auditors only:
	// read from the log), zero if not known.
	Newest time.Time
	// Verdict is the witness policy's verdict on Note (nil without a
	// policy), with the witnesses that did and did not cosign it; Tokens
	// the RFC 3161 tokens obtained over it.
	Verdict           *witness.Verdict
	Cosigned, Missing string
	Tokens            int
}

type auditData struct {
	Auditor    bool
	Checkpoint *checkpointView
	// Witnessed: the vault has a witness policy; TimeStamped: it has
	// time-stamping authorities.
	Witnessed   bool
	Witnesses   []witnessclient.Status
	TimeStamped bool
	TSAs        []vault.TSAStatus
	Cases       []vault.CaseSummary
	// Scrub is the outcome of the scrub just run, or nil.
	Scrub   *vault.ScrubResult
	Checked time.Time
}

// errAuditPage refuses the audit page to a role it is not for; it is
// recorded as every refusal is (authed).
var errAuditPage = fmt.Errorf("%w: the audit page is for auditors and custodians", vault.ErrForbidden)

func (h *Handler) auditData(ctx context.Context, s *session) (*auditData, error) {
	if s.who.Role != vault.RoleAuditor && s.who.Role != vault.RoleCustodian {
		return nil, errAuditPage
	}
	d := &auditData{Auditor: s.who.Role == vault.RoleAuditor, Witnessed: h.v.WitnessPolicy() != nil, TimeStamped: h.v.TimeStamped(),
		Cases: h.v.Cases(s.who), Checked: h.opts.Now().UTC()}
	if d.Auditor {
		// As GET /v1/log/checkpoints: a checkpoint covering every event
		// so far, with what the witnesses and TSAs gave for it.
		if err := h.v.AuditReader(ctx, s.who, "audit.checkpoints"); err != nil {
			return nil, err
		}
		a, err := h.v.AnchoredCheckpoint(ctx)
		if err != nil {
			return nil, err
		}
		d.Checkpoint = newCheckpointView(a.Checkpoint, a.Note)
		if d.Witnessed {
			d.Checkpoint.Verdict = &a.Verdict
			d.Checkpoint.Cosigned, d.Checkpoint.Missing = strings.Join(a.Verdict.Cosigned, ", "), strings.Join(a.Verdict.Missing, ", ")
		}
		d.Checkpoint.Tokens = len(a.Tokens)
		if a.Checkpoint.Size > 0 {
			t, err := h.v.EventTime(ctx, s.who, a.Checkpoint.Size-1)
			if err != nil {
				return nil, err
			}
			d.Checkpoint.Newest = t
		}
	} else if cp, n := h.v.PublicCheckpoint(); cp != nil {
		// What /checkpoint serves to anyone.
		d.Checkpoint = newCheckpointView(cp, n)
	}
	if d.Witnessed {
		d.Witnesses = h.v.WitnessStatus()
	}
	if d.TimeStamped {
		d.TSAs = h.v.TSAStatus()
	}
	return d, nil
}

func newCheckpointView(cp *events.Checkpoint, n []byte) *checkpointView {
	return &checkpointView{Size: cp.Size, Root: hex.EncodeToString(cp.Root[:]), RootBase64: base64.StdEncoding.EncodeToString(cp.Root[:]), Note: string(n)}
}

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, s *session) error {
	d, err := h.auditData(r.Context(), s)
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "audit", s.lang.text("audit.title"), d)
}

// scrub re-hashes every stored object (vault.Scrub, which records the
// outcome and each failure) and shows the outcome on the audit page.
func (h *Handler) scrub(w http.ResponseWriter, r *http.Request, s *session) error {
	res, err := h.v.Scrub(r.Context(), s.who)
	if err != nil {
		return err
	}
	d, err := h.auditData(r.Context(), s)
	if err != nil {
		return err
	}
	d.Scrub = res
	return h.render(w, r, s, http.StatusOK, "audit", s.lang.text("audit.title"), d)
}

// timelineRows bounds the rows of one timeline page (a variable for the
// tests).
var timelineRows = 1000

// timelineRow is one event of a timeline.
type timelineRow struct {
	Seq  uint64
	Time time.Time
	Type string
	// Action says in words what happened, as the custody report says it.
	Action string
	Person string
	Role   string
	Auth   string
	// Case is the event's case, in a person's history (the whole log).
	Case     string
	Item     string
	ItemName string
	Purpose  string
	Reason   string
	// Words are the event's details as the custody report says them
	// (custody.DescribeClauses, joined as custody.Describe joins them),
	// Clauses the same in their parts; Details, shown when it says
	// nothing, the event's other telling data members as custos audit
	// log prints them (key=value).
	Words   string
	Clauses []string
	Details []string
}

type timelineData struct {
	// Case is the case whose timeline is shown, "" for a person's
	// history across the whole log.
	Case string
	// Item, Type and Person are the filters (Type a prefix of the event
	// type, Person a name: the events by them or naming them,
	// custody.NamesPerson).
	Item, Type, Person string
	Rows               []timelineRow
	// Matched counts the events that pass the filters; Rows are at most
	// Max of them, from the first after After (with HasAfter).
	Matched  int
	After    uint64
	HasAfter bool
	// Next is the address of the next page, "" if there is none.
	Next template.URL
	Max  int
}

// detailKeys are the data members a timeline row shows of an event that
// custody.Describe does not say in words (purpose and reason have their
// own column).
var detailKeys = []string{"action", "target", "kind", "person", "name", "package", "for", "report", "url", "to", "category", "override", "at", "order", "request"}

// timeline shows the custody events of a case, or of one of its items
// (?item=), as GET /v1/log/timeline gives them, filtered by type prefix
// (?type=) and person (?person=: by them or naming them), at most
// timelineRows to a page (?after=SEQ continues).
func (h *Handler) timeline(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.showTimeline(w, r, s, r.PathValue("case"))
}

// personHistory shows a person's history across the whole log
// (?person=NAME, required): the events by them, their refused attempts
// included, and those naming them (custody.NamesPerson), as custos audit
// log --person gives them; filtered and paged as a case's timeline.
func (h *Handler) personHistory(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.showTimeline(w, r, s, "")
}

func (h *Handler) showTimeline(w http.ResponseWriter, r *http.Request, s *session, caseID string) error {
	q := r.URL.Query()
	d := timelineData{Case: caseID, Item: strings.TrimSpace(q.Get("item")), Type: strings.TrimSpace(q.Get("type")),
		Person: strings.TrimSpace(q.Get("person")), Max: timelineRows}
	// Who may ask first: a malformed field of someone who may not read
	// the log is their refusal, recorded, not bad input.
	if err := h.v.AuditReader(r.Context(), s.who, "audit.log"); err != nil {
		return err
	}
	if caseID == "" && (d.Person == "" || d.Item != "") {
		return fmt.Errorf("%w: a person's history needs ?person=NAME (an item's is on its case's timeline)", vault.ErrBadInput)
	}
	if d.Person != "" && vault.CheckPersonName(d.Person) != nil {
		// Not shown back: a link cannot put words of its own on the page.
		return fmt.Errorf("%w: ?person= is not a person's name (1-64 lowercase ASCII letters, digits, '.', '_' or '-')", vault.ErrBadInput)
	}
	hasAfter := q.Get("after") != ""
	if hasAfter {
		n, err := strconv.ParseUint(q.Get("after"), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: after must be an event's sequence number", vault.ErrBadInput)
		}
		d.After, d.HasAfter = n, true
	}
	names := map[string]string{}
	var last uint64
	more := false
	err := h.v.Timeline(r.Context(), s.who, d.Case, d.Item, func(_ events.Record, ev *events.Event) error {
		var data map[string]any
		ev.DecodeData(&data)
		if ev.Type == vault.TypeItemDeposited {
			if n, ok := data["name"].(string); ok {
				names[ev.Item] = n
			}
		}
		switch {
		case d.Item != "" && ev.Case != d.Case, // an item of another case
			d.Type != "" && !strings.HasPrefix(ev.Type, d.Type),
			d.Person != "" && !custody.NamesPerson(ev, d.Person):
			return nil
		}
		d.Matched++
		if hasAfter && ev.Seq <= d.After {
			return nil
		}
		if len(d.Rows) == timelineRows {
			more = true
			return nil
		}
		row := timelineRow{Seq: ev.Seq, Time: ev.Timestamp().UTC(), Type: ev.Type, Person: ev.Actor.Person, Role: ev.Actor.Role,
			Auth: ev.Actor.Auth, Item: ev.Item, ItemName: names[ev.Item]}
		if d.Case == "" {
			row.Case = ev.Case
		}
		row.Action, row.Clauses = custody.DescribeClauses(ev)
		row.Words = strings.Join(row.Clauses, "; ")
		row.Purpose, _ = data["purpose"].(string)
		if reason, _ := data["reason"].(string); !strings.Contains(row.Words, "“"+custody.Shown(reason)+"”") {
			// Said once: most descriptions quote the reason already.
			row.Reason = reason
		}
		for _, k := range detailKeys {
			if row.Words != "" {
				break
			}
			if v, ok := data[k].(string); ok && v != "" && !(k == "name" && v == row.ItemName) {
				row.Details = append(row.Details, k+"="+v)
			}
		}
		d.Rows = append(d.Rows, row)
		last = ev.Seq
		return nil
	})
	if err != nil {
		return err
	}
	if more {
		// The next page starts after the last row.
		nq := url.Values{"after": {strconv.FormatUint(last, 10)}}
		for k, v := range map[string]string{"item": d.Item, "type": d.Type, "person": d.Person} {
			if v != "" {
				nq.Set(k, v)
			}
		}
		d.Next = template.URL(Prefix + "cases/" + url.PathEscape(d.Case) + "/timeline?" + nq.Encode())
		if d.Case == "" {
			d.Next = template.URL(Prefix + "audit/person?" + nq.Encode())
		}
	}
	title := s.lang.text("timeline.title", d.Case)
	switch {
	case d.Case == "":
		title = s.lang.text("timeline.title.person", d.Person)
	case d.Item != "":
		title = s.lang.text("timeline.title.item", d.Item)
	}
	return h.render(w, r, s, http.StatusOK, "timeline", title, d)
}

// custodyReport makes the custody report of a case (PDF) and sends it as
// an attachment, as GET /v1/cases/{case}/report?format=pdf: the request
// and its purpose are recorded (custody.report) before it is made.
func (h *Handler) custodyReport(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	// Item ids separated by commas or white space, as pasted.
	items := strings.FieldsFunc(r.PostForm.Get("items"), func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
	caseID := r.PathValue("case")
	doc, err := h.v.CustodyDocument(r.Context(), s.who, vault.DocumentRequest{Case: caseID, Items: items, Format: vault.FormatPDF,
		Purpose: strings.TrimSpace(r.PostForm.Get("purpose"))})
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", doc.ContentType)
	// Named by its custody.report event too: each report of a case is a
	// file of its own, and the event that records it is in its name.
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fmt.Sprintf("custody-report-%s-event-%d.pdf", caseID, doc.Event)}))
	hd.Set("Content-Security-Policy", evidencePolicy)
	hd.Set("Cache-Control", "no-store")
	hd.Set(api.HeaderSHA256, doc.SHA256)
	hd.Set(api.HeaderSize, strconv.Itoa(len(doc.Body)))
	hd.Set(api.HeaderAccessEvent, strconv.FormatUint(doc.Event, 10))
	hd.Set(api.HeaderCheckpointSize, strconv.FormatUint(doc.Checkpoint, 10))
	hd.Set("Content-Length", strconv.Itoa(len(doc.Body)))
	w.WriteHeader(http.StatusOK)
	w.Write(doc.Body)
	return nil
}
