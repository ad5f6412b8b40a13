package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// eventAtDepth is an event whose JSON nests levels deep, the envelope
// object counted: the envelope, data, and arrays inside data.
func eventAtDepth(levels int) []byte {
	d := levels - 2
	data := `{"a":` + strings.Repeat("[", d) + strings.Repeat("]", d) + `}`
	var b strings.Builder
	b.WriteString(`{"v":1,"seq":1,"id":"` + strings.Repeat("a", 32) + `","type":"x","time":"2026-01-01T00:00:00.000000000Z",`)
	b.WriteString(`"actor":{"person":"","role":"","auth":""},"case":"","item":"","data":` + data + `,"prev":"` + strings.Repeat("0", 64) + `"}`)
	return []byte(b.String())
}

// JSON nesting is at most 10,000 levels, the envelope counted
// (custody-log.md 2.5, rule 6): 10,000 decodes, 10,001 is refused.
func TestNestingDepthLimit(t *testing.T) {
	ok := eventAtDepth(10_000)
	ev, err := events.Decode(ok)
	if err != nil {
		t.Fatalf("10,000 levels: %v", err)
	}
	if !json.Valid(ev.Data) {
		t.Fatal("data is not JSON")
	}
	if _, err := events.Decode(eventAtDepth(10_001)); err == nil {
		t.Fatal("10,001 levels decoded")
	}
}
