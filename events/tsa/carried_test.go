package tsa_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/internal/testenv"
)

// elements splits the content of a DER SEQUENCE or SET into its
// elements' encodings.
func elements(t *testing.T, content []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(content) > 0 {
		var e asn1.RawValue
		rest, err := asn1.Unmarshal(content, &e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.FullBytes)
		content = rest
	}
	return out
}

func wrap(t *testing.T, class, tag int, parts ...[]byte) []byte {
	t.Helper()
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	der, err := asn1.Marshal(asn1.RawValue{Class: class, Tag: tag, IsCompound: true, Bytes: b})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// rebuild returns token with its SignedData's elements changed by edit:
// the elements (version, digest algorithms, content, [0] certificates,
// [1] revocation lists if any, signer infos), each whole DER.
func rebuild(t *testing.T, token tsa.Token, edit func(sd [][]byte) [][]byte) tsa.Token {
	t.Helper()
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(token, &ci); err != nil {
		t.Fatal(err)
	}
	var sd asn1.RawValue
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	oid, _ := asn1.Marshal(ci.ContentType)
	signed := wrap(t, asn1.ClassUniversal, asn1.TagSequence, edit(elements(t, sd.Bytes))...)
	return wrap(t, asn1.ClassUniversal, asn1.TagSequence, oid, wrap(t, asn1.ClassContextSpecific, 0, signed))
}

// strayCertificate is a valid certificate of no one's chain: any bytes
// could be in its extensions.
func strayCertificate(t *testing.T) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "hidden bytes"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte("anything at all")}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestTokensCarryOnlyTheSignersChain: a genuine token with something
// added outside its signature (which the signature does not cover, so it
// still verifies) is refused by Read and Verify alike: unsigned
// attributes, revocation lists, a certificate off the signer's chain, a
// certificate twice. Under a token's name in the object store, each
// could carry any bytes. The token as the TSA issued it still verifies.
func TestTokensCarryOnlyTheSignersChain(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	if _, err := tsa.Verify(tok, checkpoint, certs(a.CA.Cert)); err != nil {
		t.Fatalf("the token as issued: %v", err)
	}
	const certsAt, signersAt = 3, 4
	if sd := rebuild(t, tok, func(sd [][]byte) [][]byte { return sd }); string(sd) != string(tok) {
		t.Fatal("rebuilding the token unchanged changes it")
	}
	attr := wrap(t, asn1.ClassUniversal, asn1.TagSequence, mustMarshal(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}),
		wrap(t, asn1.ClassUniversal, asn1.TagSet, mustMarshal(t, []byte("hidden bytes"))))
	for _, tc := range []struct {
		name string
		edit func(sd [][]byte) [][]byte
		want string
	}{
		{"unsigned attributes", func(sd [][]byte) [][]byte {
			var set asn1.RawValue
			asn1.Unmarshal(sd[signersAt], &set)
			si := elements(t, set.Bytes)[0]
			var seq asn1.RawValue
			asn1.Unmarshal(si, &seq)
			si = wrap(t, asn1.ClassUniversal, asn1.TagSequence, seq.Bytes, wrap(t, asn1.ClassContextSpecific, 1, attr))
			sd[signersAt] = wrap(t, asn1.ClassUniversal, asn1.TagSet, si)
			return sd
		}, "unsigned attributes"},
		{"revocation lists", func(sd [][]byte) [][]byte {
			crls := wrap(t, asn1.ClassContextSpecific, 1, wrap(t, asn1.ClassUniversal, asn1.TagSequence, mustMarshal(t, []byte("hidden bytes"))))
			return append(sd[:signersAt:signersAt], crls, sd[signersAt])
		}, "revocation lists"},
		{"a certificate off the chain", func(sd [][]byte) [][]byte {
			var set asn1.RawValue
			asn1.Unmarshal(sd[certsAt], &set)
			sd[certsAt] = wrap(t, asn1.ClassContextSpecific, 0, set.Bytes, strayCertificate(t))
			return sd
		}, "not on its signer's chain"},
		{"a made-up issuer with the CA's key and name", func(sd [][]byte) [][]byte {
			sd[certsAt] = withIssuer(t, sd[certsAt], a.CA.Cert, forgedIssuer(t, a.CA.Cert, a.CA.Cert.Subject, true))
			return sd
		}, "whose own signature does not verify"},
		{"a made-up issuer with the CA's key under another name", func(sd [][]byte) [][]byte {
			sd[certsAt] = withIssuer(t, sd[certsAt], a.CA.Cert, forgedIssuer(t, a.CA.Cert, pkix.Name{CommonName: "hidden bytes"}, false))
			return sd
		}, "not on its signer's chain"},
		{"a certificate twice", func(sd [][]byte) [][]byte {
			var set asn1.RawValue
			asn1.Unmarshal(sd[certsAt], &set)
			sd[certsAt] = wrap(t, asn1.ClassContextSpecific, 0, set.Bytes, a.CA.Cert.Raw)
			return sd
		}, "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := rebuild(t, tok, tc.edit)
			if _, err := tsa.Read(bad, checkpoint); !errors.Is(err, tsa.ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read: %v, want ErrMalformed naming %q", err, tc.want)
			}
			if _, err := tsa.Verify(bad, checkpoint, certs(a.CA.Cert)); !errors.Is(err, tsa.ErrMalformed) {
				t.Errorf("Verify: %v, want ErrMalformed", err)
			}
		})
	}
}

// forgedIssuer is a CA certificate with ca's key (so it checks the
// signature of the certificate ca issued) under subject, and bytes of
// someone's choice, signed with another key: self-issued, or naming an
// issuer of its own.
func forgedIssuer(t *testing.T, ca *x509.Certificate, subject pkix.Name, selfIssued bool) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: subject, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: []byte("hidden bytes")}}}
	parent := &x509.Certificate{Subject: subject}
	if !selfIssued {
		parent.Subject = pkix.Name{CommonName: "someone else"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, ca.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// withIssuer is the [0] certificates element with the certificate old
// replaced by the DER certificate forged.
func withIssuer(t *testing.T, certsElement []byte, old *x509.Certificate, forged []byte) []byte {
	t.Helper()
	var set asn1.RawValue
	asn1.Unmarshal(certsElement, &set)
	var kept [][]byte
	for _, c := range elements(t, set.Bytes) {
		if string(c) != string(old.Raw) {
			kept = append(kept, c)
		}
	}
	if len(kept) == len(elements(t, set.Bytes)) {
		t.Fatal("the token does not carry the CA's certificate")
	}
	return wrap(t, asn1.ClassContextSpecific, 0, append(kept, forged)...)
}

// crossSigned returns ca's certificate issued again (same name, same
// key) by a new root, as CAs cross-sign their roots, and that root.
func crossSigned(t *testing.T, ca *x509.Certificate) (cross []byte, root *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: big.NewInt(11), Subject: pkix.Name{CommonName: "older root"},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rder, err := x509.CreateCertificate(rand.Reader, rt, rt, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(rder)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(12), Subject: ca.Subject, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	cross, err = x509.CreateCertificate(rand.Reader, tmpl, root, ca.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return cross, root
}

// TestCarriedChainsOfRealAuthorities: a token carrying its signer and
// an issuing CA that another root issued (an intermediate, or a root
// cross-signed, as large authorities send) reads and verifies, whichever
// certificate of the way up is trusted, the TSA's own included; so does
// the token as issued with the TSA's own certificate pinned.
func TestCarriedChainsOfRealAuthorities(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	cross, older := crossSigned(t, a.CA.Cert)
	withCross := rebuild(t, tok, func(sd [][]byte) [][]byte {
		sd[3] = withIssuer(t, sd[3], a.CA.Cert, cross)
		return sd
	})
	if _, err := tsa.Read(withCross, checkpoint); err != nil {
		t.Errorf("Read: %v", err)
	}
	for name, trusted := range map[string][]*x509.Certificate{
		"the older root": certs(older), "the CA's self-signed certificate": certs(a.CA.Cert), "the TSA's own certificate": certs(a.Signer.Cert),
	} {
		if _, err := tsa.Verify(withCross, checkpoint, trusted); err != nil {
			t.Errorf("trusting %s: %v", name, err)
		}
	}
	if _, err := tsa.Verify(tok, checkpoint, certs(a.Signer.Cert)); err != nil {
		t.Errorf("the token as issued, pinning the TSA's own certificate: %v", err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCarriedOrderDoesNotMatter: a token carrying its signer, its CA
// and a cross-signed copy of the CA (both issuers of the signer's
// certificate) reads whichever order the set holds them in.
func TestCarriedOrderDoesNotMatter(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	cross, _ := crossSigned(t, a.CA.Cert)
	for _, crossFirst := range []bool{true, false} {
		both := rebuild(t, tok, func(sd [][]byte) [][]byte {
			var set asn1.RawValue
			asn1.Unmarshal(sd[3], &set)
			certs := elements(t, set.Bytes)
			if crossFirst {
				certs = append([][]byte{cross}, certs...)
			} else {
				certs = append(certs, cross)
			}
			sd[3] = wrap(t, asn1.ClassContextSpecific, 0, certs...)
			return sd
		})
		if _, err := tsa.Read(both, checkpoint); err != nil {
			t.Errorf("cross-signed copy first %v: %v", crossFirst, err)
		}
	}
}

// TestVerifyStoredAsksMore: a token a vault keeps must carry only
// certificates a trusted one vouches for, and no nonce longer than the
// vault's requests send. A made-up issuer bearing the CA's name and key
// (which Verify cannot tell from a cross-signed copy), and a genuine
// token over a requester's kilobyte of nonce, both verify with Verify
// and are refused by VerifyStored; the token as issued, and one
// carrying a genuine cross-signed copy whose root is trusted, pass.
func TestVerifyStoredAsksMore(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	sum := sha256.Sum256(checkpoint)
	if _, err := tsa.VerifyStored(tok, sum, certs(a.CA.Cert)); err != nil {
		t.Fatalf("the token as issued: %v", err)
	}
	forged := rebuild(t, tok, func(sd [][]byte) [][]byte {
		sd[3] = withIssuer(t, sd[3], a.CA.Cert, forgedIssuer(t, a.CA.Cert, a.CA.Cert.Subject, false))
		return sd
	})
	if _, err := tsa.Verify(forged, checkpoint, certs(a.CA.Cert)); err != nil {
		t.Errorf("Verify of a made-up issuer with the CA's name and key: %v", err)
	}
	if _, err := tsa.VerifyStored(forged, sum, certs(a.CA.Cert)); !errors.Is(err, tsa.ErrMalformed) || !strings.Contains(err.Error(), "vouches for") {
		t.Errorf("VerifyStored of a made-up issuer: %v", err)
	}
	cross, older := crossSigned(t, a.CA.Cert)
	withCross := rebuild(t, tok, func(sd [][]byte) [][]byte {
		sd[3] = withIssuer(t, sd[3], a.CA.Cert, cross)
		return sd
	})
	if _, err := tsa.VerifyStored(withCross, sum, certs(older)); err != nil {
		t.Errorf("VerifyStored of a genuine cross-signed copy, its root trusted: %v", err)
	}
	long := new(big.Int).Lsh(big.NewInt(1), 8000) // a kilobyte of the requester's bits
	chosen := tsa.Token(a.RequestWithNonce(checkpoint, long))
	if _, err := tsa.Verify(chosen, checkpoint, certs(a.CA.Cert)); err != nil {
		t.Fatalf("Verify of a token over a long nonce: %v", err)
	}
	if _, err := tsa.VerifyStored(chosen, sum, certs(a.CA.Cert)); !errors.Is(err, tsa.ErrMalformed) || !strings.Contains(err.Error(), "nonce") {
		t.Errorf("VerifyStored of a token over a long nonce: %v", err)
	}
}
