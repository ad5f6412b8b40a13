package events

import (
	"bytes"
	"context"
	"fmt"
)

// CheckpointReader is what reads stored checkpoints a page at a time:
// every Store, and the readers an audit without the server uses.
type CheckpointReader interface {
	ReadCheckpoints(ctx context.Context, from uint64, fn func(StoredCheckpoint) error) error
}

// CheckpointCursor walks a store's checkpoints in order of size, pulled
// one at a time by its caller (ReadCheckpoints calls back instead): they
// are read from a goroutine of its own into a channel of 256, so that a
// log of millions is walked holding a bounded number. Its methods are
// for one goroutine; Close may be called from another.
type CheckpointCursor struct {
	items  chan cursorItem
	cancel context.CancelFunc
	done   chan struct{}
	ahead  *cursorItem
	index  int
}

type cursorItem struct {
	c   StoredCheckpoint
	err error
}

// OpenCheckpointCursor starts walking r's checkpoints of size at least
// from. Close it.
func OpenCheckpointCursor(ctx context.Context, r CheckpointReader, from uint64) *CheckpointCursor {
	ctx, cancel := context.WithCancel(ctx)
	c := &CheckpointCursor{items: make(chan cursorItem, 256), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.items)
		err := r.ReadCheckpoints(ctx, from, func(cp StoredCheckpoint) error {
			cp.Note = bytes.Clone(cp.Note)
			select {
			case c.items <- cursorItem{c: cp}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			select {
			case c.items <- cursorItem{err: fmt.Errorf("reading the checkpoints: %w", err)}:
			case <-ctx.Done():
			}
		}
	}()
	return c
}

// Peek returns the next checkpoint without taking it, or nil after the
// last; an error of the read is returned from then on.
func (c *CheckpointCursor) Peek() (*StoredCheckpoint, error) {
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

// Take consumes what Peek returned.
func (c *CheckpointCursor) Take() {
	c.ahead = nil
	c.index++
}

// Index is how many were taken.
func (c *CheckpointCursor) Index() int { return c.index }

// Count takes the rest and returns how many were taken in all.
func (c *CheckpointCursor) Count() (int, error) {
	for {
		next, err := c.Peek()
		if err != nil || next == nil {
			return c.index, err
		}
		c.Take()
	}
}

// Close stops the read and waits for its goroutine.
func (c *CheckpointCursor) Close() {
	c.cancel()
	for range c.items {
	}
	<-c.done
}
