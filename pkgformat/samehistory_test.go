package pkgformat

import (
	"errors"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestSameHistory: two packages of one log prove a fork by an event
// position both list with two leaf hashes, or by two checkpoints of one
// size with two roots; packages whose lists agree where they overlap, of
// checkpoints of different sizes, show none.
func TestSameHistory(t *testing.T) {
	report := func(size uint64, root byte, evs ...Event) *Report {
		var r events.Hash
		r[0] = root
		return &Report{Manifest: &Manifest{Origin: "custos-test", LogKey: "custos-test+01234567+AAAA", Events: evs},
			Checkpoint: &events.Checkpoint{Origin: "custos-test", Size: size, Root: r}}
	}
	ev := func(seq uint64, leaf string) Event { return Event{Seq: seq, LeafHash: leaf} }
	for _, c := range []struct {
		name string
		a, b *Report
		want string
	}{
		{"agree where they overlap", report(20, 1, ev(3, "aa"), ev(16, "bb")), report(24, 2, ev(3, "aa"), ev(21, "cc")), ""},
		{"no position in common", report(20, 1, ev(16, "bb")), report(24, 2, ev(21, "cc")), ""},
		{"one position, two events", report(20, 1, ev(3, "aa"), ev(16, "bb"), ev(17, "dd")), report(24, 2, ev(3, "aa"), ev(17, "ee"), ev(16, "cc")),
			"each proves a different event 16 in the log"},
		{"one size, two roots", report(20, 1, ev(3, "aa")), report(20, 2, ev(3, "aa")), "checkpoint of 20 events"},
	} {
		err := SameHistory(c.a, c.b)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrForkedHistory) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a fork naming %q", c.name, err, c.want)
		}
		if err2 := SameHistory(c.b, c.a); !errors.Is(err2, ErrForkedHistory) {
			t.Errorf("%s, the other way round: %v", c.name, err2)
		}
	}
}
