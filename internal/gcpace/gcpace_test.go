package gcpace

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGOGC(t *testing.T) {
	p := Pace{Percent: 30, Floor: 64 << 20}
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{7 << 20, 915},  // 64 MiB over 7 MiB, rounded up
		{64 << 20, 100}, // the floor is all of it
		{100 << 20, 64}, // 64 % of 100 MiB is the floor
		{213 << 20, 31}, // 30 % of 213 MiB is just short of the floor
		{214 << 20, 30}, // 30 % of 214 MiB is past it
		{1 << 30, 30},   // a large state grows by its share
		{0, maxPercent}, // nothing measured yet
		{4096, maxPercent},
	} {
		got := p.GOGC(tc.live)
		if got != tc.want {
			t.Errorf("GOGC(%d) = %d, want %d", tc.live, got, tc.want)
		}
		if headroom := uint64(got) * max(tc.live, 1) / 100; got < maxPercent && headroom < p.Floor {
			t.Errorf("GOGC(%d) = %d leaves %d bytes of headroom, under the floor", tc.live, got, headroom)
		}
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
	if got, want := gogc(), int64(p.GOGC(liveHeap())); got != want {
		t.Fatalf("after Run: GOGC %d, want %d", got, want)
	}
	if gogc() <= 100 {
		t.Fatalf("a small heap: GOGC %d, want the floor's share of it", gogc())
	}
	wait := func(what string, want func(int64) bool) {
		t.Helper()
		for start := time.Now(); !want(gogc()); time.Sleep(time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: GOGC is %d, live heap %d", what, gogc(), liveHeap())
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
