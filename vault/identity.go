package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault/idtoken"
)

// Identity (docs/identity.md).
//
// A person is someone the custody log enrolled, in one role. They prove
// who they are in one of three ways, and every event they cause names the
// credential in its actor:
//
//   - a local credential (cst_...), which they received by redeeming an
//     invitation whose two halves two custodians handed them, and which
//     opens sessions (auth "local");
//   - their organisation's OpenID provider, whose verified ID token opens
//     a session (auth "oidc", with issuer, subject, acr and amr);
//   - a TLS client certificate of their organisation's CA, on each
//     request (auth "certificate", with fingerprint, issuer and subject).
//
// Sessions (css_...) expire (Config.SessionTTL); a session's token is
// stored only as its SHA-256, in the session.opened event.

// Principal is an authenticated person acting in their role, and how they
// proved who they are.
type Principal struct {
	Name string
	Role string
	// Credential is what the person authenticated with, as the actor of
	// every event they cause records it. The zero value records auth
	// "token" (a principal made directly by a caller of this package).
	Credential Credential
}

// Credential is how a person authenticated: the actor fields of
// events.Actor beyond the person and role.
type Credential struct {
	// Auth is "local", "oidc", "certificate" or "invitation".
	Auth string
	// Session is the session's id (local and OIDC sign-ins).
	Session string
	// Issuer and Subject are the OpenID provider's issuer and the ID
	// token's sub, or the client certificate's issuer and subject DNs.
	Issuer, Subject string
	// Certificate is the SHA-256 of the client certificate (hex).
	Certificate string
	// ACR and AMR are the ID token's authentication context class and
	// methods, when it carries them.
	ACR string
	AMR []string
	// Expires is when the session ends (zero for certificates).
	Expires time.Time
	// Claim is the OpenID claim that named the person (SessionOpened),
	// kept with the session; not an actor field.
	Claim string `json:",omitempty"`
	// ClientID is the OpenID client the session's ID token was issued to
	// (SessionOpened), kept with the session; not an actor field.
	ClientID string `json:",omitempty"`
	// Key is the thumbprint of the OpenID provider's key that signed the
	// session's ID token (SessionOpened), kept with the session; not an
	// actor field.
	Key string `json:",omitempty"`
	// CAs are, for a certificate, the SHA-256 (hex) of each configured
	// client CA its verified chains run through (ExternalIdentity.CAs):
	// the requests it asks record them (RequestOpened.ClientCAs), so
	// that retiring one voids them. Not an actor field.
	CAs []string `json:",omitempty"`
}

func (p Principal) actor() events.Actor {
	c := p.Credential
	a := events.Actor{Person: p.Name, Role: p.Role, Auth: c.Auth, Session: c.Session, Issuer: c.Issuer,
		Subject: c.Subject, Certificate: c.Certificate, ACR: c.ACR, AMR: slices.Clone(c.AMR)}
	a.ClientCAs = p.clientCAs()
	if a.Auth == "" {
		a.Auth = "token"
	}
	return a
}

// clientCAs are, for a principal signed in with a client certificate,
// the CAs its chains ran through, as its acts carry them to the check at
// their position and its requests record them (nil otherwise).
func (p Principal) clientCAs() []string {
	if p.Credential.Auth != "certificate" {
		return nil
	}
	return slices.Clone(p.Credential.CAs)
}

// Token prefixes, so that secret scanners find them: a local credential,
// a session token and an invitation half.
const (
	TokenPrefix      = "cst_"
	SessionPrefix    = "css_"
	InvitationPrefix = "csi_"
)

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken returns a fresh random token with prefix: 32 random bytes,
// base64url.
func newToken(prefix string) string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return prefix + base64.RawURLEncoding.EncodeToString(raw)
}

// ExternalIdentity is a person's identity as an OpenID provider (Kind
// "oidc") or a client certificate (Kind "certificate") asserted it,
// already verified by the caller (vault/oidcauth, vault/clientcert).
type ExternalIdentity struct {
	Kind string
	// Name is the value that maps to a person: the configured claim's
	// value, or the certificate's mapped name.
	Name string
	// Issuer and Subject: the provider's issuer and the token's sub, or
	// the certificate's issuer and subject DNs.
	Issuer, Subject string
	ACR             string
	AMR             []string
	// Fingerprint is the certificate's SHA-256 (hex).
	Fingerprint string
	// ClientID is, for an OpenID sign-in, the client the ID token was
	// issued to (its audience).
	ClientID string
	// Key is, for an OpenID sign-in, the thumbprint of the provider's
	// key that signed the ID token (oidcauth.Identity.Key).
	Key string
	// CAs are, for a certificate, the SHA-256 (hex) of each configured
	// client CA certificate its verified chains run through: the
	// identity sources that vouch for it (identitysources.go).
	CAs []string
	// IDToken and KeyJWK are, for an OpenID sign-in, the ID token as
	// verified and the public JWK of the provider's key that verified
	// it (oidcauth.Identity.Token and KeyJWK): the session's event
	// records both (SessionOpened.IDToken). Without them (a caller that
	// has none), the session records neither, and an audit reports it.
	IDToken secret.String
	KeyJWK  []byte
}

// checkAsserted refuses an asserted identity whose fields would not fit
// an event's actor: each string at most maxIdentity bytes of visible
// text, at most 16 amr values of at most 64 bytes. An identity provider
// or a CA is trusted to say who someone is, not to choose what the
// custody log holds.
func checkAsserted(id ExternalIdentity) error {
	for _, f := range []struct{ name, v string }{{"name", id.Name}, {"issuer", id.Issuer}, {"subject", id.Subject}, {"acr", id.ACR}, {"client id", id.ClientID}} {
		if f.v != "" {
			if err := checkText(f.name, f.v, maxIdentity, false, false); err != nil {
				return fmt.Errorf("%w: the asserted %s is unusable", ErrUnauthenticated, f.name)
			}
		}
	}
	if len(id.AMR) > 16 {
		return fmt.Errorf("%w: the ID token lists over 16 authentication methods", ErrUnauthenticated)
	}
	for _, m := range id.AMR {
		if checkText("amr", m, 64, true, false) != nil {
			return fmt.Errorf("%w: the asserted amr is unusable", ErrUnauthenticated)
		}
	}
	return nil
}

// MFARequirement is what an OIDC sign-in must show for a role: an acr
// value equal to ACR, or AMR among the token's amr values (either, when
// both are set).
type MFARequirement struct {
	ACR string
	AMR string
}

func (m MFARequirement) satisfiedBy(id ExternalIdentity) bool {
	if m.ACR == "" && m.AMR == "" {
		return true
	}
	return (m.ACR != "" && subtle.ConstantTimeCompare([]byte(m.ACR), []byte(id.ACR)) == 1) ||
		(m.AMR != "" && slices.Contains(id.AMR, m.AMR))
}

// Authenticate maps a session token to its person. Only the token's
// SHA-256 is stored (in its session.opened event); the comparison of the
// found hash is constant-time. An expired or ended session, and a
// suspended or removed person, are refused with ErrUnauthenticated.
func (v *Vault) Authenticate(token string) (Principal, error) {
	if !strings.HasPrefix(token, SessionPrefix) || len(token) > 128 {
		return Principal{}, ErrUnauthenticated
	}
	h := tokenHash(token)
	s, p := v.state.session(h)
	if s == nil || subtle.ConstantTimeCompare([]byte(s.tokenSHA256), []byte(h)) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	if !v.cfg.Now().Before(s.expires) {
		return Principal{}, fmt.Errorf("%w: the session expired; sign in again", ErrUnauthenticated)
	}
	// A session lasts no longer than the vault's session life now
	// allows from its sign-in: one opened under a longer --session-ttl
	// (a restart with a year's, then the configuration put back) ends
	// as the configuration in force says.
	cred := s.credential
	if end := s.signedIn.Add(v.cfg.SessionTTL).UTC().Truncate(time.Second); end.Before(cred.Expires) {
		if !v.cfg.Now().Before(end) {
			return Principal{}, fmt.Errorf("%w: the session is older than this vault's session life now allows (%s from its sign-in); sign in again", ErrUnauthenticated, v.cfg.SessionTTL)
		}
		cred.Expires = end
	}
	if err := inactive(p, s.credential); err != nil {
		return Principal{}, err
	}
	// A session lasts only while the vault would still open it: not once
	// a restart turned local accounts off, nor once the person's role
	// requires a second factor the sign-in did not show. (The API refuses
	// sessions of an identity provider it no longer uses.)
	switch c := s.credential; c.Auth {
	case "local":
		if v.cfg.NoLocalAccounts {
			return Principal{}, fmt.Errorf("%w: this vault no longer signs people in with local credentials (its configuration changed); sign in the way it now allows: its identity provider (custos login) or a client certificate", ErrUnauthenticated)
		}
	case "oidc":
		if c.Claim != "" && c.Claim != v.cfg.OIDCClaim {
			return Principal{}, fmt.Errorf("%w: the session was opened when the vault named people by the identity provider's %s claim, and it now names them by %s; sign in again", ErrUnauthenticated, c.Claim, v.cfg.OIDCClaim)
		}
		// A session opened before the vault pinned its provider's keys
		// (none recorded), or through a source no longer enough, ends.
		if v.state.oidcUnaccepted(c.Issuer, c.Key, c.ClientID, c.Claim) != "" {
			return Principal{}, fmt.Errorf("%w: the session was opened through the identity provider in a way this vault no longer accepts (before it pinned the provider's keys, or through a key, client or claim two custodians have not accepted); sign in again", ErrUnauthenticated)
		}
		if req := v.cfg.RequireMFA[p.Role]; !req.satisfiedBy(ExternalIdentity{ACR: c.ACR, AMR: c.AMR}) {
			return Principal{}, fmt.Errorf("%w: a %s must now sign in with multi-factor authentication (%s); sign in again", ErrUnauthenticated, p.Role, req)
		}
	}
	return Principal{Name: p.Name, Role: p.Role, Credential: cred}, nil
}

// AuthenticateCertificate maps a verified client certificate to the
// person enrolled with its name (or, without one, named so), for one
// request.
func (v *Vault) AuthenticateCertificate(id ExternalIdentity) (Principal, error) {
	if id.Kind != "certificate" || id.Fingerprint == "" {
		return Principal{}, ErrUnauthenticated
	}
	if err := checkAsserted(id); err != nil {
		return Principal{}, err
	}
	// One accepted CA among those its chains run through vouches for
	// it (a certificate that names none, only while sources are not
	// guarded).
	// A CA two custodians retired refuses the certificate, whatever
	// other configured CA its chains also run through (a root above a
	// retired intermediate).
	if i := slices.IndexFunc(id.CAs, func(ca string) bool { return v.state.sourceRetired(CASource(ca)) }); i >= 0 {
		return Principal{}, fmt.Errorf("%w: the client CA whose certificate's SHA-256 is %s was retired by two custodians: its certificates sign no one in", ErrUnauthenticated, id.CAs[i])
	}
	if !slices.ContainsFunc(id.CAs, func(ca string) bool { return v.state.sourceAccepted(CASource(ca)) }) {
		switch {
		case len(id.CAs) > 0:
			return Principal{}, notAccepted(CASource(id.CAs[0]))
		case v.state.sourcesGuarded():
			return Principal{}, fmt.Errorf("%w: the certificate's CA is not known to this vault", ErrUnauthenticated)
		}
	}
	p, ok := v.state.personByIdentity("certificate", id.Name)
	if !ok {
		return Principal{}, fmt.Errorf("%w: no person is enrolled with this certificate's name", ErrUnauthenticated)
	}
	c := Credential{Auth: "certificate", Issuer: id.Issuer, Subject: id.Subject, Certificate: id.Fingerprint, CAs: slices.Compact(slices.Sorted(slices.Values(id.CAs)))}
	if err := inactive(p, c); err != nil {
		return Principal{}, err
	}
	return Principal{Name: p.Name, Role: p.Role, Credential: c}, nil
}

// InactiveError is the refusal of a credential, session, certificate or
// identity that names a person who may no longer act (suspended or
// removed): Who is that person, with the credential presented, so that
// the refusal is recorded in their name rather than as nobody's. It
// wraps ErrUnauthenticated.
type InactiveError struct {
	Who Principal
	err error
}

func (e *InactiveError) Error() string { return e.err.Error() }
func (e *InactiveError) Unwrap() error { return e.err }

// inactive wraps p's refusal (active) with who p is and the credential
// presented, or returns nil for a person who may act.
func inactive(p Person, c Credential) error {
	err := p.active()
	if err == nil {
		return nil
	}
	return &InactiveError{Who: Principal{Name: p.Name, Role: p.Role, Credential: c}, err: err}
}

// active refuses a suspended or removed person.
func (p Person) active() error {
	switch {
	case p.Removed:
		return fmt.Errorf("%w: %s was removed from this vault", ErrUnauthenticated, p.Name)
	case p.Suspended:
		return fmt.Errorf("%w: %s is suspended", ErrUnauthenticated, p.Name)
	}
	return nil
}

// Session is an opened session: its bearer token, shown once, and who it
// is for.
type Session struct {
	Token   secret.String
	ID      string
	Name    string
	Role    string
	Expires time.Time
	Auth    string
}

// OpenSession signs a person in with their local credential (cst_...).
// It fails with ErrUnauthenticated for an unknown credential, a
// suspended or removed person, or a vault without local accounts; the
// caller records those refusals (aggregated).
func (v *Vault) OpenSession(ctx context.Context, credential string) (*Session, error) {
	if v.cfg.NoLocalAccounts {
		return nil, fmt.Errorf("%w: this vault has no local accounts; sign in the way it allows: its identity provider (custos login) or a client certificate", ErrUnauthenticated)
	}
	if !strings.HasPrefix(credential, TokenPrefix) || len(credential) > 128 {
		return nil, ErrUnauthenticated
	}
	h := tokenHash(credential)
	p := v.state.person(h)
	if p == nil || subtle.ConstantTimeCompare([]byte(p.tokenSHA256), []byte(h)) != 1 {
		return nil, ErrUnauthenticated
	}
	if err := inactive(*p, Credential{Auth: "local"}); err != nil {
		return nil, err
	}
	return v.openSession(ctx, *p, Credential{Auth: "local"}, "", nil, func(q Person) error {
		if q.tokenSHA256 != h {
			return fmt.Errorf("%w: the credential was replaced", ErrUnauthenticated)
		}
		return nil
	})
}

// OpenExternalSession signs a person in with an identity their OpenID
// provider asserted (verified by the caller): the person enrolled with
// that claim value, in a role whose MFA requirement (Config.RequireMFA)
// the token meets.
func (v *Vault) OpenExternalSession(ctx context.Context, id ExternalIdentity) (*Session, error) {
	if id.Kind != "oidc" || id.Subject == "" {
		return nil, ErrUnauthenticated
	}
	if err := checkAsserted(id); err != nil {
		return nil, err
	}
	if id.Key != "" && !isThumbprint(id.Key) {
		return nil, fmt.Errorf("%w: the provider's key is not named by a thumbprint", ErrUnauthenticated)
	}
	if src := v.state.oidcUnaccepted(id.Issuer, id.Key, id.ClientID, v.cfg.OIDCClaim); src != "" {
		if id.Key == "" && strings.HasPrefix(src, "oidc-key ") {
			return nil, fmt.Errorf("%w: the sign-in does not say which of the provider's keys signed it, and this vault signs people in only through the keys two custodians accepted", ErrUnauthenticated)
		}
		return nil, notAccepted(src)
	}
	p, ok := v.state.personByIdentity("oidc", id.Name)
	if !ok {
		return nil, fmt.Errorf("%w: no person is enrolled with this identity (%s %q)", ErrUnauthenticated, v.cfg.OIDCClaim, truncate(id.Name))
	}
	if err := inactive(p, Credential{Auth: "oidc", Issuer: id.Issuer, Subject: id.Subject}); err != nil {
		return nil, err
	}
	if req := v.cfg.RequireMFA[p.Role]; !req.satisfiedBy(id) {
		return nil, fmt.Errorf("%w: a %s must sign in with multi-factor authentication (%s)", ErrUnauthenticated, p.Role, req)
	}
	c := Credential{Auth: "oidc", Issuer: id.Issuer, Subject: id.Subject, ACR: id.ACR, AMR: id.AMR, Claim: v.cfg.OIDCClaim, ClientID: id.ClientID, Key: id.Key}
	tok, err := recordable(id, v.cfg.OIDCClaim)
	if err != nil {
		return nil, err
	}
	if tok != nil && v.state.idTokenUsed(tok.digest) {
		return nil, errIDTokenUsed
	}
	return v.openSession(ctx, p, c, "", tok, func(Person) error {
		// Again at the event's position: a retirement approved since,
		// a sign-in with the same token since.
		if src := v.state.oidcUnaccepted(id.Issuer, id.Key, id.ClientID, v.cfg.OIDCClaim); src != "" {
			return notAccepted(src)
		}
		if tok != nil && v.state.idTokenUsed(tok.digest) {
			return errIDTokenUsed
		}
		return nil
	})
}

// errIDTokenUsed refuses an ID token that opened a session already:
// one read where it was recorded (the custody log) or copied on its way
// opens nothing.
var errIDTokenUsed = fmt.Errorf("%w: this ID token has already opened a session; sign in again at the identity provider for a new one", ErrUnauthenticated)

// recordedToken is an ID token as a session's event records it.
type recordedToken struct {
	token, digest string // digest: idtoken.Digest
	jwk           json.RawMessage
}

// recordable is id's ID token as its session records it, nil if id has
// none. It is checked as an audit will check it (idtoken.Verify): the
// key verifies it and is the one id names, and its claims say what id
// says (issuer, subject, audience, the claim that names the person); a
// token that would not show this sign-in is refused, never recorded.
func recordable(id ExternalIdentity, claim string) (*recordedToken, error) {
	raw := id.IDToken.Reveal()
	if raw == "" && len(id.KeyJWK) == 0 {
		return nil, nil
	}
	c, thumb, err := idtoken.Verify(raw, id.KeyJWK)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: the ID token cannot be recorded: %v", ErrUnauthenticated, err)
	case thumb != id.Key || c.Issuer != id.Issuer || c.Subject != id.Subject || !slices.Contains(c.Audience, id.ClientID) || c.Name(claim) != id.Name:
		return nil, fmt.Errorf("%w: the ID token recorded would not show this sign-in (its key, issuer, subject, audience or %s differ)", ErrUnauthenticated, claim)
	}
	return &recordedToken{token: raw, digest: idtoken.Digest(raw), jwk: slices.Clone(id.KeyJWK)}, nil
}

func (m MFARequirement) String() string {
	switch {
	case m.ACR != "" && m.AMR != "":
		return fmt.Sprintf("acr %s or amr %s", m.ACR, m.AMR)
	case m.ACR != "":
		return "acr " + m.ACR
	}
	return "amr " + m.AMR
}

// RefreshSession replaces the caller's unexpired local session with a new
// one (the old one ends). A chain of refreshes never outlives the sign-in
// that began it by more than Config.SessionTTL: a new session then needs
// the credential again, so that a copied session token cannot be kept
// alive for good. A vault without local accounts refreshes nothing. OIDC
// sessions are renewed by signing in again with a fresh ID token, so
// that the provider still decides.
func (v *Vault) RefreshSession(ctx context.Context, who Principal) (*Session, error) {
	if who.Credential.Auth != "local" || who.Credential.Session == "" {
		return nil, badInput("only a local session is refreshed here; sign in again (custos login)")
	}
	if v.cfg.NoLocalAccounts {
		return nil, fmt.Errorf("%w: this vault has no local accounts; sign in the way it allows: its identity provider (custos login) or a client certificate", ErrUnauthenticated)
	}
	p, ok := v.state.personByName(who.Name)
	if !ok {
		return nil, ErrUnauthenticated
	}
	signedIn := v.state.sessionSignedIn(who.Credential.Session)
	if signedIn.IsZero() || !v.cfg.Now().Before(signedIn.Add(v.cfg.SessionTTL)) {
		return nil, fmt.Errorf("%w: this sign-in is %s old; sign in again with your credential", ErrUnauthenticated, v.cfg.SessionTTL)
	}
	return v.openSession(ctx, p, Credential{Auth: "local"}, who.Credential.Session, nil, func(Person) error {
		if !v.state.sessionLive(who.Credential.Session) {
			return fmt.Errorf("%w: the session ended", ErrUnauthenticated)
		}
		return nil
	})
}

// openSession records a session.opened event for p, decided at its
// position (p still active in the same role, and still), and returns the
// token.
func (v *Vault) openSession(ctx context.Context, p Person, c Credential, refreshed string, tok *recordedToken, still func(Person) error) (*Session, error) {
	token := newToken(SessionPrefix)
	c.Session = "se_" + randomHex(12)
	c.Expires = v.cfg.Now().Add(v.cfg.SessionTTL).UTC().Truncate(time.Second)
	signedIn := ""
	if refreshed != "" {
		// A refresh ends no later than the sign-in it continues.
		start := v.state.sessionSignedIn(refreshed)
		if end := start.Add(v.cfg.SessionTTL).UTC().Truncate(time.Second); end.Before(c.Expires) {
			c.Expires = end
		}
		signedIn = start.UTC().Format(time.RFC3339Nano)
	}
	who := Principal{Name: p.Name, Role: p.Role, Credential: c}
	check := func(ahead []*events.Event) error {
		if touchesPersons(ahead) {
			return sequencer.ErrNotYet
		}
		q, ok := v.state.personByName(p.Name)
		if !ok || q.Role != p.Role {
			return ErrUnauthenticated
		}
		if err := q.active(); err != nil {
			return err
		}
		return still(q)
	}
	d := SessionOpened{Session: c.Session, TokenSHA256: tokenHash(token), Expires: c.Expires.Format(time.RFC3339), Refreshed: refreshed, SignedIn: signedIn, Claim: c.Claim, ClientID: c.ClientID, Key: c.Key}
	if tok != nil {
		d.IDToken, d.KeyJWK = tok.token, tok.jwk
	}
	_, err := v.appendActs(ctx, true, sequencer.Draft{Type: TypeSessionOpened, Actor: who.actor(), Check: check, Data: d})
	if err != nil {
		return nil, err
	}
	return &Session{Token: secret.New(token), ID: c.Session, Name: p.Name, Role: p.Role, Expires: c.Expires, Auth: c.Auth}, nil
}

// EndSession signs the caller out: their session ends now.
func (v *Vault) EndSession(ctx context.Context, who Principal) error {
	if who.Credential.Session == "" {
		return badInput("this sign-in has no session to end (a client certificate signs each request)")
	}
	id := who.Credential.Session
	_, err := v.appendActs(ctx, true, sequencer.Draft{Type: TypeSessionEnded, Actor: who.actor(),
		Data: SessionEnded{Session: id, Reason: "signed out"},
		// A session ends once: not again by a second sign-out, or by a
		// browser's new sign-in after it ended.
		Check: func(ahead []*events.Event) error {
			if touchesPersons(ahead) {
				return sequencer.ErrNotYet
			}
			if !v.state.sessionLive(id) {
				return refusedOn(ErrUnauthenticated, GroundsCredentials, "the session had already ended")
			}
			return nil
		}})
	return err
}

// touchesPersons reports whether an event ahead in a batch changes a
// person or a session, so that a decision about who may act waits for it.
func touchesPersons(ahead []*events.Event) bool {
	for _, ev := range ahead {
		if strings.HasPrefix(ev.Type, "person.") || strings.HasPrefix(ev.Type, "session.") || ev.Type == TypeRequestApproved || ev.Type == TypeIdentitySourceRetired {
			return true
		}
	}
	return false
}

// standing is the check, at an event's position, that its actor may
// still act: the person is enrolled in that role, neither suspended nor
// removed, and the session they act in has not ended. The vault's own
// events, refusals, and the records that finish what an allowed act began
// (the end of a view, an integrity failure, a sign-out) are not held to
// it.
func (v *Vault) standing(d sequencer.Draft) func(ahead []*events.Event) error {
	a := d.Actor
	switch {
	case a.Role == RoleSystem, a.Auth == "none", d.Type == TypeAccessRefused, d.Type == TypeItemAccessCompleted, d.Type == TypePackageFetchDone,
		d.Type == TypeIntegrityFailed, d.Type == TypeSessionEnded, d.Type == TypeSessionOpened, d.Type == TypeCredentialIssued:
		return d.Check
	}
	own := d.Check
	return func(ahead []*events.Event) error {
		if touchesPersons(ahead) {
			return sequencer.ErrNotYet
		}
		p, ok := v.state.personByName(a.Person)
		switch {
		case !ok || p.Role != a.Role:
			return refused(ErrForbidden, "%s is not enrolled as %s", a.Person, a.Role)
		case p.Removed:
			return refused(ErrForbidden, "%s was removed from this vault", a.Person)
		case p.Suspended:
			return refused(ErrForbidden, "%s is suspended", a.Person)
		case a.Session != "" && !v.state.sessionLive(a.Session):
			return refusedOn(ErrForbidden, GroundsCredentials, "the session ended")
		}
		// A certificate is signed in as each HTTP request begins, whose
		// body may take a while: an act of one whose CA two custodians
		// retired meanwhile is refused at its position, as an act in a
		// session ended meanwhile is (an approval, a view, a request,
		// which records the CAs and would otherwise never be void).
		for _, ca := range a.ClientCAs {
			if v.state.sourceRetired(CASource(ca)) {
				return refusedOn(ErrForbidden, GroundsCredentials, "the client CA whose certificate's SHA-256 is %s was retired by two custodians: its certificates sign no one in", ca)
			}
		}
		if own != nil {
			return own(ahead)
		}
		return nil
	}
}

// append appends drafts, each held to its actor's standing (see
// standing) as well as its own check.
//
// A person's act (any draft whose actor is not the server itself) is
// answered only once a checkpoint covering it is kept as the log's
// sticky head (sequencer.AppendPublished), as a view is: until then it
// is covered only by the log store's batch seal, and whoever
// administers that store and the keyring folder could remove it after a
// stop (a suspension, a hold lifted, a refusal) with nothing missing at
// the next start. An act recorded when its head could not be kept stands
// but is not confirmed (ErrRecordedUnkept); while a head cannot be kept
// (HeadUnkept), people's acts are refused before anything is recorded
// (ErrHeadUnkept; each refused act tries once to keep one).
func (v *Vault) append(ctx context.Context, drafts ...sequencer.Draft) ([]*events.Event, error) {
	personal, closing := false, true
	for i := range drafts {
		drafts[i].Check = v.standing(drafts[i])
		personal = personal || drafts[i].Actor.Role != RoleSystem
		closing = closing && closesAccess[drafts[i].Type]
	}
	if !personal {
		return v.log.Append(ctx, drafts...)
	}
	return v.appendActs(ctx, !closing, drafts...)
}

// appendActs appends people's acts as append does, each draft with the
// check its caller gives (sign-ins, sign-outs, an invitation redeemed, a
// public report, a refusal of the unauthenticated: every act that is not
// the server's own): answered once a checkpoint covering them is kept as
// the log's head, not confirmed if it could not be (ErrRecordedUnkept),
// and, where gate is set, refused before anything is recorded while no
// head can be kept (ErrHeadUnkept).
func (v *Vault) appendActs(ctx context.Context, gate bool, drafts ...sequencer.Draft) ([]*events.Event, error) {
	if gate {
		if err := v.headKept(ctx); err != nil {
			return nil, err
		}
	}
	evs, _, err := v.log.AppendPublished(ctx, drafts...)
	if errors.Is(err, sequencer.ErrUnpublished) {
		// The events are durable and applied: the act stands, but it is
		// not confirmed. Its caller treats it as an append whose outcome
		// it cannot vouch for (a deposit's object is kept, not
		// discarded); people's next acts are refused until a head is
		// kept.
		v.logger.Error("an act was recorded, but no checkpoint covering it could be kept as the log's head: it is answered as not confirmed, and people's acts are refused until one is (the keyring folder and the object store's head/ must be writable)",
			"events", len(evs), "err", err)
		return evs, fmt.Errorf("%w: %w: %w (%w)", ErrUnavailable, ErrRecordedUnkept, err, sequencer.ErrOutcomeUnknown)
	}
	return evs, err
}

// headKept returns nil unless the last attempt to keep a checkpoint as
// the log's head failed and one more, now, fails too (a checkpoint of
// the log as it is, stored once it is kept, so that the vault takes acts
// again as soon as the keyring folder or the object store is mended):
// then an error wrapping ErrUnavailable and ErrHeadUnkept. Work that
// writes to the object store before its event (a deposit, a package)
// asks it first, so that nothing is written for an act that would be
// refused.
func (v *Vault) headKept(ctx context.Context) error {
	if v.log.HeadUnkept() == nil {
		return nil
	}
	if _, err := v.log.Checkpoint(ctx); err != nil || v.log.HeadUnkept() != nil {
		return fmt.Errorf("%w: %w: nothing was recorded or done", ErrUnavailable, ErrHeadUnkept)
	}
	return nil
}

// closesAccess are the events that close a view or a retrieval already
// recorded (how it ended: what was sent, or that nothing was): recorded
// even while no head can be kept, as a view refused for that reason is
// closed by one saying nothing was sent.
var closesAccess = map[string]bool{TypeItemAccessCompleted: true, TypePackageFetchDone: true}

// ErrHeadUnkept is wrapped, with ErrUnavailable, by the answer to a
// person's act while no checkpoint of the custody log can be kept as its
// head (in the keyring folder and the object store): nothing was
// recorded or done (Vault.append).
var ErrHeadUnkept = errors.New("the vault cannot keep its custody log's head (its newest signed checkpoint)")

// ErrRecordedUnkept is wrapped, with ErrUnavailable and
// sequencer.ErrOutcomeUnknown, by the answer to a person's act that was
// recorded when the log's head could not be kept: the act stands in the
// log, but no head covers it, so the vault does not confirm it
// (Vault.append).
var ErrRecordedUnkept = errors.New("recorded, but no checkpoint covering it could be kept as the custody log's head")

// appendPublished is append for events that release what they record
// (sequencer.AppendPublished): it returns once a checkpoint covering
// them is published, and an error wrapping ErrUnavailable and
// sequencer.ErrUnpublished, with the durable events, when none could be.
func (v *Vault) appendPublished(ctx context.Context, drafts ...sequencer.Draft) ([]*events.Event, error) {
	for i := range drafts {
		drafts[i].Check = v.standing(drafts[i])
	}
	evs, _, err := v.log.AppendPublished(ctx, drafts...)
	if errors.Is(err, sequencer.ErrUnpublished) {
		err = fmt.Errorf("%w: %w (the server's log says why); nothing was released", ErrUnavailable, err)
	}
	return evs, err
}

// WhoAmI describes the caller: name, role and credential.
type WhoAmI struct {
	ACR         string    `json:"acr,omitempty"`
	AMR         []string  `json:"amr,omitempty"`
	Auth        string    `json:"auth"`
	Certificate string    `json:"certificate,omitempty"`
	Expires     time.Time `json:"expires,omitzero"`
	Issuer      string    `json:"issuer,omitempty"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Session     string    `json:"session,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	// Recipient and ReceiptKey are, for a prosecutor or defence counsel,
	// the age recipient packages for them are sealed to and the SSH
	// public key their receipts are checked with, as registered; absent
	// when none is (Vault.WhoAmI).
	Recipient  string `json:"recipient,omitempty"`
	ReceiptKey string `json:"receipt_key,omitempty"`
}

// WhoAmI is Describe(who) with what who registered to receive packages.
func (v *Vault) WhoAmI(who Principal) WhoAmI {
	out := Describe(who)
	if p, ok := v.state.personByName(who.Name); ok && receivesPackages(who.Role) {
		out.Recipient, out.ReceiptKey = p.Recipient, p.ReceiptKey
	}
	return out
}

// Describe returns who as WhoAmI.
func Describe(who Principal) WhoAmI {
	c := who.Credential
	return WhoAmI{Name: who.Name, Role: who.Role, Auth: who.actor().Auth, Session: c.Session, Expires: c.Expires,
		Issuer: c.Issuer, Subject: c.Subject, Certificate: c.Certificate, ACR: c.ACR, AMR: c.AMR}
}

// RedeemInvitation exchanges the two halves of a person's invitation (in
// either order) for a local credential of their own, shown this once.
// Each invitation is redeemed once, before it expires; nobody but the
// holder of both halves (one from each custodian of the enrolment) can
// redeem it. A failure is ErrUnauthenticated and changes nothing; the
// caller records it (aggregated).
func (v *Vault) RedeemInvitation(ctx context.Context, name string, halves []string) (secret.String, error) {
	if v.cfg.NoLocalAccounts {
		return secret.String{}, fmt.Errorf("%w: this vault has no local accounts", ErrUnauthenticated)
	}
	if err := checkPersonName(name); err != nil {
		// The name's form, said as it is: "Dara" is refused for its
		// capital, not for the invitation.
		return secret.String{}, err
	}
	if len(halves) != 2 {
		return secret.String{}, badInput("give both halves of the invitation, one from each custodian (%d given)", len(halves))
	}
	// Every mismatch is answered alike (and so recorded alike, and
	// aggregated): the answer does not tell who holds an invitation.
	noMatch := fmt.Errorf("%w: the invitation does not match: check the name and both halves as the two custodians gave them. An invitation works once and expires; for a used or expired one, ask a custodian for a new one (custos person reissue NAME)", ErrUnauthenticated)
	var got []string
	for _, h := range halves {
		if !strings.HasPrefix(h, InvitationPrefix) || len(h) > 128 {
			return secret.String{}, noMatch
		}
		got = append(got, tokenHash(h))
	}
	p, ok := v.state.personByName(name)
	if !ok || p.invitation == nil {
		// The same work as a comparison, so that the time taken does
		// not tell either.
		(&invitation{}).matches(got)
		return secret.String{}, noMatch
	}
	inv := *p.invitation
	if !inv.matches(got) {
		return secret.String{}, noMatch
	}
	if !v.cfg.Now().Before(inv.expires) {
		return secret.String{}, fmt.Errorf("%w: the invitation expired; ask the custodians for a new one", ErrUnauthenticated)
	}
	if inv.void != "" {
		return secret.String{}, invitationVoid(inv.void)
	}
	if err := inactive(p, Credential{Auth: "invitation"}); err != nil {
		return secret.String{}, err
	}
	credential := newToken(TokenPrefix)
	who := Principal{Name: p.Name, Role: p.Role, Credential: Credential{Auth: "invitation"}}
	check := func(ahead []*events.Event) error {
		if touchesPersons(ahead) {
			return sequencer.ErrNotYet
		}
		q, ok := v.state.personByName(name)
		if !ok || q.invitation == nil || q.invitation.id != inv.id {
			return fmt.Errorf("%w: the invitation was already redeemed or replaced", ErrUnauthenticated)
		}
		if q.invitation.void != "" {
			return invitationVoid(q.invitation.void)
		}
		return q.active()
	}
	_, err := v.appendActs(ctx, true, sequencer.Draft{Type: TypeCredentialIssued, Actor: who.actor(), Check: check,
		Data: CredentialIssued{Name: name, Invitation: inv.id, TokenSHA256: tokenHash(credential)}})
	if err != nil {
		return secret.String{}, err
	}
	return secret.New(credential), nil
}

// invitation is a person's open invitation: the hashes of its two
// halves, from the request.opened and request.approved events.
type invitation struct {
	id      string
	halves  [2]string
	expires time.Time
	// via are the identity sources the custodians who asked for it and
	// approved it went through (approvedInvitation); void is the first
	// of them retired since, which voids it: one half went to whoever
	// held a session or certificate of that source, and a source is
	// retired when it is no longer trusted to say who that was.
	via  []string
	void string
}

// invitationVoid is the answer to the redemption of an invitation the
// retirement of the identity source src voided.
func invitationVoid(src string) error {
	return fmt.Errorf("%w: the invitation is void: the identity source %s, through which a custodian asked for it or approved it, was retired since; ask the custodians for a new one", ErrUnauthenticated, src)
}

func (inv invitation) matches(got []string) bool {
	a := subtle.ConstantTimeCompare([]byte(inv.halves[0]), []byte(got[0])) & subtle.ConstantTimeCompare([]byte(inv.halves[1]), []byte(got[1]))
	b := subtle.ConstantTimeCompare([]byte(inv.halves[0]), []byte(got[1])) & subtle.ConstantTimeCompare([]byte(inv.halves[1]), []byte(got[0]))
	return a|b == 1 && inv.halves[0] != "" && inv.halves[1] != ""
}
