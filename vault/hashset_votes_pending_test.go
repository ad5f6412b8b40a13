package vault

import (
	"path/filepath"
	"strings"
	"testing"
)

// A listed item keeps its hash set's category while votes short of the
// case's policy, or disagreeing, settle nothing (classify.go: "where no
// vote settles it, a category inherited from a known-illegal hash set
// stands"): in a case that asks three agreeing votes, one analyst's
// vote, of a graver or of a milder category, does not take the item's
// category out of a report's forward, a VICS list or the statistics,
// while it does not either under one vote (the policy the check was
// first written against).
func TestOneVoteShortOfThePolicyLeavesTheSetsCategory(t *testing.T) {
	for _, vote := range []string{CategoryNational, CategoryNotIllegal} {
		t.Run(vote, func(t *testing.T) {
			h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
			v, ctx := h.v, h.ctx
			listed := h.listedBaseline(t)
			if _, err := v.SetClassificationPolicy(ctx, h.cust, "HL-1", 3, "three analysts agree, as CAID asks"); err != nil {
				t.Fatal(err)
			}
			rp := h.assessedReport(t, "https://host.example/album/9")
			it := h.deposit(t, h.a1, "capture.jpg", listed, rp)
			if _, err := v.Classify(ctx, h.a2, it.ID, ClassifyRequest{Category: vote}); err != nil {
				t.Fatal(err)
			}
			item, _, _ := v.state.getItem(it.ID)
			cl := v.classification(item)
			if cl.Category != CategoryBaseline || cl.Source != "hashset" || cl.Tally[vote] != 1 || cl.Needed != 3 {
				t.Fatalf("one %s vote of three asked: %+v", vote, cl)
			}
			// The analyst's lists say the set's category, the item
			// known, and the vote pending beside it.
			rv, err := v.ReportDetail(ctx, h.a1, rp)
			if err != nil || len(rv.Captures) != 1 {
				t.Fatalf("report detail: %+v, %v", rv, err)
			}
			if c := rv.Captures[0]; c.Category != CategoryBaseline || c.Classification != "hashset" || c.Known == "" || c.Votes != 1 || c.Voted != vote {
				t.Fatalf("the report's capture after one %s vote: %+v", vote, c)
			}
			list, err := v.Items(ctx, h.a1, "HL-1", ItemFilter{})
			if err != nil || len(list) != 1 || list[0].Category != CategoryBaseline || list[0].Known == "" || list[0].Votes != 1 || list[0].Voted != vote {
				t.Fatalf("item list after one %s vote: %+v, %v", vote, list, err)
			}
			vics, err := v.ForwardReport(ctx, h.a1, rp, "partner hotline", "hotline", "vics")
			if err != nil || vics.Items != 1 || !strings.Contains(string(vics.Body), `"Category": 1`) {
				t.Fatalf("the VICS forward after one %s vote: %v, %s", vote, err, body(vics))
			}
			csv, err := v.ForwardReport(ctx, h.a1, rp, "partner hotline", "hotline", "csv")
			if err != nil || !strings.Contains(string(csv.Body), `,"baseline",`) {
				t.Fatalf("the CSV forward after one %s vote: %v, %s", vote, err, body(csv))
			}
			s, err := v.Statistics(ctx, h.cust, item.At.Time().Add(-60e9), item.At.Time().Add(60e9))
			if err != nil || s.ByCategory[CategoryBaseline] != 1 || s.ByCategory[""] != 0 {
				t.Fatalf("statistics after one %s vote: %+v, %v", vote, s.ByCategory, err)
			}
		})
	}
}

func body(l *HashList) string {
	if l == nil {
		return "(none)"
	}
	return string(l.Body)
}

// OtherMeanings names what a set's entries mean only where some mean
// other than the set's category, not-illegal first.
func TestOtherMeanings(t *testing.T) {
	for _, c := range []struct {
		counts   map[string]int
		category string
		want     string
	}{
		{nil, CategoryBaseline, ""},
		{map[string]int{CategoryBaseline: 9}, CategoryBaseline, ""},
		{map[string]int{CategoryBaseline: 9, CategoryNotIllegal: 1}, CategoryBaseline, "not-illegal 1, baseline 9"},
		{map[string]int{CategoryNational: 2}, CategoryBaseline, "national 2"},
		{map[string]int{CategoryBaseline: 1, "none": 3}, "", "baseline 1, none 3"},
		{map[string]int{"none": 3}, "", ""}, // a set without a category whose entries name none: nothing to warn of
	} {
		if got := OtherMeanings(c.counts, c.category); got != c.want {
			t.Errorf("OtherMeanings(%v, %q) = %q, want %q", c.counts, c.category, got, c.want)
		}
	}
}
