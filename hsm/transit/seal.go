package transit

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/custos-vault/custos/hsm"
)

// Blob layout:
//
//	magic       18 bytes  "custos-transit-v1\x00"
//	keylen       1 byte   length of the key path
//	key         keylen    "MOUNT/KEY", the Transit key that sealed it
//	ciphertext  rest      Vault's ciphertext, "vault:vN:" + base64 of
//	                      nonce || AES-256-GCM ciphertext and tag
//
// The key path lets a blob of another key be refused without asking Vault.
// The base64 must be canonical: Go's decoder (Vault's) ignores the unused
// low bits of the last character, so a flipped bit there would otherwise
// still decrypt.
const magic = "custos-transit-v1\x00"

var ciphertextForm = regexp.MustCompile(`^vault:v[1-9][0-9]{0,9}:([A-Za-z0-9+/]+={0,2})$`)

func (s *Sealer) keyPath() string { return s.mount + "/" + s.key }

func (s *Sealer) encode(ciphertext string) []byte {
	kp := s.keyPath()
	out := make([]byte, 0, len(magic)+1+len(kp)+len(ciphertext))
	out = append(out, magic...)
	out = append(out, byte(len(kp)))
	out = append(out, kp...)
	return append(out, ciphertext...)
}

// decode returns the ciphertext of a blob sealed by this key.
func (s *Sealer) decode(blob []byte) (string, error) {
	if len(blob) < len(magic)+1 || string(blob[:len(magic)]) != magic {
		return "", fmt.Errorf("transit: %w: not a Transit-sealed blob", hsm.ErrUnseal)
	}
	r := blob[len(magic):]
	n := int(r[0])
	if len(r) < 1+n {
		return "", fmt.Errorf("transit: %w: truncated blob", hsm.ErrUnseal)
	}
	if kp := string(r[1 : 1+n]); kp != s.keyPath() {
		return "", fmt.Errorf("transit: %w: sealed by key %q, not %q", hsm.ErrUnseal, kp, s.keyPath())
	}
	ct := string(r[1+n:])
	m := ciphertextForm.FindStringSubmatch(ct)
	if m == nil {
		return "", fmt.Errorf("transit: %w: malformed Vault ciphertext", hsm.ErrUnseal)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(m[1])
	if err != nil || base64.StdEncoding.EncodeToString(raw) != m[1] || len(raw) < 12+16 {
		return "", fmt.Errorf("transit: %w: malformed Vault ciphertext", hsm.ErrUnseal)
	}
	return ct, nil
}

// Seal implements hsm.Sealer.
func (s *Sealer) Seal(ctx context.Context, secret []byte) ([]byte, error) {
	if len(secret) > hsm.MaxSecret {
		return nil, hsm.ErrTooLarge
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	// The base64 form is a string Go cannot clear; it lives only as long
	// as the request.
	sec, err := s.client.Logical().WriteWithContext(ctx, s.path("encrypt"), map[string]any{
		"plaintext": base64.StdEncoding.EncodeToString(secret),
	})
	if err != nil {
		return nil, s.unavailable("failed to encrypt", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("transit: Vault answered encrypt with nothing: %w", hsm.ErrUnavailable)
	}
	ct, err := ciphertextOf(sec.Data)
	if err != nil {
		return nil, err
	}
	return s.encode(ct), nil
}

func ciphertextOf(data map[string]any) (string, error) {
	ct, _ := data["ciphertext"].(string)
	if !ciphertextForm.MatchString(ct) {
		return "", fmt.Errorf("transit: Vault answered without a ciphertext")
	}
	return ct, nil
}

// Unseal implements hsm.Sealer.
func (s *Sealer) Unseal(ctx context.Context, blob []byte) (hsm.Secret, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ct, err := s.decode(blob)
	if err != nil {
		return nil, err
	}
	sec, err := s.client.Logical().WriteWithContext(ctx, s.path("decrypt"), map[string]any{"ciphertext": ct})
	if err != nil {
		return nil, s.refused("Vault refused to decrypt", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("transit: Vault answered decrypt with nothing: %w", hsm.ErrUnavailable)
	}
	b64, _ := sec.Data["plaintext"].(string)
	secret, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("transit: Vault's plaintext is not base64")
	}
	return secret, nil
}

// Rewrap implements hsm.Rewrapper: Vault re-encrypts the blob under the
// key's latest version; the secret never leaves Vault.
func (s *Sealer) Rewrap(ctx context.Context, blob []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ct, err := s.decode(blob)
	if err != nil {
		return nil, err
	}
	sec, err := s.client.Logical().WriteWithContext(ctx, s.path("rewrap"), map[string]any{"ciphertext": ct})
	if err != nil {
		return nil, s.refused("Vault refused to rewrap", err)
	}
	if sec == nil {
		return nil, fmt.Errorf("transit: Vault answered rewrap with nothing: %w", hsm.ErrUnavailable)
	}
	out, err := ciphertextOf(sec.Data)
	if err != nil {
		return nil, err
	}
	return s.encode(out), nil
}

// Rotate implements hsm.Rotator.
func (s *Sealer) Rotate(ctx context.Context) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	if _, err := s.client.Logical().WriteWithContext(ctx, s.path("keys")+"/rotate", nil); err != nil {
		return "", s.unavailable("failed to rotate the key", err)
	}
	if err := s.refresh(ctx); err != nil {
		return "", err
	}
	return s.KeyRef(), nil
}

// RetireOld implements hsm.Rotator: Vault stops decrypting ciphertexts of
// older versions, then deletes those versions.
func (s *Sealer) RetireOld(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	latest := s.version
	s.mu.Unlock()
	if _, err := s.client.Logical().WriteWithContext(ctx, s.path("keys")+"/config", map[string]any{
		"min_decryption_version": latest,
		"min_encryption_version": latest,
	}); err != nil {
		return s.unavailable("failed to set min_decryption_version", err)
	}
	if _, err := s.client.Logical().WriteWithContext(ctx, s.path("keys")+"/trim", map[string]any{
		"min_available_version": latest,
	}); err != nil {
		return s.unavailable(fmt.Sprintf("versions before %d are refused but not deleted: trim failed", latest), err)
	}
	return nil
}

// String keeps the sealer's token out of any %v formatting.
func (s *Sealer) String() string { return "transit sealer " + strings.TrimSpace(s.KeyRef()) }
