package vault

import (
	"context"
	"slices"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestItemTimelineShowsItsCasesDestruction: an item's timeline, as an
// auditor reads it (custos audit log --item), gives the packages that
// carried it and the destruction of its case (asked, approved, done), as
// its custody report does, and nothing of the case's other items.
func TestItemTimelineShowsItsCasesDestruction(t *testing.T) {
	f := newPackageFixture(t)
	v := f.v
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	ids := caseItemIDs(t, v.state, "P-1")
	req, err := v.RequestDestruction(ctx, p["c1"], "P-1", "order 2026/7", "the court ordered it")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, p["c2"], "P-1", req); err != nil {
		t.Fatal(err)
	}
	var types []string
	if err := v.Timeline(ctx, f.auditor, "", ids[0], func(_ events.Record, ev *events.Event) error {
		if ev.Item != "" && ev.Item != ids[0] {
			t.Errorf("the timeline of %s gives event %d of item %s", ids[0], ev.Seq, ev.Item)
		}
		types = append(types, ev.Type)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{TypeItemDeposited, TypePackageSealing, TypePackageSealed, TypeDestructionRequested, TypeDestructionApproved, TypeCaseDestroyed}
	var got []string
	for _, typ := range types {
		if slices.Contains(want, typ) && !slices.Contains(got, typ) {
			got = append(got, typ)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the item's timeline gives %v; want these, in this order: %v", types, want)
	}
}
