package tsa

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/custos-vault/custos/internal/printable"
)

// Request is an RFC 3161 TimeStampReq (section 2.4.1) for one message:
// version 1, the message's SHA-256 imprint, a random nonce, certReq true
// (the TSA must put its certificate in the token), no policy and no
// extensions.
type Request struct {
	// Imprint is the SHA-256 of the message.
	Imprint [sha256.Size]byte
	// Nonce is a random positive integer of 63 bits, which the
	// TSA must copy into its token (section 2.4.2), so that a replayed
	// answer is told apart.
	Nonce *big.Int
}

// NewRequest returns a request for a time-stamp over message, with a fresh
// nonce from crypto/rand.
func NewRequest(message []byte) (*Request, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("failed to draw a nonce: %w", err)
	}
	b[0] &= 0x7f // positive and at most 8 bytes in DER
	b[0] |= 0x01 // never zero
	return &Request{Imprint: sha256.Sum256(message), Nonce: new(big.Int).SetBytes(b[:])}, nil
}

// Marshal returns the request's DER encoding, to be sent as an
// application/timestamp-query (section 3.4).
func (r *Request) Marshal() ([]byte, error) {
	return asn1.Marshal(timeStampReq{
		Version: 1,
		MessageImprint: messageImprint{
			HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue},
			HashedMessage: r.Imprint[:],
		},
		Nonce:   r.Nonce,
		CertReq: true,
	})
}

// ErrWrongNonce is returned by ParseResponse when the token's nonce is not
// the request's: the answer belongs to another request, or was replayed.
var ErrWrongNonce = errors.New("time-stamp response answers another request (its nonce differs)")

// ParseResponse checks a TSA's DER TimeStampResp (section 2.4.2) to this
// request and returns its token, byte for byte as the TSA issued it.
//
// A status other than granted or grantedWithMods is returned as a
// *StatusError. Otherwise the token must pass the first three checks of
// Verify against the certificate it carries (shape, hash, signature, but
// not trust: that is for Verify with the user's certificates), its
// message imprint must be this request's SHA-256 (else ErrWrongMessage)
// and its nonce this request's (else ErrWrongNonce).
func (r *Request) ParseResponse(der []byte) (Token, error) {
	if len(der) > MaxResponseSize {
		return nil, fmt.Errorf("time-stamp response of %d bytes exceeds the %d-byte limit", len(der), MaxResponseSize)
	}
	var resp timeStampResp
	if rest, err := asn1.Unmarshal(der, &resp); err != nil {
		return nil, fmt.Errorf("malformed time-stamp response: %v", shortASN1(err))
	} else if len(rest) != 0 {
		return nil, fmt.Errorf("malformed time-stamp response: %d bytes after it", len(rest))
	}
	if s := resp.Status.Status; s != statusGranted && s != statusGrantedWithMods {
		return nil, newStatusError(resp.Status)
	}
	if len(resp.TimeStampToken.FullBytes) == 0 {
		return nil, fmt.Errorf("%w: the response grants a time-stamp but holds no token", ErrMalformed)
	}
	token := Token(append([]byte(nil), resp.TimeStampToken.FullBytes...))
	p, err := parseToken(token, nil)
	if err != nil {
		return nil, err
	}
	if p.signer == nil {
		return nil, fmt.Errorf("%w: the token does not carry the TSA's certificate, which the request asked for", ErrMalformed)
	}
	if err := p.checkSignature(); err != nil {
		return nil, err
	}
	mi := p.info.MessageImprint
	if !mi.HashAlgorithm.Algorithm.Equal(oidSHA256) || string(mi.HashedMessage) != string(r.Imprint[:]) {
		return nil, fmt.Errorf("%w: the token's imprint is not the request's", ErrWrongMessage)
	}
	if p.info.Nonce == nil || p.info.Nonce.Cmp(r.Nonce) != 0 {
		return nil, ErrWrongNonce
	}
	return token, nil
}

// PKIStatus values, RFC 3161 section 2.4.2.
const (
	statusGranted         = 0
	statusGrantedWithMods = 1
)

var statusNames = []string{"granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"}

// failureNames are the PKIFailureInfo bits of RFC 3161 section 2.4.2.
var failureNames = map[int]string{
	0:  "badAlg: unrecognized or unsupported algorithm",
	2:  "badRequest: transaction not permitted or supported",
	5:  "badDataFormat: the data submitted has the wrong format",
	14: "timeNotAvailable: the TSA's time source is not available",
	15: "unacceptedPolicy: the requested TSA policy is not supported",
	16: "unacceptedExtension: the requested extension is not supported",
	17: "addInfoNotAvailable: the additional information requested is not available",
	25: "systemFailure: the request cannot be handled due to system failure",
}

// StatusError is a TSA's refusal: a TimeStampResp whose PKIStatus is
// neither granted nor grantedWithMods (RFC 3161 section 2.4.2).
type StatusError struct {
	// Status is the PKIStatus: 2 rejection, 3 waiting, 4
	// revocationWarning, 5 revocationNotification.
	Status int
	// Failures names the PKIFailureInfo bits set, for example
	// "badAlg: unrecognized or unsupported algorithm".
	Failures []string
	// Text is the TSA's statusString, with control and invisible
	// characters escaped (internal/printable).
	Text []string
}

// statusTextMax bounds the TSA's status text kept in a StatusError.
const statusTextMax = 512

func newStatusError(s pkiStatusInfo) *StatusError {
	// A refusal is shown to people and logged: only the named failure
	// bits of RFC 3161 section 2.4.2, and at most statusTextMax bytes of
	// the TSA's text, whatever it sent.
	e := &StatusError{Status: s.Status}
	unknown := 0
	for i := 0; i < s.FailInfo.BitLength; i++ {
		if s.FailInfo.At(i) == 1 {
			if name, ok := failureNames[i]; ok {
				e.Failures = append(e.Failures, name)
			} else {
				unknown++
			}
		}
	}
	if unknown > 0 {
		e.Failures = append(e.Failures, fmt.Sprintf("%d unknown failure bits", unknown))
	}
	left := statusTextMax
	for _, t := range s.StatusString {
		t = printable.Terminal(t)
		if len(t) > left {
			e.Text = append(e.Text, t[:left]+"…")
			break
		}
		left -= len(t)
		e.Text = append(e.Text, t)
	}
	return e
}

func (e *StatusError) Error() string {
	status := fmt.Sprintf("status %d", e.Status)
	if e.Status >= 0 && e.Status < len(statusNames) {
		status = statusNames[e.Status]
	}
	msg := "time-stamp request refused (" + status + ")"
	if len(e.Failures) > 0 {
		msg += ": " + strings.Join(e.Failures, "; ")
	}
	if len(e.Text) > 0 {
		msg += ": " + strings.Join(e.Text, "; ")
	}
	return msg
}
