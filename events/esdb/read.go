package esdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
)

// pageSize is how many entries one read call asks for; a replay pages
// through the stream so no single call is unbounded.
const pageSize = 4096

// scan calls fn for the stream's entries from revision from on, in order.
// A stream that does not exist is empty: the server only says so at the
// first Recv.
func (s *Store) scan(ctx context.Context, stream string, from uint64, fn func(*esdb.RecordedEvent) error) error {
	for {
		n, err := s.page(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(from)}, pageSize, func(ev *esdb.RecordedEvent) error {
			from = ev.EventNumber + 1
			return fn(ev)
		})
		if err != nil || n < pageSize {
			return err
		}
	}
}

// page reads up to count entries and reports how many it passed to fn.
// The whole read runs as one call (Store.call): Close waits for it to
// end, since the client's Close beside a read's Recv panics in the
// client (a send on the channel Close closes). A read found closed
// before it passed anything on is run again on a new client; one cut
// after is not (fn would see its entries twice), and fails.
func (s *Store) page(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64, fn func(*esdb.RecordedEvent) error) (uint64, error) {
	var n uint64
	err := s.call(func(c *esdb.Client) error {
		rs, err := c.ReadStream(ctx, stream, opts, count)
		if err != nil {
			return err
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case err != nil && isCode(err, esdb.ErrorCodeResourceNotFound):
				return nil
			case err != nil && n > 0:
				// Not retried: the code is not passed on.
				return fmt.Errorf("cut after %d entries: %v", n, err)
			case err != nil:
				return err
			}
			rec := ev.OriginalEvent()
			if ev.Link != nil || rec == nil || rec.StreamID != stream {
				return fmt.Errorf("stream %q holds a link to another stream: not a custody log", stream)
			}
			n++
			if err := fn(rec); err != nil {
				return fnError{err}
			}
		}
	})
	var fe fnError
	if errors.As(err, &fe) {
		return n, fe.err
	}
	if err != nil {
		return n, fmt.Errorf("esdb: reading stream %q: %w", stream, err)
	}
	return n, nil
}

// fnError carries an error of page's fn out of its call unchanged.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// first decodes the stream's first entry, if any, with decode.
func (s *Store) first(ctx context.Context, stream string, decode func(*esdb.RecordedEvent) error) (bool, error) {
	n, err := s.page(ctx, stream, esdb.ReadStreamOptions{From: esdb.Start{}}, 1, decode)
	return n > 0, err
}

// last returns the stream's last entry, or nil for an empty stream.
func (s *Store) last(ctx context.Context, stream string) (*esdb.RecordedEvent, error) {
	var out *esdb.RecordedEvent
	_, err := s.page(ctx, stream, esdb.ReadStreamOptions{From: esdb.End{}, Direction: esdb.Backwards}, 1, func(ev *esdb.RecordedEvent) error {
		out = ev
		return nil
	})
	return out, err
}

// Size implements events.Store: one past the last event's revision, after
// checking that the last entry is a custody event at its own position.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	ev, err := s.last(ctx, s.stream)
	if err != nil || ev == nil {
		return 0, err
	}
	r, err := s.decodeEvent(ev)
	if err != nil {
		return 0, err
	}
	return r.Seq + 1, nil
}

// Read implements events.Store.
func (s *Store) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return s.records(ctx, from, func(r events.Record) bool { return true }, fn)
}

// ReadCase implements events.Store. The stream is read whole and filtered
// on the metadata: the server keeps no per-case index of one stream.
func (s *Store) ReadCase(ctx context.Context, caseID string, fn func(events.Record) error) error {
	if caseID == "" {
		return nil
	}
	return s.records(ctx, 0, func(r events.Record) bool { return r.Case == caseID }, fn)
}

// ReadItem implements events.Store, as ReadCase.
func (s *Store) ReadItem(ctx context.Context, itemID string, fn func(events.Record) error) error {
	if itemID == "" {
		return nil
	}
	return s.records(ctx, 0, func(r events.Record) bool { return r.Item == itemID }, fn)
}

func (s *Store) records(ctx context.Context, from uint64, keep func(events.Record) bool, fn func(events.Record) error) error {
	return s.scan(ctx, s.stream, from, func(ev *esdb.RecordedEvent) error {
		r, err := s.decodeEvent(ev)
		if err != nil {
			return err
		}
		if !keep(r) {
			return nil
		}
		return fn(r)
	})
}

// Seal implements events.Store: the seal in the metadata of the stream's
// last event (nil if that event carries none).
func (s *Store) Seal(ctx context.Context) (*events.StoredCheckpoint, error) {
	ev, err := s.last(ctx, s.stream)
	if err != nil || ev == nil {
		return nil, err
	}
	if _, err := s.decodeEvent(ev); err != nil {
		return nil, err
	}
	var m eventMeta
	if err := json.Unmarshal(ev.UserMetadata, &m); err != nil {
		return nil, fmt.Errorf("esdb: reading the seal: %w", err)
	}
	if len(m.Seal) == 0 {
		return nil, nil
	}
	return &events.StoredCheckpoint{Size: m.Seq + 1, Note: m.Seal, Seal: true}, nil
}

// ReadCheckpoints implements events.Store: the checkpoint stream is read
// a page at a time (scan), those below from skipped.
func (s *Store) ReadCheckpoints(ctx context.Context, from uint64, fn func(events.StoredCheckpoint) error) error {
	return s.scan(ctx, s.checkpoints, 0, func(ev *esdb.RecordedEvent) error {
		c, err := s.decodeCheckpoint(ev)
		if err != nil {
			return err
		}
		if c.Size < from {
			return nil
		}
		return fn(c)
	})
}
