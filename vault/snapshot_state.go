package vault

import (
	"errors"
	"time"
)

// snapState is the State as a snapshot holds it (JSON): the fields of
// State and of the types it holds, with their unexported parts carried
// explicitly. Maps that index others (byToken, sessionByID) are rebuilt,
// not stored. snapshot_test.go fails if State gains a field this does
// not carry.
type snapState struct {
	ApprovedHalves map[string][2]string   `json:"approved_halves"`
	CaseEvents     map[string][2]uint64   `json:"case_events"`
	Cases          map[string]*Case       `json:"cases"`
	Hot            snapHotline            `json:"hotline"`
	ItemEvents     map[string][2]uint64   `json:"item_events"`
	Items          map[string]*Item       `json:"items"`
	Log            LogOpened              `json:"log"`
	LostKeys       map[string]bool        `json:"lost_keys"`
	Objects        map[string]string      `json:"objects"`
	Packages       map[string]*Package    `json:"packages"`
	Persons        map[string]snapPerson  `json:"persons"`
	Recent         map[string]time.Time   `json:"recent"`
	Requests       map[string]snapRequest `json:"requests"`
	Retained       map[string]time.Time   `json:"retained"`
	Sessions       map[string]snapSession `json:"sessions"`
}

type snapPerson struct {
	Person
	TokenSHA256 string          `json:"token_sha256"`
	Invitation  *snapInvitation `json:"invitation"`
}

type snapInvitation struct {
	ID      string    `json:"id"`
	Halves  [2]string `json:"halves"`
	Expires time.Time `json:"expires"`
}

type snapRequest struct {
	Request        Request `json:"request"`
	InvitationHalf string  `json:"invitation_half"`
}

type snapSession struct {
	Credential  Credential `json:"credential"`
	Expires     time.Time  `json:"expires"`
	ID          string     `json:"id"`
	Person      string     `json:"person"`
	SignedIn    time.Time  `json:"signed_in"`
	TokenSHA256 string     `json:"token_sha256"`
}

type snapHotline struct {
	BySHA256    map[string][]string             `json:"by_sha256"`
	Contacts    string                          `json:"contacts"`
	Exposure    map[string]map[string]*Exposure `json:"exposure"`
	HashSets    map[string]*HashSet             `json:"hashsets"`
	Judged      []snapPDQ                       `json:"judged"`
	JudgedSet   map[string]bool                 `json:"judged_set"`
	PDQ         []snapPDQ                       `json:"pdq"`
	PDQOf       map[string][32]byte             `json:"pdq_of"`
	Policy      map[string]int                  `json:"policy"`
	ReportOrder []string                        `json:"report_order"`
	Reports     map[string]*Report              `json:"reports"`
	Votes       map[string]map[string]Vote      `json:"votes"`
}

type snapPDQ struct {
	Item string   `json:"item"`
	Hash [32]byte `json:"hash"`
}

// snapshot returns the state as a snapshot holds it. It shares the
// state's cases, items, packages and hotline records (encoding only
// reads them); s.mu is held.
func (s *State) snapshot() *snapState {
	out := &snapState{
		ApprovedHalves: s.approvedHalves, Cases: s.cases, Items: s.items, Log: s.log, LostKeys: s.lostKeys,
		Objects: s.objects, Packages: s.packages, Recent: s.recent, Retained: s.retained,
		CaseEvents: map[string][2]uint64{}, ItemEvents: map[string][2]uint64{},
		Persons: map[string]snapPerson{}, Requests: map[string]snapRequest{}, Sessions: map[string]snapSession{},
	}
	for k, n := range s.caseEvents {
		out.CaseEvents[k] = [2]uint64{n.n, n.last}
	}
	for k, n := range s.itemEvents {
		out.ItemEvents[k] = [2]uint64{n.n, n.last}
	}
	for k, p := range s.persons {
		sp := snapPerson{Person: *p, TokenSHA256: p.tokenSHA256}
		if inv := p.invitation; inv != nil {
			sp.Invitation = &snapInvitation{ID: inv.id, Halves: inv.halves, Expires: inv.expires}
		}
		out.Persons[k] = sp
	}
	for k, r := range s.requests {
		out.Requests[k] = snapRequest{Request: *r, InvitationHalf: r.invitationHalf}
	}
	for k, x := range s.sessions {
		out.Sessions[k] = snapSession{Credential: x.credential, Expires: x.expires, ID: x.id, Person: x.person,
			SignedIn: x.signedIn, TokenSHA256: x.tokenSHA256}
	}
	h := s.hot
	out.Hot = snapHotline{BySHA256: h.bySHA256, Contacts: h.contacts, Exposure: h.exposure, HashSets: h.hashsets,
		JudgedSet: h.judgedSet, PDQOf: h.pdqOf, Policy: h.policy, ReportOrder: h.reportOrder, Reports: h.reports, Votes: h.votes}
	for _, p := range h.pdq {
		out.Hot.PDQ = append(out.Hot.PDQ, snapPDQ{p.item, p.hash})
	}
	for _, p := range h.judged {
		out.Hot.Judged = append(out.Hot.Judged, snapPDQ{p.item, p.hash})
	}
	return out
}

// restore returns the State a snapshot holds, with the indexing maps
// rebuilt. A snapshot missing a map the appliers write to is refused.
func (b *snapState) restore() (*State, error) {
	s := newState()
	if b.Cases == nil || b.Items == nil || b.Packages == nil || b.Persons == nil || b.Objects == nil {
		return nil, errors.New("it lacks part of the state")
	}
	s.log = b.Log
	s.cases, s.items, s.packages, s.objects = b.Cases, b.Items, b.Packages, b.Objects
	setIf(&s.approvedHalves, b.ApprovedHalves)
	setIf(&s.lostKeys, b.LostKeys)
	setIf(&s.recent, b.Recent)
	setIf(&s.retained, b.Retained)
	for _, c := range s.cases {
		if c.Requests == nil {
			c.Requests = map[string]DestructionRequest{}
		}
		if c.Members == nil {
			c.Members = map[string]bool{}
		}
	}
	for k, n := range b.CaseEvents {
		s.caseEvents[k] = &named{n: n[0], last: n[1]}
	}
	for k, n := range b.ItemEvents {
		s.itemEvents[k] = &named{n: n[0], last: n[1]}
	}
	for k, sp := range b.Persons {
		p := sp.Person
		p.tokenSHA256 = sp.TokenSHA256
		if inv := sp.Invitation; inv != nil {
			p.invitation = &invitation{id: inv.ID, halves: inv.Halves, expires: inv.Expires}
		}
		s.persons[k] = &p
		if p.tokenSHA256 != "" {
			s.byToken[p.tokenSHA256] = &p
		}
	}
	for k, r := range b.Requests {
		req := r.Request
		req.invitationHalf = r.InvitationHalf
		s.requests[k] = &req
	}
	for k, x := range b.Sessions {
		ses := &session{credential: x.Credential, expires: x.Expires, id: x.ID, person: x.Person,
			signedIn: x.SignedIn, tokenSHA256: x.TokenSHA256}
		s.sessions[k] = ses
		s.sessionByID[ses.id] = ses
	}
	h, bh := s.hot, b.Hot
	setIf(&h.bySHA256, bh.BySHA256)
	setIf(&h.exposure, bh.Exposure)
	setIf(&h.hashsets, bh.HashSets)
	setIf(&h.judgedSet, bh.JudgedSet)
	setIf(&h.pdqOf, bh.PDQOf)
	setIf(&h.policy, bh.Policy)
	setIf(&h.reports, bh.Reports)
	setIf(&h.votes, bh.Votes)
	h.contacts, h.reportOrder = bh.Contacts, bh.ReportOrder
	for _, p := range bh.PDQ {
		h.pdq = append(h.pdq, pdqItem{p.Item, p.Hash})
	}
	for _, p := range bh.Judged {
		h.judged = append(h.judged, pdqItem{p.Item, p.Hash})
	}
	return s, nil
}

// setIf replaces *dst with m unless m is nil (newState's empty map stays).
func setIf[M ~map[K]V, K comparable, V any](dst *M, m M) {
	if m != nil {
		*dst = m
	}
}
