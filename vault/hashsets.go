package vault

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/hashset"
)

// Known-material hash sets (docs/hotline.md, docs/hashsets.md). A set is
// imported by a custodian; its hashset.imported event carries the digest
// of the lookup tables built, and the vault matches against a set only
// while its files hash to that digest: a set edited on disk, put there
// without an import, or half-replaced by a crash is not used, and says
// why in `hashset list`.

// uncategorisedFormats are the formats whose entries carry no category:
// their imports must say what a match means.
var uncategorisedFormats = []string{"md5sum", "sha1sum", "sha256sum", "nsrl"}

// HashSetCategories are the categories a set may be imported with.
var HashSetCategories = []string{CategoryBaseline, CategoryNational, CategoryNotIllegal, CategoryKnownGood}

// hashSets are the loaded, verified sets.
type hashSets struct {
	root   string
	logger *slog.Logger
	imu    sync.Mutex // serialises imports and removals
	// installing is held by an import from just before its event is
	// appended until the new set is in use, and read-held by a view
	// around its access event's append: a view recorded after an
	// import's event is decided with the imported set, never with the
	// set it replaced (docs/hotline.md, section 6).
	installing sync.RWMutex
	mu         sync.RWMutex
	sets       map[string]*hashset.Set
	// problems says why a set the log or the folder knows is not used.
	problems map[string]string
	// pdq holds the PDQ hashes of every loaded set; maxDistance is the
	// PDQ matching threshold.
	pdq         []setPDQ
	maxDistance int
	// gen counts the changes of sets (installs, withdrawals, removals):
	// indexPDQ keeps the index it built only if none came in between.
	gen uint64
	// withdrawn, when set, is told of every set taken out of use while
	// the vault runs (the vault records it: Vault.recordLater).
	withdrawn func(name, reason string)
}

type setPDQ struct {
	set   string
	entry uint32
	hash  [32]byte
}

// openHashSets opens and verifies the sets under root against the state's
// import events.
func openHashSets(root string, st *State, logger *slog.Logger, maxDistance int) (*hashSets, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	if err := hashset.Clean(root); err != nil {
		return nil, fmt.Errorf("hash sets: %w", err)
	}
	h := &hashSets{root: root, logger: logger, maxDistance: maxDistance, sets: map[string]*hashset.Set{}, problems: map[string]string{}}
	h.finishApproved(st)
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	onDisk := map[string]bool{}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		onDisk[e.Name()] = true
		if err := h.load(e.Name(), st); err != nil {
			h.problems[e.Name()] = err.Error()
			logger.Error("a hash set is not used", "set", e.Name(), "reason", err)
		}
	}
	for _, hs := range st.hashSets() {
		if !onDisk[hs.Name] {
			h.problems[hs.Name] = "its files are missing from the hash-set folder: import it again"
			logger.Error("a hash set is not used", "set", hs.Name, "reason", h.problems[hs.Name])
		}
	}
	h.indexPDQ()
	return h, nil
}

// load opens one set and checks it against its import event.
func (h *hashSets) load(name string, st *State) error {
	s, err := h.openRecorded(name, st)
	if err != nil {
		return err
	}
	h.sets[name] = s
	return nil
}

// openRecorded opens set name and checks it against its newest import
// event: its manifest's table digest (which hashset.Open has checked every
// file against, and against which it checks every later read), and what
// a match means (name, format, category). Used at a start and by an
// import, so that the set put in use is the one the log records, even if
// its files were swapped between the import's event and its opening.
func (h *hashSets) openRecorded(name string, st *State) (*hashset.Set, error) {
	hs, ok := st.hashSet(name)
	if !ok {
		return nil, errors.New("it is in the hash-set folder but no import in the custody log made it (remove the folder, or import it)")
	}
	s, err := hashset.Open(filepath.Join(h.root, name))
	if err != nil {
		return nil, fmt.Errorf("cannot be opened (%w): import it again", err)
	}
	m := s.Manifest()
	if m.TableSHA256 != hs.TableSHA256 {
		s.Close()
		return nil, fmt.Errorf("its tables (%s) are not those its import recorded (%s): import it again", m.TableSHA256, hs.TableSHA256)
	}
	// What a match means is the import event's, not the manifest's: a
	// manifest edited to read known-good, or another default category,
	// is refused.
	if !meansWhatRecorded(m, name, hs.Format, hs.Category) {
		s.Close()
		return nil, fmt.Errorf("its manifest (name %q, format %q, category %q, known good %v) is not what its import recorded (%q, %q, %q): import it again",
			m.Name, m.Format, m.DefaultCategory, m.KnownGood, name, hs.Format, hs.Category)
	}
	return s, nil
}

// meansWhatRecorded reports whether a set's manifest names the set, its
// format and what a match means (known good, or the default category) as
// an import recorded them (name, format, category).
func meansWhatRecorded(m hashset.Manifest, name, format, category string) bool {
	knownGood := category == CategoryKnownGood
	wantDefault := category
	if knownGood {
		wantDefault = ""
	}
	return m.Name == name && m.Format == format && m.KnownGood == knownGood && m.DefaultCategory == wantDefault
}

// notUsedAfterImport takes name out of use after its import was recorded
// but could not be put in use (why), and records hashset.unused at once,
// while the import still holds installing: no view is decided between the
// import's event and this one with neither set said to be out of use. It
// returns the import's answer (ErrUnavailable).
func (h *hashSets) notUsedAfterImport(ctx context.Context, v *Vault, name, why string) error {
	h.mu.Lock()
	h.problems[name] = why
	if old := h.sets[name]; old != nil {
		h.gen++
		delete(h.sets, name)
		old.Close()
	}
	h.mu.Unlock()
	h.indexPDQ()
	if _, err := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeHashSetUnused, Actor: System, Data: HashSetUnused{Name: name, Reason: why}}); err != nil {
		h.logger.Error("could not record a hash set not used", "set", name, "err", err)
	}
	return fmt.Errorf("%w: hash set %s: %s", ErrUnavailable, name, why)
}

// testHookImported, set by tests, runs once an import's files are in
// place, before they are opened: where an administrator could swap them.
var testHookImported func(name string)

// pdqOf is set s's PDQ hashes as the index holds them.
func pdqOf(name string, s *hashset.Set) ([]setPDQ, error) {
	var idx []setPDQ
	err := s.PDQ(func(entry uint32, p [32]byte) error {
		idx = append(idx, setPDQ{set: name, entry: entry, hash: p})
		return nil
	})
	return idx, err
}

// install puts s in use as name, with its PDQ hashes in the index in the
// same step, so that no reader pairs the old set's entry numbers with
// the new set (or the other way round); and closes the set it replaces.
func (h *hashSets) install(name string, s *hashset.Set, pdq []setPDQ) {
	h.mu.Lock()
	h.gen++
	old := h.sets[name]
	h.sets[name] = s
	delete(h.problems, name)
	idx := make([]setPDQ, 0, len(h.pdq)+len(pdq))
	for _, p := range h.pdq {
		if p.set != name {
			idx = append(idx, p)
		}
	}
	h.pdq = append(idx, pdq...)
	h.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// generation counts the changes of the sets in use (gen).
func (h *hashSets) generation() uint64 {
	if h == nil {
		return 0
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.gen
}

// count is the number of sets in use.
func (h *hashSets) count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.sets)
}

// verifyLoaded re-hashes the files of every set in use against its
// manifest and table digest (hashset.Set.Verify, the open files): a set
// whose files were edited in place since the start is taken out of use,
// as a start would not use it, with why. It returns the altered sets'
// names, sorted. Imports and removals wait (imu).
func (h *hashSets) verifyLoaded(ctx context.Context, st *State) []string {
	h.imu.Lock()
	defer h.imu.Unlock()
	h.mu.RLock()
	names := slices.Sorted(maps.Keys(h.sets))
	sets := maps.Clone(h.sets)
	h.mu.RUnlock()
	var altered []string
	for _, name := range names {
		err := sets[name].Verify(ctx)
		if ctx.Err() != nil {
			return altered // a set not re-hashed is not altered: the scrub is incomplete
		}
		if hs, ok := st.hashSet(name); err == nil && (!ok || hs.TableSHA256 != sets[name].Manifest().TableSHA256) {
			// Its files are its manifest's, but not what the newest
			// import recorded.
			err = fmt.Errorf("its tables (%s) are not those its newest import recorded (%s)", sets[name].Manifest().TableSHA256, hs.TableSHA256)
		}
		if err == nil {
			continue
		}
		altered = append(altered, name)
		// The scrub's own event (audit.scrubbed) records it.
		h.withdraw(name, sets[name], fmt.Sprintf("a scrub found its files changed after the import (%v): import it again", err), false)
	}
	if len(altered) > 0 {
		h.indexPDQ()
	}
	return altered
}

// withdraw takes set s, in use as name, out of use for why (logged, and
// listed with the sets; recorded through withdrawn if record). Nothing
// happens if name is no longer s.
func (h *hashSets) withdraw(name string, s *hashset.Set, why string, record bool) {
	h.mu.Lock()
	if h.sets[name] != s {
		h.mu.Unlock()
		return
	}
	h.gen++
	delete(h.sets, name)
	h.problems[name] = why
	tell := h.withdrawn
	h.mu.Unlock()
	s.Close()
	h.logger.Error("a hash set is not used", "set", name, "reason", why)
	if tell != nil && record {
		tell(name, why)
	}
}

// unreadable answers a match that could not read set name as it was
// checked (its files changed on disk since it was opened, or the disk
// failed): the set is taken out of use, and the caller refuses what it
// was doing rather than decide without it (ErrUnavailable).
func (h *hashSets) unreadable(name string, s *hashset.Set, err error) error {
	h.withdraw(name, s, fmt.Sprintf("its files could not be read as imported (%v): import it again", err), true)
	h.indexPDQ()
	return fmt.Errorf("%w: hash set %s could not be read as it was imported (%v); it is no longer used until it is imported again, and the server's administrator should find out who changed its files. Nothing was recorded: try again", ErrUnavailable, name, err)
}

// indexPDQ rebuilds the in-memory PDQ index of the loaded sets. A set
// whose PDQ hashes cannot be read as imported is taken out of use.
func (h *hashSets) indexPDQ() {
	for {
		var idx []setPDQ
		var bad string
		var badSet *hashset.Set
		var badErr error
		h.mu.RLock()
		gen := h.gen
		for _, name := range slices.Sorted(maps.Keys(h.sets)) {
			s := h.sets[name]
			p, err := pdqOf(name, s)
			if err != nil {
				bad, badSet, badErr = name, s, err
				break
			}
			idx = append(idx, p...)
		}
		h.mu.RUnlock()
		if badSet != nil {
			h.withdraw(bad, badSet, fmt.Sprintf("its PDQ hashes could not be read as imported (%v): import it again", badErr), true)
			continue
		}
		h.mu.Lock()
		if h.gen != gen {
			h.mu.Unlock()
			continue // a set changed meanwhile: build it again
		}
		h.pdq = idx
		h.mu.Unlock()
		return
	}
}

func (h *hashSets) close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sets {
		s.Close()
	}
	h.sets = nil
}

// vicsCategories maps Project VIC's category numbers onto INHOPE's
// categories (docs/hotline.md): 1 (child abuse material) is baseline; 2
// (child exploitative, age difficult) and 3 (CGI or animation) are
// national; 0 (uncategorised, non-pertinent) and 4 (comparison images)
// carry no category.
var vicsCategories = map[string]string{"1": CategoryBaseline, "2": CategoryNational, "3": CategoryNational}

// entryCategory is the category a match carries: known-good for a
// known-good set; an INHOPE category named by the entry (or a VICS
// number); otherwise the set's category.
func entryCategory(m hashset.Match, setCategory string) string {
	if m.KnownGood {
		return CategoryKnownGood
	}
	return namedCategory(m.Entry.Category, setCategory)
}

// OtherMeanings says what a hash set's entries mean where that is not
// all the set's category (counts: HashSetImported.Categories, setCategory
// its Category): "not-illegal 1, baseline 1", graver categories first
// after not-illegal, which an approver must not miss; "" where every
// entry means the set's category, or the counts are not known (a
// request or an import recorded before they were counted).
func OtherMeanings(counts map[string]int, setCategory string) string {
	if setCategory == "" {
		setCategory = "none" // what an entry naming no category means then
	}
	if len(counts) == 0 || len(counts) == 1 && counts[setCategory] > 0 {
		return ""
	}
	order := []string{CategoryNotIllegal, CategoryKnownGood, CategoryBaseline, CategoryNational, "none"}
	var parts []string
	for _, c := range order {
		if n := counts[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, n))
		}
	}
	for _, c := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(order, c) {
			parts = append(parts, fmt.Sprintf("%s %d", c, counts[c]))
		}
	}
	return strings.Join(parts, ", ")
}

// namedCategory is the category a match with an entry of a known-
// material set carries, as the entry names it (named, as its source
// gives it): an INHOPE category, or a VICS number; otherwise (none, or
// another word) the set's category.
func namedCategory(named, setCategory string) string {
	c := strings.ToLower(strings.TrimSpace(named))
	if slices.Contains(Categories, c) {
		return c
	}
	if v, ok := vicsCategories[c]; ok {
		return v
	}
	return setCategory
}

// outOfUse lists, sorted, the sets the custody log says are imported (and
// not removed) that are not in use and may list illegal material
// (mayListIllegal): their files were altered, are missing, or could not
// be read as imported, or the vault was started without its hash set
// folder (h is nil).
func (h *hashSets) outOfUse(st *State) []string {
	var out []string
	for _, set := range h.notInUse(st) {
		if mayListIllegal(set.HashSetImported) {
			out = append(out, set.Name)
		}
	}
	return out
}

// notInUse returns, sorted by name, every set the log says is imported
// that is not in use (every one when h is nil), known-good lists
// included.
func (h *hashSets) notInUse(st *State) []HashSet {
	var out []HashSet
	imported := st.hashSets()
	if h != nil {
		h.mu.RLock()
		defer h.mu.RUnlock()
	}
	for _, set := range imported {
		if h == nil || h.sets[set.Name] == nil {
			out = append(out, set)
		}
	}
	return out
}

// mayListIllegal reports whether a match against the set can make an item
// known material: its default category is illegal, or its format carries
// a category per entry (VICS, CAID, ICSE) and the set is not a known-good
// one, every entry of which is known good whatever it says itself
// (entryCategory). A known-good list of file hashes (NSRL, or a sum list
// imported as not illegal or known good) cannot.
func mayListIllegal(set HashSetImported) bool {
	if set.Category == CategoryKnownGood {
		return false
	}
	switch set.Format {
	case "nsrl", "md5sum", "sha1sum", "sha256sum":
		return Illegal(set.Category)
	}
	return true
}

// loaded reports whether any hash set is loaded.
func (h *hashSets) loaded() bool {
	if h == nil {
		return false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.sets) > 0
}

// match looks a deposit's hashes up in every loaded set (nil-safe: no
// sets, no matches). A set that cannot be read as it was checked is
// taken out of use and the match fails (unreadable): a known-material
// decision is never made on bytes that changed on disk, nor without a
// set in use that could not be read.
func (h *hashSets) match(d ItemDeposited) ([]HashSetMatch, error) {
	if h == nil || d.Size == 0 {
		// An empty file is no sign of known material, whatever a set
		// lists (NSRL lists it; a careless set may too).
		return nil, nil
	}
	md5, _ := hex.DecodeString(d.MD5)
	sha1, _ := hex.DecodeString(d.SHA1)
	sha256, _ := hex.DecodeString(d.SHA256)
	h.mu.RLock()
	names := make([]string, 0, len(h.sets))
	for n := range h.sets {
		names = append(names, n)
	}
	slices.Sort(names)
	var out []HashSetMatch
	seen := map[string]bool{}
	for _, n := range names {
		s := h.sets[n]
		for _, q := range []struct {
			a hashset.Algorithm
			d []byte
		}{{hashset.MD5, md5}, {hashset.SHA1, sha1}, {hashset.SHA256, sha256}} {
			if len(q.d) != q.a.Size() {
				continue
			}
			ms, err := s.Lookup(q.a, q.d)
			if err != nil {
				h.mu.RUnlock()
				return nil, h.unreadable(n, s, err)
			}
			for _, m := range ms {
				key := fmt.Sprint(n, "/", m.Number)
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, HashSetMatch{Set: n, Entry: uint64(m.Number), Algorithm: string(m.Algorithm),
					Category: entryCategory(m, s.Manifest().DefaultCategory), SourceCategory: m.Entry.Category, Series: m.Entry.Series,
					Table: s.Manifest().TableSHA256})
			}
		}
	}
	h.mu.RUnlock()
	if m := d.Media; m != nil && m.PDQ != "" && m.Quality >= pdqMinQuality {
		if qs, ok := pdqVariants(m); ok {
			near, err := h.pdqMatches(qs, h.maxDistance)
			if err != nil {
				return nil, err
			}
			out = append(out, near...)
		}
	}
	return out, nil
}

// pdqMatches are the set entries whose PDQ hash is within maxDistance of
// one of qs, nearest first.
func (h *hashSets) pdqMatches(qs [][32]byte, maxDistance int) ([]HashSetMatch, error) {
	if h == nil {
		return nil, nil
	}
	h.mu.RLock()
	var out []HashSetMatch
	for _, p := range h.pdq {
		best := maxDistance + 1
		for _, q := range qs {
			best = min(best, hamming(p.hash, q))
		}
		if best > maxDistance {
			continue
		}
		s := h.sets[p.set]
		if s == nil {
			continue
		}
		e, err := s.Entry(p.entry)
		if err != nil {
			h.mu.RUnlock()
			return nil, h.unreadable(p.set, s, err)
		}
		m := hashset.Match{Set: p.set, Number: p.entry, Entry: e, KnownGood: s.Manifest().KnownGood}
		out = append(out, HashSetMatch{Set: p.set, Entry: uint64(p.entry), Algorithm: "pdq", Distance: best,
			Category: entryCategory(m, s.Manifest().DefaultCategory), SourceCategory: e.Category, Series: e.Series,
			Table: s.Manifest().TableSHA256})
	}
	h.mu.RUnlock()
	// Nearest first, then by set and entry: the same matches in the same
	// order whatever order the sets were indexed in, so that a deposit
	// records, and an analyst is told, the same ones.
	slices.SortFunc(out, func(a, b HashSetMatch) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), strings.Compare(a.Set, b.Set), cmp.Compare(a.Entry, b.Entry))
	})
	return out, nil
}

// HashSetImport is a hash set to import.
type HashSetImport struct {
	Name, Format, Category string
	Body                   io.Reader
	Progress               func(entries int)
}

// HashSetView is a set as `hashset list` shows it.
type HashSetView struct {
	Name         string `json:"name"`
	Format       string `json:"format"`
	Category     string `json:"category,omitempty"`
	Imported     int    `json:"imported"`
	Rejected     int    `json:"rejected"`
	SourceSHA256 string `json:"source_sha256"`
	TableSHA256  string `json:"table_sha256"`
	// Categories counts the entries by what a match with each means
	// (HashSetImported.Categories; absent for imports before
	// 2026-12-08).
	Categories map[string]int `json:"categories,omitempty"`
	ImportedAt string         `json:"imported_at"`
	// ImportedBy asked for the import; ApprovedBy, another custodian,
	// approved it (absent for imports before 2026-12-05, which one
	// custodian made alone).
	ImportedBy string `json:"imported_by"`
	ApprovedBy string `json:"approved_by,omitempty"`
	// Request is the hashset.import request of an import waiting for a
	// second custodian (its Status says so); absent for a set imported.
	Request string `json:"request,omitempty"`
	// Status is "in use", or why the set is not used.
	Status string `json:"status"`
}

// HashSets lists the imported sets (custodians, auditors, analysts).
func (v *Vault) HashSets(ctx context.Context, who Principal) ([]HashSetView, error) {
	if !readsReports(who.Role) {
		return nil, v.refuse(ctx, who, "hashset.list", "", "only custodians, auditors and analysts list hash sets", ErrForbidden)
	}
	out := []HashSetView{}
	for _, hs := range v.state.hashSets() {
		st := "in use"
		if h := v.hashsets; h == nil {
			st = "not used: this vault keeps no hash sets"
		} else {
			h.mu.RLock()
			if p, bad := h.problems[hs.Name]; bad {
				st = "not used: " + p
			} else if h.sets[hs.Name] == nil {
				st = "not used"
			}
			h.mu.RUnlock()
		}
		view := HashSetView{Name: hs.Name, Format: hs.Format, Category: hs.Category, Imported: hs.Imported, Rejected: hs.Rejected,
			SourceSHA256: hs.SourceSHA256, TableSHA256: hs.TableSHA256, Categories: hs.Categories, ImportedAt: hs.At.UTC().Format("2006-01-02T15:04:05Z"), ImportedBy: hs.By, Status: st}
		if hs.RequestedBy != "" {
			view.ImportedBy, view.ApprovedBy = hs.RequestedBy, hs.By
		}
		out = append(out, view)
	}
	// Imports waiting for a second custodian, beside the sets in use.
	for _, r := range v.state.pendingRequests(v.cfg.Now()) {
		if r.Kind != KindHashSetImport || r.void {
			continue
		}
		p := params[hashSetParams](r)
		out = append(out, HashSetView{Name: p.Name, Format: p.Format, Category: p.Category, Imported: p.Imported, Rejected: p.Rejected,
			SourceSHA256: p.SourceSHA256, TableSHA256: p.TableSHA256, Categories: p.Categories, ImportedAt: r.Opened.UTC().Format("2006-01-02T15:04:05Z"), ImportedBy: r.By,
			Status:  fmt.Sprintf("not used yet: waiting for a second custodian's approval (request %s, until %s)", r.ID, r.Expires.UTC().Format("2006-01-02 15:04 UTC")),
			Request: r.ID})
	}
	return out, nil
}

// KindHashSetRemove removes a hash set in use on a vault whose hash-set
// decisions need a second custodian (Config.HashSetApproval): a set's
// removal may unhide what it listed, and one analyst's not-illegal vote
// then settle it, as an import hides and classifies (docs/hotline.md
// section 4).
const KindHashSetRemove = "hashset.remove"

// hashSetRemoveParams are a hashset.remove request's: the set, and what
// it was when asked (its category, entries and tables), which its
// approver reads and the approval checks is still the set in use.
type hashSetRemoveParams struct {
	Name        string `json:"name"`
	Category    string `json:"category,omitempty"`
	Imported    int    `json:"imported"`
	TableSHA256 string `json:"table_sha256"`
}

// hashSetRemoveKind is what an approved hashset.remove does: the
// approval removes the set (approveHashSetRemove), while it is the set
// the request was asked of (not replaced since).
var hashSetRemoveKind = requestKind{
	check: func(v *Vault, r Request) error {
		p := params[hashSetRemoveParams](r)
		hs, ok := v.state.hashSet(p.Name)
		switch {
		case v.hashsets == nil:
			return refused(ErrConflict, "this vault keeps no hash sets (no hash-set folder configured)")
		case !ok:
			return refused(ErrConflict, "hash set %s is no longer in use", p.Name)
		case hs.TableSHA256 != p.TableSHA256:
			return refused(ErrConflict, "hash set %s was replaced since its removal was asked (tables %s, not %s): reject this request, and ask again to remove the set in use", p.Name, hs.TableSHA256, p.TableSHA256)
		}
		return nil
	},
}

// RemoveHashSet removes a set (custodian), with a reason (required, at
// most 1,024 bytes): recorded, then its files are deleted. Items whose
// deposit matched it keep that recorded match; items it matched only
// since their deposit are no longer known by it. On a vault whose
// hash-set decisions need a second custodian (Config.HashSetApproval)
// the removal is a request (KindHashSetRemove, returned) that another
// custodian approves; otherwise it is done at once (nil request).
func (v *Vault) RemoveHashSet(ctx context.Context, who Principal, name, reason string) (*RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "hashset.remove", name); err != nil {
		return nil, err
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return nil, err
	}
	h := v.hashsets
	if h == nil {
		return nil, fmt.Errorf("%w: this vault keeps no hash sets", ErrConflict)
	}
	h.imu.Lock()
	defer h.imu.Unlock()
	exists := setInUse(v, name)
	if err := exists(nil); err != nil {
		return nil, v.refusedAs(ctx, who, "hashset.remove", name, err)
	}
	if v.cfg.HashSetApproval {
		hs, _ := v.state.hashSet(name)
		return v.openRequest(ctx, who, Request{Kind: KindHashSetRemove, Reason: reason},
			hashSetRemoveParams{Name: name, Category: hs.Category, Imported: hs.Imported, TableSHA256: hs.TableSHA256})
	}
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeHashSetRemoved, Actor: who.actor(), Check: exists, Data: HashSetRemoved{Name: name, Reason: reason}}); err != nil {
		return nil, v.refusedAs(ctx, who, "hashset.remove", name, err)
	}
	h.removed(v, name)
	return nil, nil
}

// setInUse is the check, now and at an event's position, that hash set
// name is in use: one decision about hash sets at a time.
func setInUse(v *Vault, name string) func(ahead []*events.Event) error {
	return func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if strings.HasPrefix(ev.Type, "hashset.") {
				return sequencer.ErrNotYet
			}
		}
		if _, ok := v.state.hashSet(name); !ok {
			return refused(ErrNotFound, "no hash set %s", name)
		}
		return nil
	}
}

// approveHashSetRemove carries out an approved hashset.remove: the
// approval and the removal appended together, then the set's files
// deleted.
func (v *Vault) approveHashSetRemove(ctx context.Context, who Principal, r Request, reason string) (*Approval, error) {
	h := v.hashsets
	p := params[hashSetRemoveParams](r)
	h.imu.Lock()
	defer h.imu.Unlock()
	decided := RequestDecided{Request: r.ID, Kind: r.Kind, RequestedBy: r.By, Reason: reason}
	if _, err := v.append(ctx, v.approvalDraft(who, r, decided), sequencer.Draft{Type: TypeHashSetRemoved, Actor: who.actor(), Check: setInUse(v, p.Name),
		Data: HashSetRemoved{Name: p.Name, Reason: r.Reason, Request: r.ID, RequestedBy: r.By}}); err != nil {
		return nil, v.refusedAs(ctx, who, "request.approve", r.ID, err)
	}
	h.removed(v, p.Name)
	return &Approval{RequestInfo: r.info()}, nil
}

// removed takes a set whose removal is recorded out of use and deletes
// its files; under imu.
func (h *hashSets) removed(v *Vault, name string) {
	h.mu.Lock()
	s := h.sets[name]
	h.gen++
	delete(h.sets, name)
	delete(h.problems, name)
	h.mu.Unlock()
	if s != nil {
		s.Close()
	}
	h.indexPDQ()
	gone := filepath.Join(h.root, ".tmp-"+name+"-removed-"+randomHex(4))
	if err := os.Rename(filepath.Join(h.root, name), gone); err != nil && !errors.Is(err, os.ErrNotExist) {
		v.logger.Error("could not delete a removed hash set's files; it is no longer used", "set", name, "err", err)
		return
	}
	os.RemoveAll(gone)
}
