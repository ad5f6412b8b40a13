package clientcert

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is a root CA, an intermediate CA that issues people's smart
// cards, and anna's card; the CA file holds both CAs (the intermediate so
// that its CRLs verify) and the CRL file one CRL of each.
type fixture struct {
	clock       *clock
	root, inter *testCA
	anna        person
	dir         string
	caFile      string
	crlFile     string
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: t0}, dir: t.TempDir()}
	f.root = newRoot(t, "Hotline Root CA", t0)
	f.inter = f.root.intermediate(t, "Hotline Smart Card CA", t0)
	f.anna = f.inter.issue(t, t0, nil)
	f.caFile = filepath.Join(f.dir, "ca.pem")
	f.crlFile = filepath.Join(f.dir, "crl.pem")
	writeFile(t, f.caFile, certsPEM(f.root.cert, f.inter.cert))
	f.writeCRLs(t, 1, 1)
	return f
}

// writeCRLs writes the root's CRL number rootN and the intermediate's
// number interN, issued now, revoking revoked (each by its issuer).
func (f *fixture) writeCRLs(t *testing.T, rootN, interN int64, revoked ...*x509.Certificate) {
	t.Helper()
	var byRoot, byInter []*x509.Certificate
	for _, c := range revoked {
		if c.CheckSignatureFrom(f.root.cert) == nil {
			byRoot = append(byRoot, c)
		} else {
			byInter = append(byInter, c)
		}
	}
	now := f.clock.Now()
	writeFile(t, f.crlFile, crlsPEM(f.root.crl(t, rootN, now, byRoot...), f.inter.crl(t, interN, now, byInter...)))
}

func (f *fixture) config(nameFrom string) Config {
	return Config{CAFile: f.caFile, CRLFile: f.crlFile, NameFrom: nameFrom, Now: f.clock.Now}
}

func (f *fixture) authority(t *testing.T, nameFrom string) *Authority {
	t.Helper()
	a, err := New(f.config(nameFrom))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// state is the connection of a client presenting p's card with the
// intermediate.
func (f *fixture) state(t *testing.T, p person) *tls.ConnectionState {
	return connState(t, []*x509.Certificate{f.root.cert}, p.cert, f.inter.cert)
}

func mustIdentify(t *testing.T, a *Authority, cs *tls.ConnectionState) Identity {
	t.Helper()
	id, err := a.Identify(cs)
	if err != nil {
		t.Fatalf("Identify: %v", err)
	}
	return id
}

func mustRefuse(t *testing.T, a *Authority, cs *tls.ConnectionState, want error, reason string) {
	t.Helper()
	id, err := a.Identify(cs)
	if !errors.Is(err, ErrRefused) || !errors.Is(err, want) {
		t.Fatalf("Identify: got %v, want %v", err, want)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("Identify: %q does not say %q", err, reason)
	}
	if !reflect.DeepEqual(id, Identity{}) {
		t.Fatalf("a refusal returned an identity: %+v", id)
	}
}

func TestIdentifyNameFrom(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ from, want string }{
		{"", "anna.berg"},
		{NameCN, "anna.berg"},
		{NameEmail, "anna.berg@hotline.example"},
		{NameDNS, "anna.hotline.example"},
		{NameURI, "https://id.hotline.example/people/anna.berg"},
		{NameUPN, "anna.berg@corp.example"},
	} {
		a := f.authority(t, c.from)
		id := mustIdentify(t, a, f.state(t, f.anna))
		// The configured CAs the card's chain runs through: an
		// identity source the vault may or may not have accepted.
		if len(id.CASHA256) == 0 || !slices.ContainsFunc(id.CASHA256, func(h string) bool { return slices.Contains(a.CASHA256(), h) }) {
			t.Errorf("NameFrom %q: the chain's CAs %q are none of the configured %q", c.from, id.CASHA256, a.CASHA256())
		}
		id.CASHA256 = nil
		sum := sha256.Sum256(f.anna.cert.Raw)
		want := Identity{
			Name:        c.want,
			Fingerprint: hex.EncodeToString(sum[:]),
			Subject:     "CN=anna.berg,O=Hotline",
			Issuer:      "CN=Hotline Smart Card CA,O=Hotline",
			Serial:      f.anna.cert.SerialNumber.Text(16),
			NotAfter:    t0.Add(24 * time.Hour),
		}
		if !reflect.DeepEqual(id, want) {
			t.Errorf("NameFrom %q:\n got %+v\nwant %+v", c.from, id, want)
		}
	}
	// A card issued by the root itself, whose CRL covers it.
	direct := f.root.issue(t, t0, nil)
	id := mustIdentify(t, f.authority(t, NameCN), connState(t, []*x509.Certificate{f.root.cert}, direct.cert))
	if id.Name != "anna.berg" || id.Issuer != "CN=Hotline Root CA,O=Hotline" {
		t.Fatalf("a card of the root: %+v", id)
	}
	if _, err := New(Config{CAFile: f.caFile, NameFrom: "sid"}); err == nil {
		t.Fatal("an unknown NameFrom was accepted")
	}
}

func TestNoCertificate(t *testing.T) {
	a := newFixture(t).authority(t, "")
	for _, cs := range []*tls.ConnectionState{nil, {}} {
		if id, err := a.Identify(cs); err != ErrNoCertificate || !reflect.DeepEqual(id, Identity{}) {
			t.Fatalf("no certificate: got %+v, %v", id, err)
		}
	}
}

func TestIdentifyRefuses(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t, "")
	roots := []*x509.Certificate{f.root.cert}
	other := newRoot(t, "Another Root CA", t0)
	impostor := f.inter.impostor(t, t0)

	cases := []struct {
		name   string
		cs     func(t *testing.T) *tls.ConnectionState
		want   error
		reason string
	}{
		{"another CA", func(t *testing.T) *tls.ConnectionState {
			p := other.issue(t, t0, nil)
			return connState(t, []*x509.Certificate{other.cert}, p.cert)
		}, ErrRefused, "does not verify against the client CAs"},
		{"another key in the intermediate's name", func(t *testing.T) *tls.ConnectionState {
			p := impostor.issue(t, t0, nil)
			return connState(t, []*x509.Certificate{impostor.cert}, p.cert)
		}, ErrRefused, "does not verify against the client CAs"},
		{"expired", func(t *testing.T) *tls.ConnectionState {
			p := f.inter.issue(t, t0, func(c *x509.Certificate) { c.NotBefore, c.NotAfter = t0.Add(-48*time.Hour), t0.Add(-time.Minute) })
			return connState(t, roots, p.cert, f.inter.cert)
		}, ErrRefused, "expired at"},
		{"not yet valid", func(t *testing.T) *tls.ConnectionState {
			p := f.inter.issue(t, t0, func(c *x509.Certificate) { c.NotBefore = t0.Add(time.Minute) })
			return connState(t, roots, p.cert, f.inter.cert)
		}, ErrRefused, "not valid before"},
		{"no extended key usage", func(t *testing.T) *tls.ConnectionState {
			p := f.inter.issue(t, t0, func(c *x509.Certificate) { c.ExtKeyUsage = nil })
			return connState(t, roots, p.cert, f.inter.cert)
		}, ErrRefused, "does not name client authentication"},
		{"server authentication only", func(t *testing.T) *tls.ConnectionState {
			p := f.inter.issue(t, t0, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} })
			return connState(t, roots, p.cert, f.inter.cert)
		}, ErrRefused, "does not name client authentication"},
		{"key usage without digital signature", func(t *testing.T) *tls.ConnectionState {
			p := f.inter.issue(t, t0, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
			return connState(t, roots, p.cert, f.inter.cert)
		}, ErrRefused, "does not allow digital signatures"},
		{"a CA certificate", func(t *testing.T) *tls.ConnectionState {
			return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{f.inter.cert},
				VerifiedChains: [][]*x509.Certificate{{f.inter.cert, f.root.cert}}}
		}, ErrRefused, "is a CA certificate"},
		{"not verified by TLS", func(t *testing.T) *tls.ConnectionState {
			return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{f.anna.cert, f.inter.cert}}
		}, ErrRefused, "did not verify"},
		{"verified chain of another certificate", func(t *testing.T) *tls.ConnectionState {
			cs := f.state(t, f.anna)
			other := f.inter.issue(t, t0, nil)
			cs.PeerCertificates[0] = other.cert
			return cs
		}, ErrRefused, "does not start with the presented certificate"},
		{"revoked", func(t *testing.T) *tls.ConnectionState {
			p := f.inter.issue(t, t0, nil)
			f.writeCRLs(t, 2, 2, p.cert)
			if err := a.Reload(); err != nil {
				t.Fatal(err)
			}
			return f.state(t, p)
		}, ErrRevoked, "is on CRL number 2 of CN=Hotline Smart Card CA"},
		{"intermediate revoked by the root", func(t *testing.T) *tls.ConnectionState {
			f.writeCRLs(t, 3, 3, f.inter.cert)
			if err := a.Reload(); err != nil {
				t.Fatal(err)
			}
			return f.state(t, f.anna)
		}, ErrRevoked, "is on CRL number 3 of CN=Hotline Root CA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { mustRefuse(t, a, c.cs(t), c.want, c.reason) })
	}
}

func TestIdentifyRefusesNames(t *testing.T) {
	f := newFixture(t)
	bare := f.inter.issue(t, t0, func(c *x509.Certificate) {
		c.ExtraExtensions = nil
		c.Subject = pkix.Name{Organization: []string{"Hotline"}}
	})
	twoCN := f.inter.issue(t, t0, func(c *x509.Certificate) {
		c.Subject = pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidCommonName, Value: "anna.berg"}, {Type: oidCommonName, Value: "admin"}}}
	})
	control := f.inter.issue(t, t0, func(c *x509.Certificate) { c.Subject.CommonName = "anna\u202eberg" })
	badUPN := f.inter.issue(t, t0, func(c *x509.Certificate) {
		ia5, _ := asn1.MarshalWithParams("anna@corp.example", "ia5")
		v, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ia5})
		oid, _ := asn1.Marshal(oidUPN)
		c.ExtraExtensions = []pkix.Extension{{Id: oidSubjectAltName, Value: sanValue([]asn1.RawValue{
			{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(oid, v...)}})}}
	})
	for _, c := range []struct {
		from   string
		p      person
		reason string
	}{
		{NameCN, bare, "has 0 common names"},
		{NameCN, twoCN, "has 2 common names"},
		{NameCN, control, "control or format character (U+202E)"},
		{NameEmail, bare, "no email address"},
		{NameDNS, bare, "no dNSName"},
		{NameURI, bare, "no URI"},
		{NameUPN, bare, "no user principal name"},
		{NameUPN, badUPN, "not one UTF8String"},
	} {
		mustRefuse(t, f.authority(t, c.from), f.state(t, c.p), ErrRefused, c.reason)
	}
}

func TestRevocationWhileRunning(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t, "")
	cs := f.state(t, f.anna)
	mustIdentify(t, a, cs)

	f.clock.Advance(10 * time.Minute)
	f.writeCRLs(t, 2, 2, f.anna.cert)
	// The file is looked at again at most once a second.
	f.clock.Advance(time.Second)
	mustRefuse(t, a, cs, ErrRevoked, "CRL number 2")
	st := a.Status()
	if st.Err != nil || len(st.CRLs) != 2 || st.CRLs[1].Number != "2" || st.CRLs[1].Revoked != 1 ||
		st.CRLs[1].Issuer != "CN=Hotline Smart Card CA,O=Hotline" || !st.LoadedAt.Equal(t0.Add(10*time.Minute+time.Second)) {
		t.Fatalf("status: %+v", st)
	}

	// Written again in place (same inode), the file is noticed too.
	f.clock.Advance(time.Second)
	now := f.clock.Now()
	if err := os.WriteFile(f.crlFile, crlsPEM(f.root.crl(t, 3, now), f.inter.crl(t, 3, now)), 0o600); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	mustIdentify(t, a, cs)
}

func TestCRLCheckedAtMostOnceASecond(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t, "")
	cs := f.state(t, f.anna)
	mustIdentify(t, a, cs)
	f.writeCRLs(t, 2, 2, f.anna.cert)
	f.clock.Advance(999 * time.Millisecond)
	mustIdentify(t, a, cs)
	f.clock.Advance(time.Millisecond)
	mustRefuse(t, a, cs, ErrRevoked, "CRL number 2")
}

// TestBadCRLFailsClosed replaces a good CRL file with bad ones while the
// Authority runs: every certificate is refused until a good one is back.
func TestBadCRLFailsClosed(t *testing.T) {
	for _, c := range []struct {
		name   string
		write  func(t *testing.T, f *fixture)
		reason string
	}{
		{"signed by another key", func(t *testing.T, f *fixture) {
			now := f.clock.Now()
			writeFile(t, f.crlFile, crlsPEM(f.root.crl(t, 6, now), f.inter.impostor(t, t0).crl(t, 6, now)))
		}, "its signature does not verify with that CA's key"},
		{"stale", func(t *testing.T, f *fixture) {
			now := f.clock.Now()
			writeFile(t, f.crlFile, crlsPEM(f.root.crl(t, 6, now), f.inter.crlUntil(t, 6, now.Add(-2*time.Hour), now.Add(-time.Second))))
		}, "is stale: its nextUpdate"},
		{"rollback", func(t *testing.T, f *fixture) { f.writeCRLs(t, 6, 4) }, "number 4 is lower than 5, the number already in force (rollback)"},
		{"same number, other contents", func(t *testing.T, f *fixture) { f.writeCRLs(t, 5, 5, f.anna.cert) }, "number 5 is in force with other contents"},
		{"unreadable", func(t *testing.T, f *fixture) {
			writeFile(t, f.crlFile, []byte("-----BEGIN X509 CRL-----\nnot base64\n"))
		}, "PEM blocks begin"},
		{"not a CRL", func(t *testing.T, f *fixture) { writeFile(t, f.crlFile, f.root.cert.Raw) }, "CRL 1:"},
		{"empty", func(t *testing.T, f *fixture) { writeFile(t, f.crlFile, nil) }, "no CRL"},
		{"deleted", func(t *testing.T, f *fixture) {
			if err := os.Remove(f.crlFile); err != nil {
				t.Fatal(err)
			}
		}, "no such file"},
		{"an issuer's CRL dropped", func(t *testing.T, f *fixture) {
			writeFile(t, f.crlFile, crlsPEM(f.root.crl(t, 6, f.clock.Now())))
		}, ""},
		{"issued in the future", func(t *testing.T, f *fixture) {
			now := f.clock.Now()
			writeFile(t, f.crlFile, crlsPEM(f.root.crl(t, 6, now), f.inter.crl(t, 6, now.Add(MaxClockSkew+time.Minute))))
		}, "in the future"},
		{"two CRLs of one CA", func(t *testing.T, f *fixture) {
			now := f.clock.Now()
			writeFile(t, f.crlFile, crlsPEM(f.inter.crl(t, 6, now), f.inter.crl(t, 7, now)))
		}, "a second CRL of CN=Hotline Smart Card CA"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.writeCRLs(t, 5, 5)
			a := f.authority(t, "")
			cs := f.state(t, f.anna)
			mustIdentify(t, a, cs)

			f.clock.Advance(time.Minute)
			c.write(t, f)
			f.clock.Advance(time.Second)
			if c.reason == "" {
				// The set is in force, but the intermediate's cards have
				// no CRL any more.
				mustRefuse(t, a, cs, ErrRefused, "has no CRL of CN=Hotline Smart Card CA")
				return
			}
			mustRefuse(t, a, cs, ErrNoValidCRL, c.reason)
			st := a.Status()
			if !errors.Is(st.Err, ErrNoValidCRL) || !strings.Contains(st.Err.Error(), c.reason) ||
				!strings.Contains(st.Err.Error(), "client CRL file") || len(st.CRLs) != 2 || st.CRLs[1].Number != "5" {
				t.Fatalf("status: %+v", st)
			}
			if err := a.Reload(); err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("Reload: %v", err)
			}
			// Still refused on the next checks, the file unchanged.
			f.clock.Advance(time.Second)
			mustRefuse(t, a, cs, ErrNoValidCRL, c.reason)

			// A good CRL, newer than the one in force, restores sign-in.
			f.writeCRLs(t, 7, 7)
			f.clock.Advance(time.Second)
			mustIdentify(t, a, cs)
			if st := a.Status(); st.Err != nil || st.CRLs[1].Number != "7" {
				t.Fatalf("status after repair: %+v", st)
			}
		})
	}
}

func TestCRLGoesStaleWhileInForce(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t, "")
	cs := f.state(t, f.anna)
	f.clock.Advance(time.Hour - time.Second)
	mustIdentify(t, a, cs)
	f.clock.Advance(time.Second)
	mustRefuse(t, a, cs, ErrNoValidCRL, "passed its nextUpdate")
	if err := a.Status().Err; !errors.Is(err, ErrNoValidCRL) {
		t.Fatalf("status: %v", err)
	}
	// Reading the same file again does not help.
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "is stale") {
		t.Fatalf("Reload: %v", err)
	}
	f.writeCRLs(t, 2, 2)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	mustIdentify(t, a, cs)
}

func TestNewRefusesBadFiles(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	caWrite := func(name string, data []byte) string {
		p := filepath.Join(f.dir, name)
		writeFile(t, p, data)
		return p
	}
	key := newKey(t)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		ca, crl []byte
		reason  string
	}{
		{"no CA file", nil, nil, "no such file"},
		{"an empty CA file", []byte{}, nil, "no PEM CERTIFICATE block"},
		{"a person's certificate as CA", certsPEM(f.anna.cert), nil, "is not a CA certificate"},
		{"a private key in the CA file", append(certsPEM(f.root.cert), pemOf("EC PRIVATE KEY", keyDER)...), nil, `PEM block 2 is "EC PRIVATE KEY"`},
		{"a DER CA file", f.root.cert.Raw, nil, "no PEM CERTIFICATE block"},
		{"a broken PEM block", append(certsPEM(f.root.cert), "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"...), nil, "2 PEM blocks begin but 1 are well formed"},
		{"a CRL of a CA not in the file", certsPEM(f.root.cert), crlsPEM(f.inter.crl(t, 1, now)), "which is not a CA of the client CA file"},
		{"a CRL signed by another key", certsPEM(f.root.cert), crlsPEM(f.root.impostor(t, t0).crl(t, 1, now)), "does not verify with that CA's key"},
		{"a stale CRL", certsPEM(f.root.cert), crlsPEM(f.root.crlUntil(t, 1, now.Add(-time.Hour), now)), "is stale"},
		{"a CRL without a number", certsPEM(f.root.cert), crlsPEM(crlWithout(t, f.root, now, "number")), "has no CRL number"},
		{"a CRL without nextUpdate", certsPEM(f.root.cert), crlsPEM(crlWithout(t, f.root, now, "nextUpdate")), "has no nextUpdate"},
		{"a delta CRL", certsPEM(f.root.cert), crlsPEM(crlWithExt(t, f.root, now, oidDeltaCRLIndicator, true)), "is a delta CRL"},
		{"a partial CRL", certsPEM(f.root.cert), crlsPEM(crlWithExt(t, f.root, now, oidIssuingDistPoint, true)), "issuing distribution point"},
		{"an unknown critical extension", certsPEM(f.root.cert), crlsPEM(crlWithExt(t, f.root, now, asn1.ObjectIdentifier{1, 2, 3, 4}, true)), "unknown critical extension 1.2.3.4"},
		{"more CRLs than CAs", certsPEM(f.root.cert), crlsPEM(f.root.crl(t, 1, now), f.root.crl(t, 2, now)), "more CRLs than the 1 CAs"},
		{"a certificate in the CRL file", certsPEM(f.root.cert), certsPEM(f.root.cert), `PEM block 1 is "CERTIFICATE", not "X509 CRL"`},
		{"trailing bytes in a CRL", certsPEM(f.root.cert), crlsPEM(append(f.root.crl(t, 1, now), 0)), "trailing data"},
		{"garbage DER", certsPEM(f.root.cert), []byte{0x30, 0x80, 1}, "neither PEM nor DER"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{CAFile: filepath.Join(f.dir, "absent.pem"), Now: f.clock.Now}
			if c.ca != nil {
				cfg.CAFile = caWrite("ca-test.pem", c.ca)
			}
			if c.crl != nil {
				cfg.CRLFile = caWrite("crl-test", c.crl)
			}
			a, err := New(cfg)
			if err == nil {
				t.Fatal("New accepted it")
			}
			file := cfg.CAFile
			if c.crl != nil {
				file = cfg.CRLFile
			}
			if a != nil || !strings.Contains(err.Error(), c.reason) || !strings.Contains(err.Error(), file) {
				t.Fatalf("New: %v; want the file %s and %q", err, file, c.reason)
			}
		})
	}
	// DER CRLs, one after the other, are accepted as PEM ones are.
	der := append(f.root.crl(t, 1, now), f.inter.crl(t, 1, now)...)
	cfg := f.config("")
	cfg.CRLFile = caWrite("crl.der", der)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustIdentify(t, a, f.state(t, f.anna))
	// Without a CRL file nothing is revoked, and Status says so.
	cfg.CRLFile = ""
	if a, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.CRLFile != "" || st.Err != nil || a.Reload() != nil {
		t.Fatalf("status without a CRL file: %+v", st)
	}
	mustIdentify(t, a, f.state(t, f.anna))
}

// TestIssuerWithoutCRL: with a CRL file, a card whose issuer has no CRL in
// it is refused.
func TestIssuerWithoutCRL(t *testing.T) {
	f := newFixture(t)
	writeFile(t, f.caFile, certsPEM(f.root.cert))
	writeFile(t, f.crlFile, crlsPEM(f.root.crl(t, 1, t0)))
	a := f.authority(t, "")
	mustRefuse(t, a, f.state(t, f.anna), ErrRefused, "has no CRL of CN=Hotline Smart Card CA")
}

// crlWithout is a CRL of ca with the CRL number or the nextUpdate
// removed, which crypto/x509 will not create.
func crlWithout(t testing.TB, ca *testCA, now time.Time, what string) []byte {
	return reissueCRL(t, ca, ca.crl(t, 1, now), func(tbs *tbsCRL) {
		switch what {
		case "number":
			var kept []pkix.Extension
			for _, e := range tbs.Extensions {
				if !e.Id.Equal(oidCRLNumber) {
					kept = append(kept, e)
				}
			}
			tbs.Extensions = kept
		case "nextUpdate":
			tbs.NextUpdate = time.Time{}
		}
	})
}

// crlWithExt is a CRL of ca with an extra extension.
func crlWithExt(t testing.TB, ca *testCA, now time.Time, id asn1.ObjectIdentifier, critical bool) []byte {
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: id, Critical: critical, Value: []byte{0x30, 0}}}}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestConcurrentIdentifyAndReload(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t, "")
	revoked := f.inter.issue(t, t0, nil)
	good, bad := f.state(t, f.anna), f.state(t, revoked)
	f.writeCRLs(t, 2, 2, revoked.cert)
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := a.Identify(bad); !errors.Is(err, ErrRevoked) {
					t.Errorf("a revoked card: %v", err)
					return
				}
				if _, err := a.Identify(good); err != nil {
					t.Errorf("a good card: %v", err)
					return
				}
				a.Status()
			}
		}()
	}
	for n := int64(3); n < 40; n++ {
		f.writeCRLs(t, n, n, revoked.cert)
		f.clock.Advance(time.Second)
		if n%3 == 0 {
			if err := a.Reload(); err != nil {
				t.Error(err)
			}
		}
	}
	close(stop)
	wg.Wait()
}

func TestTLSConfig(t *testing.T) {
	f := newFixture(t)
	a := f.authority(t, "")
	base := &tls.Config{MinVersion: tls.VersionTLS10, ServerName: "vault.example", ClientAuth: tls.NoClientCert}
	c := a.TLSConfig(base)
	if c.ClientAuth != tls.VerifyClientCertIfGiven || c.ClientCAs != a.pool || c.MinVersion != tls.VersionTLS12 || c.ServerName != "vault.example" {
		t.Fatalf("config: %+v", c)
	}
	if base.ClientAuth != tls.NoClientCert || base.MinVersion != tls.VersionTLS10 || base.ClientCAs != nil {
		t.Fatal("the base config was changed")
	}
	if c := a.TLSConfig(&tls.Config{MinVersion: tls.VersionTLS13}); c.MinVersion != tls.VersionTLS13 {
		t.Fatal("MinVersion was lowered")
	}
	if c := a.TLSConfig(nil); c.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Fatal("a nil base")
	}
	// A base that requires a certificate keeps requiring one, verified.
	for _, auth := range []tls.ClientAuthType{tls.RequireAnyClientCert, tls.RequireAndVerifyClientCert} {
		if c := a.TLSConfig(&tls.Config{ClientAuth: auth}); c.ClientAuth != tls.RequireAndVerifyClientCert {
			t.Fatalf("%v became %v", auth, c.ClientAuth)
		}
	}
	// Per-client configs get the same settings.
	c = a.TLSConfig(&tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return &tls.Config{ClientAuth: tls.RequestClientCert}, nil
	}})
	cc, err := c.GetConfigForClient(&tls.ClientHelloInfo{})
	if err != nil || cc.ClientAuth != tls.VerifyClientCertIfGiven || cc.ClientCAs != a.pool || cc.MinVersion != tls.VersionTLS12 {
		t.Fatalf("per-client config: %+v, %v", cc, err)
	}
}
