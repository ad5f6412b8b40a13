package vault

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// snapState is the State as a snapshot holds it (JSON): the fields of
// State and of the types it holds, with their unexported parts carried
// explicitly. Maps that index others are rebuilt, not stored (byToken,
// sessionByID) or are pages of their own (the object index, the items of
// each content SHA-256 and each case's items). snapshot_test.go fails if
// State gains a field this does not carry.
type snapState struct {
	ApprovedHalves map[string]approvedInvitation `json:"approved_halves,omitempty"`
	CaseEvents     map[string][2]uint64          `json:"case_events,omitempty"`
	CaseOwn        map[string][2]uint64          `json:"case_own_events,omitempty"`
	Cases          map[string]*Case              `json:"cases,omitempty"`
	Decided        map[string]requestEnd         `json:"decided,omitempty"`
	Hot            *snapHotline                  `json:"hotline,omitempty"`
	// IDTokens is State.idTokens (state version 41).
	IDTokens    map[string]time.Time `json:"id_tokens,omitempty"`
	ItemEvents  map[string][2]uint64 `json:"item_events,omitempty"`
	KeyFiles    map[string]keyRecord `json:"key_files,omitempty"`
	WitnessKeys map[string]bool      `json:"witness_keys,omitempty"`
	// Identity is State.identity (state version 34).
	Identity *identitySources `json:"identity_sources,omitempty"`
	// DefaultRetentions is State.defaultRetentions (state version 21).
	DefaultRetentions []startRetention    `json:"default_retentions,omitempty"`
	Log               *LogOpened          `json:"log,omitempty"`
	LostKeys          map[string]bool     `json:"lost_keys,omitempty"`
	Packages          map[string]*Package `json:"packages,omitempty"`
	// Paged is a page of items (itempages.go), Objects one of the object
	// index, Content one of the content index and CaseItems one of the
	// case index (indexpages.go): each a line of its own.
	Paged     []pagedItem `json:"paged,omitempty"`
	Objects   [][2]string `json:"objects_paged,omitempty"`
	Content   [][2]string `json:"content_paged,omitempty"`
	CaseItems [][2]string `json:"case_items_paged,omitempty"`
	// PageIndex is a line of the page index, and CaseRows one of each
	// case's count of rows in the case index: the last lines, which let
	// a start read no page (pageindex.go).
	PageIndex *snapPageIndex         `json:"page_index,omitempty"`
	CaseRows  map[string]int         `json:"case_rows,omitempty"`
	Persons   map[string]snapPerson  `json:"persons,omitempty"`
	Recent    map[string]time.Time   `json:"recent,omitempty"`
	Requests  map[string]snapRequest `json:"requests,omitempty"`
	Retained  map[string]time.Time   `json:"retained,omitempty"`
	Sessions  map[string]snapSession `json:"sessions,omitempty"`
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
	Via     []string  `json:"via,omitempty"`
	Void    string    `json:"void,omitempty"`
}

type snapRequest struct {
	Request        Request `json:"request"`
	InvitationHalf string  `json:"invitation_half"`
	Void           bool    `json:"void,omitempty"`
	// VoidAt is when the requester's suspension or removal, or the
	// retirement of a source they asked through, voided it.
	VoidAt time.Time `json:"void_at,omitzero"`
	// Via are the identity sources the requester's session went through
	// (Request.via).
	Via []string `json:"via,omitempty"`
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
	Settled     map[string]settledMark          `json:"settled"`
	// ExportedSums is hotlineState.exportedSums.
	ExportedSums map[string]uint64 `json:"exported_sums"`
}

type snapPDQ struct {
	Item string   `json:"item"`
	Hash [32]byte `json:"hash"`
}

// snapshot returns the state but its items and the object, content and
// case indexes (which are written as pages: writeSnapshotBody) as a
// snapshot holds it. It shares the state's
// cases, packages and hotline records (encoding only reads them); s.mu
// is held.
func (s *State) snapshot() *snapState {
	out := &snapState{
		ApprovedHalves: s.approvedHalves, IDTokens: s.idTokens, Decided: s.decided, Log: &s.log, LostKeys: s.lostKeys, KeyFiles: s.keyFiles, WitnessKeys: s.witnessKeys,
		DefaultRetentions: s.defaultRetentions, Identity: &s.identity,
		Packages: s.packages, Recent: s.recent, Retained: s.retained,
		CaseEvents: map[string][2]uint64{}, ItemEvents: map[string][2]uint64{}, CaseOwn: map[string][2]uint64{},
		Persons: map[string]snapPerson{}, Requests: map[string]snapRequest{}, Sessions: map[string]snapSession{},
	}
	// Cases without their item lists (the case index's pages): copies, as the
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
	// The items' own counts are in their pages.
	for k, n := range s.itemEvents {
		out.ItemEvents[k] = [2]uint64{n.n, n.last}
	}
	for k, p := range s.persons {
		sp := snapPerson{Person: *p, TokenSHA256: p.tokenSHA256}
		if inv := p.invitation; inv != nil {
			sp.Invitation = &snapInvitation{ID: inv.id, Halves: inv.halves, Expires: inv.expires, Via: inv.via, Void: inv.void}
		}
		out.Persons[k] = sp
	}
	for k, r := range s.requests {
		out.Requests[k] = snapRequest{Request: *r, InvitationHalf: r.invitationHalf, Void: r.void, VoidAt: r.voidAt, Via: r.via}
	}
	for k, x := range s.sessions {
		out.Sessions[k] = snapSession{Credential: x.credential, Expires: x.expires, ID: x.id, Person: x.person,
			SignedIn: x.signedIn, TokenSHA256: x.tokenSHA256}
	}
	h := s.hot
	out.Hot = &snapHotline{Contacts: h.contacts, Exposure: h.exposure, HashSets: h.hashsets,
		JudgedSet: h.judgedSet, PDQOf: h.pdqOf, Policy: h.policy, ReportOrder: h.reportOrder, Reports: h.reports, Votes: h.votes, Settled: h.settled, ExportedSums: h.exportedSums}
	for _, p := range h.pdq {
		out.Hot.PDQ = append(out.Hot.PDQ, snapPDQ{p.item, p.hash})
	}
	for _, p := range h.judged {
		out.Hot.Judged = append(out.Hot.Judged, snapPDQ{p.item, p.hash})
	}
	return out
}

// restorer builds the State from a snapshot's lines (decodeLines): its
// pages of items, of the object index, of the content index and of the
// case index first, in that order (kept where they are, pages.go: only
// their index and the keys the indexes are checked against are held),
// then the rest.
// Each entry of the large maps is filed once under its record's own copy
// of its id: JSON decoding gives every map key and field its own copy,
// and a state restored from a snapshot would otherwise hold each id,
// object name and content SHA-256 several times (StateMemoryPerItem
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
	// items, objects, content and cases index the pages read of each
	// kind; keys are the items, in id order, which the indexes' rows
	// are checked against; rows count the rows of the indexes' pages
	// (rows[stage-1]: objects, content, cases), and last is the last
	// key of the last such page; onList counts
	// each case's rows in the case index. stage is how far the lines
	// have come: 0 pages of items, 1 of objects, 2 of content, 3 of
	// cases, 4 the rest.
	items, objects, content, cases []pageRef
	keys                           []itemKey
	rows                           [3]int
	last                           string
	stage                          int
	onList                         map[string]int
	// seed hashes the items' object names and content SHA-256s (keys),
	// which the indexes' rows are checked against; packages are the
	// object index's rows of packages (checked against the packages
	// once they are read); prev is the content or case index's last
	// row's key and the deposit position of its item.
	seed     maphash.Seed
	seeded   bool
	packages map[string]string
	prev     string
	prevAt   uint64
	// r is what the restored state's pages are read from (the snapshot
	// file), and close closes it.
	r     io.ReaderAt
	close func() error
	// indexed: the pages are not read, and the state's pages are those
	// of the page index (pageindex.go), which must lie between pagesFrom
	// and pagesTo; otherwise the pages are read and the index is checked
	// against them. index holds the index's lines by kind, caseRows each
	// case's count of rows in the case index.
	indexed            bool
	pagesFrom, pagesTo int64
	index              [pageKinds]*pageIndexKind
	indexEnd           int64 // the end of the last page indexed so far
	caseRows           map[string]int
	// tailAt is the offset of the first line after the pages (the tail).
	tailAt int64
}

// itemKey is what the indexes' pages are checked against of a paged
// item: its case, its deposit's position, hashes of its object name and
// content SHA-256, and which indexes named it (seen: a bit each, 1 the
// object index, 2 the content index, 4 the case index).
type itemKey struct {
	id, caseID  string
	at          uint64 // its deposit's position
	object, sha uint64
	seen        uint8
}

// lineAt is where a snapshot's line is: its offset, length (the newline
// included) and SHA-256.
type lineAt struct {
	off  int64
	size int
	sum  [32]byte
}

// snapshotEntries counts the entries of a snapshot's large maps.
type snapshotEntries struct {
	Items      int `json:"items"`
	Cases      int `json:"cases"`
	ItemEvents int `json:"item_events"`
	CaseEvents int `json:"case_events"`
	CaseOwn    int `json:"case_own_events"`
}

// entries counts b's large maps' entries (items are counted by the
// writer of the pages).
func (b *snapState) entries() *snapshotEntries {
	return &snapshotEntries{Cases: len(b.Cases), ItemEvents: len(b.ItemEvents), CaseEvents: len(b.CaseEvents), CaseOwn: len(b.CaseOwn)}
}

var errSnapshotDup = errors.New("it names an entry twice")

// add adds a snapshot line, found at at, to the state read so far.
func (r *restorer) add(part *snapState, at lineAt) error {
	isPage := part.Paged != nil || part.Objects != nil || part.Content != nil || part.CaseItems != nil
	switch {
	case r.indexed && isPage:
		return errors.New("a page lies among the lines after the pages")
	case r.stage == 5 && (isPage || part.PageIndex == nil && part.CaseRows == nil):
		return errors.New("a line of the state comes after its page index")
	case part.PageIndex != nil || part.CaseRows != nil:
		return r.addIndex(part)
	case part.Paged != nil:
		return r.addPage(part, at)
	case part.Objects != nil:
		return r.addRows(part, at, 1)
	case part.Content != nil:
		return r.addRows(part, at, 2)
	case part.CaseItems != nil:
		return r.addRows(part, at, 3)
	}
	if r.stage < 4 {
		r.tailAt = at.off
	}
	r.stage = 4
	b := &r.b
	for id, c := range part.Cases {
		if c == nil || c.ID != id {
			return fmt.Errorf("its case %q is filed under another id", id)
		}
		// A case's items are the case index's rows, checked against the
		// items; the vault writes none with the case.
		if c.Items != nil {
			return fmt.Errorf("its case %q lists items beside the case index", id)
		}
		if !addCanon(&b.Cases, r.sizes.Cases, c.ID, c) {
			return errSnapshotDup
		}
	}
	for id, n := range part.ItemEvents {
		if n[0] == 0 {
			return fmt.Errorf("it counts no events naming %q", id)
		}
		// An item's count is in its page.
		if _, ok := r.item(id); ok {
			return errSnapshotDup
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
	if !mergeInto(&b.ApprovedHalves, part.ApprovedHalves) || !mergeInto(&b.IDTokens, part.IDTokens) || !mergeInto(&b.Decided, part.Decided) || !mergeInto(&b.LostKeys, part.LostKeys) || !mergeInto(&b.KeyFiles, part.KeyFiles) || !mergeInto(&b.WitnessKeys, part.WitnessKeys) ||
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
	if part.DefaultRetentions != nil {
		if b.DefaultRetentions != nil {
			return errSnapshotDup
		}
		b.DefaultRetentions = part.DefaultRetentions
	}
	if part.Identity != nil {
		if b.Identity != nil {
			return errSnapshotDup
		}
		b.Identity = part.Identity
	}
	if part.Hot != nil {
		if b.Hot != nil {
			return errSnapshotDup
		}
		b.Hot = part.Hot
	}
	return nil
}

// addPage adds a page of items: its place to the index, its items' keys
// to those read. Pages come before the rest of the state, in id order.
func (r *restorer) addPage(part *snapState, at lineAt) error {
	if r.stage > 0 {
		return errors.New("a page of items comes after the rest of the state")
	}
	items, err := pageItems(part)
	if err != nil {
		return err
	}
	if n := len(r.keys); n > 0 && items[0].ID <= r.keys[n-1].id {
		return fmt.Errorf("its item %q is out of order", items[0].ID)
	}
	if r.keys == nil {
		r.keys = make([]itemKey, 0, r.sizes.Items)
	}
	if !r.seeded {
		r.seed, r.seeded = maphash.MakeSeed(), true
	}
	first := len(r.keys)
	for _, it := range items {
		// A copy: the state keeps this string, not the page.
		r.keys = append(r.keys, itemKey{id: strings.Clone(it.ID), caseID: it.Case, at: it.DepositAt,
			object: maphash.String(r.seed, it.Deposit.Object), sha: maphash.String(r.seed, it.Deposit.SHA256)})
	}
	r.items = append(r.items, pageRef{first: r.keys[first].id, rank: first, off: at.off, size: at.size, sum: at.sum})
	return nil
}

// addRows adds a page of the object index (stage 1), of the content
// index (stage 2) or of the case index (stage 3): its place to the
// index. Pages of one index come together, in key order.
func (r *restorer) addRows(part *snapState, at lineAt, stage int) error {
	if r.stage > stage {
		return errors.New("a page of an index comes after what follows it")
	}
	if r.stage < stage {
		r.stage, r.last, r.prev, r.prevAt = stage, "", "", 0
	}
	rows, err := [...]func(*snapState) ([][2]string, error){objectRows, contentRows, caseIndexRows}[stage-1](part)
	if err != nil {
		return err
	}
	if first := rows[0][0]; r.last != "" && (first < r.last || stage == 1 && first == r.last) {
		return fmt.Errorf("its row %q is out of order", first)
	}
	if err := r.checkRows(rows, stage); err != nil {
		return err
	}
	r.last = rows[len(rows)-1][0]
	ref := pageRef{first: strings.Clone(rows[0][0]), rank: r.rows[stage-1], off: at.off, size: at.size, sum: at.sum}
	r.rows[stage-1] += len(rows)
	switch stage {
	case 1:
		r.objects = append(r.objects, ref)
	case 2:
		r.content = append(r.content, ref)
	default:
		r.cases = append(r.cases, ref)
	}
	return nil
}

// indexNames names the indexes by stage, for errors.
var indexNames = [...]string{1: "object", 2: "content", 3: "case"}

// checkRows checks an index's rows against the items (whose pages came
// first): each object row names an item whose object it is (or a
// package, checked once the packages are read), each content row an item
// whose content it is, each case row an item of that case, in deposit
// order for one SHA-256 or case; no item twice in one index. (Which
// items a case's list leaves out is checked once the cases are read:
// restorer.state.)
func (r *restorer) checkRows(rows [][2]string, stage int) error {
	bit := uint8(1) << (stage - 1)
	for _, row := range rows {
		k, ok := r.item(row[1])
		switch {
		case !ok && stage == 1:
			if r.packages == nil {
				r.packages = map[string]string{}
			}
			if _, dup := r.packages[row[1]]; dup {
				return fmt.Errorf("its object index names %q twice", row[1])
			}
			r.packages[strings.Clone(row[1])] = strings.Clone(row[0])
			continue
		case !ok:
			return fmt.Errorf("its %s index names %q, which is no item", indexNames[stage], row[1])
		case k.seen&bit != 0:
			return fmt.Errorf("its %s index names item %q twice", indexNames[stage], k.id)
		case stage == 1 && k.object != maphash.String(r.seed, row[0]):
			return fmt.Errorf("its object index gives item %q another object than its own", k.id)
		case stage == 2 && k.sha != maphash.String(r.seed, row[0]):
			return fmt.Errorf("its content index gives item %q another SHA-256 than its own", k.id)
		case stage == 3 && k.caseID != row[0]:
			return fmt.Errorf("its case index puts item %q in case %q, not its own", k.id, row[0])
		case stage > 1 && row[0] == r.prev && k.at <= r.prevAt:
			return fmt.Errorf("its %s index lists item %q out of deposit order", indexNames[stage], k.id)
		}
		k.seen |= bit
		if stage > 1 {
			r.prev, r.prevAt = row[0], k.at
		}
		if stage == 3 {
			if r.onList == nil {
				r.onList = map[string]int{}
			}
			r.onList[k.caseID]++
		}
	}
	return nil
}

// item returns the key of the paged item id.
func (r *restorer) item(id string) (*itemKey, bool) {
	j, ok := slices.BinarySearchFunc(r.keys, id, func(k itemKey, id string) int { return strings.Compare(k.id, id) })
	if !ok {
		return nil, false
	}
	return &r.keys[j], true
}

// itemID returns the copy of an item id the state keeps, else the
// string given.
func (r *restorer) itemID(id string) string {
	if k, ok := r.item(id); ok {
		return k.id
	}
	return id
}

// caseID is itemID for a case id read so far.
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

// state returns the State read, its items in pages read from r.r, with
// the indexing maps rebuilt and the remaining ids shared with their
// records.
func (r *restorer) state() (*State, error) {
	b := &r.b
	s := newState()
	if b.Log == nil || b.Hot == nil || b.Log.Origin == "" {
		return nil, errors.New("it lacks part of the state")
	}
	// Each item has its object's row and its content's (checkRows saw
	// each once); each sealed package its object's, and nothing else
	// is in the object index. Each item is on its case's list if, and
	// only if, it was deposited after the case's (last) opening: an
	// opening replaced the case, in a log from before a second one was
	// refused.
	for _, k := range r.keys { // none if indexed: checked beside the running vault
		if k.seen&3 != 3 {
			return nil, fmt.Errorf("its indexes leave out item %q", k.id)
		}
		c := b.Cases[k.caseID]
		switch {
		case c == nil:
			return nil, fmt.Errorf("its item %q is of case %q, which it lacks", k.id, k.caseID)
		case k.at > c.OpenedSeq && k.seen&4 == 0:
			return nil, fmt.Errorf("its case index leaves out item %q", k.id)
		case k.at <= c.OpenedSeq && k.seen&4 != 0:
			return nil, fmt.Errorf("its case index lists item %q, deposited before its case was opened", k.id)
		}
	}
	sealed := 0
	for _, p := range b.Packages {
		if p.Sealed != nil && !r.indexed {
			sealed++
			if r.packages[p.ID] != p.Sealed.Object {
				return nil, fmt.Errorf("its object index does not give package %s its object", p.ID)
			}
		}
	}
	if len(r.packages) != sealed {
		return nil, fmt.Errorf("its object index names %d packages; %d are sealed", len(r.packages), sealed)
	}
	pages, counts, onList, err := r.pages()
	if err != nil {
		return nil, err
	}
	if len(pages[0])+len(pages[1])+len(pages[2])+len(pages[3]) > 0 {
		if r.r == nil {
			return nil, errors.New("its pages cannot be read back")
		}
		f := &snapFile{r: r.r, close: r.close}
		s.pages = newPageSet(f, "items", pages[0], counts[0], pageItems)
		s.objectPages = newPageSet(f, "objects", pages[1], counts[1], objectRows)
		s.contentPages = newPageSet(f, "content SHA-256s", pages[2], counts[2], contentRows)
		s.casePages = newPageSet(f, "cases' items", pages[3], counts[3], caseIndexRows)
	}
	s.log = *b.Log
	setIf(&s.cases, b.Cases)
	setIf(&s.packages, b.Packages)
	setIf(&s.approvedHalves, b.ApprovedHalves)
	setIf(&s.idTokens, b.IDTokens)
	setIf(&s.decided, b.Decided)
	setIf(&s.lostKeys, b.LostKeys)
	setIf(&s.keyFiles, b.KeyFiles)
	setIf(&s.witnessKeys, b.WitnessKeys)
	s.defaultRetentions = b.DefaultRetentions
	if b.Identity != nil {
		s.identity = *b.Identity
	}
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
	setIf(&s.itemEvents, r.itemEvents)
	for k, sp := range b.Persons {
		p := sp.Person
		p.tokenSHA256 = sp.TokenSHA256
		if inv := sp.Invitation; inv != nil {
			p.invitation = &invitation{id: inv.ID, halves: inv.Halves, expires: inv.Expires, via: inv.Via, void: inv.Void}
		}
		s.persons[k] = &p
		if p.tokenSHA256 != "" {
			s.byToken[p.tokenSHA256] = &p
		}
	}
	for k, r := range b.Requests {
		req := r.Request
		req.invitationHalf, req.void, req.voidAt, req.via = r.InvitationHalf, r.Void, r.VoidAt, r.Via
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
	setIf(&h.settled, bh.Settled)
	setIf(&h.exportedSums, bh.ExportedSums)
	h.contacts, h.reportOrder = bh.Contacts, bh.ReportOrder
	for _, p := range bh.PDQ {
		h.pdq = append(h.pdq, pdqItem{p.Item, p.Hash})
	}
	for _, p := range bh.Judged {
		h.judged = append(h.judged, pdqItem{p.Item, p.Hash})
	}
	for id, n := range onList {
		c := s.cases[id]
		if c == nil {
			return nil, fmt.Errorf("its case index lists items of case %q, which it lacks", id)
		}
		c.paged = n
	}
	if err := s.intern(r); err != nil {
		return nil, err
	}
	return s, nil
}

// intern makes the rest of the restored state share one copy of each
// item id and person name with the records or keys that hold it
// (restorer.add did so for the large maps' keys). A person filed under
// another name is refused. s is not yet shared.
func (s *State) intern(r *restorer) error {
	for name, p := range s.persons {
		if p == nil || p.Name != name {
			return fmt.Errorf("its person %q is filed under another name", name)
		}
		p.Name = name
	}
	h := s.hot
	h.pdqOf = rekey(h.pdqOf, r.itemID)
	h.judgedSet = rekey(h.judgedSet, r.itemID)
	h.votes = rekey(h.votes, r.itemID)
	h.settled = rekey(h.settled, r.itemID)
	for i := range h.pdq {
		h.pdq[i].item = r.itemID(h.pdq[i].item)
	}
	for i := range h.judged {
		h.judged[i].item = r.itemID(h.judged[i].item)
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

// writeSnapshotBody writes the state's lines of a snapshot to w, whose
// first byte is at offset off of the file: the items as pages, in id
// order (the pages the state reads merged with the items deposited or
// changed since), then the object, content and case indexes as pages
// (the pages merged with the rows added since), then the rest (split),
// then the page index (pageindex.go).
// s.mu is held. It returns the writers of the four kinds of page, whose
// indexes are those of the pages written.
func (s *State) writeSnapshotBody(w io.Writer, off int64) (*writtenPages, error) {
	pw := newItemPageWriter(w, off)
	err := s.eachItem(func(it *Item) error {
		pw.add(it)
		return pw.err
	})
	if err == nil {
		err = pw.close()
	}
	if err != nil {
		return nil, err
	}
	out := &writtenPages{items: pw}
	indexes := []struct {
		pages *indexPages
		keep  func(string) bool
		added [][2]string
		wrap  func([][2]string) *snapState
		to    **pageWriter[[2]string]
	}{
		{s.objectPages, nil, s.addedObjects(), func(rows [][2]string) *snapState { return &snapState{Objects: rows} }, &out.objects},
		{s.contentPages, nil, s.addedContent(), func(rows [][2]string) *snapState { return &snapState{Content: rows} }, &out.content},
		{s.casePages, s.casePagesKept, s.addedCaseItems(), func(rows [][2]string) *snapState { return &snapState{CaseItems: rows} }, &out.cases},
	}
	caseRows := map[string]int{}
	for i, x := range indexes {
		rw := newRowPageWriter(w, pw.off, x.wrap)
		add := rw.add
		if i == 2 {
			add = func(row [2]string) { caseRows[row[0]]++; rw.add(row) }
		}
		if err := mergeRows(x.pages, x.keep, x.added, add); err != nil {
			return nil, s.pageFailed(err)
		}
		if err := rw.close(); err != nil {
			return nil, err
		}
		pw.off = rw.off
		*x.to = rw
	}
	out.tailOff = pw.off
	for _, part := range s.snapshot().split(snapshotLine) {
		if err := writeSnapLine(w, part); err != nil {
			return nil, err
		}
	}
	if err := writePageIndex(w, out, caseRows); err != nil {
		return nil, err
	}
	return out, nil
}

// writtenPages are the writers, and so the indexes, of the pages
// writeSnapshotBody wrote, and tailOff the offset of the first line after
// them (the tail).
type writtenPages struct {
	items                   *pageWriter[*Item]
	objects, content, cases *pageWriter[[2]string]
	tailOff                 int64
}

// open returns the pages written, read from f.
func (w *writtenPages) open(f *snapFile) snapPages {
	return snapPages{
		items:   newPageSet(f, "items", w.items.index, w.items.count, pageItems),
		objects: newPageSet(f, "objects", w.objects.index, w.objects.count, objectRows),
		content: newPageSet(f, "content SHA-256s", w.content.index, w.content.count, contentRows),
		cases:   newPageSet(f, "cases' items", w.cases.index, w.cases.count, caseIndexRows),
	}
}

// itemCount is about how many items the state holds (at most that many).
func (s *State) itemCount() int {
	n := len(s.items)
	if s.pages != nil {
		n += s.pages.count
	}
	return n
}

// split returns the state but its items as the lines of a snapshot: the
// large maps (an entry per case or package, and the event counts per
// case and per id that names no item) in parts of at most perLine
// entries, then the rest; so that neither writing nor reading a snapshot
// holds more than a few lines' JSON beside the state.
func (b *snapState) split(perLine int) []*snapState {
	var out []*snapState
	chunk := func(n int, set func(part *snapState, from, to int)) {
		for from := 0; from < n; from += perLine {
			part := &snapState{}
			set(part, from, min(n, from+perLine))
			out = append(out, part)
		}
	}
	chunk(len(b.Cases), chunker(b.Cases, func(p *snapState, m map[string]*Case) { p.Cases = m }))
	chunk(len(b.Packages), chunker(b.Packages, func(p *snapState, m map[string]*Package) { p.Packages = m }))
	chunk(len(b.ItemEvents), chunker(b.ItemEvents, func(p *snapState, m map[string][2]uint64) { p.ItemEvents = m }))
	chunk(len(b.CaseEvents), chunker(b.CaseEvents, func(p *snapState, m map[string][2]uint64) { p.CaseEvents = m }))
	chunk(len(b.CaseOwn), chunker(b.CaseOwn, func(p *snapState, m map[string][2]uint64) { p.CaseOwn = m }))
	chunk(len(b.KeyFiles), chunker(b.KeyFiles, func(p *snapState, m map[string]keyRecord) { p.KeyFiles = m }))
	rest := *b
	rest.Cases, rest.Packages, rest.ItemEvents, rest.CaseEvents, rest.CaseOwn, rest.KeyFiles = nil, nil, nil, nil, nil, nil
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
