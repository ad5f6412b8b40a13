package vault

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/hashset"
)

// A hash set classifies evidence in every case: a match against a
// known-illegal set hides an item from review, one against a not-illegal
// or known-good set takes it out of the triage queue. A vault configured
// so (Config.HashSetApproval, --hashset-approval required) makes an import
// a request one custodian makes and another approves, as every grant of
// power is (docs/hotline.md section 4, docs/identity.md section 5): the
// first custodian's file is read and its tables built and staged beside
// the sets (hashset.BuildOptions.Stage), request.opened records what was
// read; the approval checks the staged tables against that record,
// records request.approved and hashset.imported together, and only then
// puts the set in use. A rejected, withdrawn, expired or void request's
// staged tables are removed (sweepStaged). Otherwise the custodian's
// import is recorded and put in use at once (importNow), and
// server.started records which the vault does.

// KindHashSetImport imports a hash set of known material.
const KindHashSetImport = "hashset.import"

// hashSetParams are the request's parameters: what the import read and
// built, as hashset.imported will record it (without its request and
// requester, which the approval adds), and the lines read.
type hashSetParams struct {
	HashSetImported
	Lines int `json:"lines"`
	// Replaces describes the set of that name in use when the import
	// was asked for, which its approval replaces (nil: none was).
	Replaces *replacedSet `json:"replaces,omitempty"`
}

// replacedSet is what an import's approver is told of the set it
// replaces.
type replacedSet struct {
	Imported    int    `json:"imported"`
	Category    string `json:"category,omitempty"`
	TableSHA256 string `json:"table_sha256"`
}

// hashSetImportKind is what an approved hashset.import does: the
// approval puts the set in use (approveHashSetImport), while the vault
// still keeps hash sets, of a file that is not a hash list the vault
// itself wrote (exportedHere).
var hashSetImportKind = requestKind{
	check: func(v *Vault, r Request) error {
		if v.hashsets == nil {
			return refused(ErrConflict, "this vault keeps no hash sets (no hash-set folder configured)")
		}
		p := params[hashSetParams](r)
		if why := v.exportedHere(p.SourceSHA256, p.Category); why != "" {
			return refused(ErrConflict, "%s", why)
		}
		return nil
	},
}

// HashSetImportResult answers an import: the set, what was read, the
// problems found (the first 100, with their line numbers), and the
// request that asks for it (Request, open until Expires), which another
// custodian approves; in an approval's answer (Approval.HashSet), the
// event that recorded the import (Event) and who asked (RequestedBy).
type HashSetImportResult struct {
	HashSet      string            `json:"hashset"`
	Format       string            `json:"format"`
	Category     string            `json:"category,omitempty"`
	Lines        int               `json:"lines"`
	Imported     int               `json:"imported"`
	Rejected     int               `json:"rejected"`
	Problems     []hashset.Problem `json:"problems"`
	SourceSHA256 string            `json:"source_sha256"`
	TableSHA256  string            `json:"table_sha256"`
	// Categories counts the entries by what a match with each means
	// (HashSetImported.Categories).
	Categories  map[string]int `json:"categories,omitempty"`
	Request     string         `json:"request,omitempty"`
	Expires     time.Time      `json:"expires,omitzero"`
	RequestedBy string         `json:"requested_by,omitempty"`
	Event       uint64         `json:"event,omitempty"`
	// Conflicts are the sets in use of the other kind (known-good where
	// this one lists known material, or the reverse) that list some of
	// the same files (hashSets.conflicts).
	Conflicts []HashSetConflict `json:"conflicts,omitempty"`
}

// HashSetConflict is a set in use of the other kind that lists files the
// imported one lists too: a deposit of one of them matches both, and
// counts as known material (the graver category wins), which the
// importer and the approver should know before relying on either.
type HashSetConflict struct {
	Set string `json:"set"`
	// KnownGood is the other set's kind: it lists known-good files
	// (true), or known material (false).
	KnownGood bool `json:"known_good"`
	// Shared is how many digests both list (of the algorithm they share
	// most: SHA-256, SHA-1 or MD5).
	Shared uint64 `json:"shared"`
}

// ImportHashSet asks for the import of a known-material hash set
// (custodian). The file is parsed and the lookup tables built and
// staged; the request is recorded (request.opened, kind hashset.import,
// with the file's SHA-256, the counts and the tables' digest). Nothing
// is in use until another custodian approves it (Approve). A fatal error
// in the file (not that format, broken structure, no valid entry)
// changes nothing and records nothing.
func (v *Vault) ImportHashSet(ctx context.Context, who Principal, req HashSetImport) (*HashSetImportResult, error) {
	if err := v.refuseWhileHalted(); err != nil {
		return nil, err
	}
	if err := v.MayAsk(ctx, who, "hashset.import", req.Name); err != nil {
		return nil, err
	}
	h := v.hashsets
	if h == nil {
		return nil, fmt.Errorf("%w: this vault keeps no hash sets (no hash-set folder configured)", ErrConflict)
	}
	if !hashset.ValidName(req.Name) {
		return nil, badInput("hash set name %q: use 1-64 lowercase ASCII letters (a-z), digits (0-9), '.', '_' or '-', starting with a letter or digit", truncate(req.Name))
	}
	if !slices.Contains(hashset.Formats, req.Format) {
		return nil, notOneOf("format", req.Format, hashset.Formats)
	}
	if req.Category != "" && !slices.Contains(HashSetCategories, req.Category) {
		return nil, notOneOf("category", req.Category, HashSetCategories)
	}
	if req.Category == "" && slices.Contains(uncategorisedFormats, req.Format) {
		return nil, badInput("a %s file names no category for its entries: say what a match means with a category (--category: baseline or national: known-illegal, hidden from review; not-illegal; known-good: ordinary files, as NSRL lists)", req.Format)
	}
	if !v.cfg.HashSetApproval {
		return v.importNow(ctx, who, req)
	}
	h.sweepStaged(v.state, v.cfg.Now())
	var info *RequestInfo
	var recordErr error
	// The request's id names the folder its tables are staged in.
	id := "rq_" + randomHex(12)
	opts := h.buildOptions(req)
	opts.Now, opts.Stage = v.cfg.Now, id
	opts.BeforeCommit = func(s *hashset.Summary) error {
		if err := v.importable(req, s); err != nil {
			return err
		}
		p := hashSetParams{HashSetImported: importedOf(req, s), Lines: s.Lines}
		if cur, ok := v.state.hashSet(req.Name); ok {
			p.Replaces = &replacedSet{Imported: cur.Imported, Category: cur.Category, TableSHA256: cur.TableSHA256}
		}
		info, recordErr = v.openRequest(ctx, who, Request{ID: id, Kind: KindHashSetImport}, p)
		return recordErr
	}
	sum, err := hashset.Build(h.root, req.Name, req.Body, req.Format, opts)
	switch {
	case recordErr != nil:
		return nil, recordErr
	case err != nil && info == nil:
		return nil, notImported(err, "")
	case err != nil:
		// Recorded, but the tables could not be staged: the approval
		// finds none and is refused.
		return nil, fmt.Errorf("%w: request %s was recorded, but the set's tables could not be kept for its approval (%v): withdraw it (custos reject %s --reason ...) and import the file again", ErrUnavailable, info.ID, err, info.ID)
	}
	res := importResult(req, sum)
	res.Request, res.Expires = info.ID, info.Expires
	res.Conflicts = h.stagedConflicts(id, req.Name)
	return res, nil
}

// stagedConflicts are the conflicts (hashSets.conflicts) of the set
// request id staged under name, as the sets in use stand now; none
// where its tables are gone (the request ended and they were swept) or
// cannot be read (its approval is refused then).
func (h *hashSets) stagedConflicts(id, name string) []HashSetConflict {
	staged, err := hashset.Open(hashset.StagedDir(h.root, id))
	if err != nil {
		return nil
	}
	defer staged.Close()
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.conflicts(name, staged)
}

// inUseConflicts are the conflicts of the set in use under name.
func (h *hashSets) inUseConflicts(name string) []HashSetConflict {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if s := h.sets[name]; s != nil {
		return h.conflicts(name, s)
	}
	return nil
}

// notImported is the answer to an import whose file was refused (err,
// of the hashset package or of importable, already bad input), with
// more said after "nothing was imported".
func notImported(err error, more string) error {
	if errors.Is(err, ErrBadInput) {
		return fmt.Errorf("%w (nothing was imported%s)", err, more)
	}
	return fmt.Errorf("%w: %v (nothing was imported%s)", ErrBadInput, err, more)
}

// buildOptions are the options of req's build: what a match means.
func (h *hashSets) buildOptions(req HashSetImport) hashset.BuildOptions {
	opts := hashset.BuildOptions{KnownGood: req.Category == CategoryKnownGood, Progress: req.Progress}
	if !opts.KnownGood {
		opts.DefaultCategory = req.Category
	}
	// What a match with each entry will mean, counted for the record
	// and for whoever approves it: an entry that names its own
	// category keeps it, whatever the set's.
	opts.CategoryOf = func(named string) string {
		if opts.KnownGood {
			return CategoryKnownGood
		}
		if c := namedCategory(named, req.Category); c != "" {
			return c
		}
		return "none"
	}
	return opts
}

// importable refuses, before anything is recorded, a file that would
// make items known material their own cases did not settle: a hash list
// this vault wrote (exportedHere), or, given a category, a VICS file of
// cases with items without a category.
func (v *Vault) importable(req HashSetImport, s *hashset.Summary) error {
	if why := v.exportedHere(s.SourceSHA256, req.Category); why != "" {
		return badInput("%s", why)
	}
	if req.Category != "" && s.CaseMediaWithoutCategory > 0 {
		return badInput("this VICS file holds cases (a case's hash list, as a vault or a review tool exports it) with %d items without a category, which may be unclassified or found not illegal: imported with a category (%s) they would all become %s material. Import it without one, so that only the entries that name a category count", s.CaseMediaWithoutCategory, req.Category, req.Category)
	}
	return nil
}

// importedOf is what hashset.imported records of req's build s.
func importedOf(req HashSetImport, s *hashset.Summary) HashSetImported {
	return HashSetImported{Name: req.Name, Format: req.Format, Category: req.Category, SourceSHA256: s.SourceSHA256,
		Imported: s.Entries, Rejected: s.Rejected, TableSHA256: s.TableSHA256, Categories: s.Categories}
}

// exportedHere says why a file of SHA-256 source may not be imported
// (with category, or none): it is a hash list this vault wrote (a case's
// export or a report's forwarding, in any format) ("" if it may). A
// list without categories would give category to every item it lists,
// classified or not; the categories a VICS list carries were settled by
// its own case's policy (one vote, where the case says so), and imported
// back they would hide copies in every case, a stricter one too, which
// the vault's own settlements do not (heldIllegalCopy).
func (v *Vault) exportedHere(source, category string) string {
	seq, ok := v.state.exportedList(source)
	if !ok {
		return ""
	}
	if category != "" {
		return fmt.Sprintf("this file is a hash list this vault exported (event %d: a case's export or a report's forwarding): imported with a category (%s), each item it lists, classified or not, would become %s material. A vault's own list is for checking files and for partners: to share known material, forward the report as vics, or export the case as vics, and import that at the partner's vault", seq, category, category)
	}
	return fmt.Sprintf("this file is a hash list this vault exported (event %d: a case's export or a report's forwarding): this vault knows its items and their classifications already, each under its case's policy; imported back as a hash set they would hide copies in every case, whatever its policy. A vault's own list is for checking files and for partners: import it at the partner's vault", seq)
}

func importResult(req HashSetImport, sum *hashset.Summary) *HashSetImportResult {
	problems := sum.Problems
	if problems == nil {
		problems = []hashset.Problem{}
	}
	return &HashSetImportResult{HashSet: req.Name, Format: req.Format, Category: req.Category, Lines: sum.Lines, Imported: sum.Entries,
		Rejected: sum.Rejected, Problems: problems, SourceSHA256: sum.SourceSHA256, TableSHA256: sum.TableSHA256, Categories: sum.Categories}
}

// importNow imports a set on one custodian's word: the tables are built
// beside the set they replace, the import is recorded (hashset.imported),
// and only then do they replace it and are put in use.
func (v *Vault) importNow(ctx context.Context, who Principal, req HashSetImport) (*HashSetImportResult, error) {
	h := v.hashsets
	h.imu.Lock()
	defer h.imu.Unlock()
	var seq uint64
	var recordErr error
	installing := false
	defer func() {
		if installing {
			h.installing.Unlock()
		}
	}()
	opts := h.buildOptions(req)
	opts.Now = v.cfg.Now
	opts.BeforeCommit = func(s *hashset.Summary) error {
		if err := v.importable(req, s); err != nil {
			return err // checked before the event: nothing is recorded
		}
		// Views wait from here until the set is in use (or the import
		// failed): none is recorded after the import's event yet
		// decided without it.
		h.installing.Lock()
		installing = true
		evs, err := v.append(ctx, sequencer.Draft{Type: TypeHashSetImported, Actor: who.actor(), Data: importedOf(req, s)})
		if err != nil {
			recordErr = v.refusedAs(ctx, who, "hashset.import", req.Name, err)
			return recordErr
		}
		seq = evs[0].Seq
		return nil
	}
	sum, err := hashset.Build(h.root, req.Name, req.Body, req.Format, opts)
	switch {
	case recordErr != nil:
		return nil, recordErr
	case err != nil && seq == 0:
		h.mu.RLock()
		_, had := h.sets[req.Name]
		h.mu.RUnlock()
		if had {
			return nil, notImported(err, "; the set as it was stays in use")
		}
		return nil, notImported(err, "")
	case err != nil:
		// Recorded, but the new files could not be put in place: the
		// next start finds the old set unlike its newest import event
		// and does not use it; neither is used from now on, and the log
		// says so before the import's lock is let go.
		return nil, h.notUsedAfterImport(ctx, v, req.Name, "its import was recorded but its files could not be put in place ("+err.Error()+"): import it again")
	}
	if err := h.putInUse(ctx, v, req.Name); err != nil {
		return nil, err
	}
	res := importResult(req, sum)
	res.Event = seq
	res.Conflicts = h.inUseConflicts(req.Name)
	return res, nil
}

// conflicts lists the sets in use, other than name, of the other kind
// than s (known-good against known material), that list some of the
// digests s lists (hashset.Overlap), each with how many of the algorithm
// they share most. A set that cannot be read is left out: its own
// reading takes it out of use where it matters (match). The caller holds
// h.mu for reading.
func (h *hashSets) conflicts(name string, s *hashset.Set) []HashSetConflict {
	var out []HashSetConflict
	for _, other := range slices.Sorted(maps.Keys(h.sets)) {
		o := h.sets[other]
		if other == name || o.Manifest().KnownGood == s.Manifest().KnownGood {
			continue
		}
		var most uint64
		for _, a := range hashset.Algorithms {
			if n, err := hashset.Overlap(s, o, a); err == nil {
				most = max(most, n)
			}
		}
		if most > 0 {
			out = append(out, HashSetConflict{Set: other, KnownGood: o.Manifest().KnownGood, Shared: most})
		}
	}
	return out
}

// putInUse opens the set name whose files were just put in place, checks
// it against its newest import event, and puts it in use; a set that is
// not the one recorded, or cannot be read, is taken out of use
// (notUsedAfterImport). The caller holds imu and installing.
func (h *hashSets) putInUse(ctx context.Context, v *Vault, name string) error {
	if testHookImported != nil {
		testHookImported(name)
	}
	s, err := h.openRecorded(name, v.state)
	var pdq []setPDQ
	if err == nil {
		if pdq, err = pdqOf(name, s); err != nil {
			s.Close()
		}
	}
	if err != nil {
		// Recorded, but what is on disk is not what was recorded (its
		// files changed between the event and now) or cannot be read.
		return h.notUsedAfterImport(ctx, v, name, "its import was recorded, but the set on disk is not the one it recorded or cannot be read: "+err.Error())
	}
	h.install(name, s, pdq)
	return nil
}

// finishApproved puts in place, at a start before the sets are opened,
// the staged tables of an approved import whose events were recorded but
// which a crash stopped before it renamed them (approveHashSetImport):
// those whose request the newest import of their set names, and whose
// manifest has the tables that import recorded. Anything else staged is
// left for sweepStaged.
func (h *hashSets) finishApproved(st *State) {
	stages, err := hashset.Staged(h.root)
	if err != nil {
		h.logger.Error("could not list the staged hash-set imports", "err", err)
		return
	}
	approved := map[string]HashSet{}
	for _, hs := range st.hashSets() {
		if hs.Request != "" {
			approved[hs.Request] = hs
		}
	}
	for _, id := range stages {
		hs, ok := approved[id]
		if !ok {
			continue
		}
		s, err := hashset.Open(hashset.StagedDir(h.root, id))
		if err != nil {
			continue // judged when the set of that name is opened
		}
		m := s.Manifest()
		s.Close()
		if m.Name != hs.Name || m.TableSHA256 != hs.TableSHA256 {
			continue
		}
		if err := hashset.Commit(h.root, id, hs.Name); err != nil {
			h.logger.Error("could not put in place the tables of an approved hash-set import", "set", hs.Name, "request", id, "err", err)
			continue
		}
		h.logger.Info("put in place the tables of an approved hash-set import that a stop interrupted", "set", hs.Name, "request", id)
	}
}

// approveHashSetImport carries out an approved hashset.import request r
// (approvable and its kind's check passed): the staged tables are opened
// and checked against what the request recorded; request.approved and
// hashset.imported are recorded together, their rules checked at their
// position; then the tables replace the set of that name and are put in
// use, as an import did before it took two custodians.
func (v *Vault) approveHashSetImport(ctx context.Context, who Principal, r Request, reason string) (*Approval, error) {
	h := v.hashsets
	p := params[hashSetParams](r)
	h.imu.Lock()
	defer h.imu.Unlock()
	staged, err := hashset.Open(hashset.StagedDir(h.root, r.ID))
	if err != nil {
		return nil, v.refusedAs(ctx, who, "request.approve", r.ID, refused(ErrConflict,
			"the tables request %s built cannot be read (%v): reject it, and import the file again", r.ID, err))
	}
	m := staged.Manifest()
	staged.Close()
	if m.TableSHA256 != p.TableSHA256 || m.SourceSHA256 != p.SourceSHA256 || !meansWhatRecorded(m, p.Name, p.Format, p.Category) {
		return nil, v.refusedAs(ctx, who, "request.approve", r.ID, refused(ErrConflict,
			"the tables kept for request %s are not those it recorded (tables %s, not %s): they changed on disk; reject it, and import the file again",
			r.ID, m.TableSHA256, p.TableSHA256))
	}
	// Views wait from here until the set is in use (or the import
	// failed): none is recorded after the import's event yet decided
	// without it.
	h.installing.Lock()
	defer h.installing.Unlock()
	decided := RequestDecided{Request: r.ID, Kind: r.Kind, RequestedBy: r.By, Reason: reason}
	imported := p.HashSetImported
	imported.Request, imported.RequestedBy = r.ID, r.By
	evs, err := v.append(ctx, v.approvalDraft(who, r, decided), sequencer.Draft{Type: TypeHashSetImported, Actor: who.actor(), Data: imported})
	if err != nil {
		return nil, v.refusedAs(ctx, who, "request.approve", r.ID, err)
	}
	seq := evs[len(evs)-1].Seq
	if err := hashset.Commit(h.root, r.ID, p.Name); err != nil {
		// Recorded, but the tables could not be put in place: the next
		// start finds the old set unlike its newest import event and
		// does not use it; neither is used from now on, and the log
		// says so before the views are let go.
		return nil, h.notUsedAfterImport(ctx, v, p.Name, "its import was recorded but its files could not be put in place ("+err.Error()+"): import it again")
	}
	if err := h.putInUse(ctx, v, p.Name); err != nil {
		return nil, err
	}
	return &Approval{RequestInfo: r.info(),
		HashSet: &HashSetImportResult{HashSet: p.Name, Format: p.Format, Category: p.Category, Lines: p.Lines, Imported: p.Imported,
			Rejected: p.Rejected, Problems: []hashset.Problem{}, SourceSHA256: p.SourceSHA256, TableSHA256: p.TableSHA256,
			Request: r.ID, RequestedBy: r.By, Event: seq, Conflicts: h.inUseConflicts(p.Name)}}, nil
}

// sweepStaged removes the staged tables of every hashset.import request
// that is no longer pending at now (approved and put in place, rejected,
// withdrawn, expired or void) and of none: what a crash or an ended
// request left. It holds imu, as an approval does between recording its
// events and putting the tables in place, so that it never removes the
// tables of an approval under way. A folder that cannot be removed is
// logged and left for the next sweep.
func (h *hashSets) sweepStaged(st *State, now time.Time) {
	h.imu.Lock()
	defer h.imu.Unlock()
	stages, err := hashset.Staged(h.root)
	if err != nil {
		h.logger.Error("could not list the staged hash-set imports", "err", err)
		return
	}
	pending := map[string]bool{}
	for _, r := range st.pendingRequests(now) {
		if r.Kind == KindHashSetImport && !r.void {
			pending[r.ID] = true
		}
	}
	for _, id := range stages {
		if pending[id] {
			continue
		}
		if err := hashset.Discard(h.root, id); err != nil {
			h.logger.Error("could not remove a staged hash-set import", "request", id, "err", err)
		}
	}
}
