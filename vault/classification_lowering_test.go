package vault

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/pkgformat"
)

// TestLoweringTheClassificationPolicyIsARequest: a custodian raises a
// case's classification policy alone, but lowering it (one analyst could
// then settle what two or three had to) is a request another custodian
// approves: until then nothing settles, the requester cannot approve it
// and an analyst cannot either; the approval says what it settled, and
// its event names who asked, who approved and why. Asking for the
// policy in force records nothing; a case has one lowering pending at a
// time.
func TestLoweringTheClassificationPolicyIsARequest(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	d := h.deposit(t, h.a1, "judged.jpg", []byte("material three analysts must settle"), "")
	raised, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 3, "CAID-style review")
	if err != nil || raised.Request != nil || !raised.Recorded {
		t.Fatalf("raising the policy: %+v %v", raised, err)
	}
	if _, err := v.Classify(ctx, h.a1, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
		t.Fatal(err)
	}
	category := func() string {
		t.Helper()
		detail, err := v.ShowItem(ctx, h.a2, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return detail.Classification.Category
	}
	if c := category(); c != "" {
		t.Fatalf("one vote of three settled %q", c)
	}

	const why = "a one-analyst queue for the backlog, agreed with the unit head"
	before := len(eventsOfType(t, v, TypeClassificationPolicySet))
	asked, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 1, why)
	if err != nil || asked.Request == nil || asked.Request.Kind != KindClassificationPolicy || asked.Request.Case != "HL-1" {
		t.Fatalf("lowering the policy: %+v %v, want a request", asked, err)
	}
	if got := len(eventsOfType(t, v, TypeClassificationPolicySet)); got != before || v.state.votesNeeded("HL-1") != 3 || category() != "" {
		t.Fatalf("asked, the lowering took effect (%d policy events, %d votes)", got, v.state.votesNeeded("HL-1"))
	}
	var pending *PendingRequest
	for _, r := range v.Requests(h.cust2) {
		if r.ID == asked.Request.ID {
			pending = &r
		}
	}
	if pending == nil {
		t.Fatal("the second custodian is not shown the request")
	}
	if p := pending.Parameters(); p.Votes != 1 || p.From != 3 || pending.Reason != why {
		t.Fatalf("the request shows %+v, reason %q; want from 3 to 1, and why", p, pending.Reason)
	}
	if l := pending.Lowering; l == nil || l.Now != 3 || len(l.Settle) != 1 || l.Settle[CategoryBaseline] != 1 {
		t.Fatalf("the approver is shown %+v; want now 3, and one item it would settle as baseline", l)
	}
	if _, err := v.Approve(ctx, h.cust, asked.Request.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the requester approved their own lowering: %v", err)
	}
	if _, err := v.Approve(ctx, h.a2, asked.Request.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst approved a lowering: %v", err)
	}
	if v.state.votesNeeded("HL-1") != 3 {
		t.Fatal("a refused approval lowered the policy")
	}

	a, err := v.Approve(ctx, h.cust2, asked.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e := a.ClassificationPolicy; e == nil || e.Settled != 1 || e.Unsettled != 0 || len(e.SettledAs) != 1 || e.SettledAs[CategoryBaseline] != 1 {
		t.Fatalf("the approval says %+v, want 1 item settled as baseline", a.ClassificationPolicy)
	}
	if c := category(); c != CategoryBaseline {
		t.Fatalf("approved, the vote cast settles %q", c)
	}
	set := eventsOfType(t, v, TypeClassificationPolicySet)
	var ps ClassificationPolicySet
	last := set[len(set)-1]
	if err := last.DecodeData(&ps); err != nil || ps != (ClassificationPolicySet{Votes: 1, Request: asked.Request.ID, RequestedBy: "cust", Reason: why}) || last.Actor.Person != "cust2" {
		t.Fatalf("case.classification.policy records %+v by %s (%v)", ps, last.Actor.Person, err)
	}
	if _, details := custody.Describe(last); !strings.Contains(details, "asked by cust in request "+asked.Request.ID+", approved by cust2; because “"+why+"”") {
		t.Errorf("the lowering is described as %q", details)
	}
	if _, details := custody.Describe(set[len(set)-2]); !strings.Contains(details, "settle an item's category: 3") || !strings.Contains(details, "because “CAID-style review”") {
		t.Errorf("the raising is described as %q", details)
	}
	// The case's custody report says the policy in force, who set it on
	// whose request, and what the request asked.
	aud := enrolled(t, v, "aud", RoleAuditor)
	doc, err := v.CustodyDocument(ctx, aud, DocumentRequest{Case: "HL-1", Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc.Body)
	for _, want := range []string{
		"1 classification settles an item's category, set by cust2 (custodian) (event " + strconv.FormatUint(last.Seq, 10) + "): asked by cust in request " + asked.Request.ID + ", approved by cust2; because “" + why + "”",
		"request " + asked.Request.ID + ", to set the case's classification policy (case.classification.policy); agreeing classifications that settle an item's category: lower them from 3 to 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the custody report does not say %q:\n%s", want, text)
		}
	}

	// The policy in force: nothing recorded, no request.
	n := len(eventsOfType(t, v, TypeRequestOpened))
	same, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 1, "again")
	if err != nil || same.Recorded || same.Request != nil || len(eventsOfType(t, v, TypeRequestOpened)) != n || len(eventsOfType(t, v, TypeClassificationPolicySet)) != len(set) {
		t.Fatalf("asking for the policy in force: %+v %v", same, err)
	}

	// A case has one lowering pending at a time, whoever asks.
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 3, ""); err != nil {
		t.Fatal(err)
	}
	toTwo, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, "")
	if err != nil || toTwo.Request == nil {
		t.Fatalf("%+v %v", toTwo, err)
	}
	if again, err := v.SetClassificationPolicy(ctx, h.cust2, "HL-1", 1, ""); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already asks this") {
		t.Fatalf("a second lowering asked while one waits: %+v %v", again, err)
	}
	// Rejected, it is in the case's custody report made on demand, with
	// its rejection.
	if _, err := v.Reject(ctx, h.cust2, toTwo.Request.ID, "the backlog is no reason to lower it"); err != nil {
		t.Fatal(err)
	}
	doc, err = v.CustodyDocument(ctx, aud, DocumentRequest{Case: "HL-1", Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	if text := string(doc.Body); strings.Count(text, toTwo.Request.ID) < 2 || !strings.Contains(text, "the backlog is no reason to lower it") {
		t.Errorf("the custody report does not show the rejected lowering %s and its rejection:\n%s", toTwo.Request.ID, text)
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("replaying the log gives another state: %s", diff)
	}
}

// TestLoweringTheClassificationPolicyIsCheckedAtItsPosition: a lowering
// whose policy another custodian raised while it waited is shown to the
// approver as it stands and refused (it would lower more than was
// asked); and a raising whose policy another decision raised further
// meanwhile is refused rather than recorded as a lowering nobody
// approved.
func TestLoweringTheClassificationPolicyIsCheckedAtItsPosition(t *testing.T) {
	g := &gatedStore{typ: TypeClassificationPolicySet, entered: make(chan struct{}), release: make(chan struct{})}
	h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g })
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 4, ""); err != nil {
		t.Fatal(err)
	}
	ask, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, "")
	if err != nil || ask.Request == nil {
		t.Fatalf("%+v %v", ask, err)
	}
	if _, err := v.SetClassificationPolicy(ctx, h.cust2, "HL-1", 5, ""); err != nil {
		t.Fatal(err)
	}
	// Shown to the approver as it stands now, and refused: the approver
	// would lower 5 to 2, where 4 to 2 was asked.
	for _, r := range v.Requests(h.cust2) {
		if r.ID == ask.Request.ID && (r.Lowering == nil || r.Lowering.Now != 5) {
			t.Fatalf("the approver is shown %+v", r.Lowering)
		}
	}
	if _, err := v.Approve(ctx, h.cust2, ask.Request.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "with 4 agreeing votes when the lowering was asked, and with 5 agreeing votes now") {
		t.Fatalf("approving a lowering asked under another policy: %v", err)
	}
	if got := v.state.votesNeeded("HL-1"); got != 5 {
		t.Fatalf("the refused lowering left %d votes", got)
	}
	if _, err := v.Reject(ctx, h.cust2, ask.Request.ID, "asked under another policy"); err != nil {
		t.Fatal(err)
	}
	again, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, "")
	if err != nil || again.Request == nil {
		t.Fatalf("%+v %v", again, err)
	}
	if _, err := v.Approve(ctx, h.cust2, again.Request.ID); err != nil {
		t.Fatal(err)
	}
	if got := v.state.votesNeeded("HL-1"); got != 2 {
		t.Fatalf("the approved lowering left %d votes", got)
	}

	// A raising that finds the policy raised above it at its position
	// (decided against 6, appended after a raising to 9): refused, and
	// recorded as a refusal, not as a lowering nobody approved.
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 6, ""); err != nil {
		t.Fatal(err)
	}
	from := uint64(len(logged(t, v)))
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	first := make(chan error, 1)
	go func() {
		_, err := v.SetClassificationPolicy(ctx, h.cust2, "HL-1", 9, "")
		first <- err
	}()
	<-g.entered // the raising to 9 is being written
	second := make(chan error, 1)
	var raised ClassificationPolicyChange
	go func() {
		var err error
		raised, err = v.SetClassificationPolicy(ctx, h.cust, "HL-1", 7, "")
		second <- err
	}()
	time.Sleep(300 * time.Millisecond) // the raising to 7 has read 6 and waits for its position
	close(g.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	err = <-second
	if raised.Request != nil {
		t.Skip("the raising to 7 was asked after the one to 9 landed: no race shown this time")
	}
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "raised to 9 agreeing votes meanwhile") {
		t.Fatalf("a raising overtaken by a higher one: %+v %v", raised, err)
	}
	if got := v.state.votesNeeded("HL-1"); got != 9 {
		t.Fatalf("the policy is %d, want 9: a raising became a lowering", got)
	}
	if got := refusalGroundsSince(t, v, from); len(got) != 1 {
		t.Fatalf("the refusal is recorded %d times", len(got))
	}
}

// TestPackageCarriesItsClassificationLoweringsRequest: a package of a
// case whose classification policy was lowered carries the lowering's
// request.opened and request.approved (what its requester asked, signed
// in their name), and verifies.
func TestPackageCarriesItsClassificationLoweringsRequest(t *testing.T) {
	ctx := context.Background()
	v, p, id := caseToSeal(t)
	if _, err := v.SetClassificationPolicy(ctx, p["c1"], "Q-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	lower, err := v.SetClassificationPolicy(ctx, p["c1"], "Q-1", 1, "review finished")
	if err != nil || lower.Request == nil {
		t.Fatalf("%+v %v", lower, err)
	}
	if _, err := v.Approve(ctx, p["c2"], lower.Request.ID); err != nil {
		t.Fatal(err)
	}
	sealed, err := v.SealPackage(ctx, p["inv"], SealRequest{Case: "Q-1", For: "pros", Purpose: "trial"})
	if err != nil {
		t.Fatal(err)
	}
	since := pkgformat.PolicyRequestsCarriedSince
	pkgformat.PolicyRequestsCarriedSince = time.Time{}
	defer func() { pkgformat.PolicyRequestsCarriedSince = since }()
	byType := verifiedPackageEvents(t, v, fetchedPackage(t, v, p["pros"], sealed.ID), id)
	opened, approved, set := byType[TypeRequestOpened], byType[TypeRequestApproved], byType[TypeClassificationPolicySet]
	if opened == nil || approved == nil || set == nil || opened.Actor.Person != "c1" || approved.Actor.Person != "c2" || approved.Seq+1 != set.Seq {
		t.Fatalf("the package carries the lowering as %+v, %+v and %+v", opened, approved, set)
	}
	var d RequestOpened
	if err := opened.DecodeData(&d); err != nil || d.Request != lower.Request.ID || d.Kind != KindClassificationPolicy || d.Reason != "review finished" {
		t.Fatalf("the request carried is %+v (%v)", d, err)
	}
}

// TestALoweringSaysWhatItSettlesAsTheVaultStatesIt: under a policy of
// two votes, two analysts settle an item as baseline, and a third votes
// its identical copy not illegal. Lowering the policy to one vote would
// settle the copy by that vote, but the vault never states known
// material not illegal on one person's word: neither the approver's
// preview nor the approval's answer counts it as settled.
func TestALoweringSaysWhatItSettlesAsTheVaultStatesIt(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	body := []byte("material two analysts settled as baseline")
	d := h.deposit(t, h.a1, "d.jpg", body, "")
	for _, p := range []Principal{h.a1, h.a2} {
		if _, err := v.Classify(ctx, p, d.ID, ClassifyRequest{Category: CategoryBaseline}); err != nil {
			t.Fatal(err)
		}
	}
	c := h.deposit(t, h.a3, "copy.jpg", body, "")
	if _, err := v.Classify(ctx, h.a3, c.ID, ClassifyRequest{Category: CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	ask, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 1, "")
	if err != nil || ask.Request == nil {
		t.Fatalf("%+v %v", ask, err)
	}
	for _, r := range v.Requests(h.cust2) {
		if r.ID == ask.Request.ID && (r.Lowering == nil || len(r.Lowering.Settle) != 0) {
			t.Fatalf("the preview counts %+v", r.Lowering)
		}
	}
	a, err := v.Approve(ctx, h.cust2, ask.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e := a.ClassificationPolicy; e == nil || e.Settled != 0 || len(e.SettledAs) != 0 {
		t.Fatalf("the approval says %+v: the copy settled as not illegal on one vote", e)
	}
	if detail, err := v.ShowItem(ctx, h.a3, c.ID); err != nil || detail.Classification.Category == CategoryNotIllegal {
		t.Fatalf("the copy is stated %+v %v", detail.Classification, err)
	}
}

// TestABadClassificationPolicyChangesNothing: a policy out of range, or
// a reason that is not text a person can read, is refused as bad input
// before anything is recorded: no policy, no request, no refusal.
func TestABadClassificationPolicyChangesNothing(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 3, ""); err != nil {
		t.Fatal(err)
	}
	before := len(logged(t, v))
	for _, tc := range []struct {
		votes  int
		reason string
	}{
		{0, ""}, {MaxClassificationVotes + 1, ""},
		{1, "backlog\x00"}, {5, "raised\u202e"}, {1, strings.Repeat("x", 1025)},
	} {
		ch, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", tc.votes, tc.reason)
		if !errors.Is(err, ErrBadInput) || ch.Request != nil || ch.Recorded {
			t.Errorf("votes %d, reason %q: %+v %v, want bad input", tc.votes, tc.reason, ch, err)
		}
	}
	if after := len(logged(t, v)); after != before || v.state.votesNeeded("HL-1") != 3 {
		t.Fatalf("bad input recorded %d events, policy %d", after-before, v.state.votesNeeded("HL-1"))
	}
}
