package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestGatedRoutesRefuseBeforeTheBody: on every route with a gate
// (Route.Asks), someone who may not ask at all is refused, and the refusal
// recorded under the vault's action, whatever the body holds: a malformed
// body is not answered as bad input (which is not recorded, and would let
// them probe the route's checks), and is answered as a well-formed one is.
// Every route that takes a JSON body has a gate, or a reason here why the
// vault decides who may ask from the body itself.
func TestGatedRoutesRefuseBeforeTheBody(t *testing.T) {
	ungated := map[string]string{
		"openSession":      "signs in: no one is signed in yet",
		"redeemInvitation": "signs in: no one is signed in yet",
		"refreshSession":   "anyone signed in, for their own session",
		"endSession":       "anyone signed in, for their own session",
		"reject":           "anyone: requesters withdraw their own requests",
		"reportPublic":     "the public form",
	}
	tv := newTestVault(t, Options{})
	tv.setupCase()
	people := map[string]string{"pros": vault.RoleProsecutor, "inv": vault.RoleInvestigator, "aud": vault.RoleAuditor, "cust": vault.RoleCustodian}
	fill := strings.NewReplacer("{case}", "C-1", "{person}", "cust", "{request}", "rq_0123456789abcdef01234567",
		"{report}", "rp_0123456789abcdef01234567", "{name}", "known-set", "{package}", "pk_0123456789abcdef",
		"{item}", "it_0123456789abcdef01234567")
	gated := 0
	for _, rt := range Routes() {
		if rt.Method != "POST" {
			continue // queries: TestQueriesReadAfterWhoMayAsk
		}
		if rt.Asks == "" {
			if rt.Auth && rt.Method == "POST" && rt.Request != nil && ungated[rt.Name] == "" {
				t.Errorf("%s %s takes a JSON body and has no gate", rt.Method, rt.Pattern)
			}
			continue
		}
		roles := vault.AskingRoles(rt.Asks)
		if len(roles) == 0 {
			t.Errorf("%s: the vault has no gate %q", rt.Name, rt.Asks)
			continue
		}
		var who string
		for _, p := range []string{"pros", "inv", "aud", "cust"} {
			if !slices.Contains(roles, people[p]) {
				who = p
				break
			}
		}
		path := fill.Replace(rt.Pattern)
		var answers []string
		for _, body := range []string{`{"bogus":1,`, `{}`} {
			before := tv.v.Log().Size()
			a := tv.postJSON(who, path, body)
			if a.code != 403 && a.code != 404 {
				t.Errorf("%s as %s, body %s: %d %s", rt.Name, who, body, a.code, a.body)
				continue
			}
			answers = append(answers, a.body)
			if got := tv.v.Log().Size() - before; got != 1 {
				t.Errorf("%s as %s, body %s: %d events recorded, not the refusal", rt.Name, who, body, got)
				continue
			}
			refusals := tv.events(vault.TypeAccessRefused)
			if d := refusalData(t, refusals[len(refusals)-1]); d.Action != rt.Asks {
				t.Errorf("%s as %s: recorded a refusal of %s, not of %s", rt.Name, who, d.Action, rt.Asks)
			}
		}
		if len(answers) == 2 && answers[0] != answers[1] {
			t.Errorf("%s as %s: a malformed body is answered %q, a well-formed one %q", rt.Name, who, answers[0], answers[1])
		}
		gated++
	}
	if gated < 20 {
		t.Fatalf("only %d routes have a gate", gated)
	}
}

// TestUnrecordedRefusalTakesTheGatesAction: a 403 or 404 the vault did not
// record (a backend's "not found") is recorded by the route under the
// vault's action where the route names its gate, which the log words like
// the vault's own refusals, and under the route where it names none.
func TestUnrecordedRefusalTakesTheGatesAction(t *testing.T) {
	tv := newTestVault(t, Options{})
	notFound := func(*Handler, http.ResponseWriter, *http.Request, vault.Principal) error {
		return fmt.Errorf("%w: the object is gone", vault.ErrNotFound)
	}
	tv.h.route("GET /v1/test/gated", "hashset.remove", notFound)
	tv.h.route("GET /v1/test/plain", "GET /v1/test/plain", notFound)
	for path, want := range map[string]string{"/v1/test/gated": "hashset.remove", "/v1/test/plain": "GET /v1/test/plain"} {
		if a := tv.do("cust", "GET", path, "", nil); a.code != 404 {
			t.Fatalf("%s: %d %s", path, a.code, a.body)
		}
		refusals := tv.events(vault.TypeAccessRefused)
		if d := refusalData(t, refusals[len(refusals)-1]); d.Action != want {
			t.Errorf("%s: recorded under %q, not %q", path, d.Action, want)
		}
	}
}

// TestQueriesReadAfterWhoMayAsk: a route that reads a query decides who
// may ask first: a malformed query from someone who may not is their
// recorded refusal, answered as a well-formed one is, not bad input.
func TestQueriesReadAfterWhoMayAsk(t *testing.T) {
	tv := newTestVault(t, Options{})
	item, _ := tv.setupCase()
	refusedAlike(t, tv, []queryCase{
		{"pros", "/v1/stats", "from=last-week", "from=2026-01-01"},
		{"inv", "/v1/log/timestamps", "from=-1", "from=0"},
		{"pros", "/v1/reports/rp_0123456789abcdef01234567", "contact=maybe", "contact=open"},
		{"inv2", "/v1/items/" + item, "reveal_known=maybe", "reveal_known=false"},
		{"inv2", "/v1/items/" + item + "/similar", "max_distance=99", "max_distance=9"},
		{"inv2", "/v1/cases/C-1/similar", "max_distance=x", "max_distance=9"},
	})
}

// TestWellFormedRefusalsKeepTheirTarget: a well-formed request from
// someone who may not ask is refused by the vault's method, which records
// the target its body names and the exact action, as the web application's
// forms have it recorded: a case an auditor tried to open, a hold an
// investigator tried to place or to lift.
func TestWellFormedRefusalsKeepTheirTarget(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	for _, c := range []struct{ who, path, body, action, target string }{
		{"aud", "/v1/cases", `{"case":"C-9","title":"x"}`, "case.open", "C-9"},
		{"inv", "/v1/cases/C-1/hold", `{"on":true,"reason":"x"}`, "case.hold", "C-1"},
		{"inv", "/v1/cases/C-1/hold", `{"on":false,"reason":"x"}`, "case.release", "C-1"},
		{"pros", "/v1/persons", `{"name":"eve","role":"auditor"}`, "person.enroll", "eve"},
	} {
		if a := tv.postJSON(c.who, c.path, c.body); a.code != 403 {
			t.Fatalf("%s %s: %d %s", c.who, c.path, a.code, a.body)
		}
		refusals := tv.events(vault.TypeAccessRefused)
		if d := refusalData(t, refusals[len(refusals)-1]); d.Action != c.action || d.Target != c.target {
			t.Errorf("%s %s: recorded %s of %q, not %s of %q", c.who, c.path, d.Action, d.Target, c.action, c.target)
		}
	}
}

// TestDocumentQueriesReadAfterWhoMayAsk: the custody documents and the
// exposure page read their queries (a format, a person) once who may ask
// is decided; someone who may not is refused and recorded alike, a
// malformed query or not.
func TestDocumentQueriesReadAfterWhoMayAsk(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	refusedAlike(t, tv, []queryCase{
		{"inv", "/v1/cases/C-1/report", "format=bogus", "format=pdf"},
		{"pros", "/v1/cases/C-1/case-uco", "purpose=%00", "purpose=trial"},
		{"pros", "/v1/cases/C-1/hashes", "format=bogus", "format=csv"},
		{"inv", "/v1/exposure", "person=%20bad%20", "person=cust"},
	})
}

// queryCase is a GET route asked by someone who may not, with a malformed
// query and a well-formed one.
type queryCase struct{ who, path, bad, good string }

// refusedAlike checks that each case's two queries are both refused (403
// or 404), each recorded as one refusal, and answered alike.
func refusedAlike(t *testing.T, tv *testVault, cases []queryCase) {
	t.Helper()
	for _, c := range cases {
		var answers []string
		for _, q := range []string{c.bad, c.good} {
			before := tv.v.Log().Size()
			a := tv.do(c.who, "GET", c.path+"?"+q, "", nil)
			if a.code != 403 && a.code != 404 {
				t.Errorf("%s as %s, %s: %d %s", c.path, c.who, q, a.code, a.body)
				continue
			}
			if got := tv.v.Log().Size() - before; got != 1 {
				t.Errorf("%s as %s, %s: %d events recorded, not the refusal", c.path, c.who, q, got)
			}
			answers = append(answers, fmt.Sprint(a.code, a.body))
		}
		if len(answers) == 2 && answers[0] != answers[1] {
			t.Errorf("%s as %s: a malformed query is answered %q, a well-formed one %q", c.path, c.who, answers[0], answers[1])
		}
	}
}

// TestCaseUCOOnTheReportRoute: format=case-uco on the custody report's
// route points whoever may have the CASE/UCO record (the case's
// investigator) to its own route, and refuses anyone else as that route
// does, recorded.
func TestCaseUCOOnTheReportRoute(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	before := tv.v.Log().Size()
	if a := tv.do("inv", "GET", "/v1/cases/C-1/report?format=case-uco", "", nil); a.code != 400 || !strings.Contains(a.body, "/v1/cases/{case}/case-uco") {
		t.Errorf("the case's investigator: %d %s", a.code, a.body)
	}
	if tv.v.Log().Size() != before {
		t.Error("the investigator's mistaken route was recorded as a refusal")
	}
	bad := tv.do("inv2", "GET", "/v1/cases/C-1/report?format=case-uco", "", nil)
	good := tv.do("inv2", "GET", "/v1/cases/C-1/case-uco", "", nil)
	if bad.code != 404 || bad.body != good.body || tv.v.Log().Size() != before+2 {
		t.Errorf("another investigator: %d %s against %d %s (%d events)", bad.code, bad.body, good.code, good.body, tv.v.Log().Size()-before)
	}
}

// TestNotJSONIsPutToTheGate: a body that is not JSON (415) from someone
// who may not ask is their refusal, recorded, answered as a JSON body is.
func TestNotJSONIsPutToTheGate(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	for _, c := range []struct{ who, path, body string }{
		{"inv", "/v1/persons", `{"name":"eve","role":"auditor"}`},
		{"inv", "/v1/cases/C-1/hold", `{"on":true,"reason":"x"}`},
		{"aud", "/v1/hashsets/known-set/remove", `{"reason":"x"}`},
		{"cust", "/v1/reports/rp_0123456789abcdef01234567/close", `{"reason":"duplicate"}`},
	} {
		var codes []int
		for _, ctype := range []string{"text/plain", "application/json"} {
			before := tv.v.Log().Size()
			a := tv.do(c.who, "POST", c.path, ctype, strings.NewReader(c.body))
			if (a.code != 403 && a.code != 404) || tv.v.Log().Size() != before+1 {
				t.Errorf("%s as %s, %s: %d %s (%d events)", c.path, c.who, ctype, a.code, a.body, tv.v.Log().Size()-before)
			}
			codes = append(codes, a.code)
		}
		if len(codes) == 2 && codes[0] != codes[1] {
			t.Errorf("%s as %s: %v", c.path, c.who, codes)
		}
	}
}

// TestPathIDsAfterWhoMayAsk: a malformed id in the path, from someone
// whose role can never act on the route, is refused and recorded as a
// well-formed one is; someone who could act is told it is malformed.
func TestPathIDsAfterWhoMayAsk(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	refusedAlike(t, tv, []queryCase{
		{"pros", "/v1/cases/%21bad/hashes", "format=csv", "format=csv"},
		{"pros", "/v1/cases/%21bad/report", "format=pdf", "format=pdf"},
		{"aud", "/v1/cases/%21bad/items", "", ""},
		{"inv", "/v1/packages/pk_bad", "", ""},
		// Filters are read once who may list is decided.
		{"inv2", "/v1/cases/C-1/items", "sha256=zz", "sha256=" + strings.Repeat("ab", 32)},
		{"pros", "/v1/cases/C-1/items", "name=%5B", "name=a.bin"},
	})
	for _, c := range []struct{ who, path string }{
		{"inv", "/v1/cases/%21bad/hashes?format=csv"},
		{"cust", "/v1/cases/%21bad/report"},
		{"pros", "/v1/packages/pk_bad"},
		{"inv", "/v1/cases/C-1/items?sha256=zz"},
	} {
		before := tv.v.Log().Size()
		if a := tv.do(c.who, "GET", c.path, "", nil); a.code != 400 || tv.v.Log().Size() != before {
			t.Errorf("%s as %s: %d %s", c.path, c.who, a.code, a.body)
		}
	}
	// A deposit to a malformed case id, by a custodian (who deposits
	// nothing), is refused and recorded.
	before := tv.v.Log().Size()
	if a := tv.do("cust", "POST", "/v1/cases/%21bad/items?name=a", "application/octet-stream", strings.NewReader("x")); (a.code != 403 && a.code != 404) || tv.v.Log().Size() != before+1 {
		t.Errorf("a custodian's deposit to a malformed case id: %d %s", a.code, a.body)
	}
}

// TestOwnExposureMisspelt: one's own name spelt otherwise is told how
// names are written, not refused as someone else's.
func TestOwnExposureMisspelt(t *testing.T) {
	tv := newTestVault(t, Options{})
	for _, q := range []string{"person=INV", "person=inv%20"} {
		before := tv.v.Log().Size()
		if a := tv.do("inv", "GET", "/v1/exposure?"+q, "", nil); a.code != 400 || tv.v.Log().Size() != before {
			t.Errorf("%s: %d %s", q, a.code, a.body)
		}
	}
}
