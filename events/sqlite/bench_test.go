package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

func BenchmarkAppend32(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "b.db"))
	defer s.Close()
	payload := []byte(`{"v":1,"seq":0,"id":"x","data":"` + strings.Repeat("x", 400) + `"}`)
	var seq uint64
	for b.Loop() {
		recs := make([]events.Record, 32)
		for i := range recs {
			recs[i] = events.Record{Seq: seq, ID: events.NewID(), Case: "KH-2026-0142", Item: "it_0123456789abcdef01234567", Bytes: payload}
			seq++
		}
		if err := s.Append(context.Background(), seq-32, recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "events/s")
}
