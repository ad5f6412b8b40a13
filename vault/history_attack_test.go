package vault

import (
	"context"
	"errors"
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
