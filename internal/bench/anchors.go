package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/events/witness/witnessclient"
	"github.com/custos-vault/custos/internal/testenv"
)

// anchors is what a server with --witness (two local litewitness
// instances, quorum 2) runs beside its log.
type anchors struct {
	ws     []*testenv.Witness
	scope  testenv.Scope
	tsa    *testenv.TSA
	stamps int // tokens obtained
	policy *witness.Policy
	client *witnessclient.Client

	mu        sync.Mutex
	seq       *sequencer.Sequencer
	signedAt  map[uint64]time.Time
	toStamp   chan *events.Checkpoint
	ctx       context.Context
	stop      context.CancelFunc
	latencies []time.Duration
	// witnessedSize is the size of the largest checkpoint saved with its
	// quorum of cosignatures.
	witnessedSize uint64
}

func startAnchors(logVKey string) (*anchors, error) {
	bins, err := testenv.FindWitnessBinaries()
	if err != nil {
		return nil, err
	}
	a := &anchors{signedAt: map[uint64]time.Time{}, toStamp: make(chan *events.Checkpoint, 1)}
	a.ctx, a.stop = context.WithCancel(context.Background())
	var list []witness.Witness
	for _, name := range []string{"witness-a.bench.example", "witness-b.bench.example"} {
		w, err := testenv.LaunchWitness(bins, name)
		if err != nil {
			a.close()
			return nil, err
		}
		a.ws = append(a.ws, w)
		if err := w.RegisterLog(benchOrigin, logVKey); err != nil {
			a.close()
			return nil, err
		}
		x, err := witness.ParseFlag(w.Name + "=" + w.VKey + "@" + w.URL)
		if err != nil {
			a.close()
			return nil, err
		}
		list = append(list, x)
	}
	if a.policy, err = witness.NewPolicy(list, 2); err != nil {
		a.close()
		return nil, err
	}
	if err := a.scope.Run(func() { a.tsa = testenv.StartTSA(&a.scope) }); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// start starts the witness client and the time-stamping once the log is
// open.
func (a *anchors) start(seq *sequencer.Sequencer) {
	go a.stampLoop(a.ctx)
	a.mu.Lock()
	a.seq = seq
	a.mu.Unlock()
	a.client = witnessclient.Start(witnessclient.Config{
		Policy: a.policy,
		Proof:  func(from, to uint64) ([][]byte, error) { return seq.Tree().ConsistencyProof(from, to) },
		Save: func(_ context.Context, cp *events.Checkpoint, _ []byte) error {
			a.mu.Lock()
			if t, ok := a.signedAt[cp.Size]; ok {
				a.latencies = append(a.latencies, time.Since(t))
			}
			a.witnessedSize = max(a.witnessedSize, cp.Size)
			a.mu.Unlock()
			return nil
		},
	})
}

// signed is the sequencer's BeforePublish: the checkpoint was just signed.
func (a *anchors) signed(_ context.Context, cp *events.Checkpoint) error {
	a.mu.Lock()
	a.signedAt[cp.Size] = time.Now()
	a.mu.Unlock()
	return nil
}

// published is the sequencer's AfterPublish: the checkpoint goes to the
// witnesses and, in the background (one request at a time, newer
// checkpoints waiting), to the TSA, as the server does.
func (a *anchors) published(cp *events.Checkpoint) {
	a.mu.Lock()
	c := a.client
	a.mu.Unlock()
	if c != nil {
		c.Submit(cp)
	}
	if a.tsa != nil {
		select {
		case a.toStamp <- cp:
		default:
		}
	}
}

// stampLoop time-stamps checkpoints handed to it until ctx ends.
func (a *anchors) stampLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case cp := <-a.toStamp:
			if _, err := tsaclient.Request(ctx, http.DefaultClient, a.tsa.URL, cp.Note); err == nil {
				a.mu.Lock()
				a.stamps++
				a.mu.Unlock()
			}
		}
	}
}

// settle signs a checkpoint of everything appended so far and waits up to
// limit for it to be witnessed by the quorum (witnessed), then up to limit
// for at least one checkpoint of the run to be time-stamped. Its error
// says which of the two did not happen.
func (a *anchors) settle(ctx context.Context, seq *sequencer.Sequencer, limit time.Duration) error {
	cp, err := seq.Checkpoint(ctx)
	if err != nil {
		return err
	}
	if err := a.witnessed(cp.Size, limit); err != nil {
		return err
	}
	if !a.await(limit, func() bool { return a.stamps > 0 }) {
		return fmt.Errorf("no checkpoint was time-stamped within %v of the run's end", limit)
	}
	return nil
}

// witnessed waits up to limit for a checkpoint of size or more to be
// saved with its quorum of cosignatures; its error gives the witness
// client's status.
func (a *anchors) witnessed(size uint64, limit time.Duration) error {
	if !a.await(limit, func() bool { return a.witnessedSize >= size }) {
		return fmt.Errorf("checkpoint %d was not witnessed within %v: %+v", size, limit, a.client.Status())
	}
	return nil
}

// await reports whether cond, read under a.mu, holds within limit,
// looking every millisecond.
func (a *anchors) await(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(time.Millisecond) {
		a.mu.Lock()
		ok := cond()
		a.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return ok
		}
	}
}

func (a *anchors) close() {
	a.stop()
	if a.client != nil {
		a.client.Close()
	}
	a.scope.Close()
	for _, w := range a.ws {
		w.Close()
	}
}

// CheckpointWitnessed measures the time from signing a checkpoint to
// holding its quorum of cosignatures (two local litewitness instances,
// quorum 2): n checkpoints, each after one appended event.
func CheckpointWitnessed(dir string, n int) ([]Metric, error) {
	ctx := context.Background()
	sub, st, done, err := benchLog(dir, "witnessed-")
	if err != nil {
		return nil, err
	}
	defer done()
	s, v, vkey := benchKeysWithVKey()
	an, err := startAnchors(vkey)
	if err != nil {
		return nil, err
	}
	defer an.close()
	seq, err := sequencer.Open(ctx, sequencer.Config{Store: st, Origin: benchOrigin, Signer: s, Verifier: v,
		TileDir: filepath.Join(sub, "tiles"), BeforePublish: an.signed, AfterPublish: an.published, CheckpointInterval: time.Hour})
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	an.start(seq)
	for i := 0; i < n; i++ {
		if _, err := seq.Append(ctx, typicalDraft(0, i)); err != nil {
			return nil, err
		}
		cp, err := seq.Checkpoint(ctx)
		if err != nil {
			return nil, err
		}
		if err := an.witnessed(cp.Size, 30*time.Second); err != nil {
			return nil, err
		}
	}
	an.mu.Lock()
	lat := slices.Clone(an.latencies)
	an.mu.Unlock()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return []Metric{
		{"checkpoint_witnessed_p50_ms", ms(lat[len(lat)/2]), "ms"},
		{"checkpoint_witnessed_p99_ms", ms(lat[len(lat)*99/100]), "ms"},
	}, nil
}

// CustodyRSSGrowth appends total events through the sequencer into the
// embedded log (tiles on disk, as the server runs) and reports how much
// the process's resident memory grew between the first 100,000 events
// and the last, scaled to 10,000,000 events. Events are appended in
// requests of 256 by 16 writers, so that the run is bounded by the CPU,
// not by fsyncs.
func CustodyRSSGrowth(dir string, total int) ([]Metric, error) {
	ctx := context.Background()
	sub, st, done, err := benchLog(dir, "rss-")
	if err != nil {
		return nil, err
	}
	defer done()
	s, v := benchKeys()
	seq, err := sequencer.Open(ctx, sequencer.Config{Store: st, Origin: benchOrigin, Signer: s, Verifier: v, TileDir: filepath.Join(sub, "tiles")})
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	const per, writers, base = 256, 16, 100_000
	appendUpTo := func(target int) error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		next := int(seq.Size())
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				drafts := make([]sequencer.Draft, per)
				for {
					mu.Lock()
					if next >= target || firstErr != nil {
						mu.Unlock()
						return
					}
					i := next
					next += per
					mu.Unlock()
					for j := range drafts {
						drafts[j] = typicalDraft(w, i+j)
					}
					if _, err := seq.Append(ctx, drafts...); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		return firstErr
	}
	if err := appendUpTo(base); err != nil {
		return nil, err
	}
	before, err := settledRSS()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := appendUpTo(total); err != nil {
		return nil, err
	}
	rate := float64(int(seq.Size())-base) / time.Since(start).Seconds()
	after, err := settledRSS()
	if err != nil {
		return nil, err
	}
	growth := float64(after-before) / (1 << 20) * 10_000_000 / float64(int(seq.Size())-base)
	return []Metric{
		{"custody_rss_growth_mib_per_10m_events", growth, "MiB"},
		{"custody_rss_after_mib", float64(after) / (1 << 20), "MiB"},
		{"custody_bulk_append_events_per_s", rate, "events/s"},
	}, nil
}

// settledRSS returns the process's resident set size in bytes after a
// collection that returns freed memory to the system.
func settledRSS() (int64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}

// benchLog makes a folder in dir and an embedded custody log in it; done
// closes the log and removes the folder.
func benchLog(dir, prefix string) (string, *sqlite.Store, func(), error) {
	sub, err := os.MkdirTemp(dir, prefix)
	if err != nil {
		return "", nil, nil, err
	}
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: filepath.Join(sub, "log.db")})
	if err != nil {
		os.RemoveAll(sub)
		return "", nil, nil, err
	}
	return sub, st, func() { st.Close(); os.RemoveAll(sub) }, nil
}
