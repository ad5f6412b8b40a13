package vault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/durable"
)

// Recover re-seals every key in the keyring under cfg.Sealer from the
// recovery copies, opened with the offline recovery identity: the way
// back after a TPM or HSM is lost. It runs with the server stopped. The
// log signing key is recovered first (the vault cannot append without
// it), then the log is opened and checked as at any start, every case key
// is re-sealed, and the recovery is recorded.
func Recover(ctx context.Context, cfg Config, recovery age.Identity) ([]string, error) {
	keys, err := newKeyring(cfg.KeyringDir, cfg.Sealer)
	if err != nil {
		return nil, err
	}
	if err := keys.resealLogKeyFromRecovery(ctx, recovery); err != nil {
		return nil, err
	}
	v, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	cases := v.state.allCases()
	sort.Strings(cases)
	for _, c := range cases {
		if err := keys.resealFromRecovery(ctx, c, recovery); err != nil {
			return nil, err
		}
	}
	_, err = v.log.Append(ctx, sequencer.Draft{Type: TypeKeysRecovered, Actor: System, Data: KeysResealed{
		Sealer: cfg.Sealer.KeyRef(), Cases: cases, Reason: "recovered from the offline recovery identity after the previous sealer was lost",
	}})
	return cases, err
}

// RotateResult describes a key-encryption-key rotation.
type RotateResult struct {
	Sealer  string   `json:"sealer"`
	Cases   []string `json:"cases"`
	Retired bool     `json:"retired"`
}

// RotateKEK moves every sealed key to a new key-encryption-key version.
// Evidence objects are untouched: only the small sealed blobs change. With
// retireOld, older KEK versions are destroyed afterwards.
func (v *Vault) RotateKEK(ctx context.Context, who Principal, retireOld bool) (*RotateResult, error) {
	if who.Role != RoleCustodian {
		return nil, v.refuse(ctx, who, "keys.rotate", "", "only custodians rotate key-encryption keys", ErrForbidden)
	}
	rot, ok := v.cfg.Sealer.(hsm.Rotator)
	if !ok {
		return nil, badInput("the sealer %s cannot rotate its key-encryption key", v.cfg.Sealer.KeyRef())
	}
	cases := v.state.allCases()
	sort.Strings(cases)
	// Recorded before the keys change, like every action.
	if _, err := v.log.Append(ctx, sequencer.Draft{Type: TypeKeysRotating, Actor: who.actor(), Data: KeysResealed{
		Sealer: v.cfg.Sealer.KeyRef(), Cases: cases, Reason: "key-encryption-key rotation"}}); err != nil {
		return nil, err
	}
	newRef, err := rot.Rotate(ctx)
	if err != nil {
		return nil, fmt.Errorf("rotating %s: %w", v.cfg.Sealer.KeyRef(), err)
	}
	paths := []string{filepath.Join(v.keys.dir, "log.key.sealed")}
	for _, c := range cases {
		paths = append(paths, v.keys.caseFile(c, ".sealed"))
	}
	for _, p := range paths {
		if err := v.reseal(ctx, p); err != nil {
			return nil, err
		}
	}
	if retireOld {
		if err := rot.RetireOld(ctx); err != nil {
			return nil, fmt.Errorf("retiring old key versions: %w", err)
		}
	}
	res := &RotateResult{Sealer: newRef, Cases: cases, Retired: retireOld}
	_, err = v.log.Append(ctx, sequencer.Draft{Type: TypeKeysRotated, Actor: who.actor(), Data: res})
	return res, err
}

// reseal moves one sealed blob to the sealer's current KEK version,
// inside the device where it can (Rewrapper).
func (v *Vault) reseal(ctx context.Context, path string) error {
	blob, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var fresh []byte
	if rw, ok := v.cfg.Sealer.(hsm.Rewrapper); ok {
		fresh, err = rw.Rewrap(ctx, blob)
	} else {
		var secret []byte
		if secret, err = v.cfg.Sealer.Unseal(ctx, blob); err == nil {
			fresh, err = v.cfg.Sealer.Seal(ctx, secret)
			hsm.Zero(secret)
		}
	}
	if err != nil {
		return fmt.Errorf("re-sealing %s: %w", filepath.Base(path), err)
	}
	return durable.Replace(path, fresh)
}
