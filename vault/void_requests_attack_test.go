package vault

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
)

// TestDestructionRequestKeepsItsRecordedExpiry: a destruction request
// expires when its event says, as a two-person request does: a restart
// with a longer --request-ttl does not make an expired one approvable
// again.
func TestDestructionRequestKeepsItsRecordedExpiry(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	if err := v.OpenCase(ctx, inv, "T-1", "kept"); err != nil {
		t.Fatal(err)
	}
	id, err := v.RequestDestruction(ctx, p["c1"], "T-1", "ORD-1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	grant, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "later", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(30 * 24 * time.Hour) // a month later: both long expired
	if _, err := v.ApproveDestruction(ctx, p["c2"], "T-1", id); err == nil {
		t.Fatal("precondition: expired request approved")
	}
	// The operator (c2) restarts the server with --request-ttl 9000h.
	v.cfg.RequestTTL = 9000 * time.Hour
	if _, err := v.Approve(ctx, p["c2"], grant.ID); err == nil {
		t.Fatal("an expired two-person request was approved after a restart with a longer TTL")
	}
	if _, err := v.ApproveDestruction(ctx, p["c2"], "T-1", id); err == nil {
		t.Fatalf("an expired destruction request (expired %s) was approved a month later: the case is destroyed", clk.now().Add(-30*24*time.Hour+7*24*time.Hour).Format(time.RFC3339))
	}
}

// TestVoidRequestStaysVoidAfterReinstatement: a suspension voids what
// the person asked for, for good: a destruction request and a two-person
// request of theirs are not approvable again once they are reinstated.
func TestVoidRequestStaysVoidAfterReinstatement(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	if err := v.OpenCase(ctx, inv, "T-2", "kept"); err != nil {
		t.Fatal(err)
	}
	id, err := v.RequestDestruction(ctx, p["c1"], "T-2", "ORD-1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	grant, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "later", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Suspend(ctx, p["c3"], "c1", "rogue destruction request"); err != nil {
		t.Fatal(err)
	}
	if len(v.Destructions(p["c2"])) != 0 {
		t.Fatal("precondition: void request still listed")
	}
	rq, err := v.Reinstate(ctx, p["c2"], "c1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c3"], rq.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, p["c2"], "T-2", id); err == nil {
		t.Fatal("the request voided by c1's suspension was approved after c1's reinstatement: case destroyed")
	}
	if _, err := v.Approve(ctx, p["c2"], grant.ID); err == nil {
		t.Fatal("a two-person request voided by its requester's suspension was approved after the reinstatement")
	}
	for _, q := range v.Requests(p["c2"]) {
		if q.ID == grant.ID {
			t.Fatal("a void two-person request is listed after the reinstatement")
		}
	}
	if len(v.Destructions(p["c2"])) != 0 {
		t.Fatal("a void destruction request is listed after the reinstatement")
	}
	// And so does a state restored from the log.
	s := replayedState(t, v)
	for _, r := range s.requests {
		if r.ID == grant.ID && !r.void {
			t.Fatal("the replayed state lost the two-person request's voiding")
		}
	}
	if r := s.cases["T-2"].Requests[id]; !r.Void {
		t.Fatal("the replayed state lost the destruction request's voiding")
	}
}

// TestExpiredInvitationIsNoActiveCustodian: an invited custodian whose
// invitation expired unused cannot act (a re-issue needs two
// custodians), so does not count toward the two a suspension must leave
// without confirmation, and removing them needs none.
func TestExpiredInvitationIsNoActiveCustodian(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	rq, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "c3", Role: RoleCustodian})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c2"], rq.ID); err != nil {
		t.Fatal(err)
	}
	clk.advance(v.cfg.InvitationTTL + time.Hour) // c3's invitation expired, never redeemed
	if _, err := v.Suspend(ctx, p["c1"], "c2", "lost laptop"); err == nil {
		t.Fatal("suspending c2 left c1 the only custodian able to sign in (c3's invitation expired), without --leaving-fewer-custodians")
	}
	// And removing c3, who is not counted, leaves c1 and c2: no
	// confirmation needed.
	if _, err := v.Remove(ctx, p["c1"], "c3", "never took up the post"); err != nil {
		t.Fatalf("removing c3 (who cannot act) leaves c1 and c2, yet: %v", err)
	}
}

// TestFreeTextInCustodyWordsIsQuoted: free text written by an analyst or
// custodian (a classification's series, a notice's or forward's "to") is
// shown in court reports in quotation marks, so that it cannot pose as
// further details (a note, a country).
func TestFreeTextInCustodyWordsIsQuoted(t *testing.T) {
	for _, c := range []struct{ typ, data, forged string }{
		{"item.classified", `{"category":"not-illegal","series":"S1; note “adult, verified by the prosecutor”"}`, "; note “adult, verified by the prosecutor”"},
		{"report.notice.sent", `{"report":"rp_1","url":"https://x.example/a","to":"abuse@x.example by email; hosted in NL; acknowledged","via":"email"}`, "; hosted in NL; acknowledged"},
		{"report.forwarded", `{"report":"rp_1","to":"Police (police, csv format); report rp_2","kind":"hotline","format":"csv"}`, "; report rp_2"},
	} {
		b, _ := json.Marshal(json.RawMessage(c.data))
		_, details := custody.Describe(&events.Event{Type: c.typ, Data: b})
		// Outside the quoted texts, nothing of the forgery is left.
		outside := regexp.MustCompile(`“[^”]*”`).ReplaceAllString(details, "“…”")
		if strings.Contains(outside, strings.TrimPrefix(c.forged, "; ")) || !strings.Contains(details, "“") {
			t.Errorf("%s: free text shown unquoted, posing as details: %s", c.typ, details)
		}
	}
}
