package vault

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/strictjson"
	"golang.org/x/crypto/ssh"
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
	params     json.RawMessage // what was asked, as request.opened recorded it
	// via are the identity sources the requester's OpenID session went
	// through (ruleSession.oidc); retired is set by the retirement of
	// one while the request waits, which voids it.
	via     []string
	retired string
	// unfit is why its asker's certificate's recorded CAs do not show
	// it signed in through an accepted one (certificateAsk): a finding
	// at its opening, and void, so its approval is one too.
	unfit string
}

// ruleApproval is a request.approved, read against the event after it.
type ruleApproval struct {
	seq                  uint64
	id, kind, caseID, by string
	target               string
	params               json.RawMessage
	// unknown: it approved no pending request, or not as opened (its
	// finding); the decision after it is not read against it.
	unknown bool
	// requester is who opened the request.
	requester string
	// via are the identity sources its requester and its approver went
	// through: an invitation it issues is void once one is retired.
	via []string
}

// union is a with those of b it lacks appended (a new slice).
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// expirySlack is how far the rules let an event's time stray from a
// request's expiry, either way: the vault decides by its clock when it
// checks, and a clock stepped between that and the event's time is not
// a forgery (as a package's verifier allows, pkgformat's approvalSlack).
const expirySlack = time.Minute

// decisionTypes are the events that carry out an approved request, each
// with the request kind that asks for it. Outside a request, some are
// direct decisions of their own (a first recipient, a stricter policy,
// a package of a case without the approval policy, a classification
// policy raised).
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
	TypeHashSetRemoved:     KindHashSetRemove,
	// (since 2026-12-07: CustodyRules.classificationRequests)
	TypeClassificationPolicySet: KindClassificationPolicy,
	// (since 2026-12-07: identity sources, identitysources.go)
	TypeIdentitySourceAccepted: KindIdentitySource,
	TypeIdentitySourceRetired:  KindIdentitySourceRetire,
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
	Recipient      string `json:"recipient"`
	RequestedBy    string `json:"requested_by"`
	Votes          int    `json:"votes"`
}

// notFollowed is the finding of an approval not followed by its
// decision: ev, the event after it, is not the decision it approved.
func (a *ruleApproval) notFollowed(ev *events.Event) error {
	if a.unknown {
		return nil
	}
	return &RuleBroken{Seq: ev.Seq, Reason: "request " + a.id + " was approved at event " + strconv.FormatUint(a.seq, 10) +
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

// started reads a server.started: from a start that records its request
// TTL (since 2026-12-05) on, the log runs requests; its TTL and hash-set
// approval hold until the next start. An offline command's records
// none and changes none.
func (r *CustodyRules) started(ev *events.Event) {
	d, err := data[map[string]string](ev)
	if err != nil || d[startedRun] != "" {
		return
	}
	if local, ok := d["local_accounts"]; ok {
		// A start that records how it signs people in (since
		// 2026-12-05): the ways it does not are closed until the next.
		r.localOff, r.noClientCAs = local == "off", d["client_ca_sha256"] == ""
	}
	if ttl, err := time.ParseDuration(d["request_ttl"]); err == nil && ttl > 0 {
		r.requestsRun, r.requestTTL = true, ttl
	}
	if ttl, err := time.ParseDuration(d["session_ttl"]); err == nil && ttl > 0 {
		r.sessionTTL = ttl
	}
	r.hashSetApproval = d["hashset_approval"] == "required"
	// Removals are requests under it from the builds that say so
	// (since 2026-12-07).
	r.hashSetRemovals = d[startedHashSetRemoval] == "request"
	if d[startedRequestCAs] == "recorded" {
		r.requestCAs = true // for good, as classificationRequests
	}
	if d[startedApprovalCAs] == "recorded" {
		r.approvalCAs = true // for good
	}
	if d[startedIDTokens] == "recorded" {
		r.idTokens = true // for good
	}
	if v := hotlineRulesOf(d); v > r.hotlineRules {
		r.hotlineRules = v // for good, as below: the newest a start recorded
	}
	if d[startedClassificationLowering] == "request" {
		// For good: a later start that does not say so (an older
		// release) does not let one custodian lower a policy.
		r.classificationRequests = true
	}
	// For good, as the vault's state: the first start that guards
	// identity sources accepts its own, and so on.
	r.identity.started(ev.Seq, d)
}

// sourceAccepted notes the source an identity.source.accepted accepts
// (Check reads the decision first).
func (r *CustodyRules) sourceAccepted(ev *events.Event) {
	if d, err := ruleData[IdentitySourceAccepted](r, ev); err == nil {
		r.identity.accept(d.Source, ev.Seq)
	}
}

// registered notes whose recipient or receipt key a recipient.set or
// receipt.key.set registers, and the recipient (Check reads the decision
// first).
func (r *CustodyRules) registered(ev *events.Event) {
	d, err := ruleData[decisionData](r, ev)
	if err != nil {
		return
	}
	who := d.Person
	if who == "" {
		who = strings.Clone(ev.Actor.Person)
	}
	if r.persons[who] == nil {
		return // the vault's state keeps none for a name it never enrolled
	}
	if ev.Type == TypeRecipientSet {
		r.recipients[who] = d.Recipient
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
	KindClassificationPolicy: {RoleCustodian}, KindHashSetRemove: {RoleCustodian}, KindIdentitySource: {RoleCustodian},
	KindIdentitySourceRetire: {RoleCustodian},
	KindSeal:                 {RoleInvestigator, RoleCustodian},
	KindRecipient:            {RoleProsecutor, RoleDefence}, KindReceiptKey: {RoleProsecutor, RoleDefence},
}

// request reads a request.opened, request.approved or request.rejected.
// A rejection takes no power: it must end a pending request as opened,
// by its requester (a withdrawal) or an active custodian, whenever it
// comes (releases before 2026-12-05 let one end a request that had
// expired, or whose requester had been suspended).
func (r *CustodyRules) request(ev *events.Event) error {
	if ev.Type == TypeRequestOpened {
		return r.opened(ev)
	}
	d, err := ruleData[RequestDecided](r, ev)
	if err != nil {
		return nil
	}
	q := r.requests[d.Request]
	delete(r.requests, d.Request)
	approver := strings.Clone(ev.Actor.Person) // kept until the next event, and by an audit's end
	verb := "approved"
	if ev.Type == TypeRequestRejected {
		verb = "rejected"
	}
	switch {
	case q == nil:
		if ev.Type == TypeRequestApproved {
			r.approved = &ruleApproval{seq: ev.Seq, id: d.Request, by: approver, unknown: true}
		}
		return r.broken(ev, "request %s was %s, but the log holds no pending request of that id (never opened, decided already, or expired unanswered)", d.Request, verb)
	case d.Kind != q.kind || d.RequestedBy != q.by:
		if ev.Type == TypeRequestApproved {
			r.approved = &ruleApproval{seq: ev.Seq, id: d.Request, by: approver, unknown: true}
		}
		return r.broken(ev, "request %s was %s as a %s request by %s; it was opened as a %s request by %s", d.Request, verb, d.Kind, d.RequestedBy, q.kind, q.by)
	}
	if ev.Type == TypeRequestRejected {
		if ev.Actor.Person == q.by {
			return nil // withdrawn by its requester
		}
		if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" {
			return r.broken(ev, "request %s was rejected %s", d.Request, why)
		}
		return nil
	}
	// The decision that follows is read against the approval whatever
	// is found of the approval itself: one finding, not two.
	approvedVia := r.askedThrough(ev, d.ClientCAs)
	r.approved = &ruleApproval{seq: ev.Seq, id: d.Request, kind: q.kind, caseID: q.caseID, by: approver, target: q.target, params: q.params, requester: q.by,
		via: union(q.via, approvedVia)}
	if why := r.cannotAct(ev, "a custodian", RoleCustodian); why != "" {
		return r.broken(ev, "request %s was approved %s", d.Request, why)
	}
	if src := r.identity.retiredOf(approvedVia); src != "" {
		return r.broken(ev, "request %s was approved through the identity source %s, which two custodians had retired (in a session the retirement ended, or with a certificate of a retired CA)", d.Request, src)
	}
	if why := r.certificateAsk(ev, d.ClientCAs, r.approvalCAs, startedApprovalCAs); why != "" {
		return r.broken(ev, "the approval of request %s %s", d.Request, why)
	}
	switch {
	case ev.Actor.Person == q.by:
		return r.broken(ev, "request %s was approved by %s, who asked for it: a second custodian approves", d.Request, q.by)
	case ev.Timestamp().After(q.expires.Add(expirySlack)):
		return r.broken(ev, "request %s was approved after it expired at %s", d.Request, q.expires.Format(time.RFC3339))
	case !r.active(q.by, q.byRole):
		return r.broken(ev, "request %s was approved, but its requester %s is no longer an active %s", d.Request, q.by, q.byRole)
	case q.retired != "":
		return r.broken(ev, "request %s was approved, but %s asked for it signed in through the identity source %s, which two custodians retired while it waited", d.Request, q.by, q.retired)
	case q.unfit != "":
		return r.broken(ev, "request %s was approved, but it %s", d.Request, q.unfit)
	case q.kind == KindSeal && q.byRole == RoleInvestigator && !r.member(q.caseID, q.by):
		return r.broken(ev, "request %s to seal a package of case %s was approved, but its requester %s is no longer assigned to the case", d.Request, q.caseID, q.by)
	}
	return nil
}

// opened reads a request.opened: its requester may ask it, and it lasts
// no longer than the request TTL its start recorded.
func (r *CustodyRules) opened(ev *events.Event) error {
	r.requestsRun = true
	d, err := ruleData[RequestOpened](r, ev)
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
	q := &ruleRequest{kind: d.Kind, caseID: d.Case, target: d.Person, by: strings.Clone(ev.Actor.Person), byRole: strings.Clone(ev.Actor.Role), expires: exp, params: d.Params}
	q.via = r.askedThrough(ev, d.ClientCAs)
	q.retired = r.identity.retiredOf(q.via)
	if d.Kind == KindHashSetImport || d.Kind == KindHashSetRemove {
		var p struct {
			Name string `json:"name"`
		}
		if decodeParams(d.Params, &p) == nil {
			q.target = p.Name
		}
	}
	r.requests[d.Request] = q
	if roles, ok := openers[d.Kind]; ok {
		if why := r.cannotAct(ev, roleWords(roles), roles...); why != "" {
			return r.broken(ev, "request %s (%s) was opened %s", d.Request, d.Kind, why)
		}
	} else if why := r.cannotAct(ev, ""); why != "" {
		return r.broken(ev, "request %s (%s) was opened %s", d.Request, d.Kind, why)
	}
	if why := r.certificateAsk(ev, d.ClientCAs, r.requestCAs, startedRequestCAs); why != "" {
		q.unfit = why
		return r.broken(ev, "request %s (%s) %s", d.Request, d.Kind, why)
	}
	switch {
	case q.retired != "":
		// Kept, void: its approval is a finding too.
		return r.broken(ev, "request %s (%s) was asked by %s signed in through the identity source %s, which two custodians had retired: it signs no one in", d.Request, d.Kind, ev.Actor.Person, q.retired)
	case caseKinds[d.Kind] && d.Case == "":
		return r.broken(ev, "request %s (%s) names no case", d.Request, d.Kind)
	case personKinds[d.Kind] && q.target == "":
		return r.broken(ev, "request %s (%s) names no person", d.Request, d.Kind)
	case (d.Kind == KindRecipient || d.Kind == KindReceiptKey) && d.Person != ev.Actor.Person:
		return r.broken(ev, "request %s asks to replace the %s of %s, but %s asked: each person asks for their own", d.Request, d.Kind, d.Person, ev.Actor.Person)
	case d.Kind == KindSeal && ev.Actor.Role == RoleInvestigator && !r.member(d.Case, ev.Actor.Person):
		return r.broken(ev, "request %s asks to seal a package of case %s, by %s, an investigator not assigned to it", d.Request, d.Case, ev.Actor.Person)
	case r.requestTTL > 0 && exp.Sub(now) > r.requestTTL+expirySlack:
		// Not kept: a forged log of such requests would not make the
		// rules hold each for as long as it says.
		delete(r.requests, d.Request)
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

// caseKinds and personKinds are the request kinds that name a case and
// a person (a package's recipient, a hash set's name): a request of one
// that names none is not one a vault opens.
var (
	caseKinds   = map[string]bool{KindMember: true, KindPolicy: true, KindSeal: true, KindClassificationPolicy: true}
	personKinds = map[string]bool{KindEnroll: true, KindReissue: true, KindReinstate: true, KindMember: true,
		KindRecipient: true, KindReceiptKey: true, KindSeal: true, KindHashSetImport: true, KindHashSetRemove: true}
)

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
	d, err := ruleData[decisionData](r, ev)
	if err != nil {
		return nil
	}
	if d.Request == "" {
		if approved != nil {
			return approved.notFollowed(ev)
		}
		return r.unrequested(ev, d)
	}
	if approved != nil && approved.unknown && approved.id == d.Request && ev.Actor.Person == approved.by {
		return nil // the approval is the finding
	}
	target := d.Person
	switch ev.Type {
	case TypePersonEnrolled, TypeCredentialReissued, TypePersonReinstated, TypeHashSetImported, TypeHashSetRemoved:
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
	case ev.Case != approved.caseID:
		return r.broken(ev, "%s carries out request %s for case %q; it asked for case %q", ev.Type, d.Request, ev.Case, approved.caseID)
	case target != approved.target:
		return r.broken(ev, "%s carries out request %s for %q; it asked for %q", ev.Type, d.Request, target, approved.target)
	case d.RequestedBy != "" && d.RequestedBy != approved.requester:
		return r.broken(ev, "%s carries out request %s as asked by %q; %s asked", ev.Type, d.Request, d.RequestedBy, approved.requester)
	}
	if what := paramsDiffer(ev, kind, approved.params); what != "" {
		return r.broken(ev, "%s carries out request %s with another %s than it asked", ev.Type, d.Request, what)
	}
	if kind == KindClassificationPolicy {
		// A lowering changes the policy its request was asked under.
		var p classificationPolicyParams
		if c := r.cases[ev.Case]; c != nil && decodeParams(approved.params, &p) == nil && p.From != 0 && c.votesNeeded() != p.From {
			return r.broken(ev, "%s carries out request %s, asked to lower the case's classification policy from %s, but it was %s then", ev.Type, d.Request, agreeingVotes(p.From), agreeingVotes(c.votesNeeded()))
		}
	}
	return nil
}

// paramsDiffer compares a decision with the params its request
// recorded, by kind (requests.go writes them): the name of what differs,
// "" if nothing does. Kinds whose params the rules do not read compare
// nothing.
func paramsDiffer(ev *events.Event, kind string, params json.RawMessage) string {
	switch kind {
	case KindEnroll:
		var p enrollParams
		d, err := data[PersonEnrolled](ev)
		if err != nil {
			return ""
		}
		if decodeParams(params, &p) != nil {
			return "params (the request's do not read by the grammar of event data)"
		}
		switch {
		case d.Role != p.Role:
			return "role"
		case d.OIDC != p.OIDC || d.Certificate != p.Certificate:
			return "sign-in identity"
		}
	case KindRecipient:
		var p recipientParams
		if d, err := data[RecipientSet](ev); err == nil && (decodeParams(params, &p) != nil || d.Recipient != p.Recipient) {
			return "recipient"
		}
	case KindReceiptKey:
		var p receiptKeyParams
		if d, err := data[ReceiptKeySet](ev); err == nil && (decodeParams(params, &p) != nil || (d.Key != p.Key || d.Fingerprint != p.Fingerprint)) {
			return "receipt key"
		}
	case KindPolicy:
		var p policyParams
		if d, err := data[CasePolicySet](ev); err == nil && (decodeParams(params, &p) != nil || d.ExportApproval != p.ExportApproval) {
			return "export approval"
		}
	case KindClassificationPolicy:
		var p classificationPolicyParams
		if d, err := data[ClassificationPolicySet](ev); err == nil && (decodeParams(params, &p) != nil || d.Votes != p.Votes) {
			return "number of votes"
		}
	case KindIdentitySource:
		var p identitySourceParams
		if d, err := data[IdentitySourceAccepted](ev); err == nil && (decodeParams(params, &p) != nil || d.Source != p.Source) {
			return "identity source"
		}
	case KindIdentitySourceRetire:
		var p identitySourceParams
		if d, err := data[IdentitySourceRetired](ev); err == nil && (decodeParams(params, &p) != nil || d.Source != p.Source) {
			return "identity source"
		}
	case KindSeal:
		var p sealParams
		d, err := data[PackageSealing](ev)
		if err != nil {
			return ""
		}
		if decodeParams(params, &p) != nil {
			return "params (the request's do not read by the grammar of event data)"
		}
		switch {
		case d.Purpose != p.Purpose:
			return "purpose"
		case d.DisclosesOthers != p.DiscloseOthers:
			return "disclosure of other packages"
		case len(p.Items) > 0 && !slices.Equal(d.Items, p.Items):
			return "items"
		}
	case KindHashSetImport:
		var p hashSetParams
		d, err := data[HashSetImported](ev)
		if err != nil {
			return ""
		}
		if decodeParams(params, &p) != nil {
			return "params (the request's do not read by the grammar of event data)"
		}
		if d.SourceSHA256 != p.SourceSHA256 || d.Format != p.Format || d.Category != p.Category ||
			d.TableSHA256 != p.TableSHA256 || d.Imported != p.Imported || d.Rejected != p.Rejected {
			return "hash set file or table"
		}
	}
	return ""
}

// unrequested reads a decision that names no request: in a log that
// runs requests, a grant of power is one only if it takes none from a
// second custodian's hands.
func (r *CustodyRules) unrequested(ev *events.Event, d decisionData) error {
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
	case TypeHashSetRemoved:
		if r.hashSetApproval && r.hashSetRemovals {
			return r.broken(ev, "hash set %s was removed without a request a second custodian approved, though the vault's last start required one (hashset_approval)", d.Name)
		}
		return nil
	case TypePackageSealing:
		return nil // by its case's policy (sealing)
	case TypeClassificationPolicySet:
		c := r.cases[ev.Case]
		if r.classificationRequests && c != nil && votesOf(d.Votes) < c.votesNeeded() {
			return r.broken(ev, "case %s's classification policy was lowered from %s to %d without a request a second custodian approved", ev.Case, agreeingVotes(c.votesNeeded()), d.Votes)
		}
		return nil
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
		who := d.Person
		if who == "" {
			who = ev.Actor.Person
		}
		_, has := r.recipients[who]
		if ev.Type == TypeReceiptKeySet {
			has = r.receiptKeys[who]
		}
		switch {
		case has:
			return r.broken(ev, "%s's registered %s was replaced without a request a second custodian approved", who, ev.Type)
		case who != ev.Actor.Person:
			return r.broken(ev, "%s's first %s was registered by %s: each person registers their own", who, ev.Type, ev.Actor.Person)
		}
		if why := r.cannotAct(ev, "a prosecutor or defence counsel", RoleProsecutor, RoleDefence); why != "" {
			return r.broken(ev, "%s's first %s was registered %s", who, ev.Type, why)
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
	d, err := ruleData[PackageSealing](r, ev)
	if err != nil {
		return nil
	}
	for _, it := range d.Items {
		if dep, ok := r.itemCase(it); !ok || dep != ev.Case {
			return r.broken(ev, "a package of case %s was sealed with item %s, which the log did not deposit in that case", ev.Case, it)
		}
	}
	p := r.persons[d.For]
	switch {
	case p == nil || p.role != cmp.Or(d.ForRole, RoleProsecutor):
		// (No for_role: events before defence counsel, for a
		// prosecutor.)
		return r.broken(ev, "a package of case %s was sealed for %s, whom the log did not enroll as the prosecutor or defence counsel it names", ev.Case, d.For)
	case p.suspended || p.removed:
		return r.broken(ev, "a package of case %s was sealed for %s, whom the log had suspended or removed", ev.Case, d.For)
	case r.recipients[d.For] != d.Recipient:
		return r.broken(ev, "a package of case %s was sealed to a recipient that is not the one %s registered (recipient.set)", ev.Case, d.For)
	case c.exportApproval && d.Request == "":
		return r.broken(ev, "a package of case %s was sealed without a request a second custodian approved, though the case's policy requires one", ev.Case)
	}
	return nil
}

// decodeParams decodes a request's params by the grammar of event data
// (custody-log.md section 12): exact member names, none repeated. A
// member that differs from one the rules read only in case is refused,
// not read as that one, as encoding/json alone would.
func decodeParams(params json.RawMessage, v any) error {
	return strictjson.Decode(params, v, strictjson.EventData)
}

// keyOwnFingerprint reports whether a receipt.key.set's fingerprint is
// its key's own (the SHA256 form ssh-keygen -l prints): the vault
// records the one it computed (receipts.go, parseReceiptKey).
func keyOwnFingerprint(ev *events.Event) bool {
	d, err := data[ReceiptKeySet](ev)
	if err != nil {
		return true // the vault's replay refuses it
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(d.Key))
	return err == nil && ssh.FingerprintSHA256(pub) == d.Fingerprint
}
