package vault

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// A destruction request is listed beside the requests a custodian lists,
// for the second custodian to find, with its case, order and reason; approve
// and reject, given its id, say how it is decided instead, and record
// nothing. Once decided it leaves the list.
func TestDestructionRequestIsListedWithTheOthers(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	c1 := enrolled(t, v, "c1", RoleCustodian)
	c2 := enrolled(t, v, "c2", RoleCustodian)
	if err := v.OpenCase(ctx, inv, "D-1", "destroy me"); err != nil {
		t.Fatal(err)
	}
	id, err := v.RequestDestruction(ctx, c1, "D-1", "ORD-7", "court order")
	if err != nil {
		t.Fatal(err)
	}
	find := func(who Principal) *PendingDestruction {
		for _, r := range v.Destructions(who) {
			if r.Request == id {
				return &r
			}
		}
		return nil
	}
	r := find(c2)
	if r == nil || r.Case != "D-1" || r.By != "c1" || r.Order != "ORD-7" || r.Reason != "court order" {
		t.Fatalf("the second custodian's list: %+v", r)
	}
	if find(inv) != nil {
		t.Fatal("an investigator is shown a destruction request")
	}
	for _, q := range v.Requests(c2) {
		if q.ID == id {
			t.Fatal("a destruction request among the two-person requests, whose every entry has an expiry")
		}
	}
	before := v.log.Size()
	for name, decide := range map[string]func() error{
		"approve": func() error { _, err := v.Approve(ctx, c2, id); return err },
	} {
		err := decide()
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "custos case approve-destruction D-1 "+id) {
			t.Errorf("%s of a destruction request: %v", name, err)
		}
	}
	if v.log.Size() != before {
		t.Fatalf("the mistaken command appended %d events", v.log.Size()-before)
	}
	// An unknown one is a refusal, recorded as any request's.
	if _, err := v.Approve(ctx, c2, "dr_0000000000000000"); !errors.Is(err, ErrNotFound) || v.log.Size() != before+1 {
		t.Errorf("approve of an unknown destruction request: %v (%d events appended)", err, v.log.Size()-before)
	}
	// Someone who is not a custodian learns nothing of it, as of an
	// unknown request, and the attempt is recorded.
	for name, decide := range map[string]func() error{
		"approve": func() error { _, err := v.Approve(ctx, inv, id); return err },
		"reject":  func() error { _, err := v.Reject(ctx, inv, id, "no"); return err },
	} {
		before := v.log.Size()
		err := decide()
		if err == nil || strings.Contains(err.Error(), "D-1") || v.log.Size() != before+1 {
			t.Errorf("%s of a destruction request by an investigator: %v (%d events appended)", name, err, v.log.Size()-before)
		}
	}
	if _, err := v.ApproveDestruction(ctx, c2, "D-1", id); err != nil {
		t.Fatal(err)
	}
	if find(c2) != nil {
		t.Fatal("a decided destruction request is still listed")
	}
	// Its member is told why a deposit is refused: the case is known to
	// them.
	_, err = v.Deposit(ctx, inv, DepositRequest{Case: "D-1", Name: "late.bin", Body: strings.NewReader("late")})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "was destroyed") {
		t.Fatalf("a member's deposit to a destroyed case: %v", err)
	}
	// Someone else is answered as for a case that does not exist.
	other := enrolled(t, v, "other", RoleInvestigator)
	_, err = v.Deposit(ctx, other, DepositRequest{Case: "D-1", Name: "late.bin", Body: strings.NewReader("late")})
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "destroyed") {
		t.Fatalf("a stranger's deposit to a destroyed case: %v", err)
	}
}

// A timeline of an id no event names is ErrNotFound, not an empty
// history; an id that names no item but some events (a refused request
// for it) has those; a hold asked for again records nothing and says so.
func TestTimelineOfUnknownIDsAndRepeatedHolds(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	cust := enrolled(t, v, "cust", RoleCustodian)
	openCases(t, v, inv, "T-1")
	count := func(caseID, item string) (int, error) {
		n := 0
		err := v.Timeline(ctx, aud, caseID, item, func(events.Record, *events.Event) error { n++; return nil })
		return n, err
	}
	for _, c := range []struct{ caseID, item string }{{"NOPE-1", ""}, {"", "it_000000000000000000000000"}} {
		if n, err := count(c.caseID, c.item); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no event of the custody log names it as its") {
			t.Errorf("timeline of %q/%q: %d events, %v", c.caseID, c.item, n, err)
		}
	}
	// An attempt on an id that names no item is a refusal whose target
	// is that id, in the whole log; the id still names no event's item.
	probe := "it_0123456789abcdef01234567"
	if _, err := v.OpenItem(ctx, inv, probe, "probing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("opening an unknown item: %v", err)
	}
	if _, err := count("", probe); !errors.Is(err, ErrNotFound) {
		t.Fatalf("timeline of an id only a refusal's target holds: %v", err)
	}
	if n, err := count("T-1", ""); err != nil || n == 0 {
		t.Fatalf("timeline of a case: %d events, %v", n, err)
	}
	// A suspension asked for again is the same: recorded once.
	for i, want := range []bool{true, false} {
		before := v.log.Size()
		recorded, err := v.Suspend(ctx, cust, "inv", "reason")
		if err != nil || recorded != want || (v.log.Size() > before) != want {
			t.Errorf("suspension %d: recorded %v, appended %d events, %v; want recorded %v", i+1, recorded, v.log.Size()-before, err, want)
		}
	}
	for _, c := range []struct {
		on       bool
		recorded bool
	}{{true, true}, {true, false}, {false, true}, {false, false}} {
		before := v.log.Size()
		res, err := v.SetHold(ctx, cust, "T-1", c.on, "reason")
		if err != nil {
			t.Fatal(err)
		}
		if res.Recorded != c.recorded || (v.log.Size() > before) != c.recorded {
			t.Errorf("hold %v: recorded %v, appended %d events; want recorded %v", c.on, res.Recorded, v.log.Size()-before, c.recorded)
		}
	}
	// An id that names no item but is some events' item (a log written
	// by a build that named it) keeps its timeline: the count decides.
	// (Last: the store does not hold the event the count says names it,
	// which is recorded as an integrity failure, storeContradicts.)
	v.state.mu.Lock()
	v.state.itemEvents[probe] = named{n: 1, last: 0}
	v.state.mu.Unlock()
	if _, err := count("", probe); errors.Is(err, ErrNotFound) {
		t.Fatalf("an id some events name is answered as unknown: %v", err)
	}
	v.state.mu.Lock()
	delete(v.state.itemEvents, probe)
	v.state.mu.Unlock()
}

// TestVoidDestructionRequestIsNotApproved: a destruction request is void,
// as a two-person request is, once its custodian is suspended or removed,
// and once it has expired: its approval is refused and recorded as
// refused, the case is left whole, and the lists no longer offer it. Nor
// do they offer a two-person request whose requester was suspended.
//
// A legal hold placed while it waits voids it too, lifted or not.
func TestVoidDestructionRequestIsNotApproved(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	listed := func(who Principal, id string) bool {
		for _, d := range v.Destructions(who) {
			if d.Request == id {
				return true
			}
		}
		d, err := v.ShowCase(ctx, who, "V-1")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Destructions {
			if r.Request == id {
				return true
			}
		}
		return false
	}
	if err := v.OpenCase(ctx, inv, "V-1", "kept"); err != nil {
		t.Fatal(err)
	}
	refusedApproval := func(what, id, want string) {
		t.Helper()
		before := v.log.Size()
		if _, err := v.ApproveDestruction(ctx, p["c2"], "V-1", id); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), want) {
			t.Fatalf("approval of a destruction request %s: %v", what, err)
		}
		if c, _ := v.state.getCase("V-1"); c.Destroyed {
			t.Fatalf("case destroyed on a request %s", what)
		}
		if evs := logged(t, v)[before:]; len(evs) != 1 || evs[0].Type != TypeAccessRefused {
			t.Fatalf("the refusal of a request %s is not what was recorded: %v", what, evs)
		}
		if listed(p["c2"], id) {
			t.Fatalf("a destruction request %s is still offered for approval", what)
		}
	}

	// Its custodian suspended.
	id, err := v.RequestDestruction(ctx, p["c1"], "V-1", "ORD-1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if !listed(p["c2"], id) {
		t.Fatal("a fresh destruction request is not listed")
	}
	grant, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "later", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Suspend(ctx, p["c3"], "c1", "under investigation"); err != nil {
		t.Fatal(err)
	}
	refusedApproval("whose custodian is suspended", id, "suspended or removed after asking")
	for _, q := range v.Requests(p["c2"]) {
		if q.ID == grant.ID {
			t.Fatal("a suspended custodian's two-person request is still offered for approval")
		}
	}

	// Its custodian removed.
	id, err = v.RequestDestruction(ctx, p["c3"], "V-1", "ORD-2", "court order")
	if err != nil {
		t.Fatal(err)
	}
	c4 := people(t, v, map[string]string{"c4": RoleCustodian})["c4"]
	if _, err := v.Remove(ctx, p["c2"], "c3", "left the unit"); err != nil {
		t.Fatal(err)
	}
	refusedApproval("whose custodian is removed", id, "suspended or removed after asking")

	// Expired.
	id, err = v.RequestDestruction(ctx, c4, "V-1", "ORD-3", "court order")
	if err != nil {
		t.Fatal(err)
	}
	var open PendingDestruction
	for _, d := range v.Destructions(p["c2"]) {
		if d.Request == id {
			open = d
		}
	}
	if want := clk.now().Add(v.cfg.RequestTTL).UTC().Truncate(time.Second); !open.Expires.Equal(want) {
		t.Fatalf("listed expiry %v, want %v", open.Expires, want)
	}
	clk.advance(v.cfg.RequestTTL + time.Second)
	refusedApproval("past its expiry", id, "expired")

	// A legal hold placed while it waits: lifted again by the custodian
	// who would approve it, the request stays void, so that one
	// custodian cannot undo a hold another placed and destroy the case
	// on a request asked before it.
	id, err = v.RequestDestruction(ctx, c4, "V-1", "ORD-4", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := v.SetHold(ctx, c4, "V-1", true, "appeal lodged"); err != nil || !slices.Equal(res.Voided, []string{id}) {
		t.Fatalf("the hold voided %v (%v), want %s", res.Voided, err, id)
	}
	// While the hold stands, the refusal says the request is void, not
	// to lift the hold.
	refusedApproval("asked before a hold that stands", id, "a legal hold was placed on the case (event ")
	if _, err := v.SetHold(ctx, p["c2"], "V-1", false, "appeal withdrawn"); err != nil {
		t.Fatal(err)
	}
	refusedApproval("asked before a hold since lifted", id, "a legal hold was placed on the case (event ")
	// Its requester finds on the case what became of it.
	d, err := v.ShowCase(ctx, c4, "V-1")
	if err != nil {
		t.Fatal(err)
	}
	var voided *VoidDestruction
	for i, r := range d.VoidDestructions {
		if r.Request == id {
			voided = &d.VoidDestructions[i]
		}
	}
	if voided == nil || !strings.Contains(voided.Why, "a legal hold was placed on the case (event ") || voided.By != "c4" {
		t.Fatalf("the case shows the voided request as %+v (%+v)", voided, d.VoidDestructions)
	}
	// And among their ended requests, with when the hold voided it.
	told := false
	for _, e := range v.EndedRequests(c4) {
		if e.Request == id {
			told = true
			if e.Outcome != OutcomeHeld || e.Kind != KindDestroy || e.Case != "V-1" || e.By != "" || e.At.IsZero() || !strings.Contains(string(e.Params), "ORD-4") {
				t.Fatalf("the requester is told the request ended as %+v", e)
			}
		}
	}
	if !told {
		t.Fatal("the requester's ended requests do not name the destruction request the hold voided")
	}

	// A fresh one, asked once the hold is lifted, is approved as before.
	id, err = v.RequestDestruction(ctx, c4, "V-1", "ORD-5", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, p["c2"], "V-1", id); err != nil {
		t.Fatal(err)
	}
}

// TestLeavingFewerThanTwoCustodiansIsConfirmed: suspending or removing a
// custodian that leaves fewer than two active ones is refused (and the
// refusal recorded, the person unchanged) unless confirmed; custodians
// already suspended do not count, and other roles are not concerned.
func TestLeavingFewerThanTwoCustodiansIsConfirmed(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
	if _, err := v.Suspend(ctx, p["c1"], "c3", "on leave"); err != nil {
		t.Fatal(err) // leaves two
	}
	if _, err := v.Suspend(ctx, p["c1"], "inv", "on leave"); err != nil {
		t.Fatal(err) // not a custodian
	}
	for name, change := range map[string]func(...StatusOption) (bool, error){
		"suspension": func(o ...StatusOption) (bool, error) { return v.Suspend(ctx, p["c1"], "c2", "lost laptop", o...) },
		"removal":    func(o ...StatusOption) (bool, error) { return v.Remove(ctx, p["c1"], "c2", "left the unit", o...) },
	} {
		before := v.log.Size()
		if _, err := change(); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "would leave 1 active custodian") {
			t.Fatalf("%s leaving one custodian: %v", name, err)
		}
		if evs := logged(t, v)[before:]; len(evs) != 1 || evs[0].Type != TypeAccessRefused {
			t.Fatalf("%s refused: recorded %v", name, evs)
		}
		if q, _ := v.state.personByName("c2"); q.Suspended || q.Removed {
			t.Fatalf("%s refused, yet c2 is changed", name)
		}
	}
	if _, err := v.Remove(ctx, p["c1"], "c2", "left the unit", LeavingFewerCustodians); err != nil {
		t.Fatal(err)
	}
	if q, _ := v.state.personByName("c2"); !q.Removed {
		t.Fatal("a confirmed removal did not remove")
	}
}

// TestRedeemingSaysWhatIsWrongWithTheName: a name the vault cannot hold
// (a capital) is refused for its form, and a missing half for being
// missing, not with one message for both that sends the person to check
// the invitation.
func TestRedeemingSaysWhatIsWrongWithTheName(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	halves := []string{InvitationPrefix + "aaaa", InvitationPrefix + "bbbb"}
	if _, err := v.RedeemInvitation(ctx, "Dara", halves); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "lowercase") {
		t.Fatalf("a capitalised name: %v", err)
	}
	if _, err := v.RedeemInvitation(ctx, "dara", halves[:1]); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "both halves") || !strings.Contains(err.Error(), "1 given") {
		t.Fatalf("one half: %v", err)
	}
}

// TestDestructionRequestRejectedOrWithdrawn: a destruction request is
// ended unapproved with a reason, by another custodian (rejected) or by
// its requester (withdrawn), recorded, and can no longer be approved; a
// reason is required, and an ended or unknown one is refused.
func TestDestructionRequestRejectedOrWithdrawn(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	if err := v.OpenCase(ctx, inv, "R-1", "kept"); err != nil {
		t.Fatal(err)
	}
	for _, by := range []string{"c2", "c1"} { // rejected, then withdrawn
		id, err := v.RequestDestruction(ctx, p["c1"], "R-1", "ORD-9", "court order")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Reject(ctx, p[by], id, ""); !errors.Is(err, ErrBadInput) {
			t.Fatalf("a rejection without a reason: %v", err)
		}
		before := v.log.Size()
		info, err := v.Reject(ctx, p[by], id, "the order was set aside")
		if err != nil {
			t.Fatal(err)
		}
		if info.ID != id || info.Case != "R-1" || info.By != "c1" || info.Kind != KindDestroy {
			t.Fatalf("the answer: %+v", info)
		}
		evs := logged(t, v)[before:]
		var d DestructionRejected
		if len(evs) != 1 || evs[0].Type != TypeDestructionRejected || evs[0].Actor.Person != by || evs[0].DecodeData(&d) != nil ||
			d.Request != id || d.RequestedBy != "c1" || d.Reason != "the order was set aside" {
			t.Fatalf("recorded: %v %+v", evs, d)
		}
		if _, err := v.ApproveDestruction(ctx, p["c2"], "R-1", id); !errors.Is(err, ErrConflict) {
			t.Fatalf("approval of an ended destruction request: %v", err)
		}
		if _, err := v.Reject(ctx, p[by], id, "again"); !errors.Is(err, ErrConflict) {
			t.Fatalf("an ended request ended again: %v", err)
		}
		for _, d := range v.Destructions(p["c2"]) {
			if d.Request == id {
				t.Fatal("an ended destruction request is still listed")
			}
		}
	}
	if c, _ := v.state.getCase("R-1"); c.Destroyed {
		t.Fatal("the case was destroyed")
	}
	// The state restored from the log agrees.
	s := replayedState(t, v)
	if c := s.cases["R-1"]; len(c.Requests) != 0 {
		t.Fatalf("the replayed state has pending destruction requests: %v", c.Requests)
	}
}

// TestEndedRequestSaysWhoEndedIt: a decision on a request that already
// ended (approved, rejected, withdrawn, expired, or a destruction request
// overtaken by another's approval) is refused with who ended it and when,
// from the log, also after a restart; an id never used is still unknown.
func TestEndedRequestSaysWhoEndedIt(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC))
	ctx := context.Background()
	cfg := testConfig(t, t.TempDir(), withClock(clk))
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	ask := func(name string) string {
		t.Helper()
		g, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: name, Role: RoleInvestigator})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	approved, rejected, withdrawn, expired := ask("a1"), ask("a2"), ask("a3"), ask("a4")
	if _, err := v.Approve(ctx, p["c2"], approved); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Reject(ctx, p["c2"], rejected, "not known to us"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Reject(ctx, p["c1"], withdrawn, "typed the wrong name"); err != nil {
		t.Fatal(err)
	}
	if err := v.OpenCase(ctx, inv, "E-1", "ended"); err != nil {
		t.Fatal(err)
	}
	first, err := v.RequestDestruction(ctx, p["c1"], "E-1", "ORD-1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.RequestDestruction(ctx, p["c2"], "E-1", "ORD-1", "court order"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already has destruction request "+first+" pending") {
		t.Fatalf("a second destruction request beside a pending one: %v", err)
	}
	clk.advance(DefaultRequestTTL + time.Hour) // the first expires unanswered
	second, err := v.RequestDestruction(ctx, p["c2"], "E-1", "ORD-1", "court order")
	if err != nil {
		t.Fatalf("asking again once the first expired: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, p["c3"], "E-1", second); err != nil {
		t.Fatal(err)
	}
	ask("a5") // a request's opening drops those expired since
	stamp := "2026-12-02 09:"
	cases := []struct {
		name string
		try  func() error
		want string
	}{
		{"approve an approved request", func() error { _, err := v.Approve(ctx, p["c3"], approved); return err },
			"request " + approved + " was already approved by c2 at " + stamp},
		{"reject an approved request", func() error { _, err := v.Reject(ctx, p["c3"], approved, "late"); return err },
			"was already approved by c2"},
		{"approve a rejected request", func() error { _, err := v.Approve(ctx, p["c3"], rejected); return err },
			"request " + rejected + " was already rejected by c2 at " + stamp},
		{"approve a withdrawn request", func() error { _, err := v.Approve(ctx, p["c2"], withdrawn); return err },
			"request " + withdrawn + " was withdrawn by its requester c1 at " + stamp},
		{"approve an expired request", func() error { _, err := v.Approve(ctx, p["c2"], expired); return err },
			"request " + expired + " expired unanswered at 2026-12-09 09:"},
		{"reject an approved destruction request", func() error { _, err := v.Reject(ctx, p["c1"], second, "late"); return err },
			"destruction request " + second + " was already approved by c3 at 2026-12-09 10:"},
		{"reject the expired destruction request beside the approved one", func() error { _, err := v.Reject(ctx, p["c2"], first, "late"); return err },
			"destruction request " + first + " expired unanswered at 2026-12-09 09:"},
	}
	check := func(v *Vault) {
		t.Helper()
		for _, c := range cases {
			before := v.log.Size()
			err := c.try()
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want a conflict saying %q", c.name, err, c.want)
			}
			if v.log.Size() != before+1 {
				t.Errorf("%s: the refusal was not recorded", c.name)
			}
		}
		if _, err := v.Approve(ctx, p["c2"], "rq_000000000000000000000000"); !errors.Is(err, ErrNotFound) {
			t.Errorf("a request never made: %v", err)
		}
	}
	check(v)
	checkSnapshotRoundTrip(t, v)
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err = Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	check(v)
}

// TestEndedDestructionRequestsSayHowTheyEnded: when a case is destroyed
// under one request, the others pending beside it end too; each is then
// said to have ended as it did: one that had expired, as expired when it
// did; one whose requester was suspended, as void; only a live one as
// overtaken by the approval.
func TestEndedDestructionRequestsSayHowTheyEnded(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "c4": RoleCustodian})
	if err := v.OpenCase(ctx, inv, "X-1", "ended"); err != nil {
		t.Fatal(err)
	}
	expired, err := v.RequestDestruction(ctx, p["c1"], "X-1", "ORD-1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(DefaultRequestTTL + 24*time.Hour)
	void, err := v.RequestDestruction(ctx, p["c4"], "X-1", "ORD-2", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Suspend(ctx, p["c1"], "c4", "left the unit"); err != nil {
		t.Fatal(err)
	}
	live, err := v.RequestDestruction(ctx, p["c2"], "X-1", "ORD-3", "court order")
	if err != nil {
		t.Fatal(err)
	}
	// A second live one beside it, as a version that did not refuse
	// that recorded it.
	beside := "dr_00112233445566bb"
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeDestructionRequested, Actor: p["c1"].actor(), Case: "X-1",
		Data: DestructionRequested{Request: beside, Order: "ORD-4", Reason: "court order", Expires: clk.now().Add(time.Hour).UTC().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, p["c3"], "X-1", live); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		expired: "expired unanswered at 2026-03-08 09:00:00 UTC",
		void:    "asked by c4, was void from 2026-03-09 09:00:00 UTC, when its requester was suspended or removed",
		live:    "was already approved by c3",
		beside:  "ended when c3 approved " + live,
	} {
		if _, err := v.Reject(ctx, p["c3"], id, "late"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", id, err, want)
		}
	}
	// Each requester is told how their own ended, with what it asked,
	// as a two-person request's requester is.
	for who, want := range map[string]map[string]string{
		"c1": {expired: OutcomeExpired, beside: OutcomeSuperseded},
		"c2": {live: OutcomeApproved},
		"c4": {void: OutcomeVoid},
	} {
		got := map[string]string{}
		for _, e := range v.EndedRequests(p[who]) {
			got[e.Request] = e.Outcome
			if e.Kind != KindDestroy || e.Case != "X-1" || !strings.Contains(string(e.Params), "ORD-") {
				t.Errorf("%s is told %+v", who, e)
			}
			if (e.Outcome == OutcomeApproved || e.Outcome == OutcomeSuperseded) && e.By != "c3" {
				t.Errorf("%s is told %s ended by %q, not c3", who, e.Request, e.By)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s is told their destruction requests ended %v, want %v", who, got, want)
		}
	}
}

// TestAMistypedValueIsNamed: a value that is none of those allowed (a
// category, a close reason, a format) is answered with them all and,
// where one is near, the one it was likely meant to be; nothing is
// recorded for it.
func TestAMistypedValueIsNamed(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	it := h.deposit(t, h.a1, "a.png", []byte("a mistyped category"), "")
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/m"}})
	if err != nil {
		t.Fatal(err)
	}
	before := len(logged(t, v))
	for _, tc := range []struct {
		what  string
		err   error
		guess string
	}{
		{"category", func() error { _, err := v.Classify(ctx, h.a1, it.ID, ClassifyRequest{Category: "basline"}); return err }(), "did you mean baseline?"},
		{"close reason", v.CloseReport(ctx, h.a1, rp, "duplcate", ""), "did you mean duplicate?"},
		{"hash list format", func() error { _, err := v.ExportHashes(ctx, h.a1, "HL-1", "sha265sum"); return err }(), "did you mean sha256sum?"},
		{"far from any", func() error {
			_, err := v.Classify(ctx, h.a1, it.ID, ClassifyRequest{Category: "zzzzzzzz"})
			return err
		}(), ""},
	} {
		switch {
		case !errors.Is(tc.err, ErrBadInput) || !strings.Contains(tc.err.Error(), "use one of"):
			t.Errorf("%s: %v, want ErrBadInput naming the values", tc.what, tc.err)
		case tc.guess != "" && !strings.Contains(tc.err.Error(), tc.guess):
			t.Errorf("%s: %v, want %q", tc.what, tc.err, tc.guess)
		case tc.guess == "" && strings.Contains(tc.err.Error(), "did you mean"):
			t.Errorf("%s: %v guesses", tc.what, tc.err)
		}
	}
	if n := len(logged(t, v)); n != before {
		t.Fatalf("%d events recorded for mistyped values", n-before)
	}
}

// TestACustodianIsToldWhoDeposits: a custodian (or auditor), who knows
// every case, is refused a deposit with who deposits, not with "no such
// case", even in a case they opened and are listed in; the refusal is
// recorded and nothing is stored.
func TestACustodianIsToldWhoDeposits(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "aud": RoleAuditor, "inv": RoleInvestigator})
	if err := v.OpenCase(ctx, p["inv"], "K-1", "t"); err != nil {
		t.Fatal(err)
	}
	for _, who := range []Principal{p["c1"], p["aud"]} {
		before := v.log.Size()
		_, err := v.Deposit(ctx, who, DepositRequest{Case: "K-1", Name: "a.txt", Body: strings.NewReader("x")})
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "does not deposit evidence: only investigators and analysts assigned to case K-1 do") || strings.Contains(err.Error(), "no such case") {
			t.Errorf("%s's deposit: %v", who.Role, err)
		}
		if evs := logged(t, v)[before:]; len(evs) != 1 || evs[0].Type != TypeAccessRefused {
			t.Errorf("%s's refused deposit recorded %v", who.Role, evs)
		}
	}
	// A case that does not exist is still "no such case" to everyone.
	if _, err := v.Deposit(ctx, p["c1"], DepositRequest{Case: "K-404", Name: "a.txt", Body: strings.NewReader("x")}); err == nil || !strings.Contains(err.Error(), "no such case") {
		t.Errorf("a custodian's deposit to no case: %v", err)
	}
}

// TestEndedDestructionRequestKeepsItsCause: a destruction request void
// since its requester's suspension stays void for that when a hold is
// placed later (the hold voids nothing more, and the requester is told
// the suspension and its time); a request that expired or is void is
// decided no more: a rejection would rewrite how it ended.
func TestEndedDestructionRequestKeepsItsCause(t *testing.T) {
	clk := newClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	if err := v.OpenCase(ctx, inv, "Y-1", "causes"); err != nil {
		t.Fatal(err)
	}
	expired, err := v.RequestDestruction(ctx, p["c1"], "Y-1", "ORD-1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(DefaultRequestTTL + time.Hour)
	void, err := v.RequestDestruction(ctx, p["c3"], "Y-1", "ORD-2", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Suspend(ctx, p["c1"], "c3", "on leave"); err != nil {
		t.Fatal(err)
	}
	suspended := clk.now()
	clk.advance(time.Hour)
	res, err := v.SetHold(ctx, p["c2"], "Y-1", true, "appeal lodged")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Voided) != 0 {
		t.Errorf("the hold claims to void %v, void already", res.Voided)
	}
	for _, e := range v.EndedRequests(p["c3"]) {
		if e.Request == void && (e.Outcome != OutcomeVoid || !e.At.Equal(suspended)) {
			t.Errorf("the requester is told %s at %v, want void at the suspension, %v", e.Outcome, e.At, suspended)
		}
	}
	for _, id := range []string{expired, void} {
		if _, err := v.Reject(ctx, p["c2"], id, "late"); !errors.Is(err, ErrConflict) {
			t.Errorf("rejecting %s, which ended already: %v", id, err)
		}
	}
	for _, e := range v.EndedRequests(p["c1"]) {
		if e.Request == expired && e.Outcome != OutcomeExpired {
			t.Errorf("the expired request is now told %s", e.Outcome)
		}
	}
}
