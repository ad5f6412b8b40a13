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
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/objects"
	"golang.org/x/mod/sumdb/note"
)

// Keyring holds every key the vault has, each only in sealed form: the
// log's checkpoint-signing key and one age identity per case, each sealed
// by the key sealer and each also encrypted to the offline recovery
// recipient.
//
// The keys live in a local folder, and every case key (both copies) is
// also replicated into the object store under "key/", written before the
// case's opening is recorded. A keyring folder restored from a backup
// older than a case therefore loses nothing: the missing files are
// restored from the replica at the next start. Replicas carry no
// retention, so that destroying a case's keys under a court order
// (crypto-shredding) deletes every copy.
//
// A case key is bound to its case by the case's recipient, recorded in
// the signed case.opened event: a key that does not open to that
// recipient is reported as a key problem (ErrKey), never as evidence
// tampering.
type Keyring struct {
	dir     string
	sealer  hsm.Sealer
	replica objects.Store
}

func newKeyring(dir string, sealer hsm.Sealer, replica objects.Store) (*Keyring, error) {
	cases := filepath.Join(dir, "cases")
	if err := os.MkdirAll(cases, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	// A write cut short by a crash leaves its temporary file
	// (durable.Replace's ".NAME.tmp-N"); the file it was to replace is
	// whole. Removed at every start, so that a scrub does not list it.
	if ents, err := os.ReadDir(cases); err == nil {
		for _, e := range ents {
			if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
				os.Remove(filepath.Join(cases, n))
			}
		}
	}
	return &Keyring{dir: dir, sealer: sealer, replica: replica}, nil
}

// Suffixes of a case's key files, and the kinds of its replicas.
const (
	sealedSuffix   = ".sealed"
	recoverySuffix = ".recovery.age"
)

var replicaKind = map[string]string{sealedSuffix: "s", recoverySuffix: "r"}

// caseHash names a case's key files and replicas by a hash of the case
// id, so that no listing reveals case names.
func caseHash(caseID string) string {
	sum := sha256.Sum256([]byte("custos case key\x00" + caseID))
	return hex.EncodeToString(sum[:16])
}

func (k *Keyring) caseFile(caseID, suffix string) string {
	return filepath.Join(k.dir, "cases", caseHash(caseID)+suffix)
}

// replicaPrefix is the object-name prefix of one kind of a case's
// replicas; each write adds "-" and a 16-digit hex time, so names sort by
// age and a replica is never overwritten.
func replicaPrefix(caseID, suffix string) string {
	return "key/" + caseHash(caseID) + "-" + replicaKind[suffix]
}

// storeCaseFile writes one of a case's key files as a new replica and
// then locally, and then deletes the older replicas of that kind. The
// replica goes first: a start that finds the local file is not the one
// the log recorded restores it from the newest replica
// (Vault.checkCaseKeys), so a write cut short between the two is
// finished there, where the other order would leave a replica older
// than its file that no start would notice.
func (k *Keyring) storeCaseFile(ctx context.Context, caseID, suffix string, b []byte) error {
	var old []string
	if k.replica != nil {
		var err error
		if old, err = k.replicas(ctx, caseID, suffix); err != nil {
			return err
		}
		name, err := k.replicate(ctx, caseID, suffix, b)
		if err != nil {
			return err
		}
		old = slices.DeleteFunc(old, func(o string) bool { return o == name })
	}
	if err := durable.Replace(k.caseFile(caseID, suffix), b); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	for _, o := range old {
		k.replica.Delete(ctx, o) // an older copy left behind is replaced at the next write
	}
	return nil
}

// fileDigest is the digest KeyFiles records of a key file's bytes.
func fileDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// isDigest reports whether s is a digest as KeyFiles records them: 64
// lowercase hex digits.
func isDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// digestOf returns the recorded digest of one of a key's files.
func (f KeyFiles) digestOf(suffix string) string {
	if suffix == sealedSuffix {
		return f.Sealed
	}
	return f.Recovery
}

// replicas lists the replica names of one kind of a case's key files,
// oldest first.
func (k *Keyring) replicas(ctx context.Context, caseID, suffix string) ([]string, error) {
	var names []string
	err := k.replica.List(ctx, replicaPrefix(caseID, suffix)+"-", func(i objects.Info) error {
		names = append(names, i.Name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing key replicas: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// maxKeyFile bounds a key file read from the keyring folder or back
// from a replica (a sealed key, its recovery copy, the log's public
// key): each is at most a few KiB as the vault writes it.
const maxKeyFile = 64 << 10

// readCaseFile reads one of a case's key files from the keyring folder,
// or, if it is missing there, from the newest replica, restoring the
// local file from it.
func (k *Keyring) readCaseFile(ctx context.Context, caseID, suffix string) ([]byte, error) {
	b, err := smallfile.Read(k.caseFile(caseID, suffix), maxKeyFile)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || k.replica == nil {
		return b, err
	}
	b, rerr := k.newestReplica(ctx, caseID, suffix)
	if rerr != nil {
		return nil, fmt.Errorf("%w (and its replica: %v)", err, rerr)
	}
	if err := k.restore(caseID, suffix, b); err != nil {
		return nil, err
	}
	return b, nil
}

// newestReplica reads the newest replica of one of a case's key files.
func (k *Keyring) newestReplica(ctx context.Context, caseID, suffix string) ([]byte, error) {
	names, err := k.replicas(ctx, caseID, suffix)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fs.ErrNotExist
	}
	return objects.ReadSmall(ctx, k.replica, names[len(names)-1], maxKeyFile)
}

// restore writes a key file read from its replica back into the folder.
func (k *Keyring) restore(caseID, suffix string, b []byte) error {
	if err := durable.Replace(k.caseFile(caseID, suffix), b); err != nil {
		return fmt.Errorf("keyring: restoring a key file of case %s from its replica: %w", caseID, err)
	}
	return nil
}

// replicated lists the replicas of every key, as replica names (oldest
// first) by replicaPrefix value, with one listing of the object store.
func (k *Keyring) replicated(ctx context.Context) (map[string][]string, error) {
	have := map[string][]string{}
	if k.replica == nil {
		return have, nil
	}
	err := k.replica.List(ctx, "key/", func(i objects.Info) error {
		if n := strings.LastIndexByte(i.Name, '-'); n > 0 {
			have[i.Name[:n]] = append(have[i.Name[:n]], i.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing key replicas: %w", err)
	}
	for _, names := range have {
		sort.Strings(names)
	}
	return have, nil
}

// readLocal reads one of a key's files from the keyring folder: nil if
// it is missing or cannot be used (a link, not a regular file, larger
// than a key file, unreadable), with present telling the two apart.
func (k *Keyring) readLocal(caseID, suffix string) (b []byte, present bool) {
	b, err := smallfile.ReadNoLink(k.caseFile(caseID, suffix), maxKeyFile)
	switch {
	case err == nil:
		return b, true
	case errors.Is(err, fs.ErrNotExist):
		return nil, false
	}
	return nil, true
}

// readReplica reads a key replica: nil if it cannot be a key file (gone
// since it was listed, not a plain object, larger than a key file). An
// error is the store's.
func (k *Keyring) readReplica(ctx context.Context, name string) ([]byte, error) {
	b, err := objects.ReadSmall(ctx, k.replica, name, maxKeyFile)
	if errors.Is(err, objects.ErrNotFound) || errors.Is(err, objects.ErrNotRegular) || errors.Is(err, objects.ErrTooLarge) {
		return nil, nil
	}
	return b, err
}

// replicate writes b as a new replica of one of a key's files, leaving
// the others where they are, and returns its name.
func (k *Keyring) replicate(ctx context.Context, caseID, suffix string, b []byte) (string, error) {
	name := fmt.Sprintf("%s-%016x", replicaPrefix(caseID, suffix), time.Now().UnixNano())
	if _, err := k.replica.Put(ctx, name, bytes.NewReader(b), objects.PutOptions{Unlocked: true}); err != nil {
		return "", fmt.Errorf("replicating a key of case %s to the object store: %w", caseID, err)
	}
	return name, nil
}

// anyCopy reports whether any copy of a case's key exists: a local file,
// or a replica in have (the result of replicated).
func (k *Keyring) anyCopy(caseID string, have map[string][]string) bool {
	for _, suffix := range []string{sealedSuffix, recoverySuffix} {
		if _, err := os.Stat(k.caseFile(caseID, suffix)); err == nil || len(have[replicaPrefix(caseID, suffix)]) > 0 {
			return true
		}
	}
	return false
}

// destroyCase deletes every copy of a case's key: the local files and
// every replica. Afterwards nothing can open the case's evidence.
func (k *Keyring) destroyCase(ctx context.Context, caseID string) error {
	// Every copy is tried: one that cannot be removed does not keep the
	// others.
	var errs []error
	for _, suffix := range []string{sealedSuffix, recoverySuffix} {
		if err := os.Remove(k.caseFile(caseID, suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		if k.replica == nil {
			continue
		}
		names, err := k.replicas(ctx, caseID, suffix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range names {
			if err := k.replica.Delete(ctx, n); err != nil && !errors.Is(err, objects.ErrNotFound) {
				errs = append(errs, fmt.Errorf("deleting a key replica: %w", err))
			}
		}
	}
	errs = append(errs, durable.SyncDir(filepath.Join(k.dir, "cases")))
	return errors.Join(errs...)
}

// keyCopies lists the copies of a case's key that are left, in the
// keyring folder and among its replicas (have, the result of replicated):
// files and replicas holding the bytes the log last recorded of its key
// (files, or any bytes where the log recorded none). Anything else
// under those names is not a copy of the key, and not named here.
func (k *Keyring) keyCopies(ctx context.Context, caseID string, files KeyFiles, have map[string][]string) ([]string, error) {
	var out []string
	for _, suffix := range []string{sealedSuffix, recoverySuffix} {
		want := files.digestOf(suffix)
		ours := func(b []byte) bool { return b != nil && (want == "" || fileDigest(b) == want) }
		if b, _ := k.readLocal(caseID, suffix); ours(b) {
			out = append(out, k.caseFile(caseID, suffix))
		}
		if k.replica == nil {
			continue
		}
		for _, name := range have[replicaPrefix(caseID, suffix)] {
			b, err := k.readReplica(ctx, name)
			if err != nil {
				return out, err
			}
			if ours(b) {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// hasLogKey reports whether the keyring holds a log signing key.
func (k *Keyring) hasLogKey() bool { return HasLogKey(k.dir) }

// HasLogKey reports whether the keyring folder dir holds a vault's
// sealed log key: whether a vault was made there (its first start, or
// its first custodian's enrolment, makes the key before its first event).
func HasLogKey(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "log.key.sealed"))
	return err == nil
}

// logKey returns the unsealed checkpoint-signing key and its public
// verifier key, creating both if create is set and none exist.
func (k *Keyring) logKey(ctx context.Context, create bool, recovery age.Recipient, gen func() (skey, vkey string, err error)) (skey []byte, vkey string, err error) {
	sealedPath := filepath.Join(k.dir, "log.key.sealed")
	pubPath := filepath.Join(k.dir, "log.pub")
	blob, err := smallfile.Read(sealedPath, maxKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		if !create {
			return nil, "", fmt.Errorf("keyring %s has no log signing key, but the custody log is not empty: check that --data names the vault's data folder (mounted, not mistyped); if it does, restore the keyring folder from backup, or, with the server stopped, restore its keys from their recovery copies in the object store: custos admin recover --identity FILE (the offline recovery identity; docs/operations.md, \"Restoring\")", k.dir)
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
	pub, err := smallfile.Read(pubPath, maxKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("keyring %s holds the sealed log signing key but not its public half, log.pub, which the vault writes beside it and never removes: someone removed or moved it. Restore the keyring folder from backup; or, with the server stopped, restore the log's key files from their recovery copies in the object store: custos admin recover --identity FILE (the offline recovery identity; docs/operations.md, \"Restoring\")", k.dir)
	}
	if err != nil {
		return nil, "", fmt.Errorf("keyring: %w", err)
	}
	sk, err := k.sealer.Unseal(ctx, blob)
	if err != nil {
		return nil, "", fmt.Errorf("unsealing the log signing key with %s: %w. If the sealer's key is gone (a TPM or HSM replaced or reset, a key-encryption key retired after the keyring was backed up), re-seal every key under the sealer now configured from the offline recovery identity, with the server stopped: custos admin recover --identity FILE (docs/keys.md)", k.sealer.KeyRef(), err)
	}
	return sk, strings.TrimSpace(string(pub)), nil
}

// newCaseKey creates a case's age identity and stores it sealed and
// encrypted to the recovery recipient, locally and replicated, replacing
// any files a failed opening of the same case id left behind (the caller
// has checked that no such case exists). It returns the public recipient.
func (k *Keyring) newCaseKey(ctx context.Context, caseID string, recovery age.Recipient) (string, *KeyFiles, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", nil, err
	}
	secret := []byte(id.String())
	defer hsm.Zero(secret)
	sealed, err := k.sealer.Seal(ctx, secret)
	if err != nil {
		return "", nil, fmt.Errorf("sealing the case key: %w", err)
	}
	rec, err := encryptRecovery(secret, recovery)
	if err != nil {
		return "", nil, err
	}
	if err := k.storeCaseFile(ctx, caseID, recoverySuffix, rec); err != nil {
		return "", nil, err
	}
	if err := k.storeCaseFile(ctx, caseID, sealedSuffix, sealed); err != nil {
		return "", nil, err
	}
	return id.Recipient().String(), &KeyFiles{Sealed: fileDigest(sealed), Recovery: fileDigest(rec)}, nil
}

// encryptRecovery encrypts secret (armored) to the offline recovery
// recipient.
func encryptRecovery(secret []byte, recovery age.Recipient) ([]byte, error) {
	var rec bytes.Buffer
	aw := armor.NewWriter(&rec)
	w, err := age.Encrypt(aw, recovery)
	if err != nil {
		return nil, err
	}
	w.Write(secret)
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return rec.Bytes(), nil
}

// writeRecovery stores secret encrypted to the recovery recipient at path.
func (k *Keyring) writeRecovery(path string, secret []byte, recovery age.Recipient) error {
	rec, err := encryptRecovery(secret, recovery)
	if err != nil {
		return err
	}
	if err := durable.WriteNew(path, rec); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// openRecovery decrypts a recovery copy with the recovery identity.
func openRecovery(blob []byte, recovery age.Identity) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(blob)), recovery)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, hsm.MaxSecret))
}

// caseIdentity unseals a case's age identity and checks that it is the
// case's own: its recipient must be want, the one recorded when the case
// was opened. Every failure wraps ErrKey. The caller should drop the
// identity as soon as it is done; Go cannot zero its internal copy.
func (k *Keyring) caseIdentity(ctx context.Context, caseID, want string) (*age.X25519Identity, error) {
	blob, err := k.readCaseFile(ctx, caseID, sealedSuffix)
	if err != nil {
		return nil, fmt.Errorf("%w: the key of case %s is missing from the keyring and its replicas: restore the keyring or run `custos admin recover`", ErrKey, caseID)
	}
	id, err := k.openSealed(ctx, caseID, blob, want)
	if err == nil {
		return id, nil
	}
	// The local copy may be damaged, or stale (a keyring restored from a
	// backup older than a rotation): the newest replica, if it opens to
	// the case's recipient, replaces it.
	if k.replica != nil {
		if rb, rerr := k.newestReplica(ctx, caseID, sealedSuffix); rerr == nil && !bytes.Equal(rb, blob) {
			if rid, rerr := k.openSealed(ctx, caseID, rb, want); rerr == nil {
				return rid, k.restore(caseID, sealedSuffix, rb)
			}
		}
	}
	return nil, err
}

// openSealed unseals one sealed copy of a case key and checks it against
// the case's recipient.
func (k *Keyring) openSealed(ctx context.Context, caseID string, blob []byte, want string) (*age.X25519Identity, error) {
	secret, err := k.sealer.Unseal(ctx, blob)
	if err != nil {
		return nil, fmt.Errorf("%w: unsealing the key of case %s with %s: %v", ErrKey, caseID, k.sealer.KeyRef(), err)
	}
	defer hsm.Zero(secret)
	return boundIdentity(caseID, secret, want)
}

// boundIdentity parses a case key and checks it against the case's
// recorded recipient.
func boundIdentity(caseID string, secret []byte, want string) (*age.X25519Identity, error) {
	id, err := age.ParseX25519Identity(string(secret))
	if err != nil {
		return nil, fmt.Errorf("%w: the stored key of case %s is not an age identity", ErrKey, caseID)
	}
	if got := id.Recipient().String(); got != want {
		return nil, fmt.Errorf("%w: the key stored for case %s belongs to another case (it opens to %s, the case was opened with %s): the keyring was altered or its files swapped; restore it or run `custos admin recover`", ErrKey, caseID, got, want)
	}
	return id, nil
}

// sealFromRecovery seals a case identity again under the current
// sealer, from its recovery copy (local, or the replica) opened with the
// recovery identity, after checking it is the case's own key. It returns
// the sealed file's bytes, for the caller to record and then store
// (storeCaseFile).
func (k *Keyring) sealFromRecovery(ctx context.Context, caseID, want string, recovery age.Identity) ([]byte, error) {
	blob, err := k.readCaseFile(ctx, caseID, recoverySuffix)
	if err != nil {
		return nil, fmt.Errorf("the recovery copy of case %s is missing from the keyring and its replicas", caseID)
	}
	secret, err := openRecovery(blob, recovery)
	if err != nil {
		return nil, fmt.Errorf("opening the recovery copy of case %s: %w", caseID, err)
	}
	defer hsm.Zero(secret)
	if _, err := boundIdentity(caseID, secret, want); err != nil {
		return nil, err
	}
	sealed, err := k.sealer.Seal(ctx, secret)
	if err != nil {
		return nil, fmt.Errorf("sealing the key of case %s: %w", caseID, err)
	}
	return sealed, nil
}

// logRecoveryPrefix names the replicas of the log key's recovery copy in
// the object store: "logkey/recovery-" and a 16-digit hex time. The
// copy is encrypted to the offline recovery recipient, as every case
// key's recovery replica is; with it, a keyring folder lost with no
// backup loses no key (Recover).
const logRecoveryPrefix = "logkey/recovery-"

// logRecoveryFile is the log key's recovery copy in the keyring folder.
func (k *Keyring) logRecoveryFile() string { return filepath.Join(k.dir, "log.key.recovery.age") }

// logRecoveryReplicas lists the replicas of the log key's recovery copy,
// newest first.
func (k *Keyring) logRecoveryReplicas(ctx context.Context) ([]string, error) {
	var names []string
	err := k.replica.List(ctx, logRecoveryPrefix, func(i objects.Info) error {
		names = append(names, i.Name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the log key's recovery replicas: %w", err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	return names, nil
}

// replicateLogRecovery makes sure the object store holds a replica of
// local, the log key's recovery copy as the log recorded it (a vault made
// before the replicas were, or whose replica was deleted, gets one at
// its start).
func (k *Keyring) replicateLogRecovery(ctx context.Context, local []byte) error {
	if k.replica == nil {
		return nil
	}
	if b, _, err := k.logRecoveryReplica(ctx, fileDigest(local)); err != nil || b != nil {
		return err
	}
	name := fmt.Sprintf("%s%016x", logRecoveryPrefix, time.Now().UnixNano())
	if _, err := k.replica.Put(ctx, name, bytes.NewReader(local), objects.PutOptions{Unlocked: true}); err != nil {
		return fmt.Errorf("replicating the log key's recovery copy to the object store: %w", err)
	}
	return nil
}

// logRecoveryReplica returns the newest replica of the log key's
// recovery copy whose SHA-256 is digest, and its name (nil, "" if none
// is).
func (k *Keyring) logRecoveryReplica(ctx context.Context, digest string) ([]byte, string, error) {
	if k.replica == nil {
		return nil, "", nil
	}
	names, err := k.logRecoveryReplicas(ctx)
	if err != nil {
		return nil, "", err
	}
	for _, name := range names {
		b, err := objects.ReadSmall(ctx, k.replica, name, maxKeyFile)
		if errors.Is(err, objects.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", name, err)
		}
		if fileDigest(b) == digest {
			return b, name, nil
		}
	}
	return nil, "", nil
}

// isLogRecoveryReplica reports whether the object name holds the log
// key's recovery copy as the log recorded it (digest; where nothing is
// recorded, as the keyring holds it).
func (k *Keyring) isLogRecoveryReplica(ctx context.Context, name, digest string) (bool, error) {
	if digest == "" {
		local, err := smallfile.ReadNoLink(k.logRecoveryFile(), maxKeyFile)
		if err != nil {
			return false, nil // nothing to be the replica of
		}
		digest = fileDigest(local)
	}
	b, err := objects.ReadSmall(ctx, k.replica, name, maxKeyFile+1)
	if errors.Is(err, objects.ErrNotFound) {
		return true, nil // gone since it was listed
	}
	if err != nil {
		return false, err
	}
	return fileDigest(b) == digest, nil
}

// resealLogKeyFromRecovery seals the log signing key again under the
// current sealer, from its recovery copy: the keyring's, or, if the
// keyring lost it, a replica in the object store. A replica is taken
// only if the key it holds is the one the log was opened with
// (recorded, the log.opened event's checkpoint key, which the caller
// reads from the log) and signed a head the object store holds (heads;
// none there: the recorded key alone); it is then written back into
// the keyring, with the public key (log.pub) if that is lost too.
func (k *Keyring) resealLogKeyFromRecovery(ctx context.Context, recovery age.Identity, recorded func() (string, error), signedHead func(note.Verifier) (bool, error)) error {
	blob, err := smallfile.Read(k.logRecoveryFile(), maxKeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && k.replica != nil:
		return k.restoreLogKeyFromReplica(ctx, recovery, recorded, signedHead, "")
	case err != nil:
		return fmt.Errorf("reading the recovery copy of the log key: %w", err)
	}
	// The keyring's copy is judged as a replica is, before anything is
	// written: one planted there (anyone may encrypt to the recovery
	// recipient) must not replace a working sealed key.
	skey, why := k.logKeyOf(blob, recovery, recorded, signedHead)
	if why != "" {
		if k.replica == nil {
			return fmt.Errorf("the keyring's recovery copy of the log key is not this log's key (%s), and there is no object store to look for a replica in", why)
		}
		return k.restoreLogKeyFromReplica(ctx, recovery, recorded, signedHead, "the keyring's copy: "+why)
	}
	defer hsm.Zero(skey)
	return k.resealLogKey(ctx, skey)
}

// logKeyOf opens a recovery copy of the log key with the recovery
// identity and returns the key, if it is the one the log was opened
// with (recorded) and signed the heads kept (signedHead); else why not.
func (k *Keyring) logKeyOf(blob []byte, recovery age.Identity, recorded func() (string, error), signedHead func(note.Verifier) (bool, error)) ([]byte, string) {
	vkey, err := recorded()
	if err != nil {
		return nil, err.Error()
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Sprintf("the log records a checkpoint key that is not one (%v)", err)
	}
	skey, err := openRecovery(blob, recovery)
	if err != nil {
		return nil, err.Error()
	}
	signer, err := note.NewSigner(string(skey))
	if err == nil {
		err = sameKey(signer, verifier)
	}
	if err == nil {
		var ok bool
		if ok, err = signedHead(verifier); err == nil && !ok {
			err = errors.New("it signed no head the object store holds")
		}
	}
	if err != nil {
		hsm.Zero(skey)
		return nil, "not the key the log was opened with (" + err.Error() + ")"
	}
	return skey, ""
}

// restoreLogKeyFromReplica is resealLogKeyFromRecovery for a keyring
// that lost the log key's recovery copy, or holds one that is not the
// log's key (why, to name in the refusal): the newest replica whose key
// is, written back with the public key if that is lost too.
func (k *Keyring) restoreLogKeyFromReplica(ctx context.Context, recovery age.Identity, recorded func() (string, error), signedHead func(note.Verifier) (bool, error), why string) error {
	names, err := k.logRecoveryReplicas(ctx)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		if why != "" {
			return fmt.Errorf("the keyring's recovery copy of the log key is not this log's key (%s), and the object store holds no replica of it (%s...): restore the keyring folder from backup", why, logRecoveryPrefix)
		}
		return fmt.Errorf("the keyring %s has no recovery copy of the log key (log.key.recovery.age), and the object store no replica of it (%s...): restore the keyring folder from backup", k.dir, logRecoveryPrefix)
	}
	var problems []string
	if why != "" {
		problems = append(problems, why)
	}
	for _, name := range names {
		blob, err := objects.ReadSmall(ctx, k.replica, name, maxKeyFile)
		if err != nil {
			problems = append(problems, name+": "+err.Error())
			continue
		}
		skey, bad := k.logKeyOf(blob, recovery, recorded, signedHead)
		if bad != "" {
			problems = append(problems, name+": "+bad)
			continue
		}
		defer hsm.Zero(skey)
		vkey, _ := recorded()
		if err := durable.Replace(k.logRecoveryFile(), blob); err != nil {
			return fmt.Errorf("keyring: restoring the log key's recovery copy: %w", err)
		}
		pub := filepath.Join(k.dir, "log.pub")
		if _, err := os.Lstat(pub); errors.Is(err, fs.ErrNotExist) {
			if err := durable.Replace(pub, []byte(vkey+"\n")); err != nil {
				return fmt.Errorf("keyring: restoring the log's public key: %w", err)
			}
		}
		return k.resealLogKey(ctx, skey)
	}
	return fmt.Errorf("no recovery copy of the log key, in the keyring or the object store, holds the key the log was opened with: %s", strings.Join(problems, "; "))
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
