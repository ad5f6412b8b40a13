package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/exportdir"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/vault/api"
)

// An audit checks every checkpoint the log stored: millions over a
// vault's life (up to one a minute besides those asked for; one a second
// in logs written before), about 400 bytes each. So
// an audit never holds them all. The server's answer (GET
// /v1/log/checkpoints) is read as it arrives into a bounded queue, and the
// store's rows (--store) a page at a time; checkpointFeed hands them to
// the engine as the replay reaches their sizes.

// readCheckpointsAnswer decodes GET /v1/log/checkpoints's answer from r
// as it arrives: the members other than the list into head, each note
// of the list, in order, to each. atList, if not nil, is called as the
// list begins when head.Newest came before it (the server writes the list
// last, so head is then whole); members after the list are read but not
// kept, so that head does not change after atList. Unknown members are
// skipped; a member named twice is refused. Names are matched exactly, as
// the server writes them (encoding/json would also take "Checkpoints").
func readCheckpointsAnswer(r io.Reader, head *api.CheckpointsResponse, atList func(), each func([]byte) error) error {
	ahead := &boundedValues{r: r, limit: maxAnswerValue}
	dec := json.NewDecoder(ahead)
	ahead.dec = dec
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	into := head
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if seen[key] {
			// Undefined in JSON (RFC 8259 section 4): a second list
			// could add to or stand for the first.
			return fmt.Errorf("its member %q comes twice", key)
		}
		if len(seen) < 64 {
			seen[key] = true
		}
		var v any
		switch key {
		case "checkpoints":
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok == nil {
				continue // null: no list
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("its checkpoints are not a list")
			}
			if atList != nil && into.Newest != "" {
				atList()
				atList = nil
				into = &api.CheckpointsResponse{}
			}
			for dec.More() {
				var s string
				if err := dec.Decode(&s); err != nil {
					return fmt.Errorf("a checkpoint of its list: %w", err)
				}
				if err := each([]byte(s)); err != nil {
					return err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return err
			}
			continue
		case "newest":
			v = &into.Newest
		case "witnessed":
			v = &into.Witnessed
		case "witnesses":
			v = &into.Witnesses
		case "timestamped":
			v = &into.Timestamped
		case "timestamps":
			v = &into.Timestamps
		default:
			v = new(json.RawMessage)
		}
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("its member %q: %w", key, err)
		}
	}
	return expectDelim(dec, '}')
}

// maxAnswerValue bounds one value of a checkpoints answer as the decoder
// holds it: a note is at most 4 KiB (events.MaxCheckpointSize), six
// times that as a JSON string at worst, and the witnesses' states are a
// few hundred bytes each.
const maxAnswerValue = 1 << 20

// boundedValues reads for a json.Decoder and fails once the decoder holds
// more than limit bytes it has not yet consumed: json.Decoder reads a
// whole value before it can be refused, and a server that sends one
// string without end would otherwise have the audit hold all of it.
type boundedValues struct {
	r     io.Reader
	dec   *json.Decoder
	read  int64
	limit int64
}

func (b *boundedValues) Read(p []byte) (int, error) {
	if b.read-b.dec.InputOffset() > b.limit {
		return 0, fmt.Errorf("a value of more than %d bytes, which no answer of a vault holds", b.limit)
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v where %q was expected", tok, want)
	}
	return nil
}

// noteQueue holds the notes of a checkpoints answer between the
// goroutine that reads the answer and the replay that takes them, at
// most noteQueueBytes of them: the reader waits when it is full, and so
// does the server's write behind it. The server cuts a write that waits
// longer than its stall limit (30 s by default), which a full queue could
// cause only if the replay took that long to pass the few hundred
// checkpoints a write holds while tens of thousands were queued ahead of
// it: at this machine's 250,000 events a second, a log of some 10^9
// events with a checkpoint only every 50,000, not a vault's.
//
// An older server's answer lists the checkpoints before naming the
// newest, which the audit needs before it reads the events: its queue is
// not bounded (what that server sent, the audit held before this queue).
type noteQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	notes   [][]byte
	bytes   int
	bounded bool
	done    bool
	err     error
	stopped bool
}

// noteQueueBytes bounds what a noteQueue holds: about 20,000 notes.
const noteQueueBytes = 8 << 20

func newNoteQueue() *noteQueue {
	q := &noteQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// add queues a note, waiting while the queue is full; it fails once the
// queue is stopped.
func (q *noteQueue) add(note []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.bounded && q.bytes >= noteQueueBytes && !q.stopped {
		q.cond.Wait()
	}
	if q.stopped {
		return errQueueStopped
	}
	q.notes = append(q.notes, note)
	q.bytes += len(note)
	q.cond.Broadcast()
	return nil
}

var errQueueStopped = errors.New("the audit ended")

// finish marks the end of the notes: err is why they ended early (nil
// for the answer's end).
func (q *noteQueue) finish(err error) {
	q.mu.Lock()
	q.done, q.err = true, err
	q.cond.Broadcast()
	q.mu.Unlock()
}

// next returns the next note, waiting for it to arrive; ok is false
// after the last, err set if the answer ended early.
func (q *noteQueue) next() (note []byte, ok bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.notes) == 0 && !q.done {
		q.cond.Wait()
	}
	if len(q.notes) == 0 {
		return nil, false, q.err
	}
	note = q.notes[0]
	q.notes[0] = nil
	q.notes = q.notes[1:]
	q.bytes -= len(note)
	q.cond.Broadcast()
	return note, true, nil
}

// bound makes add wait while the queue is full.
func (q *noteQueue) bound() {
	q.mu.Lock()
	q.bounded = true
	q.mu.Unlock()
}

// stop makes add fail from now on, waiting or not.
func (q *noteQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// checkpointFeed hands the stored checkpoints of an audit to the engine
// as the replay reaches their sizes (upto), holding one read ahead.
// Notes come from next in the order the vault (or the store) lists them,
// which is the order of their sizes; one equal to skip (the newest,
// given to the engine before the replay) is passed over once. Their
// signatures are checked ahead of the replay on a goroutine per core
// (Engine.Parse), started by the first upto: a checkpoint's signature
// costs as much as replaying 20 to 30 events here, and a busy vault
// stores a checkpoint for every two or three.
type checkpointFeed struct {
	next  func() ([]byte, bool, error)
	stop  func()
	skip  []byte
	label string

	checked chan chan checkedNote // in the list's order, each answered once checked
	quit    chan struct{}
	exited  chan struct{}
	ahead   *checkedNote
	ended   bool
	// lastSize and lastNote are the last checkpoint given, if listed.
	lastSize uint64
	lastNote []byte
	listed   bool
}

// checkedNote is a note of the feed with its signature checked: parsed
// if it verifies, else perr says why; size is the size it states (0 if
// none); err ends the feed (a failed read, or a rowFinding).
type checkedNote struct {
	note   []byte
	parsed *verify.Parsed
	perr   error
	size   uint64
	err    error
}

// feedAhead is how many checked checkpoints wait for the replay: about
// 400 KiB of notes.
const feedAhead = 1024

// start reads the notes on a goroutine that hands each to the checkers
// (one a core) and queues a place for its outcome, in order, for upto.
func (f *checkpointFeed) start(eng *verify.Engine) {
	f.checked = make(chan chan checkedNote, feedAhead)
	f.quit = make(chan struct{})
	f.exited = make(chan struct{})
	type job struct {
		note []byte
		out  chan checkedNote
	}
	jobs := make(chan job, feedAhead)
	var checkers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		checkers.Add(1)
		go func() {
			defer checkers.Done()
			for j := range jobs {
				c := checkedNote{note: j.note}
				if c.parsed, c.perr = eng.Parse(j.note); c.perr == nil {
					c.size = c.parsed.Size()
				} else if _, size, err := events.PeekCheckpoint(j.note); err == nil {
					c.size = size
				}
				j.out <- c // buffered: never waits
			}
		}()
	}
	go func() {
		defer close(f.exited)
		defer checkers.Wait()
		defer close(jobs)
		defer close(f.checked)
		skip := f.skip
		for {
			note, ok, err := f.next()
			if err != nil || !ok {
				if err != nil {
					out := make(chan checkedNote, 1)
					out <- checkedNote{err: err}
					select {
					case f.checked <- out:
					case <-f.quit:
					}
				}
				return
			}
			if skip != nil && string(note) == string(skip) {
				skip = nil
				continue
			}
			j := job{note: note, out: make(chan checkedNote, 1)}
			select {
			case f.checked <- j.out:
			case <-f.quit:
				return
			}
			jobs <- j // a checker takes it: jobs holds as many as checked
		}
	}()
}

// upto gives the engine every checkpoint of the feed whose size is at
// most n (and any whose size cannot be read: the engine says why).
func (f *checkpointFeed) upto(eng *verify.Engine, n uint64) error {
	if f.checked == nil {
		f.start(eng)
	}
	for {
		if f.ahead == nil {
			if f.ended {
				return nil
			}
			out, ok := <-f.checked
			if !ok {
				f.ended = true
				return nil
			}
			c := <-out
			if c.err != nil {
				f.ended = true
				var rf *rowFinding
				if errors.As(c.err, &rf) {
					return rf.err
				}
				return &feedReadError{c.err}
			}
			f.ahead = &c
		}
		c := f.ahead
		if c.size > n {
			return nil
		}
		f.ahead = nil
		if c.perr != nil {
			// As AddCheckpoint words it.
			return fmt.Errorf("%s: %w", f.label, c.perr)
		}
		// A log stores one checkpoint a size, and lists them by size: a
		// list that repeats or goes back (rows whose unsigned size column
		// was edited, or an answer that sends one note over and over) is
		// refused, which also bounds what the engine queues.
		switch {
		case f.listed && c.size == f.lastSize && string(c.note) != string(f.lastNote):
			return fmt.Errorf("two different checkpoints of %d events were listed: the log's key signed two trees of that size (a fork), or a checkpoint row was altered", c.size)
		case f.listed && c.size <= f.lastSize:
			return fmt.Errorf("%s of %d events was listed after one of %d: the stored checkpoints are repeated or not in the order of their sizes (a checkpoint row's size column was edited)", f.label, c.size, f.lastSize)
		}
		// (One listed after the replay passed its size cannot come here:
		// sizes rise, and upto holds back any beyond the batch; the engine
		// refuses it too.)
		f.listed, f.lastSize, f.lastNote = true, c.size, c.note
		if err := eng.AddParsed(c.parsed, f.label); err != nil {
			return err
		}
	}
}

// rowFinding is what a checkpoint row shows, passed through the feed as
// its end: a finding, not a failure to read.
type rowFinding struct{ err error }

func (e *rowFinding) Error() string { return e.err.Error() }

// feedReadError is a failure to read the checkpoints (the vault's
// answer, the store): the audit fails on it, saying it did not finish.
type feedReadError struct{ err error }

func (e *feedReadError) Error() string {
	return "reading the log's checkpoints: " + e.err.Error() + "; the audit did not finish: run it again"
}
func (e *feedReadError) Unwrap() error { return e.err }

// rest gives the engine every checkpoint left.
func (f *checkpointFeed) rest(eng *verify.Engine) error {
	return f.upto(eng, 1<<64-1)
}

// close stops the feed's reading and checking, and waits for them.
func (f *checkpointFeed) close() {
	if f.quit != nil {
		close(f.quit)
	}
	if f.stop != nil {
		f.stop()
	}
	if f.exited != nil {
		<-f.exited
	}
}

// serverCheckpoints asks the vault for its checkpoints and returns the
// members before the list (head: the newest, the witnessed and
// time-stamped one) with a feed of the list, read into a bounded queue as the
// server sends it. head.Newest is the list's last note where the vault
// (an older one) names no newest; goal is then the largest size the list
// states.
func serverCheckpoints(c *client) (head api.CheckpointsResponse, feed *checkpointFeed, goal uint64, err error) {
	resp, err := c.get("/v1/log/checkpoints", nil)
	if err != nil {
		return head, nil, 0, err
	}
	q := newNoteQueue()
	var last []byte
	var largest uint64
	headReady := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		err := readCheckpointsAnswer(resp.Body, &head, func() { q.bound(); close(headReady) }, func(note []byte) error {
			if len(note) > events.MaxCheckpointSize {
				return fmt.Errorf("a checkpoint of %d bytes, more than a checkpoint note can be (%d)", len(note), events.MaxCheckpointSize)
			}
			last = note
			if _, size, err := events.PeekCheckpoint(note); err == nil {
				largest = max(largest, size)
			}
			return q.add(note)
		})
		resp.Body.Close()
		if err != nil && !errors.Is(err, errQueueStopped) {
			err = fmt.Errorf("the vault's answer was cut short or is not a list of checkpoints (%w)", err)
		}
		q.finish(err)
		ended <- err
	}()
	stop := func() {
		q.stop()
		resp.Body.Close()
		<-ended
	}
	select {
	case <-headReady:
		// A vault that names its newest checkpoint lists none beyond it.
		_, goal, _ = events.PeekCheckpoint([]byte(head.Newest))
	case err := <-ended:
		ended <- err // for stop
		if err != nil {
			stop()
			return head, nil, 0, fmt.Errorf("reading the log's checkpoints: %w", err)
		}
		// An older vault: the list came first, whole.
		if head.Newest == "" {
			head.Newest = string(last)
		}
		goal = largest
	}
	return head, &checkpointFeed{next: q.next, stop: stop, skip: []byte(head.Newest), label: "a stored checkpoint"}, goal, nil
}

// checkpointFeed is serverCheckpoints' feed for a store read without
// the server (--store): its rows up to goal, a page at a time
// (events.CheckpointCursor). A row whose note does not state the row's
// size ends the feed with that finding (rowFinding).
func (l *localLog) checkpointFeed(goal uint64) *checkpointFeed {
	cur := events.OpenCheckpointCursor(context.Background(), l.r, 0)
	next := func() ([]byte, bool, error) {
		c, err := cur.Peek()
		var altered *exportdir.Altered
		switch {
		case errors.As(err, &altered):
			// A checkpoint file of an export folder that no export
			// writes: a finding, not a failure to read.
			return nil, false, &rowFinding{altered}
		case err != nil:
			return nil, false, fmt.Errorf("--store %s: %w", l.path, err)
		case c == nil || c.Size > goal:
			// Rows past goal were stored since the audit began (a
			// PostgreSQL store is read page by page, as it stands): for
			// the next audit.
			return nil, false, nil
		}
		cur.Take()
		// A row is the checkpoint of its size: a note copied over another
		// row hides what was published there, and the server refuses to
		// start on it.
		if size, ok := events.StatedSize(c.Note); !ok || size != c.Size {
			return nil, false, &rowFinding{fmt.Errorf("%s: the stored checkpoint row of size %d does not hold a checkpoint of that size: the row was altered (put back the backup's row: docs/operations.md, \"The custody log halted\")", l.path, c.Size)}
		}
		return c.Note, true, nil
	}
	return &checkpointFeed{next: next, stop: cur.Close, label: "a stored checkpoint"}
}
