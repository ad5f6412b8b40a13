package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault/idtoken"
)

// TestIdentitySourceCommands: custos identity-source list, accept and retire, as
// custodians and an auditor type them. A dev vault started with no
// identity provider or client CA lists none; a custodian asks to accept
// a provider (a request), another approves, and the list then shows it
// accepted, not configured on this server; the audit passes. An analyst
// may not ask, a source of neither form is refused with its forms, and a
// source accepted already is refused.
func TestIdentitySourceCommands(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	if out := s.ok("custodian", work, "identity-source", "list").stdout; !strings.Contains(out, "no identity provider or client CA") {
		t.Fatalf("identity-source list on a vault without sources: %s", out)
	}
	const src = "oidc-key https://id.example.org/realms/unit NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	req := s.ok("custodian", work, "identity-source", "accept", src, "--reason", "the unit's identity provider, change CR-2031", "--json").json(t)
	if req["kind"] != "identity.source" || req["request"] == nil {
		t.Fatalf("identity-source accept answered %v", req)
	}
	s.ok("custodian2", work, "approve", req["request"].(string))
	list := s.ok("auditor", work, "identity-source", "list", "--json").json(t)
	sources, _ := list["sources"].([]any)
	if list["guarded"] != true || len(sources) != 1 {
		t.Fatalf("identity-source list --json: %v", list)
	}
	got := sources[0].(map[string]any)
	if got["source"] != src || got["accepted"] != true || got["configured"] != false || got["accepted_at"] == nil {
		t.Fatalf("the accepted source is listed as %v", got)
	}
	if out := s.ok("custodian", work, "identity-source", "list").stdout; !strings.Contains(out, src+"  not configured on this server; accepted (event") {
		t.Fatalf("identity-source list: %s", out)
	}
	s.refused("analyst", work, "only custodians ask to accept an identity source", "identity-source", "accept", "oidc https://rogue.example/", "--reason", "mine")
	s.refused("custodian", work, `an identity source is "oidc-key ISSUER THUMBPRINT", "oidc-client ISSUER CLIENT_ID CLAIM", "ca SHA256"`, "identity-source", "accept", "https://rogue.example/", "--reason", "no kind")
	s.refused("custodian", work, "accept the key it signs with", "identity-source", "accept", "oidc https://id.example.org/realms/unit", "--reason", "the provider without its key")
	// The provider cannot be reached from this computer (no such host):
	// the command warns, and the vault refuses a source accepted already.
	if r := s.run("custodian", work, "custos", "identity-source", "accept", src, "--reason", "again"); r.code == 0 ||
		!strings.Contains(r.stderr, "custos: warning: the provider's keys could not be read from this computer") || !strings.Contains(r.stderr, "custos: error: ") ||
		!strings.Contains(r.stderr, "is accepted already") {
		t.Fatalf("accepting a source accepted already: %d %s", r.code, r.stderr)
	}
	// Retired by two custodians: listed as such, and not retired twice.
	ret := s.ok("custodian", work, "identity-source", "retire", src, "--reason", "the key leaked, incident IR-77", "--json").json(t)
	if ret["kind"] != "identity.source.retire" {
		t.Fatalf("identity-source retire answered %v", ret)
	}
	s.ok("custodian2", work, "approve", ret["request"].(string))
	if out := s.ok("auditor", work, "identity-source", "list").stdout; !strings.Contains(out, src+"  not configured on this server; retired (event") {
		t.Fatalf("identity-source list after the retirement: %s", out)
	}
	s.refused("custodian", work, "is not accepted", "identity-source", "retire", src, "--reason", "again")
	s.ok("auditor", work, "audit", "verify")
}

// TestOIDCKeyRotation: a vault signs people in through its provider's
// keys one by one. The first start accepts the key the provider serves;
// when the provider rotates (a new key signs, the old one stays
// served), identity-source list shows the new key as configured and not
// accepted, a sign-in it signs is refused with the command that asks to
// accept it, and once a custodian asks and another approves, the same
// person signs in; the audit passes and the session names the new key.
func TestOIDCKeyRotation(t *testing.T) {
	p := testenv.StartOIDC(t)
	s := newServer(t, "--oidc-issuer", p.Issuer, "--oidc-client-id", p.ClientID, "--local-accounts", "true")
	work := t.TempDir()
	s.enrolByTwo(work, "bob", "investigator", "--oidc", p.User.Subject)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	login := func() result {
		t.Helper()
		out, wait := s.loginAsync(t.TempDir())
		if !out.waitFor(userCode) {
			t.Fatalf("login printed no user code: %s", out)
		}
		if err := p.ApproveDevice(ctx, userCode.FindStringSubmatch(out.String())[1], p.User.Name, p.User.Password); err != nil {
			t.Fatal(err)
		}
		return wait()
	}
	keys := func() (accepted, waiting []string) {
		t.Helper()
		list := s.ok("auditor", work, "identity-source", "list", "--json").json(t)
		for _, x := range list["sources"].([]any) {
			src := x.(map[string]any)
			name := src["source"].(string)
			if !strings.HasPrefix(name, "oidc-key "+p.Issuer+" ") {
				continue
			}
			if src["configured"] != true {
				t.Fatalf("a key of the provider listed as not configured: %v", src)
			}
			if src["accepted"] == true {
				accepted = append(accepted, name)
			} else {
				waiting = append(waiting, name)
			}
		}
		return accepted, waiting
	}

	if r := login(); r.code != 0 {
		t.Fatalf("a sign-in through the key the first start accepted: %d %s", r.code, r.stderr)
	}
	first, none := keys()
	if len(first) != 1 || len(none) != 0 {
		t.Fatalf("before the rotation: accepted %v, waiting %v", first, none)
	}
	if err := p.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	still, waiting := keys()
	if len(waiting) != 1 || len(still) != 1 || still[0] != first[0] {
		t.Fatalf("after the rotation: accepted %v, waiting %v", still, waiting)
	}
	if out := s.ok("custodian", work, "identity-source", "list").stdout; !strings.Contains(out, waiting[0]+"  configured; NOT accepted") ||
		!strings.Contains(out, "the provider serves it as this computer reaches it") {
		t.Fatalf("identity-source list after the rotation: %s", out)
	}
	// A key the provider does not serve, as this computer reaches it
	// (one an operator slipped among the keys the server lists): the
	// command refuses to ask for it.
	s.refused("custodian", work, "does not serve this key", "identity-source", "accept",
		"oidc-key "+p.Issuer+" 9Uz1lSmd32cWLyt36VQWAXdh3ltEFlQ6EcPjTQGqTsw", "--reason", "a key slipped in")
	r := login()
	if r.code == 0 || !strings.Contains(r.stderr, "with a key two custodians have not accepted") || !strings.Contains(r.stderr, "custos identity-source accept") ||
		!strings.Contains(r.stderr, waiting[0]) {
		t.Fatalf("a sign-in through the new key: %d %s", r.code, r.stderr)
	}
	req := s.ok("custodian", work, "identity-source", "accept", waiting[0], "--reason", "the provider's rotation of today, thumbprint read back by its administrator", "--json").json(t)
	s.ok("custodian2", work, "approve", req["request"].(string))
	if r := login(); r.code != 0 {
		t.Fatalf("a sign-in through the key accepted since: %d %s", r.code, r.stderr)
	}
	s.ok("auditor", work, "audit", "verify")
	newKey := strings.TrimPrefix(waiting[0], "oidc-key "+p.Issuer+" ")
	var named bool
	for _, ev := range logEvents(t, s) {
		if ev.Type == "session.opened" && ev.Actor.Person == "bob" {
			var d struct {
				Key     string          `json:"key"`
				IDToken string          `json:"id_token"`
				JWK     json.RawMessage `json:"jwk"`
			}
			json.Unmarshal(ev.Data, &d)
			// The provider's own token, verified by the key recorded
			// beside it, whose thumbprint is the key named: what the
			// audit above checked.
			c, thumb, err := idtoken.Verify(d.IDToken, d.JWK)
			named = d.Key == newKey && err == nil && thumb == newKey && c.Issuer == p.Issuer
		}
	}
	if !named {
		t.Fatal("the last session.opened of bob does not name the key that signed its ID token, with the token and key")
	}
}
