package vault

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault/idtoken"
)

// testProvider signs ID tokens as an OpenID provider would, with a key
// of its own (not the fixed testKey: its thumbprint is the key's).
type testProvider struct {
	key   *ecdsa.PrivateKey
	jwk   []byte
	thumb string
}

func newTestProvider(t testing.TB) *testProvider {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := idtoken.PublicJWK(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	_, thumb, err := idtoken.Verify(signClaims(t, key, map[string]any{"sub": "x"}), jwk)
	if err != nil {
		t.Fatal(err)
	}
	return &testProvider{key: key, jwk: jwk, thumb: thumb}
}

// signClaims is a compact ES256 JWS of claims by key.
func signClaims(t testing.TB, key *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// started records, through check (identityRules), a start that signs
// people in through p alone and records their ID tokens.
func (p *testProvider) started(t *testing.T, check func(string, events.Actor, any) error) {
	t.Helper()
	if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "8h0m0s", "request_ttl": "72h0m0s",
		startedIdentitySources: "request", startedKeyPins: "request", "oidc_issuer": testIssuer, startedOIDCKeys: p.thumb,
		"oidc_client_id": testClient, "oidc_claim": "sub", startedIDTokens: "recorded"}); err != nil {
		t.Fatal(err)
	}
}

// sources configures a vault that signs people in through p alone.
func (p *testProvider) sources(c *Config) {
	c.SignIn.OIDCIssuer, c.SignIn.OIDCClientID = testIssuer, testClient
	c.SignIn.OIDCKeys = []string{p.thumb}
}

// identity is the sign-in of name (by sub) with a token p signed for
// the vault's client, expiring in an hour from now; change edits the
// claims first.
func (p *testProvider) identity(t testing.TB, name string, now time.Time, change func(map[string]any)) ExternalIdentity {
	claims := map[string]any{"iss": testIssuer, "sub": name, "aud": testClient, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": randomHex(8)}
	if change != nil {
		change(claims)
	}
	return ExternalIdentity{Kind: "oidc", Name: name, Issuer: testIssuer, Subject: name, ClientID: testClient, Key: p.thumb,
		IDToken: secret.New(signClaims(t, p.key, claims)), KeyJWK: p.jwk}
}

// An OpenID sign-in's session records the ID token and the key that
// verifies it, as the provider signed them, so that an audit checks
// the provider's signature (the test vault's closing audit does); the
// token opens no second session, not after a restart either; a token
// that would not show the sign-in it comes with (another subject,
// another audience, another key's thumbprint) is refused and nothing is
// recorded.
func TestSignInRecordsTheProvidersToken(t *testing.T) {
	ctx := context.Background()
	p := newTestProvider(t)
	v, dir := openTestVaultDir(t, p.sources)
	people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "dara": RoleInvestigator})
	id := p.identity(t, "dara", v.cfg.Now(), nil)
	if _, err := v.OpenExternalSession(ctx, id); err != nil {
		t.Fatal(err)
	}
	var d SessionOpened
	evs := loggedEvents(t, v)
	if last := evs[len(evs)-1]; last.Type != TypeSessionOpened || last.DecodeData(&d) != nil {
		t.Fatalf("the sign-in recorded %s", last.Type)
	}
	if d.IDToken != id.IDToken.Reveal() || string(d.KeyJWK) != string(p.jwk) || d.Key != p.thumb {
		t.Fatalf("the session recorded token %q, key %s (%s)", d.IDToken, d.KeyJWK, d.Key)
	}
	if _, err := v.OpenExternalSession(ctx, id); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "already opened a session") {
		t.Fatalf("the same ID token a second time: %v", err)
	}
	// Read from the log and sent again as another string of the same
	// signed claims: its signature in its other valid form, or its last
	// character's unused bits changed.
	for what, other := range map[string]string{"its signature's other form": otherSignature(t, d.IDToken), "its signature spelt otherwise": otherSpelling(t, d.IDToken)} {
		again := id
		again.IDToken = secret.New(other)
		if _, err := v.OpenExternalSession(ctx, again); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "already opened a session") {
			t.Fatalf("the recorded ID token with %s: %v", what, err)
		}
	}
	before := len(loggedEvents(t, v))
	for what, change := range map[string]func(map[string]any){
		"another subject":  func(c map[string]any) { c["sub"] = "someone-else" },
		"another audience": func(c map[string]any) { c["aud"] = "another-app" },
		"another issuer":   func(c map[string]any) { c["iss"] = "https://rogue.example/" },
	} {
		if _, err := v.OpenExternalSession(ctx, p.identity(t, "dara", v.cfg.Now(), change)); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "would not show this sign-in") {
			t.Errorf("a token of %s: %v", what, err)
		}
	}
	other := newTestProvider(t)
	forged := other.identity(t, "dara", v.cfg.Now(), nil)
	forged.Key = p.thumb // the accepted key named, another key's token
	if _, err := v.OpenExternalSession(ctx, forged); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("a token of another key under the accepted key's thumbprint: %v", err)
	}
	if n := len(loggedEvents(t, v)); n != before {
		t.Errorf("refused sign-ins recorded %d events", n-before)
	}

	v.Close()
	v, err := Open(ctx, testConfig(t, dir, p.sources))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if _, err := v.OpenExternalSession(ctx, id); !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), "already opened a session") {
		t.Fatalf("after a restart, the same ID token: %v", err)
	}
	if _, err := v.OpenExternalSession(ctx, p.identity(t, "dara", v.cfg.Now(), nil)); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	checkRulesHold(t, v)
}

// The audit's rules check the provider's signature on each OpenID
// sign-in, from the first start that records oidc_id_tokens: a session
// with a token the recorded key does not verify, of another key than
// the session names, about another subject or person, for another
// client, expired, or recorded by an earlier session is a finding; a
// session without one after that start is a finding of sessions; the
// token as the provider signed it is none.
func TestCustodyRulesCheckTheProvidersSignature(t *testing.T) {
	p, rogue := newTestProvider(t), newTestProvider(t)
	var shift time.Duration
	check := identityRules(t, &shift)
	p.started(t, check)
	n := 0
	signIn := func(person string, tok string, jwk []byte, key string) error {
		n++
		se := "se_" + strings.Repeat("0", 20) + string(rune('a'+n%26)) + string(rune('a'+n/26))
		a := events.Actor{Person: person, Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: person, Session: se}
		return check(TypeSessionOpened, a, SessionOpened{Session: se, TokenSHA256: strings.Repeat("a", 64), Expires: base.Add(shift + 8*time.Hour).Format(time.RFC3339),
			Claim: "sub", ClientID: testClient, Key: key, IDToken: tok, KeyJWK: jwk})
	}
	claims := func(sub string, change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": testIssuer, "sub": sub, "aud": []string{testClient}, "exp": base.Add(time.Hour).Unix(), "iat": base.Unix()}
		if change != nil {
			change(c)
		}
		return c
	}
	good := signClaims(t, p.key, claims("c1", nil))
	if err := signIn("c1", good, p.jwk, p.thumb); err != nil {
		t.Fatalf("a sign-in as the provider signed it: %v", err)
	}
	var rb *RuleBroken
	for what, tc := range map[string]struct {
		person, token string
		jwk           []byte
		key, want     string
	}{
		"a token recorded again":             {"c1", good, p.jwk, p.thumb, "opened a session before"},
		"its signature's other form":         {"c1", otherSignature(t, good), p.jwk, p.thumb, "opened a session before"},
		"a rogue key's token as the pinned":  {"c1", signClaims(t, rogue.key, claims("c1", nil)), p.jwk, p.thumb, "does not verify"},
		"a rogue key recorded as the pinned": {"c1", signClaims(t, rogue.key, claims("c1", nil)), rogue.jwk, p.thumb, "is verified by the key of thumbprint " + rogue.thumb},
		"another person's token":             {"c2", signClaims(t, p.key, claims("c1", nil)), p.jwk, p.thumb, "is about the subject"},
		"another client's token":             {"c1", signClaims(t, p.key, claims("c1", func(c map[string]any) { c["aud"] = "other-app" })), p.jwk, p.thumb, "was not issued to the client"},
		"an expired token":                   {"c1", signClaims(t, p.key, claims("c1", func(c map[string]any) { c["exp"] = base.Add(-time.Hour).Unix() })), p.jwk, p.thumb, "had expired"},
		"another issuer's token":             {"c1", signClaims(t, p.key, claims("c1", func(c map[string]any) { c["iss"] = "https://rogue.example/" })), p.jwk, p.thumb, "was issued by"},
	} {
		if err := signIn(tc.person, tc.token, tc.jwk, tc.key); !errors.As(err, &rb) || !strings.Contains(rb.Reason, tc.want) || rb.ofSession {
			t.Errorf("%s: %v", what, err)
		}
	}
	if err := signIn("c2", "", nil, p.thumb); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "records no ID token") || !rb.ofSession {
		t.Errorf("a sign-in without its token: %v", err)
	}
	// Nor does one that says it refreshes a session of the person's
	// (the vault refreshes local sessions alone) go without one.
	refresh := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "c1", Session: "se_refreshed"}
	if err := check(TypeSessionOpened, refresh, SessionOpened{Session: "se_refreshed", TokenSHA256: strings.Repeat("b", 64), Expires: base.Add(8 * time.Hour).Format(time.RFC3339),
		Refreshed: "se_" + strings.Repeat("0", 20) + "ba", Claim: "sub", ClientID: testClient, Key: p.thumb}); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "records no ID token") {
		t.Errorf("an OpenID session recorded as a refresh, without a token: %v", err)
	}
	// Once a token expired and was forgotten, its hash is no longer
	// held; it is refused as expired then, not as used.
	shift = 3 * time.Hour
	if err := signIn("c1", good, p.jwk, p.thumb); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "had expired") {
		t.Errorf("an old token, hours later: %v", err)
	}
}

// otherSignature is an ES256 token with its signature in its other
// valid form (s replaced by n - s, which P-256 verification accepts).
func otherSignature(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %v", err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	other := append(sig[:32:32], s.FillBytes(make([]byte, 32))...)
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(other)
}

// otherSpelling is token with the last character of its signature
// changed in the bits base64url leaves unused: another string that
// decodes to the same signature.
func otherSpelling(t testing.TB, token string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, token[len(token)-1])
	other := token[:len(token)-1] + string(alphabet[i^1])
	a, _ := base64.RawURLEncoding.DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	b, err := base64.RawURLEncoding.DecodeString(other[strings.LastIndexByte(other, '.')+1:])
	if err != nil || string(a) != string(b) {
		t.Fatalf("the respelt signature decodes otherwise: %v", err)
	}
	return other
}

// The rules close the ways of signing in a start recorded off: a
// session opened, or an act, by a local credential after a start that
// recorded local_accounts off, or by a client certificate after one that
// recorded no client CA, is a finding (one made up for a custodian
// would otherwise need no provider's signature); after a start that
// records them on, neither is.
func TestCustodyRulesSignInsAStartClosed(t *testing.T) {
	local := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "local", Session: "se_local"}
	card := events.Actor{Person: "c2", Role: RoleCustodian, Auth: "certificate", Issuer: "CN=Unit CA", Subject: "CN=c2", Certificate: strings.Repeat("ef", 32)}
	var rb *RuleBroken
	for _, tc := range []struct {
		local, cas string
		want       [2]string
	}{
		{"off", "", [2]string{"local_accounts off", "no client CA"}},
		{"on", testCASHA256, [2]string{"", ""}},
	} {
		check := identityRules(t)
		if err := check(TypeServerStarted, system, map[string]string{"session_ttl": "8h0m0s", "request_ttl": "72h0m0s", "local_accounts": tc.local, "client_ca_sha256": tc.cas}); err != nil {
			t.Fatal(err)
		}
		got := [2]error{
			check(TypeSessionOpened, local, SessionOpened{Session: "se_local", TokenSHA256: strings.Repeat("a", 64), Expires: base.Add(8 * time.Hour).Format(time.RFC3339)}),
			check(TypeCaseOpened, card, inCase{"C-" + tc.local, CaseOpened{Title: "t", Members: []string{"c2"}}}),
		}
		for i, err := range got {
			if tc.want[i] == "" && err != nil || tc.want[i] != "" && (!errors.As(err, &rb) || !strings.Contains(rb.Reason, tc.want[i])) {
				t.Errorf("local accounts %s, client CA %q: %v, want %q", tc.local, tc.cas, err, tc.want[i])
			}
		}
	}
}

// A token the rules forgot, long after its exp, does not pass again at
// an earlier time (a clock put back): the rules forget a token a week
// after its exp, and a token recorded again within that is found.
func TestCustodyRulesRememberTokensPastAClockPutBack(t *testing.T) {
	p := newTestProvider(t)
	var shift time.Duration
	check := identityRules(t, &shift)
	p.started(t, check)
	n := 0
	signIn := func(tok string) error {
		n++
		se := fmt.Sprintf("se_%024x", n)
		a := events.Actor{Person: "c1", Role: RoleCustodian, Auth: "oidc", Issuer: testIssuer, Subject: "c1", Session: se}
		return check(TypeSessionOpened, a, SessionOpened{Session: se, TokenSHA256: strings.Repeat("a", 64), Expires: base.Add(shift + 8*time.Hour).Format(time.RFC3339),
			Claim: "sub", ClientID: testClient, Key: p.thumb, IDToken: tok, KeyJWK: p.jwk})
	}
	token := func(at time.Time) string {
		return signClaims(t, p.key, map[string]any{"iss": testIssuer, "sub": "c1", "aud": testClient, "exp": at.Add(time.Hour).Unix(), "nonce": randomHex(8)})
	}
	first := token(base)
	if err := signIn(first); err != nil {
		t.Fatal(err)
	}
	shift = 2 * time.Hour // past the first token's exp: a sweep may come
	for range 1100 {
		if err := signIn(token(base.Add(shift))); err != nil {
			t.Fatal(err)
		}
	}
	shift = 10 * time.Minute // the clock put back
	var rb *RuleBroken
	if err := signIn(first); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "opened a session before") {
		t.Errorf("the first token, recorded again at an earlier time after a sweep: %v", err)
	}
}
