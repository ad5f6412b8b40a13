package vault

import (
	"context"
	"errors"
	"testing"
)

// TestSessionsEndWithTheirWayOfSigningIn: a session lasts only while the
// vault would still open it. A local session opened before a restart
// with local accounts off (the end of a break-glass period, or the move
// to single sign-on) no longer signs its person in; nor does an OpenID
// session without the second factor the person's role requires since a
// restart. The sessions of a way still allowed go on.
func TestSessionsEndWithTheirWayOfSigningIn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	v, cfg, _ := restartable(t, dir, withTestSources)
	cred, err := v.Enroll(ctx, "cust", RoleCustodian)
	if err != nil {
		t.Fatal(err)
	}
	local, err := v.OpenSession(ctx, cred.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	people(t, v, map[string]string{"alice": RoleInvestigator, "bob": RoleAuditor})
	oidc := func(v *Vault, name string) *Session {
		s, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: name, Issuer: "https://idp.example/", Subject: name, AMR: []string{"pwd"}, ClientID: testClient, Key: testKey})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	alice, bob := oidc(v, "alice"), oidc(v, "bob")
	v.Close()

	cfg.NoLocalAccounts = true
	cfg.RequireMFA = map[string]MFARequirement{RoleInvestigator: {AMR: "mfa"}}
	v2, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if who, err := v2.Authenticate(local.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("with local accounts off, a local session still signs %s in: %v", who.Name, err)
	}
	if who, err := v2.Authenticate(alice.Token.Reveal()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("an investigator's session without the second factor now required still signs %s in: %v", who.Name, err)
	}
	if who, err := v2.Authenticate(bob.Token.Reveal()); err != nil || who.Name != "bob" {
		t.Errorf("an auditor's session, whose role requires nothing more: %v", err)
	}
}

// TestSessionsEndWithTheClaimThatNamedThem: an OpenID session records the
// claim whose value named its person; once the vault names people by
// another claim, the session no longer signs anyone in (a name taken
// under the old claim need not be the person's under the new one). The
// client the token was issued to is recorded too and kept with the
// session across a restart, for the server to hold it to (vault/api).
func TestSessionsEndWithTheClaimThatNamedThem(t *testing.T) {
	ctx := context.Background()
	v, cfg, _ := restartable(t, t.TempDir(), withTestSources, func(c *Config) { c.OIDCClaim = "preferred_username" })
	people(t, v, map[string]string{"alice": RoleInvestigator})
	s, err := v.OpenExternalSession(ctx, ExternalIdentity{Kind: "oidc", Name: "alice", Issuer: "https://idp.example/", Subject: "s-1", ClientID: "custos", Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	var opened SessionOpened
	evs := logged(t, v)
	if err := evs[len(evs)-1].DecodeData(&opened); err != nil || opened.Claim != "preferred_username" || opened.ClientID != "custos" {
		t.Fatalf("session.opened: %+v %v", opened, err)
	}
	v.Close()
	for _, tc := range []struct {
		claim string
		ok    bool
	}{{"email", false}, {"preferred_username", true}} {
		cfg.OIDCClaim = tc.claim
		v2, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		who, err := v2.Authenticate(s.Token.Reveal())
		v2.Close()
		if (err == nil) != tc.ok {
			t.Errorf("claim %s: %s signed in: %v (want %v)", tc.claim, who.Name, err, tc.ok)
		}
		if tc.ok && who.Credential.ClientID != "custos" {
			t.Errorf("after a restart the session's client is %q, want custos", who.Credential.ClientID)
		}
	}
}
