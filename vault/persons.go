package vault

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
)

// Enrolment asks the vault to know a person in a role.
type Enrolment struct {
	Name string
	Role string
	// OIDC is the value of the configured identity-provider claim that
	// signs this person in; Certificate the name mapped from their client
	// certificate. Empty means the person's name.
	OIDC        string
	Certificate string
	// Reason is why the person is enrolled (optional; recorded with the
	// request, for the approving custodian and the record).
	Reason string
}

// maxIdentity bounds an OIDC claim value or certificate name, in bytes.
const maxIdentity = 256

// EnrollBy asks for a person to be enrolled, as a custodian; another
// custodian approves (Approve). With local accounts, the request and the
// approval each give their custodian one half of the person's invitation
// (RequestInfo.InvitationPart): the person redeems both halves for a
// credential nobody else has seen.
func (v *Vault) EnrollBy(ctx context.Context, who Principal, e Enrolment) (*RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "person.enroll", e.Name); err != nil {
		return nil, err
	}
	if err := checkPersonName(e.Name); err != nil {
		return nil, err
	}
	if !roles[e.Role] {
		return nil, unknownRole(e.Role)
	}
	for _, f := range []struct{ field, value string }{{"oidc", e.OIDC}, {"certificate", e.Certificate}} {
		if f.value != "" {
			if err := checkText(f.field+" name", f.value, maxIdentity, false, false); err != nil {
				return nil, err
			}
		}
	}
	return v.openRequest(ctx, who, Request{Kind: KindEnroll, Person: e.Name, Reason: e.Reason},
		enrollParams{Name: e.Name, Role: e.Role, OIDC: e.OIDC, Certificate: e.Certificate})
}

// Reissue asks for a person's local credential to be replaced: once
// another custodian approves, the old credential and every session of the
// person end, and a new invitation (in two halves, as at enrolment)
// replaces them. The reason (optional, at most 1,024 bytes) is recorded
// with the request.
func (v *Vault) Reissue(ctx context.Context, who Principal, name, reason string) (*RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "person.reissue", name); err != nil {
		return nil, err
	}
	if err := checkPersonName(name); err != nil {
		return nil, err
	}
	return v.openRequest(ctx, who, Request{Kind: KindReissue, Person: name, Reason: reason}, struct{}{})
}

// Reinstate asks for a suspended person to be reinstated; another
// custodian approves. The reason (optional) is recorded with the request.
func (v *Vault) Reinstate(ctx context.Context, who Principal, name, reason string) (*RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "person.reinstate", name); err != nil {
		return nil, err
	}
	if err := checkPersonName(name); err != nil {
		return nil, err
	}
	return v.openRequest(ctx, who, Request{Kind: KindReinstate, Person: name, Reason: reason}, struct{}{})
}

// Suspend takes a person's power away at once, as one custodian: their
// sessions end and every later act of theirs is refused, until two
// custodians reinstate them. Remove does the same for good: a removed
// person's name is never enrolled again. recorded is false when a
// suspension is asked for a person already suspended: nothing was
// recorded, and the reason given was not kept.
//
// Suspending or removing a custodian that would leave fewer than two
// active custodians is refused (ErrConflict) unless opts holds
// LeavingFewerCustodians: with one custodian no two-person decision can
// be approved again, not even a reinstatement, and the vault's operator
// cannot enrol a custodian into a vault in use (docs/identity.md).
func (v *Vault) Suspend(ctx context.Context, who Principal, name, reason string, opts ...StatusOption) (recorded bool, err error) {
	return v.setStatus(ctx, who, name, reason, TypePersonSuspended, opts)
}

// Remove removes a person for good (see Suspend).
func (v *Vault) Remove(ctx context.Context, who Principal, name, reason string, opts ...StatusOption) (recorded bool, err error) {
	return v.setStatus(ctx, who, name, reason, TypePersonRemoved, opts)
}

// StatusOption qualifies Suspend and Remove.
type StatusOption int

// LeavingFewerCustodians confirms a suspension or removal that leaves
// fewer than two active custodians (a custodian who must lose access at
// once, in a vault with no third).
const LeavingFewerCustodians StatusOption = 1

func (v *Vault) setStatus(ctx context.Context, who Principal, name, reason, typ string, opts []StatusOption) (bool, error) {
	action := map[string]string{TypePersonSuspended: "person.suspend", TypePersonRemoved: "person.remove"}[typ]
	if err := v.MayAsk(ctx, who, action, name); err != nil {
		return false, err
	}
	if err := checkPersonName(name); err != nil {
		return false, err
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return false, err
	}
	confirmed := slices.Contains(opts, LeavingFewerCustodians)
	pre := func() error {
		p, err := v.enrolled(name)
		if err == nil && p.Suspended && typ == TypePersonSuspended {
			return errUnchanged
		}
		if err == nil && !confirmed && p.Role == RoleCustodian && !p.Suspended {
			if left := v.state.activeCustodiansBut(name, v.cfg.Now()); left < 2 {
				verb, cmd := "suspending", "suspend"
				if typ == TypePersonRemoved {
					verb, cmd = "removing", "remove"
				}
				return refusedHint(ErrConflict, fmt.Sprintf("enrol another custodian first; if %s must lose access now all the same, confirm it (custos person %s %s --reason TEXT --leaving-fewer-custodians, or the box on the people page)", name, cmd, name),
					"%s %s would leave %d active custodian(s): no two-person decision could be approved again, not even a reinstatement, and no custodian can be enrolled into a vault in use",
					verb, name, left)
			}
		}
		return err
	}
	if err := pre(); err != nil {
		return false, v.refusedAs(ctx, who, action, name, err)
	}
	check := func(ahead []*events.Event) error {
		if touchesPersons(ahead) {
			return sequencer.ErrNotYet
		}
		return pre()
	}
	evs, err := v.append(ctx, sequencer.Draft{Type: typ, Actor: who.actor(), Check: check, Data: PersonStatus{Name: name, Reason: reason}})
	return len(evs) > 0, v.refusedAs(ctx, who, action, name, err)
}

// PersonInfo describes a person to a custodian or an auditor.
type PersonInfo struct {
	Certificate  string `json:"certificate,omitempty"`
	HasRecipient bool   `json:"has_recipient,omitempty"`
	Name         string `json:"name"`
	OIDC         string `json:"oidc,omitempty"`
	Role         string `json:"role"`
	Status       string `json:"status"` // active, suspended, removed, invited
	// Suspension is, for a suspended person, who suspended them, when
	// and why.
	Suspension *StatusNote `json:"suspension,omitempty"`
	// InvitationVoid is, for an invited person, the identity source
	// whose retirement voided their invitation (one of the custodians
	// asked or approved through it): it redeems nothing, and a re-issue
	// gives a new one.
	InvitationVoid string `json:"invitation_void,omitempty"`
	// InvitationExpires is, for a person holding an invitation not yet
	// redeemed, until when it may be redeemed (UTC, to the second);
	// past it, a re-issue gives a new one.
	InvitationExpires *time.Time `json:"invitation_expires,omitempty"`
	// Enrolment is how the person was enrolled: the custodian who
	// approved (by; "custos", the vault itself, for the custodians it
	// started with), the one who asked (requested_by) and why, and when
	// (at, UTC), as the person.enrolled event recorded them.
	Enrolment *StatusNote `json:"enrolment,omitempty"`
}

// PendingEnrolment is an enrolment a custodian asked for that no second
// custodian has decided yet (custos requests decides it): the name and
// role asked, the request, who asked and when, and until when it may
// be approved (UTC).
type PendingEnrolment struct {
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Request     string    `json:"request"`
	RequestedBy string    `json:"requested_by"`
	Opened      time.Time `json:"opened"`
	Expires     time.Time `json:"expires"`
	Reason      string    `json:"reason,omitempty"`
}

// Persons lists every person the vault knows, for custodians and
// auditors.
func (v *Vault) Persons(ctx context.Context, who Principal) ([]PersonInfo, error) {
	if who.Role != RoleCustodian && who.Role != RoleAuditor {
		return nil, v.refuse(ctx, who, "person.list", "", "only custodians and auditors list people", ErrForbidden)
	}
	var out []PersonInfo
	for _, p := range v.state.allPersons() {
		status := "active"
		switch {
		case p.Removed:
			status = "removed"
		case p.Suspended:
			status = "suspended"
		case p.invitation != nil:
			status = "invited"
		}
		info := PersonInfo{Name: p.Name, Role: p.Role, Status: status, OIDC: p.OIDC, Certificate: p.Certificate,
			HasRecipient: p.Recipient != "", Enrolment: p.Enrolment}
		if status == "suspended" {
			info.Suspension = p.Suspension // not once removed: no suspension is in force then
		}
		if p.invitation != nil && p.tokenSHA256 == "" {
			// Shown whatever the status: suspended or removed, the
			// person still holds it.
			info.InvitationVoid = p.invitation.void
			exp := p.invitation.expires.UTC()
			info.InvitationExpires = &exp
		}
		out = append(out, info)
	}
	return out, nil
}

// PendingEnrolments lists, oldest first, the enrolments asked for and
// not yet approved, rejected or expired, for custodians and auditors (as
// Persons): whom the vault is about to know. A request whose requester
// was suspended or removed since is not listed (it is never approved).
func (v *Vault) PendingEnrolments(ctx context.Context, who Principal) ([]PendingEnrolment, error) {
	if who.Role != RoleCustodian && who.Role != RoleAuditor {
		return nil, v.refuse(ctx, who, "person.list", "", "only custodians and auditors list people", ErrForbidden)
	}
	var out []PendingEnrolment
	now := v.cfg.Now()
	for _, r := range v.state.pendingRequests(now) {
		if r.Kind != KindEnroll || !v.listable(r) {
			continue
		}
		if r.Expires = v.requestExpires(r); !now.Before(r.Expires) {
			continue
		}
		p := params[enrollParams](r)
		out = append(out, PendingEnrolment{Name: p.Name, Role: p.Role, Request: r.ID, RequestedBy: r.By,
			Opened: r.Opened.UTC(), Expires: r.Expires.UTC(), Reason: r.Reason})
	}
	return out, nil
}

func (r RequestInfo) String() string {
	return fmt.Sprintf("request %s (%s)", r.ID, r.Kind)
}
