package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/oidcauth"
)

// TestBrowserOIDCSignIn: a person enrolled with their provider's subject
// signs in through the real OpenID provider's pages (authorisation code
// with PKCE), lands on the page they asked for, and the session names the
// provider; a person the vault does not know is refused, and the refusal
// is recorded.
func TestBrowserOIDCSignIn(t *testing.T) {
	p := testenv.StartOIDC(t)
	ctx := context.Background()
	verifier, err := oidcauth.New(ctx, oidcauth.Config{Issuer: p.Issuer, ClientID: p.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	bv := newBrowserVault(t, func(o *api.Options) {
		o.OIDC = api.OIDCVerifierOf(verifier)
		o.OIDCClient = api.OIDCClient{Issuer: p.Issuer, ClientID: p.ClientID}
	})
	c1 := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	c2 := vault.Principal{Name: "cust2", Role: vault.RoleCustodian}
	// The provider was not configured at the vault's first start: two
	// custodians accept its key, and the vault's client there, before it
	// signs anyone in.
	keys, err := verifier.Keys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("the provider's keys: %v %v", keys, err)
	}
	for _, src := range []string{vault.OIDCKeySource(p.Issuer, keys[0]), vault.OIDCClientSource(p.Issuer, p.ClientID, "sub")} {
		accept, err := bv.v.AcceptIdentitySource(ctx, c1, src, "the hotline's identity provider")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bv.v.Approve(ctx, c2, accept.ID); err != nil {
			t.Fatal(err)
		}
	}
	req, err := bv.v.EnrollBy(ctx, c1, vault.Enrolment{Name: "alice", Role: vault.RoleAnalyst, OIDC: p.MFAUser.Subject})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Approve(ctx, c2, req.ID); err != nil {
		t.Fatal(err)
	}
	bv.expectRefused(p.Issuer + "favicon.ico")
	b := bv.ctx
	run(t, b, chromedp.Navigate(bv.url+"/app/me"))
	if u := location(t, b); u.Path != "/app/sign-in" {
		t.Fatalf("without a session /app/me shows %s", u)
	}
	testenv.Screenshot(t, b, "sign-in-choices")
	run(t, b, chromedp.Click(chromedp.ID("oidc")),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), p.MFAUser.Name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), p.MFAUser.Password))
	testenv.Screenshot(t, b, "provider-login")
	run(t, b, chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`dl.facts`)))
	if u := location(t, b); u.Path != "/app/me" {
		t.Fatalf("after the provider the browser shows %s, not the page asked for", u)
	}
	facts := text(t, b, "dl.facts")
	if !strings.Contains(facts, "alice") || !strings.Contains(facts, "the identity provider ("+p.Issuer+")") {
		t.Fatalf("who am I after an OpenID sign-in: %s", facts)
	}
	testenv.Screenshot(t, b, "signed-in-oidc")
	opened := bv.events(t, vault.TypeSessionOpened)
	if len(opened) != 1 || opened[0].Actor.Person != "alice" || opened[0].Actor.Auth != "oidc" || opened[0].Actor.Subject != p.MFAUser.Subject {
		t.Fatalf("session.opened events: %+v", opened)
	}
	var od vault.SessionOpened
	if err := opened[0].DecodeData(&od); err != nil || od.ClientID != p.ClientID || od.Claim != "sub" {
		t.Fatalf("session.opened records client %q and claim %q (%v), want %s and sub", od.ClientID, od.Claim, err, p.ClientID)
	}

	// Bob has an account at the provider but not in the vault.
	run(t, b, chromedp.Click(chromedp.CSS(`header form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("oidc")))
	bv.expectRefused(bv.url + "/app/sign-in/oidc/callback")
	run(t, b, chromedp.Click(chromedp.ID("oidc")),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), p.User.Name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), p.User.Password),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)))
	if got := text(t, b, "p.error"); !strings.Contains(got, "not accepted") && !strings.Contains(got, "no person") {
		t.Fatalf("an unknown person's sign-in says %q", got)
	}
	if n := len(bv.events(t, vault.TypeSessionOpened)); n != 1 {
		t.Fatalf("an unknown person opened a session (%d sessions)", n)
	}
	var refused bool
	for _, r := range bv.refusals(t) {
		if r.Action == "session.open" {
			refused = true
		}
	}
	if !refused {
		t.Fatalf("the refused sign-in is not recorded: %v", bv.refusals(t))
	}
}
