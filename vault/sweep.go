package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
// store's write begins until the state owns the object (its event was
// applied, which the sequencer does before answering the append) or it
// was discarded. A listed name is judged by looking here first and at the
// state's owners second; as a name leaves here only after the state owns
// it or it was discarded, a listed name is in flight, owned, or neither
// for good: never taken for an orphan while its event is on its way.
type objectsInFlight struct {
	mu    sync.Mutex
	names map[string]struct{}
}

// add marks name in flight, before anything is written under it.
func (f *objectsInFlight) add(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = map[string]struct{}{}
	}
	f.names[name] = struct{}{}
}

// done ends what add began: call it once the object's event was applied
// or the object discarded (deferred by its writer).
func (f *objectsInFlight) done(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.names, name)
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

// maxListed bounds the names a sweep holds in memory to judge them in
// order (17 bytes each for the vault's own names: 34 MiB at most); a
// store holding more is judged a batch at a time as it is listed, each
// batch reading every page of the object index it falls in again.
var maxListed = 1 << 21 // tests lower it

// sweepBatch is how many names a sweep of a store larger than maxListed
// judges at once; judgeChunk is how many it judges under one hold of the
// state's lock, so that the appends applying events wait for no longer
// than a page or two of the object index takes to read.
const (
	sweepBatch = 1 << 16
	judgeChunk = 1 << 12
)

// sweepDone reports the end of the start's sweep (closed when it has
// ended, whatever its outcome); a scrub waits for it, so that it does not
// report as unaccounted what the sweep is about to delete.
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
// first; objects the store then refuses to delete are recorded as
// retained. It is run once after every start, beside the running vault
// (Open); its failures are logged, and change nothing: an orphan left is
// listed by audit scrub as unaccounted, and the next start's sweep finds
// it again.
func (v *Vault) sweep(ctx context.Context) error {
	began := time.Now()
	var listed listedObjects
	full := false
	var orphans []string
	judge := func(names []string) error {
		slices.Sort(names)
		for len(names) > 0 {
			chunk := names[:min(len(names), judgeChunk)]
			names = names[len(chunk):]
			found, err := v.orphansOf(chunk)
			if err != nil {
				return err
			}
			orphans = append(orphans, found...)
		}
		return nil
	}
	var batch []string
	count := 0
	for _, prefix := range sweepPrefixes {
		err := objects.ListNames(ctx, v.objects, prefix, func(name string) error {
			count++
			if !full && listed.len() < maxListed {
				listed.add(name)
				return nil
			}
			if !full {
				// Too many to hold: what is held is judged now, the
				// rest a batch at a time as it is listed.
				full = true
				if err := listed.each(judgeChunk, judge); err != nil {
					return err
				}
				listed = listedObjects{}
			}
			if batch = append(batch, name); len(batch) == sweepBatch {
				if err := judge(batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("listing the store's objects: %w", err)
		}
	}
	if err := listed.each(judgeChunk, judge); err != nil {
		return err
	}
	if err := judge(batch); err != nil {
		return err
	}
	listed = listedObjects{}
	// An object listed and then discarded by its failed deposit (after
	// it was judged: it was in flight before) is gone: not an orphan of
	// a crash, and not recorded as one.
	orphans = slices.DeleteFunc(orphans, func(name string) bool {
		_, err := v.objects.Stat(ctx, name)
		return errors.Is(err, objects.ErrNotFound)
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(orphans) == 0 {
		v.logger.Info("swept the store: no object left by interrupted deposits", "listed", count, "took", time.Since(began).Round(time.Millisecond))
		return nil
	}
	slices.Sort(orphans) // stores list in their own order
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeObjectsSwept, Actor: System, Data: ObjectsSwept{Orphans: orphans}}); err != nil {
		return err
	}
	var retained []string
	for _, name := range orphans {
		// Gone already is swept; anything else the store refused stays.
		if err := v.objects.Delete(context.WithoutCancel(ctx), name); err != nil && !errors.Is(err, objects.ErrNotFound) {
			retained = append(retained, name)
		}
	}
	v.logger.Info("swept objects left by interrupted deposits", "orphans", len(orphans), "retained", len(retained), "listed", count, "took", time.Since(began).Round(time.Millisecond))
	if len(retained) == 0 {
		return nil
	}
	_, err := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeObjectsRetained, Actor: System, Data: ObjectsRetained{Orphans: retained}})
	return err
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
	keys  [][17]byte
	other []string
}

func (l *listedObjects) len() int { return len(l.keys) + len(l.other) }

// add holds name.
func (l *listedObjects) add(name string) {
	if k, ok := compactName(name); ok {
		l.keys = append(l.keys, k)
		return
	}
	l.other = append(l.other, name)
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
