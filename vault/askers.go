package vault

import (
	"context"
	"slices"
)

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
	return v.MayAsk(ctx, who, map[bool]string{true: "case.hold", false: "case.release"}[on], caseID)
}

// MaySetClassificationPolicy gates SetClassificationPolicy: custodians.
func (v *Vault) MaySetClassificationPolicy(ctx context.Context, who Principal, caseID string) error {
	return v.MayAsk(ctx, who, "case.classification.policy", caseID)
}

// MayApproveDestruction gates ApproveDestruction: custodians (another
// than the requester, which the approval decides with the request).
func (v *Vault) MayApproveDestruction(ctx context.Context, who Principal, caseID string) error {
	return v.MayAsk(ctx, who, "case.destroy.approve", caseID)
}

// MayWorkOnReport gates every decision about a report: an analyst of the
// case it is assessed into, or any analyst before it is assessed.
func (v *Vault) MayWorkOnReport(ctx context.Context, who Principal, action, id string) error {
	return v.mayWorkOnReport(ctx, who, action, id)
}

// roleGate is a decision that only some roles may ask for at all, and the
// reason a person in another role is refused with (recorded, and
// answered ErrForbidden).
type roleGate struct {
	roles  []string
	reason string
}

// roleGates are the decisions decided by the asker's role before anything
// else, by action (the action their refusals are recorded under). Each
// method below calls MayAsk with its action first; so does the API, before
// it reads the request's body (api.Route.Asks).
var roleGates = map[string]roleGate{
	"person.enroll":        {[]string{RoleCustodian}, "only custodians enrol people"},
	"person.reissue":       {[]string{RoleCustodian}, "only custodians re-issue credentials"},
	"person.reinstate":     {[]string{RoleCustodian}, "only custodians reinstate people"},
	"person.suspend":       {[]string{RoleCustodian}, "only custodians suspend or remove people"},
	"person.remove":        {[]string{RoleCustodian}, "only custodians suspend or remove people"},
	"case.open":            {[]string{RoleInvestigator, RoleAnalyst, RoleCustodian}, "only investigators, analysts and custodians open cases"},
	"case.member.add":      {[]string{RoleCustodian}, "only custodians assign people to cases"},
	"case.member.remove":   {[]string{RoleCustodian}, "only custodians change who is assigned to a case"},
	"case.policy":          {[]string{RoleCustodian}, "only custodians set a case's policy"},
	"case.destroy.request": {[]string{RoleCustodian}, "only custodians request destruction"},
	"case.destroy.approve": {[]string{RoleCustodian}, "only custodians approve destruction"},
	"case.hold":            {[]string{RoleCustodian}, "only custodians place or lift legal holds"},
	"case.release":         {[]string{RoleCustodian}, "only custodians place or lift legal holds"},
	// Either, before the request says which (the API's, before its
	// body is read).
	"case.hold.set":              {[]string{RoleCustodian}, "only custodians place or lift legal holds"},
	"case.classification.policy": {[]string{RoleCustodian}, "only custodians set a case's classification policy"},
	"request.approve":            {[]string{RoleCustodian}, "only custodians approve requests"},
	"recipient.set":              {[]string{RoleProsecutor, RoleDefence}, "only prosecutors and defence counsel register package recipients"},
	"receipt.key.set":            {[]string{RoleProsecutor, RoleDefence}, "only prosecutors and defence counsel register receipt keys"},
	"hashset.import":             {[]string{RoleCustodian}, "only custodians import hash sets"},
	"hashset.remove":             {[]string{RoleCustodian}, "only custodians remove hash sets"},
	"audit.scrub":                {[]string{RoleAuditor, RoleCustodian}, "only auditors and custodians scrub"},
	"keys.rotate":                {[]string{RoleCustodian}, "only custodians rotate key-encryption keys"},
	"report.record":              {[]string{RoleAnalyst}, "only analysts record reports"},
}

// reportDecisions are the decisions about one report (target: its id),
// gated by MayWorkOnReport.
var reportDecisions = []string{"report.assess", "report.close", "report.reopen", "report.notice", "report.acknowledged", "report.removed"}

// MayAsk is the gate of the decision action about target (a case, a
// person, a report's id, a hash set's name; "" where the request names it
// in its body, or names none): refused and recorded, ErrForbidden (a
// report's: as MayWorkOnReport answers), if who may not ask for it at
// all. An action without a gate is a programming error, and panics.
func (v *Vault) MayAsk(ctx context.Context, who Principal, action, target string) error {
	if slices.Contains(reportDecisions, action) {
		return v.mayWorkOnReport(ctx, who, action, target)
	}
	g, ok := roleGates[action]
	if !ok {
		panic("vault: no gate for " + action)
	}
	if !slices.Contains(g.roles, who.Role) {
		return v.refuse(ctx, who, action, target, g.reason, ErrForbidden)
	}
	return nil
}

// AskingRoles are the roles that may ask for the decision action at all
// (MayAsk): analysts for a report's decisions; nil for an action without
// a gate.
func AskingRoles(action string) []string {
	if slices.Contains(reportDecisions, action) {
		return []string{RoleAnalyst}
	}
	return slices.Clone(roleGates[action].roles)
}

// The reasons of a refused look at an item (Open, MaySeeItem).
const (
	itemViewers     = "only investigators and analysts assigned to the case view its items"
	itemViewersRule = "items are seen only by the investigators and analysts assigned to their case"
)

// MaySeeItem gates Open: an item of a case who is assigned to. An unknown
// item and one of another case are answered alike (ErrNotFound) and
// recorded with the truth (item.get). A malformed id is ErrBadInput.
func (v *Vault) MaySeeItem(ctx context.Context, who Principal, itemID string) error {
	if err := checkItemID(itemID); err != nil {
		return err
	}
	_, err := v.assignedItem(ctx, who, "item.get", itemID, itemViewers, itemViewersRule)
	return err
}

// MayReadReport gates ReportDetail and ReportAfter: analysts, custodians
// and auditors read reports; anyone else, and an unknown report, are
// answered alike (ErrNotFound) and recorded with the truth (report.show).
// A malformed id is ErrBadInput.
func (v *Vault) MayReadReport(ctx context.Context, who Principal, id string) error {
	if err := checkReportID(id); err != nil {
		return err
	}
	_, ok := v.state.getReport(id)
	if !ok || !readsReports(who.Role) {
		return v.refuseUnseen(ctx, who, "report.show", "report", id, ok, "only analysts, custodians and auditors read reports", "reports are read by analysts, custodians and auditors")
	}
	return nil
}

// MaySearchSimilar gates Similar: one item (itemID) or every item of a
// case (itemID ""), for the analysts and investigators assigned to its
// case; an unknown item or case and one of another case are answered
// alike (ErrNotFound) and recorded with the truth (item.similar,
// case.similar). A malformed id is ErrBadInput.
func (v *Vault) MaySearchSimilar(ctx context.Context, who Principal, caseID, itemID string) error {
	const rule = "only the case's analysts and investigators search its items"
	if itemID != "" {
		if err := checkItemID(itemID); err != nil {
			return err
		}
		_, err := v.assignedItem(ctx, who, "item.similar", itemID, "not assigned to the item's case", rule)
		return err
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	c, ok := v.state.getCase(caseID)
	if !ok || !assigned(who, c) {
		return v.refuseUnseen(ctx, who, "case.similar", "case", caseID, ok, "not assigned to the case", rule)
	}
	return nil
}
