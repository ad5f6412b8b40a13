package sqlite_test

import (
	"context"
	"database/sql"
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

// BenchmarkReadEvents reads a log of 100,000 events of about 480 bytes as
// the replay and the audit do (ReadTransient), each value through its
// bound (bounded.go), beside the same rows read by a plain SELECT of the
// columns: the difference is what the bounds cost a read (ns/event).
func BenchmarkReadEvents(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "b.db")
	s := open(b, path)
	defer s.Close()
	payload := []byte(`{"v":1,"seq":0,"id":"x","data":"` + strings.Repeat("x", 400) + `"}`)
	for seq := uint64(0); seq < n; seq += 1000 {
		recs := make([]events.Record, 1000)
		for i := range recs {
			recs[i] = events.Record{Seq: seq + uint64(i), ID: events.NewID(), Case: "KH-2026-0142", Item: "it_0123456789abcdef01234567", Bytes: payload}
		}
		if err := s.Append(context.Background(), seq, recs, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("bounded", func(b *testing.B) {
		for b.Loop() {
			got := 0
			if err := s.ReadTransient(context.Background(), 0, func(events.Record) error { got++; return nil }); err != nil || got != n {
				b.Fatal(got, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	})
	b.Run("plain", func(b *testing.B) {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		for b.Loop() {
			rows, err := db.Query(`SELECT seq, id, case_id, item_id, bytes FROM events WHERE seq >= 0 ORDER BY seq`)
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			var seq int64
			var id, c, it string
			var raw sql.RawBytes
			for rows.Next() {
				if err := rows.Scan(&seq, &id, &c, &it, &raw); err != nil {
					b.Fatal(err)
				}
				got++
			}
			rows.Close()
			if got != n {
				b.Fatal(got)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	})
}
