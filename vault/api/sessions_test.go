package api

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/idtoken"
)

// refusalsOf returns the reasons of the access.refused events of action.
func refusalsOf(t *testing.T, tv *testVault, action string) []string {
	t.Helper()
	tv.h.Close() // records the summaries still aggregated
	var out []string
	err := tv.v.Store().Read(context.Background(), 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err != nil {
			return err
		}
		var d struct{ Action, Reason string }
		json.Unmarshal(ev.Data, &d)
		if ev.Type == "access.refused" && d.Action == action && ev.Actor.Auth == "none" {
			out = append(out, d.Reason)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCredentialsOpenSessionsOnly: a local credential is refused as a
// bearer token; it opens a session whose token signs requests in until
// it is ended; a failed sign-in is recorded.
func TestCredentialsOpenSessionsOnly(t *testing.T) {
	tv := newTestVault(t, Options{})
	req, _ := http.NewRequest("GET", tv.srv.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tv.creds["inv"])
	resp, err := tv.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a credential used as a bearer token answered %d", resp.StatusCode)
	}
	if a := tv.do("", "GET", "/v1/auth", "", nil); a.code != 200 || !strings.Contains(a.body, `"local":true`) || strings.Contains(a.body, "oidc") {
		t.Fatalf("GET /v1/auth: %d %s", a.code, a.body)
	}
	a := tv.postJSON("", "/v1/sessions", `{"credential":"`+tv.creds["inv"]+`"}`)
	var s SessionResponse
	if a.code != 201 || json.Unmarshal([]byte(a.body), &s) != nil || !strings.HasPrefix(s.Token, "css_") || s.Auth != "local" {
		t.Fatalf("sign-in: %d %s", a.code, a.body)
	}
	tv.tokens["new"] = s.Token
	if w := tv.do("new", "GET", "/v1/whoami", "", nil); w.code != 200 || !strings.Contains(w.body, `"session":"`+s.Session+`"`) {
		t.Fatalf("whoami: %d %s", w.code, w.body)
	}
	if e := tv.postJSON("new", "/v1/sessions/end", ""); e.code != 200 {
		t.Fatalf("sign-out: %d %s", e.code, e.body)
	}
	if w := tv.do("new", "GET", "/v1/whoami", "", nil); w.code != http.StatusUnauthorized {
		t.Fatalf("an ended session answered %d", w.code)
	}
	for _, body := range []string{
		`{"credential":"cst_` + strings.Repeat("A", 43) + `"}`,
		`{"id_token":"eyJ.x.y"}`,
	} {
		if a := tv.postJSON("", "/v1/sessions", body); a.code != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", body, a.code, a.body)
		}
	}
	if a := tv.postJSON("", "/v1/sessions", `{"credential":"`+tv.creds["inv"]+`","id_token":"x"}`); a.code != http.StatusBadRequest {
		t.Fatalf("both a credential and an ID token: %d", a.code)
	}
	if got := refusalsOf(t, tv, "session.open"); len(got) != 2 {
		t.Fatalf("refused sign-ins recorded: %q", got)
	}
}

// noTokens is an identity provider's verifier that accepts no ID token:
// the sessions below are opened in the vault, and only the handler's
// knowledge of its provider is under test.
type noTokens struct{}

func (noTokens) Verify(context.Context, string, string) (vault.ExternalIdentity, error) {
	return vault.ExternalIdentity{}, vault.ErrUnauthenticated
}

// TestOIDCSessionsOfAProviderNoLongerUsed: a session opened through an
// OpenID provider signs its person in only while the server signs people
// in through that provider, as the same client: not once it runs without
// one, with another issuer, or registered at it under another client id.
// A sign-in naming no client is refused: the client the vault is
// registered as is an identity source two custodians accept (the vault's
// tests hold sessions of clients not accepted to it).
func TestOIDCSessionsOfAProviderNoLongerUsed(t *testing.T) {
	provider := newSigningProvider(t)
	key := provider.thumb // the provider's signing key's thumbprint
	tv := newTestVault(t, Options{}, func(c *vault.Config) {
		c.SignIn.OIDCIssuer, c.SignIn.OIDCClientID, c.SignIn.OIDCKeys = "https://idp.example/", "custos", []string{key}
	})
	ctx := context.Background()
	s, err := tv.v.OpenExternalSession(ctx, provider.signIn(t, "aud"))
	if err != nil {
		t.Fatal(err)
	}
	var opened vault.SessionOpened
	if evs := tv.events(vault.TypeSessionOpened); len(evs) == 0 {
		t.Fatal("no session.opened")
	} else if err := evs[len(evs)-1].DecodeData(&opened); err != nil || opened.ClientID != "custos" {
		t.Fatalf("session.opened records client %q (%v), want custos", opened.ClientID, err)
	}
	if _, err := tv.v.OpenExternalSession(ctx, vault.ExternalIdentity{Kind: "oidc", Name: "aud", Issuer: "https://idp.example/", Subject: "s-1", Key: key}); !errors.Is(err, vault.ErrUnauthenticated) {
		t.Fatalf("a sign-in naming no client: %v", err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want int
	}{
		{"no provider", Options{}, http.StatusUnauthorized},
		{"another provider", Options{OIDC: noTokens{}, OIDCClient: OIDCClient{Issuer: "https://other.example/", ClientID: "custos"}}, http.StatusUnauthorized},
		{"another client at the same provider", Options{OIDC: noTokens{}, OIDCClient: OIDCClient{Issuer: "https://idp.example/", ClientID: "custos-2027"}}, http.StatusUnauthorized},
		{"the same provider and client", Options{OIDC: noTokens{}, OIDCClient: OIDCClient{Issuer: "https://idp.example/", ClientID: "custos"}}, http.StatusOK},
	} {
		h := New(tv.v, slog.New(slog.DiscardHandler), tc.opts)
		for _, ses := range []struct {
			name  string
			token string
			want  int
		}{{"", s.Token.Reveal(), tc.want}} {
			req := httptest.NewRequest("GET", "/v1/whoami", nil)
			req.Header.Set("Authorization", "Bearer "+ses.token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != ses.want {
				t.Errorf("%s%s: whoami answered %d %s, want %d", tc.name, ses.name, rec.Code, rec.Body, ses.want)
			}
			if ses.want == http.StatusUnauthorized && ses.name == "" && strings.HasPrefix(tc.name, "another client") && !strings.Contains(rec.Body.String(), "client custos") {
				t.Errorf("%s: the refusal does not say the client changed: %s", tc.name, rec.Body)
			}
		}
		h.Close()
	}
}

// signingProvider signs ID tokens for the vault's client as an OpenID
// provider would, so that the sessions a test opens in the vault record
// a token the audit's rules verify (identity.md section 9.2).
type signingProvider struct {
	key   *ecdsa.PrivateKey
	jwk   []byte
	thumb string
}

func newSigningProvider(t *testing.T) *signingProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "ES256", Use: "sig"}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	public, err := idtoken.PublicJWK(jwk)
	if err != nil {
		t.Fatal(err)
	}
	return &signingProvider{key: key, jwk: public, thumb: base64.RawURLEncoding.EncodeToString(sum)}
}

// signIn is the sign-in of name (by sub, the default claim) with a fresh
// token for the client custos of https://idp.example/.
func (p *signingProvider) signIn(t *testing.T, name string) vault.ExternalIdentity {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"iss": "https://idp.example/", "sub": name, "aud": "custos",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jws.CompactSerialize()
	return vault.ExternalIdentity{Kind: "oidc", Name: name, Issuer: "https://idp.example/", Subject: name, ClientID: "custos", Key: p.thumb,
		IDToken: secret.New(tok), KeyJWK: p.jwk}
}
