// Package soft is the development key sealer: its key-encryption key is a
// random 256-bit AES key in a 0600 file. Anyone who can read that file can
// open every case key, so the server refuses it outside --dev and warns on
// every start. It exists so that a developer or a trainer can run Custos on
// a laptop with no TPM.
package soft

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/smallfile"
)

// Warning is what the server prints on every start with this sealer.
const Warning = "DEVELOPMENT KEY SEALER: case keys are sealed with a key kept in a plain file; never use it for real evidence"

const (
	magic   = "custos-soft-v1\x00"
	keyFile = "kek"
)

// Config names the folder holding the key file.
type Config struct {
	Dir string
}

// Sealer is the development sealer.
type Sealer struct {
	dir  string
	aead cipher.AEAD
	id   [8]byte // first bytes of SHA-256(kek), binds blobs to this key

	closed atomic.Bool
}

var _ hsm.Sealer = (*Sealer)(nil)

// New opens the key in cfg.Dir, creating it on first use.
func New(_ context.Context, cfg Config) (*Sealer, error) {
	if cfg.Dir == "" {
		return nil, errors.New("soft sealer: no folder")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("soft sealer: %w", err)
	}
	path := filepath.Join(cfg.Dir, keyFile)
	kek, err := smallfile.Read(path, 4096)
	if errors.Is(err, fs.ErrNotExist) {
		kek = make([]byte, 32)
		rand.Read(kek)
		if err := durable.WriteNew(path, kek); err != nil {
			return nil, fmt.Errorf("soft sealer: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("soft sealer: %w", hsm.ErrUnavailable)
	}
	defer hsm.Zero(kek)
	if len(kek) != 32 {
		return nil, fmt.Errorf("soft sealer: %s holds %d bytes, not a 32-byte key", path, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s := &Sealer{dir: cfg.Dir, aead: aead}
	sum := sha256.Sum256(kek)
	copy(s.id[:], sum[:])
	return s, nil
}

// Seal implements hsm.Sealer: AES-256-GCM with a random nonce; the header
// and key id are authenticated as associated data.
func (s *Sealer) Seal(_ context.Context, secret []byte) ([]byte, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("soft sealer: closed: %w", hsm.ErrUnavailable)
	}
	if len(secret) > hsm.MaxSecret {
		return nil, hsm.ErrTooLarge
	}
	head := append([]byte(magic), s.id[:]...)
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	out := append(head, nonce...)
	return s.aead.Seal(out, nonce, secret, head), nil
}

// Unseal implements hsm.Sealer.
func (s *Sealer) Unseal(_ context.Context, blob []byte) (hsm.Secret, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("soft sealer: closed: %w", hsm.ErrUnavailable)
	}
	hl := len(magic) + len(s.id)
	ns := s.aead.NonceSize()
	if len(blob) < hl+ns+s.aead.Overhead() || string(blob[:len(magic)]) != magic {
		return nil, fmt.Errorf("soft sealer: %w: not a soft-sealed blob", hsm.ErrUnseal)
	}
	head, nonce, ct := blob[:hl], blob[hl:hl+ns], blob[hl+ns:]
	secret, err := s.aead.Open(nil, nonce, ct, head)
	if err != nil {
		return nil, fmt.Errorf("soft sealer: %w", hsm.ErrUnseal)
	}
	return secret, nil
}

// KeyRef implements hsm.Sealer.
func (s *Sealer) KeyRef() string { return fmt.Sprintf("soft:%s#%x", s.dir, s.id[:4]) }

// Close implements hsm.Sealer. A closed sealer refuses to seal or unseal,
// as the device-backed sealers do once their device is released.
func (s *Sealer) Close() error {
	s.closed.Store(true)
	return nil
}
