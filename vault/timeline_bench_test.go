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

// BenchmarkPackageCustodyEvents reads what a package of one item with 20
// events shows, in a case whose other item has 20,000 views: "own" is the
// custody record's read (the case's own events, then the item's), "whole
// case" the read it replaced (every event of the case, the items' ones
// passed over after their checks). A package's cost should follow its
// items, not the case's history.
func BenchmarkPackageCustodyEvents(b *testing.B) {
	v, _ := openTestVaultDir(b, func(c *Config) { c.TileDir = filepath.Join(b.TempDir(), "tiles") })
	ctx := context.Background()
	inv := enrolled(b, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "BUSY", "package"); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"shown.jpg", "busy.jpg"} {
		res, err := v.Deposit(ctx, inv, DepositRequest{Case: "BUSY", Name: name, Body: strings.NewReader(name)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	drafts := make([]sequencer.Draft, 0, 1000)
	flush := func() {
		if _, err := v.log.Append(ctx, drafts...); err != nil {
			b.Fatal(err)
		}
		drafts = drafts[:0]
	}
	for i := range 20_040 {
		d := sequencer.Draft{Type: TypeItemAccessed, Actor: inv.actor(), Case: "BUSY", Item: ids[1],
			Data: ItemAccessed{Purpose: fmt.Sprint("review ", i), Access: "view"}}
		switch {
		case i%1000 == 0:
			d.Item = ids[0]
		case i%1000 == 1:
			// The case's own: a hold placed or lifted.
			d = sequencer.Draft{Type: map[bool]string{true: TypeCaseHoldPlaced, false: TypeCaseHoldLifted}[i%2000 == 1],
				Actor: inv.actor(), Case: "BUSY", Data: HoldChanged{Reason: fmt.Sprint("hold ", i)}}
		}
		if drafts = append(drafts, d); len(drafts) == cap(drafts) {
			flush()
		}
	}
	flush()
	size := v.log.Size()
	b.Run("own", func(b *testing.B) {
		for b.Loop() {
			raw, err := v.custodyEvents(ctx, "BUSY", ids[:1], size, func(string) bool { return true }, nil, false)
			if err != nil {
				b.Fatal(err)
			}
			if len(raw) < 40 {
				b.Fatalf("%d events", len(raw))
			}
		}
	})
	b.Run("whole case", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := v.readNamed(ctx, "BUSY", byCase, func(r events.Record, ev *events.Event) error {
				if ev.Item == "" {
					n++
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			if n < 20 {
				b.Fatalf("%d events", n)
			}
		}
	})
}
