package web

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/vault"
)

// TestBrowserApproveClickedTwiceShowsTheHalf: a custodian double-clicks
// "Approve" on the Approvals page (the second click 30 ms after the
// first, while its answer is awaited). The page sends the form once, so
// the answer it shows is the first, with the custodian's half of the
// invitation, shown once; one approval is recorded, and no refusal.
func TestBrowserApproveClickedTwiceShowsTheHalf(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	if _, err := bv.v.EnrollBy(context.Background(), vault.Principal{Name: "cust", Role: vault.RoleCustodian}, vault.Enrolment{Name: "sothea", Role: vault.RoleAnalyst}); err != nil {
		t.Fatal(err)
	}
	bv.signIn(t, ctx, "cust2")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/requests"))
	value(t, ctx, chromedp.Evaluate[any](`(() => { const b = document.querySelector('form[action$="/approve"] button[type=submit]'); b.click(); setTimeout(() => b.click(), 30); return 1; })()`))
	run(t, ctx, chromedp.WaitVisible(chromedp.ID("invitation-half")))
	if n := len(bv.events(t, vault.TypeRequestApproved)); n != 1 {
		t.Errorf("%d approvals recorded", n)
	}
	if r := bv.refusals(t); len(r) != 0 {
		t.Errorf("refusals recorded: %v", r)
	}
}
