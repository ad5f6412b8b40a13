package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/vault/api"
	"golang.org/x/mod/sumdb/note"
)

// TestReadCheckpointsAnswer: the answer is read in either member order
// (the server's, list last, and an older server's, list first); head is
// whole when atList runs, and not changed after it; unknown members and
// a null list are passed over; what is not such an answer is refused.
func TestReadCheckpointsAnswer(t *testing.T) {
	type result struct {
		head    api.CheckpointsResponse
		atList  bool
		headAt  api.CheckpointsResponse
		notes   []string
		failure string
	}
	read := func(s string) result {
		var r result
		err := readCheckpointsAnswer(strings.NewReader(s), &r.head, func() { r.atList, r.headAt = true, r.head }, func(b []byte) error {
			r.notes = append(r.notes, string(b))
			return nil
		})
		if err != nil {
			r.failure = err.Error()
		}
		return r
	}
	r := read(`{"newest":"n3","witnessed":"w","timestamps":["t"],"future":{"a":[1,2]},"checkpoints":["n1","n2","n3"],"after":"x","timestamped":"late"}`)
	if r.failure != "" || !r.atList || r.headAt.Newest != "n3" || r.headAt.Witnessed != "w" || len(r.headAt.Timestamps) != 1 || strings.Join(r.notes, ",") != "n1,n2,n3" {
		t.Fatalf("the server's order: %+v", r)
	}
	if r.head.Timestamped != "" {
		t.Fatalf("a member after the list changed head: %+v", r.head)
	}
	r = read(`{"checkpoints":["n1","n2"],"witnessed":"w"}`)
	if r.failure != "" || r.atList || r.head.Witnessed != "w" || strings.Join(r.notes, ",") != "n1,n2" {
		t.Fatalf("an older server's order: %+v", r)
	}
	r = read(`{"newest":"n1","checkpoints":null}`)
	if r.failure != "" || r.head.Newest != "n1" || len(r.notes) != 0 {
		t.Fatalf("a null list: %+v", r)
	}
	for _, bad := range []string{``, `[]`, `{"checkpoints":{}}`, `{"checkpoints":["a"],"checkpoints":["b"]}`, `{"newest":"a","newest":"b","checkpoints":[]}`, `{"checkpoints":[1]}`, `{"checkpoints":["a"`, `{"newest":5,"checkpoints":[]}`, `{"checkpoints":[]`} {
		if r := read(bad); r.failure == "" {
			t.Errorf("%q was read as an answer: %+v", bad, r)
		}
	}
}

// TestReadCheckpointsAnswerBoundsAValue: a string without end, in the
// list or in a member before it, is refused once the reader holds about
// maxAnswerValue of it, not read whole.
func TestReadCheckpointsAnswerBoundsAValue(t *testing.T) {
	for _, prefix := range []string{`{"newest":"n","checkpoints":["`, `{"future":"`} {
		r := &countingReader{r: io.MultiReader(strings.NewReader(prefix), endless('x'))}
		var head api.CheckpointsResponse
		err := readCheckpointsAnswer(r, &head, nil, func([]byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "a value of more than") {
			t.Fatalf("%s...: %v", prefix, err)
		}
		if r.n > 3*maxAnswerValue {
			t.Fatalf("%s...: %d bytes read before the refusal", prefix, r.n)
		}
	}
}

type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzReadCheckpointsAnswer: any bytes give an answer or an error, and
// an answer's notes are those encoding/json reads from the same bytes.
func FuzzReadCheckpointsAnswer(f *testing.F) {
	f.Add([]byte(`{"newest":"n3","checkpoints":["n1","n2","n3"]}`))
	f.Add([]byte(`{"checkpoints":["a\u00e9\n"],"witnesses":[{"name":"w"}]}`))
	f.Add([]byte(`{"checkpoints":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var head api.CheckpointsResponse
		var notes []string
		if err := readCheckpointsAnswer(bytes.NewReader(b), &head, nil, func(n []byte) error {
			notes = append(notes, string(n))
			return nil
		}); err != nil {
			return
		}
		// The member named exactly "checkpoints" (encoding/json would
		// also take another case), which the reader refuses to see twice.
		var members map[string]json.RawMessage
		if err := json.Unmarshal(b, &members); err != nil {
			// The stream stops at the answer's end: bytes after it, which
			// Unmarshal refuses, are not read.
			return
		}
		var list []string
		if raw, ok := members["checkpoints"]; ok {
			if err := json.Unmarshal(raw, &list); err != nil {
				t.Fatalf("the reader took %q, encoding/json refuses its list: %v", b, err)
			}
		}
		if strings.Join(notes, "\x00") != strings.Join(list, "\x00") {
			t.Fatalf("notes %q, encoding/json reads %q", notes, list)
		}
	})
}

// TestNoteQueueGivesBackWhatArrives: notes added by one goroutine come
// back whole and in order to another, which waits for them; once bound,
// the queue never holds more than noteQueueBytes and a note, its writer
// waiting meanwhile; the end and an error are passed on.
func TestNoteQueueGivesBackWhatArrives(t *testing.T) {
	q := newNoteQueue()
	q.bound()
	const n = 40000
	note := func(i int) []byte { return []byte(fmt.Sprintf("note %d %s", i, strings.Repeat("x", 400+i%700))) }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			if err := q.add(note(i)); err != nil {
				t.Error(err)
				return
			}
		}
		q.finish(io.ErrUnexpectedEOF)
	}()
	most := 0
	for i := range n {
		if i%1000 == 0 {
			// Let the writer run ahead as far as it may: until it waits
			// at the bound, or has added its last note (a bound in time
			// for a broken queue only; a loaded machine takes its time).
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				q.mu.Lock()
				full, done := q.bytes >= noteQueueBytes, q.done
				q.mu.Unlock()
				if full || done {
					break
				}
			}
		}
		q.mu.Lock()
		most = max(most, q.bytes)
		q.mu.Unlock()
		b, ok, err := q.next()
		if !ok || err != nil {
			t.Fatalf("note %d: %v %v", i, ok, err)
		}
		if string(b) != string(note(i)) {
			t.Fatalf("note %d: %.40q", i, b)
		}
	}
	if _, ok, err := q.next(); ok || err != io.ErrUnexpectedEOF {
		t.Fatalf("after the last: %v %v", ok, err)
	}
	wg.Wait()
	if most > noteQueueBytes+2000 || most < noteQueueBytes {
		t.Fatalf("the queue held at most %d bytes, its bound %d: want the bound reached, and at most one note past it", most, noteQueueBytes)
	}
}

// TestNoteQueueStopsItsWriter: a writer waiting on a full queue, and any
// add after, fail once the audit stops reading.
func TestNoteQueueStopsItsWriter(t *testing.T) {
	q := newNoteQueue()
	q.bound()
	failed := make(chan error, 1)
	go func() {
		for {
			if err := q.add(bytes.Repeat([]byte{'x'}, 4000)); err != nil {
				failed <- err
				return
			}
		}
	}()
	for {
		q.mu.Lock()
		full := q.bytes >= noteQueueBytes
		q.mu.Unlock()
		if full {
			break
		}
		time.Sleep(time.Millisecond)
	}
	q.stop()
	if err := <-failed; err != errQueueStopped {
		t.Fatalf("a waiting add after stop: %v", err)
	}
	if err := q.add([]byte("x")); err != errQueueStopped {
		t.Fatalf("an add after stop: %v", err)
	}
}

// TestFeedGivesCheckpointsAsTheReplayReachesThem: the engine is given
// each checkpoint before the replay passes its size and not long before
// (one read ahead), the newest given earlier is passed over once, and a
// list out of the order of its sizes is a finding that names it.
func TestFeedGivesCheckpointsAsTheReplayReachesThem(t *testing.T) {
	skey, vkey, _ := note.GenerateKey(rand.Reader, "custos.test")
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	var raws [][]byte
	var notes [][]byte
	var prev events.Hash
	tree := &events.Tree{}
	for i := range 40 {
		ev := &events.Event{V: events.Version, Seq: uint64(i), ID: events.NewID(), Type: "view", Time: events.FormatTime(time.Now()), Actor: events.Actor{Person: "p", Role: "auditor", Auth: "token"}, Prev: prev.String(), Data: json.RawMessage(`{}`)}
		raw, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
		prev = events.LeafHash(raw)
		tree.Append(prev)
		if i%4 == 3 {
			root, err := tree.Root(tree.Size())
			if err != nil {
				t.Fatal(err)
			}
			cp, err := events.SignCheckpoint(signer, "custos.test", tree.Size(), root)
			if err != nil {
				t.Fatal(err)
			}
			notes = append(notes, cp)
		}
	}
	feedOf := func(list [][]byte, skip []byte) (*checkpointFeed, *int) {
		i := 0
		read := &i
		return &checkpointFeed{label: "a stored checkpoint", skip: skip, next: func() ([]byte, bool, error) {
			if *read == len(list) {
				return nil, false, nil
			}
			*read++
			return list[*read-1], true, nil
		}}, read
	}
	replay := func(f *checkpointFeed, eng *verify.Engine, batch int, check func(read int)) error {
		for from := 0; from < len(raws); from += batch {
			to := min(from+batch, len(raws))
			if err := f.upto(eng, uint64(to)); err != nil {
				return err
			}
			if check != nil {
				check(from)
			}
			if err := eng.AddBatch(raws[from:to]); err != nil {
				return err
			}
		}
		return f.rest(eng)
	}
	// Each checkpoint is given before the replay reaches its size, none
	// sooner.
	eng := verify.New("custos.test", verifier)
	f, _ := feedOf(notes, nil)
	err := replay(f, eng, 6, func(from int) {
		if to := uint64(min(from+6, len(raws))); eng.Goal() > to || eng.Goal() < uint64(to/4*4) {
			t.Fatalf("before the batch from %d to %d: checkpoints given up to %d", from, to, eng.Goal())
		}
	})
	f.close()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := eng.Finish(); err != nil || res.Checkpoints != len(notes) {
		t.Fatalf("%v checkpoints checked, want %d: %v", res, len(notes), err)
	}
	// The newest, given before the replay, is passed over once.
	newest := notes[len(notes)-1]
	eng = verify.New("custos.test", verifier)
	if err := eng.AddCheckpoint(newest, "newest"); err != nil {
		t.Fatal(err)
	}
	f, _ = feedOf(notes, newest)
	err = replay(f, eng, 6, nil)
	f.close()
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if res.Checkpoints != len(notes) {
		t.Fatalf("%d checkpoints checked, want %d (the newest once)", res.Checkpoints, len(notes))
	}
	// Two rows swapped (sizes 8 and 20): the first listed after the replay
	// passed it (12, after 20) is named.
	swapped := append([][]byte(nil), notes...)
	swapped[1], swapped[4] = swapped[4], swapped[1]
	eng = verify.New("custos.test", verifier)
	f, _ = feedOf(swapped, nil)
	err = replay(f, eng, 6, nil)
	f.close()
	if err == nil || !strings.Contains(err.Error(), "a stored checkpoint of 12 events was listed after one of 20") {
		t.Fatalf("a list out of order: %v", err)
	}
	// A read that fails ends the audit, saying it did not finish.
	eng = verify.New("custos.test", verifier)
	f = &checkpointFeed{label: "a stored checkpoint", next: func() ([]byte, bool, error) { return nil, false, io.ErrUnexpectedEOF }}
	defer f.close()
	if err := f.upto(eng, 10); err == nil || !strings.Contains(err.Error(), "the audit did not finish") {
		t.Fatalf("a failed read: %v", err)
	}

	// The same note over and over, or a size listed twice: refused, so
	// that nothing queues without end.
	eng = verify.New("custos.test", verifier)
	f, _ = feedOf([][]byte{notes[0], notes[1], notes[1], notes[1]}, nil)
	err = f.upto(eng, 40)
	f.close()
	if err == nil || !strings.Contains(err.Error(), "a stored checkpoint of 8 events was listed after one of 8") {
		t.Fatalf("a note repeated: %v", err)
	}

	// Two different notes of one size, both signed: a fork, said so.
	fork, err := events.SignCheckpoint(signer, "custos.test", 8, events.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	eng = verify.New("custos.test", verifier)
	f, _ = feedOf([][]byte{notes[0], notes[1], fork}, nil)
	err = f.upto(eng, 40)
	f.close()
	if err == nil || !strings.Contains(err.Error(), "two different checkpoints of 8 events were listed") || !strings.Contains(err.Error(), "a fork") {
		t.Fatalf("a fork: %v", err)
	}

	// A note that does not verify is refused for that, wherever it is.
	bad := append([]byte(nil), notes[2]...)
	bad[len(bad)-5] ^= 1
	eng = verify.New("custos.test", verifier)
	f, _ = feedOf([][]byte{notes[0], notes[1], bad}, nil)
	err = replay(f, eng, 6, nil)
	f.close()
	if err == nil || !strings.Contains(err.Error(), "a stored checkpoint:") || strings.Contains(err.Error(), "order") {
		t.Fatalf("a note that does not verify: %v", err)
	}
}
