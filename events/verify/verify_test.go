package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"golang.org/x/mod/sumdb/note"
)

const origin = "custos.test/log"

type logCopy struct {
	events [][]byte
	cps    [][]byte
}

func keys(t testing.TB) (note.Signer, note.Verifier) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v
}

// build appends n events in batches through the real sequencer and SQLite
// store, forcing a checkpoint after every batch, and returns what an
// auditor would download.
func build(t testing.TB, n, batch int, signer note.Signer, verifier note.Verifier) logCopy {
	t.Helper()
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "log.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seq, err := sequencer.Open(context.Background(), sequencer.Config{Store: st, Origin: origin, Signer: signer, Verifier: verifier})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += batch {
		var ds []sequencer.Draft
		for j := i; j < min(n, i+batch); j++ {
			ds = append(ds, sequencer.Draft{Type: "test.event", Case: "c1", Data: map[string]int{"n": j}})
		}
		if _, err := seq.Append(context.Background(), ds...); err != nil {
			t.Fatal(err)
		}
		if _, err := seq.Checkpoint(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	seq.Close()
	var out logCopy
	st.Read(context.Background(), 0, func(r events.Record) error { out.events = append(out.events, r.Bytes); return nil })
	cps, _ := events.AllCheckpoints(context.Background(), st)
	for _, c := range cps {
		out.cps = append(out.cps, c.Note)
	}
	return out
}

func run(v note.Verifier, l logCopy, external ...[]byte) (*verify.Result, error) {
	e := verify.New(origin, v)
	for i, c := range l.cps {
		if err := e.AddCheckpoint(c, fmt.Sprintf("stored checkpoint %d", i)); err != nil {
			return nil, err
		}
	}
	for i, c := range external {
		if err := e.AddCheckpoint(c, fmt.Sprintf("external checkpoint %d", i)); err != nil {
			return nil, err
		}
	}
	if err := e.AddBatch(l.events); err != nil {
		return nil, err
	}
	return e.Finish()
}

func clone(l logCopy) logCopy {
	var c logCopy
	for _, b := range l.events {
		c.events = append(c.events, append([]byte(nil), b...))
	}
	c.cps = append(c.cps, l.cps...)
	return c
}

func TestIntactLogVerifies(t *testing.T) {
	s, v := keys(t)
	l := build(t, 300, 7, s, v)
	res, err := run(v, l)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 300 || res.Checkpoints != len(l.cps) || res.Latest.Size != 300 {
		t.Fatalf("result %+v", res)
	}
	// Sequential Add agrees with AddBatch.
	e := verify.New(origin, v)
	for _, b := range l.events {
		if err := e.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	r2, err := e.Finish()
	if err != nil || r2.Root != res.Root {
		t.Fatalf("sequential replay: %v", err)
	}
}

// Each kind of tampering must be detected, and the report must name a
// position at or before the tampered one.
func TestEveryTamperingIsDetected(t *testing.T) {
	s, v := keys(t)
	l := build(t, 120, 10, s, v)
	// A checkpoint saved by an auditor at the end, outside the vault.
	saved := l.cps[len(l.cps)-1]
	// The vault's key signs a root that is not the log's.
	var bogus events.Hash
	bogusRoot, _ := events.SignCheckpoint(s, origin, 50, bogus)
	otherSigner, _ := keys(t)
	foreignKey, _ := events.SignCheckpoint(otherSigner, origin, 120, bogus)

	type tamper struct {
		name     string
		mutate   func(l *logCopy)
		external [][]byte
		want     string
	}
	cases := []tamper{
		{"edited event bytes", func(l *logCopy) {
			l.events[42] = bytes.Replace(l.events[42], []byte(`"n":42`), []byte(`"n":43`), 1)
		}, nil, "event 42: its bytes hash to"},
		{"edited event with chain repaired", func(l *logCopy) {
			// An attacker rewrites event 42 and re-chains every event after
			// it, so that the hash chain alone looks intact.
			l.events[42] = bytes.Replace(l.events[42], []byte(`"n":42`), []byte(`"n":99`), 1)
			for i := 43; i < len(l.events); i++ {
				leaf := events.LeafHash(l.events[i-1])
				ev, _ := events.Decode(l.events[i])
				l.events[i] = bytes.Replace(l.events[i], []byte(ev.Prev), []byte(leaf.String()), 1)
			}
			// The checkpoint of 40 events still matches: the one of 50
			// narrows the fault to the ten after it.
		}, nil, "events 40 to 49 (the checkpoint of the first 40 events matched) were altered, removed, inserted or reordered; or, if the vault's key also signed the checkpoints of a rewritten log, the two histories part anywhere before event 50"},
		// An event's record of the hash before it edited: right after a
		// checkpoint, which proves the event before, the edited event is
		// named; elsewhere the break is named by the event before it,
		// with both readings.
		{"edited prev after a checkpoint", func(l *logCopy) { l.events[50] = editPrev(l.events[50]) }, nil,
			"event 50: it records"},
		{"edited prev after a checkpoint, what it says", func(l *logCopy) { l.events[50] = editPrev(l.events[50]) }, nil,
			"the checkpoint of the first 50 events commits to as it is, hashes to"},
		{"edited prev elsewhere", func(l *logCopy) { l.events[55] = editPrev(l.events[55]) }, nil,
			"event 54: its bytes hash to"},
		{"edited prev elsewhere, what it says", func(l *logCopy) { l.events[55] = editPrev(l.events[55]) }, nil,
			"(event 54 altered, event 55's record of it altered, or an event removed or inserted there)"},
		{"deleted event", func(l *logCopy) { l.events = append(l.events[:30], l.events[31:]...) }, nil, "event 30"},
		{"inserted event", func(l *logCopy) {
			extra := append([]byte(nil), l.events[60]...)
			l.events = append(l.events[:61], append([][]byte{extra}, l.events[61:]...)...)
		}, nil, "event 61"},
		{"swapped events", func(l *logCopy) { l.events[70], l.events[71] = l.events[71], l.events[70] }, nil, "event 70"},
		// The checkpoint named is the one that commits to the most
		// events, so that every event known to be missing is named.
		{"truncated tail", func(l *logCopy) { l.events = l.events[:100] }, nil,
			"the log ends after 100 events, but stored checkpoint 11 commits to 120 (and 1 other checkpoint, to 110): events 100 to 119 are missing"},
		{"last event removed", func(l *logCopy) { l.events = l.events[:119] }, nil, "commits to 120: event 119 is missing"},
		{"rolled back store against saved checkpoint", func(l *logCopy) {
			// The whole store, checkpoints included, replaced by an older copy.
			l.events = l.events[:80]
			l.cps = l.cps[:8]
		}, [][]byte{saved}, "the log ends after 80 events, but external checkpoint 0 commits to 120: events 80 to 119 are missing; the log was truncated or rolled back"},
		{"checkpoint signed by another key", func(l *logCopy) {}, [][]byte{foreignKey}, "not signed by the log's key"},
		{"checkpoint whose root does not match", func(l *logCopy) {}, [][]byte{bogusRoot}, "root"},
		{"stored checkpoint replaced", func(l *logCopy) { l.cps[3] = bogusRoot }, nil, "root"},
		{"non-canonical re-encoding", func(l *logCopy) {
			l.events[5] = bytes.Replace(l.events[5], []byte(`"v":1,`), []byte(`"v": 1,`), 1)
		}, nil, "event 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := clone(l)
			c.mutate(&m)
			_, err := run(v, m, c.external...)
			if err == nil {
				t.Fatal("tampering not detected")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			t.Logf("detected: %v", err)
		})
	}
}

// editPrev changes the first hex digit of an event's prev.
func editPrev(b []byte) []byte {
	ev, err := events.Decode(b)
	if err != nil {
		panic(err)
	}
	edited := []byte(ev.Prev)
	if edited[0] == '0' {
		edited[0] = '1'
	} else {
		edited[0] = '0'
	}
	return bytes.Replace(b, []byte(`"prev":"`+ev.Prev), []byte(`"prev":"`+string(edited)), 1)
}

func TestExtendsEarlierCheckpoint(t *testing.T) {
	s, v := keys(t)
	l := build(t, 64, 8, s, v)
	early := l.cps[2] // size 24
	if _, err := run(v, l, early); err != nil {
		t.Fatalf("log does not extend its own earlier checkpoint: %v", err)
	}
}

// TestParsedCheckpoints: checkpoints parsed ahead on other goroutines
// (Parse) are checked as AddCheckpoint's are, one whose root is not the
// log's failing the replay; Parse refuses what AddCheckpoint refuses; and
// an engine takes only what it parsed itself, not another engine's (of
// another log's key).
func TestParsedCheckpoints(t *testing.T) {
	s, v := keys(t)
	l := build(t, 120, 5, s, v)
	e := verify.New(origin, v)
	parsed := make([]*verify.Parsed, len(l.cps))
	var wg sync.WaitGroup
	for i, c := range l.cps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := e.Parse(c)
			if err != nil {
				t.Error(err)
			}
			parsed[i] = p
		}()
	}
	wg.Wait()
	for i, p := range parsed {
		if err := e.AddParsed(p, fmt.Sprint("stored checkpoint ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.AddBatch(l.events); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Finish(); err != nil || res.Checkpoints != len(l.cps) {
		t.Fatalf("%+v %v", res, err)
	}

	// Another log under the same origin, its own key: its checkpoints
	// parse on its engine, and this engine refuses them.
	s2, v2 := keys(t)
	other := build(t, 10, 5, s2, v2)
	e2 := verify.New(origin, v2)
	p2, err := e2.Parse(other.cps[0])
	if err != nil {
		t.Fatal(err)
	}
	e = verify.New(origin, v)
	if err := e.AddParsed(p2, "a checkpoint of another log"); err == nil || !strings.Contains(err.Error(), "did not check") {
		t.Fatalf("another engine's checkpoint: %v", err)
	}
	if _, err := e.Parse(other.cps[0]); !errors.Is(err, events.ErrCheckpointKey) {
		t.Fatalf("a checkpoint of another key: %v", err)
	}
	if err := e.AddParsed(nil, "none"); err == nil {
		t.Fatal("nil was taken for a checkpoint")
	}

	// A checkpoint of this key whose root is not the log's at its size
	// (a fork): given parsed, it fails the replay naming its source.
	forked := build(t, 120, 5, s, v)
	p, err := e.Parse(forked.cps[3])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddParsed(p, "the forked checkpoint"); err != nil {
		t.Fatal(err)
	}
	err = e.AddBatch(l.events)
	if err == nil {
		_, err = e.Finish()
	}
	if err == nil || !strings.Contains(err.Error(), "the forked checkpoint") {
		t.Fatalf("a forked checkpoint given parsed: %v", err)
	}
}
