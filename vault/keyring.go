package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/durable"
)

// Keyring is the folder that holds every key the vault has, each only in
// sealed form: the log's checkpoint-signing key and one age identity per
// case, each sealed by the key sealer and each case identity also
// encrypted to the offline recovery recipient. Destroying a case's two
// files is crypto-shredding: its evidence can no longer be opened.
type Keyring struct {
	dir    string
	sealer hsm.Sealer
}

func newKeyring(dir string, sealer hsm.Sealer) (*Keyring, error) {
	if err := os.MkdirAll(filepath.Join(dir, "cases"), 0o700); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &Keyring{dir: dir, sealer: sealer}, nil
}

// caseFile names a case's key files by a hash of the case id, so the
// folder listing reveals no case names.
func (k *Keyring) caseFile(caseID, suffix string) string {
	sum := sha256.Sum256([]byte("custos case key\x00" + caseID))
	return filepath.Join(k.dir, "cases", hex.EncodeToString(sum[:16])+suffix)
}

// logKey returns the unsealed checkpoint-signing key and its public
// verifier key, creating both if create is set and none exist.
func (k *Keyring) logKey(ctx context.Context, create bool, recovery age.Recipient, gen func() (skey, vkey string, err error)) (skey []byte, vkey string, err error) {
	sealedPath := filepath.Join(k.dir, "log.key.sealed")
	pubPath := filepath.Join(k.dir, "log.pub")
	blob, err := os.ReadFile(sealedPath)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, "", fmt.Errorf("keyring %s has no log signing key, but the custody log is not empty: restore the keyring from backup", k.dir)
		}
		s, v, err := gen()
		if err != nil {
			return nil, "", err
		}
		sk := []byte(s)
		sealed, err := k.sealer.Seal(ctx, sk)
		if err != nil {
			return nil, "", fmt.Errorf("sealing the log signing key: %w", err)
		}
		if err := k.writeRecovery(filepath.Join(k.dir, "log.key.recovery.age"), sk, recovery); err != nil {
			return nil, "", err
		}
		if err := durable.WriteNew(pubPath, []byte(v+"\n")); err != nil {
			return nil, "", fmt.Errorf("keyring: %w", err)
		}
		if err := durable.WriteNew(sealedPath, sealed); err != nil {
			return nil, "", fmt.Errorf("keyring: %w", err)
		}
		return sk, v, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("keyring: %w", err)
	}
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		return nil, "", fmt.Errorf("keyring: %w", err)
	}
	sk, err := k.sealer.Unseal(ctx, blob)
	if err != nil {
		return nil, "", fmt.Errorf("unsealing the log signing key with %s: %w", k.sealer.KeyRef(), err)
	}
	return sk, strings.TrimSpace(string(pub)), nil
}

// newCaseKey creates a case's age identity and stores it sealed and
// encrypted to the recovery recipient. It returns the public recipient.
func (k *Keyring) newCaseKey(ctx context.Context, caseID string, recovery age.Recipient) (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	secret := []byte(id.String())
	defer hsm.Zero(secret)
	sealed, err := k.sealer.Seal(ctx, secret)
	if err != nil {
		return "", fmt.Errorf("sealing the case key: %w", err)
	}
	if err := k.writeRecovery(k.caseFile(caseID, ".recovery.age"), secret, recovery); err != nil {
		return "", err
	}
	if err := durable.WriteNew(k.caseFile(caseID, ".sealed"), sealed); err != nil {
		os.Remove(k.caseFile(caseID, ".recovery.age"))
		return "", fmt.Errorf("keyring: %w", err)
	}
	return id.Recipient().String(), nil
}

// writeRecovery stores secret encrypted (armored) to the offline recovery
// recipient.
func (k *Keyring) writeRecovery(path string, secret []byte, recovery age.Recipient) error {
	var rec bytes.Buffer
	aw := armor.NewWriter(&rec)
	w, err := age.Encrypt(aw, recovery)
	if err != nil {
		return err
	}
	w.Write(secret)
	if err := w.Close(); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	if err := durable.WriteNew(path, rec.Bytes()); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// openRecovery decrypts a recovery copy with the recovery identity.
func openRecovery(path string, recovery age.Identity) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := age.Decrypt(armor.NewReader(f), recovery)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, hsm.MaxSecret))
}

// caseIdentity unseals a case's age identity. The caller should drop it
// as soon as it is done; Go cannot zero the identity's internal copy.
func (k *Keyring) caseIdentity(ctx context.Context, caseID string) (*age.X25519Identity, error) {
	blob, err := os.ReadFile(k.caseFile(caseID, ".sealed"))
	if err != nil {
		return nil, fmt.Errorf("case key for %s is missing from the keyring: %w", caseID, err)
	}
	secret, err := k.sealer.Unseal(ctx, blob)
	if err != nil {
		return nil, fmt.Errorf("unsealing the key of case %s with %s: %w", caseID, k.sealer.KeyRef(), err)
	}
	defer hsm.Zero(secret)
	return age.ParseX25519Identity(string(secret))
}

// reseal seals a case identity again under the current sealer, from the
// recovery copy opened with the recovery identity (recover) or from the
// current sealed copy (rotation).
func (k *Keyring) resealFromRecovery(ctx context.Context, caseID string, recovery age.Identity) error {
	secret, err := openRecovery(k.caseFile(caseID, ".recovery.age"), recovery)
	if err != nil {
		return fmt.Errorf("opening the recovery copy of case %s: %w", caseID, err)
	}
	defer hsm.Zero(secret)
	return k.storeSealed(ctx, caseID, secret)
}

func (k *Keyring) storeSealed(ctx context.Context, caseID string, secret []byte) error {
	if _, err := age.ParseX25519Identity(string(secret)); err != nil {
		return fmt.Errorf("case %s: recovered key is not an age identity", caseID)
	}
	sealed, err := k.sealer.Seal(ctx, secret)
	if err != nil {
		return fmt.Errorf("sealing the key of case %s: %w", caseID, err)
	}
	return durable.Replace(k.caseFile(caseID, ".sealed"), sealed)
}

// resealLogKeyFromRecovery seals the log signing key again under the
// current sealer, from its recovery copy.
func (k *Keyring) resealLogKeyFromRecovery(ctx context.Context, recovery age.Identity) error {
	skey, err := openRecovery(filepath.Join(k.dir, "log.key.recovery.age"), recovery)
	if err != nil {
		return fmt.Errorf("opening the recovery copy of the log key: %w", err)
	}
	defer hsm.Zero(skey)
	return k.resealLogKey(ctx, skey)
}

// resealLogKey seals the log signing key again from its plaintext.
func (k *Keyring) resealLogKey(ctx context.Context, skey []byte) error {
	sealed, err := k.sealer.Seal(ctx, skey)
	if err != nil {
		return err
	}
	return durable.Replace(filepath.Join(k.dir, "log.key.sealed"), sealed)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
