package vault

import (
	"context"
	"slices"
	"strings"
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
	return v.MayAsk(ctx, who, "stats", "")
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
	// hint, if set, replaces the one askWhom words from roles.
	hint string
}

// roleGates are the decisions decided by the asker's role before anything
// else, by action (the action their refusals are recorded under). Each
// method below calls MayAsk with its action first; so does the API, before
// it reads the request's body (api.Route.Asks).
var roleGates = map[string]roleGate{
	"person.enroll":        {roles: []string{RoleCustodian}, reason: "only custodians enrol people"},
	"person.reissue":       {roles: []string{RoleCustodian}, reason: "only custodians re-issue credentials"},
	"person.reinstate":     {roles: []string{RoleCustodian}, reason: "only custodians reinstate people"},
	"person.suspend":       {roles: []string{RoleCustodian}, reason: "only custodians suspend or remove people"},
	"person.remove":        {roles: []string{RoleCustodian}, reason: "only custodians suspend or remove people"},
	"case.open":            {roles: []string{RoleInvestigator, RoleAnalyst, RoleCustodian}, reason: "only investigators, analysts and custodians open cases"},
	"case.member.add":      {roles: []string{RoleCustodian}, reason: "only custodians assign people to cases"},
	"case.member.remove":   {roles: []string{RoleCustodian}, reason: "only custodians change who is assigned to a case"},
	"case.policy":          {roles: []string{RoleCustodian}, reason: "only custodians set a case's policy"},
	"case.destroy.request": {roles: []string{RoleCustodian}, reason: "only custodians request destruction"},
	"case.destroy.approve": {roles: []string{RoleCustodian}, reason: "only custodians approve destruction"},
	"case.hold":            {roles: []string{RoleCustodian}, reason: "only custodians place or lift legal holds"},
	"case.release":         {roles: []string{RoleCustodian}, reason: "only custodians place or lift legal holds"},
	// Either, before the request says which (the API's, before its
	// body is read).
	"case.hold.set":              {roles: []string{RoleCustodian}, reason: "only custodians place or lift legal holds"},
	"case.classification.policy": {roles: []string{RoleCustodian}, reason: "only custodians set a case's classification policy"},
	"request.approve":            {roles: []string{RoleCustodian}, reason: "only custodians approve requests"},
	"recipient.set":              {roles: []string{RoleProsecutor, RoleDefence}, reason: "only prosecutors and defence counsel register package recipients"},
	"receipt.key.set":            {roles: []string{RoleProsecutor, RoleDefence}, reason: "only prosecutors and defence counsel register receipt keys"},
	"hashset.import":             {roles: []string{RoleCustodian}, reason: "only custodians import hash sets"},
	"hashset.remove":             {roles: []string{RoleCustodian}, reason: "only custodians remove hash sets"},
	"identity.source":            {roles: []string{RoleCustodian}, reason: "only custodians ask to accept an identity source"},
	"identity.sources":           {roles: []string{RoleCustodian, RoleAuditor}, reason: "only custodians and auditors list the identity sources"},
	"identity.source.retire":     {roles: []string{RoleCustodian}, reason: "only custodians ask to retire an identity source"},
	"audit.scrub":                {roles: []string{RoleAuditor, RoleCustodian}, reason: "only auditors and custodians scrub"},
	"keys.rotate":                {roles: []string{RoleCustodian}, reason: "only custodians rotate key-encryption keys"},
	"report.record":              {roles: []string{RoleAnalyst}, reason: "only analysts record reports"},
	// The rest (assigned to the case) is RecordSkipped's, as a deposit's.
	"deposit.skipped": {roles: []string{RoleInvestigator, RoleAnalyst}, reason: "only investigators and analysts assigned to a case deposit to it"},
	"stats":           {roles: []string{RoleCustodian, RoleAuditor, RoleAnalyst}, reason: "only custodians, auditors and analysts read the statistics"},
	// The rest of who seals (an investigator only of their own cases)
	// depends on the case, which SealPackage decides next.
	"package.seal": {roles: []string{RoleInvestigator, RoleCustodian}, reason: "only the case's investigators and custodians seal packages",
		hint: "ask an investigator assigned to the case, or a custodian, to seal it"},
}

// reportDecisions are the decisions about one report (target: its id),
// gated by MayWorkOnReport.
var reportDecisions = []string{"report.assess", "report.close", "report.reopen", "report.notice", "report.acknowledged", "report.removed", "report.forward"}

// itemGates are the decisions about one item (target: its id), for the
// investigators and analysts assigned to its case: notAssigned is the
// recorded reason of a refusal, rule what the answer says (gatedItem).
var itemGates = map[string]struct{ notAssigned, rule string }{
	"item.get":      {"only investigators and analysts assigned to the case view its items", "items are seen only by the investigators and analysts assigned to their case"},
	"item.show":     {"not assigned to the item's case", "only the case's investigators and analysts see its items"},
	"item.classify": {"only analysts and investigators assigned to the case classify its items", "items are classified by analysts and investigators assigned to their case"},
	"item.similar":  {"not assigned to the item's case", "only the case's analysts and investigators search its items"},
}

// MayAsk is the gate of the decision action about target (a case, a
// person, an item's or a report's id, a hash set's name, a package's id;
// "" where the request names it in its body, or names none): refused
// and recorded if who may not ask for it at all. A role gate (roleGates)
// answers ErrForbidden; a gate that depends on the target (an item, a
// report, a package, a case's similar images) answers as one that does
// not exist, ErrNotFound, and records the truth. A malformed target is
// ErrBadInput only for someone whose role may ask. An action without a
// gate is a programming error, and panics.
func (v *Vault) MayAsk(ctx context.Context, who Principal, action, target string) error {
	switch {
	case slices.Contains(reportDecisions, action):
		return v.mayWorkOnReport(ctx, who, action, target)
	case action == "report.show":
		return v.mayReadReport(ctx, who, target)
	case action == "case.similar":
		return v.maySearchCase(ctx, who, target)
	case action == "package.receipt":
		_, err := v.receivedPackage(ctx, who, target)
		return err
	}
	if _, ok := itemGates[action]; ok {
		_, err := v.gatedItem(ctx, who, action, target)
		return err
	}
	g, ok := roleGates[action]
	if !ok {
		panic("vault: no gate for " + action)
	}
	if !slices.Contains(g.roles, who.Role) {
		hint := g.hint
		if hint == "" {
			hint = askWhom(g.roles)
		}
		return v.refuseHint(ctx, who, action, target, g.reason, hint, ErrForbidden)
	}
	return nil
}

// askWhom is what someone refused by a role gate is told to do: ask one
// of the roles that may ("ask a custodian", "ask a custodian, an auditor
// or an analyst"); "" where what is asked is one's own to do (a
// prosecutor's or defence counsel's own keys), which no one does for
// them.
func askWhom(roles []string) string {
	var who []string
	for _, r := range roles {
		if receivesPackages(r) {
			return ""
		}
		who = append(who, article(r))
	}
	if len(who) > 1 {
		return "ask " + strings.Join(who[:len(who)-1], ", ") + " or " + who[len(who)-1]
	}
	return "ask " + who[0]
}

// AskingRoles are the roles that may ask for the decision action at all
// (MayAsk), some of them only for some targets (an item of a case they
// are assigned to); nil for an action without a gate.
func AskingRoles(action string) []string {
	switch {
	case slices.Contains(reportDecisions, action):
		return []string{RoleAnalyst}
	case action == "report.show":
		return []string{RoleAnalyst, RoleCustodian, RoleAuditor}
	case action == "package.receipt":
		return []string{RoleProsecutor, RoleDefence}
	case action == "case.similar":
		return []string{RoleInvestigator, RoleAnalyst}
	}
	if _, ok := itemGates[action]; ok {
		return []string{RoleInvestigator, RoleAnalyst}
	}
	return slices.Clone(roleGates[action].roles)
}

// gatedItem returns an item whose case who is assigned to, for the
// decision action (itemGates): an unknown item and one of another case
// are answered alike (ErrNotFound) and recorded with the truth. A
// malformed id is ErrBadInput for an investigator or analyst; anyone
// else, who may see no item, is refused before it is read.
func (v *Vault) gatedItem(ctx context.Context, who Principal, action, itemID string) (Item, error) {
	g, ok := itemGates[action]
	if !ok {
		panic("vault: no item gate for " + action)
	}
	if handlesEvidence(who.Role) {
		if err := checkItemID(itemID); err != nil {
			return Item{}, err
		}
	}
	return v.assignedItem(ctx, who, action, itemID, g.notAssigned, g.rule)
}

// mayReadReport gates ReportDetail and ReportAfter (report.show):
// analysts, custodians and auditors read reports; anyone else, and an
// unknown report, are answered alike (ErrNotFound) and recorded with the
// truth. A malformed id is ErrBadInput for those who read reports.
func (v *Vault) mayReadReport(ctx context.Context, who Principal, id string) error {
	if readsReports(who.Role) {
		if err := checkReportID(id); err != nil {
			return err
		}
	}
	_, ok := v.state.getReport(id)
	if !ok || !readsReports(who.Role) {
		return v.refuseUnseen(ctx, who, "report.show", "report", id, ok, "only analysts, custodians and auditors read reports", "reports are read by analysts, custodians and auditors")
	}
	return nil
}

// maySearchCase gates Similar over a whole case (case.similar): its
// analysts and investigators; an unknown case and another's are
// answered alike (ErrNotFound), recorded with the truth.
func (v *Vault) maySearchCase(ctx context.Context, who Principal, caseID string) error {
	if handlesEvidence(who.Role) {
		if err := checkCaseID(caseID); err != nil {
			return err
		}
	}
	c, ok := v.state.getCase(caseID)
	if !ok || !assigned(who, c) {
		return v.refuseUnseen(ctx, who, "case.similar", "case", caseID, ok, "not assigned to the case", itemGates["item.similar"].rule)
	}
	return nil
}
