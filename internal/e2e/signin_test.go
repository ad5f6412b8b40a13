package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// loginAsync starts `custos login` as a user with their own config folder
// and returns its output as it comes, and a wait for its end.
func (s *server) loginAsync(config string, args ...string) (*logBuffer, func() result) {
	s.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "custos"), append([]string{"login"}, args...)...)
	cmd.Env = append(os.Environ(), "CUSTOS_SERVER="+s.url, "CUSTOS_CONFIG_DIR="+config, "CUSTOS_TOKEN=")
	var stdout strings.Builder
	cmd.Stdout = &stdout
	pr, pw, _ := os.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	pw.Close()
	out := new(logBuffer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			out.add(sc.Text())
		}
	}()
	s.t.Cleanup(func() { cmd.Process.Kill() })
	return out, func() result {
		err := cmd.Wait()
		<-done
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{stdout.String(), out.String(), code}
	}
}

var (
	userCode = regexp.MustCompile(`the code ([A-Za-z0-9-]+)\.`)
	authURL  = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/auth\?\S+)`)
)

// TestOIDCSignIn: people sign in through a real OpenID provider with the
// device grant and with the loopback redirect; a role that requires MFA
// refuses a sign-in without it (recorded); every act names the issuer and
// subject.
func TestOIDCSignIn(t *testing.T) {
	p := testenv.StartOIDC(t)
	s := newServer(t, "--oidc-issuer", p.Issuer, "--oidc-client-id", p.ClientID, "--local-accounts", "true",
		"--oidc-require", "investigator=amr:mfa")
	work := t.TempDir()
	s.enrolByTwo(work, "alice", "investigator", "--oidc", p.MFAUser.Subject)
	s.enrolByTwo(work, "bob", "investigator", "--oidc", p.User.Subject)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The device grant: the person reads a URL and a code, approves at
	// the provider on another device, and the CLI finishes by itself.
	alice := t.TempDir()
	out, wait := s.loginAsync(alice, "--json")
	if !out.waitFor(userCode) {
		t.Fatalf("login printed no user code: %s", out)
	}
	code := userCode.FindStringSubmatch(out.String())[1]
	if err := p.ApproveDevice(ctx, code, p.MFAUser.Name, p.MFAUser.Password); err != nil {
		t.Fatal(err)
	}
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, `"name":"alice"`) || !strings.Contains(r.stdout, `"auth":"oidc"`) {
		t.Fatalf("device login: %d %s %s", r.code, r.stdout, r.stderr)
	}
	who := s.asUser(alice, work, "whoami", "--json").json(t)
	if who["issuer"] != p.Issuer || who["subject"] != p.MFAUser.Subject || !strings.Contains(strings.Join(anyStrings(who["amr"]), ","), "mfa") {
		t.Fatalf("whoami after an OIDC sign-in: %v", who)
	}
	if r := s.asUser(alice, work, "case", "open", "O-1", "--title", "signed in through the provider"); r.code != 0 {
		t.Fatalf("case open: %s", r.stderr)
	}
	// Once the vault session is gone (here: forgotten), the CLI renews
	// it with a new ID token got with the refresh token: the vault takes
	// each ID token once, and the one kept opened the first session.
	forgetSessions(t, alice)
	if r := s.asUser(alice, work, "whoami"); r.code != 0 {
		t.Fatalf("whoami with the vault session forgotten: %d %s", r.code, r.stderr)
	}
	tokens := map[string]bool{}
	for _, ev := range logEvents(t, s) {
		var d struct {
			IDToken string `json:"id_token"`
		}
		if ev.Type == "session.opened" && ev.Actor.Person == "alice" && json.Unmarshal(ev.Data, &d) == nil && d.IDToken != "" {
			tokens[d.IDToken] = true
		}
	}
	if len(tokens) != 2 {
		t.Fatalf("alice's two sign-ins recorded %d distinct ID tokens", len(tokens))
	}

	// The loopback redirect with PKCE.
	alice2 := t.TempDir()
	out, wait = s.loginAsync(alice2, "--browser", "--json")
	if !out.waitFor(authURL) {
		t.Fatalf("login printed no authorization URL: %q", out)
	}
	if err := p.CompleteAuthorization(ctx, authURL.FindStringSubmatch(out.String())[1], p.MFAUser.Name, p.MFAUser.Password); err != nil {
		t.Fatal(err)
	}
	if r := wait(); r.code != 0 || !strings.Contains(r.stdout, `"auth":"oidc"`) {
		t.Fatalf("loopback login: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// A role that requires MFA refuses a password-only sign-in.
	bob := t.TempDir()
	out, wait = s.loginAsync(bob)
	if !out.waitFor(userCode) {
		t.Fatalf("login printed no user code: %s", out)
	}
	if err := p.ApproveDevice(ctx, userCode.FindStringSubmatch(out.String())[1], p.User.Name, p.User.Password); err != nil {
		t.Fatal(err)
	}
	if r := wait(); r.code == 0 || !strings.Contains(r.stderr, "multi-factor") {
		t.Fatalf("a sign-in without MFA was not refused: %d %s", r.code, r.stderr)
	}

	s.ok("investigator", work, "whoami")
	if r := s.asUser(alice, work, "logout"); r.code != 0 {
		t.Fatalf("logout: %s", r.stderr)
	}
	if r := s.asUser(alice, work, "whoami"); r.code == 0 || !strings.Contains(r.stderr, "not signed in") {
		t.Fatalf("whoami after logout: %d %s", r.code, r.stderr)
	}

	var opened, refused, ended bool
	for _, ev := range logEvents(t, s) {
		switch {
		case ev.Type == "case.opened" && ev.Case == "O-1":
			opened = ev.Actor.Auth == "oidc" && ev.Actor.Issuer == p.Issuer && ev.Actor.Subject == p.MFAUser.Subject && ev.Actor.Session != ""
		case ev.Type == "access.refused" && strings.Contains(string(ev.Data), "multi-factor"):
			refused = ev.Actor.Auth == "none"
		case ev.Type == "session.ended" && ev.Actor.Person == "alice":
			ended = true
		}
	}
	if !opened || !refused || !ended {
		t.Fatalf("custody log: opened with the OIDC credential %v, MFA refusal %v, sign-out %v", opened, refused, ended)
	}
}

// forgetSessions blanks the vault sessions the CLI keeps in config, as
// if each had ended: the next command signs in again.
func forgetSessions(t *testing.T, config string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(config, "sessions", "*.json"))
	if len(files) == 0 {
		t.Fatalf("no stored login in %s", config)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var l map[string]any
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		delete(l, "session_token")
		b, _ = json.Marshal(l)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// pki makes the certificates of a client-certificate test.
type pki struct {
	t      *testing.T
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
}

func newPKI(t *testing.T) *pki {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Hotline Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{t: t, dir: t.TempDir(), ca: ca, caKey: key, serial: 100}
	p.write("ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(name, typ string, der []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// issue makes a certificate and key; server certificates name 127.0.0.1.
func (p *pki) issue(name string, server bool, notAfter time.Time) (cert, key string, serial *big.Int) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	file := fmt.Sprintf("%s-%d", name, p.serial)
	return p.write(file+".pem", "CERTIFICATE", der), p.write(file+".key", "EC PRIVATE KEY", kb), tmpl.SerialNumber
}

// crl writes the CA's CRL revoking serials, with the given number.
func (p *pki) crl(number int64, serials ...*big.Int) string {
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number),
		ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour), RevokedCertificateEntries: entries}, p.ca, p.caKey)
	if err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.dir, "ca.crl")
	tmp := path + ".new"
	os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o600)
	if err := os.Rename(tmp, path); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// TestClientCertificateSignIn: a person's certificate of the
// organisation's CA signs every request in, and each act records its
// fingerprint; an expired certificate fails the handshake; a revocation
// added to the CRL file takes effect without a restart.
func TestClientCertificateSignIn(t *testing.T) {
	p := newPKI(t)
	srvCert, srvKey, _ := p.issue("custos-server", true, time.Now().Add(24*time.Hour))
	cardCert, cardKey, cardSerial := p.issue("investigator", false, time.Now().Add(24*time.Hour))
	oldCert, oldKey, _ := p.issue("investigator", false, time.Now().Add(-time.Hour))
	audCert, audKey, _ := p.issue("auditor", false, time.Now().Add(24*time.Hour))
	crl := p.crl(1)
	s := newServer(t, "--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", filepath.Join(p.dir, "ca.pem"),
		"--client-crl", crl, "--local-accounts", "true")
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("server at %s", s.url)
	}
	work := t.TempDir()
	card := func(cert, key string, args ...string) result {
		return runWith(work, "", []string{"CUSTOS_SERVER=" + s.url, "CUSTOS_TOKEN=", "CUSTOS_CONFIG_DIR=" + t.TempDir(),
			"CUSTOS_CACERT=" + filepath.Join(p.dir, "ca.pem"), "CUSTOS_CLIENT_CERT=" + cert, "CUSTOS_CLIENT_KEY=" + key}, args...)
	}
	who := card(cardCert, cardKey, "whoami", "--json")
	if who.code != 0 || !strings.Contains(who.stdout, `"auth":"certificate"`) || !strings.Contains(who.stdout, `"name":"investigator"`) {
		t.Fatalf("whoami with a smart card: %d %s %s", who.code, who.stdout, who.stderr)
	}
	if r := card(cardCert, cardKey, "case", "open", "PIV-1", "--title", "opened with a card"); r.code != 0 {
		t.Fatalf("case open with a card: %s", r.stderr)
	}
	if r := card(oldCert, oldKey, "whoami"); r.code == 0 {
		t.Fatal("an expired certificate signed in")
	}
	p.crl(2, cardSerial)
	// The CRL file is looked at once a second; on a loaded machine the
	// next look can come later.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if r := card(cardCert, cardKey, "whoami"); r.code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a revoked certificate still signs in 30 s after the CRL named it")
		}
	}
	tl := card(audCert, audKey, "audit", "log", "--case", "PIV-1", "--json")
	var log struct {
		Events []struct {
			Type  string
			Actor struct{ Auth, Certificate, Issuer string }
		}
	}
	if err := json.Unmarshal([]byte(tl.stdout), &log); err != nil || len(log.Events) == 0 {
		t.Fatalf("audit log: %v %s %s", err, tl.stdout, tl.stderr)
	}
	a := log.Events[0].Actor
	if log.Events[0].Type != "case.opened" || a.Auth != "certificate" || len(a.Certificate) != 64 || !strings.Contains(a.Issuer, "Hotline Test CA") {
		t.Fatalf("the act names %+v", log.Events[0])
	}
}

// TestRetiredCAVoidsTheRequestsOfItsCertificates: a custodian's
// certificate asks for a two-person decision and for a case's
// destruction; two custodians retire the CA that issued it (a CA found
// issuing certificates in custodians' names); what it asked can no
// longer be approved, and the certificate signs no one in.
func TestRetiredCAVoidsTheRequestsOfItsCertificates(t *testing.T) {
	p := newPKI(t)
	srvCert, srvKey, _ := p.issue("custos-server", true, time.Now().Add(24*time.Hour))
	cardCert, cardKey, _ := p.issue("custodian", false, time.Now().Add(24*time.Hour))
	s := newServer(t, "--tls-cert", srvCert, "--tls-key", srvKey, "--client-ca", filepath.Join(p.dir, "ca.pem"), "--local-accounts", "true")
	s.runEnv = []string{"CUSTOS_CACERT=" + filepath.Join(p.dir, "ca.pem")}
	work := t.TempDir()
	card := func(args ...string) result {
		return runWith(work, "", []string{"CUSTOS_SERVER=" + s.url, "CUSTOS_TOKEN=", "CUSTOS_CONFIG_DIR=" + t.TempDir(),
			"CUSTOS_CACERT=" + filepath.Join(p.dir, "ca.pem"), "CUSTOS_CLIENT_CERT=" + cardCert, "CUSTOS_CLIENT_KEY=" + cardKey}, args...)
	}
	s.ok("investigator", work, "case", "open", "D-1", "--title", "to destroy")
	asked := card("identity-source", "accept", "ca "+strings.Repeat("1", 64), "--reason", "asked with the card", "--json")
	if asked.code != 0 {
		t.Fatalf("a request asked with the card: %s", asked.stderr)
	}
	request := asked.json(t)["request"].(string)
	destroy := card("case", "destroy", "D-1", "--order", "order 1/2026", "--reason", "asked with the card", "--json")
	if destroy.code != 0 {
		t.Fatalf("a destruction asked with the card: %s", destroy.stderr)
	}
	destruction := destroy.json(t)["request"].(string)

	pemBytes, err := os.ReadFile(filepath.Join(p.dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	sum := sha256.Sum256(block.Bytes)
	retire := s.ok("custodian2", work, "identity-source", "retire", "ca "+hex.EncodeToString(sum[:]), "--reason", "the CA issued cards in custodians' names", "--json").json(t)
	s.ok("custodian", work, "approve", retire["request"].(string))

	s.refused("custodian2", work, "void", "approve", request)
	s.refused("custodian2", work, "retired", "case", "approve-destruction", "D-1", destruction)
	if r := card("whoami"); r.code == 0 {
		t.Fatal("a certificate of the retired CA still signs in")
	}
}
