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
		// Each act below is within a week of its session's expiry (12 h
		// after it opened), but not of its end: only the end finds it.
		"a session ended by its person, by a suspension, by a refresh, and by a credential re-issued": {
			opened("c1", "se_1", 0, ""),
			{TypeSessionEnded, "c1", "se_1", SessionEnded{Session: "se_1", Reason: "signed out"}, time.Hour, ""},
			opened("c2", "se_2", 0, ""),
			{TypePersonSuspended, "c1", "", PersonStatus{Name: "c2", Reason: "inquiry"}, 2 * time.Hour, ""},
			{TypeItemAccessCompleted, "c2", "se_2", struct{}{}, 3 * time.Hour, ""},
			opened("c3", "se_3", 0, ""),
			opened("c3", "se_4", 3*time.Hour, "se_3"),
			act("c3", "se_3", 4*time.Hour, ""),
			opened("c1", "se_5", 4*time.Hour, ""),
			{TypeCredentialReissued, "c3", "", CredentialReissued{Name: "c1"}, 5 * time.Hour, ""},
			act("c1", "se_1", 2*time.Hour+7*day, "more than 168h0m0s after it ended"),
			{TypeItemAccessCompleted, "c2", "se_2", struct{}{}, 3*time.Hour + 7*day, "more than 168h0m0s after"},
			act("c3", "se_3", 4*time.Hour+7*day, "more than 168h0m0s after"),
			act("c1", "se_5", 6*time.Hour+7*day, "more than 168h0m0s after"),
		},
		"a clock set back, then put right: sessions read by each event's own time": {
			opened("c1", "se_1", 30*day, ""),
			act("c1", "se_1", 30*day+time.Hour, ""),
			opened("c2", "se_2", 0, ""),
			act("c2", "se_2", time.Hour, ""),
			act("c1", "se_1", 30*day+2*time.Hour, ""),
		},
		"a session opened for someone suspended, and a refresh of another's session": {
			{TypePersonSuspended, "c1", "", PersonStatus{Name: "c2", Reason: "inquiry"}, 0, ""},
			with(opened("c2", "se_2", time.Hour, ""), "had suspended or removed"),
			opened("c1", "se_1", time.Hour, ""),
			opened("c3", "se_3", time.Hour, ""),
			with(opened("c3", "se_4", 2*time.Hour, "se_1"), "which the log did not open for them"),
		},
		"a refresh of a session that ended, a session id opened twice, an act without a session": {
			opened("c1", "se_1", 0, ""),
			{TypeSessionEnded, "c1", "se_1", SessionEnded{Session: "se_1", Reason: "signed out"}, time.Hour, ""},
			with(opened("c1", "se_2", 2*time.Hour, "se_1"), "which the log did not open for them (or which had ended)"),
			with(opened("c2", "se_1", 3*time.Hour, ""), "session se_1 was opened again, for c2"),
			act("c3", "-", 4*time.Hour, "acted by a local sign-in without a session"),
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
				// No session: a certificate's sign-in; "-": a local one
				// without a session.
				auth, session := "local", s.session
				switch session {
				case "":
					auth = "certificate"
				case "-":
					session = ""
				}
				ev := &events.Event{Seq: uint64(i), Type: s.typ, Case: "CASE-1", Time: events.FormatTime(base.Add(s.at)), Data: b,
					Actor: events.Actor{Person: s.person, Role: RoleCustodian, Auth: auth, Session: session}}
				checkRule(t, &r, ev, s.broken)
			}
		})
	}
}

// FuzzSessionOpenedData: the quick read of a session.opened's data gives
// what the strict decoder gives, whenever it reads it at all.
func FuzzSessionOpenedData(f *testing.F) {
	for _, s := range []string{
		`{"session":"se_1","token_sha256":"aa","expires":"2026-12-06T10:00:00Z"}`,
		`{"session":"se_2","token_sha256":"aa","expires":"2026-12-06T10:00:00Z","refreshed":"se_1","signed_in":"2026-12-06T09:00:00.5Z"}`,
		`{"session":"se_1","session":"se_2","expires":"x"}`,
		`{"session":"se_\u0031","expires":"x"}`,
		`{"session":"se_1","expires":"x","n":1}`,
		`{"session":"se_3","token_sha256":"aa","expires":"2026-12-06T10:00:00Z","claim":"sub","client_id":"custos","key":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`,
		`{}`, `{"session":"se_1"}`, `{"expires":"x","session":"s"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, ok := sessionOpenedData(b)
		if !ok {
			return
		}
		strict, err := data[SessionOpened](&events.Event{Data: b})
		if err != nil {
			t.Fatalf("read quickly as %+v, but the strict decoder refuses it: %v", d, err)
		}
		if d.Session != strict.Session || d.Expires != strict.Expires || d.Refreshed != strict.Refreshed ||
			d.Key != strict.Key || d.ClientID != strict.ClientID || d.Claim != strict.Claim {
			t.Fatalf("read quickly as %+v, strictly as %+v", d, strict)
		}
	})
}

// A session whose recorded expiry is past its start's session TTL (a
// forged one, to be held for ever) ends at the TTL for the rules; an
// event that breaks a rule of sessions and another is one finding
// naming both.
func TestCustodyRulesOfSessionsTTLAndBothFindings(t *testing.T) {
	var r CustodyRules
	enroll(t, &r, map[string]string{"c1": RoleCustodian, "inv": RoleInvestigator})
	seq := uint64(0)
	check := func(typ, person, role, session string, at time.Duration, data any) error {
		b, _ := json.Marshal(data)
		seq++
		auth := "local"
		if session == "" {
			auth = "server"
		}
		return r.Check(&events.Event{Seq: seq, Type: typ, Case: "CASE-1", Time: events.FormatTime(base.Add(at)), Data: b,
			Actor: events.Actor{Person: person, Role: role, Auth: auth, Session: session}})
	}
	if err := check(TypeServerStarted, "custos", RoleSystem, "", 0, map[string]string{"session_ttl": "12h0m0s", "request_ttl": "72h0m0s"}); err != nil {
		t.Fatal(err)
	}
	if err := check(TypeSessionOpened, "c1", RoleCustodian, "se_1", 0, SessionOpened{Session: "se_1", Expires: base.Add(10 * 365 * 24 * time.Hour).Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	var rb *RuleBroken
	if err := check(TypeCaseHoldPlaced, "c1", RoleCustodian, "se_1", 30*24*time.Hour, HoldChanged{Reason: "r"}); !errors.As(err, &rb) || !strings.Contains(rb.Reason, "after it ended or expired") {
		t.Fatalf("an act a month into a session of a 12-hour TTL: %v", err)
	}
	if err := check(TypeCaseOpened, "inv", RoleInvestigator, "", 0, CaseOpened{Title: "t", Members: []string{"inv"}}); err != nil {
		t.Fatal(err)
	}
	err := check(TypeCaseHoldLifted, "inv", RoleInvestigator, "se_9", time.Hour, HoldChanged{Reason: "r"})
	if !errors.As(err, &rb) || !strings.Contains(rb.Reason, "only a custodian does it") || !strings.Contains(rb.Reason, "; and inv acted in session se_9, which the log never opened") {
		t.Fatalf("a hold lifted by an investigator in a session never opened: %v", err)
	}
}
