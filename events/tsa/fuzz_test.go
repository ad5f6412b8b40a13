package tsa_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"

	"github.com/custos-vault/custos/events/tsa"
)

// FuzzVerify feeds Verify altered tokens, seeded with the real token in
// testdata/: it must never panic, every error must be of one of its
// classes, and whatever verifies must attest what the real token does
// (nothing can be made to verify with another time or serial number).
func FuzzVerify(f *testing.F) {
	message, token, _, ca, _, v := readVectors(f)
	f.Add([]byte(token))
	f.Add([]byte(token[:len(token)/2]))
	f.Add(append([]byte(nil), token[:2]...))
	trusted := []*x509.Certificate{ca}
	f.Fuzz(func(t *testing.T, b []byte) {
		att, err := tsa.Verify(b, message, trusted)
		if err != nil {
			for _, class := range []error{tsa.ErrMalformed, tsa.ErrBadSignature, tsa.ErrUntrustedSigner,
				tsa.ErrNotTimeStamping, tsa.ErrWeakHash, tsa.ErrWrongMessage} {
				if errors.Is(err, class) {
					return
				}
			}
			t.Fatalf("error of no class: %v", err)
		}
		if !att.Time.Equal(v.Time) || att.SerialNumber.String() != v.Serial || att.Subject != v.Subject {
			t.Fatalf("verifies with another attestation: %+v", att)
		}
	})
}

// FuzzParseResponse feeds a request's ParseResponse altered responses,
// seeded with the real one in testdata/: no panic, and a token it returns
// is a part of the response that attests the vector's time.
func FuzzParseResponse(f *testing.F) {
	message, _, response, ca, _, v := readVectors(f)
	f.Add(response)
	f.Add(response[:len(response)/2])
	nonce, _ := new(big.Int).SetString(v.Nonce, 10)
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &tsa.Request{Imprint: sha256.Sum256(message), Nonce: nonce}
		tok, err := req.ParseResponse(b)
		if err != nil {
			return
		}
		if !bytes.Contains(b, tok) {
			t.Fatal("the token is not a part of the response")
		}
		if att, err := tsa.Verify(tok, message, []*x509.Certificate{ca}); err == nil && !att.Time.Equal(v.Time) {
			t.Fatalf("verifies with another time: %s", att.Time)
		}
	})
}
