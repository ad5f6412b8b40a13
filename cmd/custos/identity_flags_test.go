package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestIdentityFlagsFromConfigFile: the sign-in flags read from a config
// file as from the command line, repeatable ones included, and bad
// values are usage errors that name the flag.
func TestIdentityFlagsFromConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custos.conf")
	os.WriteFile(path, []byte("oidc-issuer = https://idp.example/\noidc-client-id = custos\noidc-claim = email\n"+
		"oidc-require = custodian=amr:mfa\noidc-require = investigator=acr:phr\nsession-ttl = 8h\n"), 0o600)
	fs := newFlags("server")
	var f identityFlags
	f.register(fs)
	if err := loadConfig(fs, path); err != nil {
		t.Fatal(err)
	}
	if err := f.check(false); err != nil {
		t.Fatal(err)
	}
	var cfg vault.Config
	f.apply(&cfg)
	want := map[string]vault.MFARequirement{vault.RoleCustodian: {AMR: "mfa"}, vault.RoleInvestigator: {ACR: "phr"}}
	if cfg.OIDCClaim != "email" || cfg.SessionTTL.Hours() != 8 || len(cfg.RequireMFA) != 2 ||
		cfg.RequireMFA[vault.RoleCustodian] != want[vault.RoleCustodian] || cfg.RequireMFA[vault.RoleInvestigator] != want[vault.RoleInvestigator] {
		t.Fatalf("config: claim %q ttl %s mfa %v", cfg.OIDCClaim, cfg.SessionTTL, cfg.RequireMFA)
	}
	if !cfg.NoLocalAccounts {
		t.Fatal("local accounts stayed on with an identity provider and --local-accounts auto")
	}

	for _, bad := range [][]string{
		{"--oidc-issuer", "https://idp.example/"},
		{"--oidc-claim", "name", "--oidc-issuer", "i", "--oidc-client-id", "c"},
		{"--oidc-require", "custodian=mfa", "--oidc-issuer", "i", "--oidc-client-id", "c"},
		{"--oidc-require", "judge=amr:mfa", "--oidc-issuer", "i", "--oidc-client-id", "c"},
		{"--oidc-require", "custodian=amr:mfa"},
		{"--client-crl", "x.crl"},
		{"--local-accounts", "maybe"},
		{"--session-ttl", "-1h"},
	} {
		fs := newFlags("server")
		var f identityFlags
		f.register(fs)
		if _, err := parse(fs, bad); err != nil {
			t.Fatalf("%v: %v", bad, err)
		}
		err := f.check(false)
		if err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// A config-file key left without its value is refused, naming the line,
// as an empty value is on the command line; a flag given on the command
// line still wins over the file's line. A key the build does not know
// is named.
func TestConfigKeyWithoutValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custos.conf")
	os.WriteFile(path, []byte("# the identity provider\noidc-issuer = https://idp.example/\ntls-cert =\n"), 0o600)
	fs, _ := newServerFlags()
	err := loadConfig(fs, path)
	if err == nil || !strings.Contains(err.Error(), "line 3: tls-cert has no value") {
		t.Fatalf("an empty tls-cert line: %v", err)
	}
	fs, sc := newServerFlags()
	if _, err := parse(fs, []string{"--tls-cert", "server.pem"}); err != nil {
		t.Fatal(err)
	}
	if err := loadConfig(fs, path); err != nil || *sc.tlsCert != "server.pem" {
		t.Fatalf("the command line's --tls-cert beside the file's empty line: %v, %q", err, *sc.tlsCert)
	}
	// A key this build does not know (an upgrade's removed flag, a
	// mistake) is named, and a line with no "=" said for what it is.
	for body, want := range map[string]string{
		"listen = 127.0.0.1:8443\nwitness-policy-file = /etc/custos/w.txt\n": `line 2: "witness-policy-file" is not a flag of server (--help lists them)`,
		"listen 127.0.0.1:8443\n":           "line 1: expected `flag = value` with a known flag",
		"config = /etc/custos/other.conf\n": `line 1: "config" is not a flag of server`,
	} {
		os.WriteFile(path, []byte(body), 0o600)
		fs, _ := newServerFlags()
		if err := loadConfig(fs, path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// TestSignInRecordsTheCAs: what server.started records of --client-ca
// is the SHA-256 of each CA certificate's DER the loaded authority
// trusts, in the file's order, with what names a person: the file
// rewritten after the load (another CA put in) does not change the
// record, which names what is in force; a file of no certificate is
// refused before anything is recorded.
func TestSignInRecordsTheCAs(t *testing.T) {
	dir := t.TempDir()
	ca := func(i int) ([]byte, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: fmt.Sprintf("hotline CA %d", i)},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(der)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), hex.EncodeToString(sum[:])
	}
	var pemFile []byte
	var want []string
	for i := range 2 {
		p, sum := ca(i)
		pemFile = append(pemFile, p...)
		want = append(want, sum)
	}
	file := filepath.Join(dir, "ca.pem")
	os.WriteFile(file, pemFile, 0o600)
	f := identityFlags{clientCA: file, clientCertName: "email"}
	var opts api.Options
	if err := f.apiOptions(context.Background(), &opts, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	other, _ := ca(3)
	os.WriteFile(file, other, 0o600) // after the load: not what is in force
	f.oidcIssuer, f.oidcClientID = "https://idp.example/", "custos"
	got, err := f.signIn(context.Background())
	if err != nil || !slices.Equal(got.ClientCASHA256, want) || got.ClientCertName != "email" || got.OIDCIssuer != "https://idp.example/" || got.OIDCClientID != "custos" {
		t.Fatalf("signIn: %+v, %v; want CAs %v", got, err, want)
	}
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("not a certificate\n"), 0o600)
	g := identityFlags{clientCA: empty}
	if err := g.apiOptions(context.Background(), &opts, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "no PEM CERTIFICATE block") {
		t.Fatalf("a CA file of no certificate: %v", err)
	}
	if _, err := g.signIn(context.Background()); err == nil {
		t.Fatal("a CA that was not loaded is recorded")
	}
}
