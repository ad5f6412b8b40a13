package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/events/witness/witnessclient"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/objects"
)

// Anchors outside the vault (docs/witnesses.md).
//
// Every published checkpoint is handed to the witnesses of the vault's
// policy (events/witness), beside the appends: an acknowledgement never
// waits for a witness. A checkpoint whose cosignatures meet the quorum
// is stored in the object store as "witnessed/<size, 20 digits>-<its
// SHA-256>" (the log's note with the cosignature lines), write-once under the store's
// default retention. Packages and audits wait, a bounded time, for their
// checkpoint's cosignatures. With no witness configured the vault makes
// no outbound connection.

const (
	witnessedPrefix = "witnessed/"
	// anchorWait bounds how long a package or an audit waits for its
	// checkpoint's cosignatures.
	anchorWait = 10 * time.Second
)

// witnessedObject names a cosigned checkpoint: "witnessed/<size, 20
// digits>-<SHA-256 of the cosigned note, 64 hex digits>" (witnesses.md
// section 3), from its own bytes, as the time-stamps' notes are
// (timestampedNoteObject): bytes stored under it by someone who saw the
// cosigned note first (GET /checkpoint serves it as it is stored)
// displace nothing (putOwn).
func witnessedObject(size uint64, cosigned []byte) string {
	return fmt.Sprintf("%s%020d-%x", witnessedPrefix, size, sha256.Sum256(cosigned))
}

// putOwn stores b as name, write-once, and returns the name it is
// stored under. A name already taken is kept if it holds exactly b (an
// earlier attempt's, or a restart's: a note of a size is the same bytes
// whoever signs it again, as Ed25519 signatures are deterministic). A
// name taken by other bytes (someone who read the vault's bytes where
// they were already visible, the sticky head or GET /checkpoint, and
// stored something else first) cannot hold them: b is stored under the
// name with "-" and 8 random hex digits added (ownedName), and taken
// reports the bytes found, for the caller to log. A verifier finds an
// object by the SHA-256 its name carries and checks that the bytes have
// it, whichever of the two names holds them.
func putOwn(ctx context.Context, st objects.Store, name string, b []byte) (stored string, taken error, err error) {
	_, err = st.Put(ctx, name, bytes.NewReader(b), objects.PutOptions{})
	if !errors.Is(err, objects.ErrExists) && !errors.Is(err, objects.ErrNotRegular) {
		return name, nil, err
	}
	// Taken: by an object, or (a file store) by a link or a pipe someone
	// put there, which the store neither follows nor opens.
	held, err := objects.ReadSmall(ctx, st, name, int64(len(b)))
	if err == nil && bytes.Equal(held, b) {
		return name, nil, nil
	}
	if err != nil {
		taken = fmt.Errorf("%s is already stored and could not be read back as the vault's %d bytes: %w", name, len(b), err)
	} else {
		taken = fmt.Errorf("%s already holds bytes that are not the vault's: stored there by someone else before the vault wrote it", name)
	}
	other := ownedName(name, randomHex(4))
	if _, err := st.Put(ctx, other, bytes.NewReader(b), objects.PutOptions{}); err != nil {
		return "", taken, fmt.Errorf("%w; storing it as %s instead: %w", taken, other, err)
	}
	return other, taken, nil
}

// ownedName is name with "-" and suffix (8 hex digits) added: where
// putOwn stores bytes whose own name someone else took.
func ownedName(name, suffix string) string { return name + "-" + suffix }

// startAnchors starts the witness client if a policy is configured, and
// the time-stamping if TSAs are.
func (v *Vault) startAnchors() {
	if len(v.cfg.TSAs) > 0 {
		st := newStamper(v.cfg.TSAs, v.cfg.TSACerts, v.anchorHTTP(), v.cfg.TSAInterval, v.logger, v.objects)
		v.logger.Info("checkpoints are time-stamped", "tsas", len(v.cfg.TSAs), "interval", v.cfg.TSAInterval.String())
		v.witnessMu.Lock()
		v.stamps = st
		v.witnessMu.Unlock()
		if cp := v.log.LatestCheckpoint(); cp != nil {
			st.submit(cp)
		}
	}
	if v.cfg.Witnesses == nil {
		return
	}
	c := witnessclient.Start(witnessclient.Config{
		Policy: v.cfg.Witnesses,
		Proof:  func(from, to uint64) ([][]byte, error) { return v.log.Tree().ConsistencyProof(from, to) },
		Save:   v.saveWitnessed,
		Logger: v.logger,
		HTTP:   v.anchorHTTP(),
	})
	if cp, n := v.loadWitnessed(); cp != nil {
		c.SetLatest(cp, n)
	}
	v.witnessMu.Lock()
	v.witnesses = c
	v.witnessMu.Unlock()
	names := make([]string, len(v.cfg.Witnesses.Witnesses))
	for i, w := range v.cfg.Witnesses.Witnesses {
		names[i] = w.Name
	}
	v.logger.Info("checkpoints are submitted to witnesses", "witnesses", strings.Join(names, ","), "quorum", v.cfg.Witnesses.Quorum)
	if cp := v.log.LatestCheckpoint(); cp != nil {
		c.Submit(cp)
	}
}

// anchorHTTP is the client for witnesses and TSAs: the configured one,
// or one with a 10-second timeout; neither follows redirects.
func (v *Vault) anchorHTTP() *http.Client {
	c := &http.Client{Timeout: 10 * time.Second}
	if v.cfg.AnchorHTTP != nil {
		cp := *v.cfg.AnchorHTTP
		c = &cp
	}
	return witnessclient.NoRedirects(c)
}

// The newest witnessed checkpoint is also kept in the keyring folder, so
// that a restarted vault serves it (and reports the witnessed size) from
// the start; it is checked like the sticky head before it is used.
const witnessedFile = "witnessed.checkpoint"

// maxWitnessedNote bounds the witnessed checkpoint read back from the
// keyring folder: a note with the vault's signature and a witness
// policy's cosignatures, each about a hundred bytes.
const maxWitnessedNote = 64 << 10

func (v *Vault) loadWitnessed() (*events.Checkpoint, []byte) {
	b, err := smallfile.Read(filepath.Join(v.cfg.KeyringDir, witnessedFile), maxWitnessedNote)
	if err != nil {
		return nil, nil
	}
	cp, err := events.ParseCheckpoint(b, v.origin, v.verifier)
	if err == nil && !v.cfg.Witnesses.Satisfied(b) {
		err = errors.New("its cosignatures do not meet the witness policy")
	}
	if err == nil {
		if root, rerr := v.log.Tree().Root(cp.Size); rerr != nil || root != cp.Root {
			err = errors.New("the log does not extend it")
		}
	}
	if err != nil {
		v.logger.Warn("the stored witnessed checkpoint is not used", "file", witnessedFile, "err", err)
		return nil, nil
	}
	return cp, b
}

func (v *Vault) witnessClient() *witnessclient.Client {
	v.witnessMu.Lock()
	defer v.witnessMu.Unlock()
	return v.witnesses
}

func (v *Vault) stamper() *stamper {
	v.witnessMu.Lock()
	defer v.witnessMu.Unlock()
	return v.stamps
}

// afterPublish runs on the log's writer for every published checkpoint
// (kept as the sticky head; in the log store too if stored); it must not
// block. Witnesses and time-stamping authorities are given each one: a
// token is kept in the object store with the note it dates beside it
// (docs/timestamps.md, section 5), stored in the log store or not.
func (v *Vault) afterPublish(cp *events.Checkpoint) {
	if v.snaps != nil {
		v.snaps.maybeWrite(v, cp, false)
	}
	if c := v.witnessClient(); c != nil {
		c.Submit(cp)
	}
	if st := v.stamper(); st != nil {
		st.submit(cp)
	}
}

func (v *Vault) saveWitnessed(ctx context.Context, cp *events.Checkpoint, cosigned []byte) error {
	if name, taken, err := putOwn(ctx, v.objects, witnessedObject(cp.Size, cosigned), cosigned); err != nil {
		return err
	} else if taken != nil {
		v.logger.Error("a cosigned checkpoint's name was taken by other bytes before the vault stored it: stored under another name; find out who wrote to the object store", "size", cp.Size, "stored", name, "err", taken)
	}
	v.witnessedMu.Lock()
	defer v.witnessedMu.Unlock()
	if cp.Size > v.witnessedSize {
		if err := durable.Replace(filepath.Join(v.cfg.KeyringDir, witnessedFile), cosigned); err != nil {
			return err
		}
		v.witnessedSize = cp.Size
	}
	return nil
}

func (v *Vault) stopAnchors() {
	if c := v.witnessClient(); c != nil {
		c.Close()
	}
	if st := v.stamper(); st != nil {
		st.close()
	}
}

// TimeStamped reports whether time-stamping authorities are configured.
func (v *Vault) TimeStamped() bool { return len(v.cfg.TSAs) > 0 }

// WitnessPolicy returns the vault's witness policy, or nil.
func (v *Vault) WitnessPolicy() *witness.Policy { return v.cfg.Witnesses }

// WitnessStatus returns each witness's state (nil without a policy).
func (v *Vault) WitnessStatus() []witnessclient.Status {
	if c := v.witnessClient(); c != nil {
		return c.Status()
	}
	return nil
}

// Anchored is a checkpoint with what vouches for it outside the vault.
type Anchored struct {
	Checkpoint *events.Checkpoint
	// Note is the checkpoint note with the witnesses' cosignature lines
	// gathered for it (the log's note alone without witnesses).
	Note []byte
	// Verdict is the policy's verdict on Note (zero without a policy).
	Verdict witness.Verdict
	// Tokens are RFC 3161 time-stamp tokens over the checkpoint as the
	// log signed it (Checkpoint.Note), one per TSA that answered.
	Tokens []tsa.Token
}

// anchor waits, at most anchorWait or until ctx ends, for the witnesses
// to cosign cp or a newer checkpoint (under load a witness is already on
// a newer one, which covers cp's events as well), then for the TSAs to
// time-stamp the checkpoint chosen, and returns it with both.
func (v *Vault) anchor(ctx context.Context, cp *events.Checkpoint) Anchored {
	a := Anchored{Checkpoint: cp, Note: cp.Note}
	wctx, cancel := context.WithTimeout(ctx, anchorWait)
	defer cancel()
	if c := v.witnessClient(); c != nil {
		if got, n := c.Wait(wctx, cp.Size); got != nil && len(n) <= events.MaxCheckpointSize {
			a.Checkpoint, a.Note = got, n
		}
		a.Verdict = v.cfg.Witnesses.Check(a.Note)
	}
	if st := v.stamper(); st != nil {
		a.Tokens = st.stamp(wctx, a.Checkpoint, true)
	}
	return a
}

// AnchoredCheckpoint signs a checkpoint covering every event appended so
// far (if one is due) and returns it with its cosignatures, waiting a
// bounded time for the witnesses (an auditor's read).
func (v *Vault) AnchoredCheckpoint(ctx context.Context) (Anchored, error) {
	cp, err := v.log.Checkpoint(ctx)
	if err != nil {
		return Anchored{}, err
	}
	return v.anchor(ctx, cp), nil
}

// PublicCheckpoint returns the checkpoint the vault serves at
// /checkpoint: with a witness policy, the newest one whose cosignatures
// meet it, with them (nil while there is none: an unwitnessed
// checkpoint is never served in its place, so a fork shows as a
// witnessed size that stops growing); without a policy the newest
// checkpoint; nil if there is none yet.
func (v *Vault) PublicCheckpoint() (*events.Checkpoint, []byte) {
	if v.cfg.Witnesses != nil {
		if c := v.witnessClient(); c != nil {
			return c.Latest()
		}
		return nil, nil
	}
	cp := v.log.LatestCheckpoint()
	if cp == nil {
		return nil, nil
	}
	return cp, cp.Note
}
