package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// sealingOf decodes the package.sealing event of a sealing recorded from
// position from on; it fails the test if there is none.
func (rv *rolesVault) sealingOf(from uint64) vault.PackageSealing {
	rv.t.Helper()
	ev := rv.eventOf(from, vault.TypePackageSealing)
	if ev == nil {
		rv.t.Fatalf("no package.sealing event; the log got %v", rv.typesFrom(from))
	}
	var d vault.PackageSealing
	if err := ev.DecodeData(&d); err != nil {
		rv.t.Fatal(err)
	}
	return d
}

// TestSealFormSealsWhatWasChosen: an investigator seals a package from
// the web application, of the items ticked on the case page or of every
// item, and the sealing records exactly those items, the purpose typed
// and the person it is for.
func TestSealFormSealsWhatWasChosen(t *testing.T) {
	rv := newRolesVault(t)
	first, _ := rv.setupCase()
	second := rv.deposit("inv", "C-1", "chat-export.txt", []byte("second item"))
	third := rv.deposit("inv", "C-1", "ledger.csv", []byte("third item"))
	inv := rv.signIn("inv")

	p := inv.get("/app/cases/C-1")
	p.status(t, "case page", http.StatusOK)
	p.has(t, "case page", "/app/cases/C-1/seal", "Seal a package of the ticked items")
	if !strings.Contains(p.raw2(), `name="item" value="`+second+`" form="seal-choice"`) {
		t.Error("the case page offers no box to choose an item for a package")
	}

	// The ticked items come to the form by name, chosen already.
	p = inv.get("/app/cases/C-1/seal?item=" + second + "&item=" + third)
	p.status(t, "seal form", http.StatusOK)
	p.postFormsCarryCSRF(t, "seal form")
	p.has(t, "seal form", "chat-export.txt", "ledger.csv", "Every item of the case (3 now)")
	if !regexp.MustCompile(`value="chosen" checked`).MatchString(p.raw2()) {
		t.Error("the seal form does not say the ticked items are chosen")
	}

	form := url.Values{"for": {"pros"}, "purpose": {"disclosure in trial 2026/114"}, "scope": {"chosen"}, "item": {second, third}}
	inv.refusedWithoutCSRF(t, "/app/cases/C-1/packages", form)
	before := rv.size()
	p = inv.send("/app/cases/C-1/packages", form)
	p.status(t, "sealing the chosen items", http.StatusOK)
	p.has(t, "sealed", "is sealed: 2 items, for pros", "pros finds it on their Packages page")
	d := rv.sealingOf(before)
	if !slices.Equal(d.Items, []string{second, third}) || d.For != "pros" || d.Purpose != "disclosure in trial 2026/114" || d.DisclosesOthers {
		t.Errorf("the sealing recorded %+v", d)
	}
	p.has(t, "sealed", "/app/packages/"+d.Package)
	if ev := rv.eventOf(before, vault.TypePackageSealed); ev == nil {
		t.Error("no package.sealed event")
	}

	// Typed ids, with a choice from the case page, and every item.
	before = rv.size()
	p = inv.send("/app/cases/C-1/packages", url.Values{"for": {"pros"}, "purpose": {"the first item alone"}, "scope": {"chosen"},
		"items": {first + ",\n" + first}, "disclose_others": {"yes"}})
	p.status(t, "sealing a typed id", http.StatusOK)
	if d := rv.sealingOf(before); !slices.Equal(d.Items, []string{first}) || !d.DisclosesOthers {
		t.Errorf("a typed id sealed %+v", d)
	}
	before = rv.size()
	p = inv.send("/app/cases/C-1/packages", url.Values{"for": {"pros"}, "purpose": {"trial bundle"}, "scope": {"all"}})
	p.status(t, "sealing every item", http.StatusOK)
	p.has(t, "every item", "is sealed: 3 items, for pros")
	if d := rv.sealingOf(before); len(d.Items) != 3 {
		t.Errorf("every item sealed %v", d.Items)
	}
}

// TestSealFormRefusesWhatItCannotMeanAndChangesNothing: a form that does
// not say which items, says "chosen" with none chosen (a choice lost on
// its way, which must never become the whole case), names a malformed id
// or gives no purpose is answered 400 and records nothing; a person who
// does not seal gets no form.
func TestSealFormRefusesWhatItCannotMeanAndChangesNothing(t *testing.T) {
	rv := newRolesVault(t)
	item, _ := rv.setupCase()
	inv := rv.signIn("inv")
	for what, form := range map[string]url.Values{
		"no scope":         {"for": {"pros"}, "purpose": {"trial"}, "item": {item}},
		"an unknown scope": {"for": {"pros"}, "purpose": {"trial"}, "scope": {"everything"}},
		"nothing chosen":   {"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {" \n, "}},
		"a malformed id":   {"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {item + " it_nothex"}},
		"no purpose":       {"for": {"pros"}, "purpose": {"  "}, "scope": {"all"}},
	} {
		before := rv.size()
		p := inv.send("/app/cases/C-1/packages", form)
		p.status(t, what, http.StatusBadRequest)
		if got := rv.typesFrom(before); len(got) != 0 {
			t.Errorf("%s: the log got %v", what, got)
		}
	}
	p := inv.send("/app/cases/C-1/packages", url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {"it_nothex"}})
	p.has(t, "a malformed id", "it_nothex", "item ids are it_ and 24 hex digits")

	// An analyst of the case neither sees the links nor gets the form.
	ctx := context.Background()
	asked, err := rv.v.AddMember(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "C-1", "ana")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, asked.ID); err != nil {
		t.Fatal(err)
	}
	ana := rv.signIn("ana")
	page := ana.get("/app/cases/C-1")
	page.has(t, "case page as an analyst", "Items 1 to 1 of 1.")
	page.lacks(t, "case page as an analyst", "/app/cases/C-1/seal", `form="seal-choice"`)
	before := rv.size()
	ana.get("/app/cases/C-1/seal").status(t, "seal form as an analyst", http.StatusForbidden)
	ana.send("/app/cases/C-1/packages", url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"all"}}).status(t, "sealing as an analyst", http.StatusForbidden)
	rv.onlyRefusals(before, "sealing as an analyst")
}

// TestSealFormWithExportApprovalOpensARequest: where a case requires a
// custodian's approval of every export, the form says so and opens the
// request; nothing is sealed until it is approved. A custodian's form
// offers the prosecutors and defence counsel to pick from; an
// investigator's lists nobody.
func TestSealFormWithExportApprovalOpensARequest(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	cust, inv := rv.signIn("cust"), rv.signIn("inv")
	cust.send("/app/cases/C-1/policy", url.Values{"export_approval": {"required"}}).status(t, "policy", http.StatusOK)

	p := inv.get("/app/cases/C-1/seal")
	p.has(t, "seal form under export approval", "requires a custodian's approval of every export", "Ask a custodian to approve this package")
	p.lacks(t, "seal form of an investigator", "<datalist")
	before := rv.size()
	p = inv.send("/app/cases/C-1/packages", url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"all"}})
	p.status(t, "sealing under export approval", http.StatusOK)
	p.has(t, "request", "Sealing a package of case C-1 for pros needs a custodian's approval")
	types := rv.typesFrom(before)
	if !slices.Contains(types, vault.TypeRequestOpened) || slices.Contains(types, vault.TypePackageSealing) {
		t.Errorf("sealing under export approval recorded %v", types)
	}

	p = cust.get("/app/cases/C-1/seal")
	p.status(t, "seal form as a custodian", http.StatusOK)
	p.has(t, "seal form as a custodian", `<option value="pros">`, `<option value="def">`)
	p.lacks(t, "seal form as a custodian", `<option value="inv">`, `<option value="aud">`)
}
