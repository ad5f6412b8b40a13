package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
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
