package idtoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// sign is a compact JWS of claims by key with alg.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// publicJWK is the JSON of key's public JWK, as a log records it.
func publicJWK(t testing.TB, key any) []byte {
	t.Helper()
	b, err := PublicJWK(jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var claims = map[string]any{"iss": "https://idp.example/", "sub": "248289761001", "aud": "custos",
	"exp": 1_800_000_000, "iat": 1_799_999_400, "email": "dara@unit.example", "email_verified": true, "preferred_username": "dara"}

// A token verifies with the key that signed it, whose thumbprint is the
// RFC 7638 one; its claims read as OpenID Connect Core defines them.
func TestVerifyReadsWhatTheProviderSigned(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok := sign(t, key, jose.ES256, claims)
	c, thumb, err := Verify(tok, publicJWK(t, &key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(0x05) // crypto.SHA256
	if thumb != base64.RawURLEncoding.EncodeToString(want) {
		t.Errorf("thumbprint %s", thumb)
	}
	if c.Issuer != "https://idp.example/" || c.Subject != "248289761001" || len(c.Audience) != 1 || c.Audience[0] != "custos" ||
		!c.Expiry.Equal(time.Unix(1_800_000_000, 0)) || !c.IssuedAt.Equal(time.Unix(1_799_999_400, 0)) {
		t.Errorf("claims %+v", c)
	}
	for claim, want := range map[string]string{"sub": "248289761001", "email": "dara@unit.example", "preferred_username": "dara", "name": ""} {
		if got := c.Name(claim); got != want {
			t.Errorf("Name(%s) = %q, want %q", claim, got, want)
		}
	}
	if got := UnverifiedExpiry(tok); !got.Equal(c.Expiry) {
		t.Errorf("UnverifiedExpiry %v", got)
	}
}

// Every other key, algorithm or token is refused: another key (of the
// same or another type), a changed payload, an HMAC or "none" token, a
// private key recorded as the key, a key or token that does not parse,
// more than the bounds.
func TestVerifyRefusesWhatTheKeyDidNotSign(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tok := sign(t, key, jose.ES256, claims)
	parts := strings.Split(tok, ".")
	forged := map[string]any{}
	for k, v := range claims {
		forged[k] = v
	}
	forged["sub"] = "someone-else"
	fb, _ := json.Marshal(forged)
	swapped := parts[0] + "." + base64.RawURLEncoding.EncodeToString(fb) + "." + parts[2]
	hmac := sign(t, []byte(strings.Repeat("k", 32)), jose.HS256, claims)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	private, _ := jose.JSONWebKey{Key: key}.MarshalJSON()
	for name, tc := range map[string]struct {
		token string
		key   []byte
		want  string
	}{
		"another key":          {tok, publicJWK(t, &other.PublicKey), "does not verify"},
		"an RSA key":           {tok, publicJWK(t, &rsaKey.PublicKey), "does not verify"},
		"an Ed25519 key":       {sign(t, edKey, jose.EdDSA, claims), publicJWK(t, &key.PublicKey), "does not verify"},
		"a changed payload":    {swapped, publicJWK(t, &key.PublicKey), "does not verify"},
		"an HMAC":              {hmac, []byte(`{"kty":"oct","k":"` + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("k", 32))) + `"}`), "not a valid public key"},
		"alg none":             {none, publicJWK(t, &key.PublicKey), "not a compact JWS"},
		"a private key":        {tok, private, "not a valid public key"},
		"no key":               {tok, nil, "not a JWK"},
		"no token":             {"", publicJWK(t, &key.PublicKey), "not a compact JWS"},
		"a token over bounds":  {strings.Repeat("a", MaxToken+1), publicJWK(t, &key.PublicKey), "over"},
		"a key over bounds":    {tok, []byte(strings.Repeat(" ", MaxKey+1)), "over"},
		"two signatures glued": {tok + "." + parts[2], publicJWK(t, &key.PublicKey), "not a compact JWS"},
	} {
		if _, _, err := Verify(tc.token, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
	// An Ed25519 key verifies its own token: every asymmetric
	// algorithm the vault's verifier takes is read.
	if _, _, err := Verify(sign(t, edKey, jose.EdDSA, claims), publicJWK(t, edKey.Public())); err != nil {
		t.Errorf("an EdDSA token: %v", err)
	}
	if _, _, err := Verify(sign(t, rsaKey, jose.PS256, claims), publicJWK(t, &rsaKey.PublicKey)); err != nil {
		t.Errorf("a PS256 token: %v", err)
	}
}

// Claims read as providers send them: aud as a list, email only once
// the provider says it verified it (email_verified true or "true"), exp
// a number; a time that is not one is refused.
func TestClaimsAsProvidersSendThem(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := publicJWK(t, &key.PublicKey)
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range claims {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	c, _, err := Verify(sign(t, key, jose.ES256, with("aud", []string{"other", "custos"})), jwk)
	if err != nil || len(c.Audience) != 2 || c.Audience[1] != "custos" {
		t.Errorf("aud as a list: %v %v", c.Audience, err)
	}
	for v, want := range map[any]string{"true": "dara@unit.example", false: "", "yes": ""} {
		c, _, err := Verify(sign(t, key, jose.ES256, with("email_verified", v)), jwk)
		if err != nil || c.Name("email") != want {
			t.Errorf("email_verified %v: email %q, %v", v, c.Name("email"), err)
		}
	}
	if c, _, err := Verify(sign(t, key, jose.ES256, with("email_verified", nil)), jwk); err != nil || c.Name("email") != "" {
		t.Errorf("no email_verified: email %q, %v", c.Name("email"), err)
	}
	if c, _, err := Verify(sign(t, key, jose.ES256, with("exp", 1.8e9+0.5)), jwk); err != nil || c.Expiry.Unix() != 1_800_000_000 {
		t.Errorf("a fractional exp: %v %v", c.Expiry, err)
	}
	for _, bad := range []any{"tomorrow", -1, 1e12} {
		if _, _, err := Verify(sign(t, key, jose.ES256, with("exp", bad)), jwk); err == nil || !strings.Contains(err.Error(), "exp is not a time") && !strings.Contains(err.Error(), "claims do not parse") {
			t.Errorf("exp %v: %v", bad, err)
		}
	}
	if _, _, err := Verify(sign(t, key, jose.ES256, with("aud", 7)), jwk); err == nil {
		t.Error("aud 7 was read")
	}
	if got := UnverifiedExpiry("not.a-token"); !got.IsZero() {
		t.Errorf("UnverifiedExpiry of junk: %v", got)
	}
}

// FuzzVerify: no token or key, however made, panics the check; with
// the seed's key, only the payload the key signed verifies.
func FuzzVerify(f *testing.F) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := publicJWK(f, &key.PublicKey)
	seed := sign(f, key, jose.ES256, claims)
	signed, _, err := Verify(seed, jwk)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, jwk)
	f.Add("a.b.c", []byte(`{"kty":"EC"}`))
	f.Add(seed, []byte(`{"kty":"oct","k":"a2tr"}`))
	f.Fuzz(func(t *testing.T, token string, key []byte) {
		c, _, err := Verify(token, key)
		if err == nil && string(key) == string(jwk) && (c.Subject != signed.Subject || c.Issuer != signed.Issuer || !c.Expiry.Equal(signed.Expiry)) {
			t.Fatalf("a token the key did not sign verified: %+v", c)
		}
		UnverifiedExpiry(token)
	})
}

// Keys answers as Verify does, key after key: a key parsed before does
// not verify another key's token, and a key it refused is refused again.
func TestKeysAnswerAsVerify(t *testing.T) {
	a, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ta, tb := sign(t, a, jose.ES256, claims), sign(t, b, jose.ES256, claims)
	ja, jb := publicJWK(t, &a.PublicKey), publicJWK(t, &b.PublicKey)
	var keys Keys
	for range 2 {
		for _, tc := range []struct {
			tok string
			key []byte
			ok  bool
		}{{ta, ja, true}, {tb, ja, false}, {tb, jb, true}, {ta, jb, false}, {ta, []byte(`{"kty":"EC"}`), false}} {
			_, thumb, err := keys.Verify(tc.tok, tc.key)
			_, want, werr := Verify(tc.tok, tc.key)
			if (err == nil) != tc.ok || (werr == nil) != tc.ok || thumb != want {
				t.Errorf("Keys.Verify %v %s, Verify %v %s, want ok %v", err, thumb, werr, want, tc.ok)
			}
		}
	}
	if len(keys.m) != 2 {
		t.Errorf("Keys holds %d keys", len(keys.m))
	}
}

// malleate is token with its ES256 signature in its other valid form
// (s replaced by n - s, which P-256 verification accepts): another
// string carrying the same signed claims.
func malleate(t testing.TB, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %v", err)
	}
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(n, s)
	other := append(sig[:32:32], s.FillBytes(make([]byte, 32))...)
	return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(other)
}

// A token's digest is its signed claims': the other form of its ECDSA
// signature, which verifies too, has the same digest; another token's
// claims have another.
func TestDigestNamesTheSignedClaims(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := publicJWK(t, &key.PublicKey)
	tok := sign(t, key, jose.ES256, claims)
	other := malleate(t, tok)
	if other == tok {
		t.Fatal("the signature did not change")
	}
	if _, _, err := Verify(other, jwk); err != nil {
		t.Fatalf("the other form of the signature: %v", err)
	}
	if Digest(other) != Digest(tok) {
		t.Error("two forms of one signed token have different digests")
	}
	if Digest(sign(t, key, jose.ES256, map[string]any{"sub": "another"})) == Digest(tok) {
		t.Error("two tokens' claims have one digest")
	}
}

// PublicJWK records a key without the certificates a provider may
// publish with it: a record of a key with a chain is as short as one
// without, and its thumbprint the same.
func TestPublicJWKLeavesCertificatesOut(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	with, err := PublicJWK(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Use: "sig", Certificates: []*x509.Certificate{cert, cert}})
	if err != nil {
		t.Fatal(err)
	}
	without := publicJWK(t, &key.PublicKey)
	if strings.Contains(string(with), "x5c") || strings.Contains(string(with), "x5t") || len(with) > len(without)+16 {
		t.Errorf("the key recorded with its certificates: %s", with)
	}
	_, a, err1 := Verify(sign(t, key, jose.ES256, claims), with)
	_, b, err2 := Verify(sign(t, key, jose.ES256, claims), without)
	if err1 != nil || err2 != nil || a != b {
		t.Errorf("thumbprints %s %s (%v, %v)", a, b, err1, err2)
	}
}
