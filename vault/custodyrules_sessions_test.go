package vault

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// TestCustodyRulesOfSessions: whoever acts in a session acts in one the
// log opened for them, and not long after it ended. A state forged by
// whoever can use the log's key could sign in a session the log never
// opened; every act in it is a finding.
func TestCustodyRulesOfSessions(t *testing.T) {
	type step struct {
		typ, person, session string
		data                 any
		at                   time.Duration
		broken               string
	}
	opened := func(person, id string, at time.Duration, refreshed string) step {
		return step{TypeSessionOpened, person, id, SessionOpened{Session: id, TokenSHA256: strings.Repeat("a", 64),
			Expires: base.Add(at + 12*time.Hour).Format(time.RFC3339), Refreshed: refreshed}, at, ""}
	}
	act := func(person, session string, at time.Duration, broken string) step {
		return step{TypeCaseHoldPlaced, person, session, HoldChanged{Reason: "r"}, at, broken}
	}
	with := func(s step, broken string) step { s.broken = broken; return s }
	day := 24 * time.Hour
	for name, steps := range map[string][]step{
		"acts in one's own session, while it lasts and a week after": {
			opened("c1", "se_1", 0, ""),
			act("c1", "se_1", time.Hour, ""),
			act("c1", "se_1", 12*time.Hour+6*day, ""),
			act("c1", "se_1", 12*time.Hour+8*day, "more than 168h0m0s after it ended or expired"),
		},
		"a session the log never opened": {
			act("c1", "se_9", time.Hour, "which the log never opened"),
		},
		"another person's session": {
			opened("c2", "se_2", 0, ""),
			act("c1", "se_2", time.Hour, "which the log opened for c2"),
		},
		"a session ended by its person, and by a suspension": {
			opened("c1", "se_1", 0, ""),
			{TypeSessionEnded, "c1", "se_1", SessionEnded{Session: "se_1", Reason: "signed out"}, time.Hour, ""},
			opened("c2", "se_2", 0, ""),
			{TypePersonSuspended, "c1", "", PersonStatus{Name: "c2", Reason: "inquiry"}, 2 * time.Hour, ""},
			{TypeItemAccessCompleted, "c2", "se_2", struct{}{}, 3 * time.Hour, ""},
			act("c1", "se_1", time.Hour+8*day, "more than 168h0m0s after it ended"),
			{TypeItemAccessCompleted, "c2", "se_2", struct{}{}, 2*time.Hour + 8*day, "more than 168h0m0s after"},
		},
		"an act stamped back into its session's life, after the log's time passed it": {
			opened("c1", "se_1", 0, ""),
			opened("c2", "se_2", 9*day, ""),
			act("c1", "se_1", time.Hour, "more than 168h0m0s after it ended or expired"),
		},
		"a session opened for someone suspended, and a refresh of another's session": {
			{TypePersonSuspended, "c1", "", PersonStatus{Name: "c2", Reason: "inquiry"}, 0, ""},
			with(opened("c2", "se_2", time.Hour, ""), "had suspended or removed"),
			opened("c1", "se_1", time.Hour, ""),
			opened("c3", "se_3", time.Hour, ""),
			with(opened("c3", "se_4", 2*time.Hour, "se_1"), "which the log did not open for them"),
		},
		"a refusal names what was presented": {
			{TypeAccessRefused, "c1", "se_9", map[string]string{"action": "x"}, 0, ""},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			enroll(t, &r, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "c3": RoleCustodian})
			c, _ := json.Marshal(CaseOpened{Title: "t"})
			if err := r.Check(&events.Event{Seq: 999, Type: TypeCaseOpened, Case: "CASE-1", Time: events.FormatTime(base), Actor: events.Actor{Person: "custos", Role: RoleSystem}, Data: c}); err != nil {
				t.Fatal(err)
			}
			for i, s := range steps {
				b, _ := json.Marshal(s.data)
				ev := &events.Event{Seq: uint64(i), Type: s.typ, Case: "CASE-1", Time: events.FormatTime(base.Add(s.at)), Data: b,
					Actor: events.Actor{Person: s.person, Role: RoleCustodian, Auth: "local", Session: s.session}}
				err := r.Check(ev)
				var rb *RuleBroken
				switch {
				case s.broken == "" && err != nil:
					t.Fatalf("event %d (%s): %v, want it allowed", i, s.typ, err)
				case s.broken != "" && (!errors.As(err, &rb) || rb.Seq != uint64(i) || !strings.Contains(rb.Reason, s.broken)):
					t.Fatalf("event %d (%s): %v, want a rule broken saying %q", i, s.typ, err, s.broken)
				}
			}
		})
	}
}
