package vault

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault/idtoken"
)

// The projection of identity events: sessions, invitations, suspensions
// and the pending two-person requests.

// session is an open session, as its session.opened event recorded it.
type session struct {
	id          string
	person      string
	tokenSHA256 string
	expires     time.Time
	// signedIn is when the sign-in this session continues was made.
	signedIn   time.Time
	credential Credential
}

// Request is a pending decision that needs the approval of a custodian
// other than its requester.
type Request struct {
	// By and ByRole are the requester and their role.
	By      string          `json:"by"`
	ByRole  string          `json:"by_role"`
	Case    string          `json:"case,omitempty"`
	Expires time.Time       `json:"expires"`
	Kind    string          `json:"kind"`
	Opened  time.Time       `json:"opened"`
	Params  json.RawMessage `json:"params"`
	Person  string          `json:"person,omitempty"`
	ID      string          `json:"request"`
	// Reason is why the requester asks, as typed (optional).
	Reason string `json:"reason,omitempty"`

	invitationHalf string // SHA-256 of the requester's invitation half
	// void is set when the requester is suspended or removed while the
	// request is pending (voidAt: the time of that event): it is never
	// approved, even after a reinstatement.
	void   bool
	voidAt time.Time
	// via are the identity sources the requester's OpenID session went
	// through when they asked (oidcSourcesOf; none for other sign-ins):
	// a retirement of one voids the request.
	via []string
}

// sessionSweepEvery is how many sign-ins pass between sweeps of expired
// sessions from the state.
const sessionSweepEvery = 1024

func applySessionOpened(s *State, ev *events.Event) error {
	d, err := data[SessionOpened](ev)
	if err != nil {
		return err
	}
	exp, err := time.Parse(time.RFC3339, d.Expires)
	if err != nil {
		return fmt.Errorf("expires: %w", err)
	}
	if d.Session == "" || d.Session != ev.Actor.Session {
		return fmt.Errorf("session %q is not the actor's session %q", d.Session, ev.Actor.Session)
	}
	if old := s.sessionByID[d.Refreshed]; d.Refreshed != "" && old != nil {
		s.dropSession(old)
	}
	a := ev.Actor
	signedIn := ev.Timestamp()
	if d.SignedIn != "" {
		if signedIn, err = time.Parse(time.RFC3339Nano, d.SignedIn); err != nil {
			return fmt.Errorf("signed_in: %w", err)
		}
	}
	se := &session{id: d.Session, person: a.Person, tokenSHA256: d.TokenSHA256, expires: exp, signedIn: signedIn,
		credential: Credential{Auth: a.Auth, Session: a.Session, Issuer: a.Issuer, Subject: a.Subject,
			Certificate: a.Certificate, ACR: a.ACR, AMR: slices.Clone(a.AMR), Expires: exp, Claim: d.Claim, ClientID: d.ClientID, Key: d.Key}}
	s.sessions[d.TokenSHA256] = se
	s.sessionByID[d.Session] = se
	if d.IDToken != "" {
		s.rememberIDToken(d.IDToken, ev.Timestamp())
	}
	if len(s.sessionByID)%sessionSweepEvery == 0 {
		now := ev.Timestamp()
		for _, o := range s.sessionByID {
			if !now.Before(o.expires) {
				s.dropSession(o)
			}
		}
	}
	return nil
}

// idTokenSkew is how long past its exp the vault remembers an ID token:
// its verifier allows a provider's clock that much ahead of its own.
const idTokenSkew = 5 * time.Minute

// rememberIDToken notes an ID token that opened a session at now, until
// a week past its exp (unread: a day), and forgets those past that.
func (s *State) rememberIDToken(token string, now time.Time) {
	exp := idtoken.UnverifiedExpiry(token)
	if exp.IsZero() {
		exp = now.Add(24 * time.Hour)
	}
	rememberToken(s.idTokens, idtoken.Digest(token), exp, now)
}

// rememberToken notes the ID token of digest sum, expiring at exp, in
// seen (the vault's state and the audit's rules keep one each), and now
// and then forgets those a week past their exp (sessionGrace): not
// sooner, so that an event's time put back (a clock put right) does not
// make a token forgotten at a later time pass again at an earlier one.
// It reports whether seen held sum already.
func rememberToken(seen map[string]time.Time, sum string, exp, now time.Time) (again bool) {
	_, again = seen[sum]
	if len(seen)%256 == 255 {
		for s, e := range seen {
			if now.After(e.Add(idTokenSkew + sessionGrace)) {
				delete(seen, s)
			}
		}
	}
	seen[sum] = exp
	return again
}

// idTokenUsed reports whether the ID token of digest sum
// (idtoken.Digest) opened a session already (and has not expired
// since).
func (s *State) idTokenUsed(sum string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.idTokens[sum]
	return ok
}

func applySessionEnded(s *State, ev *events.Event) error {
	d, err := data[SessionEnded](ev)
	if err != nil {
		return err
	}
	if se := s.sessionByID[d.Session]; se != nil {
		s.dropSession(se)
	}
	return nil
}

func (s *State) dropSession(se *session) {
	delete(s.sessions, se.tokenSHA256)
	delete(s.sessionByID, se.id)
}

// endSessionsOf ends every session of a person (a credential re-issued,
// a person suspended or removed).
func (s *State) endSessionsOf(name string) {
	for _, se := range s.sessionByID {
		if se.person == name {
			s.dropSession(se)
		}
	}
}

func applyCredentialIssued(s *State, ev *events.Event) error {
	d, err := data[CredentialIssued](ev)
	if err != nil {
		return err
	}
	p := s.persons[d.Name]
	if p == nil || p.invitation == nil || p.invitation.id != d.Invitation {
		return fmt.Errorf("redeems invitation %q, which %s does not hold", d.Invitation, d.Name)
	}
	delete(s.byToken, p.tokenSHA256)
	p.invitation = nil
	p.tokenSHA256 = d.TokenSHA256
	s.byToken[d.TokenSHA256] = p
	return nil
}

func applyCredentialReissued(s *State, ev *events.Event) error {
	d, err := data[CredentialReissued](ev)
	if err != nil {
		return err
	}
	p := s.persons[d.Name]
	if p == nil {
		return fmt.Errorf("re-issues the credential of %q, who was never enrolled", d.Name)
	}
	inv, err := s.invitationOf(d.Invitation, d.Expires)
	if err != nil {
		return err
	}
	delete(s.byToken, p.tokenSHA256)
	p.tokenSHA256 = ""
	p.invitation = inv
	s.endSessionsOf(d.Name)
	return nil
}

// invitationOf builds the invitation of an approved request from the
// halves its request.opened and request.approved events recorded.
func (s *State) invitationOf(id, expires string) (*invitation, error) {
	a, ok := s.approvedHalves[id]
	if !ok {
		return nil, fmt.Errorf("invitation %q follows no approval that issued one", id)
	}
	delete(s.approvedHalves, id)
	exp, err := time.Parse(time.RFC3339, expires)
	if err != nil {
		return nil, fmt.Errorf("expires: %w", err)
	}
	// Void from the start if one of its sources was retired already (a
	// server that did not check: the audit's rules report the approval).
	return &invitation{id: id, halves: a.Halves, expires: exp, via: a.Via, void: s.identity.retiredOf(a.Via)}, nil
}

// approvedInvitation is an approval's invitation until the enrolment or
// re-issue after it applies: the SHA-256 of its two halves (the
// requester's and the approver's), and the identity sources either
// custodian went through to ask or approve (State.requestSources), the
// retirement of any of which voids it.
type approvedInvitation struct {
	Halves [2]string `json:"halves"`
	Via    []string  `json:"via,omitempty"`
}

func applyPersonStatus(typ string) applier {
	return func(s *State, ev *events.Event) error {
		d, err := data[PersonStatus](ev)
		if err != nil {
			return err
		}
		p := s.persons[d.Name]
		if p == nil {
			return fmt.Errorf("names %q, who was never enrolled", d.Name)
		}
		if typ == TypePersonSuspended || typ == TypePersonRemoved {
			s.voidRequestsOf(d.Name, ev.Timestamp())
		}
		if typ == TypePersonReinstated {
			// A vote counted again is a vote cast again: what the
			// votes settle as illegal now stays held if it disputes it.
			s.markSettledVotedBy(d.Name)
		} else {
			marks := s.marksSettled(func(item string, _ settledMark) bool {
				_, voted := s.hot.votes[item][d.Name]
				return voted
			})
			defer s.dropUnsettled(marks)
		}
		switch typ {
		case TypePersonSuspended:
			p.Suspended = true
			p.Suspension = &StatusNote{By: ev.Actor.Person, At: ev.Timestamp(), Reason: d.Reason}
			s.endSessionsOf(d.Name)
		case TypePersonReinstated:
			p.Suspended, p.Suspension = false, nil
		case TypePersonRemoved:
			// The credential stays known, so that signing in with it is
			// answered "removed" (and refused).
			p.Removed = true
			p.Suspension = nil // removed for good: no suspension is in force
			p.invitation = nil
			s.endSessionsOf(d.Name)
		}
		return nil
	}
}

// voidRequestsOf marks every pending request of name void, two-person
// and destruction requests alike: a suspension or removal ends what the
// person asked for, for good.
func (s *State) voidRequestsOf(name string, at time.Time) {
	for _, r := range s.requests {
		// One that expired already ended so, though it is still here
		// until the next request's opening.
		if r.By == name && !r.void && at.Before(r.Expires) {
			r.void, r.voidAt = true, at
		}
	}
	for _, c := range s.cases {
		for id, r := range c.Requests {
			// One whose recorded expiry passed had expired, not become
			// void (one of before expiries were recorded is voided).
			if exp, err := time.Parse(time.RFC3339, r.Expires); r.By == name && !r.Void && (err != nil || at.Before(exp)) {
				if r.HeldAfter == 0 {
					r.Void, r.VoidAt = true, at
				}
				c.Requests[id] = r
			}
		}
	}
}

func applyRequestOpened(s *State, ev *events.Event) error {
	d, err := data[RequestOpened](ev)
	if err != nil {
		return err
	}
	exp, err := time.Parse(time.RFC3339, d.Expires)
	if err != nil {
		return fmt.Errorf("expires: %w", err)
	}
	s.requests[d.Request] = &Request{ID: d.Request, Kind: d.Kind, Case: d.Case, Person: d.Person, Params: d.Params,
		By: ev.Actor.Person, ByRole: ev.Actor.Role, Opened: ev.Timestamp(), Expires: exp, invitationHalf: d.InvitationSHA256, Reason: d.Reason,
		via: s.requestSources(ev.Actor, d.ClientCAs)}
	if r := s.requests[d.Request]; s.identity.retiredOf(r.via) != "" {
		r.void, r.voidAt = true, ev.Timestamp()
	}
	// Requests that ended unanswered leave the state once expired.
	now := ev.Timestamp()
	for id, r := range s.requests {
		if now.After(r.Expires) {
			delete(s.requests, id)
			s.decided[id] = r.unanswered()
		}
	}
	return nil
}

func applyRequestDecided(s *State, ev *events.Event) error {
	d, err := data[RequestDecided](ev)
	if err != nil {
		return err
	}
	r := s.requests[d.Request]
	if r == nil {
		return fmt.Errorf("decides request %q, which is not pending", d.Request)
	}
	// What an independent reader checks of a decision (custody-log.md
	// section 5.5): it names the request's kind and requester as its
	// request.opened recorded them, and nobody approves their own.
	switch {
	case d.Kind != r.Kind:
		return fmt.Errorf("decides request %s as kind %q; it was opened as %q", d.Request, d.Kind, r.Kind)
	case d.RequestedBy != r.By:
		return fmt.Errorf("decides request %s as asked by %q; %q opened it", d.Request, d.RequestedBy, r.By)
	case ev.Type == TypeRequestApproved && ev.Actor.Person == r.By:
		return fmt.Errorf("request %s is approved by %s, who asked for it", d.Request, r.By)
	}
	delete(s.requests, d.Request)
	end := rejection(ev, d.RequestedBy)
	if ev.Type == TypeRequestApproved {
		end = requestEnd{Outcome: OutcomeApproved, By: ev.Actor.Person, At: ev.Timestamp()}
	}
	end.Reason = d.Reason
	s.decided[d.Request] = r.ended(end)
	if ev.Type == TypeRequestApproved && d.InvitationSHA256 != "" {
		s.approvedHalves[d.Request] = approvedInvitation{Halves: [2]string{r.invitationHalf, d.InvitationSHA256},
			Via: union(r.via, s.requestSources(ev.Actor, d.ClientCAs))}
	}
	return nil
}

func applyCasePolicySet(s *State, ev *events.Event) error {
	d, err := data[CasePolicySet](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	// Fail closed: a value other than the two this format writes (a log
	// written by another build, or by whoever holds the log's key)
	// never drops the approval (docs/custody-log.md, case.policy.set).
	c.ExportApproval = d.ExportApproval != ExportApprovalNone
	c.ExportPolicy = &StatusNote{By: ev.Actor.Person, At: ev.Timestamp(), Reason: d.Reason, RequestedBy: d.RequestedBy}
	return nil
}

// session returns the session with the token hash, and its person.
func (s *State) session(tokenSHA256 string) (*session, Person) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	se := s.sessions[tokenSHA256]
	if se == nil {
		return nil, Person{}
	}
	p := s.persons[se.person]
	if p == nil {
		return nil, Person{}
	}
	return se, *p
}

// sessionSignedIn returns when the sign-in an open session continues was
// made (zero if the session is not open).
func (s *State) sessionSignedIn(id string) time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if se := s.sessionByID[id]; se != nil {
		return se.signedIn
	}
	return time.Time{}
}

// sessionLive reports whether the session is open (not ended, not
// replaced, not dropped with its person's credential).
func (s *State) sessionLive(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessionByID[id] != nil
}

// personByIdentity finds the person an external identity names: the one
// enrolled with that OIDC claim value or certificate name, or, among those
// enrolled without one, the one of that name.
func (s *State) personByIdentity(kind, name string) (Person, bool) {
	if name == "" {
		return Person{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// An explicit binding first; bindings are unique among every person
	// ever enrolled (identityFree), removed ones included, so at most one
	// matches.
	for _, p := range s.persons {
		bound := p.OIDC
		if kind == "certificate" {
			bound = p.Certificate
		}
		if bound == name {
			return *p, true
		}
	}
	if p := s.persons[name]; p != nil {
		bound := p.OIDC
		if kind == "certificate" {
			bound = p.Certificate
		}
		if bound == "" {
			return *p, true
		}
	}
	return Person{}, false
}

// custodiansEver counts every custodian the log ever enrolled, whatever
// became of them.
func (s *State) custodiansEver() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range s.persons {
		if p.Role == RoleCustodian {
			n++
		}
	}
	return n
}

// request returns a pending request.
func (s *State) request(id string) (Request, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.requests[id]
	if r == nil {
		return Request{}, false
	}
	return *r, true
}

// pendingRequests returns the pending requests not expired at now, oldest
// first.
func (s *State) pendingRequests(now time.Time) []Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Request
	for _, r := range s.requests {
		if now.Before(r.Expires) {
			out = append(out, *r)
		}
	}
	// Oldest first; requests opened at the same time by id.
	slices.SortFunc(out, func(a, b Request) int { return cmp.Or(a.Opened.Compare(b.Opened), strings.Compare(a.ID, b.ID)) })
	return out
}

// activeCustodiansBut counts the custodians other than but who can act
// at now: neither suspended nor removed, and either holding a credential
// or with an invitation they can still redeem (one whose invitation
// expired unused, or was voided by an identity source's retirement, can
// act only after a re-issue, which needs two custodians).
func (s *State) activeCustodiansBut(but string, now time.Time) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range s.persons {
		if p.Role != RoleCustodian || p.Suspended || p.Removed || p.Name == but {
			continue
		}
		if inv := p.invitation; inv != nil && p.tokenSHA256 == "" && (!now.Before(inv.expires) || inv.void != "") {
			continue
		}
		n++
	}
	return n
}

// caseDestruction is a destruction request with its case.
type caseDestruction struct {
	Case string
	DestructionRequest
}

// pendingDestructions returns the destruction requests of the cases not
// destroyed, by case and id, whether or not they can still be approved
// (Vault.openDestructions).
func (s *State) pendingDestructions() []caseDestruction {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []caseDestruction
	for id, c := range s.cases {
		if c.Destroyed {
			continue
		}
		for _, r := range c.Requests {
			out = append(out, caseDestruction{Case: id, DestructionRequest: r})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Case < out[j].Case || (out[i].Case == out[j].Case && out[i].Request < out[j].Request)
	})
	return out
}

// persons returns every person, by name.
func (s *State) allPersons() []Person {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Person, 0, len(s.persons))
	for _, p := range s.persons {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// requestEnd is how a request left the state: approved, rejected or
// withdrawn (By, at the deciding event's time), expired unanswered (At
// its expiry), superseded by the approval of another request to destroy
// the same case (Through), or void: its requester By was suspended or
// removed while it waited (a two-person request's At is when that voided
// it; a destruction request's, found void when another's approval ended
// it, the request's time).
type requestEnd struct {
	Outcome string    `json:"outcome"`
	By      string    `json:"by,omitempty"`
	At      time.Time `json:"at"`
	Through string    `json:"through,omitempty"`
	// Requester is who asked (a two-person request's; "" for a
	// destruction request's, which only custodians ask and know of):
	// they are told how their own request ended.
	Requester string `json:"requester,omitempty"`
	// Kind, Case, Person, Params and Asked are a two-person request's,
	// as its request.opened recorded them (a sealing's Params without
	// their item list, which may be long), so that it is described as it
	// was while pending; Reason the decider's, as the deciding event
	// recorded it (why it was rejected, withdrawn or approved); Package
	// the package an approved package.seal request sealed, once its
	// package.sealed is recorded. Its requester is told them
	// (Vault.EndedRequests).
	Kind    string          `json:"kind,omitempty"`
	Case    string          `json:"case,omitempty"`
	Person  string          `json:"person,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Asked   time.Time       `json:"asked,omitzero"`
	Reason  string          `json:"reason,omitempty"`
	Package string          `json:"package,omitempty"`
}

// ended is how the two-person request r ended, with what its requester
// is told of it.
func (r *Request) ended(e requestEnd) requestEnd {
	e.Requester, e.Kind, e.Asked, e.Case, e.Person, e.Params = r.By, r.Kind, r.Opened, r.Case, r.Person, r.Params
	if r.Kind == KindSeal {
		p := params[sealParams](*r)
		p.Items = nil
		e.Params, _ = json.Marshal(p)
	}
	return e
}

// unanswered is how the two-person request r ended if nobody decided it:
// void since its requester's suspension or removal, or else expired.
func (r *Request) unanswered() requestEnd {
	if r.void {
		return r.ended(requestEnd{Outcome: OutcomeVoid, By: r.By, At: r.voidAt})
	}
	return r.ended(requestEnd{Outcome: OutcomeExpired, At: r.Expires})
}

// ended is how the destruction request r of case caseID ended, with
// what its requester is told of it (EndedRequests): its kind, case,
// time and what it asked (order, reason).
func (r DestructionRequest) ended(caseID string, e requestEnd) requestEnd {
	e.Requester, e.Kind, e.Case, e.Asked = r.By, KindDestroy, caseID, r.At
	e.Params, _ = json.Marshal(destroyParams{Order: r.Order, Reason: r.Reason})
	return e
}

// unanswered is how the destruction request r of case caseID ended if
// nobody decided it, at now: void since a legal hold was placed on its
// case (OutcomeHeld) or since its requester was suspended or removed
// (OutcomeVoid), at when that happened (the request's own time where a
// state of before 2026-12-06 did not keep it), or else expired.
func (r DestructionRequest) unanswered(caseID string) requestEnd {
	at := r.VoidAt
	if at.IsZero() {
		at = r.At
	}
	switch {
	case r.HeldAfter != 0:
		return r.ended(caseID, requestEnd{Outcome: OutcomeHeld, By: r.By, At: at})
	case r.Void:
		return r.ended(caseID, requestEnd{Outcome: OutcomeVoid, By: r.By, At: at})
	}
	exp, err := time.Parse(time.RFC3339, r.Expires)
	if r.Expires == "" || err != nil {
		// Recorded before expiries were: the default TTL (the vault
		// may have run with a shorter one; this says no less).
		exp = r.At.Add(DefaultRequestTTL)
	}
	return r.ended(caseID, requestEnd{Outcome: OutcomeExpired, At: exp.UTC()})
}

// destroyParams is what a destruction request asked, as its requester
// is told it ended (EndedRequest.Params): the court order and reason.
type destroyParams struct {
	Order  string `json:"order"`
	Reason string `json:"reason"`
}

// The outcomes of a requestEnd.
const (
	OutcomeApproved   = "approved"
	OutcomeRejected   = "rejected"
	OutcomeWithdrawn  = "withdrawn"
	OutcomeExpired    = "expired"
	OutcomeSuperseded = "superseded"
	// OutcomeVoid: void since its requester (By) was suspended or
	// removed, or an identity source they signed in through to ask was
	// retired, while it waited: a two-person request, unanswered since
	// (At: when it was voided), or a destruction request found void
	// when another request's approval ended it.
	OutcomeVoid = "void"
	// OutcomeHeld: a destruction request void since a legal hold was
	// placed on its case while it waited (At: then); lifting the hold
	// does not bring it back.
	OutcomeHeld = "held"
)

// rejection is the end of a request its event rejects: withdrawn when
// its requester rejected it.
func rejection(ev *events.Event, requestedBy string) requestEnd {
	out := OutcomeRejected
	if ev.Actor.Person == requestedBy {
		out = OutcomeWithdrawn
	}
	return requestEnd{Outcome: out, By: ev.Actor.Person, At: ev.Timestamp()}
}

// endedOf returns the requests person asked (two-person and destruction
// requests) that ended at or after since and by now, by id: those the
// log ended, and those void or expired unanswered by now, which leave
// the state later (a two-person request at the next request's opening, a
// destruction request when its case is destroyed).
func (s *State) endedOf(person string, since, now time.Time) map[string]requestEnd {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]requestEnd{}
	for id, e := range s.decided {
		if e.Requester == person && !e.At.Before(since) {
			out[id] = e
		}
	}
	for id, r := range s.requests {
		if r.By != person {
			continue
		}
		// Void from its requester's suspension or removal: ended then,
		// though it leaves the state only once expired.
		if e := r.unanswered(); (r.void || !now.Before(r.Expires)) && !e.At.Before(since) {
			out[id] = e
		}
	}
	// Destruction requests void or expired while their case lives: they
	// leave the state only when a later approval destroys it.
	for _, c := range s.cases {
		for id, r := range c.Requests {
			if r.By != person {
				continue
			}
			if e := r.unanswered(c.ID); (e.Outcome != OutcomeExpired || !now.Before(e.At)) && !e.At.Before(since) {
				out[id] = e
			}
		}
	}
	return out
}

// requestEnded returns how the request id ended, if it did.
func (s *State) requestEnded(id string) (requestEnd, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.decided[id]
	return e, ok
}
