package vault

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
)

// The custody rules of two people for every grant of power
// (requests.go; docs/custody-log.md, section 7, step 8): what the log
// records of a request, its approval and the decision it carries out
// must be what a vault allows, read from the log alone.

// ruleRequest is a pending two-person request, as its request.opened
// recorded it.
type ruleRequest struct {
	kind, caseID string
	// target is whom or what it is about: its person (a package's
	// recipient), or the name of a hash set's import.
	target     string
	by, byRole string
	expires    time.Time
	void       bool // its requester was suspended or removed while it waited
}

// ruleApproval is a request.approved, read against the event after it.
type ruleApproval struct {
	seq                  uint64
	id, kind, caseID, by string
	target               string
}

// expirySlack is how far the rules let an event's time stray from a
// request's expiry, either way: the vault decides by its clock when it
// checks, and a clock stepped between that and the event's time is not
// a forgery (as a package's verifier allows, pkgformat's approvalSlack).
const expirySlack = time.Minute

// decisionTypes are the events that carry out an approved request, each
// with the request kind that asks for it. Outside a request, some are
// direct decisions of their own (a first recipient, a stricter policy,
// a package of a case without the approval policy).
var decisionTypes = map[string]string{
	TypePersonEnrolled:     KindEnroll,
	TypeCredentialReissued: KindReissue,
	TypePersonReinstated:   KindReinstate,
	TypeCaseMemberAdded:    KindMember,
	TypeRecipientSet:       KindRecipient,
	TypeReceiptKeySet:      KindReceiptKey,
	TypeCasePolicySet:      KindPolicy,
	TypePackageSealing:     KindSeal,
	TypeHashSetImported:    KindHashSetImport,
}

// decisionData is what the rules read of a decision's data: the request
// it names and whom it is about (members of the decision types' data;
// the others ignored).
type decisionData struct {
	Request        string `json:"request"`
	Name           string `json:"name"`
	Person         string `json:"person"`
	ExportApproval string `json:"export_approval"`
	For            string `json:"for"`
	Role           string `json:"role"`
}

// notFollowed is the finding of an approval not followed by its
// decision: ev, the event after it, is not the decision it approved.
func (a *ruleApproval) notFollowed(ev *events.Event) error {
	return &RuleBroken{Seq: ev.Seq, Reason: "request " + a.id + " was approved at event " + itoa(a.seq) +
		", but this " + ev.Type + " after it is not the " + decisionTypeOf(a.kind) + " that carries it out: an approval is appended with its decision"}
}

// decisionTypeOf names the event that carries out a request of kind.
func decisionTypeOf(kind string) string {
	for typ, k := range decisionTypes {
		if k == kind {
			return typ
		}
	}
	return "decision"
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// started reads a server.started: from a start that records its request
// TTL (since 2026-12-05) on, the log runs requests; its TTL and hash-set
// approval hold until the next start. An offline command's records
// none and changes none.
func (r *CustodyRules) started(ev *events.Event) {
	d, err := data[map[string]string](ev)
	if err != nil || d[startedRun] != "" {
		return
	}
	if ttl, err := time.ParseDuration(d["request_ttl"]); err == nil && ttl > 0 {
		r.requestsRun, r.requestTTL = true, ttl
	}
	r.hashSetApproval = d["hashset_approval"] == "required"
}

// voidRequestsOf voids the pending requests of name (suspended or
// removed), two-person and destruction requests alike: none of them is
// ever approved, even if name is reinstated.
func (r *CustodyRules) voidRequestsOf(name string) {
	for _, q := range r.requests {
		if q.by == name {
			q.void = true
		}
	}
	for _, c := range r.cases {
		for _, d := range c.requests {
			if d.by == name {
				d.void = true
			}
		}
	}
}

// registered notes whose recipient or receipt key a recipient.set or
// receipt.key.set registers (Check reads the decision first).
func (r *CustodyRules) registered(ev *events.Event) {
	d, err := data[decisionData](ev)
	if err != nil {
		return
	}
	who := d.Person
	if who == "" {
		who = ev.Actor.Person
	}
	if ev.Type == TypeRecipientSet {
		r.recipients[who] = true
	} else {
		r.receiptKeys[who] = true
	}
}

// openers are the roles that may open a request of each kind (the
// vault's role gates, askers.go); a kind not here is only checked for
// an actor the log enrolled under their role, active.
var openers = map[string][]string{
	KindEnroll: {RoleCustodian}, KindReissue: {RoleCustodian}, KindReinstate: {RoleCustodian},
	KindMember: {RoleCustodian}, KindPolicy: {RoleCustodian}, KindHashSetImport: {RoleCustodian},
	KindSeal:      {RoleInvestigator, RoleCustodian},
	KindRecipient: {RoleProsecutor, RoleDefence}, KindReceiptKey: {RoleProsecutor, RoleDefence},
}

// request reads a request.opened, request.approved or request.rejected.
func (r *CustodyRules) request(ev *events.Event) error {
	if ev.Type == TypeRequestOpened {
		return r.opened(ev)
	}
	d, err := data[RequestDecided](ev)
	if err != nil {
		return nil
	}
	q := r.requests[d.Request]
	delete(r.requests, d.Request)
	verb := "approved"
	if ev.Type == TypeRequestRejected {
		verb = "rejected"
	}
	switch {
	case q == nil:
		return r.broken(ev, "request %s was %s, but the log holds no pending request of that id (never opened, decided already, or expired unanswered)", d.Request, verb)
	case d.Kind != q.kind || d.RequestedBy != q.by:
		return r.broken(ev, "request %s was %s as a %s request by %s; it was opened as a %s request by %s", d.Request, verb, d.Kind, d.RequestedBy, q.kind, q.by)
	case ev.Timestamp().After(q.expires.Add(expirySlack)):
		return r.broken(ev, "request %s was %s after it expired at %s", d.Request, verb, q.expires.Format(time.RFC3339))
	case q.void:
		return r.broken(ev, "request %s was %s after its requester %s was suspended or removed, which voids it", d.Request, verb, q.by)
	}
	if ev.Type == TypeRequestRejected && ev.Actor.Person == q.by {
		return nil // withdrawn by its requester
	}
	if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" {
		return r.broken(ev, "request %s was %s %s", d.Request, verb, why)
	}
	if ev.Type == TypeRequestRejected {
		return nil
	}
	switch {
	case ev.Actor.Person == q.by:
		return r.broken(ev, "request %s was approved by %s, who asked for it: a second custodian approves", d.Request, q.by)
	case !r.active(q.by, q.byRole):
		return r.broken(ev, "request %s was approved, but its requester %s is no longer an active %s", d.Request, q.by, q.byRole)
	}
	r.approved = &ruleApproval{seq: ev.Seq, id: d.Request, kind: q.kind, caseID: q.caseID, by: ev.Actor.Person, target: q.target}
	return nil
}

// opened reads a request.opened: its requester may ask it, and it lasts
// no longer than the request TTL its start recorded.
func (r *CustodyRules) opened(ev *events.Event) error {
	r.requestsRun = true
	d, err := data[RequestOpened](ev)
	if err != nil {
		return nil
	}
	exp, err := time.Parse(time.RFC3339, d.Expires)
	if err != nil {
		return nil // the vault's replay refuses it
	}
	now := ev.Timestamp()
	// Requests that ended unanswered are no longer pending.
	for id, q := range r.requests {
		if now.After(q.expires.Add(expirySlack)) {
			delete(r.requests, id)
		}
	}
	q := &ruleRequest{kind: d.Kind, caseID: d.Case, target: d.Person, by: ev.Actor.Person, byRole: ev.Actor.Role, expires: exp}
	if d.Kind == KindHashSetImport {
		var p struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(d.Params, &p) == nil {
			q.target = p.Name
		}
	}
	r.requests[d.Request] = q
	if roles, ok := openers[d.Kind]; ok {
		if why := r.cannotAct(ev, roleWords(roles), roles...); why != "" {
			return r.broken(ev, "request %s (%s) was opened %s", d.Request, d.Kind, why)
		}
	} else if p := r.persons[ev.Actor.Person]; p == nil || p.role != ev.Actor.Role || p.suspended || p.removed {
		return r.broken(ev, "request %s (%s) was opened by %s, not active in the role the log enrolled them in", d.Request, d.Kind, ev.Actor.Person)
	}
	switch {
	case (d.Kind == KindRecipient || d.Kind == KindReceiptKey) && d.Person != ev.Actor.Person:
		return r.broken(ev, "request %s asks to replace the %s of %s, but %s asked: each person asks for their own", d.Request, d.Kind, d.Person, ev.Actor.Person)
	case d.Kind == KindSeal && ev.Actor.Role == RoleInvestigator && !r.member(d.Case, ev.Actor.Person):
		return r.broken(ev, "request %s asks to seal a package of case %s, by %s, an investigator not assigned to it", d.Request, d.Case, ev.Actor.Person)
	case r.requestTTL > 0 && exp.Sub(now) > r.requestTTL+expirySlack:
		return r.broken(ev, "request %s lasts until %s, longer than the request TTL of %s the vault's last start recorded", d.Request, d.Expires, r.requestTTL)
	}
	return nil
}

// custodians counts the custodians the log enrolled, suspended and
// removed ones too (as Vault.CustodiansEver).
func (r *CustodyRules) custodians() int {
	n := 0
	for _, p := range r.persons {
		if p.role == RoleCustodian {
			n++
		}
	}
	return n
}

// member reports whether name is assigned to caseID at this position.
func (r *CustodyRules) member(caseID, name string) bool {
	c := r.cases[caseID]
	return c != nil && c.members[name]
}

// roleWords words roles for a finding: "a custodian", "an investigator
// or custodian".
func roleWords(roles []string) string {
	return article(strings.Join(roles, " or "))
}

// decision reads ev, of a type a request may carry out, against the
// approval before it (nil if the event before it is none): a decision
// that names a request comes right after that request's approval, by
// its approver, and does what was asked; one that names none is a
// decision a vault that runs requests takes alone only where it takes no
// power from anyone's hands.
func (r *CustodyRules) decision(ev *events.Event, approved *ruleApproval) error {
	kind := decisionTypes[ev.Type]
	if kind == "" {
		return nil
	}
	d, err := data[decisionData](ev)
	if err != nil {
		return nil
	}
	if d.Request == "" {
		if approved != nil {
			return approved.notFollowed(ev)
		}
		return r.alone(ev, d)
	}
	target := d.Person
	switch ev.Type {
	case TypePersonEnrolled, TypeCredentialReissued, TypePersonReinstated, TypeHashSetImported:
		target = d.Name
	case TypePackageSealing:
		target = d.For
	}
	switch {
	case approved == nil || approved.id != d.Request:
		return r.broken(ev, "%s carries out request %s, but the event before it is not that request's approval: a decision is appended with the approval it needs", ev.Type, d.Request)
	case approved.kind != kind:
		return r.broken(ev, "%s carries out request %s, a %s request", ev.Type, d.Request, approved.kind)
	case ev.Actor.Person != approved.by:
		return r.broken(ev, "%s carries out request %s as %s, but %s approved it", ev.Type, d.Request, ev.Actor.Person, approved.by)
	case approved.caseID != "" && ev.Case != approved.caseID:
		return r.broken(ev, "%s carries out request %s for case %q; it asked for case %s", ev.Type, d.Request, ev.Case, approved.caseID)
	case approved.target != "" && target != approved.target:
		return r.broken(ev, "%s carries out request %s for %q; it asked for %s", ev.Type, d.Request, target, approved.target)
	}
	return nil
}

// alone reads a decision that names no request: in a log that runs
// requests, a grant of power is one only if it takes none from a
// second custodian's hands.
func (r *CustodyRules) alone(ev *events.Event, d decisionData) error {
	switch ev.Type {
	case TypeCasePolicySet:
		if d.ExportApproval == ExportApprovalNone {
			return r.broken(ev, "case %s's export approval was dropped without a request a second custodian approved", ev.Case)
		}
		return nil
	case TypeHashSetImported:
		if r.hashSetApproval {
			return r.broken(ev, "hash set %s was imported without a request a second custodian approved, though the vault's last start required one (hashset_approval)", d.Name)
		}
		return nil
	case TypePackageSealing:
		return nil // by its case's policy (sealing)
	}
	if !r.requestsRun {
		return nil // a log from before requests
	}
	switch ev.Type {
	case TypePersonEnrolled:
		if ev.Actor.Role != RoleSystem {
			return r.broken(ev, "%s was enrolled by %s without a request a second custodian approved", d.Name, ev.Actor.Person)
		}
		// The server's own: the development persons of a first start,
		// before anyone acted, and the first two custodians (custos
		// admin enroll, refused once two were ever enrolled).
		if r.personActed && (d.Role != RoleCustodian || r.custodians() >= 2) {
			return r.broken(ev, "%s was enrolled as %s by the server itself, after people had acted in the vault and not as one of its first two custodians: every other person is enrolled on a request a second custodian approves", d.Name, d.Role)
		}
		return nil
	case TypeRecipientSet, TypeReceiptKeySet:
		who, has := d.Person, r.recipients
		if who == "" {
			who = ev.Actor.Person
		}
		if ev.Type == TypeReceiptKeySet {
			has = r.receiptKeys
		}
		switch {
		case has[who]:
			return r.broken(ev, "%s's registered %s was replaced without a request a second custodian approved", who, ev.Type)
		case who != ev.Actor.Person:
			return r.broken(ev, "%s's first %s was registered by %s: each person registers their own", who, ev.Type, ev.Actor.Person)
		}
		return nil
	}
	who := d.Person
	if who == "" {
		who = d.Name
	}
	return r.broken(ev, "%s of %s was recorded by %s without a request a second custodian approved", ev.Type, who, ev.Actor.Person)
}

// sealing reads a package.sealing of case c: by an investigator
// assigned to the case or a custodian, and, where the case's policy
// requires approval, carrying out an approved request (Check reads the
// request itself).
func (r *CustodyRules) sealing(ev *events.Event, c *ruleCase) error {
	if why := r.cannotAct(ev, "an investigator assigned to the case or a custodian", RoleInvestigator, RoleCustodian); why != "" {
		return r.broken(ev, "a package of case %s was sealed %s", ev.Case, why)
	}
	if ev.Actor.Role == RoleInvestigator && !c.members[ev.Actor.Person] {
		return r.broken(ev, "a package of case %s was sealed by %s, an investigator not assigned to it", ev.Case, ev.Actor.Person)
	}
	if !c.exportApproval {
		return nil
	}
	if d, err := data[decisionData](ev); err == nil && d.Request == "" {
		return r.broken(ev, "a package of case %s was sealed without a request a second custodian approved, though the case's policy requires one", ev.Case)
	}
	return nil
}
