// Package bench holds the headline measurements that `make bench` prints as
// "metric NAME VALUE UNIT" lines (see docs/benchmarks.md). Each measurement
// runs once at a fixed, realistic size, so figures are comparable between
// runs; the Go Benchmark* functions in the packages are for profiling.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/verify"
	"golang.org/x/mod/sumdb/note"
)

// Metric is one headline figure.
type Metric struct {
	Name  string
	Value float64
	Unit  string
}

func (m Metric) String() string { return fmt.Sprintf("metric %s %.6g %s", m.Name, m.Value, m.Unit) }

const benchOrigin = "custos.bench/log"

func benchKeys() (note.Signer, note.Verifier) {
	s, v, _ := benchKeysWithVKey()
	return s, v
}

// benchKeysWithVKey also returns the verifier key string (a witness
// registers the log by it).
func benchKeysWithVKey() (note.Signer, note.Verifier, string) {
	skey, vkey, _ := note.GenerateKey(rand.Reader, "custos.bench")
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v, vkey
}

// typicalDraft is the size and shape of a real access event.
func typicalDraft(w, i int) sequencer.Draft {
	return sequencer.Draft{
		Type:  "item.accessed",
		Actor: events.Actor{Person: "investigator.sok", Role: "investigator", Auth: "token"},
		Case:  "KH-2026-0142", Item: fmt.Sprintf("it_%08x%08x", w, i),
		Data: map[string]any{
			"purpose": "review of chat export for victim identification, request 2026/118",
			"access":  "view", "request": fmt.Sprintf("req-%d-%d", w, i),
		},
	}
}

// CustodyAppend measures durable appends through the sequencer into the
// embedded SQLite log: writers goroutines each append one event at a time
// and wait for its acknowledgement (which comes only after fsync), for
// the given duration.
func CustodyAppend(dir string, writers int, d time.Duration) ([]Metric, error) {
	return custodyAppend(dir, writers, d, "custody_append", false)
}

// CustodyAppendAnchored is CustodyAppend with every checkpoint submitted
// to two local witnesses (litewitness) and time-stamped by a local TSA,
// as a server with --witness and --tsa does: the figures must not move.
func CustodyAppendAnchored(dir string, writers int, d time.Duration) ([]Metric, error) {
	return custodyAppend(dir, writers, d, "custody_append_anchored", true)
}

func custodyAppend(dir string, writers int, d time.Duration, name string, anchored bool) ([]Metric, error) {
	ctx := context.Background()
	sub, err := os.MkdirTemp(dir, name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(sub)
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(sub, "append.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	s, v, vkey := benchKeysWithVKey()
	cfg := sequencer.Config{Store: st, Origin: benchOrigin, Signer: s, Verifier: v, TileDir: filepath.Join(sub, "tiles")}
	var an *anchors
	if anchored {
		if an, err = startAnchors(vkey); err != nil {
			return nil, err
		}
		defer an.close()
		cfg.BeforePublish, cfg.AfterPublish = an.signed, an.published
	}
	seq, err := sequencer.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	if an != nil {
		an.start(seq)
	}
	// Warm up the database file and the page cache.
	for i := 0; i < 200; i++ {
		if _, err := seq.Append(ctx, typicalDraft(0, i)); err != nil {
			return nil, err
		}
	}
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	deadline := start.Add(d)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if _, err := seq.Append(ctx, typicalDraft(w, i)); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	p99 := all[len(all)*99/100]
	tput := float64(len(all)) / elapsed.Seconds()
	ms := []Metric{
		{name + "_events_per_s", tput, "events/s"},
		{name + "_p99_ms", float64(p99) / float64(time.Millisecond), "ms"},
	}
	if !anchored {
		// The disk's limit, measured in the same run on the same folder:
		// one writer of batches of `writers` events, each batch one fsync.
		fsync, err := fsyncMedian(sub, 200)
		if err != nil {
			return nil, err
		}
		limit := float64(writers) / fsync.Seconds()
		ms = append(ms, Metric{"custody_fsync_median_ms", float64(fsync) / float64(time.Millisecond), "ms"},
			Metric{"custody_append_fsync_limit_events_per_s", limit, "events/s"},
			Metric{"custody_append_fsync_limit_ratio", tput / limit, "ratio"})
	}
	if an != nil {
		// The anchoring must have worked, not merely been configured:
		// the run's last checkpoint is witnessed and some checkpoint
		// time-stamped. On a short run under load the checkpoint signed
		// at its end can still be on its way, so the last one is forced
		// and waited for (after the clock above stopped).
		if err := an.settle(ctx, seq, 30*time.Second); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// fsyncMedian is the median time of n rounds of writing 4 KiB at the end
// of a file in dir and fsyncing it: what one durable batch of the log
// costs the disk at the least.
func fsyncMedian(dir string, n int) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "fsync-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 4096)
	rand.Read(block)
	times := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := f.Write(block); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// AuditVerify builds a log of n events (in memory: the engine's input is
// the stored bytes, and reading them is the store's cost, not the
// engine's), with a checkpoint every 4096 events, then measures the
// engine replaying all of it.
func AuditVerify(n int) ([]Metric, error) {
	s, v := benchKeys()
	evs := make([][]byte, 0, n)
	var cps [][]byte
	var tree events.Tree
	prev := events.ZeroHash
	now := events.FormatTime(time.Now())
	for i := 0; i < n; i++ {
		d := typicalDraft(i%64, i)
		ev := &events.Event{V: events.Version, Seq: uint64(i), ID: events.NewID(), Type: d.Type, Time: now,
			Actor: d.Actor, Case: d.Case, Item: d.Item,
			Data: []byte(`{"access":"view","purpose":"review of chat export for victim identification, request 2026/118","request":"req-1-2"}`),
			Prev: prev.String()}
		b, err := events.Encode(ev)
		if err != nil {
			return nil, err
		}
		prev = events.LeafHash(b)
		tree.Append(prev)
		evs = append(evs, b)
		if (i+1)%4096 == 0 || i == n-1 {
			root, _ := tree.Root(uint64(i + 1))
			cp, err := events.SignCheckpoint(s, benchOrigin, uint64(i+1), root)
			if err != nil {
				return nil, err
			}
			cps = append(cps, cp)
		}
	}
	start := time.Now()
	e := verify.New(benchOrigin, v)
	for i, cp := range cps {
		if err := e.AddCheckpoint(cp, fmt.Sprint("checkpoint ", i)); err != nil {
			return nil, err
		}
	}
	const batch = 8192
	for i := 0; i < len(evs); i += batch {
		if err := e.AddBatch(evs[i:min(len(evs), i+batch)]); err != nil {
			return nil, err
		}
	}
	res, err := e.Finish()
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	if res.Events != uint64(n) {
		return nil, fmt.Errorf("verified %d events, want %d", res.Events, n)
	}
	return []Metric{{"audit_verify_events_per_s", float64(n) / elapsed.Seconds(), "events/s"}}, nil
}
