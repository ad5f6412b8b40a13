// Package sequencer is the custody log's one writer. Every request's events
// go through a single goroutine that numbers them, chains each to the one
// before, appends a whole batch to the store in one call with the expected
// position (group commit), waits for durability, and only then answers the
// callers. The store's expected-position check is the concurrency control:
// two processes on one store can never fork the log.
//
// Checkpoints are signed per batch on a timer (and on demand), never per
// event, and are stored in the same atomic append as the batch they cover.
package sequencer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"golang.org/x/mod/sumdb/note"
)

// Config configures a Sequencer.
type Config struct {
	Store    events.Store
	Origin   string
	Signer   note.Signer
	Verifier note.Verifier
	// CheckpointInterval is the longest an appended event waits to be
	// covered by a signed checkpoint. Default 1s.
	CheckpointInterval time.Duration
	// MaxBatch bounds the events written in one append. Default 4096.
	MaxBatch int
	// OnEvent, if set, is called from the writer goroutine for every event
	// that is durable, in log order: first for the whole existing log at
	// Open, then for each new event before its caller is answered. It must
	// not call back into the Sequencer.
	OnEvent func(ev *events.Event, raw []byte)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Draft is an event to append: everything but the fields the sequencer
// assigns (seq, id, time, prev).
type Draft struct {
	Type  string
	Actor events.Actor
	Case  string
	Item  string
	Data  any
}

// lingerMax bounds how long the writer waits to fill a batch: a small
// fraction of one fsync.
const lingerMax = 200 * time.Microsecond

// ErrClosed is returned by calls on a closed Sequencer.
var ErrClosed = errors.New("custody log is closed")

type request struct {
	drafts []encodedDraft
	force  bool
	done   chan result
}

type encodedDraft struct {
	Draft
	data json.RawMessage
}

type result struct {
	events []*events.Event
	cp     *events.Checkpoint
	err    error
}

// Sequencer appends events to a custody log. It is safe for concurrent use.
type Sequencer struct {
	cfg  Config
	tree events.Tree

	reqs    chan *request
	closeMu sync.RWMutex
	closed  bool
	stop    chan struct{}
	stopped chan struct{}

	mu       sync.RWMutex // guards latestCP, head, broken
	latestCP *events.Checkpoint
	head     events.Hash
	broken   error
	lastSign time.Time
}

// Open replays the store - checking every event's encoding, position and
// chain and every stored checkpoint's signature and root - and starts the
// writer. A log that fails these checks is not opened: the vault must not
// append to a log it cannot vouch for.
func Open(ctx context.Context, cfg Config) (*Sequencer, error) {
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = time.Second
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sequencer{
		cfg:     cfg,
		reqs:    make(chan *request, 1024),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	cps, err := cfg.Store.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	if err := s.catchUp(ctx, 0, nil); err != nil {
		return nil, err
	}
	for _, c := range cps {
		cp, err := events.ParseCheckpoint(c.Note, cfg.Origin, cfg.Verifier)
		if err != nil {
			return nil, fmt.Errorf("stored checkpoint for size %d: %w", c.Size, err)
		}
		root, err := s.tree.Root(cp.Size)
		if err != nil {
			return nil, fmt.Errorf("stored checkpoint for size %d: the log has only %d events: it was truncated or rolled back", cp.Size, s.tree.Size())
		}
		if root != cp.Root || cp.Size != c.Size {
			return nil, fmt.Errorf("stored checkpoint for size %d does not match the log: events were altered", cp.Size)
		}
		s.latestCP = cp
	}
	s.lastSign = cfg.Now()
	go s.run()
	return s, nil
}

// catchUp reads the store from position from, verifies each record as the
// continuation of the tree, and applies it. ours are records this writer
// tried to append; it reports how many of them it found stored.
func (s *Sequencer) catchUp(ctx context.Context, from uint64, ours []events.Record) error {
	found := 0
	err := s.cfg.Store.Read(ctx, from, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err != nil {
			return fmt.Errorf("custody log event %d: %w", r.Seq, err)
		}
		size := s.tree.Size()
		if ev.Seq != size || r.Seq != size {
			return fmt.Errorf("custody log event %d: found at position %d, expected %d", ev.Seq, r.Seq, size)
		}
		if ev.PrevHash() != s.head {
			return fmt.Errorf("custody log event %d: hash chain broken", ev.Seq)
		}
		if found == int(r.Seq-from) && found < len(ours) && ours[found].ID == r.ID && bytes.Equal(ours[found].Bytes, r.Bytes) {
			found++
		}
		leaf := events.LeafHash(r.Bytes)
		s.tree.Append(leaf)
		s.head = leaf
		if s.cfg.OnEvent != nil {
			s.cfg.OnEvent(ev, r.Bytes)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(ours) > 0 && found != len(ours) {
		return errNotOurs
	}
	return nil
}

var errNotOurs = errors.New("another writer appended first")

// Append appends drafts as consecutive events, atomically, and returns them
// once they are durable.
func (s *Sequencer) Append(ctx context.Context, drafts ...Draft) ([]*events.Event, error) {
	req := &request{done: make(chan result, 1)}
	for _, d := range drafts {
		data, err := json.Marshal(d.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", d.Type, err)
		}
		if d.Data == nil {
			data = json.RawMessage("{}")
		}
		req.drafts = append(req.drafts, encodedDraft{Draft: d, data: data})
	}
	r, err := s.submit(ctx, req)
	return r.events, err
}

// Checkpoint returns a signed checkpoint covering every event appended
// before the call, issuing a new one if needed.
func (s *Sequencer) Checkpoint(ctx context.Context) (*events.Checkpoint, error) {
	r, err := s.submit(ctx, &request{force: true, done: make(chan result, 1)})
	return r.cp, err
}

func (s *Sequencer) submit(ctx context.Context, req *request) (result, error) {
	// closeMu makes "not closed" and "queued" one step, so that a request
	// can never be queued after the writer has drained the queue and left.
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return result{}, ErrClosed
	}
	select {
	case s.reqs <- req:
		s.closeMu.RUnlock()
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return result{}, ctx.Err()
	}
	// Once submitted, the request is answered even if ctx ends: the caller
	// must learn whether its events became durable.
	r := <-req.done
	return r, r.err
}

// Size returns the number of durable events.
func (s *Sequencer) Size() uint64 { return s.tree.Size() }

// Tree gives read access to the Merkle tree of the durable events.
func (s *Sequencer) Tree() *events.Tree { return &s.tree }

// LatestCheckpoint returns the newest signed checkpoint, or nil.
func (s *Sequencer) LatestCheckpoint() *events.Checkpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.latestCP
}

// Close stops the writer after answering what was submitted, signing a
// final checkpoint if events are not yet covered by one.
func (s *Sequencer) Close() error {
	s.closeMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.stop)
	}
	s.closeMu.Unlock()
	<-s.stopped
	return nil
}

func (s *Sequencer) run() {
	defer close(s.stopped)
	timer := time.NewTimer(s.cfg.CheckpointInterval)
	defer timer.Stop()
	lastBatch := 0
	for {
		var first *request
		select {
		case first = <-s.reqs:
		case <-timer.C:
			if s.uncovered() {
				s.commit([]*request{{force: true, done: make(chan result, 1)}})
			}
			timer.Reset(s.cfg.CheckpointInterval)
			continue
		case <-s.stop:
			s.drain()
			return
		}
		batch := []*request{first}
		n := len(first.drafts)
		// Group commit: take everything already queued. If the previous
		// batch was bigger, its callers are probably re-submitting right
		// now; linger briefly for them rather than commit a small batch
		// and make them wait a whole fsync.
		linger := time.NewTimer(lingerMax)
	fill:
		for n < s.cfg.MaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
				n += len(r.drafts)
				continue
			default:
			}
			if len(batch) >= lastBatch/2 {
				break fill
			}
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
				n += len(r.drafts)
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		lastBatch = len(batch)
		s.commit(batch)
	}
}

// drain answers requests still queued at Close, then covers the tail.
func (s *Sequencer) drain() {
	for {
		select {
		case r := <-s.reqs:
			s.commit([]*request{r})
		default:
			if s.uncovered() {
				s.commit([]*request{{force: true, done: make(chan result, 1)}})
			}
			return
		}
	}
}

func (s *Sequencer) uncovered() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cp := s.latestCP
	return s.broken == nil && s.tree.Size() > 0 && (cp == nil || cp.Size < s.tree.Size())
}

// commit writes one batch. It runs only on the writer goroutine.
func (s *Sequencer) commit(batch []*request) {
	ctx := context.Background()
	if s.broken != nil {
		// A previous append failed in a way that left our view of the
		// store uncertain: re-read it before writing anything.
		if err := s.catchUp(ctx, s.tree.Size(), nil); err != nil {
			answerAll(batch, fmt.Errorf("custody log unavailable: %w", err))
			return
		}
		s.setBroken(nil)
	}
	for attempt := 0; ; attempt++ {
		err, retry := s.tryCommit(ctx, batch)
		if err == nil {
			return
		}
		if !retry || attempt == 3 {
			answerAll(batch, err)
			return
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

// tryCommit encodes and appends the batch once. It answers the requests
// itself on success; on failure it reports whether a retry may succeed.
func (s *Sequencer) tryCommit(ctx context.Context, batch []*request) (error, bool) {
	start := s.tree.Size()
	now := events.FormatTime(s.cfg.Now())
	prev := s.head
	var recs []events.Record
	var leaves []events.Hash
	type span struct{ from, to int }
	spans := make([]span, len(batch))
	evs := make([]*events.Event, 0, len(batch))
	bad := make([]error, len(batch))
	force := false
	for i, r := range batch {
		force = force || r.force
		spans[i].from = len(evs)
		savePrev, saveRecs := prev, len(recs)
		for _, d := range r.drafts {
			ev := &events.Event{
				V: events.Version, Seq: start + uint64(len(recs)), ID: events.NewID(),
				Type: d.Type, Time: now, Actor: d.Actor, Case: d.Case, Item: d.Item,
				Data: d.data, Prev: prev.String(),
			}
			b, err := events.Encode(ev)
			if err != nil {
				bad[i] = err
				break
			}
			leaf := events.LeafHash(b)
			recs = append(recs, events.Record{Seq: ev.Seq, ID: ev.ID, Case: ev.Case, Item: ev.Item, Bytes: b})
			leaves = append(leaves, leaf)
			evs = append(evs, ev)
			prev = leaf
		}
		if bad[i] != nil {
			prev, recs, leaves, evs = savePrev, recs[:saveRecs], leaves[:saveRecs], evs[:spans[i].from]
		}
		spans[i].to = len(evs)
	}

	s.tree.Append(leaves...)
	end := s.tree.Size()
	var stored *events.StoredCheckpoint
	var signed *events.Checkpoint
	latest := s.LatestCheckpoint()
	needCP := end > 0 && (latest == nil || latest.Size < end) &&
		(force || s.cfg.Now().Sub(s.lastSign) >= s.cfg.CheckpointInterval)
	if needCP {
		root, err := s.tree.Root(end)
		if err == nil {
			var n []byte
			n, err = events.SignCheckpoint(s.cfg.Signer, s.cfg.Origin, end, root)
			signed = &events.Checkpoint{Origin: s.cfg.Origin, Size: end, Root: root, Note: n}
			stored = &events.StoredCheckpoint{Size: end, Note: n}
		}
		if err != nil {
			s.tree.Truncate(start)
			return fmt.Errorf("signing checkpoint: %w", err), false
		}
	}
	if len(recs) > 0 || stored != nil {
		if err := s.cfg.Store.Append(ctx, start, recs, stored); err != nil {
			s.tree.Truncate(start)
			// Find out what the store holds now: our batch (the append
			// succeeded but its answer was lost), someone else's events
			// (a conflict: re-encode and retry), or nothing reachable.
			cerr := s.catchUp(ctx, start, recs)
			switch {
			case cerr == nil && len(recs) > 0:
				// Everything of ours is stored. The checkpoint may not be;
				// the timer will issue another.
				stored, signed = nil, nil
			case errors.Is(cerr, errNotOurs):
				return fmt.Errorf("custody log: %w", err), true
			case cerr != nil:
				s.setBroken(cerr)
				return fmt.Errorf("custody log: %w", err), false
			default:
				return fmt.Errorf("custody log: %w", err), errors.Is(err, events.ErrConflict)
			}
		} else {
			s.head = prev
			if s.cfg.OnEvent != nil {
				for i, ev := range evs {
					s.cfg.OnEvent(ev, recs[i].Bytes)
				}
			}
		}
	}
	if signed != nil {
		s.mu.Lock()
		s.latestCP = signed
		s.mu.Unlock()
		s.lastSign = s.cfg.Now()
	}
	cp := s.LatestCheckpoint()
	for i, r := range batch {
		if bad[i] != nil {
			r.done <- result{err: bad[i]}
			continue
		}
		r.done <- result{events: evs[spans[i].from:spans[i].to], cp: cp}
	}
	return nil, false
}
