// Package sequencer is the custody log's one writer. Every request's events
// go through a single goroutine that numbers them, chains each to the one
// before, appends a whole batch to the store in one call with the expected
// position (group commit), waits for durability, and only then answers the
// callers. The store's expected-position check is the concurrency control:
// two processes on one store can never fork the log.
//
// Checkpoints are signed on a timer (and on demand), never per event. A
// checkpoint is signed only once the events it covers are durable, handed
// to Config.BeforePublish (the vault keeps its sticky head there), and
// then stored.
//
// # Preconditions
//
// A decision (approve a destruction, view an item, accept a deposit) is
// only sound if its precondition holds at the position its event takes in
// the log, not a moment earlier. A Draft can carry a Check that the writer
// evaluates when it gives the draft its position, with every earlier
// durable event already passed to OnEvent; events of the same batch ahead
// of it are passed to the Check, which may answer ErrNotYet to be decided
// first thing in the next batch, once those are durable and applied.
//
// The code is in three parts: this file (the API, opening and replay),
// queue.go (the writer goroutine and its batching) and flush.go (writing
// one batch, with its named outcomes).
package sequencer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tiles"
	"github.com/custos-vault/custos/events/verify"
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
	// StoreInterval is the shortest time between two checkpoints of the
	// interval stored in the log store. Default 1 minute. Each checkpoint
	// of the interval is signed, kept (BeforePublish) and handed on
	// (AfterPublish); it is also stored if the last stored one is at
	// least this old. A checkpoint asked for (Checkpoint), and the one
	// covering the log when the writer stops, is always stored. Every
	// stored checkpoint is checked by each audit (an Ed25519 signature,
	// some 75 µs on a small server): stored every second, a vault that
	// writes a few events a second would store one for every two or
	// three events, and its audit would spend hours on them over the
	// vault's life.
	StoreInterval time.Duration
	// MaxBatch bounds the events written in one append. Default 4096.
	// A store with a size limit on appends (events.AppendLimiter) bounds
	// the batch further: it is cut between requests to fit.
	MaxBatch int
	// OnEvent, if set, is called from the writer goroutine for every event
	// that is durable, in log order: first for the whole existing log at
	// Open, then for each new event before its caller is answered. It must
	// not call back into the Sequencer, except Halt (the vault halts its
	// log when it reads another server's start): no lock of the
	// Sequencer is held while it runs.
	OnEvent func(ev *events.Event, raw []byte)
	// BeforePublish, if set, is called with each newly signed checkpoint
	// after the events it covers are durable and before the checkpoint is
	// stored or returned to anyone, one call at a time and with growing
	// sizes: on the writer goroutine for the checkpoints it publishes, and on
	// a head writer of its own for those AppendPublished waits for, so
	// that other appends go on meanwhile. A checkpoint no larger than one
	// it took already is not passed again (the larger covers it). If it
	// fails, the checkpoint is dropped (a later one is signed on the next
	// tick).
	BeforePublish func(ctx context.Context, cp *events.Checkpoint) error
	// AfterPublish, if set, is called on the writer goroutine with each
	// checkpoint it publishes, once it is kept by BeforePublish and, if
	// due (StoreInterval), stored (the vault hands it to its witnesses
	// and time-stamping authorities, and may save a state snapshot). It
	// must not block. Every full tile of the checkpoint's size has been
	// written to TileDir by then, unless writing failed (then logged),
	// so the tree's Edge is ready.
	AfterPublish func(cp *events.Checkpoint)
	// MustExtend, if set, is a checkpoint this log once had (the vault's
	// sticky head): Open refuses a log that does not extend it, before
	// anything is written or signed.
	MustExtend func(size uint64, root func(uint64) (events.Hash, error)) error
	// Anchor, if set, is a checkpoint of the log's key kept outside the
	// store (the vault's sticky head). Events it covers beyond the
	// store's seal and stored checkpoints are the writer's own, so Open
	// refuses them as a seal row rolled back (ErrSealRolledBack)
	// rather than as events someone else added.
	Anchor *events.Checkpoint
	// Now is the clock; default time.Now.
	Now func() time.Time
	// TileDir is the folder of the log's Merkle tree tiles (package
	// tiles); "" keeps the whole tree in memory.
	TileDir string
	// Logger receives what the writer cannot return to a caller (a tile
	// that could not be written). Default: discarded.
	Logger *slog.Logger
	// Resume, if set, opens the log from a state snapshot instead of
	// replaying it from its first event (docs/state-snapshots.md): the
	// tree is resumed from the snapshot's edge and the tiles in TileDir,
	// checked against the snapshot's root, and only the events after it
	// are read, checked and passed to OnEvent. Open returns an error
	// wrapping ErrResume, having applied nothing, if the snapshot does not
	// fit the log; the caller then opens without it.
	Resume *Resume
}

// Resume is where a state snapshot left the log: its size, the root of
// the tree of that size (from a signed checkpoint), the leaf hash of the
// last event it covers, and the tree's rightmost incomplete tile of each
// level (tiles.Tree.Edge).
type Resume struct {
	Size uint64
	Root events.Hash
	Head events.Hash
	Edge [][]events.Hash
}

// ErrResume is returned by Open when Config.Resume does not fit the log:
// its tiles are missing or altered, its root or head differ from the
// tree's, or the log is shorter than the snapshot.
var ErrResume = errors.New("the state snapshot does not fit the custody log")

// Draft is an event to append: everything but the fields the sequencer
// assigns (seq, id, time, prev).
type Draft struct {
	Type  string
	Actor events.Actor
	Case  string
	Item  string
	Data  any
	// Check, if set, is the event's precondition (see the package doc).
	// It runs on the writer goroutine when the draft is given its
	// position; ahead are the events of other requests of the same batch
	// before it, which are neither durable nor applied yet (the events of
	// the draft's own request before it are not passed: they are one
	// decision with it). It returns nil to append,
	// ErrNotYet if its answer could depend on an event in ahead, or any
	// other error to refuse: then nothing of the draft's request is
	// appended and Append returns that error. It must not call back into
	// the Sequencer and must be quick.
	Check func(ahead []*events.Event) error
}

// ErrNotYet is returned by a Draft's Check whose answer depends on events
// ahead of it in the same batch. The draft's request is then checked again
// first in the next batch, after those events are durable and applied.
var ErrNotYet = errors.New("precondition depends on events not yet durable")

// lingerMax bounds how long the writer waits to fill a batch: a small
// fraction of one fsync.
const lingerMax = 200 * time.Microsecond

// ErrClosed is returned by calls on a closed Sequencer.
var ErrClosed = errors.New("custody log is closed")

// ErrSealRolledBack is Open's refusal of a store
// whose seal and stored checkpoints are older than events that
// Config.Anchor covers: the writer's own events, under a seal row put
// back or checkpoint rows deleted. A restore from backup would lose
// them; the seal is put back from the anchor.
var ErrSealRolledBack = errors.New("the log store's seal row was rolled back")

// ErrLogAltered marks a log whose stored events are not the log's: an
// event that does not decode, is out of place or breaks the hash chain,
// or a stored checkpoint or seal the events do not make.
var ErrLogAltered = errors.New("the custody log store does not hold the log's events")

// ErrHalted answers every append once Halt was called; the error also
// wraps Halt's.
var ErrHalted = errors.New("custody log halted")

// ErrOutcomeUnknown marks an append whose store write failed in a way
// that leaves whether the batch was stored unknown: the store said so
// (events.ErrOutcomeUnknown), or it could not be read after the failure
// to find out. Its events may be durable, and are applied (OnEvent) when
// the log is next read. A caller must not undo what it did ahead of the
// event (a deposit's object, say) on this error.
var ErrOutcomeUnknown = events.ErrOutcomeUnknown

type request struct {
	drafts []encodedDraft
	// force asks for a checkpoint published and stored (Checkpoint, and
	// the writer as it stops); tick for one published as due, stored if
	// the store interval has passed (the writer's timer); anchor for the
	// request's events kept under the sticky head at once
	// (AppendPublished).
	force, tick, anchor bool
	done                chan result
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
	tree *tiles.Tree
	// durable is how many events the store holds for certain: the tree
	// takes a batch's leaves before the store's append (to sign the
	// batch's seal), so its size runs ahead of the store's while an
	// append is in flight. Readers bound their reads by this (Size).
	durable atomic.Uint64

	reqs    chan *request
	closeMu sync.RWMutex
	closed  bool
	stop    chan struct{}
	stopped chan struct{}
	// tilesDue wakes the tile writer (writeTiles) when a batch completed
	// full tiles; tilesDone is closed when it has written the last.
	tilesDue  chan struct{}
	tilesDone chan struct{}
	// headDue wakes the head writer (writeHeads) when an anchored
	// request's checkpoint is queued (headWant, with the requests waiting
	// for it); headDone is closed when it has kept the last.
	headDue     chan struct{}
	headDone    chan struct{}
	headMu      sync.Mutex
	headWant    *events.Checkpoint
	headWaiting []headWait
	// keepMu makes BeforePublish one call at a time; kept is the size of
	// the largest checkpoint it took.
	keepMu sync.Mutex
	kept   uint64
	// keepErr is the failure of the last attempt to keep a checkpoint as
	// the log's head, nil once one is kept (HeadUnkept).
	keepErr atomic.Pointer[error]

	// unpublished says, at most once every unpublishedEvery, that
	// checkpoints cannot be published, and once that they are again
	// (logUnpublished); unpublishedTotal counts the failures.
	unpublished      unpublishedLog
	unpublishedTotal atomic.Uint64

	mu       sync.RWMutex // guards latestCP, head, broken
	latestCP *events.Checkpoint
	head     events.Hash
	broken   error
	halted   error
	lastSign time.Time
	// lastTime is the newest batch's time, and clockBehind whether the
	// clock was found behind it (batchTime); the writer's alone.
	lastTime    time.Time
	clockBehind bool
	// stored is the size of the newest checkpoint in the log store, and
	// lastStored when the writer stored it (writer goroutine only).
	stored     uint64
	lastStored time.Time
}

// Open replays the store - checking every event's encoding, position and
// chain and every stored checkpoint's signature and root - and starts the
// writer. A log that fails these checks is not opened: the vault must not
// append to a log it cannot vouch for.
func Open(ctx context.Context, cfg Config) (*Sequencer, error) {
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = time.Second
	}
	if cfg.StoreInterval <= 0 {
		cfg.StoreInterval = time.Minute
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sequencer{
		cfg:     cfg,
		reqs:    make(chan *request, 1024),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),

		tilesDue:  make(chan struct{}, 1),
		tilesDone: make(chan struct{}),
		headDue:   make(chan struct{}, 1),
		headDone:  make(chan struct{}),
	}
	var err error
	if cfg.Resume != nil {
		err = s.resume(ctx, cfg.Resume)
	} else {
		s.tree, err = tiles.Open(cfg.TileDir)
	}
	if err != nil {
		return nil, err
	}
	s.tree.SetSource(s.leaves, s.healed)
	// From a snapshot, the checkpoints it covers were checked when their
	// events were replayed or appended; a start checks those of the
	// events it reads. audit verify checks all of them.
	from := uint64(0)
	if cfg.Resume != nil {
		from = cfg.Resume.Size
	}
	if err := s.replay(ctx); err != nil {
		return nil, err
	}
	s.durable.Store(s.tree.Size())
	if err := s.tree.Commit(); err != nil {
		return nil, fmt.Errorf("writing the log's tiles: %w", err)
	}
	if _, repaired := s.tree.Stats(); repaired > 0 {
		cfg.Logger.Warn("tiles of the custody log's Merkle tree differed from the log and were rewritten from it: someone or something altered the tile folder",
			"tiles", repaired, "folder", cfg.TileDir)
	}
	// The stored checkpoints are read after the replay, a page at a time
	// (a log holds millions over its life): one beyond the replayed events
	// shows a log cut short. (Another writer that appended since the
	// replay is refused by checkSealed too: its batch's seal is newer.)
	covered := uint64(0)
	var found error // what the checkpoints show, not a failure to read them
	err = cfg.Store.ReadCheckpoints(ctx, from, func(c events.StoredCheckpoint) error {
		cp, err := events.ParseCheckpoint(c.Note, cfg.Origin, cfg.Verifier)
		if err != nil {
			found = fmt.Errorf("stored checkpoint for size %d: %w", c.Size, err)
			return found
		}
		root, err := s.tree.Root(cp.Size)
		switch {
		case err != nil:
			found = fmt.Errorf("stored checkpoint for size %d: the log has only %d events: it was truncated or rolled back", cp.Size, s.tree.Size())
		case cp.Size != c.Size:
			found = fmt.Errorf("%w: the stored checkpoint row of size %d holds the checkpoint of size %d: the row was altered", ErrLogAltered, c.Size, cp.Size)
		case root != cp.Root:
			found = fmt.Errorf("%w: stored checkpoint for size %d does not match the log: events were altered", ErrLogAltered, cp.Size)
		}
		if found != nil {
			return found
		}
		s.latestCP = cp
		s.stored = cp.Size
		covered = max(covered, c.Size)
		return nil
	})
	switch {
	case found != nil:
		return nil, found
	case err != nil:
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	if err := s.checkSealed(ctx, covered); err != nil {
		return nil, err
	}
	if cfg.MustExtend != nil {
		if err := cfg.MustExtend(s.tree.Size(), s.tree.Root); err != nil {
			return nil, err
		}
	}
	// A clock behind the last event's time is said (clockBehind); event
	// times follow the clock all the same (custody-log.md 2.3).
	if n := s.tree.Size(); n > 0 {
		if s.lastTime, err = s.eventTime(ctx, n-1); err != nil {
			return nil, err
		}
	}
	s.lastSign = cfg.Now()
	go s.writeTiles()
	go s.writeHeads()
	go s.run()
	return s, nil
}

// eventTime is the time of the event at position seq, read from the
// store and checked against the tree.
func (s *Sequencer) eventTime(ctx context.Context, seq uint64) (time.Time, error) {
	var t time.Time
	errEnough := errors.New("enough")
	err := s.cfg.Store.Read(ctx, seq, func(r events.Record) error {
		leaf, err := s.tree.Leaf(seq)
		if err != nil {
			return err
		}
		if r.Seq != seq || events.LeafHash(r.Bytes) != leaf {
			return fmt.Errorf("%w: custody log event %d is not the one the tree holds", ErrLogAltered, seq)
		}
		ev, err := events.Decode(r.Bytes)
		if err != nil {
			return fmt.Errorf("custody log event %d: %w", seq, err)
		}
		if t, err = time.Parse(events.TimeFormat, ev.Time); err != nil {
			return fmt.Errorf("custody log event %d: its time: %w", seq, err)
		}
		return errEnough
	})
	if err != nil && !errors.Is(err, errEnough) {
		return time.Time{}, fmt.Errorf("reading the last event's time: %w", err)
	}
	return t, nil
}

// batchTime is the time of the next batch: the clock's. A clock behind
// the last batch's time (set back, or stepped back by a time server) is
// logged, once until it passes it again, naming both times: the events
// written meanwhile carry times earlier than events before them. They
// are not held at the last time: a clock that was wrong ahead and then
// put right would freeze every time after it, and with them each
// session's and request's lifetime, until the clock caught up.
func (s *Sequencer) batchTime() time.Time {
	now := s.cfg.Now()
	switch {
	case now.Before(s.lastTime.Add(-clockSlack)):
		if !s.clockBehind {
			s.clockBehind = true
			s.cfg.Logger.Warn("the clock is behind the custody log's last event: the events written now carry earlier times than those before them (their order is their position in the log); check the server's clock and who changed it",
				"clock", events.FormatTime(now), "last_event", events.FormatTime(s.lastTime))
		}
	case !now.Before(s.lastTime):
		s.clockBehind = false
		s.lastTime = now
	}
	return now
}

// clockSlack is how far behind the last event's time the clock may be
// without a warning (a time server's small corrections).
const clockSlack = time.Second

// leaves reads the leaf hashes of n events from position from, for a
// tile the tree found missing or altered on disk (tiles.LeafSource).
func (s *Sequencer) leaves(from uint64, n int) ([]events.Hash, error) {
	out := make([]events.Hash, 0, n)
	errEnough := errors.New("enough")
	err := s.cfg.Store.Read(context.Background(), from, func(r events.Record) error {
		if r.Seq != from+uint64(len(out)) {
			return fmt.Errorf("%w: custody log event %d: found at position %d", ErrLogAltered, from+uint64(len(out)), r.Seq)
		}
		out = append(out, events.LeafHash(r.Bytes))
		if len(out) == n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// healed logs a tile the tree found missing or altered, and whether the
// log's events rebuilt it.
func (s *Sequencer) healed(tile string, ok bool, err error) {
	if ok {
		s.cfg.Logger.Warn("a tile of the custody log's Merkle tree was missing or altered on disk and was rebuilt from the log: someone or something altered the tile folder",
			"tile", tile, "found", err.Error())
		return
	}
	s.cfg.Logger.Error("a tile of the custody log's Merkle tree is missing or altered on disk and the log's events do not rebuild it", "tile", tile, "err", err.Error())
}

// resume sets up the tree and the chain's head from a state snapshot,
// having checked them against the snapshot's root and the store's size.
func (s *Sequencer) resume(ctx context.Context, r *Resume) error {
	if r.Size == 0 {
		return fmt.Errorf("%w: it covers no events", ErrResume)
	}
	tree, err := tiles.Resume(s.cfg.TileDir, r.Size, r.Edge)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrResume, err)
	}
	tree.SetSource(s.leaves, s.healed)
	root, err := tree.Root(r.Size)
	if err != nil {
		return fmt.Errorf("%w: the tree's tiles: %v", ErrResume, err)
	}
	if root != r.Root {
		return fmt.Errorf("%w: the tree's tiles give another root for size %d", ErrResume, r.Size)
	}
	if head, err := tree.Leaf(r.Size - 1); err != nil || head != r.Head {
		return fmt.Errorf("%w: the last event it covers is not the one in the tree", ErrResume)
	}
	n, err := s.cfg.Store.Size(ctx)
	if err != nil {
		return fmt.Errorf("custody log: %w", err)
	}
	if n < r.Size {
		return fmt.Errorf("%w: it covers %d events but the log holds %d", ErrResume, r.Size, n)
	}
	// The store's event there must be the one the snapshot covers: a log
	// restored from another history is replayed, not resumed.
	if last, err := s.leaves(r.Size-1, 1); err != nil || len(last) != 1 || last[0] != r.Head {
		return fmt.Errorf("%w: the log's event %d is not the one it covers (the log was restored or rewritten)", ErrResume, r.Size-1)
	}
	s.tree, s.head = tree, r.Head
	return nil
}

// replay reads the store at Open from the tree's size (0, or a
// snapshot's), checks each record as the continuation of the tree, and
// applies it.
func (s *Sequencer) replay(ctx context.Context) error {
	return s.cfg.Store.Read(ctx, s.tree.Size(), func(r events.Record) error {
		ev, leaf, err := continues(r, s.tree.Size(), s.head)
		if err != nil {
			return err
		}
		s.tree.Append(leaf)
		s.head = leaf
		if s.cfg.OnEvent != nil {
			s.cfg.OnEvent(ev, r.Bytes)
		}
		if s.tree.Size()%replayCommit == 0 {
			// Write full tiles as the replay goes, so that memory stays
			// flat however long the log.
			return s.tree.Commit()
		}
		return nil
	})
}

// continues checks a stored record as the event at position pos, after
// the event whose leaf hash is head, and returns it decoded with its leaf
// hash.
func continues(r events.Record, pos uint64, head events.Hash) (*events.Event, events.Hash, error) {
	ev, err := verify.DecodeEvent(r.Bytes)
	if err != nil {
		return nil, events.Hash{}, fmt.Errorf("%w: custody log event %d: %w", ErrLogAltered, r.Seq, err)
	}
	if ev.Seq != pos || r.Seq != pos {
		return nil, events.Hash{}, fmt.Errorf("%w: custody log: the event stored at position %d states position %d, where event %d was expected: events were removed, inserted, reordered or copied", ErrLogAltered, r.Seq, ev.Seq, pos)
	}
	if ev.PrevHash() != head {
		if ev.Seq == 0 {
			return nil, events.Hash{}, fmt.Errorf("%w: custody log event 0: hash chain broken (its prev is not all zeros)", ErrLogAltered)
		}
		return nil, events.Hash{}, fmt.Errorf("%w: custody log event %d: hash chain broken (event %d altered, this event's record of its hash altered, or an event removed or inserted before it)", ErrLogAltered, ev.Seq, ev.Seq-1)
	}
	return ev, events.LeafHash(r.Bytes), nil
}

var errNotOurs = errors.New("another writer appended first")

// errNothingStored: the log ends where the writer thought; its failed
// append left nothing.
var errNothingStored = errors.New("nothing of the batch was stored")

// Append appends drafts as consecutive events, atomically, and returns them
// once they are durable.
func (s *Sequencer) Append(ctx context.Context, drafts ...Draft) ([]*events.Event, error) {
	req, err := newRequest(drafts)
	if err != nil {
		return nil, err
	}
	r, err := s.submit(ctx, req)
	return r.events, err
}

// newRequest encodes drafts' data for the writer.
func newRequest(drafts []Draft) (*request, error) {
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
	return req, nil
}

// AppendPublished is Append for an event that releases what it records
// (plaintext served, a package handed over): it returns once the events
// are durable and a signed checkpoint covering them was handed to
// BeforePublish (the vault keeps it as its sticky head, beside the log
// and in the object store), at once rather than at the next interval;
// requests of one batch share it. Until then, events are covered only by
// the batch's seal, kept in the log store itself: whoever administers
// that store and the keyring folder could remove them after a crash,
// with the seal, and a start would find nothing missing. The checkpoint
// is not stored in the log store or served as the latest (the next
// interval's covers it), so that views do not fill the log store with
// checkpoints every audit must check.
//
// If the events are durable but the checkpoint could not be published,
// it returns them with an error wrapping ErrUnpublished: the events stand
// (the state has them), and the caller must not act on them.
func (s *Sequencer) AppendPublished(ctx context.Context, drafts ...Draft) ([]*events.Event, *events.Checkpoint, error) {
	req, err := newRequest(drafts)
	if err != nil {
		return nil, nil, err
	}
	req.anchor = true
	r, err := s.submit(ctx, req)
	return r.events, r.cp, err
}

// ErrUnpublished is wrapped by AppendPublished's error when its events
// are durable but no checkpoint covering them could be published.
var ErrUnpublished = errors.New("the custody log's checkpoint covering the events could not be published")

// Checkpoint returns a signed checkpoint covering every event appended
// before the call, issuing a new one if needed. It fails if the new
// checkpoint could not be published (BeforePublish or the store failed).
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

// Halt stops every later append for good, answering each with err: the
// caller found that the log it resumed from cannot be vouched for (a
// check of the events a state snapshot covers failed). Only a restart,
// which checks the log again, lifts it.
func (s *Sequencer) Halt(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted == nil {
		s.halted = err
	}
}

// Halted returns what Halt was called with, or nil while the log takes
// appends.
func (s *Sequencer) Halted() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.halted
}

// Size returns the number of durable events: those the store holds and
// has acknowledged, never a batch whose append is still in flight (the
// tree's size may already count it).
func (s *Sequencer) Size() uint64 { return s.durable.Load() }

// Tree gives read access to the Merkle tree of the durable events.
func (s *Sequencer) Tree() *tiles.Tree { return s.tree }

// replayCommit is how many replayed events are appended to the tree
// between writes of its full tiles.
const replayCommit = 1 << 16

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

// errUnsealed is returned for events no signature of the log's key
// covers.
var errUnsealed = errors.New("not sealed by this log's key")

// parseSeal verifies a stored seal as a checkpoint of this log.
func (s *Sequencer) parseSeal(c *events.StoredCheckpoint) (*events.Checkpoint, error) {
	cp, err := events.ParseCheckpoint(c.Note, s.cfg.Origin, s.cfg.Verifier)
	if err != nil {
		return nil, fmt.Errorf("the log's seal for size %d: %w", c.Size, err)
	}
	if cp.Size != c.Size {
		return nil, fmt.Errorf("the log's seal is stored for size %d but signs size %d", c.Size, cp.Size)
	}
	return cp, nil
}

// checkSealed refuses a replayed log whose last events no signature of
// the log's key covers: every batch this log's writers append carries a
// seal, and a writer's published checkpoints cover the rest, so an
// uncovered tail was added by someone with write access to the store,
// not by the vault.
func (s *Sequencer) checkSealed(ctx context.Context, covered uint64) error {
	n := s.tree.Size()
	stored, err := s.cfg.Store.Seal(ctx)
	if err != nil {
		return fmt.Errorf("reading the log's seal: %w", err)
	}
	if stored != nil {
		cp, err := s.parseSeal(stored)
		if err != nil {
			return err
		}
		if cp.Size > n {
			// A batch that landed after the replay read the log's end:
			// the last write of a writer that stopped with it on the way
			// to the store's server, as a commit held by a synchronous
			// standby is. Its events are read now and checked against
			// the seal, as a running writer checks a write whose answer
			// it lost; a log truly cut short is refused there.
			if err := s.catchUpSealed(ctx, n, nil); err != nil {
				return fmt.Errorf("reading the events stored since the replay, up to the log's seal: %w", err)
			}
			if s.tree.Size() < cp.Size {
				// The seal read again is older, or gone, and the log no
				// longer: a seal never goes back, so the store was
				// altered between the two reads.
				return fmt.Errorf("%w: the log's seal covered %d events, then, read again during the start, %d", ErrLogAltered, cp.Size, s.tree.Size())
			}
			return nil
		}
		root, err := s.tree.Root(cp.Size)
		if err != nil || root != cp.Root {
			return fmt.Errorf("%w: the log's seal for size %d does not match the log: events were altered", ErrLogAltered, cp.Size)
		}
		covered = max(covered, cp.Size)
	}
	if n > covered {
		if a := s.cfg.Anchor; a != nil && a.Size > covered && a.Size <= n {
			if root, err := s.tree.Root(a.Size); err == nil && root == a.Root {
				beyond := ""
				if a.Size < n {
					// The head is published after its batches are sealed:
					// events after it were sealed by the rows rolled back,
					// or added since; nothing the vault still holds tells.
					beyond = fmt.Sprintf("; events %d to %d, after the sticky head, are covered by no signature the store or the vault still holds: once the seal is put back, the next start refuses them as events it cannot vouch for", a.Size, n-1)
				}
				return fmt.Errorf("%w: the log store's seal and stored checkpoints cover %d events, but events %d to %d are under the vault's sticky head (a checkpoint of %d events its key signed, kept outside the store): they are the vault's own, and the store's seal or checkpoint rows were rolled back or deleted by someone with write access to it%s. "+
					"Do not restore an older backup of the log store or accept a rollback (either would lose them); put the seal back from the sticky head (docs/operations.md, \"A seal row rolled back\") and keep this message for the incident report", ErrSealRolledBack, covered, covered, a.Size-1, a.Size, beyond)
			}
		}
		return fmt.Errorf("custody log events %d to %d are %w: they were added by someone with write access to the log store, not by the vault; restore the log store from backup (and compare it with the auditors' saved checkpoints)", covered, n-1, errUnsealed)
	}
	return nil
}

// catchUpSealed brings the tree and the state up to the store's newest
// seal, for a writer that found the log longer than it thought (another
// writer appended, or its own append's answer was lost). Records are
// checked as the continuation of the tree and against the seal's root
// before any is applied: events that no seal of the log's key covers are
// never applied, and are reported (errUnsealed). ours are records this
// writer tried to append; errNotOurs reports that the store holds others
// at their positions.
func (s *Sequencer) catchUpSealed(ctx context.Context, from uint64, ours []events.Record) error {
	// The size is read before the seal: a write that lands between the
	// two reads (our own, whose answer was lost, landing late) then shows
	// a newer seal, never events beyond an older one. Read the other way
	// round, its events would look unsealed, as if added by someone with
	// write access. A batch and its seal are stored together, and a seal
	// never goes back, so events beyond a seal read after the size are
	// unsealed indeed.
	n, err := s.cfg.Store.Size(ctx)
	if err != nil {
		return err
	}
	if n < from {
		// The log held from events, each written and acknowledged,
		// before this read: the store holds fewer. Nothing is appended
		// at a position the log already took (it would fork the log
		// under the acknowledged events): the log halts, and the next
		// start names what its checks find (the sticky head, the seal).
		err := fmt.Errorf("%w: the log store holds %d events, fewer than the %d the log holds: events were removed from it while the server ran", ErrLogAltered, n, from)
		s.Halt(err)
		s.cfg.Logger.Error("the custody log halted: its store lost events the vault had written and acknowledged; nothing more is appended (docs/operations.md, \"The custody log halted\")", "err", err)
		return err
	}
	stored, err := s.cfg.Store.Seal(ctx)
	if err != nil {
		return err
	}
	sealed := from // what a signature covers: the tree, or the seal beyond it
	if stored != nil {
		sealed = max(from, stored.Size)
	}
	if n > sealed {
		return fmt.Errorf("custody log events %d to %d are %w: they were added by someone with write access to the log store, not by the vault", sealed, n-1, errUnsealed)
	}
	if sealed == from {
		if len(ours) > 0 {
			return errNothingStored
		}
		return nil
	}
	seal, err := s.parseSeal(stored)
	if err != nil {
		return err
	}
	var recs []events.Record
	var evs []*events.Event
	var leaves []events.Hash
	head := s.head
	errEnough := errors.New("enough")
	err = s.cfg.Store.Read(ctx, from, func(r events.Record) error {
		pos := from + uint64(len(recs))
		if pos >= seal.Size {
			return errEnough
		}
		ev, leaf, err := continues(r, pos, head)
		if err != nil {
			return err
		}
		head = leaf
		recs, evs, leaves = append(recs, r), append(evs, ev), append(leaves, leaf)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	if from+uint64(len(recs)) != seal.Size {
		return fmt.Errorf("the log's seal covers %d events but only %d are stored: it was truncated", seal.Size, from+uint64(len(recs)))
	}
	s.tree.Append(leaves...)
	if root, err := s.tree.Root(seal.Size); err != nil || root != seal.Root {
		s.tree.Truncate(from)
		return fmt.Errorf("custody log events %d to %d do not match the log's seal: %w", from, seal.Size-1, errUnsealed)
	}
	s.commitTiles()
	s.head = head
	s.durable.Store(s.tree.Size())
	found := 0
	for i, r := range recs {
		if found == i && found < len(ours) && ours[found].ID == r.ID && bytes.Equal(ours[found].Bytes, r.Bytes) {
			found++
		}
		if s.cfg.OnEvent != nil {
			s.cfg.OnEvent(evs[i], r.Bytes)
		}
	}
	if len(ours) > 0 && found != len(ours) {
		return errNotOurs
	}
	return nil
}
