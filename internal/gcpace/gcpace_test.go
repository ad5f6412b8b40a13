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

// Run sets the target from the live heap at once, and again when the
// live heap has changed.
func TestRunFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	p := Pace{Percent: 10, Floor: 16 << 20}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	runtime.GC()
	go func() { p.Run(ctx, 10*time.Millisecond); close(done) }()
	wait := func(what string, want func(int64) bool) {
		t.Helper()
		for start := time.Now(); !want(gogc()); time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: GOGC is %d, live heap %d", what, gogc(), liveHeap())
			}
		}
	}
	small := int64(p.GOGC(liveHeap()))
	wait("a small heap", func(g int64) bool { return g > 100 && g >= small*9/10 })
	// Keep 512 MiB live: the floor is now less than 10 % of it.
	hold := make([][]byte, 512)
	for i := range hold {
		hold[i] = make([]byte, 1<<20)
	}
	runtime.GC()
	wait("a large heap", func(g int64) bool { return g == 10 })
	runtime.KeepAlive(hold)
	cancel()
	<-done
}
