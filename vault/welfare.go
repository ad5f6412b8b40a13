package vault

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Reviewer welfare (docs/hotline.md): material already known is not shown
// again for review unless the person overrides with a purpose, and the
// override is recorded in the access event; what each person was shown is
// counted per day, visible to them and to custodians, with an optional
// daily limit that warns.

// knownBecause says why an item is known material, or "" if it is not
// (docs/hotline.md, section 6). It is known when:
//   - its classification holds it illegal (Classification.heldIllegal):
//     votes settle it so; or, not settled, a counted vote says so; or,
//     with no such vote, it matched a known-illegal hash-set entry at
//     deposit;
//   - or, unless at least two people's votes settle it as not illegal
//     (Classification.clearedByVotes), it matches a known-illegal entry
//     of a set loaded now, is identical (same SHA-256) to an item held
//     illegal, or looks like one (PDQ within the threshold, both hashes
//     of quality at least 50), an item of another case held so by votes
//     only with as many agreeing as its own case asks (heldIllegalCopy),
//     or looks like an item that a set loaded
//     now lists as known-illegal (a set imported after that item's
//     deposit, which no vote or deposit match judged).
//
// So neither one vote, nor votes that disagree, nor a policy raised
// unhides what is known: an analyst who votes on such an item reveals it
// with the override. The reason never names another case or item.
//
// rec is the item's deposit record, or nil: then it is read from the log
// (depositRecord) when the check needs more than the state's summary (a
// hash set is loaded and the item has legacy hashes or a PDQ hash, or
// the item has a PDQ hash and items are judged). A record that cannot be
// read is an error (ErrIntegrity when the log does not vouch for it):
// the caller answers with it rather than guess whether the item is known.
// So is a hash set that could not be read as it was imported
// (hashSets.unreadable), which is taken out of use.
func (v *Vault) knownBecause(ctx context.Context, it Item, rec *ItemDeposited) (string, error) {
	return v.knownWith(ctx, it, rec, nil)
}

// neighbourRecords holds the answers a known-material check had of
// whether the sets in use list each near-copy it consulted (nearListed),
// so that the same check made again at an access event's position, in
// the sequencer, where the store is not read (frozen), decides from the
// same answers while the sets are unchanged; a near-copy it has no answer
// for (deposited in between, or the sets changed) makes that check
// refuse, and the request be repeated.
type neighbourRecords struct {
	mu     sync.Mutex
	m      map[string]listedAnswer
	frozen bool
}

// listedAnswer is whether a set in use lists an item (m, nil if none),
// under the sets' generation gen.
type listedAnswer struct {
	gen uint64
	m   *HashSetMatch
}

// errNeighbourUnread is the refusal of a check at an event's position
// that would have to read a near-copy's deposit record.
var errNeighbourUnread = refused(ErrConflict, "an item like this one was deposited, or the hash sets changed, while the access was decided; repeat the request")

func (n *neighbourRecords) answer(item string, gen uint64) (*HashSetMatch, bool) {
	if n == nil {
		return nil, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	a, ok := n.m[item]
	return a.m, ok && a.gen == gen
}

func (n *neighbourRecords) keep(item string, gen uint64, m *HashSetMatch) {
	if n == nil || n.frozen {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]listedAnswer{}
	}
	n.m[item] = listedAnswer{gen, m}
}

// knownWith is knownBecause, reading the records of near-copies through
// n (nil: read each from the log).
func (v *Vault) knownWith(ctx context.Context, it Item, rec *ItemDeposited, n *neighbourRecords) (string, error) {
	return v.knownFor(ctx, it, rec, n, false)
}

// knownFor is knownWith; stated asks it for what the vault states of the
// item (statedBecause), where a copy of an item whose votes once settled
// it illegal counts until two people clear either, though a custodian's
// decision has since discounted those votes (heldIllegalCopy).
func (v *Vault) knownFor(ctx context.Context, it Item, rec *ItemDeposited, n *neighbourRecords, stated bool) (string, error) {
	record := func() (*ItemDeposited, error) {
		if rec == nil {
			d, err := v.depositRecord(ctx, it)
			if err != nil {
				return nil, fmt.Errorf("item %s: the known-material check: %w", it.ID, err)
			}
			rec = &d
		}
		return rec, nil
	}
	cl := v.classification(it)
	switch c, by := cl.heldIllegal(); by {
	case "settled":
		return fmt.Sprintf("it is classified %s", c), nil
	case "once settled":
		return fmt.Sprintf("its votes settled it as %s, and no two people have agreed since that it is not illegal", c), nil
	case "hashset":
		return fmt.Sprintf("it matches entry %d of hash set %s (%s)", cl.Inherit.Entry, cl.Inherit.Set, cl.Inherit.Category) + v.matchedSetSince(cl.Inherit), nil
	}
	if cl.clearedByVotes() {
		return "", nil
	}
	hashed, anyJudged := v.state.pdqComparable(it.ID)
	setsLoaded := v.hashsets.loaded()
	if setsLoaded {
		d := ItemDeposited{Size: it.Deposit.Size, SHA256: it.Deposit.SHA256}
		if it.Deposit.Legacy || hashed {
			r, err := record()
			if err != nil {
				return "", err
			}
			d = *r
		}
		if m, err := v.listedIllegal(d); m != nil || err != nil {
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("it matches entry %d of hash set %s (%s)", m.Entry, m.Set, m.Category), nil
		}
	}
	others, err := v.state.itemsBySHA256(it.Deposit.SHA256)
	if err != nil {
		return "", err
	}
	for _, other := range others {
		if other == it.ID {
			continue
		}
		c, discounted, err := v.heldIllegalCopy(other, it.Case, stated)
		if err != nil {
			return "", err
		}
		if c != "" {
			return fmt.Sprintf("it is identical (SHA-256) to %s %s %s", v.itemWords(other, it.Case), classifiedWords(discounted), c), nil
		}
	}
	if !hashed || !anyJudged && !setsLoaded {
		return "", nil
	}
	r, err := record()
	if err != nil {
		return "", err
	}
	m := r.Media
	if m == nil || m.PDQ == "" || m.Quality < pdqMinQuality {
		return "", nil
	}
	qs, ok := pdqVariants(m)
	if !ok {
		return "", nil
	}
	if anyJudged {
		// Nearest first, and among as near ones the lowest id, so that
		// the same item always gets the same words.
		best, cat, how, which := v.pdqDistance()+1, "", false, ""
		near := v.state.pdqWithin(qs, v.pdqDistance(), true)
		for _, other := range nearestFirst(near) {
			d := near[other]
			if other == it.ID || d >= best {
				continue
			}
			c, discounted, err := v.heldIllegalCopy(other, it.Case, stated)
			if err != nil {
				return "", err
			}
			if c != "" && (cat == "" || !discounted) {
				best, cat, how, which = d, c, discounted, other
			}
		}
		if cat != "" {
			return fmt.Sprintf("it looks like (PDQ distance %d) %s %s %s", best, v.itemWords(which, it.Case), classifiedWords(how), cat), nil
		}
	}
	if setsLoaded {
		// Near-copies of an item that a set loaded now lists, though
		// nothing judged that item (the set was imported after its
		// deposit): every item's PDQ hash is compared, nearest first.
		gen := v.hashsets.generation()
		near := v.state.pdqWithin(qs, v.pdqDistance(), false)
		for _, other := range nearestFirst(near) {
			if other == it.ID {
				continue
			}
			lm, err := v.nearListed(ctx, other, gen, n)
			if errors.Is(err, errNeighbourUnread) {
				return "", err
			}
			if err != nil {
				return "", fmt.Errorf("item %s: the known-material check: %w", it.ID, err)
			}
			if lm == nil {
				continue
			}
			o, ok, err := v.state.getItem(other)
			if err != nil {
				return "", err
			}
			if ok && !v.classification(o).clearedByVotes() {
				return fmt.Sprintf("it looks like (PDQ distance %d) an item that hash set %s lists (%s)", near[other], lm.Set, lm.Category), nil
			}
		}
	}
	return "", nil
}

// matchedSetSince says, for an item held by the hash-set entry its
// deposit matched, whether that set was replaced or removed since (""
// if not, or if the deposit did not record the set's tables): its entry
// numbers then name other entries, and the reason must not read as if
// the set in use listed the item.
func (v *Vault) matchedSetSince(m *InheritView) string {
	if m.table == "" {
		return ""
	}
	hs, ok := v.state.hashSet(m.Set)
	switch {
	case !ok:
		return ", when it was deposited; the set was removed since, and the match recorded then still holds it"
	case hs.TableSHA256 != m.table:
		return fmt.Sprintf(", when it was deposited (tables %s); the set was replaced since (tables %s), whose entry %d may be another, and the match recorded then still holds it", m.table, hs.TableSHA256, m.Entry)
	}
	return ""
}

// heldIllegalCopy is the illegal category item id is held in
// (Classification.heldIllegal), as it makes a copy of it in case forCase
// known material: "" if none, or if there is no such item. Votes of
// another case hold it so for the copy only with as many agreeing votes
// as forCase's classification policy asks (State.votesNeeded): an
// analyst who opens a case of their own, where one vote settles, does
// not settle the copy of a case whose custodians asked for three. A
// known-illegal hash-set match holds it so whatever the case; a
// settlement that later votes undid, by as many of those who agreed when
// they last settled it as still count.
//
// So does a settlement a custodian's decision in the item's own case
// sent back for review there (a policy raised, a voter suspended: a
// released mark): a copy in another case stays held by those who agreed,
// as many as forCase asks and still counted, until two people clear it,
// however the item's own case reviews it.
//
// stated asks for what the vault states of the copy: then an item whose
// votes once settled it illegal holds it whoever still counts, unless two
// people cleared the item (discounted true when only this holds it), so
// that one person's not-illegal vote never settles a copy a custodian's
// decision (a voter suspended or removed, a policy raised) released for
// review.
func (v *Vault) heldIllegalCopy(id, forCase string, stated bool) (category string, discounted bool, err error) {
	c, err := v.heldIllegalCopyNow(id, forCase)
	if c != "" || err != nil || !stated {
		return c, false, err
	}
	o, ok, err := v.state.getItem(id)
	if err != nil || !ok {
		return "", false, err
	}
	if mk := v.state.settledMarkOf(id); Illegal(mk.Category) && !v.classification(o).clearedByVotes() {
		return mk.Category, true, nil
	}
	return "", false, nil
}

// itemWords names the item other in why an item of case forCase is
// known material: by its id where it is of the same case, whose members
// alone read the reason ("item it_... of this case"), "an item"
// otherwise (another case's items are not named to them).
func (v *Vault) itemWords(other, forCase string) string {
	if o, ok, err := v.state.getItem(other); err == nil && ok && o.Case == forCase {
		return "item " + other + " of this case,"
	}
	return "an item"
}

// classifiedWords says how a copy's original holds it: "classified", or,
// where a custodian's decision discounted the votes that settled it,
// "votes once settled as".
func classifiedWords(discounted bool) string {
	if discounted {
		return "whose votes, since discounted by a custodian's decision, settled it as"
	}
	return "classified"
}

// heldIllegalCopyNow is heldIllegalCopy of what the vault hides: the
// votes that hold it count as they stand now.
func (v *Vault) heldIllegalCopyNow(id, forCase string) (string, error) {
	o, ok, err := v.state.getItem(id)
	if err != nil || !ok {
		return "", err
	}
	cl := v.classification(o)
	c, by := cl.heldIllegal()
	if c == "" && cl.released != "" && o.Case != forCase && !cl.clearedByVotes() {
		c, by = cl.released, "once settled"
		cl.onceSettledVoters = v.state.settledMarkOf(o.ID).Voters
	}
	agreed := cl.Tally[c]
	if by == "once settled" {
		// Those who agreed when the votes last settled it, and whose
		// votes still count (not suspended or removed since), whatever
		// they voted since.
		agreed = 0
		for _, name := range cl.onceSettledVoters {
			if p, ok := v.state.personByName(name); ok && p.active() == nil {
				agreed++
			}
		}
	}
	if c == "" || by == "hashset" || o.Case == forCase || agreed >= v.state.votesNeeded(forCase) {
		return c, nil
	}
	return "", nil
}

// listedIllegal is the first known-illegal entry of a set loaded now
// that a deposit record matches (nil if none).
func (v *Vault) listedIllegal(d ItemDeposited) (*HashSetMatch, error) {
	ms, err := v.hashsets.match(d)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		if Illegal(ms[i].Category) {
			return &ms[i], nil
		}
	}
	return nil, nil
}

// hiddenBecause is knownBecause for what an analyst is shown: an item
// that no category settled by votes decides is also hidden while a hash
// set the custody log says is imported is out of use (its files were
// altered or could not be read), as that set may list it. A set that
// cannot be read is never taken for "no match" (docs/hotline.md, section
// 4): until it is imported again or removed, the item is revealed only
// explicitly. Statistics count what is known (knownBecause), not this.
func (v *Vault) hiddenBecause(ctx context.Context, it Item, rec *ItemDeposited) (string, error) {
	return v.hiddenWith(ctx, it, rec, nil)
}

// hiddenWith is hiddenBecause, reading the records of near-copies
// through n (knownWith).
func (v *Vault) hiddenWith(ctx context.Context, it Item, rec *ItemDeposited, n *neighbourRecords) (string, error) {
	return v.hiddenFor(ctx, it, rec, n, false)
}

// statedBecause is why the vault does not state an item's not-illegal
// settlement by votes that do not clear known material (AgainstKnown):
// hiddenBecause, with a copy of an item whose votes once settled it
// illegal counted as known though a custodian's decision has since
// discounted those votes (heldIllegalCopy), and a hash set out of use
// counted as one that may list the item: what cannot be checked is never
// stated as not illegal on one person's word.
func (v *Vault) statedBecause(ctx context.Context, it Item) (string, error) {
	return v.hiddenFor(ctx, it, nil, nil, true)
}

// hiddenFor is hiddenWith; stated as knownFor's.
func (v *Vault) hiddenFor(ctx context.Context, it Item, rec *ItemDeposited, n *neighbourRecords, stated bool) (string, error) {
	known, err := v.knownFor(ctx, it, rec, n, stated)
	if known != "" || err != nil {
		return known, err
	}
	if v.classification(it).clearedByVotes() || it.Deposit.Size == 0 {
		// Cleared by votes; or an empty file, which no set's listing
		// makes known (hashSets.match).
		return "", nil
	}
	if out := v.hashsets.outOfUse(v.state); len(out) > 0 {
		return fmt.Sprintf("hash set %s, which may list it, is out of use until a custodian imports it again or removes it (custos hashset list says why)", strings.Join(out, ", ")), nil
	}
	return "", nil
}

// ExposureDay is what a person was shown on one day (UTC).
type ExposureDay struct {
	Date         string  `json:"date"`
	Items        int     `json:"items"`
	Overrides    int     `json:"overrides"`
	VideoMinutes float64 `json:"video_minutes"`
}

// ExposureView is a person's exposure, newest day first.
type ExposureView struct {
	Person string        `json:"person"`
	Limit  int           `json:"daily_limit,omitempty"`
	Today  ExposureDay   `json:"today"`
	Days   []ExposureDay `json:"days"`
}

// Exposure shows what a person was shown, day by day: to themselves, and
// to custodians.
func (v *Vault) Exposure(ctx context.Context, who Principal, person string) (ExposureView, error) {
	if person == "" {
		person = who.Name
	}
	if person != who.Name && who.Role != RoleCustodian && !strings.EqualFold(strings.TrimSpace(person), who.Name) {
		// Refused before the name is read: someone else's, well
		// formed or not. (One's own name misspelt is told how names
		// are written, below.)
		return ExposureView{}, v.refuse(ctx, who, "exposure.show", person, "only custodians see another person's exposure", ErrForbidden)
	}
	if err := checkPersonName(person); err != nil {
		return ExposureView{}, err
	}
	if _, ok := v.state.personByName(person); !ok {
		return ExposureView{}, fmt.Errorf("%w: no person %s (custos person list shows who is enrolled)", ErrNotFound, person)
	}
	today := v.cfg.Now().UTC().Format(time.DateOnly)
	out := ExposureView{Person: person, Limit: v.cfg.ExposureDailyLimit, Today: ExposureDay{Date: today}, Days: []ExposureDay{}}
	for day, e := range v.state.exposureOf(person) {
		d := ExposureDay{Date: day, Items: e.Items, Overrides: e.Overrides, VideoMinutes: float64(e.VideoMS) / 60000}
		out.Days = append(out.Days, d)
		if day == today {
			out.Today = d
		}
	}
	slices.SortFunc(out.Days, func(a, b ExposureDay) int { return strings.Compare(b.Date, a.Date) })
	return out, nil
}

// StaffExposure is one day's exposure of every analyst and investigator
// (active, suspended or not): what a hotline manager checks across staff.
type StaffExposure struct {
	Date   string           `json:"date"`
	Limit  int              `json:"daily_limit,omitempty"`
	People []PersonOfTheDay `json:"people"`
}

// PersonOfTheDay is one person's exposure of a day.
type PersonOfTheDay struct {
	Person string `json:"person"`
	Role   string `json:"role"`
	ExposureDay
	// OverLimit: the day's items reached the daily limit.
	OverLimit bool `json:"over_limit,omitempty"`
	// Removed: the person has been removed since; listed for the days
	// they were shown evidence.
	Removed bool `json:"removed,omitempty"`
}

// ExposureOfStaff is every analyst's and investigator's exposure on date
// (YYYY-MM-DD, UTC; "" for today), most items first (custodians; others
// are refused and recorded).
func (v *Vault) ExposureOfStaff(ctx context.Context, who Principal, date string) (StaffExposure, error) {
	if who.Role != RoleCustodian {
		return StaffExposure{}, v.refuse(ctx, who, "exposure.staff", "", "only custodians see the exposure of every member of staff", ErrForbidden)
	}
	if date == "" {
		date = v.cfg.Now().UTC().Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return StaffExposure{}, badInput("date %q: give a day as YYYY-MM-DD (UTC)", truncate(date))
	}
	out := StaffExposure{Date: date, Limit: v.cfg.ExposureDailyLimit, People: []PersonOfTheDay{}}
	for _, p := range v.state.allPersons() {
		if !handlesEvidence(p.Role) {
			continue
		}
		e := v.state.exposureOf(p.Name)[date]
		if p.Removed && e.Items == 0 && e.Overrides == 0 {
			continue // gone, and shown nothing that day
		}
		day := PersonOfTheDay{Person: p.Name, Role: p.Role, ExposureDay: ExposureDay{Date: date, Items: e.Items, Overrides: e.Overrides,
			VideoMinutes: float64(e.VideoMS) / 60000}}
		day.OverLimit = out.Limit > 0 && e.Items >= out.Limit
		day.Removed = p.Removed
		out.People = append(out.People, day)
	}
	slices.SortFunc(out.People, func(a, b PersonOfTheDay) int {
		return cmp.Or(cmp.Compare(b.Items, a.Items), strings.Compare(a.Person, b.Person))
	})
	return out, nil
}

// exposureWarning is the warning a reveal answers with once the person's
// items of the day reach the daily limit, or "".
func (v *Vault) exposureWarning(person string) string {
	limit := v.cfg.ExposureDailyLimit
	if limit <= 0 {
		return ""
	}
	e := v.state.exposureOf(person)[v.cfg.Now().UTC().Format(time.DateOnly)]
	if e.Items <= limit {
		return ""
	}
	return fmt.Sprintf("you have been shown %d items today; the daily limit set for reviewer welfare is %d: consider stopping, and talk to your custodian", e.Items, limit)
}

// pdqVariants decodes an image's PDQ hash and its dihedral variants.
func pdqVariants(m *MediaInfo) ([][32]byte, bool) {
	var out [][32]byte
	for _, s := range append([]string{m.PDQ}, m.Dihedral...) {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, false
		}
		out = append(out, [32]byte(b))
	}
	return out, true
}

func orNot(known string) string {
	if known == "" {
		return "not known"
	}
	return known
}

// frozenCopy is n for a check at an event's position: the records read
// so far, and no more reads.
func (n *neighbourRecords) frozenCopy() *neighbourRecords {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &neighbourRecords{m: maps.Clone(n.m), frozen: true}
}

// listedCache remembers, for the hash sets in use (their generation,
// hashSets.gen), whether an item is listed as known-illegal and by what
// entry: a near-copy check compares an image with every image like it,
// and a list or the statistics check each of a series of like images, so
// each item's record is read and matched once per change of the sets,
// not once per pair. At most maxListedCache items are held; it is emptied
// when full, and whenever the sets change.
type listedCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]*HashSetMatch // nil: not listed
}

const maxListedCache = 1 << 16

func (c *listedCache) get(item string, gen uint64) (*HashSetMatch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return nil, false
	}
	m, ok := c.m[item]
	return m, ok
}

func (c *listedCache) put(item string, m *HashSetMatch, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return // answered under sets changed since: not kept
	case gen > c.gen || c.m == nil || len(c.m) >= maxListedCache:
		c.gen, c.m = gen, map[string]*HashSetMatch{}
	}
	c.m[item] = m
}

// nearListed is the known-illegal entry of a set in use (of generation
// gen) that lists item id (nil if none or no such item): the answer n
// had, or the cache's, or else, unless n is frozen, its record read and
// matched. n keeps the answer.
func (v *Vault) nearListed(ctx context.Context, id string, gen uint64, n *neighbourRecords) (*HashSetMatch, error) {
	if m, ok := n.answer(id, gen); ok {
		return m, nil
	}
	if m, ok := v.listed.get(id, gen); ok {
		n.keep(id, gen, m)
		return m, nil
	}
	if n != nil && n.frozen {
		return nil, errNeighbourUnread
	}
	o, ok, err := v.state.getItem(id)
	if err != nil || !ok {
		return nil, err
	}
	d, err := v.depositRecord(ctx, o)
	if err != nil {
		return nil, err
	}
	m, err := v.listedIllegal(d)
	if err != nil {
		return nil, err
	}
	v.listed.put(id, m, gen)
	n.keep(id, gen, m)
	return m, nil
}

// nearestFirst orders the items of a pdqWithin answer by distance, then
// by id: one order whatever the map's.
func nearestFirst(near map[string]int) []string {
	return slices.SortedFunc(maps.Keys(near), func(a, b string) int { return cmp.Or(cmp.Compare(near[a], near[b]), strings.Compare(a, b)) })
}
