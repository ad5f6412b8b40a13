package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custos-vault/custos/vault"
)

// OIDCVerifier verifies an OpenID provider's ID token (its signature, by
// which of the provider's keys, and the access token against its
// at_hash) and reads the configured claim from it; vault/oidcauth
// implements it.
type OIDCVerifier interface {
	Verify(ctx context.Context, idToken, accessToken string) (vault.ExternalIdentity, error)
}

// OIDCClient is what `custos login` needs to know of the provider.
type OIDCClient struct {
	Issuer   string   `json:"issuer"`
	ClientID string   `json:"client_id"`
	Scopes   []string `json:"scopes"`
}

// CertIdentifier maps a TLS connection's verified client certificate to
// an identity; vault/clientcert implements it. ErrNoCertificate is its
// answer for a connection without one.
type CertIdentifier interface {
	Identify(cs *tls.ConnectionState) (vault.ExternalIdentity, error)
}

// ErrNoCertificate is a CertIdentifier's answer for a connection whose
// client presented no certificate: the request may carry a bearer token.
var ErrNoCertificate = errors.New("no client certificate")

// AuthResponse is the answer of GET /v1/auth: how people sign in to this
// vault, so that a client needs only the vault's address.
type AuthResponse struct {
	Local              bool        `json:"local"`
	OIDC               *OIDCClient `json:"oidc,omitempty"`
	ClientCertificates bool        `json:"client_certificates"`
}

func (h *Handler) authConfig(w http.ResponseWriter, r *http.Request, _ vault.Principal) error {
	writeJSON(w, http.StatusOK, h.SignIn())
	return nil
}

// SessionRequest is the body of POST /v1/sessions: a local credential, or
// an OpenID provider's ID token (with its access token, checked against
// the token's at_hash).
type SessionRequest struct {
	Credential  string `json:"credential,omitempty"`
	IDToken     string `json:"id_token,omitempty"`
	AccessToken string `json:"access_token,omitempty"`
}

// SessionResponse is a new session: its bearer token, shown this once.
type SessionResponse struct {
	Auth    string    `json:"auth"`
	Expires time.Time `json:"expires"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Session string    `json:"session"`
	Token   string    `json:"token"`
}

func sessionResponse(s *vault.Session) SessionResponse {
	// Revealed from its secret type only here, to the person signing in.
	return SessionResponse{Token: s.Token.Reveal(), Session: s.ID, Name: s.Name, Role: s.Role, Auth: s.Auth, Expires: s.Expires}
}

// openSession signs a person in. A failure is a refusal without valid
// credentials: rate-limited, recorded (aggregated), answered 401.
func (h *Handler) openSession(w http.ResponseWriter, r *http.Request, _ vault.Principal) error {
	if h.rateLimited(w, r, "session.open") {
		return nil
	}
	var req SessionRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	var s *vault.Session
	var err error
	switch {
	case req.Credential != "" && req.IDToken == "":
		s, err = h.v.OpenSession(r.Context(), req.Credential)
	case req.IDToken != "" && req.Credential == "":
		var id vault.ExternalIdentity
		if id, err = h.VerifyIDToken(r, req.IDToken, req.AccessToken); err != nil {
			break
		}
		s, err = h.v.OpenExternalSession(r.Context(), id)
	default:
		return fmt.Errorf("%w: "+"give either a credential or an id_token", vault.ErrBadInput)
	}
	if err != nil {
		return h.signInRefused(r, "session.open", err)
	}
	writeJSON(w, http.StatusCreated, sessionResponse(s))
	return nil
}

// signInRefused records a refused sign-in (aggregated) and returns the
// error to answer.
func (h *Handler) signInRefused(r *http.Request, action string, err error) error {
	if !errors.Is(err, vault.ErrUnauthenticated) {
		return err
	}
	if nerr := h.NoteUnauthenticated(r, action, "", err); nerr != nil {
		return nerr
	}
	return err
}

// refusedPerson is who a refused credential, session, certificate or
// identity names where the vault knows them (a suspended or removed
// person: vault.InactiveError), so that the refusal is recorded in their
// name and found among their acts; nil for one that names nobody.
func refusedPerson(err error) *vault.Principal {
	var ie *vault.InactiveError
	if errors.As(err, &ie) {
		who := ie.Who
		return &who
	}
	return nil
}

// signInReason is a refused sign-in's reason as recorded: the vault's
// message without the class prefix.
func signInReason(err error) string {
	msg := strings.TrimPrefix(err.Error(), vault.ErrUnauthenticated.Error())
	msg = strings.TrimLeft(msg, ":\n ")
	if msg == "" {
		return "no valid credentials"
	}
	return sanitize(msg)
}

func (h *Handler) refreshSession(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	s, err := h.v.RefreshSession(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sessionResponse(s))
	return nil
}

// EndSessionResponse is the answer of POST /v1/sessions/end.
type EndSessionResponse struct {
	Ended   bool   `json:"ended"`
	Session string `json:"session"`
}

func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.EndSession(r.Context(), who); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EndSessionResponse{Session: who.Credential.Session, Ended: true})
	return nil
}

// WhoAmIResponse is the answer of GET /v1/whoami.
type WhoAmIResponse = vault.WhoAmI

func (h *Handler) whoami(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, h.v.WhoAmI(who))
	return nil
}

// RedeemRequest is the body of POST /v1/invitations/redeem: the person's
// name and the two halves of their invitation, one from each custodian.
type RedeemRequest struct {
	Name   string   `json:"name"`
	Halves []string `json:"halves"`
}

// RedeemResponse is the person's new local credential, shown this once.
type RedeemResponse struct {
	Credential string `json:"credential"`
	Name       string `json:"name"`
}

func (h *Handler) redeem(w http.ResponseWriter, r *http.Request, _ vault.Principal) error {
	if h.rateLimited(w, r, "invitation.redeem") {
		return nil
	}
	var req RedeemRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	c, err := h.v.RedeemInvitation(r.Context(), req.Name, req.Halves)
	if err != nil {
		return h.signInRefused(r, "invitation.redeem", err)
	}
	// Revealed from its secret type only here, to the person redeeming.
	writeJSON(w, http.StatusCreated, RedeemResponse{Name: req.Name, Credential: c.Reveal()})
	return nil
}

// authenticate finds who sent r: a verified client certificate of the
// organisation's CA, or else a session's bearer token. A certificate that
// is presented but names nobody (or a suspended person) is refused even
// if a token comes with it.
func (h *Handler) authenticate(r *http.Request) (vault.Principal, error) {
	if who, ok, err := h.certificate(r); ok {
		return who, err
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return vault.Principal{}, vault.ErrUnauthenticated
	}
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, vault.TokenPrefix) {
		return vault.Principal{}, fmt.Errorf("%w: "+"a credential opens a session (POST /v1/sessions); send the session's token", vault.ErrUnauthenticated)
	}
	return h.session(token)
}

// certificate identifies r by its verified TLS client certificate; ok is
// false when r carries none (then a token may identify it).
func (h *Handler) certificate(r *http.Request) (who vault.Principal, ok bool, err error) {
	if h.opts.ClientCerts == nil || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return vault.Principal{}, false, nil
	}
	id, err := h.opts.ClientCerts.Identify(r.TLS)
	if err == nil {
		who, err = h.v.AuthenticateCertificate(id)
		return who, true, err
	}
	if !errors.Is(err, ErrNoCertificate) {
		h.log.Info("a client certificate was refused", "err", err, "source", clientIP(r))
		return vault.Principal{}, true, fmt.Errorf("%w: "+"the client certificate was not accepted", vault.ErrUnauthenticated)
	}
	return vault.Principal{}, false, nil
}
