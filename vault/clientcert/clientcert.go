// Package clientcert authenticates people by TLS client certificates that
// their organisation's certificate authority issued: smart cards and PIV
// cards, whose private key never leaves the card.
//
// An Authority holds the trusted CA certificates (Config.CAFile) and,
// optionally, the CAs' certificate revocation lists (Config.CRLFile).
// Its TLSConfig asks clients for a certificate without requiring one, so
// that clients with bearer tokens still connect; Identify then maps the
// certificate a connection verified to a person's name. docs/identity.md
// describes the server's flags and how a name is matched to a person.
//
// Neither the people who run the vault nor those who run the CA are
// trusted to be careful, and the package fails closed:
//
//   - Identify verifies the certificate again, against the Authority's own
//     CAs at Config.Now, whatever the TLS layer verified;
//   - the leaf must name client authentication (or any usage) in an
//     extended key usage extension: a certificate without that extension,
//     which crypto/x509 accepts for any purpose, is refused, and so is a
//     CA certificate presented as a leaf;
//   - with a CRL file, every certificate of a chain except its
//     self-signed root is checked against the CRL of its issuer, and a
//     certificate whose issuer has no CRL in the file is refused;
//   - while no valid, current set of CRLs is in force, every certificate
//     is refused with ErrNoValidCRL and Status says why. That is the case
//     when the file was replaced by one that cannot be read, holds a CRL
//     not signed by a CA of the CA file, a CRL older (by CRL number) than
//     the one in force, or a CRL past its nextUpdate; and when a CRL in
//     force passes its nextUpdate. A revoked card is never accepted
//     because a CRL could not be refreshed.
//
// Revocation follows RFC 5280 (sections 5 and 6.3) for complete, direct
// CRLs only: delta CRLs, indirect CRLs and CRLs scoped by an issuing
// distribution point are refused when loaded.
package clientcert

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
)

// Values of Config.NameFrom: where a person's name is read from the leaf
// certificate.
const (
	// NameCN is the subject's common name (a subject with more than one
	// is refused). The default.
	NameCN = "cn"
	// NameEmail is the first rfc822Name of the subject alternative names.
	NameEmail = "email"
	// NameDNS is the first dNSName of the subject alternative names.
	NameDNS = "dns"
	// NameURI is the first uniformResourceIdentifier of the subject
	// alternative names.
	NameURI = "uri"
	// NameUPN is the first Microsoft user principal name (otherName
	// 1.3.6.1.4.1.311.20.2.3, a UTF8String) of the subject alternative
	// names, as on Active Directory smart-card logon certificates.
	NameUPN = "upn"
)

// MaxNameLen bounds a mapped name, in bytes.
const MaxNameLen = 256

// MaxFileSize bounds the CA file and the CRL file, in bytes.
const MaxFileSize = 64 << 20

var (
	// ErrNoCertificate is returned by Identify when the client presented
	// no certificate; the caller then tries another credential (a bearer
	// token).
	ErrNoCertificate = errors.New("no client certificate")
	// ErrRefused is wrapped by every refusal of a presented certificate,
	// with the reason and the certificate's SHA-256 fingerprint.
	ErrRefused = errors.New("client certificate refused")
	// ErrRevoked is wrapped by the refusal of a certificate listed on the
	// CRL of its issuer, or with a revoked CA in its chain. It wraps
	// ErrRefused.
	ErrRevoked = fmt.Errorf("%w: revoked", ErrRefused)
	// ErrNoValidCRL is wrapped by the refusal of every certificate while
	// no valid, current set of CRLs is in force (see Status). It wraps
	// ErrRefused. It is the server's fault, not the client's: the
	// operator must publish a current CRL.
	ErrNoValidCRL = fmt.Errorf("%w: no valid, current CRL is in force", ErrRefused)
)

// Config configures an Authority.
type Config struct {
	// CAFile is a PEM file of one or more CA certificates ("CERTIFICATE"
	// blocks), each version 3 with basic constraints cA true and, if it
	// has a key usage, certificate signing. Required. Each is a trust
	// anchor: an intermediate CA listed here is trusted without its root.
	// The CA of every CRL must be listed, intermediates included.
	CAFile string
	// CRLFile is a file of one or more CRLs, PEM ("X509 CRL" blocks) or
	// DER (one after the other), at most one per CA, each signed by a CA
	// of CAFile. Empty: revocation is not checked.
	CRLFile string
	// NameFrom is NameCN (the default when empty), NameEmail, NameDNS,
	// NameURI or NameUPN.
	NameFrom string
	// Now is the clock for validity, CRL freshness and the CRL file's
	// change check (default time.Now).
	Now func() time.Time
}

// Identity is a person identified by a verified client certificate. Every
// field but Name describes the leaf certificate.
type Identity struct {
	// Name is the person's name, read per Config.NameFrom: non-empty,
	// valid UTF-8, at most MaxNameLen bytes, without control or format
	// characters, and otherwise exactly as the certificate has it.
	Name string
	// Fingerprint is the SHA-256 of the certificate's DER, 64 lowercase
	// hex digits.
	Fingerprint string
	// CASHA256 are the SHA-256 (hex) of each configured CA certificate
	// (CASHA256) a verified chain of the certificate runs through, sorted.
	CASHA256 []string
	// Subject and Issuer are the distinguished names as RFC 4514 strings
	// (pkix.Name.String).
	Subject, Issuer string
	// Serial is the serial number in lowercase hex without leading zeros.
	Serial string
	// NotAfter is the end of the certificate's validity.
	NotAfter time.Time
}

// Authority authenticates client certificates of the CAs it was given.
// Its methods are safe for concurrent use.
type Authority struct {
	crlFile  string
	nameFrom string
	now      func() time.Time
	cas      []*x509.Certificate
	pool     *x509.CertPool
	// sums are the SHA-256 (hex) of each CA certificate, by its DER:
	// taken once, read at every identification (Identify).
	sums map[string]string

	mu        sync.Mutex
	set       *crlSet              // the CRLs last accepted; nil before
	high      map[string]highWater // per issuer, the newest CRL ever in force
	loadErr   error                // why the last load was refused; nil after a good one
	stamp     os.FileInfo          // the CRL file as last accepted; nil: read at next check
	checkedAt time.Time            // the last look at the file
}

// New reads the CA file and, if configured, the CRL file. It fails, with
// an error naming the file and what is wrong with it, if the CA file
// holds anything but CA certificates, or if a CRL is not acceptable (see
// Reload).
func New(cfg Config) (*Authority, error) {
	switch cfg.NameFrom {
	case "":
		cfg.NameFrom = NameCN
	case NameCN, NameEmail, NameDNS, NameURI, NameUPN:
	default:
		return nil, fmt.Errorf("client certificate name source %q: use cn, email, dns, uri or upn", cfg.NameFrom)
	}
	if cfg.CAFile == "" {
		return nil, errors.New("no client CA file")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	_, data, err := readFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("client CA file: %w", err)
	}
	cas, err := parseCAs(data)
	if err != nil {
		return nil, fmt.Errorf("client CA file %s: %w", cfg.CAFile, err)
	}
	a := &Authority{
		crlFile:  cfg.CRLFile,
		nameFrom: cfg.NameFrom,
		now:      cfg.Now,
		cas:      cas,
		pool:     x509.NewCertPool(),
		sums:     map[string]string{},
		high:     map[string]highWater{},
	}
	for _, c := range cas {
		a.pool.AddCert(c)
		sum := sha256.Sum256(c.Raw)
		a.sums[string(c.Raw)] = hex.EncodeToString(sum[:])
	}
	if a.crlFile != "" {
		if err := a.Reload(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// CASHA256 returns the SHA-256 of each CA certificate's DER the
// Authority trusts, 64 lowercase hex digits each, in the order of the CA
// file as New read it: what a record of the configuration names, from
// the bytes in force rather than from a second read of the file.
func (a *Authority) CASHA256() []string {
	out := make([]string, len(a.cas))
	for i, c := range a.cas {
		out[i] = a.sums[string(c.Raw)]
	}
	return out
}

// TLSConfig returns a clone of base (an empty config if nil) that asks
// clients for a certificate of the Authority's CAs without requiring one
// (tls.VerifyClientCertIfGiven), so that clients without one still
// connect and present a bearer token; a certificate that does not verify
// fails the handshake. If base already requires a client certificate
// (tls.RequireAnyClientCert or tls.RequireAndVerifyClientCert), the
// clone requires a verified one (tls.RequireAndVerifyClientCert).
// ClientCAs is the Authority's CAs; MinVersion is raised to TLS 1.2. If
// base has a GetConfigForClient, the configs it returns get the same
// settings. The handshake verifies at the config's clock (Time, default
// time.Now); Identify verifies again at Config.Now.
func (a *Authority) TLSConfig(base *tls.Config) *tls.Config {
	c := &tls.Config{}
	if base != nil {
		c = base.Clone()
	}
	if c.ClientAuth == tls.RequireAnyClientCert || c.ClientAuth == tls.RequireAndVerifyClientCert {
		c.ClientAuth = tls.RequireAndVerifyClientCert
	} else {
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	c.ClientCAs = a.pool
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	if get := c.GetConfigForClient; get != nil {
		c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			cc, err := get(hello)
			if err != nil || cc == nil {
				return cc, err
			}
			return a.TLSConfig(cc), nil
		}
	}
	return c
}

// Identify maps the client certificate of a TLS connection to a person.
// It returns ErrNoCertificate if cs is nil or the client presented no
// certificate. Otherwise it refuses (an error wrapping ErrRefused, and a
// zero Identity) unless all of these hold:
//
//   - the TLS layer verified the certificate (cs.VerifiedChains is not
//     empty and every chain starts with the presented leaf);
//   - the leaf verifies again against the Authority's CAs at Config.Now,
//     with the intermediates of cs, for client authentication: every
//     certificate of the chain is within its validity;
//   - the leaf has an extended key usage extension naming client
//     authentication or any usage, is not a CA, and if it has a key
//     usage extension, allows digital signatures;
//   - with a CRL file: a valid, current set of CRLs is in force
//     (otherwise ErrNoValidCRL), and in every verified chain, no
//     certificate but the self-signed root is listed on the CRL of its
//     issuer (otherwise ErrRevoked) or lacks one (refused). A chain that
//     ends at a CA of the CA file that is not self-signed is continued
//     through the CA file up to a self-signed CA where it can be, so
//     that the root's CRL still revokes an intermediate listed there;
//   - the name read per Config.NameFrom is present and acceptable (see
//     Identity.Name).
//
// With a CRL file, Identify looks at the file at most once a second (of
// Config.Now) and reloads it, as Reload does, when its identity (device
// and inode), size or modification time changed, or the last load
// failed. Call Identify on every request: a card revoked after the
// handshake is refused from the next request on.
func (a *Authority) Identify(cs *tls.ConnectionState) (Identity, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return Identity{}, ErrNoCertificate
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	fp := hex.EncodeToString(sum[:])
	refuse := func(err error) (Identity, error) {
		return Identity{}, fmt.Errorf("%w (certificate sha256 %s)", err, fp)
	}
	refused := func(format string, args ...any) (Identity, error) {
		return refuse(fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...))
	}
	if len(cs.VerifiedChains) == 0 {
		return refused("the TLS layer did not verify it (is the server's tls.Config one from TLSConfig?)")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	for _, ch := range cs.VerifiedChains {
		if len(ch) == 0 || !ch[0].Equal(leaf) {
			return refused("a verified chain does not start with the presented certificate")
		}
		for _, c := range ch[1:] {
			inter.AddCert(c)
		}
	}
	now := a.now()
	switch {
	case now.Before(leaf.NotBefore):
		return refused("not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	case now.After(leaf.NotAfter):
		return refused("expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := leafUsage(leaf); err != nil {
		return refused("%v", err)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         a.pool,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return refused("it does not verify against the client CAs: %v", err)
	}
	if a.crlFile != "" {
		set, err := a.crls(now)
		if err != nil {
			return refuse(err)
		}
		for _, ch := range chains {
			ch = a.complete(ch)
			for i := 0; i+1 < len(ch); i++ {
				if err := set.check(ch[i], ch[i+1]); err != nil {
					return refuse(err)
				}
			}
		}
	}
	name, err := a.name(leaf)
	if err != nil {
		return refused("%v", err)
	}
	// The configured CAs each chain runs through: which of them vouch
	// for the certificate (an identity source the vault may not have
	// accepted yet).
	var cas []string
	for _, ch := range chains {
		for _, c := range ch {
			if sum, ok := a.sums[string(c.Raw)]; ok {
				cas = append(cas, sum)
			}
		}
	}
	slices.Sort(cas)
	return Identity{
		Name:        name,
		CASHA256:    slices.Compact(cas),
		Fingerprint: fp,
		Subject:     leaf.Subject.String(),
		Issuer:      leaf.Issuer.String(),
		Serial:      leaf.SerialNumber.Text(16),
		NotAfter:    leaf.NotAfter,
	}, nil
}

// leafUsage checks that a certificate may authenticate a TLS client.
func leafUsage(leaf *x509.Certificate) error {
	if leaf.IsCA {
		return errors.New("it is a CA certificate")
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return errors.New("its key usage does not allow digital signatures")
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
			return nil
		}
	}
	return errors.New("its extended key usage does not name client authentication")
}

// complete continues a chain that ends at a CA of the CA file that is
// not self-signed with its issuers from the CA file, up to a self-signed
// one where it can.
func (a *Authority) complete(ch []*x509.Certificate) []*x509.Certificate {
	out := append([]*x509.Certificate(nil), ch...)
	for range a.cas {
		last := out[len(out)-1]
		if selfSigned(last) {
			break
		}
		var next *x509.Certificate
		for _, c := range a.cas {
			if bytes.Equal(c.RawSubject, last.RawIssuer) && last.CheckSignatureFrom(c) == nil && !contains(out, c) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		out = append(out, next)
	}
	return out
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

func contains(list []*x509.Certificate, c *x509.Certificate) bool {
	for _, l := range list {
		if l.Equal(c) {
			return true
		}
	}
	return false
}

// readFile reads a file of at most MaxFileSize bytes, and returns it with
// its state as it was opened.
func readFile(name string) (os.FileInfo, []byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("%s is larger than %d bytes", name, MaxFileSize)
	}
	return fi, data, nil
}

// pemBlocks returns the contents of the PEM blocks in data, which must
// all be of type typ and without headers. Text between blocks is allowed
// (openssl prints a description before each); a malformed block is not.
func pemBlocks(data []byte, typ string) ([][]byte, error) {
	var out [][]byte
	begins := bytes.Count(data, []byte("-----BEGIN"))
	for {
		b, rest := pem.Decode(data)
		if b == nil {
			break
		}
		data = rest
		if b.Type != typ {
			return nil, fmt.Errorf("PEM block %d is %q, not %q", len(out)+1, b.Type, typ)
		}
		if len(b.Headers) != 0 {
			return nil, fmt.Errorf("PEM block %d has headers (encrypted?)", len(out)+1)
		}
		out = append(out, b.Bytes)
	}
	if len(out) != begins {
		return nil, fmt.Errorf("%d PEM blocks begin but %d are well formed", begins, len(out))
	}
	return out, nil
}

// parseCAs parses a CA file: PEM "CERTIFICATE" blocks, at least one, each
// a CA certificate (version 3, basic constraints with cA true, and if it
// has a key usage extension, allowing certificate signing).
func parseCAs(data []byte) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(data, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	var cas []*x509.Certificate
	for i, der := range blocks {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", i+1, err)
		}
		switch {
		case !c.BasicConstraintsValid || !c.IsCA:
			return nil, fmt.Errorf("certificate %d (%s) is not a CA certificate", i+1, c.Subject)
		case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
			return nil, fmt.Errorf("certificate %d (%s) may not sign certificates (key usage)", i+1, c.Subject)
		}
		if !contains(cas, c) {
			cas = append(cas, c)
		}
	}
	return cas, nil
}
