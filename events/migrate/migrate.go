// Package migrate moves a custody log from one backend to another - from
// the embedded SQLite file to PostgreSQL or KurrentDB when a hotline
// grows, or between clusters - without changing a byte of it.
//
// The log's integrity rests on its event bytes and signed checkpoints, not
// on the backend, so a move must copy both exactly and prove it did. The
// signing key's verifier and the log's origin are parameters, not read
// from the log: a log must never be what vouches for itself.
package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/verify"
	"golang.org/x/mod/sumdb/note"
)

// batchSize is the most events written in one append to the destination
// (fewer if the destination limits an append's size: events.AppendLimiter).
const batchSize = 1000

// MigrateLog copies every event and every checkpoint of from into to,
// which must be empty, and returns the number of events copied. It runs
// in three passes:
//
//  1. It replays from with the audit engine (encoding, positions, hash
//     chain, every stored checkpoint's signature and root). A source that
//     fails is refused before anything is written.
//  2. It copies the verified events in batches, each stored checkpoint in
//     the same append as the events that reach its size.
//  3. It replays to the same way, and checks that it holds the same
//     number of events with the same tree root (so the same bytes) and the
//     same checkpoint notes as the source.
//
// Stop every writer of from first: events appended during a migration are
// not copied. If it fails in pass 2 or 3 the destination holds a partial
// copy; it is never repaired - start again with a new, empty one.
func MigrateLog(ctx context.Context, from, to events.Store, origin string, verifier note.Verifier) (uint64, error) {
	if verifier == nil || origin == "" {
		return 0, errors.New("migrate: the log's origin and checkpoint verifier are required")
	}
	if err := requireEmpty(ctx, to); err != nil {
		return 0, err
	}
	src, err := audit(ctx, from, origin, verifier)
	if err != nil {
		return 0, fmt.Errorf("migrate: the source log does not verify; nothing was copied: %w", err)
	}
	seal, err := from.Seal(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: reading the source's seal: %w", err)
	}
	if err := copyLog(ctx, from, to, seal, src.Events); err != nil {
		return 0, err
	}
	dst, err := audit(ctx, to, origin, verifier)
	if err != nil {
		return 0, fmt.Errorf("migrate: the copy does not verify: %w", err)
	}
	if err := sameLog(ctx, from, to, src, dst); err != nil {
		return 0, fmt.Errorf("migrate: the copy differs from the source: %w", err)
	}
	return dst.Events, nil
}

func requireEmpty(ctx context.Context, to events.Store) error {
	n, err := to.Size(ctx)
	if err != nil {
		return fmt.Errorf("migrate: destination: %w", err)
	}
	c := events.OpenCheckpointCursor(ctx, to, 0)
	first, err := c.Peek()
	c.Close()
	if err != nil {
		return fmt.Errorf("migrate: destination: %w", err)
	}
	if first != nil {
		return fmt.Errorf("migrate: the destination is not empty (%d events, a checkpoint of size %d); refusing to write into it", n, first.Size)
	}
	if n != 0 {
		return fmt.Errorf("migrate: the destination is not empty (%d events); refusing to write into it", n)
	}
	return nil
}

// audit replays s against its stored checkpoints, each given to the
// engine before the replay reaches its size.
func audit(ctx context.Context, s events.Store, origin string, verifier note.Verifier) (*verify.Result, error) {
	e := verify.New(origin, verifier)
	cps := events.OpenCheckpointCursor(ctx, s, 0)
	defer cps.Close()
	upto := func(n uint64) error {
		for {
			c, err := cps.Peek()
			if err != nil || c == nil || c.Size > n {
				return err
			}
			if err := e.AddCheckpoint(c.Note, fmt.Sprintf("stored checkpoint %d (size %d)", cps.Index(), c.Size)); err != nil {
				return err
			}
			cps.Take()
		}
	}
	batch := make([][]byte, 0, 4096)
	add := func() error {
		if err := upto(e.Size() + uint64(len(batch))); err != nil {
			return err
		}
		err := e.AddBatch(batch)
		batch = batch[:0]
		return err
	}
	err := s.Read(ctx, 0, func(r events.Record) error {
		batch = append(batch, r.Bytes)
		if len(batch) == cap(batch) {
			return add()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := add(); err != nil {
		return nil, err
	}
	if err := upto(1<<64 - 1); err != nil {
		return nil, err
	}
	return e.Finish()
}

// copyLog writes the first n events of from into the empty to, cutting
// batches at checkpoint sizes so each checkpoint is stored with the events
// that complete it and never before them.
//
// The source's batch seal, if it covers the whole log, is stored with the
// last batch, so that the copy's tail is covered as the source's was.
func copyLog(ctx context.Context, from, to events.Store, seal *events.StoredCheckpoint, n uint64) error {
	cps := events.OpenCheckpointCursor(ctx, from, 0)
	defer cps.Close()
	// next is the next checkpoint to store, nil after the last.
	next, err := cps.Peek()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var batch []events.Record
	written := uint64(0)
	// A destination with a size limit on appends (KurrentDB's
	// MaxAppendSize) gets batches cut to fit it too.
	limiter, _ := to.(events.AppendLimiter)
	size := 0
	flush := func() error {
		var cp *events.StoredCheckpoint
		end := written + uint64(len(batch))
		if next != nil && next.Size == end {
			cp = next
			cps.Take()
			var err error
			if next, err = cps.Peek(); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
		} else if seal != nil && seal.Size == end && end == n && len(batch) > 0 {
			cp = seal
		}
		if len(batch) == 0 && cp == nil {
			return nil
		}
		if err := to.Append(ctx, written, batch, cp); err != nil {
			return fmt.Errorf("migrate: writing events %d..%d: %w", written, end, err)
		}
		written, batch, size = end, batch[:0], 0
		return nil
	}
	// A checkpoint of the empty log, if one was ever stored.
	if err := flush(); err != nil {
		return err
	}
	errDone := errors.New("done")
	err = from.Read(ctx, 0, func(r events.Record) error {
		if r.Seq >= n {
			return errDone
		}
		r.Bytes = bytes.Clone(r.Bytes)
		if limiter != nil {
			n := limiter.AppendSize(r)
			if len(batch) > 0 && size+n > limiter.AppendLimit() {
				if err := flush(); err != nil {
					return err
				}
			}
			size += n
		}
		batch = append(batch, r)
		end := written + uint64(len(batch))
		if len(batch) == batchSize || (next != nil && next.Size == end) {
			return flush()
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	if written != n {
		return fmt.Errorf("migrate: the source shrank while it was copied: %d events of %d", written, n)
	}
	if next != nil {
		return fmt.Errorf("migrate: checkpoint for size %d was not copied", next.Size)
	}
	return nil
}

// sameLog compares the verified replays of source and copy, and their
// stored checkpoints one by one.
func sameLog(ctx context.Context, from, to events.Store, src, dst *verify.Result) error {
	if dst.Events != src.Events || dst.Root != src.Root {
		return fmt.Errorf("%d events with root %x, the source has %d with root %x", dst.Events, dst.Root[:8], src.Events, src.Root[:8])
	}
	a, b := events.OpenCheckpointCursor(ctx, from, 0), events.OpenCheckpointCursor(ctx, to, 0)
	defer a.Close()
	defer b.Close()
	for {
		ca, err := a.Peek()
		if err != nil {
			return err
		}
		cb, err := b.Peek()
		if err != nil {
			return err
		}
		switch {
		case ca == nil && cb == nil:
			return nil
		case ca == nil || cb == nil:
			na, err := a.Count()
			if err != nil {
				return err
			}
			nb, err := b.Count()
			if err != nil {
				return err
			}
			return fmt.Errorf("%d checkpoints, the source has %d", nb, na)
		case cb.Size != ca.Size || !bytes.Equal(cb.Note, ca.Note):
			return fmt.Errorf("checkpoint %d (size %d) differs", a.Index(), ca.Size)
		}
		a.Take()
		b.Take()
	}
}
