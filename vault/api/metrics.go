package api

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/vault"
)

// metrics answers GET /metrics in the Prometheus text exposition format
// (version 0.0.4): the custody log's size and checkpoint, each witness's
// and time-stamping authority's state, and the standard process metrics
// (go_goroutines, and where /proc has them process_open_fds and
// process_resident_memory_bytes) that show a leak. Nothing here names a
// case, an item or a person.
func (h *Handler) metrics(w http.ResponseWriter, r *http.Request, _ vault.Principal) error {
	var b strings.Builder
	gauge := func(name, help, typ string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	gauge("custos_log_events", "Events in the custody log.", "gauge")
	fmt.Fprintf(&b, "custos_log_events %d\n", h.v.Log().Size())
	gauge("custos_log_checkpoint_size", "Events covered by the newest signed checkpoint.", "gauge")
	size := uint64(0)
	if cp := h.v.Log().LatestCheckpoint(); cp != nil {
		size = cp.Size
	}
	fmt.Fprintf(&b, "custos_log_checkpoint_size %d\n", size)
	gauge("custos_log_checkpoint_failures_total", "Attempts to publish a checkpoint of the custody log (sign it and keep it as the sticky head) that failed; while they fail, views and package retrievals are refused.", "counter")
	fmt.Fprintf(&b, "custos_log_checkpoint_failures_total %d\n", h.v.Log().CheckpointFailures())
	_, repaired := h.v.Log().Tree().Stats()
	gauge("custos_log_tiles_repaired_total", "Tiles found altered or missing on disk and rewritten from the log (at a start that replays it, or when first read after a start from a state snapshot).", "counter")
	fmt.Fprintf(&b, "custos_log_tiles_repaired_total %d\n", repaired)
	if st := h.v.WitnessStatus(); st != nil {
		witnessed := uint64(0)
		if cp, _ := h.v.PublicCheckpoint(); cp != nil {
			witnessed = cp.Size
		}
		gauge("custos_log_witnessed_size", "Events covered by the newest checkpoint whose cosignatures meet the witness quorum.", "gauge")
		fmt.Fprintf(&b, "custos_log_witnessed_size %d\n", witnessed)
		for _, m := range []struct {
			name, help, typ string
			value           func(i int) uint64
		}{
			{"custos_witness_size", "The checkpoint size the witness last cosigned or said it holds.", "gauge", func(i int) uint64 { return st[i].Size }},
			{"custos_witness_cosigned_total", "Checkpoints the witness cosigned since the server started.", "counter", func(i int) uint64 { return st[i].Cosigned }},
			{"custos_witness_failures_total", "Attempts to have the witness cosign that failed.", "counter", func(i int) uint64 { return st[i].Failures }},
			{"custos_witness_forks_total", "Answers of the witness showing a history this log does not extend (rollback or fork).", "counter", func(i int) uint64 { return st[i].Forks }},
		} {
			gauge(m.name, m.help, m.typ)
			for i := range st {
				fmt.Fprintf(&b, "%s{witness=%q} %d\n", m.name, st[i].Name, m.value(i))
			}
		}
	}
	if ts := h.v.TSAStatus(); ts != nil {
		for _, m := range []struct {
			name, help, typ string
			value           func(i int) uint64
		}{
			{"custos_tsa_stamped_size", "The newest checkpoint size the time-stamping authority time-stamped.", "gauge", func(i int) uint64 { return ts[i].Size }},
			{"custos_tsa_stamped_total", "Time-stamp tokens the authority issued since the server started.", "counter", func(i int) uint64 { return ts[i].Stamped }},
			{"custos_tsa_failures_total", "Time-stamp requests to the authority that failed.", "counter", func(i int) uint64 { return ts[i].Failures }},
		} {
			gauge(m.name, m.help, m.typ)
			for i := range ts {
				fmt.Fprintf(&b, "%s{tsa=%q} %d\n", m.name, ts[i].URL, m.value(i))
			}
		}
	}
	gauge("go_goroutines", "Number of goroutines that currently exist.", "gauge")
	fmt.Fprintf(&b, "go_goroutines %d\n", runtime.NumGoroutine())
	if n, ok := openFDs(); ok {
		gauge("process_open_fds", "Number of open file descriptors.", "gauge")
		fmt.Fprintf(&b, "process_open_fds %d\n", n)
	}
	if n, ok := residentBytes(); ok {
		gauge("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge")
		fmt.Fprintf(&b, "process_resident_memory_bytes %d\n", n)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
	return nil
}

// openFDs counts the process's open file descriptors (/proc/self/fd,
// Linux); false where there is no such folder.
func openFDs() (int, bool) {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return 0, false
	}
	// The descriptor that reads the folder is not one of the process's own.
	return max(len(names)-1, 0), true
}

// residentBytes is the process's resident set size (the second field of
// /proc/self/statm, in pages; Linux); false where there is no such file.
func residentBytes() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}
