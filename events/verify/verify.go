// Package verify is the custody log's audit engine. It replays a log's
// stored event bytes from position 0, checks each event's encoding, sequence
// number and hash chain, rebuilds the RFC 6962 tree, checks every signed
// checkpoint against the tree of its size, and - given a checkpoint saved
// earlier, outside the vault - proves that the log still extends it.
//
// It depends only on package events, the transparency-log libraries and a
// fast JSON parser (decode.go), so any auditor's tool can import it
// without the server. The offline verifier, custos-verify, does not
// import it: it reads packages, not whole logs, and decodes with the
// standard library alone.
package verify

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/custos-vault/custos/events"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// Problem describes the first discrepancy found: the position at which the
// log stops being what it claims, and what is wrong there.
type Problem struct {
	Seq    uint64
	Reason string
	// Checkpoint is the size of the checkpoint given (AddCheckpoint) that
	// the log does not extend, where that is the problem (0 otherwise).
	Checkpoint uint64
}

func (p *Problem) Error() string { return fmt.Sprintf("event %d: %s", p.Seq, p.Reason) }

// Result summarises a replay that found nothing wrong.
type Result struct {
	Events      uint64
	Root        events.Hash
	Checkpoints int
	// Latest is the checkpoint of the greatest size that was checked.
	Latest *events.Checkpoint
}

// Covered returns an error unless a checked checkpoint covers every
// replayed event (docs/custody-log.md section 7, step 6): events after
// the newest checkpoint are signed for by nobody an auditor can check.
func (r *Result) Covered() error {
	if r.Latest == nil || r.Latest.Size != r.Events {
		return fmt.Errorf("no signed checkpoint covers the whole log (%d events)", r.Events)
	}
	return nil
}

type pendingCheckpoint struct {
	cp     *events.Checkpoint
	source string
}

// Engine replays one log. Give it the checkpoints to check with
// AddCheckpoint before the replay passes their size, feed it every event in
// order with Add or AddBatch, then call Finish. It keeps only the compact
// range of the tree (O(log n) hashes), so it replays logs of any length in
// constant memory.
type Engine struct {
	origin   string
	verifier note.Verifier

	rng     *compact.Range
	prev    events.Hash
	pending []pendingCheckpoint // sorted by size, not yet reached
	checked int
	latest  *events.Checkpoint
	failed  error
	onEvent func(*events.Event)
}

// OnEvent sets f to be called with each event the replay accepts, in log
// order, on the goroutine that calls Add or AddBatch: a caller that
// checks more of each event (an auditor's check of the store's lookup
// values) uses the engine's decoding instead of decoding again. The
// event's strings share one allocation (events.ParseCanonicalPacked):
// f copies any it keeps beyond the call (strings.Clone), or the whole
// event's text stays in memory with it.
func (e *Engine) OnEvent(f func(*events.Event)) { e.onEvent = f }

var factory = compact.RangeFactory{Hash: events.HashChildren}

// New returns an engine for the log with the given origin whose
// checkpoints are signed by verifier.
func New(origin string, verifier note.Verifier) *Engine {
	return &Engine{origin: origin, verifier: verifier, rng: factory.NewEmptyRange(0)}
}

// Goal returns the greatest size of any checkpoint given so far, checked
// or still to be reached: how many events the replay must reach for
// every checkpoint to be checked (a log that ends sooner fails Finish).
func (e *Engine) Goal() uint64 {
	var g uint64
	if e.latest != nil {
		g = e.latest.Size
	}
	if n := len(e.pending); n > 0 {
		g = max(g, e.pending[n-1].cp.Size)
	}
	return g
}

// Size returns the number of events replayed so far.
func (e *Engine) Size() uint64 { return e.rng.End() }

// AddCheckpoint verifies a signed checkpoint's signature and queues it: its
// root is compared with the replayed tree when the replay reaches its size.
// source says where it came from ("stored checkpoint 12", "--checkpoint
// FILE"), so that a mismatch names it.
func (e *Engine) AddCheckpoint(b []byte, source string) error {
	cp, err := events.ParseCheckpoint(b, e.origin, e.verifier)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	return e.addParsed(cp, source)
}

// Parsed is a checkpoint that Engine.Parse read and verified, for that
// engine's AddParsed.
type Parsed struct {
	e  *Engine
	cp *events.Checkpoint
}

// Size is the checkpoint's size, in events.
func (p *Parsed) Size() uint64 { return p.cp.Size }

// Parse reads and verifies a signed checkpoint as AddCheckpoint does
// (events.ParseCheckpoint, with the engine's origin and verifier), and
// nothing else: it touches no state of the replay, so it may run on any
// goroutine, beside Add, AddBatch and other calls of Parse. A log stores
// a checkpoint a second, and checking a signature costs more than
// replaying an event: a caller with many checks them ahead of the
// replay, then gives them to AddParsed. An error is AddCheckpoint's
// without its source.
func (e *Engine) Parse(b []byte) (*Parsed, error) {
	cp, err := events.ParseCheckpoint(b, e.origin, e.verifier)
	if err != nil {
		return nil, err
	}
	return &Parsed{e: e, cp: cp}, nil
}

// AddParsed queues a checkpoint Parse gave, as AddCheckpoint queues one.
// One that another engine parsed is refused.
func (e *Engine) AddParsed(p *Parsed, source string) error {
	if p == nil || p.e != e {
		return fmt.Errorf("%s: a checkpoint this replay did not check", source)
	}
	return e.addParsed(p.cp, source)
}

func (e *Engine) addParsed(cp *events.Checkpoint, source string) error {
	if cp.Size < e.Size() {
		return fmt.Errorf("%s: checkpoint for size %d given after the replay passed it", source, cp.Size)
	}
	// Kept sorted by size, a later one of equal size after the earlier:
	// checkpoints usually come in order, so this is an append.
	at := sort.Search(len(e.pending), func(i int) bool { return e.pending[i].cp.Size > cp.Size })
	e.pending = slices.Insert(e.pending, at, pendingCheckpoint{cp, source})
	return e.reach()
}

// reach checks every queued checkpoint whose size the replay has reached.
func (e *Engine) reach() error {
	for len(e.pending) > 0 && e.pending[0].cp.Size == e.Size() {
		p := e.pending[0]
		e.pending = e.pending[1:]
		root, err := e.root()
		if err != nil {
			return e.fail(&Problem{Seq: p.cp.Size, Reason: err.Error()})
		}
		if root != p.cp.Root {
			// The newest checkpoint that matched narrows where: its events
			// are the log's, so the fault is among those after it.
			where := fmt.Sprintf("events before position %d", p.cp.Size)
			fork := ""
			if e.latest != nil && e.latest.Size > 0 && e.latest.Size < p.cp.Size {
				where = fmt.Sprintf("events %d to %d (the checkpoint of the first %d events matched)", e.latest.Size, p.cp.Size-1, e.latest.Size)
				// The matched checkpoint narrows it only if both are of
				// one history: a log rewritten from an earlier event on,
				// whose checkpoints the vault's key signed again, matches
				// its own checkpoints and not one saved before.
				fork = fmt.Sprintf("; or, if the vault's key also signed the checkpoints of a rewritten log, the two histories part anywhere before event %d", p.cp.Size)
			}
			return e.fail(&Problem{Seq: p.cp.Size, Checkpoint: p.cp.Size, Reason: fmt.Sprintf(
				"%s commits to root %x for the first %d events, but the replayed log has root %x: %s were altered, removed, inserted or reordered%s",
				p.source, p.cp.Root[:8], p.cp.Size, root[:8], where, fork)})
		}
		e.checked++
		e.latest = p.cp
	}
	return nil
}

func (e *Engine) root() (events.Hash, error) {
	var root events.Hash
	if e.Size() == 0 {
		copy(root[:], events.Hasher.EmptyRoot())
		return root, nil
	}
	h, err := e.rng.GetRootHash(nil)
	copy(root[:], h)
	return root, err
}

func (e *Engine) fail(err error) error {
	if e.failed == nil {
		e.failed = err
	}
	return e.failed
}

// decoded is one event checked in isolation: parsed, canonical, hashed.
type decoded struct {
	ev   *events.Event
	leaf events.Hash
	prev events.Hash // ev's prev, decoded beside the leaf hash
	err  error
}

func decodeOne(b []byte) decoded {
	ev, err := decodePacked(b)
	if err != nil {
		return decoded{err: err}
	}
	return decoded{ev: ev, leaf: events.LeafHash(b), prev: ev.PrevHash()}
}

// Add replays the next event's stored bytes.
func (e *Engine) Add(b []byte) error {
	if e.failed != nil {
		return e.failed
	}
	return e.link(decodeOne(b))
}

// AddBatch replays consecutive events. Decoding and hashing, the costly
// part, run on every core in chunks; the calling goroutine checks the
// chain and extends the tree chunk by chunk as soon as each is decoded, so
// the sequential part overlaps the parallel one.
func (e *Engine) AddBatch(bs [][]byte) error {
	if e.failed != nil {
		return e.failed
	}
	const chunk = 512
	out := make([]decoded, len(bs))
	nchunks := (len(bs) + chunk - 1) / chunk
	ready := make([]chan struct{}, nchunks)
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	var next atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	for w := 0; w < min(runtime.GOMAXPROCS(0), nchunks); w++ {
		go func() {
			for {
				c := int(next.Add(1) - 1)
				if c >= nchunks {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
				for i := c * chunk; i < min(len(bs), (c+1)*chunk); i++ {
					out[i] = decodeOne(bs[i])
				}
				close(ready[c])
			}
		}()
	}
	for c := 0; c < nchunks; c++ {
		<-ready[c]
		for i := c * chunk; i < min(len(bs), (c+1)*chunk); i++ {
			if err := e.link(out[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *Engine) link(d decoded) error {
	seq := e.Size()
	if d.err != nil {
		return e.fail(&Problem{Seq: seq, Reason: d.err.Error()})
	}
	if d.ev.Seq != seq {
		return e.fail(&Problem{Seq: seq, Reason: fmt.Sprintf(
			"event claims position %d: events were removed, inserted or reordered", d.ev.Seq)})
	}
	if d.prev != e.prev {
		// Copies made here alone: a hash the message formats escapes to
		// the heap, which an event that chains must not pay for.
		prev := d.prev
		if seq == 0 {
			return e.fail(&Problem{Seq: seq, Reason: fmt.Sprintf("prev is %x, but the first event's prev is all zeros: the chain is broken", prev[:8])})
		}
		if e.latest != nil && e.latest.Size == seq {
			// The checkpoint just matched commits to event seq-1 as it
			// is: the break is event seq's own.
			return e.fail(&Problem{Seq: seq, Reason: fmt.Sprintf(
				"it records %x as the hash of the event before it, but event %d, which the checkpoint of the first %d events commits to as it is, hashes to %x: event %d was altered (or an event was inserted at its position)",
				prev[:8], seq-1, seq, e.prev[:8], seq)})
		}
		// Named by the event before the break: an edited event keeps its
		// position and breaks the chain at the next one.
		return e.fail(&Problem{Seq: seq - 1, Reason: fmt.Sprintf(
			"its bytes hash to %x, but event %d records %x as the hash of the event before it: the chain is broken between events %d and %d (event %d altered, event %d's record of it altered, or an event removed or inserted there)",
			e.prev[:8], seq, prev[:8], seq-1, seq, seq-1, seq)})
	}
	// The tree keeps the slice it is given: the leaf gets 32 bytes of
	// its own, not a move of d to the heap.
	leaf := d.leaf
	if err := e.rng.Append(leaf[:], nil); err != nil {
		return e.fail(&Problem{Seq: seq, Reason: err.Error()})
	}
	e.prev = d.leaf
	if e.onEvent != nil {
		e.onEvent(d.ev)
	}
	return e.reach()
}

// Finish ends the replay. It fails if a checkpoint commits to more events
// than the log has: the log was truncated or rolled back to an older copy.
func (e *Engine) Finish() (*Result, error) {
	if e.failed != nil {
		return nil, e.failed
	}
	if len(e.pending) > 0 {
		// Name the checkpoint that commits to the most events, so that
		// the events named missing are all those known to be.
		p := e.pending[len(e.pending)-1]
		others := ""
		if n := len(e.pending) - 1; n == 1 {
			others = fmt.Sprintf(" (and 1 other checkpoint, to %d)", e.pending[0].cp.Size)
		} else if n > 1 {
			others = fmt.Sprintf(" (and %d other checkpoints, to between %d and %d)", n, e.pending[0].cp.Size, e.pending[n-1].cp.Size)
		}
		return nil, e.fail(&Problem{Seq: e.Size(), Checkpoint: p.cp.Size, Reason: fmt.Sprintf(
			"the log ends after %d events, but %s commits to %d%s: %s missing; the log was truncated or rolled back",
			e.Size(), p.source, p.cp.Size, others, eventSpan(e.Size(), p.cp.Size-1))})
	}
	root, err := e.root()
	if err != nil {
		return nil, err
	}
	return &Result{Events: e.Size(), Root: root, Checkpoints: e.checked, Latest: e.latest}, nil
}

// eventSpan names the events from through to as missing: "event 5 is",
// "events 5 to 9 are".
func eventSpan(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("event %d is", from)
	}
	return fmt.Sprintf("events %d to %d are", from, to)
}

// CheckGenesis checks the first event of a log: it must decode, be of
// type log.opened, and name the origin and the note verifier key that an
// auditor was given (docs/custody-log.md section 7, step 3), so that a
// vault cannot swap keys under an auditor who pinned none.
func CheckGenesis(b []byte, origin, key string) error {
	o, k, err := GenesisKey(b)
	if err != nil {
		return err
	}
	if k != key || o != origin {
		return errors.New("event 0 does not open this log with this key (a log.opened event naming its origin and key)")
	}
	return nil
}

// GenesisKey returns the origin and the checkpoint key that a log's first
// event (log.opened, custody-log.md section 8) names; an error if b is
// not such an event.
func GenesisKey(b []byte) (origin, key string, err error) {
	ev, err := DecodeEvent(b)
	if err != nil {
		return "", "", fmt.Errorf("event 0: %v", err)
	}
	var d struct {
		Origin        string `json:"origin"`
		CheckpointKey string `json:"checkpoint_key"`
	}
	if ev.Seq != 0 || ev.Type != "log.opened" || ev.DecodeData(&d) != nil || d.Origin == "" || d.CheckpointKey == "" {
		return "", "", errors.New("event 0 does not open a log (a log.opened event naming its origin and key)")
	}
	return d.Origin, d.CheckpointKey, nil
}
