package vault

import (
	"fmt"
	"slices"

	"github.com/custos-vault/custos/events"
)

// CustodyRules checks, event by event in the log's order, that what the
// log records was allowed by the rules at its position: the decisions a
// court asks about, read from the log alone (docs/custody-log.md,
// section 7, step 8, "Rules an auditor checks"). A vault decides each of them against its
// state; the state can be wrong (a state snapshot forged by whoever can
// use the log's key, a build that is not the vault's), and the log then
// records, faithfully and signed, an action the rules forbid. An audit
// finds it here, whatever the signatures say:
//
//   - a case's destruction approved while a legal hold on it stands, or
//     by the custodian who asked for it, or for no pending request of the
//     case;
//   - any of these, and a case's members added or removed, a hold placed
//     or lifted, a destruction requested or rejected, by someone the log
//     did not enroll as a custodian (a view: as an investigator or
//     analyst), under another role than the log enrolled them in, or
//     suspended or removed at that position;
//   - an item viewed (item.accessed) as an item of another case than the
//     one it was deposited in (or of none, or never deposited), after
//     its case's destruction was approved, or by anyone but an
//     investigator or analyst assigned to its case at that position.
//
// Its memory is a few entries a case (holds, members, destruction
// requests) and one an item (its case), not an entry an event. The zero value is ready;
// it is not safe for concurrent use.
type CustodyRules struct {
	cases map[string]*ruleCase
	// persons are each enrolled person's role and standing, as the log
	// last recorded them: an actor's role is read from here, not from
	// the event that names it.
	persons map[string]*rulePerson
	// items are each deposited item's case, an index into caseIDs:
	// about 60 bytes an item with the map's own, some 9 MB for the
	// 150,000 items of 10^7 events.
	items     map[string]uint32
	caseIDs   []string
	caseIndex map[string]uint32
}

// itemCase returns the case item was deposited in, and whether it was.
func (r *CustodyRules) itemCase(item string) (string, bool) {
	i, ok := r.items[item]
	if !ok {
		return "", false
	}
	return r.caseIDs[i], true
}

// deposited notes that item was deposited in caseID.
func (r *CustodyRules) deposited(item, caseID string) {
	i, ok := r.caseIndex[caseID]
	if !ok {
		i = uint32(len(r.caseIDs))
		r.caseIDs = append(r.caseIDs, caseID)
		r.caseIndex[caseID] = i
	}
	r.items[item] = i
}

// rulePerson is what the rules keep of a person.
type rulePerson struct {
	role               string
	suspended, removed bool
}

// ruleCase is what the rules keep of a case.
type ruleCase struct {
	members   map[string]bool
	heldAt    uint64 // the hold's case.hold.placed, while it stands
	held      bool
	destroyed uint64 // the case.destruction.approved, once approved
	requests  map[string]string
}

// ruleTypes are the event types the rules read.
var ruleTypes = map[string]bool{
	TypePersonEnrolled: true, TypePersonSuspended: true, TypePersonReinstated: true, TypePersonRemoved: true,
	TypeCaseOpened: true, TypeCaseMemberAdded: true, TypeCaseMemberRemoved: true,
	TypeCaseHoldPlaced: true, TypeCaseHoldLifted: true,
	TypeDestructionRequested: true, TypeDestructionRejected: true, TypeDestructionApproved: true,
	TypeItemDeposited: true, TypeItemAccessed: true,
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
// the rules did not allow it there. Events the rules do not read pass,
// and so do a case's events other than a view where the log never
// opened the case (the vault's own replay refuses them).
func (r *CustodyRules) Check(ev *events.Event) error {
	if r.cases == nil {
		r.cases = map[string]*ruleCase{}
		r.items, r.caseIndex = map[string]uint32{}, map[string]uint32{}
		r.persons = map[string]*rulePerson{}
	}
	if !ruleTypes[ev.Type] {
		return nil // most of a log: one lookup, no allocation
	}
	switch ev.Type {
	case TypePersonEnrolled:
		// A re-enrolment (logs before requests) starts the person anew,
		// as the vault's replay does.
		if d, err := data[PersonEnrolled](ev); err == nil {
			r.persons[d.Name] = &rulePerson{role: d.Role}
		}
		return nil
	case TypePersonSuspended, TypePersonReinstated, TypePersonRemoved:
		if d, err := data[PersonStatus](ev); err == nil {
			if p := r.persons[d.Name]; p != nil {
				switch ev.Type {
				case TypePersonSuspended:
					p.suspended = true
				case TypePersonReinstated:
					p.suspended = false
				default:
					p.removed = true
				}
			}
		}
		return nil
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
	if ev.Type == TypeItemAccessed {
		// A view names the case its item was deposited in, and a case
		// the log opened: the rules below are that case's.
		switch dep, ok := r.itemCase(ev.Item); {
		case !ok:
			return broken("item %s was viewed, but the log never deposited it", ev.Item)
		case dep != ev.Case:
			return broken("item %s was viewed as an item of case %q, but it was deposited in case %s", ev.Item, ev.Case, dep)
		}
	}
	c := r.cases[ev.Case]
	if c == nil {
		return nil
	}
	// acts says why the event's actor could not act as it does: not a
	// person the log enrolled in one of roles, enrolled under another
	// role than the event names, suspended or removed ("" if they could).
	acts := func(who string, roles ...string) string {
		p := r.persons[ev.Actor.Person]
		switch {
		case p == nil:
			return fmt.Sprintf("by %s, whom the log never enrolled", ev.Actor.Person)
		case p.role != ev.Actor.Role:
			return fmt.Sprintf("by %s as %s, but the log enrolled them as %s", ev.Actor.Person, ev.Actor.Role, p.role)
		case p.removed:
			return fmt.Sprintf("by %s, whom the log had removed", ev.Actor.Person)
		case p.suspended:
			return fmt.Sprintf("by %s, whom the log had suspended", ev.Actor.Person)
		case !slices.Contains(roles, p.role):
			return fmt.Sprintf("by %s, a %s: only %s does it", ev.Actor.Person, p.role, who)
		}
		return ""
	}
	switch ev.Type {
	case TypeCaseMemberAdded, TypeCaseMemberRemoved, TypeCaseHoldPlaced, TypeCaseHoldLifted,
		TypeDestructionRequested, TypeDestructionRejected, TypeDestructionApproved:
		if why := acts("a custodian", RoleCustodian); why != "" {
			return broken("%s of case %s was recorded %s", ev.Type, ev.Case, why)
		}
	case TypeItemAccessed:
		if why := acts("an investigator or analyst", RoleInvestigator, RoleAnalyst); why != "" {
			return broken("item %s was viewed %s", ev.Item, why)
		}
	}
	switch ev.Type {
	case TypeItemDeposited:
		r.deposited(ev.Item, ev.Case)
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
		case !c.members[ev.Actor.Person]:
			return broken("item %s was viewed by %s, who was not assigned to case %s at that position", ev.Item, ev.Actor.Person, ev.Case)
		}
	}
	return nil
}
