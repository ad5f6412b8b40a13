package esdb

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/custos-vault/custos/events"
	"github.com/google/uuid"
)

// Event types of the two streams. A stream holding anything else is not a
// custody log.
const (
	eventType      = "custos.event"
	checkpointType = "custos.checkpoint"
)

// logMark is in every entry's metadata: a stream of someone else's events
// that happen to use our type names is still refused.
const logMark = "custos custody log 1"

// eventMeta is an event's metadata. Seq and ID repeat what the stream
// revision and EventID say, so a read checks that they agree; ID keeps the
// id's exact spelling, which a UUID does not.
type eventMeta struct {
	Log  string `json:"log"`
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Case string `json:"case,omitempty"`
	Item string `json:"item,omitempty"`
	// Seal is the batch seal's note, on the last event of each batch:
	// metadata is written with the event, so the seal is as atomic as
	// the batch (events.StoredCheckpoint.Seal).
	Seal []byte `json:"seal,omitempty"`
}

// checkpointMeta is a checkpoint's metadata; the note itself is the data.
type checkpointMeta struct {
	Log  string `json:"log"`
	Size uint64 `json:"size"`
}

// IDToUUID turns an event id (32 lower-case hex digits, as events.NewID
// makes them) into the EventID the server deduplicates retries by. Any
// other spelling is refused rather than normalised, so that the id read
// back is the id written.
func IDToUUID(id string) (uuid.UUID, error) {
	var u uuid.UUID
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != len(u) || hex.EncodeToString(b) != id {
		return u, fmt.Errorf("esdb: event id %q is not 32 lower-case hex digits", id)
	}
	copy(u[:], b)
	return u, nil
}

// checkpointID derives a checkpoint's EventID from its size and note, so
// that a retried checkpoint append is deduplicated too.
func checkpointID(cp *events.StoredCheckpoint) uuid.UUID {
	h := sha256.New()
	h.Write([]byte(strconv.FormatUint(cp.Size, 10) + "\n"))
	h.Write(cp.Note)
	var u uuid.UUID
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // version 8: application-defined
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}

// encodeEvent makes the EventData of one record. The bytes go in as
// binary content so the server never parses or rewrites them.
func encodeEvent(r events.Record, seal []byte) (esdb.EventData, error) {
	id, err := IDToUUID(r.ID)
	if err != nil {
		return esdb.EventData{}, err
	}
	md, err := json.Marshal(eventMeta{Log: logMark, Seq: r.Seq, ID: r.ID, Case: r.Case, Item: r.Item, Seal: seal})
	if err != nil {
		return esdb.EventData{}, err
	}
	return esdb.EventData{EventID: id, EventType: eventType, ContentType: esdb.ContentTypeBinary, Data: r.Bytes, Metadata: md}, nil
}

// decodeEvent turns a stored stream entry back into a record, refusing an
// entry that is not a custody event or whose metadata disagrees with its
// position or EventID.
func (s *Store) decodeEvent(ev *esdb.RecordedEvent) (events.Record, error) {
	var m eventMeta
	bad := func(why string) (events.Record, error) {
		return events.Record{}, fmt.Errorf("esdb: stream %q revision %d is not a Custos custody event (%s): the stream is foreign or damaged", s.stream, ev.EventNumber, why)
	}
	if ev.EventType != eventType {
		return bad("type " + strconv.Quote(ev.EventType))
	}
	if err := strictJSON(ev.UserMetadata, &m); err != nil || m.Log != logMark {
		return bad("metadata")
	}
	if m.Seq != ev.EventNumber {
		return bad(fmt.Sprintf("metadata says seq %d", m.Seq))
	}
	if id, err := IDToUUID(m.ID); err != nil || id != ev.EventID {
		return bad("metadata id does not match the event id")
	}
	return events.Record{Seq: m.Seq, ID: m.ID, Case: m.Case, Item: m.Item, Bytes: ev.Data}, nil
}

func encodeCheckpoint(cp *events.StoredCheckpoint) (esdb.EventData, error) {
	md, err := json.Marshal(checkpointMeta{Log: logMark, Size: cp.Size})
	if err != nil {
		return esdb.EventData{}, err
	}
	return esdb.EventData{EventID: checkpointID(cp), EventType: checkpointType, ContentType: esdb.ContentTypeBinary, Data: cp.Note, Metadata: md}, nil
}

func (s *Store) decodeCheckpoint(ev *esdb.RecordedEvent) (events.StoredCheckpoint, error) {
	var m checkpointMeta
	if ev.EventType != checkpointType || strictJSON(ev.UserMetadata, &m) != nil || m.Log != logMark {
		return events.StoredCheckpoint{}, fmt.Errorf("esdb: stream %q revision %d is not a Custos checkpoint: the stream is foreign or damaged", s.checkpoints, ev.EventNumber)
	}
	return events.StoredCheckpoint{Size: m.Size, Note: ev.Data}, nil
}

// strictJSON decodes metadata, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}
