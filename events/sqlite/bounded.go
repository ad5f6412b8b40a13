package sqlite

import (
	"database/sql"
	"fmt"

	"github.com/custos-vault/custos/events"
)

// The log's file is the database administrator's to edit, and SQLite
// holds a value of up to a gigabyte in a row. Every read of the events,
// checkpoints and seal tables, by the store and by Reader alike, reads a
// value only when it is no longer than the log allows: its length is
// taken with octet_length, which SQLite answers from the record's header
// without loading the value (SQLite 3.43 and later, OPFLAG_BYTELENARG),
// and a longer value is replaced in SQL by a stand-in the readers refuse
// or report, so that an edited row costs neither the server nor an
// auditor more memory than a valid one. TestReadsDoNotLoadOversizedValues
// reads rows of 300 MB and checks the process's peak memory.

// boundedText is an expression for the text column col: its value when it
// is at most MaxLookup bytes long, else "(a value of N bytes)", which is
// no id, case or item the vault writes (it writes none longer than 64
// bytes, and none with a space), so that it is compared as any edited
// value is, and found to differ, and names what was stored.
//
// The value is cast to text, so that every read takes the same string
// from one an edit stored as a number (SQLite's C API and database/sql
// word a REAL differently).
func boundedText(col string) string {
	return fmt.Sprintf(`CASE WHEN octet_length(%[1]s) <= %[2]d THEN CAST(%[1]s AS TEXT) ELSE '(a value of ' || octet_length(%[1]s) || ' bytes)' END`, col, MaxLookup)
}

// boundedBytes is an expression for an event's bytes: the column as a
// blob when it is at most events.MaxEventSize bytes long, else
// events.MaxEventSize+1 zero bytes, which no event is: a verifier refuses
// the event at that position for its size (custody-log.md 11.1 carries
// such a record). The cast makes every read take the same bytes from a
// value an edit stored as another type (a number, or text in a file of
// UTF-16 text, which SQLite's C API and database/sql would otherwise
// convert differently); a blob it leaves as it is.
func boundedBytes(col string) string {
	return fmt.Sprintf(`CASE WHEN octet_length(%[1]s) <= %[2]d THEN CAST(%[1]s AS BLOB) ELSE zeroblob(%[3]d) END`, col, events.MaxEventSize, events.MaxEventSize+1)
}

// lookupEquals is a condition that the text column col equals value (an
// SQL parameter or literal), which compares only a value of at most
// MaxLookup bytes: a longer one equals nothing the vault looks up and is
// never loaded. CASE keeps SQLite from comparing before it has checked
// the length.
func lookupEquals(col, value string) string {
	return fmt.Sprintf(`CASE WHEN octet_length(%[1]s) <= %[2]d THEN %[1]s = %[3]s END`, col, MaxLookup, value)
}

// eventColumns reads an event row as events.Record is scanned: seq, id,
// case_id, item_id, bytes.
var eventColumns = `seq, ` + boundedText("id") + `, ` + boundedText("case_id") + `, ` + boundedText("item_id") + `, ` + boundedBytes("bytes")

// noteColumns reads a checkpoint or seal row for scanNote: size (-1 when
// it is not a whole number, which the seal's column, not a rowid, may be
// made to hold), the note's length, and the note when it is no longer
// than a checkpoint can be (NULL otherwise).
var noteColumns = fmt.Sprintf(`CASE WHEN typeof(size) = 'integer' THEN size ELSE -1 END, octet_length(note), CASE WHEN octet_length(note) <= %d THEN note END`, events.MaxCheckpointSize)

// scanNote reads a row of noteColumns. A note longer than a checkpoint
// can be is an error naming the row: no checkpoint the vault signs is, so
// the row was edited.
func scanNote(rows *sql.Rows) (events.StoredCheckpoint, error) {
	var c events.StoredCheckpoint
	var size, length int64
	if err := rows.Scan(&size, &length, &c.Note); err != nil {
		return c, fmt.Errorf("sqlite: %w", err)
	}
	if size < 0 {
		return c, fmt.Errorf("sqlite: a checkpoint or seal row's size is not a whole number: the row was altered")
	}
	if length > events.MaxCheckpointSize {
		return c, fmt.Errorf("sqlite: the checkpoint row of size %d holds %d bytes, more than a checkpoint's %d", size, length, events.MaxCheckpointSize)
	}
	c.Size = uint64(size)
	return c, nil
}
