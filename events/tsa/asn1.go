package tsa

import (
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"time"
)

// The ASN.1 structures of RFC 3161 (section 2.4), RFC 5652 (the outer
// layers of CMS SignedData) and RFC 2634 / RFC 5035 (the ESS
// signing-certificate attributes), as encoding/asn1 reads and writes them.
// Only what Custos reads or writes is declared; the CMS signature itself
// is checked by github.com/smallstep/pkcs7.

var (
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	// id-ct-TSTInfo, RFC 3161 section 2.4.2.
	oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	// Signed attributes, RFC 5652 section 11 and RFC 2634 / RFC 5035.
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrSigningCert   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidAttrSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidExtKeyUsage       = asn1.ObjectIdentifier{2, 5, 29, 37}

	oidMD5    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// hashes are the digest algorithms Verify accepts, for the message imprint
// and for the CMS signature alike. SHA-1 and MD5 are refused: a collision
// would let one token stand for two messages.
var hashes = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
}

// hashFor returns the accepted hash with the given OID, or 0.
func hashFor(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, h := range hashes {
		if h.oid.Equal(oid) {
			return h.hash
		}
	}
	return 0
}

// hashName names a digest OID for an error message.
func hashName(oid asn1.ObjectIdentifier) string {
	switch {
	case oid.Equal(oidSHA1):
		return "SHA-1"
	case oid.Equal(oidMD5):
		return "MD5"
	}
	if h := hashFor(oid); h != 0 {
		return h.String()
	}
	return oid.String()
}

// contentInfo is the CMS ContentInfo (RFC 5652 section 3); a
// TimeStampToken is one whose content is SignedData.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

// signedData is CMS SignedData (RFC 5652 section 5.1), read only as far
// as the shape checks need.
type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

// signerInfo is CMS SignerInfo (RFC 5652 section 5.3), read only as far
// as the shape checks need.
type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     []byte `asn1:"explicit,tag:0"`
}

// messageImprint is RFC 3161 section 2.4.1's MessageImprint.
type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

// tstInfo is RFC 3161 section 2.4.2's TSTInfo.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time        `asn1:"generalized"`
	Accuracy       accuracy         `asn1:"optional"`
	Ordering       bool             `asn1:"optional,default:false"`
	Nonce          *big.Int         `asn1:"optional"`
	TSA            asn1.RawValue    `asn1:"explicit,optional,tag:0"`
	Extensions     []pkix.Extension `asn1:"optional,tag:1"`
}

// accuracy is RFC 3161 section 2.4.2's Accuracy.
type accuracy struct {
	Seconds int `asn1:"optional"`
	Millis  int `asn1:"optional,tag:0"`
	Micros  int `asn1:"optional,tag:1"`
}

// timeStampReq is RFC 3161 section 2.4.1's TimeStampReq.
type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional,default:false"`
	Extensions     []pkix.Extension      `asn1:"optional,tag:0"`
}

// timeStampResp is RFC 3161 section 2.4.2's TimeStampResp.
type timeStampResp struct {
	Status         pkiStatusInfo
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

// pkiStatusInfo is RFC 3161 section 2.4.2's PKIStatusInfo.
type pkiStatusInfo struct {
	Status       int
	StatusString []string       `asn1:"optional,utf8"`
	FailInfo     asn1.BitString `asn1:"optional"`
}

// signingCertificate is RFC 2634 section 5.4's SigningCertificate;
// RFC 3161 section 2.4.1 requires it (or its V2) among the signed
// attributes.
type signingCertificate struct {
	Certs    []essCertID
	Policies asn1.RawValue `asn1:"optional"`
}

type essCertID struct {
	CertHash     []byte       // SHA-1 of the certificate
	IssuerSerial issuerSerial `asn1:"optional"`
}

// signingCertificateV2 is RFC 5035 section 3's SigningCertificateV2
// (RFC 5816 allows it in time-stamp tokens).
type signingCertificateV2 struct {
	Certs    []essCertIDv2
	Policies asn1.RawValue `asn1:"optional"`
}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"` // absent means SHA-256
	CertHash      []byte
	IssuerSerial  issuerSerial `asn1:"optional"`
}

type issuerSerial struct {
	Issuer       []asn1.RawValue // GeneralNames
	SerialNumber *big.Int
}
