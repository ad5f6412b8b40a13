package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Identity sources: what vouches for who signs in besides the vault's own
// credentials: an OpenID provider (its issuer, and each of its signing
// keys) and each client CA certificate (its SHA-256). Whoever runs the
// server chooses them at start (--oidc-issuer, --client-ca), and a
// person enrolled without an identity-provider value or a certificate
// name is matched by their name alone, whatever source vouches for it:
// a server administrator who restarted the vault with a provider of
// their own signed in as any custodian. So a source signs people in
// only once accepted: those the first start that guards them was
// configured with (a vault's starting point, said by its
// server.started), and each one after that on a request a second
// custodian approves (KindIdentitySource, identity.source.accepted).
//
// A provider is named by its issuer URL, and whoever runs the server
// also controls the names it resolves and the TLS roots it trusts: a
// provider of theirs answering at the accepted URL would pass for the
// accepted one. So from the first start that pins them
// (startedKeyPins), a provider's sign-in also needs the key that signed
// its ID token accepted ("oidc-key ISSUER THUMBPRINT"), and the client
// the token was issued to and the claim that names people ("oidc-client
// ISSUER CLIENT_ID CLAIM": another client id would take ID tokens the
// provider issued to another application, another claim would name
// people otherwise): that start accepts the keys, client and claim of
// its accepted provider, and later ones are accepted as any source is.
// docs/identity.md section 9.

// KindIdentitySource is the request to accept an identity source: its
// params name the source (identitySourceParams).
const KindIdentitySource = "identity.source"

// TypeIdentitySourceAccepted records an identity source accepted on an
// approved request (IdentitySourceAccepted).
const TypeIdentitySourceAccepted = "identity.source.accepted"

// KindIdentitySourceRetire is the request to retire an accepted
// identity source (a provider's key it no longer uses or that leaked, a
// client CA withdrawn): its params name the source.
const KindIdentitySourceRetire = "identity.source.retire"

// TypeIdentitySourceRetired records an identity source retired on an
// approved request (IdentitySourceRetired): from it on, the source signs
// no one in, and sessions opened through it end.
const TypeIdentitySourceRetired = "identity.source.retired"

// IdentitySourceRetired is the data of identity.source.retired: the
// source, the request, who asked and why.
type IdentitySourceRetired struct {
	Source      string `json:"source"`
	Request     string `json:"request"`
	RequestedBy string `json:"requested_by"`
	Reason      string `json:"reason,omitempty"`
}

// startedIdentitySources is the server.started member that says a start
// signs people in only through accepted identity sources ("request"):
// from the first that says so, for good, and its own configured sources
// are accepted with it.
const startedIdentitySources = "identity_sources"

// startedKeyPins is the server.started member that says a start signs
// people in through an OpenID provider only with its accepted keys
// ("request"): from the first that says so, for good (since
// 2026-12-07); startedOIDCKeys names the provider's keys at that start.
const (
	startedKeyPins  = "oidc_key_pins"
	startedOIDCKeys = "oidc_keys"
)

// startedRequestCAs is the server.started member that says a start
// records, in each request asked with a client certificate, the CAs its
// chains ran through ("recorded": RequestOpened.ClientCAs): from the
// first that says so, for good, the audit's rules require them (since
// 2026-12-07).
const startedRequestCAs = "request_client_cas"

// startedApprovalCAs is the server.started member that says a start
// records, in each approval given with a client certificate, the CAs
// its chains ran through ("recorded": RequestDecided.ClientCAs): from
// the first that says so, for good, the audit's rules require them
// (since 2026-12-07).
const startedApprovalCAs = "approval_client_cas"

// startedIDTokens is the server.started member that says a start
// records, in each OpenID sign-in's session.opened, the ID token and the
// provider's key that verified it ("recorded": SessionOpened.IDToken
// and KeyJWK): from the first that says so, for good, the audit's rules
// require them and check the provider's signature (since 2026-12-07).
const startedIDTokens = "oidc_id_tokens"

// StartedStops is the server.started member that says a server records
// its stop when stopped as asked ("recorded": server.stopped, since
// 2026-12-07): a later start that follows no server.stopped after it is
// a server that ended otherwise (a crash, a kill), which an audit says.
const StartedStops = "server_stopped"

// IdentitySourceAccepted is the data of identity.source.accepted: the
// source ("oidc ISSUER", "oidc-key ISSUER THUMBPRINT" or "ca SHA256"),
// the request, who asked and why.
type IdentitySourceAccepted struct {
	Source      string `json:"source"`
	Request     string `json:"request"`
	RequestedBy string `json:"requested_by"`
	Reason      string `json:"reason,omitempty"`
}

type identitySourceParams struct {
	Source string `json:"source"`
}

// identitySources is what the state (and the custody rules) hold of
// them: Guarded from the first start that guards them, KeysPinned from
// the first that pins providers' keys, and each accepted source with
// the event that accepted it.
type identitySources struct {
	Guarded    bool              `json:"guarded,omitempty"`
	KeysPinned bool              `json:"keys_pinned,omitempty"`
	Accepted   map[string]uint64 `json:"accepted,omitempty"`
	// Retired are the sources retired and not accepted since, with the
	// event that retired each.
	Retired map[string]uint64 `json:"retired,omitempty"`
}

// OIDCSource, OIDCKeySource and CASource name identity sources as
// requests and events do: "oidc " and the issuer exactly as the
// provider states it; "oidc-key ", the issuer, a space and the
// thumbprint of one of its signing keys (RFC 7638 with SHA-256,
// base64url without padding: 43 characters, as oidcauth.Thumbprint
// gives it); "ca " and a client CA certificate's SHA-256 (64 lowercase
// hex digits).
func OIDCSource(issuer string) string           { return "oidc " + issuer }
func OIDCKeySource(issuer, thumb string) string { return "oidc-key " + issuer + " " + thumb }
func CASource(sha256 string) string             { return "ca " + sha256 }

// OIDCClientSource names the client ID tokens are issued to and the
// claim that names people at a provider: "oidc-client ISSUER CLIENT_ID
// CLAIM" (the claim "sub" where claim is empty, as the vault reads it).
func OIDCClientSource(issuer, clientID, claim string) string {
	if claim == "" {
		claim = "sub"
	}
	return "oidc-client " + issuer + " " + clientID + " " + claim
}

// checkIdentitySource refuses a source that is not one of the three
// forms.
func checkIdentitySource(s string) error {
	kind, v, _ := strings.Cut(s, " ")
	switch kind {
	case "oidc":
		if isIssuer(v) {
			return nil
		}
		return badInput("an OpenID provider is named by its issuer URL, as the provider states it: oidc https://id.example.org/realms/hotline")
	case "oidc-key":
		if i := strings.LastIndexByte(v, ' '); i > 0 && isIssuer(v[:i]) && isThumbprint(v[i+1:]) {
			return nil
		}
		return badInput("an OpenID provider's signing key is named by the issuer and the key's thumbprint (RFC 7638, SHA-256, base64url: 43 characters), as custos identity-source list shows it: oidc-key https://id.example.org/realms/hotline NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
	case "oidc-client":
		if f := strings.Split(v, " "); len(f) == 3 && isIssuer(f[0]) && f[1] != "" && checkText("client id", f[1], 255, false, false) == nil &&
			slices.Contains([]string{"sub", "email", "preferred_username"}, f[2]) {
			return nil
		}
		return badInput("an OpenID client is named by the issuer, the client id the vault is registered with and the claim that names people (sub, email or preferred_username), as custos identity-source list shows it: oidc-client https://id.example.org/realms/hotline custos sub")
	case "ca":
		if isDigest(v) {
			return nil
		}
		return badInput("a client CA is named by the SHA-256 of its certificate, 64 lowercase hex digits, as the server's start records it (client_ca_sha256): ca 3a7b…")
	}
	return badInput("an identity source is \"oidc-key ISSUER THUMBPRINT\", \"oidc-client ISSUER CLIENT_ID CLAIM\", \"ca SHA256\" or, where keys are not pinned, \"oidc ISSUER\"")
}

// CheckOIDCSignIn refuses an OpenID provider's issuer, client id and
// claim that would not name an identity source (an issuer with a space,
// a client id with a space or an invisible character, or longer than
// 255 bytes): the source a start accepts must be one custodians can name
// to retire. No issuer is no provider, and nothing to check; an empty
// claim is sub.
func CheckOIDCSignIn(issuer, clientID, claim string) error {
	if issuer == "" {
		return nil
	}
	if err := checkIdentitySource(OIDCClientSource(issuer, clientID, claim)); err != nil {
		return fmt.Errorf("the OpenID provider's issuer %q, client id %q and claim %q: %w", issuer, clientID, claim, err)
	}
	return nil
}

// isIssuer reports whether v may be an OpenID issuer: an http(s) URL
// with a host, of visible text without spaces.
func isIssuer(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.Contains(v, " ") && checkText("source", v, 1024, false, false) == nil
}

// isThumbprint reports whether v is a SHA-256 JWK thumbprint as
// oidcauth.Thumbprint writes it: 43 base64url characters (32 bytes).
func isThumbprint(v string) bool {
	if len(v) != 43 {
		return false
	}
	for _, c := range []byte(v) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	// The last character carries 4 bits of the 32 bytes: the rest must
	// be zero, as a canonical encoding has them.
	return strings.IndexByte("AEIMQUYcgkosw048", v[42]) >= 0
}

// configuredSources are the identity sources cfg signs people in through:
// those its start records (startedConfig), as startedSources reads them.
func (cfg Config) configuredSources() []string {
	return startedSources(cfg.startedConfig())
}

// startedSources reads the sources a server.started's data names as
// configured (its oidc_issuer, oidc_keys and client_ca_sha256 members,
// the keys and the CAs sorted and once each, as startedConfig writes
// them).
func startedSources(d map[string]string) []string {
	var out []string
	if iss := d["oidc_issuer"]; iss != "" {
		out = append(out, OIDCSource(iss))
		if c := d["oidc_client_id"]; c != "" {
			out = append(out, OIDCClientSource(iss, c, d["oidc_claim"]))
		}
		for _, k := range strings.Fields(d[startedOIDCKeys]) {
			out = append(out, OIDCKeySource(iss, k))
		}
	}
	for _, ca := range strings.Fields(d["client_ca_sha256"]) {
		out = append(out, CASource(ca))
	}
	return out
}

// applyStartedSources is server.started's part of identity sources
// (identitySources.started).
func (s *State) applyStartedSources(ev *events.Event, d map[string]string) {
	s.identity.started(ev.Seq, d)
}

// started reads the server.started at seq, whose data is d: the first
// start that guards identity sources accepts its own; the first that
// pins providers' keys, on a log guarded before, accepts the keys it
// names of its provider if that provider is accepted (the keys it
// serves at the upgrade: what the release before trusted of it).
func (i *identitySources) started(seq uint64, d map[string]string) {
	pins := d[startedKeyPins] == "request"
	if d[startedIdentitySources] == "request" && !i.Guarded {
		i.Guarded, i.KeysPinned = true, pins
		for _, src := range startedSources(d) {
			i.accept(src, seq)
		}
		return
	}
	if !pins || !i.Guarded || i.KeysPinned {
		return
	}
	i.KeysPinned = true
	iss := d["oidc_issuer"]
	if _, ok := i.Accepted[OIDCSource(iss)]; iss == "" || !ok {
		return
	}
	for _, src := range startedSources(d) {
		if !strings.HasPrefix(src, "ca ") {
			i.accept(src, seq)
		}
	}
}

// unacceptedOIDC gives the source that keeps a sign-in through the
// provider issuer out ("" if none does): once keys are pinned, the key
// that signed its ID token (thumb) or the client it was issued to with
// the claim that named the person (whose sources name their provider:
// accepting them accepts the provider with them); before, the provider.
func (i *identitySources) unacceptedOIDC(issuer, thumb, clientID, claim string) string {
	if !i.Guarded {
		return ""
	}
	srcs := []string{OIDCSource(issuer)}
	if _, retired := i.Retired[OIDCSource(issuer)]; i.KeysPinned && !retired {
		// (A provider retired as a whole signs no one in, whatever of
		// its keys and clients is accepted.)
		srcs = []string{OIDCKeySource(issuer, thumb), OIDCClientSource(issuer, clientID, claim)}
	}
	for _, src := range srcs {
		if _, ok := i.Accepted[src]; !ok {
			return src
		}
	}
	return ""
}

func applyIdentitySourceAccepted(s *State, ev *events.Event) error {
	d, err := data[IdentitySourceAccepted](ev)
	if err != nil {
		return err
	}
	s.identity.accept(d.Source, ev.Seq)
	return nil
}

// accept notes src accepted at event seq, unless it was before (the
// first acceptance is the one listed). The map is made with its first
// entry, so that a guarded log without sources has none, as a snapshot
// reads it back; src is copied, not kept as a piece of an event's data.
func (i *identitySources) accept(src string, seq uint64) {
	if i.Accepted == nil {
		i.Accepted = map[string]uint64{}
	}
	if _, ok := i.Accepted[src]; !ok {
		i.Accepted[strings.Clone(src)] = seq
		delete(i.Retired, src)
	}
}

// retire notes src retired at event seq: it is accepted no longer.
func (i *identitySources) retire(src string, seq uint64) {
	if _, ok := i.Accepted[src]; !ok {
		return
	}
	delete(i.Accepted, src)
	if i.Retired == nil {
		i.Retired = map[string]uint64{}
	}
	i.Retired[strings.Clone(src)] = seq
}

func applyIdentitySourceRetired(s *State, ev *events.Event) error {
	d, err := data[IdentitySourceRetired](ev)
	if err != nil {
		return err
	}
	s.identity.retire(d.Source, ev.Seq)
	// The sessions opened through it end, for good: accepted again, it
	// does not bring them back; so do the requests asked in them (one
	// asked with a leaked key).
	at := ev.Timestamp()
	for _, r := range s.requests {
		if slices.Contains(r.via, d.Source) && !r.void && at.Before(r.Expires) {
			r.void, r.voidAt = true, at
		}
	}
	// Destruction requests alike, as a suspension voids them
	// (voidRequestsOf): one a hold voided already stays so.
	for _, c := range s.cases {
		for id, r := range c.Requests {
			if exp, err := time.Parse(time.RFC3339, r.Expires); slices.Contains(r.Via, d.Source) && !r.Void && r.HeldAfter == 0 && (err != nil || at.Before(exp)) {
				r.Void, r.VoidAt, r.Retired = true, at, strings.Clone(d.Source)
				c.Requests[id] = r
			}
		}
	}
	// Invitations not yet redeemed alike: one half of each went to
	// whoever asked or approved through the source.
	for _, p := range s.persons {
		if inv := p.invitation; inv != nil && inv.void == "" && slices.Contains(inv.via, d.Source) {
			void := *inv // a copy: readers hold the old one without the lock
			void.void = strings.Clone(d.Source)
			p.invitation = &void
		}
	}
	for _, se := range s.sessionByID {
		if se.credential.Auth == "oidc" && slices.Contains(oidcSourcesOf(se.credential.Issuer, se.credential.Key, se.credential.ClientID, se.credential.Claim), d.Source) {
			s.dropSession(se)
		}
	}
	return nil
}

// requestSources are the identity sources a request's asker a went
// through: for a client certificate, its CAs the request records (cas);
// for an OpenID session, sessionSources.
func (s *State) requestSources(a events.Actor, cas []string) []string {
	if a.Auth == "certificate" {
		return certificateSources(cas)
	}
	return s.sessionSources(a)
}

// certificateSources are the identity sources of a client certificate
// whose chains ran through the CAs cas (SHA-256, hex), every one a
// request records (the server's configured bundle bounds them).
func certificateSources(cas []string) []string {
	var out []string
	for _, ca := range cas {
		out = append(out, CASource(strings.Clone(ca)))
	}
	return out
}

// retiredOf is the first of srcs retired and not accepted since, or "":
// a request recorded as asked through one (a server that did not check,
// or a race the vault's standing check refuses) is void from its start.
func (i *identitySources) retiredOf(srcs []string) string {
	for _, src := range srcs {
		if _, ok := i.Retired[src]; ok {
			return src
		}
	}
	return ""
}

// sessionSources are the identity sources the OpenID session a acts in
// went through (none for other sign-ins, or a session not held).
func (s *State) sessionSources(a events.Actor) []string {
	if a.Auth != "oidc" || a.Session == "" {
		return nil
	}
	se := s.sessionByID[a.Session]
	if se == nil {
		return nil
	}
	c := se.credential
	return oidcSourcesOf(c.Issuer, c.Key, c.ClientID, c.Claim)
}

// oidcSourcesOf are the identity sources an OpenID sign-in went
// through: its provider, the key that signed its ID token, and its
// client with the claim that named the person.
func oidcSourcesOf(issuer, thumb, clientID, claim string) []string {
	return []string{OIDCSource(issuer), OIDCKeySource(issuer, thumb), OIDCClientSource(issuer, clientID, claim)}
}

// sourceRetired reports whether src was retired and not accepted since.
func (s *State) sourceRetired(src string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.identity.Retired[src]
	return ok
}

// sourceAccepted reports whether src signs people in: every source
// before the first start that guards them, then the accepted ones.
func (s *State) sourceAccepted(src string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.identity.Guarded {
		return true
	}
	_, ok := s.identity.Accepted[src]
	return ok
}

// sourcesGuarded reports whether a start guarded identity sources.
func (s *State) sourcesGuarded() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.identity.Guarded
}

// oidcUnaccepted is State's unacceptedOIDC.
func (s *State) oidcUnaccepted(issuer, thumb, clientID, claim string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.identity.unacceptedOIDC(issuer, thumb, clientID, claim)
}

// notAccepted is the refusal of a sign-in through an identity source no
// two custodians accepted.
func notAccepted(src string) error {
	kind, v, _ := strings.Cut(src, " ")
	what := "the identity provider " + v + " signs no one in to this vault yet: it was configured by whoever runs the server, and two custodians have not accepted it"
	switch kind {
	case "ca":
		what = "the client CA whose certificate's SHA-256 is " + v + " signs no one in to this vault yet: it was configured by whoever runs the server, and two custodians have not accepted it"
	case "oidc-key":
		iss, thumb, _ := strings.Cut(v, " ")
		what = fmt.Sprintf("the identity provider %s signed this sign-in with a key two custodians have not accepted (%s): a key the provider began to use after a rotation, a provider not accepted yet, or another server answering at the provider's address", iss, thumb)
	case "oidc-client":
		f := strings.Split(v, " ")
		for len(f) < 3 {
			f = append(f, "")
		}
		what = fmt.Sprintf("the server signs people in through the identity provider %s as the client %s, naming them by its %s claim, and two custodians have not accepted that: another client id would take sign-ins the provider made for another application, and another claim would name people otherwise", f[0], f[1], f[2])
	}
	return fmt.Errorf("%w: %s. A custodian, signed in another way (local credentials, or a source already accepted), asks with custos identity-source accept %q --reason TEXT, and another approves (docs/identity.md section 9)", ErrUnauthenticated, what, src)
}

// IdentitySource is one identity source as custos identity-source list
// shows it.
type IdentitySource struct {
	Source string `json:"source"`
	// Configured: the running server signs people in through it (for a
	// provider's key: the provider served it at the start, or serves it
	// now).
	Configured bool `json:"configured"`
	// Accepted: it may sign people in; AcceptedAt the event that
	// accepted it (the guarding start's, or identity.source.accepted).
	Accepted   bool   `json:"accepted"`
	AcceptedAt uint64 `json:"accepted_at,omitempty"`
	// RetiredAt is, for a source retired and not accepted since, the
	// event that retired it.
	RetiredAt uint64 `json:"retired_at,omitempty"`
}

// IdentitySources lists, for custodians and auditors, the sources the
// server is configured with and those accepted, and whether sources are
// guarded at all (false on a log no start of this release guarded yet).
func (v *Vault) IdentitySources(ctx context.Context, who Principal) (list []IdentitySource, guarded bool, err error) {
	if err := v.MayAsk(ctx, who, "identity.sources", ""); err != nil {
		return nil, false, err
	}
	v.state.mu.RLock()
	guarded = v.state.identity.Guarded
	accepted := maps.Clone(v.state.identity.Accepted)
	retired := maps.Clone(v.state.identity.Retired)
	v.state.mu.RUnlock()
	seen := map[string]bool{}
	configured := v.cfg.configuredSources()
	if iss := v.cfg.SignIn.OIDCIssuer; iss != "" && v.cfg.OIDCServedKeys != nil {
		if keys, err := v.cfg.OIDCServedKeys(ctx); err == nil {
			for _, k := range keys {
				if src := OIDCKeySource(iss, k); !slices.Contains(configured, src) {
					configured = append(configured, src)
				}
			}
		} else {
			v.logger.Warn("identity sources: the provider's keys could not be read; listing those of the start", "err", err)
		}
	}
	for _, src := range configured {
		at, ok := accepted[src]
		list = append(list, IdentitySource{Source: src, Configured: true, Accepted: ok || !guarded, AcceptedAt: at, RetiredAt: retired[src]})
		seen[src] = true
	}
	for src, at := range accepted {
		if !seen[src] {
			list = append(list, IdentitySource{Source: src, Accepted: true, AcceptedAt: at})
		}
	}
	for src, at := range retired {
		if !seen[src] {
			list = append(list, IdentitySource{Source: src, RetiredAt: at})
		}
	}
	slices.SortFunc(list, func(a, b IdentitySource) int { return strings.Compare(a.Source, b.Source) })
	return list, guarded, nil
}

// AcceptIdentitySource opens the request (custodian, with a reason) that
// a second custodian approves to let src sign people in. Errors: bad
// input (a source of neither form, no reason), ErrConflict (accepted
// already), ErrForbidden (not a custodian).
func (v *Vault) AcceptIdentitySource(ctx context.Context, who Principal, src, reason string) (*RequestInfo, error) {
	return v.askOfSource(ctx, who, KindIdentitySource, identitySourceKind, src, reason,
		"accepting an identity source needs --reason: it lets whoever the source vouches for sign in as the people of this vault, and the reason is what a court reads of why")
}

// askOfSource opens a request of kind (whose action, as MayAsk names
// it, is the kind's name) about the source src, once who may ask, with
// a reason (else bad input, noReason), and k's rule as its approval
// will check it holds (else recorded as refused).
func (v *Vault) askOfSource(ctx context.Context, who Principal, kind string, k requestKind, src, reason, noReason string) (*RequestInfo, error) {
	if err := v.MayAsk(ctx, who, kind, src); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, badInput("%s", noReason)
	}
	b, err := json.Marshal(identitySourceParams{Source: src})
	if err != nil {
		return nil, err
	}
	if err := k.check(v, Request{Params: b}); err != nil {
		return nil, v.refusedAs(ctx, who, kind, src, err)
	}
	return v.openRequest(ctx, who, Request{Kind: kind, Reason: reason}, identitySourceParams{Source: src})
}

// sourceStanding refuses a source of none of the forms, and says
// whether it is accepted and whether providers' keys are pinned.
func (v *Vault) sourceStanding(src string) (accepted, pinned bool, err error) {
	if err := checkIdentitySource(src); err != nil {
		return false, false, err
	}
	v.state.mu.RLock()
	defer v.state.mu.RUnlock()
	_, accepted = v.state.identity.Accepted[src]
	return accepted, v.state.identity.KeysPinned, nil
}

// identitySourceKind is what an approved identity.source does: it
// records identity.source.accepted, while the source is not accepted
// already.
var identitySourceKind = requestKind{
	check: func(v *Vault, r Request) error {
		p := params[identitySourceParams](r)
		ok, pinned, err := v.sourceStanding(p.Source)
		if err != nil {
			return err
		}
		if ok {
			return refused(ErrConflict, "%s is accepted already", p.Source)
		}
		if kind, iss, _ := strings.Cut(p.Source, " "); kind == "oidc" && pinned && !v.state.sourceRetired(p.Source) {
			return badInput("this vault signs people in through an OpenID provider's keys, one by one: accept the key it signs with, oidc-key %s THUMBPRINT (custos identity-source list shows the keys it serves)", iss)
		}
		return nil
	},
	drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
		return []sequencer.Draft{{Type: TypeIdentitySourceAccepted, Actor: by.actor(),
			Data: IdentitySourceAccepted{Source: params[identitySourceParams](r).Source, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
	},
}

// RetireIdentitySource opens the request (custodian, with a reason) that
// a second custodian approves to retire the accepted source src: a
// provider's key it stopped using or that leaked, a client that is no
// longer the vault's, a CA withdrawn. Errors: bad input (a source of
// none of the forms, no reason), ErrConflict (not accepted),
// ErrForbidden (not a custodian).
func (v *Vault) RetireIdentitySource(ctx context.Context, who Principal, src, reason string) (*RequestInfo, error) {
	return v.askOfSource(ctx, who, KindIdentitySourceRetire, identitySourceRetireKind, src, reason,
		"retiring an identity source needs --reason: it signs no one in from then on, and the reason is what a court reads of why")
}

// identitySourceRetireKind is what an approved identity.source.retire
// does: it records identity.source.retired, while the source is
// accepted.
var identitySourceRetireKind = requestKind{
	check: func(v *Vault, r Request) error {
		p := params[identitySourceParams](r)
		ok, _, err := v.sourceStanding(p.Source)
		if err != nil {
			return err
		}
		if !ok {
			return refusedHint(ErrConflict, "custos identity-source list shows those that are", "%s is not accepted", p.Source)
		}
		return nil
	},
	drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
		return []sequencer.Draft{{Type: TypeIdentitySourceRetired, Actor: by.actor(),
			Data: IdentitySourceRetired{Source: params[identitySourceParams](r).Source, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
	},
}
