package vault

import (
	"errors"
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

	if _, err := h.v.SetCasePolicy(h.ctx, h.cust, "HL-1", ExportApprovalRequired); err != nil {
		t.Fatal(err)
	}
	if pkg, err := h.v.SealPackage(h.ctx, h.a2, req); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an analyst asked to seal under an export approval: %+v, %v", pkg, err)
	}
	if n := len(h.v.state.pendingRequests(h.v.cfg.Now())); n != 0 {
		t.Fatalf("%d requests opened", n)
	}

	add, err := h.v.AddMember(h.ctx, h.cust, "HL-1", "inv")
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
