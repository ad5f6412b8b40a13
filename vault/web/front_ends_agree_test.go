package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestHoldRefusalsRecordedAlike: one refused attempt to place a hold, by a
// non-custodian, is recorded under the same action through the web form
// and the API (case.hold), and a form that chose neither placing nor
// lifting is not recorded as a refused release.
func TestHoldRefusalsRecordedAlike(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	inv := rv.signIn("inv")
	lastAction := func(before uint64) string {
		ev := rv.eventOf(before, vault.TypeAccessRefused)
		if ev == nil {
			return "(none)"
		}
		var d vault.AccessRefused
		json.Unmarshal(ev.Data, &d)
		return d.Action
	}
	b := rv.size()
	inv.send("/app/cases/C-1/hold", url.Values{"hold": {"place"}, "reason": {"r"}})
	web := lastAction(b)
	b = rv.size()
	rv.apiCall("inv", "POST", "/v1/cases/C-1/hold", api.HoldRequest{On: true, Reason: "r"}, http.StatusForbidden, nil)
	apiA := lastAction(b)
	b = rv.size()
	inv.send("/app/cases/C-1/hold", url.Values{"hold": {"bogus"}, "reason": {"r"}})
	bogus := lastAction(b)
	if web != apiA {
		t.Errorf("one attempt, two recorded actions: web %s, API %s", web, apiA)
	}
	if bogus == "case.release" {
		t.Errorf("a form that asked for neither is recorded as a refused release")
	}
}

// TestReportFormsDecideWhoFirst: the web's assess, close, reopen and
// forward forms hand their fields to vault methods that decide who may
// work on the report first: a custodian (who may not work on reports at
// all) sending a malformed field is refused, and the refusal recorded, not
// told what was malformed.
func TestReportFormsDecideWhoFirst(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	ana := rv.signIn("ana")
	resp := ana.send("/app/reports", url.Values{"channel": {"email"}, "urls": {"https://bad.example/x"}})
	report := regexp.MustCompile(`rp_[0-9a-f]{24}`).FindString(resp.url)
	if report == "" {
		t.Fatalf("no report: %s", resp.url)
	}
	cust := rv.signIn("cust")
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/assess", url.Values{"case": {"bad case id!"}}},
		{"/close", url.Values{"reason": {"bogus"}}},
		{"/reopen", url.Values{"reason": {""}}},
		{"/forward", url.Values{"to": {"x"}, "kind": {"bogus"}, "format": {"csv"}}},
	} {
		before := rv.size()
		p := cust.send("/app/reports/"+report+c.path, c.form)
		if p.code == http.StatusBadRequest || rv.eventOf(before, vault.TypeAccessRefused) == nil {
			t.Errorf("POST %s as a custodian: %d, refusal recorded: %v", c.path, p.code, rv.eventOf(before, vault.TypeAccessRefused) != nil)
		}
	}
}

// TestRefusalTargetsAlikeOnBothFrontEnds: an auditor opening a case and
// an investigator enrolling someone, refused, are recorded with the same
// action and target (the case, the person) through the web and the API.
func TestRefusalTargetsAlikeOnBothFrontEnds(t *testing.T) {
	rv := newRolesVault(t)
	last := func(before uint64) vault.AccessRefused {
		var d vault.AccessRefused
		if ev := rv.eventOf(before, vault.TypeAccessRefused); ev != nil {
			json.Unmarshal(ev.Data, &d)
		}
		return d
	}
	aud, inv := rv.signIn("aud"), rv.signIn("inv")
	b := rv.size()
	aud.send("/app/cases", url.Values{"case": {"C-9"}, "title": {"t"}})
	web := last(b)
	b = rv.size()
	rv.apiCall("aud", "POST", "/v1/cases", api.CaseRequest{Case: "C-9", Title: "t"}, http.StatusForbidden, nil)
	apiR := last(b)
	if web.Action != apiR.Action || web.Target != apiR.Target {
		t.Errorf("case.open by an auditor: web %s %q, API %s %q", web.Action, web.Target, apiR.Action, apiR.Target)
	}
	b = rv.size()
	inv.send("/app/people", url.Values{"name": {"mallory"}, "role": {"custodian"}})
	web = last(b)
	b = rv.size()
	rv.apiCall("inv", "POST", "/v1/persons", api.PersonRequest{Name: "mallory", Role: "custodian"}, http.StatusForbidden, nil)
	apiR = last(b)
	if web.Action != apiR.Action || web.Target != apiR.Target {
		t.Errorf("person.enroll by an investigator: web %s %q, API %s %q", web.Action, web.Target, apiR.Action, apiR.Target)
	}
}

// TestReportFormDecidesWhoBeforeTheTime: an investigator (who records no
// reports) posting the report form with a time that is not one is
// refused, and recorded, before the time is read.
func TestReportFormDecidesWhoBeforeTheTime(t *testing.T) {
	rv := newRolesVault(t)
	inv := rv.signIn("inv")
	before := rv.size()
	p := inv.send("/app/reports", url.Values{"channel": {"email"}, "urls": {"https://bad.example/x"}, "at_local": {"yesterday"}, "tz": {"0"}})
	if p.code == http.StatusBadRequest || rv.eventOf(before, vault.TypeAccessRefused) == nil {
		t.Fatalf("an investigator's report form with a bad time: %d, refusal recorded: %v", p.code, rv.eventOf(before, vault.TypeAccessRefused) != nil)
	}
}
