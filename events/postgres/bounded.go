package postgres

import (
	"fmt"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
	"github.com/jackc/pgx/v5"
)

// The log's tables are the database administrator's to edit, and
// PostgreSQL holds a value of up to a gigabyte in a row. Every read of
// the events, checkpoints and seal, by the server's store and by
// OpenReader's audit alike, fetches a value only when it is no longer
// than the log allows: its length is taken with octet_length (which reads
// a stored value's length without fetching it) and a longer value is
// replaced in SQL by a stand-in the readers refuse or report, so that an
// edited row costs neither the server nor an auditor more memory than a
// valid one (TestReadsDoNotFetchOversizedValues). The SQLite store does
// the same (events/sqlite/bounded.go).

// maxLookup bounds a lookup value (id, case, item) as read: a longer one
// is read as "(a value of N bytes)", which is no value the vault writes
// (none longer than 64 bytes, none with a space), so that it is compared
// as any edited value is, found to differ, and names what was stored.
const maxLookup = logstream.MaxLookup

func boundedText(col string) string {
	return fmt.Sprintf(`CASE WHEN octet_length(%[1]s) <= %[2]d THEN %[1]s ELSE '(a value of ' || octet_length(%[1]s) || ' bytes)' END`, col, maxLookup)
}

// boundedBytes reads an event's bytes: the column when it is at most
// events.MaxEventSize bytes long, else events.MaxEventSize+1 zero bytes,
// which no event is, so that a verifier refuses the event at that
// position for its size.
func boundedBytes(col string) string {
	return fmt.Sprintf(`CASE WHEN octet_length(%[1]s) <= %[2]d THEN %[1]s ELSE decode(repeat('00', %[3]d), 'hex') END`, col, events.MaxEventSize, events.MaxEventSize+1)
}

// eventColumns reads an event row as events.Record is scanned: seq, id,
// case_id, item_id, bytes.
var eventColumns = `seq, ` + boundedText("id") + `, ` + boundedText("case_id") + `, ` + boundedText("item_id") + `, ` + boundedBytes("bytes")

// noteColumns reads a checkpoint or seal row for scanNote: size, the
// note's length, and the note when it is no longer than a checkpoint can
// be (NULL otherwise).
var noteColumns = fmt.Sprintf(`size, octet_length(note), CASE WHEN octet_length(note) <= %d THEN note END`, events.MaxCheckpointSize)

// scanNote reads a row of noteColumns. A note longer than a checkpoint
// can be is an error naming the row: no checkpoint the vault signs is, so
// the row was edited.
func (s *Store) scanNote(row pgx.CollectableRow) (events.StoredCheckpoint, error) {
	var c events.StoredCheckpoint
	var size, length int64
	if err := row.Scan(&size, &length, &c.Note); err != nil {
		return c, err
	}
	if length > events.MaxCheckpointSize {
		return c, fmt.Errorf("the checkpoint row of size %d holds %d bytes, more than a checkpoint's %d", size, length, events.MaxCheckpointSize)
	}
	c.Size = uint64(size)
	return c, nil
}
