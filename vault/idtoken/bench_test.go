package idtoken

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkVerifyRS256: the check of one token signed with an RSA-2048
// key, as an audit makes it for each OpenID sign-in.
func BenchmarkVerifyRS256(b *testing.B) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tok := sign(b, key, jose.RS256, claims)
	jwk, _ := PublicJWK(jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "RS256", Use: "sig"})
	for b.Loop() {
		if _, _, err := Verify(tok, jwk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeysVerifyRS256 is BenchmarkVerifyRS256 with the key parsed
// once (Keys), as an audit reads a provider's tokens.
func BenchmarkKeysVerifyRS256(b *testing.B) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tok := sign(b, key, jose.RS256, claims)
	jwk, _ := PublicJWK(jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "RS256", Use: "sig"})
	var keys Keys
	for b.Loop() {
		if _, _, err := keys.Verify(tok, jwk); err != nil {
			b.Fatal(err)
		}
	}
}
