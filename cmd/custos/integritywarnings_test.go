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
	if f.integrity.total != 13 {
		t.Fatalf("%d integrity failures counted, want 13", f.integrity.total)
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

// TestConfigurationChangesAreSaid: an audit says each member of
// server.started that differs from the start before it (a threshold
// lowered, an approval dropped, a member no longer recorded), never the
// first start's, an offline command's or what differs at every start
// (the build, the snapshot resumed from), escaped; the first ten, and
// how many more.
func TestConfigurationChangesAreSaid(t *testing.T) {
	f := &ruleFindings{accepted: map[uint64]bool{}}
	start := func(seq uint64, data string) {
		f.check(&events.Event{V: events.Version, Seq: seq, Type: vault.TypeServerStarted, Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "custos", Role: "system"}, Data: json.RawMessage(data)})
	}
	start(1, `{"sealer":"dev","build":"a","pdq_max_distance":"31","hashset_approval":"required","session_ttl":"12h0m0s","exposure_daily_limit":"200"}`)
	start(5, `{"run":"admin enroll"}`)
	start(9, `{"sealer":"tpm","build":"b","state_snapshot":"8","pdq_max_distance":"31","hashset_approval":"required","session_ttl":"12h0m0s","exposure_daily_limit":"200"}`)
	if f.changes.total != 0 {
		t.Fatalf("a restart that changed only its build, sealer and snapshot counts %d changes: %v", f.changes.total, f.configWarnings())
	}
	start(12, `{"sealer":"tpm","pdq_max_distance":"4","hashset_approval":"none","session_ttl":"12h0m0s","oidc_issuer":"https://id.example/\u202e"}`)
	w := f.configWarnings()
	if f.changes.total != 4 || len(w) != 4 {
		t.Fatalf("%d changes, want 4:\n%s", f.changes.total, strings.Join(w, "\n"))
	}
	for _, want := range []string{
		"at event 12 (2026-12-07T09:15:07Z) with hashset_approval none, where the start before had required",
		"with pdq_max_distance 4, where the start before had 31",
		"with exposure_daily_limit (not set), where the start before had 200",
		`with oidc_issuer https://id.example/\u202e, where the start before had (not set)`,
	} {
		if !strings.Contains(strings.Join(w, "\n"), want) {
			t.Errorf("the warnings do not say %q:\n%s", want, strings.Join(w, "\n"))
		}
	}
	for i := range 12 {
		start(uint64(20+i), fmt.Sprintf(`{"session_ttl":"%dh0m0s"}`, i+1))
	}
	if w := f.configWarnings(); len(w) != shownRuleFindings+1 || !strings.Contains(w[len(w)-1], "more changes of the server's configuration after event") {
		t.Fatalf("past the first ten: %d warnings, the last %q", len(w), w[len(w)-1])
	}
}

// TestConfigurationChangesBeforeASavedCheckpointAreCounted: the changes
// before the auditor's saved checkpoint were said at the audit that
// saved it: counted in one line, not said again; those after are.
func TestConfigurationChangesBeforeASavedCheckpointAreCounted(t *testing.T) {
	f := &ruleFindings{accepted: map[uint64]bool{}, changesSince: 10}
	for i, seq := range []uint64{1, 5, 9, 14} {
		f.check(&events.Event{V: events.Version, Seq: seq, Type: vault.TypeServerStarted, Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "custos", Role: "system"}, Data: json.RawMessage(fmt.Sprintf(`{"pdq_max_distance":"%d"}`, 31-i))})
	}
	w := f.configWarnings()
	if f.changes.total != 1 || len(w) != 2 || !strings.Contains(w[0], "at event 14") ||
		!strings.Contains(w[1], "2 earlier changes of the server's configuration, before your saved checkpoint of 10 events, are not said again") {
		t.Fatalf("%d changes said:\n%s", f.changes.total, strings.Join(w, "\n"))
	}
}

// TestHashSetsTakenOutOfUseAreSaid: each hashset.unused event is said,
// escaped, the first ten, and the rest counted.
func TestHashSetsTakenOutOfUseAreSaid(t *testing.T) {
	f := &ruleFindings{accepted: map[uint64]bool{}}
	for i := range 12 {
		f.check(&events.Event{V: events.Version, Seq: uint64(40 + i), Type: vault.TypeHashSetUnused, Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "custos", Role: "system"}, Data: json.RawMessage(fmt.Sprintf(`{"name":"partner%d","reason":"its files differ\n from its import"}`, i))})
	}
	w := f.unusedWarnings()
	if f.unused.total != 12 || len(w) != shownRuleFindings+1 {
		t.Fatalf("%d counted, %d warnings:\n%s", f.unused.total, len(w), strings.Join(w, "\n"))
	}
	if !strings.Contains(w[0], "at event 40 (2026-12-07T09:15:07Z), that the vault stopped matching against hash set partner0: its files differ\\u000a from its import") {
		t.Errorf("the first warning: %s", w[0])
	}
	if !strings.Contains(w[len(w)-1], "2 more hash sets taken out of use after event 49") {
		t.Errorf("the rest: %s", w[len(w)-1])
	}
}

// TestSnapshotsSetAsideAreSaid: a start that set state snapshots aside
// (a page of one edited on disk, found by its check) was recorded in
// server.started and shown by audit log, but audit verify said nothing:
// each is said, escaped, offline commands' starts too; those before the
// auditor's saved checkpoint are counted; a start that set none aside
// is not said.
func TestSnapshotsSetAsideAreSaid(t *testing.T) {
	f := &ruleFindings{accepted: map[uint64]bool{}, changesSince: 10}
	start := func(seq uint64, data string) {
		f.check(&events.Event{V: events.Version, Seq: seq, Type: vault.TypeServerStarted, Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "custos", Role: "system"}, Data: json.RawMessage(data)})
	}
	start(3, `{"state_snapshots_discarded":"state-00000002.snap: an older state version"}`)
	start(12, `{"sealer":"dev"}`)
	start(14, `{"state_snapshots_discarded":"state-00000013.snap: page 4 is not the page its summary names\n"}`)
	start(16, `{"run":"custos admin recover","state_snapshots_discarded":"state-00000015.snap: unreadable"}`)
	w := f.discardWarnings()
	if f.discards.total != 2 || len(w) != 3 {
		t.Fatalf("%d starts counted, warnings:\n%s", f.discards.total, strings.Join(w, "\n"))
	}
	if !strings.Contains(w[0], "at event 14 (2026-12-07T09:15:07Z) without the state snapshots it found, set aside because state-00000013.snap: page 4 is not the page its summary names\\u000a") ||
		!strings.Contains(w[1], "at event 16") {
		t.Errorf("the warnings: %s", strings.Join(w, "\n"))
	}
	if !strings.Contains(w[2], "1 earlier starts that set state snapshots aside, before your saved checkpoint of 10 events") {
		t.Errorf("the earlier ones: %s", w[2])
	}
}

// TestStartsAfterAnUnrecordedStopAreSaid: an audit says each start
// (an offline command's too) that follows a server which said it
// records its stop and recorded none: a crash, a kill, a lost machine.
// A start after a recorded stop, or after a start of a release that
// did not record stops, is not said; the marker is no configuration
// change.
func TestStartsAfterAnUnrecordedStopAreSaid(t *testing.T) {
	f := &ruleFindings{accepted: map[uint64]bool{}}
	ev := func(seq uint64, typ, data string) {
		f.check(&events.Event{V: events.Version, Seq: seq, Type: typ, Time: "2026-12-07T09:15:07.000000000Z",
			Actor: events.Actor{Person: "custos", Role: "system"}, Data: json.RawMessage(data)})
	}
	marked := `{"sealer":"dev","server_stopped":"recorded"}`
	ev(1, vault.TypeServerStarted, `{"sealer":"dev"}`)
	ev(2, vault.TypeServerStarted, marked) // after a release that recorded no stops: not said
	ev(3, vault.TypeServerStopped, `{"reason":"stop signal","started":2}`)
	ev(5, vault.TypeServerStarted, marked)
	ev(9, vault.TypeServerStarted, `{"run":"admin recover"}`) // after a crash of 5
	ev(12, vault.TypeServerStarted, marked)
	ev(20, vault.TypeServerStarted, `{"sealer":"dev"}`) // after a kill of 12
	ev(25, vault.TypeServerStarted, marked)
	w := f.unstoppedWarnings()
	if f.unstopped.total != 2 || len(w) != 2 || !strings.Contains(w[0], "started at event 5 (") || !strings.Contains(w[0], "at event 9 (") ||
		!strings.Contains(w[1], "started at event 12 (") || !strings.Contains(w[1], "at event 20 (") {
		t.Fatalf("%d starts after an unrecorded stop:\n%s", f.unstopped.total, strings.Join(w, "\n"))
	}
	for _, c := range f.changes.kept {
		if c.key == vault.StartedStops {
			t.Errorf("the marker counted as a configuration change: %+v", c)
		}
	}
}
