package vault

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/verify"
)

// BenchmarkStateMemoryPerItem measures the live heap the state holds per
// deposited item (3,000 items in 20 cases, with MD5 and SHA-1, no media),
// built by replaying the log (state_bytes/item) and restored from a
// snapshot (restored_bytes/item, as a start does). With
// STATE_HEAP_PROFILE=FILE it writes a heap profile while the replayed
// state is live.
func BenchmarkStateMemoryPerItem(b *testing.B) {
	v := openTestVault(b)
	ctx := context.Background()
	inv := enrolled(b, v, "inv", RoleInvestigator)
	const cases, items = 20, 3000
	for c := range cases {
		if err := v.OpenCase(ctx, inv, fmt.Sprintf("C-%d", c), "memory"); err != nil {
			b.Fatal(err)
		}
	}
	for i := range items {
		if _, err := v.Deposit(ctx, inv, DepositRequest{Case: fmt.Sprintf("C-%d", i%cases), Name: fmt.Sprintf("IMG_%05d.jpg", i), Body: strings.NewReader(fmt.Sprint("content ", i))}); err != nil {
			b.Fatal(err)
		}
	}
	var evs []*events.Event
	err := v.Store().Read(ctx, 0, func(r events.Record) error {
		ev, err := verify.DecodeEvent(r.Bytes)
		if err != nil {
			return err
		}
		evs = append(evs, ev)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// A start from a snapshot: the state's lines decoded and restored,
	// the maps sized by the header's counts. Every item here is a recent
	// object (State.recent, bounded by the pending-retention window, not
	// by history); the second snapshot is of the same state once the
	// window has passed, as almost all of a large vault's items are.
	enc, sizes := encodeStateBody(b, v.state)
	v.state.pruneRecent(time.Now())
	encOld, sizesOld := encodeStateBody(b, v.state)
	for b.Loop() {
		// The vault's own background work allocates and frees beside
		// the measurement: the median of five.
		median := func(enc []byte, sizes snapshotEntries) float64 {
			var rs []float64
			for range 5 {
				rs = append(rs, restoredBytes(b, enc, sizes))
			}
			slices.Sort(rs)
			return rs[2]
		}
		b.ReportMetric(median(enc, sizes)/items, "restored_bytes/item")
		b.ReportMetric(median(encOld, sizesOld)/items, "restored_bytes/old_item")
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		s := newState()
		for _, ev := range evs {
			if err := s.apply(ev); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/items, "state_bytes/item")
		if f := os.Getenv("STATE_HEAP_PROFILE"); f != "" {
			w, _ := os.Create(f)
			pprof.WriteHeapProfile(w)
			w.Close()
		}
		runtime.KeepAlive(s)
	}
}

// restoredBytes is the live heap a state restored from enc (a snapshot's
// state lines) holds.
func restoredBytes(b *testing.B, enc []byte, sizes snapshotEntries) float64 {
	var m0, m1 runtime.MemStats
	gc()
	runtime.ReadMemStats(&m0)
	r, err := restoreStateBody(enc, sizes)
	if err != nil {
		b.Fatal(err)
	}
	gc()
	runtime.ReadMemStats(&m1)
	runtime.KeepAlive(r)
	return float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
}

// gc collects garbage twice: sync.Pool's victims (the JSON decoder's
// buffers of its largest input) survive one collection.
func gc() {
	runtime.GC()
	runtime.GC()
}

// A running server keeps in its index of recent objects only those
// recorded within the pending-retention window, as a start does: the
// index does not grow with every deposit ever made.
func TestRecentObjectsTrimmedWhileRunning(t *testing.T) {
	defer func(n int64) { recentTrimMin = n }(recentTrimMin)
	recentTrimMin = 4
	clk := newClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "R-1", "recent"); err != nil {
		t.Fatal(err)
	}
	deposit := func(i int) string {
		res, err := v.Deposit(ctx, inv, DepositRequest{Case: "R-1", Name: fmt.Sprint(i, ".bin"), Body: strings.NewReader(fmt.Sprint("recent ", i))})
		if err != nil {
			t.Fatal(err)
		}
		it, _, _ := v.state.getItem(res.ID)
		return it.Deposit.Object
	}
	var old []string
	for i := range 4 {
		old = append(old, deposit(i))
	}
	if n := v.state.recentLen(); n != 4 {
		t.Fatalf("%d recent objects after 4 deposits inside the window, want 4", n)
	}
	clk.advance(v.cfg.PendingRetention + time.Hour)
	for i := range 4 {
		deposit(10 + i)
	}
	if n := v.state.recentLen(); n != 4 {
		t.Errorf("%d recent objects, want the 4 of the window", n)
	}
	for _, o := range v.state.recentObjects(time.Time{}) {
		if slices.Contains(old, o) {
			t.Errorf("object %s, recorded before the window, is still in the index", o)
		}
	}
}
