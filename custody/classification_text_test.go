package custody

import (
	"strings"
	"testing"
)

// TestClassificationTextSaysADisagreementAndAMatchAlone: an item's
// classification line says first that its votes disagree (they settle
// nothing, whatever the policy), not as a routine vote; a line of a
// deposit's match alone, with no vote, says no one voted rather than the
// caveat about voters; agreeing votes keep the caveat.
func TestClassificationTextSaysADisagreementAndAMatchAlone(t *testing.T) {
	a, b := Person{Name: "ana1", Role: "analyst"}, Person{Name: "ana2", Role: "analyst"}
	match := []Match{{Set: "partner", Entry: 0, Category: "national", Algorithm: "sha256"}}
	for _, tc := range []struct {
		name      string
		it        Item
		want, not []string
	}{
		{"votes that disagree", Item{Votes: []Vote{{By: a, Category: "national", Seq: 30}, {By: b, Category: "baseline", Seq: 31}}},
			[]string{"votes that disagree, so that they settle no category however many agree, each person's latest: national by ana1", "baseline by ana2"}, []string{"no one has voted"}},
		{"votes that agree", Item{Votes: []Vote{{By: a, Category: "baseline", Seq: 30}, {By: b, Category: "baseline", Seq: 31}}},
			[]string{"votes, each person's latest: baseline by ana1", "not a settled category"}, []string{"disagree", "no one has voted"}},
		{"a match alone", Item{Matches: match},
			[]string{"matched at deposit: entry 0 of hash set partner", "no one has voted on the item"}, []string{"whether each voter", "disagree"}},
	} {
		got := ClassificationText(tc.it)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q says %q", tc.name, got, n)
			}
		}
	}
}
