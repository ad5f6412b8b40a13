package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// cardIdentity is the verified client certificate of name, whose chains
// ran through the configured CAs cas, as the API hands it to the vault.
func cardIdentity(name string, cas ...string) ExternalIdentity {
	return ExternalIdentity{Kind: "certificate", Name: name, Issuer: "CN=Unit CA", Subject: "CN=" + name,
		Fingerprint: strings.Repeat("cd", 32), CAs: cas}
}

// signInCard signs name in with its certificate (cardIdentity).
func signInCard(t *testing.T, v *Vault, name string, cas ...string) Principal {
	t.Helper()
	p, err := v.AuthenticateCertificate(cardIdentity(name, cas...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// retireBy retires src on the request asker asks for and approver
// approves.
func retireBy(t *testing.T, v *Vault, asker, approver Principal, src, reason string) {
	t.Helper()
	req, err := v.RetireIdentitySource(context.Background(), asker, src, reason)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(context.Background(), approver, req.ID); err != nil {
		t.Fatal(err)
	}
}

// A certificate authenticated just before two custodians retire its CA
// (the API authenticates it as an HTTP request begins, and its body may
// take a while) asks for a decision recorded after the retirement: the
// request is refused at its position, as an OpenID session's act is
// once its session ended, and nothing waits for an approver.
func TestCertificateCheckedAgainstRetirementsAtTheRequestsPosition(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t, withTestSources)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
	openCases(t, v, cs["inv"], "C-1")
	card := signInCard(t, v, "c1", testCASHA256)
	retireBy(t, v, cs["c2"], cs["c3"], CASource(testCASHA256), "the CA issued certificates in custodians' names")
	if _, err := v.AuthenticateCertificate(cardIdentity("c1", testCASHA256)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a certificate of the retired CA: %v", err)
	}
	if _, err := v.AcceptIdentitySource(ctx, card, CASource(strings.Repeat("1", 64)), "asked after the retirement"); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "retired") {
		t.Errorf("a request recorded after its certificate's CA was retired: %v", err)
	}
	if _, err := v.RequestDestruction(ctx, card, "C-1", "order 1/2026", "asked after the retirement"); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "retired") {
		t.Errorf("a destruction request recorded after its certificate's CA was retired: %v", err)
	}
	if p := v.state.pendingDestructions(); len(p) != 0 {
		t.Errorf("destruction requests waiting: %+v", p)
	}
}

// Every act of a certificate whose CA two custodians retired after it
// was signed in is refused at its position: an approval (the second
// person's), a destruction's approval, a view of evidence, as well as a
// request.
func TestCertificateActsCheckedAgainstRetirementsAtTheirPosition(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t, withTestSources)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
	openCases(t, v, cs["inv"], "C-1")
	item := depositText(t, v, cs["inv"], "C-1", "a.txt", "evidence")
	custodianCard, investigatorCard := signInCard(t, v, "c1", testCASHA256), signInCard(t, v, "inv", testCASHA256)
	dr, err := v.RequestDestruction(ctx, cs["c2"], "C-1", "order 1/2026", "asked by c2")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := v.AcceptIdentitySource(ctx, cs["c2"], CASource(strings.Repeat("1", 64)), "asked by c2")
	if err != nil {
		t.Fatal(err)
	}
	retireBy(t, v, cs["c2"], cs["c3"], CASource(testCASHA256), "the CA issued certificates in custodians' names")
	if _, err := v.Approve(ctx, custodianCard, acc.ID); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "retired") {
		t.Errorf("an approval with a certificate of the retired CA: %v", err)
	}
	if v.state.sourceAccepted(CASource(strings.Repeat("1", 64))) {
		t.Error("the request was carried out")
	}
	if _, err := v.ApproveDestruction(ctx, custodianCard, "C-1", dr); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "retired") {
		t.Errorf("a destruction approved with a certificate of the retired CA: %v", err)
	}
	if c, _ := v.state.getCase("C-1"); c.Destroyed {
		t.Error("the case was destroyed")
	}
	if r, err := v.OpenItem(ctx, investigatorCard, item.ID, "a view after the retirement"); err == nil {
		r.Finish(ctx)
		t.Error("evidence was sent to a certificate of the retired CA")
	}
}

// A request records every CA its certificate's chains ran through, and
// the retirement of any one voids it: the CA that sorts last among many
// (an operator's bundle padded with CA certificates of their own) too.
func TestRetiringAnyOfManyRecordedCAsVoids(t *testing.T) {
	ctx := context.Background()
	var cas []string
	for i := range 20 {
		cas = append(cas, fmt.Sprintf("%02x", i)+strings.Repeat("0", 62))
	}
	last := cas[len(cas)-1]
	v, _ := openTestVaultDir(t, withTestSources, func(c *Config) { c.SignIn.ClientCASHA256 = slices.Clone(cas) })
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
	openCases(t, v, cs["inv"], "C-1")
	card := signInCard(t, v, "c1", cas...)
	req, err := v.AcceptIdentitySource(ctx, card, CASource(strings.Repeat("1", 64)), "asked through 20 CAs")
	if err != nil {
		t.Fatal(err)
	}
	dr, err := v.RequestDestruction(ctx, card, "C-1", "order 1/2026", "asked through 20 CAs")
	if err != nil {
		t.Fatal(err)
	}
	retireBy(t, v, cs["c2"], cs["c3"], CASource(last), "this CA issued certificates in custodians' names")
	if _, err := v.Approve(ctx, cs["c2"], req.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("a request asked through the retired 20th CA: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, cs["c2"], "C-1", dr); !errors.Is(err, ErrConflict) {
		t.Errorf("a destruction asked through the retired 20th CA: %v", err)
	}
}

// The findings of edited lookups have a budget of their own: a database
// administrator who edits the lookups of many cases does not use up the
// one of edited events, whose next finding is still recorded.
func TestLookupFindingsLeaveEditedEventsOnTheRecord(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"aud": RoleAuditor, "inv": RoleInvestigator})
	var ids []string
	for i := range maxStoreFindings + 2 {
		ids = append(ids, fmt.Sprintf("F-%d", i))
	}
	openCases(t, v, p["inv"], ids...)
	real := v.cfg.Log
	v.cfg.Log = &editedLookups{Store: real, omit: func(events.Record) bool { return true }}
	for _, id := range ids {
		if err := v.Timeline(ctx, p["aud"], id, "", func(events.Record, *events.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if f := lookupFindings(t, v); len(f) != maxStoreFindings {
		t.Fatalf("%d lookup findings recorded, want the budget's %d", len(f), maxStoreFindings)
	}
	last := v.log.Size() - 1
	var orig []byte
	real.Read(ctx, last, func(r events.Record) error { orig = r.Bytes; return errStopRead })
	v.cfg.Log = forgedRead{Store: real, seq: last, bytes: append(slices.Clone(orig[:len(orig)-2]), 'x', orig[len(orig)-1])}
	if _, err := v.EventTime(ctx, p["aud"], last); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("an edited event: %v", err)
	}
	v.cfg.Log = real
	v.laterRun.Wait()
	if n := storeFindings(t, v); n != 1 {
		t.Errorf("the edited event's finding recorded %d times, want once", n)
	}
}

// In the audit's rules, from the first start that records them, a
// request asked with a certificate names the CAs its chains ran through,
// one of them accepted at its position: a server that records none, or
// only CAs nobody accepted, passes no audit; before that start, a
// request without them is an earlier release's.
func TestCustodyRulesOfCertificateRequests(t *testing.T) {
	card := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c1", Certificate: strings.Repeat("cd", 32)}
	expires := base.Add(2 * 24 * time.Hour).Format(time.RFC3339)
	params, _ := json.Marshal(identitySourceParams{Source: CASource(strings.Repeat("f", 64))})
	for _, tc := range []struct {
		name     string
		recorded bool
		cas      []string
		want     string
	}{
		{"an earlier release's, without CAs", false, nil, ""},
		{"through the accepted CA", true, []string{testCASHA256}, ""},
		{"without CAs", true, nil, "records none of the client CAs"},
		{"through a CA nobody accepted", true, []string{strings.Repeat("9", 64)}, "none of the client CAs accepted"},
		{"naming a CA in another form", true, []string{strings.ToUpper(testCASHA256)}, "not a SHA-256"},
	} {
		check := identityRules(t)
		started := map[string]string{"session_ttl": "720h0m0s", "request_ttl": "72h0m0s", startedIdentitySources: "request", "client_ca_sha256": testCASHA256}
		if tc.recorded {
			started[startedRequestCAs] = "recorded"
		}
		if err := check(TypeServerStarted, system, started); err != nil {
			t.Fatal(err)
		}
		for _, typ := range []string{TypeRequestOpened, TypeDestructionRequested} {
			var err error
			if typ == TypeRequestOpened {
				err = check(typ, card, RequestOpened{Request: "rq_card", Kind: KindIdentitySource, Params: params, Expires: expires, ClientCAs: tc.cas})
			} else {
				if err := check(TypeCaseOpened, card, inCase{"C-1", CaseOpened{Title: "t", Members: []string{"c1"}}}); err != nil {
					t.Fatal(err)
				}
				err = check(typ, card, inCase{"C-1", DestructionRequested{Request: "dr_card", Order: "o", Reason: "r", Expires: expires, ClientCAs: tc.cas}})
			}
			var rb *RuleBroken
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s, %s: %v", tc.name, typ, err)
			case tc.want != "" && (!errors.As(err, &rb) || !strings.Contains(rb.Reason, tc.want)):
				t.Errorf("%s, %s: %v, want a finding saying %q", tc.name, typ, err, tc.want)
			}
			// Void as well: its approval is a finding too.
			other := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "local"}
			var approval error
			if typ == TypeRequestOpened {
				approval = check(TypeRequestApproved, other, RequestDecided{Request: "rq_card", Kind: KindIdentitySource, RequestedBy: "c1"})
				check(TypeIdentitySourceAccepted, other, IdentitySourceAccepted{Source: CASource(strings.Repeat("f", 64)), Request: "rq_card", RequestedBy: "c1"})
			} else {
				approval = check(TypeDestructionApproved, other, inCase{"C-1", DestructionApproved{Request: "dr_card", RequestedBy: "c1"}})
			}
			if tc.want != "" && (!errors.As(approval, &rb) || !strings.Contains(rb.Reason, tc.want)) {
				t.Errorf("%s, the approval after %s: %v", tc.name, typ, approval)
			}
		}
	}
}

// In the audit's rules, a request recorded as asked through a source
// already retired (in an OpenID session the retirement ended, within
// the week an ended session's records may still come; with a
// certificate of a retired CA) is a finding, and so is its approval: a
// server that did not check passes no audit.
func TestCustodyRulesRequestAskedAfterItsSourcesRetirement(t *testing.T) {
	check := identityRules(t)
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "720h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": testIssuer, startedOIDCKeys: testKey,
		"oidc_client_id": testClient, "oidc_claim": "sub", "client_ca_sha256": testCASHA256}); err != nil {
		t.Fatal(err)
	}
	c1 := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "s", Session: "se_1"}
	if err := check(TypeSessionOpened, c1, SessionOpened{Session: "se_1", TokenSHA256: strings.Repeat("a", 64),
		Expires: base.Add(30 * 24 * time.Hour).Format(time.RFC3339), Key: testKey, ClientID: testClient, Claim: "sub"}); err != nil {
		t.Fatal(err)
	}
	other := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "local"}
	var rb *RuleBroken
	for _, src := range []string{OIDCKeySource(testIssuer, testKey), CASource(testCASHA256)} {
		if err := check(TypeIdentitySourceRetired, other, IdentitySourceRetired{Source: src, Request: "rq_r" + src[:2], RequestedBy: "c3"}); err != nil && !errors.As(err, &rb) {
			t.Fatal(err)
		}
	}
	expires := base.Add(2 * 24 * time.Hour).Format(time.RFC3339)
	card := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c1", Certificate: strings.Repeat("cd", 32)}
	for _, tc := range []struct {
		id  string
		who events.Actor
		cas []string
	}{{"rq_oidc", c1, nil}, {"rq_card", card, []string{testCASHA256}}} {
		params, _ := json.Marshal(identitySourceParams{Source: CASource(strings.Repeat("f", 64))})
		opened := check(TypeRequestOpened, tc.who, RequestOpened{Request: tc.id, Kind: KindIdentitySource, Params: params, Expires: expires, ClientCAs: tc.cas})
		if !errors.As(opened, &rb) || !strings.Contains(rb.Reason, "had retired") {
			t.Errorf("%s, asked through a source retired before: %v", tc.id, opened)
		}
		approval := check(TypeRequestApproved, other, RequestDecided{Request: tc.id, Kind: KindIdentitySource, RequestedBy: "c1"})
		if !errors.As(approval, &rb) || !strings.Contains(rb.Reason, "retired") {
			t.Errorf("the approval of %s: %v", tc.id, approval)
		}
		check(TypeIdentitySourceAccepted, other, map[string]string{"source": CASource(strings.Repeat("f", 64)), "request": tc.id, "requested_by": "c1"})
	}
	if err := check(TypeCaseOpened, card, inCase{"C-1", CaseOpened{Title: "t", Members: []string{"c1"}}}); err != nil && !errors.As(err, &rb) {
		t.Fatal(err)
	}
	asked := check(TypeDestructionRequested, card, inCase{"C-1", DestructionRequested{Request: "dr_card", Order: "o", Reason: "r", Expires: expires, ClientCAs: []string{testCASHA256}}})
	if !errors.As(asked, &rb) || !strings.Contains(rb.Reason, "had retired") {
		t.Errorf("a destruction asked with a certificate of a CA retired before: %v", asked)
	}
}

// Each form of an OpenID source a session went through voids, once
// retired, the destruction request asked in the session: the provider
// as a whole, the key that signed its ID token, its client with the
// claim that named the person.
func TestEveryRetiredSourceOfASessionVoidsItsDestructionRequest(t *testing.T) {
	for _, src := range []string{OIDCSource(testIssuer), OIDCKeySource(testIssuer, testKey), OIDCClientSource(testIssuer, testClient, "sub")} {
		t.Run(src[:strings.IndexByte(src, ' ')], func(t *testing.T) {
			ctx := context.Background()
			v, _ := openTestVaultDir(t, withTestSources)
			cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
			openCases(t, v, cs["inv"], "C-1")
			s, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "c1", Issuer: testIssuer, Subject: "c1-sub", ClientID: testClient, Key: testKey})
			if err != nil {
				t.Fatal(err)
			}
			viaSession, err := v.Authenticate(s.Token.Reveal())
			if err != nil {
				t.Fatal(err)
			}
			dr, err := v.RequestDestruction(ctx, viaSession, "C-1", "order 1/2026", "asked in the session")
			if err != nil {
				t.Fatal(err)
			}
			retireBy(t, v, cs["c2"], cs["c3"], src, "incident IR-80")
			if _, err := v.ApproveDestruction(ctx, cs["c2"], "C-1", dr); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), src) {
				t.Fatalf("approving a destruction asked through %s, retired since: %v", src, err)
			}
		})
	}
}
