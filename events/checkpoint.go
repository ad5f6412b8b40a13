package events

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
)

// MaxCheckpointSize bounds a signed checkpoint note.
const MaxCheckpointSize = 4 << 10

// Checkpoint is a verified C2SP tlog-checkpoint: the log's origin, its size
// and the root hash of the tree of that size.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   Hash
	// Note holds the signed note exactly as issued.
	Note []byte
}

// SignCheckpoint issues a signed checkpoint note for a tree of size with
// the given root.
func SignCheckpoint(s note.Signer, origin string, size uint64, root Hash) ([]byte, error) {
	body := log.Checkpoint{Origin: origin, Size: size, Hash: root[:]}.Marshal()
	return note.Sign(&note.Note{Text: string(body)}, s)
}

// ErrCheckpointKey is returned when a checkpoint carries no valid signature
// of the expected key.
var ErrCheckpointKey = errors.New("checkpoint is not signed by the log's key")

// ParseCheckpoint verifies a signed checkpoint note against the log's
// verifier key and origin and returns its contents. Extension lines are
// refused: Custos issues none.
func ParseCheckpoint(b []byte, origin string, v note.Verifier) (*Checkpoint, error) {
	if len(b) > MaxCheckpointSize {
		return nil, fmt.Errorf("checkpoint of %d bytes exceeds the %d-byte limit", len(b), MaxCheckpointSize)
	}
	cp, rest, _, err := log.ParseCheckpoint(b, origin, v)
	if err != nil {
		var unknown *note.UnknownVerifierError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unknown) || errors.As(err, &invalid) || bytes.Contains([]byte(err.Error()), []byte("signature")) {
			return nil, fmt.Errorf("%w: %v", ErrCheckpointKey, err)
		}
		return nil, fmt.Errorf("bad checkpoint: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("bad checkpoint: unexpected extension lines")
	}
	// golang.org/x/mod/sumdb/note verifies the first signature of a key
	// and skips any later one by the same key, so a valid line followed
	// by an invalid one would pass and the reverse would not. The order
	// must not matter: exactly one signature line by the log's key.
	n, canonical := signaturesBy(b, v)
	if n != 1 {
		return nil, fmt.Errorf("%w: %d signature lines by the log's key; a checkpoint carries exactly one", ErrCheckpointKey, n)
	}
	// One spelling of the signature too: base64 decoders differ on the
	// unused bits of the last character (RFC 4648 section 3.5).
	if !canonical {
		return nil, fmt.Errorf("%w: the log key's signature is not in canonical base64", ErrCheckpointKey)
	}
	if len(cp.Hash) != len(Hash{}) {
		return nil, fmt.Errorf("bad checkpoint: root hash of %d bytes", len(cp.Hash))
	}
	// One spelling for each checkpoint (custody-log.md 5.2, 5.4): the text
	// is exactly what SignCheckpoint writes for its origin, size and root,
	// so the size is canonical decimal ("6", never "06") and the root
	// canonical base64.
	// (The text is compared with its newline as b holds it: b is never
	// written to, as callers share one note between goroutines.)
	if text, _, found := bytes.Cut(b, []byte("\n\n")); !found || !bytes.Equal(b[:len(text)+1], log.Checkpoint{Origin: cp.Origin, Size: cp.Size, Hash: cp.Hash}.Marshal()) {
		return nil, errors.New("bad checkpoint: the text is not written as a writer writes it (size in canonical decimal, root in canonical base64)")
	}
	out := &Checkpoint{Origin: cp.Origin, Size: cp.Size, Note: append([]byte(nil), b...)}
	copy(out.Root[:], cp.Hash)
	return out, nil
}

// StatedSize returns the tree size a checkpoint note's text states (its
// second line, custody-log.md 5.2), without verifying the note: for
// telling whether a stored row holds the checkpoint of its size, where
// the note's signature and root are checked by whoever reads it
// (ParseCheckpoint). ok is false when the text is not a checkpoint's.
func StatedSize(note []byte) (size uint64, ok bool) {
	text, _, found := bytes.Cut(note, []byte("\n\n"))
	if !found || len(note) > MaxCheckpointSize {
		return 0, false
	}
	var c log.Checkpoint
	if _, err := c.Unmarshal(note[:len(text)+1]); err != nil { // the text and its newline, without writing to note
		return 0, false
	}
	return c.Size, true
}

// SignatureLines returns the signature lines of a signed note (C2SP
// signed-note: "— NAME BASE64" after the blank line that ends its text)
// whose key name and 4-byte key hash are name's and hash's, whether or
// not they verify, each as its signature bytes (key hash first) and
// whether its base64 is canonical (RFC 4648 section 3.5). The log key
// (5.3) and each witness key (5.9) may have at most one.
func SignatureLines(b []byte, name string, hash uint32) []SignatureLine {
	_, sigs, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return nil
	}
	var out []SignatureLine
	for _, line := range strings.Split(string(sigs), "\n") {
		rest, ok := strings.CutPrefix(line, "\u2014 ")
		if !ok {
			continue
		}
		n, b64, ok := strings.Cut(rest, " ")
		if !ok || n != name {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && len(raw) >= 4 && binary.BigEndian.Uint32(raw) == hash {
			_, strict := base64.StdEncoding.Strict().DecodeString(b64)
			out = append(out, SignatureLine{Raw: raw, Canonical: strict == nil})
		}
	}
	return out
}

// SignatureLine is one line SignatureLines found.
type SignatureLine struct {
	Raw       []byte
	Canonical bool
}

// signaturesBy counts the note's signature lines by v's key
// (SignatureLines), and whether all are in canonical base64.
func signaturesBy(b []byte, v note.Verifier) (n int, canonical bool) {
	lines := SignatureLines(b, v.Name(), v.KeyHash())
	canonical = len(lines) > 0
	for _, l := range lines {
		canonical = canonical && l.Canonical
	}
	return len(lines), canonical
}

// PeekCheckpoint reads a checkpoint's origin and size without verifying
// any signature, so that a tool can say what it was given before it has
// the key. Never trust its result.
func PeekCheckpoint(b []byte) (origin string, size uint64, err error) {
	text, _, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		return "", 0, errors.New("bad checkpoint: not a signed note")
	}
	var cp log.Checkpoint
	if _, err := cp.Unmarshal(b[:len(text)+1]); err != nil { // without writing to b
		return "", 0, fmt.Errorf("bad checkpoint: %w", err)
	}
	return cp.Origin, cp.Size, nil
}

// LogSigned returns a checkpoint note as the log signed it: its text, the
// blank line and the log key's signature line, without any other
// signature (a witness's cosignature, docs/custody-log.md 5.9). It is the
// message an RFC 3161 time-stamp token over a checkpoint covers
// (docs/timestamps.md). The note must hold a valid signature of v.
func LogSigned(b []byte, v note.Verifier) ([]byte, error) {
	n, err := note.Open(b, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpointKey, err)
	}
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return []byte(n.Text + "\n\u2014 " + s.Name + " " + s.Base64 + "\n"), nil
		}
	}
	return nil, ErrCheckpointKey
}
