package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// goal is the heap size the runtime collects at for a target of pct
// (runtime/mgcpacer.go: the live heap plus pct of live, stacks and
// globals, and never under the scaled minimum heap).
func goal(live, roots uint64, pct int) uint64 {
	return max(live+(live+roots)*uint64(pct)/100, heapMinimum*uint64(pct)/100)
}

func TestGOGC(t *testing.T) {
	p := Pace{Percent: 30, Floor: 32 << 20}
	const mib = 1 << 20
	for _, tc := range []struct {
		live, roots uint64
		want        int
	}{
		{7 * mib, 0, 458},          // 32 MiB over 7 MiB, rounded up
		{7 * mib, 1 * mib, 400},    // stacks and globals count
		{32 * mib, 0, 100},         // the floor is all of it
		{100 * mib, 0, 32},         // 32 % of 100 MiB is the floor
		{106 * mib, 0, 31},         // 30 % of 106 MiB is just short of it
		{107 * mib, 0, 30},         // 30 % of 107 MiB is past it
		{1 << 30, 0, 30},           // a large state grows by its share
		{2 * mib, 0, 850},          // under 4 MiB the minimum heap decides
		{0, 0, 800},                // nothing measured yet: the floor alone
		{70 << 10, 200 << 10, 802}, // a few kilobytes
	} {
		got := p.GOGC(tc.live, tc.roots)
		if got != tc.want {
			t.Errorf("GOGC(%d, %d) = %d, want %d", tc.live, tc.roots, got, tc.want)
		}
		// What the runtime makes of it: the heap grows by the floor at
		// least, and by little more unless the share is larger.
		g := goal(tc.live, tc.roots, got)
		if g < tc.live+p.Floor {
			t.Errorf("GOGC(%d, %d) = %d: goal %d, under live+floor %d", tc.live, tc.roots, got, g, tc.live+p.Floor)
		}
		if share := tc.live + (tc.live+tc.roots)*30/100; g > max(share, tc.live+p.Floor)+(tc.live+tc.roots)/100+mib/20 {
			t.Errorf("GOGC(%d, %d) = %d: goal %d, well over both live+floor and the share", tc.live, tc.roots, got, g)
		}
	}
	if got := (Pace{Percent: 0, Floor: 0}).GOGC(1<<30, 0); got != 1 {
		t.Errorf("a Percent of 0 gives %d, want 1", got)
	}
}

func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// held keeps memory live for TestRunFollowsTheLiveHeap.
var held [][]byte

// Run sets the target from the live heap at once, and after each
// collection from the heap it found live; it stops when its context
// ends.
func TestRunFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	p := Pace{Percent: 10, Floor: 16 << 20}
	ctx, cancel := context.WithCancel(context.Background())
	runtime.GC()
	p.Run(ctx)
	if got, want := gogc(), int64(p.GOGC(heap())); got != want {
		t.Fatalf("after Run: GOGC %d, want %d", got, want)
	}
	if gogc() <= 100 {
		t.Fatalf("a small heap: GOGC %d, want the floor's share of it", gogc())
	}
	wait := func(what string, want func(int64) bool) {
		t.Helper()
		for start := time.Now(); !want(gogc()); time.Sleep(time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				live, roots := heap()
				t.Fatalf("%s: GOGC is %d, live heap %d, roots %d", what, gogc(), live, roots)
			}
		}
	}
	// Keep 512 MiB live: the floor is now less than 10 % of it.
	held = make([][]byte, 512)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	wait("a large heap", func(g int64) bool { return g == 10 })
	// And small again.
	held = nil
	runtime.GC()
	runtime.GC()
	wait("a small heap again", func(g int64) bool { return g > 100 })
	// Ended: the target stays as it was set last.
	cancel()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	debug.SetGCPercent(77)
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if g := gogc(); g != 77 {
		t.Errorf("after its context ended, Run still sets the target: GOGC %d, want 77", g)
	}
}
