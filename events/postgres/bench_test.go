package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// BenchmarkAppend measures group-commit throughput: one transaction (and
// one synchronous commit) per batch of ~450-byte events.
func BenchmarkAppend(b *testing.B) {
	pg := testenv.SharedPostgres(b)
	for _, batch := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b, pg.URL(b, b.Name()))
			defer s.Close()
			var c chainer
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				recs := c.recs(batch)
				if err := s.Append(context.Background(), recs[0].Seq, recs, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
