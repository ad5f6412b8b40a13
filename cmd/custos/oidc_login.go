package main

import (
	"context"
	"errors"
	"io"

	"github.com/custos-vault/custos/vault/api"
)

func (c *client) loginOIDC(p api.OIDCClient, browser bool, stderr io.Writer) (*storedLogin, error) {
	return nil, errors.New("TODO")
}

func (c *client) renewOIDC(l *storedLogin) (*api.SessionResponse, error) {
	return nil, errors.New("TODO")
}

var loginScopes = []string{"openid", "offline_access", "profile", "email"}

func newOIDCVerifier(ctx context.Context, issuer, clientID, claim string) (api.OIDCVerifier, error) {
	return nil, errors.New("TODO")
}
