package sequencer_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/durable"
)

// BenchmarkAppendBesideViews measures ordinary appends (16 writers, one
// event each, SQLite on this machine's disk) while one viewer appends
// views with AppendPublished, whose checkpoint is kept the way the vault
// keeps its sticky head: the note written to two files, each replaced
// durably (the keyring folder's head.checkpoint and the filesystem
// object store's head object). It reports the ordinary appends' p50 and
// p99 in milliseconds and the views appended per second; "alone" is the
// same appends with no viewer:
//
//	go test ./events/sequencer -run '^$' -bench AppendBesideViews -benchtime 20000x -count 3
func BenchmarkAppendBesideViews(b *testing.B) {
	b.Run("alone", func(b *testing.B) { benchAppends(b, false) })
	b.Run("beside-views", func(b *testing.B) { benchAppends(b, true) })
}

func benchAppends(b *testing.B, viewer bool) {
	f := newFixture(b)
	st := openStore(b, f)
	defer st.Close()
	dir := b.TempDir()
	seq, err := sequencer.Open(context.Background(), sequencer.Config{
		Store: st, Origin: origin, Signer: f.signer, Verifier: f.verifier,
		BeforePublish: func(_ context.Context, cp *events.Checkpoint) error {
			if err := durable.Replace(filepath.Join(dir, "head.checkpoint"), cp.Note); err != nil {
				return err
			}
			return durable.Replace(filepath.Join(dir, "head.object"), cp.Note)
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer seq.Close()
	ctx := context.Background()

	const writers = 16
	var views atomic.Int64
	stop := make(chan struct{})
	viewerDone := make(chan struct{})
	go func() {
		defer close(viewerDone)
		for viewer {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := seq.AppendPublished(ctx, sequencer.Draft{Type: "item.accessed", Item: "item"}); err != nil {
				b.Error(err)
				return
			}
			views.Add(1)
		}
	}()
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if _, err := seq.Append(ctx, sequencer.Draft{Type: "item.refused", Item: "other"}); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-viewerDone
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[len(all)*99/100]), "p99-ms")
	b.ReportMetric(float64(views.Load())/elapsed.Seconds(), "views/s")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "appends/s")
}
