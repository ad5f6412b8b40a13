package vault

import (
	"slices"
	"strconv"
	"strings"
)

// SignInAuthorities are the authorities outside the vault that sign
// people in (docs/identity.md), for the record: the OpenID provider
// (its issuer URL and the client id registered for the vault) and the
// client certificate CAs (the SHA-256, lowercase hex, of each CA
// certificate's DER, and what in a certificate names a person).
type SignInAuthorities struct {
	OIDCIssuer   string
	OIDCClientID string
	// OIDCKeys are the thumbprints (oidcauth.Thumbprint) of the keys
	// the provider served at the start (oidcauth.Verifier.Keys).
	OIDCKeys       []string
	ClientCASHA256 []string
	ClientCertName string
	// ClientCRL: certificates are checked against a CRL of the CAs
	// (--client-crl); a restart without it would accept revoked ones.
	ClientCRL bool
}

// startedConfig is what server.started records of the configuration
// (custody-log.md, server.started): durations as Go writes them
// (time.Duration.String), lists sorted and separated by single spaces,
// and members absent where the configuration has nothing to say.
func (cfg Config) startedConfig() map[string]string {
	m := map[string]string{
		"local_accounts":        map[bool]string{true: "off", false: "on"}[cfg.NoLocalAccounts],
		"session_ttl":           cfg.SessionTTL.String(),
		"invitation_ttl":        cfg.InvitationTTL.String(),
		"request_ttl":           cfg.RequestTTL.String(),
		startedRetention:        cfg.Retention.String(),
		"min_retention":         cfg.MinRetention.String(),
		startedPendingRetention: cfg.PendingRetention.String(),
		"hashset_approval":      map[bool]string{true: "required", false: "none"}[cfg.HashSetApproval],
		// Lowering a case's classification policy is a request
		// (since 2026-12-07; CustodyRules.started).
		startedClassificationLowering: "request",
		// A decision about a report in a case is its analysts' and
		// names the case (the audit's rules of reports, since
		// 2026-12-08; custodyrules_reports.go).
		startedHotlineRules: hotlineRules,
		// Identity sources sign people in once accepted (since
		// 2026-12-07; identitysources.go): the first start that says
		// so accepts its own.
		startedIdentitySources: "request",
		// A provider signs people in through its accepted keys alone
		// (since 2026-12-07; identitysources.go).
		startedKeyPins: "request",
		// A request asked with a certificate records its CAs (since
		// 2026-12-07; identitysources.go).
		startedRequestCAs: "recorded",
		// So does an approval (since 2026-12-07).
		startedApprovalCAs: "recorded",
		// An OpenID sign-in records its ID token and key (since
		// 2026-12-07; identity.md section 9.2).
		startedIDTokens: "recorded",
		// A stop as asked is recorded (server.stopped, since
		// 2026-12-07).
		StartedStops: "recorded",
	}
	if cfg.HashSetApproval {
		m[startedHashSetRemoval] = "request"
	}
	if cfg.NoLegacyHashes {
		m["legacy_hashes"] = "off"
	}
	if cfg.ExposureDailyLimit > 0 {
		m["exposure_daily_limit"] = strconv.Itoa(cfg.ExposureDailyLimit)
	}
	if a := cfg.SignIn; a.OIDCIssuer != "" {
		m["oidc_issuer"], m["oidc_client_id"], m["oidc_claim"] = a.OIDCIssuer, a.OIDCClientID, cfg.OIDCClaim
		if len(a.OIDCKeys) > 0 {
			keys := slices.Clone(a.OIDCKeys)
			slices.Sort(keys)
			m[startedOIDCKeys] = strings.Join(slices.Compact(keys), " ")
		}
		var req []string
		for role, r := range cfg.RequireMFA {
			if r.ACR != "" {
				req = append(req, role+"=acr:"+r.ACR)
			}
			if r.AMR != "" {
				req = append(req, role+"=amr:"+r.AMR)
			}
		}
		if len(req) > 0 {
			slices.Sort(req)
			m["oidc_require"] = strings.Join(req, " ")
		}
	}
	if a := cfg.SignIn; len(a.ClientCASHA256) > 0 {
		cas := slices.Clone(a.ClientCASHA256)
		slices.Sort(cas)
		m["client_ca_sha256"] = strings.Join(slices.Compact(cas), " ")
		m["client_cert_name"] = a.ClientCertName
		m["client_crl"] = map[bool]string{true: "on", false: "off"}[a.ClientCRL]
	}
	return m
}
