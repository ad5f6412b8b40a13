package vault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestItemsPage: a case's items page by page, with and without a filter:
// the pages cover every item once in deposit order, the total counts what
// passes the filter, an offset past the end is an empty page, and a
// negative one is bad input.
func TestItemsPage(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"inv": RoleInvestigator})
	inv := p["inv"]
	if err := v.OpenCase(ctx, inv, "P-1", "pages"); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 23 {
		name := fmt.Sprintf("DCIM/IMG_%02d.JPG", i)
		if i%3 == 0 {
			name = fmt.Sprintf("chats/%02d.txt", i)
		}
		res, err := v.Deposit(ctx, inv, DepositRequest{Case: "P-1", Name: name, Body: strings.NewReader(name)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, res.ID)
	}
	for _, tc := range []struct {
		f     ItemFilter
		total int
	}{{ItemFilter{}, 23}, {ItemFilter{Name: "*.JPG"}, 15}, {ItemFilter{Name: "chats/*"}, 8}} {
		var got []string
		for off := 0; ; off += 5 {
			pg, err := v.ItemsPage(ctx, inv, "P-1", tc.f, off, 5)
			if err != nil {
				t.Fatal(err)
			}
			if pg.Total != tc.total || pg.Offset != off {
				t.Fatalf("%+v at %d: total %d offset %d", tc.f, off, pg.Total, pg.Offset)
			}
			if len(pg.Items) == 0 {
				break
			}
			for _, it := range pg.Items {
				got = append(got, it.ID)
			}
		}
		all, _ := v.Items(ctx, inv, "P-1", tc.f)
		if len(got) != tc.total || len(all) != tc.total {
			t.Fatalf("%+v: pages gave %d items, the list %d, want %d", tc.f, len(got), len(all), tc.total)
		}
		for i := range got {
			if got[i] != all[i].ID {
				t.Fatalf("%+v: item %d of the pages is %s, of the list %s", tc.f, i, got[i], all[i].ID)
			}
		}
		if tc.f == (ItemFilter{}) && strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatal("the unfiltered pages are not in deposit order")
		}
	}
	for _, off := range []int{23, 1000, math.MaxInt - 3} {
		pg, err := v.ItemsPage(ctx, inv, "P-1", ItemFilter{}, off, 50)
		if err != nil || len(pg.Items) != 0 || pg.Total != 23 {
			t.Fatalf("offset %d: %v %+v", off, err, pg)
		}
	}
	if _, err := v.ItemsPage(ctx, inv, "P-1", ItemFilter{}, -1, 5); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a negative offset: %v", err)
	}
}

// TestDepositNotAgain: a file the case already holds under the same name
// with the same content is refused when the depositor did not ask for it
// again, and no deposit is recorded; a different name or
// content, or asking for it, is deposited.
func TestDepositNotAgain(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := people(t, v, map[string]string{"inv": RoleInvestigator})["inv"]
	if err := v.OpenCase(ctx, inv, "D-1", "duplicates"); err != nil {
		t.Fatal(err)
	}
	dep := func(name, content string, notAgain bool) error {
		_, err := v.Deposit(ctx, inv, DepositRequest{Case: "D-1", Name: name, Body: strings.NewReader(content), NotAgain: notAgain})
		return err
	}
	if err := dep("a.txt", "A", true); err != nil {
		t.Fatal(err)
	}
	before := v.log.Size()
	if err := dep("a.txt", "A", true); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already in case D-1") {
		t.Fatalf("the same file again: %v", err)
	}
	v.cfg.Log.Read(ctx, before, func(r events.Record) error {
		ev, _ := events.Decode(r.Bytes)
		// Its ciphertext is deleted, or where the store's retention
		// refuses that, recorded as retained (like any upload refused
		// after it was stored); no deposit is recorded.
		if ev.Type == TypeItemDeposited {
			t.Errorf("a refused duplicate was recorded as a deposit")
		}
		return nil
	})
	for _, tc := range []struct {
		name, content string
		notAgain      bool
	}{{"b.txt", "A", true}, {"a.txt", "B", true}, {"a.txt", "A", false}} {
		if err := dep(tc.name, tc.content, tc.notAgain); err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
	}
	if items, _ := v.Items(ctx, inv, "D-1", ItemFilter{}); len(items) != 4 {
		t.Fatalf("the case holds %d items, want 4", len(items))
	}
	if pg, err := v.ItemsPage(ctx, inv, "D-1", ItemFilter{SHA256Prefix: "559aead0"}, 0, 10); err != nil || pg.Total != 3 {
		t.Fatalf("by the start of A's SHA-256: %v %+v", err, pg)
	}
	if _, err := v.ItemsPage(ctx, inv, "D-1", ItemFilter{SHA256Prefix: "55"}, 0, 10); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a 2-digit prefix: %v", err)
	}
	// By a whole SHA-256 (read from the vault's content index): the
	// case's items of that content, in deposit order, in any case of
	// its digits, and none of another case holding it too.
	if err := v.OpenCase(ctx, inv, "D-2", "another"); err != nil {
		t.Fatal(err)
	}
	other, err := v.Deposit(ctx, inv, DepositRequest{Case: "D-2", Name: "a.txt", Body: strings.NewReader("A")})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := v.Items(ctx, inv, "D-1", ItemFilter{})
	var wantA []string
	for _, it := range all {
		if it.SHA256 == other.SHA256 {
			wantA = append(wantA, it.ID)
		}
	}
	if len(wantA) != 3 {
		t.Fatalf("case D-1 holds %d items of content A, want 3", len(wantA))
	}
	for c, want := range map[string][]string{"D-1": wantA, "D-2": {other.ID}} {
		got, err := v.Items(ctx, inv, c, ItemFilter{SHA256: strings.ToUpper(other.SHA256)})
		var ids []string
		for _, it := range got {
			ids = append(ids, it.ID)
		}
		if err != nil || strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Fatalf("case %s by SHA-256: %v %v, want %v", c, err, ids, want)
		}
	}
	if got, _ := v.Items(ctx, inv, "D-1", ItemFilter{SHA256: other.SHA256, Name: "b.txt"}); len(got) != 1 || got[0].Name != "b.txt" {
		t.Fatalf("by SHA-256 and name: %+v", got)
	}
	// The same name and content from another exhibit is that exhibit's:
	// deposited, and named as the item the case already held (Again);
	// from that exhibit again, it is a deposit resumed: refused.
	src := func(source string) (*DepositResult, error) {
		return v.Deposit(ctx, inv, DepositRequest{Case: "D-1", Name: "b.txt", Source: source, Body: strings.NewReader("A"), NotAgain: true})
	}
	res, err := src("phone JD/3")
	if err != nil || res.Again == "" {
		t.Fatalf("the same file from another source: %+v %v", res, err)
	}
	if held, err := v.HeldAs(ctx, inv, "D-1", "b.txt", res.SHA256, "phone JD/3"); err != nil || held != res.ID {
		t.Fatalf("HeldAs from that source: %q %v, want %s", held, err, res.ID)
	}
	if held, err := v.HeldAs(ctx, inv, "D-1", "b.txt", res.SHA256, "phone JD/4"); err != nil || held != "" {
		t.Fatalf("HeldAs from a third source: %q %v", held, err)
	}
	if _, err := src("phone JD/3"); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "same SHA-256 and source") {
		t.Fatalf("the same file from that source again: %v", err)
	}
	if items, _ := v.Items(ctx, inv, "D-1", ItemFilter{}); len(items) != 5 {
		t.Fatalf("the case holds %d items, want 5", len(items))
	}
}

// TestNamePatternTakesNamesAsShown: a name copied from a list finds its
// item: a recorded escape \xHH stands for itself, \uXXXX for the
// character the command line showed that way; a Khmer name with its
// zero-width spaces is matched as written; \* is still a star.
func TestNamePatternTakesNamesAsShown(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := people(t, v, map[string]string{"inv": RoleInvestigator})["inv"]
	if err := v.OpenCase(ctx, inv, "N-1", "names"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, raw := range []string{"first\nsecond.txt", "cafe\u0301.txt", "ខ្ញុំ\u200bស្រលាញ់.jpg", "a*b.txt", "axb.txt"} {
		res, err := v.Deposit(ctx, inv, DepositRequest{Case: "N-1", Name: EscapeName([]byte(raw)), Body: strings.NewReader(raw)})
		if err != nil {
			t.Fatal(err)
		}
		ids[raw] = res.ID
	}
	for pattern, want := range map[string]string{
		`first\x0asecond.txt`: ids["first\nsecond.txt"],
		`*\x0a*`:              ids["first\nsecond.txt"],
		`cafe\u0301.txt`:      ids["cafe\u0301.txt"],
		"ខ្ញុំ\u200bស្រលាញ់.jpg": ids["ខ្ញុំ\u200bស្រលាញ់.jpg"],
		`a\*b.txt`: ids["a*b.txt"],
		// Letter case aside, as names are matched.
		`FIRST\X0Asecond.txt`: ids["first\nsecond.txt"],
		`first\x0Asecond.txt`: ids["first\nsecond.txt"],
		// A character given as \uXXXX is itself inside a class too.
		`a[\u002a]b.txt`:  ids["a*b.txt"],
		`[a\u002d]xb.txt`: ids["axb.txt"],
	} {
		page, err := v.ItemsPage(ctx, inv, "N-1", ItemFilter{Name: pattern}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" && len(page.Items) != 0 || want != "" && (len(page.Items) != 1 || page.Items[0].ID != want) {
			t.Errorf("--name %q: %v, want only %q", pattern, page.Items, want)
		}
	}
}
