package vault

import (
	"errors"
	"testing"
	"time"
)

// TestReportStatusFollowsWhatWasDone: a report's status is what was done
// with it, whatever the order: a report noticed before it was assessed
// is actioned, as it is after a close and a reopening, and so is one
// forwarded before it was assessed.
func TestReportStatusFollowsWhatWasDone(t *testing.T) {
	h := newHotline(t)
	noticed, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.v.SendNotice(h.ctx, h.a1, noticed, NoticeSent{URL: "https://host.example/a", To: "host", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	forwarded, err := h.v.ReceivePublicReport(h.ctx, ReportRequest{URLs: []string{"https://host.example/b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.ForwardReport(h.ctx, h.a1, forwarded, "partner", "hotline", "csv"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{noticed, forwarded} {
		if err := h.v.AssessReport(h.ctx, h.a1, id, "HL-1", ""); err != nil {
			t.Fatal(err)
		}
		assessed, _ := h.v.ReportAfter(h.ctx, h.a1, id)
		if err := h.v.CloseReport(h.ctx, h.a1, id, "duplicate", ""); err != nil {
			t.Fatal(err)
		}
		if err := h.v.ReopenReport(h.ctx, h.a1, id, "closed by mistake"); err != nil {
			t.Fatal(err)
		}
		reopened, _ := h.v.ReportAfter(h.ctx, h.a1, id)
		if assessed.Status != StatusActioned || reopened.Status != StatusActioned {
			t.Errorf("report %s: %q once assessed, %q once reopened; want %q both", id, assessed.Status, reopened.Status, StatusActioned)
		}
	}
}

// TestResentNoticeNotBeforeTheLast: a notice sent again for a URL is
// never dated before the sending it follows (the first, or the last
// one again), as an acknowledgement is never dated before the notice.
func TestResentNoticeNotBeforeTheLast(t *testing.T) {
	h := newHotline(t)
	now := time.Now().UTC()
	at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	const u = "https://host.example/a"
	rp, err := h.v.RecordReport(h.ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{u}, At: at(5 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	send := func(to string, ago time.Duration) error {
		return h.v.SendNotice(h.ctx, h.a1, rp, NoticeSent{URL: u, To: to, Via: "email", At: at(ago)})
	}
	if err := send("host", 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := send("registrar", 4*time.Hour); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a notice sent again before the first: %v", err)
	}
	if err := send("registrar", 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := send("abuse desk", 150*time.Minute); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a notice sent again before the last sending: %v", err)
	}
	if err := h.v.NoticeProgressed(h.ctx, h.a1, rp, u, false, "", at(4*time.Hour)); !errors.Is(err, ErrBadInput) {
		t.Fatalf("an acknowledgement before the notice: %v", err)
	}
	r, _ := h.v.ReportAfter(h.ctx, h.a1, rp)
	if n := r.Notices[0]; n.ResentAt == nil || n.ResentAt.Before(n.SentAt) || n.To != "registrar" {
		t.Fatalf("the notice: %+v", n)
	}
}
