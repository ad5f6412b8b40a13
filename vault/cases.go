package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custos-vault/custos/events"
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
	// The case's key is made and sealed before its event.
	if err := v.refuseWhileHalted(); err != nil {
		return err
	}
	if err := v.MayAsk(ctx, who, "case.open", caseID); err != nil {
		return err
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	if err := checkText("title", title, 256, true, false); err != nil {
		return err
	}
	if err := v.checkRetention(who, retention); err != nil {
		return v.refusedAs(ctx, who, "case.open", caseID, err)
	}
	notYet := func(c Case, exists bool) error {
		if exists {
			return refusedHint(ErrConflict, "choose another case id, or ask a custodian to assign you to it", "case %s already exists", caseID)
		}
		return nil
	}
	v.openMu.Lock()
	defer v.openMu.Unlock()
	if err := v.checkNow(caseID, notYet); err != nil {
		return v.refusedAs(ctx, who, "case.open", caseID, err)
	}
	// Both copies of the key are durable, locally and replicated, before
	// the case exists.
	recipient, files, err := v.keys.newCaseKey(ctx, caseID, v.recovery)
	if err != nil {
		return err
	}
	_, err = v.decide(ctx, who, "case.open", caseID, notYet, sequencer.Draft{Type: TypeCaseOpened, Actor: who.actor(), Case: caseID,
		Data: CaseOpened{Title: title, Retention: durationString(retention), Recipient: recipient, Sealer: v.cfg.Sealer.KeyRef(), Members: []string{who.Name}, KeyFiles: files}})
	return err
}

// checkRetention decides a case's own retention: never below the vault's
// floor (Config.MinRetention), at most 100 years, and shorter than the
// vault's default only by a custodian's decision.
func (v *Vault) checkRetention(who Principal, retention time.Duration) error {
	switch {
	case retention == 0:
		return nil
	case retention < 0 || retention > 100*365*24*time.Hour:
		return badInput("retention %s is out of range (up to 100 years)", ReadableDuration(retention))
	case retention < v.cfg.MinRetention:
		return badInput("retention %s is below this vault's floor of %s", ReadableDuration(retention), ReadableDuration(v.cfg.MinRetention))
	case retention < v.cfg.Retention && who.Role != RoleCustodian:
		return refused(ErrForbidden, "only a custodian may give a case a retention shorter than the vault's default (%s)", ReadableDuration(v.cfg.Retention))
	}
	return nil
}

// SetRecipient registers the age recipient a prosecutor or defence
// counsel receives packages for: an X25519 recipient (age1..., 62
// characters) or a hybrid post-quantum one (age1pq1..., 1,959
// characters; at most MaxRecipientLen bytes), answered in canonical
// form. SSH, plugin and other recipients are refused with ErrBadInput
// naming what is supported. Their first registration takes effect at
// once; replacing a registered recipient is a request a custodian
// approves (whoever holds a recipient's session could otherwise redirect
// every later package to a key of their own).
func (v *Vault) SetRecipient(ctx context.Context, who Principal, recipient string) (string, *RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "recipient.set", ""); err != nil {
		return "", nil, err
	}
	_, canonical, err := parsePackageRecipient(recipient)
	if err != nil {
		return "", nil, err
	}
	p, _ := v.state.personByName(who.Name)
	switch p.Recipient {
	case canonical:
		return canonical, nil, nil
	case "":
	default:
		info, err := v.openRequest(ctx, who, Request{Kind: KindRecipient, Person: who.Name}, recipientParams{Recipient: canonical})
		return canonical, info, err
	}
	first := func(ahead []*events.Event) error {
		if touchesPersons(ahead) || requestDepends(ahead) {
			return sequencer.ErrNotYet
		}
		if q, _ := v.state.personByName(who.Name); q.Recipient != "" {
			return refused(ErrConflict, "a recipient was registered meanwhile; a replacement needs a custodian's approval, ask again")
		}
		return nil
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeRecipientSet, Actor: who.actor(), Check: first, Data: RecipientSet{Recipient: canonical}})
	return canonical, nil, v.refusedAs(ctx, who, "recipient.set", "", err)
}

// memberOf checks that who may act on the case's evidence: an investigator
// assigned to it. Custodians manage cases but do not view evidence.
func (v *Vault) memberOf(who Principal, c Case) bool {
	return handlesEvidence(who.Role) && c.Members[who.Name] && !c.Destroyed
}

// AddMember asks for an investigator to be assigned to a case. Only
// custodians ask, and another custodian approves (Approve): the answer is
// the pending request. The reason (optional, at most 1,024 bytes) is
// recorded with the request: why this person is to see the case's
// evidence.
func (v *Vault) AddMember(ctx context.Context, who Principal, caseID, person, reason string) (*RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "case.member.add", caseID); err != nil {
		return nil, err
	}
	if err := checkCaseID(caseID); err != nil {
		return nil, err
	}
	if err := checkPersonName(person); err != nil {
		return nil, err
	}
	return v.openRequest(ctx, who, Request{Kind: KindMember, Case: caseID, Person: person, Reason: reason}, struct{}{})
}

// memberAddable is the rule of assigning person to a case.
func (v *Vault) memberAddable(caseID, person string) casePrecondition {
	return func(c Case, ok bool) error {
		switch p, known := v.state.personByName(person); {
		case !ok:
			return refused(ErrNotFound, "no case %s", caseID)
		case c.Destroyed:
			return refused(ErrConflict, "case %s was destroyed", caseID)
		case !known:
			return badInput("%s is not a person known to this vault", person)
		case !handlesEvidence(p.Role):
			return badInput("%s is a %s: only investigators and analysts are assigned to cases", person, p.Role)
		case p.Removed || p.Suspended:
			return refused(ErrConflict, "%s is suspended or removed", person)
		case c.Members[person]:
			return fmt.Errorf("%w: %s is already assigned to %s", ErrConflict, person, caseID)
		}
		return nil
	}
}

// SetCasePolicy sets a case's export policy (ExportApprovalRequired or
// ExportApprovalNone). Requiring approval takes effect at once; dropping
// the requirement is a request another custodian approves. The reason
// (optional, at most 1,024 bytes) is recorded with either. A policy
// already in force records nothing (Recorded false), and its reason is
// not kept.
func (v *Vault) SetCasePolicy(ctx context.Context, who Principal, caseID, exportApproval, reason string) (PolicyChange, error) {
	if err := v.MayAsk(ctx, who, "case.policy", caseID); err != nil {
		return PolicyChange{}, err
	}
	if err := checkCaseID(caseID); err != nil {
		return PolicyChange{}, err
	}
	if exportApproval != ExportApprovalRequired && exportApproval != ExportApprovalNone {
		return PolicyChange{}, badInput("export approval %q: use %s or %s", truncate(exportApproval), ExportApprovalRequired, ExportApprovalNone)
	}
	if err := checkText("reason", reason, 1024, false, false); err != nil {
		return PolicyChange{}, err
	}
	required := exportApproval == ExportApprovalRequired
	pre := func(c Case, ok bool) error {
		if err := liveCase(caseID, c, ok); err != nil {
			return err
		}
		if c.ExportApproval == required {
			return errUnchanged
		}
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return PolicyChange{}, v.refusedAs(ctx, who, "case.policy", caseID, err)
	}
	if !required {
		info, err := v.openRequest(ctx, who, Request{Kind: KindPolicy, Case: caseID, Reason: reason}, policyParams{ExportApproval: exportApproval})
		return PolicyChange{Request: info, Recorded: err == nil}, err
	}
	evs, err := v.decide(ctx, who, "case.policy", caseID, pre,
		sequencer.Draft{Type: TypeCasePolicySet, Actor: who.actor(), Case: caseID, Data: CasePolicySet{ExportApproval: exportApproval, Reason: reason}})
	return PolicyChange{Recorded: len(evs) > 0}, err
}

// PolicyChange is the outcome of SetCasePolicy: the request opened to
// drop export approval, if that was asked; Recorded false when the
// policy asked for was in force already (nothing recorded, no reason
// kept).
type PolicyChange struct {
	Request  *RequestInfo
	Recorded bool
}

// RemoveMember ends a person's assignment to a case: from the position of
// its event on, they can no longer view, deposit or seal the case's
// evidence. A view that is recorded before it was allowed; one after it
// is refused.
func (v *Vault) RemoveMember(ctx context.Context, who Principal, caseID, person, reason string) error {
	if err := v.MayAsk(ctx, who, "case.member.remove", caseID); err != nil {
		return err
	}
	if err := checkCaseID(caseID); err != nil {
		return err
	}
	if err := checkPersonName(person); err != nil {
		return err
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return err
	}
	pre := func(c Case, ok bool) error {
		switch {
		case !ok:
			return refused(ErrNotFound, "no case %s", caseID)
		case !c.Members[person]:
			return fmt.Errorf("%w: %s is not assigned to %s", ErrConflict, person, caseID)
		}
		return nil
	}
	if err := v.checkNow(caseID, pre); err != nil {
		return v.refusedAs(ctx, who, "case.member.remove", caseID, err)
	}
	_, err := v.decide(ctx, who, "case.member.remove", caseID, pre,
		sequencer.Draft{Type: TypeCaseMemberRemoved, Actor: who.actor(), Case: caseID, Data: MemberRemoved{Person: person, Reason: reason}})
	return err
}

// ReadableDuration writes a retention as people read it: whole years
// (10y) or days (30d) where it is one, otherwise Go's form (90m0s).
func ReadableDuration(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case d > 0 && d%year == 0:
		return fmt.Sprintf("%dy", d/year)
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// ElapsedWords is a span of time as a person reads it: seconds under a
// minute ("40 s"), minutes under an hour ("45 min"), hours with one
// decimal under two days ("3.5 h"), days beyond ("2.1 days"). The CLI and
// the web application say times to removal with it.
func ElapsedWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// HoldResult is what SetHold did.
type HoldResult struct {
	// Objects is how many objects got, or lost, the store's legal hold.
	Objects int
	// Recorded is false when the case was already in the state asked
	// for: nothing was recorded (the reason given is not kept), and the
	// case's hold was applied to its objects again.
	Recorded bool
	// Voided are the destruction requests the hold placed voided
	// (DestructionRequest.HeldAfter), by id, sorted.
	Voided []string `json:",omitempty"`
}

// SetHold places (on) or lifts a legal hold on a case: every object of
// its items and packages gets, or loses, the object store's legal hold,
// which no retention date overrides. The decision is recorded first;
// asking again for the state the case is already in re-applies it to the
// objects (after a store outage) without a new event, and says so
// (HoldResult.Recorded false).
func (v *Vault) SetHold(ctx context.Context, who Principal, caseID string, on bool, reason string) (HoldResult, error) {
	action := map[bool]string{true: "case.hold", false: "case.release"}[on]
	if err := v.MaySetHold(ctx, who, caseID, on); err != nil {
		return HoldResult{}, err
	}
	if err := checkCaseID(caseID); err != nil {
		return HoldResult{}, err
	}
	if err := checkText("reason", reason, 1024, true, false); err != nil {
		return HoldResult{}, err
	}
	typ := map[bool]string{true: TypeCaseHoldPlaced, false: TypeCaseHoldLifted}[on]
	pre := func(c Case, ok bool) error {
		if err := liveCase(caseID, c, ok); err != nil {
			return err
		}
		if c.Held == on {
			return errUnchanged
		}
		return nil
	}
	// Asking again for the state the case is already in records nothing
	// and re-applies the hold to the objects below.
	if err := v.checkNow(caseID, pre); err != nil && !errors.Is(err, errUnchanged) {
		return HoldResult{}, v.refusedAs(ctx, who, action, caseID, err)
	}
	// The decision and its application to the objects under holdMu, so
	// that a scrub reading the objects' holds (lockWeakened) never finds
	// a hold recorded and not yet applied. The objects get the case's
	// hold as the log then has it: if another custodian's opposite
	// decision came after ours, theirs is what stands. One application
	// at a time, so the last one wins.
	v.holdMu.Lock()
	defer v.holdMu.Unlock()
	evs, err := v.decide(ctx, who, action, caseID, pre,
		sequencer.Draft{Type: typ, Actor: who.actor(), Case: caseID, Data: HoldChanged{Reason: reason}})
	if err != nil {
		return HoldResult{}, err
	}
	res := HoldResult{Recorded: len(evs) > 0}
	c, _ := v.state.getCase(caseID)
	if on && res.Recorded {
		for id, r := range c.Requests {
			if r.HeldAfter == evs[0].Seq {
				res.Voided = append(res.Voided, id)
			}
		}
		slices.Sort(res.Voided)
	}
	objs, err := v.state.caseObjects(caseID)
	if err != nil {
		return res, err
	}
	for _, o := range objs {
		if err := v.objects.SetLegalHold(ctx, o, c.Held); err != nil {
			return res, fmt.Errorf("%w: the hold is recorded but not yet applied to every object (%v); repeat the command", ErrUnavailable, err)
		}
	}
	res.Objects = len(objs)
	return res, nil
}
