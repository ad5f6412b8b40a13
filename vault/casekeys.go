package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/custos-vault/custos/events/sequencer"
)

// checkCaseKeys makes sure every live case has its key before the vault
// serves anyone: copies missing from the keyring folder are restored
// from their replicas, keys without replicas are replicated, and a case
// with no sealed copy left is named in the error that stops the start,
// with what to do. Cases whose loss a recovery recorded are not checked.
func (v *Vault) checkCaseKeys(ctx context.Context) error {
	have, err := v.keys.replicated(ctx)
	if err != nil {
		return err
	}
	cases := v.state.allCases()
	slices.Sort(cases)
	var missing []string
	for _, id := range cases {
		if c, _ := v.state.getCase(id); c.Destroyed || v.state.keyLost(id) {
			continue
		}
		sealed, recovery, err := v.keys.ensureReplicated(ctx, id, have)
		if err != nil {
			return fmt.Errorf("case %s: %w", id, err)
		}
		switch {
		case !sealed && recovery:
			missing = append(missing, id+" (only its recovery copy is left: run `custos admin recover` with the recovery identity)")
		case !sealed:
			missing = append(missing, id+" (no copy of its key is left: restore the keyring folder from a backup, or let `custos admin recover` record the loss)")
		case !recovery:
			v.logger.Warn("a case key has no recovery copy; if the sealer is lost, so is the case", "case", id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d live case(s) have no usable key: %s", len(missing), strings.Join(missing, "; "))
	}
	return nil
}

// caseIdentity unseals the key of a case, bound to the recipient its
// opening recorded. A failure is recorded as a key problem
// (case.key.failed) and returned wrapping ErrKey.
func (v *Vault) caseIdentity(ctx context.Context, caseID, itemID string) (*age.X25519Identity, error) {
	c, ok := v.state.getCase(caseID)
	if !ok {
		return nil, fmt.Errorf("%w: no case %s", ErrNotFound, caseID)
	}
	id, err := v.keys.caseIdentity(ctx, caseID, c.Recipient)
	if err == nil {
		return id, nil
	}
	_, lerr := v.append(context.WithoutCancel(ctx), sequencer.Draft{Type: TypeCaseKeyFailed, Actor: System,
		Case: caseID, Item: itemID, Data: KeyFailed{Reason: err.Error()}})
	v.logger.Error("case key problem", "case", caseID, "err", err)
	return nil, errors.Join(err, lerr)
}

// liveKeyReplicas returns the replica prefixes (replicaPrefix) of the keys
// of every case that is neither destroyed nor recorded as lost, and of the
// reporter-contacts key once the log records it, each with the path of
// the key file in the keyring folder that its replicas copy.
func (v *Vault) liveKeyReplicas() map[string]string {
	out := map[string]string{}
	add := func(id string) {
		for _, suffix := range []string{sealedSuffix, recoverySuffix} {
			out[replicaPrefix(id, suffix)] = v.keys.caseFile(id, suffix)
		}
	}
	if v.state.contactsRecipient() != "" {
		add(contactsKeyID)
	}
	for _, id := range v.state.allCases() {
		if c, _ := v.state.getCase(id); !c.Destroyed {
			add(id)
		}
	}
	return out
}
