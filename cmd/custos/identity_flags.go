package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/oidcauth"
)

// identityFlags are the server's sign-in flags (docs/identity.md).
type identityFlags struct {
	localAccounts string // auto, true, false
	sessionTTL    time.Duration
	invitationTTL time.Duration
	requestTTL    time.Duration

	oidcIssuer   string
	oidcClientID string
	oidcClaim    string
	oidcRequire  stringList

	clientCA       string
	clientCRL      string
	clientCertName string

	mfa  map[string]vault.MFARequirement
	cert certAuthority
	oidc *oidcauth.Verifier
	dev  bool
}

func (f *identityFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.localAccounts, "local-accounts", "auto", "local credentials and invitations: true, false, or auto (on with --dev, or unless --oidc-issuer or --client-ca is given)")
	fs.DurationVar(&f.sessionTTL, "session-ttl", 12*time.Hour, "how long a session lasts before its person signs in again")
	fs.DurationVar(&f.invitationTTL, "invitation-ttl", 72*time.Hour, "how long an invitation may be redeemed")
	fs.DurationVar(&f.requestTTL, "request-ttl", 7*24*time.Hour, "how long a two-person request may be approved")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "the organisation's OpenID provider (issuer `URL`, exactly as its discovery document states it)")
	fs.StringVar(&f.oidcClientID, "oidc-client-id", "", "the client id registered for Custos at the provider (a public client: device grant and PKCE)")
	fs.StringVar(&f.oidcClaim, "oidc-claim", "sub", "the ID token claim that names a person: sub, email or preferred_username")
	fs.Var(&f.oidcRequire, "oidc-require", "ROLE=acr:VALUE or ROLE=amr:VALUE: what an OIDC sign-in must show for that role (MFA); repeatable")
	fs.StringVar(&f.clientCA, "client-ca", "", "PEM `FILE` of the CA(s) whose TLS client certificates sign people in (smart cards, PIV); needs --tls-cert")
	fs.StringVar(&f.clientCRL, "client-crl", "", "CRL `FILE` (PEM or DER) of --client-ca, reloaded when it changes")
	fs.StringVar(&f.clientCertName, "client-cert-name", "cn", "what names a person in a client certificate: cn, email, dns, uri or upn")
}

func (f *identityFlags) check(dev bool) error {
	f.dev = dev
	switch f.localAccounts {
	case "auto", "true", "false":
	default:
		return usageErr("--local-accounts is true, false or auto")
	}
	if f.sessionTTL <= 0 || f.invitationTTL <= 0 || f.requestTTL <= 0 {
		return usageErr("--session-ttl, --invitation-ttl and --request-ttl must be positive")
	}
	if (f.oidcIssuer == "") != (f.oidcClientID == "") {
		return usageErr("--oidc-issuer and --oidc-client-id go together")
	}
	switch f.oidcClaim {
	case "sub", "email", "preferred_username":
	default:
		return usageErr("--oidc-claim is sub, email or preferred_username")
	}
	if f.oidcIssuer != "" && vault.CheckOIDCSignIn(f.oidcIssuer, f.oidcClientID, f.oidcClaim) != nil {
		return usageErr("--oidc-issuer is the issuer URL without spaces, and --oidc-client-id the client id without spaces or invisible characters, at most 255 bytes")
	}
	f.mfa = map[string]vault.MFARequirement{}
	for _, r := range f.oidcRequire {
		role, req, ok := strings.Cut(r, "=")
		kind, value, ok2 := strings.Cut(req, ":")
		if !ok || !ok2 || value == "" || (kind != "acr" && kind != "amr") {
			return usageErr("--oidc-require %q: use ROLE=acr:VALUE or ROLE=amr:VALUE", r)
		}
		switch role {
		case vault.RoleInvestigator, vault.RoleProsecutor, vault.RoleAuditor, vault.RoleCustodian, vault.RoleDefence, vault.RoleAnalyst:
		default:
			return usageErr("--oidc-require %q: unknown role %q", r, role)
		}
		m := f.mfa[role]
		if kind == "acr" {
			m.ACR = value
		} else {
			m.AMR = value
		}
		f.mfa[role] = m
	}
	if len(f.mfa) > 0 && f.oidcIssuer == "" {
		return usageErr("--oidc-require needs --oidc-issuer")
	}
	if f.clientCRL != "" && f.clientCA == "" {
		return usageErr("--client-crl needs --client-ca")
	}
	return nil
}

// local reports whether local accounts are on: with auto, unless an
// identity provider or a client CA signs people in (the development
// persons of --dev sign in with local credentials, so --dev keeps them).
func (f *identityFlags) local() bool {
	if f.localAccounts == "auto" {
		return f.dev || f.oidcIssuer == "" && f.clientCA == ""
	}
	return f.localAccounts == "true"
}

func (f *identityFlags) apply(cfg *vault.Config) {
	cfg.NoLocalAccounts = !f.local()
	cfg.SessionTTL, cfg.InvitationTTL, cfg.RequestTTL = f.sessionTTL, f.invitationTTL, f.requestTTL
	cfg.OIDCClaim, cfg.RequireMFA = f.oidcClaim, f.mfa
	if f.oidc != nil {
		cfg.OIDCServedKeys = f.oidc.Keys
	}
}

// signIn is what server.started records of the provider and the CA:
// the issuer, client id and the thumbprints of the keys the provider
// serves now, and the SHA-256 of each CA certificate the authority
// apiOptions loaded trusts (its DER), so that the record names the
// certificates in force, not a second read of --client-ca. It is called
// after apiOptions.
func (f *identityFlags) signIn(ctx context.Context) (vault.SignInAuthorities, error) {
	a := vault.SignInAuthorities{OIDCIssuer: f.oidcIssuer, OIDCClientID: f.oidcClientID}
	if f.oidc != nil {
		keys, err := f.oidc.Keys(ctx)
		if err != nil {
			return a, fmt.Errorf("--oidc-issuer: %w", err)
		}
		a.OIDCKeys = keys
	}
	if f.clientCA == "" {
		return a, nil
	}
	if f.cert == nil {
		return a, errors.New("--client-ca: the client CA was not loaded before the start's record of it")
	}
	a.ClientCASHA256 = f.cert.CASHA256()
	a.ClientCertName = f.clientCertName
	a.ClientCRL = f.clientCRL != ""
	return a, nil
}

// apiOptions connects the API to the provider and the CA.
func (f *identityFlags) apiOptions(ctx context.Context, o *api.Options, logger *slog.Logger) error {
	o.NoLocalAccounts = !f.local()
	if f.oidcIssuer != "" {
		v, err := oidcauth.New(ctx, oidcauth.Config{Issuer: f.oidcIssuer, ClientID: f.oidcClientID, Claim: f.oidcClaim})
		if err != nil {
			return fmt.Errorf("--oidc-issuer: %w", err)
		}
		f.oidc = v
		o.OIDC = api.OIDCVerifierOf(v)
		o.OIDCClient = api.OIDCClient{Issuer: f.oidcIssuer, ClientID: f.oidcClientID, Scopes: loginScopes}
	}
	if f.clientCA != "" {
		a, err := newCertAuthority(f.clientCA, f.clientCRL, f.clientCertName, logger)
		if err != nil {
			return fmt.Errorf("--client-ca: %w", err)
		}
		f.cert = a
		o.ClientCerts = a
	}
	return nil
}

// tlsConfig adds the client CA to the server's TLS configuration.
func (f *identityFlags) tlsConfig(base *tls.Config) *tls.Config {
	if f.cert == nil {
		return base
	}
	return f.cert.TLSConfig(base)
}

// certAuthority is what the server needs of vault/clientcert.
type certAuthority interface {
	api.CertIdentifier
	TLSConfig(base *tls.Config) *tls.Config
	// CASHA256 is clientcert.Authority.CASHA256.
	CASHA256() []string
}
