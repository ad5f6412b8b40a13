package oidcauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/go-jose/go-jose/v4"
)

// Verify says which of the provider's keys signed a token, so that the
// vault can sign people in only through keys two custodians accepted:
// before and after the provider rotates its key (the real provider,
// rotated as providers do: a new key signs, the old one stays served),
// a token is named by the key that signed it, and Keys lists what the
// provider serves.
func TestVerifySaysWhichKey(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v := newVerifier(t, o, ClaimSub, nil)
	first, err := v.Keys(ctx)
	if err != nil || len(first) != 1 || len(first[0]) != 43 {
		t.Fatalf("Keys: %v %v", first, err)
	}
	before := loopback(t, o, o.ClientID, o.User)
	id, err := v.Verify(ctx, before.id, before.access)
	if err != nil || id.Key != first[0] {
		t.Fatalf("before the rotation: key %q, want %q (%v)", id.Key, first[0], err)
	}

	if err := o.RotateKey(ctx); err != nil {
		t.Fatal(err)
	}
	after := loopback(t, o, o.ClientID, o.User)
	// The verifier holds the old key alone: the new token's key is read
	// from the provider, once.
	id, err = v.Verify(ctx, after.id, after.access)
	if err != nil {
		t.Fatalf("after the rotation: %v", err)
	}
	both, err := v.Keys(ctx)
	if err != nil || len(both) != 2 || !slices.Contains(both, first[0]) || !slices.Contains(both, id.Key) || id.Key == first[0] {
		t.Fatalf("after the rotation: keys %v, token's key %q (was %q)", both, id.Key, first[0])
	}
	// A token signed before the rotation still names the old key.
	if id, err := v.Verify(ctx, before.id, before.access); err != nil || id.Key != first[0] {
		t.Fatalf("old token after the rotation: key %q (%v)", id.Key, err)
	}
}

// A token whose signature no served key verifies is refused, and names
// no key: one signed by a key the provider does not serve, with the
// served key's kid.
func TestVerifyRefusesAnotherKey(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx := context.Background()
	v := newVerifier(t, o, ClaimSub, nil)
	s := loopback(t, o, o.ClientID, o.User)
	good, err := jose.ParseSignedCompact(s.id, signingAlgs)
	if err != nil {
		t.Fatal(err)
	}
	payload := good.UnsafePayloadWithoutVerification()
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rogue},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", good.Signatures[0].Header.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := forged.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	id, err := v.Verify(ctx, tok, "")
	if !errors.Is(err, ErrRefused) || id.Key != "" {
		t.Fatalf("a token signed by a key the provider does not serve: %+v %v", id, err)
	}
	noTokenIn(t, err, tok)
}

func TestParseKeySet(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwk := func(k any, alg, use string) json.RawMessage {
		b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: alg + use, Algorithm: alg, Use: use})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	set := func(keys ...json.RawMessage) []byte {
		b, _ := json.Marshal(map[string]any{"keys": keys})
		return b
	}
	keys, err := parseKeySet(set(
		jwk(&rsaKey.PublicKey, "RS256", "sig"),
		jwk(&ecKey.PublicKey, "ES256", ""),
		jwk(&rsaKey.PublicKey, "RSA-OAEP", "enc"), // an encryption key
		jwk(&ecKey.PublicKey, "", "enc"),
		jwk(rsaKey, "RS256", "sig"),                               // a private key, published by mistake
		json.RawMessage(`{"kty":"OKP","crv":"Ed448","x":"AAAA"}`), // a type go-jose does not know
		json.RawMessage(`{"kty":"EC","crv":"secp256k1","alg":"ES256K","x":"AA","y":"AA"}`),
	))
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KeyID)
	}
	if !slices.Equal(kids, []string{"RS256sig", "ES256"}) {
		t.Fatalf("kept %v, want the two public signing keys", kids)
	}
	a, _ := Thumbprint(keys[0])
	b, _ := Thumbprint(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "another kid"})
	if a != b || len(a) != 43 {
		t.Fatalf("a thumbprint depends on more than the key: %q %q", a, b)
	}
	for _, bad := range []string{`[]`, `{"keys":{}}`, `{"keys":[1]}`, `{"keys":[{"kty":"RSA","n":"!","e":"AQAB"}]}`} {
		if _, err := parseKeySet([]byte(bad)); err == nil {
			t.Errorf("parseKeySet(%s) succeeded", bad)
		}
	}
}

func FuzzParseKeySet(f *testing.F) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	b, _ := json.Marshal(map[string]any{"keys": []jose.JSONWebKey{{Key: &rsaKey.PublicKey, Algorithm: "RS256", Use: "sig"}}})
	f.Add(b)
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := parseKeySet(b)
		if err != nil && keys != nil {
			t.Fatal("keys with an error")
		}
		for _, k := range keys {
			if !k.IsPublic() || !k.Valid() || k.Use == "enc" {
				t.Fatalf("kept a key that is not a public signing key: %+v", k)
			}
			if _, err := Thumbprint(k); err != nil {
				t.Fatalf("a kept key has no thumbprint: %v", err)
			}
		}
	})
}

// countingTransport counts the requests for the provider's keys.
type countingTransport struct {
	mu   sync.Mutex
	jwks int
	uri  string
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.uri != "" && r.URL.String() == c.uri {
		c.jwks++
	}
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// Tokens naming keys the provider does not serve, which anyone may send,
// make the vault read the provider's keys at most once every minRefetch
// however many come at once: a burst of them is refused after at most
// two reads.
func TestMadeUpKeysDoNotFloodTheProvider(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx := context.Background()
	ct := &countingTransport{}
	v, err := New(ctx, Config{Issuer: o.Issuer, ClientID: o.ClientID, HTTPClient: &http.Client{Transport: ct, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ct.mu.Lock()
	ct.uri = v.keys.uri
	ct.mu.Unlock()
	s := loopback(t, o, o.ClientID, o.User)
	good, err := jose.ParseSignedCompact(s.id, signingAlgs)
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: rogue},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", fmt.Sprintf("made-up-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		forged, err := signer.Sign(good.UnsafePayloadWithoutVerification())
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := forged.CompactSerialize()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.Verify(ctx, tok, "")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrRefused) {
			t.Fatalf("a token of a made-up key: %v", err)
		}
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.jwks < 1 || ct.jwks > 2 {
		t.Fatalf("20 tokens of made-up keys made %d reads of the provider's keys, want 1 or 2", ct.jwks)
	}
}

// Thumbprint follows RFC 7638: its section 3.1 example key gives its
// example thumbprint.
func TestThumbprintRFC7638(t *testing.T) {
	var key jose.JSONWebKey
	err := json.Unmarshal([]byte(`{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",
		"n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`), &key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Thumbprint(key); err != nil || got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("Thumbprint = %q, %v", got, err)
	}
}
