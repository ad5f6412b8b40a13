package clientcert

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// MaxClockSkew is how far in the future a CRL's thisUpdate may be. A CRL
// issued later than that says the vault's clock is behind, and a clock
// behind would keep stale CRLs current: it is refused.
const MaxClockSkew = 5 * time.Minute

// checkInterval is how often, at most, Identify and Status look at the
// CRL file.
const checkInterval = time.Second

// CRL extensions (RFC 5280 section 5.2 and 5.3).
var (
	oidAuthorityKeyID    = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidCRLNumber         = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint  = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidCertificateIssuer = asn1.ObjectIdentifier{2, 5, 29, 29}
)

// Status is the state of revocation checking.
type Status struct {
	// CRLFile is the CRL file; empty when revocation is not checked.
	CRLFile string
	// Err is why every certificate is refused (it wraps ErrNoValidCRL);
	// nil when a valid, current set of CRLs is in force, or when there
	// is no CRL file.
	Err error
	// LoadedAt is when the CRLs last accepted were loaded, by
	// Config.Now; zero before.
	LoadedAt time.Time
	// CheckedAt is when the CRL file was last looked at.
	CheckedAt time.Time
	// CRLs are the CRLs last accepted, in file order. They stay listed
	// while Err says that they are no longer in force.
	CRLs []CRLStatus
}

// CRLStatus describes one CRL.
type CRLStatus struct {
	// Issuer is the distinguished name of the CA that signed it (RFC 4514).
	Issuer string
	// Number is its CRL number, in decimal.
	Number string
	// ThisUpdate and NextUpdate are its issue date and the date by which
	// the next one is due; past NextUpdate it is stale.
	ThisUpdate, NextUpdate time.Time
	// Revoked is the number of certificates it lists.
	Revoked int
}

// crlSet is the CRLs of one load of the CRL file.
type crlSet struct {
	list     []*crl
	byIssuer map[string]*crl // by issuerKey of the CA that signed it
	loadedAt time.Time
}

type crl struct {
	issuer     *x509.Certificate // the CA of the CA file that signed it
	number     *big.Int
	sum        [32]byte // SHA-256 of its DER
	thisUpdate time.Time
	nextUpdate time.Time
	revoked    map[string]bool // serial numbers, big.Int.Text(16)
}

// highWater is the newest CRL of an issuer that was ever in force.
type highWater struct {
	number *big.Int
	sum    [32]byte
}

// issuerKey identifies a CA by its name and public key, which a CRL and
// the certificates it covers share whatever certificate of the CA a
// chain holds.
func issuerKey(c *x509.Certificate) string {
	return string(c.RawSubject) + string(c.RawSubjectPublicKeyInfo)
}

// Reload reads the CRL file again, as the server does on SIGHUP (and as
// Identify does when the file changed). It returns nil if there is no
// CRL file. If the file cannot be read, or any CRL in it is unacceptable,
// Reload returns why, and from then on every certificate is refused
// (ErrNoValidCRL) until a load succeeds; the CRLs accepted before stay
// the reference for rollback. A CRL is unacceptable if:
//
//   - it does not parse, or the file holds more CRLs than the CA file
//     holds CAs, or two CRLs of one CA;
//   - it is not signed by a CA of the CA file with its issuer's name
//     (x509.RevocationList.CheckSignatureFrom: the CA must be allowed to
//     sign CRLs);
//   - it has no CRL number, no nextUpdate, a nextUpdate not after
//     Config.Now (stale), or a thisUpdate more than MaxClockSkew ahead of
//     it;
//   - it is a delta CRL, has an issuing distribution point (a partial or
//     indirect CRL), an entry naming a certificate issuer, or a critical
//     extension or entry extension other than the authority key
//     identifier and the CRL number;
//   - its number is lower than that of a CRL of the same CA accepted
//     before by this Authority (a rollback), or equal with other bytes.
//
// The rollback check holds for the life of the Authority: after a restart
// an older CRL is accepted as long as it is current.
func (a *Authority) Reload() error {
	if a.crlFile == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.checkedAt = now
	return a.loadLocked(now)
}

// Status reports the state of revocation checking, looking at the CRL
// file first as Identify does.
func (a *Authority) Status() Status {
	if a.crlFile == "" {
		return Status{}
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checkLocked(now)
	st := Status{CRLFile: a.crlFile, Err: a.inForceLocked(now), CheckedAt: a.checkedAt}
	if a.set != nil {
		st.LoadedAt = a.set.loadedAt
		for _, c := range a.set.list {
			st.CRLs = append(st.CRLs, CRLStatus{
				Issuer:     c.issuer.Subject.String(),
				Number:     c.number.String(),
				ThisUpdate: c.thisUpdate,
				NextUpdate: c.nextUpdate,
				Revoked:    len(c.revoked),
			})
		}
	}
	return st
}

// crls returns the CRLs in force at now, or why there are none (wrapping
// ErrNoValidCRL), looking at the file first.
func (a *Authority) crls(now time.Time) (*crlSet, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checkLocked(now)
	if err := a.inForceLocked(now); err != nil {
		return nil, err
	}
	return a.set, nil
}

// checkLocked reloads the CRL file if it was not looked at in the last
// checkInterval and it changed (or the last load failed).
func (a *Authority) checkLocked(now time.Time) {
	if d := now.Sub(a.checkedAt); d >= 0 && d < checkInterval {
		return
	}
	a.checkedAt = now
	if a.stamp != nil {
		fi, err := os.Stat(a.crlFile)
		if err == nil && os.SameFile(fi, a.stamp) && fi.Size() == a.stamp.Size() && fi.ModTime().Equal(a.stamp.ModTime()) {
			return
		}
	}
	a.loadLocked(now)
}

// inForceLocked returns why the CRLs are not in force at now, or nil.
func (a *Authority) inForceLocked(now time.Time) error {
	if a.loadErr != nil {
		return fmt.Errorf("%w: %v", ErrNoValidCRL, a.loadErr)
	}
	if a.set == nil {
		return fmt.Errorf("%w: none loaded", ErrNoValidCRL)
	}
	for _, c := range a.set.list {
		if !now.Before(c.nextUpdate) {
			return fmt.Errorf("%w: the CRL number %s of %s passed its nextUpdate %s", ErrNoValidCRL,
				c.number, c.issuer.Subject, c.nextUpdate.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// loadLocked reads and checks the CRL file, and either puts it in force or
// records why not. The file's state is kept only after a good load, so a
// file that failed is read again at the next check.
func (a *Authority) loadLocked(now time.Time) error {
	err := func() error {
		fi, data, err := readFile(a.crlFile)
		if err != nil {
			return fmt.Errorf("client CRL file: %w", err)
		}
		set, err := parseCRLs(data, a.cas, now)
		if err == nil {
			err = a.checkRollbackLocked(set)
		}
		if err != nil {
			return fmt.Errorf("client CRL file %s: %w", a.crlFile, err)
		}
		set.loadedAt = now
		for _, c := range set.list {
			a.high[issuerKey(c.issuer)] = highWater{number: c.number, sum: c.sum}
		}
		a.set, a.stamp = set, fi
		return nil
	}()
	a.loadErr = err
	if err != nil {
		a.stamp = nil
	}
	return err
}

// checkRollbackLocked refuses a set with a CRL older than the newest of
// its CA ever in force.
func (a *Authority) checkRollbackLocked(set *crlSet) error {
	for i, c := range set.list {
		h, ok := a.high[issuerKey(c.issuer)]
		if !ok {
			continue
		}
		switch cmp := c.number.Cmp(h.number); {
		case cmp < 0:
			return fmt.Errorf("CRL %d (%s): number %s is lower than %s, the number already in force (rollback)",
				i+1, c.issuer.Subject, c.number, h.number)
		case cmp == 0 && c.sum != h.sum:
			return fmt.Errorf("CRL %d (%s): number %s is in force with other contents",
				i+1, c.issuer.Subject, c.number)
		}
	}
	return nil
}

// parseCRLs parses and checks a CRL file (see Reload) against the CAs at
// now. A file that holds "-----BEGIN" is PEM, any other DER.
func parseCRLs(data []byte, cas []*x509.Certificate, now time.Time) (*crlSet, error) {
	var ders [][]byte
	if bytes.Contains(data, []byte("-----BEGIN")) {
		var err error
		if ders, err = pemBlocks(data, "X509 CRL"); err != nil {
			return nil, err
		}
	} else {
		for rest := data; len(rest) > 0 && len(ders) <= len(cas); {
			var v asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &v); err != nil {
				return nil, fmt.Errorf("CRL %d is neither PEM nor DER: %v", len(ders)+1, err)
			}
			ders = append(ders, v.FullBytes)
		}
	}
	switch {
	case len(ders) == 0:
		return nil, errors.New("no CRL")
	case len(ders) > len(cas):
		return nil, fmt.Errorf("more CRLs than the %d CAs of the client CA file", len(cas))
	}
	set := &crlSet{byIssuer: map[string]*crl{}}
	for i, der := range ders {
		c, err := parseCRL(der, cas, now)
		if err != nil {
			return nil, fmt.Errorf("CRL %d: %w", i+1, err)
		}
		k := issuerKey(c.issuer)
		if set.byIssuer[k] != nil {
			return nil, fmt.Errorf("CRL %d: a second CRL of %s", i+1, c.issuer.Subject)
		}
		set.byIssuer[k] = c
		set.list = append(set.list, c)
	}
	return set, nil
}

func parseCRL(der []byte, cas []*x509.Certificate, now time.Time) (*crl, error) {
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, err
	}
	if len(rl.Raw) != len(der) {
		return nil, errors.New("trailing data after the CRL")
	}
	var issuer *x509.Certificate
	named := false
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, rl.RawIssuer) {
			continue
		}
		named = true
		if rl.CheckSignatureFrom(ca) == nil {
			issuer = ca
			break
		}
	}
	switch {
	case !named:
		return nil, fmt.Errorf("issued by %s, which is not a CA of the client CA file", rl.Issuer)
	case issuer == nil:
		return nil, fmt.Errorf("issued in the name of %s, but its signature does not verify with that CA's key", rl.Issuer)
	}
	where := fmt.Sprintf("%s's CRL", rl.Issuer)
	switch {
	case rl.Number == nil:
		return nil, fmt.Errorf("%s has no CRL number", where)
	case rl.Number.Sign() < 0:
		return nil, fmt.Errorf("%s has a negative CRL number", where)
	case rl.NextUpdate.IsZero():
		return nil, fmt.Errorf("%s has no nextUpdate", where)
	case !now.Before(rl.NextUpdate):
		return nil, fmt.Errorf("%s number %s is stale: its nextUpdate %s has passed", where, rl.Number,
			rl.NextUpdate.UTC().Format(time.RFC3339))
	case rl.ThisUpdate.After(now.Add(MaxClockSkew)):
		return nil, fmt.Errorf("%s number %s was issued at %s, in the future (is the clock behind?)", where, rl.Number,
			rl.ThisUpdate.UTC().Format(time.RFC3339))
	}
	for _, e := range rl.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRLIndicator):
			return nil, fmt.Errorf("%s is a delta CRL; only complete CRLs are supported", where)
		case e.Id.Equal(oidIssuingDistPoint):
			return nil, fmt.Errorf("%s has an issuing distribution point (a partial or indirect CRL); only complete, direct CRLs are supported", where)
		case e.Critical && !e.Id.Equal(oidAuthorityKeyID) && !e.Id.Equal(oidCRLNumber):
			return nil, fmt.Errorf("%s has an unknown critical extension %s", where, e.Id)
		}
	}
	c := &crl{
		issuer:     issuer,
		number:     rl.Number,
		sum:        sha256.Sum256(der),
		thisUpdate: rl.ThisUpdate,
		nextUpdate: rl.NextUpdate,
		revoked:    make(map[string]bool, len(rl.RevokedCertificateEntries)),
	}
	for _, e := range rl.RevokedCertificateEntries {
		for _, x := range e.Extensions {
			if x.Id.Equal(oidCertificateIssuer) || x.Critical {
				return nil, fmt.Errorf("%s: the entry of serial %s has a critical or certificate issuer extension %s",
					where, e.SerialNumber.Text(16), x.Id)
			}
		}
		c.revoked[e.SerialNumber.Text(16)] = true
	}
	return c, nil
}

// check refuses cert, issued by issuer, if it is revoked or if the set
// has no CRL of issuer.
func (s *crlSet) check(cert, issuer *x509.Certificate) error {
	c := s.byIssuer[issuerKey(issuer)]
	if c == nil {
		return fmt.Errorf("%w: the client CRL file has no CRL of %s, which issued %s", ErrRefused, issuer.Subject, cert.Subject)
	}
	if c.revoked[cert.SerialNumber.Text(16)] {
		return fmt.Errorf("%w: %s (serial %s) is on CRL number %s of %s", ErrRevoked,
			cert.Subject, cert.SerialNumber.Text(16), c.number, issuer.Subject)
	}
	return nil
}
