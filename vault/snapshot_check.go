package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/transparency-dev/merkle/compact"
)

// checkCovered checks, beside the running vault, the events a state
// snapshot let the start skip: the store must hold events 0 to size-1 at
// their positions, and their leaf hashes must make the root of the
// snapshot's signed checkpoint. It reads the bytes and hashes them (no
// decoding, no state), in constant memory (a compact range). An event
// altered, removed or inserted in the store before the snapshot is
// thereby found soon after every start, as a full replay would find it:
// the failure is logged and recorded (integrity.failed) and the log is
// halted, so that the vault acts on nothing more until someone restores
// the log and restarts it (which replays and checks it from event 0, the
// snapshots of the altered log being discarded).
func (v *Vault) checkCovered(ctx context.Context, size uint64, root events.Hash) error {
	rng := (&compact.RangeFactory{Hash: events.HashChildren}).NewEmptyRange(0)
	next := uint64(0)
	start := time.Now()
	err := events.ReadBytes(ctx, v.cfg.Log, 0, func(seq uint64, b []byte) error {
		if seq >= size {
			return errStopRead
		}
		if seq != next {
			return fmt.Errorf("event %d is not in the store (the next stored is %d)", next, seq)
		}
		leaf := events.LeafHash(b)
		next++
		return rng.Append(leaf[:], nil)
	})
	if ctx.Err() != nil {
		return nil // the vault is closing
	}
	if err != nil && !errors.Is(err, errStopRead) {
		return v.coveredFailed(size, err)
	}
	if next != size {
		return v.coveredFailed(size, fmt.Errorf("the store holds %d of them", next))
	}
	got, err := rng.GetRootHash(nil)
	if err != nil {
		return v.coveredFailed(size, err)
	}
	if events.Hash(got) != root {
		return v.coveredFailed(size, errors.New("their hashes do not make the root of the signed checkpoint: events were altered, removed, inserted or reordered in the store"))
	}
	v.logger.Info("checked the custody log's events a state snapshot covers", "events", size, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// checkSnapshotPages reads, beside the running vault, the whole of the
// snapshot file a start read by its summary alone (readSummary): its MAC
// over every byte, then every page, each checked as a start before state
// version 14 checked them (the items in order, each index's rows against
// the items, the cases' lists against the cases, the packages' objects)
// and against the page index the start used. The state this builds is
// dropped. A failure means the file changed on disk since the vault
// wrote it, or the vault wrote a snapshot whose index does not give its
// pages as they are: either way the state the start resumed from cannot
// be vouched for, and the log is halted as checkCovered halts it (the
// snapshots are discarded, and the next start replays the log from event
// 0), the halt saying that the snapshot is in question, not the log
// (ErrSnapshotSuspect). It closes l.checkFile.
func (v *Vault) checkSnapshotPages(ctx context.Context, l *loaded) error {
	defer l.checkFile.Close()
	start := time.Now()
	checked, err := v.snaps.readWhole(ctx, l.checkFile, l.size, l.name, v.origin, v.verifier, v.log.Size())
	if ctx.Err() != nil {
		return nil // the vault is closing
	}
	if errors.Is(err, errSnapshotRead) {
		// The storage failed the read: no sign of a change, and nothing
		// checked. (A file cut short since the start is a change:
		// readWhole says so, and the vault halts below.)
		v.logger.Error("the pages of the state snapshot this start resumed from could not be read to be checked; restart the server once the storage is sound", "snapshot", l.name, "err", err)
		return err
	}
	if err == nil && checked.summary != l.summary {
		err = errors.New("its summary is not the one the start read: the file changed since")
	}
	if err != nil {
		// The snapshot is suspect, not the log (its events are checked
		// apart, checkCovered): halt says so.
		return v.halt(fmt.Errorf("%w: %w: the state snapshot this start resumed from (%s), read whole beside the running vault: %v", ErrSnapshotSuspect, ErrIntegrity, l.name, err))
	}
	v.logger.Info("checked the pages of the state snapshot this start resumed from", "snapshot", l.name, "summary_sha256", checked.summary, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// LogStoreChecked is the message the server logs when its log store's
// own integrity check passed (checkStore): the last of the checks a start
// runs beside the serving vault, which an operator, or a benchmark about
// to time an audit, waits for.
const LogStoreChecked = "checked the custody log store's own files (its integrity check)"

// checkStore runs the log store's own integrity check, if it has one
// (events.IntegrityChecker), logs that it passed, with how long it took
// (the last of the checks a start leaves to run beside the serving vault:
// SQLite's quick_check of a log of 10^7 events reads its 6 GB), and halts
// the log if it fails.
func (v *Vault) checkStore(ctx context.Context) error {
	c, ok := v.cfg.Log.(events.IntegrityChecker)
	if !ok {
		return nil
	}
	start := time.Now()
	err := c.CheckIntegrity(ctx)
	if ctx.Err() != nil {
		return nil
	}
	if err == nil {
		v.logger.Info(LogStoreChecked, "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	return v.halt(fmt.Errorf("%w: the custody log store's integrity check: %v", ErrIntegrity, err))
}

// ErrSnapshotSuspect marks a halt for the state snapshot the vault
// resumed from, not for its log: a page of it, or the read of the whole
// file beside the start (its MAC, its summary, its length), failed its
// check (the file changed on disk, or could not be read). The log's halt wraps it, and so
// does every refusal while halted (ErrLogHalted). A restart discards the
// snapshot and replays the log; nothing of the log is to be put back
// (docs/state-snapshots.md, section 2.1).
var ErrSnapshotSuspect = errors.New("the state snapshot in use failed its check")

func (v *Vault) coveredFailed(size uint64, cause error) error {
	return v.halt(fmt.Errorf("%w: the custody log's first %d events, which the state snapshot of this start covers: %v", ErrIntegrity, size, cause))
}

// refuseWhileHalted refuses, before anything is stored, work that would
// store objects ahead of its event (a deposit's ciphertext, a hash set's
// files, a new case's key) once the log is halted: the event could not be recorded, and
// write-once storage would keep the object unrecorded.
func (v *Vault) refuseWhileHalted() error {
	if err := v.log.Halted(); err != nil {
		return fmt.Errorf("%w: %w", ErrLogHalted, err)
	}
	return nil
}

// halt records that the log cannot be vouched for, stops every later
// append, and discards the snapshots so that the next start replays the
// log from event 0.
func (v *Vault) halt(err error) error {
	if errors.Is(err, ErrSnapshotSuspect) {
		// The snapshot, not the log: nothing of the log is to be put
		// back, and a start without the snapshot replays it.
		v.logger.Error("the state snapshot in use cannot be vouched for (a page of it changed on disk, before this start or while the vault ran, or could not be read): the vault stops acting; the custody log is not in question (its events are checked apart); restart the server, which discards the snapshots and replays the log from its first event, and keep this log for the incident report (docs/state-snapshots.md, section 2.1)", "err", err)
	} else {
		v.logger.Error("the custody log cannot be vouched for: the vault stops acting; check the store without the server (custos audit verify --store), put back the altered events from a backup, remove DATA/snapshots and restart (docs/operations.md, \"The custody log halted\")", "err", err)
	}
	_, aerr := v.append(context.Background(), sequencer.Draft{Type: TypeIntegrityFailed, Actor: System, Data: IntegrityFailed{Reason: err.Error()}})
	if aerr == nil {
		// A checkpoint covering the record, before the log stops: the
		// sticky head then holds it, and a database administrator who
		// removed it with the event it records would be refused at the
		// next start, as for any event a checkpoint covers.
		_, aerr = v.log.Checkpoint(context.Background())
	}
	v.log.Halt(err)
	// The next start must replay the log from event 0, and refuse it.
	if v.snaps != nil {
		v.snaps.stop(err)
		v.snaps.wait() // one being written is named before it is discarded
		names, _ := v.snaps.list()
		for _, name := range names {
			v.snaps.discard(name, err)
		}
	}
	return errors.Join(err, aerr)
}
