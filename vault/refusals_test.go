package vault

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestSignedInRefusalsCostBoundedLog: a signed-in person who keeps asking
// for what they may not have (here, enrolling people as an investigator)
// costs the log at most the burst plus one summary per window, and the
// summary accounts for every refusal.
func TestSignedInRefusalsCostBoundedLog(t *testing.T) {
	v, _ := openTestVaultDir(t, func(c *Config) { c.RefusalWindow, c.RefusalBurst = time.Hour, 3 })
	ctx := context.Background()
	tok, _ := v.Enroll(ctx, "inv", RoleInvestigator)
	inv, _ := signIn(v, tok)
	before := v.log.Size()
	const n = 50
	for i := range n {
		if _, err := v.EnrollBy(ctx, inv, Enrolment{Name: "x", Role: RoleCustodian}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("refusal %d: %v", i, err)
		}
	}
	if got := v.log.Size() - before; got != 3 {
		t.Fatalf("%d refusals cost %d events before the summary, want 3", n, got)
	}
	v.summariseRefusals(true)
	var total int64
	var events_ int
	v.cfg.Log.Read(ctx, before, func(r events.Record) error {
		ev, _ := events.Decode(r.Bytes)
		if ev.Type != TypeAccessRefused {
			return nil
		}
		var d AccessRefused
		ev.DecodeData(&d)
		events_++
		total += max(d.Count, 1)
		if ev.Actor.Person != "inv" {
			t.Errorf("refusal recorded for %q", ev.Actor.Person)
		}
		if d.Grounds != GroundsPermission {
			t.Errorf("a refusal (count %d) recorded on grounds %q", d.Count, d.Grounds)
		}
		return nil
	})
	if events_ != 4 || total != n {
		t.Fatalf("%d events account for %d refusals; want 4 events for %d", events_, total, n)
	}
}

// TestRecordedRefusalsShareTheBudget: refusals decided outside the
// vault's commands (a page or route the caller refuses) cost a signed-in
// person's budget like the vault's own; a summary the caller made is
// recorded as it is.
func TestRecordedRefusalsShareTheBudget(t *testing.T) {
	v, _ := openTestVaultDir(t, func(c *Config) { c.RefusalWindow, c.RefusalBurst = time.Hour, 3 })
	ctx := context.Background()
	tok, _ := v.Enroll(ctx, "inv", RoleInvestigator)
	inv, _ := signIn(v, tok)
	before := v.log.Size()
	for range 40 {
		if err := v.RecordRefusal(ctx, &inv, AccessRefused{Action: "GET /app/audit", Target: "/app/audit", Reason: "the audit page is for auditors and custodians"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.log.Size() - before; got != 3 {
		t.Fatalf("40 recorded refusals cost %d events before the summary, want 3", got)
	}
	if err := v.RecordRefusal(ctx, &inv, AccessRefused{Action: "route.unknown", Reason: "no such route", Count: 7}); err != nil {
		t.Fatal(err)
	}
	if got := v.log.Size() - before; got != 4 {
		t.Fatalf("a caller's summary was not recorded (%d events)", got)
	}
	if err := v.RecordRefusal(ctx, nil, AccessRefused{Action: "session.open", Reason: "no valid credentials"}); err != nil || v.log.Size()-before != 5 {
		t.Fatalf("an anonymous refusal (aggregated by its caller) was not recorded: %v", err)
	}
}

// TestRefusalsRecordTheirGrounds: each refusal records on what grounds
// it was refused, so that a refusal of what the person may not do is
// told from one of what the record did not allow then, and from a
// target that does not exist, even where the answer is the same
// (refuseUnseen).
func TestRefusalsRecordTheirGrounds(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	other := enrolled(t, v, "other", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "G-1")
	last := func() AccessRefused {
		t.Helper()
		evs := logged(t, v)
		ev := evs[len(evs)-1]
		if ev.Type != TypeAccessRefused {
			t.Fatalf("the last event is %s", ev.Type)
		}
		var d AccessRefused
		if err := ev.DecodeData(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name          string
		do            func() error
		answer        error
		grounds, says string
	}{
		{"a role that may not", func() error { _, err := v.Scrub(ctx, inv); return err }, ErrForbidden, GroundsPermission, "only auditors and custodians scrub"},
		{"a case that exists already", func() error { return v.OpenCase(ctx, inv, "G-1", "again") }, ErrConflict, GroundsState, "case G-1 already exists"},
		{"a case not assigned (answered as unknown)", func() error { _, err := v.ShowCase(ctx, other, "G-1"); return err }, ErrNotFound, GroundsPermission, "not assigned to the case"},
		{"a case that does not exist", func() error { _, err := v.ShowCase(ctx, other, "G-404"); return err }, ErrNotFound, GroundsUnknown, "no such case"},
		{"an auditor's refusal", func() error { _, err := v.ShowCase(ctx, aud, "G-404"); return err }, ErrNotFound, GroundsUnknown, "no such case"},
	} {
		err := tc.do()
		if !errors.Is(err, tc.answer) {
			t.Errorf("%s: answered %v, want %v", tc.name, err, tc.answer)
			continue
		}
		if d := last(); d.Grounds != tc.grounds || d.Reason != tc.says {
			t.Errorf("%s: recorded grounds %q, reason %q; want %q, %q", tc.name, d.Grounds, d.Reason, tc.grounds, tc.says)
		}
	}
	// The same grounds as the vault's for the errors the API records.
	for err, want := range map[error]string{ErrForbidden: GroundsPermission, ErrNotFound: GroundsUnknown, ErrConflict: GroundsState,
		ErrBadInput: GroundsInput, ErrUnauthenticated: GroundsCredentials, errors.New("other"): ""} {
		if got := RefusalGrounds(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("RefusalGrounds(%v) = %q, want %q", err, got, want)
		}
	}
}

// TestRefusalGroundsFollowTheTruth: who may not act is refused on
// permission whatever state the target is in (a closed report), and
// what the record does not allow is refused on state even where the
// answer is "not found" (an item of a destroyed case).
func TestRefusalGroundsFollowTheTruth(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	outsider := enrolled(t, v, "ana4", RoleAnalyst) // not a member of HL-1
	rp, err := v.RecordReport(ctx, h.a1, ReportRequest{Channel: "email", URLs: []string{"https://host.example/x"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.AssessReport(ctx, h.a1, rp, "HL-1", ""); err != nil {
		t.Fatal(err)
	}
	if err := v.CloseReport(ctx, h.a1, rp, "not-illegal", ""); err != nil {
		t.Fatal(err)
	}
	lastRefusal := func() AccessRefused {
		t.Helper()
		evs := h.eventsOf(t, TypeAccessRefused)
		var d AccessRefused
		if err := evs[len(evs)-1].DecodeData(&d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Closing it again, and reopening it, as someone not assigned.
	if err := v.CloseReport(ctx, outsider, rp, "actioned", ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("closing a closed report as an outsider: %v", err)
	}
	if d := lastRefusal(); d.Grounds != GroundsPermission {
		t.Errorf("closing a closed report as an outsider: recorded %+v", d)
	}
	if err := v.ReopenReport(ctx, outsider, rp, "again"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("reopening as an outsider: %v", err)
	}
	if d := lastRefusal(); d.Grounds != GroundsPermission {
		t.Errorf("reopening as an outsider: recorded %+v", d)
	}
	// A member closing it again: the record does not allow it.
	if err := v.CloseReport(ctx, h.a2, rp, "actioned", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("closing a closed report as a member: %v", err)
	}
	if d := lastRefusal(); d.Grounds != GroundsState {
		t.Errorf("closing a closed report as a member: recorded %+v", d)
	}

	// An item of a destroyed case, asked for by a member.
	it := depositText(t, v, h.a1, "HL-1", "a.bin", "aaaa")
	id, err := v.RequestDestruction(ctx, h.cust, "HL-1", "order 1", "court order")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ApproveDestruction(ctx, h.cust2, "HL-1", id); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenItem(ctx, h.a1, it.ID, "look"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an item of a destroyed case: %v", err)
	}
	if d := lastRefusal(); d.Grounds != GroundsState {
		t.Errorf("an item of a destroyed case: recorded %+v", d)
	}
}

// TestVariedReasonsCostBoundedLog: a refusal's reason often repeats what
// was sent (a wrong digest, an unknown name), and varying it must not
// buy a person an event per refusal, nor the vault an entry per reason:
// past maxReasonsPerCredential reasons in a window, the rest share one
// budget, and the summaries still account for every refusal. Tried with
// the vault's own refusals (a receipt's wrong SHA-256) and with refusals
// its callers record (RecordRefusal).
func TestVariedReasonsCostBoundedLog(t *testing.T) {
	const burst, n = 3, 200
	for _, member := range []string{"receipt", "recorded"} {
		// Through the configuration: the summaries' goroutine reads the
		// window from the start.
		f := newPackageFixture(t, func(c *Config) { c.RefusalWindow, c.RefusalBurst = time.Hour, burst })
		v := f.v
		ctx := context.Background()
		pkg, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"})
		if err != nil {
			t.Fatal(err)
		}
		before := v.log.Size()
		for i := range n {
			switch member {
			case "receipt":
				if _, err := v.ReceivePackage(ctx, f.pros, pkg.ID, fmt.Sprintf("wrong-%03d", i), "x"); !errors.Is(err, ErrBadInput) {
					t.Fatalf("receipt %d: %v", i, err)
				}
			case "recorded":
				if err := v.RecordRefusal(ctx, &f.pros, AccessRefused{Action: "GET /app/exposure", Reason: fmt.Sprintf("no person nobody-%03d", i)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Each of the first 16 reasons, and the shared one, has its burst.
		if got, most := v.log.Size()-before, uint64((16+1)*burst); got > most {
			t.Fatalf("%s: %d refusals of varied reasons cost %d events, want at most %d", member, n, got, most)
		}
		v.refusals.mu.Lock()
		open := len(v.refusals.open)
		v.refusals.mu.Unlock()
		if open > 16+1 {
			t.Fatalf("%s: %d refusal windows open for one person", member, open)
		}
		v.summariseRefusals(true)
		var total int64
		v.cfg.Log.Read(ctx, before, func(r events.Record) error {
			ev, _ := events.Decode(r.Bytes)
			if ev.Type == TypeAccessRefused {
				var d AccessRefused
				ev.DecodeData(&d)
				total += max(d.Count, 1)
			}
			return nil
		})
		if total != n {
			t.Fatalf("%s: the events account for %d refusals, want %d", member, total, n)
		}
		v.refusals.mu.Lock()
		left := len(v.refusals.reasons)
		v.refusals.mu.Unlock()
		if left != 0 {
			t.Fatalf("%s: %d credentials still counted after every window closed", member, left)
		}
	}
}
