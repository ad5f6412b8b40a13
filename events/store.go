package events

import (
	"context"
	"errors"
	"fmt"
)

// Record is one event as a store keeps it: the exact bytes, plus the fields
// a store indexes so it can answer reads by case and by item without
// decoding anything.
type Record struct {
	Seq   uint64
	ID    string
	Case  string
	Item  string
	Bytes []byte
}

// StoredCheckpoint is a signed checkpoint note as the store keeps it.
type StoredCheckpoint struct {
	Size uint64
	Note []byte
	// Seal marks the batch seal: the checkpoint the writer signs for the
	// log's new size with every batch, stored in the same atomic append
	// as the batch. A store keeps only the newest seal (Store.Seal) and
	// never lists it among the published checkpoints. Every durable event
	// is thus covered by a signature of the log's key: events that
	// someone with write access to the store added are not, and are
	// refused (docs/custody-log.md 5.8).
	Seal bool
}

// ErrConflict is returned by Store.Append when the log does not end where
// the caller expected: another writer appended first. Nothing was written.
var ErrConflict = errors.New("custody log conflict: the log does not end at the expected position")

// ErrOutcomeUnknown is wrapped by an error of Store.Append, or of the
// sequencer's append, when whether the records were stored is not known:
// the store's answer was lost and the store could not then tell (a
// PostgreSQL COMMIT whose connection was lost, still in progress on the
// server). The records may become visible later; a caller must not undo
// what it did ahead of them.
var ErrOutcomeUnknown = errors.New("whether the events were stored is not known")

// ErrStoreReplaced is wrapped by the errors of a store that found the
// storage it opened replaced, moved or removed under it (a SQLite file
// renamed over while the vault runs): what it writes would not be in the
// log the next open reads, so it writes nothing more, and answers every
// use with it.
var ErrStoreReplaced = errors.New("the custody log's storage was replaced, moved or removed while the vault had it open")

// Store is a custody-log backend. It stores bytes; it never interprets,
// re-encodes or repairs them. Every backend passes events/storetest.
type Store interface {
	// Append writes recs, whose Seq must run from expected on, and the
	// optional checkpoint (a published one, or the batch seal),
	// atomically and durably: when it returns nil all
	// of it survives a crash, and when it returns an error none of it is
	// visible, unless the error wraps ErrOutcomeUnknown (then it may
	// become visible later). If the log's size is not expected it returns an error
	// wrapping ErrConflict - unless the records at those positions are
	// already stored with the same ids and bytes (a retried append), which
	// succeeds without writing again.
	Append(ctx context.Context, expected uint64, recs []Record, cp *StoredCheckpoint) error
	// Size returns the number of events in the log.
	Size(ctx context.Context) (uint64, error)
	// Read calls fn for every event from position from on, in order.
	Read(ctx context.Context, from uint64, fn func(Record) error) error
	// ReadCase and ReadItem call fn, in log order, for the events that name
	// that case or item.
	ReadCase(ctx context.Context, caseID string, fn func(Record) error) error
	ReadItem(ctx context.Context, itemID string, fn func(Record) error) error
	// ReadCheckpoints calls fn for each stored checkpoint of size at
	// least from, in order of size (not the seal), holding a bounded
	// number at a time: a log stores millions over
	// its life, and an audit reads every one. An error of fn ends the
	// read and is returned as it is.
	ReadCheckpoints(ctx context.Context, from uint64, fn func(StoredCheckpoint) error) error
	// Seal returns the newest batch seal (Seal set), or nil if none was
	// ever stored.
	Seal(ctx context.Context) (*StoredCheckpoint, error)
	// Close releases the store. It may be called again, also from
	// several goroutines at once: later calls return nil or the first
	// call's error, and release nothing twice. It may be called while
	// appends or reads are under way: each ends or fails, and none
	// touches what Close releases.
	Close() error
}

// TransientReader is implemented by a Store that can read the log without
// copying each record's bytes for the caller: Bytes is valid only until
// fn returns and must not be read after that (the SQLite store lends
// SQLite's own memory, which the next row reuses or frees), so a caller
// that keeps them copies them. Streams that hash or send each record and keep none of it
// (the API's log streams, the check of the events a snapshot covered)
// use it, so that reading millions of events leaves less garbage for the
// collector to chase.
type TransientReader interface {
	ReadTransient(ctx context.Context, from uint64, fn func(Record) error) error
}

// ReadTransient calls fn for every event of s from position from on, in
// order, as Store.Read does, except that fn must not keep the record's
// Bytes after it returns (s's ReadTransient, if it has one; else Read).
func ReadTransient(ctx context.Context, s Store, from uint64, fn func(Record) error) error {
	if t, ok := s.(TransientReader); ok {
		return t.ReadTransient(ctx, from, fn)
	}
	return s.Read(ctx, from, fn)
}

// BytesReader is implemented by a Store that can read only the events'
// positions and bytes, without the lookup values stored beside them, and
// without copying the bytes for the caller (as TransientReader): the
// check of the events a snapshot covered hashes every event and needs
// nothing else.
type BytesReader interface {
	ReadBytes(ctx context.Context, from uint64, fn func(seq uint64, b []byte) error) error
}

// ReadBytes calls fn with the position and bytes of every event of s
// from position from on, in order; fn must not keep b after it returns
// (s's ReadBytes, if it has one; else ReadTransient).
func ReadBytes(ctx context.Context, s Store, from uint64, fn func(seq uint64, b []byte) error) error {
	if r, ok := s.(BytesReader); ok {
		return r.ReadBytes(ctx, from, fn)
	}
	return ReadTransient(ctx, s, from, func(r Record) error { return fn(r.Seq, r.Bytes) })
}

// CaseOwnReader is implemented by a Store that can read a case's own
// events (those that name the case and no item: its opening, members,
// holds, policies, packages) without reading its items' events, so that
// what needs only those costs what the case's own history costs, not
// what all of its items' views and refusals do. Like ReadCase, it answers
// from unsigned lookup values; the caller checks what it returns.
type CaseOwnReader interface {
	// ReadCaseOwn calls fn, in log order, for the events whose case is
	// caseID and whose item is empty.
	ReadCaseOwn(ctx context.Context, caseID string, fn func(Record) error) error
}

// ReadCaseOwn calls fn, in log order, for the events of s that name the
// case caseID and no item (Record.Case == caseID, Record.Item == ""): s's
// ReadCaseOwn if it has one; else ReadCase, filtered on the records'
// lookup values.
func ReadCaseOwn(ctx context.Context, s Store, caseID string, fn func(Record) error) error {
	if r, ok := s.(CaseOwnReader); ok {
		return r.ReadCaseOwn(ctx, caseID, fn)
	}
	return s.ReadCase(ctx, caseID, func(r Record) error {
		if r.Item != "" {
			return nil
		}
		return fn(r)
	})
}

// IntegrityChecker is implemented by a Store that can check its own
// files (SQLite's quick_check) beyond what reading the events checks. It
// may take long (it reads everything): the vault runs it beside the
// started server.
type IntegrityChecker interface {
	CheckIntegrity(ctx context.Context) error
}

// PageCheckpoints is the loop of a store's ReadCheckpoints: page(from)
// returns at most limit stored checkpoints of size at least from, in
// order of size, read whole (nothing of the store held open), and fn is
// called with each; the next page begins after the last size of the one
// before (sizes are unique: the checkpoints table's primary key). A
// page that answers a size below from, which no such query does, is an
// error: the store was altered.
func PageCheckpoints(from uint64, limit int, page func(from uint64) ([]StoredCheckpoint, error), fn func(StoredCheckpoint) error) error {
	for from <= 1<<63-1 {
		cps, err := page(from)
		if err != nil {
			return err
		}
		for _, c := range cps {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(cps) < limit {
			return nil
		}
		last := cps[len(cps)-1].Size
		if last < from {
			return fmt.Errorf("the checkpoints table answered size %d for sizes from %d: the store was altered", last, from)
		}
		from = last + 1
	}
	return nil
}

// AllCheckpoints returns every checkpoint s stores, in order of
// size (not the seal), held at once: for tests and tools on small logs.
// A log stores millions over its life; what reads them
// in the vault, an audit or a migration uses ReadCheckpoints.
func AllCheckpoints(ctx context.Context, s CheckpointReader) ([]StoredCheckpoint, error) {
	var out []StoredCheckpoint
	err := s.ReadCheckpoints(ctx, 0, func(c StoredCheckpoint) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// AppendLimiter is implemented by a Store that refuses an append over a
// size: KurrentDB refuses one over its MaxAppendSize (1 MiB by default).
// A writer that gathers several requests into one append keeps the sum of
// its records' AppendSize within AppendLimit, cutting the batch between
// requests; a request that alone is over the limit cannot be stored.
type AppendLimiter interface {
	// AppendSize is what r takes of the limit, in the store's measure.
	AppendSize(r Record) int
	// AppendLimit is the most one append's records may take, room for a
	// batch seal already set aside.
	AppendLimit() int
}
