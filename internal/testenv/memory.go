package testenv

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// ResetPeakMemory resets this process's peak resident memory (Linux's
// VmHWM, by writing 5 to /proc/self/clear_refs, Linux 4.0 and later) and
// returns it as it is after the reset, in bytes, so that a test can
// measure what a step loads: PeakMemory after it, less this. It skips
// the test where the peak cannot be reset or read.
func ResetPeakMemory(t testing.TB) int {
	t.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak memory to measure it: %v", err)
	}
	return PeakMemory(t)
}

// PeakMemory is this process's peak resident memory since it started or
// since ResetPeakMemory, in bytes (VmHWM in /proc/self/status). It skips
// the test where that cannot be read.
func PeakMemory(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("reading %q: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}
