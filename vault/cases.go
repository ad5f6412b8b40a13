package vault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sequencer"
)

// OpenCase opens a case with its own age identity. The opener becomes a
// member.
func (v *Vault) OpenCase(ctx context.Context, who Principal, caseID, title string) error {
	return v.OpenCaseWith(ctx, who, caseID, title, 0)
}

// OpenCaseWith opens a case whose objects are kept write-once for
// retention instead of the vault's default (0 keeps the default).
func (v *Vault) OpenCaseWith(ctx context.Context, who Principal, caseID, title string, retention time.Duration) error {
	if who.Role != RoleInvestigator && who.Role != RoleCustodian {
		return v.refuse(ctx, who, "case.open", caseID, "only investigators and custodians open cases", ErrForbidden)
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	if err := checkText("title", title, 256, true, false); err != nil {
		return err
	}
	if retention < 0 || retention > 100*365*24*time.Hour {
		return badInput("retention %s is out of range (0 to 100 years)", retention)
	}
	if _, exists := v.state.getCase(caseID); exists {
		return fmt.Errorf("%w: case %s already exists", ErrConflict, caseID)
	}
	recipient, err := v.keys.newCaseKey(ctx, caseID, v.recovery)
	if err != nil {
		return err
	}
	_, err = v.log.Append(ctx, sequencer.Draft{Type: TypeCaseOpened, Actor: who.actor(), Case: caseID,
		Data: CaseOpened{Title: title, Retention: durationString(retention), Recipient: recipient, Sealer: v.cfg.Sealer.KeyRef(), Members: []string{who.Name}}})
	return err
}

// SetRecipient registers the age recipient a prosecutor receives packages
// for.
func (v *Vault) SetRecipient(ctx context.Context, who Principal, recipient string) (string, error) {
	if who.Role != RoleProsecutor {
		return "", v.refuse(ctx, who, "recipient.set", "", "only prosecutors register package recipients", ErrForbidden)
	}
	recipient = strings.TrimSpace(recipient)
	if len(recipient) > 256 {
		return "", badInput("recipient too long")
	}
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		return "", badInput("recipient %q is not an age X25519 recipient (age1...)", truncate(recipient))
	}
	_, err = v.log.Append(ctx, sequencer.Draft{Type: TypeRecipientSet, Actor: who.actor(), Data: RecipientSet{Recipient: r.String()}})
	return r.String(), err
}

// memberOf checks that who may act on the case's evidence: an investigator
// assigned to it. Custodians manage cases but do not view evidence.
func (v *Vault) memberOf(who Principal, c Case) bool {
	return who.Role == RoleInvestigator && c.Members[who.Name] && !c.Destroyed
}

// AddMember assigns an investigator to a case. Only custodians manage
// membership.
func (v *Vault) AddMember(ctx context.Context, who Principal, caseID, person string) error {
	if who.Role != RoleCustodian {
		return v.refuse(ctx, who, "case.member.add", caseID, "only custodians assign people to cases", ErrForbidden)
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	if err := checkPersonName(person); err != nil {
		return err
	}
	c, ok := v.state.getCase(caseID)
	if !ok {
		return fmt.Errorf("%w: no case %s", ErrNotFound, caseID)
	}
	p, ok := v.state.personByName(person)
	if !ok || p.Role != RoleInvestigator {
		return badInput("%s is not an investigator known to this vault", person)
	}
	if c.Members[person] {
		return fmt.Errorf("%w: %s is already assigned to %s", ErrConflict, person, caseID)
	}
	_, err := v.log.Append(ctx, sequencer.Draft{Type: TypeMemberAdded, Actor: who.actor(), Case: caseID, Data: MemberAdded{Person: person}})
	return err
}

// EnrollBy lets a custodian enrol a person (or issue a new token to one,
// which invalidates the old). The token is returned once and never stored.
func (v *Vault) EnrollBy(ctx context.Context, who Principal, name, role string) (string, error) {
	if who.Role != RoleCustodian {
		return "", v.refuse(ctx, who, "person.enroll", name, "only custodians enrol people", ErrForbidden)
	}
	if _, exists := v.state.personByName(name); exists {
		if p, _ := v.state.personByName(name); p.Role != role {
			return "", fmt.Errorf("%w: %s is already enrolled as %s", ErrConflict, name, p.Role)
		}
	}
	return v.enroll(ctx, who.actor(), name, role)
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// SetHold places (on) or lifts a legal hold on a case: every object of
// its items and packages gets, or loses, the object store's legal hold,
// which no retention date overrides. The decision is recorded first;
// asking again for the state the case is already in re-applies it to the
// objects (after a store outage) without a new event.
func (v *Vault) SetHold(ctx context.Context, who Principal, caseID string, on bool, reason string) (int, error) {
	action := map[bool]string{true: "case.hold", false: "case.release"}[on]
	if who.Role != RoleCustodian {
		return 0, v.refuse(ctx, who, action, caseID, "only custodians place or lift legal holds", ErrForbidden)
	}
	if err := checkCaseID(caseID); err != nil {
		return 0, err
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return 0, err
	}
	c, ok := v.state.getCase(caseID)
	if !ok {
		return 0, fmt.Errorf("%w: no case %s", ErrNotFound, caseID)
	}
	if c.Held != on {
		typ := map[bool]string{true: TypeHoldPlaced, false: TypeHoldLifted}[on]
		if _, err := v.log.Append(ctx, sequencer.Draft{Type: typ, Actor: who.actor(), Case: caseID, Data: HoldChanged{Reason: reason}}); err != nil {
			return 0, err
		}
	}
	objs := v.state.caseObjects(caseID)
	for _, o := range objs {
		if err := v.objects.SetLegalHold(ctx, o, on); err != nil {
			return 0, fmt.Errorf("%w: the hold is recorded but not yet applied to every object (%v); repeat the command", ErrUnavailable, err)
		}
	}
	return len(objs), nil
}
