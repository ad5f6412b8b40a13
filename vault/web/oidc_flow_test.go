package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestOIDCSignInStartedElsewhere: another site's link to the start of an
// OpenID sign-in does not start one (it would sign the browser in to
// whatever account it holds at the provider, and leave a session.opened
// in that account's name): the sign-in page is shown, whose button
// starts it. Nothing is asked of the provider.
func TestOIDCSignInStartedElsewhere(t *testing.T) {
	bv := openTestVault(t)
	ah := api.New(bv.v, slog.New(slog.DiscardHandler), api.Options{OIDC: refuseAll{},
		OIDCClient: api.OIDCClient{Issuer: "http://127.0.0.1:1/unreachable", ClientID: "custos"}})
	t.Cleanup(ah.Close)
	h, err := New(bv.v, ah, slog.New(slog.DiscardHandler), Options{BaseURL: "http://127.0.0.1", Now: bv.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/app/sign-in/oidc?next=/app/me", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="oidc"`) {
		t.Fatalf("another site's link answered %d: %s", rec.Code, rec.Body)
	}
	if n := len(h.oidc.flows); n != 0 {
		t.Fatalf("another site's link started %d sign-ins", n)
	}
}

// TestOIDCSignInEndsTheBrowsersEarlierSession: the provider's redirect
// back to the vault is a cross-site navigation, which does not carry the
// SameSite=Strict session cookie; the session the browser held when it
// started the sign-in is ended all the same, once, when the new one
// opens.
func TestOIDCSignInEndsTheBrowsersEarlierSession(t *testing.T) {
	bv := openTestVault(t)
	ah := api.New(bv.v, slog.New(slog.DiscardHandler), api.Options{})
	t.Cleanup(ah.Close)
	h, err := New(bv.v, ah, slog.New(slog.DiscardHandler), Options{BaseURL: "http://127.0.0.1", Now: bv.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := bv.v.OpenSession(ctx, bv.creds["inv"])
	if err != nil {
		t.Fatal(err)
	}
	who, err := bv.v.Authenticate(s.Token.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	ended := len(bv.events(t, vault.TypeSessionEnded))
	callback := httptest.NewRequest("GET", "/app/sign-in/oidc/callback", nil) // no cookie
	for range 2 {
		h.endFlowSession(callback, oidcFlow{earlier: &who})
	}
	if _, err := bv.v.Authenticate(s.Token.Reveal()); err == nil {
		t.Fatal("the browser's earlier session outlived its new sign-in")
	}
	if n := len(bv.events(t, vault.TypeSessionEnded)) - ended; n != 1 {
		t.Fatalf("%d session.ended events for one session", n)
	}
}
