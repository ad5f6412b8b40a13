package tsa_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/internal/testenv"
)

// checkpoint stands for what Custos time-stamps: a signed checkpoint note.
var checkpoint = []byte("custos.test/log\n42\nq2Xn3jvm8dyQMG6GtUOEMXIJ6SL5XUPIwtDoRFS2RLM=\n\n— custos.test/log Az3grlgt1vvEhyMBVdQtBGvpaBx2GXIQgIp/uoVdfbdvMrLuYDr0tYnbZp8Zbnzgd8elZ9yQWtRyeVAVxN1dRBFhgwc=\n")

// stamp asks the TSA for a token over message.
func stamp(t *testing.T, a *testenv.TSA, message []byte) tsa.Token {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := tsaclient.Request(ctx, nil, a.URL, message)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func certs(cs ...*x509.Certificate) []*x509.Certificate { return cs }

// A token from a real TSA (openssl ts -reply) verifies against the TSA's
// CA, reports what the TSA put in it, and the stock openssl ts -verify
// accepts it too; for each key type and each form of the
// signing-certificate attribute.
func TestVerifyOpenSSLToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts testenv.TSAOptions
	}{
		{"ecdsa-esscertid", testenv.TSAOptions{}},
		{"ecdsa-esscertidv2", testenv.TSAOptions{ESSCertIDAlg: "sha256"}},
		{"rsa-esscertid", testenv.TSAOptions{Cert: testenv.TSACertOptions{RSA: true}}},
		{"rsa-esscertidv2-sha512", testenv.TSAOptions{Cert: testenv.TSACertOptions{RSA: true}, ESSCertIDAlg: "sha512"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testenv.StartTSAWith(t, tc.opts)
			before := time.Now()
			tok := stamp(t, a, checkpoint)

			att, err := tsa.Verify(tok, checkpoint, certs(a.CA.Cert))
			if err != nil {
				t.Fatal(err)
			}
			if d := att.Time.Sub(before); d < -time.Minute || d > time.Minute {
				t.Errorf("genTime %s is not within a minute of %s", att.Time, before)
			}
			if att.Time.Location() != time.UTC {
				t.Errorf("genTime not in UTC: %s", att.Time)
			}
			if !strings.Contains(att.Subject, "CN=Custos test TSA") {
				t.Errorf("subject %q", att.Subject)
			}
			if !att.Policy.Equal(asn1.ObjectIdentifier{1, 2, 3, 4, 1}) {
				t.Errorf("policy %s", att.Policy)
			}
			if want := 1500100 * time.Microsecond; att.Accuracy != want {
				t.Errorf("accuracy %s, want %s", att.Accuracy, want)
			}
			if att.SerialNumber == nil || att.SerialNumber.Sign() <= 0 || !att.Ordering || att.Nonce == nil || att.Hash != "SHA-256" {
				t.Errorf("attestation %+v", att)
			}
			if len(att.Chain) != 2 || !att.Chain[0].Equal(a.Signer.Cert) || !att.Chain[1].Equal(a.CA.Cert) {
				t.Errorf("chain of %d certificates", len(att.Chain))
			}
			if err := a.VerifyWithOpenSSL(t, tok, checkpoint); err != nil {
				t.Errorf("the stock openssl refuses the token: %v", err)
			}
		})
	}
}

// The trusted certificate may be the TSA's own rather than its CA.
func TestVerifyTrustingTSACertificate(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	att, err := tsa.Verify(tok, checkpoint, certs(a.Signer.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if len(att.Chain) != 1 || !att.Chain[0].Equal(a.Signer.Cert) {
		t.Errorf("chain of %d certificates", len(att.Chain))
	}
	// Several certificates, as a PEM file of a chain gives them.
	if _, err := tsa.Verify(tok, checkpoint, certs(testenv.NewCA(t, "Unrelated CA").Cert, a.CA.Cert)); err != nil {
		t.Error(err)
	}
}

func TestVerifyWrongMessage(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	other := append([]byte(nil), checkpoint...)
	other[len("custos.test/log\n")] = '3' // size 32, not 42
	_, err := tsa.Verify(tok, other, certs(a.CA.Cert))
	if !errors.Is(err, tsa.ErrWrongMessage) {
		t.Fatalf("got %v, want ErrWrongMessage", err)
	}
	if a.VerifyWithOpenSSL(t, tok, other) == nil {
		t.Error("openssl accepts the token for another message")
	}
}

// A token from a TSA of another CA is untrusted, whether the other CA or
// the other TSA's certificate is given.
func TestVerifyOtherCA(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	untrusted := testenv.StartTSAWith(t, testenv.TSAOptions{CA: testenv.NewCA(t, "Custos test TSA CA")}) // same name, other key
	for _, trusted := range [][]*x509.Certificate{
		certs(untrusted.CA.Cert),
		certs(untrusted.Signer.Cert),
	} {
		_, err := tsa.Verify(tok, checkpoint, trusted)
		if !errors.Is(err, tsa.ErrUntrustedSigner) {
			t.Fatalf("got %v, want ErrUntrustedSigner", err)
		}
	}
	if _, err := tsa.Verify(tok, checkpoint, nil); !errors.Is(err, tsa.ErrUntrustedSigner) {
		t.Fatalf("no trusted certificate: got %v, want ErrUntrustedSigner", err)
	}
	if testenv.OpenSSLVerifyToken(t, tok, checkpoint, untrusted.CACertPEM) == nil {
		t.Error("openssl accepts the token under another CA")
	}
}

// A TSA certificate that was not valid at the token's time is refused.
// OpenSSL's TSA signs with an expired certificate; the client refuses the
// answer already, and Verify refuses the token.
func TestVerifyExpiredTSACertificate(t *testing.T) {
	now := time.Now()
	a := testenv.StartTSAWith(t, testenv.TSAOptions{Cert: testenv.TSACertOptions{
		NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour),
	}})
	_, err := tsaclient.Request(context.Background(), nil, a.URL, checkpoint)
	if !errors.Is(err, tsa.ErrUntrustedSigner) {
		t.Errorf("client: got %v, want ErrUntrustedSigner", err)
	}
	tok := opensslToken(t, a, checkpoint, true)
	_, err = tsa.Verify(tok, checkpoint, certs(a.CA.Cert))
	if !errors.Is(err, tsa.ErrUntrustedSigner) {
		t.Fatalf("got %v, want ErrUntrustedSigner", err)
	}
}

// RFC 3161 section 2.3: the TSA's certificate must have a critical
// extended key usage extension of id-kp-timeStamping alone. OpenSSL's TSA
// refuses to sign with any other (see TestOpenSSLTSARefusesNonCriticalEKU),
// so these tokens are made with openssl cms -sign over the TSTInfo of a
// real token; the same route with a compliant certificate is the control.
func TestVerifyNotTimeStampingCertificate(t *testing.T) {
	a := testenv.StartTSA(t)
	info, err := tsa.TSTInfoOf(stamp(t, a, checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		eku  testenv.TSAEKU
		want error
	}{
		{"critical", testenv.EKUCritical, nil},
		{"non-critical", testenv.EKUNonCritical, tsa.ErrNotTimeStamping},
		{"absent", testenv.EKUAbsent, tsa.ErrNotTimeStamping},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signer := a.CA.IssueTSACert(t, testenv.TSACertOptions{EKU: tc.eku})
			tok := testenv.SignTSTInfo(t, info, signer)
			_, err := tsa.Verify(tok, checkpoint, certs(a.CA.Cert))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if ok := a.VerifyWithOpenSSL(t, tok, checkpoint) == nil; ok != (tc.want == nil) {
				t.Errorf("openssl ts -verify accepts: %v, tsa.Verify: %v", ok, err)
			}
		})
	}
}

// OpenSSL's TSA will not sign with a certificate whose time-stamping EKU
// is not critical: it answers nothing, and the client says which TSA
// failed.
func TestOpenSSLTSARefusesNonCriticalEKU(t *testing.T) {
	a := testenv.StartTSAWith(t, testenv.TSAOptions{Cert: testenv.TSACertOptions{EKU: testenv.EKUNonCritical}})
	_, err := tsaclient.Request(context.Background(), nil, a.URL, checkpoint)
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), a.URL) {
		t.Fatalf("got %v", err)
	}
}

// A SHA-1 or MD5 imprint is refused even when the signature is good.
func TestVerifyRefusesWeakImprint(t *testing.T) {
	a := testenv.StartTSA(t)
	info, err := tsa.TSTInfoOf(stamp(t, a, checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(checkpoint)
	weak, err := tsa.WithImprint(info, asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	tok := testenv.SignTSTInfo(t, weak, a.Signer)
	_, err = tsa.Verify(tok, checkpoint, certs(a.CA.Cert))
	if !errors.Is(err, tsa.ErrWeakHash) || !strings.Contains(err.Error(), "SHA-1") {
		t.Fatalf("got %v, want ErrWeakHash naming SHA-1", err)
	}
}

// Flipping any one bit of a token either breaks it or leaves everything it
// attests unchanged (a flip in an unsigned part the checks do not use,
// such as a spare certificate). Flips in the TSTInfo and in the signature
// always break it.
func TestVerifyBitFlips(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	trusted := certs(a.CA.Cert)
	want, err := tsa.Verify(tok, checkpoint, trusted)
	if err != nil {
		t.Fatal(err)
	}
	info, err := tsa.TSTInfoOf(tok)
	if err != nil {
		t.Fatal(err)
	}
	infoAt := strings.Index(string(tok), string(info))
	mustFail := func(i int) bool {
		return i >= infoAt && i < infoAt+len(info) || i >= len(tok)-64 // the TSTInfo; the signature value ends the token
	}
	for i := range tok {
		for _, bit := range []byte{0x01, 0x80} {
			flipped := append(tsa.Token(nil), tok...)
			flipped[i] ^= bit
			got, err := tsa.Verify(flipped, checkpoint, trusted)
			if err != nil {
				if !errors.Is(err, tsa.ErrMalformed) && !errors.Is(err, tsa.ErrBadSignature) &&
					!errors.Is(err, tsa.ErrUntrustedSigner) && !errors.Is(err, tsa.ErrWeakHash) &&
					!errors.Is(err, tsa.ErrNotTimeStamping) && !errors.Is(err, tsa.ErrWrongMessage) {
					t.Errorf("byte %d: error of no class: %v", i, err)
				}
				continue
			}
			if mustFail(i) {
				t.Errorf("byte %d ^ %#x verifies", i, bit)
			}
			if !got.Time.Equal(want.Time) || got.SerialNumber.Cmp(want.SerialNumber) != 0 || got.Subject != want.Subject ||
				!got.Policy.Equal(want.Policy) || got.Accuracy != want.Accuracy || !got.Signer.Equal(want.Signer) {
				t.Errorf("byte %d ^ %#x verifies with another attestation: %+v", i, bit, got)
			}
		}
	}
	// A flip inside the TSTInfo is a bad signature, not a malformed token,
	// when the TSTInfo stays well-formed: the serial number's last byte.
	flipped := append(tsa.Token(nil), tok...)
	flipped[infoAt+len(info)-1] ^= 0x01
	if _, err := tsa.Verify(flipped, checkpoint, trusted); !errors.Is(err, tsa.ErrBadSignature) && !errors.Is(err, tsa.ErrMalformed) {
		t.Errorf("got %v", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	trusted := certs(a.CA.Cert)
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a token"),
		"truncated": tok[:len(tok)-1],
		"trailing":  append(append([]byte(nil), tok...), 0),
		"too large": append(append([]byte(nil), tok...), make([]byte, tsa.MaxTokenSize)...),
	} {
		if _, err := tsa.Verify(bad, checkpoint, trusted); !errors.Is(err, tsa.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

// A token issued without certificates (certReq false) verifies when the
// TSA's certificate is among the trusted ones, and says why not when only
// its CA is.
func TestVerifyTokenWithoutCertificates(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := opensslToken(t, a, checkpoint, false)
	if _, err := tsa.Verify(tok, checkpoint, certs(a.CA.Cert)); !errors.Is(err, tsa.ErrUntrustedSigner) || !strings.Contains(err.Error(), "neither in the token") {
		t.Errorf("trusting the CA alone: got %v", err)
	}
	if _, err := tsa.Verify(tok, checkpoint, certs(a.Signer.Cert)); err != nil {
		t.Errorf("trusting the TSA's certificate: %v", err)
	}
	if _, err := tsa.Verify(tok, checkpoint, certs(a.CA.Cert, a.Signer.Cert)); err != nil {
		t.Errorf("trusting both: %v", err)
	}
}

func TestParseCertificatesPEM(t *testing.T) {
	a := testenv.StartTSA(t)
	ca, err := os.ReadFile(a.CACertPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := os.ReadFile(a.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	// A chain file as people save it: a byte-order mark, CRLF line ends,
	// text between the blocks.
	chain := "\ufeff" + strings.ReplaceAll(string(leaf)+"issuer:\n"+string(ca), "\n", "\r\n")
	got, err := tsa.ParseCertificatesPEM([]byte(chain))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(a.Signer.Cert) || !got[1].Equal(a.CA.Cert) {
		t.Fatalf("got %d certificates", len(got))
	}
	key, err := os.ReadFile(a.Signer.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"empty":   "",
		"no PEM":  "hello\n",
		"key":     string(ca) + string(key),
		"garbled": strings.Replace(string(ca), "MI", "MJ", 1),
	} {
		if _, err := tsa.ParseCertificatesPEM([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// opensslToken gets a token over message from the TSA with openssl's own
// client side (openssl ts -query, and -reply -token_out to take the token
// out of the response), bypassing tsaclient's checks; withCert is the
// query's certReq.
func opensslToken(t *testing.T, a *testenv.TSA, message []byte, withCert bool) tsa.Token {
	t.Helper()
	openssl := testenv.Binary(t, "openssl")
	dir := t.TempDir()
	msg, query, reply, token := filepath.Join(dir, "msg"), filepath.Join(dir, "q.tsq"), filepath.Join(dir, "r.tsr"), filepath.Join(dir, "t.tst")
	if err := os.WriteFile(msg, message, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	args := []string{"ts", "-query", "-data", msg, "-sha256", "-out", query}
	if withCert {
		args = append(args, "-cert")
	}
	run(args...)
	body, err := os.ReadFile(query)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(reply, post(t, a.URL, body), 0o600); err != nil {
		t.Fatal(err)
	}
	run("ts", "-reply", "-in", reply, "-token_out", "-out", token)
	tok, err := os.ReadFile(token)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends a DER query to a TSA and returns its DER reply.
func post(t *testing.T, url string, query []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/timestamp-query", bytes.NewReader(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("TSA answered %s: %v: %s", resp.Status, err, body)
	}
	return body
}

// Read states a token's time and authority, checks its signature and
// imprint, and does not decide trust: a token of another CA reads, an
// altered one does not.
func TestRead(t *testing.T) {
	a := testenv.StartTSA(t)
	tok := stamp(t, a, checkpoint)
	att, err := tsa.Read(tok, checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := tsa.Verify(tok, checkpoint, certs(a.CA.Cert))
	if err != nil {
		t.Fatal(err)
	}
	if !att.Time.Equal(ver.Time) || att.SerialNumber.Cmp(ver.SerialNumber) != 0 || att.Subject != ver.Subject {
		t.Errorf("Read says %s %s %q, Verify %s %s %q", att.Time, att.SerialNumber, att.Subject, ver.Time, ver.SerialNumber, ver.Subject)
	}
	other := append([]byte(nil), checkpoint...)
	other[len("custos.test/log\n")] = '3'
	if _, err := tsa.Read(tok, other); !errors.Is(err, tsa.ErrWrongMessage) {
		t.Errorf("another message: %v, want ErrWrongMessage", err)
	}
	bad := append(tsa.Token(nil), tok...)
	i := bytes.Index(bad, []byte("Custos test TSA"))
	if i < 0 {
		t.Fatal("the token carries no certificate subject to alter")
	}
	bad[i] ^= 1
	if _, err := tsa.Read(bad, checkpoint); err == nil {
		t.Error("Read accepts a token whose certificate was altered")
	}
}
