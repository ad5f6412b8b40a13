package events

import (
	"errors"
	"fmt"
	"strings"
	"testing"
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
