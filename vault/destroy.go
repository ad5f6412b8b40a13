package vault

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/durable"
)

// RequestDestruction records a custodian's request to destroy a case under
// a court order. Nothing is destroyed until a second custodian approves.
func (v *Vault) RequestDestruction(ctx context.Context, who Principal, caseID, order, reason string) (string, error) {
	if who.Role != RoleCustodian {
		return "", v.refuse(ctx, who, "case.destroy.request", caseID, "only custodians request destruction", ErrForbidden)
	}
	if err := checkCaseID(caseID); err != nil {
		return "", err
	}
	if err := checkText("court order", order, 256, true, false); err != nil {
		return "", err
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return "", err
	}
	c, ok := v.state.getCase(caseID)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: no case %s", ErrNotFound, caseID)
	case c.Destroyed:
		return "", fmt.Errorf("%w: case %s is already destroyed", ErrConflict, caseID)
	case c.Held:
		return "", v.refuse(ctx, who, "case.destroy.request", caseID, "the case is under a legal hold", ErrConflict)
	}
	id := "dr_" + randomHex(8)
	_, err := v.log.Append(ctx, sequencer.Draft{Type: TypeDestroyRequest, Actor: who.actor(), Case: caseID,
		Data: DestructionRequested{Request: id, Order: order, Reason: reason}})
	return id, err
}

// DestroyResult describes a destroyed case.
type DestroyResult struct {
	Case     string   `json:"case"`
	Deleted  []string `json:"deleted"`
	Retained []string `json:"retained"`
}

// ApproveDestruction is the second custodian's approval: the approval is
// recorded, then the case's key copies (sealed and recovery) are destroyed,
// which makes its evidence unreadable for good (crypto-shredding), then
// its objects are deleted where their retention allows, and the outcome is
// recorded citing the order and both custodians.
func (v *Vault) ApproveDestruction(ctx context.Context, who Principal, caseID, request string) (*DestroyResult, error) {
	if who.Role != RoleCustodian {
		return nil, v.refuse(ctx, who, "case.destroy.approve", caseID, "only custodians approve destruction", ErrForbidden)
	}
	if err := checkCaseID(caseID); err != nil {
		return nil, err
	}
	c, ok := v.state.getCase(caseID)
	if !ok {
		return nil, fmt.Errorf("%w: no case %s", ErrNotFound, caseID)
	}
	req, ok := c.Requests[request]
	if !ok {
		return nil, fmt.Errorf("%w: no pending destruction request %q for case %s", ErrNotFound, request, caseID)
	}
	if req.By == who.Name {
		return nil, v.refuse(ctx, who, "case.destroy.approve", caseID, "a custodian cannot approve their own request; a second custodian must", ErrForbidden)
	}
	if c.Held {
		return nil, v.refuse(ctx, who, "case.destroy.approve", caseID, "the case is under a legal hold", ErrConflict)
	}
	if _, err := v.log.Append(ctx, sequencer.Draft{Type: TypeDestroyApproved, Actor: who.actor(), Case: caseID,
		Data: DestructionApproved{Request: request, Order: req.Order, RequestedBy: req.By}}); err != nil {
		return nil, err
	}
	for _, suffix := range []string{".sealed", ".recovery.age"} {
		if err := os.Remove(v.keys.caseFile(caseID, suffix)); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("destroying the key of case %s: %w", caseID, err)
		}
	}
	if err := durable.SyncDir(filepath.Dir(v.keys.caseFile(caseID, ""))); err != nil {
		return nil, err
	}
	res := &DestroyResult{Case: caseID, Deleted: []string{}, Retained: []string{}}
	for _, o := range v.state.caseObjects(caseID) {
		if err := v.objects.Delete(ctx, o); err != nil {
			res.Retained = append(res.Retained, o)
		} else {
			res.Deleted = append(res.Deleted, o)
		}
	}
	_, err := v.log.Append(ctx, sequencer.Draft{Type: TypeCaseDestroyed, Actor: who.actor(), Case: caseID,
		Data: CaseDestroyed{Request: request, Order: req.Order, Deleted: res.Deleted, Retained: res.Retained}})
	return res, err
}
