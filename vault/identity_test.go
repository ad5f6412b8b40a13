package vault

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
)

// clock is a settable Config.Now.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }
func newClock(t time.Time) *clock        { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func withClock(c *clock) func(*Config)   { return func(cfg *Config) { cfg.Now = c.now } }

// people enrols the named persons directly and signs each in.
func people(t *testing.T, v *Vault, roles map[string]string) map[string]Principal {
	t.Helper()
	out := map[string]Principal{}
	for name, role := range roles {
		tok, err := v.Enroll(context.Background(), name, role)
		if err != nil {
			t.Fatal(err)
		}
		if out[name], err = signIn(v, tok); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// logged returns every event of the log, decoded.
func logged(t *testing.T, v *Vault) []*events.Event {
	t.Helper()
	var out []*events.Event
	err := v.cfg.Log.Read(context.Background(), 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		out = append(out, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func countType(t *testing.T, v *Vault, typ string) int {
	n := 0
	for _, ev := range logged(t, v) {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// refusalGroundsSince returns the grounds of the access.refused events
// from log position from on, in log order.
func refusalGroundsSince(t *testing.T, v *Vault, from uint64) []string {
	t.Helper()
	var out []string
	for _, ev := range logged(t, v)[from:] {
		if ev.Type != TypeAccessRefused {
			continue
		}
		var d AccessRefused
		if err := ev.DecodeData(&d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.Grounds)
	}
	return out
}

// eventsOfType returns the logged events of type typ, in log order.
func eventsOfType(t *testing.T, v *Vault, typ string) []*events.Event {
	var out []*events.Event
	for _, ev := range logged(t, v) {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// TestConcurrentApprovalsGrantOnce: two custodians approve one request at
// the same moment, many times over: exactly one approval stands each time.
func TestConcurrentApprovalsGrantOnce(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	const n = 20
	for i := range n {
		name := "inv" + string(rune('a'+i))
		req, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: name, Role: RoleInvestigator})
		if err != nil {
			t.Fatal(err)
		}
		var ok atomic.Int32
		var wg sync.WaitGroup
		for _, c := range []string{"c2", "c3"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := v.Approve(ctx, p[c], req.ID); err == nil {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("request %d: %d approvals stood", i, ok.Load())
		}
	}
	if got := countType(t, v, TypeRequestApproved); got != n {
		t.Fatalf("%d approvals recorded, want %d", got, n)
	}
}

// TestApprovalRules: nobody approves their own request; a suspended
// custodian approves nothing; a request whose requester was suspended is
// void; a request expires; an invitation expires.
func TestApprovalRules(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})

	req, _ := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "dara", Role: RoleInvestigator})
	if _, err := v.Approve(ctx, p["c1"], req.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("own approval: %v", err)
	}
	if _, err := v.Approve(ctx, p["inv"], req.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an investigator approved: %v", err)
	}
	if _, err := v.Suspend(ctx, p["c3"], "c2", "under investigation"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c2"], req.ID); err == nil {
		t.Fatal("a suspended custodian approved")
	}
	// c2 is suspended: suspending c1 as well leaves c3 alone, which
	// needs confirming.
	if _, err := v.Suspend(ctx, p["c3"], "c1", "under investigation", LeavingFewerCustodians); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c3"], req.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("the request of a suspended requester was approved: %v", err)
	}

	// Expiry of a request, then of an invitation.
	c4 := people(t, v, map[string]string{"c4": RoleCustodian})["c4"]
	old, _ := v.EnrollBy(ctx, p["c3"], Enrolment{Name: "late", Role: RoleInvestigator})
	clk.advance(v.cfg.RequestTTL + time.Second)
	if _, err := v.Approve(ctx, c4, old.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired request was approved: %v", err)
	}
	fresh, _ := v.EnrollBy(ctx, p["c3"], Enrolment{Name: "eve", Role: RoleInvestigator})
	app, err := v.Approve(ctx, c4, fresh.ID)
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(v.cfg.InvitationTTL + time.Second)
	_, err = v.RedeemInvitation(ctx, "eve", []string{fresh.InvitationPart.Reveal(), app.InvitationPart.Reveal()})
	if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired invitation was redeemed: %v", err)
	}
}

// TestInvitationNeedsBothHalves: each custodian's half alone, or with the
// other's half of another invitation, redeems nothing; both redeem once,
// and the credential opens sessions; a re-issue ends them.
func TestInvitationNeedsBothHalves(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	a, _ := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "dara", Role: RoleInvestigator})
	b, _ := v.Approve(ctx, p["c2"], a.ID)
	x, _ := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "sok", Role: RoleInvestigator})
	y, _ := v.Approve(ctx, p["c2"], x.ID)
	h1, h2 := a.InvitationPart.Reveal(), b.InvitationPart.Reveal()
	for _, try := range [][]string{{h1, h1}, {h2, h2}, {h1, y.InvitationPart.Reveal()}, {x.InvitationPart.Reveal(), h2}, {h1}} {
		if _, err := v.RedeemInvitation(ctx, "dara", try); err == nil {
			t.Fatalf("redeemed with %d halves that do not belong together", len(try))
		}
	}
	cred, err := v.RedeemInvitation(ctx, "dara", []string{h2, h1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.RedeemInvitation(ctx, "dara", []string{h1, h2}); err == nil {
		t.Fatal("an invitation was redeemed twice")
	}
	dara, err := signIn(v, cred)
	if err != nil {
		t.Fatal(err)
	}
	if dara.Credential.Auth != "local" || dara.Credential.Session == "" {
		t.Fatalf("session credential %+v", dara.Credential)
	}
	// Refresh: the old session ends, the new one works.
	s2, err := v.RefreshSession(ctx, dara)
	if err != nil {
		t.Fatal(err)
	}
	if v.state.sessionLive(dara.Credential.Session) {
		t.Fatal("the refreshed session is still open")
	}
	if _, err := v.Authenticate(s2.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	// A re-issue approved ends the credential and its sessions.
	r, _ := v.Reissue(ctx, p["c1"], "dara", "")
	if _, err := v.Approve(ctx, p["c2"], r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(s2.Token.Reveal()); err == nil {
		t.Fatal("a session outlived its credential's re-issue")
	}
	if _, err := signIn(v, cred); err == nil {
		t.Fatal("a re-issued credential still opens sessions")
	}
}

// TestActsAfterSuspensionAreRefused: a person acting while they are
// suspended has every act at a position after the suspension refused.
func TestActsAfterSuspensionAreRefused(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "inv": RoleInvestigator})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v.OpenCase(ctx, p["inv"], "S-"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+strings.Repeat("y", i/26), "t")
		}
	}()
	time.Sleep(20 * time.Millisecond)
	if _, err := v.Suspend(ctx, p["c1"], "inv", "x"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	suspended := false
	for _, ev := range logged(t, v) {
		switch {
		case ev.Type == TypePersonSuspended:
			suspended = true
		case suspended && ev.Actor.Person == "inv" && ev.Type != TypeAccessRefused:
			t.Fatalf("event %d (%s) by the suspended person", ev.Seq, ev.Type)
		}
	}
	if !suspended {
		t.Fatal("no suspension recorded")
	}
}

// TestAssertedIdentitiesAreBounded: an identity provider does not choose
// what the log holds: oversized or invisible values are refused.
func TestAssertedIdentitiesAreBounded(t *testing.T) {
	v, _ := openTestVaultDir(t, withTestSources)
	ctx := context.Background()
	people(t, v, map[string]string{"alice": RoleInvestigator})
	good := ExternalIdentity{Kind: "oidc", Name: "alice", Issuer: "https://idp.example/", Subject: "1001", AMR: []string{"pwd", "mfa"}, ClientID: testClient, Key: testKey}
	if _, err := v.OpenExternalSession(ctx, good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []ExternalIdentity{
		{Kind: "oidc", Name: "alice", Issuer: "https://idp.example/", Subject: strings.Repeat("s", 300), ClientID: testClient, Key: testKey},
		{Kind: "oidc", Name: "alice", Issuer: "https://idp.example/\u202e", Subject: "1001", ClientID: testClient, Key: testKey},
		{Kind: "oidc", Name: "alice", Issuer: "https://idp.example/", Subject: "1001", AMR: make([]string, 17), ClientID: testClient, Key: testKey},
		{Kind: "oidc", Name: "alice", Issuer: "https://idp.example/", Subject: "1001", AMR: []string{"a\nb"}, ClientID: testClient, Key: testKey},
		{Kind: "oidc", Name: "nobody", Issuer: "https://idp.example/", Subject: "1002", ClientID: testClient, Key: testKey},
	} {
		if _, err := v.OpenExternalSession(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	v.cfg.RequireMFA = map[string]MFARequirement{RoleInvestigator: {AMR: "mfa"}}
	good.AMR = []string{"pwd"}
	if _, err := v.OpenExternalSession(ctx, good); err == nil || !strings.Contains(err.Error(), "multi-factor") {
		t.Fatalf("a sign-in without MFA: %v", err)
	}
}

// TestRequestHygiene: a second identical request is refused while the
// first is pending; a requester withdraws their own; a removed name is
// never enrolled again.
func TestRequestHygiene(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "inv": RoleInvestigator})
	first, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "ivan", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.EnrollBy(ctx, p["c2"], Enrolment{Name: "ivan", Role: RoleProsecutor}); !errors.Is(err, ErrConflict) ||
		!strings.Contains(err.Error(), "already asks this (to enrol a person)") {
		t.Fatalf("a second enrolment of a pending name: %v", err)
	}
	// Someone else's pending request is answered to a non-custodian as
	// one that does not exist, word for word, and the log records which
	// it was.
	before := v.log.Size()
	_, pendingErr := v.Reject(ctx, p["inv"], first.ID, "not mine")
	_, unknownErr := v.Reject(ctx, p["inv"], "rq_0123456789abcdef01234567", "not mine")
	if !errors.Is(pendingErr, ErrNotFound) || !errors.Is(unknownErr, ErrNotFound) ||
		strings.ReplaceAll(pendingErr.Error(), first.ID, "ID") != strings.ReplaceAll(unknownErr.Error(), "rq_0123456789abcdef01234567", "ID") {
		t.Fatalf("an investigator told a pending request from an unknown one:\n%v\n%v", pendingErr, unknownErr)
	}
	if got := refusalGroundsSince(t, v, before); !slices.Equal(got, []string{GroundsPermission, GroundsUnknown}) {
		t.Fatalf("the two refusals were recorded on grounds %v, not permission then unknown", got)
	}
	if _, err := v.Reject(ctx, p["c1"], first.ID, "wrong role"); err != nil {
		t.Fatalf("the requester could not withdraw: %v", err)
	}
	if _, err := v.Approve(ctx, p["c2"], first.ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("a withdrawn request was approved: %v", err)
	}
	if _, err := v.Reject(ctx, p["inv"], first.ID, "curious"); !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "withdrawn") {
		t.Fatalf("an investigator learnt how a custodian's request ended: %v", err)
	}
	if _, err := v.Remove(ctx, p["c1"], "inv", "left"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "inv", Role: RoleInvestigator}); err == nil || !strings.Contains(err.Error(), "never enrolled again") {
		t.Fatalf("re-enrolling a removed name: %v", err)
	}
}

// TestIdentityBadInputChangesNothing: malformed requests to the identity
// commands are answered and leave the log as it was (docs/architecture.md,
// invariant 7).
func TestIdentityBadInputChangesNothing(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "inv": RoleInvestigator})
	if err := v.OpenCase(ctx, p["inv"], "B-1", "t"); err != nil {
		t.Fatal(err)
	}
	before := v.log.Size()
	for what, err := range map[string]error{
		"enrol, bad name": func() error {
			_, e := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "Eve", Role: RoleInvestigator})
			return e
		}(),
		"enrol, bad role": func() error { _, e := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "eve", Role: "admin"}); return e }(),
		"enrol, hidden oidc": func() error {
			_, e := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "eve", Role: RoleAuditor, OIDC: "a\u202eb"})
			return e
		}(),
		"policy, bad value":  func() error { _, e := v.SetCasePolicy(ctx, p["c1"], "B-1", "sometimes", ""); return e }(),
		"approve, bad id":    func() error { _, e := v.Approve(ctx, p["c1"], "rq_nope"); return e }(),
		"reject, no reason":  func() error { _, e := v.Reject(ctx, p["c1"], "rq_000000000000000000000000", ""); return e }(),
		"suspend, no reason": func() error { _, e := v.Suspend(ctx, p["c1"], "inv", " "); return e }(),
		"member, bad person": func() error { _, e := v.AddMember(ctx, p["c1"], "B-1", "Not A Name", ""); return e }(),
		"redeem, one half":   func() error { _, e := v.RedeemInvitation(ctx, "inv", []string{"csi_x"}); return e }(),
		// A request's reason is optional, and checked as every reason is.
		"member, reason with a control character": func() error { _, e := v.AddMember(ctx, p["c1"], "B-1", "inv", "assigned\x1b[2J"); return e }(),
		"reinstate, reason with an invisible character": func() error {
			_, e := v.Reinstate(ctx, p["c1"], "inv", "back from leave\u202e")
			return e
		}(),
		"enrol, reason too long": func() error {
			_, e := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "eve", Role: RoleAuditor, Reason: strings.Repeat("x", 1025)})
			return e
		}(),
		"policy, reason over two lines": func() error { _, e := v.SetCasePolicy(ctx, p["c1"], "B-1", "required", "one\ntwo"); return e }(),
		"recipient, ssh key": func() error {
			_, _, e := v.SetRecipient(ctx, Principal{Name: "x", Role: RoleProsecutor}, "ssh-ed25519 AAAA")
			return e
		}(),
	} {
		if !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v, want bad input", what, err)
		}
	}
	if got := v.log.Size(); got != before {
		t.Fatalf("bad input appended %d events", got-before)
	}
}

// TestUnknownRoleNamesEveryRole: a refused role names every role a person
// may have, wherever a role is given (enrolment by the operator, and by a
// custodian's request).
func TestUnknownRoleNamesEveryRole(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian})
	_, errOperator := v.Enroll(ctx, "x", "judge")
	_, errRequest := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "y", Role: "judge"})
	for _, err := range []error{errOperator, errRequest} {
		if !errors.Is(err, ErrBadInput) {
			t.Fatalf("an unknown role: %v", err)
		}
		for _, r := range Roles {
			if !strings.Contains(err.Error(), r) {
				t.Errorf("%q does not name the role %s", err, r)
			}
		}
	}
}

// TestRequestRefusalsRecordTheTruth: a non-custodian naming a destruction
// request, or someone else's two-person request, is answered alike whether
// it is pending, decided or unknown, and the log records which it was
// (permission where it exists, unknown where it does not); a custodian
// approving a destruction request's id that is not pending is refused and
// recorded, as for any request.
func TestRequestRefusalsRecordTheTruth(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "inv": RoleInvestigator})
	openCases(t, v, p["inv"], "K-1")
	dr, err := v.RequestDestruction(ctx, p["c1"], "K-1", "order 1", "done")
	if err != nil {
		t.Fatal(err)
	}
	decided, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "ivan", Role: RoleInvestigator})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c2"], decided.ID); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, c := range []struct {
		id, grounds string
	}{
		{dr, GroundsPermission},
		{"dr_0123456789abcdef", GroundsUnknown},
		{decided.ID, GroundsPermission},
		{"rq_0123456789abcdef01234567", GroundsUnknown},
	} {
		before := v.log.Size()
		_, err := v.Reject(ctx, p["inv"], c.id, "no")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: %v", c.id, err)
		}
		answers[strings.ReplaceAll(err.Error(), c.id, "ID")] = c.id
		if got := refusalGroundsSince(t, v, before); !slices.Equal(got, []string{c.grounds}) {
			t.Errorf("%s: recorded on grounds %v, not %s", c.id, got, c.grounds)
		}
	}
	if len(answers) != 1 {
		t.Errorf("the answers differ: %v", answers)
	}
	before := v.log.Size()
	if _, err := v.Approve(ctx, p["c2"], "dr_0123456789abcdef"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a custodian's approve of an unknown destruction request: %v", err)
	}
	if got := refusalGroundsSince(t, v, before); len(got) != 1 {
		t.Errorf("a custodian's approve of an unknown destruction request recorded %d refusals", len(got))
	}
}

// TestRequestsCarryTheirReason: the reason a custodian gives for a grant
// (an assignment, an enrolment, a reinstatement, a new credential,
// dropping a case's export approval) is recorded in its request.opened
// event, shown to the custodian who decides it and in the answer of the
// decision, and said in the custody record; requiring approval records
// its reason in case.policy.set. No reason is recorded as none.
func TestRequestsCarryTheirReason(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "inv": RoleInvestigator, "inv2": RoleInvestigator})
	if err := v.OpenCase(ctx, p["inv"], "R-1", "t"); err != nil {
		t.Fatal(err)
	}
	const why = "joins operation Tonle: unit order 2026/14"
	asked, err := v.AddMember(ctx, p["c1"], "R-1", "inv2", why)
	if err != nil {
		t.Fatal(err)
	}
	if asked.Reason != why {
		t.Errorf("the request's answer gives the reason %q", asked.Reason)
	}
	opened := eventsOfType(t, v, TypeRequestOpened)
	var d RequestOpened
	if err := opened[len(opened)-1].DecodeData(&d); err != nil || d.Reason != why {
		t.Fatalf("request.opened records the reason %q (%v)", d.Reason, err)
	}
	var shown bool
	for _, r := range v.Requests(p["c2"]) {
		shown = shown || r.ID == asked.ID && r.Reason == why
	}
	if !shown {
		t.Error("the deciding custodian is not shown the reason")
	}
	if _, details := custody.Describe(opened[len(opened)-1]); !strings.Contains(details, "because “"+why+"”") || !strings.Contains(details, "concerning inv2") ||
		!strings.Contains(details, "to add a member to the case (case.member.add)") {
		t.Errorf("the request is described as %q", details)
	}
	approved, err := v.Approve(ctx, p["c2"], asked.ID)
	if err != nil {
		t.Fatal(err)
	}
	if approved.Reason != why {
		t.Errorf("the approval's answer gives the reason %q", approved.Reason)
	}
	// The decision's own event names who asked and why, so that the
	// case's custody report, which carries it and not the request, says
	// so.
	added := eventsOfType(t, v, TypeCaseMemberAdded)
	var ma MemberAdded
	if err := added[len(added)-1].DecodeData(&ma); err != nil || ma.RequestedBy != "c1" || ma.Reason != why || ma.Request != asked.ID {
		t.Errorf("case.member.added records %+v (%v)", ma, err)
	}
	aud := people(t, v, map[string]string{"aud": RoleAuditor})["aud"]
	doc, err := v.CustodyDocument(ctx, aud, DocumentRequest{Case: "R-1", Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	if text := string(doc.Body); !strings.Contains(text, "asked by c1 in request "+asked.ID+", approved by c2; because “"+why+"”") {
		t.Errorf("the case's custody report does not say who asked and why:\n%s", text)
	}

	// The other grants, each recorded with its own reason.
	for kind, ask := range map[string]func(reason string) (*RequestInfo, error){
		KindEnroll: func(r string) (*RequestInfo, error) {
			return v.EnrollBy(ctx, p["c1"], Enrolment{Name: "sothea", Role: RoleAnalyst, Reason: r})
		},
		KindReissue: func(r string) (*RequestInfo, error) { return v.Reissue(ctx, p["c1"], "inv", r) },
		KindPolicy: func(r string) (*RequestInfo, error) {
			if _, err := v.SetCasePolicy(ctx, p["c1"], "R-1", ExportApprovalRequired, "exports of "+r); err != nil {
				return nil, err
			}
			ch, err := v.SetCasePolicy(ctx, p["c1"], "R-1", ExportApprovalNone, r)
			return ch.Request, err
		},
	} {
		reason := "reason for " + kind
		info, err := ask(reason)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		opened := eventsOfType(t, v, TypeRequestOpened)
		var d RequestOpened
		if err := opened[len(opened)-1].DecodeData(&d); err != nil || d.Request != info.ID || d.Reason != reason {
			t.Errorf("%s: request.opened %+v (%v)", kind, d, err)
		}
	}
	set := eventsOfType(t, v, TypeCasePolicySet)
	var ps CasePolicySet
	if err := set[len(set)-1].DecodeData(&ps); err != nil || ps.Reason != "exports of reason for "+KindPolicy {
		t.Errorf("case.policy.set %+v (%v)", ps, err)
	}
	if _, details := custody.Describe(set[len(set)-1]); !strings.Contains(details, "“exports of reason for "+KindPolicy+"”") {
		t.Errorf("the custody record of the policy says %q", details)
	}
	// The approved drop of the requirement names its requester and
	// reason; a reinstatement asked without a reason says so.
	for _, r := range v.Requests(p["c2"]) {
		if r.Kind != KindPolicy {
			continue
		}
		if _, err := v.Approve(ctx, p["c2"], r.ID); err != nil {
			t.Fatal(err)
		}
		set := eventsOfType(t, v, TypeCasePolicySet)
		if _, details := custody.Describe(set[len(set)-1]); !strings.Contains(details, "none; asked by c1 in request "+r.ID+", approved by c2; because “reason for case.policy”") {
			t.Errorf("the approved drop of export approval is described as %q", details)
		}
	}

	// No reason: none recorded (the member omitted).
	if _, err := v.Suspend(ctx, p["c1"], "inv2", "on leave"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Reinstate(ctx, p["c1"], "inv2", ""); err != nil {
		t.Fatal(err)
	}
	opened = eventsOfType(t, v, TypeRequestOpened)
	if raw := string(opened[len(opened)-1].Data); strings.Contains(raw, `"reason"`) {
		t.Errorf("a request without a reason records %s", raw)
	}
	if _, details := custody.Describe(opened[len(opened)-1]); !strings.Contains(details, "no reason recorded") {
		t.Errorf("a request without a reason is described as %q", details)
	}
	var reinstate string
	for _, r := range v.Requests(p["c2"]) {
		if r.Kind == KindReinstate {
			reinstate = r.ID
		}
	}
	if _, err := v.Approve(ctx, p["c2"], reinstate); err != nil {
		t.Fatal(err)
	}
	back := eventsOfType(t, v, TypePersonReinstated)
	if _, details := custody.Describe(back[len(back)-1]); !strings.Contains(details, "inv2; asked by c1 in request "+reinstate+", approved by c2; no reason given") {
		t.Errorf("the reinstatement is described as %q", details)
	}
}

// TestReplayRefusesDecisionsThatBelieTheirRequest: a log whose approval
// is by the person who asked, or whose decision names another requester
// or kind than the request.opened it decides, is not applied: a start
// refuses it, as it refuses any log the vault could not have written.
func TestReplayRefusesDecisionsThatBelieTheirRequest(t *testing.T) {
	at := func(n int) string { return time.Date(2026, 12, 5, 9, n, 0, 0, time.UTC).Format(events.TimeFormat) }
	opened := &events.Event{Type: TypeRequestOpened, Time: at(0), Actor: events.Actor{Person: "c1", Role: RoleCustodian},
		Data: []byte(`{"request":"rq_0123456789abcdef01234567","kind":"person.reinstate","person":"inv","params":{},"expires":"2026-12-12T09:00:00Z"}`)}
	for what, c := range map[string]struct {
		actor, data string
		ok          bool
	}{
		"an approval by another custodian": {"c2", `{"request":"rq_0123456789abcdef01234567","kind":"person.reinstate","requested_by":"c1"}`, true},
		"an approval by its requester":     {"c1", `{"request":"rq_0123456789abcdef01234567","kind":"person.reinstate","requested_by":"c1"}`, false},
		"another requester named":          {"c2", `{"request":"rq_0123456789abcdef01234567","kind":"person.reinstate","requested_by":"c3"}`, false},
		"another kind named":               {"c2", `{"request":"rq_0123456789abcdef01234567","kind":"person.enroll","requested_by":"c1"}`, false},
	} {
		s := newState()
		if err := applyRequestOpened(s, opened); err != nil {
			t.Fatal(err)
		}
		err := applyRequestDecided(s, &events.Event{Type: TypeRequestApproved, Time: at(1), Actor: events.Actor{Person: c.actor, Role: RoleCustodian}, Data: []byte(c.data)})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", what, err)
		}
	}
	// A requester withdrawing their own request is a rejection they may
	// make.
	s := newState()
	applyRequestOpened(s, opened)
	if err := applyRequestDecided(s, &events.Event{Type: TypeRequestRejected, Time: at(1), Actor: events.Actor{Person: "c1", Role: RoleCustodian},
		Data: []byte(`{"request":"rq_0123456789abcdef01234567","kind":"person.reinstate","requested_by":"c1","reason":"asked in error"}`)}); err != nil {
		t.Errorf("a withdrawal: %v", err)
	}
}

// TestServerStartedNamesTheBuild: every start records the program's build
// (custody.Generator, what custos version prints), so that an upgrade is
// on the record with the start that ran it.
func TestServerStartedNamesTheBuild(t *testing.T) {
	v := openTestVault(t)
	starts := eventsOfType(t, v, TypeServerStarted)
	if len(starts) == 0 {
		t.Fatal("no server.started")
	}
	var d map[string]string
	if err := starts[len(starts)-1].DecodeData(&d); err != nil {
		t.Fatal(err)
	}
	if d["build"] == "" || d["build"] != custody.Generator() {
		t.Errorf("server.started records build %q; the program is %q", d["build"], custody.Generator())
	}
}

// TestUnknownExportApprovalFailsClosed: a case.policy.set whose
// export_approval is neither "required" nor "none" (a value no vault
// writes) is read as required, never as the approval dropped.
func TestUnknownExportApprovalFailsClosed(t *testing.T) {
	for value, want := range map[string]bool{"required": true, "none": false, "REQUIRED": true, "": true, "no": true} {
		s := newState()
		s.cases["CASE-1"] = &Case{ID: "CASE-1", Members: map[string]bool{}}
		d, _ := json.Marshal(CasePolicySet{ExportApproval: value})
		ev := &events.Event{Type: TypeCasePolicySet, Case: "CASE-1", Time: "2026-12-05T10:00:00Z", Actor: events.Actor{Person: "c1", Role: RoleCustodian}, Data: d}
		if err := applyCasePolicySet(s, ev); err != nil {
			t.Fatalf("%q: %v", value, err)
		}
		if got := s.cases["CASE-1"].ExportApproval; got != want {
			t.Errorf("export_approval %q read as required=%v, want %v", value, got, want)
		}
	}
}
