package api

import (
	"context"
	"crypto/tls"
	"errors"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/clientcert"
	"github.com/custos-vault/custos/vault/oidcauth"
)

// OIDCVerifierOf presents an OpenID provider's verifier (vault/oidcauth)
// as the OIDCVerifier the API and the web application take.
func OIDCVerifierOf(v *oidcauth.Verifier) OIDCVerifier { return oidcVerifier{v} }

type oidcVerifier struct{ v *oidcauth.Verifier }

func (o oidcVerifier) Verify(ctx context.Context, idToken, accessToken string) (vault.ExternalIdentity, error) {
	id, err := o.v.Verify(ctx, idToken, accessToken)
	if err != nil {
		return vault.ExternalIdentity{}, err
	}
	return vault.ExternalIdentity{Kind: "oidc", Name: id.Name, Issuer: id.Issuer, Subject: id.Subject, ACR: id.ACR, AMR: id.AMR, ClientID: id.ClientID, Key: id.Key,
		IDToken: id.Token, KeyJWK: id.KeyJWK}, nil
}

// CertIdentifierOf presents a client CA (vault/clientcert) as the
// CertIdentifier the API and the web application take: a connection
// without a certificate answers ErrNoCertificate.
func CertIdentifierOf(a *clientcert.Authority) CertIdentifier { return certIdentifier{a} }

type certIdentifier struct{ a *clientcert.Authority }

func (c certIdentifier) Identify(cs *tls.ConnectionState) (vault.ExternalIdentity, error) {
	id, err := c.a.Identify(cs)
	if errors.Is(err, clientcert.ErrNoCertificate) {
		return vault.ExternalIdentity{}, ErrNoCertificate
	}
	if err != nil {
		return vault.ExternalIdentity{}, err
	}
	return vault.ExternalIdentity{Kind: "certificate", Name: id.Name, Issuer: id.Issuer, Subject: id.Subject, Fingerprint: id.Fingerprint, CAs: id.CASHA256}, nil
}
