package vault

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/witness"
	"golang.org/x/crypto/ssh"
	"golang.org/x/mod/sumdb/note"
)

// State is the projection of the custody log that requests are decided
// on: persons, cases, items, packages. It is rebuilt from the log at every
// start and updated by the sequencer as each event becomes durable; it is
// never stored, so it can never disagree with the log.
type State struct {
	mu      sync.RWMutex
	log     LogOpened
	persons map[string]*Person // by name
	byToken map[string]*Person // by token SHA-256 hex
	cases   map[string]*Case
	// items are the items deposited or changed since the state snapshot
	// pages holds (all of them if pages is nil): State.item reads both,
	// State.itemToChange moves an item here before it changes.
	items map[string]*Item
	pages *itemPages
	// objectPages and contentPages are the pages of the object index and
	// the content index of the same snapshot: objects and hot.bySHA256
	// hold the rows added since. casePages are its cases' item lists
	// (Case.paged of them a case's; Case.Items the items deposited since).
	objectPages, contentPages, casePages *indexPages
	// pagesFailed, if set, is told once that a page failed its check
	// (the vault halts: vault.Open).
	pagesFailed     func(error)
	pagesFailedOnce sync.Once
	packages        map[string]*Package
	// objects maps object names to their item or package id (those added
	// since objectPages).
	objects map[string]string
	// pagesGen counts the times the state switched to a newer snapshot's
	// pages (usePages), which moves the owners in objects into them.
	pagesGen uint64
	// retained are orphan objects the store refused to delete, by the
	// time they were recorded; a later start deletes them.
	retained map[string]time.Time
	// recent are objects by the time of their event, until they leave
	// the pending-retention window, so that a start can finish
	// extending their retention.
	recent map[string]time.Time
	// lostKeys are cases whose key a recovery recorded as lost.
	lostKeys map[string]bool
	// keyFiles are the digests of each key's files as the log last
	// recorded them (case.opened, reports.contacts.key, key.stored), by
	// case id or contactsKeyID.
	keyFiles map[string]keyRecord
	// witnessKeys are the verifier keys of every witness a server.started
	// named (startedWitnessKeys): their cosignatures are the vault's.
	witnessKeys map[string]bool
	// identity is which identity sources sign people in
	// (identitysources.go).
	identity identitySources
	// defaultRetentions are the vault's default retention as each start
	// recorded it (server.started's retention, since 2026-12-05), in log
	// order: what a scrub judges the lock of an item of a case on the
	// default against (defaultRetentionAt).
	defaultRetentions []startRetention
	// caseEvents and itemEvents count the verified events that name each
	// case and item, so that what a store's lookup columns return can be
	// checked against the signed bytes (reads.go). An item the state
	// holds keeps its count itself (Item.events); itemEvents holds only
	// the ids that name no item (an event naming an id never deposited,
	// such as a refused request for it). caseOwn counts, of the events
	// naming each case, those that name no item: the case's own history
	// (opening, members, holds, packages), which a package's custody
	// record reads without its items' views and refusals.
	caseEvents map[string]named
	itemEvents map[string]named
	caseOwn    map[string]named
	// sessions are the open sessions by their token's SHA-256 (and by
	// id); requests the pending two-person requests by id
	// (state_identity.go).
	sessions    map[string]*session
	sessionByID map[string]*session
	// idTokens are the digest (idtoken.Digest: of its signed claims) of
	// each ID token that opened a session, with the token's exp: until
	// then, the vault refuses it a second time (idTokenUsed).
	idTokens map[string]time.Time
	requests map[string]*Request
	// approvedHalves are the invitation of an approval (its halves, and
	// the identity sources its two custodians went through), until the
	// enrolment or re-issue that follows it in the same append applies.
	approvedHalves map[string]approvedInvitation
	// decided records how each request that left the state ended (two-
	// person requests and destruction requests alike, by id), so that a
	// late approval or rejection is told who decided it and when. It
	// grows with requests made, a handful a week, not with evidence.
	decided map[string]requestEnd
	// hot is the projection of hotline work (state_hotline.go).
	hot *hotlineState
}

// named counts the events that name a case or an item, and the position
// of the last one.
type named struct{ n, last uint64 }

// Person is someone the vault knows.
type Person struct {
	Name string
	Role string
	// tokenSHA256 is the SHA-256 of the person's local credential, if
	// they have one.
	tokenSHA256 string
	// OIDC and Certificate are the claim value and certificate name
	// that sign the person in; empty means the name.
	OIDC, Certificate string
	Recipient         string
	// ReceiptKey is the OpenSSH public key the person signs package
	// receipts with (receipts.go).
	ReceiptKey string
	Suspended  bool
	// Suspension is the suspension in force (who, when, why, as its
	// person.suspended event recorded them), nil while none is (and once
	// removed): the custodian deciding a reinstatement is shown it.
	Suspension *StatusNote `json:",omitempty"`
	Removed    bool
	// Enrolment is how the person was enrolled, as their person.enrolled
	// event recorded it: the custodian who approved (By), whoever asked
	// (RequestedBy) and why, and when; By is the vault itself ("custos")
	// for the custodians a vault starts with.
	Enrolment *StatusNote `json:",omitempty"`
	// invitation is the person's open invitation, if any.
	invitation *invitation
}

// StatusNote is a change of a person's status or of a case's policy as
// its event recorded it: the custodian who made it, when, and the reason
// given; for a change another custodian asked for and By approved,
// RequestedBy, whose reason it is.
type StatusNote struct {
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requested_by,omitempty"`
}

// Case is a case's projection.
type Case struct {
	ID        string
	Title     string
	Retention time.Duration // 0: the vault's default
	Held      bool
	// Hold is the hold in place (who placed it, when, why), nil while
	// none is.
	Hold      *HoldView `json:",omitempty"`
	Destroyed bool
	// Approved is the approval that destroyed the case; Shredded is set
	// once its case.destroyed event records that the keys and deletable
	// objects are gone (a start finishes an approval without one).
	Approved DestructionApproved
	Shredded bool
	// Pending destruction requests, by id.
	Requests  map[string]DestructionRequest
	Recipient string
	Members   map[string]bool
	// Items are the case's items in deposit order: those deposited since
	// the state's snapshot, after the first paged of them, which are in
	// the snapshot's pages (State.casePages). Empty in getCase's copies;
	// see State.caseItems.
	Items []string
	paged int
	// ExportApproval: every package sealed of the case needs a second
	// custodian's approval.
	ExportApproval bool
	// ExportPolicy is who set the export policy in force, when and
	// why (nil for a case whose policy was never set).
	ExportPolicy *StatusNote `json:",omitempty"`
	// ClassificationPolicy is who set the classification policy in
	// force, when and why, and who asked for a lowering (nil for a case
	// whose policy was never set).
	ClassificationPolicy *StatusNote `json:",omitempty"`
	// OpenedBy and OpenedAt: who opened the case, and when; OpenedSeq
	// the position of its case.opened event (the later, in a log from
	// before opening was checked at the event's position, where two
	// openings raced: the later replaced the case and its item list).
	OpenedBy  string
	OpenedAt  time.Time
	OpenedSeq uint64
	// Statements counts the case's deposit.skipped events, which every
	// package of the case carries: MaxSkippedStatements bounds them.
	Statements int `json:",omitempty"`
}

// DestructionRequest is a request awaiting a second custodian.
type DestructionRequest struct {
	DestructionRequested
	By string
	// At is the time of the request's event (its expiry, where the event
	// records none, is reckoned from it: Vault.destructionExpires).
	At time.Time
	// Void is set when its requester is suspended or removed while it
	// is pending: it is never approved, even after a reinstatement.
	Void bool
	// VoidAt is when the request became void (Void or HeldAfter), as
	// its requester is told it ended (zero in a state of before
	// 2026-12-06: the request's own time is said).
	VoidAt time.Time `json:",omitzero"`
	// HeldAfter is the position of a legal hold placed on the case
	// while the request was pending (0: none): the hold voids it, and
	// lifting the hold does not bring it back, so that the custodian
	// who lifts a hold alone cannot then approve a destruction another
	// asked for before the hold; destruction is asked again, and decided
	// by two, once the hold is lifted.
	HeldAfter uint64 `json:",omitempty"`
	// Via are the identity sources the requester's OpenID session went
	// through to ask (State.sessionSources; none for other sign-ins):
	// a retirement of one voids the request, as it voids a two-person
	// request (Retired names the source).
	Via     []string `json:",omitempty"`
	Retired string   `json:",omitempty"`
}

// Item is a deposited evidence item.
//
// The state holds one per item deposited, so its fields are laid out to
// fit the allocator's 160-byte size class (BenchmarkStateMemoryPerItem):
// the deposit's time as nanoseconds, the media kind as a byte, and the
// rarely set parts of the deposit summary behind one pointer.
type Item struct {
	ID      string
	Case    string
	Deposit DepositSummary
	// DepositAt is the position of the item's item.deposited event, whose
	// signed data (ItemDeposited) Vault.depositRecord reads when a
	// caller needs more than the summary.
	DepositAt uint64
	// By and At: who deposited it, and when (the event's time).
	By string
	At UnixNano
	// Accesses counts the item.accessed events of the item.
	Accesses int
	// events counts the verified events that name the item, and the
	// position of the last (State.namedBy): kept on the item rather than
	// in a map of its own, which cost about 75 bytes an item. Snapshots
	// carry it as ItemEvents.
	events named
}

// UnixNano is a time as nanoseconds since the Unix epoch, in UTC: 8
// bytes where a time.Time takes 24, for what the state keeps per item.
// It holds times from 1678 to 2262, the custody log's being of today.
type UnixNano int64

// AsUnixNano returns t as a UnixNano.
func AsUnixNano(t time.Time) UnixNano { return UnixNano(t.UnixNano()) }

// Time returns the time in UTC.
func (u UnixNano) Time() time.Time { return time.Unix(0, int64(u)).UTC() }

// MediaKind is what the media pass found a deposit to be: MediaNone,
// MediaImage or MediaVideo.
type MediaKind uint8

const (
	MediaNone MediaKind = iota
	MediaImage
	MediaVideo
)

// DepositSummary is what the state keeps in memory of an item's deposit
// record (ItemDeposited, in its signed item.deposited event): the fields
// that lists, statistics, known-material checks and the replay read for
// many items at once. The rest (MD5 and SHA-1, the ciphertext's size and
// SHA-256, source, note, acquisition hashes, the media pass's details) is
// read from the signed event when needed (Vault.depositRecord), so that a
// vault's memory grows by little per item (docs/state-snapshots.md).
type DepositSummary struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Object is the ciphertext's object name; the same string is the
	// state's object index key, so it costs no memory of its own.
	Object string `json:"object"`
	// More holds what few deposits have (a hotline report, hash-set
	// matches, a video's duration); nil for the rest.
	More *DepositMore `json:"more,omitempty"`
	// Media is the media pass's kind (MediaNone when it found neither an
	// image nor a video).
	Media MediaKind `json:"media,omitempty"`
	// Legacy is set when the deposit holds MD5 and SHA-1 hashes. (Whether
	// it holds a usable PDQ hash is the hotline state's index, which
	// keeps the hash: State.pdqComparable.)
	Legacy bool `json:"legacy,omitempty"`
}

// DepositMore is the part of a deposit summary that few deposits have.
type DepositMore struct {
	Report  string         `json:"report,omitempty"`
	Matches []HashSetMatch `json:"matches,omitempty"`
	// VideoMS is a video's duration in milliseconds.
	VideoMS int64 `json:"video_ms,omitempty"`
}

// Report is the hotline report the item was deposited for ("" for none).
func (d DepositSummary) Report() string {
	if d.More == nil {
		return ""
	}
	return d.More.Report
}

// Matches are the hash-set entries the deposit matched.
func (d DepositSummary) Matches() []HashSetMatch {
	if d.More == nil {
		return nil
	}
	return d.More.Matches
}

// VideoMS is a video's duration in milliseconds (0 for anything else).
func (d DepositSummary) VideoMS() int64 {
	if d.More == nil {
		return 0
	}
	return d.More.VideoMS
}

// summarize returns what the state keeps of a deposit record.
func summarize(d ItemDeposited) DepositSummary {
	sum := DepositSummary{Name: d.Name, Size: d.Size, SHA256: d.SHA256, Object: d.Object, Legacy: d.MD5 != "" || d.SHA1 != ""}
	more := DepositMore{Report: d.Report, Matches: d.Matches}
	if m := d.Media; m != nil {
		switch m.Kind {
		case "image":
			sum.Media = MediaImage
		case "video":
			sum.Media, more.VideoMS = MediaVideo, m.DurationMS
		}
	}
	if more.Report != "" || len(more.Matches) > 0 || more.VideoMS != 0 {
		sum.More = &more
	}
	return sum
}

// Package is a sealed package.
type Package struct {
	ID      string
	Case    string
	For     string
	Sealing PackageSealing
	// SealingAt is the time of the package.sealing event: the package's
	// "sealed at", as its signed manifest and report state it; SealedBy
	// who sealed it (its actor).
	SealingAt time.Time
	SealedBy  string
	Sealed    *PackageSealed
	// SealedAt is the time of the package.sealed event, when the sealed
	// file was stored.
	SealedAt time.Time
	// Received is set by the package.received event, and Receipt
	// describes it.
	Received bool
	Receipt  *PackageReceipt
}

// PackageReceipt is a package's acknowledgement as the package.received
// event recorded it: its position and time, who signed, and the SSH
// signature (armored SSHSIG) with its key's fingerprint.
type PackageReceipt struct {
	At          time.Time `json:"at"`
	By          string    `json:"by"`
	Event       uint64    `json:"event"`
	Fingerprint string    `json:"fingerprint"`
	Signature   string    `json:"signature"`
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
		keyFiles: map[string]keyRecord{},

		witnessKeys: map[string]bool{},

		caseEvents: map[string]named{},
		itemEvents: map[string]named{},
		caseOwn:    map[string]named{},

		sessions:    map[string]*session{},
		sessionByID: map[string]*session{},
		idTokens:    map[string]time.Time{},
		requests:    map[string]*Request{},

		approvedHalves: map[string]approvedInvitation{},
		decided:        map[string]requestEnd{},
		hot:            newHotlineState(),
	}
}

// apply folds one durable event into the state, with the applier of its
// type (appliers). Types without one change nothing the vault decides on.
// An error means an event the vault cannot read (bad data for its type):
// at start it stops the vault (vault.Open), since deciding on a state
// that skipped an event would be deciding on a lie.
func (s *State) apply(ev *events.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// What the event reads from pages is read before anything changes
	// (the item it names, the owner of the object it records): a page
	// that fails its check, or that the storage cannot read, leaves the
	// state as it was, not half changed by the event.
	if err := s.readPagesFor(ev); err != nil {
		// The event is durable and the state cannot apply it: even a
		// storage error halts the vault, which must not decide on a
		// state that skipped an event.
		if errors.Is(err, errPageUnreadable) {
			s.pagesFailedOnce.Do(func() {
				if s.pagesFailed != nil {
					s.pagesFailed(err)
				}
			})
		}
		return fmt.Errorf("event %d (%s): %w", ev.Seq, ev.Type, err)
	}
	count(s.caseEvents, ev.Case, ev.Seq)
	if ev.Item == "" {
		count(s.caseOwn, ev.Case, ev.Seq)
	} else {
		s.countItem(ev.Item, ev.Seq)
	}
	f := appliers[ev.Type]
	if f == nil {
		return nil
	}
	if err := f(s, ev); err != nil {
		return fmt.Errorf("event %d (%s): %w", ev.Seq, ev.Type, err)
	}
	s.adoptCount(ev.Item)
	return nil
}

// readPagesFor reads what applying ev reads from the pages: the item it
// names, moved among the changed ones, and the owner of the object a
// deposit or a package's sealing records (then in the page cache).
func (s *State) readPagesFor(ev *events.Event) error {
	if ev.Item != "" {
		if _, err := s.itemToChange(ev.Item); err != nil {
			return err
		}
	}
	var object string
	switch ev.Type {
	case TypeItemDeposited:
		if d, err := data[ItemDeposited](ev); err == nil {
			object = d.Object
		}
	case TypePackageSealed:
		if d, err := data[PackageSealed](ev); err == nil {
			object = d.Object
		}
	}
	if object != "" {
		if _, _, err := s.ownerOf(object); err != nil {
			return err
		}
	}
	return nil
}

// countItem counts an event that names item id: on the item, or in
// itemEvents if the state holds no such item (yet).
// The item, if any, is among the changed ones already (apply).
func (s *State) countItem(id string, seq uint64) {
	if it := s.items[id]; it != nil {
		it.events = named{n: it.events.n + 1, last: seq}
		return
	}
	count(s.itemEvents, id, seq)
}

// adoptCount moves the count of an id that now names an item (its
// deposit event, counted before the applier made the item) onto the
// item.
func (s *State) adoptCount(id string) {
	if id == "" {
		return
	}
	if n, ok := s.itemEvents[id]; ok {
		// The item was just deposited: it is in s.items.
		if it := s.items[id]; it != nil {
			it.events = named{n: it.events.n + n.n, last: max(it.events.last, n.last)}
			delete(s.itemEvents, id)
		}
	}
}

// applier folds one event of its type into the state, under the lock.
type applier func(s *State, ev *events.Event) error

// appliers maps each event type the projection depends on to its
// applier (docs/custody-log.md section 8 describes each type).
var appliers = map[string]applier{
	TypeLogOpened:              applyLogOpened,
	TypePersonEnrolled:         applyPersonEnrolled,
	TypeRecipientSet:           applyRecipientSet,
	TypeReceiptKeySet:          applyReceiptKeySet,
	TypePackageReceived:        applyPackageReceived,
	TypeCaseOpened:             applyCaseOpened,
	TypeCaseHoldPlaced:         applyHold(true),
	TypeCaseHoldLifted:         applyHold(false),
	TypeDestructionRequested:   applyDestructionRequested,
	TypeDestructionApproved:    applyDestructionApproved,
	TypeDestructionRejected:    applyDestructionRejected,
	TypeCaseDestroyed:          applyCaseDestroyed,
	TypeCaseMemberAdded:        applyMemberAdded,
	TypeCaseMemberRemoved:      applyMemberRemoved,
	TypeItemDeposited:          applyItemDeposited,
	TypeDepositSkipped:         applyDepositSkipped,
	TypeItemAccessed:           applyItemAccessed,
	TypePackageSealing:         applyPackageSealing,
	TypePackageSealed:          applyPackageSealed,
	TypeKeysRecovered:          applyKeysRecovered,
	TypeKeyStored:              applyKeyStored,
	TypeServerStarted:          applyServerStarted,
	TypeIdentitySourceAccepted: applyIdentitySourceAccepted,
	TypeIdentitySourceRetired:  applyIdentitySourceRetired,
	TypeKeysRotated:            applyKeysRotated,
	TypeObjectsRetained:        applyObjectsRetained,
	TypeObjectsSwept:           applyObjectsSwept,

	TypeCredentialIssued:   applyCredentialIssued,
	TypeCredentialReissued: applyCredentialReissued,
	TypePersonSuspended:    applyPersonStatus(TypePersonSuspended),
	TypePersonReinstated:   applyPersonStatus(TypePersonReinstated),
	TypePersonRemoved:      applyPersonStatus(TypePersonRemoved),
	TypeSessionOpened:      applySessionOpened,
	TypeSessionEnded:       applySessionEnded,
	TypeRequestOpened:      applyRequestOpened,
	TypeRequestApproved:    applyRequestDecided,
	TypeRequestRejected:    applyRequestDecided,
	TypeCasePolicySet:      applyCasePolicySet,
}

// data decodes an event's data for an applier.
func data[T any](ev *events.Event) (T, error) {
	var d T
	err := ev.DecodeData(&d)
	return d, err
}

// caseOf returns the case an event names; an event about a case the log
// never opened cannot be applied.
func (s *State) caseOf(ev *events.Event) (*Case, error) {
	c := s.cases[ev.Case]
	if c == nil {
		return nil, fmt.Errorf("names case %q, which the log never opened", ev.Case)
	}
	return c, nil
}

func applyLogOpened(s *State, ev *events.Event) error {
	d, err := data[LogOpened](ev)
	s.log = d
	return err
}

func applyPersonEnrolled(s *State, ev *events.Event) error {
	d, err := data[PersonEnrolled](ev)
	if err != nil {
		return err
	}
	p := &Person{Name: d.Name, Role: d.Role, tokenSHA256: d.TokenSHA256, OIDC: d.OIDC, Certificate: d.Certificate,
		Enrolment: &StatusNote{By: ev.Actor.Person, At: ev.Timestamp(), Reason: d.Reason, RequestedBy: d.RequestedBy}}
	if old := s.persons[d.Name]; old != nil {
		// Logs from before requests re-enrolled a person to issue a new
		// token: the old one ends, the recipient stays.
		delete(s.byToken, old.tokenSHA256)
		s.endSessionsOf(d.Name)
		p.Recipient = old.Recipient
	}
	if d.Invitation != "" {
		inv, err := s.invitationOf(d.Invitation, d.Expires)
		if err != nil {
			return err
		}
		p.invitation = inv
	}
	s.persons[d.Name] = p
	if d.TokenSHA256 != "" {
		s.byToken[d.TokenSHA256] = p
	}
	return nil
}

func applyRecipientSet(s *State, ev *events.Event) error {
	d, err := data[RecipientSet](ev)
	if err != nil {
		return err
	}
	name := ev.Actor.Person
	if d.Person != "" {
		name = d.Person
	}
	if p := s.persons[name]; p != nil {
		p.Recipient = d.Recipient
	}
	return nil
}

func applyReceiptKeySet(s *State, ev *events.Event) error {
	d, err := data[ReceiptKeySet](ev)
	if err != nil {
		return err
	}
	if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(d.Key)); err != nil {
		return fmt.Errorf("the receipt key is not an OpenSSH public key")
	}
	name := ev.Actor.Person
	if d.Person != "" {
		name = d.Person
	}
	if p := s.persons[name]; p != nil {
		p.ReceiptKey = d.Key
	}
	return nil
}

func applyPackageReceived(s *State, ev *events.Event) error {
	d, err := data[PackageReceived](ev)
	if err != nil {
		return err
	}
	if p := s.packages[d.Package]; p != nil {
		p.Received = true
		p.Receipt = &PackageReceipt{At: ev.Timestamp(), By: ev.Actor.Person, Event: ev.Seq, Fingerprint: d.Fingerprint, Signature: d.Signature}
	}
	return nil
}

func (s *State) packageReceived(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.packages[id]
	return p != nil && p.Received
}

func applyCaseOpened(s *State, ev *events.Event) error {
	d, err := data[CaseOpened](ev)
	if err != nil {
		return err
	}
	c := &Case{ID: ev.Case, Title: d.Title, Recipient: d.Recipient, Members: map[string]bool{}, Requests: map[string]DestructionRequest{},
		OpenedBy: ev.Actor.Person, OpenedAt: ev.Timestamp(), OpenedSeq: ev.Seq}
	if d.Retention != "" {
		if c.Retention, err = time.ParseDuration(d.Retention); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
	}
	for _, m := range d.Members {
		c.Members[m] = true
	}
	s.cases[ev.Case] = c
	return s.setKeyFiles(ev.Case, d.KeyFiles, true, ev.Seq)
}

// keyRecord is what the log recorded of a key's files: their digests,
// and, once a key.stored event changed the sealed file's, the digest it
// replaced and the event's position. A start deletes the replicas of the
// file replaced, and a scrub takes one as the vault's while a re-sealing
// runs beside it. Unfinished: no keys.rotated, keys.recovered or
// server.started followed that key.stored, so its write may have been
// cut short; only then does a start take the file before it back.
type keyRecord struct {
	KeyFiles
	PriorSealed string `json:"prior_sealed_sha256,omitempty"`
	SealedAt    uint64 `json:"sealed_at,omitempty"`
	Unfinished  bool   `json:"unfinished,omitempty"`
}

// finishKeyRecords marks every re-sealing recorded so far as finished
// (keyRecord.Unfinished): a rotation or a recovery that recorded its end,
// or a start, which settled every key's files before it was recorded.
func (s *State) finishKeyRecords() {
	for id, rec := range s.keyFiles {
		if rec.Unfinished {
			rec.Unfinished = false
			s.keyFiles[id] = rec
		}
	}
}

func applyKeysRotated(s *State, ev *events.Event) error {
	if _, err := data[RotateResult](ev); err != nil {
		return err
	}
	s.finishKeyRecords()
	return nil
}

// setKeyFiles records the digests of a key's files (keyFiles) by the
// event at seq: those f holds, keeping the others unless replace (a new
// key, whose earlier files are not its own).
func (s *State) setKeyFiles(id string, f *KeyFiles, replace bool, seq uint64) error {
	var got KeyFiles
	if f != nil {
		got = *f
	}
	for _, sum := range []string{got.Sealed, got.Recovery} {
		if sum != "" && !isDigest(sum) {
			return fmt.Errorf("key_files: %q is not a SHA-256 digest (64 lowercase hex digits)", sum)
		}
	}
	rec := s.keyFiles[id]
	if replace {
		rec = keyRecord{}
	}
	if got.Sealed != "" && got.Sealed != rec.Sealed {
		if rec.Sealed != "" {
			rec.PriorSealed, rec.SealedAt, rec.Unfinished = rec.Sealed, seq, !replace
		}
		rec.Sealed = got.Sealed
	}
	if got.Recovery != "" {
		rec.Recovery = got.Recovery
	}
	if rec == (keyRecord{}) {
		delete(s.keyFiles, id)
	} else {
		s.keyFiles[id] = rec
	}
	return nil
}

func applyKeyStored(s *State, ev *events.Event) error {
	d, err := data[KeyStored](ev)
	if err != nil {
		return err
	}
	switch d.Key {
	case keyStoredCase:
		if _, err := s.caseOf(ev); err != nil {
			return err
		}
		return s.setKeyFiles(ev.Case, &d.KeyFiles, false, ev.Seq)
	case keyStoredContacts:
		if s.hot.contacts == "" {
			return errors.New("records the files of a reporter-contacts key the log never created")
		}
		return s.setKeyFiles(contactsKeyID, &d.KeyFiles, false, ev.Seq)
	case keyStoredLog:
		if d.KeyFiles.Sealed != "" || d.KeyFiles.Recovery == "" {
			return errors.New("records the log key's sealed file, or no recovery copy: only its recovery copy is recorded")
		}
		return s.setKeyFiles(logKeyID, &d.KeyFiles, false, ev.Seq)
	}
	return fmt.Errorf("key %q is neither %q, %q nor %q", d.Key, keyStoredCase, keyStoredContacts, keyStoredLog)
}

// applyServerStarted keeps the witnesses' keys a start names and the
// default retention it records, and marks the re-sealings recorded
// before it as finished (finishKeyRecords).
func applyServerStarted(s *State, ev *events.Event) error {
	s.finishKeyRecords()
	d, err := data[map[string]string](ev)
	if err != nil {
		return err
	}
	// An offline command deposits nothing and records no configuration.
	// A start that recorded no default (a release before 2026-12-05), or
	// one this release cannot read, is kept as unknown (0), as a witness
	// key this release cannot read is left out below: the scrub judges
	// what it may have locked as it judges a log's older items.
	if d[startedRun] == "" {
		// (An offline command's record changes no identity source, as
		// the custody rules read it.)
		s.applyStartedSources(ev, d)
		duration := func(name string) time.Duration {
			r, err := time.ParseDuration(d[name])
			if err != nil || r <= 0 {
				return 0
			}
			return r
		}
		s.defaultRetentions = append(s.defaultRetentions, startRetention{Seq: ev.Seq, At: AsUnixNano(ev.Timestamp()),
			Retention: duration(startedRetention), Pending: duration(startedPendingRetention)})
	}
	keys := d[startedWitnessKeys]
	if keys == "" {
		return nil
	}
	// A key this release does not take (a later one may parse keys more
	// strictly than the one that wrote it) is left out, never a reason
	// the log cannot be read: the checkpoints it cosigned are then
	// listed by a scrub.
	for _, vkey := range strings.Split(keys, " ") {
		if _, err := witness.ParseVerifierKey(vkey); err == nil {
			s.witnessKeys[vkey] = true
		}
	}
	return nil
}

// startRetention is what a server.started recorded of how long evidence
// stays write-once: its default retention and pending retention (0 where
// it recorded none, or none this release reads), its position and time.
type startRetention struct {
	Seq       uint64        `json:"seq"`
	At        UnixNano      `json:"at"`
	Retention time.Duration `json:"retention"`
	Pending   time.Duration `json:"pending,omitempty"`
}

// retentionAt returns what the starts recorded of the write-once
// protection of an item deposited at position seq and time at: the
// pending retention it was written with (pending: the start before it
// recorded it, 0 if that start recorded none or none is before it), and
// the least retention it can have been given in a case on the vault's
// default (retention, ok): the default the start before it recorded, or,
// if less, the next start's where that start came before the deposit's
// own pending retention ended (a start extends the retention of recent
// deposits a crash left at their pending retention, by its own default:
// extendRecentRetention; an extension never shortens a retention, so a
// later start cannot have given less to one already extended; one server
// writes a log at a time, operations.md "Upgrades"). ok is false when no
// start is before it, or a start that decides recorded no default (a
// release before 2026-12-05).
func (s *State) retentionAt(seq uint64, at time.Time) (retention, pending time.Duration, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(s.defaultRetentions, seq, func(d startRetention, seq uint64) int { return cmp.Compare(d.Seq, seq) })
	if i == 0 {
		return 0, 0, false
	}
	prev := s.defaultRetentions[i-1]
	retention, pending = prev.Retention, prev.Pending
	if i < len(s.defaultRetentions) {
		next := s.defaultRetentions[i]
		// Of unknown pending retention, the deposit may have been left
		// pending for as long as the next start came.
		if pending == 0 || !next.At.Time().After(at.Add(pending)) {
			if next.Retention == 0 || next.Retention < retention {
				retention = next.Retention
			}
		}
	}
	return retention, pending, retention > 0
}

// witnessVerifiers returns a verifier of each witness key a start
// recorded, in the order of the keys.
func (s *State) witnessVerifiers() []note.Verifier {
	s.mu.RLock()
	keys := slices.Sorted(maps.Keys(s.witnessKeys))
	s.mu.RUnlock()
	out := make([]note.Verifier, 0, len(keys))
	for _, k := range keys {
		if vf, err := witness.ParseVerifierKey(k); err == nil {
			out = append(out, vf)
		}
	}
	return out
}

// keyFilesOf returns the digests the log recorded of a key's files (a
// case id, or contactsKeyID); zero where it recorded none.
func (s *State) keyFilesOf(id string) KeyFiles { return s.keyRecordOf(id).KeyFiles }

// keyRecordOf returns what the log recorded of a key's files.
func (s *State) keyRecordOf(id string) keyRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keyFiles[id]
}

// applyDepositSkipped counts a case's statements of what its deposits
// skipped (Case.Statements).
func applyDepositSkipped(s *State, ev *events.Event) error {
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	c.Statements++
	return nil
}

func applyHold(on bool) applier {
	return func(s *State, ev *events.Event) error {
		c, err := s.caseOf(ev)
		if err != nil {
			return err
		}
		c.Held, c.Hold = on, nil
		if on {
			d, err := data[HoldChanged](ev)
			if err != nil {
				return err
			}
			c.Hold = &HoldView{By: ev.Actor.Person, At: ev.Timestamp(), Reason: d.Reason, Event: ev.Seq}
			for id, r := range c.Requests {
				// One whose recorded expiry passed had expired already.
				// One void already (its requester suspended or removed)
				// stays void for that.
				if exp, err := time.Parse(time.RFC3339, r.Expires); r.HeldAfter == 0 && !r.Void && (err != nil || ev.Timestamp().Before(exp)) {
					r.HeldAfter, r.VoidAt = ev.Seq, ev.Timestamp()
					c.Requests[id] = r
				}
			}
		}
		return nil
	}
}

func applyDestructionRequested(s *State, ev *events.Event) error {
	d, err := data[DestructionRequested](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	r := DestructionRequest{DestructionRequested: d, By: ev.Actor.Person, At: ev.Timestamp(), Via: s.requestSources(ev.Actor, d.ClientCAs)}
	if src := s.identity.retiredOf(r.Via); src != "" {
		r.Void, r.VoidAt, r.Retired = true, r.At, src
	}
	c.Requests[d.Request] = r
	return nil
}

// applyDestructionApproved: from here on nothing of the case is revealed,
// even if the shredding that follows was interrupted.
func applyDestructionApproved(s *State, ev *events.Event) error {
	d, err := data[DestructionApproved](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	c.Destroyed = true
	c.Approved = d
	for id, r := range c.Requests {
		dec := r.ended(c.ID, requestEnd{Outcome: OutcomeApproved, By: ev.Actor.Person, At: ev.Timestamp()})
		unanswered := r.unanswered(c.ID)
		switch {
		case id == d.Request:
		case unanswered.Outcome != OutcomeExpired || !ev.Timestamp().Before(unanswered.At):
			// Void before (a hold was placed on the case, or its
			// requester was suspended or removed, while it waited), or
			// expired.
			dec = unanswered
		default:
			dec.Outcome, dec.Through = OutcomeSuperseded, d.Request
		}
		s.decided[id] = dec
	}
	c.Requests = map[string]DestructionRequest{}
	return nil
}

func applyDestructionRejected(s *State, ev *events.Event) error {
	d, err := data[DestructionRejected](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	if _, ok := c.Requests[d.Request]; !ok {
		return fmt.Errorf("ends destruction request %q, which case %s does not have pending", d.Request, c.ID)
	}
	r := c.Requests[d.Request]
	delete(c.Requests, d.Request)
	end := rejection(ev, d.RequestedBy)
	end.Reason = d.Reason
	s.decided[d.Request] = r.ended(c.ID, end)
	return nil
}

func applyCaseDestroyed(s *State, ev *events.Event) error {
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	c.Shredded = true
	return nil
}

func applyMemberAdded(s *State, ev *events.Event) error {
	d, err := data[MemberAdded](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	c.Members[d.Person] = true
	return nil
}

func applyMemberRemoved(s *State, ev *events.Event) error {
	d, err := data[MemberRemoved](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	delete(c.Members, d.Person)
	return nil
}

func applyItemDeposited(s *State, ev *events.Event) error {
	d, err := data[ItemDeposited](ev)
	if err != nil {
		return err
	}
	c, err := s.caseOf(ev)
	if err != nil {
		return err
	}
	// The case's id and the depositor's name are the strings the state
	// already holds, not copies decoded from each event.
	// The log records each item and object once: the start's check of a
	// snapshot's index pages against its items (restorer.checkRows)
	// relies on it.
	if old, err := s.item(ev.Item); err != nil {
		return err
	} else if old != nil {
		return fmt.Errorf("deposits item %q a second time", ev.Item)
	}
	if owner, ok, err := s.ownerOf(d.Object); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("records object %q, which %s already owns", d.Object, owner)
	}
	by := ev.Actor.Person
	if p := s.persons[by]; p != nil {
		by = p.Name
	}
	it := &Item{ID: ev.Item, Case: c.ID, Deposit: summarize(d), DepositAt: ev.Seq, By: by, At: AsUnixNano(ev.Timestamp())}
	s.items[ev.Item] = it
	s.hot.noteDeposit(it, d.Media)
	c.Items = append(c.Items, ev.Item)
	s.objects[d.Object] = ev.Item
	s.recent[d.Object] = ev.Timestamp()
	return nil
}

func applyItemAccessed(s *State, ev *events.Event) error {
	d, err := data[ItemAccessed](ev)
	if err != nil {
		return err
	}
	it, err := s.itemToChange(ev.Item)
	if err != nil {
		return err
	}
	if it == nil {
		return fmt.Errorf("names item %q, which was never deposited", ev.Item)
	}
	if it.Case != ev.Case {
		// The vault records a view under its item's case: a view filed
		// under another is not the vault's (vault.CustodyRules).
		return fmt.Errorf("names item %s as an item of case %q, but it was deposited in case %s", ev.Item, ev.Case, it.Case)
	}
	it.Accesses++
	s.hot.noteAccess(ev, it, d)
	return nil
}

func applyPackageSealing(s *State, ev *events.Event) error {
	d, err := data[PackageSealing](ev)
	if err != nil {
		return err
	}
	// Package ids are random: a second sealing of one is not the vault's
	// (the start's check of the object index's pages relies on it,
	// restorer.state).
	if s.packages[d.Package] != nil {
		return fmt.Errorf("seals package %s a second time", d.Package)
	}
	s.packages[d.Package] = &Package{ID: d.Package, Case: ev.Case, For: d.For, Sealing: d, SealingAt: ev.Timestamp(), SealedBy: ev.Actor.Person}
	return nil
}

func applyPackageSealed(s *State, ev *events.Event) error {
	d, err := data[PackageSealed](ev)
	if err != nil {
		return err
	}
	p := s.packages[d.Package]
	if p == nil {
		return fmt.Errorf("package %s was never being sealed", d.Package)
	}
	if p.Sealed != nil {
		return fmt.Errorf("seals package %s a second time", d.Package)
	}
	if owner, ok, err := s.ownerOf(d.Object); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("records object %q, which %s already owns", d.Object, owner)
	}
	p.Sealed = &d
	p.SealedAt = ev.Timestamp()
	// The request it was sealed on names it only now that it is
	// stored: a sealing that never finished made no package.
	if e, ok := s.decided[p.Sealing.Request]; ok && p.Sealing.Request != "" && e.Outcome == OutcomeApproved {
		e.Package = d.Package
		s.decided[p.Sealing.Request] = e
	}
	s.objects[d.Object] = d.Package
	s.recent[d.Object] = ev.Timestamp()
	return nil
}

func applyKeysRecovered(s *State, ev *events.Event) error {
	d, err := data[KeysResealed](ev)
	if err != nil {
		return err
	}
	for _, c := range d.Cases {
		delete(s.lostKeys, c)
	}
	if d.ContactsKey {
		delete(s.lostKeys, contactsKeyID)
	}
	s.finishKeyRecords()
	for _, l := range d.Lost {
		s.lostKeys[l.Case] = true
	}
	return nil
}

func applyObjectsRetained(s *State, ev *events.Event) error {
	d, err := data[ObjectsRetained](ev)
	if err != nil {
		return err
	}
	for _, o := range d.Orphans {
		s.retained[o] = ev.Timestamp()
	}
	return nil
}

func applyObjectsSwept(s *State, ev *events.Event) error {
	d, err := data[ObjectsSwept](ev)
	if err != nil {
		return err
	}
	for _, o := range d.Orphans {
		delete(s.retained, o)
	}
	return nil
}

func count(m map[string]named, key string, seq uint64) {
	if key == "" {
		return
	}
	c := m[key]
	m[key] = named{n: c.n + 1, last: seq}
}

// lookupKind is what a lookup of the log by case or item asks for.
type lookupKind int

const (
	byCase    lookupKind = iota // the events that name a case
	byItem                      // the events that name an item
	byCaseOwn                   // the events that name a case and no item
)

// namedBy returns how many verified events a lookup of kind for key
// returns, and the last one's position.
func (s *State) namedBy(key string, kind lookupKind) (named, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch kind {
	case byCase:
		return s.caseEvents[key], nil
	case byCaseOwn:
		return s.caseOwn[key], nil
	}
	it, err := s.item(key)
	if err != nil {
		return named{}, err
	}
	if it != nil {
		return it.events, nil
	}
	return s.itemEvents[key], nil
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

// getItem returns a copy of item id; false if there is none. An error
// is ErrIntegrity: the state snapshot's page that holds it failed its
// check.
func (s *State) getItem(id string) (Item, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, err := s.item(id)
	if it == nil || err != nil {
		return Item{}, false, err
	}
	return *it, true, nil
}

// item returns item id, from the items deposited or changed since the
// state snapshot's pages or from the pages; nil if there is none. It
// must not be changed (itemToChange); s.mu is held. An error is
// ErrIntegrity (a page that failed its check), and is told to
// pagesFailed.
func (s *State) item(id string) (*Item, error) {
	if it := s.items[id]; it != nil || s.pages == nil {
		return it, nil
	}
	it, err := lookupItem(s.pages, id)
	if err != nil {
		return nil, s.pageFailed(err)
	}
	return it, nil
}

// pageFailed tells pagesFailed, once, of a page that failed its check
// (errPageCheck), and returns err. A read after the pages were closed
// (the vault closing) is no sign of a change to the file, and is not
// told.
func (s *State) pageFailed(err error) error {
	if errors.Is(err, errPageCheck) {
		s.pagesFailedOnce.Do(func() {
			if s.pagesFailed != nil {
				s.pagesFailed(err)
			}
		})
	}
	return err
}

// itemToChange returns item id to be changed, moving it from the pages
// into s.items first; nil if there is none. s.mu is held for writing.
func (s *State) itemToChange(id string) (*Item, error) {
	if it := s.items[id]; it != nil {
		return it, nil
	}
	it, err := s.item(id)
	if it == nil || err != nil {
		return nil, err
	}
	cp := *it
	s.items[id] = &cp
	return &cp, nil
}

// eachItem calls f with every item in id order: the pages' merged with
// those deposited or changed since. The items must not be changed;
// s.mu is held. The pages are read without filling their cache.
func (s *State) eachItem(f func(*Item) error) error {
	newer := slices.Sorted(maps.Keys(s.items))
	next := 0
	// before passes the newer items whose id sorts before id.
	before := func(id string, last bool) error {
		for ; next < len(newer) && (last || newer[next] < id); next++ {
			if err := f(s.items[newer[next]]); err != nil {
				return err
			}
		}
		return nil
	}
	if s.pages != nil {
		var failed error
		err := s.pages.scan(0, false, func(items []*Item) (bool, error) {
			for _, it := range items {
				if err := before(it.ID, false); err != nil {
					failed = err
					return false, err
				}
				if next < len(newer) && newer[next] == it.ID {
					continue // changed since: passed by before, next
				}
				if err := f(it); err != nil {
					failed = err
					return false, err
				}
			}
			return true, nil
		})
		if err != nil && failed == nil {
			return s.pageFailed(err) // the scan's own: a page
		}
		if err != nil {
			return err
		}
	}
	return before("", true)
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

// objectOwner returns the item or package an object belongs to. An
// error is ErrIntegrity (a page of the object index that failed its
// check).
func (s *State) objectOwner(name string) (string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ownerOf(name)
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
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for name, t := range s.recent {
		if t.After(since) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// recentLen is the number of objects in the index of recent objects.
func (s *State) recentLen() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.recent)
}

// pruneRecent forgets objects whose events are not newer than before:
// their retention no longer needs finishing at a start.
func (s *State) pruneRecent(before time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, t := range s.recent {
		if !t.After(before) {
			delete(s.recent, name)
		}
	}
}

// caseItems returns a case's item ids, in deposit order (a copy). An
// error is a page of the case index that failed its check (ErrIntegrity)
// or could not be read.
func (s *State) caseItems(id string) ([]string, error) {
	ids, _, err := s.caseItemsRange(id, 0, -1)
	return ids, err
}

// caseItemsRange returns at most limit (all, if negative) of a case's
// item ids from the offset-th (0 the first deposited), in deposit order,
// and how many items the case holds; it reads the pages of the case
// index only as far as it needs.
func (s *State) caseItemsRange(id string, offset, limit int) ([]string, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.cases[id]
	if c == nil {
		return nil, 0, nil
	}
	total := c.paged + len(c.Items)
	if limit < 0 {
		limit = total
	}
	out := make([]string, 0, max(0, min(limit, total-offset)))
	if c.paged > offset && limit > 0 {
		err := s.caseRowsFrom(c, offset, func(item string) bool {
			out = append(out, item)
			return len(out) < limit
		})
		if err != nil {
			return nil, 0, err
		}
	}
	from := max(0, offset-c.paged)
	for _, item := range c.Items[min(from, len(c.Items)):] {
		if len(out) == limit {
			break
		}
		out = append(out, item)
	}
	return out, total, nil
}

// caseItemCount returns how many items a case holds, without reading
// their ids (a case list counts every case's).
func (s *State) caseItemCount(id string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c := s.cases[id]; c != nil {
		return c.paged + len(c.Items)
	}
	return 0
}

// objectCase returns the case an object belongs to. An error is a page
// of the object index or of items that failed its check (ErrIntegrity)
// or could not be read (ErrUnavailable).
func (s *State) objectCase(name string) (Case, bool, error) {
	s.mu.RLock()
	owner, ok, err := s.ownerOf(name)
	var caseID string
	if ok {
		var it *Item
		if it, err = s.item(owner); it != nil {
			caseID = it.Case
		} else if p := s.packages[owner]; p != nil {
			caseID = p.Case
		}
	}
	s.mu.RUnlock()
	if caseID == "" {
		return Case{}, false, err
	}
	c, found := s.getCase(caseID)
	return c, found, nil
}

// caseObjects returns the objects of a case's items and packages.
func (s *State) caseObjects(caseID string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	if c := s.cases[caseID]; c != nil {
		each := func(id string) error {
			it, err := s.item(id)
			if err != nil {
				return err
			}
			out = append(out, it.Deposit.Object)
			return nil
		}
		var err error
		if c.paged > 0 {
			if rerr := s.caseRows(c, func(id string) bool {
				err = each(id)
				return err == nil
			}); rerr != nil {
				return nil, rerr
			}
		}
		for _, id := range c.Items {
			if err == nil {
				err = each(id)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	for _, p := range s.packages {
		if p.Case == caseID && p.Sealed != nil {
			out = append(out, p.Sealed.Object)
		}
	}
	return out, nil
}

// scanChunk is how many items State.scanItems reads under the state's
// lock at a time: about 1 MiB of them.
const scanChunk = 4096

// scanItems calls f with a copy of every item, in id order, chunk items
// at a time: the state's lock is held while a chunk is read, not while f
// runs, so that a scan of a large vault (scrub, statistics) neither holds
// every item in memory nor holds up the events applied meanwhile. Each
// chunk is read from the state as it is then (an item changed since the
// scan began is passed as it is now); an item deposited after the scan
// began may or may not be passed. An error is f's, or a page that failed
// its check (ErrIntegrity: the vault halts) or could not be read.
func (s *State) scanItems(chunk int, f func(Item) error) error {
	// The ids of the items held in memory when the scan begins (those
	// deposited or changed since the snapshot; every item before the
	// first), sorted once, outside the lock.
	s.mu.RLock()
	held := slices.Collect(maps.Keys(s.items))
	s.mu.RUnlock()
	slices.Sort(held)
	after := ""
	for {
		items, next, more, err := s.itemsAfter(after, chunk, held)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := f(it); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = next
	}
}

// itemsAfter returns copies of at most n items whose ids sort after
// after ("" for the first), in id order: the pages' merged with those of
// held (sorted ids of items held in memory) that the state still holds,
// each item as the state holds it now. It also returns the last id it
// passed or passed over, from which the next chunk goes on, and whether
// there may be more.
func (s *State) itemsAfter(after string, n int, held []string) ([]Item, string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// The pages' first n items after after, and the id of the next one
	// ("" if the pages hold no more): held ids are merged in up to it.
	var fromPages []*Item
	bound := ""
	if s.pages != nil {
		err := s.pages.scan(s.pages.find(after, true), false, func(items []*Item) (bool, error) {
			for _, it := range items {
				switch {
				case it.ID <= after:
				case len(fromPages) == n:
					bound = it.ID
					return false, nil
				default:
					fromPages = append(fromPages, it)
				}
			}
			return true, nil
		})
		if err != nil {
			return nil, "", false, s.pageFailed(err)
		}
	}
	from, _ := slices.BinarySearch(held, after)
	if from < len(held) && held[from] == after {
		from++
	}
	to := from
	for to < len(held) && to-from < n && (bound == "" || held[to] < bound) {
		to++
	}
	newer := held[from:to]
	out := make([]Item, 0, min(n, len(fromPages)+len(newer)))
	last := after
	for i, j := 0, 0; (i < len(fromPages) || j < len(newer)) && len(out) < n; {
		var id string
		var it *Item
		switch {
		case j == len(newer) || i < len(fromPages) && fromPages[i].ID < newer[j]:
			id, it = fromPages[i].ID, fromPages[i]
			i++
		case i < len(fromPages) && fromPages[i].ID == newer[j]:
			id, it = fromPages[i].ID, fromPages[i]
			i, j = i+1, j+1
		default:
			id = newer[j] // held in memory only (nil below if it left the state)
			j++
		}
		if now := s.items[id]; now != nil {
			it = now // deposited or changed since the pages
		}
		if it != nil {
			out = append(out, *it)
		}
		last = id
	}
	more := bound != "" || to < len(held) || len(out) == n
	return out, last, more, nil
}

// casesSpelledLike are the ids of the cases whose id is id's but for
// letter case (id itself left out), in id order.
func (s *State) casesSpelledLike(id string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for c := range s.cases {
		if len(c) == len(id) && c != id && strings.EqualFold(c, id) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func (s *State) allCases() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.cases))
	for id := range s.cases {
		out = append(out, id)
	}
	// In id order: work over every case goes the same way each time.
	slices.Sort(out)
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
