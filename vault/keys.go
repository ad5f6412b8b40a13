package vault

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/smallfile"
	"golang.org/x/mod/sumdb/note"
)

// RecoverResult describes a recovery: the cases whose keys were sealed
// again, and those whose key could not be recovered.
type RecoverResult struct {
	Sealer string   `json:"sealer"`
	Cases  []string `json:"cases"`
	// ContactsKey: the reporter-contacts key was sealed again too.
	ContactsKey bool      `json:"contacts_key,omitempty"`
	Lost        []LostKey `json:"lost"`
}

// Recover re-seals every key in the keyring under cfg.Sealer from the
// recovery copies (from the keyring folder, or their replicas in the
// object store), opened with the offline recovery identity: the way back
// after a TPM or HSM is lost, or after a keyring restored from an old
// backup. It runs with the server stopped. The log signing key is
// recovered first (the vault cannot append without it), then the log is
// opened and checked as at any start, and every live case key is
// re-sealed. A case whose key cannot be recovered does not stop the
// others: it is reported, and recorded as lost in the keys.recovered
// event, so that the vault starts again with the loss on the record.
func Recover(ctx context.Context, cfg Config, recovery age.Identity) (*RecoverResult, error) {
	keys, err := newKeyring(cfg.KeyringDir, cfg.Sealer, cfg.Objects)
	if err != nil {
		return nil, err
	}
	recorded := func() (string, error) { return recordedLogKey(ctx, cfg.Log) }
	signedHead := func(v note.Verifier) (bool, error) {
		// Every head kept (the object store's; the keyring's, unless it
		// was lost with the key) must be a checkpoint this key signed:
		// load refuses any other. None kept: the log's own record of its
		// key is all there is to compare with.
		_, _, err := newStickyHead(cfg.KeyringDir, cfg.Objects).load(ctx, v.Name(), v, false)
		return err == nil, err
	}
	if err := keys.resealLogKeyFromRecovery(ctx, recovery, recorded, signedHead); err != nil {
		return nil, err
	}
	cfg.skipKeyCheck = true
	v, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	all := v.state.allCases()
	sort.Strings(all)
	res := &RecoverResult{Sealer: cfg.Sealer.KeyRef(), Cases: []string{}, Lost: []LostKey{}}
	for _, id := range all {
		c, _ := v.state.getCase(id)
		if c.Destroyed {
			continue
		}
		if err := v.resealFromRecovery(ctx, id, c.Recipient, recovery); err != nil {
			if errors.Is(err, errNotRecorded) {
				return nil, err
			}
			res.Lost = append(res.Lost, LostKey{Case: id, Reason: err.Error()})
			continue
		}
		res.Cases = append(res.Cases, id)
	}
	// The reporter-contacts key, if the vault has one, is recovered as a
	// case key is; its loss is recorded under its keyring name.
	if r := v.state.contactsRecipient(); r != "" {
		if err := v.resealFromRecovery(ctx, contactsKeyID, r, recovery); err != nil {
			if errors.Is(err, errNotRecorded) {
				return nil, err
			}
			res.Lost = append(res.Lost, LostKey{Case: contactsKeyID, Reason: err.Error()})
		} else {
			res.ContactsKey = true
		}
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeKeysRecovered, Actor: System, Data: KeysResealed{
		Sealer: cfg.Sealer.KeyRef(), Cases: res.Cases, ContactsKey: res.ContactsKey, Lost: res.Lost,
		Reason: "recovered from the offline recovery identity",
	}})
	return res, err
}

// recordedLogKey reads the checkpoint key the custody log in store was
// opened with (its log.opened event, among its first events).
func recordedLogKey(ctx context.Context, store events.Store) (string, error) {
	var key string
	errDone := errors.New("done")
	n := 0
	err := store.Read(ctx, 0, func(r events.Record) error {
		if n++; n > 64 {
			return errDone
		}
		ev, err := events.Decode(r.Bytes)
		if err != nil {
			return fmt.Errorf("event %d: %w", r.Seq, err)
		}
		if ev.Type != TypeLogOpened {
			return nil
		}
		var d LogOpened
		if err := ev.DecodeData(&d); err != nil {
			return fmt.Errorf("event %d: %w", r.Seq, err)
		}
		key = d.CheckpointKey
		return errDone
	})
	if err != nil && !errors.Is(err, errDone) {
		return "", fmt.Errorf("reading the custody log's first events: %w", err)
	}
	if key == "" {
		return "", errors.New("the custody log records no log.opened among its first events (is it empty, or another vault's?): the log key cannot be told from a replica without it; restore the keyring folder from backup")
	}
	return key, nil
}

// errNotRecorded marks a failure to record a key's new files: nothing
// was written, and a recovery stops there.
var errNotRecorded = errors.New("not recorded")

// resealFromRecovery seals a key again under the current sealer from its
// recovery copy, records the new sealed file's digest (key.stored), and
// only then writes it.
func (v *Vault) resealFromRecovery(ctx context.Context, id, recipient string, recovery age.Identity) error {
	sealed, err := v.keys.sealFromRecovery(ctx, id, recipient, recovery)
	if err != nil {
		return err
	}
	return v.storeResealed(ctx, System, id, sealed, v.state.keyFilesOf(id).Sealed, "sealed again from the offline recovery identity")
}

// RotateResult describes a key-encryption-key rotation.
type RotateResult struct {
	Sealer  string   `json:"sealer"`
	Cases   []string `json:"cases"`
	Retired bool     `json:"retired"`
	// Skipped are the keys not re-sealed, each with why: their sealed
	// file was not the one the log recorded, nor was any replica (a key
	// problem, recorded as case.key.failed). While any is, old versions
	// are not retired.
	Skipped []LostKey `json:"skipped,omitempty"`
}

// RotateKEK moves every sealed key to a new key-encryption-key version.
// Evidence objects are untouched: only the small sealed blobs change. With
// retireOld, older KEK versions are destroyed afterwards.
func (v *Vault) RotateKEK(ctx context.Context, who Principal, retireOld bool) (*RotateResult, error) {
	if err := v.MayAsk(ctx, who, "keys.rotate", ""); err != nil {
		return nil, err
	}
	rot, ok := v.cfg.Sealer.(hsm.Rotator)
	if !ok {
		return nil, badInput("the sealer %s cannot rotate its key-encryption key", v.cfg.Sealer.KeyRef())
	}
	// No case is opened during a rotation: one opened after the list is
	// made but sealed under the old version would be lost when the old
	// version is retired.
	v.openMu.Lock()
	defer v.openMu.Unlock()
	var cases []string
	for _, id := range v.state.allCases() {
		if c, _ := v.state.getCase(id); !c.Destroyed && !v.state.keyLost(id) {
			cases = append(cases, id)
		}
	}
	sort.Strings(cases)
	// Recorded before the keys change, like every action.
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeKeysRotating, Actor: who.actor(), Data: KeysResealed{
		Sealer: v.cfg.Sealer.KeyRef(), Cases: cases, Reason: "key-encryption-key rotation"}}); err != nil {
		return nil, err
	}
	newRef, err := rot.Rotate(ctx)
	if err != nil {
		return nil, fmt.Errorf("rotating %s: %w", v.cfg.Sealer.KeyRef(), err)
	}
	logKey := filepath.Join(v.keys.dir, "log.key.sealed")
	blob, err := smallfile.Read(logKey, maxKeyFile)
	if err != nil {
		return nil, err
	}
	fresh, err := v.reseal(ctx, blob)
	if err != nil {
		return nil, fmt.Errorf("re-sealing the log key: %w", err)
	}
	if err := durable.Replace(logKey, fresh); err != nil {
		return nil, err
	}
	res := &RotateResult{Sealer: newRef, Cases: []string{}}
	for _, c := range cases {
		skipped, err := v.resealCase(ctx, who, c)
		if err != nil {
			return nil, err
		}
		if skipped != "" {
			res.Skipped = append(res.Skipped, LostKey{Case: c, Reason: skipped})
		} else {
			res.Cases = append(res.Cases, c)
		}
	}
	if v.state.contactsRecipient() != "" && !v.state.keyLost(contactsKeyID) {
		skipped, err := v.resealCase(ctx, who, contactsKeyID)
		if err != nil {
			return nil, fmt.Errorf("re-sealing the reporter-contacts key: %w", err)
		}
		if skipped != "" {
			res.Skipped = append(res.Skipped, LostKey{Case: contactsKeyID, Reason: skipped})
		}
	}
	// A key left under the old version is lost with it: nothing is
	// retired while one is.
	if retireOld && len(res.Skipped) == 0 {
		if err := rot.RetireOld(ctx); err != nil {
			return nil, fmt.Errorf("retiring old key versions: %w", err)
		}
		res.Retired = true
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeKeysRotated, Actor: who.actor(), Data: res})
	return res, err
}

// resealCase moves one key (a case's, or contactsKeyID) to the sealer's
// current KEK version: its sealed file as the log recorded it
// (recordedSealed) is re-sealed, the new file's digest recorded
// (key.stored), then written. It holds keysMu, as destruction does, and
// skips a case destroyed in the meantime: a rotation never writes back
// the key of a destroyed case. A key whose recorded file is not found is
// not re-sealed: skipped says why, and it is recorded as a key problem.
// A write that fails after its record is recorded as not written.
func (v *Vault) resealCase(ctx context.Context, who Principal, caseID string) (skipped string, err error) {
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	if c, _ := v.state.getCase(caseID); c.Destroyed {
		return "", nil
	}
	blob, problem, err := v.recordedSealed(ctx, caseID)
	if err != nil {
		return "", err
	}
	if problem != "" {
		if caseID != contactsKeyID {
			if _, err := v.append(ctx, sequencer.Draft{Type: TypeCaseKeyFailed, Actor: System, Case: caseID,
				Data: KeyFailed{Reason: problem + ": not re-sealed by the rotation; restore the keyring folder from a backup, or run `custos admin recover` with the recovery identity"}}); err != nil {
				return "", err
			}
		}
		v.logger.Error("a key was not re-sealed by the rotation", "key", liveKey{ID: caseID}.label(), "problem", problem)
		return problem, nil
	}
	fresh, err := v.reseal(ctx, blob)
	if err != nil {
		return "", fmt.Errorf("re-sealing the key of case %s: %w", caseID, err)
	}
	return "", v.storeResealed(ctx, who.actor(), caseID, fresh, fileDigest(blob), "sealed again by a key-encryption-key rotation")
}

// storeResealed records a key's new sealed file (key.stored) and then
// writes it. If the write fails, the file recorded before (before, ""
// if none) is recorded again, so that the record says what the keyring
// holds.
func (v *Vault) storeResealed(ctx context.Context, actor events.Actor, id string, fresh []byte, before, reason string) error {
	// Recorded before it is written, as every change of the vault's.
	if _, err := v.append(ctx, v.keyStored(id, KeyFiles{Sealed: fileDigest(fresh)}, reason, actor)); err != nil {
		return fmt.Errorf("%w: the new sealed file of %s: %w", errNotRecorded, liveKey{ID: id}.label(), err)
	}
	werr := v.keys.storeCaseFile(ctx, id, sealedSuffix, fresh)
	if werr != nil && before != "" {
		if _, err := v.append(context.WithoutCancel(ctx), v.keyStored(id, KeyFiles{Sealed: before},
			"the sealed file recorded just before was not written ("+werr.Error()+"): the file before it stays the key's", actor)); err != nil {
			v.logger.Error("could not record that a re-sealed key file was not written", "key", liveKey{ID: id}.label(), "err", err)
		}
	}
	return werr
}

// reseal moves one sealed blob to the sealer's current KEK version,
// inside the device where it can (Rewrapper).
func (v *Vault) reseal(ctx context.Context, blob []byte) ([]byte, error) {
	if rw, ok := v.cfg.Sealer.(hsm.Rewrapper); ok {
		return rw.Rewrap(ctx, blob)
	}
	secret, err := v.cfg.Sealer.Unseal(ctx, blob)
	if err != nil {
		return nil, err
	}
	defer hsm.Zero(secret)
	return v.cfg.Sealer.Seal(ctx, secret)
}
