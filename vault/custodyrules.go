package vault

import (
	"fmt"

	"github.com/custos-vault/custos/events"
)

// CustodyRules checks, event by event in the log's order, that what the
// log records was allowed by the rules at its position: the decisions a
// court asks about, read from the log alone (docs/custody-log.md,
// "Rules an auditor checks"). A vault decides each of them against its
// state; the state can be wrong (a state snapshot forged by whoever can
// use the log's key, a build that is not the vault's), and the log then
// records, faithfully and signed, an action the rules forbid. An audit
// finds it here, whatever the signatures say:
//
//   - a case's destruction approved while a legal hold on it stands, or
//     by the custodian who asked for it, or for no pending request of the
//     case;
//   - an item viewed (item.accessed) after its case's destruction was
//     approved, or by anyone but an investigator or analyst assigned to
//     its case at that position.
//
// Its memory is a few entries a case (holds, members, destruction
// requests), not an entry an event or an item. The zero value is ready;
// it is not safe for concurrent use.
type CustodyRules struct {
	cases map[string]*ruleCase
}

// ruleCase is what the rules keep of a case.
type ruleCase struct {
	members   map[string]bool
	heldAt    uint64 // the hold's case.hold.placed, while it stands
	held      bool
	destroyed uint64 // the case.destruction.approved, once approved
	requests  map[string]string
}

// RuleBroken is an event the rules did not allow at its position.
type RuleBroken struct {
	Seq    uint64
	Reason string
}

func (e *RuleBroken) Error() string {
	return fmt.Sprintf("event %d: %s", e.Seq, e.Reason)
}

// Check reads ev, the log's next event, and returns a *RuleBroken if
// the rules did not allow it there. Events the rules do not read, and
// events of cases the log never opened (which the vault's own replay
// refuses), pass.
func (r *CustodyRules) Check(ev *events.Event) error {
	if r.cases == nil {
		r.cases = map[string]*ruleCase{}
	}
	broken := func(format string, args ...any) error {
		return &RuleBroken{Seq: ev.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	if ev.Type == TypeCaseOpened {
		d, err := data[CaseOpened](ev)
		if err != nil {
			return nil
		}
		c := &ruleCase{members: map[string]bool{}, requests: map[string]string{}}
		for _, m := range d.Members {
			c.members[m] = true
		}
		r.cases[ev.Case] = c
		return nil
	}
	c := r.cases[ev.Case]
	if c == nil {
		return nil
	}
	switch ev.Type {
	case TypeCaseMemberAdded:
		if d, err := data[MemberAdded](ev); err == nil {
			c.members[d.Person] = true
		}
	case TypeCaseMemberRemoved:
		if d, err := data[MemberRemoved](ev); err == nil {
			delete(c.members, d.Person)
		}
	case TypeCaseHoldPlaced:
		c.held, c.heldAt = true, ev.Seq
	case TypeCaseHoldLifted:
		c.held = false
	case TypeDestructionRequested:
		if d, err := data[DestructionRequested](ev); err == nil {
			c.requests[d.Request] = ev.Actor.Person
		}
	case TypeDestructionRejected:
		if d, err := data[DestructionRejected](ev); err == nil {
			delete(c.requests, d.Request)
		}
	case TypeDestructionApproved:
		d, err := data[DestructionApproved](ev)
		if err != nil {
			return nil
		}
		by, pending := c.requests[d.Request]
		switch {
		case c.held:
			return broken("case %s's destruction was approved while the legal hold placed at event %d stood: nothing of a case is destroyed under a hold", ev.Case, c.heldAt)
		case !pending:
			return broken("case %s's destruction was approved on request %q, which was not pending for it", ev.Case, d.Request)
		case by == ev.Actor.Person:
			return broken("case %s's destruction was approved by %s, who asked for it: a second custodian approves", ev.Case, ev.Actor.Person)
		}
		c.destroyed, c.requests = ev.Seq, map[string]string{}
	case TypeItemAccessed:
		switch {
		case c.destroyed != 0:
			return broken("item %s was viewed after the destruction of its case %s was approved (event %d)", ev.Item, ev.Case, c.destroyed)
		case !handlesEvidence(ev.Actor.Role):
			return broken("item %s was viewed by %s as %s: only an investigator or analyst assigned to the case views its items", ev.Item, ev.Actor.Person, ev.Actor.Role)
		case !c.members[ev.Actor.Person]:
			return broken("item %s was viewed by %s, who was not assigned to case %s at that position", ev.Item, ev.Actor.Person, ev.Case)
		}
	}
	return nil
}
