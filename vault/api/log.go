package api

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
	"github.com/custos-vault/custos/events/witness/witnessclient"
	"github.com/custos-vault/custos/vault"
)

// KeyResponse is the answer of GET /v1/log/key.
type KeyResponse struct {
	Origin string `json:"origin"`
	Key    string `json:"key"`
}

func (h *Handler) logKey(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, KeyResponse{Origin: h.v.Origin(), Key: h.v.VerifierKey()})
	return nil
}

// CheckpointsResponse is the answer of GET /v1/log/checkpoints. The
// server writes its members in this order, the list last, and reads the
// store's checkpoints a page at a time as it writes them (a busy vault
// stores millions over its life): a client can read Newest
// first and the list as it goes, holding a bounded number (audit verify
// does: cmd/custos, checkpointFeed).
type CheckpointsResponse struct {
	// Newest is the checkpoint the vault signed as the answer began,
	// covering every event so far; Checkpoints ends with it too. Absent
	// from the answers of older servers.
	Newest string `json:"newest,omitempty"`
	// Witnessed is the newest checkpoint (the last of Checkpoints, or a
	// newer one) with the cosignatures its witnesses gave within a
	// bounded wait; absent without a witness policy.
	Witnessed string `json:"witnessed,omitempty"`
	// Witnesses is each witness's state as the server sees it (what it
	// last cosigned, its last error): for messages only, since nothing
	// here is signed.
	Witnesses []witnessclient.Status `json:"witnesses,omitempty"`
	// Timestamped is, with time-stamping authorities configured, the
	// newest checkpoint as the log signed it, and Timestamps the RFC 3161
	// tokens over it (base64 of the DER), one per TSA that answered within
	// a bounded wait (docs/timestamps.md).
	Timestamped string   `json:"timestamped,omitempty"`
	Timestamps  []string `json:"timestamps,omitempty"`
	// Checkpoints are the stored checkpoints up to Newest, oldest first,
	// then Newest unless the last stored one is that very note.
	Checkpoints []string `json:"checkpoints"`
}

func (h *Handler) checkpoints(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.AuditReader(r.Context(), who, "audit.checkpoints"); err != nil {
		return err
	}
	// Make sure the newest events are covered before an audit starts.
	anchored, err := h.v.AnchoredCheckpoint(r.Context())
	if err != nil {
		return err
	}
	own := anchored.Checkpoint.Note
	head := CheckpointsResponse{Newest: string(own)}
	if h.v.WitnessPolicy() != nil {
		head.Witnessed = string(anchored.Note)
		head.Witnesses = h.v.WitnessStatus()
	}
	if h.v.TimeStamped() {
		head.Timestamped = string(own)
		head.Timestamps = []string{}
		for _, t := range anchored.Tokens {
			head.Timestamps = append(head.Timestamps, base64.StdEncoding.EncodeToString(t))
		}
	}
	// The members before the list, as CheckpointsResponse names them
	// (without its list, which follows).
	b, err := json.Marshal(struct {
		Newest      string                 `json:"newest,omitempty"`
		Witnessed   string                 `json:"witnessed,omitempty"`
		Witnesses   []witnessclient.Status `json:"witnesses,omitempty"`
		Timestamped string                 `json:"timestamped,omitempty"`
		Timestamps  []string               `json:"timestamps,omitempty"`
	}{head.Newest, head.Witnessed, head.Witnesses, head.Timestamped, head.Timestamps})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(b[:len(b)-1]) // without its closing brace
	bw.WriteString(`,"checkpoints":[`)
	// The store's rows are no signed list: a database administrator can
	// delete the newest of them (and edit the size column of the one
	// left, which nobody signs), and an audit that took the last row for
	// the newest checkpoint would check only the events before it. The
	// checkpoint the vault signed in memory as this answer began, which
	// covers every event so far, always ends the list, unless the last
	// row holds that very note. Rows stored since (of a larger size) are
	// for the next audit.
	n := 0
	var last []byte
	err = h.v.ReadStoredCheckpoints(r.Context(), anchored.Checkpoint.Size, func(c events.StoredCheckpoint) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		last = append(last[:0], c.Note...)
		return writeJSONString(bw, c.Note)
	})
	if err == nil && (n == 0 || !bytes.Equal(last, own)) {
		if n > 0 {
			bw.WriteByte(',')
		}
		err = writeJSONString(bw, own)
	}
	if err == nil {
		_, err = bw.WriteString("]}\n")
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		// The answer has begun: cut it, so that a client never takes a
		// short list for a whole one.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// writeJSONString writes b as a JSON string, as encoding/json writes a Go
// string (invalid UTF-8 as U+FFFD, <, > and & escaped); the error is the
// writer's so far.
func writeJSONString(bw *bufio.Writer, b []byte) error {
	s, err := json.Marshal(string(b))
	if err != nil {
		return err
	}
	_, err = bw.Write(s)
	return err
}

// logEvents streams stored event bytes, one per line (NDJSON), exactly as
// stored: the auditor's client hashes these bytes.
func (h *Handler) logEvents(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	return h.streamLog(w, r, who, "audit.events", func(rec events.Record) ([]byte, error) { return rec.Bytes, nil })
}

// streamLog answers an auditor's read of the log (the query's "from" and
// "to" positions, auditFrom), one NDJSON line per stored record, as line
// makes it.
// A failure before anything was sent is answered as the error it is;
// one after cuts the connection (streamAnswer).
func (h *Handler) streamLog(w http.ResponseWriter, r *http.Request, who vault.Principal, action string, line func(events.Record) ([]byte, error)) error {
	g, err := h.auditFrom(r, who, action)
	if err != nil {
		return err
	}
	answer := &streamAnswer{w: w, contentType: "application/x-ndjson"}
	bw := newLineWriter(answer)
	// Each line is written before the next record is read: the record's
	// bytes need not outlive the callback.
	err = g.read(r, h.v.Store(), func(rec events.Record) error {
		b, err := line(rec)
		if err != nil {
			return err
		}
		return bw.line(b)
	})
	if err == nil {
		err = bw.flush()
	}
	return answer.end(err)
}

// logRange is the part of the log an auditor's read asks for: positions
// from (the query's "from", 0 when absent) up to, not including, to (the
// query's "to"; the whole log when absent).
type logRange struct{ from, to uint64 }

// read calls fn for the stored records of the range, in order, each
// valid only while fn runs (events.ReadTransient).
func (g logRange) read(r *http.Request, st events.Store, fn func(events.Record) error) error {
	if g.to <= g.from {
		return nil
	}
	err := events.ReadTransient(r.Context(), st, g.from, func(rec events.Record) error {
		if rec.Seq >= g.to {
			return errRangeEnd
		}
		return fn(rec)
	})
	if errors.Is(err, errRangeEnd) {
		return nil
	}
	return err
}

var errRangeEnd = errors.New("end of the range")

// auditFrom records an auditor's read of the log (action) and returns the
// range the query asks for.
func (h *Handler) auditFrom(r *http.Request, who vault.Principal, action string) (logRange, error) {
	if err := h.v.AuditReader(r.Context(), who, action); err != nil {
		return logRange{}, err
	}
	g := logRange{to: math.MaxUint64}
	q := r.URL.Query()
	var err error
	if q.Has("from") {
		if g.from, err = decimalSize(q.Get("from")); err != nil {
			return logRange{}, fmt.Errorf("%w: from must be a position in decimal, without leading zeros (a number of events, from 0)", vault.ErrBadInput)
		}
	}
	if q.Has("to") {
		if g.to, err = decimalSize(q.Get("to")); err != nil {
			return logRange{}, fmt.Errorf("%w: to must be a tree size in decimal, without leading zeros (a number of events, from 0)", vault.ErrBadInput)
		}
	}
	// A from beyond to is an empty range, answered as one (an auditor's
	// saved position may lie beyond the size it asks up to).
	return g, nil
}

// logRecords streams, from the query's "from" position up to its "to"
// (auditFrom), every stored event's bytes with the lookup values the store keeps beside them, as a
// records stream (events/logstream, docs/custody-log.md 11.1): what
// logEvents and logLookups serve, in one read of the store. The end
// marker is written only after the last record; a failure before it cuts
// the connection, except one before anything was sent (the stream is
// buffered: its first 256 KiB), which is answered as the error it is.
func (h *Handler) logRecords(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	g, err := h.auditFrom(r, who, "audit.records")
	if err != nil {
		return err
	}
	answer := &streamAnswer{w: w, contentType: logstream.MediaType}
	sw := logstream.NewWriter(answer)
	err = g.read(r, h.v.Store(), sw.Write)
	if err == nil {
		err = sw.Close()
	}
	return answer.end(err)
}

// TimestampObject is one line of GET /v1/log/timestamps: an object of
// the object store's timestamps/ folder (a time-stamped checkpoint note,
// or an RFC 3161 token over one; docs/timestamps.md section 5), its name
// without "timestamps/" and its bytes as stored, in standard base64.
type TimestampObject struct {
	Name  string `json:"name"`
	Bytes []byte `json:"bytes"`
	// Unreadable says why the vault did not read what holds the name (a
	// link, pipe, device or socket planted in a file store's folder);
	// empty for an object.
	Unreadable string `json:"unreadable,omitempty"`
}

// logTimestamps streams, as NDJSON, the time-stamp notes and tokens the
// object store holds for checkpoint sizes from the query's "from" (0 when
// absent) up to, not including, its "to" (all when absent). Auditors
// only; the auditor checks every one (custos audit timestamps). A
// failure once the answer has begun cuts the connection.
func (h *Handler) logTimestamps(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	// Auditors only, decided before the query is read (TimestampObjects
	// decides it again, and records nothing twice).
	if err := h.v.AuditReader(r.Context(), who, "audit.timestamps"); err != nil {
		return err
	}
	q := r.URL.Query()
	from, to := uint64(0), uint64(math.MaxUint64)
	var err error
	if q.Has("from") {
		if from, err = decimalSize(q.Get("from")); err != nil {
			return fmt.Errorf("%w: from must be a checkpoint size in decimal, without leading zeros", vault.ErrBadInput)
		}
	}
	if q.Has("to") {
		if to, err = decimalSize(q.Get("to")); err != nil {
			return fmt.Errorf("%w: to must be a checkpoint size in decimal, without leading zeros", vault.ErrBadInput)
		}
	}
	answer := &streamAnswer{w: w, contentType: "application/x-ndjson"}
	bw := newLineWriter(answer)
	err = h.v.TimestampObjects(r.Context(), who, from, to, func(o vault.TimestampObject) error {
		b, err := json.Marshal(TimestampObject{Name: o.Name, Bytes: o.Bytes, Unreadable: o.Unreadable})
		if err != nil {
			return err
		}
		return bw.line(b)
	})
	if err == nil {
		err = bw.flush()
	}
	return answer.end(err)
}

// Lookup is one line of GET /v1/log/lookups: the values a log store keeps
// beside an event's signed bytes, exactly as the store returns them, so
// that an auditor can check them against the bytes (they decide which
// events a case's timeline, an item's history and a package hold).
type Lookup struct {
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Case string `json:"case"`
	Item string `json:"item"`
}

// logLookups streams one Lookup per event from position from on, in log
// order, as application/x-ndjson. Auditors only.
func (h *Handler) logLookups(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	return h.streamLog(w, r, who, "audit.lookups", func(rec events.Record) ([]byte, error) {
		return json.Marshal(Lookup{Seq: rec.Seq, ID: rec.ID, Case: rec.Case, Item: rec.Item})
	})
}

// TimelineResponse is the answer of GET /v1/log/timeline.
type TimelineResponse struct {
	Events []*events.Event `json:"events"`
}

func (h *Handler) timeline(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	out := TimelineResponse{Events: []*events.Event{}}
	err := h.v.Timeline(r.Context(), who, q.Get("case"), q.Get("item"), func(_ events.Record, ev *events.Event) error {
		out.Events = append(out.Events, ev)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// ConsistencyResponse is the answer of GET /v1/log/consistency: the RFC
// 9162 consistency path from tree size From to tree size To (sizes count
// events), each node hash in lowercase hex; empty when From = To.
type ConsistencyResponse struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof"`
}

func (h *Handler) consistency(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.AuditReader(r.Context(), who, "audit.consistency"); err != nil {
		return err
	}
	q := r.URL.Query()
	from, err1 := decimalSize(q.Get("from"))
	to, err2 := decimalSize(q.Get("to"))
	tree := h.v.Log().Tree()
	// Bounded by the durable size: the tree may already hold a batch
	// whose append is in flight (sequencer.Size).
	if err := consistencyBounds(from, to, h.v.Log().Size(), err1, err2); err != nil {
		return err
	}
	p, err := tree.ConsistencyProof(from, to)
	if err != nil {
		return fmt.Errorf("%w: %v", vault.ErrBadInput, err)
	}
	out := ConsistencyResponse{From: from, To: to, Proof: []string{}}
	for _, n := range p {
		out.Proof = append(out.Proof, hex.EncodeToString(n))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// decimalSize reads a position or tree size as the log's formats write
// one: decimal digits, no sign, no leading zero (but "0" itself), below
// 2^63 (the stores' bound); anything else is an error.
func decimalSize(s string) (uint64, error) {
	if s == "" || len(s) > 19 || (s[0] == '0' && len(s) > 1) {
		return 0, errors.New("not a size in decimal")
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a size in decimal")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n >= 1<<63 {
		return 0, errors.New("not a size in decimal")
	}
	return n, nil
}

// consistencyBounds refuses a consistency query that RFC 9162 section
// 2.1.4 does not define (it needs 0 < from <= to) or that the log cannot
// answer (to beyond its size). An empty tree extends nothing that a proof
// could show: a verifier holding a checkpoint of size 0 needs none.
func consistencyBounds(from, to, size uint64, errFrom, errTo error) error {
	switch {
	case errFrom != nil || errTo != nil:
		return fmt.Errorf("%w: from and to must be tree sizes in decimal, without sign or leading zeros (numbers of events), 0 < from <= to", vault.ErrBadInput)
	case from == 0:
		return fmt.Errorf("%w: from must be at least 1: a consistency proof is from a non-empty tree (RFC 9162 section 2.1.4: 0 < from <= to)", vault.ErrBadInput)
	case from > to:
		return fmt.Errorf("%w: from (%d) is larger than to (%d): a consistency proof goes from an older, smaller tree to a newer one", vault.ErrBadInput, from, to)
	case to > size:
		return fmt.Errorf("%w: to (%d) is beyond the log's size (%d events)", vault.ErrBadInput, to, size)
	}
	return nil
}
