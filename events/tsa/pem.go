package tsa

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParseCertificatesPEM reads the certificates a user trusts for Verify
// from a PEM file: one or more CERTIFICATE blocks (the TSA's certificate,
// its CA, or a whole chain) in any order. Text around the blocks, a
// leading byte-order mark and CRLF line ends are accepted; a block of
// another type (a private key, say) is refused, as is a file without a
// certificate.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", n, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return certs, nil
}
