package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// AuditCheckpoints measures what an audit's memory owes to the number of
// checkpoints the log stored. A busy vault stores one for every second
// in which it wrote: millions over its life, about two events each at a
// national unit's pace, where the scale group's history has one for
// every 256 events. It generates a history of n events as the scale
// group does (generateHistory) but with an append, and so a stored
// checkpoint, for every two, starts the server, and runs `custos audit
// verify` against it, taking the peak resident set of the command and
// of the server during the audit (the server's high-water mark reset
// just before it: /proc/PID/clear_refs). Generating takes about 1.2 ms
// an event here (356 s for 300,000 events and 98,383 checkpoints); with
// keep, the folder is kept there and measured again by later runs.
func AuditCheckpoints(custos, dir string, n int, progress io.Writer, keep string) ([]Metric, error) {
	if progress == nil {
		progress = io.Discard
	}
	name := fmt.Sprintf("checkpoints-%d", n)
	data := filepath.Join(dir, name)
	if keep != "" {
		data = filepath.Join(keep, name)
	}
	logPath := data + ".log"
	g, err := keptHistory(data + ".json")
	if err != nil {
		return nil, err
	}
	if keep == "" {
		defer os.RemoveAll(data)
		defer os.Remove(logPath)
	}
	if g == nil {
		os.RemoveAll(data)
		os.Remove(logPath)
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		first, _, err := startScaleServer(custos, data, logPath, time.Minute)
		if err != nil {
			return nil, fmt.Errorf("first start: %w", err)
		}
		if err := first.stop(); err != nil {
			return nil, fmt.Errorf("stopping the first start: %w", err)
		}
		t0 := time.Now()
		if g, err = generateHistoryBatches(data, n, 2, logPath, progress); err != nil {
			return nil, fmt.Errorf("generating the history: %w", err)
		}
		g.Generated = time.Since(t0)
		if keep != "" {
			if err := keepHistory(data+".json", g); err != nil {
				return nil, err
			}
		}
	}
	fmt.Fprintf(progress, "checkpoints: %d events with %d checkpoints, generated in %.0f s\n", g.Size, g.Checkpoints, g.Generated.Seconds())
	s, _, err := startScaleServer(custos, data, logPath, time.Hour)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	defer s.stop()
	if err := s.settle(settleLimit(g.Size)); err != nil {
		return nil, err
	}
	pid := s.c.Process.Pid
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return nil, fmt.Errorf("resetting the server's peak resident set: %w", err)
	}
	before, err := processRSS(pid)
	if err != nil {
		return nil, err
	}
	av, err := scaleAuditVerify(custos, s.url, personCredential(data, "auditor"), dir)
	if err != nil {
		return nil, fmt.Errorf("audit verify: %w", err)
	}
	serverPeak, err := processPeakRSS(pid)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "checkpoints: audit verify of %d events in %.1f s, peak %.0f MiB; the server's peak %.0f MiB (%.0f before)\n",
		av.events, av.elapsed.Seconds(), av.peakMiB, serverPeak, before)
	at := fmt.Sprintf("_at_%dk_checkpoints", (g.Checkpoints+500)/1000)
	return []Metric{
		{"audit_checkpoints_stored", float64(g.Checkpoints), "checkpoints"},
		{"audit_verify_peak_rss_mib" + at, av.peakMiB, "MiB"},
		{"server_audit_peak_rss_mib" + at, serverPeak, "MiB"},
		{"audit_verify_events_per_s" + at, float64(av.events) / av.elapsed.Seconds(), "events/s"},
	}, nil
}
