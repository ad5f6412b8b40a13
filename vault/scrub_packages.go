package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/tsa/tsafolder"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/ctxio"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/objects"
	"golang.org/x/mod/sumdb/note"
)

// Package objects are checked like evidence objects: against the size and
// SHA-256 that the package.sealed event recorded when the package file
// was stored. A scrub re-hashes them, and a fetch checks the object before
// anything is sent and again while it is sent.

// errObjectMissing and errObjectAltered are the two ways a stored object
// can fail its check.
var (
	errObjectMissing = errors.New("stored object is missing")
	errObjectAltered = errors.New("stored object does not match the size and SHA-256 recorded when it was sealed")
)

// PackageIntegrityFailed is the data of an integrity.failed event about a
// package file (the event names the case, and no item).
type PackageIntegrityFailed struct {
	Package string `json:"package"`
	Object  string `json:"object"`
	Reason  string `json:"reason"`
}

// allPackages returns every sealed package, in no particular order.
func (s *State) allPackages() []Package {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Package, 0, len(s.packages))
	for _, p := range s.packages {
		if p.Sealed != nil {
			cp := *p
			sealed := *p.Sealed
			cp.Sealed = &sealed
			out = append(out, cp)
		}
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// unfinishedSealings counts the packages whose sealing the log records
// (package.sealing) and whose stored file it does not (package.sealed):
// a seal interrupted between the two, whose file, if it was written, is
// an orphan of the store.
func (s *State) unfinishedSealings() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range s.packages {
		if p.Sealed == nil {
			n++
		}
	}
	return n
}

// checkPackageObject reads a sealed package's object whole and compares
// its size and SHA-256 with the package.sealed event. It returns nil,
// errObjectMissing or errObjectAltered (wrapped with the cause).
func (v *Vault) checkPackageObject(ctx context.Context, p Package) error {
	info, err := v.objects.Stat(ctx, p.Sealed.Object)
	if err != nil {
		if errors.Is(err, objects.ErrNotFound) {
			return errObjectMissing
		}
		if errors.Is(err, objects.ErrNotRegular) {
			return fmt.Errorf("%w (%v)", errObjectAltered, err)
		}
		return err
	}
	if info.Size != p.Sealed.Size {
		return fmt.Errorf("%w (%d bytes, recorded %d)", errObjectAltered, info.Size, p.Sealed.Size)
	}
	rc, err := v.objects.Open(ctx, p.Sealed.Object)
	if err != nil {
		if errors.Is(err, objects.ErrNotFound) {
			return errObjectMissing
		}
		if errors.Is(err, objects.ErrNotRegular) {
			return fmt.Errorf("%w (%v)", errObjectAltered, err)
		}
		return err
	}
	defer rc.Close()
	match, readErr, ctxErr := matchesRecord(ctx, rc, p.Sealed.Size, p.Sealed.SHA256)
	switch {
	case ctxErr != nil:
		return ctxErr
	case readErr != nil:
		return fmt.Errorf("%w (reading it failed: %v)", errObjectAltered, readErr)
	case !match:
		return errObjectAltered
	}
	return nil
}

// matchesRecord reads rc to at most one byte past size, stopping when
// ctx ends (its error), and reports whether it holds exactly size bytes
// of SHA-256 sum (hex): what a scrub asks of a stored object against the
// event that recorded it. Reading no further than that byte, an object
// grown to terabytes (a sparse file costs its planter nothing) is
// altered at once; readErr is a read that failed before the end.
func matchesRecord(ctx context.Context, rc io.Reader, size int64, sum string) (match bool, readErr, ctxErr error) {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(ctxio.NewReader(ctx, rc), size+1))
	if ctx.Err() != nil {
		return false, nil, ctx.Err()
	}
	return err == nil && n == size && hex.EncodeToString(h.Sum(nil)) == sum, err, nil
}

// packageIntegrityFailed records that a package's stored file did not
// match its package.sealed event and returns the error for the caller
// (ErrIntegrity: HTTP 422).
func (v *Vault) packageIntegrityFailed(ctx context.Context, p Package, cause error) error {
	return withIntegrityRecorded(fmt.Errorf("%w: package %s: %v", ErrIntegrity, p.ID, cause), v.recordPackageIntegrityFailure(ctx, p, cause))
}

// recordPackageIntegrityFailure appends the integrity.failed event of a
// package and returns the log's error, if the event could not be
// appended.
func (v *Vault) recordPackageIntegrityFailure(ctx context.Context, p Package, cause error) error {
	_, err := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeIntegrityFailed, Actor: System,
		Case: p.Case, Data: PackageIntegrityFailed{Package: p.ID, Object: p.Sealed.Object, Reason: cause.Error()}})
	v.logger.Error("integrity failure", "package", p.ID, "err", cause)
	return err
}

// scrubPackages re-hashes the file of every sealed package of a case that
// was not destroyed, adding package ids to res.Missing or res.Mismatched,
// and returns the packages that failed (to be recorded after the scrub's
// own event).
func (v *Vault) scrubPackages(ctx context.Context, res *ScrubResult) (missing, altered []Package, err error) {
	pkgs := v.state.allPackages()
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ID < pkgs[j].ID })
	locks, readsLocks := v.objects.(objects.LockReader)
	for _, p := range pkgs {
		c, _ := v.state.getCase(p.Case)
		if c.Destroyed {
			continue // reported by the listing if the object is still there
		}
		res.Packages++
		// A held case's packages are held too (SetHold); their
		// retention is not the vault's to judge here.
		if readsLocks && p.Sealed != nil && c.Held {
			if why := v.lockWeakened(ctx, locks, c, p.Sealed.Object, p.SealedAt, 0); why != "" {
				res.LocksWeakened = append(res.LocksWeakened, p.ID+": "+why)
			}
		}
		switch err := v.checkPackageObject(ctx, p); {
		case err == nil:
		case errors.Is(err, errObjectMissing):
			res.Missing = append(res.Missing, p.ID)
			missing = append(missing, p)
		case errors.Is(err, errObjectAltered):
			res.Mismatched = append(res.Mismatched, p.ID)
			altered = append(altered, p)
		default:
			return nil, nil, fmt.Errorf("scrubbing package %s: %w", p.ID, err)
		}
	}
	return missing, altered, nil
}

// anchorObject matches the names of the checkpoints' cosignatures and
// time-stamp tokens and notes (anchors.go, timestamps.go; the names of
// releases before 2026-12-04 too, "witnessed/<size>",
// "timestamps/<size>-<n>" and "timestamps/<size>-checkpoint"): vault metadata, which nothing reveals
// and any verifier checks for itself. Bytes someone else stored under
// such a name displace nothing: the vault's notes and tokens are named by
// their own SHA-256, and a name already taken is read back (stamper.putOwn).
func anchorObject(name string) bool {
	if rest, ok := strings.CutPrefix(name, timestampsPrefix); ok {
		_, ok := tsafolder.ParseName(rest)
		return ok
	}
	return witnessedName.MatchString(name)
}

// witnessedName matches the names of the cosigned checkpoints.
var witnessedName = regexp.MustCompile(`^witnessed/[0-9]{20}(?:-[0-9a-f]{64}(?:-[0-9a-f]{8})?)?$`)

// anchorDigest is the SHA-256 (hex, whole or its first 16 digits) an
// anchor object's name gives its bytes: a cosigned checkpoint's or a
// time-stamped note's whole, a token's first 16 digits; "" for the names
// of earlier releases, which give none.
func anchorDigest(name string) string {
	if rest, ok := strings.CutPrefix(name, timestampsPrefix); ok {
		n, _ := tsafolder.ParseName(rest)
		if n.Note {
			return n.NoteSHA256
		}
		return n.TokenSHA256Prefix
	}
	if m := witnessedDigest.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

var witnessedDigest = regexp.MustCompile(`^witnessed/[0-9]{20}-([0-9a-f]{64})(?:-[0-9a-f]{8})?$`)

// maxAnchorObject bounds what a scrub reads of an anchor object: a
// time-stamp token's limit, above a cosigned note's.
const maxAnchorObject = tsa.MaxTokenSize

// anchorIsTheVaults reports whether the anchor object name holds what
// its name says the vault stored there, read whole (at most
// maxAnchorObject bytes), so that nothing else hides under these names:
//
//   - a time-stamped note: a checkpoint signed by the log's key as the
//     log signed it, of the size its name gives (tsafolder.CheckNote);
//   - a time-stamp token: an RFC 3161 token whose CMS signature verifies
//     with the certificate it carries and whose imprint is the SHA-256
//     of its note (tsa.ReadSHA256): the one its name gives, or, for an
//     earlier release's name, that of the note stored as
//     timestamps/<size>-checkpoint. Whether its authority is to be
//     trusted is not judged here (the vault holds no TSA's certificate):
//     custos audit timestamps --tsa-cert judges it;
//   - a cosigned checkpoint: a checkpoint the log's key signed, of the
//     size its name gives;
//
// and each of the SHA-256 its name gives (all but earlier releases'
// names give one). An object gone since it was listed is the vault's
// (nothing to report). A link, pipe or device under the name is not
// (objects.ErrNotRegular). An error is a read that failed: the scrub
// stops rather than call the object someone else's.
func (v *Vault) anchorIsTheVaults(ctx context.Context, name string) (bool, error) {
	b, settled, ours, err := v.readToJudge(ctx, name, maxAnchorObject)
	if settled {
		return ours, err
	}
	sum := sha256.Sum256(b)
	if want := anchorDigest(name); !strings.HasPrefix(hex.EncodeToString(sum[:]), want) {
		return false, nil
	}
	if rest, ok := strings.CutPrefix(name, timestampsPrefix); ok {
		n, _ := tsafolder.ParseName(rest)
		if n.Note {
			return tsafolder.CheckNote(b, []note.Verifier{v.verifier}, n.Size) == nil, nil
		}
		var noteSum [sha256.Size]byte
		if _, err := hex.Decode(noteSum[:], []byte(n.NoteSHA256)); err != nil || n.NoteSHA256 == "" {
			// An earlier release's token: its note is the one of its size.
			legacy, err := objects.ReadSmall(ctx, v.objects, fmt.Sprintf("%s%020d-checkpoint", timestampsPrefix, n.Size), maxAnchorObject)
			if err != nil {
				return false, nil // no note of its own beside it: nothing it dates
			}
			noteSum = sha256.Sum256(legacy)
		}
		if len(v.cfg.TSACerts) > 0 {
			_, err = tsa.VerifyStored(tsa.Token(b), noteSum, v.cfg.TSACerts)
			return err == nil, nil
		}
		// Without the authorities' certificates: what the token states,
		// and a nonce no longer than the vault's requests send (a
		// requester's bytes, else, which the TSA signs as given).
		att, err := tsa.ReadSHA256(tsa.Token(b), noteSum)
		return err == nil && (att.Nonce == nil || att.Nonce.BitLen() <= 64), nil
	}
	// A cosigned checkpoint: the log's signature and cosignatures of
	// witnesses, those of the policy or of any a start recorded, and
	// nothing else: a line of a key the vault does not know could carry
	// anything.
	msg, err := note.Open(b, v.noteVerifiers())
	if err != nil || len(msg.UnverifiedSigs) != 0 || !logSigned(msg, v.verifier) || !canonicalNote(b, msg) {
		return false, nil
	}
	_, size, err := events.PeekCheckpoint(b)
	return err == nil && len(name) >= len(witnessedPrefix)+20 && fmt.Sprintf("%s%020d", witnessedPrefix, size) == name[:len(witnessedPrefix)+20], nil
}

// noteVerifiers are the keys whose signatures a note the vault stores
// may carry: the log's, and each witness's that the policy or a
// server.started names (a key in both counted once).
func (v *Vault) noteVerifiers() note.Verifiers {
	all := []note.Verifier{v.verifier}
	seen := map[string]bool{}
	for _, k := range append(v.cfg.Witnesses.Verifiers(), v.state.witnessVerifiers()...) {
		if id := witness.KeyID(k); !seen[id] {
			seen[id] = true
			all = append(all, k)
		}
	}
	return note.VerifierList(all...)
}

// canonicalNote reports whether b is msg written out again: its text,
// a blank line, and one line per verified signature in canonical
// base64. note.Open drops a second line of a key it knows without
// reading it, and decodes base64 whose last bits are not zero: either
// could carry bytes the signatures do not cover.
func canonicalNote(b []byte, msg *note.Note) bool {
	var out bytes.Buffer
	out.WriteString(msg.Text)
	out.WriteString("\n")
	for _, sig := range msg.Sigs {
		raw, err := base64.StdEncoding.DecodeString(sig.Base64)
		if err != nil || base64.StdEncoding.EncodeToString(raw) != sig.Base64 {
			return false
		}
		fmt.Fprintf(&out, "\u2014 %s %s\n", sig.Name, sig.Base64)
	}
	return bytes.Equal(out.Bytes(), b)
}

// logSigned reports whether the log's key is among msg's verified
// signers.
func logSigned(msg *note.Note, log note.Verifier) bool {
	for _, sig := range msg.Sigs {
		if sig.Name == log.Name() && sig.Hash == log.KeyHash() {
			return true
		}
	}
	return false
}

// headIsTheVaults reports whether the sticky head's object name holds
// what the vault stores there (head.go): a name of "head/" and 20
// digits, holding a checkpoint of that size signed by the log's key
// alone, as the log signed it. An object gone since it was listed is the
// vault's (an older head is deleted once a newer one is stored); a link,
// pipe or device, or anything larger than a head, is not.
func (v *Vault) headIsTheVaults(ctx context.Context, name string) (bool, error) {
	size, ok := HeadObjectSize(name)
	if !ok {
		return false, nil
	}
	b, settled, ours, err := v.readToJudge(ctx, name, maxHeadNote)
	if settled {
		return ours, err
	}
	return tsafolder.CheckNote(b, []note.Verifier{v.verifier}, size) == nil, nil
}

// readToJudge reads the object name whole (at most max bytes) for a
// scrub to judge whether it is the vault's. settled reports that the
// read itself decided, with ours: an object gone since it was listed is
// the vault's (nothing to report); a link, pipe or device, or more than
// max bytes, is not; a read that failed is err (the scrub stops rather
// than call the object someone else's).
func (v *Vault) readToJudge(ctx context.Context, name string, max int64) (b []byte, settled, ours bool, err error) {
	b, err = objects.ReadSmall(ctx, v.objects, name, max)
	switch {
	case errors.Is(err, objects.ErrNotFound):
		return nil, true, true, nil
	case errors.Is(err, objects.ErrNotRegular), errors.Is(err, objects.ErrTooLarge):
		return nil, true, false, nil
	case err != nil:
		return nil, true, false, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, false, false, nil
}

// replicaIsTheVaults reports whether the key replica name holds the key
// file it copies (key): the file the log recorded, judged against the
// record as it stands when the replica is read (under keysMu, which a
// re-sealing holds from its record to its write), or the one a
// re-sealing recorded at or after since replaced (a rotation beside the
// scrub, whose older replicas it is about to delete); for a key whose
// digests the log does not hold yet, the same bytes as the file in the
// keyring folder. A replica that is not that file, or whose name does
// not end in the 16 hex digits the vault gives, is not the vault's, and
// neither is one of an unrecorded file missing from the folder (a start
// restores missing files, so it was removed since): unaccounted, which
// for a missing file means "restart, and find out who removed it", never
// "delete the replica".
func (v *Vault) replicaIsTheVaults(ctx context.Context, name string, key keyFileRef, since uint64) (bool, error) {
	if !replicaName.MatchString(name) {
		return false, nil
	}
	v.keysMu.Lock()
	defer v.keysMu.Unlock()
	rec := v.state.keyRecordOf(key.ID)
	digest := rec.digestOf(key.Suffix)
	var want []byte
	if digest == "" {
		var err error
		want, err = smallfile.Read(key.Path, maxKeyFile)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading the key file %s: %w", key.Path, err)
		}
	}
	b, settled, ours, err := v.readToJudge(ctx, name, maxKeyFile)
	if settled {
		return ours, err
	}
	if digest != "" {
		d := fileDigest(b)
		return d == digest || key.Suffix == sealedSuffix && rec.PriorSealed != "" && rec.SealedAt >= since && d == rec.PriorSealed, nil
	}
	return bytes.Equal(b, want), nil
}

// replicaName matches the names the keyring gives its replicas
// (Keyring.storeCaseFile).
var replicaName = regexp.MustCompile(`^key/[0-9a-f]{32}-[sr]-[0-9a-f]{16}$`)

// retainedIsRecorded reports whether the object name of a destroyed
// case's item or package (owner) still holds the bytes its deposit or
// package.sealed event recorded: size and SHA-256, read no further than
// one byte past the size. A deposit record the log does not vouch for,
// or an object gone since it was listed, is not judged (true).
func (v *Vault) retainedIsRecorded(ctx context.Context, owner, name string) (bool, error) {
	var size int64
	var sum string
	if p, ok := v.state.getPackage(owner); ok && p.Sealed != nil {
		size, sum = p.Sealed.Size, p.Sealed.SHA256
	} else if it, ok, err := v.state.getItem(owner); err != nil {
		return false, err
	} else if ok {
		d, err := v.depositRecord(ctx, it)
		if err != nil {
			return true, nil
		}
		size, sum = d.CiphertextSize, d.CiphertextSHA256
	} else {
		return true, nil
	}
	rc, err := v.objects.Open(ctx, name)
	switch {
	case errors.Is(err, objects.ErrNotFound):
		return true, nil
	case errors.Is(err, objects.ErrNotRegular):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading %s: %w", name, err)
	}
	defer rc.Close()
	match, _, ctxErr := matchesRecord(ctx, rc, size, sum)
	return match, ctxErr
}

// classifyListed sorts one object the store lists: an object of a live
// item or package is accounted for; one of a destroyed case is retained
// ciphertext (listed, not a failure: the store's retention may keep it
// after the keys are destroyed); an orphan recorded as retained awaits
// the sweep; one a deposit or a package is writing is in flight;
// anything else is unaccounted.
// An error is ErrIntegrity: the state's page of the object's item failed
// its check.
func (v *Vault) classifyListed(ctx context.Context, info objects.Info, res *ScrubResult, keys *scrubKeys, since uint64) error {
	// The vault's own metadata: its sticky log head, and the key
	// replicas of live cases, each read and checked. A key replica of no
	// live case (a destroyed one, say) is unaccounted: it could open
	// evidence that should be gone.
	if strings.HasPrefix(info.Name, headPrefix) {
		if ok, err := v.headIsTheVaults(ctx, info.Name); err != nil {
			return err
		} else if !ok {
			res.Unaccounted = append(res.Unaccounted, info.Name)
		}
		return nil
	}
	if strings.HasPrefix(info.Name, logRecoveryPrefix) {
		// A replica of the log key's recovery copy: the bytes the log
		// recorded, or not the vault's.
		if ok, err := v.keys.isLogRecoveryReplica(ctx, info.Name, v.recordedLogRecovery()); err != nil {
			return err
		} else if !ok {
			res.Unaccounted = append(res.Unaccounted, info.Name)
		}
		return nil
	}
	if anchorObject(info.Name) {
		// What the name says, read and checked: anything else under
		// these names is not the vault's.
		if ok, err := v.anchorIsTheVaults(ctx, info.Name); err != nil {
			return err
		} else if !ok {
			res.Unaccounted = append(res.Unaccounted, info.Name)
		}
		return nil
	}
	if n := strings.LastIndexByte(info.Name, '-'); strings.HasPrefix(info.Name, "key/") && n > 0 {
		key, ok := keys.lookup(info.Name[:n])
		if !ok {
			res.Unaccounted = append(res.Unaccounted, info.Name)
			return nil
		}
		if ok, err := v.replicaIsTheVaults(ctx, info.Name, key, since); err != nil {
			return err
		} else if !ok {
			res.Unaccounted = append(res.Unaccounted, info.Name)
		}
		return nil
	}
	// In flight first, owners second (objectsInFlight, sweep.go).
	if v.inFlight.has(info.Name) {
		res.InFlight++
		return nil
	}
	if owner, ok, err := v.state.objectOwner(info.Name); err != nil {
		return err
	} else if ok {
		c, ok, err := v.state.objectCase(info.Name)
		if err != nil {
			return err
		}
		if ok && c.Destroyed {
			// Kept by its retention: still the bytes its event
			// recorded, or someone else's under its name.
			if same, err := v.retainedIsRecorded(ctx, owner, info.Name); err != nil {
				return err
			} else if !same {
				res.Unaccounted = append(res.Unaccounted, info.Name)
				return nil
			}
			res.RetainedDestroyed = append(res.RetainedDestroyed, info.Name)
		}
		return nil
	}
	if _, ok := v.state.retainedSince(info.Name); ok {
		res.AwaitingSweep++
		return nil
	}
	res.Unaccounted = append(res.Unaccounted, info.Name)
	return nil
}

// verifiedReader streams a package file and checks it against its
// package.sealed event as it goes. It holds back the file's last byte
// until every byte has been hashed and matched, so a client never
// receives a complete altered file; on a mismatch it records the
// integrity failure and returns an error wrapping ErrIntegrity.
type verifiedReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	n    int64
	want *PackageSealed
	fail func(error) error
	err  error
	last []byte
}

func (v *Vault) newVerifiedReader(ctx context.Context, p Package, rc io.ReadCloser) *verifiedReader {
	return &verifiedReader{rc: rc, h: sha256.New(), want: p.Sealed,
		fail: func(cause error) error { return v.packageIntegrityFailed(ctx, p, cause) }}
}

func (r *verifiedReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.last != nil {
		p[0] = r.last[0]
		r.last = nil
		r.err = io.EOF
		return 1, nil
	}
	size := r.want.Size
	if r.n < size-1 {
		if rest := size - 1 - r.n; int64(len(p)) > rest {
			p = p[:rest]
		}
		k, err := r.rc.Read(p)
		r.h.Write(p[:k])
		r.n += int64(k)
		if err == io.EOF {
			err = r.fail(fmt.Errorf("%w (it ends after %d bytes, recorded %d)", errObjectAltered, r.n, size))
		}
		if err != nil {
			r.err = err
		}
		return k, err
	}
	// The last byte: read it and make sure nothing follows, then compare.
	tail, err := io.ReadAll(io.LimitReader(r.rc, 2))
	if err != nil {
		r.err = err
		return 0, err
	}
	r.h.Write(tail)
	if len(tail) != 1 || size < 1 || hex.EncodeToString(r.h.Sum(nil)) != r.want.SHA256 {
		r.err = r.fail(errObjectAltered)
		return 0, r.err
	}
	r.last = tail
	return r.Read(p)
}

func (r *verifiedReader) Close() error { return r.rc.Close() }
