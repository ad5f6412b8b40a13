// Package gcpace sets the Go collector's target (GOGC) so that the heap
// may grow between collections by a share of the live heap or by a fixed
// floor, whichever is more: for the server, whose live heap is mostly
// state kept for the process's life, and for audit verify's replay,
// whose small live heap sees a kilobyte of garbage an event.
//
// Go's collector marks the whole live heap in every cycle and starts a
// cycle once the heap has grown by GOGC percent of it (of the live heap,
// the goroutine stacks and the globals), so the marking a byte of
// garbage costs is about live / headroom: 1 at Go's default of 100, 3.3
// at 30. A fixed low GOGC keeps a large state's idle memory low, but
// with a small state it starts a cycle for every few megabytes of
// garbage: a server of 7 MB of live heap at GOGC=30 collected 587 times
// while streaming a million log events, a third of its CPU
// (docs/benchmarks.md, "the vault's events read by their layout, and the
// server's collector paced by a floor"). With a floor the headroom is
// never less than the floor: a small state collects rarely, and a large
// one still grows by its share.
//
// The pace follows the live heap as runtime/metrics reports it at the
// end of each collection (/gc/heap/live:bytes, with /gc/scan/stack:bytes
// and /gc/scan/globals:bytes): Run sets the next target from a cleanup
// (runtime.AddCleanup) on an object that each collection frees, shortly
// after each cycle (the cycle itself ends with the target set before
// it, and one that begins before the cleanup has run may be missed). A
// target set only now and then would multiply a grown heap by a percent
// set for a smaller one.
package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Pace is how far the heap may grow between collections: Percent of
// what the collector counts (the live heap, stacks and globals), and
// never less than Floor bytes. Percent is at least 1.
type Pace struct {
	Percent int    // the share, as GOGC counts it (30 = 30 %)
	Floor   uint64 // bytes
}

// GOGC returns the collector's target for a live heap of live bytes
// and roots (goroutine stacks and globals) of roots bytes: Percent, or
// more where Percent of live+roots is less than Floor; a Percent under
// 1 counts as 1.
//
// The runtime also never lets the heap's goal fall under a minimum of
// 4 MiB times GOGC/100 (runtime/mgcpacer.go, heapMinimum; "A Guide to
// the Go Garbage Collector"), so under about 4 MiB of live heap the
// percent the floor asks for would set a goal far over live+Floor;
// there the target is the one whose minimum is live+Floor, the goal the
// floor means.
func (p Pace) GOGC(live, roots uint64) int {
	pct := uint64(max(p.Percent, 1))
	base := max(live+roots, 1)
	if pct*base/100 >= p.Floor {
		return int(pct)
	}
	// The smallest percent whose headroom reaches the floor, and at most
	// the smallest whose minimum heap reaches live+Floor.
	need := (p.Floor*100 + base - 1) / base
	limit := ((live+p.Floor)*100 + heapMinimum - 1) / heapMinimum
	return int(max(min(need, limit), pct))
}

// heapMinimum is the Go runtime's minimum heap goal at GOGC=100
// (defaultHeapMinimum, 4 MiB), which it scales by GOGC/100.
const heapMinimum = 4 << 20

// heap returns what the last collection found: the live heap and the
// roots (goroutine stacks and globals) it scanned, in bytes (0 before
// the first).
func heap() (live, roots uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/scan/stack:bytes"}, {Name: "/gc/scan/globals:bytes"}}
	metrics.Read(s)
	var v [3]uint64
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			v[i] = s[i].Value.Uint64()
		}
	}
	return v[0], v[1] + v[2]
}

// Apply sets the collector's target for the heap the last collection
// found, and returns it.
func (p Pace) Apply() int {
	pct := p.GOGC(heap())
	debug.SetGCPercent(pct)
	return pct
}

// Run applies p now and then after every collection until ctx ends,
// leaving the target as it last set it. It returns at once; the work is
// done on the runtime's cleanup goroutine, a metrics read and a call to
// debug.SetGCPercent after each cycle. It overrides whatever GOGC was
// set to (off included), and two Runs at once would set it in turn: a
// process calls it once, and not when its operator set GOGC.
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
