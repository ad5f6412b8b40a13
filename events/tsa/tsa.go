// Package tsa obtains and checks RFC 3161 time-stamp tokens: a trusted
// third party's signed statement that a message (for Custos, a signed
// checkpoint note of the custody log) existed at a given time.
//
// # Tokens
//
// A [Token] is the DER encoding of a TimeStampToken (RFC 3161 section
// 2.4.2): a CMS ContentInfo holding SignedData over a TSTInfo. It is the
// token alone, not the TimeStampResp it came in, and it is stored exactly as
// the time-stamping authority (TSA) issued it. docs/timestamps.md specifies
// the format Custos keeps tokens in.
//
// # Requesting
//
// [NewRequest] builds a TimeStampReq (section 2.4.1) over the SHA-256 of a
// message with a random nonce, asking for the TSA's certificate, and
// [Request.ParseResponse] checks the TSA's answer and returns its token.
// Sending it over HTTP (section 3.4) is the job of the tsaclient package,
// kept apart so that this one never depends on the network: the offline
// verifier imports it.
//
// # Verifying
//
// [Verify] checks a token against a message and the TSA certificates the
// user trusts, and returns what the token attests (an [Attestation]). Its
// errors wrap one of [ErrMalformed], [ErrBadSignature],
// [ErrUntrustedSigner], [ErrNotTimeStamping], [ErrWeakHash] or
// [ErrWrongMessage], so that a caller can say which check failed.
//
// Revocation is not checked: a token is typically checked years after it
// was issued, offline, and RFC 3161 section 4 leaves it to the verifier's
// policy. Certificates are checked at the token's time, not at the time of
// the check.
package tsa

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // ESSCertID (RFC 2634) is a SHA-1 hash of the certificate
	"crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
)

// MaxTokenSize bounds a time-stamp token, in bytes. A token carrying the
// TSA's certificate and its CA is 1.5 to 2 KiB, and one with a chain of
// RSA-4096 certificates stays under 10 KiB; anything beyond this limit is
// refused unread.
const MaxTokenSize = 64 << 10

// MaxResponseSize bounds a TSA's TimeStampResp, in bytes: a token and
// its status text.
const MaxResponseSize = MaxTokenSize + 4<<10

// Token is a DER-encoded RFC 3161 TimeStampToken (section 2.4.2).
type Token []byte

// The classes of failure of Verify. Every error Verify returns wraps
// exactly one of them.
var (
	// ErrMalformed: the token is not a DER TimeStampToken of at most
	// MaxTokenSize bytes (RFC 3161 section 2.4.2), or a field in it is
	// out of its range.
	ErrMalformed = errors.New("malformed time-stamp token")
	// ErrBadSignature: the CMS signature, its message-digest attribute or
	// its signing-certificate attribute (RFC 3161 section 2.4.1) does not
	// match the content and the signer's certificate: the token was
	// altered.
	ErrBadSignature = errors.New("time-stamp token signature does not verify")
	// ErrUntrustedSigner: the signer's certificate does not chain to a
	// supplied certificate, or some certificate of the chain was not valid
	// at the token's time.
	ErrUntrustedSigner = errors.New("time-stamp token is not signed by a trusted time-stamping authority")
	// ErrNotTimeStamping: the signer's certificate is not a time-stamping
	// certificate as RFC 3161 section 2.3 requires: an extended key usage
	// extension, marked critical, holding id-kp-timeStamping alone.
	ErrNotTimeStamping = errors.New("time-stamp token signer is not a time-stamping certificate")
	// ErrWeakHash: the token's message imprint or signature uses a hash
	// other than SHA-256, SHA-384 or SHA-512 (SHA-1 and MD5 are refused).
	ErrWeakHash = errors.New("time-stamp token uses a refused hash algorithm")
	// ErrWrongMessage: the token is valid but was issued for another
	// message.
	ErrWrongMessage = errors.New("time-stamp token is for another message")
)

// Attestation is what a verified token states.
type Attestation struct {
	// Time is the token's genTime (RFC 3161 section 2.4.2), in UTC: the
	// TSA attests that the message existed at this time.
	Time time.Time
	// Accuracy is the TSA's stated accuracy of Time, either side of it;
	// zero when the token states none.
	Accuracy time.Duration
	// Policy is the TSA policy the token was issued under.
	Policy asn1.ObjectIdentifier
	// SerialNumber is the token's serial number, unique among the TSA's
	// tokens.
	SerialNumber *big.Int
	// Ordering is the token's ordering flag: if true, tokens of this TSA
	// can be ordered by Time alone, regardless of Accuracy.
	Ordering bool
	// Nonce is the requester's nonce, or nil.
	Nonce *big.Int
	// Hash names the message imprint's algorithm.
	Hash string
	// Subject is the subject of the TSA's certificate, in the RFC 2253
	// form of crypto/x509/pkix.Name.String. It is the certificate's text:
	// escape it before showing it on a terminal.
	Subject string
	// Signer is the TSA's certificate, and Chain the verified chain from
	// it to a supplied certificate, Signer first.
	Signer *x509.Certificate
	Chain  []*x509.Certificate
}

// Verify checks that token is an RFC 3161 time-stamp token for message,
// signed by a time-stamping authority that chains to one of trusted, and
// returns what it attests. It checks, in this order (docs/timestamps.md):
//
//  1. the token is at most MaxTokenSize bytes of DER: a ContentInfo of
//     SignedData (RFC 5652 section 5) with one signer and content of type
//     id-ct-TSTInfo, whose content parses as a TSTInfo of version 1
//     (ErrMalformed);
//  2. the signature's digest is SHA-256, SHA-384 or SHA-512 (ErrWeakHash);
//  3. the CMS signature over the signed attributes verifies with the
//     signer's certificate, the message-digest attribute matches the
//     TSTInfo, the content-type attribute is id-ct-TSTInfo, and the
//     signing-certificate attribute (ESSCertID or ESSCertIDv2, RFC 3161
//     section 2.4.1 and RFC 5816) names that certificate
//     (ErrBadSignature);
//  4. the signer's certificate chains to one of trusted, with every
//     certificate of the chain valid at the token's genTime, not now
//     (ErrUntrustedSigner);
//  5. the signer's certificate has a critical extended key usage
//     extension holding id-kp-timeStamping alone, and a key usage, if
//     any, of digitalSignature and/or nonRepudiation only (RFC 3161
//     section 2.3; ErrNotTimeStamping);
//  6. the message imprint is SHA-256, SHA-384 or SHA-512 (ErrWeakHash)
//     of message (ErrWrongMessage).
//
// Every certificate in trusted is a trust anchor: the TSA's own
// certificate, an intermediate or a root. The signer's certificate is
// looked for among the token's certificates and then among trusted, so a
// token issued without certificates verifies too. Revocation is not
// checked.
func Verify(token Token, message []byte, trusted []*x509.Certificate) (Attestation, error) {
	return verify(token, trusted, false, func(p *parsed) (crypto.Hash, error) { return p.checkImprint(message) })
}

// VerifyStored is Verify for a token a vault keeps, known by the
// SHA-256 of its message, sum (the imprint must be SHA-256 and sum:
// ErrWrongMessage), asking more of
// what it carries: every certificate must be on a chain verified to one
// of trusted, or be one of trusted (byte for byte), so that nothing a
// trusted certificate does not vouch for lies in it (a certificate with
// an issuer's name and key made by someone else, say); and its nonce, if
// any, at most 64 bits, as the vault's own requests send (NewRequest),
// not bytes a requester chose (ErrMalformed for either). A genuine token
// whose authority sends a certificate of another root (a cross-signed
// copy of its CA) verifies once that root is among trusted.
func VerifyStored(token Token, sum [sha256.Size]byte, trusted []*x509.Certificate) (Attestation, error) {
	return verify(token, trusted, true, func(p *parsed) (crypto.Hash, error) { return p.checkImprintSHA256(sum) })
}

func verify(token Token, trusted []*x509.Certificate, stored bool, imprint func(*parsed) (crypto.Hash, error)) (Attestation, error) {
	if len(trusted) == 0 {
		return Attestation{}, fmt.Errorf("%w: no trusted certificate given", ErrUntrustedSigner)
	}
	p, err := parseToken(token, trusted)
	if err != nil {
		return Attestation{}, err
	}
	if err := p.checkSignature(); err != nil {
		return Attestation{}, err
	}
	signer := p.signer
	genTime := p.info.GenTime.UTC()

	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, c := range trusted {
		roots.AddCert(c)
	}
	for _, c := range p.p7.Certificates {
		inter.AddCert(c)
	}
	chains, err := signer.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   genTime,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage {
			return Attestation{}, fmt.Errorf("%w: %v", ErrNotTimeStamping, err)
		}
		return Attestation{}, fmt.Errorf("%w: certificate %q at %s: %v", ErrUntrustedSigner,
			signer.Subject.String(), genTime.Format(time.RFC3339), err)
	}
	if err := checkTimeStampingCert(signer); err != nil {
		return Attestation{}, err
	}
	if stored {
		if err := p.checkVouchedFor(chains, trusted); err != nil {
			return Attestation{}, err
		}
	}

	h, err := imprint(p)
	if err != nil {
		return Attestation{}, err
	}

	return Attestation{
		Time:         genTime,
		Accuracy:     p.accuracy,
		Policy:       p.info.Policy,
		SerialNumber: p.info.SerialNumber,
		Ordering:     p.info.Ordering,
		Nonce:        p.info.Nonce,
		Hash:         h.String(),
		Subject:      signer.Subject.String(),
		Signer:       signer,
		Chain:        chains[0],
	}, nil
}

// checkVouchedFor is what VerifyStored asks besides Verify: every
// carried certificate on one of chains or among trusted, and a nonce of
// at most 64 bits.
func (p *parsed) checkVouchedFor(chains [][]*x509.Certificate, trusted []*x509.Certificate) error {
	for _, c := range p.p7.Certificates {
		if !slices.ContainsFunc(trusted, func(t *x509.Certificate) bool { return bytes.Equal(t.Raw, c.Raw) }) &&
			!slices.ContainsFunc(chains, func(chain []*x509.Certificate) bool {
				return slices.ContainsFunc(chain, func(d *x509.Certificate) bool { return bytes.Equal(d.Raw, c.Raw) })
			}) {
			return fmt.Errorf("%w: it carries the certificate of %q, which no trusted certificate vouches for", ErrMalformed, c.Subject.String())
		}
	}
	if n := p.info.Nonce; n != nil && n.BitLen() > 64 {
		return fmt.Errorf("%w: its nonce is %d bits long: not a request of the vault's", ErrMalformed, n.BitLen())
	}
	return nil
}

// checkImprint is step 6 of Verify: the message imprint is SHA-256,
// SHA-384 or SHA-512 (ErrWeakHash) of message (ErrWrongMessage). It
// returns the imprint's hash.
func (p *parsed) checkImprint(message []byte) (crypto.Hash, error) {
	imprint := p.info.MessageImprint
	alg := imprint.HashAlgorithm.Algorithm
	h := hashFor(alg)
	if h == 0 {
		return 0, fmt.Errorf("%w: message imprint uses %s", ErrWeakHash, hashName(alg))
	}
	d := h.New()
	d.Write(message)
	if !bytes.Equal(d.Sum(nil), imprint.HashedMessage) {
		return 0, fmt.Errorf("%w: its %s imprint differs from the message's", ErrWrongMessage, h)
	}
	return h, nil
}

// checkTimeStampingCert applies RFC 3161 section 2.3 to the TSA's
// certificate: "The corresponding certificate MUST contain only one
// instance of the extended key usage field extension [...] with
// KeyPurposeID having value: id-kp-timeStamping. This extension MUST be
// critical." The key usage rule is OpenSSL's (digitalSignature and/or
// nonRepudiation, nothing else), which its TSA and verifier apply too.
func checkTimeStampingCert(c *x509.Certificate) error {
	n := 0
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidExtKeyUsage) {
			continue
		}
		n++
		if !ext.Critical {
			return fmt.Errorf("%w: %q has an extended key usage extension that is not marked critical (RFC 3161 section 2.3)",
				ErrNotTimeStamping, c.Subject.String())
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("%w: %q has no extended key usage extension (RFC 3161 section 2.3 requires id-kp-timeStamping)",
			ErrNotTimeStamping, c.Subject.String())
	case n > 1:
		return fmt.Errorf("%w: %q has %d extended key usage extensions", ErrNotTimeStamping, c.Subject.String(), n)
	case len(c.UnknownExtKeyUsage) != 0 || len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping:
		return fmt.Errorf("%w: %q has extended key usages other than id-kp-timeStamping alone", ErrNotTimeStamping, c.Subject.String())
	}
	const allowed = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	if c.KeyUsage != 0 && (c.KeyUsage&^allowed != 0 || c.KeyUsage&allowed == 0) {
		return fmt.Errorf("%w: %q has a key usage other than digitalSignature and nonRepudiation", ErrNotTimeStamping, c.Subject.String())
	}
	return nil
}

// parsed is a token that passed the shape checks (step 1 of Verify).
type parsed struct {
	p7       *pkcs7.PKCS7
	signer   *x509.Certificate // nil if neither the token nor the extra certificates hold it
	info     tstInfo
	accuracy time.Duration
}

// parseToken reads a token (step 1 of Verify). extra are certificates to
// look for the signer's among besides the token's own.
func parseToken(token Token, extra []*x509.Certificate) (*parsed, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrMalformed, len(token), MaxTokenSize)
	}
	if len(token) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	// The outer layers are read with encoding/asn1, which accepts DER
	// only, before the CMS library (which also accepts BER) sees them: a
	// token has exactly one encoding.
	var ci contentInfo
	if rest, err := asn1.Unmarshal(token, &ci); err != nil {
		return nil, fmt.Errorf("%w: not a DER ContentInfo: %v", ErrMalformed, shortASN1(err))
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the token", ErrMalformed, len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %s is not SignedData", ErrMalformed, ci.ContentType)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: SignedData: %v", ErrMalformed, shortASN1(err))
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: data after SignedData", ErrMalformed)
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("%w: signed content type %s is not id-ct-TSTInfo", ErrMalformed, sd.EncapContentInfo.EContentType)
	}
	if len(sd.SignerInfos) != 1 {
		// RFC 3161 section 2.4.2: no signature other than the TSA's.
		return nil, fmt.Errorf("%w: %d signers, not one", ErrMalformed, len(sd.SignerInfos))
	}
	// Nothing outside the signature but the signer's certificates: no
	// revocation lists, no unsigned attributes (and, checkCarriedChain
	// below, no certificate off the signer's chain). None of them
	// changes what the token attests, and each could carry any bytes
	// under a token's name.
	if len(sd.CRLs.FullBytes) != 0 {
		return nil, fmt.Errorf("%w: it carries revocation lists, which Custos does not keep in a token", ErrMalformed)
	}
	var si signerInfo
	if rest, err := asn1.Unmarshal(sd.SignerInfos[0].FullBytes, &si); err != nil {
		return nil, fmt.Errorf("%w: SignerInfo: %v", ErrMalformed, shortASN1(err))
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: data after SignerInfo", ErrMalformed)
	}
	if len(si.UnsignedAttrs.FullBytes) != 0 {
		return nil, fmt.Errorf("%w: it carries unsigned attributes, which Custos does not keep in a token", ErrMalformed)
	}

	p7, err := pkcs7.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// Read the TSTInfo from the bytes the CMS library checks the
	// signature over, and insist they are the ones read above.
	if len(p7.Signers) != 1 || !bytes.Equal(p7.Content, sd.EncapContentInfo.EContent) {
		return nil, fmt.Errorf("%w: SignedData reads two ways", ErrMalformed)
	}
	// RFC 5652 section 11: each signed attribute type appears once, so
	// that each is read one way.
	attrs := p7.Signers[0].AuthenticatedAttributes
	for i := range attrs {
		for j := range i {
			if attrs[i].Type.Equal(attrs[j].Type) {
				return nil, fmt.Errorf("%w: signed attribute %s appears twice", ErrMalformed, attrs[i].Type)
			}
		}
	}
	p := &parsed{p7: p7}
	if rest, err := asn1.Unmarshal(p7.Content, &p.info); err != nil {
		return nil, fmt.Errorf("%w: TSTInfo: %v", ErrMalformed, shortASN1(err))
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("%w: data after TSTInfo", ErrMalformed)
	}
	info := &p.info
	if info.Version != 1 {
		return nil, fmt.Errorf("%w: TSTInfo version %d, not 1", ErrMalformed, info.Version)
	}
	if info.SerialNumber == nil || len(info.Policy) == 0 || len(info.MessageImprint.HashedMessage) == 0 {
		return nil, fmt.Errorf("%w: TSTInfo lacks a serial number, a policy or a message imprint", ErrMalformed)
	}
	a := info.Accuracy
	if a.Seconds < 0 || a.Seconds > 1<<20 || a.Millis < 0 || a.Millis > 999 || a.Micros < 0 || a.Micros > 999 {
		return nil, fmt.Errorf("%w: accuracy out of range", ErrMalformed)
	}
	p.accuracy = time.Duration(a.Seconds)*time.Second + time.Duration(a.Millis)*time.Millisecond + time.Duration(a.Micros)*time.Microsecond

	// The signer is named by issuer and serial number; look among the
	// token's certificates first, then among the extra ones.
	p.signer = p7.GetOnlySigner()
	if p.signer == nil && len(extra) > 0 {
		certs := p7.Certificates
		p7.Certificates = append(append([]*x509.Certificate(nil), certs...), extra...)
		p.signer = p7.GetOnlySigner()
		p7.Certificates = certs
	}
	if err := p.checkCarriedChain(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkCarriedChain checks that the certificates a token carries are the
// signer's chain and nothing else: each is the signer's certificate or
// the issuer (its name and signature checked) of another carried one,
// starting from the signer; none appears twice; and the chain's top, if
// self-issued, verifies its own signature. It says nothing about trust
// (Verify's step 4 does).
func (p *parsed) checkCarriedChain() error {
	carried := p.p7.Certificates
	if len(carried) == 0 {
		return nil
	}
	if p.signer == nil {
		return fmt.Errorf("%w: it carries %d certificates, none of them its signer's", ErrMalformed, len(carried))
	}
	for i, c := range carried {
		for j := range i {
			if bytes.Equal(c.Raw, carried[j].Raw) {
				return fmt.Errorf("%w: it carries the certificate of %q twice", ErrMalformed, c.Subject.String())
			}
		}
	}
	// On the chain: the signer's certificate, and every carried
	// certificate that issued one on the chain (its name the other's
	// issuer, its key the other's signature's, and a CA's:
	// x509.Certificate.CheckSignatureFrom), found until nothing more is,
	// whatever the order of the set (a token may carry a root and a
	// cross-signed copy of it, both issuers of the same certificate).
	used := make([]bool, len(carried))
	on := []*x509.Certificate{p.signer}
	for i, c := range carried {
		if bytes.Equal(c.Raw, p.signer.Raw) {
			used[i] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for i, c := range carried {
			if used[i] {
				continue
			}
			for _, d := range on {
				if !bytes.Equal(c.Raw, d.Raw) && bytes.Equal(d.RawIssuer, c.RawSubject) && d.CheckSignatureFrom(c) == nil {
					used[i], grew = true, true
					on = append(on, c)
					break
				}
			}
		}
	}
	for i, c := range carried {
		if !used[i] {
			return fmt.Errorf("%w: it carries the certificate of %q, which is not on its signer's chain", ErrMalformed, c.Subject.String())
		}
	}
	// A certificate bearing its issuer's name and key but made by
	// someone else (any bytes in it) checks the signature below it all
	// the same, so every self-issued one on the chain but the signer's
	// must verify its own signature. One issued by a certificate the
	// token does not carry (an intermediate, or a root cross-signed by
	// another) cannot be checked here, nor told from such a forgery by
	// Verify: a trusted certificate of that name and key vouches for the
	// key, not for the rest (docs/timestamps.md, section 4;
	// VerifyStored asks more).
	for _, c := range on[1:] {
		if bytes.Equal(c.RawSubject, c.RawIssuer) {
			if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
				return fmt.Errorf("%w: it carries the certificate of %q, whose own signature does not verify", ErrMalformed, c.Subject.String())
			}
		}
	}
	return nil
}

// checkSignature is steps 2 and 3 of Verify: the CMS signature and the
// signed attributes RFC 3161 requires.
func (p *parsed) checkSignature() error {
	si := p.p7.Signers[0]
	if h := hashFor(si.DigestAlgorithm.Algorithm); h == 0 {
		return fmt.Errorf("%w: signature digest %s", ErrWeakHash, hashName(si.DigestAlgorithm.Algorithm))
	}
	if p.signer == nil {
		return fmt.Errorf("%w: the signer's certificate is neither in the token nor among the trusted certificates", ErrUntrustedSigner)
	}
	if len(si.AuthenticatedAttributes) == 0 {
		return fmt.Errorf("%w: no signed attributes (RFC 3161 section 2.4.1 requires the signing certificate among them)", ErrBadSignature)
	}
	// Verify with the signer's certificate alone, whichever list held it;
	// the chain is Verify's next step.
	certs := p.p7.Certificates
	p.p7.Certificates = []*x509.Certificate{p.signer}
	err := p.p7.Verify()
	p.p7.Certificates = certs
	if err != nil {
		var st *pkcs7.SigningTimeNotValidError
		if errors.As(err, &st) {
			return fmt.Errorf("%w: %v", ErrUntrustedSigner, err)
		}
		var md *pkcs7.MessageDigestMismatchError
		if errors.As(err, &md) {
			return fmt.Errorf("%w: the TSTInfo does not match the signed message-digest attribute", ErrBadSignature)
		}
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	var ct asn1.ObjectIdentifier
	if err := p.p7.UnmarshalSignedAttribute(oidAttrContentType, &ct); err != nil || !ct.Equal(oidTSTInfo) {
		return fmt.Errorf("%w: the signed content-type attribute is not id-ct-TSTInfo", ErrBadSignature)
	}
	return p.checkSigningCertificate()
}

// checkSigningCertificate checks the ESS signing-certificate attribute
// (RFC 3161 section 2.4.1; RFC 5816 for version 2): its first entry must
// be the hash (and, if given, the issuer and serial number) of the
// certificate whose key made the signature, so that no other certificate
// for the same key can be substituted.
func (p *parsed) checkSigningCertificate() error {
	found := false
	var v1 signingCertificate
	if hasAttribute(p.p7, oidAttrSigningCert) {
		found = true
		if err := p.p7.UnmarshalSignedAttribute(oidAttrSigningCert, &v1); err != nil || len(v1.Certs) == 0 {
			return fmt.Errorf("%w: unreadable signing-certificate attribute", ErrBadSignature)
		}
		// ESSCertID is SHA-1 by definition (RFC 2634 section 5.4.1); it
		// binds the certificate, the signature itself is SHA-2.
		if err := p.matchESSCertID(crypto.SHA1, v1.Certs[0].CertHash, v1.Certs[0].IssuerSerial); err != nil {
			return err
		}
	}
	var v2 signingCertificateV2
	if hasAttribute(p.p7, oidAttrSigningCertV2) {
		found = true
		if err := p.p7.UnmarshalSignedAttribute(oidAttrSigningCertV2, &v2); err != nil || len(v2.Certs) == 0 {
			return fmt.Errorf("%w: unreadable signing-certificate-v2 attribute", ErrBadSignature)
		}
		id := v2.Certs[0]
		h := crypto.SHA256
		if len(id.HashAlgorithm.Algorithm) != 0 {
			if h = hashFor(id.HashAlgorithm.Algorithm); h == 0 {
				return fmt.Errorf("%w: signing-certificate-v2 attribute uses %s", ErrWeakHash, hashName(id.HashAlgorithm.Algorithm))
			}
		}
		if err := p.matchESSCertID(h, id.CertHash, id.IssuerSerial); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%w: no signing-certificate attribute (RFC 3161 section 2.4.1)", ErrBadSignature)
	}
	return nil
}

// matchESSCertID checks one ESSCertID or ESSCertIDv2 against the signer's
// certificate.
func (p *parsed) matchESSCertID(h crypto.Hash, certHash []byte, is issuerSerial) error {
	d := h.New()
	d.Write(p.signer.Raw)
	if !bytes.Equal(d.Sum(nil), certHash) {
		return fmt.Errorf("%w: the signing-certificate attribute names another certificate than %q", ErrBadSignature, p.signer.Subject.String())
	}
	if is.SerialNumber == nil {
		return nil
	}
	if is.SerialNumber.Cmp(p.signer.SerialNumber) != 0 {
		return fmt.Errorf("%w: the signing-certificate attribute names another serial number than %q's", ErrBadSignature, p.signer.Subject.String())
	}
	for _, gn := range is.Issuer {
		// directoryName [4] Name, explicit since Name is a CHOICE.
		if gn.Class == asn1.ClassContextSpecific && gn.Tag == 4 && bytes.Equal(gn.Bytes, p.signer.RawIssuer) {
			return nil
		}
	}
	return fmt.Errorf("%w: the signing-certificate attribute names another issuer than %q's", ErrBadSignature, p.signer.Subject.String())
}

// hasAttribute reports whether the signer's signed attributes hold one of
// type oid.
func hasAttribute(p7 *pkcs7.PKCS7, oid asn1.ObjectIdentifier) bool {
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		if a.Type.Equal(oid) {
			return true
		}
	}
	return false
}

// shortASN1 drops the Go field tags that encoding/asn1 appends to a
// structure error, which say nothing to a reader of the message.
func shortASN1(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "tags don't match") {
		return "asn1: unexpected element"
	}
	if i := strings.Index(msg, " {"); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// Read returns what a token states without deciding whom to trust: it
// parses the token as Verify does (step 1, ErrMalformed), checks that the
// CMS signature verifies with the certificate the token carries (step 3,
// ErrBadSignature; a token without its signer's certificate is
// ErrMalformed here), and that its imprint is of message (step 6). It
// does not check the chain or the time-stamping usage (steps 4 and 5):
// Signer and Subject are what the token claims, and a reader relying on
// the time must Verify it against the authority's certificate. The
// vault uses Read to print a token's time in reports; verifiers use
// Verify.
func Read(token Token, message []byte) (Attestation, error) {
	p, err := readSelfSigned(token)
	if err != nil {
		return Attestation{}, err
	}
	h, err := p.checkImprint(message)
	if err != nil {
		return Attestation{}, err
	}
	return p.claimed(h), nil
}

// ReadSHA256 is Read for a message known only by its SHA-256, sum: the
// token's imprint must be SHA-256 and sum (ErrWrongMessage). The vault's
// scrub uses it for a token whose name gives its note's SHA-256.
func ReadSHA256(token Token, sum [sha256.Size]byte) (Attestation, error) {
	p, err := readSelfSigned(token)
	if err != nil {
		return Attestation{}, err
	}
	if _, err := p.checkImprintSHA256(sum); err != nil {
		return Attestation{}, err
	}
	return p.claimed(crypto.SHA256), nil
}

// checkImprintSHA256 checks that the imprint is SHA-256 and sum.
func (p *parsed) checkImprintSHA256(sum [sha256.Size]byte) (crypto.Hash, error) {
	imprint := p.info.MessageImprint
	if hashFor(imprint.HashAlgorithm.Algorithm) != crypto.SHA256 || !bytes.Equal(imprint.HashedMessage, sum[:]) {
		return 0, fmt.Errorf("%w: its imprint is not the SHA-256 given", ErrWrongMessage)
	}
	return crypto.SHA256, nil
}

// readSelfSigned parses a token (step 1) and checks its CMS signature
// with the certificate it carries (step 3): Read's and ReadSHA256's
// common part.
func readSelfSigned(token Token) (*parsed, error) {
	p, err := parseToken(token, nil)
	if err != nil {
		return nil, err
	}
	if p.signer == nil {
		return nil, fmt.Errorf("%w: the token carries no signer's certificate", ErrMalformed)
	}
	if err := p.checkSignature(); err != nil {
		return nil, err
	}
	return p, nil
}

// claimed is what a token read without a trusted certificate states.
func (p *parsed) claimed(h crypto.Hash) Attestation {
	return Attestation{Time: p.info.GenTime.UTC(), Accuracy: p.accuracy, Policy: p.info.Policy,
		SerialNumber: p.info.SerialNumber, Ordering: p.info.Ordering, Nonce: p.info.Nonce, Hash: h.String(),
		Subject: p.signer.Subject.String(), Signer: p.signer}
}
