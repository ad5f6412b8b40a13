package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"filippo.io/age"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// hotline is a vault with a custodian pair, three analysts assigned to
// case HL-1 and an investigator who is not.
type hotline struct {
	v               *Vault
	cust, cust2     Principal
	a1, a2, a3, inv Principal
	ctx             context.Context
}

// lowerPolicy lowers HL-1's classification policy to votes as the vault
// lets it be: a request of cust that cust2 approves. It returns what the
// approval did to the case's items.
func (h *hotline) lowerPolicy(t *testing.T, votes int) PolicyEffect {
	t.Helper()
	ch, err := h.v.SetClassificationPolicy(h.ctx, h.cust, "HL-1", votes, "the case's review is done")
	if err != nil {
		t.Fatal(err)
	}
	if ch.Request == nil || ch.Request.Kind != KindClassificationPolicy {
		t.Fatalf("lowering the policy to %d opened no request: %+v", votes, ch)
	}
	a, err := h.v.Approve(h.ctx, h.cust2, ch.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.ClassificationPolicy == nil {
		t.Fatalf("the approval of a lowering says nothing of its effect: %+v", a)
	}
	if got := h.v.state.votesNeeded("HL-1"); got != votes {
		t.Fatalf("approved, the policy is %d, not %d", got, votes)
	}
	return *a.ClassificationPolicy
}

func newHotline(t *testing.T, configure ...func(*Config)) *hotline {
	t.Helper()
	v, _ := openTestVaultDir(t, configure...)
	h := &hotline{v: v, ctx: context.Background()}
	h.cust = enrolled(t, v, "cust", RoleCustodian)
	h.cust2 = enrolled(t, v, "cust2", RoleCustodian)
	h.a1 = enrolled(t, v, "ana1", RoleAnalyst)
	h.a2 = enrolled(t, v, "ana2", RoleAnalyst)
	h.a3 = enrolled(t, v, "ana3", RoleAnalyst)
	h.inv = enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(h.ctx, h.a1, "HL-1", "hotline reports"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"ana2", "ana3"} {
		req, err := v.AddMember(h.ctx, h.cust, "HL-1", p, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Approve(h.ctx, h.cust2, req.ID); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *hotline) deposit(t *testing.T, who Principal, name string, body []byte, report string) *DepositResult {
	t.Helper()
	res, err := h.v.Deposit(h.ctx, who, DepositRequest{Case: "HL-1", Name: name, Body: bytes.NewReader(body), Report: report})
	if err != nil {
		t.Fatalf("deposit %s: %v", name, err)
	}
	return res
}

// investigation opens case INV-1, the investigator's, with one item.
func (h *hotline) investigation(t *testing.T) {
	t.Helper()
	if err := h.v.OpenCase(h.ctx, h.inv, "INV-1", "an investigation"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.Deposit(h.ctx, h.inv, DepositRequest{Case: "INV-1", Name: "a.bin", Body: strings.NewReader("abc")}); err != nil {
		t.Fatal(err)
	}
}

func (h *hotline) view(who Principal, item string, reveal bool) (*Reveal, error) {
	r, err := h.v.Open(h.ctx, who, RevealRequest{Item: item, Purpose: "assessment", RevealKnown: reveal})
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, r)
	return r, r.Finish(h.ctx)
}

func (h *hotline) eventsOf(t *testing.T, typ string) []*events.Event {
	t.Helper()
	var out []*events.Event
	err := h.v.cfg.Log.Read(h.ctx, 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err == nil && ev.Type == typ {
			out = append(out, ev)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReportLifecycle(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	pub, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a.jpg", "https://host.example/b"}, Description: "seen on a forum", Contact: "me@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	// A contact with "anonymously": refused, recorded nowhere, and said
	// (it used to be dropped without a word).
	if _, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"http://other.example/x"}, Anonymous: true, Contact: "dropped@example.org"}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("an anonymous report with a contact: %v", err)
	}
	if _, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"http://other.example/x"}, Anonymous: true, Contact: "dropped@example.org"}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("an analyst's anonymous report with a contact: %v", err)
	}
	anon, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"http://other.example/x"}, Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	// The public actor: nobody signed in, nothing of the connection.
	recv := h.eventsOf(t, TypeReportReceived)
	if len(recv) != 2 || recv[0].Actor.Role != RolePublic || recv[0].Actor.Auth != "none" {
		t.Fatalf("report.received events: %+v", recv)
	}
	var d ReportReceived
	if err := recv[1].DecodeData(&d); err != nil || d.ContactSealed != "" || !d.Anonymous || bytes.Contains(recv[1].Data, []byte("dropped@")) {
		t.Fatalf("an anonymous report kept its contact: %+v %v", d, err)
	}
	if err := recv[0].DecodeData(&d); err != nil || d.ContactSealed == "" || bytes.Contains(recv[0].Data, []byte("me@example.org")) {
		t.Fatalf("a contact is not sealed in the log: %+v %v", d, err)
	}
	// Was it reported before? By URL, as a person writes it.
	if l, err := v.Reports(ctx, h.a1, "", "host.example/b/"); err != nil || len(l) != 1 || l[0].Report != pub {
		t.Fatalf("reports naming host.example/b: %+v %v", l, err)
	}
	if l, _ := v.Reports(ctx, h.a1, "", "https://host.example/c"); len(l) != 0 {
		t.Fatalf("a URL no report names: %+v", l)
	}
	// Contact: analysts only.
	rv, err := v.ReportDetail(ctx, h.a1, pub)
	if err != nil || rv.Contact != "me@example.org" || rv.Status != StatusReceived {
		t.Fatalf("analyst's view: %+v %v", rv, err)
	}
	if rv, err := v.ReportDetail(ctx, h.cust, pub); err != nil || rv.Contact != "" || !rv.ContactWithheld {
		t.Fatalf("custodian's view shows the contact: %+v %v", rv, err)
	}
	if _, err := v.ReportDetail(ctx, h.inv, pub); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an investigator read a report: %v", err)
	}
	// Deposits for a report need it assessed into the case.
	if _, err := v.Deposit(ctx, h.a1, DepositRequest{Case: "HL-1", Name: "cap.png", Body: strings.NewReader("x"), Report: pub}); !errors.Is(err, ErrConflict) {
		t.Fatalf("deposit for an unassessed report: %v", err)
	}
	if err := v.AssessReport(ctx, h.inv, pub, "HL-1", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an investigator assessed a report: %v", err)
	}
	if err := v.AssessReport(ctx, h.a1, pub, "HL-1", "looks real"); err != nil {
		t.Fatal(err)
	}
	it := h.deposit(t, h.a1, "capture.txt", []byte("capture of the page"), pub)
	// Notice and takedown, in order.
	if err := v.NoticeProgressed(ctx, h.a1, pub, "https://host.example/a.jpg", true, "", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("removal before a notice: %v", err)
	}
	if err := v.SendNotice(ctx, h.a1, pub, NoticeSent{URL: "https://not.in.report/", To: "Host Ltd", Via: "email"}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("notice for a URL the report does not name: %v", err)
	}
	// The URL as a person writes it (no scheme, "www.", a final "/") is
	// the report's, recorded as the report spells it; a country in small
	// letters is the same code.
	// A country's name is refused, quoted as it was given, and so are two
	// letters that name no country.
	if err := v.SendNotice(ctx, h.a1, pub, NoticeSent{URL: "https://host.example/a.jpg", To: "Host Ltd", Via: "email", Country: "Netherlands"}); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), `"Netherlands"`) {
		t.Fatalf("a country's name: %v", err)
	}
	for _, c := range []string{"XX", "EU", "ZZ"} {
		if err := v.SendNotice(ctx, h.a1, pub, NoticeSent{URL: "https://host.example/a.jpg", To: "Host Ltd", Via: "email", Country: c}); !errors.Is(err, ErrBadInput) {
			t.Fatalf("country %s: %v", c, err)
		}
	}
	if err := v.SendNotice(ctx, h.a1, pub, NoticeSent{URL: "www.HOST.example/a.jpg/", To: "Host Ltd", Via: "email", Country: "nl"}); err != nil {
		t.Fatal(err)
	}
	if sent := h.eventsOf(t, TypeNoticeSent); len(sent) == 0 || !bytes.Contains(sent[len(sent)-1].Data, []byte(`"url":"https://host.example/a.jpg"`)) ||
		!bytes.Contains(sent[len(sent)-1].Data, []byte(`"country":"NL"`)) {
		t.Fatalf("the notice recorded: %s", sent[len(sent)-1].Data)
	}
	// Stated times: never before what they follow, in the future, or
	// more than 30 days ago.
	for _, at := range []string{time.Now().Add(-time.Hour).Format(time.RFC3339), time.Now().Add(time.Hour).Format(time.RFC3339),
		time.Now().Add(-40 * 24 * time.Hour).Format(time.RFC3339), "yesterday"} {
		if err := v.NoticeProgressed(ctx, h.a1, pub, "https://host.example/a.jpg", true, "", at); !errors.Is(err, ErrBadInput) {
			t.Fatalf("removal stated at %s: %v", at, err)
		}
	}
	// Times a refusal compares are said as the pages say times.
	spoken := regexp.MustCompile(`\(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\) before the notice was sent \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)`)
	if err := v.NoticeProgressed(ctx, h.a1, pub, "https://host.example/a.jpg", true, "", time.Now().Add(-time.Hour).Format(time.RFC3339)); err == nil || !spoken.MatchString(err.Error()) {
		t.Errorf("a removal stated before its notice: %v", err)
	}
	if err := v.NoticeProgressed(ctx, h.a1, pub, "host.example/a.jpg", false, "ticket 7", time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	if err := v.NoticeProgressed(ctx, h.a1, pub, "https://host.example/a.jpg", true, "checked: 404", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.NoticeProgressed(ctx, h.a1, pub, "https://host.example/a.jpg", true, "", ""); !errors.Is(err, ErrConflict) ||
		!regexp.MustCompile(`already recorded \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)`).MatchString(err.Error()) {
		t.Fatalf("a second removal: %v", err)
	}
	list, err := v.ForwardReport(ctx, h.a1, pub, "ECPAT Philippines", "hotline", "csv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(list.Body, []byte(it.SHA256)) || !bytes.Contains(list.Body, []byte("https://host.example/b")) {
		t.Fatalf("forward export lacks the item's hash or a URL:\n%s", list.Body)
	}
	fw := h.eventsOf(t, TypeReportForwarded)
	if len(fw) != 1 {
		t.Fatalf("%d forward events", len(fw))
	}
	var f ReportForwarded
	fw[0].DecodeData(&f)
	if f.SHA256 != list.SHA256 || f.Items != 1 || f.URLs != 2 {
		t.Fatalf("forward event %+v does not describe the export", f)
	}
	rv, _ = v.ReportDetail(ctx, h.a1, pub)
	if rv.Status != StatusActioned || len(rv.Items) != 1 || rv.Items[0] != it.ID || rv.Notices[0].RemovedAt == nil {
		t.Fatalf("report after takedown: %+v", rv)
	}
	if err := v.CloseReport(ctx, h.a1, pub, "actioned", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, pub, "actioned", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("closing twice: %v", err)
	}
	// Closed by mistake: opened again, with its status as its events
	// give it, and closed again.
	if err := v.ReopenReport(ctx, h.inv, pub, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an investigator reopened a report: %v", err)
	}
	if err := v.ReopenReport(ctx, h.a1, pub, "closed before the second URL was checked"); err != nil {
		t.Fatal(err)
	}
	if rv, _ := v.ReportDetail(ctx, h.a1, pub); rv.Status != StatusActioned || rv.ClosedAt != nil {
		t.Fatalf("reopened report: %+v", rv)
	}
	if err := v.ReopenReport(ctx, h.a1, pub, "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("reopening an open report: %v", err)
	}
	if err := v.CloseReport(ctx, h.a1, pub, "actioned", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, anon, "content-gone", ""); err != nil {
		t.Fatal(err)
	}
	s, err := v.Statistics(ctx, h.cust, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if s.Reports.Received != 2 || s.Reports.Relevant != 1 || s.Reports.Closed["actioned"] != 2 || s.Reports.Closed["content-gone"] != 1 ||
		s.Notices.Sent != 1 || s.Notices.Removed != 1 || s.Notices.RemovalHours.N != 1 || s.Items.Deposited != 1 || s.Forwarded["hotline"] != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

// TestReportBadInputChangesNothing: each malformed report is refused with
// a clear error and leaves the log as it was.
func TestReportBadInputChangesNothing(t *testing.T) {
	h := newHotline(t)
	size := h.v.log.Size()
	long := "https://host.example/" + strings.Repeat("a", MaxURLBytes)
	many := make([]string, MaxReportURLs+1)
	for i := range many {
		many[i] = "https://host.example/" + strings.Repeat("x", i+1)
	}
	for name, req := range map[string]ReportRequest{
		"no URL":             {},
		"relative URL":       {URLs: []string{"/a.jpg"}},
		"javascript URL":     {URLs: []string{"javascript:alert(1)"}},
		"file URL":           {URLs: []string{"file:///etc/passwd"}},
		"space in URL":       {URLs: []string{"https://host.example/a b"}},
		"control in URL":     {URLs: []string{"https://host.example/\x1b[2J"}},
		"non-ASCII URL":      {URLs: []string{"https://host.example/é"}},
		"too long URL":       {URLs: []string{long}},
		"too many URLs":      {URLs: many},
		"duplicate URL":      {URLs: []string{"https://h.example/", "https://h.example/"}},
		"control in text":    {URLs: []string{"https://h.example/"}, Description: "a\x00b"},
		"invisible contact":  {URLs: []string{"https://h.example/"}, Contact: "\u200b"},
		"oversized text":     {URLs: []string{"https://h.example/"}, Description: strings.Repeat("d", MaxDescriptionBytes+1)},
		"bidi control text":  {URLs: []string{"https://h.example/"}, Description: "abc\u202edef"},
		"newline in contact": {URLs: []string{"https://h.example/"}, Contact: "a\nb"},
	} {
		if _, err := h.v.ReceivePublicReport(h.ctx, req); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v, want bad input", name, err)
		}
	}
	if _, err := h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "carrier-pigeon", URLs: []string{"https://h.example/"}}); !errors.Is(err, ErrBadInput) {
		t.Errorf("unknown channel: %v", err)
	}
	if got := h.v.log.Size(); got != size {
		t.Fatalf("bad input changed the log: %d events, was %d", got, size)
	}
}

func TestClassificationVotesAndKnownMaterial(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.a1, "HL-1", 3, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst set the policy: %v", err)
	}
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 3, ""); err != nil {
		t.Fatal(err)
	}
	photo := []byte("pretend this is a photo that analysts must classify")
	first := h.deposit(t, h.a1, "first.jpg", photo, "")
	// Three votes settle it; a disagreement is visible and settles
	// nothing.
	cl, err := v.Classify(ctx, h.a1, first.ID, ClassifyRequest{Category: CategoryBaseline, AgeGroup: "pre-pubescent", Sex: "female"})
	if err != nil || cl.Category != "" || cl.Tally[CategoryBaseline] != 1 || cl.Needed != 3 {
		t.Fatalf("after one vote: %+v %v", cl, err)
	}
	if _, err := h.view(h.a2, first.ID, false); err != nil {
		t.Fatalf("an unsettled item must be viewable by the next analyst: %v", err)
	}
	cl, _ = v.Classify(ctx, h.a2, first.ID, ClassifyRequest{Category: CategoryNational})
	if !cl.Disputed || cl.Category != "" {
		t.Fatalf("a disagreement: %+v", cl)
	}
	// The case's list says so too, not only item show.
	inList := func() ItemSummary {
		list, err := v.Items(ctx, h.a1, "HL-1", ItemFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list {
			if s.ID == first.ID {
				return s
			}
		}
		t.Fatal("the item is not in its case's list")
		return ItemSummary{}
	}
	if s := inList(); !s.Disputed || s.Votes != 0 || s.Voted != "" {
		t.Fatalf("a disputed item in its case's list: %+v, want disputed and no vote count", s)
	}
	cl, _ = v.Classify(ctx, h.a2, first.ID, ClassifyRequest{Category: CategoryBaseline}) // replaces their vote
	if cl.Disputed || cl.Tally[CategoryBaseline] != 2 || len(cl.Votes) != 2 {
		t.Fatalf("a changed vote: %+v", cl)
	}
	// Unsettled, undisputed: the list says how far the votes are, not
	// a blank.
	if s := inList(); s.Disputed || s.Category != "" || s.Voted != CategoryBaseline || s.Votes != 2 || s.Needed != 3 {
		t.Fatalf("an item with 2 agreeing votes of 3 in its case's list: %+v", s)
	}
	if _, err := v.Classify(ctx, h.inv, first.ID, ClassifyRequest{Category: CategoryBaseline}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an investigator outside the case voted: %v", err)
	}
	if _, err := v.Classify(ctx, h.a3, first.ID, ClassifyRequest{Category: "bad"}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("an unknown category: %v", err)
	}
	cl, err = v.Classify(ctx, h.a3, first.ID, ClassifyRequest{Category: CategoryBaseline})
	if s := inList(); s.Category != CategoryBaseline || s.Votes != 0 || s.Voted != "" {
		t.Fatalf("a settled item in its case's list: %+v", s)
	}
	if err != nil || cl.Category != CategoryBaseline || cl.Source != "votes" {
		t.Fatalf("three agreeing votes: %+v %v", cl, err)
	}
	// Settled: the item and an identical copy are known material,
	// hidden by default; the override is recorded with why.
	copyRes := h.deposit(t, h.a1, "renamed-copy.jpg", photo, "")
	// Of the same case, the item it copies is named.
	if !strings.Contains(copyRes.Known, "identical (SHA-256) to item "+first.ID+" of this case, classified baseline") {
		t.Fatalf("the copy's deposit answer: %+v", copyRes)
	}
	before := len(h.eventsOf(t, TypeItemAccessed))
	for _, id := range []string{first.ID, copyRes.ID} {
		if _, err := h.view(h.a2, id, false); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "known material") {
			t.Fatalf("known item %s shown without an override: %v", id, err)
		}
	}
	if n := len(h.eventsOf(t, TypeItemAccessed)); n != before {
		t.Fatalf("a refused reveal left an access event")
	}
	refusals := h.eventsOf(t, TypeAccessRefused)
	if last := refusals[len(refusals)-1]; last.Item != copyRes.ID {
		t.Fatalf("the refusal was not recorded against the item: %+v", last)
	}
	if _, err := h.view(h.a2, copyRes.ID, true); err != nil {
		t.Fatal(err)
	}
	acc := h.eventsOf(t, TypeItemAccessed)
	var d ItemAccessed
	acc[len(acc)-1].DecodeData(&d)
	if !strings.Contains(d.Override, "identical (SHA-256)") {
		t.Fatalf("the override's reason is not recorded: %+v", d)
	}
	// Exposure: a2 saw first.jpg (before it was settled) and the copy.
	e, err := v.Exposure(ctx, h.a2, "")
	if err != nil || e.Today.Items != 2 || e.Today.Overrides != 1 {
		t.Fatalf("exposure: %+v %v", e, err)
	}
	if _, err := v.Exposure(ctx, h.a1, "ana2"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst read another's exposure: %v", err)
	}
	if e, err := v.Exposure(ctx, h.cust, "ana2"); err != nil || e.Today.Items != 2 {
		t.Fatalf("the custodian's view of the exposure: %+v %v", e, err)
	}
	// Unrelated material stays visible. Of the new (first.jpg, other.txt),
	// first.jpg is known now (classified baseline), other.txt is not.
	other := h.deposit(t, h.a1, "other.txt", []byte("unrelated"), "")
	if other.Known != "" {
		t.Fatalf("unrelated item known: %q", other.Known)
	}
	s, err := v.Statistics(ctx, h.cust, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if s.ByCategory[CategoryBaseline] != 1 || s.ByCategory["unclassified"] != 2 || s.Items.Known != 2 || s.Items.New != 2 || s.Items.NewNotKnown != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestExposureLimitWarns(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.ExposureDailyLimit = 2 })
	var ids []string
	for i := range 3 {
		ids = append(ids, h.deposit(t, h.a1, "f"+string(rune('a'+i)), []byte{byte(i)}, "").ID)
	}
	for i, id := range ids {
		r, err := h.view(h.a1, id, false)
		if err != nil {
			t.Fatal(err)
		}
		if (r.Warning != "") != (i >= 2) {
			t.Fatalf("view %d: warning %q", i+1, r.Warning)
		}
	}
}

// An access is recorded as shown only where the reader says the vault's
// viewer shows the item's media (RevealRequest.ShownIf), as a copy
// otherwise; both count in the person's exposure, live and replayed.
func TestAccessRecordsShownOrCopy(t *testing.T) {
	h := newHotline(t)
	id := h.deposit(t, h.a1, "f.bin", []byte("content"), "").ID
	for _, shown := range []func(*MediaInfo) bool{nil, func(*MediaInfo) bool { return false }, func(*MediaInfo) bool { return true }} {
		r, err := h.v.Open(h.ctx, h.a1, RevealRequest{Item: id, Purpose: "assessment", ShownIf: shown})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, r)
		if err := r.Finish(h.ctx); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, ev := range h.eventsOf(t, TypeItemAccessed) {
		var d ItemAccessed
		if err := ev.DecodeData(&d); err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Access)
	}
	if !slices.Equal(got, []string{AccessCopy, AccessCopy, AccessShown}) {
		t.Fatalf("accesses recorded as %q", got)
	}
	live, err := h.v.Exposure(h.ctx, h.a1, "")
	if err != nil {
		t.Fatal(err)
	}
	h.v.Close()
	v2, err := Open(h.ctx, h.v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	replayed, err := v2.Exposure(h.ctx, h.a1, "")
	if err != nil {
		t.Fatal(err)
	}
	if live.Today.Items != 3 || replayed.Today.Items != 3 {
		t.Errorf("exposure counts %d accesses live, %d replayed; want 3", live.Today.Items, replayed.Today.Items)
	}
}

// TestReportHistoryShowsNotesAndReopenings: a report's readers see what
// happened to it, as the log records it: the assessment's note, a
// notice's acknowledgement note, the closing with its reason and note,
// and the reopening with its reason, in order; notes are not kept in
// memory but read from the log.
func TestReportHistoryShowsNotesAndReopenings(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return v.AssessReport(ctx, h.a1, rp, "HL-1", "looks like a known series") },
		func() error {
			return v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: "https://host.example/a", To: "Host Ltd", Via: "email"})
		},
		func() error {
			return v.NoticeProgressed(ctx, h.a1, rp, "https://host.example/a", false, "ticket 7", "")
		},
		func() error { return v.CloseReport(ctx, h.a1, rp, ReportCloseReasons[0], "nothing more to do") },
		func() error { return v.ReopenReport(ctx, h.a1, rp, "the content is back") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	view, err := v.ReportDetail(ctx, h.a1, rp)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range view.History {
		got = append(got, e.Type+" "+e.Details)
	}
	want := []string{"report.received", "report.assessing", "report.notice.sent", "report.notice.acknowledged", "report.closed", "report.reopened"}
	if len(got) != len(want) {
		t.Fatalf("history %q", got)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w+" ") {
			t.Fatalf("history entry %d is %q, want %s", i, got[i], w)
		}
	}
	for i, note := range map[int]string{1: "“looks like a known series”", 3: "“ticket 7”", 4: "“nothing more to do”", 5: "“the content is back”"} {
		if !strings.Contains(got[i], note) {
			t.Errorf("history entry %d lacks %s: %q", i, note, got[i])
		}
	}
	if view.History[1].By != "ana1" && view.History[1].By != h.a1.Name {
		t.Errorf("the assessment by %q", view.History[1].By)
	}
}

// TestReportRecordedLater: a report an analyst enters after it arrived
// (by phone, overnight) is received at the time they state, so that a
// notice sent before it was entered is accepted and times to removal
// start from the report's arrival; a time in the future or beyond
// MaxBackdate is refused, and the public intake takes no time at all.
func TestReportRecordedLater(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	arrived := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	for _, at := range []string{time.Now().Add(time.Hour).Format(time.RFC3339), time.Now().Add(-40 * 24 * time.Hour).Format(time.RFC3339), "last night"} {
		_, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "phone", URLs: []string{"https://host.example/p"}, At: at})
		if !errors.Is(err, ErrBadInput) {
			t.Fatalf("a report stated at %s: %v", at, err)
		}
		// The advice names nothing a report lacks (it has no note).
		if strings.Contains(err.Error(), "days ago") && !strings.Contains(err.Error(), "a report's description") {
			t.Errorf("a report stated too long ago: %v, want the advice to name the description", err)
		}
	}
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "phone", URLs: []string{"https://host.example/p"}, At: arrived.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := v.state.getReport(rp)
	if !r.ReceivedAt.Equal(arrived) {
		t.Fatalf("received at %v, want %v", r.ReceivedAt, arrived)
	}
	sent := arrived.Add(time.Hour).Format(time.RFC3339)
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: "https://host.example/p", To: "Host Ltd", Via: "phone", At: sent}); err != nil {
		t.Fatalf("a notice sent after the stated arrival, before the report was entered: %v", err)
	}
	// The public intake's time is its event's, whatever it is given.
	pub, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/q"}, At: arrived.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := v.state.getReport(pub); p.ReceivedAt.Before(arrived.Add(time.Hour)) {
		t.Fatalf("the public intake took a stated time: %v", p.ReceivedAt)
	}
}

// TestVotesCountWhileTheirVoterIsTrusted: a vote stops counting while its
// voter is suspended and for good once they are removed; the item whose
// category rested on it is unsettled (and no longer known material by
// it), and the vote is shown as not counted, with why.
func TestVotesCountWhileTheirVoterIsTrusted(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	it := h.deposit(t, h.a1, "settled.jpg", []byte("settled by one analyst's vote"), "")
	if cl, err := v.Classify(ctx, h.a2, it.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil || cl.Category != CategoryBaseline {
		t.Fatalf("one vote under the default policy: %+v %v", cl, err)
	}
	category := func() (string, string) {
		got, _, _ := v.state.getItem(it.ID)
		cl := v.classification(got)
		reason := ""
		for _, vt := range cl.Votes {
			if vt.By == h.a2.Name {
				reason = vt.NotCounted
			}
		}
		return cl.Category, reason
	}
	if _, err := v.Suspend(ctx, h.cust, h.a2.Name, "under review"); err != nil {
		t.Fatal(err)
	}
	if c, why := category(); c != "" || why != "the voter is suspended" {
		t.Fatalf("while the voter is suspended: category %q, vote %q", c, why)
	}
	got, _, _ := v.state.getItem(it.ID)
	if known, _ := v.knownBecause(ctx, got, nil); known != "" {
		t.Fatalf("known material by a suspended voter's vote: %s", known)
	}
	rq, err := v.Reinstate(ctx, h.cust, h.a2.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, h.cust2, rq.ID); err != nil {
		t.Fatal(err)
	}
	if c, why := category(); c != CategoryBaseline || why != "" {
		t.Fatalf("after the reinstatement: category %q, vote %q", c, why)
	}
	if _, err := v.Remove(ctx, h.cust, h.a2.Name, "misconduct"); err != nil {
		t.Fatal(err)
	}
	if c, why := category(); c != "" || why != "the voter was removed" {
		t.Fatalf("after the removal: category %q, vote %q", c, why)
	}
}

// TestExposureOfStaff: a custodian sees one day's exposure of every
// analyst and investigator, most items first, with who reached the daily
// limit; anyone else is refused and the refusal recorded; a day that is
// not one is refused.
func TestExposureOfStaff(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.ExposureDailyLimit = 2 })
	v, ctx := h.v, h.ctx
	for i := range 2 {
		it := h.deposit(t, h.a1, fmt.Sprintf("seen-%d.bin", i), []byte(fmt.Sprint("seen ", i)), "")
		if _, err := h.view(h.a2, it.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	e, err := v.ExposureOfStaff(ctx, h.cust, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.People) == 0 || e.People[0].Person != h.a2.Name || e.People[0].Items != 2 || !e.People[0].OverLimit || e.Limit != 2 {
		t.Fatalf("today's exposure of staff: %+v", e)
	}
	for _, p := range e.People[1:] {
		if p.Items != 0 || p.OverLimit || (p.Role != RoleAnalyst && p.Role != RoleInvestigator) {
			t.Fatalf("another person's exposure: %+v", p)
		}
	}
	if e, err := v.ExposureOfStaff(ctx, h.cust, "2000-01-01"); err != nil || e.People[0].Items != 0 {
		t.Fatalf("a day long ago: %+v %v", e, err)
	}
	if _, err := v.ExposureOfStaff(ctx, h.cust, "yesterday"); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a day that is not one: %v", err)
	}
	before := v.log.Size()
	if _, err := v.ExposureOfStaff(ctx, h.a1, ""); !errors.Is(err, ErrForbidden) || v.log.Size() != before+1 {
		t.Fatalf("an analyst asking for everyone's exposure: %v (%d events)", err, v.log.Size()-before)
	}
	// Removed since, a person stays listed for the days they were shown
	// evidence, marked; one removed who was shown nothing is not listed.
	if _, err := v.Remove(ctx, h.cust, h.a2.Name, "left the hotline"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Remove(ctx, h.cust, h.a3.Name, "left the hotline"); err != nil {
		t.Fatal(err)
	}
	e, err = v.ExposureOfStaff(ctx, h.cust, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.People) == 0 || e.People[0].Person != h.a2.Name || e.People[0].Items != 2 || !e.People[0].Removed {
		t.Fatalf("a removed analyst's exposure of the day: %+v", e.People)
	}
	for _, p := range e.People {
		if p.Person == h.a3.Name {
			t.Fatalf("a removed analyst shown nothing is listed: %+v", p)
		}
	}
}

// A report's VICS export lists only its items whose category is settled:
// a VICS document is read as a hash set, and an item without a category
// would take whatever category the receiver's import gives such entries
// (a chat log listed as illegal). With none settled it is refused and
// nothing is recorded; the csv export keeps every item.
func TestVICSForwardListsOnlySettledItems(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/g"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", "looks real"); err != nil {
		t.Fatal(err)
	}
	photo := h.deposit(t, h.a1, "photo.jpg", []byte("a photo of abuse"), rp)
	chat := h.deposit(t, h.a1, "chat.txt", []byte("a chat log"), rp)
	before := len(h.eventsOf(t, TypeReportForwarded))
	if _, err := v.ForwardReport(ctx, h.a1, rp, "partner", "hotline", "vics"); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "no item of report") {
		t.Fatalf("a VICS export with no item classified: %v", err)
	}
	if n := len(h.eventsOf(t, TypeReportForwarded)); n != before {
		t.Fatalf("the refused export was recorded")
	}
	if _, err := v.Classify(ctx, h.a2, photo.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	list, err := v.ForwardReport(ctx, h.a1, rp, "partner", "hotline", "vics")
	if err != nil {
		t.Fatal(err)
	}
	var doc VICSDocument
	if err := json.Unmarshal(list.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if media := doc.Value[0].Media; len(media) != 1 || media[0].SHA1 != strings.ToUpper(photo.SHA1) || media[0].Category == nil || *media[0].Category != 1 {
		t.Fatalf("the VICS export's media: %+v, want the classified photo alone, category 1", media)
	}
	var f ReportForwarded
	fw := h.eventsOf(t, TypeReportForwarded)
	fw[len(fw)-1].DecodeData(&f)
	if f.Items != 1 {
		t.Fatalf("report.forwarded says %d items, want the 1 the export holds", f.Items)
	}
	csv, err := v.ForwardReport(ctx, h.a1, rp, "police unit", "police", "csv")
	if err != nil || !bytes.Contains(csv.Body, []byte(chat.SHA256)) || !bytes.Contains(csv.Body, []byte(photo.SHA256)) {
		t.Fatalf("the csv export leaves an item out: %v\n%s", err, csv.Body)
	}
}

// A change of a case's policy says what it did: raising it unsettles the
// items one vote had settled (known material by them may come back for
// review), and lowering it again settles them.
func TestClassificationPolicySaysWhatItUnsettled(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	it := h.deposit(t, h.a1, "settled.jpg", []byte("settled by one vote"), "")
	h.deposit(t, h.a1, "open.jpg", []byte("not voted on"), "")
	if _, err := v.Classify(ctx, h.a2, it.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	ch, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, "")
	if err != nil || ch.Effect.Unsettled != 1 || ch.Effect.Settled != 0 || ch.Request != nil || !ch.Recorded {
		t.Fatalf("raising the policy: %+v %v, want 1 item unsettled", ch, err)
	}
	if _, err := h.view(h.a3, it.ID, false); err != nil {
		t.Fatalf("the unsettled item is no longer known material, as the change said: %v", err)
	}
	if effect := h.lowerPolicy(t, 1); effect.Settled != 1 || effect.Unsettled != 0 || effect.SettledAs[CategoryBaseline] != 1 {
		t.Fatalf("lowering the policy: %+v, want 1 item settled", effect)
	}
}

// A VICS forward names each item's category as it stands at the
// forward's position in the log: votes changing the category while the
// export is built make it refuse (and the caller repeat), never export a
// category the log had already replaced.
func TestVICSForwardNamesTheCategoriesAtItsPosition(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	rp := h.assessedReport(t, "https://host.example/r")
	photo := h.deposit(t, h.a1, "photo.jpg", []byte("a photo"), rp)
	if _, err := v.Classify(ctx, h.a2, photo.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	h.exportBesideVotes(t, photo.ID, "forward", TypeReportForwarded, func() (*HashList, error) {
		return v.ForwardReport(ctx, h.a1, rp, "partner", "hotline", "vics")
	}, func(ev *events.Event) string {
		var f ReportForwarded
		ev.DecodeData(&f)
		return f.SHA256
	})
}

// UK, which ISO 3166-1 reserves for the United Kingdom, is recorded as
// the United Kingdom's code, GB, as a partner's statistics count it.
func TestNoticeCountryUKIsRecordedAsGB(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/uk"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: "https://host.example/uk", To: "Host Ltd", Via: "email", Country: "uk"}); err != nil {
		t.Fatal(err)
	}
	if sent := h.eventsOf(t, TypeNoticeSent); len(sent) != 1 || !bytes.Contains(sent[0].Data, []byte(`"country":"GB"`)) {
		t.Fatalf("the notice recorded: %s", sent[0].Data)
	}
}

// TestDepositForAReportAsksWhoFirst: a deposit naming a report tells a
// person who may not work on that report nothing of it. An investigator
// (reports are analysts' work) is answered for a report not assessed into
// their case, closed or not, exactly as for a report that does not exist;
// an analyst not assigned to the report's case is told only that, not
// which case or whether it was closed; an analyst who may work on the
// report is told what stands in the way.
func TestDepositForAReportAsksWhoFirst(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	for _, o := range []struct {
		who Principal
		id  string
	}{{h.inv, "INV-1"}, {outsider, "HL-2"}, {h.a1, "HL-3"}} {
		if err := v.OpenCase(ctx, o.who, o.id, "another case"); err != nil {
			t.Fatal(err)
		}
	}
	assessed, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/assessed"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, assessed, "HL-1", "looks real"); err != nil {
		t.Fatal(err)
	}
	closedAssessed, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/closed"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, closedAssessed, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, closedAssessed, "content-gone", "a note of the case's analysts"); err != nil {
		t.Fatal(err)
	}
	unassessed, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/open"}})
	if err != nil {
		t.Fatal(err)
	}
	const missing = "rp_0123456789abcdef01234567"
	deposit := func(who Principal, caseID, report string) string {
		t.Helper()
		_, err := v.Deposit(ctx, who, DepositRequest{Case: caseID, Name: "capture.png", Body: strings.NewReader("a capture"), Report: report})
		if err == nil {
			t.Fatalf("%s deposited to %s for report %s", who.Name, caseID, report)
		}
		return strings.ReplaceAll(err.Error(), report, "REPORT")
	}
	items := len(h.eventsOf(t, TypeItemDeposited))
	want := deposit(h.inv, "INV-1", missing)
	for _, r := range []string{assessed, closedAssessed} {
		if got := deposit(h.inv, "INV-1", r); got != want {
			t.Errorf("an investigator told of a report they may not see: %q, where a missing one gives %q", got, want)
		}
		// An analyst reads that the report exists (report show), not
		// where it is or what became of it.
		got := deposit(outsider, "HL-2", r)
		if !strings.Contains(got, "assessed into a case you are not assigned to") || strings.Contains(got, "HL-1") || strings.Contains(got, "closed") {
			t.Errorf("an analyst of another case told more of a report than that it is not theirs: %q", got)
		}
	}
	// Reports not yet assessed are every analyst's work, not an
	// investigator's.
	if got, want := deposit(h.inv, "INV-1", unassessed), deposit(h.inv, "INV-1", missing); got != want {
		t.Errorf("an investigator told of an unassessed report: %q, where a missing one gives %q", got, want)
	}
	if got := deposit(outsider, "HL-2", unassessed); !strings.Contains(got, "assess it into the case first") {
		t.Errorf("an analyst is not told to assess the report first: %q", got)
	}
	// The report's own analysts are told what stands in the way.
	if got := deposit(h.a1, "HL-3", assessed); !strings.Contains(got, "not assessed into case HL-3") {
		t.Errorf("a member of the report's case is not told where it is assessed: %q", got)
	}
	if got := deposit(h.a2, "HL-1", closedAssessed); !strings.Contains(got, "was closed (content-gone)") {
		t.Errorf("a member of the report's case is not told it was closed: %q", got)
	}
	if n := len(h.eventsOf(t, TypeItemDeposited)); n != items {
		t.Fatalf("a refused deposit was recorded as a deposit: %d, before %d", n, items)
	}
}

// TestAssessingAsksWhoFirst: assessing a report (every public report can
// be assessed by any analyst) into a case the analyst is not assigned to
// tells them nothing of that case: one that does not exist, another
// team's and a destroyed one are answered alike, and each refusal is
// recorded with the truth. A decision on a report assessed into a case
// since destroyed does not name that case to an analyst who was not on
// it; one who was is told it was destroyed.
func TestAssessingAsksWhoFirst(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if err := v.OpenCase(ctx, h.inv, "OTHER", "another team's case"); err != nil {
		t.Fatal(err)
	}
	if err := v.OpenCase(ctx, h.a1, "GONE", "destroyed later"); err != nil {
		t.Fatal(err)
	}
	inGone, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, inGone, "GONE", ""); err != nil {
		t.Fatal(err)
	}
	req, err := v.RequestDestruction(ctx, h.cust, "GONE", "order 7", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, h.cust2, "GONE", req); err != nil {
		t.Fatal(err)
	}
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	refusals := len(h.eventsOf(t, TypeAccessRefused))
	answers := map[string]string{}
	for _, c := range []string{"NOPE", "OTHER", "GONE"} {
		err := v.AssessReport(ctx, h.a2, rp, c, "")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("assessing into %s, not assigned: %v", c, err)
		}
		answers[c] = strings.ReplaceAll(err.Error(), c, "CASE")
	}
	if answers["NOPE"] != answers["OTHER"] || answers["OTHER"] != answers["GONE"] {
		t.Errorf("assessing tells which case ids exist or were destroyed: %q", answers)
	}
	recorded := h.eventsOf(t, TypeAccessRefused)[refusals:]
	if len(recorded) != 3 {
		t.Fatalf("%d refusals recorded, want 3", len(recorded))
	}
	for i, want := range []string{GroundsUnknown, GroundsPermission, GroundsPermission} {
		var d AccessRefused
		if err := recorded[i].DecodeData(&d); err != nil || d.Grounds != want || d.Action != "report.assess" {
			t.Errorf("refusal %d recorded as %+v (%v), want grounds %s", i, d, err, want)
		}
	}
	// The report is still unassessed: nothing changed.
	if r, _ := v.state.getReport(rp); r.Case != "" {
		t.Fatalf("a refused assessment changed the report: %+v", r)
	}
	view, err := v.ReportAfter(ctx, h.a2, inGone)
	if err != nil || view.Case != "" {
		t.Fatalf("an analyst of another case reads the report's case: %+v %v", view, err)
	}
	if err := v.CloseReport(ctx, h.a2, inGone, "duplicate", ""); err == nil || strings.Contains(err.Error(), "GONE") || strings.Contains(err.Error(), "destroyed") {
		t.Errorf("a decision on the report told an analyst not on its case which case it is, or that it was destroyed: %v", err)
	}
	if err := v.CloseReport(ctx, h.a1, inGone, "duplicate", ""); err == nil || !strings.Contains(err.Error(), "destroyed") {
		t.Errorf("the report's own analyst is not told its case was destroyed: %v", err)
	}
}

// TestSameFileSettledIsSaid: an item whose content another item of its
// case has, settled by votes, is listed with that item and its category,
// so that its analysts vote without opening the same file again; its own
// category is still theirs to vote. A copy in another case is named, with
// its case, only to a reader assigned to it.
func TestSameFileSettledIsSaid(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	body := []byte("a screenshot of a forum's index page")
	first := h.deposit(t, h.a1, "index.png", body, "")
	if _, err := v.Classify(ctx, h.a1, first.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	second := h.deposit(t, h.a2, "copy-of-index.png", body, "")
	if err := v.OpenCase(ctx, h.a3, "HL-2", "another team"); err != nil {
		t.Fatal(err)
	}
	elsewhere, err := v.Deposit(ctx, h.a3, DepositRequest{Case: "HL-2", Name: "same.png", Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.ItemsPage(ctx, h.a1, "HL-1", ItemFilter{Unclassified: true}, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0].ID != second.ID || p.Items[0].Category != "" {
		t.Fatalf("the queue: %+v", p.Items)
	}
	if c := p.Items[0].SameAs; c == nil || c.Item != first.ID || c.Category != CategoryNotIllegal {
		t.Fatalf("the copy does not name the settled item: %+v", c)
	}
	// The other case's copy: its own case holds no settled copy; HL-1's
	// is named, with its case, to ana3, who is assigned to both
	// (TestACopyJudgedInAnotherCaseIsNamedToItsAnalysts: never to a
	// reader of HL-2 alone).
	p, err = v.ItemsPage(ctx, h.a3, "HL-2", ItemFilter{}, 0, 0)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != elsewhere.ID {
		t.Fatalf("HL-2's items: %+v %v", p.Items, err)
	}
	if c := p.Items[0].SameAs; c == nil || c.Item != first.ID || c.Case != "HL-1" {
		t.Fatalf("to an analyst of both cases, HL-2's copy names %+v", c)
	}
	// Once the copy is settled itself, it names nothing.
	if _, err := v.Classify(ctx, h.a2, second.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	p, err = v.ItemsPage(ctx, h.a1, "HL-1", ItemFilter{}, 0, 0)
	if err != nil || len(p.Items) != 2 || p.Items[0].SameAs != nil || p.Items[1].SameAs != nil {
		t.Fatalf("settled items name copies: %+v %v", p.Items, err)
	}
}

// TestContactIsTheReportsAnalysts: once a report is assessed into a case,
// its reporter's contact opens for that case's analysts only: an analyst
// of another team asking for it is shown that one was given, and nothing
// is recorded; before assessment any analyst may open it, recorded.
func TestContactIsTheReportsAnalysts(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/c"}, Contact: "reporter@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	opened := func() int { return len(h.eventsOf(t, TypeReportContactOpened)) }
	if rv, err := v.ReportDetail(ctx, outsider, rp); err != nil || rv.Contact != "reporter@example.org" || opened() != 1 {
		t.Fatalf("an unassessed report's contact, for any analyst: %+v %v (%d openings)", rv, err, opened())
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	rv, err := v.ReportDetail(ctx, outsider, rp)
	if err != nil || rv.Contact != "" || !rv.ContactWithheld || opened() != 1 {
		t.Fatalf("an analyst of another team opened the contact: %+v %v (%d openings)", rv, err, opened())
	}
	if rv, err := v.ReportDetail(ctx, h.a2, rp); err != nil || rv.Contact != "reporter@example.org" || opened() != 2 {
		t.Fatalf("the case's analyst: %+v %v (%d openings)", rv, err, opened())
	}
}

// TestReportedBeforeAsTyped: "was this reported before?" finds a report
// by its address typed as it was when reported (no scheme, a host in
// another script, a space), as the report recorded it (TypedURL); a
// notice names it the same way.
func TestReportedBeforeAsTyped(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	var ids []string
	for _, typed := range []string{"例え.jp/a", "host.example/a b"} {
		rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "phone", URLs: []string{TypedURL(typed)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rp)
		l, err := v.Reports(ctx, h.a1, "", typed)
		if err != nil || len(l) != 1 || l[0].Report != rp {
			t.Errorf("reports naming %q as typed: %+v %v", typed, l, err)
		}
	}
	if err := v.AssessReport(ctx, h.a1, ids[1], "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, ids[1], NoticeSent{URL: "host.example/a b", To: "Example Hosting", Via: "email"}); err != nil {
		t.Fatalf("a notice naming the address as typed: %v", err)
	}
	if r, _ := v.state.getReport(ids[1]); len(r.Notices) != 1 || r.Notices[0].URL != TypedURL("host.example/a b") {
		t.Fatalf("the notice does not name the report's URL: %+v", r.Notices)
	}
}

// TestCustodyReportOfADestroyedCase: the custody report of a destroyed
// case says it was destroyed, and lists its destruction as asked for,
// refused to its own requester, approved and done (it said "Destroyed:
// no" and left them out).
func TestCustodyReportOfADestroyedCase(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	h.deposit(t, h.a1, "chat.txt", []byte("a chat export"), "")
	req, err := v.RequestDestruction(ctx, h.cust, "HL-1", "ORD-7", "court order 7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, h.cust, "HL-1", req); err == nil {
		t.Fatal("a custodian approved their own destruction request")
	}
	if _, err := v.ApproveDestruction(ctx, h.cust2, "HL-1", req); err != nil {
		t.Fatal(err)
	}
	doc, err := v.CustodyDocument(ctx, h.cust, DocumentRequest{Case: "HL-1", Format: FormatText, Purpose: "hearing"})
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc.Body)
	for _, want := range []string{"Destroyed:             yes", "Destruction requested", "Destruction approved", "Case destroyed", "approve the case's destruction"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report of the destroyed case lacks %q:\n%s", want, text)
		}
	}
}

// TestProsecutorAskingForACustodyReport: a prosecutor holding a package of
// the case knows the case, and is told who makes custody reports rather
// than that the case does not exist.
func TestProsecutorAskingForACustodyReport(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	h.investigation(t)
	pros := enrolled(t, v, "pros", RoleProsecutor)
	id, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(ctx, pros, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SealPackage(ctx, h.inv, SealRequest{Case: "INV-1", For: "pros", Purpose: "trial"}); err != nil {
		t.Fatal(err)
	}
	_, err := v.CustodyDocument(ctx, pros, DocumentRequest{Case: "INV-1", Format: FormatText})
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "ask one of them") || strings.Contains(err.Error(), "no such case") {
		t.Fatalf("a prosecutor with a package of the case: %v", err)
	}
	_, err = v.CustodyDocument(ctx, pros, DocumentRequest{Case: "HL-1", Format: FormatText})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("a prosecutor asking of a case they hold nothing of: %v", err)
	}
}

// TestApprovingADestructionUnderAnotherCase: a destruction request named
// with another case than its own is refused, and the answer says whose
// it is; nothing is destroyed.
func TestApprovingADestructionUnderAnotherCase(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if err := v.OpenCase(ctx, h.a1, "HL-2", "another case"); err != nil {
		t.Fatal(err)
	}
	req, err := v.RequestDestruction(ctx, h.cust, "HL-2", "ORD-9", "court order 9")
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.ApproveDestruction(ctx, h.cust2, "HL-1", req)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is of case HL-2, not HL-1") {
		t.Fatalf("approving under another case: %v", err)
	}
	for _, id := range []string{"HL-1", "HL-2"} {
		if c, _ := v.state.getCase(id); c.Destroyed {
			t.Fatalf("%s was destroyed", id)
		}
	}
}

// TestOtherTeamSeesNoWorkOfTheCase: an analyst of another team reads a
// report assessed into a case they are not on without what was done in
// it: "actioned" (a notice or a forwarding made it so) is shown as
// assessing, a status filter finds it by that, and the history does not
// name the case's analysts who opened the reporter's contact.
func TestOtherTeamSeesNoWorkOfTheCase(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/d"}, Contact: "reporter@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ReportDetail(ctx, h.a1, rp); err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: "https://host.example/d", To: "Example Hosting", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	if rv, _ := v.ReportAfter(ctx, h.a2, rp); rv.Status != StatusActioned {
		t.Fatalf("the case's analyst reads status %q", rv.Status)
	}
	rv, err := v.ReportAfter(ctx, outsider, rp)
	if err != nil || rv.Status != StatusAssessing || len(rv.Notices) != 0 {
		t.Fatalf("another team's view: %+v %v", rv, err)
	}
	for _, e := range rv.History {
		if e.By == "ana1" {
			t.Errorf("the history names the case's analyst: %+v", e)
		}
	}
	if l, _ := v.Reports(ctx, outsider, StatusActioned); len(l) != 0 {
		t.Errorf("a status filter told another team the report was actioned: %+v", l)
	}
	if l, _ := v.Reports(ctx, outsider, StatusAssessing); len(l) != 1 {
		t.Errorf("the filter does not find it as shown: %+v", l)
	}
}

// TestForwardedNoticePairsItsRecipientAndTime: a URL noticed to one
// provider, then again to another, is forwarded with the recipient of the
// latest sending next to that sending's time (never the first notice's
// time beside the second recipient), and the first notice's time in a
// column of its own; the removal stays timed from the first. Another
// URL of the report, noticed once, has the same time in both columns.
func TestForwardedNoticePairsItsRecipientAndTime(t *testing.T) {
	c := newClock(time.Date(2026, 12, 4, 23, 51, 23, 0, time.UTC))
	h := newHotline(t, withClock(c))
	rp, err := h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://files.example.net/x.zip", "https://files.example.net/y.zip"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	first := c.now().UTC()
	for _, n := range []NoticeSent{
		{URL: "https://files.example.net/x.zip", To: "Cloudflare", Via: "email"},
		{URL: "https://files.example.net/y.zip", To: "Host Ltd", Via: "web-form"},
	} {
		if err := h.v.SendNotice(h.ctx, h.a1, rp, n); err != nil {
			t.Fatal(err)
		}
	}
	c.advance(7 * time.Second)
	again := c.now().UTC()
	if err := h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: "https://files.example.net/x.zip", To: "Cloudflare UK", Via: "email", Reference: "CF-77", Country: "GB"}); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	acked := c.now().UTC()
	if err := h.v.NoticeProgressed(h.ctx, h.a1, rp, "https://files.example.net/x.zip", false, "", ""); err != nil {
		t.Fatal(err)
	}
	list, rows, col := forwardedCSV(t, h, rp)
	got := map[string][7]string{}
	for _, row := range rows[1:] {
		if row[col["kind"]] == "url" {
			got[row[col["url_or_item"]]] = [7]string{row[col["notice_to"]], row[col["notice_sent_at"]], row[col["first_notice_sent_at"]],
				row[col["notice_via"]], row[col["notice_reference"]], row[col["notice_country"]], row[col["acknowledged_at"]]}
		}
	}
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }
	want := map[string][7]string{
		"https://files.example.net/x.zip": {"Cloudflare UK", rfc(again), rfc(first), "email", "CF-77", "GB", rfc(acked)},
		"https://files.example.net/y.zip": {"Host Ltd", rfc(first), rfc(first), "web-form", "", "", ""},
	}
	if !maps.Equal(got, want) {
		t.Fatalf("the forwarded notices:\n got %v\nwant %v\n%s", got, want, list.Body)
	}
	// The columns before first_notice_sent_at keep their places.
	if strings.Join(rows[0][:12], ",") != "report,kind,url_or_item,name,size,sha256,sha1,md5,category,notice_to,notice_sent_at,removed_at" {
		t.Fatalf("header %v", rows[0])
	}
}

// TestHeldAsOfADestroyedCaseIsTheDepositsRefusal: the upload page's
// question (does the case hold this file already?) of a destroyed case,
// whose items are shredded, is answered with the refusal its deposit
// would get, recorded once as a refused deposit: the page stops there
// instead of sending each file to be refused in turn, and never tells
// the analyst the evidence is kept. Someone not assigned is refused as
// before, as listing the items.
func TestHeldAsOfADestroyedCaseIsTheDepositsRefusal(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	body := []byte("a capture")
	res := h.deposit(t, h.a1, "capture.png", body, "")
	sum := fmt.Sprintf("%x", sha256.Sum256(body))
	if held, err := v.HeldAs(ctx, h.a1, "HL-1", "capture.png", sum, ""); err != nil || held != res.ID {
		t.Fatalf("HeldAs before the destruction: %q %v", held, err)
	}
	req, err := v.RequestDestruction(ctx, h.cust, "HL-1", "order 7", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, h.cust2, "HL-1", req); err != nil {
		t.Fatal(err)
	}
	before := len(h.eventsOf(t, TypeAccessRefused))
	for _, name := range []string{"capture.png", "another.png"} {
		held, err := v.HeldAs(ctx, h.a1, "HL-1", name, sum, "")
		if !errors.Is(err, ErrConflict) || held != "" || !strings.Contains(err.Error(), "case HL-1 was destroyed under a court order: nothing can be deposited to it") {
			t.Fatalf("HeldAs of %s in the destroyed case: %q %v", name, held, err)
		}
	}
	refusals := h.eventsOf(t, TypeAccessRefused)[before:]
	if len(refusals) != 2 {
		t.Fatalf("%d refusals recorded for two questions", len(refusals))
	}
	var d AccessRefused
	if err := refusals[0].DecodeData(&d); err != nil {
		t.Fatal(err)
	}
	if d.Action != "item.deposit" || refusals[0].Actor.Person != h.a1.Name {
		t.Errorf("the refusal recorded: %+v by %s", d, refusals[0].Actor.Person)
	}
	// Bad input is told before the case's state.
	if _, err := v.HeldAs(ctx, h.a1, "HL-1", "capture.png", "abc", ""); !errors.Is(err, ErrBadInput) {
		t.Errorf("a malformed sum of the destroyed case: %v", err)
	}
}

// TestAReportWithoutActionIsNotClosedActioned: "actioned" says a notice
// was sent or the report forwarded, and the statistics count it so; a
// report with neither is refused that reason (recorded, nothing closed),
// and closes with another. A notice, or a forwarding, makes it one.
func TestAReportWithoutActionIsNotClosedActioned(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	record := func() string {
		t.Helper()
		rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/gallery/1"}})
		if err != nil {
			t.Fatal(err)
		}
		return rp
	}
	received, assessed, noticed, forwarded := record(), record(), record(), record()
	for _, rp := range []string{assessed, forwarded} {
		if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
			t.Fatal(err)
		}
	}
	refusals := countType(t, v, TypeAccessRefused)
	for _, rp := range []string{received, assessed} {
		err := v.CloseReport(ctx, h.a1, rp, "actioned", "")
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "no notice sent and no forwarding") {
			t.Fatalf("closing as actioned a report nothing was done with: %v", err)
		}
		if rv, _ := v.ReportDetail(ctx, h.a1, rp); rv.Status == StatusClosed {
			t.Fatalf("the refused closing closed report %s", rp)
		}
	}
	if n := countType(t, v, TypeAccessRefused); n != refusals+2 {
		t.Fatalf("%d refusals recorded, want 2", n-refusals)
	}
	if err := v.CloseReport(ctx, h.a1, received, "content-gone", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, noticed, NoticeSent{URL: "https://host.example/gallery/1", To: "Host Ltd", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ForwardReport(ctx, h.a1, forwarded, "national police", "police", "csv"); err != nil {
		t.Fatal(err)
	}
	for _, rp := range []string{noticed, forwarded} {
		if err := v.CloseReport(ctx, h.a1, rp, "actioned", ""); err != nil {
			t.Fatalf("closing as actioned report %s: %v", rp, err)
		}
	}
}

// TestARepeatedVoteIsNotASecondVote: the vote a voter already gave,
// every field the same, is answered as unchanged and records nothing; a
// vote that differs in any field (here its note) is recorded.
func TestARepeatedVoteIsNotASecondVote(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	it := h.deposit(t, h.a1, "a.png", []byte("a repeated vote"), "")
	vote := ClassifyRequest{Category: CategoryBaseline, AgeGroup: AgeGroups[0]}
	first, err := v.Classify(ctx, h.a1, it.ID, vote)
	if err != nil || first.Unchanged() {
		t.Fatalf("the first vote: %+v %v", first, err)
	}
	before := countType(t, v, TypeItemClassified)
	again, err := v.Classify(ctx, h.a1, it.ID, vote)
	if err != nil || !again.Unchanged() {
		t.Fatalf("the same vote again: unchanged %v, %v", again.Unchanged(), err)
	}
	if n := countType(t, v, TypeItemClassified); n != before {
		t.Fatalf("the same vote again recorded %d events", n-before)
	}
	if again.Tally[CategoryBaseline] != 1 {
		t.Fatalf("the tally after a repeated vote: %v", again.Tally)
	}
	// Another analyst's same vote is theirs, and counts.
	if cl, err := v.Classify(ctx, h.a2, it.ID, vote); err != nil || cl.Unchanged() || cl.Tally[CategoryBaseline] != 2 {
		t.Fatalf("a second analyst's vote: %+v %v", cl, err)
	}
	vote.Note = "seen again at full size"
	if cl, err := v.Classify(ctx, h.a1, it.ID, vote); err != nil || cl.Unchanged() {
		t.Fatalf("a vote with a new note: unchanged %v, %v", cl.Unchanged(), err)
	}
	if n := countType(t, v, TypeItemClassified); n != before+2 {
		t.Fatalf("%d votes recorded after the first, want 2", n-before)
	}
}

// TestForwardedItemsSayHowTheirCategoryStands: the forwarded csv's
// classification column tells an item nobody classified from one whose
// votes disagree, one short of the case's policy, and one settled (both
// of the first three have no category).
func TestForwardedItemsSayHowTheirCategoryStands(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	rp := h.assessedReport(t, "https://host.example/s")
	untouched := h.deposit(t, h.a1, "untouched.txt", []byte("nobody voted"), rp)
	voting := h.deposit(t, h.a1, "voting.txt", []byte("one vote of two"), rp)
	disputed := h.deposit(t, h.a1, "disputed.txt", []byte("the votes disagree"), rp)
	settled := h.deposit(t, h.a1, "settled.txt", []byte("two agree"), rp)
	// Voted on only by someone suspended since: no vote counts.
	uncounted := h.deposit(t, h.a1, "uncounted.txt", []byte("a vote that no longer counts"), rp)
	for _, vote := range []struct {
		who Principal
		id  string
		cat string
	}{
		{h.a1, voting.ID, CategoryNational},
		{h.a1, disputed.ID, CategoryNational}, {h.a2, disputed.ID, CategoryNotIllegal},
		{h.a1, settled.ID, CategoryNotIllegal}, {h.a2, settled.ID, CategoryNotIllegal},
		{h.a3, uncounted.ID, CategoryBaseline},
	} {
		if _, err := v.Classify(ctx, vote.who, vote.id, ClassifyRequest{Category: vote.cat}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Suspend(ctx, h.cust, "ana3", "under review"); err != nil {
		t.Fatal(err)
	}
	_, rows, col := forwardedCSV(t, h, rp)
	got := map[string][2]string{}
	for _, row := range rows[1:] {
		got[row[col["url_or_item"]]] = [2]string{row[col["category"]], row[col["classification"]]}
	}
	want := map[string][2]string{
		"https://host.example/s": {"", ""},
		untouched.ID:             {"", "unclassified"},
		voting.ID:                {"", "voting"},
		disputed.ID:              {"", "disputed"},
		settled.ID:               {CategoryNotIllegal, "votes"},
		uncounted.ID:             {"", "unclassified"},
	}
	if !maps.Equal(got, want) {
		t.Fatalf("the forwarded items:\n got %v\nwant %v", got, want)
	}
}

// forwardedCSV forwards report rp as csv (analyst ana1, to the police)
// and returns the export, its rows (the header first) and the column of
// each header name.
func forwardedCSV(t *testing.T, h *hotline, rp string) (*HashList, [][]string, map[string]int) {
	t.Helper()
	list, err := h.v.ForwardReport(h.ctx, h.a1, rp, "police unit", "police", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(list.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	return list, rows, col
}

// TestTwoEqualVotesInOneBatchAreOneVote: whether a vote repeats the
// voter's current one is decided at the event's position, after the
// votes on the item ahead of it in the same batch: two equal votes of one
// voter written together are one vote (one event, the other answered
// unchanged), however they were ordered. Decided against the state
// before the batch, both were recorded (and a vote changed and changed
// back in one batch was answered unchanged, and lost).
func TestTwoEqualVotesInOneBatchAreOneVote(t *testing.T) {
	g := &gatedStore{typ: TypeCaseOpened, entered: make(chan struct{}), release: make(chan struct{})}
	h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g })
	it := h.deposit(t, h.a1, "a.png", []byte("two equal votes in one batch"), "")
	before := countType(t, h.v, TypeItemClassified)
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	// An unrelated event held in the store: the votes asked meanwhile
	// queue up and are written in one batch.
	other := make(chan error, 1)
	go func() { other <- h.v.OpenCase(h.ctx, h.a3, "HL-9", "unrelated") }()
	<-g.entered
	answers := make(chan Classification, 2)
	for range 2 {
		go func() {
			cl, err := h.v.Classify(h.ctx, h.a1, it.ID, ClassifyRequest{Category: CategoryNational})
			if err != nil {
				t.Error(err)
			}
			answers <- cl
		}()
	}
	time.Sleep(300 * time.Millisecond)
	close(g.release)
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	unchanged := 0
	for range 2 {
		if (<-answers).Unchanged() {
			unchanged++
		}
	}
	if n := countType(t, h.v, TypeItemClassified) - before; n != 1 || unchanged != 1 {
		t.Fatalf("two equal votes in one batch: %d recorded, %d answered unchanged; want 1 and 1", n, unchanged)
	}
}

// TestAForwardSaysHowItsItemsStandAtItsPosition: the forwarded csv's
// classification column is part of what the forward's event checks at
// its position: a vote written just before it, while the export was
// made, is in the export (the column said "unclassified" of an item a
// vote ahead of it had made "voting").
func TestAForwardSaysHowItsItemsStandAtItsPosition(t *testing.T) {
	g := &gatedStore{typ: TypeItemClassified, entered: make(chan struct{}), release: make(chan struct{})}
	h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g })
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	rp := h.assessedReport(t, "https://host.example/s")
	it := h.deposit(t, h.a1, "x.txt", []byte("about to get a vote"), rp)
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	voted := make(chan error, 1)
	go func() {
		_, err := v.Classify(ctx, h.a2, it.ID, ClassifyRequest{Category: CategoryNational})
		voted <- err
	}()
	<-g.entered
	type answer struct {
		list *HashList
		err  error
	}
	fwd := make(chan answer, 1)
	go func() {
		l, err := v.ForwardReport(ctx, h.a1, rp, "police unit", "police", "csv")
		fwd <- answer{l, err}
	}()
	time.Sleep(300 * time.Millisecond)
	close(g.release)
	if err := <-voted; err != nil {
		t.Fatal(err)
	}
	a := <-fwd
	if errors.Is(a.err, ErrConflict) && strings.Contains(a.err.Error(), "classified while its export was built") {
		return // refused at its position, to be repeated: nothing stale went out
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	list := a.list
	rows, _ := csv.NewReader(bytes.NewReader(list.Body)).ReadAll()
	voteSeq := h.eventsOf(t, TypeItemClassified)[0].Seq
	got := rows[len(rows)-1][len(rows[0])-1]
	if voteSeq < list.Event && got != "voting" {
		t.Fatalf("the export recorded at %d says %q of an item voted on at %d", list.Event, got, voteSeq)
	}
}

// TestAReportNamesItsCapturesToItsCasesAnalysts: a report's detail
// describes its items (name, and how each one's category stands) to an
// analyst assigned to its case, and to no one else: a custodian or
// auditor reads the report but may not see its items, and an analyst of
// another case is not told of them at all.
func TestAReportNamesItsCapturesToItsCasesAnalysts(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	aud := enrolled(t, v, "aud", RoleAuditor)
	rp := h.assessedReport(t, "https://host.example/c")
	voted := h.deposit(t, h.a1, "chat export.txt", []byte("a capture with a vote"), rp)
	plain := h.deposit(t, h.a1, "page.html", []byte("a capture without one"), rp)
	if _, err := v.Classify(ctx, h.a1, voted.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	rv, err := v.ReportDetail(ctx, h.a2, rp)
	if err != nil {
		t.Fatal(err)
	}
	want := []CaptureView{
		{ID: voted.ID, Name: "chat export.txt", Category: CategoryNotIllegal, Classification: "votes"},
		{ID: plain.ID, Name: "page.html", Classification: "unclassified"},
	}
	if !slices.Equal(rv.Captures, want) {
		t.Fatalf("the captures an assigned analyst reads: %+v, want %+v", rv.Captures, want)
	}
	for _, who := range []Principal{h.cust, aud, outsider} {
		rv, err := v.ReportDetail(ctx, who, rp)
		if err != nil {
			t.Fatal(err)
		}
		if len(rv.Captures) != 0 {
			t.Errorf("%s (%s) is told of the report's items: %+v", who.Name, who.Role, rv.Captures)
		}
	}
}

// TestACaseReportSaysWhichItemsItCovers: a custody report of every item
// of a case says it covers every item the case held (it said the case
// might hold others, as a report of chosen items does), and a report of
// chosen items still says so.
func TestACaseReportSaysWhichItemsItCovers(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	first := h.deposit(t, h.a1, "one.txt", []byte("one"), "")
	h.deposit(t, h.a1, "two.txt", []byte("two"), "")
	whole, err := v.CustodyDocument(ctx, h.cust, DocumentRequest{Case: "HL-1", Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(whole.Body); !strings.Contains(s, "2 items, every item the case held when this report was asked for.") || strings.Contains(s, "may hold others") {
		t.Fatalf("a report of every item says:\n%s", s)
	}
	chosen, err := v.CustodyDocument(ctx, h.cust, DocumentRequest{Case: "HL-1", Items: []string{first.ID}, Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(chosen.Body); !strings.Contains(s, "1 item, those asked for this report (the case may hold others, which it does not cover).") {
		t.Fatalf("a report of a chosen item says:\n%s", s)
	}
}

// assessedReport records a report of url (analyst ana1, by email) and
// assesses it into case HL-1, and returns its id.
func (h *hotline) assessedReport(t *testing.T, url string) string {
	t.Helper()
	rp, err := h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{url}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	return rp
}

// A case's VICS hash list names each item's category as it stands at
// the export's position, as a report's forward does: votes changing it
// while the list is built make the export refuse (and the caller
// repeat); the list never names a category the log had replaced before
// it, nor one read apart from what its check compared.
func TestACaseVICSListNamesTheCategoriesAtItsPosition(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	photo := h.deposit(t, h.a1, "photo.jpg", []byte("a photo of a case list"), "")
	if _, err := v.Classify(ctx, h.a2, photo.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	h.exportBesideVotes(t, photo.ID, "export", TypeHashesExported, func() (*HashList, error) {
		return v.ExportHashes(ctx, h.a1, "HL-1", "vics")
	}, func(ev *events.Event) string {
		var x HashesExported
		ev.DecodeData(&x)
		return x.SHA256
	})
}

// alternateVotes has analyst ana2 vote 200 times on item, national and
// baseline in turn, beside what the test does; the channel closes when
// the votes are done.
func (h *hotline) alternateVotes(item string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			c := CategoryBaseline
			if i%2 == 0 {
				c = CategoryNational
			}
			h.v.Classify(h.ctx, h.a2, item, ClassifyRequest{Category: c})
		}
	}()
	return done
}

// exportBesideVotes makes VICS lists of item with export (what, for
// the messages: a forward, an export) while votes change its category,
// a hundred times (a refusal for a vote ahead of it is expected), and
// once more after the votes stop, which must go through; then each list
// must name the category its event's position gave it (typ, sumOf:
// the list's SHA-256 its event records).
func (h *hotline) exportBesideVotes(t *testing.T, item, what, typ string, export func() (*HashList, error), sumOf func(*events.Event) string) {
	t.Helper()
	done := h.alternateVotes(item)
	exported := map[string]string{} // body's SHA-256 -> the category it names
	once := func() error {
		list, err := export()
		if err != nil {
			return err
		}
		var doc VICSDocument
		if err := json.Unmarshal(list.Body, &doc); err != nil {
			t.Fatal(err)
		}
		exported[list.SHA256] = map[int]string{1: CategoryBaseline, 2: CategoryNational}[*doc.Value[0].Media[0].Category]
		return nil
	}
	for i := 0; i < 100; i++ {
		if err := once(); err != nil && !errors.Is(err, ErrConflict) {
			t.Fatal(err)
		}
	}
	<-done
	// Once the votes stop, it goes through: on a loaded machine every
	// one beside them may have met a vote and been refused.
	if err := once(); err != nil {
		t.Fatalf("a %s after the votes: %v", what, err)
	}
	checkCategoriesAtPosition(t, h.v, typ, exported, sumOf)
}

// checkCategoriesAtPosition fails unless each export of type typ whose
// SHA-256 (sumOf) is in exported names the category of the last vote
// before it in the log, and at least one was checked.
func checkCategoriesAtPosition(t *testing.T, v *Vault, typ string, exported map[string]string, sumOf func(*events.Event) string) {
	t.Helper()
	last, checked := "", 0
	for _, ev := range logged(t, v) {
		switch ev.Type {
		case TypeItemClassified:
			var d ClassifyRequest
			ev.DecodeData(&d)
			last = d.Category
		case typ:
			if got, ok := exported[sumOf(ev)]; ok {
				checked++
				if got != last {
					t.Errorf("%s at %d names %s, but the last vote before it is %s", typ, ev.Seq, got, last)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no %s was checked", typ)
	}
}
