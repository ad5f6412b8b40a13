package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/custos-vault/custos/events"
)

// TestCustodyRules: each rule an auditor checks, broken at one position
// and kept at another. A rule broken is named with its event; a log the
// rules allow passes whole.
func TestCustodyRules(t *testing.T) {
	type step struct {
		typ, person, role string
		data              any
		broken            string // what the rule's finding says; "" if allowed
		caseID            string // the event's case, if not CASE-1
	}
	inv, ana, c1, c2 := "sok.dara", "lim.sovann", "keo.vanna", "chea.sopheap"
	view := func(person, role, broken string) step {
		return step{TypeItemAccessed, person, role, ItemAccessed{Purpose: "review", Access: "view"}, broken, ""}
	}
	deposit := step{TypeItemDeposited, inv, RoleInvestigator, ItemDeposited{Name: "a.jpg"}, "", ""}
	vote := func(person, role, broken string) step {
		return step{TypeItemClassified, person, role, ItemClassified{Category: CategoryBaseline}, broken, ""}
	}
	for name, steps := range map[string][]step{
		"views by the case's members, and only theirs": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			deposit,
			view(inv, RoleInvestigator, ""),
			view(ana, RoleAnalyst, "who was not assigned to case CASE-1"),
		},
		"what a deposit skipped, stated by members only": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeDepositSkipped, inv, RoleInvestigator, DepositSkipped{Count: 1, Files: []SkippedFile{{Path: "p", Reason: "r"}}}, "", ""},
			{TypeDepositSkipped, ana, RoleAnalyst, DepositSkipped{Count: 1, Files: []SkippedFile{{Path: "p", Reason: "r"}}}, "stated by lim.sovann, who was not assigned", ""},
			{TypeDepositSkipped, c1, RoleCustodian, DepositSkipped{Count: 1, Files: []SkippedFile{{Path: "p", Reason: "r"}}}, "a custodian: only an investigator or analyst does it", ""},
		},
		"a member added, then removed": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			deposit,
			{TypeCaseMemberAdded, c2, RoleCustodian, MemberAdded{Person: ana}, "", ""},
			view(ana, RoleAnalyst, ""),
			{TypeCaseMemberRemoved, c1, RoleCustodian, MemberRemoved{Person: ana, Reason: "moved"}, "", ""},
			view(ana, RoleAnalyst, "who was not assigned"),
		},
		"a custodian's view": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv, c1}}, "", ""},
			deposit,
			view(c1, RoleCustodian, "a custodian: only an investigator or analyst does it"),
		},
		"a destruction approved under a hold": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "while the legal hold placed at event 1 stood", ""},
		},
		"a destruction approved after the hold was lifted, then a view": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			deposit,
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, "", ""},
			{TypeCaseHoldLifted, c1, RoleCustodian, HoldChanged{Reason: "appeal ended"}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "", ""},
			view(inv, RoleInvestigator, "after the destruction of its case CASE-1 was approved (event 5)"),
		},
		"a view filed under another case, or of an item never deposited": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeCaseOpened, ana, RoleAnalyst, CaseOpened{Title: "u", Members: []string{ana}}, "", "CASE-2"},
			deposit,
			{TypeItemAccessed, ana, RoleAnalyst, ItemAccessed{Purpose: "r", Access: "view"}, "deposited in case CASE-1", "CASE-2"},
			{TypeItemAccessed, ana, RoleAnalyst, ItemAccessed{Purpose: "r", Access: "view"}, "deposited in case CASE-1", "NEVER-OPENED"},
		},
		"an analyst's view as an investigator, and views by the suspended and removed": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv, ana}}, "", ""},
			deposit,
			view(ana, RoleInvestigator, "as investigator, but the log enrolled them as analyst"),
			{TypePersonSuspended, c1, RoleCustodian, PersonStatus{Name: ana, Reason: "leave"}, "", ""},
			view(ana, RoleAnalyst, "whom the log had suspended"),
			{TypePersonReinstated, c2, RoleCustodian, PersonStatus{Name: ana}, "", ""},
			view(ana, RoleAnalyst, ""),
			{TypePersonRemoved, c1, RoleCustodian, PersonStatus{Name: inv, Reason: "left"}, "", ""},
			view(inv, RoleInvestigator, "whom the log had removed"),
			view("mallory", RoleInvestigator, "whom the log never enrolled"),
		},
		"a hold lifted and a member added by someone not a custodian": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, "", ""},
			{TypeCaseHoldLifted, "chan.dara", RoleProsecutor, HoldChanged{Reason: "x"}, "a prosecutor: only a custodian does it", ""},
			{TypeCaseMemberAdded, "chan.dara", RoleCustodian, MemberAdded{Person: ana}, "as custodian, but the log enrolled them as prosecutor", ""},
			{TypeDestructionRequested, "ghost", RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "whom the log never enrolled", ""},
		},
		"a destruction approved on a request asked before a hold since lifted": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, "", ""},
			{TypeCaseHoldLifted, c2, RoleCustodian, HoldChanged{Reason: "appeal withdrawn"}, "", ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "asked before the legal hold placed at event 2", ""},
		},
		"a destruction asked again after the hold and approved": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, "", ""},
			{TypeCaseHoldLifted, c2, RoleCustodian, HoldChanged{Reason: "appeal withdrawn"}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_2", Order: "o"}, "", ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_2", Order: "o", RequestedBy: c1}, "", ""},
		},
		"a destruction approved by its requester": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeDestructionApproved, c1, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "approved by keo.vanna, who asked for it", ""},
		},
		"votes by the case's investigators and analysts, and only theirs": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeCaseOpened, ana, RoleAnalyst, CaseOpened{Title: "u", Members: []string{ana}}, "", "CASE-2"},
			deposit,
			vote(inv, RoleInvestigator, ""),
			vote(ana, RoleAnalyst, "recorded by lim.sovann, who was not assigned to case CASE-1"),
			vote(c1, RoleCustodian, "a custodian: only an investigator or analyst does it"),
			vote(ana, RoleInvestigator, "as investigator, but the log enrolled them as analyst"),
			// Filed under the analyst's own case, whose policy would
			// count it.
			{TypeItemClassified, ana, RoleAnalyst, ItemClassified{Category: CategoryNotIllegal}, "classified as an item of case \"CASE-2\", but it was deposited in case CASE-1", "CASE-2"},
			{TypeCaseMemberAdded, c2, RoleCustodian, MemberAdded{Person: ana}, "", ""},
			vote(ana, RoleAnalyst, ""),
			{TypePersonSuspended, c1, RoleCustodian, PersonStatus{Name: ana, Reason: "leave"}, "", ""},
			vote(ana, RoleAnalyst, "whom the log had suspended"),
			{TypeCaseHoldLifted, c1, RoleCustodian, HoldChanged{Reason: "none"}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "", ""},
			vote(inv, RoleInvestigator, "after the destruction of its case CASE-1 was approved"),
		},
		"a destruction approved on a request rejected": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, "", ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, "", ""},
			{TypeDestructionRejected, c2, RoleCustodian, DestructionRejected{Request: "dr_1", RequestedBy: c1, Reason: "no"}, "", ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "which was not pending", ""},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			enroll(t, &r, map[string]string{inv: RoleInvestigator, ana: RoleAnalyst, c1: RoleCustodian, c2: RoleCustodian, "chan.dara": RoleProsecutor})
			for i, s := range steps {
				b, err := json.Marshal(s.data)
				if err != nil {
					t.Fatal(err)
				}
				ev := &events.Event{Seq: uint64(i), Type: s.typ, Case: "CASE-1", Actor: events.Actor{Person: s.person, Role: s.role}, Data: b}
				if s.caseID != "" {
					ev.Case = s.caseID
				}
				if s.typ == TypeItemAccessed || s.typ == TypeItemDeposited || s.typ == TypeItemClassified {
					ev.Item = "it_0123456789abcdef01234567"
				}
				checkRule(t, &r, ev, s.broken)
			}
		})
	}
}

// TestCustodyRulesViewOfAnItemNeverDeposited: a view of an item the log
// never deposited (an id in events.NewID's form, and one not) is a
// finding, whatever its case.
func TestCustodyRulesViewOfAnItemNeverDeposited(t *testing.T) {
	for _, item := range []string{"it_0123456789abcdef0123ffff", "legacy-item-1"} {
		var r CustodyRules
		enroll(t, &r, map[string]string{"inv": RoleInvestigator})
		opened, _ := json.Marshal(CaseOpened{Title: "t", Members: []string{"inv"}})
		if err := r.Check(&events.Event{Seq: 0, Type: TypeCaseOpened, Case: "C", Actor: events.Actor{Person: "inv", Role: RoleInvestigator}, Data: opened}); err != nil {
			t.Fatal(err)
		}
		if err := r.Check(&events.Event{Seq: 1, Type: TypeItemDeposited, Case: "C", Item: "it_0123456789abcdef01234567", Actor: events.Actor{Person: "inv", Role: RoleInvestigator}, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		err := r.Check(&events.Event{Seq: 2, Type: TypeItemAccessed, Case: "C", Item: item, Actor: events.Actor{Person: "inv", Role: RoleInvestigator}, Data: []byte(`{"purpose":"p","access":"view"}`)})
		var rb *RuleBroken
		if !errors.As(err, &rb) || !strings.Contains(rb.Reason, "never deposited") {
			t.Errorf("a view of %s, never deposited: %v", item, err)
		}
	}
}

// checkRule reads ev through r and fails t unless the rules allow it
// (broken "") or find it, at its position, saying broken.
func checkRule(t *testing.T, r *CustodyRules, ev *events.Event, broken string) {
	t.Helper()
	ev, text := packed(ev)
	err := r.Check(ev)
	// As the audit engine's events (events.ParseCanonicalPacked), ev's
	// strings share one allocation: the rules keep none of it.
	for _, k := range r.keptStrings() {
		if within(k, text) {
			t.Fatalf("event %d (%s): the rules keep %q inside the event's own text, which keeps all of it in memory", ev.Seq, ev.Type, k)
		}
	}
	var rb *RuleBroken
	switch {
	case broken == "" && err != nil:
		t.Fatalf("event %d (%s): %v, want it allowed", ev.Seq, ev.Type, err)
	case broken != "" && (!errors.As(err, &rb) || rb.Seq != ev.Seq || !strings.Contains(rb.Reason, broken)):
		t.Fatalf("event %d (%s): %v, want a rule broken saying %q", ev.Seq, ev.Type, err, broken)
	}
}

// enroll records person.enrolled events of roles (name: role) in r, at
// positions past any a test names.
func enroll(t testing.TB, r *CustodyRules, roles map[string]string) {
	t.Helper()
	seq := uint64(1000)
	for name, role := range roles {
		b, _ := json.Marshal(PersonEnrolled{Name: name, Role: role})
		if err := r.Check(&events.Event{Seq: seq, Type: TypePersonEnrolled, Actor: events.Actor{Person: "system", Role: "system"}, Data: b}); err != nil {
			t.Fatal(err)
		}
		seq++
	}
}

// BenchmarkCustodyRules is the rules' cost an event of audit verify's
// replay, over a mix of views and their completions in a session (which
// the rules read), sign-ins, and events they pass over, 1,000 items in
// 10 cases.
func BenchmarkCustodyRules(b *testing.B) {
	var r CustodyRules
	enroll(b, &r, map[string]string{"inv": RoleInvestigator})
	var evs []*events.Event
	for c := range 10 {
		caseID := fmt.Sprintf("CASE-%d", c)
		opened, _ := json.Marshal(CaseOpened{Title: "t", Members: []string{"inv"}})
		evs = append(evs, &events.Event{Type: TypeCaseOpened, Case: caseID, Actor: events.Actor{Person: "inv", Role: RoleInvestigator}, Data: opened})
	}
	for i := range 1000 {
		evs = append(evs, &events.Event{Type: TypeItemDeposited, Case: fmt.Sprintf("CASE-%d", i%10), Item: fmt.Sprintf("it_%024x", i), Actor: events.Actor{Person: "inv", Role: RoleInvestigator}, Data: []byte(`{}`)})
	}
	for _, ev := range evs {
		if err := r.Check(ev); err != nil {
			b.Fatal(err)
		}
	}
	// The views and their completions are in a session, as a vault's are.
	now := events.FormatTime(time.Now())
	opened, _ := json.Marshal(SessionOpened{Session: "se_1", Expires: time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	in := events.Actor{Person: "inv", Role: RoleInvestigator, Auth: "local", Session: "se_1"}
	if err := r.Check(&events.Event{Type: TypeSessionOpened, Time: now, Actor: in, Data: opened}); err != nil {
		b.Fatal(err)
	}
	var mix []*events.Event
	for i := range 1000 {
		mix = append(mix, &events.Event{Type: TypeItemAccessed, Time: now, Case: fmt.Sprintf("CASE-%d", i%10), Item: fmt.Sprintf("it_%024x", i), Actor: in},
			&events.Event{Type: TypeItemAccessCompleted, Time: now, Case: fmt.Sprintf("CASE-%d", i%10), Item: fmt.Sprintf("it_%024x", i), Actor: in},
			&events.Event{Type: TypeAccessRefused})
		if i%9 == 0 {
			// A sign-in about every 27 events, as in the scale group's
			// history (3.7 %), of a session given its id below.
			mix = append(mix, &events.Event{Type: TypeSessionOpened, Time: now, Actor: events.Actor{Person: "inv", Role: RoleInvestigator, Auth: "local"}})
		}
	}
	// Sign-ins of sessions long ended, each id once until the rules
	// prune it (every 4,096 sign-ins): 4 x 4,096 ids in turn.
	type signIn struct {
		id   string
		data []byte
	}
	ins := make([]signIn, 4*4096)
	for i := range ins {
		id := fmt.Sprintf("se_%024x", i+2)
		b, _ := json.Marshal(SessionOpened{Session: id, TokenSHA256: strings.Repeat("a", 64), Expires: time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)})
		ins[i] = signIn{id, b}
	}
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev := mix[i%len(mix)]
		if ev.Type == TypeSessionOpened {
			in := ins[next%len(ins)]
			ev.Actor.Session, ev.Data = in.id, in.data
			next++
		}
		if err := r.Check(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// checkRulesHold reads v's whole log through CustodyRules, as an audit
// does: whatever a test made the vault do through its methods, the
// rules must allow. Every test vault is checked so when its test ends
// (openTestVaultDir), so that a rule stricter than the vault is found
// by the first test that does what the rule forbids.
func checkRulesHold(t testing.TB, v *Vault) {
	t.Helper()
	if t.Failed() {
		return
	}
	var r CustodyRules
	err := v.cfg.Log.Read(context.Background(), 0, func(rec events.Record) error {
		ev, err := events.Decode(rec.Bytes)
		if err != nil {
			return err
		}
		err = r.Check(ev)
		if rb := (*RuleBroken)(nil); errors.As(err, &rb) && rb.ofSession {
			// Tests act through the vault's methods with a Principal
			// they keep, which no request re-authenticates (the API
			// does, at each request), under clocks they move by days:
			// the rules of sessions are checked where the API signs
			// people in (vault/api's tests, internal/e2e).
			return nil
		}
		if ev.Type == TypePersonEnrolled && ev.Actor.Role == RoleSystem {
			// Tests enrol people by the server's own method
			// (Vault.Enroll) whenever they need them; a server calls it
			// only for --dev and admin enroll, which the rule is about.
			return nil
		}
		if err != nil {
			t.Errorf("the custody rules refuse what the vault recorded: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading the log for the custody rules: %v", err)
	}
}

// packed returns a copy of ev whose strings are cut from one string, as
// events.ParseCanonicalPacked cuts them, and that string.
func packed(ev *events.Event) (*events.Event, string) {
	p := *ev
	fields := []*string{&p.ID, &p.Type, &p.Time, &p.Actor.Person, &p.Actor.Role, &p.Actor.Auth, &p.Actor.Session,
		&p.Actor.Issuer, &p.Actor.Subject, &p.Actor.Certificate, &p.Actor.ACR, &p.Case, &p.Item, &p.Prev}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(*f)
	}
	text := b.String()
	at := 0
	for _, f := range fields {
		n := len(*f)
		*f = text[at : at+n]
		at += n
	}
	return &p, text
}

// within reports whether s's bytes lie inside text's.
func within(s, text string) bool {
	if len(s) == 0 || len(text) == 0 {
		return false
	}
	p, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(text)))
	return p >= base && p < base+uintptr(len(text))
}

// keptStrings is every string the rules keep beyond the event they read.
func (r *CustodyRules) keptStrings() []string {
	var kept []string
	kept = append(kept, r.caseIDs...)
	for item := range r.items {
		kept = append(kept, item)
	}
	for id := range r.caseIndex {
		kept = append(kept, id)
	}
	for id, c := range r.cases {
		kept = append(kept, id)
		for m := range c.members {
			kept = append(kept, m)
		}
		for id, d := range c.requests {
			kept = append(kept, id, d.by)
		}
	}
	for name, p := range r.persons {
		kept = append(kept, name, p.role)
	}
	for id, q := range r.requests {
		kept = append(kept, id, q.kind, q.caseID, q.target, q.by, q.byRole)
	}
	for name, to := range r.recipients {
		kept = append(kept, name, to)
	}
	for name := range r.receiptKeys {
		kept = append(kept, name)
	}
	for id, s := range r.sessions {
		kept = append(kept, id, s.person, s.until)
	}
	if a := r.approved; a != nil {
		kept = append(kept, a.id, a.kind, a.caseID, a.by, a.target, a.requester)
	}
	return kept
}
