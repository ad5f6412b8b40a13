package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/objects"
)

// RequestDestruction records a custodian's request to destroy a case under
// a court order. Nothing is destroyed until a second custodian approves.
func (v *Vault) RequestDestruction(ctx context.Context, who Principal, caseID, order, reason string) (string, error) {
	if err := v.MayAsk(ctx, who, "case.destroy.request", caseID); err != nil {
		return "", err
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
	pre := func(c Case, ok bool) error {
		switch {
		case !ok:
			return refused(ErrNotFound, "no case %s", caseID)
		case c.Destroyed:
			return refused(ErrConflict, "case %s is already destroyed", caseID)
		case c.Held:
			return refusedHints(ErrConflict, fmt.Sprintf("nothing of it is destroyed while the hold stands: the hold is lifted first (custos case release %s --reason TEXT)", caseID),
				"nothing of it is destroyed while the hold stands: the hold is lifted first, on the case's manage page", "the case is under a legal hold")
		}
		// One request at a time, as for two-person requests: an
		// approver never faces two look-alike lines.
		for _, r := range c.Requests {
			if v.destructionVoid(r) == nil {
				return refusedHints(ErrConflict, fmt.Sprintf("a second custodian approves or rejects it, or its custodian withdraws it (custos reject %s --reason TEXT)", r.Request),
					"a second custodian approves or rejects it on the case's manage page, or its custodian withdraws it on the Approvals page",
					"case %s already has destruction request %s pending (asked by %s under order %q, until %s)",
					caseID, r.Request, r.By, r.Order, spokenTime(v.destructionExpires(r)))
			}
		}
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return "", v.refusedAs(ctx, who, "case.destroy.request", caseID, err)
	}
	id := "dr_" + randomHex(8)
	expires := v.cfg.Now().Add(v.cfg.RequestTTL).UTC().Truncate(time.Second).Format(time.RFC3339)
	_, err := v.decide(ctx, who, "case.destroy.request", caseID, pre, sequencer.Draft{Type: TypeDestructionRequested, Actor: who.actor(), Case: caseID,
		Data: DestructionRequested{Request: id, Order: order, Reason: reason, Expires: expires, ClientCAs: who.clientCAs()}})
	if err != nil {
		return "", err
	}
	return id, nil
}

// rejectDestruction ends a pending destruction request unapproved, with a
// reason, as any custodian: its requester withdraws it, another rejects
// it. A void one (expired, its requester suspended or removed) may be
// ended too, so that it leaves the case's record closed.
func (v *Vault) rejectDestruction(ctx context.Context, who Principal, id, reason string) (*RequestInfo, error) {
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return nil, err
	}
	var caseID string
	for _, d := range v.state.pendingDestructions() {
		if d.Request == id {
			caseID = d.Case
		}
	}
	if caseID == "" {
		return nil, v.refusedAs(ctx, who, "case.destroy.reject", id, v.notPending("destruction request", id))
	}
	var req DestructionRequest
	pre := func(c Case, ok bool) error {
		r, pending := c.Requests[id]
		if !ok || c.Destroyed || !pending {
			return v.notPending("destruction request", id)
		}
		// Ended already (expired, or void), though its case keeps it:
		// decided no more, so that how it ended stays what its
		// requester is told (EndedRequests).
		if err := v.destructionVoid(r); err != nil {
			return err
		}
		req = r
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return nil, v.refusedAs(ctx, who, "case.destroy.reject", caseID, err)
	}
	if _, err := v.decide(ctx, who, "case.destroy.reject", caseID, pre, sequencer.Draft{Type: TypeDestructionRejected, Actor: who.actor(), Case: caseID,
		Data: DestructionRejected{Request: id, RequestedBy: req.By, Reason: reason}}); err != nil {
		return nil, err
	}
	return &RequestInfo{ID: id, Kind: KindDestroy, Case: caseID, By: req.By, Expires: v.destructionExpires(req)}, nil
}

// DefaultRequestTTL is how long a request may be approved when the
// vault's configuration says nothing (Config.RequestTTL).
const DefaultRequestTTL = 7 * 24 * time.Hour

// KindDestroy is the kind a destruction request is listed and answered
// under (custos requests, custos reject): it is not a two-person request
// of requestKinds, but decided on its own (ApproveDestruction).
const KindDestroy = "case.destroy"

// DestroyResult describes a destroyed case.
type DestroyResult struct {
	Case     string   `json:"case"`
	Deleted  []string `json:"deleted"`
	Retained []string `json:"retained"`
}

// RetainedPackages are the retained objects that are package files
// (pk/): encrypted to their recipients' own keys, not the case's, so
// readable by those recipients until the store deletes them.
func (r *DestroyResult) RetainedPackages() []string {
	return slices.DeleteFunc(slices.Clone(r.Retained), func(o string) bool { return !strings.HasPrefix(o, packagePrefix) })
}

// RetainedEvidence are the other retained objects (the items' files,
// their descriptions): unreadable without the destroyed keys.
func (r *DestroyResult) RetainedEvidence() []string {
	return slices.DeleteFunc(slices.Clone(r.Retained), func(o string) bool { return strings.HasPrefix(o, packagePrefix) })
}

// ApproveDestruction is the second custodian's approval: the approval is
// recorded, then the case's key copies (sealed and recovery) are destroyed,
// which makes its evidence unreadable for good (crypto-shredding), then
// its objects are deleted where their retention allows, and the outcome is
// recorded citing the order and both custodians.
func (v *Vault) ApproveDestruction(ctx context.Context, who Principal, caseID, request string) (*DestroyResult, error) {
	if err := v.MayApproveDestruction(ctx, who, caseID); err != nil {
		return nil, err
	}
	if err := checkCaseID(caseID); err != nil {
		return nil, err
	}
	// An approval whose shredding was interrupted (a key copy that could
	// not be deleted, a crash) is finished by approving it again.
	if c, ok := v.state.getCase(caseID); ok && c.Destroyed && !c.Shredded && c.Approved.Request == request {
		return v.finishDestruction(ctx, who.actor(), caseID)
	}
	var req DestructionRequest
	// A request of another case, named with the wrong case: which one
	// it is, for the custodian (who sees every case) to approve it there.
	var elsewhere string
	if c, ok := v.state.getCase(caseID); ok {
		if _, has := c.Requests[request]; !has {
			elsewhere = v.destructionCaseOf(request)
		}
	}
	pre := func(c Case, ok bool) error {
		r, pending := c.Requests[request]
		switch {
		case !ok:
			return refused(ErrNotFound, "no case %s", caseID)
		case c.Destroyed:
			return refused(ErrConflict, "case %s is already destroyed", caseID)
		case !pending:
			if _, ended := v.state.requestEnded(request); ended {
				return v.notPending("destruction request", request)
			}
			if elsewhere != "" && elsewhere != caseID {
				return refusedHints(ErrNotFound, fmt.Sprintf("custos case approve-destruction %s %s", elsewhere, request),
					fmt.Sprintf("approve it on the manage page of case %s", elsewhere), "destruction request %q is of case %s, not %s", request, elsewhere, caseID)
			}
			return refused(ErrNotFound, "no pending destruction request %q for case %s", request, caseID)
		case r.By == who.Name:
			return refused(ErrForbidden, "a custodian cannot approve their own request; a second custodian must")
		case r.HeldAfter != 0:
			// Void by a hold, whether it stands or not: lifting it
			// would not help.
			return v.destructionVoid(r)
		case c.Held:
			return refusedHints(ErrConflict, fmt.Sprintf("nothing of it is destroyed while the hold stands: the hold is lifted first (custos case release %s --reason TEXT), or the request rejected (custos reject %s --reason TEXT)", caseID, request),
				"nothing of it is destroyed while the hold stands: the hold is lifted first, on the case's manage page, or the request rejected on the Approvals page", "the case is under a legal hold")
		}
		if err := v.destructionVoid(r); err != nil {
			return err
		}
		req = r
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return nil, v.refusedAs(ctx, who, "case.destroy.approve", caseID, err)
	}
	// A request never changes once recorded: if it is still pending at
	// the approval's position, it is the one read above.
	if _, err := v.decide(ctx, who, "case.destroy.approve", caseID, pre, sequencer.Draft{Type: TypeDestructionApproved, Actor: who.actor(), Case: caseID,
		Data: DestructionApproved{Request: request, Order: req.Order, RequestedBy: req.By}}); err != nil {
		return nil, err
	}
	return v.finishDestruction(ctx, who.actor(), caseID)
}

// finishDestruction carries out a recorded approval: every copy of the
// case's key is destroyed (crypto-shredding), its objects are deleted
// where retention allows, and the outcome is recorded. It can run again
// after an interruption: each step is idempotent.
func (v *Vault) finishDestruction(ctx context.Context, by events.Actor, caseID string) (*DestroyResult, error) {
	c, _ := v.state.getCase(caseID)
	v.keysMu.Lock()
	err := v.keys.destroyCase(ctx, caseID)
	v.keysMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("destroying the key of case %s (approve again to finish): %w", caseID, err)
	}
	res := &DestroyResult{Case: caseID, Deleted: []string{}, Retained: []string{}}
	objs, err := v.state.caseObjects(caseID)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		switch err := v.objects.Delete(ctx, o); {
		case err == nil, errors.Is(err, objects.ErrNotFound):
			res.Deleted = append(res.Deleted, o)
		default:
			res.Retained = append(res.Retained, o)
		}
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeCaseDestroyed, Actor: by, Case: caseID,
		Data: CaseDestroyed{Request: c.Approved.Request, Order: c.Approved.Order, Deleted: res.Deleted, Retained: res.Retained}})
	return res, err
}

// finishInterruptedDestructions finishes, at start, every approved
// destruction that has no case.destroyed event, and makes sure no copy of
// a destroyed case's key is left (a keyring restored from a backup taken
// before the destruction brings them back). Failures are logged: the
// case stays destroyed for every request whatever happens here.
func (v *Vault) finishInterruptedDestructions(ctx context.Context) {
	// One listing of the replicas serves every case: a destroyed case's
	// keys are looked for only where a copy exists.
	have, err := v.keys.replicated(ctx)
	if err != nil {
		v.logger.Error("could not list key replicas to check destroyed cases", "err", err)
		return
	}
	for _, id := range v.state.allCases() {
		c, _ := v.state.getCase(id)
		switch {
		case c.Destroyed && !c.Shredded:
			v.logger.Warn("finishing an interrupted destruction", "case", id)
			if _, err := v.finishDestruction(ctx, System, id); err != nil {
				v.logger.Error("could not finish a destruction; approve it again", "case", id, "err", err)
			}
		case c.Destroyed && v.keys.anyCopy(id, have):
			// A shredded key that came back is a custody fact: recorded
			// before the copies go. Only what holds the key's recorded
			// bytes is a copy of it; anything else under its names is
			// left for a scrub to list.
			copies, err := v.keys.keyCopies(ctx, id, v.state.keyFilesOf(id), have)
			if err != nil {
				v.logger.Error("could not read what is left of a destroyed case's key", "case", id, "err", err)
				continue
			}
			if len(copies) == 0 {
				continue
			}
			v.logger.Warn("a copy of a destroyed case's key is back (a keyring or bucket restored from a backup taken before the destruction, or put there); it is removed", "case", id, "copies", len(copies))
			if _, err := v.append(ctx, sequencer.Draft{Type: TypeCaseKeyFailed, Actor: System, Case: id, Data: KeyFailed{
				Reason: fmt.Sprintf("%d copies of the key of this destroyed case were found at a start (in the keyring folder or the object store: a backup taken before the destruction restored, or put there) and are removed where the store allows; the backups they came from must be destroyed too", len(copies))}}); err != nil {
				v.logger.Error("could not record a destroyed case's key copy; it is left for the next start", "case", id, "err", err)
				continue
			}
			v.keysMu.Lock()
			err = v.keys.destroyCase(ctx, id)
			v.keysMu.Unlock()
			if err != nil {
				v.logger.Error("a key copy of a destroyed case could not be removed", "case", id, "err", err)
			}
		}
	}
}

// destructionCaseOf is the case whose pending destruction requests
// include request ("" if none's do).
func (v *Vault) destructionCaseOf(request string) string {
	for _, id := range v.state.allCases() {
		if c, ok := v.state.getCase(id); ok {
			if _, has := c.Requests[request]; has {
				return id
			}
		}
	}
	return ""
}
