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
