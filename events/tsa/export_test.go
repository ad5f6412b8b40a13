package tsa

import "encoding/asn1"

// TSTInfoOf returns the TSTInfo a token signs, unverified.
func TSTInfoOf(token Token) ([]byte, error) {
	p, err := parseToken(token, nil)
	if err != nil {
		return nil, err
	}
	return p.p7.Content, nil
}

// WithImprint returns the TSTInfo der with its message imprint replaced.
func WithImprint(der []byte, alg asn1.ObjectIdentifier, digest []byte) ([]byte, error) {
	var info tstInfo
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, err
	}
	info.MessageImprint.HashAlgorithm.Algorithm = alg
	info.MessageImprint.HashedMessage = digest
	return asn1.Marshal(info)
}
