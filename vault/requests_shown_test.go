package vault

import (
	"context"
	"errors"
	"path/filepath"
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
	k := newRequestsKit(t)
	v, p, clk, ctx := k.v, k.p, k.clk, context.Background()
	ask := func(purpose string) string { return k.ask(t, purpose) }
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
				g.Kind != KindSeal || g.Case != "Q-1" || !strings.Contains(string(g.Params), `"for":"pros"`) || strings.Contains(string(g.Params), "items") || g.Asked.IsZero() || g.At.Before(g.Asked) {
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
	// Expired, though not yet swept from the state: neither a custodian
	// nor its requester decides it now, so that it stays as its
	// requester was told.
	for _, who := range []string{"c2", "inv"} {
		if _, err := v.Reject(ctx, p[who], expired, "late"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "expired unanswered") {
			t.Errorf("%s rejecting the expired request: %v", who, err)
		}
	}
	check(v, "after the late rejections")
	// Another request's opening sweeps the expired one into the ended:
	// it is listed alike.
	if _, err := v.AddMember(ctx, p["c1"], "Q-1", "inv2", "joins the case"); err != nil {
		t.Fatal(err)
	}
	check(v, "once swept")
	k.restart(t)
	v = k.v
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
	k := newRequestsKit(t)
	v, p, clk, ctx := k.v, k.p, k.clk, context.Background()
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
	k.restart(t)
	v = k.v
	check(v, "after a start")
	if _, err := v.Approve(ctx, p["c3"], rq.ID); err != nil {
		t.Fatal(err)
	}
	if n := listed(v); n != nil {
		t.Errorf("reinstated, ana is listed with the suspension %+v", n)
	}
	checkSnapshotRoundTrip(t, v)
}

// requestsKit is a vault on a test clock, with three custodians, two
// investigators, an analyst, an auditor and a prosecutor with a
// recipient, and case Q-1 (inv's, one item) whose packages need a
// custodian's approval; restart opens the vault again on its files,
// from the state snapshot its close wrote.
type requestsKit struct {
	v   *Vault
	cfg Config
	p   map[string]Principal
	clk *clock
}

func newRequestsKit(t *testing.T) *requestsKit {
	t.Helper()
	k := &requestsKit{clk: newClock(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))}
	dir := t.TempDir()
	k.cfg = testConfig(t, dir, withClock(k.clk), func(c *Config) {
		c.TileDir, c.SnapshotDir = filepath.Join(dir, "tiles"), filepath.Join(dir, "snapshots")
	})
	k.restart(t)
	t.Cleanup(func() { k.v.Close() })
	ctx := context.Background()
	k.p = people(t, k.v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator,
		"inv2": RoleInvestigator, "ana": RoleAnalyst, "aud": RoleAuditor, "pros": RoleProsecutor})
	if err := k.v.OpenCase(ctx, k.p["inv"], "Q-1", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.v.Deposit(ctx, k.p["inv"], DepositRequest{Case: "Q-1", Name: "chat.txt", Body: strings.NewReader("a chat")}); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	if _, _, err := k.v.SetRecipient(ctx, k.p["pros"], id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := k.v.SetCasePolicy(ctx, k.p["c1"], "Q-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	return k
}

// restart closes the vault, if open, and opens it again.
func (k *requestsKit) restart(t *testing.T) {
	t.Helper()
	if k.v != nil {
		checkSnapshotRoundTrip(t, k.v)
		if err := k.v.Close(); err != nil {
			t.Fatal(err)
		}
	}
	v, err := Open(context.Background(), k.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if k.v != nil {
		if started := lastOfType(t, v, TypeServerStarted); started["state_snapshot"] == "" {
			t.Fatalf("server.started %v: want a start from a snapshot", started)
		}
	}
	k.v = v
}

// ask opens inv's request for a package of Q-1 for pros, a minute on.
func (k *requestsKit) ask(t *testing.T, purpose string) string {
	t.Helper()
	k.clk.advance(time.Minute)
	asked, err := k.v.SealPackage(context.Background(), k.p["inv"], SealRequest{Case: "Q-1", For: "pros", Purpose: purpose})
	if err != nil || asked.Request == nil {
		t.Fatalf("asking for a package: %+v %v", asked, err)
	}
	return asked.Request.ID
}

// TestEndedSealingNamesOnlyAPackageThatExists: an approved sealing whose
// package was never stored (here its case was destroyed while it was
// built) is not shown to its requester as sealed into a package that
// no list has.
func TestEndedSealingNamesOnlyAPackageThatExists(t *testing.T) {
	k := newRequestsKit(t)
	v, p, ctx := k.v, k.p, context.Background()
	rq := k.ask(t, "trial")
	dr, err := v.RequestDestruction(ctx, p["c1"], "Q-1", "court order 9", "ended")
	if err != nil {
		t.Fatal(err)
	}
	v.testBeforeStorePackage = func() {
		if _, err := v.ApproveDestruction(ctx, p["c3"], "Q-1", dr); err != nil {
			t.Error(err)
		}
	}
	_, err = v.ApproveWithReason(ctx, p["c2"], rq, "disclosure order")
	v.testBeforeStorePackage = nil
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("sealing across a destruction: %v", err)
	}
	for _, pk := range v.Packages(p["c1"]) {
		if pk.Request == rq {
			t.Fatalf("a package was listed: %+v", pk)
		}
	}
	for _, e := range v.EndedRequests(p["inv"]) {
		if e.Request == rq && e.Package != "" {
			t.Errorf("the requester is told their request was sealed as package %s, which was never sealed (%+v)", e.Package, e)
		}
	}
}

// TestVoidRequestIsNotShownAsExpired: a request voided by its
// requester's suspension is not later shown to them, once reinstated,
// as one that expired unanswered, nor does it vanish meanwhile.
func TestVoidRequestIsNotShownAsExpired(t *testing.T) {
	k := newRequestsKit(t)
	v, p, clk, ctx := k.v, k.p, k.clk, context.Background()
	rq := k.ask(t, "trial")
	clk.advance(time.Minute)
	if _, err := v.Suspend(ctx, p["c1"], "inv", "under inquiry"); err != nil {
		t.Fatal(err)
	}
	suspendedAt := clk.now()
	back, err := v.Reinstate(ctx, p["c2"], "inv", "cleared")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c3"], back.ID); err != nil {
		t.Fatal(err)
	}
	inv := p["inv"] // the same name, signed in again
	shown := func() *EndedRequest {
		for _, e := range v.EndedRequests(inv) {
			if e.Request == rq {
				return &e
			}
		}
		return nil
	}
	pending := false
	for _, r := range v.Requests(inv) {
		pending = pending || r.ID == rq
	}
	if pending {
		t.Error("reinstated, the requester is shown their voided request as pending")
	}
	void := func(when string) {
		t.Helper()
		e := shown()
		if e == nil || e.Outcome != OutcomeVoid || e.By != "" || !e.At.Equal(suspendedAt) {
			t.Errorf("%s: the voided request is shown as %+v, want void since the suspension at %s", when, e, suspendedAt)
		}
	}
	void("reinstated")
	// Neither a custodian nor its requester decides it now.
	for _, who := range []string{"c2", "inv"} {
		if _, err := v.Reject(ctx, p[who], rq, "late"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "was void from") {
			t.Errorf("%s rejecting the void request: %v", who, err)
		}
	}
	void("after the late rejections")
	clk.advance(DefaultRequestTTL + time.Hour)
	void("past its expiry")
	// Swept from the pending requests by another's opening, it stays
	// void, and a decision on it is told so.
	if _, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "inv9", Role: RoleInvestigator}); err != nil {
		t.Fatal(err)
	}
	void("swept")
	if _, err := v.Approve(ctx, p["c2"], rq); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "was void from") {
		t.Errorf("approving the swept void request: %v", err)
	}
	checkSnapshotRoundTrip(t, v)
}

// TestEndedRequestAfterLeavingTheCase: once removed from a case, its
// former investigator is shown of their sealing request no more than of
// the case's packages (the pending list stops showing them the items
// asked at that point).
func TestEndedRequestAfterLeavingTheCase(t *testing.T) {
	k := newRequestsKit(t)
	v, p, ctx := k.v, k.p, context.Background()
	rq := k.ask(t, "trial")
	if _, err := v.ApproveWithReason(ctx, p["c2"], rq, "sealed for the prosecutor under order 14/2026; the second victim's identity is in item 3"); err != nil {
		t.Fatal(err)
	}
	if err := v.RemoveMember(ctx, p["c1"], "Q-1", "inv", "reassigned"); err != nil {
		t.Fatal(err)
	}
	if n := len(v.Packages(p["inv"])); n != 0 {
		t.Fatalf("the former investigator lists %d packages of the case", n)
	}
	ended := v.EndedRequests(p["inv"])
	if len(ended) != 1 || ended[0].Outcome != OutcomeApproved || !ended[0].Withheld {
		t.Fatalf("the former investigator is shown %+v, want the approval with its details withheld", ended)
	}
	if e := ended[0]; e.Package != "" || e.Reason != "" {
		t.Errorf("no longer assigned to %s, the former investigator is shown package %q and the approver's reason %q", e.Case, e.Package, e.Reason)
	}
	// Once assigned again, they are shown them.
	again, err := v.AddMember(ctx, p["c1"], "Q-1", "inv", "back on the case")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c2"], again.ID); err != nil {
		t.Fatal(err)
	}
	if e := v.EndedRequests(p["inv"]); len(e) != 1 || e[0].Withheld || e[0].Package == "" || e[0].Reason == "" {
		t.Errorf("assigned again, the investigator is shown %+v", e)
	}
}

// TestCaseShowsWhoSetItsExportPolicy: a case's details say who set its
// export policy, when and why; dropped on another custodian's request,
// who approved it and who asked; a start from a snapshot says the same.
func TestCaseShowsWhoSetItsExportPolicy(t *testing.T) {
	k := newRequestsKit(t)
	v, p, clk, ctx := k.v, k.p, k.clk, context.Background()
	shown := func(when string) *StatusNote {
		t.Helper()
		d, err := v.ShowCase(ctx, p["c2"], "Q-1")
		if err != nil {
			t.Fatal(err)
		}
		if d.ExportPolicy == nil {
			t.Fatalf("%s: the case shows no export policy", when)
		}
		return d.ExportPolicy
	}
	if n := shown("required"); n.By != "c1" || n.RequestedBy != "" || !n.At.Equal(clk.now()) {
		t.Errorf("required by c1: shown as %+v", n)
	}
	clk.advance(time.Hour)
	ch, err := v.SetCasePolicy(ctx, p["c2"], "Q-1", ExportApprovalNone, "the trial is over")
	if err != nil || ch.Request == nil {
		t.Fatalf("asking to drop it: %+v %v", ch, err)
	}
	if _, err := v.Approve(ctx, p["c3"], ch.Request.ID); err != nil {
		t.Fatal(err)
	}
	want := StatusNote{By: "c3", At: clk.now().UTC(), Reason: "the trial is over", RequestedBy: "c2"}
	if n := shown("dropped"); !n.At.Equal(want.At) || n.By != want.By || n.Reason != want.Reason || n.RequestedBy != want.RequestedBy {
		t.Errorf("dropped: shown as %+v, want %+v", n, want)
	}
	checkSnapshotRoundTrip(t, v)
}

// TestExpiredRequestIsNotVoidedLater: a request that expired unanswered
// before its requester's suspension (still in the state until the next
// request's opening) stays expired, at its expiry, not void from the
// suspension.
func TestExpiredRequestIsNotVoidedLater(t *testing.T) {
	k := newRequestsKit(t)
	v, p, clk, ctx := k.v, k.p, k.clk, context.Background()
	rq := k.ask(t, "trial")
	clk.advance(DefaultRequestTTL + time.Hour)
	if _, err := v.Suspend(ctx, p["c1"], "inv", "under inquiry"); err != nil {
		t.Fatal(err)
	}
	back, err := v.Reinstate(ctx, p["c2"], "inv", "cleared")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c3"], back.ID); err != nil {
		t.Fatal(err)
	}
	var got []EndedRequest
	for _, e := range v.EndedRequests(p["inv"]) {
		if e.Request == rq {
			got = append(got, e)
		}
	}
	if len(got) != 1 || got[0].Outcome != OutcomeExpired || got[0].At.After(clk.now().Add(-time.Hour)) {
		t.Errorf("the request that expired before the suspension is shown as %+v", got)
	}
}

// TestStartPageCountsMatchTheLists: the counts the Start page shows are
// those of the requests lists, without summarising a sealing's items.
func TestStartPageCountsMatchTheLists(t *testing.T) {
	k := newRequestsKit(t)
	v, p := k.v, k.p
	k.ask(t, "trial")
	k.ask(t, "appeal")
	if _, err := v.AddMember(context.Background(), k.p["c1"], "Q-1", "inv2", "second opinion"); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"inv", "inv2", "c1", "c2", "aud"} {
		toDecide, waiting := v.RequestCounts(p[who])
		var wantDecide, wantWaiting int
		for _, r := range v.Requests(p[who]) {
			if r.By == who {
				wantWaiting++
			} else {
				wantDecide++
			}
		}
		if toDecide != wantDecide || waiting != wantWaiting {
			t.Errorf("%s: counted %d to decide and %d waiting; the list has %d and %d", who, toDecide, waiting, wantDecide, wantWaiting)
		}
	}
	if d, w := v.RequestCounts(p["c2"]); d != 3 || w != 0 {
		t.Errorf("c2 counts %d to decide, %d waiting; want 3 and 0", d, w)
	}
}

// TestExpiredDestructionRequestIsNotCalledVoid: a destruction request
// that expired before its custodian's suspension is told, once another
// request's approval ends it, as expired, not as void.
func TestExpiredDestructionRequestIsNotCalledVoid(t *testing.T) {
	k := newRequestsKit(t)
	v, p, clk, ctx := k.v, k.p, k.clk, context.Background()
	dr1, err := v.RequestDestruction(ctx, p["c1"], "Q-1", "order 1", "first")
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(DefaultRequestTTL + time.Hour)
	if _, err := v.Suspend(ctx, p["c2"], "c1", "inquiry"); err != nil {
		t.Fatal(err)
	}
	dr2, err := v.RequestDestruction(ctx, p["c2"], "Q-1", "order 2", "second")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, p["c3"], "Q-1", dr2); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Reject(ctx, p["c3"], dr1, "late"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "expired unanswered") {
		t.Errorf("deciding the destruction request that expired before its custodian's suspension: %v", err)
	}
}
