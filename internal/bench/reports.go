package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/caseuco"
	"github.com/custos-vault/custos/custody/pdfreport"
	"github.com/custos-vault/custos/events"
)

// CustodyReports times the court documents of a case whose one item has
// n custody events (a deposit, then views and their completions): the
// record built from the events, the text report, the PDF report and the
// CASE/UCO export, each the median of rounds runs; and the PDF's size.
func CustodyReports(n, rounds int) ([]Metric, error) {
	raws, report, err := reportEvents(n)
	if err != nil {
		return nil, err
	}
	in := custody.Input{Case: "KH-2026-001", Events: raws, Report: report, Generator: "custos-bench",
		Checkpoint: custody.Checkpoint{Origin: benchOrigin, Size: uint64(len(raws) + 1), Root: strings.Repeat("A", 43) + "=", LogKeyFingerprint: strings.Repeat("ab", 32)}}
	var rec *custody.Record
	var pdf, ld bytes.Buffer
	steps := []struct {
		name string
		f    func() error
	}{
		{"build", func() (err error) { rec, err = custody.Build(in); return err }},
		{"text", func() error { custody.Text(rec); return nil }},
		{"pdf", func() error { pdf.Reset(); return pdfreport.Render(&pdf, rec) }},
		{"caseuco", func() error { ld.Reset(); return caseuco.Export(&ld, rec) }},
	}
	var out []Metric
	for _, s := range steps {
		var times []time.Duration
		for range rounds {
			start := time.Now()
			if err := s.f(); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		out = append(out, Metric{Name: fmt.Sprintf("report_%s_%d_events_ms", s.name, n), Value: float64(times[len(times)/2].Microseconds()) / 1000, Unit: "ms"})
	}
	out = append(out, Metric{Name: fmt.Sprintf("report_pdf_%d_events_bytes", n), Value: float64(pdf.Len()), Unit: "bytes"},
		Metric{Name: fmt.Sprintf("report_caseuco_%d_events_bytes", n), Value: float64(ld.Len()), Unit: "bytes"})
	return out, nil
}

// reportEvents makes the events of a case with one item of n events and
// an on-demand report, encoded as the log stores them.
func reportEvents(n int) ([]custody.Raw, uint64, error) {
	var raws []custody.Raw
	var prev events.Hash
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	inv := events.Actor{Person: "sreypov", Role: "investigator", Auth: "local", Session: "se_0123456789abcdef01234567"}
	add := func(typ, item string, a events.Actor, data map[string]any) error {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		at = at.Add(time.Minute)
		e := &events.Event{V: 1, Seq: uint64(len(raws) + 1), ID: events.NewID(), Type: typ, Time: events.FormatTime(at), Actor: a,
			Case: "KH-2026-001", Item: item, Data: b, Prev: prev.String()}
		raw, err := events.Encode(e)
		if err != nil {
			return err
		}
		prev = events.LeafHash(raw)
		raws = append(raws, custody.Raw{Seq: e.Seq, Bytes: raw})
		return nil
	}
	sum := strings.Repeat("5e", 32)
	if err := add("case.opened", "", inv, map[string]any{"title": "Live-streamed abuse, report 118", "recipient": "age1x", "sealer": "soft", "members": []string{"sreypov"}}); err != nil {
		return nil, 0, err
	}
	if err := add("item.deposited", "it_1", inv, map[string]any{"name": "DCIM/ស្រីពៅ.mp4", "size": 734003200, "sha256": sum, "sha1": strings.Repeat("1", 40),
		"md5": strings.Repeat("2", 32), "object": "o", "ciphertext_size": 1, "ciphertext_sha256": sum}); err != nil {
		return nil, 0, err
	}
	for i := 2; i < n; i += 2 {
		if err := add("item.accessed", "it_1", inv, map[string]any{"purpose": fmt.Sprintf("identify the victim's location, review %d", i/2), "access": "view"}); err != nil {
			return nil, 0, err
		}
		if err := add("item.access.completed", "it_1", inv, map[string]any{"access_event": "x", "bytes": 734003200, "sha256": sum}); err != nil {
			return nil, 0, err
		}
	}
	aud := events.Actor{Person: "auditor", Role: "auditor", Auth: "local", Session: "se_1"}
	if err := add("custody.report", "", aud, map[string]any{"format": "pdf", "purpose": "for the hearing"}); err != nil {
		return nil, 0, err
	}
	return raws, uint64(len(raws)), nil
}
