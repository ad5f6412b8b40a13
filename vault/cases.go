package vault

import (
	"context"
	"fmt"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sequencer"
)

// OpenCase opens a case with its own age identity. The opener becomes a
// member.
func (v *Vault) OpenCase(ctx context.Context, who Principal, caseID, title string) error {
	if who.Role != RoleInvestigator && who.Role != RoleCustodian {
		return v.refuse(ctx, who, "case.open", caseID, "only investigators and custodians open cases", ErrForbidden)
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	if err := checkText("title", title, 256, true, false); err != nil {
		return err
	}
	if _, exists := v.state.getCase(caseID); exists {
		return fmt.Errorf("%w: case %s already exists", ErrConflict, caseID)
	}
	recipient, err := v.keys.newCaseKey(ctx, caseID, v.recovery)
	if err != nil {
		return err
	}
	_, err = v.log.Append(ctx, sequencer.Draft{Type: TypeCaseOpened, Actor: who.actor(), Case: caseID,
		Data: CaseOpened{Title: title, Recipient: recipient, Sealer: v.cfg.Sealer.KeyRef(), Members: []string{who.Name}}})
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
	return who.Role == RoleInvestigator && c.Members[who.Name]
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
