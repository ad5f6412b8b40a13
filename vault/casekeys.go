package vault

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/objects"
)

// checkCaseKeys makes sure every live key (each live case's, and the
// reporter-contacts key) has its files before the vault serves anyone,
// and that they are the files the log recorded (docs/keys.md, "Key files
// on the record"); settleKeyFile says how, file by file. A key that
// cannot be put right is recorded as a key problem and does not stop
// the start; a live case with no copy of its sealed key left at all is
// named in the error that stops the start, with what to do. Keys whose
// loss a recovery recorded are not checked.
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
	Files     keyRecord // as the log recorded them
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
			out = append(out, liveKey{ID: id, Recipient: c.Recipient, Files: v.state.keyRecordOf(id)})
		}
	}
	if r := v.state.contactsRecipient(); r != "" && !v.state.keyLost(contactsKeyID) {
		out = append(out, liveKey{ID: contactsKeyID, Recipient: r, Files: v.state.keyRecordOf(contactsKeyID)})
	}
	return out
}

// maxReplicasRead bounds how many replicas of one key file a start reads
// looking for one it can take: the vault leaves one, or two after a
// write cut short; more are someone else's.
const maxReplicasRead = 8

// settled is what a start did with one of a key's files.
type settled struct {
	// Exists: some copy of the file is left, usable or not (a live case
	// with no sealed copy at all stops the start).
	Exists bool
	// Record is the digest to record (key.stored), Reason why; Problem
	// says why the file is not as recorded and could not be put right.
	Record, Reason, Problem string
}

// settleKeyFile puts one of a live key's files (suffix; replicas, the
// names of its replicas, oldest first) right at a start. The file in the
// keyring folder is taken if it is the recorded one; else the newest of
// the replicas that is (maxReplicasRead of them) is written back in its
// place: a write cut short after its replica, or a keyring folder
// restored from a backup older than a re-sealing. A sealed file that is
// the one the last key.stored replaced (PriorSealed), with a replica of
// it and none of the recorded one, while that re-sealing is unfinished
// (keyRecord.Unfinished), and that opens to the key's recipient, is
// recorded again: a re-sealing cut short between its record and its
// replica leaves exactly that. Where the log holds no digest
// (a key of a case opened before they were recorded), a sealed file is
// taken, and recorded, only if it opens to the key's recipient, and a
// recovery copy, which only the offline identity opens, as found. Every
// file is read once: what is judged is what is recorded and written.
// Replicas of the sealed file that the last re-sealing replaced are
// deleted, as that write would have; any other replica is left for a
// scrub to report. An error is the store's or the keyring folder's.
func (v *Vault) settleKeyFile(ctx context.Context, k liveKey, suffix string, replicas []string) (settled, error) {
	want, prior, unfinished := k.Files.digestOf(suffix), "", false
	if suffix == sealedSuffix {
		prior, unfinished = k.Files.PriorSealed, k.Files.Unfinished
	}
	// opens: whether a sealed file opens to the key's recipient; a
	// sealer that cannot be reached stops the start (unavailable), never
	// counts as a file that does not open.
	var unavailable error
	opens := func(b []byte) bool {
		secret, err := v.cfg.Sealer.Unseal(ctx, b)
		if errors.Is(err, hsm.ErrUnavailable) {
			unavailable = err
		}
		if err != nil {
			return false
		}
		defer hsm.Zero(secret)
		_, err = boundIdentity(k.ID, secret, k.Recipient)
		return err == nil
	}
	accept := func(b []byte) bool {
		switch {
		case b == nil || unavailable != nil:
			return false
		case want != "":
			return fileDigest(b) == want
		case suffix == sealedSuffix:
			return opens(b)
		}
		return true
	}
	local, present := v.keys.readLocal(k.ID, suffix)
	out := settled{Exists: present || len(replicas) > 0}
	took, from := local, -1 // from: the replica written back, if any
	priorReplica := false   // a replica of the file the last re-sealing replaced
	if !accept(local) {
		took = nil
		b, i := v.writeBackReplica(ctx, k, suffix, replicas, accept, func(b []byte) {
			priorReplica = priorReplica || prior != "" && fileDigest(b) == prior
		})
		switch {
		case i >= 0 && b == nil:
			// Something else is in its place (a folder, say): a problem
			// of this key, not of the others.
			out.Problem = fmt.Sprintf("the %s could not be written back from its replica %s, which is the one the log recorded", keyFileName(suffix), replicas[i])
			return out, nil
		case i >= 0:
			took, from = b, i
		}
	}
	// A re-sealing cut short between its record and its replica leaves
	// the file before it both in the folder and as a replica, and no
	// copy of the new one.
	adopt := took == nil && unfinished && priorReplica && local != nil && fileDigest(local) == prior && opens(local)
	if unavailable != nil {
		return out, fmt.Errorf("checking its key with the sealer: %w", unavailable)
	}
	switch {
	case adopt:
		took = local
		out.Record, out.Reason = prior, "the sealed file a start found, and a replica of it, are the ones before the last re-sealing recorded, which was not finished (no keys.rotated, keys.recovered or start followed it), and no copy of the file it recorded was found; the file found opens to the key's recipient, so it is recorded as the key's sealed file again"
	case took == nil && want != "":
		out.Problem = "the " + keyFileName(suffix) + " is not the one the log recorded, and no replica is"
		if !present {
			out.Problem = "the " + keyFileName(suffix) + " is missing from the keyring folder, and no replica is the one the log recorded"
		}
		return out, nil
	case took == nil && suffix == sealedSuffix && out.Exists:
		out.Problem = "the log holds no digest of the sealed key file, and neither it nor a replica opens to the key's recipient"
		return out, nil
	case took == nil:
		return out, nil
	case want == "":
		out.Record, out.Reason = fileDigest(took), "the key's files as a start found them, where the log held no digest of them (a case opened before key files were recorded); a sealed file is taken only if it opens to the key's recipient, a recovery copy as found"
	}
	out.Exists = true
	if v.keys.replica == nil {
		return out, nil
	}
	// The replicas: one of the file taken, and none of the file the last
	// re-sealing replaced. A key's one replica is not read at every
	// start (a scrub judges it), unless the file is recorded now.
	if len(replicas) == 1 && (from == 0 || out.Record == "") {
		return out, nil
	}
	// Newest first: the newest copy of the file taken is kept, older
	// copies of it deleted (a key file needs one replica, and a start
	// reads a key's replicas while it has more).
	sum, held := fileDigest(took), from >= 0
	for i := len(replicas) - 1; i >= 0 && i >= len(replicas)-maxReplicasRead*8; i-- {
		if i == from {
			continue
		}
		b := v.readReplicaOrSkip(ctx, k, replicas[i])
		switch d := fileDigest(b); {
		case b == nil:
		case d == sum && !held:
			held = true
		case d == sum, prior != "" && d == prior:
			if err := v.keys.replica.Delete(ctx, replicas[i]); err != nil && !errors.Is(err, objects.ErrNotFound) {
				v.logger.Warn("could not delete an older replica of a key file", "key", k.label(), "replica", replicas[i], "err", err)
			}
		}
	}
	if !held {
		if _, err := v.keys.replicate(ctx, k.ID, suffix, took); err != nil {
			return out, err
		}
	}
	return out, nil
}

// recordedSealed returns the sealed file of a live key (a case's, or
// contactsKeyID) as the log recorded it: the file in the keyring folder
// if it is that file, else the newest of the replicas that is (of the
// newest maxReplicasRead), written back in its place. problem says why
// there is none: no digest recorded, or no copy that is the recorded
// file. keysMu is held.
func (v *Vault) recordedSealed(ctx context.Context, id string) (blob []byte, problem string, err error) {
	want := v.state.keyFilesOf(id).Sealed
	if want == "" {
		return nil, "the log holds no digest of the sealed key file (a start records it)", nil
	}
	if b, present := v.keys.readLocal(id, sealedSuffix); present && b != nil && fileDigest(b) == want {
		return b, "", nil
	}
	if v.keys.replica != nil {
		names, err := v.keys.replicas(ctx, id, sealedSuffix)
		if err != nil {
			return nil, "", err
		}
		b, i := v.writeBackReplica(ctx, liveKey{ID: id}, sealedSuffix, names, func(b []byte) bool { return fileDigest(b) == want }, nil)
		switch {
		case i >= 0 && b == nil:
			return nil, "the sealed key file is not the one the log recorded, and could not be written back from its replica", nil
		case i >= 0:
			return b, "", nil
		}
	}
	return nil, "the sealed key file is not the one the log recorded, and no replica is", nil
}

// writeBackReplica looks through the newest maxReplicasRead of a key
// file's replicas (names oldest first), newest first, for one whose
// bytes accept takes, and writes it back in place of the file in the
// keyring folder. It returns the bytes and the replica's index; nil
// bytes with an index if the file could not be written (logged), and
// -1 if no replica is taken. seen, if set, is called with each replica
// read. One that cannot be read is passed over (readReplicaOrSkip).
func (v *Vault) writeBackReplica(ctx context.Context, k liveKey, suffix string, replicas []string, accept func([]byte) bool, seen func([]byte)) ([]byte, int) {
	for i := len(replicas) - 1; i >= 0 && i >= len(replicas)-maxReplicasRead; i-- {
		b := v.readReplicaOrSkip(ctx, k, replicas[i])
		if b == nil {
			continue
		}
		if seen != nil {
			seen(b)
		}
		if !accept(b) {
			continue
		}
		if err := v.keys.restore(k.ID, suffix, b); err != nil {
			v.logger.Error("a key file could not be written back from its replica", "key", k.label(), "file", suffix, "replica", replicas[i], "err", err)
			return nil, i
		}
		v.logger.Warn("a key file was written back from its replica", "key", k.label(), "file", suffix, "replica", replicas[i])
		return b, i
	}
	return nil, -1
}

// readReplicaOrSkip reads a key replica for a start: nil if it cannot
// be read, which is logged; one replica that cannot be read (an object
// in an archive tier, a file the server may not open) is no reason to
// refuse every case (listing the store is, as is an unreachable sealer).
func (v *Vault) readReplicaOrSkip(ctx context.Context, k liveKey, name string) []byte {
	b, err := v.keys.readReplica(ctx, name)
	if err != nil {
		v.logger.Warn("a key replica could not be read; it is not taken", "key", k.label(), "replica", name, "err", err)
		return nil
	}
	return b
}

// keyringStrays lists the files of the keyring's cases folder that are
// no live key's: a destroyed case's key back (its files are deleted by
// the destruction), or anything under a name no key has. Files of keys
// a recovery recorded as lost are what the loss left, and not listed.
func (v *Vault) keyringStrays() ([]string, error) {
	// The folder is read first, without holding anything: a flooded
	// folder keeps no case from being opened meanwhile.
	cases := filepath.Join(v.keys.dir, "cases")
	ents, err := os.ReadDir(cases)
	if err != nil {
		return nil, fmt.Errorf("reading the keyring folder: %w", err)
	}
	// Then judged against the cases, with no opening writing its key's
	// files (it holds openMu from them to its case.opened, so a file
	// read above is of a case opened by now) and no destruction
	// deleting them (keysMu: a file is judged only if it is still
	// there).
	v.openMu.Lock()
	defer v.openMu.Unlock()
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	type whose struct {
		id   string
		kind int
	}
	const (
		live = iota
		lost
		destroyed
		destroying // approved, its case.destroyed not yet recorded
	)
	known := map[string]whose{}
	add := func(id string, kind int) {
		for _, suffix := range []string{sealedSuffix, recoverySuffix} {
			known[caseHash(id)+suffix] = whose{id, kind}
		}
	}
	for _, id := range v.state.allCases() {
		c, _ := v.state.getCase(id)
		switch {
		case c.Destroyed && !c.Shredded:
			add(id, destroying)
		case c.Destroyed:
			add(id, destroyed)
		case v.state.keyLost(id):
			add(id, lost)
		default:
			add(id, live)
		}
	}
	if v.state.contactsRecipient() != "" {
		kind := live
		if v.state.keyLost(contactsKeyID) {
			kind = lost
		}
		add(contactsKeyID, kind)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		k, ok := known[name]
		if ok && k.kind == live {
			continue
		}
		fi, err := os.Lstat(filepath.Join(cases, name))
		if err != nil {
			continue // gone since the folder was read
		}
		switch {
		case !ok:
			out = append(out, "the keyring folder: "+objects.EntryName(name)+": a file of no key the vault holds")
		case k.kind == lost:
			// What the loss left is not judged, but nothing larger than
			// a key file, or other than a plain file, is one.
			if !fi.Mode().IsRegular() || fi.Size() > maxKeyFile {
				out = append(out, "the keyring folder: "+objects.EntryName(name)+": a file of a lost key that is not a key file (not a plain file, or larger than 64 KiB)")
			}
		case k.kind == destroying:
			out = append(out, "case "+k.id+" (destroyed; its destruction is not finished: a custodian approves it again, or the next start finishes it): "+keyFileName(name[32:])+" still in the keyring folder")
		default:
			out = append(out, "case "+k.id+" (destroyed): "+keyFileName(name[32:])+": a copy of a destroyed case's key in the keyring folder (a backup taken before the destruction restored, or put there; the next start removes it)")
		}
	}
	return out, nil
}

// keyFileName names one of a key's files in words.
func keyFileName(suffix string) string {
	if suffix == sealedSuffix {
		return "sealed key file"
	}
	return "key's recovery copy"
}

// checkKeyFiles settles a live key's two files at a start
// (checkCaseKeys) and records what the log must learn of them: the
// digests to record (key.stored), and a file that could not be put
// right as a key problem (case.key.failed; for the reporter-contacts
// key, which names no case, the server's log says it). It returns
// whether any copy of each file is left.
func (v *Vault) checkKeyFiles(ctx context.Context, k liveKey, have map[string][]string) (sealed, recovery bool, err error) {
	var record KeyFiles
	reason := ""
	var found [2]settled
	for i, suffix := range []string{sealedSuffix, recoverySuffix} {
		if found[i], err = v.settleKeyFile(ctx, k, suffix, have[replicaPrefix(k.ID, suffix)]); err != nil {
			return false, false, err
		}
		if f := found[i]; f.Record != "" {
			if suffix == sealedSuffix {
				record.Sealed = f.Record
			} else {
				record.Recovery = f.Record
			}
			if reason == "" {
				reason = f.Reason
			}
		}
		if p := found[i].Problem; p != "" {
			v.logger.Error("a key file is not the one the log recorded, and no copy that is was found", "key", k.label(), "problem", p)
		}
	}
	// A problem of either file is recorded: the sealed file's makes the
	// case's items unreadable, the recovery copy's leaves the key with
	// no escrow if the sealer is lost.
	var problems []string
	if p := found[0].Problem; p != "" {
		problems = append(problems, p+": restore the keyring folder from a backup, or run `custos admin recover` with the recovery identity")
	}
	if p := found[1].Problem; p != "" {
		problems = append(problems, p+" (the key's escrow: if the sealer is lost, so is the key): restore the keyring folder from a backup")
	}
	if len(problems) > 0 && k.ID != contactsKeyID {
		if _, err := v.append(ctx, sequencer.Draft{Type: TypeCaseKeyFailed, Actor: System, Case: k.ID, Data: KeyFailed{
			Reason: strings.Join(problems, "; ")}}); err != nil {
			return false, false, err
		}
	}
	if record != (KeyFiles{}) {
		if _, err := v.append(ctx, v.keyStored(k.ID, record, reason, System)); err != nil {
			return false, false, err
		}
	}
	return found[0].Exists, found[1].Exists, nil
}

// keyStored is the draft of a key.stored event for the key id
// (contactsKeyID, logKeyID or a case's).
func (v *Vault) keyStored(id string, files KeyFiles, reason string, actor events.Actor) sequencer.Draft {
	d := sequencer.Draft{Type: TypeKeyStored, Actor: actor,
		Data: KeyStored{Key: keyStoredCase, KeyFiles: files, Sealer: v.cfg.Sealer.KeyRef(), Reason: reason}}
	switch id {
	case contactsKeyID:
		d.Data = KeyStored{Key: keyStoredContacts, KeyFiles: files, Sealer: v.cfg.Sealer.KeyRef(), Reason: reason}
	case logKeyID:
		d.Data = KeyStored{Key: keyStoredLog, KeyFiles: files, Sealer: v.cfg.Sealer.KeyRef(), Reason: reason}
	default:
		d.Case = id
	}
	return d
}

// logKeyID is the log signing key's id in the key records (keyFiles):
// only its recovery copy is recorded (key.stored, key "log").
const logKeyID = "~log-key"

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

// keyFileRef is one of a live key's files: the key's id, which file, and
// its path in the keyring folder.
type keyFileRef struct {
	ID, Suffix, Path string
}

// liveKeyReplicas returns the replica prefixes (replicaPrefix) of the keys
// of every case that is not destroyed, and of the reporter-contacts key
// once the log records it, each with the key file in the keyring folder
// that its replicas copy.
func (v *Vault) liveKeyReplicas() map[string]keyFileRef {
	out := map[string]keyFileRef{}
	add := func(id string) {
		for _, suffix := range []string{sealedSuffix, recoverySuffix} {
			out[replicaPrefix(id, suffix)] = keyFileRef{ID: id, Suffix: suffix, Path: v.keys.caseFile(id, suffix)}
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

// scrubKeys are the key replicas a scrub judges as the vault's
// (liveKeyReplicas), looked up again when the log has grown since they
// were listed: a case opened while the scrub lists the store is judged
// as the vault's case it now is.
type scrubKeys struct {
	v    *Vault
	refs map[string]keyFileRef
	at   uint64 // the log's size when refs were listed
}

func (v *Vault) newScrubKeys() *scrubKeys {
	v.openMu.Lock()
	defer v.openMu.Unlock()
	return &scrubKeys{v: v, refs: v.liveKeyReplicas(), at: v.log.Size()}
}

// lookup returns the key file a replica prefix copies. An opening under
// way (openMu, from its key's files to its case.opened) is waited for.
func (k *scrubKeys) lookup(prefix string) (keyFileRef, bool) {
	if r, ok := k.refs[prefix]; ok {
		return r, true
	}
	k.v.openMu.Lock()
	defer k.v.openMu.Unlock()
	if size := k.v.log.Size(); size != k.at {
		k.refs, k.at = k.v.liveKeyReplicas(), size
	}
	r, ok := k.refs[prefix]
	return r, ok
}

// keysAltered lists, for a scrub, each file of a live key in the keyring
// folder that is not the one the log recorded (ScrubResult.KeysAltered):
// "LABEL: sealed file" or "LABEL: recovery copy", then why; and every
// other file the keyring's cases folder holds but those of keys a
// recovery recorded as lost (keyringStrays). Keys whose digests the log
// does not hold are not judged (the next start records them). Sorted.
func (v *Vault) keysAltered(ctx context.Context) (out []string, err error) {
	defer func() { slices.Sort(out) }()
	// The folder that cannot be read does not keep the live keys from
	// being judged: both are reported.
	var straysErr error
	out, straysErr = v.keyringStrays()
	defer func() { err = errors.Join(straysErr, err) }()
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
				b, err = smallfile.ReadNoLink(v.keys.caseFile(k.ID, f.suffix), maxKeyFile)
			}
			v.keysMu.Unlock()
			switch {
			case want == "":
			case errors.Is(err, fs.ErrNotExist):
				out = append(out, k.label()+": "+f.name+": missing from the keyring folder")
			case err != nil:
				v.logger.Error("a key file cannot be read", "key", k.label(), "file", f.suffix, "err", err)
				out = append(out, k.label()+": "+f.name+": not a file the vault can read (a folder, a link, larger than a key file, or unreadable: the server's log says why)")
			case fileDigest(b) != want:
				out = append(out, k.label()+": "+f.name+": not the file the log recorded")
			}
		}
	}
	// The log key's recovery copy, judged by its record as its replicas
	// are (a start writes a copy that is not the recorded one back).
	if want := v.recordedLogRecovery(); want != "" {
		b, err := smallfile.ReadNoLink(v.keys.logRecoveryFile(), maxKeyFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, "the log key: recovery copy: missing from the keyring folder")
		case err != nil:
			out = append(out, "the log key: recovery copy: not a file the vault can read")
		case fileDigest(b) != want:
			out = append(out, "the log key: recovery copy: not the file the log recorded")
		}
	}
	return out, nil
}

// recordedLogRecovery is the SHA-256 of the log key's recovery copy as
// the log recorded it: its newest key.stored (key "log"), else its
// log.opened; "" for a log opened before it was recorded, until its
// next start records it.
func (v *Vault) recordedLogRecovery() string {
	if d := v.state.keyRecordOf(logKeyID).Recovery; d != "" {
		return d
	}
	return v.state.logInfo().RecoveryCopy
}

// settleLogRecovery keeps the log key's recovery copy on the record and
// replicated, at a start. The copy recorded is always one the vault can
// vouch for: a log that records none yet (opened before it was
// recorded) records, writes and replicates a copy made now from the
// key itself (v.freshRecovery), never the keyring's as found, which
// anyone may have planted (anyone may encrypt to the recovery
// recipient). A keyring copy that is not the recorded one (altered, or
// missing) is written back from a replica that is; where none is, a
// copy made now is recorded in its place. Replicas that are not the
// recorded copy are left for a scrub to list.
func (v *Vault) settleLogRecovery(ctx context.Context) error {
	k := v.keys
	local, lerr := smallfile.ReadNoLink(k.logRecoveryFile(), maxKeyFile)
	recorded := v.recordedLogRecovery()
	if recorded != "" && (lerr != nil || fileDigest(local) != recorded) {
		b, name, err := k.logRecoveryReplica(ctx, recorded)
		if err != nil {
			return err
		}
		if b != nil {
			if err := durable.Replace(k.logRecoveryFile(), b); err != nil {
				return fmt.Errorf("keyring: writing the log key's recovery copy back from its replica: %w", err)
			}
			v.logger.Warn("the log key's recovery copy in the keyring was not the one the log recorded; written back from its replica", "replica", name)
			local, lerr = b, nil
		} else {
			v.logger.Error("the log key's recovery copy in the keyring is not the one the log recorded, and no replica is: a new one is made from the key and recorded")
			recorded = ""
		}
	}
	if recorded == "" {
		if len(v.freshRecovery) == 0 {
			return errors.New("no recovery copy of the log key was made at this start")
		}
		local = v.freshRecovery
		reason := "the log key's recovery copy, made at this start from the key itself and encrypted to the recovery recipient, recorded to judge its copies in the keyring and the object store (logkey/) by"
		if _, err := v.append(ctx, v.keyStored(logKeyID, KeyFiles{Recovery: fileDigest(local)}, reason, System)); err != nil {
			return err
		}
		if err := durable.Replace(k.logRecoveryFile(), local); err != nil {
			return fmt.Errorf("keyring: writing the log key's recovery copy: %w", err)
		}
	}
	return k.replicateLogRecovery(ctx, local)
}
