package vault

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// personInfo is name as Persons lists it to who.
func personInfo(t *testing.T, v *Vault, who Principal, name string) PersonInfo {
	t.Helper()
	ps, err := v.Persons(context.Background(), who)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ps, func(p PersonInfo) bool { return p.Name == name })
	if i < 0 {
		t.Fatalf("%s is not listed", name)
	}
	return ps[i]
}

// loggedEvents are the events of v's log, in order.
func loggedEvents(t *testing.T, v *Vault) []*events.Event {
	t.Helper()
	var out []*events.Event
	err := v.cfg.Log.Read(context.Background(), 0, func(rec events.Record) error {
		ev, err := events.Decode(rec.Bytes)
		out = append(out, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An enrolment asked through an identity source and approved before two
// custodians retire the source leaves an invitation one of whose halves
// went to whoever held the source's session (an identity provider's
// administrator signed in as a custodian, a key that leaked): the
// retirement voids it, whichever form of the requester's OpenID source
// is retired. The person is told why, and listed so; a re-issue by two
// custodians gives a new invitation that redeems; the void outlasts a
// restart (replayed, and from a snapshot: openTestVaultDir's round
// trip).
func TestRetiredSourceVoidsTheInvitationsAskedThroughIt(t *testing.T) {
	for _, src := range []string{OIDCSource(testIssuer), OIDCKeySource(testIssuer, testKey), OIDCClientSource(testIssuer, testClient, "sub")} {
		t.Run(src[:strings.IndexByte(src, ' ')], func(t *testing.T) {
			ctx := context.Background()
			v, dir := openTestVaultDir(t, withTestSources)
			cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
			s, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "c1", Issuer: testIssuer, Subject: "c1-sub", ClientID: testClient, Key: testKey})
			if err != nil {
				t.Fatal(err)
			}
			viaSession, err := v.Authenticate(s.Token.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			asked, err := v.EnrollBy(ctx, viaSession, Enrolment{Name: "dara", Role: RoleCustodian})
			if err != nil {
				t.Fatal(err)
			}
			approved, err := v.Approve(ctx, cs["c2"], asked.ID)
			if err != nil {
				t.Fatal(err)
			}
			halves := []string{asked.InvitationPart.Reveal(), approved.InvitationPart.Reveal()}
			retireBy(t, v, cs["c2"], cs["c3"], src, "incident IR-81: the provider's administrator signed in as custodians")
			_, err = v.RedeemInvitation(ctx, "dara", halves)
			if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "void") || !strings.Contains(err.Error(), src) {
				t.Fatalf("redeeming an invitation asked through %s, retired since: %v", src, err)
			}
			if p := personInfo(t, v, cs["c2"], "dara"); p.Status != "invited" || p.InvitationVoid != src || p.InvitationExpires == nil ||
				p.InvitationExpires.Sub(v.cfg.Now().Add(v.cfg.InvitationTTL)).Abs() > 5*time.Second {
				t.Fatalf("dara is listed as %+v", p)
			}
			// The person with a void invitation can act no more than one
			// whose invitation expired: custodians who can act are c1,
			// c2 and c3 alone.
			if n := v.state.activeCustodiansBut("c1", v.cfg.Now()); n != 2 {
				t.Fatalf("%d custodians other than c1 can act; want 2", n)
			}

			// Replayed from the log, the invitation is still void.
			v.Close()
			v, err = Open(ctx, testConfig(t, dir, withTestSources))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { v.Close() })
			if _, err := v.RedeemInvitation(ctx, "dara", halves); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), src) {
				t.Fatalf("after a restart, the void invitation: %v", err)
			}
			c2, c3 := cs["c2"], cs["c3"]
			again, err := v.Reissue(ctx, c2, "dara", "the first invitation was voided by IR-81")
			if err != nil {
				t.Fatal(err)
			}
			second, err := v.Approve(ctx, c3, again.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.RedeemInvitation(ctx, "dara", []string{again.InvitationPart.Reveal(), second.InvitationPart.Reveal()}); err != nil {
				t.Fatalf("the re-issued invitation: %v", err)
			}
			if p := personInfo(t, v, c2, "dara"); p.Status != "active" || p.InvitationVoid != "" || p.InvitationExpires != nil {
				t.Fatalf("dara, once redeemed, is listed as %+v", p)
			}
		})
	}
}

// The approver's half counts as the requester's does: an approval given
// with a client certificate records its CAs, and retiring one voids the
// invitation it issued. Retiring a source neither custodian went through
// (a CA of the same bundle nobody used) voids nothing.
func TestRetiredCAOfTheApproverVoidsTheInvitation(t *testing.T) {
	ctx := context.Background()
	other := strings.Repeat("e", 64)
	v, _ := openTestVaultDir(t, withTestSources, func(c *Config) {
		c.SignIn.ClientCASHA256 = []string{testCASHA256, other}
	})
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
	card := signInCard(t, v, "c2", testCASHA256)
	enrolled := map[string][]string{}
	for _, name := range []string{"dara", "sok"} {
		asked, err := v.EnrollBy(ctx, cs["c1"], Enrolment{Name: name, Role: RoleAnalyst})
		if err != nil {
			t.Fatal(err)
		}
		approved, err := v.Approve(ctx, card, asked.ID)
		if err != nil {
			t.Fatal(err)
		}
		enrolled[name] = []string{approved.InvitationPart.Reveal(), asked.InvitationPart.Reveal()}
	}
	var recorded RequestDecided
	for _, ev := range loggedEvents(t, v) {
		if ev.Type == TypeRequestApproved && ev.Actor.Auth == "certificate" {
			if err := ev.DecodeData(&recorded); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(recorded.ClientCAs) != 1 || recorded.ClientCAs[0] != testCASHA256 {
		t.Fatalf("an approval with a certificate records CAs %q", recorded.ClientCAs)
	}
	retireBy(t, v, cs["c1"], cs["c3"], CASource(other), "a CA nobody used")
	if _, err := v.RedeemInvitation(ctx, "sok", enrolled["sok"]); err != nil {
		t.Fatalf("an invitation none of whose custodians went through the retired CA: %v", err)
	}
	retireBy(t, v, cs["c1"], cs["c3"], CASource(testCASHA256), "the unit CA's key leaked")
	if _, err := v.RedeemInvitation(ctx, "dara", enrolled["dara"]); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), CASource(testCASHA256)) {
		t.Fatalf("an invitation approved with a certificate of a CA retired since: %v", err)
	}
	// Suspended, the person still holds the void invitation: the list
	// still says so.
	if _, err := v.Suspend(ctx, cs["c1"], "dara", "enrolment under review after the CA's retirement"); err != nil {
		t.Fatal(err)
	}
	if p := personInfo(t, v, cs["c1"], "dara"); p.Status != "suspended" || p.InvitationVoid != CASource(testCASHA256) {
		t.Fatalf("dara, suspended, is listed as %+v", p)
	}
}

// The audit's rules read invitations as the vault does: a redemption of
// one voided by a retirement of a source its requester or approver went
// through is a finding; so is one redeemed by a person suspended, or
// after it expired; one redeemed in time, through sources still
// trusted, is not.
func TestCustodyRulesInvitationRedeemedVoidOrLate(t *testing.T) {
	var shift time.Duration
	check := identityRules(t, &shift)
	expires := base.Add(72 * time.Hour).Format(time.RFC3339)
	card := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c1", Certificate: strings.Repeat("cd", 32)}
	c2 := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c2", Certificate: strings.Repeat("ef", 32)}
	idOf := func(name string) string { return "rq_" + strings.Repeat("0", 24-len(name)) + name }
	enrol := func(name string, asker, approver events.Actor, askerCAs, approverCAs []string) {
		t.Helper()
		params, _ := json.Marshal(enrollParams{Name: name, Role: RoleAnalyst})
		for _, step := range []struct {
			typ  string
			who  events.Actor
			data any
		}{
			{TypeRequestOpened, asker, RequestOpened{Request: idOf(name), Kind: KindEnroll, Person: name, Params: params, Expires: expires, InvitationSHA256: strings.Repeat("1", 64), ClientCAs: askerCAs}},
			{TypeRequestApproved, approver, RequestDecided{Request: idOf(name), Kind: KindEnroll, RequestedBy: asker.Person, InvitationSHA256: strings.Repeat("2", 64), ClientCAs: approverCAs}},
			{TypePersonEnrolled, approver, PersonEnrolled{Name: name, Role: RoleAnalyst, Request: idOf(name), RequestedBy: asker.Person, Invitation: idOf(name), Expires: expires}},
		} {
			if err := check(step.typ, step.who, step.data); err != nil {
				t.Fatalf("%s of %s: %v", step.typ, name, err)
			}
		}
	}
	redeem := func(name string) error {
		return check(TypeCredentialIssued, events.Actor{Person: name, Role: RoleAnalyst, Auth: "invitation"}, CredentialIssued{Name: name, Invitation: idOf(name), TokenSHA256: strings.Repeat("3", 64)})
	}
	enrol("dara", card, c2, []string{testCASHA256}, nil) // asked with the CA's certificate
	enrol("sok", c2, card, nil, []string{testCASHA256})  // approved with it
	enrol("mey", c2, card, nil, []string{strings.Repeat("e", 64)})
	enrol("vann", c2, card, nil, []string{strings.Repeat("e", 64)})
	enrol("lina", card, c2, []string{strings.Repeat("e", 64)}, nil)
	var rb *RuleBroken
	if err := check(TypePersonSuspended, c2, PersonStatus{Name: "vann", Reason: "left the unit"}); err != nil {
		t.Fatal(err)
	}
	if err := check(TypeIdentitySourceRetired, c2, IdentitySourceRetired{Source: CASource(testCASHA256), Request: "rq_retire", RequestedBy: "c3"}); err != nil && !errors.As(err, &rb) {
		t.Fatal(err)
	}
	for _, name := range []string{"dara", "sok"} {
		if err := redeem(name); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "void since the identity source "+CASource(testCASHA256)) {
			t.Errorf("%s redeemed a void invitation: %v", name, err)
		}
	}
	if err := redeem("vann"); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "suspended") {
		t.Errorf("a suspended person redeemed: %v", err)
	}
	if err := redeem("mey"); err != nil {
		t.Errorf("an invitation through a CA still trusted: %v", err)
	}
	shift = 73 * time.Hour
	if err := redeem("lina"); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "after it expired") {
		t.Errorf("an invitation redeemed after it expired: %v", err)
	}
}

// The rules read an approval's own sources as a request's: an approval
// recorded through a source already retired (a certificate of a retired
// CA, a session the retirement ended) is a finding, and the invitation
// it issues is void from the start; from the first start that records
// approval_client_cas, a certificate's approval that records no CAs is
// a finding; a redemption is the person's own, in the role they were
// enrolled in.
func TestCustodyRulesApprovalsThroughRetiredSources(t *testing.T) {
	expires := base.Add(72 * time.Hour).Format(time.RFC3339)
	card := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c1", Certificate: strings.Repeat("cd", 32)}
	c2 := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c2", Certificate: strings.Repeat("ef", 32)}
	// enrol records name's enrolment asked by c2 and approved by
	// approver, then its redemption by redeemer; it returns each
	// step's finding (nil where none).
	enrol := func(check func(string, events.Actor, any) error, name string, approver events.Actor, approverCAs []string, redeemer events.Actor) [4]error {
		id := "rq_" + strings.Repeat("0", 24-len(name)) + name
		params, _ := json.Marshal(enrollParams{Name: name, Role: RoleAnalyst})
		return [4]error{
			check(TypeRequestOpened, c2, RequestOpened{Request: id, Kind: KindEnroll, Person: name, Params: params, Expires: expires, InvitationSHA256: strings.Repeat("1", 64)}),
			check(TypeRequestApproved, approver, RequestDecided{Request: id, Kind: KindEnroll, RequestedBy: "c2", InvitationSHA256: strings.Repeat("2", 64), ClientCAs: approverCAs}),
			check(TypePersonEnrolled, approver, PersonEnrolled{Name: name, Role: RoleAnalyst, Request: id, RequestedBy: "c2", Invitation: id, Expires: expires}),
			check(TypeCredentialIssued, redeemer, CredentialIssued{Name: name, Invitation: id, TokenSHA256: strings.Repeat("3", 64)}),
		}
	}
	analyst := func(name string) events.Actor {
		return events.Actor{Person: name, Role: RoleAnalyst, Auth: "invitation"}
	}
	var rb *RuleBroken
	found := func(err error, want string) bool { return errors.As(err, &rb) && strings.Contains(rb.Reason, want) }

	check := identityRules(t)
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "720h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": testIssuer, startedOIDCKeys: testKey,
		"oidc_client_id": testClient, "oidc_claim": "sub", "client_ca_sha256": testCASHA256}); err != nil {
		t.Fatal(err)
	}
	oidc := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "c1-sub", Session: "se_1"}
	if err := check(TypeSessionOpened, oidc, SessionOpened{Session: "se_1", TokenSHA256: strings.Repeat("4", 64), Expires: base.Add(8 * time.Hour).Format(time.RFC3339), Claim: "sub", ClientID: testClient, Key: testKey}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{CASource(testCASHA256), OIDCKeySource(testIssuer, testKey)} {
		if err := check(TypeIdentitySourceRetired, c2, IdentitySourceRetired{Source: src, Request: "rq_r" + src[:2], RequestedBy: "c3"}); err != nil && !errors.As(err, &rb) {
			t.Fatal(err)
		}
	}
	for name, approver := range map[string]struct {
		who events.Actor
		cas []string
		src string
	}{"dara": {card, []string{testCASHA256}, CASource(testCASHA256)}, "sok": {oidc, nil, OIDCKeySource(testIssuer, testKey)}} {
		got := enrol(check, name, approver.who, approver.cas, analyst(name))
		if !found(got[1], "approved through the identity source "+approver.src) {
			t.Errorf("%s's enrolment approved through %s, retired before: %v", name, approver.src, got[1])
		}
		if !found(got[3], "void since the identity source "+approver.src) {
			t.Errorf("%s redeemed an invitation approved through %s, retired before: %v", name, approver.src, got[3])
		}
	}

	check = identityRules(t)
	if err := check(TypeServerStarted, system, map[string]string{"request_ttl": "72h0m0s", "session_ttl": "8h0m0s", startedApprovalCAs: "recorded"}); err != nil {
		t.Fatal(err)
	}
	if got := enrol(check, "mey", card, nil, analyst("mey")); !found(got[1], "records none of the client CAs") {
		t.Errorf("a certificate's approval without its CAs after %s: %v", startedApprovalCAs, got[1])
	}
	if got := enrol(check, "vann", card, []string{testCASHA256}, events.Actor{Person: "vann", Role: RoleCustodian, Auth: "invitation"}); !found(got[3], "enrolled them as analyst") {
		t.Errorf("a redemption recorded in another role: %v", got[3])
	}
	if got := enrol(check, "lina", card, []string{testCASHA256}, analyst("vann")); !found(got[3], "redeemed by vann") {
		t.Errorf("a redemption recorded by another person: %v", got[3])
	}
	if got := enrol(check, "rith", card, []string{testCASHA256}, analyst("rith")); got != [4]error{} {
		t.Errorf("an enrolment as the vault writes it: %v", got)
	}
}
