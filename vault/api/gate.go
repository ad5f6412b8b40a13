package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/custos-vault/custos/vault"
)

// This file is what the web application (vault/web) shares with the API,
// so that a browser meets exactly the API's rules: the same sign-in
// checks, the same rate limit and aggregated recording of requests
// without valid credentials, and the same recording of refusals.

// Authenticate identifies a request as the API does: a verified TLS client
// certificate first, else token, a session token (from the web
// application's cookie). ErrUnauthenticated (wrapped) when neither holds.
func (h *Handler) Authenticate(r *http.Request, token string) (vault.Principal, error) {
	if who, ok, err := h.certificate(r); ok {
		return who, err
	}
	if token == "" {
		return vault.Principal{}, vault.ErrUnauthenticated
	}
	return h.session(token)
}

// session maps a session token to its person (vault.Authenticate), and
// refuses a session opened through an OpenID provider this server no
// longer signs people in with: none configured now, another issuer, or
// another client id at it (a client registration replaced, perhaps
// because its tokens went astray, ends the sessions its tokens opened).
// The vault itself refuses local sessions once local accounts are off,
// and sessions whose second factor its roles now require.
func (h *Handler) session(token string) (vault.Principal, error) {
	who, err := h.v.Authenticate(token)
	if err != nil || who.Credential.Auth != "oidc" {
		return who, err
	}
	if h.opts.OIDC == nil || who.Credential.Issuer != h.opts.OIDCClient.Issuer {
		return vault.Principal{}, fmt.Errorf("%w: the session was opened through an identity provider (%s) this vault no longer signs people in with; sign in again", vault.ErrUnauthenticated, who.Credential.Issuer)
	}
	if c := who.Credential.ClientID; c != "" && c != h.opts.OIDCClient.ClientID {
		return vault.Principal{}, fmt.Errorf("%w: the session was opened when this vault was registered at its identity provider as client %s, and it is now %s; sign in again", vault.ErrUnauthenticated, c, h.opts.OIDCClient.ClientID)
	}
	return who, nil
}

// VerifyIDToken verifies an OpenID provider's ID token as POST
// /v1/sessions does; the verifier's reason goes to the server log only.
func (h *Handler) VerifyIDToken(r *http.Request, idToken, accessToken string) (vault.ExternalIdentity, error) {
	if h.opts.OIDC == nil {
		return vault.ExternalIdentity{}, fmt.Errorf("%w: this vault has no identity provider", vault.ErrUnauthenticated)
	}
	id, err := h.opts.OIDC.Verify(r.Context(), idToken, accessToken)
	if err != nil {
		h.log.Info("an ID token was refused", "err", err, "source", clientIP(r))
		return vault.ExternalIdentity{}, fmt.Errorf("%w: the ID token was not accepted", vault.ErrUnauthenticated)
	}
	return id, nil
}

// SignIn says how people sign in to this vault (GET /v1/auth).
func (h *Handler) SignIn() AuthResponse {
	resp := AuthResponse{Local: !h.opts.NoLocalAccounts, ClientCertificates: h.opts.ClientCerts != nil}
	if h.opts.OIDC != nil {
		c := h.opts.OIDCClient
		resp.OIDC = &c
	}
	return resp
}

// Throttled takes one token of the client address's bucket of requests
// without valid credentials. When the bucket is empty it records the
// refusal (aggregated) and returns how long to wait, and true.
func (h *Handler) Throttled(r *http.Request, action string) (time.Duration, bool, error) {
	wait, ok := h.limiter.allow(clientIP(r), time.Now())
	if ok {
		return 0, false, nil
	}
	err := h.refusals.note(r.Context(), nil, clientIP(r), action, "", "too many requests without valid credentials", vault.GroundsLimit)
	return max(time.Second, wait), true, err
}

// NoteUnauthenticated records (aggregated per client address, action and
// reason) a request refused for want of valid credentials: in the name
// of the person its credential names where the vault knows them (one
// suspended or removed: vault.InactiveError), else as nobody's.
func (h *Handler) NoteUnauthenticated(r *http.Request, action, target string, err error) error {
	return h.refusals.note(r.Context(), refusedPerson(err), clientIP(r), action, shortTarget(target), signInReason(err), vault.GroundsCredentials)
}

// NoteUnknown records (aggregated) a request for a path or method that
// nothing serves, or whose form does not come from the vault; by is the
// signed-in person, or nil; grounds as vault.AccessRefused.Grounds.
func (h *Handler) NoteUnknown(r *http.Request, by *vault.Principal, reason, grounds string) error {
	return h.refusals.note(r.Context(), by, clientIP(r), "route.unknown", shortTarget(r.Method+" "+r.URL.EscapedPath()), reason, grounds)
}

// RecordRefusal records a 403 or 404 the vault did not record itself, as
// the API's routes do; other errors, and recorded ones, are left alone.
// It returns the error to answer.
func (h *Handler) RecordRefusal(ctx context.Context, r *http.Request, who vault.Principal, action string, err error) error {
	if code := status(err); (code == http.StatusForbidden || code == http.StatusNotFound) && !vault.Recorded(err) {
		if rerr := h.v.RecordRefusal(ctx, &who, vault.AccessRefused{Action: action,
			Target: shortTarget(r.URL.EscapedPath()), Reason: sanitize(err.Error()), Grounds: vault.RefusalGrounds(err), Source: clientIP(r)}); rerr != nil {
			return rerr
		}
	}
	return err
}

// Message is the status and what the API tells a person of err: the vault's own message
// (control characters escaped) for what they can act on; for a server
// fault, a generic message with a reference that the server log carries
// with the error.
func (h *Handler) Message(r *http.Request, err error) (int, string) {
	return h.answer(r, err)
}

// WebMessage is Message for a person using the web application: where
// the vault has an answer of its own for them (vault.WebAnswer: how to
// do it on the pages, not with a command), that one.
func (h *Handler) WebMessage(r *http.Request, err error) (int, string) {
	code, msg := h.answer(r, err)
	if alt, ok := vault.WebAnswer(err); ok && code < 500 {
		msg = sanitize(alt)
	}
	return code, msg
}

// ClientIP is the request's client address as the API records it.
func ClientIP(r *http.Request) string { return clientIP(r) }
