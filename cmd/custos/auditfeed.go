package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/internal/tempfiles"
	"github.com/custos-vault/custos/vault/api"
)

// An audit checks every checkpoint the log stored, and a busy vault
// stores one a second: millions over its life, about 400 bytes each. So
// an audit never holds them all. The server's answer (GET
// /v1/log/checkpoints) is read as it arrives into a spool file, and the
// store's rows (--store) a page at a time; checkpointFeed hands them to
// the engine as the replay reaches their sizes.

// readCheckpointsAnswer decodes GET /v1/log/checkpoints's answer from r
// as it arrives: the members other than the list into head, each note
// of the list, in order, to each. atList, if not nil, is called as the
// list begins when head.Newest came before it (the server writes the list
// last, so head is then whole); members after the list are read but not
// kept, so that head does not change after atList. Unknown members are
// skipped.
func readCheckpointsAnswer(r io.Reader, head *api.CheckpointsResponse, atList func(), each func([]byte) error) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	into := head
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
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

// spool keeps the notes of a checkpoints answer in a temporary file as
// they arrive, and gives them back in order: the answer is read as fast
// as the server sends it (its writes are cut after a stall), while the
// replay takes them as it reaches their sizes. The file is removed as
// soon as it is open (where the system allows; else when closed or the
// command is interrupted).
type spool struct {
	w     *os.File
	bw    *bufio.Writer
	r     *bufio.Reader
	rf    *os.File
	close func()

	mu               sync.Mutex
	cond             *sync.Cond
	written, flushed int // notes
	read             int
	done             bool
	err              error
	stopped          bool
}

// spoolFlushAt is how many bytes the spool buffers before the notes in
// them are given to its reader.
const spoolFlushAt = 32 << 10

func newSpool() (*spool, error) {
	w, err := os.CreateTemp("", "custos-audit-checkpoints-")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the vault's checkpoints: %w", err)
	}
	name := w.Name()
	rf, err := os.Open(name)
	if err != nil {
		w.Close()
		os.Remove(name)
		return nil, fmt.Errorf("a temporary file for the vault's checkpoints: %w", err)
	}
	s := &spool{w: w, bw: bufio.NewWriterSize(w, 2*spoolFlushAt), rf: rf, r: bufio.NewReaderSize(rf, 64<<10)}
	s.cond = sync.NewCond(&s.mu)
	if os.Remove(name) == nil {
		s.close = func() {}
	} else {
		untrack := tempfiles.Track(name)
		s.close = func() { os.Remove(name); untrack() }
	}
	return s, nil
}

// add appends a note; it fails once the spool is closed.
func (s *spool) add(note []byte) error {
	var n [binary.MaxVarintLen64]byte
	s.bw.Write(n[:binary.PutUvarint(n[:], uint64(len(note)))])
	s.bw.Write(note)
	s.written++
	if s.bw.Buffered() >= spoolFlushAt {
		return s.flush()
	}
	return nil
}

func (s *spool) flush() error {
	err := s.bw.Flush()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.flushed = s.written
	}
	if s.stopped {
		return errSpoolClosed
	}
	s.cond.Broadcast()
	return err
}

var errSpoolClosed = errors.New("the audit ended")

// finish marks the end of the notes: err is why they ended early (nil
// for the answer's end).
func (s *spool) finish(err error) {
	if ferr := s.flush(); err == nil && !errors.Is(ferr, errSpoolClosed) {
		err = ferr
	}
	s.mu.Lock()
	s.done, s.err = true, err
	s.cond.Broadcast()
	s.mu.Unlock()
}

// next returns the next note, waiting for it to arrive; ok is false
// after the last, err set if the answer ended early.
func (s *spool) next() (note []byte, ok bool, err error) {
	s.mu.Lock()
	for s.read == s.flushed && !s.done {
		s.cond.Wait()
	}
	if s.read == s.flushed {
		err := s.err
		s.mu.Unlock()
		return nil, false, err
	}
	s.read++
	s.mu.Unlock()
	n, err := binary.ReadUvarint(s.r)
	if err == nil && n > events.MaxCheckpointSize {
		err = fmt.Errorf("a note of %d bytes", n) // add refused it
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading back the vault's checkpoints: %w", err)
	}
	note = make([]byte, n)
	if _, err := io.ReadFull(s.r, note); err != nil {
		return nil, false, fmt.Errorf("reading back the vault's checkpoints: %w", err)
	}
	return note, true, nil
}

// stop makes the writer's next add fail and releases the files.
func (s *spool) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
}

func (s *spool) release() {
	s.w.Close()
	s.rf.Close()
	s.close()
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
}

// checkedNote is a note of the feed with its signature checked: parsed
// if it verifies, else nil (AddCheckpoint then says why); size is the
// size it states (0 if none); err ends the feed (a failed read).
type checkedNote struct {
	note   []byte
	parsed *verify.Parsed
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
				if p, err := eng.Parse(j.note); err == nil {
					c.parsed, c.size = p, p.Size()
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
				return &feedReadError{c.err}
			}
			f.ahead = &c
		}
		c := f.ahead
		if c.size > n {
			return nil
		}
		f.ahead = nil
		if c.size < eng.Size() {
			return fmt.Errorf("%s of %d events was listed after the replay passed it: the stored checkpoints are not in the order of their sizes (a checkpoint row's size column was edited)", f.label, c.size)
		}
		var err error
		if c.parsed != nil {
			err = eng.AddParsed(c.parsed, f.label)
		} else {
			err = eng.AddCheckpoint(c.note, f.label)
		}
		if err != nil {
			return err
		}
	}
}

// feedReadError is a failure to read the checkpoints (the vault's
// answer, the store): no finding of the audit.
type feedReadError struct{ err error }

func (e *feedReadError) Error() string {
	return "reading the log's checkpoints: " + e.err.Error() + "; the audit did not finish: run it again"
}
func (e *feedReadError) Unwrap() error { return e.err }

// feedErr is err as replayLog returns it: a finding (*replayError), or a
// failure to read the checkpoints as it is.
func feedErr(err error) error {
	var re *feedReadError
	if errors.As(err, &re) {
		return err
	}
	return &replayError{err}
}

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
// time-stamped one) with a feed of the list, read into a spool as the
// server sends it. head.Newest is the list's last note where the vault
// (an older one) names no newest; goal is then the largest size the list
// states.
func serverCheckpoints(c *client) (head api.CheckpointsResponse, feed *checkpointFeed, goal uint64, err error) {
	resp, err := c.get("/v1/log/checkpoints", nil)
	if err != nil {
		return head, nil, 0, err
	}
	sp, err := newSpool()
	if err != nil {
		resp.Body.Close()
		return head, nil, 0, err
	}
	var last []byte
	var largest uint64
	headReady := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		err := readCheckpointsAnswer(resp.Body, &head, func() { close(headReady) }, func(note []byte) error {
			if len(note) > events.MaxCheckpointSize {
				return fmt.Errorf("a checkpoint of %d bytes, more than a checkpoint note can be (%d)", len(note), events.MaxCheckpointSize)
			}
			last = note
			if _, size, err := events.PeekCheckpoint(note); err == nil {
				largest = max(largest, size)
			}
			return sp.add(note)
		})
		resp.Body.Close()
		if err != nil && !errors.Is(err, errSpoolClosed) {
			err = fmt.Errorf("the vault's answer was cut short or is not a list of checkpoints (%w)", err)
		}
		sp.finish(err)
		ended <- err
	}()
	stop := func() {
		sp.stop()
		resp.Body.Close()
		<-ended
		sp.release()
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
	return head, &checkpointFeed{next: sp.next, stop: stop, skip: []byte(head.Newest), label: "a stored checkpoint"}, goal, nil
}

// localCheckpoints is serverCheckpoints for a store read without the
// server (--store): its rows a page at a time, from a goroutine of its
// own. A row whose note does not state the row's size sets rowProblem
// (through report, once the rows are read).
func (l *localLog) checkpointFeed() *checkpointFeed {
	type item struct {
		note []byte
		err  error
	}
	ch := make(chan item, 256)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		err := l.r.ReadCheckpoints(ctx, 0, func(c events.StoredCheckpoint) error {
			// A row is the checkpoint of its size: a note copied over
			// another row hides what was published there, and the server
			// refuses to start on it.
			if size, ok := events.StatedSize(c.Note); (!ok || size != c.Size) && l.rowProblem == nil {
				l.rowProblem = fmt.Errorf("%s: the stored checkpoint row of size %d does not hold a checkpoint of that size: the row was altered (put back the backup's row: docs/operations.md, \"The custody log halted\")", l.path, c.Size)
			}
			select {
			case ch <- item{note: c.Note}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			ch <- item{err: fmt.Errorf("--store %s: %w", l.path, err)}
		}
	}()
	next := func() ([]byte, bool, error) {
		it, ok := <-ch
		return it.note, ok && it.err == nil, it.err
	}
	return &checkpointFeed{next: next, stop: func() { cancel(); <-done }, label: "a stored checkpoint"}
}
