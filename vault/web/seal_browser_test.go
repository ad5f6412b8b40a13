package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault"
)

// sealingCase opens caseID with three items (a chat, an unrelated photo,
// a ledger) and registers pros's recipient; it returns the chat's and
// the ledger's ids.
func (bv *browserVault) sealingCase(t *testing.T, caseID string) (chat, ledger string) {
	t.Helper()
	bv.openCase(t, caseID)
	chat = bv.deposit(t, caseID, "chat-export.txt", []byte("the chat"))
	bv.deposit(t, caseID, "photo-unrelated.bin", []byte("not for this package"))
	ledger = bv.deposit(t, caseID, "ledger.csv", []byte("payments"))
	id, _ := age.GenerateX25519Identity()
	if _, _, err := bv.v.SetRecipient(context.Background(), vault.Principal{Name: "pros", Role: vault.RoleProsecutor}, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	return chat, ledger
}

// TestBrowserSealTheTickedItems walks an investigator through sealing a
// package in Chromium, as they would: tick one of a case's three items
// on the case page, search for another and tick it in the results (the
// first stays ticked), follow the button to the seal form, type whom it
// is for and why, and send it. The package sealed holds exactly the
// ticked items, and its page names the person it is for.
func TestBrowserSealTheTickedItems(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	chat, ledger := bv.sealingCase(t, "SEAL-1")

	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/SEAL-1"),
		chromedp.Click(chromedp.CSS(`input[value="`+chat+`"]`)),
		chromedp.SendKeys(chromedp.ID("q"), "ledger"))
	navigation(t, ctx, chromedp.Submit(chromedp.ID("q")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "and 1 ticked that this page does not show") || strings.Contains(got, "chat-export.txt") {
		t.Fatalf("the search's page does not keep the tick it does not list: %q", got)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`input[value="`+ledger+`"]`)))
	navigation(t, ctx, chromedp.Click(chromedp.CSS(`#seal-chosen`)))
	if u := location(t, ctx); u.Path != "/app/cases/SEAL-1/seal" {
		t.Fatalf("the button led to %s", u)
	}
	if chosen := text(t, ctx, "#chosen"); !strings.Contains(chosen, "chat-export.txt") || !strings.Contains(chosen, "ledger.csv") || strings.Contains(chosen, "photo-unrelated") {
		t.Fatalf("the form lists as chosen: %q", chosen)
	}
	testenv.Screenshot(t, ctx, "seal-form")
	run(t, ctx, chromedp.SendKeys(chromedp.ID("for"), "pros"),
		chromedp.SendKeys(chromedp.ID("purpose"), "disclosure for the hearing of 12 January"))
	resp := navigation(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/app/cases/SEAL-1/packages"] button[type=submit]`)))
	if resp.Status != http.StatusOK {
		t.Fatalf("sealing answered %d", resp.Status)
	}
	if got := text(t, ctx, "main [role=status]"); !strings.Contains(got, "is sealed for pros (prosecutor); items: 2") {
		t.Fatalf("the page after sealing says %q", got)
	}
	sealings := bv.events(t, vault.TypePackageSealing)
	if len(sealings) != 1 {
		t.Fatalf("%d sealings recorded", len(sealings))
	}
	var d vault.PackageSealing
	if err := sealings[0].DecodeData(&d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Items, []string{chat, ledger}) || d.Purpose != "disclosure for the hearing of 12 January" || sealings[0].Actor.Person != "inv" {
		t.Errorf("the sealing recorded %+v by %s", d, sealings[0].Actor.Person)
	}
	testenv.Screenshot(t, ctx, "sealed")
	navigation(t, ctx, chromedp.Click(chromedp.CSS(`main a[href="/app/packages/`+d.Package+`"]`)))
	if got := text(t, ctx, "dl.facts"); !strings.Contains(got, "pros") || !strings.Contains(got, "disclosure for the hearing") {
		t.Errorf("the package's page says %q", got)
	}
}

// TestBrowserSealFormWaitsForAChoiceOfItems: an investigator ticks items,
// then follows the page's other link ("Seal a package") instead of the
// button below the list: the ticks do not come with it, the form says
// that nothing is chosen for them, and Chromium does not send it until
// they choose which items; nothing is sealed meanwhile.
func TestBrowserSealFormWaitsForAChoiceOfItems(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	chat, _ := bv.sealingCase(t, "SEAL-2")
	bv.signIn(t, ctx, "inv")
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/SEAL-2"), chromedp.Click(chromedp.CSS(`input[value="`+chat+`"]`)))
	navigation(t, ctx, chromedp.Click(chromedp.CSS(`main a[href="/app/cases/SEAL-2/seal"]`)))
	run(t, ctx, chromedp.SendKeys(chromedp.ID("for"), "pros"),
		chromedp.SendKeys(chromedp.ID("purpose"), "disclosure of the chat"),
		chromedp.Click(chromedp.CSS(`form[action="/app/cases/SEAL-2/packages"] button[type=submit]`)))
	missing := value(t, ctx, chromedp.Evaluate[bool](`document.getElementById('scope-all').validity.valueMissing && !document.querySelector('input[name=scope]:checked')`))
	if !missing {
		t.Error("the form has a choice of items made for the person")
	}
	if u := location(t, ctx); u.Path != "/app/cases/SEAL-2/seal" {
		t.Errorf("the form was sent without a choice of items: the tab shows %s", u)
	}
	if n := len(bv.events(t, vault.TypePackageSealing)); n != 0 {
		t.Errorf("%d sealings recorded", n)
	}
}

// TestBrowserLongTextStopsAtTheField: a field's maxlength counts what
// Chromium counts (UTF-16 code units), the vault keeps that many bytes of
// UTF-8, in which a Khmer letter takes 3. A purpose of 400 Khmer letters
// (1,200 bytes) passes the browser's own limit of 1,024; the page stops it
// at the field, saying how long it is, and sends nothing. 300 letters (900
// bytes) may be sent. The same holds on a view's purpose, another form.
func TestBrowserLongTextStopsAtTheField(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	chat, _ := bv.sealingCase(t, "SEAL-3")
	bv.signIn(t, ctx, "inv")
	khmer := func(n int) string { return strings.Repeat("ក", n) }
	// typed sets the field's value as typing would, and answers the
	// page's message for it ("" when it may be sent).
	typed := func(field, s string) string {
		return value(t, ctx, chromedp.Evaluate[string](`(function () {
			var f = document.getElementById(`+"`"+field+"`"+`);
			f.value = `+"`"+s+"`"+`;
			f.dispatchEvent(new Event('input', { bubbles: true }));
			return f.validationMessage;
		})()`))
	}
	run(t, ctx, chromedp.Navigate(bv.url+"/app/cases/SEAL-3/seal?item="+chat),
		chromedp.SendKeys(chromedp.ID("for"), "pros"))
	if got := typed("purpose", khmer(400)); !strings.Contains(got, "1200 bytes of the 1024") {
		t.Fatalf("a purpose of 1,200 bytes: the field says %q", got)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/app/cases/SEAL-3/packages"] button[type=submit]`)))
	if u := location(t, ctx); u.Path != "/app/cases/SEAL-3/seal" {
		t.Errorf("the form was sent with a purpose the vault refuses: the tab shows %s", u)
	}
	if n := len(bv.events(t, vault.TypePackageSealing)); n != 0 {
		t.Errorf("%d sealings recorded", n)
	}
	if got := typed("purpose", khmer(300)); got != "" {
		t.Errorf("a purpose of 900 bytes: the field says %q", got)
	}
	run(t, ctx, chromedp.Navigate(bv.url+"/app/items/"+chat))
	if got := typed("purpose", khmer(342)); !strings.Contains(got, "1026 bytes of the 1024") {
		t.Errorf("a view's purpose of 1,026 bytes: the field says %q", got)
	}
	if got := typed("purpose", khmer(341)); got != "" {
		t.Errorf("a view's purpose of 1,023 bytes: the field says %q", got)
	}
}
