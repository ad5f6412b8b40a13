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
