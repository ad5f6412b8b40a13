package vault

import (
	"context"
	"slices"
)

// Who may ask, for front ends that read a request before calling the
// vault (the web application's forms): security.md rule 9 wants the
// refusal of who may not ask decided, and recorded, before anything of
// what they asked shapes the answer, a malformed field included. The
// vault's own methods check again; these give the same refusal first.

// RefuseUnlessRole refuses who unless their role is one of roles,
// recording the refusal (action, target and reason as the vault method
// that would refuse them records it); nil otherwise.
func (v *Vault) RefuseUnlessRole(ctx context.Context, who Principal, action, target, reason string, roles ...string) error {
	if slices.Contains(roles, who.Role) {
		return nil
	}
	return v.refuse(ctx, who, action, target, reason, ErrForbidden)
}

// MayWorkOnReport refuses, and records, who may not work on report id
// (an analyst of the case it is assessed into, or any analyst before it
// is assessed), as every decision about a report does first.
func (v *Vault) MayWorkOnReport(ctx context.Context, who Principal, action, id string) error {
	return v.mayWorkOnReport(ctx, who, action, id)
}
