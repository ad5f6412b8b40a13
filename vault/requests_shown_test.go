package vault

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// TestRequesterSeesHowTheirRequestsEnded: an investigator's export
// requests that a custodian approved, rejected, that they withdrew, or
// that expired unanswered no longer vanish from their list: each is
// listed as it ended, by whom and why (the decider's reason as the log
// recorded it), an approved sealing with its package, newest first;
// another investigator sees none of them; they are shown for 30 days;
// and a start from a snapshot lists them alike.
func TestRequesterSeesHowTheirRequestsEnded(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	cfg := testConfig(t, t.TempDir(), withClock(clk))
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { v.Close() }()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "inv": RoleInvestigator, "inv2": RoleInvestigator, "pros": RoleProsecutor})
	if err := v.OpenCase(ctx, p["inv"], "Q-1", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, p["inv"], DepositRequest{Case: "Q-1", Name: "chat.txt", Body: strings.NewReader("a chat")}); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(ctx, p["pros"], id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetCasePolicy(ctx, p["c1"], "Q-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	ask := func(purpose string) string {
		t.Helper()
		clk.advance(time.Minute)
		asked, err := v.SealPackage(ctx, p["inv"], SealRequest{Case: "Q-1", For: "pros", Purpose: purpose})
		if err != nil || asked.Request == nil {
			t.Fatalf("asking for a package: %+v %v", asked, err)
		}
		return asked.Request.ID
	}
	approved := ask("trial")
	a, err := v.ApproveWithReason(ctx, p["c1"], approved, "the prosecutor's disclosure order 14/2026")
	if err != nil {
		t.Fatal(err)
	}
	rejected := ask("trial again")
	clk.advance(time.Minute)
	if _, err := v.Reject(ctx, p["c2"], rejected, "one package for the trial is enough"); err != nil {
		t.Fatal(err)
	}
	withdrawn := ask("appeal")
	clk.advance(time.Minute)
	if _, err := v.Reject(ctx, p["inv"], withdrawn, "asked too early"); err != nil {
		t.Fatal(err)
	}
	expired := ask("review")
	// Expired unanswered: nothing is appended after it that would sweep
	// it from the pending requests.
	clk.advance(DefaultRequestTTL + time.Hour)
	want := []EndedRequest{
		{Request: expired, Outcome: OutcomeExpired},
		{Request: withdrawn, Outcome: OutcomeWithdrawn, By: "inv", Reason: "asked too early"},
		{Request: rejected, Outcome: OutcomeRejected, By: "c2", Reason: "one package for the trial is enough"},
		{Request: approved, Outcome: OutcomeApproved, By: "c1", Reason: "the prosecutor's disclosure order 14/2026", Package: a.Package.ID},
	}
	check := func(v *Vault, when string) {
		t.Helper()
		got := v.EndedRequests(p["inv"])
		if len(got) != len(want) {
			t.Fatalf("%s: the investigator is shown %d ended requests, want %d: %+v", when, len(got), len(want), got)
		}
		for i, w := range want {
			g := got[i]
			if g.Request != w.Request || g.Outcome != w.Outcome || g.By != w.By || g.Reason != w.Reason || g.Package != w.Package ||
				g.Kind != KindSeal || g.Target != "Q-1" || g.Asked.IsZero() || g.At.Before(g.Asked) {
				t.Errorf("%s: ended request %d is %+v, want %+v (kind %s, case Q-1)", when, i, g, w, KindSeal)
			}
		}
		if !slices.IsSortedFunc(got, func(x, y EndedRequest) int { return y.At.Compare(x.At) }) {
			t.Errorf("%s: not newest first: %+v", when, got)
		}
		if others := v.EndedRequests(p["inv2"]); len(others) != 0 {
			t.Errorf("%s: another investigator is shown %+v", when, others)
		}
		if mine := v.EndedRequests(p["c1"]); len(mine) != 0 {
			t.Errorf("%s: the approving custodian is shown others' requests as theirs: %+v", when, mine)
		}
	}
	check(v, "as they ended")
	// Another request's opening sweeps the expired one into the ended:
	// it is listed alike.
	if _, err := v.AddMember(ctx, p["c1"], "Q-1", "inv2", "joins the case"); err != nil {
		t.Fatal(err)
	}
	check(v, "once swept")
	checkSnapshotRoundTrip(t, v)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	check(v, "after a start")
	clk.advance(EndedShownFor)
	if got := v.EndedRequests(p["inv"]); len(got) != 0 {
		t.Errorf("30 days on, the investigator is still shown %+v", got)
	}
}

// TestReinstatementShowsTheSuspension: the custodian deciding a
// reinstatement is shown the suspension it would end (who suspended the
// person, when and why), as the People list shows it; once reinstated,
// neither shows one, and a start from a snapshot shows the same.
func TestReinstatementShowsTheSuspension(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	cfg := testConfig(t, t.TempDir(), withClock(clk))
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { v.Close() }()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "ana": RoleAnalyst, "aud": RoleAuditor})
	const why = "shared their password with a journalist"
	if _, err := v.Suspend(ctx, p["c1"], "ana", why); err != nil {
		t.Fatal(err)
	}
	suspendedAt := clk.now().UTC()
	clk.advance(time.Hour)
	rq, err := v.Reinstate(ctx, p["c2"], "ana", "cleared by the inquiry")
	if err != nil {
		t.Fatal(err)
	}
	listed := func(v *Vault) *StatusNote {
		t.Helper()
		ps, err := v.Persons(ctx, p["aud"])
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range ps {
			if q.Name == "ana" {
				return q.Suspension
			}
		}
		t.Fatal("ana is not listed")
		return nil
	}
	check := func(v *Vault, when string) {
		t.Helper()
		var shown *StatusNote
		for _, r := range v.Requests(p["c3"]) {
			if r.ID == rq.ID {
				shown = r.Suspension
			}
		}
		if shown == nil || shown.By != "c1" || shown.Reason != why || !shown.At.Equal(suspendedAt) {
			t.Errorf("%s: the reinstatement's decider is shown the suspension %+v", when, shown)
		}
		if n := listed(v); n == nil || *n != *shown {
			t.Errorf("%s: the People list shows the suspension %+v", when, n)
		}
	}
	check(v, "as asked")
	checkSnapshotRoundTrip(t, v)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	check(v, "after a start")
	if _, err := v.Approve(ctx, p["c3"], rq.ID); err != nil {
		t.Fatal(err)
	}
	if n := listed(v); n != nil {
		t.Errorf("reinstated, ana is listed with the suspension %+v", n)
	}
	checkSnapshotRoundTrip(t, v)
}
