package vault

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// snapState is the State as a snapshot holds it (JSON): the fields of
// State and of the types it holds, with their unexported parts carried
// explicitly. Maps that index others are rebuilt, not stored: byToken,
// sessionByID, and (deriveIndexes) the object index, each case's items
// and the items of each content SHA-256. snapshot_test.go fails if State
// gains a field this does not carry.
type snapState struct {
	ApprovedHalves map[string][2]string   `json:"approved_halves,omitempty"`
	CaseEvents     map[string][2]uint64   `json:"case_events,omitempty"`
	CaseOwn        map[string][2]uint64   `json:"case_own_events,omitempty"`
	Cases          map[string]*Case       `json:"cases,omitempty"`
	Decided        map[string]requestEnd  `json:"decided,omitempty"`
	Hot            *snapHotline           `json:"hotline,omitempty"`
	ItemEvents     map[string][2]uint64   `json:"item_events,omitempty"`
	Items          map[string]*Item       `json:"items,omitempty"`
	Log            *LogOpened             `json:"log,omitempty"`
	LostKeys       map[string]bool        `json:"lost_keys,omitempty"`
	Packages       map[string]*Package    `json:"packages,omitempty"`
	Persons        map[string]snapPerson  `json:"persons,omitempty"`
	Recent         map[string]time.Time   `json:"recent,omitempty"`
	Requests       map[string]snapRequest `json:"requests,omitempty"`
	Retained       map[string]time.Time   `json:"retained,omitempty"`
	Sessions       map[string]snapSession `json:"sessions,omitempty"`
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
	Void           bool    `json:"void,omitempty"`
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
		ApprovedHalves: s.approvedHalves, Decided: s.decided, Items: s.items, Log: &s.log, LostKeys: s.lostKeys,
		Packages: s.packages, Recent: s.recent, Retained: s.retained,
		CaseEvents: map[string][2]uint64{}, ItemEvents: map[string][2]uint64{}, CaseOwn: map[string][2]uint64{},
		Persons: map[string]snapPerson{}, Requests: map[string]snapRequest{}, Sessions: map[string]snapSession{},
	}
	// Cases without their item lists (deriveIndexes): copies, as the
	// state's cases are shared with readers of the state.
	out.Cases = make(map[string]*Case, len(s.cases))
	for k, c := range s.cases {
		cc := *c
		cc.Items = nil
		out.Cases[k] = &cc
	}
	for k, n := range s.caseEvents {
		out.CaseEvents[k] = [2]uint64{n.n, n.last}
	}
	for k, n := range s.caseOwn {
		out.CaseOwn[k] = [2]uint64{n.n, n.last}
	}
	for k, n := range s.itemEvents {
		out.ItemEvents[k] = [2]uint64{n.n, n.last}
	}
	for k, it := range s.items {
		if it.events.n > 0 {
			out.ItemEvents[k] = [2]uint64{it.events.n, it.events.last}
		}
	}
	for k, p := range s.persons {
		sp := snapPerson{Person: *p, TokenSHA256: p.tokenSHA256}
		if inv := p.invitation; inv != nil {
			sp.Invitation = &snapInvitation{ID: inv.id, Halves: inv.halves, Expires: inv.expires}
		}
		out.Persons[k] = sp
	}
	for k, r := range s.requests {
		out.Requests[k] = snapRequest{Request: *r, InvitationHalf: r.invitationHalf, Void: r.void}
	}
	for k, x := range s.sessions {
		out.Sessions[k] = snapSession{Credential: x.credential, Expires: x.expires, ID: x.id, Person: x.person,
			SignedIn: x.signedIn, TokenSHA256: x.tokenSHA256}
	}
	h := s.hot
	out.Hot = &snapHotline{Contacts: h.contacts, Exposure: h.exposure, HashSets: h.hashsets,
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
	var r restorer
	if err := r.add(b); err != nil {
		return nil, err
	}
	return r.state()
}

// restorer builds the State from a snapshot's lines (snapState.split),
// filing each entry of the large maps once under its record's own copy
// of its id: JSON decoding gives every map key and field its own copy,
// and a state restored from a snapshot would otherwise hold each id,
// object name and content SHA-256 up to six times (StateMemoryPerItem
// benchmark). Values are never changed: a snapshot whose records do not
// carry the ids they are filed under is refused, not repaired, and one
// that names an entry twice is refused.
type restorer struct {
	b snapState
	// itemEvents, caseEvents and caseOwn are the state's own maps,
	// filled as the lines come (b does not hold the event counts).
	itemEvents, caseEvents, caseOwn map[string]named
	// sizes, if known (the snapshot's header), size the large maps once.
	sizes snapshotEntries
}

// snapshotEntries counts the entries of a snapshot's large maps.
type snapshotEntries struct {
	Items      int `json:"items"`
	Cases      int `json:"cases"`
	ItemEvents int `json:"item_events"`
	CaseEvents int `json:"case_events"`
	CaseOwn    int `json:"case_own_events"`
}

// entries counts b's large maps' entries.
func (b *snapState) entries() *snapshotEntries {
	return &snapshotEntries{Items: len(b.Items), Cases: len(b.Cases),
		ItemEvents: len(b.ItemEvents), CaseEvents: len(b.CaseEvents), CaseOwn: len(b.CaseOwn)}
}

var errSnapshotDup = errors.New("it names an entry twice")

// add adds a snapshot line (or a whole snapshot) to the state read so
// far.
func (r *restorer) add(part *snapState) error {
	b := &r.b
	for id, it := range part.Items {
		if it == nil || it.ID != id {
			return fmt.Errorf("its item %q is filed under another id", id)
		}
		if !addCanon(&b.Items, r.sizes.Items, it.ID, it) {
			return errSnapshotDup
		}
	}
	for id, c := range part.Cases {
		if c == nil || c.ID != id {
			return fmt.Errorf("its case %q is filed under another id", id)
		}
		if !addCanon(&b.Cases, r.sizes.Cases, c.ID, c) {
			return errSnapshotDup
		}
	}
	for id, n := range part.ItemEvents {
		if n[0] == 0 {
			return fmt.Errorf("it counts no events naming %q", id)
		}
		// On the item itself, if it is one (its line came first).
		if it := b.Items[id]; it != nil {
			if it.events.n != 0 {
				return errSnapshotDup
			}
			it.events = named{n: n[0], last: n[1]}
			continue
		}
		if !addCanon(&r.itemEvents, 0, id, named{n: n[0], last: n[1]}) {
			return errSnapshotDup
		}
	}
	for id, n := range part.CaseEvents {
		if !addCanon(&r.caseEvents, r.sizes.CaseEvents, r.caseID(id), named{n: n[0], last: n[1]}) {
			return errSnapshotDup
		}
	}
	for id, n := range part.CaseOwn {
		if !addCanon(&r.caseOwn, r.sizes.CaseOwn, r.caseID(id), named{n: n[0], last: n[1]}) {
			return errSnapshotDup
		}
	}
	for id, p := range part.Packages {
		if p == nil || p.ID != id {
			return fmt.Errorf("its package %q is filed under another id", id)
		}
	}
	if !mergeInto(&b.ApprovedHalves, part.ApprovedHalves) || !mergeInto(&b.Decided, part.Decided) || !mergeInto(&b.LostKeys, part.LostKeys) ||
		!mergeInto(&b.Packages, part.Packages) || !mergeInto(&b.Persons, part.Persons) || !mergeInto(&b.Recent, part.Recent) ||
		!mergeInto(&b.Requests, part.Requests) || !mergeInto(&b.Retained, part.Retained) || !mergeInto(&b.Sessions, part.Sessions) {
		return errSnapshotDup
	}
	if part.Log != nil {
		if b.Log != nil {
			return errSnapshotDup
		}
		b.Log = part.Log
	}
	if part.Hot != nil {
		if b.Hot != nil {
			return errSnapshotDup
		}
		b.Hot = part.Hot
	}
	return nil
}

// canonItemID returns the copy of an item id its record in items holds,
// else the string given (the vault writes items before the maps that
// name them).
func canonItemID(items map[string]*Item, id string) string {
	if it := items[id]; it != nil {
		return it.ID
	}
	return id
}

// caseID is canonItemID for a case id read so far.
func (r *restorer) caseID(id string) string {
	if c := r.b.Cases[id]; c != nil {
		return c.ID
	}
	return id
}

// addCanon files v under k in *m (made with room for size entries if
// nil); false if k is there already.
func addCanon[V any](m *map[string]V, size int, k string, v V) bool {
	if *m == nil {
		*m = make(map[string]V, size)
	}
	if _, ok := (*m)[k]; ok {
		return false
	}
	(*m)[k] = v
	return true
}

// state returns the State read, with the indexing maps rebuilt and the
// remaining ids shared with their records.
func (r *restorer) state() (*State, error) {
	b := &r.b
	s := newState()
	if b.Log == nil || b.Hot == nil || b.Log.Origin == "" {
		return nil, errors.New("it lacks part of the state")
	}
	s.log = *b.Log
	setIf(&s.cases, b.Cases)
	setIf(&s.items, b.Items)
	setIf(&s.packages, b.Packages)
	setIf(&s.approvedHalves, b.ApprovedHalves)
	setIf(&s.decided, b.Decided)
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
	setIf(&s.caseEvents, r.caseEvents)
	setIf(&s.caseOwn, r.caseOwn)
	// An item's count lives on the item (Item.events); the map keeps
	// only the ids that name no item.
	for id, n := range r.itemEvents {
		if it := s.items[id]; it != nil {
			if it.events.n != 0 {
				return nil, errSnapshotDup
			}
			it.events = n
			continue
		}
		s.itemEvents[id] = n
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
		req.invitationHalf, req.void = r.InvitationHalf, r.Void
		s.requests[k] = &req
	}
	for k, x := range b.Sessions {
		ses := &session{credential: x.Credential, expires: x.Expires, id: x.ID, person: x.Person,
			signedIn: x.SignedIn, tokenSHA256: x.TokenSHA256}
		s.sessions[k] = ses
		s.sessionByID[ses.id] = ses
	}
	h, bh := s.hot, *b.Hot
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
	if err := s.deriveIndexes(); err != nil {
		return nil, err
	}
	if err := s.intern(); err != nil {
		return nil, err
	}
	return s, nil
}

// deriveIndexes rebuilds the indexes a snapshot does not carry from the
// records they index, as the appliers build them: the object index (each
// item's and each sealed package's object), each case's items (those
// deposited after the case's opening, in deposit order) and the items of
// each content SHA-256 (in deposit order). The appliers refuse a log in
// which these would differ (an item deposited twice, a package sealed
// twice, an object recorded twice), so the indexes are the replay's. The
// strings are the records' own. An item of a case the snapshot lacks is
// refused.
func (s *State) deriveIndexes() error {
	items := slices.SortedFunc(maps.Values(s.items), func(a, b *Item) int { return cmp.Compare(a.DepositAt, b.DepositAt) })
	perCase := map[string]int{}
	for _, it := range items {
		c := s.cases[it.Case]
		if c == nil {
			return fmt.Errorf("its item %q is of case %q, which it lacks", it.ID, it.Case)
		}
		it.Case = c.ID // the state's copy
		// An item deposited before its case's (later) opening is not
		// on its list: that opening replaced the case.
		if it.DepositAt > c.OpenedSeq {
			perCase[it.Case]++
		}
	}
	for _, c := range s.cases {
		c.Items = nil
	}
	for id, n := range perCase {
		s.cases[id].Items = make([]string, 0, n)
	}
	s.objects = make(map[string]string, len(items)+len(s.packages))
	h := s.hot
	h.bySHA256 = newContentIndex(len(items))
	for _, it := range items {
		if c := s.cases[it.Case]; it.DepositAt > c.OpenedSeq {
			c.Items = append(c.Items, it.ID)
		}
		s.objects[it.Deposit.Object] = it.ID
		h.bySHA256.add(it.Deposit.SHA256, it.ID)
	}
	for _, p := range s.packages {
		if p.Sealed != nil {
			s.objects[p.Sealed.Object] = p.ID
		}
	}
	return nil
}

// intern makes the rest of the restored state share one copy of each
// item id, object name and person name with the records that hold it
// (restorer.add did so for the large maps' keys, deriveIndexes for the
// indexes it builds). A person filed under another name is refused. s is not yet
// shared.
func (s *State) intern() error {
	for name, p := range s.persons {
		if p == nil || p.Name != name {
			return fmt.Errorf("its person %q is filed under another name", name)
		}
		p.Name = name
	}
	itemID := func(id string) string { return canonItemID(s.items, id) }
	objectName := func(name string) string {
		if it := s.items[s.objects[name]]; it != nil && it.Deposit.Object == name {
			return it.Deposit.Object
		}
		return name
	}
	for _, it := range s.items {
		if p := s.persons[it.By]; p != nil {
			it.By = p.Name
		}
	}
	s.recent = rekey(s.recent, objectName)
	h := s.hot
	h.pdqOf = rekey(h.pdqOf, itemID)
	h.judgedSet = rekey(h.judgedSet, itemID)
	h.votes = rekey(h.votes, itemID)
	for i := range h.pdq {
		h.pdq[i].item = itemID(h.pdq[i].item)
	}
	for i := range h.judged {
		h.judged[i].item = itemID(h.judged[i].item)
	}
	return nil
}

// rekey returns m with each key replaced by canon(key), the one copy of
// that string the state keeps.
func rekey[V any](m map[string]V, canon func(string) string) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[canon(k)] = v
	}
	return out
}

// setIf replaces *dst with m unless m is nil (newState's empty map stays).
func setIf[M ~map[K]V, K comparable, V any](dst *M, m M) {
	if m != nil {
		*dst = m
	}
}

// split returns the state as the lines of a snapshot: the large maps (an
// entry per item, case or package, and the event counts per item and
// case), items first, in parts of at most perLine entries, then the rest;
// so that neither writing nor reading a snapshot holds more than a few
// lines' JSON beside the state.
func (b *snapState) split(perLine int) []*snapState {
	var out []*snapState
	chunk := func(n int, set func(part *snapState, from, to int)) {
		for from := 0; from < n; from += perLine {
			part := &snapState{}
			set(part, from, min(n, from+perLine))
			out = append(out, part)
		}
	}
	chunk(len(b.Items), chunker(b.Items, func(p *snapState, m map[string]*Item) { p.Items = m }))
	chunk(len(b.Cases), chunker(b.Cases, func(p *snapState, m map[string]*Case) { p.Cases = m }))
	chunk(len(b.Packages), chunker(b.Packages, func(p *snapState, m map[string]*Package) { p.Packages = m }))
	chunk(len(b.ItemEvents), chunker(b.ItemEvents, func(p *snapState, m map[string][2]uint64) { p.ItemEvents = m }))
	chunk(len(b.CaseEvents), chunker(b.CaseEvents, func(p *snapState, m map[string][2]uint64) { p.CaseEvents = m }))
	chunk(len(b.CaseOwn), chunker(b.CaseOwn, func(p *snapState, m map[string][2]uint64) { p.CaseOwn = m }))
	rest := *b
	rest.Items, rest.Cases, rest.Packages, rest.ItemEvents, rest.CaseEvents, rest.CaseOwn = nil, nil, nil, nil, nil, nil
	return append(out, &rest)
}

// chunker returns a function that sets a part to the entries from to to
// of m, in the order of its sorted keys.
func chunker[V any](m map[string]V, set func(*snapState, map[string]V)) func(*snapState, int, int) {
	keys := slices.Sorted(maps.Keys(m))
	return func(p *snapState, from, to int) {
		part := make(map[string]V, to-from)
		for _, k := range keys[from:to] {
			part[k] = m[k]
		}
		set(p, part)
	}
}

// mergeInto adds m's entries to *dst (m itself if *dst is nil); false if
// a key is there already.
func mergeInto[V any](dst *map[string]V, m map[string]V) bool {
	if *dst == nil {
		*dst = m
		return true
	}
	for k, v := range m {
		if !addCanon(dst, 0, k, v) {
			return false
		}
	}
	return true
}
