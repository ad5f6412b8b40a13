package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events/sequencer"
)

// TestReportHistoryIsTheCasesAnalystsOnly: an analyst not assigned to
// the case a report was assessed into sees neither the case nor the
// decisions about the report in it (their notes, its case id) in the
// history, as the view hides its case and items; the case's analysts
// and a custodian see them.
func TestReportHistoryIsTheCasesAnalystsOnly(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst) // not a member of HL-1
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", "victim is Jane Doe, school X"); err != nil {
		t.Fatal(err)
	}
	rv, err := v.ReportDetail(ctx, outsider, rp)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Case != "" {
		t.Fatalf("precondition: case shown %q", rv.Case)
	}
	for _, e := range rv.History {
		if strings.Contains(e.Details, "HL-1") || strings.Contains(e.Details, "Jane Doe") {
			t.Errorf("outsider analyst reads through the history: %s %q", e.Type, e.Details)
		}
	}
	if len(rv.History) != 1 || rv.History[0].Type != TypeReportReceived {
		t.Errorf("an outsider's history: %+v", rv.History)
	}
	for _, reader := range []Principal{h.a1, h.cust} {
		rv, err := v.ReportDetail(ctx, reader, rp)
		if err != nil {
			t.Fatal(err)
		}
		if len(rv.History) != 2 || !strings.Contains(rv.History[1].Details, "Jane Doe") {
			t.Errorf("%s's history: %+v", reader.Name, rv.History)
		}
	}
}

// TestVoidRequestDoesNotBlockAskingAgain: c1's request is voided by
// c1's suspension; approving it is refused with "ask again", and asking
// again (by c2) is not refused by the void one, listed nowhere.
func TestVoidRequestDoesNotBlockAskingAgain(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	grant, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "later", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Suspend(ctx, p["c3"], "c1", "rogue"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c3"], grant.ID); err == nil || !strings.Contains(err.Error(), "ask again") {
		t.Fatalf("precondition: %v", err)
	}
	for _, r := range v.Requests(p["c2"]) {
		if r.ID == grant.ID {
			t.Fatal("precondition: void request listed")
		}
	}
	if _, err := v.EnrollBy(ctx, p["c2"], Enrolment{Name: "later", Role: RoleInvestigator}); err != nil {
		t.Fatalf("asking again, as told, is refused by the void (unlisted) request: %v", err)
	}
}

// TestDestructionRequestWithoutRecordedExpiry: a vault run with
// --request-ttl 24h holds a destruction request recorded before expiries
// were recorded (no "expires"). Two days later it had expired, and stays
// expired after the upgrade (the shorter of the vault's TTL and the
// default).
func TestDestructionRequestWithoutRecordedExpiry(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk), func(c *Config) { c.RequestTTL = 24 * time.Hour })
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	if err := v.OpenCase(ctx, inv, "L-1", "kept"); err != nil {
		t.Fatal(err)
	}
	id := "dr_00112233445566aa"
	// As a version before this change wrote it: no expires.
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeDestructionRequested, Actor: p["c1"].actor(), Case: "L-1",
		Data: DestructionRequested{Request: id, Order: "ORD-1", Reason: "court order"}}); err != nil {
		t.Fatal(err)
	}
	clk.advance(48 * time.Hour) // expired under the vault's 24h TTL
	if _, err := v.ApproveDestruction(ctx, p["c2"], "L-1", id); err == nil {
		t.Fatal("a destruction request that expired under the vault's 24h TTL was approved after the upgrade: case destroyed")
	}
}

// TestAmbiguousURLIsRefused: a report names two spellings that sameURL
// takes as one (both allowed: only exact repeats are refused). A removal
// given in a third spelling is refused as naming both, changing
// nothing; given exactly, it is recorded for the one named.
func TestAmbiguousURLIsRefused(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	a, b := "http://host.example/a", "https://host.example/a/"
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{a, b} {
		if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: u, To: "Host", Via: "email"}); err != nil {
			t.Fatal(err)
		}
	}
	// The provider confirms the https page gone; the analyst types it as
	// the browser shows it.
	if err := v.NoticeProgressed(ctx, h.a1, rp, "https://www.host.example/a", true, "", ""); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "could be any of") {
		t.Fatalf("a URL naming two of the report's: %v", err)
	}
	r, _ := v.state.getReport(rp)
	if !r.notice(a).RemovedAt.IsZero() || !r.notice(b).RemovedAt.IsZero() {
		t.Fatal("an ambiguous URL's removal was recorded")
	}
	if err := v.NoticeProgressed(ctx, h.a1, rp, b, true, "", ""); err != nil {
		t.Fatal(err)
	}
	r, _ = v.state.getReport(rp)
	if !r.notice(a).RemovedAt.IsZero() || r.notice(b).RemovedAt.IsZero() {
		t.Fatal("the removal given exactly was recorded for the other URL")
	}
}

// TestReportViewIsTheCasesAnalystsOnly: what was decided about a report
// in a case (its assessor, the notices sent and forwardings made in it,
// its closing reason) is shown to that case's analysts, custodians and
// auditors, and not to an analyst of another case, who sees that the
// report exists and is in a case they are not assigned to; a notice
// sent before the report was assessed is everyone's. And a URL noticed
// again shows the latest sending, to its recipient, beside the first.
func TestReportViewIsTheCasesAnalystsOnly(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst) // not a member of HL-1
	early, in := "https://host.example/early", "https://host.example/in-case"
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{early, in},
		At: time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: early, To: "Provider A", Via: "email",
		At: time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: in, To: "Provider B", Via: "email", Reference: "TICKET-SECRET-1"}); err != nil {
		t.Fatal(err)
	}
	stated := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: early, To: "Provider C", Via: "web-form", At: stated.Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ForwardReport(ctx, h.a1, rp, "Police Unit X", "police", "csv"); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, rp, "actioned", ""); err != nil {
		t.Fatal(err)
	}
	for _, read := range []func(Principal) (ReportView, error){
		func(p Principal) (ReportView, error) { return v.ReportDetail(ctx, p, rp) },
		func(p Principal) (ReportView, error) {
			rs, err := v.Reports(ctx, p, "")
			if err != nil || len(rs) != 1 {
				return ReportView{}, fmt.Errorf("%d reports listed, %v", len(rs), err)
			}
			return rs[0], nil
		},
	} {
		rv, err := read(outsider)
		if err != nil {
			t.Fatal(err)
		}
		if !rv.CaseWithheld || rv.Case != "" || rv.AssessedBy != "" || rv.ClosedReason != "" || len(rv.Forwards) != 0 || len(rv.Items) != 0 {
			t.Errorf("an analyst of another case reads the case's decisions: %+v", rv)
		}
		// The early URL's notice was sent before the assessment, then
		// again in the case: the latest sending is the case's.
		if len(rv.Notices) != 0 {
			t.Errorf("an analyst of another case reads the notices sent in it: %+v", rv.Notices)
		}
		for _, reader := range []Principal{h.a1, h.cust} {
			rv, err := read(reader)
			if err != nil {
				t.Fatal(err)
			}
			if rv.CaseWithheld || rv.Case != "HL-1" || rv.AssessedBy == "" || rv.ClosedReason != "actioned" || len(rv.Forwards) != 1 || len(rv.Notices) != 2 {
				t.Errorf("%s's view: %+v", reader.Name, rv)
			}
			for _, n := range rv.Notices {
				if n.URL != early {
					continue
				}
				if n.To != "Provider C" || n.ResentAt == nil || !n.ResentAt.Equal(stated) || n.SentAt.Equal(stated) {
					t.Errorf("a URL noticed again: to %s, first %s, again %v (stated %s)", n.To, n.SentAt, n.ResentAt, stated)
				}
			}
		}
	}
	// A notice sent before any assessment stays everyone's.
	rp2, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/other"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, rp2, NoticeSent{URL: "https://host.example/other", To: "Provider D", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp2, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	rv, err := v.ReportDetail(ctx, outsider, rp2)
	if err != nil || len(rv.Notices) != 1 || !rv.CaseWithheld {
		t.Errorf("a notice sent before the assessment: %+v %v", rv, err)
	}
}

// TestStatisticsCountAnAnalystsCasesOnly: an analyst narrows the period
// around one deposit in a police case they are not assigned to; the
// item figures count none of it (they are the assigned cases'), while a
// custodian's count it, and the analyst's own case's deposit is counted.
func TestStatisticsCountAnAnalystsCasesOnly(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if err := v.OpenCase(ctx, h.inv, "POL-1", "police case"); err != nil {
		t.Fatal(err)
	}
	res, err := v.Deposit(ctx, h.inv, DepositRequest{Case: "POL-1", Name: "seized.jpg", Body: strings.NewReader("seized on a phone")})
	if err != nil {
		t.Fatal(err)
	}
	it, _, _ := v.state.getItem(res.ID)
	from, to := it.At.Time().Add(-time.Millisecond), it.At.Time().Add(time.Millisecond)
	s, err := v.Statistics(ctx, h.a1, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ItemsOfAssignedCases || s.Items.Deposited != 0 || len(s.ByCategory) != 0 {
		t.Fatalf("an analyst's statistics tell another case's deposit: %+v", s)
	}
	s, err = v.Statistics(ctx, h.cust, from, to)
	if err != nil || s.ItemsOfAssignedCases || s.Items.Deposited != 1 {
		t.Fatalf("a custodian's statistics: %+v %v", s, err)
	}
	// An empty period is refused with its times said as the pages say
	// them.
	if _, err := v.Statistics(ctx, h.cust, to, from); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "the period from "+to.UTC().Format("2006-01-02 15:04:05 UTC")+" to ") {
		t.Errorf("an empty period: %v", err)
	}
	own := h.deposit(t, h.a1, "own.jpg", []byte("a capture"), "")
	ownIt, _, _ := v.state.getItem(own.ID)
	s, err = v.Statistics(ctx, h.a1, ownIt.At.Time().Add(-time.Millisecond), ownIt.At.Time().Add(time.Millisecond))
	if err != nil || s.Items.Deposited != 1 {
		t.Fatalf("an analyst's statistics of their own case: %+v %v", s, err)
	}
}

// TestStatisticsNewComparesWithAnAnalystsCasesOnly: an analyst deposits
// a file they guess a police case holds into their own case, and reads
// the statistics of that minute. Whether their item counts as new must
// not depend on what another case holds (it would tell them the police
// case has the file), while a custodian's figures compare with every
// case, and an earlier deposit in the analyst's own case still makes it
// not new.
func TestStatisticsNewComparesWithAnAnalystsCasesOnly(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if err := v.OpenCase(ctx, h.inv, "POL-9", "police only"); err != nil {
		t.Fatal(err)
	}
	secret := []byte("contents held only by the police case POL-9")
	if _, err := v.Deposit(ctx, h.inv, DepositRequest{Case: "POL-9", Name: "seized.bin", Body: strings.NewReader(string(secret))}); err != nil {
		t.Fatal(err)
	}
	stats := func(who Principal, res *DepositResult) ItemStats {
		t.Helper()
		it, _, _ := v.state.getItem(res.ID)
		s, err := v.Statistics(ctx, who, it.At.Time().Add(-time.Millisecond), it.At.Time().Add(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return s.Items
	}
	var probe *DepositResult
	for _, guess := range [][]byte{[]byte("a guess nobody deposited"), secret} {
		probe = h.deposit(t, h.a1, "probe", guess, "")
		if got := stats(h.a1, probe); got.Deposited != 1 || got.New != 1 {
			t.Errorf("an analyst's statistics of their deposit of %q: %+v, want it deposited and new whatever other cases hold", guess, got)
		}
	}
	if got := stats(h.cust, probe); got.New != 0 {
		t.Errorf("a custodian's statistics count a file the police case held before as new: %+v", got)
	}
	again := h.deposit(t, h.a1, "probe again", secret, "")
	if got := stats(h.a1, again); got.New != 0 {
		t.Errorf("a file deposited before in the analyst's own case counted as new: %+v", got)
	}
	if got := stats(h.cust, again); got.New != 0 {
		t.Errorf("a custodian's statistics: %+v", got)
	}
}

// TestStatisticsKeepACasesReportDecisions: a report closed (and noticed,
// and forwarded) in a case is counted in an analyst's statistics only if
// they are assigned to the case, as their view of the report shows those
// decisions only then; its closing time is not shown them either.
func TestStatisticsKeepACasesReportDecisions(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst) // not a member of HL-1
	u := "https://host.example/closed"
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{u}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: u, To: "Provider", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ForwardReport(ctx, h.a1, rp, "Police Unit X", "police", "csv"); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, rp, "not-illegal", ""); err != nil {
		t.Fatal(err)
	}
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	s, err := v.Statistics(ctx, outsider, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Reports.Closed) != 0 || s.Notices.Sent != 0 || len(s.Forwarded) != 0 || s.Reports.Relevant != 0 || s.Reports.Received != 1 {
		t.Errorf("an analyst of another case counts its decisions: %+v %+v %+v", s.Reports, s.Notices, s.Forwarded)
	}
	for _, p := range []Principal{h.a1, h.cust} {
		s, err := v.Statistics(ctx, p, from, to)
		if err != nil || s.Reports.Closed["not-illegal"] != 1 || s.Notices.Sent != 1 || s.Forwarded["police"] != 1 || s.Reports.Relevant != 1 {
			t.Errorf("%s's statistics: %+v %+v %+v %v", p.Name, s.Reports, s.Notices, s.Forwarded, err)
		}
	}
	if rv, err := v.ReportDetail(ctx, outsider, rp); err != nil || rv.ClosedAt != nil || rv.Status != StatusClosed {
		t.Errorf("an analyst of another case reads when it was closed: %+v %v", rv, err)
	}
}

// TestStatisticsKeepAClosingInItsCase: a report closed in one case,
// reopened and reassessed into another, keeps its closing in the first:
// an analyst of the second (not of the first) does not count it, as the
// report's history does not show it them.
func TestStatisticsKeepAClosingInItsCase(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	if err := v.OpenCase(ctx, outsider, "OUT-1", "the outsider's case"); err != nil {
		t.Fatal(err)
	}
	req, err := v.AddMember(ctx, h.cust, "OUT-1", h.a1.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, h.cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/moved"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, rp, "not-illegal", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.ReopenReport(ctx, h.a1, rp, "closed in the wrong case"); err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "OUT-1", ""); err != nil {
		t.Fatal(err)
	}
	s, err := v.Statistics(ctx, outsider, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Reports.Closed) != 0 {
		t.Errorf("an analyst of the case it moved to counts a closing made in the first: %v", s.Reports.Closed)
	}
	if s, err := v.Statistics(ctx, h.a1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)); err != nil || s.Reports.Closed["not-illegal"] != 1 {
		t.Errorf("an analyst of the first case: %v %v", s.Reports.Closed, err)
	}
}
