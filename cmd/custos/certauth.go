package main

import (
	"crypto/tls"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/clientcert"
)

// certAdapter is the client CA as the server uses it: the API's
// identifier and the CA's TLS configuration.
type certAdapter struct {
	api.CertIdentifier
	a *clientcert.Authority
}

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
	return certAdapter{CertIdentifier: api.CertIdentifierOf(a), a: a}, nil
}

func (c certAdapter) TLSConfig(base *tls.Config) *tls.Config { return c.a.TLSConfig(base) }

func (c certAdapter) CASHA256() []string { return c.a.CASHA256() }
