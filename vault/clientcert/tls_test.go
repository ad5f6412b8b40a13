package clientcert

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestTLSHandshake serves HTTPS on 127.0.0.1 with the Authority's TLS
// config and real clocks: a client with a valid card is identified, a
// client without a certificate reaches the handler with ErrNoCertificate
// (it would present a bearer token), a revoked card is refused by
// Identify, and an expired card or one of another CA fails the handshake.
func TestTLSHandshake(t *testing.T) {
	now := time.Now()
	root := newRoot(t, "Hotline Root CA", now)
	inter := root.intermediate(t, "Hotline Smart Card CA", now)
	anna := inter.issue(t, now, nil)
	revoked := inter.issue(t, now, nil)
	expired := inter.issue(t, now, func(c *x509.Certificate) { c.NotAfter = now.Add(-time.Minute) })
	other := newRoot(t, "Another Root CA", now)
	stranger := other.issue(t, now, nil)

	dir := t.TempDir()
	caFile, crlFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "crl.pem")
	writeFile(t, caFile, certsPEM(root.cert, inter.cert))
	writeFile(t, crlFile, crlsPEM(root.crl(t, 1, now), inter.crl(t, 1, now, revoked.cert)))
	a, err := New(Config{CAFile: caFile, CRLFile: crlFile, NameFrom: NameEmail})
	if err != nil {
		t.Fatal(err)
	}

	var reached atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		id, err := a.Identify(r.TLS)
		switch {
		case errors.Is(err, ErrNoCertificate):
			fmt.Fprint(w, "no certificate")
		case errors.Is(err, ErrRevoked):
			http.Error(w, "revoked", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusUnauthorized)
		default:
			fmt.Fprintf(w, "%s %s", id.Name, id.Fingerprint)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = a.TLSConfig(&tls.Config{MinVersion: tls.VersionTLS10})
	srv.StartTLS()
	defer srv.Close()

	get := func(cert *tls.Certificate) (string, error) {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, body), err
	}
	card := func(p person) *tls.Certificate { c := p.tlsCert(inter.cert); return &c }

	if got, err := get(card(anna)); err != nil || got != "200 anna.berg@hotline.example "+fingerprint(anna.cert) {
		t.Fatalf("a valid card: %q, %v", got, err)
	}
	if got, err := get(nil); err != nil || got != "200 no certificate" {
		t.Fatalf("no certificate: %q, %v", got, err)
	}
	if got, err := get(card(revoked)); err != nil || got != "401 revoked\n" {
		t.Fatalf("a revoked card: %q, %v", got, err)
	}
	before := reached.Load()
	for name, c := range map[string]*tls.Certificate{"an expired card": card(expired), "another CA's card": card(stranger)} {
		if got, err := get(c); err == nil {
			t.Fatalf("%s: the handshake succeeded: %q", name, got)
		}
	}
	if reached.Load() != before {
		t.Fatal("a failed handshake reached the handler")
	}
	// TLS 1.2 clients connect too; older ones do not.
	for v, ok := range map[uint16]bool{tls.VersionTLS12: true, tls.VersionTLS11: false} {
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.MaxVersion = v, v
		tr.TLSClientConfig.Certificates = []tls.Certificate{*card(anna)}
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		if (err == nil) != ok {
			t.Fatalf("TLS version %x: %v", v, err)
		}
		tr.CloseIdleConnections()
	}
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
