package soak

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A resource grows when the median of the last third of its samples
// exceeds the median of the second third by more than its tolerance: the
// first third is the warm-up (caches, pools and connections filling), and
// medians ignore a sample taken in the middle of a burst. The tolerance is
// the larger of an absolute and a relative allowance, plus an allowance
// per item deposited between the two thirds (the same medians of the
// deposit count).
type tolerance struct {
	abs, rel float64
	perItem  float64
}

// The allowances, per resource (docs/benchmarks.md, "2026-12-01: soak").
var (
	// Memory: the Go heap breathes with the garbage collector's pacing
	// and with the deposits in flight (each holds up to about 10 MiB of
	// chunks), and the vault keeps a record of every item in memory by
	// design, which the Go heap, at the default GOGC, holds up to twice
	// over. The allowance was set when that record was 1.5 to 2 KiB an
	// item (heap profiles of a soak); since items keep only a summary of
	// their deposit it is about 0.7 KiB (BenchmarkStateMemoryPerItem), so
	// the allowance is generous until a soak measures it again.
	rssTolerance = tolerance{abs: 16, rel: 0.25, perItem: 4.0 / 1024} // MiB
	// Open files: connections and objects being read or written at the
	// instant of the sample come and go.
	fdTolerance = tolerance{abs: 8}
	// Goroutines: one or two per request in flight.
	goroutineTolerance = tolerance{abs: 16}
)

// series is one sampled resource, with the number of items deposited at
// each sample.
type series struct {
	name  string
	unit  string
	tol   tolerance
	vals  []float64
	items []float64
}

func (s *series) add(v, items float64) {
	s.vals, s.items = append(s.vals, v), append(s.items, items)
}

// judge reports the medians compared and whether the series grew beyond
// its tolerance. It needs at least six samples.
func (s series) judge() (mid, last, limit float64, grew bool, err error) {
	n := len(s.vals)
	if n < 6 || len(s.items) != n {
		return 0, 0, 0, false, fmt.Errorf("%s: %d samples; at least 6 are needed to judge growth", s.name, n)
	}
	third := n / 3
	mid = median(s.vals[third : 2*third])
	last = median(s.vals[2*third:])
	deposited := median(s.items[2*third:]) - median(s.items[third:2*third])
	limit = mid + max(s.tol.abs, s.tol.rel*mid) + s.tol.perItem*max(deposited, 0)
	return mid, last, limit, last > limit, nil
}

func (s series) String() string {
	var b strings.Builder
	for i, v := range s.vals {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", v)
	}
	b.WriteString("; items deposited:")
	for _, v := range s.items {
		fmt.Fprintf(&b, " %.0f", v)
	}
	return s.name + " (" + s.unit + "): " + b.String()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// The judgement itself runs in `make test`: warm-up growth and a single
// spike pass, a steady climb fails, and too few samples cannot be judged.
func TestGrowthJudgement(t *testing.T) {
	// 12 samples; by default no item is deposited, or 1,000 between two
	// samples (4,000 between the thirds' medians, up to 15.6 MiB more
	// memory allowed).
	none := make([]float64, 12)
	steady := make([]float64, 12)
	for i := range steady {
		steady[i] = float64(1000 * i)
	}
	for _, c := range []struct {
		name  string
		vals  []float64
		items []float64
		grew  bool
	}{
		{"warm-up then flat", []float64{20, 45, 60, 61, 62, 60, 61, 63, 62, 61, 62, 64}, none, false},
		{"one spike at the end", []float64{60, 61, 60, 62, 61, 60, 61, 60, 61, 62, 61, 140}, none, false},
		{"steady climb", []float64{40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150}, none, true},
		{"a climb the items deposited explain", []float64{40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84}, steady, false},
		{"a climb beyond what the items explain", []float64{40, 55, 70, 85, 100, 115, 130, 145, 160, 175, 190, 205}, steady, true},
	} {
		s := series{name: c.name, unit: "MiB", tol: rssTolerance, vals: c.vals, items: c.items}
		mid, last, limit, grew, err := s.judge()
		if err != nil || grew != c.grew {
			t.Errorf("%s: medians %.1f -> %.1f (limit %.1f): grew %v, %v; want grew %v", c.name, mid, last, limit, grew, err, c.grew)
		}
	}
	if _, _, _, _, err := (series{name: "short", vals: []float64{1, 2, 3, 4, 5}, items: make([]float64, 5)}).judge(); err == nil {
		t.Error("five samples were judged")
	}
}
