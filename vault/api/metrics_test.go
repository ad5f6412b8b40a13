package api

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// GET /metrics answers without sign-in: the custody log's figures and the
// standard process metrics, each with its HELP and TYPE lines.
func TestMetrics(t *testing.T) {
	tv := newTestVault(t, Options{})
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"M-1","title":"metrics"}`); a.code != 201 {
		t.Fatalf("open case: %d %s", a.code, a.body)
	}
	a := tv.do("", "GET", "/metrics", "", nil)
	if a.code != 200 || a.header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("/metrics: %d %q", a.code, a.header.Get("Content-Type"))
	}
	value := func(name string) (uint64, bool) {
		t.Helper()
		m := regexp.MustCompile(`(?m)^# HELP ` + name + ` .+\n# TYPE ` + name + ` (gauge|counter)\n` + name + ` (\d+)$`).FindStringSubmatch(a.body)
		if m == nil {
			return 0, false
		}
		n, err := strconv.ParseUint(m[2], 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n, true
	}
	if n, ok := value("custos_log_events"); !ok || n == 0 {
		t.Errorf("custos_log_events: %d, %v\n%s", n, ok, a.body)
	}
	for _, name := range []string{"custos_log_checkpoint_size", "custos_log_checkpoint_failures_total", "custos_log_tiles_repaired_total"} {
		if _, ok := value(name); !ok {
			t.Errorf("no %s\n%s", name, a.body)
		}
	}
	if n, ok := value("go_goroutines"); !ok || n == 0 {
		t.Errorf("go_goroutines: %d, %v\n%s", n, ok, a.body)
	}
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("no /proc: the process metrics are left out")
	}
	fds, ok := value("process_open_fds")
	if !ok || fds == 0 {
		t.Errorf("process_open_fds: %d, %v\n%s", fds, ok, a.body)
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil && (fds+16 < uint64(len(ents)) || fds > uint64(len(ents))+16) {
		t.Errorf("process_open_fds %d, /proc/self/fd has %d", fds, len(ents))
	}
	rss, ok := value("process_resident_memory_bytes")
	if !ok || rss < 1<<20 || rss > 1<<40 {
		t.Errorf("process_resident_memory_bytes: %d, %v\n%s", rss, ok, a.body)
	}
}
