package vault

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// gatedStore holds back the append of the first batch that carries an
// event of type typ until release is closed.
type gatedStore struct {
	events.Store
	typ     string
	once    sync.Once
	entered chan struct{}
	release chan struct{}
	armed   bool
	mu      sync.Mutex
}

func (g *gatedStore) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	g.mu.Lock()
	armed := g.armed
	g.mu.Unlock()
	if armed {
		for _, r := range recs {
			if ev, err := events.Decode(r.Bytes); err == nil && ev.Type == g.typ {
				g.once.Do(func() { close(g.entered) })
				<-g.release
				break
			}
		}
	}
	return g.Store.Append(ctx, expected, recs, cp)
}

// TestAttackKnownCheckIsNotAtTheEventsPosition: Open decides whether an
// item is known material before its access event, and the precondition
// checked at the event's position (pre) only looks at membership and
// destruction. A vote that settles the item as baseline, ahead of the
// access event in the log, does not stop the reveal: the access event is
// recorded without an override and the plaintext is served, although at
// the event's position the item is known material (DESIGN: "a
// decision's precondition holds at the position its event takes in the
// log").
func TestAttackKnownCheckIsNotAtTheEventsPosition(t *testing.T) {
	g := &gatedStore{typ: TypeItemClassified, entered: make(chan struct{}), release: make(chan struct{})}
	h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g })
	it := h.deposit(t, h.a1, "capture.png", []byte("a capture nobody has classified"), "")
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	voted := make(chan error, 1)
	go func() {
		_, err := h.v.Classify(h.ctx, h.a2, it.ID, ClassifyRequest{Category: CategoryBaseline})
		voted <- err
	}()
	<-g.entered // the vote's event is being written, ahead of anything that follows
	opened := make(chan error, 1)
	var rev *Reveal
	go func() {
		var err error
		rev, err = h.v.Open(h.ctx, h.a1, RevealRequest{Item: it.ID, Purpose: "review"})
		opened <- err
	}()
	time.Sleep(300 * time.Millisecond) // Open has decided "not known" and waits for its position
	close(g.release)
	if err := <-voted; err != nil {
		t.Fatal(err)
	}
	err := <-opened
	if err == nil {
		io.Copy(io.Discard, rev)
		rev.Finish(h.ctx)
	}
	now, _, _ := h.v.state.getItem(it.ID)
	known, kerr := h.v.knownBecause(context.Background(), now, nil)
	if kerr != nil {
		t.Fatal(kerr)
	}
	if err == nil && known != "" {
		var d ItemAccessed
		acc := h.eventsOf(t, TypeItemAccessed)
		if votes := h.eventsOf(t, TypeItemClassified); votes[0].Seq > acc[len(acc)-1].Seq {
			t.Skip("the vote landed after the access: no race shown this time")
		}
		acc[len(acc)-1].DecodeData(&d)
		t.Fatalf("an item settled as baseline by the event before the access was revealed without the override (override %q; known now: %q)", d.Override, known)
	}
	if err != nil && !errors.Is(err, ErrForbidden) {
		t.Fatal(err)
	}
}
