package custody

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestDescribe: one event in words, as the documents show it; an event of
// a type this version does not know, or whose data does not decode, by
// its type.
func TestDescribe(t *testing.T) {
	dep := &events.Event{Type: "item.deposited", Data: json.RawMessage(`{"size":2048,"sha256":"` + strings.Repeat("ab", 32) + `"}`)}
	if action, details := Describe(dep); action != "Deposited (received into custody)" || !strings.Contains(details, "2,048 bytes") {
		t.Fatalf("a deposit: %q %q", action, details)
	}
	for _, ev := range []*events.Event{
		{Type: "something.new", Data: json.RawMessage(`{}`)},
		{Type: "item.deposited", Data: json.RawMessage(`{"size":"not a number"}`)},
	} {
		if action, _ := Describe(ev); action != ev.Type {
			t.Errorf("%s %s: %q", ev.Type, ev.Data, action)
		}
	}
}
