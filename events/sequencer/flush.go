package sequencer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
)

// outcome names what became of one attempt to write a batch.
type outcome int

const (
	// committed: the batch's events are durable and applied, and every
	// request not carried to the next batch has been answered.
	committed outcome = iota
	// retry: another writer appended first. Its events have been read
	// and applied; the batch is built again on top of them (its
	// preconditions are checked again).
	retry
	// failed: nothing of the batch is known to be stored; every request
	// is answered with the error.
	failed
	// uncertain: the store failed the append and could not then be read,
	// or showed nothing of it while saying that it may still land
	// (events.ErrOutcomeUnknown): the batch may be stored. Every request has been answered: those
	// whose events were in the append with ErrOutcomeUnknown, the others
	// (refused, or carried) as if the batch had failed. The sequencer is
	// marked broken and re-reads the store before its next write.
	uncertain
)

// maxRetries bounds how often one batch is rebuilt after conflicts. A
// conflict means another writer appended, so the log moves on with every
// retry; two writers on one store are a safety property (they never
// fork), not a way to run, so this only has to outlast bursts.
const maxRetries = 32

// answerHalted answers every request of batch with the log's halt, if it
// is halted (Halt), and reports whether it was.
func (s *Sequencer) answerHalted(batch []*request) bool {
	s.mu.RLock()
	halted := s.halted
	s.mu.RUnlock()
	if halted == nil {
		return false
	}
	answerAll(batch, fmt.Errorf("%w: %w", ErrHalted, halted))
	return true
}

// commit writes one batch, rebuilding it after conflicts, and returns the
// requests whose preconditions wait for the next batch. It runs only on
// the writer goroutine.
func (s *Sequencer) commit(batch []*request) (carry []*request) {
	ctx := context.Background()
	if s.answerHalted(batch) {
		return nil
	}
	if s.broken != nil {
		// A previous append failed in a way that left our view of the
		// store uncertain: re-read it before writing anything.
		if err := s.catchUpSealed(ctx, s.tree.Size(), nil); err != nil {
			answerAll(batch, fmt.Errorf("custody log unavailable: %w", err))
			return nil
		}
		s.setBroken(nil)
	}
	for attempt := 0; ; attempt++ {
		// What the store held may have halted the log (OnEvent, as the
		// re-read above or the last attempt's conflict read it): nothing
		// more is written.
		if s.answerHalted(batch) {
			return nil
		}
		out, carry, err := s.flush(ctx, batch)
		switch {
		case out == committed:
			return carry
		case out == uncertain:
			return nil
		case out == retry && attempt < maxRetries:
			// A short random pause, so that two writers do not keep
			// colliding in step.
			time.Sleep(time.Duration(rand.IntN(1000*(attempt+1))) * time.Microsecond)
			continue
		default:
			answerAll(batch, err)
			return nil
		}
	}
}

func (s *Sequencer) setBroken(err error) {
	s.mu.Lock()
	s.broken = err
	s.mu.Unlock()
}

func answerAll(batch []*request, err error) {
	for _, r := range batch {
		r.done <- result{err: err}
	}
}

// span is the range of a batch's events that belong to one request.
type span struct{ from, to int }

// built is a batch given its positions: every draft whose request passed
// its checks, numbered, chained and encoded.
type built struct {
	start   uint64
	recs    []events.Record
	leaves  []events.Hash
	evs     []*events.Event
	prev    events.Hash // leaf hash of the batch's last event
	spans   []span      // per request
	refused []error     // per request: a failed check or encoding
	carried []bool      // per request: waits for the next batch
	force   bool        // a request asked for a stored checkpoint
	tick    bool        // the writer's timer asked for one as due
}

// build numbers, chains and encodes a batch, evaluating each draft's
// precondition at the position it would take.
func (s *Sequencer) build(batch []*request) *built {
	b := &built{
		start: s.tree.Size(), prev: s.head,
		spans: make([]span, len(batch)), refused: make([]error, len(batch)), carried: make([]bool, len(batch)),
	}
	now := events.FormatTime(s.batchTime())
	limiter, _ := s.cfg.Store.(events.AppendLimiter)
	size, full := 0, false // of the batch, in the store's append limit
	for i, r := range batch {
		b.force = b.force || r.force
		b.tick = b.tick || r.tick
		b.spans[i].from = len(b.evs)
		if full {
			// The batch is as large as one append can be: the rest wait
			// for the next, in order.
			b.carried[i] = true
			b.spans[i].to = len(b.evs)
			continue
		}
		savePrev, saveLen := b.prev, len(b.recs)
		for _, d := range r.drafts {
			if d.Check != nil {
				// Ahead are the other requests' events: a request's own
				// drafts are one decision, appended whole or not at all.
				ahead := b.evs[:b.spans[i].from]
				if err := d.Check(ahead); errors.Is(err, ErrNotYet) && len(ahead) > 0 {
					b.carried[i] = true
					break
				} else if err != nil {
					if errors.Is(err, ErrNotYet) {
						err = fmt.Errorf("event %s: its precondition could not be decided", d.Type)
					}
					b.refused[i] = err
					break
				}
			}
			ev := &events.Event{
				V: events.Version, Seq: b.start + uint64(len(b.recs)), ID: events.NewID(),
				Type: d.Type, Time: now, Actor: d.Actor, Case: d.Case, Item: d.Item,
				Data: d.data, Prev: b.prev.String(),
			}
			raw, err := events.Encode(ev)
			if err != nil {
				b.refused[i] = err
				break
			}
			leaf := events.LeafHash(raw)
			b.recs = append(b.recs, events.Record{Seq: ev.Seq, ID: ev.ID, Case: ev.Case, Item: ev.Item, Bytes: raw})
			b.leaves = append(b.leaves, leaf)
			b.evs = append(b.evs, ev)
			b.prev = leaf
		}
		if limiter != nil && b.refused[i] == nil && !b.carried[i] {
			n := 0
			for _, rec := range b.recs[saveLen:] {
				n += limiter.AppendSize(rec)
			}
			switch limit := limiter.AppendLimit(); {
			case n > limit:
				b.refused[i] = fmt.Errorf("custody log: the request's %d events take %d bytes of the log store's append limit of %d: it cannot be stored in one append", len(b.recs)-saveLen, n, limit)
			case size+n > limit:
				b.carried[i], full = true, true
			default:
				size += n
			}
		}
		if b.refused[i] != nil || b.carried[i] {
			// A request is appended whole or not at all.
			b.prev, b.recs, b.leaves, b.evs = savePrev, b.recs[:saveLen], b.leaves[:saveLen], b.evs[:b.spans[i].from]
		}
		b.spans[i].to = len(b.evs)
	}
	return b
}

// flush makes one attempt at writing a batch: its events in one append,
// then, if one is due, a checkpoint covering them. Requests are answered
// here on success; on failure the caller answers them.
func (s *Sequencer) flush(ctx context.Context, batch []*request) (outcome, []*request, error) {
	b := s.build(batch)
	if len(b.recs) > 0 {
		s.tree.Append(b.leaves...)
		// The batch's seal: a checkpoint of the log's new size, stored
		// with the batch, so that every durable event is covered by a
		// signature of the log's key.
		seal, err := s.seal()
		if err != nil {
			s.tree.Truncate(b.start)
			return failed, nil, err
		}
		if err := s.cfg.Store.Append(ctx, b.start, b.recs, seal); err != nil {
			s.tree.Truncate(b.start)
			// Find out what the store holds now: our batch (the append
			// succeeded but its answer was lost; catchUpSealed has applied it),
			// someone else's events (a conflict: rebuild and retry), or
			// nothing reachable.
			cerr := s.catchUpSealed(ctx, b.start, b.recs)
			if errors.Is(cerr, errNothingStored) && errors.Is(err, events.ErrOutcomeUnknown) {
				// Nothing of it is visible yet, but the store could not
				// say that nothing will be (a write still in flight
				// there): uncertain. The next write re-reads the store
				// first (broken); the store's own lock or expected
				// position keeps a late write and the next one from both
				// landing at the same place.
				cerr = events.ErrOutcomeUnknown
			}
			switch {
			case cerr == nil:
			case errors.Is(cerr, errNotOurs):
				return retry, nil, fmt.Errorf("custody log: %w", err)
			case errors.Is(cerr, errNothingStored):
				return failed, nil, fmt.Errorf("custody log: %w", err)
			case errors.Is(cerr, ErrLogAltered) && s.Halted() != nil:
				// The re-read found the store holding fewer events than
				// the log, and halted it: the store's end is before this
				// batch, so nothing of it is stored, and the answer says
				// the log halted, not that the outcome is unknown.
				return failed, nil, fmt.Errorf("%w: %w", ErrHalted, cerr)
			default:
				s.setBroken(cerr)
				carried := fmt.Errorf("custody log: the write of the batch before failed: %v", err)
				if cerr == events.ErrOutcomeUnknown {
					err = fmt.Errorf("custody log: %w", err)
				} else {
					err = fmt.Errorf("custody log: %w; re-reading it: %w (%w)", err, cerr, ErrOutcomeUnknown)
				}
				for i, r := range batch {
					switch {
					case b.refused[i] != nil:
						r.done <- result{err: b.refused[i]}
					case b.carried[i]:
						r.done <- result{err: carried} // none of its events was in the append
					default:
						r.done <- result{err: err}
					}
				}
				return uncertain, nil, nil
			}
		} else {
			s.head = b.prev
			s.durable.Store(s.tree.Size())
			s.tilesDurable()
			if s.cfg.OnEvent != nil {
				for i, ev := range b.evs {
					s.cfg.OnEvent(ev, b.recs[i].Bytes)
				}
			}
		}
	}
	cp, cpErr := s.publish(ctx, b.force, b.tick)
	s.logUnpublished(cpErr)
	// An anchored request's events are kept under the sticky head before
	// it is answered, at once, whether or not a checkpoint is due: a
	// checkpoint of the durable log is signed here and kept by the head
	// writer (keepHeads), so that the next batch does not wait for it.
	var head *events.Checkpoint
	headErr := cpErr
	if cpErr == nil && (cp == nil || cp.Size < s.tree.Size()) && anchorsIn(batch, b) {
		head, headErr = s.signTree("checkpoint")
		s.logUnpublished(headErr)
	}
	var carry []*request
	var waiting []headWait
	for i, r := range batch {
		evs := b.evs[b.spans[i].from:b.spans[i].to]
		switch {
		case b.carried[i]:
			carry = append(carry, r)
		case b.refused[i] != nil:
			r.done <- result{err: b.refused[i]}
		case r.force && cpErr != nil:
			// The request's events (if any) are durable: they are
			// returned with the error, which says they are unpublished.
			r.done <- result{events: evs, err: fmt.Errorf("%w: %w", ErrUnpublished, cpErr)}
		case r.anchor && headErr != nil:
			r.done <- result{events: evs, err: fmt.Errorf("%w: %w", ErrUnpublished, headErr)}
		case r.anchor && head != nil:
			waiting = append(waiting, headWait{req: r, evs: evs})
		case r.anchor:
			// A checkpoint published with this batch covers it.
			r.done <- result{events: evs, cp: cp}
		default:
			r.done <- result{events: evs, cp: cp}
		}
	}
	if len(waiting) > 0 {
		s.queueHead(head, waiting)
	}
	return committed, carry, nil
}

// headWait is an anchored request waiting for the head writer, with its
// durable events.
type headWait struct {
	req *request
	evs []*events.Event
}

// queueHead hands a signed checkpoint and the requests it covers to the
// head writer. A checkpoint queued before it and not yet kept is
// replaced: the newer covers its requests too (the writer signs
// checkpoints of a growing log, so a later one is always the larger).
func (s *Sequencer) queueHead(cp *events.Checkpoint, waiting []headWait) {
	s.headMu.Lock()
	s.headWant = cp
	s.headWaiting = append(s.headWaiting, waiting...)
	s.headMu.Unlock()
	select {
	case s.headDue <- struct{}{}:
	default: // already woken: it takes the newest checkpoint it finds
	}
}

// writeHeads is the head writer: whenever woken, it keeps the newest
// queued checkpoint (BeforePublish) and answers the requests waiting for
// it; once more after the writer goroutine has stopped, so that Close
// leaves no request unanswered.
func (s *Sequencer) writeHeads() {
	defer close(s.headDone)
	for range s.headDue {
		s.keepHeads()
	}
	s.keepHeads()
}

func (s *Sequencer) keepHeads() {
	s.headMu.Lock()
	cp, waiting := s.headWant, s.headWaiting
	s.headWant, s.headWaiting = nil, nil
	s.headMu.Unlock()
	if cp == nil {
		return
	}
	err := s.keep(context.Background(), cp)
	s.logUnpublished(err)
	for _, w := range waiting {
		if err != nil {
			w.req.done <- result{events: w.evs, err: fmt.Errorf("%w: %w", ErrUnpublished, err)}
		} else {
			w.req.done <- result{events: w.evs, cp: cp}
		}
	}
}

// stopHeads stops the head writer after its last checkpoint. Only the
// writer goroutine calls it, as it stops.
func (s *Sequencer) stopHeads() {
	close(s.headDue)
	<-s.headDone
}

// anchorsIn reports whether a request of the batch whose events it
// appended asked for them to be anchored (AppendPublished).
func anchorsIn(batch []*request, b *built) bool {
	for i, r := range batch {
		if r.anchor && !b.carried[i] && b.refused[i] == nil {
			return true
		}
	}
	return false
}

// anchor signs a checkpoint of the durable log and keeps it (keep).
// publish calls it first.
func (s *Sequencer) anchor(ctx context.Context) (*events.Checkpoint, error) {
	cp, err := s.signTree("checkpoint")
	if err != nil {
		return nil, err
	}
	return cp, s.keep(ctx, cp)
}

// keep hands a signed checkpoint to BeforePublish (the vault's sticky
// head, beside the log and in the object store), one call at a time: the
// writer goroutine (publish) and the head writer (keepHeads) both call
// it. A checkpoint no larger than one already kept is not handed over
// again: the kept one covers its events, and the head never goes back.
func (s *Sequencer) keep(ctx context.Context, cp *events.Checkpoint) error {
	s.keepMu.Lock()
	defer s.keepMu.Unlock()
	if cp.Size <= s.kept {
		return nil
	}
	if s.cfg.BeforePublish != nil {
		if err := s.cfg.BeforePublish(ctx, cp); err != nil {
			err = fmt.Errorf("keeping checkpoint %d as the log's head: %w", cp.Size, err)
			s.keepErr.Store(&err)
			return err
		}
	}
	s.kept = cp.Size
	s.keepErr.Store(nil)
	s.publishedAgain()
	return nil
}

// HeadUnkept returns, while the last attempt to keep a checkpoint as the
// log's head (BeforePublish) failed, that failure; nil before any
// attempt and once one is kept again. While it fails, the events since
// the last kept head are covered only by the log store's batch seal:
// whoever administers the store and the keyring folder could remove them
// with it after a stop, and a start would find nothing missing. A caller
// that answers people (the vault) refuses to record their acts until a
// head is kept again: the writer retries every checkpoint interval while
// events are uncovered.
func (s *Sequencer) HeadUnkept() error {
	if p := s.keepErr.Load(); p != nil {
		return *p
	}
	return nil
}

// logUnpublished says that a checkpoint could not be published, whether
// or not a request waits for it: until one is, the events since the last
// are covered only by the log store's batch seal, and an operator must
// know. Attempts are at most one an interval, or one a request that
// waits for one; the line is written at the first failure, then at most
// once every unpublishedEvery while they last, with how many there were
// since the line before (failures), so that a failing disk does not
// flood the server's log; every failure is counted
// (CheckpointFailures).
func (s *Sequencer) logUnpublished(err error) {
	if err == nil {
		return
	}
	s.unpublishedTotal.Add(1)
	u := &s.unpublished
	u.mu.Lock()
	now := time.Now()
	u.since++
	if u.failing && now.Sub(u.last) < unpublishedEvery {
		u.mu.Unlock()
		return
	}
	n := u.since
	u.failing, u.last, u.since = true, now, 0
	u.mu.Unlock()
	s.cfg.Logger.Error("no checkpoint of the custody log could be published: the events since the last one are covered only by the log store's own batch seal, and views and package retrievals are refused until one is",
		"size", s.Size(), "failures", n, "err", err)
}

// publishedAgain says, once, that a checkpoint was kept as the log's
// head after failures logUnpublished said.
func (s *Sequencer) publishedAgain() {
	u := &s.unpublished
	u.mu.Lock()
	was, n := u.failing, u.since
	u.failing, u.since = false, 0
	u.mu.Unlock()
	if was {
		s.cfg.Logger.Info("checkpoints of the custody log are published again", "size", s.Size(), "failures_since_last_line", n)
	}
}

// unpublishedLog is the state of logUnpublished's lines.
type unpublishedLog struct {
	mu      sync.Mutex
	failing bool
	last    time.Time
	since   int // failures since the last line
}

// unpublishedEvery is how often, at most, logUnpublished writes its line
// while checkpoints keep failing.
const unpublishedEvery = 30 * time.Second

// CheckpointFailures counts the attempts to publish a checkpoint that
// failed since the sequencer opened (the /metrics counter
// custos_log_checkpoint_failures_total).
func (s *Sequencer) CheckpointFailures() uint64 { return s.unpublishedTotal.Load() }

// commitTiles writes the tiles the durable events completed, on the
// calling goroutine. A failure (a full disk) is logged: the tiles stay in
// memory and the next batch tries again; the events are durable either
// way.
func (s *Sequencer) commitTiles() {
	if err := s.tree.Commit(); err != nil {
		s.logTileError(err)
	}
}

func (s *Sequencer) logTileError(err error) {
	s.cfg.Logger.Error("the custody log's tiles could not be written; they are kept in memory and written with the next batch", "err", err)
}

// tilesDurable marks a committed batch's leaves durable and, if they
// completed full tiles, wakes the tile writer: the files are written
// beside the next batch instead of before it (a file's creation and
// rename cost about a fifth of a batch's time on the writer goroutine).
func (s *Sequencer) tilesDurable() {
	if s.tree.MarkDurable() {
		select {
		case s.tilesDue <- struct{}{}:
		default: // already woken: it writes every durable tile it finds
		}
	}
}

// writeTiles is the tile writer: it writes the durable full tiles
// whenever woken, and once more after the writer goroutine has stopped
// (stopTiles), so that Close leaves every tile of a durable event on
// disk.
func (s *Sequencer) writeTiles() {
	defer close(s.tilesDone)
	for range s.tilesDue {
		if err := s.tree.WriteDurable(); err != nil {
			s.logTileError(err)
		}
	}
	if err := s.tree.WriteDurable(); err != nil {
		s.logTileError(err)
	}
}

// stopTiles stops the tile writer after its last write. Only the writer
// goroutine calls it, as it stops.
func (s *Sequencer) stopTiles() {
	close(s.tilesDue)
	<-s.tilesDone
}

// seal signs the batch seal for the tree's current size.
func (s *Sequencer) seal() (*events.StoredCheckpoint, error) {
	cp, err := s.signTree("the batch seal")
	if err != nil {
		return nil, err
	}
	return &events.StoredCheckpoint{Size: cp.Size, Note: cp.Note, Seal: true}, nil
}

// signTree signs a checkpoint of the tree's current size; what names
// it in an error.
func (s *Sequencer) signTree(what string) (*events.Checkpoint, error) {
	end := s.tree.Size()
	root, err := s.tree.Root(end)
	if err != nil {
		return nil, err
	}
	n, err := events.SignCheckpoint(s.cfg.Signer, s.cfg.Origin, end, root)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", what, err)
	}
	return &events.Checkpoint{Origin: s.cfg.Origin, Size: end, Root: root, Note: n}, nil
}

// publish signs a checkpoint of the durable log if one is due (force,
// tick, or the checkpoint interval has passed and events are uncovered),
// hands it to BeforePublish, stores it if force or the store interval has
// passed, and returns the newest published checkpoint. A checkpoint asked
// for (force) that the newest published one answers is stored if it was
// not: a checkpoint asked for is always in the log store.
func (s *Sequencer) publish(ctx context.Context, force, tick bool) (*events.Checkpoint, error) {
	end := s.tree.Size()
	latest := s.LatestCheckpoint()
	if end == 0 {
		return latest, nil
	}
	now := s.cfg.Now()
	if latest != nil && latest.Size >= end {
		if force && s.stored < latest.Size {
			return latest, s.store(ctx, latest, now)
		}
		return latest, nil
	}
	if !force && !tick && now.Sub(s.lastSign) < s.cfg.CheckpointInterval {
		return latest, nil
	}
	// Failed attempts also wait for the interval, so that a failing
	// BeforePublish does not slow every batch.
	s.lastSign = now
	cp, err := s.anchor(ctx)
	if err != nil {
		return latest, err
	}
	if force || now.Sub(s.lastStored) >= s.cfg.StoreInterval {
		if err := s.store(ctx, cp, now); err != nil {
			if force {
				return latest, err
			}
			// A checkpoint of the interval is published without its row
			// (it is kept as the head; the next interval's store tries
			// again): the log store's failure is logged, not taken for
			// the checkpoint's.
			s.cfg.Logger.Error("a checkpoint of the custody log could not be stored in the log store; it is published and kept as the head, and the next one is stored when the store answers",
				"size", cp.Size, "err", err)
		}
	}
	s.mu.Lock()
	s.latestCP = cp
	s.mu.Unlock()
	if s.cfg.AfterPublish != nil {
		// The tile writer may not have written the newest batch's full
		// tiles yet; AfterPublish sees every one on disk (a state
		// snapshot needs them). At most one checkpoint's worth, on
		// this goroutine, once a checkpoint.
		if err := s.tree.WriteDurable(); err != nil {
			s.logTileError(err)
		}
		s.cfg.AfterPublish(cp)
	}
	return cp, nil
}

// holds reports whether the log store holds cp, as it is: a store whose
// answer was lost may have stored it, and storing it again would fail
// on its size, already taken, until events are appended.
func (s *Sequencer) holds(ctx context.Context, cp *events.Checkpoint) bool {
	found := false
	errFirst := errors.New("first read")
	err := s.cfg.Store.ReadCheckpoints(ctx, cp.Size, func(c events.StoredCheckpoint) error {
		found = c.Size == cp.Size && bytes.Equal(c.Note, cp.Note)
		return errFirst
	})
	return found && errors.Is(err, errFirst)
}

// store appends a published checkpoint of the whole durable log to the
// log store, alone.
func (s *Sequencer) store(ctx context.Context, cp *events.Checkpoint, now time.Time) error {
	if err := s.cfg.Store.Append(ctx, cp.Size, nil, &events.StoredCheckpoint{Size: cp.Size, Note: cp.Note}); err != nil && !s.holds(ctx, cp) {
		return fmt.Errorf("storing checkpoint %d: %w", cp.Size, err)
	}
	s.stored, s.lastStored = cp.Size, now
	return nil
}
