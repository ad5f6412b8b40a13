package vault

import (
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
)

// TestAnalystsDoNotSealPackages: a package discloses evidence to a named
// prosecutor or defence counsel, which the CLI contract gives to the
// case's investigators and custodians. A hotline analyst assigned to the
// case is refused, whether the case seals at once or under an export
// approval (where the refusal comes before any request is opened), and
// the refusal is recorded; the case's investigator seals.
func TestAnalystsDoNotSealPackages(t *testing.T) {
	h := newHotline(t)
	pros := enrolled(t, h.v, "pros", RoleProsecutor)
	id, _ := age.GenerateX25519Identity()
	if _, _, err := h.v.SetRecipient(h.ctx, pros, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	h.deposit(t, h.a1, "capture.jpg", []byte("capture"), "")
	req := SealRequest{Case: "HL-1", For: "pros", Purpose: "to the police"}
	refusals := func() int { return countType(t, h.v, TypeAccessRefused) }

	before := refusals()
	if pkg, err := h.v.SealPackage(h.ctx, h.a1, req); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst of the case sealed: %+v, %v", pkg, err)
	}
	if refusals() != before+1 {
		t.Fatal("the analyst's refusal was not recorded")
	}

	if _, err := h.v.SetCasePolicy(h.ctx, h.cust, "HL-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	if pkg, err := h.v.SealPackage(h.ctx, h.a2, req); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst asked to seal under an export approval: %+v, %v", pkg, err)
	}
	if n := len(h.v.state.pendingRequests(h.v.cfg.Now())); n != 0 {
		t.Fatalf("%d requests opened", n)
	}

	add, err := h.v.AddMember(h.ctx, h.cust, "HL-1", "inv", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.v.Approve(h.ctx, h.cust2, add.ID); err != nil {
		t.Fatal(err)
	}
	sealed, err := h.v.SealPackage(h.ctx, h.inv, req)
	if err != nil || sealed.Request == nil {
		t.Fatalf("the case's investigator: %+v, %v", sealed, err)
	}
	if _, err := h.v.Approve(h.ctx, h.cust2, sealed.Request.ID); err != nil {
		t.Fatalf("the sealing's approval: %v", err)
	}
}

// TestRolesThatNeverSealAreRefusedBeforeTheRequest: who may seal at all
// (investigators and custodians) is decided before the request's case,
// purpose or recipient is read (security.md rule 9). A prosecutor, an
// auditor and an analyst (of the case or not) get one answer whatever
// the case they name (the hotline's, an unknown one, a malformed one)
// and whatever else is wrong with the request, so that the answer tells
// them nothing of the vault's cases; each refusal is recorded under
// package.seal with the role's reason.
func TestRolesThatNeverSealAreRefusedBeforeTheRequest(t *testing.T) {
	h := newHotline(t)
	pros := enrolled(t, h.v, "pros", RoleProsecutor)
	aud := enrolled(t, h.v, "aud", RoleAuditor)
	h.deposit(t, h.a1, "capture.jpg", []byte("capture"), "")
	requests := []SealRequest{
		{Case: "HL-1", For: "pros", Purpose: "to the police"},
		{Case: "HL-9", For: "pros", Purpose: "to the police"},
		{Case: "not a case id!", For: "pros", Purpose: "to the police"},
		{Case: "HL-1", For: "", Purpose: ""},
	}
	for _, who := range []Principal{pros, aud, h.a1, h.a3} {
		var answers []string
		for _, req := range requests {
			before := countType(t, h.v, TypeAccessRefused)
			_, err := h.v.SealPackage(h.ctx, who, req)
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("%s (%s) sealing %+v: %v, want a refusal by role", who.Name, who.Role, req, err)
			}
			if countType(t, h.v, TypeAccessRefused) != before+1 {
				t.Fatalf("%s sealing %+v: the refusal was not recorded", who.Name, req)
			}
			if got := recordedRefusal(t, h.v); got != "only the case's investigators and custodians seal packages" {
				t.Errorf("%s: recorded %q", who.Name, got)
			}
			answers = append(answers, err.Error())
		}
		for _, a := range answers[1:] {
			if a != answers[0] {
				t.Errorf("%s: answered %q and %q for different cases", who.Name, answers[0], a)
			}
		}
		if !strings.Contains(answers[0], "ask an investigator assigned to the case, or a custodian") {
			t.Errorf("%s: the answer does not say whom to ask: %s", who.Name, answers[0])
		}
	}
}
