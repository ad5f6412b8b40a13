package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/gcpace"
)

// A running server paces its collector by serverGCPace, and audit
// verify's replay by replayGCPace (at least the floor's headroom over the
// live heap, so never less than the pace's share), unless the Go
// collector was set through the environment, which then wins.
func TestGCPace(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, p := range []struct {
		name string
		set  func(context.Context)
		pace gcpace.Pace
	}{
		{"server", func(ctx context.Context) { setServerGC(ctx, slog.New(slog.DiscardHandler)) }, serverGCPace},
		{"audit verify", func(ctx context.Context) {
			stop := setReplayGC()
			context.AfterFunc(ctx, stop)
		}, replayGCPace},
	} {
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
			p.set(ctx)
			got := debug.SetGCPercent(100)
			// The pace stops at the first collection after its context
			// ends, before the next case.
			cancel()
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
			if !tc.paced && got != 100 {
				t.Errorf("%s, GOGC=%q GOMEMLIMIT=%q: the collector's target is %d, want the environment's (100 here)", p.name, tc.gogc, tc.limit, got)
			}
			// A test binary's live heap is a few megabytes: the floor
			// sets it.
			if tc.paced && (got <= p.pace.Percent || got == 100) {
				t.Errorf("%s, paced: the collector's target is %d, want above %d (the floor over a small heap)", p.name, got, p.pace.Percent)
			}
		}
	}
}

// audit verify paces its collector while it runs, and puts back the
// target it found when it ends, on every way out (here, a store that
// cannot be opened).
func TestAuditVerifyPacesItsCollector(t *testing.T) {
	started, stopped := 0, 0
	defer func(f func() func()) { paceReplayGC = f }(paceReplayGC)
	paceReplayGC = func() func() {
		started++
		return func() { stopped++ }
	}
	var out, errOut bytes.Buffer
	err := run([]string{"audit", "verify", "--store", filepath.Join(t.TempDir(), "missing.db"), "--key", "vault.key"}, &out, &errOut)
	if err == nil {
		t.Fatal("audit verify of a missing store succeeded")
	}
	if started != 1 || stopped != 1 {
		t.Fatalf("the pace was started %d times and stopped %d, want once each", started, stopped)
	}
}
