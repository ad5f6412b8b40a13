package vault

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/pkgformat"
)

// A package for the defence sealed without --disclose-others carries
// every event that names one of its items, refusals included. When the
// prosecutor, who knows the item ids from the package sealed for them,
// asks for an item (item show, item get), the refusal is recorded with
// the item (refusalScope) and travels in the defence's package and its
// report: the defence reads the prosecutor's name, role, session and
// what they tried, which tells them the prosecution holds those items.
// (The same path carries defence counsel's own probing of items into the
// prosecution's later packages.)
func TestAttackDefencePackageCarriesProsecutorRefusals(t *testing.T) {
	f := newPackageFixture(t) // P-1 with a.txt and b.txt, sealed for pros
	v := f.v
	ctx := context.Background()
	dan := defenceCounsel(t, v)
	items := caseItemIDs(t, v.state, "P-1")
	// The prosecutor looks up an item of their package.
	if _, err := v.ShowItem(ctx, f.pros, items[0]); err == nil {
		t.Fatal("the prosecutor was shown the item")
	}
	quiet, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "dan", Purpose: "disclosure to the defence"})
	if err != nil {
		t.Fatal(err)
	}
	ms := packageMembers(t, v, dan, quiet.ID)
	var m pkgformat.Manifest
	if err := json.Unmarshal(ms[pkgformat.ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.Events {
		ev, err := events.Decode(ms[e.Path])
		if err != nil {
			t.Fatal(err)
		}
		if ev.Actor.Role == RoleProsecutor || ev.Actor.Person == "pros" {
			t.Errorf("the undisclosing defence package carries event %d (%s) by the prosecutor %s: %s", ev.Seq, ev.Type, ev.Actor.Person, ev.Data)
		}
	}
	for _, l := range strings.Split(string(ms[pkgformat.ReportName]), "\n") {
		if strings.Contains(l, "pros (prosecutor)") {
			t.Errorf("the defence's report.txt names the prosecutor: %q", l)
		}
	}
}
