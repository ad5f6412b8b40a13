package tsa_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/internal/testenv"
)

var writeVectors = flag.Bool("write-vectors", false, "make testdata/ anew with a token from a real OpenSSL TSA")

// The vectors in testdata/ (docs/timestamps.md):
//
//	message       a signed checkpoint note of a test log
//	token.tst     an RFC 3161 token over it from openssl ts -reply (DER)
//	response.tsr  the TimeStampResp the token came in (DER)
//	ca.pem        the CA of the TSA, the certificate to trust
//	tsa.pem       the TSA's certificate, valid for minutes only
//	vector.json   what the token attests, and the request's nonce
type vector struct {
	Time     time.Time `json:"time"`
	Serial   string    `json:"serial"`
	Policy   string    `json:"policy"`
	Subject  string    `json:"subject"`
	Accuracy string    `json:"accuracy"`
	Hash     string    `json:"hash"`
	Nonce    string    `json:"nonce"`
}

func readVectors(t testing.TB) (message []byte, token tsa.Token, response []byte, ca, signer *x509.Certificate, v vector) {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cert := func(name string) *x509.Certificate {
		cs, err := tsa.ParseCertificatesPEM(read(name))
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s: %v", name, err)
		}
		return cs[0]
	}
	if err := json.Unmarshal(read("vector.json"), &v); err != nil {
		t.Fatal(err)
	}
	return read("message"), read("token.tst"), read("response.tsr"), cert("ca.pem"), cert("tsa.pem"), v
}

// The stored token verifies long after the TSA's certificate expired:
// certificates are checked at the token's time.
func TestVectors(t *testing.T) {
	message, token, response, ca, signer, v := readVectors(t)
	for _, trusted := range [][]*x509.Certificate{{ca}, {signer}} {
		att, err := tsa.Verify(token, message, trusted)
		if err != nil {
			t.Fatal(err)
		}
		if !att.Time.Equal(v.Time) || att.SerialNumber.String() != v.Serial || att.Policy.String() != v.Policy ||
			att.Subject != v.Subject || att.Accuracy.String() != v.Accuracy || att.Hash != v.Hash || att.Nonce.String() != v.Nonce {
			t.Errorf("attestation %+v, want %+v", att, v)
		}
	}
	if now := time.Now(); now.After(signer.NotAfter) {
		if _, err := signer.Verify(x509.VerifyOptions{Roots: pool(ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			t.Error("the expired TSA certificate verifies now; the test shows nothing")
		}
	} else {
		t.Logf("the vectors' TSA certificate expires at %s; after that this test shows that tokens are checked at their time", signer.NotAfter)
	}

	if _, err := tsa.Verify(token, append(message, '\n'), []*x509.Certificate{ca}); !errors.Is(err, tsa.ErrWrongMessage) {
		t.Errorf("other message: got %v", err)
	}
	other := testenv.NewCA(t, ca.Subject.CommonName)
	if _, err := tsa.Verify(token, message, []*x509.Certificate{other.Cert}); !errors.Is(err, tsa.ErrUntrustedSigner) {
		t.Errorf("other CA: got %v", err)
	}

	nonce, _ := new(big.Int).SetString(v.Nonce, 10)
	req := &tsa.Request{Imprint: sha256.Sum256(message), Nonce: nonce}
	got, err := req.ParseResponse(response)
	if err != nil || !bytes.Equal(got, token) {
		t.Errorf("ParseResponse: %v, token equal: %v", err, bytes.Equal(got, token))
	}
	req.Nonce = new(big.Int).Add(nonce, big.NewInt(1))
	if _, err := req.ParseResponse(response); !errors.Is(err, tsa.ErrWrongNonce) {
		t.Errorf("other nonce: got %v", err)
	}
}

func pool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

// TestWriteVectors makes testdata/ anew when run with -write-vectors:
// go test ./events/tsa -run TestWriteVectors -write-vectors
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to make testdata/ anew")
	}
	now := time.Now()
	a := testenv.StartTSAWith(t, testenv.TSAOptions{Cert: testenv.TSACertOptions{
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(10 * time.Minute),
	}})
	skey, _, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	message, err := events.SignCheckpoint(signer, "custos.test/log", 5, events.Hash(sha256.Sum256([]byte("root"))))
	if err != nil {
		t.Fatal(err)
	}
	req, err := tsa.NewRequest(message)
	if err != nil {
		t.Fatal(err)
	}
	query, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	response := post(t, a.URL, query)
	token, err := req.ParseResponse(response)
	if err != nil {
		t.Fatal(err)
	}
	att, err := tsa.Verify(token, message, []*x509.Certificate{a.CA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.VerifyWithOpenSSL(t, token, message); err != nil {
		t.Fatal(err)
	}
	v, err := json.MarshalIndent(vector{
		Time: att.Time, Serial: att.SerialNumber.String(), Policy: att.Policy.String(), Subject: att.Subject,
		Accuracy: att.Accuracy.String(), Hash: att.Hash, Nonce: req.Nonce.String(),
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"message": message, "token.tst": token, "response.tsr": response, "vector.json": append(v, '\n'),
	} {
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, src := range map[string]string{"ca.pem": a.CACertPEM, "tsa.pem": a.CertPEM} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadSHA256 reads the vector's token by its message's SHA-256, and
// refuses another digest and a token changed by a byte.
func TestReadSHA256(t *testing.T) {
	token, _ := os.ReadFile("testdata/token.tst")
	message, _ := os.ReadFile("testdata/message")
	a, err := tsa.ReadSHA256(tsa.Token(token), sha256.Sum256(message))
	if err != nil || a.Hash != "SHA-256" || a.Time.IsZero() {
		t.Fatalf("%+v %v", a, err)
	}
	if _, err := tsa.ReadSHA256(tsa.Token(token), sha256.Sum256(append(message, 'x'))); !errors.Is(err, tsa.ErrWrongMessage) {
		t.Fatalf("another message: %v", err)
	}
	bad := bytes.Clone(token)
	bad[len(bad)-10] ^= 1
	if _, err := tsa.ReadSHA256(tsa.Token(bad), sha256.Sum256(message)); err == nil {
		t.Fatal("a changed token read")
	}
}
