package vault

import (
	"context"
	"errors"
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
