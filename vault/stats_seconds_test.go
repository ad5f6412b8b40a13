package vault

import (
	"testing"
	"time"
)

// Times to removal are counted as times are stated, in whole seconds: a
// removal stated in the very second its notice was recorded (the
// notice's time has a fraction of a second), or a notice and removal
// stated in the second the report was received, take 0 hours, never
// less; and a report forwarded twice to one kind of partner counts once.
func TestStatisticsTimeRemovalsInWholeSeconds(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	second := func(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

	// The removal stated in the second of a notice recorded without one.
	a := h.assessedReport(t, "https://host.example/a")
	if err := v.SendNotice(ctx, h.a1, a, NoticeSent{URL: "https://host.example/a", To: "host", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	ra, err := v.ReportDetail(ctx, h.a1, a)
	if err != nil || len(ra.Notices) != 1 {
		t.Fatalf("report %s: %+v, %v", a, ra, err)
	}
	if err := v.NoticeProgressed(ctx, h.a1, a, "https://host.example/a", true, "", second(ra.Notices[0].SentAt)); err != nil {
		t.Fatal(err)
	}
	// The notice and removal stated in the second the report was
	// received.
	b := h.assessedReport(t, "https://host.example/b")
	rb, _ := v.ReportDetail(ctx, h.a1, b)
	if err := v.SendNotice(ctx, h.a1, b, NoticeSent{URL: "https://host.example/b", To: "host", Via: "email", At: second(rb.ReceivedAt)}); err != nil {
		t.Fatal(err)
	}
	if err := v.NoticeProgressed(ctx, h.a1, b, "https://host.example/b", true, "", second(rb.ReceivedAt)); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"hotline", "hotline", "police"} {
		if _, err := v.ForwardReport(ctx, h.a1, a, "partner", kind, "csv"); err != nil {
			t.Fatal(err)
		}
	}

	s, err := v.Statistics(ctx, h.cust, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	r, f := s.Notices.RemovalHours, s.Notices.FromReportHours
	if r.N != 2 || f.N != 2 || r.Median < 0 || r.P90 < 0 || f.Median < 0 || f.P90 < 0 {
		t.Fatalf("times to removal: %+v, from the reports: %+v", r, f)
	}
	if s.Forwarded["hotline"] != 1 || s.Forwarded["police"] != 1 {
		t.Fatalf("forwarded: %v; want one report to each kind", s.Forwarded)
	}
}
