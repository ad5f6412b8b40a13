package web

import (
	"net/http"
	"net/url"
	"regexp"
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
