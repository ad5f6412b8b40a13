package vault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
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
