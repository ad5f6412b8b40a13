package vault

import (
	"strings"
	"testing"
	"time"
)

// TestStartRecordsWhoSignsPeopleIn: whoever administers an OpenID
// provider or a client CA the vault trusts can sign in as anyone who
// signs in through it, and the retention and lifetimes decide what an
// insider can wait out or delete; all of it is server configuration.
// Every start records it in server.started, so that a change is on the
// record with the start that made it: a vault started with local
// accounts and the defaults, then again with a provider, a CA, MFA
// requirements and a shorter retention, says so in each start's event.
func TestStartRecordsWhoSignsPeopleIn(t *testing.T) {
	v, _ := openTestVaultDir(t)
	got := lastOfType(t, v, TypeServerStarted)
	for k, want := range map[string]string{"local_accounts": "on", "session_ttl": "12h0m0s", "request_ttl": (7 * 24 * time.Hour).String(),
		"retention": (10 * 365 * 24 * time.Hour).String(), "min_retention": "24h0m0s", "pending_retention": "24h0m0s", "hashset_approval": "none"} {
		if got[k] != want {
			t.Errorf("server.started %s = %q, want %q", k, got[k], want)
		}
	}
	for _, k := range []string{"oidc_issuer", "client_ca_sha256", "oidc_require"} {
		if _, ok := got[k]; ok {
			t.Errorf("server.started names %s without one configured", k)
		}
	}

	ca := strings.Repeat("ab", 32)
	v2, _ := openTestVaultDir(t, func(c *Config) {
		c.NoLocalAccounts, c.HashSetApproval = true, true
		c.Retention, c.MinRetention = 90*24*time.Hour, 48*time.Hour
		c.SignIn = SignInAuthorities{OIDCIssuer: "https://idp.hotline.example/realms/staff", OIDCClientID: "custos",
			ClientCASHA256: []string{ca, strings.Repeat("01", 32)}, ClientCertName: "upn", ClientCRL: true}
		c.OIDCClaim = "email"
		c.RequireMFA = map[string]MFARequirement{RoleCustodian: {AMR: "mfa"}, RoleAnalyst: {ACR: "phr"}}
	})
	got = lastOfType(t, v2, TypeServerStarted)
	for k, want := range map[string]string{"local_accounts": "off", "retention": "2160h0m0s", "min_retention": "48h0m0s",
		"oidc_issuer": "https://idp.hotline.example/realms/staff", "oidc_client_id": "custos", "oidc_claim": "email",
		"oidc_require":     "analyst=acr:phr custodian=amr:mfa",
		"client_ca_sha256": strings.Repeat("01", 32) + " " + ca, "client_cert_name": "upn", "client_crl": "on", "hashset_approval": "required"} {
		if got[k] != want {
			t.Errorf("server.started %s = %q, want %q", k, got[k], want)
		}
	}
}

// TestOfflineCommandsRecordNoServerConfiguration: a command that opens
// the vault with the server stopped (custos admin accept-rollback,
// enroll, rotate-kek) runs without the server's sign-in configuration:
// its server.started names the command, and records none of a server's
// configuration, which would read as a server that turned local
// accounts on and dropped its provider.
func TestOfflineCommandsRecordNoServerConfiguration(t *testing.T) {
	v, _ := openTestVaultDir(t, func(c *Config) { c.Run = "custos admin enroll" })
	got := lastOfType(t, v, TypeServerStarted)
	if got["run"] != "custos admin enroll" {
		t.Fatalf("server.started run %q", got["run"])
	}
	for _, k := range []string{"local_accounts", "session_ttl", "retention", "oidc_issuer"} {
		if _, ok := got[k]; ok {
			t.Errorf("an offline command's server.started records %s", k)
		}
	}
}
