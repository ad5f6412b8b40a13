package vault

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// The identity sources test vaults that sign people in through an
// identity provider or a client CA are started with (withTestSources).
const testIssuer = "https://idp.example/"

var testCASHA256 = strings.Repeat("c", 64)

// testKey is the thumbprint of the test provider's signing key (RFC
// 7638's example key), otherKey another key's.
const (
	testKey  = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	otherKey = "9Uz1lSmd32cWLyt36VQWAXdh3ltEFlQ6EcPjTQGqTsw"
)

// testClient is the client the test provider's ID tokens are issued to.
const testClient = "custos"

func withTestSources(c *Config) {
	c.SignIn.OIDCIssuer, c.SignIn.OIDCClientID = testIssuer, testClient
	c.SignIn.OIDCKeys = []string{testKey}
	c.SignIn.ClientCASHA256 = []string{testCASHA256}
}

// An operator who restarted the vault with an identity provider or a
// client CA of their own signed in as any custodian enrolled without an
// identity-provider value or certificate name (matched by name). The
// sources the first guarding start is configured with are accepted; one
// configured at a later start signs no one in (an OpenID sign-in, a
// certificate of another CA) until a custodian asks and another
// approves; the acceptance is on the record and survives a restart.
func TestIdentitySourcesSignInOnceAccepted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, cfg, _ := restartable(t, dir, withTestSources)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	oidcKey := func(v *Vault, issuer, key string) error {
		_, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "c1", Issuer: issuer, Subject: "c1-sub", ClientID: testClient, Key: key})
		return err
	}
	oidc := func(v *Vault, issuer string) error { return oidcKey(v, issuer, testKey) }
	card := func(v *Vault, ca string) error {
		_, err := v.AuthenticateCertificate(ExternalIdentity{Kind: "certificate", Name: "c2", Issuer: "CN=CA", Subject: "CN=c2",
			Fingerprint: strings.Repeat("ab", 32), CAs: []string{ca}})
		return err
	}
	if err := oidc(v, testIssuer); err != nil {
		t.Fatalf("a sign-in through the provider the first start was configured with: %v", err)
	}
	if err := card(v, testCASHA256); err != nil {
		t.Fatalf("a certificate of the CA the first start was configured with: %v", err)
	}
	v.Close()

	// The restart with a provider and a CA of the operator's own.
	const rogue = "https://idp.rogue.example/"
	rogueCA := strings.Repeat("d", 64)
	cfg.SignIn.OIDCIssuer, cfg.SignIn.ClientCASHA256 = rogue, []string{testCASHA256, rogueCA}
	v, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := oidc(v, rogue); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "with a key two custodians have not accepted") ||
		!strings.Contains(err.Error(), OIDCKeySource(rogue, testKey)) {
		t.Fatalf("a sign-in through a provider configured since: %v", err)
	}
	// The accepted provider, signing with a key it was not serving at the
	// first start (a rotation, or another server at its address).
	if err := oidcKey(v, testIssuer, otherKey); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), OIDCKeySource(testIssuer, otherKey)) {
		t.Fatalf("a sign-in through the accepted provider with a key not accepted: %v", err)
	}
	if err := oidcKey(v, testIssuer, ""); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "does not say which of the provider's keys") {
		t.Fatalf("a sign-in that names no key: %v", err)
	}
	// The accepted provider and key, with ID tokens issued to another
	// client (another application's, replayed), or people named by
	// another claim: the server's configuration, not the custodians'.
	for _, c := range []struct{ client, claim string }{{"wiki", ""}, {testClient, "email"}} {
		v.cfg.OIDCClaim = c.claim
		_, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "c1", Issuer: testIssuer, Subject: "c1-sub", ClientID: c.client, Key: testKey})
		v.cfg.OIDCClaim = ""
		if want := OIDCClientSource(testIssuer, c.client, c.claim); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), want) {
			t.Fatalf("a sign-in as client %q, claim %q: %v, want the refusal to name %s", c.client, c.claim, err, want)
		}
	}
	if err := card(v, rogueCA); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a certificate of a CA configured since: %v", err)
	}
	if err := card(v, testCASHA256); err != nil {
		t.Fatalf("a certificate of the CA accepted before: %v", err)
	}
	list, guarded, err := v.IdentitySources(ctx, cs["c1"])
	if err != nil || !guarded || len(list) != 8 {
		t.Fatalf("identity sources: %+v %v %v", list, guarded, err)
	}
	for _, s := range list {
		want := !strings.Contains(s.Source, rogue) && s.Source != CASource(rogueCA)
		if s.Accepted != want {
			t.Errorf("%s listed as accepted: %v", s.Source, s.Accepted)
		}
	}

	// Bad requests change nothing; one custodian alone accepts nothing.
	for _, bad := range []string{"https://idp.rogue.example/", "oidc ftp://x", "ca " + strings.Repeat("D", 64), "ca 12",
		"oidc-key " + rogue, "oidc-key " + testKey, "oidc-key " + rogue + " " + testKey[:42], "oidc-key " + rogue + " " + testKey[:42] + "t",
		"oidc-key " + rogue + " " + testKey[:41] + "=A", "oidc-key ftp://x " + testKey,
		// The provider alone, where its keys are accepted one by one.
		OIDCSource(rogue)} {
		if _, err := v.AcceptIdentitySource(ctx, cs["c1"], bad, "new provider"); !errors.Is(err, ErrBadInput) {
			t.Errorf("accepting %q: %v", bad, err)
		}
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCKeySource(rogue, testKey), ""); !errors.Is(err, ErrBadInput) {
		t.Errorf("accepting without a reason: %v", err)
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCKeySource(testIssuer, testKey), "again"); !errors.Is(err, ErrConflict) {
		t.Errorf("accepting a source accepted already: %v", err)
	}
	req, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCKeySource(rogue, testKey), "the unit's new provider, change CR-2031")
	if err != nil {
		t.Fatal(err)
	}
	if err := oidc(v, rogue); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a sign-in through a provider asked for, not approved: %v", err)
	}
	if _, err := v.Approve(ctx, cs["c1"], req.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the requester approved their own request: %v", err)
	}
	if _, err := v.Approve(ctx, cs["c2"], req.ID); err != nil {
		t.Fatal(err)
	}
	// The key alone is not enough: the client ID tokens are issued to,
	// with the claim that names people, is accepted too.
	if err := oidc(v, rogue); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), OIDCClientSource(rogue, testClient, "sub")) {
		t.Fatalf("a sign-in through a provider whose key alone two custodians accepted: %v", err)
	}
	req2, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCClientSource(rogue, testClient, "sub"), "the vault's client at the unit's new provider, change CR-2031")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, cs["c2"], req2.ID); err != nil {
		t.Fatal(err)
	}
	if err := oidc(v, rogue); err != nil {
		t.Fatalf("a sign-in through a provider two custodians accepted: %v", err)
	}
	evs := eventsOfType(t, v, TypeIdentitySourceAccepted)
	var d IdentitySourceAccepted
	if len(evs) != 2 || evs[0].DecodeData(&d) != nil || d.Source != OIDCKeySource(rogue, testKey) || d.RequestedBy != "c1" || evs[0].Actor.Person != "c2" {
		t.Fatalf("identity.source.accepted: %d events, %+v", len(evs), d)
	}
	v.Close()
	v, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := oidc(v, rogue); err != nil {
		t.Fatalf("after a restart, a sign-in through the provider accepted: %v", err)
	}
	if err := card(v, rogueCA); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after a restart, a certificate of the CA not accepted: %v", err)
	}
	recordStateCorpus(t, cfg.Log)
}

// The audit's rules hold a log to the same: a session opened through an
// OpenID provider that no guarding start was configured with and no
// identity.source.accepted accepted (a server changed not to check) is a
// finding; one through an accepted provider is not.
func TestCustodyRulesOfIdentitySources(t *testing.T) {
	check := identityRules(t)
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "12h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", "oidc_issuer": testIssuer}); err != nil {
		t.Fatal(err)
	}
	open := func(issuer, session string) error {
		return check(TypeSessionOpened, events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: issuer, Subject: "s"},
			SessionOpened{Session: session, TokenSHA256: strings.Repeat("a", 64), Expires: base.Add(time.Hour).Format(time.RFC3339)})
	}
	if err := open(testIssuer, "se_1"); err != nil {
		t.Fatalf("a session through the provider the guarding start named: %v", err)
	}
	var rb *RuleBroken
	if err := open("https://idp.rogue.example/", "se_2"); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "which no two custodians accepted") {
		t.Fatalf("a session through a provider not accepted: %v", err)
	}
	// A later start with the rogue provider accepts nothing: only the
	// first guarding start's own are.
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "12h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", "oidc_issuer": "https://idp.rogue.example/"}); err != nil {
		t.Fatal(err)
	}
	if err := open("https://idp.rogue.example/", "se_3"); !errors.As(err, &rb) {
		t.Fatalf("a session through a provider a later start named: %v", err)
	}
}

// A provider signs people in through its accepted keys alone, in the
// audit's rules as in the vault: the first start that pins keys accepts
// those it names of its provider; a session through another key of the
// same provider (another server answering at its address) is a finding,
// and a later start naming that key accepts nothing.
func TestCustodyRulesOfProviderKeys(t *testing.T) {
	check := identityRules(t)
	started := func(key string) error {
		return check(TypeServerStarted, system, map[string]string{"session_ttl": "12h0m0s", "request_ttl": "72h0m0s",
			startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": testIssuer, startedOIDCKeys: key,
			"oidc_client_id": testClient, "oidc_claim": "sub"})
	}
	if err := started(testKey); err != nil {
		t.Fatal(err)
	}
	open := func(key, session string) error {
		return check(TypeSessionOpened, events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "s"},
			SessionOpened{Session: session, TokenSHA256: strings.Repeat("a", 64), Expires: base.Add(time.Hour).Format(time.RFC3339), Key: key,
				ClientID: testClient, Claim: "sub"})
	}
	if err := open(testKey, "se_1"); err != nil {
		t.Fatalf("a session through the key the guarding start named: %v", err)
	}
	var rb *RuleBroken
	if err := open(otherKey, "se_2"); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "with a key no two custodians accepted") {
		t.Fatalf("a session through a key not accepted: %v", err)
	}
	if err := open("", "se_3"); !errors.As(err, &rb) {
		t.Fatalf("a session through the provider naming no key: %v", err)
	}
	wiki := check(TypeSessionOpened, events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "s"},
		SessionOpened{Session: "se_w", TokenSHA256: strings.Repeat("a", 64), Expires: base.Add(time.Hour).Format(time.RFC3339), Key: testKey,
			ClientID: "wiki", Claim: "sub"})
	if !errors.As(wiki, &rb) || !strings.Contains(rb.Reason, "as a client, or named by a claim, no two custodians accepted") {
		t.Fatalf("a session of an accepted key through another client: %v", wiki)
	}
	if err := started(otherKey); err != nil {
		t.Fatal(err)
	}
	if err := open(otherKey, "se_4"); !errors.As(err, &rb) {
		t.Fatalf("a session through a key a later start named: %v", err)
	}
	if err := check(TypeIdentitySourceAccepted, events.Actor{Person: "c1", Role: RoleCustodian, Auth: "local"},
		IdentitySourceAccepted{Source: OIDCKeySource(testIssuer, otherKey), Request: "rq_1", RequestedBy: "c2"}); err != nil && !errors.As(err, &rb) {
		t.Fatal(err)
	}
	if err := open(otherKey, "se_5"); err != nil {
		t.Fatalf("a session through a key accepted since: %v", err)
	}
	if err := check(TypeIdentitySourceRetired, events.Actor{Person: "c1", Role: RoleCustodian, Auth: "local"},
		IdentitySourceRetired{Source: OIDCKeySource(testIssuer, otherKey), Request: "rq_2", RequestedBy: "c2"}); err != nil && !errors.As(err, &rb) {
		t.Fatal(err)
	}
	if err := open(otherKey, "se_6"); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "with a key no two custodians accepted") {
		t.Fatalf("a session through a key retired since: %v", err)
	}
	if err := open(testKey, "se_7"); err != nil {
		t.Fatalf("a session through a key accepted and not retired: %v", err)
	}
}

// The first start that pins providers' keys, on a log whose identity
// sources a start of the release before guarded, accepts the keys it
// names of a provider accepted then, and of no other; later starts
// accept no key.
func TestKeyPinsAtUpgrade(t *testing.T) {
	const rogue = "https://idp.rogue.example/"
	for _, c := range []struct {
		name, issuer string
		accepted     bool
	}{{"the accepted provider", testIssuer, true}, {"a provider not accepted", rogue, false}} {
		var i identitySources
		i.started(1, map[string]string{startedIdentitySources: "request", "oidc_issuer": testIssuer, "oidc_client_id": testClient})
		if i.KeysPinned || i.unacceptedOIDC(testIssuer, otherKey, testClient, "sub") != "" {
			t.Fatalf("before the upgrade: %+v", i)
		}
		i.started(2, map[string]string{startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": c.issuer, startedOIDCKeys: testKey,
			"oidc_client_id": testClient})
		if !i.KeysPinned {
			t.Fatalf("%s: the upgrade pinned no keys", c.name)
		}
		if got := i.unacceptedOIDC(c.issuer, testKey, testClient, "sub") == ""; got != c.accepted {
			t.Errorf("%s: its key and client at the upgrade are accepted: %v", c.name, got)
		}
		// A session opened before the upgrade recorded no key: it no
		// longer signs anyone in (Authenticate asks the same).
		if i.unacceptedOIDC(c.issuer, "", testClient, "sub") == "" {
			t.Errorf("%s: a sign-in of no key is accepted after the upgrade", c.name)
		}
		i.started(3, map[string]string{startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": testIssuer, startedOIDCKeys: otherKey,
			"oidc_client_id": testClient})
		if i.unacceptedOIDC(testIssuer, otherKey, testClient, "sub") != OIDCKeySource(testIssuer, otherKey) {
			t.Errorf("%s: a key a later start named is accepted", c.name)
		}
	}
}

// A source two custodians retire signs no one in from then on, and the
// sessions opened through it end: a provider's key that leaked. One
// custodian alone retires nothing, an analyst may not ask, a source not
// accepted is refused; the list shows it retired, a restart keeps it
// so, and accepting it again is a new request.
func TestIdentitySourceRetired(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, cfg, _ := restartable(t, dir, withTestSources)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "ana": RoleAnalyst})
	signIn := func(v *Vault) (*Session, error) {
		return v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "ana", Issuer: testIssuer, Subject: "ana-sub", ClientID: testClient, Key: testKey})
	}
	s, err := signIn(v)
	if err != nil {
		t.Fatal(err)
	}
	src := OIDCKeySource(testIssuer, testKey)
	if _, err := v.RetireIdentitySource(ctx, cs["ana"], src, "mine"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst asked to retire a source: %v", err)
	}
	if _, err := v.RetireIdentitySource(ctx, cs["c1"], OIDCKeySource(testIssuer, otherKey), "never accepted"); !errors.Is(err, ErrConflict) {
		t.Fatalf("retiring a source not accepted: %v", err)
	}
	if _, err := v.RetireIdentitySource(ctx, cs["c1"], src, " "); !errors.Is(err, ErrBadInput) {
		t.Fatalf("retiring without a reason: %v", err)
	}
	req, err := v.RetireIdentitySource(ctx, cs["c1"], src, "the provider's key leaked, incident IR-77")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(s.Token.Reveal()); err != nil {
		t.Fatalf("the session, before the retirement is approved: %v", err)
	}
	if _, err := v.Approve(ctx, cs["c1"], req.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("the requester approved their own request: %v", err)
	}
	if _, err := v.Approve(ctx, cs["c2"], req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(s.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a session opened through the retired key: %v", err)
	}
	if _, err := signIn(v); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), src) {
		t.Fatalf("a sign-in through the retired key: %v", err)
	}
	evs := eventsOfType(t, v, TypeIdentitySourceRetired)
	var d IdentitySourceRetired
	if len(evs) != 1 || evs[0].DecodeData(&d) != nil || d.Source != src || d.RequestedBy != "c1" || evs[0].Actor.Person != "c2" {
		t.Fatalf("identity.source.retired: %d events, %+v", len(evs), d)
	}
	v.Close()

	v, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := signIn(v); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("after a restart whose configuration names the key, a sign-in through it: %v", err)
	}
	list, _, err := v.IdentitySources(ctx, cs["c1"])
	if err != nil {
		t.Fatal(err)
	}
	var listed bool
	for _, s := range list {
		if s.Source == src {
			listed = !s.Accepted && s.RetiredAt == evs[0].Seq && s.Configured
		}
	}
	if !listed {
		t.Fatalf("the retired key is listed as %+v", list)
	}
	again, err := v.AcceptIdentitySource(ctx, cs["c2"], src, "the provider rotated away from the leaked key; this is its new one after all")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, cs["c1"], again.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := signIn(v); err != nil {
		t.Fatalf("a sign-in through the key accepted again: %v", err)
	}
	for _, f := range auditRules(t, v) {
		// (The test signs in with identities, not tokens a provider
		// signed: that finding is TestSignInRecordsTheProvidersToken's.)
		if (strings.Contains(f, "identity") || strings.Contains(f, "signed in")) && !strings.Contains(f, "records no ID token") {
			t.Errorf("the audit's rules: %s", f)
		}
	}
	recordStateCorpus(t, cfg.Log)
}

// auditRules holds v's whole log to the audit's custody rules: its
// findings (the test vaults' people, enrolled by the server itself, are
// findings of their own).
func auditRules(t *testing.T, v *Vault) []string {
	t.Helper()
	var r CustodyRules
	var out []string
	for _, ev := range logged(t, v) {
		if err := r.Check(ev); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// identityRules gives custody rules with custodians c1 and c2 enrolled, and a
// check that holds them to one event after another (from seq 101, at
// base and the duration *later after it).
func identityRules(t *testing.T, later ...*time.Duration) func(typ string, actor events.Actor, data any) error {
	var r CustodyRules
	enroll(t, &r, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	seq := uint64(100)
	return func(typ string, actor events.Actor, data any) error {
		var caseID string
		if c, ok := data.(inCase); ok {
			caseID, data = c.Case, c.Data
		}
		b, _ := json.Marshal(data)
		seq++
		at := base
		if len(later) > 0 {
			at = base.Add(*later[0])
		}
		return r.Check(&events.Event{Seq: seq, Type: typ, Time: events.FormatTime(at), Data: b, Actor: actor, Case: caseID})
	}
}

// inCase is the data of an event of a case, for identityRules.
type inCase struct {
	Case string
	Data any
}

// system is the server's own actor, as server.started names it.
var system = events.Actor{Person: "custos", Role: RoleSystem, Auth: "server"}

// Retirements cover what they name, whatever else is accepted: a CA
// retired refuses its certificates though a root above it is accepted
// (the bundle holds both, the chain runs through both); a provider
// retired as a whole refuses sign-ins through its accepted keys and
// client, and is accepted again by a request (once keys are pinned,
// only a provider retired may be named alone); the sessions a
// retirement ended stay ended once the source is accepted again.
func TestRetirementsCoverWhatTheyName(t *testing.T) {
	ctx := context.Background()
	intermediate := strings.Repeat("e", 64)
	v, _ := openTestVaultDir(t, withTestSources, func(c *Config) {
		c.SignIn.ClientCASHA256 = []string{testCASHA256, intermediate}
	})
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "ana": RoleAnalyst})
	twoCustodians := func(ask func(context.Context, Principal, string, string) (*RequestInfo, error), src string) {
		t.Helper()
		req, err := ask(ctx, cs["c1"], src, "incident IR-78")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Approve(ctx, cs["c2"], req.ID); err != nil {
			t.Fatal(err)
		}
	}
	card := func() error {
		_, err := v.AuthenticateCertificate(ExternalIdentity{Kind: "certificate", Name: "ana", Issuer: "CN=Unit Intermediate", Subject: "CN=ana",
			Fingerprint: strings.Repeat("ab", 32), CAs: []string{intermediate, testCASHA256}})
		return err
	}
	if err := card(); err != nil {
		t.Fatal(err)
	}
	twoCustodians(v.RetireIdentitySource, CASource(intermediate))
	if err := card(); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "retired") {
		t.Fatalf("a certificate of a retired intermediate under an accepted root: %v", err)
	}

	signIn := func() (*Session, error) {
		return v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "ana", Issuer: testIssuer, Subject: "ana-sub", ClientID: testClient, Key: testKey})
	}
	s, err := signIn()
	if err != nil {
		t.Fatal(err)
	}
	twoCustodians(v.RetireIdentitySource, OIDCSource(testIssuer))
	if _, err := signIn(); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), OIDCSource(testIssuer)) {
		t.Fatalf("a sign-in through a provider retired as a whole: %v", err)
	}
	if _, err := v.Authenticate(s.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a session through the retired provider: %v", err)
	}
	twoCustodians(v.AcceptIdentitySource, OIDCSource(testIssuer))
	if _, err := signIn(); err != nil {
		t.Fatalf("a sign-in through the provider accepted again: %v", err)
	}
	if _, err := v.Authenticate(s.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a session the retirement ended, once the provider is accepted again: %v", err)
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCSource(testIssuer), "again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("accepting the provider accepted again: %v", err)
	}
}

// A client CA retired voids the requests asked with its certificates,
// two-person and destruction requests alike, as an OpenID source's
// retirement voids those asked in its sessions: one asked with a
// certificate a rogue CA issued in a custodian's name does not wait for
// an unsuspecting approver. Those asked otherwise stand.
func TestRequestsAskedWithACertificateOfARetiredCAAreVoid(t *testing.T) {
	ctx := context.Background()
	rogue := strings.Repeat("e", 64)
	v, _ := openTestVaultDir(t, withTestSources, func(c *Config) {
		c.SignIn.ClientCASHA256 = []string{testCASHA256, rogue}
	})
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
	openCases(t, v, cs["inv"], "C-1", "C-2")
	byRogue := signInCard(t, v, "c1", rogue, testCASHA256) // through the rogue intermediate, under the root
	byRoot := signInCard(t, v, "c1", testCASHA256)
	asked := map[string]string{}
	for name, who := range map[string]Principal{"rogue": byRogue, "root": byRoot} {
		req, err := v.AcceptIdentitySource(ctx, who, CASource(strings.Repeat(map[string]string{"rogue": "1", "root": "2"}[name], 64)), "asked with a certificate")
		if err != nil {
			t.Fatal(err)
		}
		asked[name] = req.ID
	}
	destroyRogue, err := v.RequestDestruction(ctx, byRogue, "C-1", "order 1/2026", "asked with the rogue CA's certificate")
	if err != nil {
		t.Fatal(err)
	}
	destroyRoot, err := v.RequestDestruction(ctx, byRoot, "C-2", "order 2/2026", "asked with the root's certificate")
	if err != nil {
		t.Fatal(err)
	}
	retireBy(t, v, cs["c2"], cs["c3"], CASource(rogue), "the intermediate issued certificates in custodians' names")
	if _, err := v.Approve(ctx, cs["c2"], asked["rogue"]); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "void") {
		t.Fatalf("approving a request asked with a certificate of the retired CA: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, cs["c2"], "C-1", destroyRogue); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), CASource(rogue)) {
		t.Fatalf("approving a destruction asked with a certificate of the retired CA: %v", err)
	}
	if _, err := v.Approve(ctx, cs["c2"], asked["root"]); err != nil {
		t.Fatalf("approving a request asked with a certificate of the root alone: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, cs["c2"], "C-2", destroyRoot); err != nil {
		t.Fatalf("approving a destruction asked with a certificate of the root alone: %v", err)
	}
	// The replay agrees: the requester is told both ended void (the
	// test's end checks a start's state and the audit's rules).
	ended := map[string]string{}
	for _, e := range v.EndedRequests(cs["c1"]) {
		ended[e.Request] = e.Outcome
	}
	if ended[asked["rogue"]] != OutcomeVoid || ended[destroyRogue] != OutcomeVoid {
		t.Fatalf("the requester is not told the requests ended void: %+v", v.EndedRequests(cs["c1"]))
	}
}

// In the audit's rules, a client CA's retirement voids the requests
// asked with its certificates, as the request records them: their
// approvals are findings; one asked through another CA's is not.
func TestCustodyRulesVoidCertificateRequestsAtRetirement(t *testing.T) {
	rogue := strings.Repeat("e", 64)
	check := identityRules(t)
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "720h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", "client_ca_sha256": testCASHA256 + " " + rogue}); err != nil {
		t.Fatal(err)
	}
	c1 := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c1", Certificate: strings.Repeat("cd", 32)}
	expires := base.Add(2 * 24 * time.Hour).Format(time.RFC3339)
	for id, cas := range map[string][]string{"rq_rogue": {rogue, testCASHA256}, "rq_root": {testCASHA256}} {
		params, _ := json.Marshal(identitySourceParams{Source: CASource(strings.Repeat(id[3:4], 64))})
		if err := check(TypeRequestOpened, c1, RequestOpened{Request: id, Kind: KindIdentitySource, Params: params, Expires: expires, ClientCAs: cas}); err != nil {
			t.Fatalf("a request asked with a certificate: %v", err)
		}
	}
	if err := check(TypeCaseOpened, c1, inCase{"C-1", CaseOpened{Title: "t", Members: []string{"c1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := check(TypeDestructionRequested, c1, inCase{"C-1", DestructionRequested{Request: "dr_rogue", Order: "o", Reason: "r", Expires: expires, ClientCAs: []string{rogue}}}); err != nil {
		t.Fatal(err)
	}
	other := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "local"}
	var rb *RuleBroken
	if err := check(TypeIdentitySourceRetired, other, IdentitySourceRetired{Source: CASource(rogue), Request: "rq_retire", RequestedBy: "c1"}); err != nil && !errors.As(err, &rb) {
		t.Fatal(err)
	}
	approval := check(TypeDestructionApproved, other, inCase{"C-1", DestructionApproved{Request: "dr_rogue", RequestedBy: "c1"}})
	if !errors.As(approval, &rb) || !strings.Contains(rb.Reason, "retired while it waited") || !strings.Contains(rb.Reason, CASource(rogue)) {
		t.Fatalf("the approval of a destruction asked with a certificate of a CA retired since: %v", approval)
	}
	approval = check(TypeRequestApproved, other, RequestDecided{Request: "rq_rogue", Kind: KindIdentitySource, RequestedBy: "c1"})
	if !errors.As(approval, &rb) || !strings.Contains(rb.Reason, "retired while it waited") {
		t.Fatalf("the approval of a request asked with a certificate of a CA retired since: %v", approval)
	}
	approval = check(TypeRequestApproved, other, RequestDecided{Request: "rq_root", Kind: KindIdentitySource, RequestedBy: "c1"})
	if errors.As(approval, &rb) && strings.Contains(rb.Reason, "retired") {
		t.Fatalf("the approval of a request asked through a CA not retired: %v", approval)
	}
}

// In the audit's rules, a retirement ends the sessions opened through
// the source: an act in one after it is a finding, though the source is
// accepted again.
func TestCustodyRulesEndSessionsAtRetirement(t *testing.T) {
	var later time.Duration
	check := identityRules(t, &later)
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "720h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": testIssuer, startedOIDCKeys: testKey,
		"oidc_client_id": testClient, "oidc_claim": "sub"}); err != nil {
		t.Fatal(err)
	}
	c1 := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "s", Session: "se_1"}
	if err := check(TypeSessionOpened, c1, SessionOpened{Session: "se_1", TokenSHA256: strings.Repeat("a", 64),
		Expires: base.Add(30 * 24 * time.Hour).Format(time.RFC3339), Key: testKey, ClientID: testClient, Claim: "sub"}); err != nil {
		t.Fatal(err)
	}
	later = 8 * 24 * time.Hour // past the grace an ended session's events have
	if err := check(TypeItemAccessed, c1, map[string]string{"purpose": "before"}); err != nil && strings.Contains(err.Error(), "session") {
		t.Fatalf("an act in the session before the retirement: %v", err)
	}
	// A request asked in the session, pending at the retirement.
	params, _ := json.Marshal(identitySourceParams{Source: CASource(strings.Repeat("f", 64))})
	if err := check(TypeRequestOpened, c1, RequestOpened{Request: "rq_leak", Kind: KindIdentitySource, Params: params,
		Expires: base.Add(10 * 24 * time.Hour).Format(time.RFC3339), Reason: "a CA of mine"}); err != nil {
		t.Fatalf("a request asked in the session: %v", err)
	}
	// And a destruction request asked in it.
	if err := check(TypeCaseOpened, c1, inCase{"C-1", CaseOpened{Title: "t", Members: []string{"c1"}}}); err != nil {
		t.Fatal(err)
	}
	if err := check(TypeDestructionRequested, c1, inCase{"C-1", DestructionRequested{Request: "dr_leak", Order: "order 1", Reason: "r",
		Expires: base.Add(10 * 24 * time.Hour).Format(time.RFC3339)}}); err != nil {
		t.Fatalf("a destruction request asked in the session: %v", err)
	}
	other := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "local"}
	var rb *RuleBroken
	for _, typ := range []string{TypeIdentitySourceRetired, TypeIdentitySourceAccepted} {
		if err := check(typ, other, IdentitySourceRetired{Source: OIDCKeySource(testIssuer, testKey), Request: "rq_" + typ, RequestedBy: "c1"}); err != nil && !errors.As(err, &rb) {
			t.Fatal(err)
		}
	}
	approval := check(TypeDestructionApproved, other, inCase{"C-1", DestructionApproved{Request: "dr_leak", RequestedBy: "c1"}})
	if !errors.As(approval, &rb) || !strings.Contains(rb.Reason, "retired while it waited") || !strings.Contains(rb.Reason, "dr_leak") {
		t.Fatalf("the approval of a destruction asked through a key retired since: %v", approval)
	}
	approval = check(TypeRequestApproved, other, RequestDecided{Request: "rq_leak", Kind: KindIdentitySource, RequestedBy: "c1"})
	if !errors.As(approval, &rb) || !strings.Contains(rb.Reason, "retired while it waited") {
		t.Fatalf("the approval of a request asked through a key retired since: %v", approval)
	}
	later = 16 * 24 * time.Hour
	err := check(TypeItemAccessed, c1, map[string]string{"purpose": "after"})
	if !errors.As(err, &rb) || !strings.Contains(rb.Reason, "session se_1") {
		t.Fatalf("an act in a session its key's retirement ended: %v", err)
	}
}

// An offline command's record (run) changes no identity source, in the
// vault's state as in the audit's rules: one that says it guards them
// accepts nothing.
func TestOfflineRunChangesNoIdentitySource(t *testing.T) {
	s := newState()
	d, _ := json.Marshal(map[string]string{startedRun: "custos admin recover", startedIdentitySources: "request", "oidc_issuer": "https://idp.rogue.example/"})
	if err := s.apply(&events.Event{Seq: 1, Type: TypeServerStarted, Time: events.FormatTime(base), Actor: system, Data: d}); err != nil {
		t.Fatal(err)
	}
	if s.identity.Guarded || len(s.identity.Accepted) != 0 {
		t.Fatalf("an offline command's record changed the identity sources: %+v", s.identity)
	}
}

// A start's provider must name a source custodians can retire: an
// issuer or client id with a space, an invisible character or too long
// is refused before anything is recorded.
func TestCheckOIDCSignIn(t *testing.T) {
	if err := CheckOIDCSignIn(testIssuer, testClient, ""); err != nil {
		t.Fatal(err)
	}
	if err := CheckOIDCSignIn("", "", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{
		{testIssuer, "custos cli"}, {testIssuer, "custos\u200b"}, {testIssuer, strings.Repeat("c", 256)},
		{"https://idp.example/realm one", testClient}, {"idp.example", testClient}, {testIssuer, ""},
	} {
		if err := CheckOIDCSignIn(c[0], c[1], "sub"); err == nil {
			t.Errorf("issuer %q, client %q accepted", c[0], c[1])
		}
	}
	cfg := testConfig(t, t.TempDir(), func(c *Config) { c.SignIn.OIDCIssuer, c.SignIn.OIDCClientID = testIssuer, "custos cli" })
	if v, err := Open(context.Background(), cfg); err == nil {
		v.Close()
		t.Fatal("a vault opened with a client id that would name no source")
	}
}

// Requests about identity sources are one pending per source, not one
// for the whole vault: a rotation's keys are asked for side by side, and
// a request pending for one source does not hold up the retirement of
// another (a leaked key).
func TestIdentitySourceRequestsOnePerSource(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t, withTestSources)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	third := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if _, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCKeySource(testIssuer, otherKey), "the provider's next key"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c2"], OIDCKeySource(testIssuer, third), "the provider's key after that"); err != nil {
		t.Fatalf("a request for another key beside a pending one: %v", err)
	}
	if _, err := v.RetireIdentitySource(ctx, cs["c2"], OIDCKeySource(testIssuer, testKey), "leaked"); err != nil {
		t.Fatalf("a retirement beside pending acceptances: %v", err)
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c2"], OIDCKeySource(testIssuer, otherKey), "the same key again"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second request for a source with one pending: %v", err)
	}
}

// A request asked in a session opened through a source retired while it
// waits is void: one asked with a leaked key is never approved by an
// unsuspecting second custodian, even once the key is accepted again;
// its requester is told it ended void. One asked otherwise stays.
func TestRequestsAskedThroughARetiredSourceAreVoid(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t, withTestSources)
	cs := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian, "inv": RoleInvestigator})
	openCases(t, v, cs["inv"], "C-1", "C-2")
	s, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "c1", Issuer: testIssuer, Subject: "c1-sub", ClientID: testClient, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	viaKey, err := v.Authenticate(s.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	leaked, err := v.AcceptIdentitySource(ctx, viaKey, CASource(strings.Repeat("f", 64)), "a CA, asked with the leaked key")
	if err != nil {
		t.Fatal(err)
	}
	other, err := v.AcceptIdentitySource(ctx, cs["c1"], CASource(strings.Repeat("a", 64)), "a CA, asked with local credentials")
	if err != nil {
		t.Fatal(err)
	}
	// Destruction requests alike: one asked with the leaked key, one
	// asked otherwise.
	leakedDestruction, err := v.RequestDestruction(ctx, viaKey, "C-1", "order 1/2026", "asked with the leaked key")
	if err != nil {
		t.Fatal(err)
	}
	otherDestruction, err := v.RequestDestruction(ctx, cs["c1"], "C-2", "order 2/2026", "asked with local credentials")
	if err != nil {
		t.Fatal(err)
	}
	retireBy(t, v, cs["c2"], cs["c3"], OIDCKeySource(testIssuer, testKey), "the key leaked, incident IR-79")
	if _, err := v.Approve(ctx, cs["c2"], leaked.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "void") {
		t.Fatalf("approving a request asked through the retired key: %v", err)
	}
	if _, err := v.Approve(ctx, cs["c2"], other.ID); err != nil {
		t.Fatalf("approving a request asked otherwise: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, cs["c2"], "C-1", leakedDestruction); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "retired") {
		t.Fatalf("approving a destruction asked through the retired key: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, cs["c2"], "C-2", otherDestruction); err != nil {
		t.Fatalf("approving a destruction asked otherwise: %v", err)
	}
	ended := map[string]string{}
	for _, e := range v.EndedRequests(cs["c1"]) {
		ended[e.Request] = e.Outcome
	}
	if ended[leaked.ID] != OutcomeVoid || ended[leakedDestruction] != OutcomeVoid {
		t.Fatalf("the requester is not told the requests ended void: %+v", v.EndedRequests(cs["c1"]))
	}
	// The case is destroyed only on a request asked again, as before.
	again, err := v.RequestDestruction(ctx, cs["c1"], "C-1", "order 1/2026", "asked again with local credentials")
	if err != nil {
		t.Fatalf("asking again after the void one: %v", err)
	}
	if _, err := v.ApproveDestruction(ctx, cs["c3"], "C-1", again); err != nil {
		t.Fatalf("approving the request asked again: %v", err)
	}
	checkRulesHold(t, v)
	recordStateCorpus(t, v.cfg.Log)
}
