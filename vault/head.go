package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/objects"
	"golang.org/x/mod/sumdb/note"
)

// The sticky head.
//
// The vault remembers, outside the log store, the largest checkpoint it
// has signed: in the keyring folder (head.checkpoint) and in the object
// store ("head/" and the size in 20 digits). Both are written after the
// events a checkpoint covers are durable and before the checkpoint is
// stored or served (sequencer.Config.BeforePublish). At every start the
// log must extend the larger of the two: a log store that was deleted,
// truncated, rolled back or rewritten is refused, with what to do about
// it, instead of being continued or started afresh. Deceiving this check
// takes both the log store's administrator and the keyring's and the
// object store's, and witnesses then still see the fork.

// HeadFile is the sticky head's file name in the keyring folder
// (Config.KeyringDir): what `custos audit verify --store` finds beside a
// log file in a data folder.
const HeadFile = "head.checkpoint"

const (
	headPrefix = "head/"
	// maxHeadNote bounds a stored head read back (a checkpoint note with
	// a few signatures is far smaller).
	maxHeadNote = 16 << 10
	// maxHeadObjects bounds how many head objects a start reads.
	maxHeadObjects = 64
)

type stickyHead struct {
	file    string
	objects objects.Store
	mu      sync.Mutex
	stored  string // the object holding the newest head this process wrote
	size    uint64 // the largest head known; a smaller one is never saved
}

func newStickyHead(keyringDir string, store objects.Store) *stickyHead {
	return &stickyHead{file: filepath.Join(keyringDir, HeadFile), objects: store}
}

func headObject(size uint64) string { return fmt.Sprintf("%s%020d", headPrefix, size) }

// HeadObjectSize is the size a head object's name in the object store
// gives: "head/" and 20 digits (headObject), and false for any other
// name. What `custos audit verify --store` finds in a file object store
// beside the log is checked by it too.
func HeadObjectSize(name string) (uint64, bool) {
	digits, ok := strings.CutPrefix(name, headPrefix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil
}

// save records cp as the vault's head in both places. The sequencer
// calls it (BeforePublish) one call at a time, from its writer or its
// head writer, before cp is published or a view it covers is answered.
func (h *stickyHead) save(ctx context.Context, cp *events.Checkpoint) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cp.Size < h.size {
		// The head only grows (the sequencer never publishes a smaller
		// checkpoint of a log that extends it; this is a second guard).
		return fmt.Errorf("checkpoint of %d events is below the vault's head of %d", cp.Size, h.size)
	}
	if err := durable.Replace(h.file, cp.Note); err != nil {
		return fmt.Errorf("saving the log head: %w", err)
	}
	name := headObject(cp.Size)
	_, err := h.objects.Put(ctx, name, bytes.NewReader(cp.Note), objects.PutOptions{Unlocked: true})
	if err != nil && !errors.Is(err, objects.ErrExists) && !errors.Is(err, objects.ErrNotRegular) {
		// Taken (by a link or pipe, in a file store, too): the head file
		// above holds it, and a start reads and judges what the name
		// holds (load).
		return fmt.Errorf("saving the log head in the object store: %w", err)
	}
	if h.stored != "" && h.stored != name {
		h.objects.Delete(ctx, h.stored) // an older head left behind is harmless
	}
	h.stored, h.size = name, cp.Size
	return nil
}

// saveEmpty saves a new vault's first head, a checkpoint of its empty
// log, before its first event is appended: from then on a log with
// events always has a head, and one without is refused (missingHead).
func (h *stickyHead) saveEmpty(ctx context.Context, signer note.Signer, verifier note.Verifier, origin string) error {
	var root events.Hash
	copy(root[:], events.Hasher.EmptyRoot())
	b, err := events.SignCheckpoint(signer, origin, 0, root)
	if err != nil {
		return fmt.Errorf("signing the empty log's checkpoint: %w", err)
	}
	cp, err := events.ParseCheckpoint(b, origin, verifier)
	if err != nil {
		return fmt.Errorf("the empty log's checkpoint: %w", err)
	}
	return h.save(ctx, cp)
}

// ErrHeadMissing is the refusal of a start whose log holds events while
// neither place holds the vault's head (missingHead).
var ErrHeadMissing = errors.New("the vault's log head is missing")

// missingHead is the refusal of a start on a log of size events with no
// head in the keyring folder (file) or the object store.
func missingHead(size uint64, file string) error {
	return fmt.Errorf("%w: the custody log holds %d events, but neither %s nor the object store's head/ holds the vault's newest checkpoint. "+
		"A vault saves it before its first event and never removes the last copy, so both were deleted: that is how a log is cut back to an older checkpoint unnoticed. "+
		"Restore the keyring folder and the object store's head/ from backup, and compare the log with the auditors' saved checkpoints and the witnesses' (docs/operations.md, \"Restoring\"). "+
		"If no copy exists anywhere, continue on this log only with `custos admin accept-rollback`, which records the loss in the log", ErrHeadMissing, size, file)
}

// ErrEmptyObjectStore is a start refused because the object store holds
// nothing while the custody log holds events (notThisVaultsStore).
var ErrEmptyObjectStore = errors.New("the object store holds none of this vault's objects")

// errFound stops a listing at its first object.
var errFound = errors.New("found")

// notThisVaultsStore returns ErrEmptyObjectStore, with what to do, if
// store holds none of the vault's kinds of object (evidence ev/,
// packages pk/, key replicas key/ and logkey/), where the custody log
// holds size (> 0) events and the store no head: a vault writes its
// head there before its first event, and an object for every deposit
// and case key. headFile is where the head was
// found (the keyring folder), headName the name its copy has in the
// store. nil if the store holds any object.
func notThisVaultsStore(ctx context.Context, store objects.Store, size uint64, headFile, headName string) error {
	// Only the vault's own kinds of object count: evidence, packages,
	// key replicas. Anything else (a file someone left, another
	// program's objects) makes no store the vault's.
	for _, prefix := range []string{"ev/", "pk/", "key/", logRecoveryPrefix} {
		err := store.List(ctx, prefix, func(objects.Info) error { return errFound })
		switch {
		case errors.Is(err, errFound):
			return nil
		case err != nil:
			return fmt.Errorf("reading the object store: %w", err)
		}
	}
	return notTheVaultsStore(fmt.Sprintf("the custody log holds %d events, and the vault writes its newest checkpoint (head/), every deposit's ciphertext (ev/) and copies of its keys there, yet the store holds none of them", size), headFile, headName)
}

// notTheVaultsStore is a start's refusal of an object store that is not
// the vault's (ErrEmptyObjectStore), for what (what the store lacks),
// with what to do: check --objects, restore the store, or, where its
// contents are lost for good, copy the keyring's head (headFile) into it
// under headName.
func notTheVaultsStore(what, headFile, headName string) error {
	return fmt.Errorf("%w: %s. "+
		"The object store given (--objects) is not the vault's: a mistyped path or bucket, a disk or share not mounted, or another vault's. Check --objects and start again; "+
		"if the store is the right one and lost them, restore it from backup (docs/operations.md, \"Restoring\"). "+
		"Only if its contents are lost for good, and the vault is to go on without them, copy %s into it as %s: custos audit scrub then lists every item whose object is missing",
		ErrEmptyObjectStore, what, headFile, headName)
}

// holdsRecordedObjects returns ErrEmptyObjectStore, with what to do, if
// the object store holds none of the first few evidence objects of live
// cases the log records (where it records any): a store with no head of
// the vault's must at least hold its evidence, not only objects under
// its names (an ev/ file of anyone's). Called after the replay, before
// anything is written to the store.
func (v *Vault) holdsRecordedObjects(ctx context.Context, size uint64, headFile, headName string) error {
	const sample = 3
	checked := 0
	for _, id := range v.state.allCases() {
		if c, ok := v.state.getCase(id); !ok || c.Destroyed {
			continue
		}
		objs, err := v.state.caseObjects(id)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if checked == sample {
				break
			}
			checked++
			_, err := v.objects.Stat(ctx, o)
			switch {
			case err == nil:
				return nil
			case !errors.Is(err, objects.ErrNotFound):
				return fmt.Errorf("reading the object store: %w", err)
			}
		}
		if checked == sample {
			break
		}
	}
	if checked == 0 {
		return nil // nothing recorded to look for
	}
	return notTheVaultsStore(fmt.Sprintf("it holds no head of the vault's, and none of the %d first evidence objects the custody log records that it looked for", checked), headFile, headName)
}

// load returns the largest head found in either place (nil if none),
// each verified as a checkpoint of this log signed by its key, and where
// it was found. For an empty log (empty), a head of no events that this
// log's key did not sign is what a first start that failed after saving
// its head left (saveEmpty): it vouched for nothing, and is removed and
// skipped, so that the start can begin again as operations.md says.
func (h *stickyHead) load(ctx context.Context, origin string, v note.Verifier, empty bool) (*events.Checkpoint, string, error) {
	var best *events.Checkpoint
	var where string
	consider := func(b []byte, from string) (*events.Checkpoint, error) {
		cp, err := events.ParseCheckpoint(b, origin, v)
		if err != nil && empty {
			if _, size, perr := events.PeekCheckpoint(b); perr == nil && size == 0 {
				return nil, errLeftover
			}
		}
		if err != nil {
			return nil, fmt.Errorf("the vault's log head in %s is not a checkpoint of this log signed by its key (%v): it was altered, or belongs to another vault. The vault keeps its head in two places, the keyring folder (%s) and the object store (head/): keep this copy for the incident report, move it out of its place, and start again, which reads the other; find out who changed it, and compare the log with the auditors' saved checkpoints (docs/operations.md, \"Restoring\")", from, err, HeadFile)
		}
		if best == nil || cp.Size > best.Size {
			best, where = cp, from
		}
		return cp, nil
	}
	b, err := smallfile.Read(h.file, maxHeadNote)
	switch {
	case err == nil:
		if _, err := consider(b, h.file); errors.Is(err, errLeftover) {
			os.Remove(h.file)
		} else if err != nil {
			return nil, "", err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("reading the log head: %w", err)
	}
	var names []string
	if err := h.objects.List(ctx, headPrefix, func(i objects.Info) error {
		names = append(names, i.Name)
		return nil
	}); err != nil {
		return nil, "", fmt.Errorf("reading the log head from the object store: %w", err)
	}
	// There are one or two head objects unless deletions failed; at most
	// maxHeadObjects, the largest sizes first, are read. A name is not
	// signed, the note in it is: each must be a checkpoint of the size
	// its name gives, so that no object under a name that sorts higher
	// can hide the largest head from this bounded read (someone with the
	// object store could otherwise plant copies of an old checkpoint
	// under higher names). A name the vault never gives is refused, not
	// skipped.
	for _, name := range names {
		if _, ok := HeadObjectSize(name); !ok {
			return nil, "", fmt.Errorf("the object store holds %s, a name the vault never gives its log head: someone wrote to the object store; remove it after finding out who", name)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	for i, name := range names {
		if i == maxHeadObjects {
			break
		}
		b, err := objects.ReadSmall(ctx, h.objects, name, maxHeadNote)
		if err != nil {
			return nil, "", fmt.Errorf("reading the log head from the object store: %w", err)
		}
		where := "the object store (" + name + ")"
		cp, err := consider(b, where)
		if errors.Is(err, errLeftover) {
			h.objects.Delete(ctx, name)
			continue
		}
		if err != nil {
			return nil, "", err
		}
		if size, _ := HeadObjectSize(name); cp.Size != size {
			return nil, "", fmt.Errorf("the vault's log head in %s is a checkpoint of %d events, not of the size its name gives: it was altered or copied there", where, cp.Size)
		}
		if i == 0 {
			h.stored = name
		}
	}
	if best != nil {
		h.size = best.Size
	}
	return best, where, nil
}

// errLeftover is load's finding of a head a failed first start left.
var errLeftover = errors.New("a head of no events left by a first start that failed")

// checkExtends refuses a log that does not extend the head: fewer events
// than the vault once signed for, or different ones. With root nil, it
// checks the log's size alone (before the log is read).
func checkExtends(head *events.Checkpoint, where string, size uint64, root func(uint64) (events.Hash, error)) error {
	if head == nil {
		return nil
	}
	if size < head.Size {
		return fmt.Errorf("the custody log holds %d events, but this vault signed a checkpoint of %d events (kept in %s): "+
			"the log was truncated, rolled back or replaced. Restore the custody log from a backup holding at least %d events; "+
			"never start a new log under this vault's keys", size, head.Size, where, head.Size)
	}
	if root == nil {
		return nil
	}
	r, err := root(head.Size)
	if err != nil {
		return err
	}
	if r != head.Root {
		return fmt.Errorf("the first %d events of the custody log are not the ones this vault signed (kept in %s): "+
			"the log was rewritten. Restore the custody log from backup and compare it with the auditors' saved checkpoints", head.Size, where)
	}
	return nil
}

// reset forgets every stored head (both places), so that the next save
// may record a smaller one. Only AcceptRollback calls it.
func (h *stickyHead) reset(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var names []string
	if err := h.objects.List(ctx, headPrefix, func(i objects.Info) error {
		names = append(names, i.Name)
		return nil
	}); err != nil {
		return err
	}
	for _, n := range names {
		if err := h.objects.Delete(ctx, n); err != nil && !errors.Is(err, objects.ErrNotFound) {
			return err
		}
	}
	if err := os.Remove(h.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	h.stored, h.size = "", 0
	return nil
}

// QuietWarnAfter is how long a custody log may have recorded nothing
// before a start says so (warnIfQuiet): 7 days.
const QuietWarnAfter = 7 * 24 * time.Hour

// warnIfQuiet logs a warning, before the start appends anything, when
// the log's newest event is older than QuietWarnAfter. A whole backup put
// back, heads and all, is as consistent as the day it was taken, and
// without witnesses the vault cannot tell it from the newest; but the
// person who restored it knows whether the vault was used since the
// date this names. A vault closed over a holiday warns too, harmlessly.
func (v *Vault) warnIfQuiet(ctx context.Context) {
	size := v.log.Size()
	if size == 0 {
		return
	}
	ev, err := v.eventAt(ctx, size-1)
	if err != nil {
		return // the start's own checks report a log that cannot be read
	}
	at := ev.Timestamp()
	if quiet := v.cfg.Now().Sub(at); quiet > QuietWarnAfter {
		v.logger.Warn("the custody log's newest event was recorded more than a week ago: if the vault was used after that, this log is an older backup and what was recorded since is lost; stop the server now and check the log against the auditors' newest saved checkpoint (docs/operations.md, \"Restoring, and telling a restore from a rollback\")",
			"event", ev.Seq, "type", ev.Type, "recorded", at.UTC().Format(time.RFC3339), "days_ago", int(quiet/(24*time.Hour)))
	}
}
