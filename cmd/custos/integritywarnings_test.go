package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
)

// TestIntegrityWarningsNameTheFirstAndCountTheRest: an audit that passes
// says each integrity failure the log records, the first ten with their
// event, time, item, case and object, escaped (a reason is the vault's
// text, an object's name may be anything), and how many more after the
// tenth; other events are not counted.
func TestIntegrityWarningsNameTheFirstAndCountTheRest(t *testing.T) {
	f := &ruleFindings{accepted: map[uint64]bool{}}
	for i := range 13 {
		ev := &events.Event{V: events.Version, Seq: uint64(100 + i), Type: vault.TypeIntegrityFailed, Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "system", Role: "system"}, Item: fmt.Sprintf("it_%02d", i), Case: "C-1",
			Data: json.RawMessage(fmt.Sprintf(`{"object":"ev/%02d\n","reason":"bytes altered\u202e %d"}`, i, i))}
		f.check(ev)
		f.check(&events.Event{V: events.Version, Seq: uint64(200 + i), Type: "item.accessed", Time: ev.Time, Data: json.RawMessage(`{}`)})
	}
	if f.integrityTotal != 13 {
		t.Fatalf("%d integrity failures counted, want 13", f.integrityTotal)
	}
	w := f.integrityWarnings()
	if len(w) != shownRuleFindings+1 {
		t.Fatalf("%d warnings, want %d and one of the rest:\n%s", len(w), shownRuleFindings, strings.Join(w, "\n"))
	}
	first := w[0]
	for _, want := range []string{"at event 100 (2026-12-07T09:15:07Z)", `(item it_00, case C-1, object ev/00\u000a)`, `bytes altered\u202e 0`} {
		if !strings.Contains(first, want) {
			t.Errorf("the first warning lacks %q: %s", want, first)
		}
	}
	if strings.ContainsAny(strings.Join(w, ""), "\n\u202e") {
		t.Errorf("a warning holds a line break or an override: %q", w)
	}
	if last := w[len(w)-1]; !strings.Contains(last, "3 more integrity failures after event 109") {
		t.Errorf("the rest are said as %q", last)
	}
}
