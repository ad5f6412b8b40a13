package pkgformat

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
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
	ev := func(seq uint64, leaf string) Event { return Event{Seq: seq, LeafHash: strings.Repeat(leaf, 32)} }
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

// TestSameHistoryFromProofs: two packages of a log rewritten from event
// 12 on list no event position in common beyond a deposit both hold, but
// the inclusion proofs of both show the subtree of events 8 to 15 (one
// beside its path, the other along it): its two hashes prove the fork. Two packages of one history, of different
// sizes, show none, whatever events they list.
func TestSameHistoryFromProofs(t *testing.T) {
	leaf := func(s string) events.Hash { return events.LeafHash([]byte(s)) }
	var one, forked events.Tree
	for i := range 24 {
		one.Append(leaf(fmt.Sprintf("event %d", i)))
		if i < 12 {
			forked.Append(leaf(fmt.Sprintf("event %d", i)))
		} else {
			forked.Append(leaf(fmt.Sprintf("rewritten %d", i)))
		}
	}
	pkg := func(t *testing.T, tree *events.Tree, size uint64, seqs ...uint64) *Report {
		t.Helper()
		root, _ := tree.Root(size)
		rep := &Report{Manifest: &Manifest{Origin: "custos-test", LogKey: "custos-test+01234567+AAAA"},
			Checkpoint: &events.Checkpoint{Origin: "custos-test", Size: size, Root: root}, Proofs: Proofs{TreeSize: size, Proofs: map[string][]string{}}}
		for _, seq := range seqs {
			l, _ := tree.Leaf(seq)
			rep.Manifest.Events = append(rep.Manifest.Events, Event{Seq: seq, LeafHash: l.String()})
			p, err := tree.InclusionProof(seq, size)
			if err != nil {
				t.Fatal(err)
			}
			var hs []string
			for _, h := range p {
				hs = append(hs, hex.EncodeToString(h))
			}
			rep.Proofs.Proofs[strconv.FormatUint(seq, 10)] = hs
			if err := events.VerifyInclusion(seq, size, l, p, root); err != nil {
				t.Fatal(err)
			}
		}
		return rep
	}
	before := pkg(t, &one, 16, 3, 13)
	after := pkg(t, &forked, 21, 3, 18)
	err := SameHistory(before, after)
	if !errors.Is(err, ErrForkedHistory) || !strings.Contains(err.Error(), "of events 8 to 15 of the log") {
		t.Fatalf("a fork shown by the proofs alone: %v", err)
	}
	if err := SameHistory(after, before); !errors.Is(err, ErrForkedHistory) {
		t.Fatalf("the other way round: %v", err)
	}
	for _, c := range [][2]*Report{
		{pkg(t, &one, 16, 3, 13), pkg(t, &one, 21, 3, 18)},
		{pkg(t, &one, 5, 0, 4), pkg(t, &one, 24, 23, 7, 12)},
		{pkg(t, &forked, 13, 12), pkg(t, &forked, 24, 2, 20)},
	} {
		if err := SameHistory(c[0], c[1]); err != nil {
			t.Errorf("one history, sizes %d and %d: %v", c[0].Checkpoint.Size, c[1].Checkpoint.Size, err)
		}
	}
}
