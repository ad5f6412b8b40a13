package testenv

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// CA is a certificate authority private to one test: an ECDSA P-256 key
// and a self-signed certificate, valid from an hour ago for a day, in a
// temporary folder. Each CA is independent of every other, so a token
// from a TSA of one CA is untrusted for a test that trusts another.
type CA struct {
	Cert    *x509.Certificate
	CertPEM string // path of the certificate, PEM

	key crypto.Signer
	dir string
}

// NewCA makes a CA whose subject's common name is name.
func NewCA(t TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Custos tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := &CA{Cert: cert, CertPEM: filepath.Join(dir, "ca.pem"), key: key, dir: dir}
	writePEM(t, ca.CertPEM, "CERTIFICATE", der)
	return ca
}

// TSAEKU is the extended key usage a TSA certificate is issued with.
type TSAEKU int

const (
	// EKUCritical is what RFC 3161 section 2.3 requires: a critical
	// extendedKeyUsage extension holding id-kp-timeStamping alone.
	EKUCritical TSAEKU = iota
	// EKUNonCritical is id-kp-timeStamping in an extension not marked
	// critical (what crypto/x509 makes from ExtKeyUsage). OpenSSL's TSA
	// refuses to sign with it; see SignTSTInfo.
	EKUNonCritical
	// EKUAbsent leaves the extension out.
	EKUAbsent
)

// TSACertOptions shape a TSA certificate; the zero value is a compliant
// ECDSA P-256 certificate valid from an hour ago for a day.
type TSACertOptions struct {
	Name                string // subject common name; "Custos test TSA" if empty
	EKU                 TSAEKU
	RSA                 bool      // an RSA-2048 key instead of ECDSA P-256
	NotBefore, NotAfter time.Time // zero for an hour ago and a day from now
}

// TSACert is a TSA's signing certificate and key, as PEM files (the key
// unencrypted PKCS #8), issued by a CA.
type TSACert struct {
	Cert    *x509.Certificate
	CertPEM string // path of the certificate
	KeyPEM  string // path of the private key
}

var oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}

// IssueTSACert issues a TSA signing certificate. Go's crypto/x509 marks
// the extended key usage extension non-critical, so the critical one is
// written as an extra extension.
func (ca *CA) IssueTSACert(t TB, opts TSACertOptions) *TSACert {
	t.Helper()
	var key crypto.Signer
	var err error
	if opts.RSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	if opts.Name == "" {
		opts.Name = "Custos test TSA"
	}
	now := time.Now()
	if opts.NotBefore.IsZero() {
		opts.NotBefore = now.Add(-time.Hour)
	}
	if opts.NotAfter.IsZero() {
		opts.NotAfter = now.Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(t),
		Subject:      pkix.Name{CommonName: opts.Name, Organization: []string{"Custos tests"}},
		NotBefore:    opts.NotBefore,
		NotAfter:     opts.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	switch opts.EKU {
	case EKUCritical:
		val, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
		if err != nil {
			t.Fatal(err)
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: val}}
	case EKUNonCritical:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tc := &TSACert{Cert: cert, CertPEM: filepath.Join(dir, "tsa.pem"), KeyPEM: filepath.Join(dir, "tsa.key")}
	writePEM(t, tc.CertPEM, "CERTIFICATE", der)
	writePEM(t, tc.KeyPEM, "PRIVATE KEY", pkcs8)
	return tc
}

// TSAMode is how a TSA answers.
type TSAMode int

const (
	// TSAServe answers every request with OpenSSL's reply.
	TSAServe TSAMode = iota
	// TSAReject answers with OpenSSL's real rejection: its configuration
	// is switched to one that accepts SHA-512 imprints only, so a SHA-256
	// request gets PKIStatus rejection with failInfo badAlg.
	TSAReject
	// TSAHTTPError answers HTTP 503 without a body.
	TSAHTTPError
	// TSAReplay answers with the reply to the previous request (a replay:
	// its nonce is not the new request's).
	TSAReplay
)

// TSAOptions shape a TSA; the zero value is a compliant one with a CA of
// its own.
type TSAOptions struct {
	CA   *CA            // the issuer of the TSA's certificate; nil for a new CA
	Cert TSACertOptions // its certificate
	// ESSCertIDAlg is OpenSSL's ess_cert_id_alg: "" keeps OpenSSL's
	// default (a SHA-1 ESSCertID, RFC 2634); "sha256" makes it an
	// ESSCertIDv2 (RFC 5816).
	ESSCertIDAlg string
}

// TSA is a real RFC 3161 time-stamping authority on 127.0.0.1: a Go HTTP
// handler that hands each application/timestamp-query to `openssl ts
// -reply` with an OpenSSL [tsa] configuration in a temporary folder, one
// request at a time (OpenSSL keeps the token serial number in a file), and
// returns its reply. Its tokens carry the TSA's and the CA's
// certificates, policy 1.2.3.4.1, an accuracy of 1.5001 s, the ordering
// flag, the TSA's name and a genTime to the millisecond.
type TSA struct {
	URL       string   // http://127.0.0.1:PORT/
	CA        *CA      // the issuer of Signer
	Signer    *TSACert // the TSA's signing certificate
	CACertPEM string   // CA.CertPEM, the certificate to trust
	CertPEM   string   // Signer.CertPEM

	openssl string
	dir     string
	srv     *httptest.Server
	t       TB

	mu       sync.Mutex // serialises openssl and guards the rest
	mode     TSAMode
	last     []byte // the previous reply, for TSAReplay
	requests int
	stopped  bool
}

// StartTSA starts a compliant TSA with a CA of its own for this test and
// stops it when the test ends. A missing openssl skips the test (fails it
// under `make test`).
func StartTSA(t TB) *TSA {
	t.Helper()
	return StartTSAWith(t, TSAOptions{})
}

// StartTSAWith starts a TSA shaped by opts. OpenSSL refuses to sign with
// a certificate that breaks RFC 3161 section 2.3 (EKUNonCritical,
// EKUAbsent): the TSA then answers HTTP 500 to every request.
func StartTSAWith(t TB, opts TSAOptions) *TSA {
	t.Helper()
	openssl := binaryOf(t, "openssl")
	ca := opts.CA
	if ca == nil {
		ca = NewCA(t, "Custos test TSA CA")
	}
	signer := ca.IssueTSACert(t, opts.Cert)
	a := &TSA{
		CA: ca, Signer: signer, CACertPEM: ca.CertPEM, CertPEM: signer.CertPEM,
		openssl: openssl, dir: t.TempDir(), t: t,
	}
	if err := os.WriteFile(filepath.Join(a.dir, "serial"), []byte("01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ess := ""
	if opts.ESSCertIDAlg != "" {
		ess = "ess_cert_id_alg = " + opts.ESSCertIDAlg + "\n"
	}
	for _, c := range []struct{ file, digests string }{
		{"tsa.cnf", "sha256, sha384, sha512"},
		{"reject.cnf", "sha512"},
	} {
		conf := fmt.Sprintf(`# OpenSSL time-stamping authority for one test (openssl ts -reply).
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
serial = %s
crypto_device = builtin
signer_cert = %s
certs = %s
signer_key = %s
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = %s
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
%s`, filepath.Join(a.dir, "serial"), signer.CertPEM, ca.CertPEM, signer.KeyPEM, c.digests, ess)
		if err := os.WriteFile(filepath.Join(a.dir, c.file), []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a.srv = httptest.NewServer(a)
	a.URL = a.srv.URL + "/"
	t.Cleanup(a.Stop)
	return a
}

// SetMode changes how the TSA answers from the next request on.
func (a *TSA) SetMode(m TSAMode) {
	a.mu.Lock()
	a.mode = m
	a.mu.Unlock()
}

// Requests is the number of requests the TSA has been sent.
func (a *TSA) Requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// Stop closes the TSA's listener: from then on a connection to URL is
// refused. It waits for requests in progress; calling it again does
// nothing.
func (a *TSA) Stop() {
	a.mu.Lock()
	stopped := a.stopped
	a.stopped = true
	a.mu.Unlock()
	if !stopped {
		a.srv.Close()
	}
}

// ServeHTTP answers one RFC 3161 request (section 3.4).
func (a *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a time-stamp query", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/timestamp-query" {
		http.Error(w, "not application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	query, err := io.ReadAll(io.LimitReader(r.Body, 16<<10+1))
	if err != nil || len(query) > 16<<10 {
		http.Error(w, "query unreadable or too large", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	var reply []byte
	switch a.mode {
	case TSAHTTPError:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case TSAReplay:
		reply = a.last
	}
	conf := "tsa.cnf"
	if a.mode == TSAReject {
		conf = "reject.cnf"
	}
	if reply == nil {
		if reply, err = a.reply(query, conf); err != nil {
			a.t.Logf("test TSA: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	a.last = reply
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(reply)
}

// reply runs openssl ts -reply on one query; a.mu is held.
func (a *TSA) reply(query []byte, conf string) ([]byte, error) {
	in, out := filepath.Join(a.dir, "query.tsq"), filepath.Join(a.dir, "reply.tsr")
	os.Remove(out)
	if err := os.WriteFile(in, query, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(a.openssl, "ts", "-reply", "-config", filepath.Join(a.dir, conf), "-queryfile", in, "-out", out)
	cmd.Dir = a.dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	reply, rerr := os.ReadFile(out)
	if err != nil || rerr != nil || len(reply) == 0 {
		return nil, fmt.Errorf("openssl ts -reply: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return reply, nil
}

// VerifyWithOpenSSL checks token (a DER TimeStampToken) over message with
// the stock `openssl ts -verify`, trusting the TSA's CA; it returns
// OpenSSL's output as the error if the token does not verify.
func (a *TSA) VerifyWithOpenSSL(t TB, token, message []byte) error {
	t.Helper()
	return OpenSSLVerifyToken(t, token, message, a.CACertPEM)
}

// OpenSSLVerifyToken checks token over message with `openssl ts -verify
// -token_in`, trusting the certificates in the PEM file caFile.
func OpenSSLVerifyToken(t TB, token, message []byte, caFile string) error {
	t.Helper()
	openssl := binaryOf(t, "openssl")
	dir := t.TempDir()
	tok, msg := filepath.Join(dir, "token.der"), filepath.Join(dir, "message")
	if err := os.WriteFile(tok, token, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(msg, message, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "ts", "-verify", "-token_in", "-in", tok, "-data", msg, "-CAfile", caFile).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Verification: OK")) {
		return fmt.Errorf("openssl ts -verify: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// SignTSTInfo makes a time-stamp token by hand: it signs tstInfo (a DER
// TSTInfo, RFC 3161 section 2.4.2) with signer using `openssl cms -sign
// -cades`, as CMS SignedData of content type id-ct-TSTInfo with the
// signing-certificate-v2 attribute that RFC 3161 requires, and returns the
// DER ContentInfo. OpenSSL's TSA refuses to sign with a certificate that
// breaks RFC 3161 section 2.3, and this is how a test gets a token from
// one.
func SignTSTInfo(t TB, tstInfo []byte, signer *TSACert) []byte {
	t.Helper()
	openssl := binaryOf(t, "openssl")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "tstinfo.der"), filepath.Join(dir, "token.der")
	if err := os.WriteFile(in, tstInfo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "cms", "-sign", "-binary", "-nodetach", "-cades", "-nosmimecap",
		"-md", "sha256", "-econtent_type", "1.2.840.113549.1.9.16.1.4",
		"-in", in, "-signer", signer.CertPEM, "-inkey", signer.KeyPEM, "-outform", "DER", "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl cms -sign: %v: %s", err, msg)
	}
	token, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func randSerial(t TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

func writePEM(t TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// RequestWithNonce asks the TSA for a token over message's SHA-256
// with a nonce of the caller's choosing, as an insider could (the
// vault's own requests draw 63 bits), and returns the token's DER.
func (a *TSA) RequestWithNonce(message []byte, nonce *big.Int) []byte {
	a.t.Helper()
	sum := sha256.Sum256(message)
	type imprint struct {
		Alg    pkix.AlgorithmIdentifier
		Hashed []byte
	}
	req, err := asn1.Marshal(struct {
		Version int
		Imprint imprint
		Nonce   *big.Int
		CertReq bool
	}{1, imprint{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}, sum[:]}, nonce, true})
	if err != nil {
		a.t.Fatalf("testenv: a time-stamp request: %v", err)
	}
	resp, err := http.Post(a.URL, "application/timestamp-query", bytes.NewReader(req))
	if err != nil {
		a.t.Fatalf("testenv: the TSA: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status asn1.RawValue
		Token  asn1.RawValue
	}
	if _, err := asn1.Unmarshal(body, &r); err != nil || len(r.Token.FullBytes) == 0 {
		a.t.Fatalf("testenv: the TSA's answer: %v (%d bytes)", err, len(body))
	}
	return r.Token.FullBytes
}
