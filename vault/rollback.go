package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// RollbackAccepted records that the operator accepted a custody log that
// does not extend the vault's sticky head, because no newer copy of the
// log exists anywhere: the head the vault had, the size the log restarts
// from, and why. Events after that size are lost for good, and every
// holder of the lost head can prove the fork; this event says it happened.
//
// Where neither the keyring folder nor the object store held a head at
// all (both copies deleted), HeadMissing is set and the lost head's
// fields are empty: what was lost is unknown to the vault, and only the
// holders of its checkpoints (auditors, witnesses, packages) can say.
// Where the operator gave such a checkpoint (custos admin
// accept-rollback --checkpoint), the lost head is that checkpoint,
// where it is larger than the vault's own (or the vault had none).
type RollbackAccepted struct {
	LostSize    uint64 `json:"lost_size"`
	LostRoot    string `json:"lost_root"`
	LostHead    string `json:"lost_head"` // the signed checkpoint note
	Size        uint64 `json:"size"`
	Reason      string `json:"reason"`
	HeadMissing bool   `json:"head_missing,omitempty"`
	// VaultHead is the vault's own head (a signed checkpoint note) where
	// the lost head recorded is a larger checkpoint the operator gave
	// (custos admin accept-rollback --checkpoint) and the log does not
	// extend the vault's own either: both are kept on the record.
	VaultHead string `json:"vault_head,omitempty"`
}

// TypeRollbackAccepted is the event of RollbackAccepted.
const TypeRollbackAccepted = "log.rollback.accepted"

// AcceptRollback opens a vault whose custody log does not extend its
// sticky head (a backup older than the vault's last checkpoint, with no
// newer copy anywhere), records the loss as the log's next event, and
// makes the restored log's checkpoint the new head. It runs with the
// server stopped. A log that does extend the head needs no acceptance and
// is refused here.
//
// saved, if not nil, is a checkpoint of this log kept outside the vault
// (an auditor's, custos audit verify --save-checkpoint) that the log
// does not extend either: where it is larger than the vault's own head
// (a whole backup restored, head and all), it is the loss recorded, so
// that the record says what the outside knew was lost, not only what
// the restored head did. A checkpoint that is not this log's, or that
// the log extends, is refused (ErrBadInput).
func AcceptRollback(ctx context.Context, cfg Config, reason string, saved []byte) (*RollbackAccepted, error) {
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return nil, err
	}
	cfg.acceptRollback = true
	cfg.rollbackReason = reason
	cfg.rollbackSaved = saved
	v, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer v.Close()
	return v.rolledBack, nil
}

// acceptRollback is AcceptRollback's work inside Open, after the replay
// and before anything else is appended.
func (v *Vault) acceptRollback(ctx context.Context, head *events.Checkpoint) error {
	missing := head == nil
	var ownHead string
	if saved := v.cfg.rollbackSaved; saved != nil {
		cp, err := events.ParseCheckpoint(saved, v.origin, v.verifier)
		if err != nil {
			return badInput("the checkpoint given is not one of this custody log signed by its key (%v): give the one the auditors saved from this vault", err)
		}
		if checkExtends(cp, "", v.log.Size(), v.log.Tree().Root) == nil {
			return badInput("the custody log (%d events) extends the checkpoint given (%d events): it proves no loss", v.log.Size(), cp.Size)
		}
		if cp.Size <= v.log.Size() {
			// Of a history given up before (an earlier rollback's), or
			// of another fork: it says nothing of what this restore
			// lost, which is events from the log's size on.
			return badInput("the checkpoint given is of %d events, and the restored custody log holds %d already: it tells nothing of what this restore lost (it is of a history given up before, or of another fork). Give the auditors' newest checkpoint, of more events than the restored log", cp.Size, v.log.Size())
		}
		if given, err := v.rollbackGaveUp(ctx, cp); err != nil {
			return err
		} else if given != 0 {
			return badInput("the checkpoint given is the head the rollback recorded at event %d gave up already: it tells nothing of what this restore lost. Give the auditors' newest checkpoint, saved since", given)
		}
		if head == nil || cp.Size > head.Size || checkExtends(head, "", v.log.Size(), v.log.Tree().Root) == nil {
			// The outside knew more than the restored head: a restore of
			// the head with the log, or a head the log still extends.
			// The vault's own head, where the log does not extend it
			// either, stays on the record beside it.
			if head != nil && checkExtends(head, "", v.log.Size(), v.log.Tree().Root) != nil {
				ownHead = string(head.Note)
			}
			head = cp
		}
	}
	var d RollbackAccepted
	switch {
	case head == nil && v.log.Size() == 0:
		return errors.New("the custody log is empty and the vault has no head: there is no rollback to accept")
	case head == nil:
		// Both copies of the head were deleted (missingHead).
		d = RollbackAccepted{HeadMissing: true, Size: v.log.Size(), Reason: v.cfg.rollbackReason}
	case checkExtends(head, "", v.log.Size(), v.log.Tree().Root) == nil:
		return errors.New("the custody log extends the vault's head: there is no rollback to accept")
	default:
		d = RollbackAccepted{LostSize: head.Size, LostRoot: head.Root.String(), LostHead: string(head.Note),
			Size: v.log.Size(), Reason: v.cfg.rollbackReason, HeadMissing: missing, VaultHead: ownHead}
	}
	// Recorded first: a crash before the head is reset leaves the vault
	// refusing to start as before (accept again), never a forgotten head.
	if _, err := v.append(ctx, sequencer.Draft{Type: TypeRollbackAccepted, Actor: System, Data: d}); err != nil {
		return err
	}
	if err := v.head.reset(ctx); err != nil {
		return fmt.Errorf("resetting the vault's head: %w", err)
	}
	// Snapshots of the abandoned history must never be resumed from.
	if err := removeSnapshots(v.cfg.SnapshotDir); err != nil {
		return fmt.Errorf("removing the state snapshots of the lost history: %w", err)
	}
	if _, err := v.log.Checkpoint(ctx); err != nil {
		return err
	}
	v.rolledBack = &d
	return nil
}

// rollbackGaveUp returns the position of a log.rollback.accepted of the
// log that recorded cp as the head it gave up (0 if none did), reading
// the log from its start.
func (v *Vault) rollbackGaveUp(ctx context.Context, cp *events.Checkpoint) (uint64, error) {
	var at uint64
	err := v.cfg.Log.Read(ctx, 0, func(r events.Record) error {
		if !bytes.Contains(r.Bytes, []byte(TypeRollbackAccepted)) {
			return nil
		}
		ev, err := events.Decode(r.Bytes)
		if err != nil || ev.Type != TypeRollbackAccepted {
			return err
		}
		var d RollbackAccepted
		if err := ev.DecodeData(&d); err != nil {
			return err
		}
		if d.LostSize == cp.Size && d.LostRoot == cp.Root.String() {
			at = r.Seq
		}
		return nil
	})
	return at, err
}
