package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// enrolCard enrols name in role, signed in by a certificate of that
// common name, with the two custodians' approval.
func enrolCard(t *testing.T, bv *browserVault, name, role string) {
	t.Helper()
	ctx := context.Background()
	req, err := bv.v.EnrollBy(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, vault.Enrolment{Name: name, Role: role, Certificate: name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, req.ID); err != nil {
		t.Fatal(err)
	}
}

// refusedFromElsewhere is the refusals of requests a client certificate
// signed in that another site's page may have sent (recorded by source,
// naming nobody), counted as their summaries count them.
func refusedFromElsewhere(t *testing.T, bv *browserVault) int {
	n := 0
	for _, r := range bv.refusals(t) {
		if r.Grounds == vault.GroundsInput && strings.Contains(r.Reason, "client certificate") {
			if r.Person != "" {
				t.Fatalf("a refusal of a request another site may have sent names %s: %v", r.Person, r)
			}
			n += int(max(1, r.Count))
		}
	}
	return n
}

// namedIn is the refusals that name person.
func namedIn(t *testing.T, bv *browserVault, person string) []refusal {
	var out []refusal
	for _, r := range bv.refusals(t) {
		if r.Person == person {
			out = append(out, r)
		}
	}
	return out
}

// TestCertificateAPIRequestsOfAnotherSite: a client certificate is
// presented by the browser whatever page sends the request, so a page of
// another site could use a custodian's certificate to approve a
// two-person request (or a destruction) with a plain form, or record a
// view in an investigator's name with an image. The API refuses a
// certificate's request that the browser says came from another site, or
// that lacks the Custos-Client header no other site can send; the
// refusal is recorded, and nothing else is.
func TestCertificateAPIRequestsOfAnotherSite(t *testing.T) {
	bv := openTestVault(t)
	ctx := context.Background()
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	enrolCard(t, bv, "gwen", vault.RoleCustodian)
	enrolCard(t, bv, "sokha", vault.RoleInvestigator)
	card := certificateVault(t, bv)
	gwen, sokha := card("gwen"), card("sokha")

	pending, err := bv.v.EnrollBy(ctx, cust, vault.Enrolment{Name: "mallory", Role: vault.RoleCustodian})
	if err != nil {
		t.Fatal(err)
	}
	approve := "/v1/requests/" + pending.ID + "/approve"
	enrolled := len(bv.events(t, vault.TypePersonEnrolled))
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"a form of another site", append([]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, form...)},
		{"a form of a sibling site", append([]string{"Sec-Fetch-Site", "same-site", api.HeaderClient, "x"}, form...)},
		{"an older browser's form", append([]string{"Origin", "https://evil.example", api.HeaderClient, "x"}, form...)},
		{"a browser that says nothing", form},
	} {
		resp, body := gwen.do("POST", approve, nil, tc.header...)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s: approve answered %d %s", tc.name, resp.StatusCode, body)
		}
	}
	if evs := bv.events(t, vault.TypePersonEnrolled); len(evs) != enrolled {
		t.Fatalf("a request another site sent approved an enrolment: %d enrolments", len(evs))
	}
	if got := refusedFromElsewhere(t, bv); got != 4 {
		t.Fatalf("%d refusals recorded, want 4: %v", got, bv.refusals(t))
	}
	// Nor does an unknown route of another site's choosing name gwen.
	if resp, _ := gwen.do("GET", "/v1/gwen-looked-for-this", nil, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown route: %d", resp.StatusCode)
	}
	if got := namedIn(t, bv, "gwen"); len(got) != 0 {
		t.Fatalf("requests another site may have sent are recorded in gwen's name: %v", got)
	}

	// An image of another site naming an item, and the item's own case.
	inv := vault.Principal{Name: "sokha", Role: vault.RoleInvestigator}
	if err := bv.v.OpenCase(ctx, inv, "C-1", "Case C-1"); err != nil {
		t.Fatal(err)
	}
	dep, err := bv.v.Deposit(ctx, inv, vault.DepositRequest{Case: "C-1", Name: "chat.txt", Body: strings.NewReader("chat export")})
	if err != nil {
		t.Fatal(err)
	}
	item := dep.ID
	resp, body := sokha.do("GET", "/v1/items/"+item+"?purpose=for+fun", nil, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image")
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "chat export") {
		t.Fatalf("an image of another site: %d %q", resp.StatusCode, body)
	}
	if a := bv.accesses(t, item); len(a) != 0 {
		t.Fatalf("a view was recorded for another site's image: %+v", a)
	}

	// The vault's own programs send the header, and are served.
	resp, body = sokha.do("GET", "/v1/items/"+item+"?purpose=review", nil, api.HeaderClient, "custos")
	if resp.StatusCode != http.StatusOK || body != "chat export" {
		t.Fatalf("the program's view: %d %q", resp.StatusCode, body)
	}
	resp, body = gwen.do("POST", approve, nil, api.HeaderClient, "custos")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the program's approval: %d %s", resp.StatusCode, body)
	}
	if evs := bv.events(t, vault.TypePersonEnrolled); len(evs) != enrolled+1 {
		t.Fatalf("the approval of gwen's own program enrolled nobody: %d enrolments", len(evs))
	}
}

// TestCertificatePagesOfAnotherSite: the web application's forms are
// protected by their CSRF tokens, but a page (a GET) reached from another
// site's link or image would be served with the person's certificate and
// could record a refusal in their name. Such a request is shown a page
// that only offers the link; the page itself is served when the person
// follows it from the vault.
func TestCertificatePagesOfAnotherSite(t *testing.T) {
	bv := openTestVault(t)
	enrolCard(t, bv, "sokha", vault.RoleInvestigator)
	card := certificateVault(t, bv)
	sokha := card("sokha")
	bv.openCase(t, "OTHER")
	item := bv.deposit(t, "OTHER", "a.bin", []byte("other case"))
	before := len(bv.refusals(t))
	for _, tc := range []struct {
		method string
		header []string
	}{
		{"GET", []string{"Sec-Fetch-Site", "cross-site"}},
		{"HEAD", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}},
		{"GET", []string{"Referer", "https://evil.example/"}}, // a browser without Fetch Metadata
	} {
		c := sokha
		if len(tc.header) == 2 {
			// Without the test client's own Sec-Fetch-Site.
			c = &webClient{t: t, base: sokha.base, c: &http.Client{Transport: sokha.c.Transport.(sameOrigin).rt}}
		}
		resp, body := c.do(tc.method, "/app/items/"+item, nil, tc.header...)
		if resp.StatusCode != http.StatusOK || tc.method == "GET" && (!strings.Contains(body, `href="/app/items/`+item+`"`) || strings.Contains(body, "http-equiv")) {
			t.Fatalf("%s %v: %d %s", tc.method, tc.header, resp.StatusCode, body)
		}
		if got := bv.refusals(t); len(got) != before {
			t.Fatalf("another site's %s %v recorded a refusal: %v", tc.method, tc.header, got[before:])
		}
	}
	// An unknown page, or a form, another site sends names nobody.
	sokha.do("GET", "/app/sokha-was-here", nil, "Sec-Fetch-Site", "cross-site")
	sokha.do("POST", "/app/cases", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if got := namedIn(t, bv, "sokha"); len(got) != 0 {
		t.Fatalf("requests another site sent are recorded in sokha's name: %v", got)
	}
	before = len(bv.refusals(t))
	resp, _ := sokha.do("GET", "/app/items/"+item, nil, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode == http.StatusOK {
		t.Fatal("an item of a case sokha is not assigned to was shown")
	}
	if got := bv.refusals(t); len(got) != before+1 || got[before].Person != "sokha" {
		t.Fatalf("the refusal of the page followed from the vault: %v", got[before:])
	}
	// A bookmark or a typed address is the person's own.
	if resp, _ := sokha.do("GET", "/app/me", nil, "Sec-Fetch-Site", "none"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a typed address: %d", resp.StatusCode)
	}
}

// TestSiblingSitesUseNoOnesName: a session's SameSite=Strict cookie still
// comes with a request from another host of the same site (the hotline's
// public website, a partner's subdomain). Such a request's page is not
// served, and its refusals (a form refused as another origin's, an
// unknown page) name nobody; nor does a form of a certificate's browser
// that no page of the vault sent.
func TestSiblingSitesUseNoOnesName(t *testing.T) {
	bv := openTestVault(t)
	base := serve(t, bv, api.Options{}, nil)
	bv.openCase(t, "OTHER")
	item := bv.deposit(t, "OTHER", "a.bin", []byte("other case"))
	ana := newWebClient(t, base, nil)
	ana.signIn(bv.creds["ana"])
	before := len(namedIn(t, bv, "ana"))
	resp, body := ana.do("GET", "/app/items/"+item, nil, "Sec-Fetch-Site", "same-site", "Sec-Fetch-Dest", "image")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/app/items/`+item+`"`) {
		t.Fatalf("a sibling site's image: %d %s", resp.StatusCode, body)
	}
	ana.do("POST", "/app/cases", url.Values{"id": {"X"}}, "Sec-Fetch-Site", "same-site", "Origin", "https://www.example")
	ana.do("GET", "/app/ana-was-here", nil, "Sec-Fetch-Site", "same-site")
	if got := namedIn(t, bv, "ana"); len(got) != before {
		t.Fatalf("requests a sibling site sent are recorded in ana's name: %v", got[before:])
	}

	enrolCard(t, bv, "sokha", vault.RoleInvestigator)
	card := certificateVault(t, bv)
	sokha := card("sokha")
	raw := &webClient{t: t, base: sokha.base, c: &http.Client{Transport: sokha.c.Transport.(sameOrigin).rt}}
	if resp, _ := raw.do("POST", "/app/cases", url.Values{"id": {"X"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a form no page of the vault sent: %d", resp.StatusCode)
	}
	if got := namedIn(t, bv, "sokha"); len(got) != 0 {
		t.Fatalf("a form no page of the vault sent is recorded in sokha's name: %v", got)
	}
}
