package vault

import (
	"context"
	"testing"

	"github.com/custos-vault/custos/internal/secret"
)

// signIn opens a session with a local credential and authenticates its
// token, as a client does.
func signIn(v *Vault, credential secret.String) (Principal, error) {
	s, err := v.OpenSession(context.Background(), credential.Reveal())
	if err != nil {
		return Principal{}, err
	}
	return v.Authenticate(s.Token.Reveal())
}

// enrolled enrols a person directly and signs them in; a failure fails
// the test.
func enrolled(t testing.TB, v *Vault, name, role string) Principal {
	t.Helper()
	tok, err := v.Enroll(context.Background(), name, role)
	if err != nil {
		t.Fatal(err)
	}
	p, err := signIn(v, tok)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
