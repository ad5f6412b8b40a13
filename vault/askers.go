package vault

import "context"

// Who may ask, decided before anything of the request is read
// (security.md rule 9). Each vault method that takes such a decision
// calls its gate first; a front end that reads a request before calling
// the vault (the web application's forms) calls the same gate first, so
// that a malformed field from someone who may not ask at all is their
// recorded refusal, not bad input. A refused gate records the refusal
// (action, target and reason as its method's) and returns it.

// MayReadStatistics gates Statistics: custodians, auditors and analysts.
func (v *Vault) MayReadStatistics(ctx context.Context, who Principal) error {
	if !readsReports(who.Role) {
		return v.refuse(ctx, who, "stats", "", "only custodians, auditors and analysts read the statistics", ErrForbidden)
	}
	return nil
}

// MaySetHold gates SetHold: custodians place (on) and lift legal holds.
func (v *Vault) MaySetHold(ctx context.Context, who Principal, caseID string, on bool) error {
	if who.Role != RoleCustodian {
		action := map[bool]string{true: "case.hold", false: "case.release"}[on]
		return v.refuse(ctx, who, action, caseID, "only custodians place or lift legal holds", ErrForbidden)
	}
	return nil
}

// MaySetClassificationPolicy gates SetClassificationPolicy: custodians.
func (v *Vault) MaySetClassificationPolicy(ctx context.Context, who Principal, caseID string) error {
	if who.Role != RoleCustodian {
		return v.refuse(ctx, who, "case.classification.policy", caseID, "only custodians set a case's classification policy", ErrForbidden)
	}
	return nil
}

// MayApproveDestruction gates ApproveDestruction: custodians (another
// than the requester, which the approval decides with the request).
func (v *Vault) MayApproveDestruction(ctx context.Context, who Principal, caseID string) error {
	if who.Role != RoleCustodian {
		return v.refuse(ctx, who, "case.destroy.approve", caseID, "only custodians approve destruction", ErrForbidden)
	}
	return nil
}

// MayWorkOnReport gates every decision about a report: an analyst of the
// case it is assessed into, or any analyst before it is assessed.
func (v *Vault) MayWorkOnReport(ctx context.Context, who Principal, action, id string) error {
	return v.mayWorkOnReport(ctx, who, action, id)
}
