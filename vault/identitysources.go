package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Identity sources: what vouches for who signs in besides the vault's own
// credentials: an OpenID provider (its issuer) and each client CA
// certificate (its SHA-256). Whoever runs the server chooses them at
// start (--oidc-issuer, --client-ca), and a person enrolled without an
// identity-provider value or a certificate name is matched by their name
// alone, whatever source vouches for it: a server administrator who
// restarted the vault with a provider of their own signed in as any
// custodian. So a source signs people in only once accepted: those the
// first start that guards them was configured with (a vault's starting
// point, said by its server.started), and each one after that on a
// request a second custodian approves (KindIdentitySource,
// identity.source.accepted). docs/identity.md section 9.

// KindIdentitySource is the request to accept an identity source: its
// params name the source (identitySourceParams).
const KindIdentitySource = "identity.source"

// TypeIdentitySourceAccepted records an identity source accepted on an
// approved request (IdentitySourceAccepted).
const TypeIdentitySourceAccepted = "identity.source.accepted"

// startedIdentitySources is the server.started member that says a start
// signs people in only through accepted identity sources ("request"):
// from the first that says so, for good, and its own configured sources
// are accepted with it.
const startedIdentitySources = "identity_sources"

// IdentitySourceAccepted is the data of identity.source.accepted: the
// source ("oidc ISSUER" or "ca SHA256"), the request, who asked and why.
type IdentitySourceAccepted struct {
	Source      string `json:"source"`
	Request     string `json:"request"`
	RequestedBy string `json:"requested_by"`
	Reason      string `json:"reason,omitempty"`
}

type identitySourceParams struct {
	Source string `json:"source"`
}

// identitySources is what the state holds of them: Guarded from the
// first start that guards them, and each accepted source with the event
// that accepted it.
type identitySources struct {
	Guarded  bool              `json:"guarded,omitempty"`
	Accepted map[string]uint64 `json:"accepted,omitempty"`
}

// OIDCSource and CASource name identity sources as requests and events
// do: "oidc " and the issuer exactly as the provider states it, "ca "
// and a client CA certificate's SHA-256 (64 lowercase hex digits).
func OIDCSource(issuer string) string { return "oidc " + issuer }
func CASource(sha256 string) string   { return "ca " + sha256 }

// checkIdentitySource refuses a source that is not one of the two forms.
func checkIdentitySource(s string) error {
	kind, v, _ := strings.Cut(s, " ")
	switch kind {
	case "oidc":
		u, err := url.Parse(v)
		if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && checkText("source", v, 1024, false, false) == nil {
			return nil
		}
		return badInput("an OpenID provider is named by its issuer URL, as the provider states it: oidc https://id.example.org/realms/hotline")
	case "ca":
		if isDigest(v) {
			return nil
		}
		return badInput("a client CA is named by the SHA-256 of its certificate, 64 lowercase hex digits, as the server's start records it (client_ca_sha256): ca 3a7b…")
	}
	return badInput("an identity source is \"oidc ISSUER\" or \"ca SHA256\"")
}

// configuredSources are the identity sources cfg signs people in through:
// those its start records (startedConfig), as startedSources reads them.
func (cfg Config) configuredSources() []string {
	return startedSources(cfg.startedConfig())
}

// startedSources reads the sources a server.started's data names as
// configured (its oidc_issuer and client_ca_sha256 members, the CAs
// sorted and once each, as startedConfig writes them).
func startedSources(d map[string]string) []string {
	var out []string
	if iss := d["oidc_issuer"]; iss != "" {
		out = append(out, OIDCSource(iss))
	}
	for _, ca := range strings.Fields(d["client_ca_sha256"]) {
		out = append(out, CASource(ca))
	}
	return out
}

// applyStartedSources is server.started's part of identity sources: the
// first start that guards them accepts its own.
func (s *State) applyStartedSources(ev *events.Event, d map[string]string) {
	if d[startedIdentitySources] != "request" || s.identity.Guarded {
		return
	}
	s.identity.Guarded = true
	for _, src := range startedSources(d) {
		s.identity.accept(src, ev.Seq)
	}
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
// reads it back.
func (i *identitySources) accept(src string, seq uint64) {
	if i.Accepted == nil {
		i.Accepted = map[string]uint64{}
	}
	if _, ok := i.Accepted[src]; !ok {
		i.Accepted[src] = seq
	}
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

// notAccepted is the refusal of a sign-in through an identity source no
// two custodians accepted.
func notAccepted(src string) error {
	kind, v, _ := strings.Cut(src, " ")
	what := "the identity provider " + v
	if kind == "ca" {
		what = "the client CA whose certificate's SHA-256 is " + v
	}
	return fmt.Errorf("%w: %s signs no one in to this vault yet: it was configured by whoever runs the server, and two custodians have not accepted it. A custodian, signed in another way (local credentials, or a source already accepted), asks with custos identity-source accept %q --reason TEXT, and another approves (docs/identity.md section 9)", ErrUnauthenticated, what, src)
}

// IdentitySource is one identity source as custos identity-source list
// shows it.
type IdentitySource struct {
	Source string `json:"source"`
	// Configured: the running server signs people in through it.
	Configured bool `json:"configured"`
	// Accepted: it may sign people in; AcceptedAt the event that
	// accepted it (the guarding start's, or identity.source.accepted).
	Accepted   bool   `json:"accepted"`
	AcceptedAt uint64 `json:"accepted_at,omitempty"`
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
	v.state.mu.RUnlock()
	seen := map[string]bool{}
	for _, src := range v.cfg.configuredSources() {
		at, ok := accepted[src]
		list = append(list, IdentitySource{Source: src, Configured: true, Accepted: ok || !guarded, AcceptedAt: at})
		seen[src] = true
	}
	for src, at := range accepted {
		if !seen[src] {
			list = append(list, IdentitySource{Source: src, Accepted: true, AcceptedAt: at})
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
	if err := v.MayAsk(ctx, who, "identity.source", src); err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		return nil, badInput("accepting an identity source needs --reason: it lets whoever the source vouches for sign in as the people of this vault, and the reason is what a court reads of why")
	}
	b, err := json.Marshal(identitySourceParams{Source: src})
	if err != nil {
		return nil, err
	}
	// The kind's rule, as its approval will check it: the source's form,
	// and that it is not accepted already.
	if err := identitySourceKind.check(v, Request{Params: b}); err != nil {
		return nil, v.refusedAs(ctx, who, "identity.source", src, err)
	}
	return v.openRequest(ctx, who, Request{Kind: KindIdentitySource, Reason: reason}, identitySourceParams{Source: src})
}

// identitySourceKind is what an approved identity.source does: it
// records identity.source.accepted, while the source is not accepted
// already.
var identitySourceKind = requestKind{
	check: func(v *Vault, r Request) error {
		p := params[identitySourceParams](r)
		if err := checkIdentitySource(p.Source); err != nil {
			return err
		}
		v.state.mu.RLock()
		_, ok := v.state.identity.Accepted[p.Source]
		v.state.mu.RUnlock()
		if ok {
			return refused(ErrConflict, "%s is accepted already", p.Source)
		}
		return nil
	},
	drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
		return []sequencer.Draft{{Type: TypeIdentitySourceAccepted, Actor: by.actor(),
			Data: IdentitySourceAccepted{Source: params[identitySourceParams](r).Source, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
	},
}
