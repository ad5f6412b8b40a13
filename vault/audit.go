package vault

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/objects"
)

// ScrubResult is the outcome of re-hashing every stored object.
type ScrubResult struct {
	// Objects counts the evidence objects checked and Packages the
	// package files checked (of cases that were not destroyed).
	Objects  int  `json:"objects"`
	Packages int  `json:"packages"`
	OK       bool `json:"ok"`
	// Mismatched and Missing list item ids (it_...) and package ids
	// (pk_...) whose object is altered or gone.
	Mismatched []string `json:"mismatched,omitempty"`
	Missing    []string `json:"missing,omitempty"`
	// Unaccounted lists objects in the store that no event accounts for.
	Unaccounted []string `json:"unaccounted,omitempty"`
	// RetainedDestroyed lists objects of destroyed cases still in the
	// store (kept by their retention or a failed deletion): ciphertext
	// whose keys are destroyed. They do not make OK false.
	RetainedDestroyed []string `json:"retained_destroyed,omitempty"`
	// AwaitingSweep counts orphans of interrupted deposits that the
	// log records as retained by the store until their pending retention
	// ends; the next start after that deletes them.
	AwaitingSweep int `json:"awaiting_sweep"`
	// InFlight counts objects that deposits or packages under way were
	// writing ahead of their events when the scrub listed the store:
	// neither accounted for yet nor unaccounted.
	InFlight int `json:"in_flight,omitempty"`
	// HashSets counts the known-material hash sets checked, and
	// HashSetsAltered names those whose files no longer hash to what
	// their import recorded: each is taken out of use until imported
	// again.
	HashSets        int      `json:"hash_sets"`
	HashSetsAltered []string `json:"hash_sets_altered,omitempty"`
	// HashSetsOutOfUse names the sets the log says are imported that
	// were out of use when the scrub began (found altered or unreadable
	// before, and recorded then): not a failure again, but not "all
	// match" either.
	HashSetsOutOfUse []string `json:"hash_sets_out_of_use,omitempty"`
	// Foreign lists what the object store's place holds besides objects
	// (objects.ForeignLister), each as "ENTRY: why": a name no object
	// can have, a folder where none can be, a lock record the store did
	// not write; in a bucket, a version written over an object. Only
	// someone with the store's own access puts them there.
	Foreign []string `json:"foreign,omitempty"`
	// KeysAltered lists each file of a live key in the keyring folder
	// that is not the one the log recorded (case.opened,
	// reports.contacts.key, key.stored), as "case ID: sealed file: why"
	// or "...: recovery copy: why": a key someone rewrote or removed
	// while the vault ran, whose replicas may have been rewritten alike.
	KeysAltered []string `json:"keys_altered,omitempty"`
	// LocksWeakened lists the objects whose protection in the store is
	// weaker than the vault set, as "it_...: why" or "pk_...: why"
	// (lockWeakened): a held case's item or package file whose legal
	// hold is off (put back by the scrub), a lock that cannot be read,
	// or an item whose retention ends before what its case recorded.
	// Only a store that reads locks back (objects.LockReader) is
	// checked.
	LocksWeakened []string `json:"locks_weakened,omitempty"`
	// Incomplete says why the scrub could not read the whole store (a
	// listing that failed, say); what it found up to then is reported
	// and recorded, and OK is false.
	Incomplete string `json:"incomplete,omitempty"`
}

// Scrub re-hashes every evidence object's ciphertext against the SHA-256
// its deposit event recorded, and every package file against its
// package.sealed event, without any key; it lists every object in the
// store that no event accounts for, and the objects of destroyed cases
// still present. OK is false if any object is missing, altered or
// unaccounted, if the store's place holds anything but objects, or if the
// store could not be read to the end (Incomplete). The outcome is
// recorded, then each failure as an integrity.failed event: a store that
// fails half-way does not keep what was found before from the log.
func (v *Vault) Scrub(ctx context.Context, who Principal) (*ScrubResult, error) {
	if err := v.MayAsk(ctx, who, "audit.scrub", ""); err != nil {
		return nil, err
	}
	// What the start's sweep is about to delete is not reported as
	// unaccounted: the scrub begins once the sweep has ended.
	if err := v.waitSweep(ctx); err != nil {
		return nil, err
	}
	res := &ScrubResult{}
	// Where the log stood as the scrub began: a key re-sealed since may
	// still have a replica of the file it replaced (replicaIsTheVaults).
	since := v.log.Size()
	// Items are scanned a chunk at a time (State.scanItems), not held;
	// failed keeps those that fail, whose failures are recorded below
	// in deposit order.
	failed := map[string]Item{}
	unreadable := map[string]error{}
	locks, readsLocks := v.objects.(objects.LockReader)
	err := v.state.scanItems(scanChunk, func(it Item) error {
		c, _ := v.state.getCase(it.Case)
		if c.Destroyed {
			return nil // its objects were deleted, or are kept only until their retention ends
		}
		res.Objects++
		// The ciphertext's size and SHA-256 come from the signed deposit
		// event; a store that does not hold it fails the scrub.
		d, err := v.depositRecord(ctx, it)
		if errors.Is(err, ErrIntegrity) {
			// The object cannot be checked against a record the log
			// does not vouch for: a failure of the item, recorded
			// below, and the scrub goes on with the others.
			res.Mismatched = append(res.Mismatched, it.ID)
			failed[it.ID], unreadable[it.ID] = it, err
			return nil
		}
		if err != nil {
			return fmt.Errorf("item %s: %w", it.ID, err)
		}
		rc, err := v.objects.Open(ctx, d.Object)
		if err != nil {
			res.Missing = append(res.Missing, it.ID)
			failed[it.ID] = it
			return nil
		}
		match, _, ctxErr := matchesRecord(ctx, rc, d.CiphertextSize, d.CiphertextSHA256)
		rc.Close() // read to the end or failed: either way the hash decides
		if ctxErr != nil {
			return ctxErr
		}
		if !match {
			res.Mismatched = append(res.Mismatched, it.ID)
			failed[it.ID] = it
		}
		if readsLocks {
			if why := v.lockWeakened(ctx, locks, c, d.Object, it.At.Time(), it.DepositAt); why != "" {
				res.LocksWeakened = append(res.LocksWeakened, it.ID+": "+why)
			}
		}
		return nil
	})
	// A store that cannot be read to the end, or a scrub stopped by its
	// caller, does not lose what was found before: the scrub records its
	// findings and says it is incomplete (an altered page of the state
	// halts the vault instead).
	var incomplete []error
	cancelled := false
	stopped := func(what string, err error) error {
		switch {
		case errors.Is(err, ErrIntegrity):
			return err
		case ctx.Err() != nil:
			if !cancelled {
				cancelled = true
				incomplete = append(incomplete, fmt.Errorf("the scrub was stopped before it ended (%w), while %s", ctx.Err(), what))
			}
			return nil
		}
		incomplete = append(incomplete, fmt.Errorf("%s: %w", what, err))
		return nil
	}
	if err != nil {
		if err := stopped("checking the items' objects", err); err != nil {
			return nil, err
		}
	}
	byDeposit := func(a, b string) int { return cmp.Compare(failed[a].DepositAt, failed[b].DepositAt) }
	slices.SortFunc(res.Mismatched, byDeposit)
	slices.SortFunc(res.Missing, byDeposit)
	itemMismatched, itemMissing := slices.Clone(res.Mismatched), slices.Clone(res.Missing)
	pkgMissing, pkgAltered, err := v.scrubPackages(ctx, res)
	if err != nil {
		if err := stopped("checking the packages' objects", err); err != nil {
			return nil, err
		}
	}
	// Every object in the store, whatever its name.
	keys := v.newScrubKeys()
	if err := v.objects.List(ctx, "", func(info objects.Info) error {
		return v.classifyListed(ctx, info, res, keys, since)
	}); err != nil {
		if err := stopped("listing the object store", err); err != nil {
			return nil, err
		}
	}
	// And what the store's place holds besides its objects.
	if fl, ok := v.objects.(objects.ForeignLister); ok {
		if err := fl.ListForeign(ctx, func(entry, why string) error {
			res.Foreign = append(res.Foreign, entry+": "+why)
			return nil
		}); err != nil {
			if err := stopped("listing what the object store holds besides objects", err); err != nil {
				return nil, err
			}
		}
	}
	// The keys' files in the keyring folder, against their record.
	if res.KeysAltered, err = v.keysAltered(ctx); err != nil {
		if err := stopped("checking the keyring's files", err); err != nil {
			return nil, err
		}
	}
	slices.Sort(res.Unaccounted) // stores list in their own order
	slices.Sort(res.RetainedDestroyed)
	slices.Sort(res.Foreign)
	if h := v.hashsets; h != nil {
		// The sets' lookups read their files as they are on disk: one
		// edited in place since the start is found here.
		for _, set := range h.notInUse(v.state) {
			res.HashSetsOutOfUse = append(res.HashSetsOutOfUse, set.Name)
		}
		res.HashSets = h.count()
		res.HashSetsAltered = h.verifyLoaded(ctx, v.state)
	}
	if err := errors.Join(incomplete...); err != nil {
		res.Incomplete = err.Error()
	}
	res.OK = len(res.Mismatched)+len(res.Missing)+len(res.Unaccounted)+len(res.Foreign)+len(res.HashSetsAltered)+len(res.KeysAltered)+len(res.LocksWeakened) == 0 && res.Incomplete == ""
	// The outcome, bounded to fit an event whatever the store holds,
	// then each failure: recorded even if recording another one (or the
	// outcome) failed; a failure that could not be recorded fails the
	// scrub.
	var unrecorded []error
	if _, err := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeAuditScrubbed, Actor: who.actor(), Data: scrubbedEvent(res, v.cfg.TSACerts)}); err != nil {
		unrecorded = append(unrecorded, fmt.Errorf("the scrub's outcome: %w", err))
	}
	for _, p := range pkgMissing {
		unrecorded = append(unrecorded, v.recordPackageIntegrityFailure(ctx, p, fmt.Errorf("scrub: %w", errObjectMissing)))
	}
	for _, p := range pkgAltered {
		unrecorded = append(unrecorded, v.recordPackageIntegrityFailure(ctx, p, fmt.Errorf("scrub: %w", errObjectAltered)))
	}
	for _, id := range itemMismatched {
		why := errors.New("scrub: stored ciphertext does not match the deposit")
		if err := unreadable[id]; err != nil {
			why = fmt.Errorf("scrub: the item's deposit record could not be read from the custody log, so its ciphertext could not be checked: %w", err)
		}
		unrecorded = append(unrecorded, v.recordIntegrityFailure(ctx, failed[id], why))
	}
	for _, id := range itemMissing {
		unrecorded = append(unrecorded, v.recordIntegrityFailure(ctx, failed[id], errors.New("scrub: stored ciphertext is missing")))
	}
	if err := errors.Join(unrecorded...); err != nil {
		return nil, fmt.Errorf("recording the scrub's integrity failures: %w", err)
	}
	if cancelled {
		return nil, fmt.Errorf("the scrub was stopped before it ended; what it found up to then is recorded: %w", ctx.Err())
	}
	return res, nil
}

// The bounds of an audit.scrubbed event's lists: a store can hold any
// number of unaccounted or foreign entries, with names of up to a
// kilobyte (an S3 key), and an event is at most events.MaxEventSize.
const (
	scrubbedMaxIDs     = 200 // item and package ids (30 bytes each)
	scrubbedMaxEntries = 30  // object names and foreign entries
	scrubbedMaxEntry   = 200 // bytes of each, cut beyond
)

// scrubbedEvent is the audit.scrubbed data of res: its lists bounded
// (the first of each, sorted, and each entry cut), the number of
// entries left out, and, if any was left out or cut, the SHA-256 of the
// full lists (scrubbedListsSHA256), which an auditor who kept the whole
// answer (--json) can match against the log.
func scrubbedEvent(res *ScrubResult, tsaCerts []*x509.Certificate) AuditScrubbed {
	omitted := 0
	cutDown := false
	bound := func(list []string, n int) []string {
		if len(list) > n {
			omitted += len(list) - n
			list = list[:n]
		}
		out := make([]string, len(list))
		for i, e := range list {
			if len(e) > scrubbedMaxEntry {
				e, cutDown = strings.ToValidUTF8(e[:scrubbedMaxEntry], "")+"...", true
			}
			out[i] = e
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	d := AuditScrubbed{Objects: res.Objects, Packages: res.Packages,
		Mismatched: bound(res.Mismatched, scrubbedMaxIDs), Missing: bound(res.Missing, scrubbedMaxIDs),
		Unaccounted: bound(res.Unaccounted, scrubbedMaxEntries), RetainedDestroyed: bound(res.RetainedDestroyed, scrubbedMaxEntries),
		HashSetsAltered: bound(res.HashSetsAltered, scrubbedMaxEntries), Foreign: bound(res.Foreign, scrubbedMaxEntries),
		KeysAltered: bound(res.KeysAltered, scrubbedMaxEntries), LocksWeakened: bound(res.LocksWeakened, scrubbedMaxIDs)}
	if inc := bound([]string{res.Incomplete}, 1); res.Incomplete != "" {
		d.Incomplete = inc[0]
	}
	for _, c := range tsaCerts {
		sum := sha256.Sum256(c.Raw)
		d.TSACerts = append(d.TSACerts, hex.EncodeToString(sum[:]))
	}
	if omitted > 0 || cutDown {
		d.Omitted = omitted
		d.ListsSHA256 = scrubbedListsSHA256(res)
	}
	return d
}

// scrubbedListsSHA256 is the SHA-256 (hex) of a scrub's whole lists as
// it answered them, written as lines: for each of mismatched, missing,
// unaccounted, retained_destroyed, hash_sets_altered, foreign and
// incomplete (a list of one entry, or none if empty), in this order, a
// line of the field's name, a space and its number of entries, then a
// line per entry of its length in bytes, a space and its bytes; then the
// same for keys_altered and then locks_weakened, each only if it has
// entries (scrubs before they were checked hashed no such line)
// (docs/custody-log.md, audit.scrubbed).
func scrubbedListsSHA256(res *ScrubResult) string {
	h := sha256.New()
	var incomplete []string
	if res.Incomplete != "" {
		incomplete = []string{res.Incomplete}
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"mismatched", res.Mismatched}, {"missing", res.Missing}, {"unaccounted", res.Unaccounted},
		{"retained_destroyed", res.RetainedDestroyed}, {"hash_sets_altered", res.HashSetsAltered},
		{"foreign", res.Foreign}, {"incomplete", incomplete}, {"keys_altered", res.KeysAltered}, {"locks_weakened", res.LocksWeakened}} {
		if (f.name == "keys_altered" || f.name == "locks_weakened") && len(f.list) == 0 {
			continue
		}
		fmt.Fprintf(h, "%s %d\n", f.name, len(f.list))
		for _, e := range f.list {
			fmt.Fprintf(h, "%d %s\n", len(e), e)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditReader checks that who may read the custody log.
func (v *Vault) AuditReader(ctx context.Context, who Principal, action string) error {
	if who.Role != RoleAuditor {
		return v.refuse(ctx, who, action, "", "only auditors read the custody log", ErrForbidden)
	}
	return nil
}

// Timeline calls fn with the stored events of a case, an item, or the
// whole log (up to its size when the read began), in log order: each
// record with its event decoded from the record's bytes
// (verify.DecodeEvent), so that callers need not decode them again.
// Every event is checked against the verified tree (readNamed,
// readWhole): bytes that are not the log's, a missing event or one that
// does not decode is ErrIntegrity. A case or item id that no event names
// is ErrNotFound.
func (v *Vault) Timeline(ctx context.Context, who Principal, caseID, itemID string, fn func(events.Record, *events.Event) error) error {
	if err := v.AuditReader(ctx, who, "audit.log"); err != nil {
		return err
	}
	// An id nothing names is said so, rather than answered with an empty
	// history a typo cannot be told from. (An id that names no item but
	// some events, such as refused requests for it, has those.)
	key, kind := caseID, byCase
	if itemID != "" {
		key, kind = itemID, byItem
	}
	if key != "" {
		n, err := v.state.namedBy(key, kind)
		switch {
		case err != nil:
			return err
		case n.n == 0 && kind == byItem:
			return v.refusedAs(ctx, who, "audit.log", itemID, refused(ErrNotFound, "no item %q: none was ever deposited, and no event of the custody log names it as its item", truncate(itemID)))
		case n.n == 0:
			return v.refusedAs(ctx, who, "audit.log", caseID, refusedHints(ErrNotFound, "an attempt on a case that was never opened is recorded without one: find it with --person", "an attempt on a case that was never opened is recorded without one: look for it by the person's name",
				"no case %q: none was ever opened, and no event of the custody log names it as its case", truncate(caseID)))
		}
	}
	switch {
	case itemID != "":
		it, ok, err := v.state.getItem(itemID)
		if err != nil {
			return err
		}
		if !ok {
			return v.readNamed(ctx, itemID, byItem, fn)
		}
		// An item's timeline includes the packages that carried it out
		// of the vault (their sealing, storing, fetches and signed
		// receipts) and the destruction of its case (asked, decided,
		// done): the case's events that concern it, found among the
		// case's own events (not among its other items'), and given in
		// log order among the item's events, as its custody report
		// gives them. Both reads stop
		// at the log's size when the first began, so that an event
		// appended between them cannot appear without the ones before it.
		size := v.log.Size()
		type carried struct {
			r  events.Record
			ev *events.Event
		}
		var pkgEvents []carried
		pkgs := map[string]bool{}
		if err := v.readNamed(ctx, it.Case, byCaseOwn, func(r events.Record, ev *events.Event) error {
			if r.Seq >= size {
				return nil
			}
			switch ev.Type {
			case TypePackageSealing:
				var d PackageSealing
				if ev.DecodeData(&d) == nil && slices.Contains(d.Items, itemID) {
					pkgs[d.Package] = true
					pkgEvents = append(pkgEvents, carried{r, ev})
				}
			case TypePackageSealed, TypePackageFetched, TypePackageFetchDone, TypePackageReceived:
				var d struct {
					Package string `json:"package"`
				}
				if ev.DecodeData(&d) == nil && pkgs[d.Package] {
					pkgEvents = append(pkgEvents, carried{r, ev})
				}
			case TypeDestructionRequested, TypeDestructionApproved, TypeDestructionRejected, TypeCaseDestroyed:
				pkgEvents = append(pkgEvents, carried{r, ev})
			}
			return nil
		}); err != nil {
			return err
		}
		before := func(seq uint64) error {
			for len(pkgEvents) > 0 && pkgEvents[0].r.Seq < seq {
				if err := fn(pkgEvents[0].r, pkgEvents[0].ev); err != nil {
					return err
				}
				pkgEvents = pkgEvents[1:]
			}
			return nil
		}
		if err := v.readNamed(ctx, itemID, byItem, func(r events.Record, ev *events.Event) error {
			if r.Seq >= size {
				return nil
			}
			if err := before(r.Seq); err != nil {
				return err
			}
			return fn(r, ev)
		}); err != nil {
			return err
		}
		return before(math.MaxUint64)
	case caseID != "":
		return v.readNamed(ctx, caseID, byCase, fn)
	default:
		return v.readWhole(ctx, fn)
	}
}

// lockSlack is how far before the deposit's event an object's retention
// may have been counted from (it is written, with its pending retention,
// before its event) without being judged weakened.
const lockSlack = time.Hour

// lockGrace is how long after its deposit an object's legal hold is put
// on without being reported (a deposit into a held case places it just
// after its event: extendRetention).
const lockGrace = 10 * time.Minute

// lockWeakened says how the store's lock on an object of case c (stored
// at the time at) is weaker than the vault set it ("" if it is not), for
// Scrub's locks_weakened:
//
//   - a legal hold off while the case is held: put back at once (under
//     holdMu, as SetHold and a deposit place holds, so that neither is
//     caught half-way); not reported within lockGrace of the deposit;
//   - for evidence (an item's object: deposit is the position of its
//     item.deposited, 0 for a package's file, which is not judged so),
//     an object older than the pending retention it was written with
//     (recorded by the start before it; the vault's own where none
//     was) whose retention ends
//     before its deposit's time plus the case's own retention (recorded
//     in case.opened) or, for a case on the vault's default, plus the
//     default the start before the deposit recorded in server.started,
//     or the next start's if less and it came within the deposit's own
//     pending retention (State.retentionAt); where
//     either start recorded none (a release before 2026-12-05), plus the
//     smaller of the floor (Config.MinRetention) and a day, since the
//     default and the floor are configuration, which may have been
//     raised since the deposit.
//
// A lock record that cannot be read is itself reported.
func (v *Vault) lockWeakened(ctx context.Context, locks objects.LockReader, c Case, object string, at time.Time, deposit uint64) string {
	l, err := locks.Lock(ctx, object)
	if errors.Is(err, objects.ErrNotFound) {
		return "" // listed as missing by the checks of its bytes
	}
	if err != nil {
		return fmt.Sprintf("its lock in the store could not be read (%v): what protects it from deletion is unknown", err)
	}
	var why []string
	if c.Held && !l.LegalHold {
		v.holdMu.Lock()
		now, _ := v.state.getCase(c.ID)
		lifted := now.Held
		if lifted {
			// Read again under holdMu: a hold being placed has set it.
			if l2, err := locks.Lock(ctx, object); err == nil && l2.LegalHold {
				lifted = false
			}
		}
		restored := ""
		if lifted {
			if err := v.objects.SetLegalHold(ctx, object, true); err != nil {
				restored = fmt.Sprintf(" (putting it back failed: %v; repeat the hold)", err)
			} else {
				restored = " (put back)"
			}
		}
		v.holdMu.Unlock()
		if lifted && v.cfg.Now().Sub(at) > lockGrace {
			why = append(why, "its case is under a legal hold, but the object's legal hold was off"+restored+": lifted in the store, or never placed (a hold command that failed part-way)")
		}
	}
	if deposit > 0 {
		if w := v.retentionWeakened(c, l.RetainUntil, at, deposit); w != "" {
			why = append(why, w)
		}
	}
	return strings.Join(why, "; ")
}

// retentionWeakened says how the retention of an item deposited at
// position deposit and time at, into case c, which the store keeps until
// until, is shorter than the vault set it ("" if it is not, or if the
// item is still within the pending retention it was written with, as the
// start before it recorded it: not the one the vault runs with now,
// which a restart could make as long as it liked).
func (v *Vault) retentionWeakened(c Case, until, at time.Time, deposit uint64) string {
	def, pending, recorded := v.state.retentionAt(deposit, at)
	if pending == 0 {
		pending = v.cfg.PendingRetention
	}
	if v.cfg.Now().Sub(at) <= pending {
		return ""
	}
	kept, whose := min(v.cfg.MinRetention, 24*time.Hour), "the vault's retention floor or a day, whichever is less: no start before it recorded the vault's default"
	if c.Retention > 0 {
		kept, whose = c.Retention, "the case's own retention"
	} else if recorded {
		kept, whose = def, "the vault's default retention when it was deposited, as server.started recorded it"
	}
	if !until.Before(at.Add(kept - lockSlack)) {
		return ""
	}
	ends := "none"
	if !until.IsZero() {
		ends = until.Format(time.RFC3339)
	}
	return fmt.Sprintf("its retention ends %s, before the deposit's time plus %s (%s): shortened in the store, or never extended (the vault logs a failed extension)",
		ends, whose, at.Add(kept).Format(time.RFC3339))
}
