package main

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/clientcert"
)

// certAdapter presents vault/clientcert to the API.
type certAdapter struct{ a *clientcert.Authority }

// newCertAuthority loads the client CA and CRL; SIGHUP reloads the CRL
// (it is also reloaded when the file changes).
func newCertAuthority(ca, crl, name string, logger *slog.Logger) (certAuthority, error) {
	a, err := clientcert.New(clientcert.Config{CAFile: ca, CRLFile: crl, NameFrom: name})
	if err != nil {
		return nil, err
	}
	if crl != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		go func() {
			for range hup {
				if err := a.Reload(); err != nil {
					logger.Error("the client CRL could not be reloaded: every client certificate is refused until it is", "err", err)
					continue
				}
				logger.Info("client CRL reloaded", "file", crl)
			}
		}()
	}
	return certAdapter{a}, nil
}

func (c certAdapter) TLSConfig(base *tls.Config) *tls.Config { return c.a.TLSConfig(base) }

func (c certAdapter) Identify(cs *tls.ConnectionState) (vault.ExternalIdentity, error) {
	id, err := c.a.Identify(cs)
	if errors.Is(err, clientcert.ErrNoCertificate) {
		return vault.ExternalIdentity{}, api.ErrNoCertificate
	}
	if err != nil {
		return vault.ExternalIdentity{}, err
	}
	return vault.ExternalIdentity{Kind: "certificate", Name: id.Name, Issuer: id.Issuer, Subject: id.Subject, Fingerprint: id.Fingerprint}, nil
}
