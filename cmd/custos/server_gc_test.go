package main

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// A running server paces its collector by serverGCPace (at least the
// floor's headroom over the live heap, so never less than its share)
// unless its operator set the Go collector through the environment,
// which then wins.
func TestServerGCPace(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		gogc, limit string
		paced       bool
	}{
		{"", "", true},
		{"200", "", false},
		{"", "1GiB", false},
		{"off", "", false},
	} {
		t.Setenv("GOGC", tc.gogc)
		t.Setenv("GOMEMLIMIT", tc.limit)
		debug.SetGCPercent(100)
		ctx, cancel := context.WithCancel(context.Background())
		setServerGC(ctx, slog.New(slog.DiscardHandler))
		got := debug.SetGCPercent(100)
		// The pace stops at the first collection after its context
		// ends, before the next case.
		cancel()
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		if !tc.paced && got != 100 {
			t.Errorf("GOGC=%q GOMEMLIMIT=%q: the collector's target is %d, want the environment's (100 here)", tc.gogc, tc.limit, got)
		}
		// A test binary's live heap is a few megabytes: the floor sets it.
		if tc.paced && (got <= serverGCPace.Percent || got == 100) {
			t.Errorf("paced: the collector's target is %d, want above %d (the floor over a small heap)", got, serverGCPace.Percent)
		}
	}
}
