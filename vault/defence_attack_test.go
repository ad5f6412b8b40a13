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
	for _, ev := range packageEvents(t, ms) {
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

// A refused attempt to seal a package of the case is another package,
// one that was not made, and its reason names whom it was for: a package
// for the defence sealed without --disclose-others carried an
// investigator's refused sealings for a prosecutor (one who had not
// registered a key yet, one misspelt), which told the defence what the
// prosecution was about to receive. Both are left out of it, carried by
// a package that discloses others; the one for a person without a key is
// refused on the grounds of the record's state, not of bad input.
func TestAttackUndisclosingPackageCarriesNoRefusedSealing(t *testing.T) {
	f := newPackageFixture(t)
	v := f.v
	ctx := context.Background()
	dan := defenceCounsel(t, v)
	enrolled(t, v, "pam", RoleProsecutor) // no key registered yet
	for _, forWhom := range []string{"pam", "pamm"} {
		if _, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: forWhom, Purpose: "trial"}); err == nil {
			t.Fatalf("a package was sealed for %s", forWhom)
		}
	}
	grounds := map[string]string{}
	for _, ev := range eventsOfType(t, v, TypeAccessRefused) {
		var d AccessRefused
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Action == "package.seal" {
			grounds[d.Reason] = d.Grounds
		}
	}
	if len(grounds) != 2 {
		t.Fatalf("refused sealings recorded: %v, want 2", grounds)
	}
	for reason, g := range grounds {
		if strings.Contains(reason, "has not registered") && g != GroundsState {
			t.Errorf("refusal %q recorded on grounds %q, want %q", reason, g, GroundsState)
		}
	}
	refusedSealings := func(p *SealedPackage) (n int, named bool) {
		ms := packageMembers(t, v, dan, p.ID)
		for _, ev := range packageEvents(t, ms) {
			if ev.Type == TypeAccessRefused && strings.Contains(string(ev.Data), `"package.seal"`) {
				n++
			}
		}
		return n, strings.Contains(string(ms[pkgformat.ReportName]), "pam")
	}
	quiet, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "dan", Purpose: "disclosure to the defence"})
	if err != nil {
		t.Fatal(err)
	}
	if n, named := refusedSealings(quiet); n != 0 || named {
		t.Errorf("the undisclosing defence package carries %d refused sealings (its report names pam: %v)", n, named)
	}
	open, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "dan", Purpose: "disclosure to the defence", DiscloseOthers: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, named := refusedSealings(open); n != 2 || !named {
		t.Errorf("the disclosing defence package carries %d refused sealings (its report names pam: %v), want 2", n, named)
	}
}

// packageEvents are the custody events a package's members (ms) carry,
// in its manifest's order.
func packageEvents(t *testing.T, ms map[string][]byte) []*events.Event {
	t.Helper()
	var m pkgformat.Manifest
	if err := json.Unmarshal(ms[pkgformat.ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	out := make([]*events.Event, 0, len(m.Events))
	for _, e := range m.Events {
		ev, err := events.Decode(ms[e.Path])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}
