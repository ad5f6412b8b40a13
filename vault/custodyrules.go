package vault

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault/idtoken"
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
//     case, or past the request's expiry, or on a request asked before a
//     legal hold placed since (lifted or not), or while its requester is
//     not an active custodian;
//   - any of these, and a case's members added or removed, a hold placed
//     or lifted, a destruction requested or rejected, an export policy
//     set, by someone the log did not enroll as a custodian (a view: as
//     an investigator or analyst; a package sealed: as a custodian or an
//     investigator assigned to the case), under another role than the
//     log enrolled them in, or suspended or removed at that position;
//   - an item viewed (item.accessed) as an item of another case than the
//     one it was deposited in (or of none, or never deposited), after
//     its case's destruction was approved, or by anyone but an
//     investigator or analyst assigned to its case at that position;
//   - two people for every grant of power (custodyrules_requests.go): a
//     request opened by someone who may not ask it, without the case or
//     person its kind needs, or for longer than the request TTL; decided
//     when not pending; approved expired, by its requester or by someone
//     not an active custodian, or while its requester is not active; an
//     approval not followed at once by the decision it approved, by its
//     approver, for its case and person, doing what it asked; a package
//     of another case's items, for someone not an active recipient, or to
//     another recipient than theirs; a decision that grants
//     power (an assignment, an enrolment, a reinstatement, a credential
//     re-issued, a recipient or receipt key replaced, an export approval
//     dropped, a package of a case that requires approval, a hash set
//     imported where the start required approval) without an approved
//     request; the server's own enrolments after people acted, beyond
//     the first two custodians;
//   - an act in a session the log did not open for its actor, or more
//     than a week after the session ended or expired, or of a local or
//     OpenID sign-in without a session (custodyrules_sessions.go);
//   - in a log that runs requests: a case opened again or with others
//     than its opener assigned, an item deposited again, and any other
//     act of a person the log did not enroll in that role, or had
//     suspended or removed (standing).
//
// Its memory is a few entries a case (holds, members, destruction
// requests) and a person, the pending requests, and one an item (its
// case), not an entry an event. What it keeps of an event's strings it
// copies (strings.Clone): the audit engine's events share one
// allocation (events.ParseCanonicalPacked), which a kept name would
// otherwise keep whole. The zero value is ready; it is not safe for
// concurrent use.
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

	// The two-person requests (custodyrules_requests.go): those pending,
	// by id; the approval just read, whose decision must come next;
	// whether the log runs requests yet; the request TTL and the
	// hash-set approval of the last start; each person's registered
	// package recipient, and who has registered a receipt key.
	requests        map[string]*ruleRequest
	approved        *ruleApproval
	requestsRun     bool
	personActed     bool // an event's actor was a person, not the system
	requestTTL      time.Duration
	sessionTTL      time.Duration // the last start's session TTL
	hashSetApproval bool
	// hashSetRemovals: the last start removed hash sets on requests
	// under hashSetApproval (startedHashSetRemoval; since 2026-12-07).
	hashSetRemovals bool
	// classificationRequests: a start recorded that lowering a case's
	// classification policy is a request (since 2026-12-07); from it on,
	// for good, a lowering names the request it carries out.
	classificationRequests bool
	// requestCAs: a start recorded that requests asked with a client
	// certificate record its CAs (startedRequestCAs); for good.
	requestCAs bool
	// approvalCAs: a start recorded that approvals given with a client
	// certificate record its CAs (startedApprovalCAs); for good.
	approvalCAs bool
	// idTokens: a start recorded that OpenID sign-ins record their ID
	// token and key (startedIDTokens); for good. idTokenSeen are the
	// tokens recorded, by idtoken.Digest, until their exp.
	idTokens    bool
	idTokenSeen map[string]time.Time
	idKeys      idtoken.Keys // the providers' keys, parsed once
	// localOff and noClientCAs: the last start recorded local_accounts
	// off, or no client CA (client_ca_sha256), in the configuration it
	// records (since 2026-12-05): the server signs no one in that way
	// until a start that says otherwise.
	localOff, noClientCAs bool
	// identity: the identity sources as the vault's state holds them
	// (identitysources.go): guarded and keys pinned from the starts
	// that said so, those accepted (the guarding start's own, and each
	// identity.source.accepted).
	identity    identitySources
	recipients  map[string]string
	receiptKeys map[string]bool

	// sessions are the sessions the log opened, until a week after they
	// ended or expired (custodyrules_sessions.go); opens counts their
	// openings, to prune them now and then.
	sessions map[string]*ruleSession
	opens    int

	// reports are the reports the log received (custodyrules_reports.go);
	// hotlineRules: the newest hotline_rules a start recorded
	// (startedHotlineRules), for good; "" before any did.
	reports      map[string]*ruleReport
	hotlineRules string
	// unread is the first error a rule met decoding the data of the
	// event Check reads (ruleData).
	unread error
	// heldByMatch are the items whose deposit matched a known-illegal
	// hash-set entry (which), until a not-illegal vote on them
	// (knownMatch).
	heldByMatch map[string]*matchHold
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
		caseID = strings.Clone(caseID)
		r.caseIDs = append(r.caseIDs, caseID)
		r.caseIndex[caseID] = i
	}
	r.items[strings.Clone(item)] = i
}

// rulePerson is what the rules keep of a person.
type rulePerson struct {
	role               string
	suspended, removed bool
	// invitation is the person's invitation not yet redeemed, if any.
	invitation *ruleInvitation
	// oidc is the identity-provider value they were enrolled with (""
	// : their name).
	oidc string
}

// ruleInvitation is an invitation as its enrolment or re-issue and the
// approval before it recorded it: its id (the request's), until when it
// may be redeemed, the identity sources its two custodians went through
// (ruleApproval.via), and the first of them retired since (void).
type ruleInvitation struct {
	id      string
	expires time.Time
	via     []string
	void    string
}

// invitationOf is the invitation an enrolment or re-issue ev records
// (id, expires), approved by approved; nil if it records none.
func invitationOf(id, expires string, approved *ruleApproval) *ruleInvitation {
	if id == "" {
		return nil
	}
	inv := &ruleInvitation{id: strings.Clone(id)}
	inv.expires, _ = time.Parse(time.RFC3339, expires) // zero: the replay refuses it
	if approved != nil && approved.id == id {
		inv.via = approved.via
	}
	return inv
}

// issueInvitation gives name the invitation of an enrolment or re-issue
// (invitationOf), void from the start if a source it went through was
// retired already (an approval through one is a finding of its own).
func (r *CustodyRules) issueInvitation(p *rulePerson, inv *ruleInvitation) {
	if inv != nil {
		inv.void = r.identity.retiredOf(inv.via)
	}
	p.invitation = inv
}

// ruleCase is what the rules keep of a case.
type ruleCase struct {
	members   map[string]bool
	heldAt    uint64 // the hold's case.hold.placed, while it stands
	held      bool
	destroyed uint64 // the case.destruction.approved, once approved
	requests  map[string]*ruleDestruction
	// exportApproval: the case's packages need a second custodian's
	// approval (case.policy.set other than "none").
	exportApproval bool
	// votes is the case's last case.classification.policy (0: none,
	// the default of 1).
	votes int
}

// votesNeeded is the agreeing votes that settle a category in the case.
func (c *ruleCase) votesNeeded() int { return votesOf(c.votes) }

// votesOf reads a case.classification.policy's votes as the vault does
// (State.votesNeeded): below 1, the default of 1.
func votesOf(n int) int { return max(n, 1) }

// ruleDestruction is a pending destruction request of a case: who asked,
// and until when it may be approved (zero: recorded by a release that
// set no expiry).
type ruleDestruction struct {
	by      string
	expires time.Time
	// heldAfter is the case.hold.placed recorded while it was pending
	// (0: none), which voids it (DestructionRequest.HeldAfter).
	heldAfter uint64
	// via are the identity sources the requester's OpenID session went
	// through (ruleSession.oidc); retired is set by the retirement of
	// one while it waits, which voids it (DestructionRequest.Retired).
	via     []string
	retired string
	// unfit is as ruleRequest's: its certificate's recorded CAs are
	// wrong, which makes it void.
	unfit string
}

// ruleTypes are the event types the rules read.
var ruleTypes = map[string]bool{
	TypePersonEnrolled: true, TypePersonSuspended: true, TypePersonReinstated: true, TypePersonRemoved: true,
	TypeCaseOpened: true, TypeCaseMemberAdded: true, TypeCaseMemberRemoved: true,
	TypeCaseHoldPlaced: true, TypeCaseHoldLifted: true,
	TypeDestructionRequested: true, TypeDestructionRejected: true, TypeDestructionApproved: true,
	TypeItemDeposited: true, TypeItemAccessed: true, TypeDepositSkipped: true, TypeItemClassified: true,
	TypeServerStarted: true, TypeRequestOpened: true, TypeRequestApproved: true, TypeRequestRejected: true,
	TypeCredentialReissued: true, TypeCredentialIssued: true, TypeRecipientSet: true, TypeReceiptKeySet: true, TypeCasePolicySet: true,
	TypePackageSealing: true, TypeHashSetImported: true, TypeHashSetRemoved: true, TypeClassificationPolicySet: true,
	TypeIdentitySourceAccepted: true, TypeIdentitySourceRetired: true,
	TypeReportReceived: true, TypeReportAssessing: true, TypeReportClosed: true, TypeReportReopened: true,
	TypeNoticeSent: true, TypeNoticeAcknowledged: true, TypeContentRemoved: true, TypeReportForwarded: true,
}

// RuleBroken is an event the rules did not allow at its position.
type RuleBroken struct {
	Seq    uint64
	Reason string
	// ofSession: a rule of sessions (custodyrules_sessions.go).
	ofSession bool
}

func (e *RuleBroken) Error() string {
	return fmt.Sprintf("event %d: %s", e.Seq, e.Reason)
}

// Check reads ev, the log's next event, and returns a *RuleBroken if
// the rules did not allow it there (one for the position, naming each
// rule it broke). Of most events the rules read only the session they
// name, and whether they follow an approval; a case's events other
// than a view pass where the log never opened the case (the vault's own
// replay refuses them).
func (r *CustodyRules) Check(ev *events.Event) error {
	r.unread = nil
	err := r.check1(ev)
	if r.unread != nil && r.reportRules() {
		// Data a rule could not read by the grammar every reader
		// applies (custody-log.md section 12): a member that differs
		// from one it reads only in case, a member given twice, a
		// value of another type. Skipped, it would let such an event
		// pass a rule it was made to dodge.
		unread := r.broken(ev, "its data does not read by the grammar of custody-log.md section 12 (%v): a vault writes none such", r.unread)
		if err == nil {
			return unread
		}
		return bothFindings(err, unread)
	}
	return err
}

// ruleData is data[T] for the rules: data that does not decode is
// noted (r.unread), for Check to make it a finding from the start that
// records hotline_rules 2026-12-08.
func ruleData[T any](r *CustodyRules, ev *events.Event) (T, error) {
	d, err := data[T](ev)
	if err != nil && r.unread == nil {
		r.unread = err
	}
	return d, err
}

// check1 is Check, but for the grammar of the data its rules read.
func (r *CustodyRules) check1(ev *events.Event) error {
	if r.cases == nil {
		r.cases = map[string]*ruleCase{}
		r.items, r.caseIndex = map[string]uint32{}, map[string]uint32{}
		r.persons = map[string]*rulePerson{}
		r.requests, r.recipients, r.receiptKeys = map[string]*ruleRequest{}, map[string]string{}, map[string]bool{}
		r.sessions = map[string]*ruleSession{}
	}
	// Whoever acts in a session acts in one the log opened for them.
	var named error
	if a := ev.Actor; a.Session != "" || a.Auth == "local" || a.Auth == "oidc" || a.Auth == "certificate" || ev.Type == TypeSessionEnded {
		named = r.session(ev)
	}
	err := r.checkOrdered(ev)
	switch {
	case err == nil:
		return named
	case named != nil:
		return bothFindings(err, named)
	}
	return err
}

// bothFindings is one finding naming the reasons of two at a position:
// an auditor who accepts it (--accept-finding) has read both. (Apart
// from Check, so that a position without two findings allocates
// nothing.)
func bothFindings(a, b error) error {
	var ra, rb *RuleBroken
	if errors.As(a, &ra) && errors.As(b, &rb) {
		ra.Reason += "; and " + rb.Reason
	}
	return a
}

// checkOrdered is Check of ev, but for its session: an approval is
// appended with its decision (the event after it), and whatever follows
// it is read against it.
func (r *CustodyRules) checkOrdered(ev *events.Event) error {
	approved := r.approved
	r.approved = nil
	if ev.Actor.Role != RoleSystem {
		r.personActed = true
	}
	if !ruleTypes[ev.Type] {
		if approved != nil {
			return approved.notFollowed(ev)
		}
		return r.standing(ev) // most of a log: two lookups, no allocation
	}
	if approved != nil && decisionTypes[ev.Type] == "" {
		err := r.check(ev, nil)
		if nf := approved.notFollowed(ev); nf != nil {
			return nf
		}
		return err
	}
	return r.check(ev, approved)
}

// check is Check of an event the rules read; approved is the approval
// just before it, if ev is a decision a request may name.
func (r *CustodyRules) check(ev *events.Event, approved *ruleApproval) error {
	finding := r.decision(ev, approved)
	switch ev.Type {
	case TypeServerStarted:
		r.started(ev)
		return r.badHotlineRules(ev)
	case TypePersonEnrolled:
		// A re-enrolment (logs before requests) starts the person anew,
		// as the vault's replay does; a log that runs requests enrols a
		// name once.
		if d, err := ruleData[PersonEnrolled](r, ev); err == nil {
			if r.requestsRun && r.persons[d.Name] != nil && finding == nil {
				finding = r.broken(ev, "%s was enrolled again, as %s: a name the log enrolled (and one it removed) is never enrolled again", d.Name, d.Role)
			}
			// As the vault's replay: the recipient stays, the receipt
			// key and the sessions end.
			p := &rulePerson{role: d.Role, oidc: d.OIDC}
			r.issueInvitation(p, invitationOf(d.Invitation, d.Expires, approved))
			r.persons[d.Name] = p
			delete(r.receiptKeys, d.Name)
			r.endSessionsOf(d.Name, ev)
		}
		return finding
	case TypePersonSuspended, TypePersonReinstated, TypePersonRemoved:
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" && finding == nil && r.requestsRun {
			finding = r.broken(ev, "%s was recorded %s", ev.Type, why)
		}
		if d, err := ruleData[PersonStatus](r, ev); err == nil {
			if p := r.persons[d.Name]; p != nil {
				switch ev.Type {
				case TypePersonSuspended:
					p.suspended = true
					r.endSessionsOf(d.Name, ev)
				case TypePersonReinstated:
					p.suspended = false
				default:
					p.removed = true
					r.endSessionsOf(d.Name, ev)
				}
			}
		}
		return finding
	case TypeCredentialReissued:
		if d, err := ruleData[CredentialReissued](r, ev); err == nil {
			r.endSessionsOf(d.Name, ev)
			if p := r.persons[d.Name]; p != nil {
				r.issueInvitation(p, invitationOf(d.Invitation, d.Expires, approved))
			}
		}
		return finding
	case TypeCredentialIssued:
		return r.redeemed(ev)
	case TypeRecipientSet, TypeReceiptKeySet:
		if ev.Type == TypeReceiptKeySet && finding == nil && !keyOwnFingerprint(ev) {
			finding = r.broken(ev, "a receipt key was recorded with a fingerprint that is not its own")
		}
		r.registered(ev)
		return finding
	case TypeHashSetRemoved:
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" {
			return r.broken(ev, "a hash set was removed %s", why)
		}
		return finding
	case TypeIdentitySourceAccepted:
		r.sourceAccepted(ev)
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" && finding == nil {
			return r.broken(ev, "an identity source was accepted %s", why)
		}
		return finding
	case TypeIdentitySourceRetired:
		if d, err := ruleData[IdentitySourceRetired](r, ev); err == nil {
			r.identity.retire(d.Source, ev.Seq)
			r.endSessionsThrough(d.Source, ev)
		}
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" && finding == nil {
			return r.broken(ev, "an identity source was retired %s", why)
		}
		return finding
	case TypeRequestOpened, TypeRequestApproved, TypeRequestRejected:
		return r.request(ev)
	case TypeReportReceived, TypeReportAssessing, TypeReportClosed, TypeReportReopened,
		TypeNoticeSent, TypeNoticeAcknowledged, TypeContentRemoved, TypeReportForwarded:
		return r.report(ev, finding)
	}
	if ev.Type == TypeCaseOpened {
		d, err := ruleData[CaseOpened](r, ev)
		if err != nil {
			return nil
		}
		if r.requestsRun && r.cases[ev.Case] != nil {
			// A vault opens a case id once (OpenCase): a second opening
			// would wipe its hold, policy, destruction and members.
			return r.broken(ev, "case %s was opened again: a vault opens a case once, and an opening anew would undo its hold, export policy, destruction and assignments", ev.Case)
		}
		if r.requestsRun && (len(d.Members) != 1 || d.Members[0] != ev.Actor.Person) {
			// Its opener alone is assigned at the opening; everyone
			// else on a request a second custodian approves.
			return r.broken(ev, "case %s was opened with members %q: a case is opened with its opener alone assigned", ev.Case, d.Members)
		}
		c := &ruleCase{members: map[string]bool{}, requests: map[string]*ruleDestruction{}}
		for _, m := range d.Members {
			c.members[m] = true
		}
		r.cases[strings.Clone(ev.Case)] = c
		return nil
	}
	if ev.Type == TypeItemDeposited {
		if dep, ok := r.itemCase(ev.Item); ok {
			// The log records each item once (the vault's replay relies
			// on it): a second deposit would move it to another case.
			return r.broken(ev, "item %s was deposited again (in case %q); the log deposited it in case %s", ev.Item, ev.Case, dep)
		}
		if err := r.capturedFor(ev); err != nil && finding == nil {
			finding = err
		}
	}
	if ev.Type == TypeItemAccessed || ev.Type == TypeItemClassified {
		// A view or a vote names the case its item was deposited in,
		// and a case the log opened: the rules below are that case's
		// (a vote filed under another case would be counted under that
		// case's classification policy).
		what := "viewed"
		if ev.Type == TypeItemClassified {
			what = "classified"
		}
		switch dep, ok := r.itemCase(ev.Item); {
		case !ok:
			return r.broken(ev, "item %s was %s, but the log never deposited it", ev.Item, what)
		case dep != ev.Case:
			return r.broken(ev, "item %s was %s as an item of case %q, but it was deposited in case %s", ev.Item, what, ev.Case, dep)
		}
	}
	if ev.Type == TypeItemDeposited || r.heldByMatch != nil {
		// (Views of a log without a match at deposit pass by at the
		// cost of this test.)
		if f := r.knownMatch(ev); f != nil && finding == nil {
			finding = f
		}
	}
	c := r.cases[ev.Case]
	if c == nil {
		return finding
	}
	switch ev.Type {
	case TypeCaseMemberAdded, TypeCaseMemberRemoved, TypeCaseHoldPlaced, TypeCaseHoldLifted,
		TypeDestructionRequested, TypeDestructionRejected, TypeDestructionApproved, TypeClassificationPolicySet:
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" {
			return r.broken(ev, "%s of case %s was recorded %s", ev.Type, ev.Case, why)
		}
		if ev.Type == TypeCaseMemberAdded && r.requestsRun && finding == nil {
			// Only investigators and analysts handle evidence
			// (memberAddable), and only active ones are assigned.
			if d, err := ruleData[MemberAdded](r, ev); err == nil {
				if !r.active(d.Person, RoleInvestigator) && !r.active(d.Person, RoleAnalyst) {
					finding = r.broken(ev, "%s was assigned to case %s, but the log did not enroll them as an active investigator or analyst", d.Person, ev.Case)
				}
			}
		}
	case TypeItemAccessed:
		if why := r.cannotAct(ev, "an investigator or analyst", RoleInvestigator, RoleAnalyst); why != "" {
			return r.broken(ev, "item %s was viewed %s", ev.Item, why)
		}
	case TypeItemClassified:
		// A vote is an investigator's or an analyst's (Classify), and
		// counts towards what settles the item's category.
		if why := r.cannotAct(ev, "an investigator or analyst", RoleInvestigator, RoleAnalyst); why != "" {
			return r.broken(ev, "a vote on item %s's category was recorded %s", ev.Item, why)
		}
		if r.reportRules() {
			// For one of the categories (Categories), as Classify takes.
			if d, err := ruleData[ItemClassified](r, ev); err == nil && !slices.Contains(Categories, d.Category) {
				return r.broken(ev, "a vote on item %s's category was recorded for %q, which is none of %s", ev.Item, d.Category, strings.Join(Categories, ", "))
			}
		}
	case TypeDepositSkipped:
		if why := r.cannotAct(ev, "an investigator or analyst", RoleInvestigator, RoleAnalyst); why != "" {
			return r.broken(ev, "what a deposit to case %s skipped was stated %s", ev.Case, why)
		}
	case TypePackageSealing:
		if finding == nil {
			finding = r.sealing(ev, c)
		}
	case TypeCasePolicySet:
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" {
			return r.broken(ev, "case %s's export policy was set %s", ev.Case, why)
		}
		if d, err := ruleData[CasePolicySet](r, ev); err == nil {
			// As the vault reads it: only "none" drops the approval.
			c.exportApproval = d.ExportApproval != ExportApprovalNone
		}
	}
	switch ev.Type {
	case TypeItemDeposited:
		r.deposited(ev.Item, ev.Case)
	case TypeCaseMemberAdded:
		if d, err := ruleData[MemberAdded](r, ev); err == nil {
			c.members[d.Person] = true
		}
	case TypeCaseMemberRemoved:
		if d, err := ruleData[MemberRemoved](r, ev); err == nil {
			delete(c.members, d.Person)
		}
	case TypeClassificationPolicySet:
		if d, err := ruleData[ClassificationPolicySet](r, ev); err == nil {
			c.votes = d.Votes
		}
	case TypeCaseHoldPlaced:
		c.held, c.heldAt = true, ev.Seq
		for _, dr := range c.requests {
			if dr.heldAfter == 0 && (dr.expires.IsZero() || !ev.Timestamp().After(dr.expires.Add(expirySlack))) {
				dr.heldAfter = ev.Seq
			}
		}
	case TypeCaseHoldLifted:
		c.held = false
	case TypeDestructionRequested:
		if d, err := ruleData[DestructionRequested](r, ev); err == nil {
			// A request recorded without an expiry (releases before
			// 2026-12-02, which let one wait for ever) has none here.
			exp, _ := time.Parse(time.RFC3339, d.Expires)
			now := ev.Timestamp()
			for id, dr := range c.requests {
				if !dr.expires.IsZero() && now.After(dr.expires.Add(expirySlack)) {
					delete(c.requests, id) // ended unanswered
				}
			}
			if !exp.IsZero() && r.requestTTL > 0 && exp.Sub(now) > r.requestTTL+expirySlack {
				return r.broken(ev, "case %s's destruction request %s lasts until %s, longer than the request TTL of %s the vault's last start recorded", ev.Case, d.Request, d.Expires, r.requestTTL)
			}
			dr := &ruleDestruction{by: strings.Clone(ev.Actor.Person), expires: exp, via: r.askedThrough(ev, d.ClientCAs)}
			dr.retired = r.identity.retiredOf(dr.via)
			c.requests[d.Request] = dr
			if dr.retired != "" {
				return r.broken(ev, "case %s's destruction request %s was asked by %s signed in through the identity source %s, which two custodians had retired: it signs no one in", ev.Case, d.Request, dr.by, dr.retired)
			}
			if why := r.certificateAsk(ev, d.ClientCAs, r.requestCAs, startedRequestCAs); why != "" {
				dr.unfit = why
				return r.broken(ev, "case %s's destruction request %s %s", ev.Case, d.Request, why)
			}
		}
	case TypeDestructionRejected:
		if d, err := ruleData[DestructionRejected](r, ev); err == nil {
			delete(c.requests, d.Request)
		}
	case TypeDestructionApproved:
		d, err := ruleData[DestructionApproved](r, ev)
		if err != nil {
			return nil
		}
		dr := c.requests[d.Request]
		switch {
		case c.held:
			return r.broken(ev, "case %s's destruction was approved while the legal hold placed at event %d stood: nothing of a case is destroyed under a hold", ev.Case, c.heldAt)
		case dr == nil:
			return r.broken(ev, "case %s's destruction was approved on request %q, which was not pending for it", ev.Case, d.Request)
		case dr.by == ev.Actor.Person:
			return r.broken(ev, "case %s's destruction was approved by %s, who asked for it: a second custodian approves", ev.Case, ev.Actor.Person)
		case dr.heldAfter != 0:
			return r.broken(ev, "case %s's destruction was approved on request %s, asked before the legal hold placed at event %d: a hold voids the destruction requests waiting, and lifting it does not bring them back", ev.Case, d.Request, dr.heldAfter)
		case !dr.expires.IsZero() && ev.Timestamp().After(dr.expires.Add(expirySlack)):
			return r.broken(ev, "case %s's destruction was approved on request %s, which had expired at %s", ev.Case, d.Request, dr.expires.Format(time.RFC3339))
		case dr.retired != "":
			return r.broken(ev, "case %s's destruction was approved on request %s, but %s asked for it signed in through the identity source %s, which two custodians retired while it waited", ev.Case, d.Request, dr.by, dr.retired)
		case dr.unfit != "":
			return r.broken(ev, "case %s's destruction was approved on request %s, which %s", ev.Case, d.Request, dr.unfit)
		case !r.active(dr.by, RoleCustodian):
			return r.broken(ev, "case %s's destruction was approved on request %s, but its requester %s is no longer an active custodian", ev.Case, d.Request, dr.by)
		}
		c.destroyed, c.requests = ev.Seq, map[string]*ruleDestruction{}
	case TypeItemAccessed, TypeItemClassified:
		// A view and a vote alike: by a member, of a case not destroyed
		// (the words built only for a finding: views are most of a log).
		what := func() (string, string) {
			if ev.Type == TypeItemClassified {
				return "a vote on item " + ev.Item + "'s category was recorded", ": only the case's investigators and analysts vote"
			}
			return "item " + ev.Item + " was viewed", ""
		}
		switch {
		case c.destroyed != 0:
			act, _ := what()
			return r.broken(ev, "%s after the destruction of its case %s was approved (event %d)", act, ev.Case, c.destroyed)
		case !c.members[ev.Actor.Person]:
			act, only := what()
			return r.broken(ev, "%s by %s, who was not assigned to case %s at that position%s", act, ev.Actor.Person, ev.Case, only)
		}
	case TypeDepositSkipped:
		// The depositor's statement, as a deposit: by a member, of a
		// case not destroyed.
		switch {
		case c.destroyed != 0:
			return r.broken(ev, "what a deposit to case %s skipped was stated after its destruction was approved (event %d)", ev.Case, c.destroyed)
		case !c.members[ev.Actor.Person]:
			return r.broken(ev, "what a deposit to case %s skipped was stated by %s, who was not assigned to it at that position", ev.Case, ev.Actor.Person)
		}
	}
	return finding
}

// afterTheAct are the events a person's act records once it is done (a
// deposit's, a view's or a fetch's end, a package's file, a scrub's
// outcome, a destruction carried out), which may come after a
// suspension that came while it ran; and a refusal, which records
// whoever tried. standing does not read them.
var afterTheAct = map[string]bool{
	TypeAccessRefused: true, TypeItemDeposited: true, TypeItemAccessCompleted: true, TypePackageSealed: true,
	TypePackageFetchDone: true, TypeCaseDestroyed: true, TypeAuditScrubbed: true, TypeSessionEnded: true,
	TypeIntegrityFailed: true, TypeObjectsSwept: true, TypeObjectsRetained: true,
}

// standing is the rule of every other act of a person, in a log that
// runs requests: by someone the log enrolled, under that role, neither
// suspended nor removed (the vault refuses them all else, and records
// the refusal instead).
func (r *CustodyRules) standing(ev *events.Event) error {
	a := ev.Actor
	if !r.requestsRun || a.Person == "" || a.Role == RoleSystem || a.Role == "public" || afterTheAct[ev.Type] {
		return nil
	}
	if why := r.cannotAct(ev, ""); why != "" {
		return r.broken(ev, "%s %s", ev.Type, why)
	}
	return nil
}

// broken is a *RuleBroken at ev.
func (r *CustodyRules) broken(ev *events.Event, format string, args ...any) error {
	return &RuleBroken{Seq: ev.Seq, Reason: fmt.Sprintf(format, args...)}
}

// cannotAct says why ev's actor could not act as it does: not a person
// the log enrolled in one of roles (who words them; no roles: in any
// role), enrolled under another role than the event names, suspended or
// removed ("" if they could).
func (r *CustodyRules) cannotAct(ev *events.Event, who string, roles ...string) string {
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
	case len(roles) > 0 && !slices.Contains(roles, p.role):
		return fmt.Sprintf("by %s, %s: only %s does it", ev.Actor.Person, article(p.role), who)
	}
	return ""
}

// article is role with its indefinite article: "a custodian", "an
// analyst".
func article(role string) string {
	if role != "" && strings.ContainsRune("aeiou", rune(role[0])) {
		return "an " + role
	}
	return "a " + role
}

// active reports whether the log enrolled name in role and they are
// neither suspended nor removed.
func (r *CustodyRules) active(name, role string) bool {
	p := r.persons[name]
	return p != nil && p.role == role && !p.suspended && !p.removed
}
