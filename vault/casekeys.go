package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/smallfile"
)

// checkCaseKeys makes sure every live key (each live case's, and the
// reporter-contacts key) has its files before the vault serves anyone,
// and that they are the files the log recorded (docs/keys.md, "Key files
// on the record"): copies missing from the keyring folder, or other than
// recorded, are restored from their replicas where a replica is the
// recorded file; keys without replicas are replicated; the files of a
// key whose digests the log does not hold yet (from before they were
// recorded) are recorded as found (key.stored). A sealed file that is
// still not the recorded one is recorded again if it opens to its key's
// recipient (a re-sealing cut short between its record and its write),
// and otherwise recorded as a key problem (case.key.failed), as is one
// missing whose only replica is not the recorded file; a scrub lists
// every file that stays other than recorded. A case with no sealed copy
// left at all is named in the error that stops the start, with what to
// do. Cases whose loss a recovery recorded are not checked.
func (v *Vault) checkCaseKeys(ctx context.Context) error {
	have, err := v.keys.replicated(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, k := range v.liveKeys() {
		sealed, recovery, err := v.checkKeyFiles(ctx, k, have)
		if err != nil {
			return fmt.Errorf("%s: %w", k.label(), err)
		}
		switch {
		case !sealed && recovery:
			missing = append(missing, k.label()+" (only its recovery copy is left: run `custos admin recover` with the recovery identity)")
		case !sealed:
			missing = append(missing, k.label()+" (no copy of its key is left: restore the keyring folder from a backup, or let `custos admin recover` record the loss)")
		case !recovery:
			v.logger.Warn("a key has no recovery copy; if the sealer is lost, so is the key", "key", k.label())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d live key(s) have no usable key: %s", len(missing), strings.Join(missing, "; "))
	}
	return nil
}

// liveKey is a key the vault must hold: a live case's, or the
// reporter-contacts key (ID contactsKeyID).
type liveKey struct {
	ID        string
	Recipient string
	Files     KeyFiles // as the log recorded them
}

func (k liveKey) label() string {
	if k.ID == contactsKeyID {
		return "the reporter-contacts key"
	}
	return "case " + k.ID
}

// liveKeys lists the keys the vault must hold, in the order of their
// ids: every case neither destroyed nor recorded as lost, and the
// reporter-contacts key once the log records it.
func (v *Vault) liveKeys() []liveKey {
	var out []liveKey
	cases := v.state.allCases()
	slices.Sort(cases)
	for _, id := range cases {
		if c, _ := v.state.getCase(id); !c.Destroyed && !v.state.keyLost(id) {
			out = append(out, liveKey{ID: id, Recipient: c.Recipient, Files: v.state.keyFilesOf(id)})
		}
	}
	if r := v.state.contactsRecipient(); r != "" && !v.state.keyLost(contactsKeyID) {
		out = append(out, liveKey{ID: contactsKeyID, Recipient: r, Files: v.state.keyFilesOf(contactsKeyID)})
	}
	return out
}

// checkKeyFiles reconciles a live key's two files at a start
// (checkCaseKeys) and records what the log must learn of them. It
// returns whether each file exists afterwards as the log recorded it.
func (v *Vault) checkKeyFiles(ctx context.Context, k liveKey, have map[string]bool) (sealed, recovery bool, err error) {
	var found [2]keyFileState
	for i, suffix := range []string{sealedSuffix, recoverySuffix} {
		if found[i], err = v.keys.reconcile(ctx, k.ID, suffix, k.Files.digestOf(suffix), have); err != nil {
			return false, false, err
		}
		if found[i].Restored {
			v.logger.Warn("a key file was restored from its replica", "key", k.label(), "file", suffix)
		}
	}
	s, r := found[0], found[1]
	var record KeyFiles
	reason := "the key's files as a start found them, where the log held no digest of them (a case opened before key files were recorded)"
	if k.Files.Sealed == "" && s.Exists {
		record.Sealed = s.Digest
	}
	if k.Files.Recovery == "" && r.Exists {
		record.Recovery = r.Digest
	}
	// What a start cannot put back as recorded does not stop it (the
	// other keys' cases go on): a sealed file is recorded as a key
	// problem, and a scrub lists every such file until it is put right.
	var problem string
	switch {
	case k.Files.Sealed != "" && s.Exists && s.Digest != k.Files.Sealed:
		// Not the recorded file, and no replica is: a re-sealing cut
		// short between its record and its write leaves the file before
		// it, which still opens to the key's recipient. Anything else is
		// not the vault's.
		blob, err := smallfile.Read(v.keys.caseFile(k.ID, sealedSuffix), maxKeyFile)
		if err != nil {
			return false, false, fmt.Errorf("keyring: %w", err)
		}
		if _, oerr := v.keys.openSealed(ctx, k.ID, blob, k.Recipient); oerr == nil {
			record.Sealed = s.Digest
			reason = "the sealed file a start found is not the one last recorded and no replica is; it opens to the key's recipient, so it is recorded as the key's sealed file (a re-sealing cut short between its record and its write)"
		} else {
			problem = fmt.Sprintf("the sealed key file is not the one the log recorded, and no replica is (%v)", oerr)
		}
	case k.Files.Sealed != "" && !s.Exists && s.OtherReplica:
		problem = "the sealed key file is missing from the keyring folder, and its replica is not the file the log recorded"
	}
	if k.Files.Recovery != "" && (r.Exists && r.Digest != k.Files.Recovery || !r.Exists && r.OtherReplica) {
		v.logger.Error("a key's recovery copy is not the file the log recorded, and no replica is", "key", k.label())
	}
	if problem != "" {
		v.logger.Error("a sealed key file is not the one the log recorded", "key", k.label(), "problem", problem)
		if k.ID != contactsKeyID {
			if _, err := v.append(ctx, sequencer.Draft{Type: TypeCaseKeyFailed, Actor: System, Case: k.ID, Data: KeyFailed{
				Reason: problem + ": restore the keyring folder from a backup, or run `custos admin recover` with the recovery identity"}}); err != nil {
				return false, false, err
			}
		}
	}
	if record != (KeyFiles{}) {
		if _, err := v.append(ctx, v.keyStored(k.ID, record, reason, System)); err != nil {
			return false, false, err
		}
	}
	return s.Exists || s.OtherReplica, r.Exists || r.OtherReplica, nil
}

// keyStored is the draft of a key.stored event for the key id
// (contactsKeyID or a case's).
func (v *Vault) keyStored(id string, files KeyFiles, reason string, actor events.Actor) sequencer.Draft {
	d := sequencer.Draft{Type: TypeKeyStored, Actor: actor,
		Data: KeyStored{Key: keyStoredCase, KeyFiles: files, Sealer: v.cfg.Sealer.KeyRef(), Reason: reason}}
	if id == contactsKeyID {
		d.Data = KeyStored{Key: keyStoredContacts, KeyFiles: files, Sealer: v.cfg.Sealer.KeyRef(), Reason: reason}
	} else {
		d.Case = id
	}
	return d
}

// caseIdentity unseals the key of a case, bound to the recipient its
// opening recorded. A failure is recorded as a key problem
// (case.key.failed) and returned wrapping ErrKey.
func (v *Vault) caseIdentity(ctx context.Context, caseID, itemID string) (*age.X25519Identity, error) {
	c, ok := v.state.getCase(caseID)
	if !ok {
		return nil, fmt.Errorf("%w: no case %s", ErrNotFound, caseID)
	}
	id, err := v.keys.caseIdentity(ctx, caseID, c.Recipient)
	if err == nil {
		return id, nil
	}
	_, lerr := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeCaseKeyFailed, Actor: System,
		Case: caseID, Item: itemID, Data: KeyFailed{Reason: err.Error()}})
	v.logger.Error("case key problem", "case", caseID, "err", err)
	return nil, errors.Join(err, lerr)
}

// keyFileRef is one of a live key's files: its path in the keyring
// folder, and its digest as the log recorded it ("" where the log holds
// none).
type keyFileRef struct {
	Path   string
	Digest string
}

// liveKeyReplicas returns the replica prefixes (replicaPrefix) of the keys
// of every case that is not destroyed, and of the reporter-contacts key
// once the log records it, each with the key file in the keyring folder
// that its replicas copy.
func (v *Vault) liveKeyReplicas() map[string]keyFileRef {
	out := map[string]keyFileRef{}
	add := func(id string) {
		files := v.state.keyFilesOf(id)
		for _, suffix := range []string{sealedSuffix, recoverySuffix} {
			out[replicaPrefix(id, suffix)] = keyFileRef{Path: v.keys.caseFile(id, suffix), Digest: files.digestOf(suffix)}
		}
	}
	if v.state.contactsRecipient() != "" {
		add(contactsKeyID)
	}
	for _, id := range v.state.allCases() {
		if c, _ := v.state.getCase(id); !c.Destroyed {
			add(id)
		}
	}
	return out
}

// keysAltered lists, for a scrub, each file of a live key in the keyring
// folder that is not the one the log recorded (ScrubResult.KeysAltered):
// "LABEL: sealed file" or "LABEL: recovery copy", then why. Keys whose
// digests the log does not hold are not judged (the next start records
// them).
func (v *Vault) keysAltered(ctx context.Context) ([]string, error) {
	var out []string
	for _, k := range v.liveKeys() {
		for _, f := range []struct{ suffix, name string }{{sealedSuffix, "sealed file"}, {recoverySuffix, "recovery copy"}} {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			// A re-sealing records the new file and writes it under
			// keysMu (resealCase): the record read here is the one the
			// file was written for.
			// A destruction deletes the files under it too.
			v.keysMu.Lock()
			want := v.state.keyFilesOf(k.ID).digestOf(f.suffix)
			if c, _ := v.state.getCase(k.ID); c.Destroyed {
				want = ""
			}
			var b []byte
			var err error
			if want != "" {
				b, err = smallfile.Read(v.keys.caseFile(k.ID, f.suffix), maxKeyFile)
			}
			v.keysMu.Unlock()
			switch {
			case want == "":
			case errors.Is(err, fs.ErrNotExist):
				out = append(out, k.label()+": "+f.name+": missing from the keyring folder")
			case err != nil:
				out = append(out, k.label()+": "+f.name+": unreadable ("+err.Error()+")")
			case fileDigest(b) != want:
				out = append(out, k.label()+": "+f.name+": not the file the log recorded")
			}
		}
	}
	return out, nil
}
