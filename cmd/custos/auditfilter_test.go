package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestAuditLogFilters: --person keeps the events by a person and those
// naming them in their data (enrolment, suspension, assignment, package
// for them, request they asked), not others that merely share a word;
// --since keeps those from a time on.
func TestAuditLogFilters(t *testing.T) {
	at := func(m int) string { return events.FormatTime(time.Date(2026, 12, 5, 12, m, 0, 0, time.UTC)) }
	ev := func(seq uint64, typ, actor, data string, m int) *events.Event {
		return &events.Event{Seq: seq, Type: typ, Time: at(m), Actor: events.Actor{Person: actor}, Data: json.RawMessage(data)}
	}
	all := []*events.Event{
		ev(1, "person.enrolled", "custos", `{"name":"dara","role":"investigator"}`, 1),
		ev(2, "item.accessed", "dara", `{"purpose":"review"}`, 2),
		ev(3, "person.suspended", "cust", `{"name":"dara","reason":"inquiry"}`, 3),
		ev(4, "access.refused", "dara", `{"reason":"dara is suspended"}`, 4),
		ev(5, "case.member.added", "cust", `{"person":"dara"}`, 5),
		ev(6, "package.sealing", "cust", `{"for":"dara2","requested_by":"dara"}`, 6),
		ev(7, "item.accessed", "sok", `{"purpose":"dara's report"}`, 7),
		ev(8, "case.opened", "sok", `{"title":"dara"}`, 8),
		ev(9, "report.received", "public", `{"name":"dara"}`, 9),
	}
	seqs := func(evs []*events.Event) []uint64 {
		var out []uint64
		for _, e := range evs {
			out = append(out, e.Seq)
		}
		return out
	}
	if got := seqs(filterTimeline(slices.Clone(all), "dara", time.Time{})); !slices.Equal(got, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("--person dara keeps events %v", got)
	}
	if got := seqs(filterTimeline(slices.Clone(all), "", time.Date(2026, 12, 5, 12, 7, 0, 0, time.UTC))); !slices.Equal(got, []uint64{7, 8, 9}) {
		t.Errorf("--since 12:07 keeps events %v", got)
	}
	if got := seqs(filterTimeline(slices.Clone(all), "dara", time.Date(2026, 12, 5, 12, 4, 0, 0, time.UTC))); !slices.Equal(got, []uint64{4, 5, 6}) {
		t.Errorf("--person dara --since 12:04 keeps events %v", got)
	}
	if got := filterTimeline(slices.Clone(all), "", time.Time{}); len(got) != len(all) {
		t.Errorf("no filter keeps %d of %d events", len(got), len(all))
	}
}
