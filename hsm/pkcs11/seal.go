//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/miekg/pkcs11"

	"github.com/custos-vault/custos/hsm"
)

// Blob layout (all integers big-endian):
//
//	magic    17 bytes  "custos-pkcs11-v1\x00"
//	version   4 bytes  KEK version that wrapped it (1, 2, ...)
//	wrapped   rest     CKM_AES_KEY_WRAP_PAD (RFC 5649) of the frame:
//	                   8 + the frame length rounded up to a multiple of 8
//
// and the frame, which the token wraps as a generic secret:
//
//	length    2 bytes  secret length
//	salt     14 bytes  random, so that sealing the same secret twice gives
//	                   two different blobs (key wrap itself is deterministic)
//	secret    length bytes
//
// The length is carried inside because SoftHSM2 2.6 hands back the RFC 5649
// padding with the value when it unwraps; a token that strips it gives the
// frame exactly. Anything after the secret must be fewer than 8 zero bytes.
//
// The header is not authenticated by the wrap, and needs not be: a changed
// version selects another KEK (or none), which fails RFC 5649's integrity
// check just as a changed wrapped byte does.
const (
	magic    = "custos-pkcs11-v1\x00"
	headLen  = len(magic) + 4
	frameLen = 16
)

// frame builds length || salt || secret. The caller zeroes it.
func frame(secret []byte) []byte {
	f := make([]byte, frameLen+len(secret))
	binary.BigEndian.PutUint16(f, uint16(len(secret)))
	rand.Read(f[2:frameLen])
	copy(f[frameLen:], secret)
	return f
}

// unframe returns a copy of the secret in f, or nil if f is malformed.
func unframe(f []byte) []byte {
	if len(f) < frameLen {
		return nil
	}
	n := int(binary.BigEndian.Uint16(f))
	rest := f[frameLen:]
	if n > hsm.MaxSecret || n > len(rest) || len(rest)-n >= 8 {
		return nil
	}
	var nonzero byte
	for _, b := range rest[n:] {
		nonzero |= b
	}
	if nonzero != 0 {
		return nil
	}
	return bytes.Clone(rest[:n])
}

var kwp = []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)}

// Seal implements hsm.Sealer.
func (s *Sealer) Seal(_ context.Context, secret []byte) ([]byte, error) {
	if len(secret) > hsm.MaxSecret {
		return nil, hsm.ErrTooLarge
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return nil, errClosed()
	}
	f := frame(secret)
	defer hsm.Zero(f)
	// The secret enters the token as a session object (gone when the
	// session ends even if DestroyObject is never reached), extractable
	// only so that the KEK can wrap it, sensitive so it cannot be read.
	obj, err := s.ctx.CreateObject(s.session, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, f),
	})
	if err != nil {
		return nil, s.deviceErr("failed to import the secret into the token", err)
	}
	defer s.ctx.DestroyObject(s.session, obj)
	return s.wrap(obj)
}

// wrap wraps the session object obj under the current KEK.
func (s *Sealer) wrap(obj pkcs11.ObjectHandle) ([]byte, error) {
	wrapped, err := s.ctx.WrapKey(s.session, kwp, s.keks[s.current], obj)
	if err != nil {
		return nil, s.deviceErr("failed to wrap the secret", err)
	}
	blob := make([]byte, headLen, headLen+len(wrapped))
	copy(blob, magic)
	binary.BigEndian.PutUint32(blob[len(magic):], uint32(s.current))
	return append(blob, wrapped...), nil
}

// unwrap has the token unwrap blob into a session object that may be read
// (readable) or may only be wrapped again (for Rewrap). The caller
// destroys it.
func (s *Sealer) unwrap(blob []byte, readable bool) (pkcs11.ObjectHandle, error) {
	if len(blob) < headLen+16 || string(blob[:len(magic)]) != magic {
		return 0, fmt.Errorf("pkcs11: %w: not a PKCS#11-sealed blob", hsm.ErrUnseal)
	}
	v := int(binary.BigEndian.Uint32(blob[len(magic):]))
	kek, ok := s.keks[v]
	if !ok {
		return 0, fmt.Errorf("pkcs11: %w: KEK version %d is not in token %q (retired, or another token)", hsm.ErrUnseal, v, s.uri.Token)
	}
	obj, err := s.ctx.UnwrapKey(s.session, kwp, kek, blob[headLen:], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, !readable),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	})
	if err != nil {
		if unavailable(err) {
			return 0, fmt.Errorf("pkcs11: failed to unwrap: %v: %w", err, hsm.ErrUnavailable)
		}
		return 0, fmt.Errorf("pkcs11: %w: token refused to unwrap (%v)", hsm.ErrUnseal, err)
	}
	return obj, nil
}

// Unseal implements hsm.Sealer.
func (s *Sealer) Unseal(_ context.Context, blob []byte) (hsm.Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return nil, errClosed()
	}
	obj, err := s.unwrap(blob, true)
	if err != nil {
		return nil, err
	}
	defer s.ctx.DestroyObject(s.session, obj)
	attrs, err := s.ctx.GetAttributeValue(s.session, obj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	if err != nil {
		return nil, s.deviceErr("failed to read the unwrapped secret", err)
	}
	defer hsm.Zero(attrs[0].Value)
	secret := unframe(attrs[0].Value)
	if secret == nil {
		return nil, fmt.Errorf("pkcs11: %w: unwrapped value is malformed", hsm.ErrUnseal)
	}
	return secret, nil
}

// Rewrap implements hsm.Rewrapper: the token unwraps the blob with its
// KEK version and wraps it with the current one; the secret stays inside
// the token.
func (s *Sealer) Rewrap(_ context.Context, blob []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return nil, errClosed()
	}
	obj, err := s.unwrap(blob, false)
	if err != nil {
		return nil, err
	}
	defer s.ctx.DestroyObject(s.session, obj)
	return s.wrap(obj)
}

// Rotate implements hsm.Rotator: it generates the next KEK version in the
// token; Seal uses it from now on.
func (s *Sealer) Rotate(_ context.Context) (string, error) {
	s.mu.Lock()
	if s.ctx == nil {
		s.mu.Unlock()
		return "", errClosed()
	}
	// Another process may have rotated since we looked.
	err := s.findKEKs()
	if err == nil {
		_, err = s.generate(s.current + 1)
	}
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	return s.KeyRef(), nil
}

// RetireOld implements hsm.Rotator: it destroys every KEK version older
// than the current one. Blobs still under them become unopenable, so
// re-seal (Rewrap) every blob first.
func (s *Sealer) RetireOld(_ context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return errClosed()
	}
	if err := s.findKEKs(); err != nil {
		return err
	}
	for v, o := range s.keks {
		if v >= s.current {
			continue
		}
		if err := s.ctx.DestroyObject(s.session, o); err != nil {
			return s.deviceErr(fmt.Sprintf("failed to destroy KEK version %d", v), err)
		}
		delete(s.keks, v)
	}
	return nil
}
