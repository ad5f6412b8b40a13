package main

import (
	"log/slog"
	"runtime/debug"
	"testing"
)

// A running server collects at serverGCPercent unless its operator set
// the Go collector through the environment, which then wins.
func TestServerGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		gogc, limit string
		want        int
	}{
		{"", "", serverGCPercent},
		{"200", "", 100},
		{"", "1GiB", 100},
		{"off", "", 100},
	} {
		t.Setenv("GOGC", tc.gogc)
		t.Setenv("GOMEMLIMIT", tc.limit)
		debug.SetGCPercent(100)
		setServerGC(slog.New(slog.DiscardHandler))
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("GOGC=%q GOMEMLIMIT=%q: the collector's target is %d, want %d", tc.gogc, tc.limit, got, tc.want)
		}
	}
}
