package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/objects"
)

// The sweep of unaccounted objects. A deposit (or a package) writes its
// object before its event, so a crash between the two leaves ciphertext
// no event accounts for. After every start, beside the running vault, the
// sweep lists the store's evidence and package objects, records the
// orphans (objects.swept) and deletes them; those the store refuses to
// delete (retention, legal hold) are recorded as retained
// (objects.retained) and tried again by a start after their pending
// retention ends.
//
// The sweep runs beside deposits and packages that are writing their
// objects ahead of their events; objectsInFlight is how it tells them from
// orphans. It used to run before the vault served, so that nothing could
// be in flight: a start then listed every object of the vault's life,
// which at 10^8 events (some 1.5 million objects) took about 5 s of it.

// objectsInFlight are the objects this process is writing ahead of their
// event: a deposit's ciphertext or a package's file, from before the
// store's write begins until its writer returns: once the state owns the
// object (its event was applied, which the sequencer does before
// answering the append), or after a failure that recorded no event. An
// object whose event may or may not be stored (sequencer.ErrOutcomeUnknown)
// stays here (flight.keep). A listed name is judged by looking here
// first and at the state's owners second, so a listed name is in
// flight, owned, or neither for good; objects.swept's precondition
// (stillOrphans) covers an event stored but not yet applied.
type objectsInFlight struct {
	mu    sync.Mutex
	names map[string]struct{}
}

// flight is one object in flight, from begin to end.
type flight struct {
	f    *objectsInFlight
	name string
	kept bool
}

// begin marks name in flight, before anything is written under it; its
// writer defers end.
func (f *objectsInFlight) begin(name string) *flight {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = map[string]struct{}{}
	}
	f.names[name] = struct{}{}
	return &flight{f: f, name: name}
}

// end takes the object out of flight, once its event was applied or it
// was discarded, unless keep was called.
func (fl *flight) end() {
	if fl.kept {
		return
	}
	fl.f.mu.Lock()
	defer fl.f.mu.Unlock()
	delete(fl.f.names, fl.name)
}

// keep keeps an object whose event may or may not be in the log
// (sequencer.ErrOutcomeUnknown, err): it is not discarded, and stays in
// flight for as long as this process runs, so that no sweep of it takes
// it for an orphan; a start replays the log before its sweep, which then
// knows.
func (fl *flight) keep(logger *slog.Logger, err error) {
	fl.kept = true
	logger.Error("the custody log could not say whether an event was stored: its object is kept, and judged by the sweep after the next start", "object", fl.name, "err", err)
}

// has reports whether name is in flight.
func (f *objectsInFlight) has(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.names[name]
	return ok
}

// sweepPrefixes are where deposits and packages write their objects.
var sweepPrefixes = []string{"ev/", "pk/"}

// maxListedBytes bounds what a sweep holds of the names it lists, to
// judge them in order (17 bytes each for the vault's own names, a string
// for any other): a store listing more is judged a batch at a time as it
// is listed, each batch reading every page of the object index it falls
// in again.
var maxListedBytes = 32 << 20 // tests lower it

// sweepBatch is how many names a sweep of a store past maxListedBytes
// judges at once; judgeChunk is how many it judges under one hold of the
// state's lock (about two pages of the object index's rows, when most are
// owned), so that the appends applying events wait for little; maxSwept
// is how many orphans one objects.swept records, so that neither the
// sweep's memory nor an event grows with what an object store's
// administrator could plant.
const (
	sweepBatch = 1 << 16
	judgeChunk = 256
)

var maxSwept = 4096 // tests lower it

// waitSweep returns once the start's sweep has ended, whatever its
// outcome; a scrub waits for it, so that it does not report as
// unaccounted what the sweep is about to delete.
func (v *Vault) waitSweep(ctx context.Context) error {
	if v.sweepDone == nil {
		return nil
	}
	select {
	case <-v.sweepDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweep deletes the objects that no event accounts for and no request of
// this process is writing. As with every action, the sweep is recorded
// first (objects.swept, at most maxSwept names an event); objects the
// store then refuses to delete are recorded as retained. It is run once
// after every start, beside the running vault (Open); an error ends it
// and is logged: an orphan left is listed by audit scrub as
// unaccounted, and the next start's sweep finds it again.
func (v *Vault) sweep(ctx context.Context) error {
	began := time.Now()
	var listed listedObjects
	full := false
	count, swept, retained := 0, 0, 0
	var orphans []string
	// gen is the generation of the state's pages the orphans held were
	// judged under, from the first of them on.
	var gen uint64
	// unexplained are package files no sealing the log records could
	// have written: kept, and said (unexplainedPackages).
	var unexplained []string
	unexplainedCount := 0
	// record records and deletes the orphans found so far.
	record := func() error {
		if slices.ContainsFunc(orphans, isPackageObject) && v.state.unfinishedSealings() == 0 {
			orphans = slices.DeleteFunc(orphans, func(name string) bool {
				if !isPackageObject(name) {
					return false
				}
				if unexplainedCount++; len(unexplained) < 5 {
					unexplained = append(unexplained, name)
				}
				return true
			})
		}
		s, r, err := v.sweepOrphans(ctx, orphans, gen)
		swept, retained, orphans = swept+s, retained+r, orphans[:0]
		return err
	}
	judge := func(names []string) error {
		slices.Sort(names)
		for len(names) > 0 {
			chunk := names[:min(len(names), judgeChunk)]
			names = names[len(chunk):]
			if len(orphans) == 0 {
				gen = v.state.pagesGeneration()
			}
			found, err := v.orphansOf(chunk)
			if err != nil {
				return err
			}
			for _, name := range found {
				if orphans = append(orphans, name); len(orphans) == maxSwept {
					if err := record(); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	var batch []string
	// judgeErr is a failure to judge or record during the listing (of a
	// store past maxListedBytes), told apart from the listing's own.
	var judgeErr error
	judgeListed := func(names []string) error {
		if err := judge(names); err != nil {
			judgeErr = err
			return err
		}
		return nil
	}
	for _, prefix := range sweepPrefixes {
		err := objects.ListNames(ctx, v.objects, prefix, func(name string) error {
			count++
			if !full && listed.size() < maxListedBytes {
				listed.add(name)
				return nil
			}
			if !full {
				// Too many to hold: what is held is judged now, the
				// rest a batch at a time as it is listed.
				full = true
				if err := listed.each(judgeChunk, judgeListed); err != nil {
					return err
				}
				listed = listedObjects{}
			}
			if batch = append(batch, name); len(batch) == sweepBatch {
				if err := judgeListed(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
			return nil
		})
		if judgeErr != nil {
			return judgeErr
		}
		if err != nil {
			if len(orphans) > 0 || swept > 0 {
				// What was found before the listing failed is not
				// recorded: only what a whole listing found is.
				return fmt.Errorf("listing the store's objects (%d orphans recorded before it failed): %w", swept, err)
			}
			return fmt.Errorf("listing the store's objects: %w", err)
		}
	}
	if err := listed.each(judgeChunk, judge); err != nil {
		return err
	}
	listed = listedObjects{}
	if err := judge(batch); err != nil {
		return err
	}
	if err := record(); err != nil {
		return err
	}
	took := time.Since(began).Round(time.Millisecond)
	if unexplainedCount > 0 {
		v.logger.Error(unexplainedPackages, "objects", unexplainedCount, "first", strings.Join(unexplained, ", "))
	}
	if swept == 0 {
		v.logger.Info("swept the store: no object left by interrupted deposits", "listed", count, "took", took)
		return nil
	}
	v.logger.Info("swept objects left by interrupted deposits", "orphans", swept, "retained", retained, "listed", count, "took", took)
	return nil
}

// unexplainedPackages is what a sweep says of package files (pk/) that
// no package the custody log records owns, when the log records no
// sealing left unfinished: a sealing is recorded before its file is
// written, so only a seal interrupted between its sealing and its
// package.sealed leaves such a file, and none is. They are kept, not
// swept, as the trace they may be of a log cut back (docs/operations.md,
// "Package files the log does not explain").
const unexplainedPackages = "package files in the object store belong to no package the custody log records, and the log records no sealing left unfinished that could have written them: " +
	"the log may have been cut back after they were sealed (a rollback: compare it with a checkpoint saved outside the vault, a package's, a witness's), or they were put in the store by hand; " +
	"they are kept, not swept (docs/operations.md, \"Package files the log does not explain\")"

// isPackageObject reports whether name is a package's file.
func isPackageObject(name string) bool { return strings.HasPrefix(name, packagePrefix) }

// errOrphanOwned refuses an objects.swept whose orphans the state owns at
// its position in the log.
var errOrphanOwned = errors.New("an object judged an orphan is owned at the sweep's position in the log")

// sweepOrphans records orphans (objects.swept), judged unowned under the
// state's pages of generation gen, and deletes them, then records those
// the store kept (objects.retained). It returns how many it recorded and
// how many the store kept.
//
// The record's precondition, at its position in the log, finds that no
// item or package got one of them since they were judged (stillOrphans):
// an event durable but not yet applied when the names were judged (an
// append whose answer was lost, applied when the log is next read) is
// applied before it; the names are then judged again, and the record
// tried again.
func (v *Vault) sweepOrphans(ctx context.Context, found []string, gen uint64) (int, int, error) {
	orphans := slices.Clone(found)
	slices.Sort(orphans) // stores list in their own order
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			// Judged again, under the pages the precondition will hold
			// to (so that it need read no page on the log's writer).
			gen = v.state.pagesGeneration()
			var again []string
			for chunk := range slices.Chunk(orphans, judgeChunk) {
				still, err := v.orphansOf(chunk)
				if err != nil {
					return 0, 0, err
				}
				again = append(again, still...)
			}
			orphans = again
		}
		// An object listed and then discarded by its failed deposit
		// (after it was judged: it was in flight before) is gone: not
		// an orphan of a crash, and not recorded as one.
		orphans = slices.DeleteFunc(orphans, func(name string) bool {
			_, err := v.objects.Stat(ctx, name)
			return errors.Is(err, objects.ErrNotFound)
		})
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		if len(orphans) == 0 {
			return 0, 0, nil
		}
		_, err := v.append(ctx, sequencer.Draft{Type: TypeObjectsSwept, Actor: System, Data: ObjectsSwept{Orphans: orphans},
			Check: func(ahead []*events.Event) error { return v.stillOrphans(orphans, gen, ahead) }})
		if err == nil {
			break
		}
		if !errors.Is(err, errOrphanOwned) || attempt == 2 {
			return 0, 0, err
		}
	}
	var retained []string
	for _, name := range orphans {
		// Gone already is swept; anything else the store refused stays.
		// A Close stops the deletions: the rest are found again by the
		// next start's sweep.
		if err := v.objects.Delete(ctx, name); err != nil && !errors.Is(err, objects.ErrNotFound) {
			if ctx.Err() != nil {
				return len(orphans), len(retained), ctx.Err()
			}
			retained = append(retained, name)
		}
	}
	if len(retained) > 0 {
		if _, err := v.append(ctx, sequencer.Draft{Type: TypeObjectsRetained, Actor: System, Data: ObjectsRetained{Orphans: retained}}); err != nil {
			return len(orphans), len(retained), fmt.Errorf("%d orphans recorded and deleted, but the %d the store kept could not be recorded as retained: %w", len(orphans)-len(retained), len(retained), err)
		}
	}
	return len(orphans), len(retained), nil
}

// stillOrphans is objects.swept's precondition, on the log's writer
// goroutine: none of orphans, judged unowned as of the state's pages of
// generation gen, got an owner since (or the pages changed: judged again),
// no deposit or package ahead of it in its batch could own one (ErrNotYet:
// decided once they are applied), and the state has applied every event
// before it (an event it could not apply leaves owners unknown). It reads
// no page.
func (v *Vault) stillOrphans(orphans []string, gen uint64, ahead []*events.Event) error {
	for _, ev := range ahead {
		if ev.Type == TypeItemDeposited || ev.Type == TypePackageSealed {
			return sequencer.ErrNotYet
		}
	}
	if v.applyErr != nil {
		return fmt.Errorf("the vault's state missed an event of the log, so the orphans' owners are not known: %w", v.applyErr)
	}
	if v.state.ownedSince(orphans, gen) {
		return errOrphanOwned
	}
	return nil
}

// orphansOf returns those of names (in increasing order) that are neither
// in flight nor owned by an item or a package, leaving out those recorded
// as retained whose pending retention has not ended. Names whose owners
// cannot be read (a page of the object index that failed its check,
// which halts the vault) are an error, never taken for orphans.
func (v *Vault) orphansOf(names []string) ([]string, error) {
	// In flight first, owners second (objectsInFlight).
	names = slices.DeleteFunc(slices.Clone(names), v.inFlight.has)
	unowned, err := v.state.unowned(names)
	if err != nil {
		return nil, fmt.Errorf("reading the object index: %w", err)
	}
	out := unowned[:0]
	for _, name := range unowned {
		// An orphan already recorded as retained is tried again only
		// once its pending retention has ended.
		if at, ok := v.state.retainedSince(name); ok && v.cfg.Now().Before(at.Add(v.cfg.PendingRetention)) {
			continue
		}
		out = append(out, name)
	}
	return out, nil
}

// listedObjects holds a listing's names compactly: the vault's own names
// (a prefix of sweepPrefixes and 32 lowercase hex digits, 35 bytes) as 17
// bytes each, in the same order; any other name as itself.
type listedObjects struct {
	keys       [][17]byte
	other      []string
	otherBytes int
}

// size is about what the names held take, in bytes.
func (l *listedObjects) size() int { return len(l.keys)*17 + l.otherBytes }

// add holds name.
func (l *listedObjects) add(name string) {
	if k, ok := compactName(name); ok {
		l.keys = append(l.keys, k)
		return
	}
	l.other = append(l.other, name)
	l.otherBytes += len(name) + 16
}

// each calls fn with the names held, chunk at a time, in increasing
// order within the vault's own names and within the others.
func (l *listedObjects) each(chunk int, fn func([]string) error) error {
	slices.SortFunc(l.keys, func(a, b [17]byte) int { return strings.Compare(string(a[:]), string(b[:])) })
	names := make([]string, 0, min(chunk, len(l.keys)))
	for i, k := range l.keys {
		names = append(names, expandName(k))
		if len(names) == chunk || i == len(l.keys)-1 {
			if err := fn(names); err != nil {
				return err
			}
			names = names[:0]
		}
	}
	if len(l.other) > 0 {
		return fn(l.other)
	}
	return nil
}

// compactName packs a name of the vault's own form into 17 bytes: the
// index of its prefix in sweepPrefixes, then the 16 bytes its hex digits
// spell. Only lowercase digits are packed, so that expandName gives back
// the same name, and the order of the keys is the order of the names.
func compactName(name string) (k [17]byte, ok bool) {
	if len(name) != 35 {
		return k, false
	}
	p := slices.Index(sweepPrefixes, name[:3])
	if p < 0 {
		return k, false
	}
	k[0] = byte(p)
	for i := range 16 {
		hi, ok1 := lowerHex(name[3+2*i])
		lo, ok2 := lowerHex(name[4+2*i])
		if !ok1 || !ok2 {
			return k, false
		}
		k[1+i] = hi<<4 | lo
	}
	return k, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// expandName is compactName's inverse.
func expandName(k [17]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 35)
	b = append(b, sweepPrefixes[k[0]]...)
	for _, c := range k[1:] {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return string(b)
}
