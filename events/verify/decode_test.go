package verify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// FuzzDecodeAgreesWithStdlib: the engine parses with a faster decoder
// than encoding/json; for every event it accepts, the standard library
// must read exactly the same event, and events.Decode (the standard
// library alone, as the offline verifier decodes) must accept it too.
func FuzzDecodeAgreesWithStdlib(f *testing.F) {
	good, err := events.Encode(&events.Event{
		V: events.Version, Seq: 7, ID: "0123456789abcdef0123456789abcdef", Type: "item.deposited",
		Time:  "2026-11-27T02:20:43.000000001Z",
		Actor: events.Actor{Person: "sok.dara", Role: "investigator", Auth: "token"},
		Case:  "KH-2026-014", Item: "it_01", Data: json.RawMessage(`{"name":"chat <export> & log.txt","size":12}`),
		Prev: strings.Repeat("ab", 32),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), "sok.dara", `s\u00f6k \"dara\"`, 1)))
	log, err := os.ReadFile(filepath.Join("..", "..", "testdata", "custody-log", "events.ndjson"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n")) {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			return
		}
		var std events.Event
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("accepted bytes the standard library cannot parse: %v", err)
		}
		if !reflect.DeepEqual(*ev, std) {
			t.Fatalf("decoders disagree:\n fast %+v\n std  %+v", *ev, std)
		}
		strict, err := events.Decode(b)
		if err != nil {
			t.Fatalf("the engine accepted an event events.Decode refuses: %v", err)
		}
		if !reflect.DeepEqual(ev, strict) {
			t.Fatalf("decoders disagree:\n fast %+v\n events.Decode %+v", *ev, *strict)
		}
	})
}
