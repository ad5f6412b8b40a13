package vault

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestReportsOfACase: the reports assessed into a case are listed to its
// analysts, custodians and auditors (report list --case, and case show),
// each as its reader is shown it; another team's analyst asking for the
// case's reports is answered as for a case that does not exist, the
// refusal recorded with its true reason; an investigator of the case,
// who does not read reports, is shown none and refused the list.
func TestReportsOfACase(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	aud := enrolled(t, v, "aud", RoleAuditor)
	if err := v.OpenCase(ctx, outsider, "HL-2", "another team's case"); err != nil {
		t.Fatal(err)
	}
	req, err := v.AddMember(ctx, h.cust, "HL-1", "inv", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, h.cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	report := func(u string) string {
		t.Helper()
		id, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{u, u + "/2"}, Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first, other, left, second := report("https://host.example/a"), report("https://host.example/b"), report("https://host.example/c"), report("https://host.example/d")
	for _, x := range []struct {
		who    Principal
		id, in string
	}{{h.a1, first, "HL-1"}, {outsider, other, "HL-2"}, {h.a2, second, "HL-1"}} {
		if err := v.AssessReport(ctx, x.who, x.id, x.in, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.SendNotice(ctx, h.a1, second, NoticeSent{URL: "https://host.example/d", To: "Example Hosting", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []ReportView) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Report)
		}
		return out
	}
	for _, who := range []Principal{h.a1, h.a3, h.cust, aud} {
		got, err := v.ListReports(ctx, who, ReportFilter{Case: "HL-1"})
		if err != nil {
			t.Fatalf("%s lists HL-1's reports: %v", who.Name, err)
		}
		if want := []string{first, second}; !slices.Equal(ids(got), want) {
			t.Fatalf("%s is listed %v as HL-1's reports, want %v (not %s of HL-2, nor %s of none)", who.Name, ids(got), want, other, left)
		}
		// The filters compose: the one actioned by its notice.
		got, err = v.ListReports(ctx, who, ReportFilter{Case: "HL-1", Status: StatusActioned, URLs: []string{"host.example/d"}})
		if err != nil || !slices.Equal(ids(got), []string{second}) {
			t.Fatalf("%s: HL-1's actioned reports naming host.example/d: %v %v", who.Name, ids(got), err)
		}
		d, err := v.ShowCase(ctx, who, "HL-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Reports) != 2 || d.Reports[0].Report != first || d.Reports[1].Report != second ||
			d.Reports[1].Status != StatusActioned || d.Reports[0].URLs != 2 || d.Reports[0].FirstURL != "https://host.example/a" {
			t.Fatalf("case show to %s lists its reports as %+v", who.Name, d.Reports)
		}
	}
	// The investigator of the case reads its items, not the public's
	// reports.
	if d, err := v.ShowCase(ctx, h.inv, "HL-1"); err != nil || d.Reports != nil {
		t.Fatalf("case show to its investigator: %+v %v", d, err)
	}
	if _, err := v.ListReports(ctx, h.inv, ReportFilter{Case: "HL-1"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an investigator lists a case's reports: %v", err)
	}
	// Another team's analyst: the case is theirs to know nothing of, as
	// a case that does not exist.
	_, notAssigned := v.ListReports(ctx, outsider, ReportFilter{Case: "HL-1"})
	_, noCase := v.ListReports(ctx, outsider, ReportFilter{Case: "HL-9"})
	if !errors.Is(notAssigned, ErrNotFound) || !errors.Is(noCase, ErrNotFound) ||
		strings.ReplaceAll(notAssigned.Error(), "HL-1", "HL-9") != noCase.Error() {
		t.Fatalf("another team's analyst is answered %q for HL-1 and %q for a case that does not exist", notAssigned, noCase)
	}
	if got, err := v.ListReports(ctx, outsider, ReportFilter{Case: "HL-2"}); err != nil || !slices.Equal(ids(got), []string{other}) {
		t.Fatalf("the other team lists its own case's reports: %v %v", ids(got), err)
	}
	var reasons []string
	for _, ev := range eventsOfType(t, v, TypeAccessRefused) {
		var d AccessRefused
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Action == "report.list" && ev.Actor.Person == "ana4" {
			reasons = append(reasons, d.Target+": "+d.Reason+" ("+d.Grounds+")")
			// In the case's timeline, as a refused case show is.
			if want := map[string]string{"HL-1": "HL-1", "HL-9": ""}[d.Target]; ev.Case != want {
				t.Errorf("the refusal for %s is recorded under case %q, want %q", d.Target, ev.Case, want)
			}
		}
	}
	if want := []string{"HL-1: not assigned to the case (" + GroundsPermission + ")", "HL-9: no such case (" + GroundsUnknown + ")"}; !slices.Equal(reasons, want) {
		t.Fatalf("the refusals recorded: %q, want %q", reasons, want)
	}
	// Bad input changes nothing and is said as such.
	if _, err := v.ListReports(ctx, h.a1, ReportFilter{Case: "../HL-1"}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a case id that is none: %v", err)
	}
}

// TestCaseIdSpelledOtherwise: a case id typed in another letter case is
// answered with the case meant, where the person may see it, and alike
// whether the id typed names a case or not; never a case they may not see.
func TestCaseIdSpelledOtherwise(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	if err := v.OpenCase(ctx, outsider, "hl-1", "another team's case, spelt alike"); err != nil {
		t.Fatal(err)
	}
	// ana1 is on HL-1 and not on hl-1: asking for hl-1 (which exists)
	// and for Hl-1 (which does not) both point to HL-1.
	for _, typed := range []string{"hl-1", "Hl-1"} {
		_, err := v.ShowCase(ctx, h.a1, typed)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "did you mean HL-1?") {
			t.Fatalf("case show %s as ana1: %v", typed, err)
		}
		_, err = v.ListReports(ctx, h.a1, ReportFilter{Case: typed})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "did you mean HL-1?") {
			t.Fatalf("report list --case %s as ana1: %v", typed, err)
		}
	}
	// The outsider may see hl-1, not HL-1: asking for HL-1 points to
	// their own, and for hL-1 too; HL-1 itself is never named to them.
	_, err := v.ShowCase(ctx, outsider, "HL-1")
	if err == nil || !strings.Contains(err.Error(), "did you mean hl-1?") || strings.Contains(err.Error(), "did you mean HL-1") {
		t.Fatalf("case show HL-1 as the outsider: %v", err)
	}
	// A custodian sees both: the one asked for exists, no refusal.
	if _, err := v.ShowCase(ctx, h.cust, "hl-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ShowCase(ctx, h.cust, "HL-2"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("a case spelt like none: %v", err)
	}
}

// TestCaseIdSpelledOtherwiseNotForTheCaseItself: a person refused about
// a case they may see, typed exactly, is not pointed to another case
// spelt alike; and a refused request about a case whose id looks like
// an item's is recorded under that case, not the item's.
func TestCaseIdSpelledOtherwiseNotForTheCaseItself(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	if err := v.OpenCase(ctx, h.a1, "hl-1", "spelt alike"); err != nil {
		t.Fatal(err)
	}
	// ana2 is on HL-1, not on hl-1; a refusal about HL-1 for another
	// reason names no other case.
	_, err := v.ListReports(ctx, h.a2, ReportFilter{Case: "hl-1"})
	if err == nil || !strings.Contains(err.Error(), "did you mean HL-1?") {
		t.Fatalf("hl-1 as ana2: %v", err)
	}
	// An investigator who is not a reader of reports is refused HL-1 by
	// role: no case is named to them.
	if _, err := v.ListReports(ctx, h.inv, ReportFilter{Case: "HL-1"}); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("HL-1 as an investigator: %v", err)
	}
	if got := v.caseSpelledLike(h.a1, "HL-1"); got != "" {
		t.Fatalf("ana1 may see HL-1 itself, and is pointed to %q", got)
	}
	// A case named like an item of HL-1.
	dep, err := v.Deposit(ctx, h.a1, DepositRequest{Case: "HL-1", Name: "photo.jpg", Body: strings.NewReader("a photo")})
	if err != nil {
		t.Fatal(err)
	}
	id := dep.ID
	if err := v.OpenCase(ctx, h.cust, id, "a case named like an item"); err != nil {
		t.Fatal(err)
	}
	if c, it := v.refusalScope("report.list", id); c != id || it != "" {
		t.Fatalf("a refused report list of case %s is recorded under case %q item %q", id, c, it)
	}
	if c, it := v.refusalScope("item.view", id); c != "HL-1" || it != id {
		t.Fatalf("a refused view of item %s is recorded under case %q item %q", id, c, it)
	}
}
