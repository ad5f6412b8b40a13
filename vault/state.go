package vault

import (
	"maps"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
)

// State is the projection of the custody log that requests are decided
// on: persons, cases, items, packages. It is rebuilt from the log at every
// start and updated by the sequencer as each event becomes durable; it is
// never stored, so it can never disagree with the log.
type State struct {
	mu       sync.RWMutex
	log      LogOpened
	persons  map[string]*Person // by name
	byToken  map[string]*Person // by token SHA-256 hex
	cases    map[string]*Case
	items    map[string]*Item
	packages map[string]*Package
	objects  map[string]string // object name -> item or package id
	// retained are orphan objects the store refused to delete, by the
	// time they were recorded; a later start deletes them.
	retained map[string]time.Time
	// recent are objects by the time of their event, until they leave
	// the pending-retention window, so that a start can finish
	// extending their retention.
	recent map[string]time.Time
	// lostKeys are cases whose key a recovery recorded as lost.
	lostKeys map[string]bool
	// caseEvents and itemEvents count the verified events that name each
	// case and item, so that what a store's lookup columns return can be
	// checked against the signed bytes (reads.go).
	caseEvents map[string]*named
	itemEvents map[string]*named
}

// named counts the events that name a case or an item, and the position
// of the last one.
type named struct{ n, last uint64 }

// Person is someone the vault knows.
type Person struct {
	Name        string
	Role        string
	tokenSHA256 string
	Recipient   string
}

// Case is a case's projection.
type Case struct {
	ID        string
	Title     string
	Retention time.Duration // 0: the vault's default
	Held      bool
	Destroyed bool
	// Pending destruction requests, by id.
	Requests  map[string]DestructionRequest
	Recipient string
	Members   map[string]bool
	Items     []string // empty in getCase's snapshots; see caseItems
}

// DestructionRequest is a request awaiting a second custodian.
type DestructionRequest struct {
	DestructionRequested
	By string
}

// Item is a deposited evidence item.
type Item struct {
	ID        string
	Case      string
	Deposit   ItemDeposited
	DepositAt uint64
}

// Package is a sealed package.
type Package struct {
	ID      string
	Case    string
	For     string
	Sealing PackageSealing
	Sealed  *PackageSealed
}

func newState() *State {
	return &State{
		persons:  map[string]*Person{},
		byToken:  map[string]*Person{},
		cases:    map[string]*Case{},
		items:    map[string]*Item{},
		packages: map[string]*Package{},
		objects:  map[string]string{},
		retained: map[string]time.Time{},
		recent:   map[string]time.Time{},
		lostKeys: map[string]bool{},

		caseEvents: map[string]*named{},
		itemEvents: map[string]*named{},
	}
}

// apply folds one durable event into the state. Events that fail to decode
// were already refused by the sequencer's replay, so errors here mean a
// bug; they are ignored rather than half-applied.
func (s *State) apply(ev *events.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	count(s.caseEvents, ev.Case, ev.Seq)
	count(s.itemEvents, ev.Item, ev.Seq)
	switch ev.Type {
	case TypeLogOpened:
		ev.DecodeData(&s.log)
	case TypePersonEnrolled:
		var d PersonEnrolled
		if ev.DecodeData(&d) == nil {
			p := &Person{Name: d.Name, Role: d.Role, tokenSHA256: d.TokenSHA256}
			if old := s.persons[d.Name]; old != nil {
				delete(s.byToken, old.tokenSHA256)
				p.Recipient = old.Recipient
			}
			s.persons[d.Name] = p
			s.byToken[d.TokenSHA256] = p
		}
	case TypeRecipientSet:
		var d RecipientSet
		if p := s.persons[ev.Actor.Person]; p != nil && ev.DecodeData(&d) == nil {
			p.Recipient = d.Recipient
		}
	case TypeCaseOpened:
		var d CaseOpened
		if ev.DecodeData(&d) == nil {
			c := &Case{ID: ev.Case, Title: d.Title, Recipient: d.Recipient, Members: map[string]bool{}, Requests: map[string]DestructionRequest{}}
			c.Retention, _ = time.ParseDuration(d.Retention)
			for _, m := range d.Members {
				c.Members[m] = true
			}
			s.cases[ev.Case] = c
		}
	case TypeCaseHoldPlaced, TypeCaseHoldLifted:
		if c := s.cases[ev.Case]; c != nil {
			c.Held = ev.Type == TypeCaseHoldPlaced
		}
	case TypeDestructionRequested:
		var d DestructionRequested
		if c := s.cases[ev.Case]; c != nil && ev.DecodeData(&d) == nil {
			c.Requests[d.Request] = DestructionRequest{DestructionRequested: d, By: ev.Actor.Person}
		}
	case TypeDestructionApproved:
		// From here on nothing of the case is revealed, even if the
		// shredding that follows was interrupted.
		if c := s.cases[ev.Case]; c != nil {
			c.Destroyed = true
			c.Requests = map[string]DestructionRequest{}
		}
	case TypeCaseMemberAdded:
		var d MemberAdded
		if c := s.cases[ev.Case]; c != nil && ev.DecodeData(&d) == nil {
			c.Members[d.Person] = true
		}
	case TypeCaseMemberRemoved:
		var d MemberRemoved
		if c := s.cases[ev.Case]; c != nil && ev.DecodeData(&d) == nil {
			delete(c.Members, d.Person)
		}
	case TypeItemDeposited:
		var d ItemDeposited
		if c := s.cases[ev.Case]; c != nil && ev.DecodeData(&d) == nil {
			s.items[ev.Item] = &Item{ID: ev.Item, Case: ev.Case, Deposit: d, DepositAt: ev.Seq}
			c.Items = append(c.Items, ev.Item)
			s.objects[d.Object] = ev.Item
			s.recent[d.Object] = ev.Timestamp()
		}
	case TypePackageSealing:
		var d PackageSealing
		if ev.DecodeData(&d) == nil {
			s.packages[d.Package] = &Package{ID: d.Package, Case: ev.Case, For: d.For, Sealing: d}
		}
	case TypePackageSealed:
		var d PackageSealed
		if ev.DecodeData(&d) == nil {
			if p := s.packages[d.Package]; p != nil {
				p.Sealed = &d
				s.objects[d.Object] = d.Package
				s.recent[d.Object] = ev.Timestamp()
			}
		}
	case TypeKeysRecovered:
		var d KeysResealed
		if ev.DecodeData(&d) == nil {
			for _, c := range d.Cases {
				delete(s.lostKeys, c)
			}
			for _, l := range d.Lost {
				s.lostKeys[l.Case] = true
			}
		}
	case TypeObjectsRetained:
		var d ObjectsSwept
		if ev.DecodeData(&d) == nil {
			for _, o := range d.Orphans {
				s.retained[o] = ev.Timestamp()
			}
		}
	case TypeObjectsSwept:
		var d ObjectsSwept
		if ev.DecodeData(&d) == nil {
			for _, o := range d.Orphans {
				delete(s.retained, o)
			}
		}
	}
}

func count(m map[string]*named, key string, seq uint64) {
	if key == "" {
		return
	}
	if c := m[key]; c != nil {
		c.n, c.last = c.n+1, seq
	} else {
		m[key] = &named{n: 1, last: seq}
	}
}

// namedBy returns how many verified events name a case (or an item), and
// the last one's position.
func (s *State) namedBy(key string, item bool) named {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.caseEvents
	if item {
		m = s.itemEvents
	}
	if c := m[key]; c != nil {
		return *c
	}
	return named{}
}

func (s *State) person(tokenSHA256 string) *Person {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byToken[tokenSHA256]
}

func (s *State) personByName(name string) (Person, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.persons[name]
	if p == nil {
		return Person{}, false
	}
	return *p, true
}

func (s *State) getCase(id string) (Case, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.cases[id]
	if c == nil {
		return Case{}, false
	}
	// A snapshot the caller may read without the lock: the maps are
	// cloned (they are small), the item list is left out (it can be long,
	// and only sealing needs it: caseItems).
	cp := *c
	cp.Items = nil
	cp.Members = maps.Clone(c.Members)
	cp.Requests = maps.Clone(c.Requests)
	return cp, true
}

func (s *State) getItem(id string) (Item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it := s.items[id]
	if it == nil {
		return Item{}, false
	}
	return *it, true
}

func (s *State) getPackage(id string) (Package, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.packages[id]
	if p == nil {
		return Package{}, false
	}
	return *p, true
}

func (s *State) objectOwner(name string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.objects[name]
	return id, ok
}

// retainedSince reports whether an orphan was recorded as retained, and
// when.
func (s *State) retainedSince(name string) (time.Time, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.retained[name]
	return t, ok
}

// recentObjects returns objects whose events are newer than since.
func (s *State) recentObjects(since time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, t := range s.recent {
		if t.After(since) {
			out = append(out, name)
		} else {
			delete(s.recent, name)
		}
	}
	return out
}

// caseItems returns a copy of a case's item ids, in deposit order.
func (s *State) caseItems(id string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.cases[id]; c != nil {
		return append([]string(nil), c.Items...)
	}
	return nil
}

// objectCase returns the case an object belongs to.
func (s *State) objectCase(name string) (Case, bool) {
	s.mu.RLock()
	owner, ok := s.objects[name]
	var caseID string
	if it := s.items[owner]; ok && it != nil {
		caseID = it.Case
	} else if p := s.packages[owner]; ok && p != nil {
		caseID = p.Case
	}
	s.mu.RUnlock()
	if caseID == "" {
		return Case{}, false
	}
	return s.getCase(caseID)
}

// caseObjects returns the objects of a case's items and packages.
func (s *State) caseObjects(caseID string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	if c := s.cases[caseID]; c != nil {
		for _, id := range c.Items {
			out = append(out, s.items[id].Deposit.Object)
		}
	}
	for _, p := range s.packages {
		if p.Case == caseID && p.Sealed != nil {
			out = append(out, p.Sealed.Object)
		}
	}
	return out
}

func (s *State) allItems() []Item {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Item, 0, len(s.items))
	for _, it := range s.items {
		out = append(out, *it)
	}
	return out
}

func (s *State) allCases() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.cases))
	for id := range s.cases {
		out = append(out, id)
	}
	return out
}

// keyLost reports whether a recovery recorded the case's key as lost.
func (s *State) keyLost(caseID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lostKeys[caseID]
}

func (s *State) logInfo() LogOpened {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.log
}

func (s *State) empty() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.log.Origin == ""
}
