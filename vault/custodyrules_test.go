package vault

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

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
	}
	inv, ana, c1, c2 := "sok.dara", "lim.sovann", "keo.vanna", "chea.sopheap"
	view := func(person, role, broken string) step {
		return step{TypeItemAccessed, person, role, ItemAccessed{Purpose: "review", Access: "view"}, broken}
	}
	for name, steps := range map[string][]step{
		"views by the case's members, and only theirs": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, ""},
			view(inv, RoleInvestigator, ""),
			view(ana, RoleAnalyst, "who was not assigned to case CASE-1"),
		},
		"a member added, then removed": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, ""},
			{TypeCaseMemberAdded, c2, RoleCustodian, MemberAdded{Person: ana}, ""},
			view(ana, RoleAnalyst, ""),
			{TypeCaseMemberRemoved, c1, RoleCustodian, MemberRemoved{Person: ana, Reason: "moved"}, ""},
			view(ana, RoleAnalyst, "who was not assigned"),
		},
		"a custodian's view": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv, c1}}, ""},
			view(c1, RoleCustodian, "only an investigator or analyst"),
		},
		"a destruction approved under a hold": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, ""},
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "while the legal hold placed at event 1 stood"},
		},
		"a destruction approved after the hold was lifted, then a view": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, ""},
			{TypeCaseHoldPlaced, c1, RoleCustodian, HoldChanged{Reason: "appeal"}, ""},
			{TypeCaseHoldLifted, c1, RoleCustodian, HoldChanged{Reason: "appeal ended"}, ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, ""},
			view(inv, RoleInvestigator, "after the destruction of its case CASE-1 was approved (event 4)"),
		},
		"a destruction approved by its requester": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, ""},
			{TypeDestructionApproved, c1, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "approved by keo.vanna, who asked for it"},
		},
		"a destruction approved on a request rejected": {
			{TypeCaseOpened, inv, RoleInvestigator, CaseOpened{Title: "t", Members: []string{inv}}, ""},
			{TypeDestructionRequested, c1, RoleCustodian, DestructionRequested{Request: "dr_1", Order: "o"}, ""},
			{TypeDestructionRejected, c2, RoleCustodian, DestructionRejected{Request: "dr_1", RequestedBy: c1, Reason: "no"}, ""},
			{TypeDestructionApproved, c2, RoleCustodian, DestructionApproved{Request: "dr_1", Order: "o", RequestedBy: c1}, "which was not pending"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var r CustodyRules
			for i, s := range steps {
				b, err := json.Marshal(s.data)
				if err != nil {
					t.Fatal(err)
				}
				ev := &events.Event{Seq: uint64(i), Type: s.typ, Case: "CASE-1", Actor: events.Actor{Person: s.person, Role: s.role}, Data: b}
				if s.typ == TypeItemAccessed {
					ev.Item = "it_0123456789abcdef01234567"
				}
				err = r.Check(ev)
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
