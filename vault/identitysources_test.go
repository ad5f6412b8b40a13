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

func withTestSources(c *Config) {
	c.SignIn.OIDCIssuer = testIssuer
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
	oidc := func(v *Vault, issuer string) error {
		_, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "c1", Issuer: issuer, Subject: "c1-sub"})
		return err
	}
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
	if err := oidc(v, rogue); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "signs no one in to this vault yet") {
		t.Fatalf("a sign-in through a provider configured since: %v", err)
	}
	if err := card(v, rogueCA); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("a certificate of a CA configured since: %v", err)
	}
	if err := card(v, testCASHA256); err != nil {
		t.Fatalf("a certificate of the CA accepted before: %v", err)
	}
	list, guarded, err := v.IdentitySources(ctx, cs["c1"])
	if err != nil || !guarded || len(list) != 4 {
		t.Fatalf("identity sources: %+v %v %v", list, guarded, err)
	}
	for _, s := range list {
		want := s.Source != OIDCSource(rogue) && s.Source != CASource(rogueCA)
		if s.Accepted != want {
			t.Errorf("%s listed as accepted: %v", s.Source, s.Accepted)
		}
	}

	// Bad requests change nothing; one custodian alone accepts nothing.
	for _, bad := range []string{"https://idp.rogue.example/", "oidc ftp://x", "ca " + strings.Repeat("D", 64), "ca 12"} {
		if _, err := v.AcceptIdentitySource(ctx, cs["c1"], bad, "new provider"); !errors.Is(err, ErrBadInput) {
			t.Errorf("accepting %q: %v", bad, err)
		}
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCSource(rogue), ""); !errors.Is(err, ErrBadInput) {
		t.Errorf("accepting without a reason: %v", err)
	}
	if _, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCSource(testIssuer), "again"); !errors.Is(err, ErrConflict) {
		t.Errorf("accepting a source accepted already: %v", err)
	}
	req, err := v.AcceptIdentitySource(ctx, cs["c1"], OIDCSource(rogue), "the unit's new provider, change CR-2031")
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
	if err := oidc(v, rogue); err != nil {
		t.Fatalf("a sign-in through a provider two custodians accepted: %v", err)
	}
	evs := eventsOfType(t, v, TypeIdentitySourceAccepted)
	var d IdentitySourceAccepted
	if len(evs) != 1 || evs[0].DecodeData(&d) != nil || d.Source != OIDCSource(rogue) || d.RequestedBy != "c1" || evs[0].Actor.Person != "c2" {
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
	var r CustodyRules
	enroll(t, &r, map[string]string{"c1": RoleCustodian})
	seq := uint64(100)
	check := func(typ string, actor events.Actor, data any) error {
		b, _ := json.Marshal(data)
		seq++
		return r.Check(&events.Event{Seq: seq, Type: typ, Time: events.FormatTime(base), Data: b, Actor: actor})
	}
	system := events.Actor{Person: "custos", Role: RoleSystem, Auth: "server"}
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
