package e2e

import (
	"strings"
	"testing"
)

// TestIdentitySourceCommands: custos identity-source list and accept, as
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
	const src = "oidc https://id.example.org/realms/unit"
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
	s.refused("custodian", work, `an identity source is "oidc ISSUER" or "ca SHA256"`, "identity-source", "accept", "https://rogue.example/", "--reason", "no kind")
	s.refused("custodian", work, "is accepted already", "identity-source", "accept", src, "--reason", "again")
	s.ok("auditor", work, "audit", "verify")
}
