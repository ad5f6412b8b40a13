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
	c := openCheckpoints(ctx, to)
	first, err := c.peek()
	c.close()
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

// checkpoints reads a store's stored checkpoints in order of size, a page
// at a time (events.Store.ReadCheckpoints) from a goroutine of its own,
// with one read ahead: a log stores one a second, millions over its
// life, and a migration holds a bounded number.
type checkpoints struct {
	items  chan checkpointItem
	cancel context.CancelFunc
	done   chan struct{}
	ahead  *checkpointItem
	index  int // of the next, from 0
}

type checkpointItem struct {
	c   events.StoredCheckpoint
	err error
}

func openCheckpoints(ctx context.Context, s events.Store) *checkpoints {
	ctx, cancel := context.WithCancel(ctx)
	c := &checkpoints{items: make(chan checkpointItem, 256), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.items)
		err := s.ReadCheckpoints(ctx, 0, func(cp events.StoredCheckpoint) error {
			cp.Note = bytes.Clone(cp.Note)
			select {
			case c.items <- checkpointItem{c: cp}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			c.items <- checkpointItem{err: fmt.Errorf("reading the checkpoints: %w", err)}
		}
	}()
	return c
}

// peek returns the next checkpoint without taking it, or nil after the
// last.
func (c *checkpoints) peek() (*events.StoredCheckpoint, error) {
	if c.ahead == nil {
		it, ok := <-c.items
		if !ok {
			return nil, nil
		}
		c.ahead = &it
	}
	if c.ahead.err != nil {
		return nil, c.ahead.err
	}
	return &c.ahead.c, nil
}

// take consumes what peek returned.
func (c *checkpoints) take() {
	c.ahead = nil
	c.index++
}

// count takes the rest and returns how many there were in all.
func (c *checkpoints) count() (int, error) {
	for {
		next, err := c.peek()
		if err != nil || next == nil {
			return c.index, err
		}
		c.take()
	}
}

func (c *checkpoints) close() {
	c.cancel()
	for range c.items {
	}
	<-c.done
}

// audit replays s against its stored checkpoints, each given to the
// engine before the replay reaches its size.
func audit(ctx context.Context, s events.Store, origin string, verifier note.Verifier) (*verify.Result, error) {
	e := verify.New(origin, verifier)
	cps := openCheckpoints(ctx, s)
	defer cps.close()
	upto := func(n uint64) error {
		for {
			c, err := cps.peek()
			if err != nil || c == nil || c.Size > n {
				return err
			}
			if err := e.AddCheckpoint(c.Note, fmt.Sprintf("stored checkpoint %d (size %d)", cps.index, c.Size)); err != nil {
				return err
			}
			cps.take()
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
	cps := openCheckpoints(ctx, from)
	defer cps.close()
	// next is the next checkpoint to store, nil after the last.
	next, err := cps.peek()
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
			cps.take()
			var err error
			if next, err = cps.peek(); err != nil {
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
	a, b := openCheckpoints(ctx, from), openCheckpoints(ctx, to)
	defer a.close()
	defer b.close()
	for {
		ca, err := a.peek()
		if err != nil {
			return err
		}
		cb, err := b.peek()
		if err != nil {
			return err
		}
		switch {
		case ca == nil && cb == nil:
			return nil
		case ca == nil || cb == nil:
			na, err := a.count()
			if err != nil {
				return err
			}
			nb, err := b.count()
			if err != nil {
				return err
			}
			return fmt.Errorf("%d checkpoints, the source has %d", nb, na)
		case cb.Size != ca.Size || !bytes.Equal(cb.Note, ca.Note):
			return fmt.Errorf("checkpoint %d (size %d) differs", a.index, ca.Size)
		}
		a.take()
		b.take()
	}
}
