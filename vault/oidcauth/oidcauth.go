// Package oidcauth verifies, on the vault's side, that a person signed in
// at the organisation's OpenID provider: it checks an ID token (and the
// access token that came with it) and says who the person is, by the
// claim the vault is configured to name people by, and how they signed
// in (acr, amr), so that a role can require a second factor.
//
// The provider's discovery document is read with go-oidc, its keys
// (jwks_uri) here, so that Verify says which key signed a token (the
// vault accepts a provider's keys one by one); keys are read again when
// no key held verifies a token, as go-oidc does. The
// provider must be reached over https, except on a loopback address.
//
// Verify refuses, with an error that wraps ErrRefused (and ErrExpired for
// an expired token), a token that is malformed, not signed by the
// provider's keys, issued by another issuer, not for this client, or
// expired; errors never quote a token.
package oidcauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/custos-vault/custos/internal/secret"
	"github.com/go-jose/go-jose/v4"
)

// Config says which provider, which client and which claim.
type Config struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document states it (a trailing slash matters).
	Issuer string
	// ClientID is the client the tokens must be issued for (their aud).
	ClientID string
	// Claim names people: "sub" (the default; stable and unique at the
	// provider), "email" (refused unless the provider has verified it,
	// see Verify) or "preferred_username" (which providers may let
	// people change; use it only where the provider forbids that).
	Claim string
	// HTTPClient makes the requests to the provider; nil means a client
	// with a 10-second timeout per request.
	HTTPClient *http.Client
	// Now is the clock for expiry checks; nil means time.Now.
	Now func() time.Time
}

// Identity is a verified sign-in.
type Identity struct {
	Issuer  string
	Subject string // the ID token's sub
	// Name is the value of the configured claim (equal to Subject for
	// "sub").
	Name string
	// ACR is the ID token's acr ("" if none): the authentication context
	// class the provider says the sign-in met.
	ACR string
	// AMR lists the ID token's amr (RFC 8176 values such as "pwd",
	// "otp", "hwk", "mfa"), the methods used to sign in.
	AMR []string
	// Expiry is the ID token's exp.
	Expiry time.Time
	// ClientID is the client the ID token was issued to: its aud, which
	// go-oidc checks holds Config.ClientID.
	ClientID string
	// Key is the thumbprint (Thumbprint: RFC 7638, SHA-256, base64url)
	// of the provider's key that verified the ID token's signature: the
	// vault signs people in through the keys two custodians accepted.
	Key string
	// KeyJWK is that key's public JWK (RFC 7517), and Token the ID token
	// as verified (a compact JWS): the custody log records both, so that
	// an audit checks the provider's signature itself (vault/idtoken).
	// Token is a credential until it expires: the vault refuses it a
	// second time, and it is never logged.
	KeyJWK []byte
	Token  secret.String
}

// Satisfies reports whether the sign-in meets a role's requirement: an
// acr value the ID token's acr must equal, or an amr value its amr list
// must contain; either one met is enough. Both empty means no
// requirement.
func (id Identity) Satisfies(acr, amr string) bool {
	if acr == "" && amr == "" {
		return true
	}
	if acr != "" && id.ACR == acr {
		return true
	}
	if amr != "" {
		for _, m := range id.AMR {
			if m == amr {
				return true
			}
		}
	}
	return false
}

// The claims Config.Claim may name.
const (
	ClaimSub               = "sub"
	ClaimEmail             = "email"
	ClaimPreferredUsername = "preferred_username"
)

var (
	// ErrRefused is wrapped by every refusal of a token.
	ErrRefused = errors.New("oidcauth: sign-in refused")
	// ErrExpired is wrapped (with ErrRefused) when the ID token has
	// expired.
	ErrExpired = errors.New("oidcauth: the ID token has expired")
)

// refusal is a refused token; it matches ErrRefused, and ErrExpired
// when expired is set.
type refusal struct {
	msg     string
	expired bool
}

func (r *refusal) Error() string { return "oidcauth: sign-in refused: " + r.msg }

func (r *refusal) Is(target error) bool {
	return target == ErrRefused || (r.expired && target == ErrExpired)
}

func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// maxToken bounds the tokens Verify looks at.
const maxToken = 16 << 10

// Verifier checks sign-ins against one provider and client.
type Verifier struct {
	cfg      Config
	client   *http.Client
	verifier *oidc.IDTokenVerifier
	keys     *keySet
}

// New reads the provider's discovery document (at
// Issuer/.well-known/openid-configuration) and returns a Verifier. It
// fails if the provider cannot be reached, if the document names another
// issuer, or if the configuration is incomplete.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	switch cfg.Claim {
	case "":
		cfg.Claim = ClaimSub
	case ClaimSub, ClaimEmail, ClaimPreferredUsername:
	default:
		return nil, fmt.Errorf("oidcauth: claim %q: use sub, email or preferred_username", cfg.Claim)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("oidcauth: no client id")
	}
	if err := secureURL(cfg.Issuer); err != nil {
		return nil, fmt.Errorf("oidcauth: issuer: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidcauth: discovery at %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidcauth: discovery document: %w", err)
	}
	if meta.JWKS == "" {
		return nil, errors.New("oidcauth: the provider's discovery document names no jwks_uri, where its signing keys are read")
	}
	if err := secureURL(meta.JWKS); err != nil {
		return nil, fmt.Errorf("oidcauth: the provider's jwks_uri: %w", err)
	}
	v := &Verifier{cfg: cfg, client: hc, keys: &keySet{uri: meta.JWKS, client: hc}}
	// The algorithms the provider states that this package verifies
	// (as go-oidc's own verifier takes them; RS256 alone if it states
	// none).
	var algs []string
	for _, a := range meta.Algs {
		if slices.Contains(signingAlgs, jose.SignatureAlgorithm(a)) {
			algs = append(algs, a)
		}
	}
	v.verifier = oidc.NewVerifier(cfg.Issuer, v.keys, &oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now, SupportedSigningAlgs: algs})
	return v, nil
}

// idClaims are the claims Verify reads beyond go-oidc's.
type idClaims struct {
	ACR string      `json:"acr"`
	AMR stringOrSet `json:"amr"`
	names
}

// names are the claims a person may be named by, in an ID token.
type names struct {
	Sub               string   `json:"sub"`
	Email             *string  `json:"email"`
	EmailVerified     *boolish `json:"email_verified"`
	PreferredUsername *string  `json:"preferred_username"`
}

// Verify checks idToken (signature, issuer, audience = the client id,
// expiry) and, if accessToken is not empty and the ID token carries
// at_hash, that the access token is the one issued with it. It returns
// who signed in and how.
//
// The configured claim is read from the ID token alone, which the
// provider's key signs: a token without it is refused (providers often
// keep names out of ID tokens issued with an access token unless told
// to put them in; the userinfo endpoint's answer is not signed, and an
// operator who controls the server's name resolution and TLS roots
// could answer it with another person's name for a subject the key
// vouches for). An email is refused unless the ID token says
// email_verified true: some providers (zitadel's library among them)
// leave out a false email_verified, and whether a provider lists the
// claim in its discovery document is for whoever answers at its address
// to say.
//
// Errors that wrap ErrRefused are refusals of the sign-in; other errors
// (the provider's keys cannot be read, ctx ends) are failures to
// decide.
func (v *Verifier) Verify(ctx context.Context, idToken, accessToken string) (Identity, error) {
	if idToken == "" {
		return Identity{}, refuse("no ID token")
	}
	if len(idToken) > maxToken || len(accessToken) > maxToken {
		return Identity{}, refuse("token longer than %d bytes", maxToken)
	}
	ctx = oidc.ClientContext(ctx, v.client)
	var key signer
	tok, err := v.verifier.Verify(context.WithValue(ctx, usedKey{}, &key), idToken)
	if err != nil {
		if ctx.Err() != nil {
			return Identity{}, fmt.Errorf("oidcauth: verifying the ID token: %w", ctx.Err())
		}
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return Identity{}, &refusal{msg: fmt.Sprintf("the ID token expired at %s", exp.Expiry.UTC().Format(time.RFC3339)), expired: true}
		}
		return Identity{}, refuse("the ID token does not verify: %v", err)
	}
	if accessToken != "" && tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(accessToken); err != nil {
			return Identity{}, refuse("the access token was not issued with this ID token (at_hash)")
		}
	}
	var c idClaims
	if err := tok.Claims(&c); err != nil {
		return Identity{}, refuse("the ID token's claims do not parse: %v", err)
	}
	if tok.Subject == "" {
		return Identity{}, refuse("the ID token has no sub")
	}
	id := Identity{
		Issuer:   tok.Issuer,
		Subject:  tok.Subject,
		ACR:      c.ACR,
		AMR:      []string(c.AMR),
		Expiry:   tok.Expiry,
		ClientID: v.cfg.ClientID,
		Key:      key.thumb,
		KeyJWK:   key.public,
		Token:    secret.New(idToken),
	}
	if key.thumb == "" {
		return Identity{}, errors.New("oidcauth: the token verified, but not by a key of the provider's set")
	}
	name, found, err := v.name(c.names)
	if err != nil {
		return Identity{}, err
	}
	if !found {
		return Identity{}, refuse("the ID token has no %s claim: the vault reads a person's name only from the ID token, which the provider's key signs (its userinfo endpoint's answer is not signed, and whoever controls the server's name resolution could give it); have the provider put %s in its ID tokens, or name people by sub", v.cfg.Claim, v.cfg.Claim)
	}
	id.Name = name
	return id, nil
}

// name picks the configured claim out of n: found is false if n lacks
// it; an error refuses the sign-in.
func (v *Verifier) name(n names) (name string, found bool, err error) {
	switch v.cfg.Claim {
	case ClaimSub:
		return n.Sub, n.Sub != "", nil
	case ClaimPreferredUsername:
		if n.PreferredUsername == nil {
			return "", false, nil
		}
		if *n.PreferredUsername == "" {
			return "", false, refuse("preferred_username is empty")
		}
		return *n.PreferredUsername, true, nil
	case ClaimEmail:
		if n.Email == nil {
			return "", false, nil
		}
		if *n.Email == "" {
			return "", false, refuse("email is empty")
		}
		switch {
		case n.EmailVerified != nil && !bool(*n.EmailVerified):
			return "", false, refuse("the provider has not verified the email address")
		case n.EmailVerified == nil:
			return "", false, refuse("the ID token does not say the provider verified the email address (email_verified); name people by a claim the provider vouches for, or have it put email_verified in its ID tokens")
		}
		return *n.Email, true, nil
	}
	return "", false, refuse("unknown claim %q", v.cfg.Claim)
}

// boolish is a JSON boolean, or the strings "true" and "false", which
// some providers send for email_verified.
type boolish bool

func (b *boolish) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case `true`, `"true"`:
		*b = true
	case `false`, `"false"`:
		*b = false
	default:
		return errors.New("email_verified is neither true nor false")
	}
	return nil
}

// stringOrSet is a JSON array of strings, or a single string, which some
// providers send for amr.
type stringOrSet []string

func (s *stringOrSet) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return errors.New("amr is neither a string nor a list of strings")
	}
	*s = many
	return nil
}

// secureURL accepts https URLs, and http ones on a loopback address.
func secureURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("%s://%s is not https (plain http is allowed only on a loopback address)", u.Scheme, u.Host)
}
