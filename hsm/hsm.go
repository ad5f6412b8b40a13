// Package hsm defines how Custos keeps keys: every case's age identity and
// the log's signing key are stored only sealed by a key-encryption key (KEK)
// that never leaves a TPM, a PKCS#11 token or Vault Transit. One small
// interface, one sub-package per backend:
//
//   - tpm: a sealed data object under the TPM's storage root key (go-tpm)
//   - pkcs11: AES key wrap inside an HSM token
//   - transit: Vault Transit encrypt/decrypt/rewrap
//   - soft: a KEK in a file, for development only
//
// Sealed blobs are opaque to callers. Each backend marks its blobs with its
// own header so that a blob from another backend is refused, not misread.
package hsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Sealer seals and unseals short secrets (keys of up to MaxSecret bytes).
type Sealer interface {
	// Seal returns a blob that only this sealer's KEK can open.
	Seal(ctx context.Context, secret []byte) ([]byte, error)
	// Unseal returns the secret sealed in blob. The caller zeroes it when
	// done. A blob that was altered, or sealed by another device, token or
	// key, gives an error wrapping ErrUnseal; an unreachable device gives
	// one wrapping ErrUnavailable.
	Unseal(ctx context.Context, blob []byte) (Secret, error)
	// KeyRef names the KEK without revealing anything secret, for custody
	// events and logs ("tpm+tcp://127.0.0.1:2321 srk=ecc", "soft:/path").
	KeyRef() string
	// Close releases the device.
	Close() error
}

// Rotator is implemented by sealers that can move to a new KEK version.
// After Rotate, Seal uses the new version and Unseal still opens blobs of
// older versions until RetireOld destroys them.
type Rotator interface {
	Rotate(ctx context.Context) (newRef string, err error)
	RetireOld(ctx context.Context) error
}

// Rewrapper is implemented by sealers that can move a blob to the current
// KEK version. Where the device allows it (Vault Transit rewrap, PKCS#11
// unwrap then wrap inside the token) the secret never reaches the caller's
// memory; `custos admin rotate-kek` uses it after Rotate, and falls back to
// Unseal then Seal for sealers without it.
type Rewrapper interface {
	Rewrap(ctx context.Context, blob []byte) ([]byte, error)
}

// Secret is unsealed key material. Like secret.String, it never prints,
// logs or encodes its bytes (String, GoString, Format, LogValue and
// MarshalJSON give "[redacted]"); it converts to []byte where the bytes
// are needed, and its holder zeroes it (Zero) when done.
type Secret []byte

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "hsm.Secret([redacted])" }

// Format makes every verb print the redaction.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, "[redacted]")
}

// LogValue keeps the secret out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON encodes the redaction, never the bytes.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// MaxSecret is the largest secret a Sealer must accept: an age X25519
// identity string is 74 bytes; a note signing key about 100.
const MaxSecret = 256

var (
	// ErrUnseal means the blob cannot be opened by this sealer: altered,
	// truncated, or sealed under another KEK.
	ErrUnseal = errors.New("sealed key cannot be opened with this key-encryption key")
	// ErrUnavailable means the TPM, token or service cannot be reached.
	ErrUnavailable = errors.New("key sealer unavailable")
	// ErrTooLarge means the secret exceeds MaxSecret.
	ErrTooLarge = errors.New("secret too large to seal")
)

// Zero overwrites b. Go gives no guarantee that no other copy exists, but
// the buffers Custos owns are cleared when it is done with them.
func Zero(b []byte) {
	clear(b)
}
