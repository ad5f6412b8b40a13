package clientcert

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

var (
	oidCommonName     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	// oidUPN is Microsoft's user principal name otherName
	// (szOID_NT_PRINCIPAL_NAME).
	oidUPN = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 20, 2, 3}
)

// name reads the person's name from the leaf per a.nameFrom and checks it.
func (a *Authority) name(leaf *x509.Certificate) (string, error) {
	var name string
	switch a.nameFrom {
	case NameCN:
		n := 0
		for _, at := range leaf.Subject.Names {
			if at.Type.Equal(oidCommonName) {
				n++
			}
		}
		if n != 1 {
			return "", fmt.Errorf("its subject has %d common names, not one", n)
		}
		name = leaf.Subject.CommonName
	case NameEmail:
		if len(leaf.EmailAddresses) == 0 {
			return "", errors.New("it has no email address (rfc822Name) among its subject alternative names")
		}
		name = leaf.EmailAddresses[0]
	case NameDNS:
		if len(leaf.DNSNames) == 0 {
			return "", errors.New("it has no dNSName among its subject alternative names")
		}
		name = leaf.DNSNames[0]
	case NameURI:
		if len(leaf.URIs) == 0 {
			return "", errors.New("it has no URI among its subject alternative names")
		}
		name = leaf.URIs[0].String()
	case NameUPN:
		var err error
		if name, err = upn(leaf); err != nil {
			return "", err
		}
	}
	if err := checkName(name); err != nil {
		return "", fmt.Errorf("the name from %s %w", a.nameFrom, err)
	}
	return name, nil
}

// checkName accepts a name that is not empty, is valid UTF-8 of at most
// MaxNameLen bytes, and has no control or format (Cc, Cf) characters.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("is empty")
	case len(name) > MaxNameLen:
		return fmt.Errorf("is %d bytes; the limit is %d", len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("is not valid UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("contains a control or format character (U+%04X)", r)
		}
	}
	return nil
}

// upn returns the first user principal name of the certificate's subject
// alternative names: an otherName (RFC 5280 4.2.1.6)
//
//	OtherName ::= SEQUENCE {
//	    type-id    OBJECT IDENTIFIER,             -- 1.3.6.1.4.1.311.20.2.3
//	    value      [0] EXPLICIT ANY DEFINED BY type-id }  -- UTF8String
//
// tagged [0] IMPLICIT among the GeneralNames. crypto/x509 parsed the
// extension already; any malformed otherName here is refused.
func upn(cert *x509.Certificate) (string, error) {
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var seq asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &seq); err != nil || len(rest) != 0 ||
			seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence || !seq.IsCompound {
			return "", errors.New("its subject alternative names are malformed")
		}
		for rest := seq.Bytes; len(rest) > 0; {
			var gn asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
				return "", errors.New("its subject alternative names are malformed")
			}
			if gn.Class != asn1.ClassContextSpecific || gn.Tag != 0 {
				continue
			}
			var id asn1.ObjectIdentifier
			val, err := asn1.Unmarshal(gn.Bytes, &id)
			if err != nil || !gn.IsCompound {
				return "", errors.New("it has a malformed otherName")
			}
			if !id.Equal(oidUPN) {
				continue
			}
			var explicit, s asn1.RawValue
			if rest, err := asn1.Unmarshal(val, &explicit); err != nil || len(rest) != 0 ||
				explicit.Class != asn1.ClassContextSpecific || explicit.Tag != 0 || !explicit.IsCompound {
				return "", errors.New("it has a malformed user principal name")
			}
			if rest, err := asn1.Unmarshal(explicit.Bytes, &s); err != nil || len(rest) != 0 ||
				s.Class != asn1.ClassUniversal || s.Tag != asn1.TagUTF8String || s.IsCompound {
				return "", errors.New("its user principal name is not one UTF8String")
			}
			return string(s.Bytes), nil
		}
	}
	return "", errors.New("it has no user principal name (otherName 1.3.6.1.4.1.311.20.2.3) among its subject alternative names")
}
