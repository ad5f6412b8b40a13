package vault

import (
	"testing"
	"time"
)

// TestAMoveOutOfACaseAwaitsThatCase: a report in case HL-1 moved into
// HL-2 by an analyst while their removal from HL-1, or HL-1's
// destruction, lands just ahead in the same batch (an unrelated vote
// held in the store gathers them) is decided after it, at its position:
// refused, the report left where it was, and the log passes the audit's
// rules (checkRulesHold, at the test's end). Before, the move was
// decided on the case it entered alone, and the audit found it.
func TestAMoveOutOfACaseAwaitsThatCase(t *testing.T) {
	for _, what := range []string{"removal", "destruction"} {
		t.Run(what, func(t *testing.T) {
			g := &gatedStore{typ: TypeItemClassified, entered: make(chan struct{}), release: make(chan struct{})}
			h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g })
			v, ctx := h.v, h.ctx
			if err := v.OpenCase(ctx, h.a1, "HL-2", "another"); err != nil {
				t.Fatal(err)
			}
			if err := v.OpenCase(ctx, h.a1, "HL-3", "a third"); err != nil {
				t.Fatal(err)
			}
			rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://x.example/a"}})
			if err != nil {
				t.Fatal(err)
			}
			if err := v.AssessReport(ctx, h.a1, rp, "HL-3", ""); err != nil {
				t.Fatal(err)
			}
			other := h.deposit(t, h.a1, "unrelated.bin", []byte("unrelated"), "")
			req, err := v.RequestDestruction(ctx, h.cust, "HL-3", "ORD-1", "court order")
			if err != nil {
				t.Fatal(err)
			}
			g.mu.Lock()
			g.armed = true
			g.mu.Unlock()
			voted := make(chan error, 1)
			go func() {
				_, err := v.Classify(ctx, h.a3, other.ID, ClassifyRequest{Category: CategoryNotIllegal})
				voted <- err
			}()
			<-g.entered // the vote is being written; what follows gathers behind it
			first, moved := make(chan error, 1), make(chan error, 1)
			go func() {
				if what == "removal" {
					first <- v.RemoveMember(ctx, h.cust, "HL-3", "ana1", "moved to another team")
				} else {
					_, err := v.ApproveDestruction(ctx, h.cust2, "HL-3", req)
					first <- err
				}
			}()
			time.Sleep(200 * time.Millisecond) // the removal or destruction is queued first
			go func() { moved <- v.AssessReport(ctx, h.a1, rp, "HL-2", "") }()
			time.Sleep(300 * time.Millisecond)
			close(g.release)
			if err := <-voted; err != nil {
				t.Fatal(err)
			}
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if err := <-moved; err == nil {
				t.Fatalf("the report was moved out of HL-3 after the %s ahead of it", what)
			}
			if r, _ := v.state.getReport(rp); r.Case != "HL-3" {
				t.Fatalf("the report is in %q", r.Case)
			}
		})
	}
}
