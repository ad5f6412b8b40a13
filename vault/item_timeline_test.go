package vault

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
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

// TestCustodyReportShowsRefusedSealings: a custody report made on demand
// shows every request to seal the case's items, also one rejected or
// withdrawn, with why; a package shows only its own sealing's request,
// never the requests made for someone else.
func TestCustodyReportShowsRefusedSealings(t *testing.T) {
	f, p, asked := requiredSealing(t, "a second copy")
	v := f.v
	ctx := context.Background()
	if _, err := v.Reject(ctx, p["c2"], asked.Request.ID, "the prosecution holds a copy already"); err != nil {
		t.Fatal(err)
	}
	doc, err := v.CustodyDocument(ctx, f.auditor, DocumentRequest{Case: "P-1", Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc.Body)
	for _, want := range []string{"request " + asked.Request.ID, "rejected because “the prosecution holds a copy already”"} {
		if !strings.Contains(text, want) {
			t.Errorf("the custody report does not say %q:\n%s", want, text)
		}
	}
	// The package sealed later, on another request, carries its own
	// request and nothing of the rejected one.
	again, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"})
	if err != nil || again.Request == nil {
		t.Fatalf("sealing under the policy: %+v %v", again, err)
	}
	a, err := v.Approve(ctx, p["c2"], again.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	fetch, _, err := v.FetchPackage(ctx, f.pros, a.Package.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(fetch)
	if err != nil {
		t.Fatal(err)
	}
	fetch.Finish(ctx)
	fetch.Close()
	if bytes.Contains(b, []byte(asked.Request.ID)) {
		t.Error("a package carries a request for another sealing, rejected")
	}
	if !bytes.Contains(b, []byte(again.Request.ID)) {
		t.Error("a package does not carry its own sealing's request")
	}
}
