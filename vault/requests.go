package vault

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/secret"
)

// Two people for every grant of power (docs/identity.md).
//
// A decision that gives someone power is a request, recorded as
// request.opened, that a different custodian approves: the approval's
// request.approved event and the decision's own events are appended
// together, and the decision's rule is checked again at their position,
// so that nothing that happened while the request waited is overlooked.
// Nobody approves their own request; a request expires
// (Config.RequestTTL); a rejection is recorded too. Decisions that only
// take power away (suspending or removing a person, ending a membership,
// placing a hold, requiring approval for exports, raising the votes that
// settle a category) stay immediate.

// Request kinds.
const (
	KindEnroll    = "person.enroll"
	KindReissue   = "person.reissue"
	KindReinstate = "person.reinstate"
	KindMember    = "case.member.add"
	KindRecipient = "recipient.replace"
	// KindReceiptKey replaces a person's registered receipt key.
	KindReceiptKey = "receipt.key.replace"
	KindPolicy     = "case.policy"
	KindSeal       = "package.seal"
	// KindClassificationPolicy lowers a case's classification policy:
	// fewer agreeing votes settle a category (raising it is immediate).
	KindClassificationPolicy = "case.classification.policy"
)

// Export approval policies of a case (CasePolicySet).
const (
	ExportApprovalRequired = "required"
	ExportApprovalNone     = "none"
)

// RequestInfo answers a command that opened a request, or an approval.
type RequestInfo struct {
	ID      string
	Kind    string
	Case    string
	Person  string
	By      string
	Expires time.Time
	// Reason is why the requester asked, as they typed it ("" if they
	// gave none).
	Reason string
	// InvitationPart is the half of a new person's invitation given to
	// this custodian (the requester's at the request, the approver's at
	// the approval), shown this once: the person needs both halves.
	InvitationPart secret.String
}

// Approval is the outcome of approving a request.
type Approval struct {
	RequestInfo
	// Package is the sealed package of an approved package.seal request.
	Package *SealedPackage
	// HashSet is the hash set an approved hashset.import put in use.
	HashSet *HashSetImportResult
	// ClassificationPolicy is what an approved lowering of a case's
	// classification policy did to its items.
	ClassificationPolicy *PolicyEffect
}

var requestIDPattern = regexp.MustCompile(`^rq_[0-9a-f]{24}$`)

// RequestParams is what a request's params may hold, of every kind, as
// its approver is shown it (the custos command and the web application
// read them alike): each kind sets its own fields.
type RequestParams struct {
	// person.enroll
	Role, OIDC, Certificate string
	// recipient.replace; receipt.key.replace
	Recipient, Fingerprint string
	// package.seal
	For, Purpose   string
	Items          []string
	DiscloseOthers bool `json:"disclose_others"`
	// case.policy
	ExportApproval string `json:"export_approval"`
	// case.classification.policy: the agreeing votes asked for, and
	// those in force when asked
	Votes, From int
	// case.destroy (a destruction request, as its requester is told it
	// ended: EndedRequest)
	Order, Reason string
	// hashset.import
	Name, Format, Category string
	SourceSHA256           string `json:"source_sha256"`
	Imported               int
	Replaces               *struct {
		Imported int
		Category string
	}
	// Categories counts the set's entries by what a match with each
	// means (HashSetImported.Categories; absent in requests before
	// 2026-12-08).
	Categories map[string]int
	// identity.source: "oidc ISSUER" or "ca SHA256"
	Source string
}

// Parameters returns r's params (zero where they do not decode: they are
// written by this package).
func (r Request) Parameters() RequestParams {
	var p RequestParams
	json.Unmarshal(r.Params, &p)
	return p
}

// RequestKinds lists every kind of two-person request, sorted.
func RequestKinds() []string { return slices.Sorted(maps.Keys(requestKinds)) }

// requestKind is what a kind of request does once approved.
type requestKind struct {
	// check is the decision's rule, when asked, when approved and at the
	// approval's position.
	check func(v *Vault, r Request) error
	// drafts are the decision's events, appended with request.approved.
	drafts func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error)
	// invites: the approval issues an invitation (with local accounts).
	invites bool
}

type enrollParams struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	OIDC        string `json:"oidc,omitempty"`
	Certificate string `json:"certificate,omitempty"`
}

type recipientParams struct {
	Recipient string `json:"recipient"`
}

type receiptKeyParams struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
}

type policyParams struct {
	ExportApproval string `json:"export_approval"`
}

// classificationPolicyParams are a case.classification.policy request's:
// the agreeing votes that are to settle a category, and those in force
// when it was asked (for its approver to read; the approval sets Votes
// whatever is in force then).
type classificationPolicyParams struct {
	Votes int `json:"votes"`
	From  int `json:"from"`
}

type sealParams struct {
	For     string   `json:"for"`
	Purpose string   `json:"purpose"`
	Items   []string `json:"items,omitempty"`
	// DiscloseOthers: SealRequest.DiscloseOthers.
	DiscloseOthers bool `json:"disclose_others,omitempty"`
}

// stillReceivesPackages is the check of a request about a person's
// recipient or receipt key: they still receive packages and are active.
func stillReceivesPackages(v *Vault, r Request) error {
	p, ok := v.state.personByName(r.Person)
	switch {
	case !ok || !receivesPackages(p.Role):
		return refused(ErrConflict, "%s is no longer a prosecutor or defence counsel", r.Person)
	case p.Removed || p.Suspended:
		return refused(ErrConflict, "%s is suspended or removed", r.Person)
	}
	return nil
}

func params[T any](r Request) T {
	var p T
	json.Unmarshal(r.Params, &p) // written by this package from a T
	return p
}

var requestKinds map[string]requestKind

func init() {
	requestKinds = map[string]requestKind{
		KindEnroll: {invites: true,
			check: func(v *Vault, r Request) error {
				p := params[enrollParams](r)
				if q, ok := v.state.personByName(p.Name); ok && q.Removed {
					return refused(ErrConflict, "%s was removed; a removed name is never enrolled again", p.Name)
				} else if ok {
					return refused(ErrConflict, "%s is already enrolled as %s", p.Name, q.Role)
				}
				return v.identityFree(p)
			},
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				p := params[enrollParams](r)
				d := PersonEnrolled{Name: p.Name, Role: p.Role, OIDC: p.OIDC, Certificate: p.Certificate, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}
				if r.invitationHalf != "" {
					d.Invitation, d.Expires = r.ID, v.invitationExpiry()
				}
				return []sequencer.Draft{{Type: TypePersonEnrolled, Actor: by.actor(), Data: d}}, nil
			}},
		KindReissue: {invites: true,
			check: func(v *Vault, r Request) error {
				if v.cfg.NoLocalAccounts {
					return refused(ErrConflict, "this vault has no local accounts")
				}
				_, err := v.enrolled(r.Person)
				return err
			},
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				return []sequencer.Draft{{Type: TypeCredentialReissued, Actor: by.actor(),
					Data: CredentialReissued{Name: r.Person, Request: r.ID, Invitation: r.ID, Expires: v.invitationExpiry(), RequestedBy: r.By, Reason: r.Reason}}}, nil
			}},
		KindReinstate: {
			check: func(v *Vault, r Request) error {
				p, err := v.enrolled(r.Person)
				if err == nil && !p.Suspended {
					err = refused(ErrConflict, "%s is not suspended", r.Person)
				}
				return err
			},
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				return []sequencer.Draft{{Type: TypePersonReinstated, Actor: by.actor(),
					Data: PersonStatus{Name: r.Person, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
			}},
		KindMember: {
			check: func(v *Vault, r Request) error { return v.checkNow(r.Case, v.memberAddable(r.Case, r.Person)) },
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				return []sequencer.Draft{{Type: TypeCaseMemberAdded, Actor: by.actor(), Case: r.Case,
					Data: MemberAdded{Person: r.Person, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
			}},
		KindRecipient: {
			check: stillReceivesPackages,
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				return []sequencer.Draft{{Type: TypeRecipientSet, Actor: by.actor(),
					Data: RecipientSet{Recipient: params[recipientParams](r).Recipient, Person: r.Person, Request: r.ID}}}, nil
			}},
		KindReceiptKey: {
			check: stillReceivesPackages,
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				d, err := parseReceiptKey(params[receiptKeyParams](r).Key)
				if err != nil {
					return nil, err
				}
				d.Person, d.Request = r.Person, r.ID
				return []sequencer.Draft{{Type: TypeReceiptKeySet, Actor: by.actor(), Data: d}}, nil
			}},
		KindPolicy: {
			check: func(v *Vault, r Request) error {
				return v.checkNow(r.Case, func(c Case, ok bool) error { return liveCase(r.Case, c, ok) })
			},
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				return []sequencer.Draft{{Type: TypeCasePolicySet, Actor: by.actor(), Case: r.Case,
					Data: CasePolicySet{ExportApproval: params[policyParams](r).ExportApproval, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
			}},
		KindClassificationPolicy: {
			// The approval carries out the change asked, from the
			// policy in force when it was asked: one changed since
			// (raised, say) is not what the approver would approve.
			check: func(v *Vault, r Request) error {
				p := params[classificationPolicyParams](r)
				return v.checkNow(r.Case, func(c Case, ok bool) error {
					if err := liveCase(r.Case, c, ok); err != nil {
						return err
					}
					switch now := v.state.votesNeeded(r.Case); {
					case now == p.Votes:
						return refused(ErrConflict, "%s already settles a category with %s", r.Case, agreeingVotes(p.Votes))
					case p.From != 0 && now != p.From:
						return refused(ErrConflict, "%s settled a category with %s when the lowering was asked, and with %s now: this request is not the change it would make; reject it, and ask again if the lowering is still wanted",
							r.Case, agreeingVotes(p.From), agreeingVotes(now))
					}
					return nil
				})
			},
			drafts: func(v *Vault, r Request, by Principal) ([]sequencer.Draft, error) {
				return []sequencer.Draft{{Type: TypeClassificationPolicySet, Actor: by.actor(), Case: r.Case,
					Data: ClassificationPolicySet{Votes: params[classificationPolicyParams](r).Votes, Request: r.ID, RequestedBy: r.By, Reason: r.Reason}}}, nil
			}},
		KindHashSetImport: hashSetImportKind,
		KindHashSetRemove: hashSetRemoveKind,
		// KindIdentitySource's approval accepts an identity source
		// (identitysources.go).
		KindIdentitySource: identitySourceKind,
		// KindIdentitySourceRetire's retires one.
		KindIdentitySourceRetire: identitySourceRetireKind,
		// KindSeal's approval seals the package (packages.go), of the
		// items the request named, while its requester may still seal the
		// case.
		KindSeal: {
			check: func(v *Vault, r Request) error {
				return v.checkNow(r.Case, func(c Case, ok bool) error {
					requester := Principal{Name: r.By, Role: r.ByRole}
					if err := liveCase(r.Case, c, ok); err != nil {
						return err
					}
					switch {
					case !seals(requester, c):
						return refused(ErrConflict, "the requester %s may no longer seal packages of %s", r.By, r.Case)
					}
					// The package's recipient must still be one.
					return stillReceivesPackages(v, r)
				})
			}},
	}
}

// enrolled returns a person the log enrolled and did not remove.
func (v *Vault) enrolled(name string) (Person, error) {
	p, ok := v.state.personByName(name)
	switch {
	case !ok:
		return Person{}, refused(ErrNotFound, "no person %s", name)
	case p.Removed:
		return Person{}, refused(ErrConflict, "%s was removed", name)
	}
	return p, nil
}

// identityFree refuses an enrolment whose OIDC claim value or certificate
// name already signs someone else in.
func (v *Vault) identityFree(p enrollParams) error {
	// Removed persons included: a value that signed someone in never
	// signs anyone else in.
	for _, q := range v.state.allPersons() {
		if p.OIDC != "" && (q.OIDC == p.OIDC || q.OIDC == "" && q.Name == p.OIDC) ||
			p.OIDC == "" && q.OIDC == p.Name {
			return refused(ErrConflict, "the identity-provider name of %s already signs %s in", p.Name, q.Name)
		}
		if p.Certificate != "" && (q.Certificate == p.Certificate || q.Certificate == "" && q.Name == p.Certificate) ||
			p.Certificate == "" && q.Certificate == p.Name {
			return refused(ErrConflict, "the certificate name of %s already signs %s in", p.Name, q.Name)
		}
	}
	return nil
}

func (v *Vault) invitationExpiry() string {
	return v.cfg.Now().Add(v.cfg.InvitationTTL).UTC().Truncate(time.Second).Format(time.RFC3339)
}

// requestDepends reports whether a decision about requests could change
// with an event ahead of it in a batch.
func requestDepends(ahead []*events.Event) bool {
	for _, ev := range ahead {
		if strings.HasPrefix(ev.Type, "person.") || strings.HasPrefix(ev.Type, "request.") || strings.HasPrefix(ev.Type, "case.") ||
			strings.HasPrefix(ev.Type, "session.") || ev.Type == TypeRecipientSet || ev.Type == TypeReceiptKeySet {
			return true
		}
	}
	return false
}

// openRequest records a request of kind by who, after checking the
// kind's rule now and at the request's position. The caller has checked
// that who may ask.
func (v *Vault) openRequest(ctx context.Context, who Principal, r Request, p any) (*RequestInfo, error) {
	k := requestKinds[r.Kind]
	if err := checkText("reason", r.Reason, 1024, false, false); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	if r.ID == "" {
		r.ID = "rq_" + randomHex(12)
	}
	r.Params, r.By, r.ByRole = b, who.Name, who.Role
	r.Expires = v.cfg.Now().Add(v.cfg.RequestTTL).UTC().Truncate(time.Second)
	var half string
	if k.invites && !v.cfg.NoLocalAccounts {
		half = newToken(InvitationPrefix)
		r.invitationHalf = tokenHash(half)
	}
	pending := func() error {
		if r.Kind == KindSeal {
			return nil // packages of one case for one person may differ
		}
		for _, o := range v.state.pendingRequests(v.cfg.Now()) {
			// A void request can never be approved: it does not stand
			// in the way of asking again. Imports of hash sets of two
			// names do not stand in each other's way.
			if !o.void && o.Kind == r.Kind && o.Case == r.Case && o.Person == r.Person && o.target() == r.target() {
				if r.Kind == KindHashSetImport {
					return refused(ErrConflict, "request %s by %s already asks to import hash set %s, of another file or the same; a second custodian approves or rejects it, or its requester withdraws it, before this file can be asked for", o.ID, o.By, params[hashSetParams](r).Name)
				}
				what := o.Kind
				if w := custody.ActionWords[o.Kind]; w != "" {
					what = "to " + w
				}
				return refused(ErrConflict, "request %s by %s already asks this (%s); a custodian approves or rejects it, or its requester withdraws it, first", o.ID, o.By, what)
			}
		}
		return nil
	}
	if err := k.check(v, r); err != nil {
		return nil, v.refusedAs(ctx, who, r.Kind, r.target(), err)
	}
	if err := pending(); err != nil {
		return nil, v.refusedAs(ctx, who, r.Kind, r.target(), err)
	}
	check := func(ahead []*events.Event) error {
		if requestDepends(ahead) {
			return sequencer.ErrNotYet
		}
		if err := pending(); err != nil {
			return err
		}
		return k.check(v, r)
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeRequestOpened, Actor: who.actor(), Case: r.Case, Check: check,
		Data: RequestOpened{Request: r.ID, Kind: r.Kind, Case: r.Case, Person: r.Person, Params: b,
			Expires: r.Expires.Format(time.RFC3339), InvitationSHA256: r.invitationHalf, Reason: r.Reason, ClientCAs: who.clientCAs()}})
	if err != nil {
		return nil, v.refusedAs(ctx, who, r.Kind, r.target(), err)
	}
	info := r.info()
	info.InvitationPart = secret.New(half)
	return &info, nil
}

func (r Request) target() string {
	switch r.Kind {
	case KindHashSetImport:
		return params[hashSetParams](r).Name
	case KindHashSetRemove:
		return params[hashSetRemoveParams](r).Name
	case KindIdentitySource, KindIdentitySourceRetire:
		return params[identitySourceParams](r).Source
	}
	if r.Case != "" {
		return r.Case
	}
	return r.Person
}

// Requests lists the pending requests a person may see: every one for
// custodians, their own for anyone else.
//
// A request whose requester is no longer active in the role they asked
// in (suspended, removed) is left out: it cannot be approved
// (approvable), so nobody is offered to.
func (v *Vault) Requests(who Principal) []PendingRequest {
	var out []PendingRequest
	for _, r := range v.state.pendingRequests(v.cfg.Now()) {
		// Its life as the configuration in force says (requestExpires):
		// one that ended by it is listed no longer, as it is no longer
		// approved.
		if r.Expires = v.requestExpires(r); !v.cfg.Now().Before(r.Expires) {
			continue
		}
		if (who.Role == RoleCustodian || r.By == who.Name) && v.listable(r) {
			pr := PendingRequest{Request: r}
			// The items asked are shown to the custodians who decide,
			// and to a requester only while they may still list the
			// case (not once removed from it).
			if c, ok := v.state.getCase(r.Case); who.Role == RoleCustodian || ok && assigned(who, c) {
				pr.Items = v.askedItems(r)
			}
			if who.Role == RoleCustodian && r.Kind == KindSeal {
				// Custodians, who list people, are told the role of
				// whom a package would be for (a sealer is not:
				// sealing is no way to list people).
				if p, ok := v.state.personByName(r.Person); ok {
					pr.ForRole = p.Role
				}
			}
			if who.Role == RoleCustodian && r.Kind == KindHashSetImport && v.hashsets != nil {
				// Whoever decides an import is told the sets in use
				// it contradicts, as its importer was.
				pr.Conflicts = v.hashsets.stagedConflicts(r.ID, params[hashSetParams](r).Name)
			}
			if who.Role == RoleCustodian {
				pr.Lowering = v.loweringPreview(r)
			}
			if who.Role == RoleCustodian && r.Kind == KindReinstate {
				// Whoever decides a reinstatement is told the
				// suspension it would end: by whom, when and why.
				if p, ok := v.state.personByName(r.Person); ok {
					pr.Suspension = p.Suspension
				}
			}
			out = append(out, pr)
		}
	}
	return out
}

// EndedShownFor is how long a requester is shown how a request of theirs
// ended (EndedRequests): 30 days.
const EndedShownFor = 30 * 24 * time.Hour

// maxEndedShown bounds the ended requests shown at once.
const maxEndedShown = 50

// EndedRequest is how a two-person request (rq_...) or a destruction
// request (dr_..., kind case.destroy, its Params the court order and
// reason) ended, as its requester is told: approved (By, with the
// package an approved sealing made, once stored), rejected or withdrawn
// (By, with the decider's reason), void (At: when its requester's
// suspension or removal voided it; no By), held (a destruction request:
// At, when a legal hold placed on its case voided it; no By), superseded
// (a destruction request: another request's approval, By, destroyed the
// case), or expired unanswered (At its expiry; no By).
type EndedRequest struct {
	Request string    `json:"request"`
	Kind    string    `json:"kind"`
	Asked   time.Time `json:"asked,omitzero"`
	// Case, Person and Params are the request's, as in PendingRequest
	// (a package.seal request's Params without their items: whom the
	// package was for, its purpose, whether it disclosed others).
	Case    string          `json:"case,omitempty"`
	Person  string          `json:"person,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Outcome string          `json:"outcome"`
	By      string          `json:"by,omitempty"`
	At      time.Time       `json:"at"`
	Reason  string          `json:"reason,omitempty"`
	Package string          `json:"package,omitempty"`
	// Withheld says that the reason and package are not shown: the
	// requester is no longer assigned to the request's case.
	Withheld bool `json:"withheld,omitempty"`
}

// EndedRequests lists the requests (two-person and destruction
// requests) who asked that ended in the last EndedShownFor, newest
// first, at most 50: so that a request rejected or expired does not just
// vanish from its requester's list. A decided one names who decided it
// and why, as the deciding event recorded it; for a requester who is
// not a custodian and no longer assigned to the request's case, the
// reason and package are withheld (Withheld). Anyone's own only: how
// others' requests ended is the audit log's.
func (v *Vault) EndedRequests(who Principal) []EndedRequest {
	now := v.cfg.Now()
	ended := v.state.endedOf(who.Name, now.Add(-EndedShownFor), now)
	out := make([]EndedRequest, 0, len(ended))
	for id, e := range ended {
		r := EndedRequest{Request: id, Kind: e.Kind, Asked: e.Asked, Case: e.Case, Person: e.Person, Params: e.Params,
			Outcome: e.Outcome, By: e.By, At: e.At, Reason: e.Reason, Package: e.Package}
		if e.Outcome == OutcomeVoid || e.Outcome == OutcomeHeld {
			r.By = "" // nobody decided it: its requester's suspension or removal, or a hold, voided it
		}
		if c, ok := v.state.getCase(e.Case); e.Case != "" && who.Role != RoleCustodian && !(ok && assigned(who, c)) {
			// No longer assigned to the case (or it is gone): told
			// how it ended, but not what the decider wrote of the
			// case's evidence, nor its package, which they no
			// longer list.
			r.Reason, r.Package, r.Withheld = "", "", true
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b EndedRequest) int { return cmp.Or(b.At.Compare(a.At), strings.Compare(a.Request, b.Request)) })
	if len(out) > maxEndedShown {
		out = out[:maxEndedShown]
	}
	return out
}

// listable reports whether the pending request r is listed at all: not
// void, and asked by someone still active in the role they asked in.
func (v *Vault) listable(r Request) bool { return !r.void && v.requesterActive(r.By, r.ByRole) }

// RequestCounts counts the pending two-person requests Requests lists to
// who: those who asked (Waiting), and, for a custodian, the others, which
// they may decide (ToDecide); without reading the items a sealing asks,
// which Requests summarises for each.
func (v *Vault) RequestCounts(who Principal) (toDecide, waiting int) {
	for _, r := range v.state.pendingRequests(v.cfg.Now()) {
		if !v.listable(r) {
			continue
		}
		switch {
		case r.By == who.Name:
			waiting++
		case who.Role == RoleCustodian:
			toDecide++
		}
	}
	return toDecide, waiting
}

// PendingRequest is a pending request as its deciders are shown it: the
// request, and for a package.seal request the items it asks to seal
// (to custodians, and to its requester while they are assigned to the
// case).
type PendingRequest struct {
	Request
	Items *AskedItems `json:"items,omitempty"`
	// ForRole is, to custodians, the role of the person a package.seal
	// request's package would be for (prosecutor or defence).
	ForRole string `json:"for_role,omitempty"`
	// Suspension is, to custodians, the suspension a person.reinstate
	// request would end: who suspended the person, when and why.
	Suspension *StatusNote `json:"suspension,omitempty"`
	// Conflicts are, to custodians, the sets in use of the other kind
	// that list files a hashset.import request's set lists too
	// (HashSetImportResult.Conflicts), as they stand now.
	Conflicts []HashSetConflict `json:"conflicts,omitempty"`
	// Lowering is, to custodians, what a case.classification.policy
	// request would do if approved now.
	Lowering *LoweringPreview `json:"lowering,omitempty"`
}

// LoweringPreview is what lowering a case's classification policy would
// do now: the agreeing votes that settle a category in force (Now), and
// the case's items whose category the votes already cast would settle,
// by category (Settle; the approval's answer gives what it did at its
// own position, PolicyEffect).
type LoweringPreview struct {
	Now    int            `json:"now"`
	Settle map[string]int `json:"settle"`
}

// loweringPreview is r's LoweringPreview, nil for another kind or a case
// whose items cannot be read now.
func (v *Vault) loweringPreview(r Request) *LoweringPreview {
	if r.Kind != KindClassificationPolicy {
		return nil
	}
	votes := params[classificationPolicyParams](r).Votes
	ids, err := v.state.caseItems(r.Case)
	if err != nil {
		return nil
	}
	p := &LoweringPreview{Now: v.state.votesNeeded(r.Case), Settle: map[string]int{}}
	for _, id := range ids {
		it, ok, err := v.state.getItem(id)
		if err != nil || !ok {
			continue
		}
		if v.settledAsStated(it, v.classification(it)) != "" {
			continue // settled now
		}
		if c := v.settledAsStated(it, v.classificationUnder(it, votes)); c != "" {
			p.Settle[c]++
		}
	}
	return p
}

// AskedItems are the items a package.seal request asks to seal, as the
// custodian who decides it must see them: how many, their size in all
// (bytes), how they are classified, and the first maxAskedShown of them
// by name, size, SHA-256 and settled category (the custody report of
// the case names them all alike).
type AskedItems struct {
	Count int           `json:"count"`
	Size  int64         `json:"size"`
	First []ItemSummary `json:"first"`
	// Classified counts the readable items asked by settled category
	// (hotline_types.go's Category* values); Unclassified those with
	// none settled (not classified, or their votes disagree).
	Classified   map[string]int `json:"classified,omitempty"`
	Unclassified int            `json:"unclassified,omitempty"`
	// Known counts the readable items asked that are known material,
	// hidden from review whatever their own classification (a hash set
	// lists them, or a copy or near-copy of them was settled illegal):
	// what the package would carry that is known illegal material,
	// beside the categories settled of the items themselves. Checked for
	// the first MaxKnownChecked readable items; KnownUnchecked counts
	// the readable items after them, not checked.
	Known          int `json:"known,omitempty"`
	KnownUnchecked int `json:"known_unchecked,omitempty"`
	// Unknown counts the ids asked that name no item the vault can read
	// now (the approval refuses them, saying why); Size leaves them out.
	Unknown int `json:"unknown,omitempty"`
}

// maxAskedShown is how many of a request's items are named.
const maxAskedShown = 20

// MaxKnownChecked is how many of a request's items are checked for known
// material when the request is listed (AskedItems.Known): each check may
// read hash-set tables and near-copies, and the list is read at each
// visit.
const MaxKnownChecked = 1000

// askedItems are the items r asks to seal, or nil for another kind.
func (v *Vault) askedItems(r Request) *AskedItems {
	if r.Kind != KindSeal {
		return nil
	}
	a := &AskedItems{First: []ItemSummary{}}
	checked := 0
	stated := newKnownChecks()
	ids := params[sealParams](r).Items
	a.Count = len(ids)
	for _, id := range ids {
		it, ok, err := v.state.getItem(id)
		if err != nil || !ok {
			a.Unknown++ // the approval refuses it, saying why
			continue
		}
		a.Size += it.Deposit.Size
		if checked < MaxKnownChecked {
			checked++
			// A check that cannot be completed counts it as known, as a
			// view treats it (never shown as if unknown).
			if k, err := v.knownBecause(context.Background(), it, nil); err != nil || k != "" {
				a.Known++
			}
		} else {
			a.KnownUnchecked++
		}
		cl, err := v.statedClassification(context.Background(), it, stated)
		if err != nil {
			// As a known-material check that cannot be completed: said
			// unsettled, never not illegal.
			cl = Classification{}
		}
		if cl.Category == "" {
			a.Unclassified++
		} else {
			if a.Classified == nil {
				a.Classified = map[string]int{}
			}
			a.Classified[cl.Category]++
		}
		if len(a.First) < maxAskedShown {
			sum := it.brief()
			sum.Category, sum.Disputed = cl.Category, cl.Category == "" && cl.Disputed
			a.First = append(a.First, sum)
		}
	}
	return a
}

// requesterActive reports whether name is enrolled in role, neither
// suspended nor removed: what every request's approval needs of its
// requester.
func (v *Vault) requesterActive(name, role string) bool {
	p, ok := v.state.personByName(name)
	return ok && p.Role == role && p.active() == nil
}

// Destructions returns the pending destruction requests of every case,
// each with its case, for custodians (nil for anyone else): listed beside
// the two-person requests so that the second custodian finds them, and
// decided with ApproveDestruction (custos case approve-destruction CASE
// REQUEST). Those that can no longer be approved (destructionVoid) are
// left out.
func (v *Vault) Destructions(who Principal) []PendingDestruction {
	if who.Role != RoleCustodian {
		return nil
	}
	return v.openDestructions(v.state.pendingDestructions())
}

// openDestructions returns the requests of pending that can still be
// approved, as listed, in the same order.
func (v *Vault) openDestructions(pending []caseDestruction) []PendingDestruction {
	var out []PendingDestruction
	for _, r := range pending {
		if v.destructionVoid(r.DestructionRequest) == nil {
			out = append(out, PendingDestruction{Request: r.Request, Case: r.Case, At: r.At, By: r.By, Order: r.Order, Reason: r.Reason,
				Expires: v.destructionExpires(r.DestructionRequest)})
		}
	}
	return out
}

// destructionExpires is when a destruction request stops being
// approvable: the expiry its event recorded, as a two-person request's
// (an event without one: its time plus DefaultRequestTTL). Never the TTL
// the server runs with now, which a restart could lengthen.
func (v *Vault) destructionExpires(r DestructionRequest) time.Time {
	if t, err := time.Parse(time.RFC3339, r.Expires); err == nil {
		return t.UTC()
	}
	// An event from before expiries were recorded: the shorter of the
	// TTL the vault runs with and the default, so that neither a longer
	// --request-ttl nor the upgrade itself revives one that had expired.
	return r.At.Add(min(v.cfg.RequestTTL, DefaultRequestTTL)).UTC().Truncate(time.Second)
}

// destructionVoid is the refusal of an approval of r that its age or its
// requester makes impossible, nil if neither does: a request past its
// expiry, or one whose requester is no longer an active custodian
// (suspended or removed since), is void, as a two-person request is
// (approvable).
func (v *Vault) destructionVoid(r DestructionRequest) error {
	if exp := v.destructionExpires(r); !v.cfg.Now().Before(exp) {
		return refusedHints(ErrConflict, "a custodian asks again with custos case destroy", "a custodian asks again on the case's manage page", "destruction request %s expired at %s", r.Request, spokenTime(exp))
	}
	if r.HeldAfter != 0 {
		return refusedHints(ErrConflict, "a custodian asks again with custos case destroy, once the hold is lifted", "a custodian asks again on the case's manage page, once the hold is lifted",
			"a legal hold was placed on the case (event %d) after destruction request %s was asked, which voids it: lifting the hold does not bring it back", r.HeldAfter, r.Request)
	}
	if r.Retired != "" {
		return refusedHints(ErrConflict, "a custodian asks again with custos case destroy", "a custodian asks again on the case's manage page",
			"two custodians retired the identity source %s, which %s signed in through to ask for destruction request %s, after they asked: that voids it", r.Retired, r.By, r.Request)
	}
	if r.Void || !v.requesterActive(r.By, RoleCustodian) {
		return refusedHints(ErrConflict, "a custodian asks again with custos case destroy", "a custodian asks again on the case's manage page", "the requester %s was suspended or removed after asking, which voids their destruction request %s", r.By, r.Request)
	}
	return nil
}

// destructionIDPattern is a destruction request's id (RequestDestruction).
var destructionIDPattern = regexp.MustCompile(`^dr_[0-9a-f]{16}$`)

// notARequest is the refusal of approve or reject given a destruction
// request's id: what to run instead.
func (v *Vault) notARequest(id string) error {
	for _, d := range v.openDestructions(v.state.pendingDestructions()) {
		if d.Request == id {
			return badInput("%s is a request to destroy case %s, decided on its own: a second custodian approves it with `custos case approve-destruction %s %s` (in the web application, on the case's page)", id, d.Case, d.Case, id)
		}
	}
	return v.notPending("destruction request", id)
}

// spokenTime is a time as a refusal says it to a person, as the pages
// and the custos command write times: "2006-01-02 15:04:05 UTC".
func spokenTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// notPending is the refusal of a decision on a request (what: "request"
// or "destruction request") that is not pending: who ended it and when,
// if the log says it ended (requestEnd), or that there is no such
// request. ErrConflict or ErrNotFound.
func (v *Vault) notPending(what, id string) error {
	e, ok := v.state.requestEnded(id)
	if !ok {
		return refused(ErrNotFound, "no pending %s %s", what, id)
	}
	return endedRefusal(what, id, e)
}

// endedRefusal is the refusal of a decision on the request id, which
// ended as e says. ErrConflict.
func endedRefusal(what, id string, e requestEnd) error {
	at := spokenTime(e.At)
	switch e.Outcome {
	case OutcomeExpired:
		return refused(ErrConflict, "%s %s expired unanswered at %s; ask again", what, id, at)
	case OutcomeSuperseded:
		return refused(ErrConflict, "%s %s ended when %s approved %s at %s, which destroyed its case", what, id, e.By, e.Through, at)
	case OutcomeWithdrawn:
		return refused(ErrConflict, "%s %s was withdrawn by its requester %s at %s", what, id, e.By, at)
	case OutcomeVoid:
		return refused(ErrConflict, "%s %s, asked by %s, was void from %s, when its requester was suspended or removed, or the identity source they signed in through to ask was retired, while it waited; ask again", what, id, e.By, at)
	case OutcomeHeld:
		return refused(ErrConflict, "%s %s, asked by %s, was void from %s, when a legal hold was placed on its case while it waited; destruction is asked again once the hold is lifted", what, id, e.By, at)
	}
	return refused(ErrConflict, "%s %s was already %s by %s at %s", what, id, e.Outcome, e.By, at)
}

// requestExpires is when r stops being approvable: its recorded expiry,
// or earlier where the vault's request life now (--request-ttl) ends
// sooner from its opening, so that a request opened under a longer life
// (a restart with a month's, then the configuration put back) ends as
// the configuration in force says.
func (v *Vault) requestExpires(r Request) time.Time {
	if end := r.Opened.Add(v.cfg.RequestTTL).UTC().Truncate(time.Second); end.Before(r.Expires) {
		return end
	}
	return r.Expires
}

// approvable is the rule of an approval or rejection by who, now and at
// its position: a pending, unexpired request; who a custodian other than
// the requester; the requester still enrolled in the role they asked in,
// neither suspended nor removed.
func (v *Vault) approvable(who Principal, id string) (Request, error) {
	r, ok := v.state.request(id)
	switch {
	case !ok:
		return Request{}, v.notPending("request", id)
	case r.void:
		// As its requester is told it ended (EndedRequests).
		return Request{}, endedRefusal("request", id, r.unanswered())
	case !v.cfg.Now().Before(v.requestExpires(r)):
		return Request{}, refused(ErrConflict, "request %s expired at %s", id, spokenTime(v.requestExpires(r)))
	case r.By == who.Name:
		return Request{}, refusedHints(ErrForbidden, "another custodian must (its requester may withdraw it: custos reject REQUEST --reason TEXT)", "another custodian must (its requester may withdraw it on the Approvals page)", "nobody approves their own request")
	}
	if r.void || !v.requesterActive(r.By, r.ByRole) {
		return Request{}, refused(ErrConflict, "the requester %s was suspended or removed after asking, which voids request %s; ask again", r.By, id)
	}
	return r, nil
}

// Approve carries out a pending request as a second custodian: the
// approval and the decision's events are appended together, both rules
// checked at their position. It is ApproveWithReason without a reason.
func (v *Vault) Approve(ctx context.Context, who Principal, id string) (*Approval, error) {
	return v.ApproveWithReason(ctx, who, id, "")
}

// ApproveWithReason is Approve with the approver's own reason (optional:
// "" gives none; at most 1,024 bytes of text), recorded in the
// request.approved event beside the requester's. A malformed reason is
// bad input, refused before anything is read or recorded.
func (v *Vault) ApproveWithReason(ctx context.Context, who Principal, id, reason string) (*Approval, error) {
	if err := v.MayAsk(ctx, who, "request.approve", id); err != nil {
		return nil, err
	}
	if err := checkText("reason", reason, 1024, false, false); err != nil {
		return nil, err
	}
	if destructionIDPattern.MatchString(id) {
		// Pending: which command decides it (bad input); else refused
		// and recorded as any request that is not pending.
		return nil, v.refusedAs(ctx, who, "request.approve", id, v.notARequest(id))
	}
	if !requestIDPattern.MatchString(id) {
		return nil, badInput("request id %q is not rq_ and 24 hex digits", truncate(id))
	}
	r, err := v.approvable(who, id)
	if err != nil {
		return nil, v.refusedAs(ctx, who, "request.approve", id, err)
	}
	k := requestKinds[r.Kind]
	if err := k.check(v, r); err != nil {
		return nil, v.refusedAs(ctx, who, "request.approve", id, err)
	}
	switch r.Kind {
	case KindSeal:
		return v.approveSeal(ctx, who, r, reason)
	case KindHashSetImport:
		return v.approveHashSetImport(ctx, who, r, reason)
	case KindHashSetRemove:
		return v.approveHashSetRemove(ctx, who, r, reason)
	}
	var half string
	decided := RequestDecided{Request: r.ID, Kind: r.Kind, RequestedBy: r.By, Reason: reason}
	if r.invitationHalf != "" {
		half = newToken(InvitationPrefix)
		decided.InvitationSHA256 = tokenHash(half)
	}
	drafts, err := k.drafts(v, r, who)
	if err != nil {
		return nil, err
	}
	drafts = append([]sequencer.Draft{v.approvalDraft(who, r, decided)}, drafts...)
	appendAll := func() error {
		if _, err := v.append(ctx, drafts...); err != nil {
			return v.refusedAs(ctx, who, "request.approve", id, err)
		}
		return nil
	}
	var effect *PolicyEffect
	if r.Kind == KindClassificationPolicy {
		e, err := v.policyEffect(r.Case, appendAll)
		if err != nil {
			return nil, err
		}
		effect = &e
	} else if err := appendAll(); err != nil {
		return nil, err
	}
	info := r.info()
	info.InvitationPart = secret.New(half)
	return &Approval{RequestInfo: info, ClassificationPolicy: effect}, nil
}

// approvalDraft is the request.approved event of r by who, with the rules
// of the approval and of r's kind checked at its position; an approval
// given with a client certificate records its CAs (client_ca_sha256).
func (v *Vault) approvalDraft(who Principal, r Request, decided RequestDecided) sequencer.Draft {
	decided.ClientCAs = who.clientCAs()
	k := requestKinds[r.Kind]
	check := func(ahead []*events.Event) error {
		if requestDepends(ahead) {
			return sequencer.ErrNotYet
		}
		if _, err := v.approvable(who, r.ID); err != nil {
			return err
		}
		return k.check(v, r)
	}
	return sequencer.Draft{Type: TypeRequestApproved, Actor: who.actor(), Case: r.Case, Check: check, Data: decided}
}

// othersRequests is the rule a non-custodian is answered with when they
// name a request that is not theirs, or none.
const othersRequests = "requesters withdraw only their own requests; custodians decide the rest"

// Reject ends a pending request unapproved, with a reason: as a custodian
// other than the requester, or as the requester withdrawing it.
func (v *Vault) Reject(ctx context.Context, who Principal, id, reason string) (*RequestInfo, error) {
	if destructionIDPattern.MatchString(id) {
		if who.Role != RoleCustodian {
			// Answered as an unknown request is: a destruction
			// request's case is for custodians to know. Recorded with
			// the truth.
			_, ended := v.state.requestEnded(id)
			exists := ended || slices.ContainsFunc(v.state.pendingDestructions(), func(d caseDestruction) bool { return d.Request == id })
			return nil, v.refusedAs(ctx, who, "request.reject", id, unseen("request", id, exists, "only custodians decide destruction requests", othersRequests))
		}
		return v.rejectDestruction(ctx, who, id, reason)
	}
	if !requestIDPattern.MatchString(id) {
		return nil, badInput("request id %q is not rq_ and 24 hex digits", truncate(id))
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return nil, err
	}
	rejectable := func() (Request, error) {
		r, ok := v.state.request(id)
		end, ended := v.state.requestEnded(id)
		if ok && (r.void || !v.cfg.Now().Before(v.requestExpires(r))) {
			// Ended unanswered, though still in the state until the next
			// request's opening: not decided again, so that how it
			// ended, as its requester was told, stays so.
			ok, end, ended = false, r.unanswered(), true
		}
		switch {
		case ok && r.By == who.Name:
			return r, nil // withdrawn by its requester
		case ended && end.Requester == who.Name:
			// Their own, ended: told how, as a custodian is.
			return Request{}, endedRefusal("request", id, end)
		case who.Role != RoleCustodian:
			// Someone else's request, pending or not, and one that
			// does not exist are answered alike: whether a request
			// exists and how it ended are for custodians to know
			// (security.md rule 9). The log records which it was.
			return Request{}, unseen("request", id, ok || ended, "only custodians reject requests, and requesters withdraw their own", othersRequests)
		case ended:
			return Request{}, endedRefusal("request", id, end)
		case !ok:
			return Request{}, v.notPending("request", id)
		}
		return r, nil
	}
	r, err := rejectable()
	if err != nil {
		err = v.refusedAs(ctx, who, "request.reject", id, err)
		if q, ok := v.state.request(id); ok && q.Kind == KindHashSetImport && v.hashsets != nil {
			// An import that ended unanswered is decided no more, but
			// the tables staged for it go now (once the refusal is on
			// the record), as a rejection's would, not at the next
			// import or start.
			v.hashsets.sweepStaged(v.state, v.cfg.Now())
		}
		return nil, err
	}
	check := func(ahead []*events.Event) error {
		if requestDepends(ahead) {
			return sequencer.ErrNotYet
		}
		_, err := rejectable()
		return err
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeRequestRejected, Actor: who.actor(), Case: r.Case, Check: check,
		Data: RequestDecided{Request: id, Kind: r.Kind, RequestedBy: r.By, Reason: reason}})
	if err != nil {
		return nil, v.refusedAs(ctx, who, "request.reject", id, err)
	}
	if r.Kind == KindHashSetImport && v.hashsets != nil {
		v.hashsets.sweepStaged(v.state, v.cfg.Now())
	}
	info := r.info()
	return &info, nil
}

// info describes r as the answers of its approval and rejection do.
func (r Request) info() RequestInfo {
	return RequestInfo{ID: r.ID, Kind: r.Kind, Case: r.Case, Person: r.Person, By: r.By, Expires: r.Expires, Reason: r.Reason}
}
