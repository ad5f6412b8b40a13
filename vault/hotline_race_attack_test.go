package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHashSetImportRacingAViewIsNotOutrun: a view asked for while a
// hash-set import that lists the item is being recorded is either
// recorded before the import's event (decided with the sets as they
// were) or decided with the imported set, and so refused as known
// material without --reveal-known. It was recorded after the import's
// event yet decided without the set, the plaintext served with no
// override recorded.
func TestHashSetImportRacingAViewIsNotOutrun(t *testing.T) {
	g := &gatedStore{typ: TypeHashSetImported, entered: make(chan struct{}), release: make(chan struct{})}
	dir := t.TempDir()
	h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g; c.HashSetDir = filepath.Join(dir, "hs") })
	body := []byte("material a partner hotline lists as baseline")
	it := h.deposit(t, h.a1, "capture.bin", body, "")
	sum := sha256.Sum256(body)
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	imported := make(chan error, 1)
	go func() {
		_, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "partner", Format: "sha256sum", Category: "baseline",
			Body: strings.NewReader(hex.EncodeToString(sum[:]) + "  x\n")})
		imported <- err
	}()
	select {
	case <-g.entered:
	case err := <-imported:
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	var rev *Reveal
	go func() {
		var err error
		rev, err = h.v.Open(h.ctx, h.a1, RevealRequest{Item: it.ID, Purpose: "review"})
		opened <- err
	}()
	time.Sleep(200 * time.Millisecond)
	close(g.release)
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "partner") {
			t.Fatalf("the view was refused, but not as known material: %v", err)
		}
		return
	}
	io.Copy(io.Discard, rev)
	rev.Finish(h.ctx)
	imp := h.eventsOf(t, TypeHashSetImported)
	acc := h.eventsOf(t, TypeItemAccessed)
	var d ItemAccessed
	acc[len(acc)-1].DecodeData(&d)
	if imp[0].Seq < acc[len(acc)-1].Seq && d.Override == "" {
		t.Fatalf("hashset.imported at %d, item.accessed at %d without override: known material shown", imp[0].Seq, acc[len(acc)-1].Seq)
	}
}

// TestDepositRacingAReportsReassessment: a deposit captured for a report
// and the report's reassessment into another case, in one batch in
// either order, are each decided at their position with the other
// applied: one of them is refused, so that the report never holds
// another case's item (which the other case's analysts would then read
// and export).
func TestDepositRacingAReportsReassessment(t *testing.T) {
	for _, depositFirst := range []bool{false, true} {
		name := map[bool]string{false: "reassessment first", true: "capture first"}[depositFirst]
		t.Run(name, func(t *testing.T) { depositRacingReassessment(t, depositFirst) })
	}
}

func depositRacingReassessment(t *testing.T, depositFirst bool) {
	g := &gatedStore{typ: TypeItemClassified, entered: make(chan struct{}), release: make(chan struct{})}
	h := newHotline(t, func(c *Config) { g.Store = c.Log; c.Log = g })
	v, ctx := h.v, h.ctx
	if err := v.OpenCase(ctx, h.a2, "HL-2", "other hotline case"); err != nil {
		t.Fatal(err)
	}
	outsider := enrolled(t, v, "ana4", RoleAnalyst)
	req, err := v.AddMember(ctx, h.cust, "HL-2", "ana4", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, h.cust2, req.ID); err != nil {
		t.Fatal(err)
	}
	rp, err := v.ReceivePublicReport(ctx, ReportRequest{URLs: []string{"https://host.example/a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	other := h.deposit(t, h.a1, "unrelated.bin", []byte("unrelated"), "")
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
	go v.Classify(ctx, h.a3, other.ID, ClassifyRequest{Category: CategoryNotIllegal}) // holds the log
	<-g.entered
	assessed, deposited := make(chan error, 1), make(chan error, 1)
	assess := func() { assessed <- v.AssessReport(ctx, h.a2, rp, "HL-2", "") }
	capture := func() {
		_, err := v.Deposit(ctx, h.a1, DepositRequest{Case: "HL-1", Name: "victim-name-capture.jpg", Body: bytes.NewReader([]byte("capture")), Report: rp})
		deposited <- err
	}
	first, second := assess, capture
	if depositFirst {
		first, second = capture, assess
	}
	go first()
	time.Sleep(200 * time.Millisecond)
	go second()
	time.Sleep(300 * time.Millisecond)
	close(g.release)
	aerr, derr := <-assessed, <-deposited
	if (aerr == nil) == (derr == nil) {
		t.Fatalf("the reassessment (%v) and the capture (%v): exactly one of them must be refused", aerr, derr)
	}
	r, _ := v.state.getReport(rp)
	for _, id := range r.Items {
		if it, _, _ := v.state.getItem(id); it.Case != r.Case {
			t.Fatalf("report %s, in case %s, holds item %s of case %s", rp, r.Case, id, it.Case)
		}
	}
	if rv, err := v.ReportDetail(ctx, outsider, rp); err == nil {
		for _, id := range rv.Items {
			if it, _, _ := v.state.getItem(id); it.Case != "HL-2" {
				t.Fatalf("an analyst of HL-2 only is shown item %s of case %s", id, it.Case)
			}
		}
	}
}
