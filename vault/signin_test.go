package vault

import (
	"context"

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
