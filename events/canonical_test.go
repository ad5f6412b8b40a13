package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stdEncode is the canonical encoding as encoding/json writes it.
func stdEncode(e *Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func stdCompact(b []byte) bool {
	var buf bytes.Buffer
	return json.Compact(&buf, b) == nil && bytes.Equal(buf.Bytes(), b)
}

func canonicalSeeds(f *testing.F) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "custody-log", "events.ndjson"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n")) {
		f.Add(line)
	}
	odd := &Event{V: Version, Seq: 1 << 40, ID: strings.Repeat("a", 32), Type: "t\u2028\x01\"\\<&>",
		Time: "2026-11-27T02:20:43.000000001Z", Actor: Actor{Person: "s\xffk", Role: "r\u2029", Auth: "\x7f",
			Session: "s", ACR: "a", AMR: []string{"pwd", "\t"}},
		Case: "\u00e9", Item: "\b\f\n\r", Data: json.RawMessage(`{"a":[1,-0.5e+3,true,false,null,{"b":"\u00e9\\n\/"}]}`),
		Prev: strings.Repeat("0", 64)}
	b, err := stdEncode(odd)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// FuzzCanonicalAgreesWithStdlib: the fast canonical check never accepts
// bytes that encoding/json would not write for the event they decode to,
// and accepts whatever it writes (so that the fast path is the one taken).
func FuzzCanonicalAgreesWithStdlib(f *testing.F) {
	canonicalSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if json.Unmarshal(b, &e) != nil {
			return
		}
		std, err := stdEncode(&e)
		if isCanonical(b, &e) && (err != nil || !bytes.Equal(std, b)) {
			t.Fatalf("accepted as canonical bytes encoding/json writes otherwise:\n%q\n%q (%v)", b, std, err)
		}
		if err == nil && stdCompact(e.Data) && !isCanonical(std, &e) {
			t.Fatalf("encoding/json's own bytes are not taken as canonical:\n%q", std)
		}
		// Encode writes what encoding/json writes, whichever path it takes.
		if e.check() == nil && len(e.Data) > 0 {
			got, gerr := Encode(&e)
			if (gerr == nil) != (err == nil && len(std) <= MaxEventSize) || (gerr == nil && !bytes.Equal(got, std)) {
				t.Fatalf("Encode gives %q (%v), encoding/json %q (%v)", got, gerr, std, err)
			}
		}
	})
}

// FuzzCompactJSON: compactJSON is exactly "valid for encoding/json and
// unchanged by json.Compact".
func FuzzCompactJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{ "a":1}`, `[1,2]`, `"\u00zz"`, `-0.1e-5`, `01`, `1.`, `{"a":"\x01"}`,
		`{"a":tru}`, `nul`, `{"a":[]}`, `{"a":{}}`, `"\/"`, `{"a":1,}`, `[,]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := compactJSON(b), stdCompact(b); got != want {
			t.Fatalf("compactJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

// FuzzJSONString: appendJSONString writes what encoding/json writes.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x00\x1f\x7f", "\"\\", "\u2028\u2029", "\xff\xfe", "é", "<>&", "\xe2\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want := appendJSONString(nil, s), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %q, encoding/json writes %q", s, got, want)
		}
	})
}

// TestDecodeTakesTheFastPath: events as the vault writes them are
// decided without re-encoding, and a non-canonical one is still refused
// (by encoding/json's comparison).
func TestDecodeTakesTheFastPath(t *testing.T) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "custody-log", "events.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n"))
	for i, line := range lines {
		e, err := Decode(line)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if !isCanonical(line, e) {
			t.Fatalf("line %d is canonical but not taken so by the fast path", i)
		}
		spaced := bytes.Replace(line, []byte(`"data":{`), []byte(`"data": {`), 1)
		if _, err := Decode(spaced); err == nil {
			t.Fatalf("line %d with a space in its data decodes", i)
		}
		reordered := bytes.Replace(line, []byte(`{"v":1,"seq":`), []byte(`{"seq":`), 1)
		if _, err := Decode(reordered); err == nil {
			t.Fatalf("line %d without its version first decodes", i)
		}
	}
}
