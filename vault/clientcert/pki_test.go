package clientcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The test PKI: CAs, person certificates and CRLs made with crypto/x509.

var serials struct {
	sync.Mutex
	n int64
}

func nextSerial() *big.Int {
	serials.Lock()
	defer serials.Unlock()
	serials.n++
	return big.NewInt(0x1000 + serials.n)
}

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func caTemplate(name string, now time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{Organization: []string{"Hotline"}, CommonName: name},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

// newRoot makes a self-signed root CA valid around now.
func newRoot(t testing.TB, name string, now time.Time) *testCA {
	k := newKey(t)
	tmpl := caTemplate(name, now)
	return &testCA{cert: create(t, tmpl, tmpl, k.Public(), k), key: k}
}

// intermediate makes a CA issued by c.
func (c *testCA) intermediate(t testing.TB, name string, now time.Time) *testCA {
	k := newKey(t)
	return &testCA{cert: create(t, caTemplate(name, now), c.cert, k.Public(), c.key), key: k}
}

// impostor makes a CA with c's name and another key.
func (c *testCA) impostor(t testing.TB, now time.Time) *testCA {
	k := newKey(t)
	tmpl := caTemplate("", now)
	tmpl.RawSubject = c.cert.RawSubject
	return &testCA{cert: create(t, tmpl, tmpl, k.Public(), k), key: k}
}

type person struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// tlsCert is the person's certificate for a TLS client, with the chain
// up to (not including) root.
func (p person) tlsCert(chain ...*x509.Certificate) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{p.cert.Raw}, PrivateKey: p.key}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc
}

// personTemplate is a smart-card certificate of anna.berg valid around
// now, with a common name, an email address, a DNS name, a URI and a
// user principal name.
func personTemplate(now time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{Organization: []string{"Hotline"}, CommonName: "anna.berg"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		ExtraExtensions: []pkix.Extension{{
			Id: oidSubjectAltName,
			Value: sanValue([]asn1.RawValue{
				otherName(oidUPN, "anna.berg@corp.example"),
				{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte("anna.berg@hotline.example")},
				{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte("anna.hotline.example")},
				{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte("https://id.hotline.example/people/anna.berg")},
				{Class: asn1.ClassContextSpecific, Tag: 1, Bytes: []byte("second@hotline.example")},
			}),
		}},
	}
}

func otherName(id asn1.ObjectIdentifier, value string) asn1.RawValue {
	s, err := asn1.MarshalWithParams(value, "utf8")
	if err != nil {
		panic(err)
	}
	v, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: s})
	if err != nil {
		panic(err)
	}
	oid, err := asn1.Marshal(id)
	if err != nil {
		panic(err)
	}
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, v...)}
}

func sanValue(names []asn1.RawValue) []byte {
	b, err := asn1.Marshal(names)
	if err != nil {
		panic(err)
	}
	return b
}

// issue makes a person certificate from personTemplate(now), changed by
// edit if not nil.
func (c *testCA) issue(t testing.TB, now time.Time, edit func(*x509.Certificate)) person {
	k := newKey(t)
	tmpl := personTemplate(now)
	if edit != nil {
		edit(tmpl)
	}
	return person{cert: create(t, tmpl, c.cert, k.Public(), c.key), key: k}
}

// crl makes a DER CRL of c numbered number, issued at now and due in an
// hour, revoking certs.
func (c *testCA) crl(t testing.TB, number int64, now time.Time, certs ...*x509.Certificate) []byte {
	return c.crlUntil(t, number, now, now.Add(time.Hour), certs...)
}

func (c *testCA) crlUntil(t testing.TB, number int64, thisUpdate, nextUpdate time.Time, certs ...*x509.Certificate) []byte {
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: thisUpdate, NextUpdate: nextUpdate}
	for _, rc := range certs {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: rc.SerialNumber, RevocationTime: thisUpdate, ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.cert, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(typ string, ders ...[]byte) []byte {
	var out []byte
	for _, d := range ders {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	return out
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var ders [][]byte
	for _, c := range certs {
		ders = append(ders, c.Raw)
	}
	return pemOf("CERTIFICATE", ders...)
}

func crlsPEM(ders ...[]byte) []byte { return pemOf("X509 CRL", ders...) }

// writeFile replaces path with data the way an operator should: a new
// file renamed over the old one.
func writeFile(t testing.TB, path string, data []byte) {
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// connState is the state of a TLS connection whose client presented leaf
// and chain, as crypto/tls verifies it against roots, at a time when
// every certificate is valid (so that expired and not yet valid
// certificates still reach Identify).
func connState(t testing.TB, roots []*x509.Certificate, leaf *x509.Certificate, chain ...*x509.Certificate) *tls.ConnectionState {
	cs := &tls.ConnectionState{PeerCertificates: append([]*x509.Certificate{leaf}, chain...)}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	for _, c := range chain {
		inter.AddCert(c)
	}
	at := leaf.NotBefore
	for _, c := range append(chain, roots...) {
		if c.NotBefore.After(at) {
			at = c.NotBefore
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, CurrentTime: at.Add(time.Second),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		t.Fatalf("the test chain does not verify: %v", err)
	}
	cs.VerifiedChains = chains
	return cs
}

// tbsCRL is RFC 5280's TBSCertList, with the issuer and the entries
// kept as they are.
type tbsCRL struct {
	Version    int `asn1:"optional,default:0"`
	Signature  pkix.AlgorithmIdentifier
	Issuer     asn1.RawValue
	ThisUpdate time.Time
	NextUpdate time.Time        `asn1:"optional"`
	Revoked    []asn1.RawValue  `asn1:"optional"`
	Extensions []pkix.Extension `asn1:"tag:0,optional,explicit"`
}

type certList struct {
	TBS       asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// reissueCRL changes the contents of the CRL der with edit and signs it
// again with ca's key (ECDSA with SHA-256).
func reissueCRL(t testing.TB, ca *testCA, der []byte, edit func(*tbsCRL)) []byte {
	var cl certList
	var tbs tbsCRL
	if _, err := asn1.Unmarshal(der, &cl); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(cl.TBS.FullBytes, &tbs); err != nil {
		t.Fatal(err)
	}
	edit(&tbs)
	tbsDER, err := asn1.Marshal(tbs)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbsDER)
	sig, err := ca.key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	cl.TBS = asn1.RawValue{FullBytes: tbsDER}
	cl.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	out, err := asn1.Marshal(cl)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
