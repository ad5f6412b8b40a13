package events

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/custos-vault/custos/internal/strictjson"
)

// Version is the envelope version written into every event ("v").
const Version = 1

// MaxEventSize bounds the encoded size of one event. Events carry metadata,
// never evidence, so anything larger is a bug or an attack.
const MaxEventSize = 64 << 10

// TimeFormat is the fixed-width UTC timestamp layout of the "time" field.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// Hash is a SHA-256 digest: a leaf hash, a node hash or a tree root.
type Hash [32]byte

// String returns the lowercase hex form used in event bytes.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ZeroHash is the "prev" of the first event of a log.
var ZeroHash Hash

// Actor names who caused an event: a person as the vault knows them, the
// role they acted in, and how they proved who they are. Auth is "local"
// (a session opened with a local credential), "oidc" (a session opened
// with an OpenID provider's ID token), "certificate" (a TLS client
// certificate), "invitation" (redeeming an invitation), "server" (the
// vault itself), "none" (a request without valid credentials), or "token"
// (logs written before sessions existed). The fields after Auth name the
// credential, and are absent where they do not apply: Session, the
// session's id; Issuer and Subject, the OpenID provider's issuer and the
// ID token's sub, or the certificate's issuer and subject distinguished
// names (RFC 4514); Certificate, the SHA-256 of the client certificate
// (hex); ACR and AMR, the ID token's acr and amr claims.
type Actor struct {
	Person      string   `json:"person"`
	Role        string   `json:"role"`
	Auth        string   `json:"auth"`
	Session     string   `json:"session,omitempty"`
	Issuer      string   `json:"issuer,omitempty"`
	Subject     string   `json:"subject,omitempty"`
	Certificate string   `json:"certificate,omitempty"`
	ACR         string   `json:"acr,omitempty"`
	AMR         []string `json:"amr,omitempty"`
	// ClientCAs is not part of an event (never encoded, never decoded):
	// for a certificate, the SHA-256 (hex) of each configured client CA
	// its verified chains ran through, as the vault found them when it
	// signed the certificate in, carried to the check at the event's
	// position (a CA retired meanwhile refuses the act).
	ClientCAs []string `json:"-"`
}

// Event is one custody event. Its field order is the wire order.
type Event struct {
	V     int             `json:"v"`
	Seq   uint64          `json:"seq"`
	ID    string          `json:"id"`
	Type  string          `json:"type"`
	Time  string          `json:"time"`
	Actor Actor           `json:"actor"`
	Case  string          `json:"case"`
	Item  string          `json:"item"`
	Data  json.RawMessage `json:"data"`
	Prev  string          `json:"prev"`
}

// NewID returns a fresh random event id: 16 bytes, lowercase hex.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("events: no randomness: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// FormatTime renders t in the event time layout (UTC, nanoseconds).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Encode returns the canonical bytes of e: compact JSON, fields in
// declaration order, no HTML escaping, no trailing newline. data must itself
// be compact JSON (an object); Encode compacts it if needed.
func Encode(e *Event) ([]byte, error) {
	if len(e.Data) == 0 {
		e.Data = json.RawMessage("{}")
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	// Data already compact (as the vault's events' are) is written
	// without encoding/json (appendCanonical); otherwise encoding/json
	// compacts it, or refuses it.
	if b, ok := appendCanonical(make([]byte, 0, 256+len(e.Data)), e); ok {
		if len(b) > MaxEventSize {
			return nil, fmt.Errorf("event of %d bytes exceeds the %d-byte limit", len(b), MaxEventSize)
		}
		return b, nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("failed to encode event: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > MaxEventSize {
		return nil, fmt.Errorf("event of %d bytes exceeds the %d-byte limit", len(b), MaxEventSize)
	}
	return bytes.Clone(b), nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ErrNotCanonical is returned by Decode for bytes that parse but are not the
// one encoding Encode would produce (extra spaces, another field order,
// other escapes): accepting them would let two byte strings stand for one
// event.
var ErrNotCanonical = errors.New("event bytes are not in canonical form")

// Decode parses stored event bytes strictly: unknown fields, a wrong
// version, malformed ids, times or hashes, and non-canonical bytes are
// errors. It uses encoding/json alone, so that a reader of the offline
// verifier needs nothing beyond the standard library to know what is
// accepted.
func Decode(b []byte) (*Event, error) { return DecodeWith(b, json.Unmarshal) }

// DecodeWith is Decode with another JSON parser, for a caller that
// decodes many events and needs a faster one (the audit replay engine,
// events/verify). What is accepted is still defined by the standard
// library alone: the parsed event must pass the same checks, and the
// bytes must equal encoding/json's encoding of what was parsed. The
// caller must show that its parser reads every accepted event as
// encoding/json does (a differential fuzz test).
func DecodeWith(b []byte, unmarshal func([]byte, any) error) (*Event, error) {
	if len(b) > MaxEventSize {
		return nil, fmt.Errorf("event of %d bytes exceeds the %d-byte limit", len(b), MaxEventSize)
	}
	// Unknown or duplicate fields, other orders, spacing and escapes all
	// parse, but none survives the comparison with the canonical encoding.
	e := new(Event)
	if err := unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("malformed event: %w", err)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	// The common case, bytes as the vault writes them, is decided without
	// re-encoding (isCanonical); anything else is decided, and its error
	// worded, by encoding/json.
	if isCanonical(b, e) {
		return e, nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("malformed event: %w", err)
	}
	if !bytes.Equal(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), b) {
		return nil, ErrNotCanonical
	}
	return e, nil
}

func (e *Event) check() error {
	if e.V != Version {
		return fmt.Errorf("unsupported event version %d", e.V)
	}
	if !IsHex(e.ID, 32) {
		return fmt.Errorf("event %d: id %q is not 32 lowercase hex digits", e.Seq, e.ID)
	}
	if e.Type == "" || len(e.Type) > 64 {
		return fmt.Errorf("event %d: missing or overlong type", e.Seq)
	}
	if !validTime(e.Time) {
		return fmt.Errorf("event %d: time %q is not in the layout %s", e.Seq, e.Time, TimeFormat)
	}
	if !IsHex(e.Prev, 64) {
		return fmt.Errorf("event %d: prev is not 64 lowercase hex digits", e.Seq)
	}
	if len(e.Data) == 0 || e.Data[0] != '{' {
		return fmt.Errorf("event %d: data is not a JSON object", e.Seq)
	}
	return nil
}

// PrevHash returns the decoded "prev" field. It cannot fail on an event
// returned by Decode (check demands 64 lowercase hex digits); it panics
// on an event built otherwise with a prev that is not 64 lowercase hex
// digits. It reads the string in place: an audit calls it once an event.
func (e *Event) PrevHash() Hash {
	var h Hash
	if len(e.Prev) != 2*len(h) {
		panic(fmt.Sprintf("events: event %d: prev %q was not validated", e.Seq, e.Prev))
	}
	for i := range h {
		hi, lo := hexValue[e.Prev[2*i]], hexValue[e.Prev[2*i+1]]
		if hi|lo > 0xf {
			panic(fmt.Sprintf("events: event %d: prev %q was not validated", e.Seq, e.Prev))
		}
		h[i] = hi<<4 | lo
	}
	return h
}

// Timestamp returns the parsed "time" field.
func (e *Event) Timestamp() time.Time {
	t, _ := time.Parse(TimeFormat, e.Time) // validated by check
	return t
}

// DecodeData unmarshals the type-specific data into v, a pointer to a
// struct of the members the caller reads, by the grammar every reader
// applies to data (docs/custody-log.md section 12, strictjson.EventData):
// member names exact, no member repeated at any depth, integers in
// canonical decimal; members v does not declare are ignored, and null or
// an absent member leaves the field's zero value. The event's bytes and
// hash do not depend on it: Decode accepts any data object (section 2.4).
func (e *Event) DecodeData(v any) error {
	if err := strictjson.Decode(e.Data, v, strictjson.EventData); err != nil {
		return fmt.Errorf("event %d (%s): bad data: %w", e.Seq, e.Type, err)
	}
	return nil
}

// LeafHash is the RFC 6962 leaf hash of stored event bytes:
// SHA-256(0x00 || bytes). It is both the Merkle leaf and the next event's
// "prev".
func LeafHash(b []byte) Hash {
	// Events are mostly under a kibibyte: hashed from a copy on the
	// stack, with no allocation (a hash.Hash from sha256.New is one).
	var buf [1024]byte
	if len(b) < len(buf) {
		n := copy(buf[1:], b)
		return sha256.Sum256(buf[:n+1])
	}
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(b)
	var out Hash
	h.Sum(out[:0])
	return out
}

// validTime checks the fixed layout 2006-01-02T15:04:05.000000000Z and
// the ranges of each field without the cost of time.Parse, which the audit
// engine would otherwise pay for every event.
func validTime(s string) bool {
	if len(s) != len(TimeFormat) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c, l := s[i], TimeFormat[i]
		if l >= '0' && l <= '9' {
			if c < '0' || c > '9' {
				return false
			}
		} else if c != l {
			return false
		}
	}
	num := func(i, j int) int {
		n := 0
		for _, c := range s[i:j] {
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day, hour, minute, sec := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

var lowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()

// hexValue is each lowercase hex digit's value, and 0xff for every other
// byte.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// IsHex reports whether s is n lowercase hexadecimal digits.
func IsHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	ok := true
	for i := 0; i < len(s); i++ {
		ok = ok && lowerHex[s[i]]
	}
	return ok
}
