// Package gcpace sets the Go collector's target (GOGC) of a long-running
// process whose live heap is mostly state kept for the process's life,
// so that the heap may grow between collections by a share of the live
// heap or by a fixed floor, whichever is more.
//
// Go's collector marks the whole live heap in every cycle and starts a
// cycle once the heap has grown by GOGC percent of it, so the marking a
// byte of garbage costs is live / headroom: 1 at Go's default of 100,
// 3.3 at 30. A fixed low GOGC keeps a large state's idle memory low, but
// with a small state it starts a cycle for every few megabytes of
// garbage: a server of 7 MB of live heap at GOGC=30 collected 587 times
// while streaming a million log events, a third of its CPU
// (docs/benchmarks.md, "the server's collector paced by a floor"). With
// a floor the headroom is never less than the floor: a small state
// collects rarely, and a large one still grows by its share.
//
// The pace follows the live heap as runtime/metrics reports it at the
// end of each collection (/gc/heap/live:bytes): Run sets the next
// target from a cleanup (runtime.AddCleanup) on an object that each
// collection frees, so that the target a cycle ends with always counts
// the heap that cycle found live. A target set only now and then would
// multiply a grown heap by a percent set for a smaller one.
package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Pace is how far the heap may grow between collections: Percent of
// the live heap, and never less than Floor bytes.
type Pace struct {
	Percent int    // the share of the live heap, as GOGC counts it (30 = 30 %)
	Floor   uint64 // bytes
}

// GOGC returns the collector's target for a live heap of live bytes:
// Percent, or more where Percent of live is less than Floor. A live
// heap of 0 (none measured yet) counts as one byte; the result is at
// most maxPercent.
func (p Pace) GOGC(live uint64) int {
	live = max(live, 1)
	if uint64(p.Percent)*live/100 >= p.Floor {
		return p.Percent
	}
	// The smallest percent whose headroom reaches the floor.
	pct := (p.Floor*100 + live - 1) / live
	return int(min(pct, maxPercent))
}

// maxPercent bounds the target (a live heap of a few kilobytes would
// otherwise ask for millions of percent, which the runtime takes, but
// which says nothing more).
const maxPercent = 100_000

// liveHeap is the heap the last collection found live, in bytes (0
// before the first).
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// Apply sets the collector's target for the live heap now and returns
// it.
func (p Pace) Apply() int {
	pct := p.GOGC(liveHeap())
	debug.SetGCPercent(pct)
	return pct
}

// Run applies p now and then after every collection until ctx ends,
// leaving the target as it last set it. It returns at once; the work is
// done on the runtime's cleanup goroutine, a metrics read and a call to
// debug.SetGCPercent after each cycle.
func (p Pace) Run(ctx context.Context) {
	p.Apply()
	p.arm(ctx.Done())
}

// sentinel is what each collection frees: 32 bytes, an object of its
// own (the runtime packs pointer-free objects of under 16 bytes into
// shared blocks, which a collection may not free while a neighbour
// lives, and whose cleanups may then never run).
type sentinel [32]byte

func (p Pace) arm(done <-chan struct{}) {
	runtime.AddCleanup(new(sentinel), func(done <-chan struct{}) {
		select {
		case <-done:
			return
		default:
		}
		p.Apply()
		p.arm(done)
	}, done)
}
