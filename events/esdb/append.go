package esdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf16"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
)

// ErrCheckpointNotStored is returned (wrapped) by Append when its events
// are stored but its checkpoint is not: the two streams cannot be written
// atomically. The log is intact and the events are durable; the
// checkpoint was simply not issued, and a later one will cover them.
var ErrCheckpointNotStored = errors.New("the events are stored but the checkpoint is not")

// expectedRevision is the stream revision an append at position expected
// states: no stream for an empty log, else the last event's revision.
func expectedRevision(expected uint64) esdb.ExpectedRevision {
	if expected == 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(expected - 1)
}

// sealRoom is what AppendLimit sets aside for the batch seal that the
// last event's metadata carries: a signed note, base64 in the JSON, is a
// few hundred bytes.
const sealRoom = 8 << 10

// AppendSize implements events.AppendLimiter: the server's measure of one
// event (data + metadata + twice the event type's length), without a seal.
func (s *Store) AppendSize(r events.Record) int {
	ev, err := encodeEvent(r, nil)
	if err != nil {
		return len(r.Bytes) // Append refuses the record anyway
	}
	return eventSize(ev)
}

// AppendLimit implements events.AppendLimiter: the server's MaxAppendSize
// less room for the batch seal.
func (s *Store) AppendLimit() int {
	return max(s.maxAppendSize-sealRoom, 0)
}

// eventSize is the server's measure of an event for MaxAppendSize
// (Event.SizeOnDisk: data, metadata, and the type's UTF-16 length twice).
func eventSize(ev esdb.EventData) int {
	return len(ev.Data) + len(ev.Metadata) + 2*len(utf16.Encode([]rune(ev.EventType)))
}

// Append implements events.Store. The batch is one AppendToStream call
// with the expected revision, so it is stored whole or not at all; it is
// never split, so it must fit the server's MaxAppendSize (1 MiB by
// default; Config.MaxAppendSize). A batch over it is refused here, with
// the sizes, before anything is sent; the sequencer keeps its batches
// within it (events.AppendLimiter).
//
// The server deduplicates a repeated append by event ids alone, without
// comparing data, so Append first compares the stream's end with expected
// itself: records already stored at those positions are a retry only if
// their bytes are the same too.
func (s *Store) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	for i, r := range recs {
		if r.Seq != expected+uint64(i) {
			return fmt.Errorf("esdb: record %d has seq %d, want %d", i, r.Seq, expected+uint64(i))
		}
	}
	end := expected + uint64(len(recs))
	if cp != nil && cp.Size > end {
		return fmt.Errorf("esdb: checkpoint for size %d would cover events that are not stored (the log would have %d)", cp.Size, end)
	}
	if cp != nil && cp.Seal && (len(recs) == 0 || cp.Size != end) {
		return fmt.Errorf("esdb: a seal is stored with the batch it covers (size %d, batch ends at %d)", cp.Size, end)
	}
	evs := make([]esdb.EventData, len(recs))
	for i, r := range recs {
		var seal []byte
		if cp != nil && cp.Seal && i == len(recs)-1 {
			seal = cp.Note
		}
		var err error
		if evs[i], err = encodeEvent(r, seal); err != nil {
			return err
		}
	}
	size := 0
	for _, ev := range evs {
		size += eventSize(ev)
	}
	if size > s.maxAppendSize {
		return fmt.Errorf("esdb: events %d..%d take %d bytes, over the server's MaxAppendSize of %d: one append cannot hold them (a batch is never split; raise MaxAppendSize on the cluster and maxAppendSize in the URL, or write fewer events at once)", expected, end-1, size, s.maxAppendSize)
	}
	if err := s.appendEvents(ctx, expected, recs, evs); err != nil {
		return err
	}
	if cp == nil || cp.Seal {
		return nil
	}
	if err := s.appendCheckpoint(ctx, cp); err != nil {
		if len(recs) == 0 {
			return err
		}
		return fmt.Errorf("esdb: events %d..%d: %w: %w", expected, end-1, ErrCheckpointNotStored, err)
	}
	return nil
}

// appendEvents stores recs at expected, or finds them already stored.
func (s *Store) appendEvents(ctx context.Context, expected uint64, recs []events.Record, evs []esdb.EventData) error {
	size, err := s.Size(ctx)
	if err != nil {
		return err
	}
	if size != expected {
		return s.retryOrConflict(ctx, expected, size, recs)
	}
	if len(recs) == 0 {
		return nil
	}
	err = s.call(func(c *esdb.Client) error {
		_, err := c.AppendToStream(ctx, s.stream, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, evs...)
		return err
	})
	if err == nil {
		return nil
	}
	if !IsConflict(err) {
		if mayLand(err) {
			return fmt.Errorf("esdb: appending events %d..%d to %q: %w (%w)", expected, expected+uint64(len(recs))-1, s.stream, err, events.ErrOutcomeUnknown)
		}
		return fmt.Errorf("esdb: appending events %d..%d to %q: %w", expected, expected+uint64(len(recs))-1, s.stream, err)
	}
	// Another writer got there between our check and our append.
	if size, err = s.Size(ctx); err != nil {
		return err
	}
	return s.retryOrConflict(ctx, expected, size, recs)
}

// retryOrConflict decides an append whose expected position is not the
// log's end: nil if every record is stored at its position with the same
// id and bytes, else ErrConflict.
func (s *Store) retryOrConflict(ctx context.Context, expected, size uint64, recs []events.Record) error {
	conflict := fmt.Errorf("%w (expected %d events, found %d)", events.ErrConflict, expected, size)
	if size < expected+uint64(len(recs)) || len(recs) == 0 {
		return conflict
	}
	i := 0
	errDiffer := errors.New("differs")
	err := s.scan(ctx, s.stream, expected, func(ev *esdb.RecordedEvent) error {
		r, err := s.decodeEvent(ev)
		if err != nil {
			return err
		}
		if r.ID != recs[i].ID || !bytes.Equal(r.Bytes, recs[i].Bytes) {
			return errDiffer
		}
		if i++; i == len(recs) {
			return errStop
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
		return nil
	case err == nil || errors.Is(err, errDiffer):
		return conflict
	default:
		return err
	}
}

var errStop = errors.New("stop")

// appendCheckpoint adds cp to the checkpoint stream, whose sizes strictly
// increase. The stream's expected revision makes a concurrent writer's
// checkpoint a conflict; the same checkpoint already stored is a retry.
func (s *Store) appendCheckpoint(ctx context.Context, cp *events.StoredCheckpoint) error {
	for attempt := 0; ; attempt++ {
		last, err := s.last(ctx, s.checkpoints)
		if err != nil {
			return err
		}
		var want esdb.ExpectedRevision = esdb.NoStream{}
		if last != nil {
			prev, err := s.decodeCheckpoint(last)
			if err != nil {
				return err
			}
			if prev.Size == cp.Size && bytes.Equal(prev.Note, cp.Note) {
				return nil
			}
			if prev.Size >= cp.Size {
				return fmt.Errorf("esdb: a checkpoint for size %d is already stored; refusing checkpoint %d", prev.Size, cp.Size)
			}
			want = esdb.Revision(last.EventNumber)
		}
		ev, err := encodeCheckpoint(cp)
		if err != nil {
			return err
		}
		err = s.call(func(c *esdb.Client) error {
			_, err := c.AppendToStream(ctx, s.checkpoints, esdb.AppendToStreamOptions{ExpectedRevision: want}, ev)
			return err
		})
		if err == nil {
			return nil
		}
		if !IsConflict(err) || attempt == 2 {
			return fmt.Errorf("esdb: storing checkpoint %d in %q: %w", cp.Size, s.checkpoints, err)
		}
	}
}

// mayLand reports whether a failed append may still be applied by the
// server: the request may have reached it (a deadline passed, the
// connection dropped after it was sent, an error the client cannot
// classify). The server's refusals (not the leader, access denied, a
// deleted stream) and a client found closed before sending store
// nothing.
func mayLand(err error) bool {
	var e *esdb.Error
	if !errors.As(err, &e) {
		return true
	}
	switch e.Code() {
	case esdb.ErrorCodeUnknown, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorCodeInternalServer, esdb.ErrorCodeInternalClient,
		esdb.ErrorAborted, esdb.ErrorUnavailable:
		return true
	}
	return false
}

// IsConflict reports whether err is the server refusing an append whose
// expected revision is not the stream's.
func IsConflict(err error) bool {
	return isCode(err, esdb.ErrorCodeWrongExpectedVersion)
}
