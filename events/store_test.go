package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPageCheckpoints: pages follow one another from after the last size
// of the one before, fn sees every checkpoint once and in order, its
// error ends the read, and a page that answers sizes below what it was
// asked for (an altered store, which would make the loop go round
// forever) is an error.
func TestPageCheckpoints(t *testing.T) {
	stored := []uint64{2, 3, 5, 8, 13, 21, 34}
	page := func(from uint64) ([]StoredCheckpoint, error) {
		var out []StoredCheckpoint
		for _, s := range stored {
			if s >= from && len(out) < 3 {
				out = append(out, StoredCheckpoint{Size: s})
			}
		}
		return out, nil
	}
	var got []uint64
	if err := PageCheckpoints(4, 3, page, func(c StoredCheckpoint) error { got = append(got, c.Size); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[5 8 13 21 34]" {
		t.Fatalf("from 4 in pages of 3: %v", got)
	}
	stop := errors.New("stop")
	n := 0
	if err := PageCheckpoints(0, 3, page, func(StoredCheckpoint) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("fn's error: %v after %d", err, n)
	}
	stuck := func(uint64) ([]StoredCheckpoint, error) {
		return []StoredCheckpoint{{Size: 1}, {Size: 2}, {Size: 3}}, nil
	}
	calls := 0
	err := PageCheckpoints(10, 3, func(from uint64) ([]StoredCheckpoint, error) { calls++; return stuck(from) }, func(StoredCheckpoint) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "the store was altered") || calls != 1 {
		t.Fatalf("a page below what was asked: %v after %d pages", err, calls)
	}
}

type pagedCheckpoints struct {
	n    uint64
	fail error
}

func (p pagedCheckpoints) ReadCheckpoints(ctx context.Context, from uint64, fn func(StoredCheckpoint) error) error {
	for s := max(from, 1); s <= p.n; s++ {
		if err := fn(StoredCheckpoint{Size: s, Note: []byte(fmt.Sprint(s))}); err != nil {
			return err
		}
	}
	return p.fail
}

// TestCheckpointCursor: checkpoints are pulled in order from a size, a
// read's error comes after those read before it, and Close returns while
// the reader waits on a full channel.
func TestCheckpointCursor(t *testing.T) {
	ctx := context.Background()
	c := OpenCheckpointCursor(ctx, pagedCheckpoints{n: 10}, 4)
	if first, err := c.Peek(); err != nil || first.Size != 4 || string(first.Note) != "4" {
		t.Fatalf("first: %+v %v", first, err)
	}
	if n, err := c.Count(); n != 7 || err != nil {
		t.Fatalf("count from 4 of 10: %d %v", n, err)
	}
	c.Close()

	boom := errors.New("boom")
	c = OpenCheckpointCursor(ctx, pagedCheckpoints{n: 3, fail: boom}, 0)
	if n, err := c.Count(); n != 3 || !errors.Is(err, boom) {
		t.Fatalf("a read that fails after 3: %d %v", n, err)
	}
	c.Close()

	c = OpenCheckpointCursor(ctx, pagedCheckpoints{n: 100000, fail: boom}, 0)
	c.Peek()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while the reader waited")
	}
}
