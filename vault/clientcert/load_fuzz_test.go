package clientcert

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad reads arbitrary bytes as the CA file and as the CRL file (of
// a fixed CA file), through the parsers and through New. Nothing panics;
// whatever is accepted is one or more CA certificates, or CRLs that are
// each signed by a distinct CA of the file and current.
func FuzzLoad(f *testing.F) {
	root := newRoot(f, "Hotline Root CA", t0)
	inter := root.intermediate(f, "Hotline Smart Card CA", t0)
	anna := inter.issue(f, t0, nil)
	cas := []*x509.Certificate{root.cert, inter.cert}
	dir := f.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, certsPEM(cas...), 0o600); err != nil {
		f.Fatal(err)
	}
	rootCRL, interCRL := root.crl(f, 1, t0), inter.crl(f, 7, t0, anna.cert)
	f.Add(certsPEM(cas...))
	f.Add(crlsPEM(rootCRL, interCRL))
	f.Add(append(append([]byte{}, rootCRL...), interCRL...))
	f.Add(interCRL)
	f.Add(crlsPEM(crlWithExt(f, root, t0, oidIssuingDistPoint, true)))
	f.Add([]byte("Certificate:\n    Data: ...\n" + string(certsPEM(root.cert))))
	f.Add([]byte("-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Add([]byte{})
	now := t0.Add(time.Minute)

	f.Fuzz(func(t *testing.T, data []byte) {
		if got, err := parseCAs(data); err == nil {
			if len(got) == 0 {
				t.Fatal("accepted a CA file without certificates")
			}
			for _, c := range got {
				if !c.IsCA {
					t.Fatalf("accepted %s, not a CA", c.Subject)
				}
			}
		}
		if set, err := parseCRLs(data, cas, now); err == nil {
			if len(set.list) == 0 || len(set.list) != len(set.byIssuer) {
				t.Fatalf("accepted %d CRLs of %d issuers", len(set.list), len(set.byIssuer))
			}
			for _, c := range set.list {
				if !now.Before(c.nextUpdate) || c.number == nil || (c.issuer != root.cert && c.issuer != inter.cert) {
					t.Fatalf("accepted a stale, unnumbered or foreign CRL: %+v", c)
				}
			}
		}

		sub := t.TempDir()
		file := filepath.Join(sub, "file")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if a, err := New(Config{CAFile: file, Now: func() time.Time { return now }}); err == nil {
			a.Identify(connState(t, cas[:1], anna.cert, inter.cert))
		}
		a, err := New(Config{CAFile: caFile, CRLFile: file, Now: func() time.Time { return now }})
		if err != nil {
			return
		}
		_, err = a.Identify(connState(t, cas[:1], anna.cert, inter.cert))
		if err == nil || !errors.Is(err, ErrRefused) {
			// anna is revoked by the only CRL of her issuer that verifies.
			t.Fatalf("anna's card: %v", err)
		}
	})
}
