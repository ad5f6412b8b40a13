// Package signin is the client side of signing in to an OpenID provider,
// for the `custos login` command: the device authorization grant (RFC
// 8628) for terminals without a browser, the authorization code grant
// with PKCE and a loopback redirect (RFC 8252) where a browser runs on the
// same machine, refresh, and a cache of the tokens between runs.
//
// # Provider set-up
//
// Register a public client (no secret) allowed the device grant and/or
// the code grant with the redirect URI http://127.0.0.1/callback, whose
// port the provider must ignore (RFC 8252 §7.3), and refresh tokens.
// Config.Issuer must be the issuer exactly as the provider's discovery
// document states it (a trailing slash matters).
//
// # Tokens
//
// Every ID token received is verified here (signature from the
// provider's keys, issuer, audience, expiry, the nonce of a code flow,
// at_hash against the access token) before it is returned; the vault
// verifies it again. Tokens hold the tokens as secret.String: they are
// never printed or logged, and errors carry no token, code or state.
// Only Cache writes them, to its 0600 file.
//
// The provider and the HTTP exchanges must be https, except on a
// loopback address (tests, a provider on the same machine).
package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/custos-vault/custos/internal/secret"
)

// DefaultScopes are requested when Config.Scopes is empty: an ID token,
// a refresh token, and the profile and email claims the vault may name
// people by.
var DefaultScopes = []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, oidc.ScopeProfile, oidc.ScopeEmail}

// Config names the provider and the client to sign in with.
type Config struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document states it.
	Issuer string
	// ClientID is the public client registered for Custos.
	ClientID string
	// Scopes to request; empty means DefaultScopes. "openid" is added if
	// missing.
	Scopes []string
	// HTTPClient makes every request to the provider; nil means a client
	// with a 30-second timeout per request.
	HTTPClient *http.Client
}

// Tokens are what a sign-in yields. The zero Expiry means the provider
// did not say when the access token expires.
type Tokens struct {
	IDToken      secret.String
	AccessToken  secret.String
	RefreshToken secret.String // empty if the provider issued none
	// Expiry is when the access token expires.
	Expiry time.Time
	// IDTokenExpiry is the ID token's exp.
	IDTokenExpiry time.Time
	// Subject is the ID token's sub: the person signed in, as the
	// provider identifies them.
	Subject string
}

// Fresh reports whether the ID token and the access token are both
// still valid for at least margin after at.
func (t *Tokens) Fresh(at time.Time, margin time.Duration) bool {
	limit := at.Add(margin)
	if t.IDToken.Empty() || t.AccessToken.Empty() || !t.IDTokenExpiry.After(limit) {
		return false
	}
	return t.Expiry.IsZero() || t.Expiry.After(limit)
}

// Errors that callers may want to tell apart. Every error of this
// package that comes from the provider's answer wraps one of these or
// names the OAuth error code.
var (
	// ErrDenied: the person (or the provider) refused the sign-in.
	ErrDenied = errors.New("signin: the sign-in was refused")
	// ErrCodeExpired: the device code expired before the sign-in was
	// approved.
	ErrCodeExpired = errors.New("signin: the code expired before the sign-in was approved")
	// ErrSignInAgain: the provider no longer accepts the refresh token.
	ErrSignInAgain = errors.New("signin: the provider no longer accepts the refresh token; sign in again")
	// ErrState: the answer at the loopback redirect was not for the
	// sign-in in progress (wrong or missing state).
	ErrState = errors.New("signin: the browser's answer does not belong to this sign-in (state mismatch)")
)

// session is one conversation with the provider.
type session struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// discover reads the provider's discovery document. The returned
// context carries the HTTP client for go-oidc and oauth2.
func discover(ctx context.Context, cfg Config) (*session, context.Context, error) {
	if cfg.ClientID == "" {
		return nil, nil, errors.New("signin: no client id")
	}
	if err := secureURL(cfg.Issuer); err != nil {
		return nil, nil, fmt.Errorf("signin: issuer: %w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	ctx = oidc.ClientContext(ctx, hc)
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("signin: discovery at %s: %w", cfg.Issuer, cleanHTTPError(err))
	}
	ep := p.Endpoint()
	for _, u := range []string{ep.AuthURL, ep.TokenURL, ep.DeviceAuthURL} {
		if u == "" {
			continue
		}
		if err := secureURL(u); err != nil {
			return nil, nil, fmt.Errorf("signin: provider endpoint: %w", err)
		}
	}
	if ep.TokenURL == "" {
		return nil, nil, errors.New("signin: the provider's discovery document names no token endpoint")
	}
	// A public client: client_id in the form, no secret, and no
	// guessing that starts with HTTP Basic.
	ep.AuthStyle = oauth2.AuthStyleInParams
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	if !contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return &session{
		oauth:    oauth2.Config{ClientID: cfg.ClientID, Endpoint: ep, Scopes: scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
	}, ctx, nil
}

// Device signs in with the device authorization grant (RFC 8628): it
// asks the provider for a code, prints to out the page to open (the
// complete verification URI when the provider gives one) and the code to
// check or enter there, then polls the token endpoint at the interval the
// provider sets (5 seconds if it sets none, 5 more after each slow_down)
// until the person approves or refuses, the code expires, or ctx ends.
func Device(ctx context.Context, cfg Config, out io.Writer) (*Tokens, error) {
	s, ctx, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if s.oauth.Endpoint.DeviceAuthURL == "" {
		return nil, errors.New("signin: the provider offers no device authorization endpoint; sign in with a browser instead")
	}
	da, err := s.oauth.DeviceAuth(ctx)
	if err != nil {
		return nil, providerError("device authorization", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, errors.New("signin: device authorization: the provider's answer lacks a code or a verification URI")
	}
	code := printable(da.UserCode)
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(out, "To sign in, open this page in a browser on any device:\n\n    %s\n\nand check that it shows the code %s.\n",
			printable(da.VerificationURIComplete), code)
	} else {
		fmt.Fprintf(out, "To sign in, open this page in a browser on any device:\n\n    %s\n\nand enter the code %s.\n",
			printable(da.VerificationURI), code)
	}
	if !da.Expiry.IsZero() {
		fmt.Fprintf(out, "The code is valid for %s.\n", time.Until(da.Expiry).Round(time.Second))
	}
	tok, err := s.oauth.DeviceAccessToken(ctx, da)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("signin: sign-in not completed: %w", err)
		}
		if errors.Is(err, context.DeadlineExceeded) && !da.Expiry.IsZero() && !time.Now().Before(da.Expiry) {
			return nil, ErrCodeExpired // oauth2 bounds polling by the code's expiry
		}
		return nil, providerError("device sign-in", err)
	}
	return s.tokens(ctx, tok, "", nil)
}

// Loopback signs in with the authorization code grant, PKCE (S256) and a
// redirect to a listener on 127.0.0.1 with a port the system picks (RFC
// 8252): it prints the authorization URL to out, calls open with it if
// open is not nil (a failure to open a browser is printed, not returned),
// and waits until the browser comes back to the listener or ctx ends. An
// answer with the wrong state ends the sign-in with ErrState; the ID
// token must carry the nonce sent.
func Loopback(ctx context.Context, cfg Config, out io.Writer, open func(url string) error) (*Tokens, error) {
	s, ctx, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if s.oauth.Endpoint.AuthURL == "" {
		return nil, errors.New("signin: the provider's discovery document names no authorization endpoint")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("signin: loopback listener: %w", err)
	}
	conf := s.oauth
	conf.RedirectURL = "http://" + l.Addr().String() + "/callback"
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	answers := make(chan callbackAnswer, 1)
	srv := &http.Server{Handler: callbackHandler(state, answers), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer func() {
		// Let the browser have its page, briefly.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	fmt.Fprintf(out, "To sign in, open this page in a browser on this computer:\n\n    %s\n\n", authURL)
	if open != nil {
		if err := open(authURL); err != nil {
			fmt.Fprintf(out, "(Could not open a browser: %s)\n", printable(err.Error()))
		}
	}
	var a callbackAnswer
	select {
	case a = <-answers:
	case <-ctx.Done():
		return nil, fmt.Errorf("signin: sign-in not completed: %w", ctx.Err())
	}
	if a.err != nil {
		return nil, a.err
	}
	tok, err := conf.Exchange(ctx, a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, providerError("code exchange", err)
	}
	return s.tokens(ctx, tok, nonce, nil)
}

type callbackAnswer struct {
	code string
	err  error
}

// callbackHandler serves the loopback redirect: the first request to
// /callback is the answer, whatever it says; answers has room for it.
func callbackHandler(state string, answers chan<- callbackAnswer) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		q := r.URL.Query()
		var a callbackAnswer
		switch {
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			a.err = ErrState
		case q.Get("error") != "":
			a.err = oauthError("authorization", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			a.err = errors.New("signin: the provider redirected back without a code")
		default:
			a.code = q.Get("code")
		}
		first := false
		once.Do(func() { first = true })
		switch {
		case !first:
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, "This sign-in is already over. Return to the terminal.\n")
			return
		case a.err != nil:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, "Sign-in failed. Return to the terminal for details.\n")
		default:
			io.WriteString(w, "Sign-in received. You can close this page and return to the terminal.\n")
		}
		answers <- a
	})
}

// Refresh exchanges t's refresh token for new tokens. If the provider
// sends no new refresh token or ID token, t's are kept; a new ID token
// must name the same subject. A refresh token the provider no longer
// accepts gives ErrSignInAgain.
func Refresh(ctx context.Context, cfg Config, t *Tokens) (*Tokens, error) {
	if t == nil || t.RefreshToken.Empty() {
		return nil, errors.New("signin: no refresh token to refresh with")
	}
	s, ctx, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// An access token that is not valid makes the token source refresh.
	tok, err := s.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: t.RefreshToken.Reveal()}).Token()
	if err != nil {
		return nil, providerError("refresh", err)
	}
	return s.tokens(ctx, tok, "", t)
}

// tokens checks a token response and turns it into Tokens. prev is the
// sign-in being refreshed, or nil.
func (s *session) tokens(ctx context.Context, tok *oauth2.Token, nonce string, prev *Tokens) (*Tokens, error) {
	if tok.AccessToken == "" {
		return nil, errors.New("signin: the provider sent no access token")
	}
	t := &Tokens{
		AccessToken:  secret.New(tok.AccessToken),
		RefreshToken: secret.New(tok.RefreshToken),
		Expiry:       tok.Expiry,
	}
	if t.RefreshToken.Empty() && prev != nil {
		t.RefreshToken = prev.RefreshToken
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		if prev == nil {
			return nil, errors.New("signin: the provider sent no ID token (is the openid scope allowed for this client?)")
		}
		t.IDToken, t.IDTokenExpiry, t.Subject = prev.IDToken, prev.IDTokenExpiry, prev.Subject
		return t, nil
	}
	id, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("signin: the provider's ID token does not verify: %w", err)
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(nonce)) != 1 {
		return nil, errors.New("signin: the ID token does not carry this sign-in's nonce")
	}
	if id.AccessTokenHash != "" {
		if err := id.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, errors.New("signin: the ID token's at_hash does not match the access token")
		}
	}
	if prev != nil && prev.Subject != "" && id.Subject != prev.Subject {
		return nil, errors.New("signin: the refreshed ID token names another subject")
	}
	t.IDToken, t.IDTokenExpiry, t.Subject = secret.New(raw), id.Expiry, id.Subject
	return t, nil
}

// providerError describes a failed exchange with the provider by its
// OAuth error code and description, or its HTTP status, never by the
// response body or a URL's query.
func providerError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return oauthError(what, re.ErrorCode, re.ErrorDescription)
		}
		status := "no answer"
		if re.Response != nil {
			status = re.Response.Status
		}
		return fmt.Errorf("signin: %s: the provider answered %s", what, printable(status))
	}
	return fmt.Errorf("signin: %s: %w", what, cleanHTTPError(err))
}

func oauthError(what, code, desc string) error {
	var kind error
	switch code {
	case "access_denied":
		kind = ErrDenied
	case "expired_token":
		kind = ErrCodeExpired
	case "invalid_grant":
		if what == "refresh" {
			kind = ErrSignInAgain
		}
	}
	msg := printable(code)
	if desc != "" {
		msg += ": " + printable(desc)
	}
	if kind != nil {
		return fmt.Errorf("%w (%s: provider said %s)", kind, what, msg)
	}
	return fmt.Errorf("signin: %s: the provider refused: %s", what, msg)
}

// cleanHTTPError drops the query of the URL a *url.Error names.
func cleanHTTPError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, stripQuery(ue.URL), ue.Err)
	}
	return err
}

func stripQuery(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// secureURL accepts https URLs, and http ones on a loopback address.
func secureURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", printable(s))
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
	return fmt.Errorf("%s is not https (plain http is allowed only on a loopback address)", stripQuery(s))
}

// printable keeps provider-supplied text from carrying terminal control
// sequences, and bounds its length.
func printable(s string) string {
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
