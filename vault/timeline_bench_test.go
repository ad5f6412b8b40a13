package vault

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// BenchmarkCaseTimeline reads the timeline of a case of 1,000 events in a
// log of about 100,000 (tiles on disk), through the verified lookup path.
func BenchmarkCaseTimeline(b *testing.B) {
	v, _ := openTestVaultDir(b, func(c *Config) { c.TileDir = filepath.Join(b.TempDir(), "tiles") })
	ctx := context.Background()
	inv := enrolled(b, v, "inv", RoleInvestigator)
	aud := enrolled(b, v, "aud", RoleAuditor)
	for _, c := range []string{"BIG", "OTHER"} {
		if err := v.OpenCase(ctx, inv, c, "timeline"); err != nil {
			b.Fatal(err)
		}
	}
	res, err := v.Deposit(ctx, inv, DepositRequest{Case: "BIG", Name: "a.jpg", Body: strings.NewReader("x")})
	if err != nil {
		b.Fatal(err)
	}
	other, err := v.Deposit(ctx, inv, DepositRequest{Case: "OTHER", Name: "b.jpg", Body: strings.NewReader("y")})
	if err != nil {
		b.Fatal(err)
	}
	drafts := make([]sequencer.Draft, 0, 1000)
	for i := range 100_000 {
		c, it := "OTHER", other.ID
		if i%100 == 0 {
			c, it = "BIG", res.ID
		}
		drafts = append(drafts, sequencer.Draft{Type: TypeItemAccessed, Actor: inv.actor(), Case: c, Item: it,
			Data: ItemAccessed{Purpose: fmt.Sprint("review ", i), Access: "view"}})
		if len(drafts) == cap(drafts) {
			if _, err := v.log.Append(ctx, drafts...); err != nil {
				b.Fatal(err)
			}
			drafts = drafts[:0]
		}
	}
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := v.Timeline(ctx, aud, "BIG", "", func(events.Record, *events.Event) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n < 1000 {
			b.Fatalf("%d events", n)
		}
	}
}
