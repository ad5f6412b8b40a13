package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestApprovalSentTwiceApprovesOnce: the Approvals page's form sent
// again (a second click while a sealing is carried out, a reload of the
// answer) approves nothing again, records no refusal in the approver's
// name, and shows the first outcome without the invitation half, which
// is shown once.
func TestApprovalSentTwiceApprovesOnce(t *testing.T) {
	rv := newRolesVault(t)
	cust, cust2 := rv.signIn("cust"), rv.signIn("cust2")
	cust.send("/app/people", url.Values{"name": {"sothea"}, "role": {vault.RoleAnalyst}}).status(t, "enrol", http.StatusOK)
	page := cust2.get("/app/requests")
	once := regexp.MustCompile(`name="once" value="([0-9a-f]{32})"`).FindStringSubmatch(page.raw2())
	rq := regexp.MustCompile(`/app/requests/(rq_[0-9a-f]{24})/approve`).FindStringSubmatch(page.raw2())
	if once == nil || rq == nil {
		t.Fatal("the Approvals page offers no approval form with its one-time value")
	}
	form := url.Values{"once": {once[1]}}
	before := rv.size()
	first := cust2.send("/app/requests/"+rq[1]+"/approve", form)
	first.status(t, "the approval", http.StatusOK)
	if halfPattern.FindString(first.raw2()) == "" {
		t.Fatal("the approval shows no invitation half")
	}
	if !regexp.MustCompile(`may be redeemed for 72 hours: until 20\d\d-\d\d-\d\d \d\d:\d\d UTC`).MatchString(first.body) {
		t.Error("the approval does not say until when the invitation may be redeemed")
	}
	again := cust2.send("/app/requests/"+rq[1]+"/approve", form)
	again.status(t, "the approval sent again", http.StatusOK)
	again.has(t, "the approval sent again", "This form was sent before", "shown only once")
	if halfPattern.FindString(again.raw2()) != "" {
		t.Error("the approval sent again shows the invitation half a second time")
	}
	counts := rv.countFrom(before)
	if counts[vault.TypeRequestApproved] != 1 || counts[vault.TypeAccessRefused] != 0 {
		t.Errorf("one approval sent twice recorded %v", counts)
	}
	// Without the page's value (a form of before), a second approval is
	// refused as before, and recorded.
	if p := cust2.send("/app/requests/"+rq[1]+"/approve", nil); p.code != http.StatusConflict {
		t.Errorf("an approval of a decided request without the form's value: %d", p.code)
	}
}

// TestReissueFormSaysEarlierHalvesEnd: a re-issue asked from the People
// page, with a reason, is recorded with it, and its answer says that the
// person's earlier invitation halves stop working once it is approved.
func TestReissueFormSaysEarlierHalvesEnd(t *testing.T) {
	rv := newRolesVault(t)
	cust := rv.signIn("cust")
	before := rv.size()
	p := cust.send("/app/people/inv2/reissue", url.Values{"reason": {"laptop stolen, police report 2026/881"}})
	p.status(t, "re-issue", http.StatusOK)
	p.has(t, "re-issue", "A new credential for inv2 needs a second custodian", "earlier halves of inv2's invitation, and their credential, no longer work")
	ev := rv.eventOf(before, vault.TypeRequestOpened)
	var d vault.RequestOpened
	if ev == nil || ev.DecodeData(&d) != nil || d.Reason != "laptop stolen, police report 2026/881" {
		t.Errorf("the re-issue was recorded as %+v", d)
	}
}

// TestManagePageShowsRolesAndAssignmentsAsked: a case's manage page
// gives its members' roles to custodians and auditors, who list people,
// and to custodians the assignments asked for and waiting, with who
// asked, why and until when, and where a second custodian decides them.
func TestManagePageShowsRolesAndAssignmentsAsked(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	cust := rv.signIn("cust")
	cust.send("/app/cases/C-1/members", url.Values{"person": {"inv2"}, "reason": {"second opinion on the chats"}}).status(t, "assign", http.StatusOK)
	p := cust.get("/app/cases/C-1/manage")
	p.has(t, "manage page", `inv <span class="role">(investigator)</span>`, "Assignments asked for", "inv2, asked by cust, open until ", "second opinion on the chats", "Decide on the Approvals page")
	a := rv.signIn("aud").get("/app/cases/C-1/manage")
	a.has(t, "manage page of an auditor", `inv <span class="role">(investigator)</span>`)
	a.lacks(t, "manage page of an auditor", "Assignments asked for")
}

// TestRejectedRequestStaysOnItsRequestersPage: a request a second
// custodian rejects leaves the waiting list, and its requester's
// Approvals page then says it was rejected, by whom and why; the
// custodian who rejected it is not shown it as theirs.
func TestRejectedRequestStaysOnItsRequestersPage(t *testing.T) {
	rv := newRolesVault(t)
	cust, cust2 := rv.signIn("cust"), rv.signIn("cust2")
	cust.send("/app/people", url.Values{"name": {"sothea"}, "role": {vault.RoleAnalyst}}).status(t, "enrol", http.StatusOK)
	rq := regexp.MustCompile(`/app/requests/(rq_[0-9a-f]{24})/approve`).FindStringSubmatch(cust2.get("/app/requests").raw2())
	if rq == nil {
		t.Fatal("the Approvals page offers no request to decide")
	}
	cust2.send("/app/requests/"+rq[1]+"/reject", url.Values{"reason": {"not on the unit's list"}}).status(t, "reject", http.StatusOK)
	page := cust.get("/app/requests")
	page.has(t, "the requester's page", "Your requests that ended in the last 30 days", rq[1], "Rejected by cust2 at 20", "Why, as cust2 gave it: not on the unit")
	if regexp.MustCompile(`/app/requests/` + rq[1] + `/(approve|reject)`).MatchString(page.raw2()) {
		t.Error("the rejected request is still offered for a decision")
	}
	if p := cust2.get("/app/requests"); strings.Contains(p.body, "Your requests that ended") {
		t.Error("the custodian who rejected it is shown it as their own")
	}
}

// TestRequesterFollowsTheirSealingRequest: an investigator whose
// package request a custodian rejects is told so on their Start page,
// and their requests page, titled as their menu names it, says which
// request it was (the case, whom for and why), who rejected it and why,
// and offers to ask again; approved, the request links to its package.
func TestRequesterFollowsTheirSealingRequest(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	rv.apiCall("cust", "POST", "/v1/cases/C-1/policy", api.PolicyRequest{ExportApproval: vault.ExportApprovalRequired, Reason: "victims identifiable"}, http.StatusOK, nil)
	cust, inv := rv.signIn("cust"), rv.signIn("inv")
	// The case's page says that its packages need approval, who decided
	// so and why, before anyone asks.
	inv.get("/app/cases/C-1").has(t, "the case page", "every package needs a custodian's approval", "Set by cust at 20", "Why: victims identifiable")
	var asked api.RequestResponse
	rv.apiCall("inv", "POST", "/v1/packages", api.PackageRequest{Case: "C-1", For: "pros", Purpose: `bundle for the "judge"`}, http.StatusAccepted, &asked)
	cust.get("/").has(t, "the custodian's Start page", "Requests waiting for your decision: 1.")
	inv.get("/").has(t, "the investigator's Start page", "Your requests waiting for a custodian: 1.")
	cust.send("/app/requests/"+asked.Request+"/reject", url.Values{"reason": {"the order is not signed yet"}}).status(t, "reject", http.StatusOK)
	home := inv.get("/")
	home.has(t, "the investigator's Start page", "Your requests that ended in the last 7 days: 1, of which not approved: 1.", `href="/app/requests"`)
	home.lacks(t, "the investigator's Start page", "waiting for a custodian")
	page := inv.get("/app/requests")
	page.has(t, "My requests", "<title>My requests · ", asked.Request, `a package of C-1 for pros: “bundle for the "judge"”`,
		"Rejected by cust at 20", "Why, as cust gave it: the order is not signed yet", `href="/app/cases/C-1/seal"`)
	rv.apiCall("inv", "POST", "/v1/packages", api.PackageRequest{Case: "C-1", For: "pros", Purpose: "trial"}, http.StatusAccepted, &asked)
	var approved api.RequestResponse
	rv.apiCall("cust2", "POST", "/v1/requests/"+asked.Request+"/approve", nil, http.StatusOK, &approved)
	if approved.Package == nil {
		t.Fatal("the approval sealed no package")
	}
	inv.get("/app/requests").has(t, "My requests once approved", "Approved by cust2 at 20", `href="/app/packages/`+approved.Package.ID+`"`)
}

// TestFormAddressLeadsToItsPage: the address a form was sent to,
// reloaded or bookmarked after its answer, leads to the page the form
// belongs to, changing nothing, instead of "no such page".
func TestFormAddressLeadsToItsPage(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	cust := rv.signIn("cust")
	before := rv.size()
	for path, want := range map[string]string{
		"/app/requests/rq_0123456789abcdef01234567/approve": "/app/requests",
		"/app/cases/C-1/packages":                           "/app/cases/C-1",
		"/app/people/inv2/suspend":                          "/app/people",
		"/app/cases":                                        "/app/",
		"/app/me/recipient":                                 "/app/me",
	} {
		p := cust.get(path)
		if p.code != http.StatusOK || p.url != rv.srv.URL+want {
			t.Errorf("GET %s: %d at %s, want the page %s", path, p.code, p.url, want)
		}
	}
	if counts := rv.countFrom(before); len(counts) != 0 {
		t.Errorf("reloading form addresses recorded %v", counts)
	}
}

// TestARefusalNamesThePageNotACommand: a refusal the vault explains with
// a command of the CLI is explained on the web with the page to use: a
// custodian approving their own request is told another custodian must,
// and that they may withdraw it on the Approvals page.
func TestARefusalNamesThePageNotACommand(t *testing.T) {
	rv := newRolesVault(t)
	cust, cust2 := rv.signIn("cust"), rv.signIn("cust2")
	cust.send("/app/people", url.Values{"name": {"sothea"}, "role": {vault.RoleAnalyst}}).status(t, "enrol", http.StatusOK)
	rq := regexp.MustCompile(`/app/requests/(rq_[0-9a-f]{24})/approve`).FindStringSubmatch(cust2.get("/app/requests").raw2())
	if rq == nil {
		t.Fatal("no request to approve")
	}
	p := cust.send("/app/requests/"+rq[1]+"/approve", nil)
	if p.code != http.StatusForbidden {
		t.Fatalf("approving one's own request: %d", p.code)
	}
	p.has(t, "approving one's own request", "nobody approves their own request", "withdraw it on the Approvals page")
	if strings.Contains(p.body, "custos reject") {
		t.Errorf("the web names a command: %s", p.body)
	}
}

// TestApprovalsPageNamesTheSetsAnImportContradicts: a hash-set import
// waiting for approval is shown to the approver with the set in use of
// the other kind that lists some of its files, and how many; so is the
// approval's answer.
func TestApprovalsPageNamesTheSetsAnImportContradicts(t *testing.T) {
	rv := newRolesVault(t, func(c *vault.Config) { c.HashSetApproval = true })
	known := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc.jpg\nd4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35  2.jpg\n"
	importHashSet(t, rv.v, vault.HashSetImport{Name: "known", Format: "sha256sum", Category: vault.CategoryBaseline, Body: strings.NewReader(known)})
	ordinary := "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35  readme.txt\n4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce  3.txt\n"
	res, err := rv.v.ImportHashSet(context.Background(), vault.Principal{Name: "cust", Role: vault.RoleCustodian},
		vault.HashSetImport{Name: "ordinary", Format: "sha256sum", Category: vault.CategoryKnownGood, Body: strings.NewReader(ordinary)})
	if err != nil || res.Request == "" {
		t.Fatalf("%+v %v", res, err)
	}
	cust2 := rv.signIn("cust2")
	page := cust2.get("/app/requests")
	page.has(t, "the Approvals page", "Set known, in use, lists known material, and 1 of its hashes are this set's too", "Check which set is wrong before you approve")
	once := regexp.MustCompile(`name="once" value="([0-9a-f]{32})"`).FindStringSubmatch(page.raw2())
	if once == nil {
		t.Fatal("no approval form")
	}
	done := cust2.send("/app/requests/"+res.Request+"/approve", url.Values{"once": {once[1]}})
	done.status(t, "the approval", http.StatusOK)
	done.has(t, "the approval", "Set known, in use, lists known material, and 1 of this set's hashes are its too")
}

// TestPeoplePageShowsAVoidInvitation: an invitation whose approval was
// given with a certificate of a CA two custodians retired since is void,
// and the People page says so, with the source and what to do.
func TestPeoplePageShowsAVoidInvitation(t *testing.T) {
	ca := strings.Repeat("ab", 32)
	rv := newRolesVault(t, func(c *vault.Config) { c.SignIn.ClientCASHA256 = []string{ca} })
	ctx := context.Background()
	cust := rv.signIn("cust")
	cust.send("/app/people", url.Values{"name": {"sothea"}, "role": {vault.RoleAnalyst}}).status(t, "enrol", http.StatusOK)
	pending := rv.v.Requests(vault.Principal{Name: "cust2", Role: vault.RoleCustodian})
	if len(pending) != 1 {
		t.Fatalf("requests waiting: %v", pending)
	}
	card := vault.Principal{Name: "cust2", Role: vault.RoleCustodian, Credential: vault.Credential{Auth: "certificate", CAs: []string{ca}}}
	if _, err := rv.v.Approve(ctx, card, pending[0].ID); err != nil {
		t.Fatal(err)
	}
	before := cust.get("/app/people")
	before.lacks(t, "people page before the retirement", "The invitation is void")
	before.has(t, "people page before the retirement", "The invitation may be redeemed until 20")
	retire, err := rv.v.RetireIdentitySource(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, vault.CASource(ca), "the CA's key leaked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, retire.ID); err != nil {
		t.Fatal(err)
	}
	after := cust.get("/app/people")
	after.has(t, "people page", "The invitation is void: the identity source "+vault.CASource(ca)+", through which a custodian asked for it or approved it, was retired", "Re-issue it")
	after.lacks(t, "people page", "The invitation may be redeemed until")
}

// TestPeoplePageSaysWhoEnrolledWhom: the People page gives each person
// how they were enrolled (the vault's set-up, or who asked and who
// approved), and lists the enrolments asked for and not yet decided, to
// custodians and auditors alike, until a second custodian approves.
func TestPeoplePageSaysWhoEnrolledWhom(t *testing.T) {
	rv := newRolesVault(t)
	cust, cust2 := rv.signIn("cust"), rv.signIn("cust2")
	cust.send("/app/people", url.Values{"name": {"sothea"}, "role": {vault.RoleAnalyst}, "reason": {"new analyst, HR-14"}}).status(t, "enrol", http.StatusOK)
	for _, who := range []string{"cust2", "aud"} {
		p := rv.signIn(who).get("/app/people")
		p.has(t, "People page of "+who, "Enrolments awaiting a second custodian", "sothea as analyst, asked by cust at ", "new analyst, HR-14", "when the vault was set up")
	}
	rq := regexp.MustCompile(`/app/requests/(rq_[0-9a-f]{24})/approve`).FindStringSubmatch(cust2.get("/app/requests").raw2())
	once := regexp.MustCompile(`name="once" value="([0-9a-f]{32})"`).FindStringSubmatch(cust2.get("/app/requests").raw2())
	if rq == nil || once == nil {
		t.Fatal("no approval form")
	}
	cust2.send("/app/requests/"+rq[1]+"/approve", url.Values{"once": {once[1]}}).status(t, "the approval", http.StatusOK)
	p := cust.get("/app/people")
	p.has(t, "People page after the approval", "asked by cust and approved by cust2")
	p.lacks(t, "People page after the approval", "Enrolments awaiting a second custodian")
}

// An auditor's menu leads to the pages they may read: who is enrolled
// (and by whom) and the hash sets that hide material, read only.
func TestAuditorsMenuLeadsToPeopleAndHashSets(t *testing.T) {
	rv := newRolesVault(t)
	aud := rv.signIn("aud")
	home := aud.get("/app/")
	home.has(t, "an auditor's menu", `href="/app/people"`, `href="/app/hashsets"`)
	aud.get("/app/people").status(t, "the People page", http.StatusOK)
	p := aud.get("/app/hashsets")
	p.status(t, "the hash-set page", http.StatusOK)
	p.lacks(t, "an auditor's hash-set page", `action="/app/hashsets/`)
}

// A case's page names its members, as custos case show does, to its
// investigators and analysts too (who do not see the manage page).
func TestCasePageNamesItsMembers(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	p := rv.signIn("inv").get("/app/cases/C-1")
	p.has(t, "the case's page of its investigator", "<dt>Members</dt><dd>inv</dd>")
}
