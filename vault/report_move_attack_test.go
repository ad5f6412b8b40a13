package vault

import (
	"errors"
	"strings"
	"testing"
)

// twoTeams is a hotline whose report rp (one URL, a reporter's contact)
// is assessed into HL-1 (team A: ana1, ana2, ana3), beside a case HL-B of
// team B (ana4, and ana1, who is on both).
func twoTeams(t *testing.T) (h *hotline, a4 Principal, rp, u string) {
	t.Helper()
	h = newHotline(t)
	v, ctx := h.v, h.ctx
	a4 = enrolled(t, v, "ana4", RoleAnalyst)
	if err := v.OpenCase(ctx, a4, "HL-B", "team b"); err != nil {
		t.Fatal(err)
	}
	req, err := v.AddMember(ctx, h.cust, "HL-B", "ana1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, h.cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	u = "https://host.example/abuse"
	if rp, err = v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{u}, Contact: "rep@example.org"}); err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	return h, a4, rp, u
}

// TestReportStaysWithTheCaseThatActedOnIt: a report whose case sent a
// notice for it, or forwarded it, is not moved into another case (as one
// whose case holds its captures is not): moved, the notice would go out in
// the other team's forwarding, answer their acknowledgements with the
// first team's times, and take their removals. The refusal is recorded
// and the report stays where it was. A notice sent before the report was
// assessed is no case's, and does not keep it.
func TestReportStaysWithTheCaseThatActedOnIt(t *testing.T) {
	for name, act := range map[string]func(h *hotline, rp, u string) error{
		"a notice": func(h *hotline, rp, u string) error {
			return h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: u, To: "abuse@team-a-provider.example", Via: "email", Reference: "TEAM-A-77"})
		},
		"a forwarding": func(h *hotline, rp, u string) error {
			_, err := h.v.ForwardReport(h.ctx, h.a1, rp, "partner hotline", "hotline", "csv")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			h, a4, rp, u := twoTeams(t)
			if err := act(h, rp, u); err != nil {
				t.Fatal(err)
			}
			before := len(eventsOfType(t, h.v, TypeAccessRefused))
			err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-B", "")
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "HL-1") {
				t.Fatalf("moving a report its case acted on: %v", err)
			}
			if n := len(eventsOfType(t, h.v, TypeAccessRefused)); n != before+1 {
				t.Fatalf("%d refusals recorded, not 1", n-before)
			}
			r, _ := h.v.state.getReport(rp)
			if r.Case != "HL-1" {
				t.Fatalf("the report is in %q", r.Case)
			}
			// Team B cannot act on it at all.
			if err := h.v.NoticeProgressed(h.ctx, a4, rp, u, true, "", ""); !errors.Is(err, ErrForbidden) {
				t.Fatalf("ana4 recorded a removal on team A's report: %v", err)
			}
		})
	}
	t.Run("a notice before it was assessed", func(t *testing.T) {
		h := newHotline(t)
		a4 := enrolled(t, h.v, "ana4", RoleAnalyst)
		if err := h.v.OpenCase(h.ctx, a4, "HL-B", "team b"); err != nil {
			t.Fatal(err)
		}
		u := "https://host.example/early"
		rp, err := h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{u}})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: u, To: "Host Ltd", Via: "email"}); err != nil {
			t.Fatal(err)
		}
		if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-1", ""); err != nil {
			t.Fatal(err)
		}
		if err := h.v.AssessReport(h.ctx, a4, rp, "HL-B", ""); !errors.Is(err, ErrForbidden) {
			t.Fatalf("ana4 moved team A's report: %v", err)
		}
		// Once ana1 (of HL-1) is on HL-B too, the notice of no case
		// does not keep the report in HL-1.
		req, err := h.v.AddMember(h.ctx, h.cust, "HL-B", "ana1", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.v.Approve(h.ctx, h.cust2, req.ID); err != nil {
			t.Fatal(err)
		}
		if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-B", ""); err != nil {
			t.Fatalf("a notice of no case kept the report: %v", err)
		}
	})
}

// TestMovedReportHidesWhoOpenedTheContactBefore: a report moved from team
// A's case to team B's does not show team B who of team A opened the
// reporter's contact (which names who worked it there, as the withheld
// case would); someone on both teams sees it, and team B sees its own
// openings.
func TestMovedReportHidesWhoOpenedTheContactBefore(t *testing.T) {
	h, a4, rp, _ := twoTeams(t)
	if _, err := h.v.ReportDetail(h.ctx, h.a2, rp); err != nil {
		t.Fatal(err)
	}
	if err := h.v.AssessReport(h.ctx, h.a1, rp, "HL-B", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.ReportDetail(h.ctx, a4, rp); err != nil {
		t.Fatal(err)
	}
	openers := func(who Principal) []string {
		view, err := h.v.ReportAfter(h.ctx, who, rp)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range view.History {
			if e.Type == TypeReportContactOpened {
				out = append(out, e.By)
			}
		}
		return out
	}
	if got := openers(a4); strings.Join(got, ",") != "ana4" {
		t.Fatalf("ana4 (team B) sees the contact opened by %v", got)
	}
	if got := openers(h.a1); strings.Join(got, ",") != "ana2,ana4" {
		t.Fatalf("ana1 (both teams) sees the contact opened by %v", got)
	}
	if got := openers(h.cust); strings.Join(got, ",") != "ana2,ana4" {
		t.Fatalf("a custodian sees the contact opened by %v", got)
	}
}

// TestNoticeProgressKeepsTheReportInItsCase: a notice sent before the
// report was assessed (no case's), then acknowledged and its removal
// recorded by the analysts of the case it was assessed into, is that
// case's: an analyst of another case does not see it (as they do not see
// those events in the history), and the report is not moved out with it.
func TestNoticeProgressKeepsTheReportInItsCase(t *testing.T) {
	for _, removed := range []bool{false, true} {
		h := newHotline(t)
		v, ctx := h.v, h.ctx
		a4 := enrolled(t, v, "ana4", RoleAnalyst)
		if err := v.OpenCase(ctx, a4, "HL-B", "team b"); err != nil {
			t.Fatal(err)
		}
		u := "https://host.example/early"
		rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{u}})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.SendNotice(ctx, h.a1, rp, NoticeSent{URL: u, To: "Host Ltd", Via: "email"}); err != nil {
			t.Fatal(err)
		}
		if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
			t.Fatal(err)
		}
		if err := v.NoticeProgressed(ctx, h.a2, rp, u, removed, "team A's step", ""); err != nil {
			t.Fatal(err)
		}
		view, err := v.ReportAfter(ctx, a4, rp)
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Notices) != 0 {
			t.Errorf("removed %v: an analyst of another case sees the notice: %+v", removed, view.Notices)
		}
		req, err := v.AddMember(ctx, h.cust, "HL-B", "ana1", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Approve(ctx, h.cust2, req.ID); err != nil {
			t.Fatal(err)
		}
		if err := v.AssessReport(ctx, h.a1, rp, "HL-B", ""); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "its notices") {
			t.Errorf("removed %v: moving the report: %v", removed, err)
		}
	}
}
