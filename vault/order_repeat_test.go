package vault

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestRefusalSummariesRecordedInOneOrder: the summaries of a signed-in
// person's refused requests that fall due together are appended in one
// order, whatever the order of the map that holds their windows: the
// same refusals give the same custody log.
func TestRefusalSummariesRecordedInOneOrder(t *testing.T) {
	var first []string
	for run := range 6 {
		v, _ := openTestVaultDir(t, func(c *Config) { c.RefusalWindow, c.RefusalBurst = time.Hour, 1 })
		ctx := context.Background()
		inv := enrolled(t, v, "inv", RoleInvestigator)
		before := v.log.Size()
		for i := range 8 {
			for range 2 { // the first recorded alone, the second summarised
				if err := v.RecordRefusal(ctx, &inv, AccessRefused{Action: fmt.Sprintf("GET /app/page-%d", i), Reason: "not for investigators"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		v.summariseRefusals(true)
		var got []string
		v.cfg.Log.Read(ctx, before, func(r events.Record) error {
			ev, _ := events.Decode(r.Bytes)
			var d AccessRefused
			if ev.Type == TypeAccessRefused && ev.DecodeData(&d) == nil && d.Count > 0 {
				got = append(got, d.Action)
			}
			return nil
		})
		if len(got) != 8 {
			t.Fatalf("run %d: %d summaries, want 8", run, len(got))
		}
		if run == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("the same refusals were summarised in the log in two orders:\n%v\n%v", first, got)
		}
	}
}

// TestHashSetPDQTiesReadAlike: an image as near to entries of several
// hash sets is told it is known material because of the same entry,
// and its deposit records its matches in the same order, at every start
// (each start builds the sets' PDQ index again: indexPDQ).
func TestHashSetPDQTiesReadAlike(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = t.TempDir() })
	v, ctx := h.v, h.ctx
	photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
	orig := h.deposit(t, h.a1, "orig.jpg", photo, "")
	if orig.Media == nil || orig.Media.PDQ == "" {
		t.Fatalf("no PDQ hash: %+v", orig.Media)
	}
	vics := `{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases","value":[{"CaseNumber":"P","Media":[` +
		`{"MediaID":1,"Category":1,"AlternativeHashes":[{"HashName":"PDQ","HashValue":"` + orig.Media.PDQ + `"}]}]}]}`
	for _, name := range []string{"set-a", "set-b", "set-c", "set-d", "set-e"} {
		if _, err := importSet(t, v, ctx, h.cust, HashSetImport{Name: name, Format: "vics", Category: "baseline", Body: strings.NewReader(vics)}); err != nil {
			t.Fatal(err)
		}
	}
	var firstKnown string
	var firstSets []string
	for run := range 8 {
		v.hashsets.indexPDQ() // as a start does
		it, _, err := v.state.getItem(orig.ID)
		if err != nil {
			t.Fatal(err)
		}
		known, err := v.knownBecause(ctx, it, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := h.deposit(t, h.a1, fmt.Sprintf("copy-%d.jpg", run), append(slices.Clone(photo), strings.Repeat("x", run+1)...), "")
		var sets []string
		for _, m := range d.Matches {
			sets = append(sets, m.Set)
		}
		if run == 0 {
			firstKnown, firstSets = known, sets
			continue
		}
		if known != firstKnown {
			t.Errorf("start %d: the same item is known %q; at the first, %q", run, known, firstKnown)
		}
		if !slices.Equal(sets, firstSets) {
			t.Errorf("start %d: a copy's deposit records its matches in the order %v; at the first, %v", run, sets, firstSets)
		}
	}
}

// TestSimilarTiesListedAlike: near-duplicates at the same distance are
// listed in the same order each time they are asked for.
func TestSimilarTiesListedAlike(t *testing.T) {
	h := newHotline(t)
	photo := readPhoto(t, "bridge-mods/aaa-orig.jpg")
	for i := range 6 {
		h.deposit(t, h.a1, fmt.Sprintf("same-%d.jpg", i), append(slices.Clone(photo), strings.Repeat("y", i+1)...), "")
	}
	near := h.deposit(t, h.a1, "near.jpg", readPhoto(t, "bridge-mods/shrink-a-lot.jpg"), "")
	var first []string
	for run := range 8 {
		res, err := h.v.Similar(h.ctx, h.a1, "", near.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range res[0].Matches {
			got = append(got, fmt.Sprintf("%s@%d", m.Item, m.Distance))
		}
		if run == 0 {
			first = got
		} else if !slices.Equal(got, first) {
			t.Fatalf("asked twice, the same near-duplicates were listed as\n%v\nthen as\n%v", first, got)
		}
	}
}
