package sequencer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// slowStore takes about the time of a disk's commit for each append and
// records how many events each append held.
type slowStore struct {
	events.Store
	delay   time.Duration
	mu      sync.Mutex
	batches []int
}

func (s *slowStore) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	time.Sleep(s.delay)
	err := s.Store.Append(ctx, expected, recs, cp)
	if err == nil && len(recs) > 0 {
		s.mu.Lock()
		s.batches = append(s.batches, len(recs))
		s.mu.Unlock()
	}
	return err
}

// TestWritersWhoComeBackShareOneBatch: writers that each append one event
// at a time, and append again as soon as they are answered, end up in one
// batch a commit rather than in two that alternate. A batch that stopped
// at half of the one before (the rule this replaced) made the writers
// split into two halves for good, each waiting for the other's commit:
// half the events a commit, at the same cost per commit.
func TestWritersWhoComeBackShareOneBatch(t *testing.T) {
	f := newFixture(t)
	st := &slowStore{Store: openStore(t, f), delay: 3 * time.Millisecond}
	defer st.Close()
	seq := f.start(t, sequencer.Config{
		Store: st, CheckpointInterval: time.Hour,
	})
	defer seq.Close()
	const writers, rounds = 32, 40
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				if _, err := seq.Append(ctx, sequencer.Draft{Type: "view", Case: "case-1", Data: map[string]int{"writer": w}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	st.mu.Lock()
	batches := st.batches
	st.mu.Unlock()
	// The first batches form as the writers start; the rest are measured.
	steady := batches[min(5, len(batches)):]
	sum := 0
	for _, n := range steady {
		sum += n
	}
	if len(steady) == 0 {
		t.Fatalf("%d batches in all", len(batches))
	}
	mean := float64(sum) / float64(len(steady))
	t.Logf("%d batches, %.1f events each after the first 5", len(batches), mean)
	if mean < 0.7*writers {
		t.Fatalf("batches of %.1f events on average for %d writers who come back at once: want at least %.0f (all sizes: %v)", mean, writers, 0.7*writers, batches)
	}
	seq.Close()
	if res := f.audit(t); res.Events != writers*rounds {
		t.Fatalf("log has %d events, want %d", res.Events, writers*rounds)
	}
}
