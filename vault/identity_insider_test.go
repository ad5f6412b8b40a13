package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/pkgformat"
)

// Insider attacks on identity: each test states a claim of
// docs/identity.md and tries to break it as one insider.

// TestRefreshDoesNotOutliveTheSignIn: sessions expire (--session-ttl).
// Whoever holds a copy of a session token, and never the credential,
// must lose it at the session's expiry; refreshing it before each expiry
// must not keep it alive for good. The client never refreshes (it signs
// in again with the credential it keeps), so a refresh chain is only
// ever the work of someone who has a token and not the credential.
func TestRefreshDoesNotOutliveTheSignIn(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	v, _ := openTestVaultDir(t, withClock(clk))
	ctx := context.Background()
	tok, err := v.Enroll(ctx, "inv", RoleInvestigator)
	if err != nil {
		t.Fatal(err)
	}
	who, err := signIn(v, tok)
	if err != nil {
		t.Fatal(err)
	}
	ttl := v.cfg.SessionTTL
	signedIn := clk.now()
	var token string
	for range 4 {
		clk.advance(ttl - time.Minute)
		s, err := v.RefreshSession(ctx, who)
		if err != nil {
			return
		}
		token = s.Token.Reveal()
		if who, err = v.Authenticate(token); err != nil {
			return
		}
	}
	t.Fatalf("a copied session token, refreshed without the credential, still signs in %s after the only sign-in (session TTL %s)",
		clk.now().Sub(signedIn), ttl)
}

// TestRefreshNeedsLocalAccounts: once a vault is moved to its identity
// provider (restarted without local accounts, docs/identity.md section
// 7), credentials no longer open sessions and every new session is the
// provider's decision (with the MFA a role requires). A local session
// from before the move must not be renewed into new local sessions.
func TestRefreshNeedsLocalAccounts(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	c := people(t, v, map[string]string{"c1": RoleCustodian})["c1"]
	// The restart without local accounts, and with MFA required of
	// custodians at the provider.
	v.cfg.NoLocalAccounts = true
	v.cfg.RequireMFA = map[string]MFARequirement{RoleCustodian: {AMR: "mfa"}}
	s, err := v.RefreshSession(ctx, c)
	if err == nil {
		t.Fatalf("a vault without local accounts opened local session %s for custodian c1 (no MFA, no provider)", s.ID)
	}
}

// TestRemovedPersonsIdentityIsNotBoundAgain: a removed person's name is
// never enrolled again, so that the log's history of that name stays one
// person's. The identity-provider value (or certificate name) that
// signed them in must not be bound to a new person either: the value is
// opaque (a provider's sub), the approving custodian cannot recognise
// it, and the removed person's account at the provider would then sign
// in as the newcomer.
func TestRemovedPersonsIdentityIsNotBoundAgain(t *testing.T) {
	v, _ := openTestVaultDir(t, withTestSources)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	const sub = "248289761001"
	r, err := v.EnrollBy(ctx, p["c1"], Enrolment{Name: "ana", Role: RoleInvestigator, OIDC: sub})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c2"], r.ID); err != nil {
		t.Fatal(err)
	}
	ana := ExternalIdentity{Kind: "oidc", Name: sub, Issuer: "https://idp.example/", Subject: sub, ClientID: testClient, Key: testKey}
	if _, err := v.OpenExternalSession(ctx, ana); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Remove(ctx, p["c1"], "ana", "dismissed"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenExternalSession(ctx, ana); err == nil {
		t.Fatal("a removed person signed in")
	}

	// One custodian asks for a newcomer, a custodian, bound to ana's sub;
	// the other approves a value they cannot tell apart from any other.
	r, err = v.EnrollBy(ctx, p["c1"], Enrolment{Name: "newcomer", Role: RoleCustodian, OIDC: sub})
	if err == nil {
		_, err = v.Approve(ctx, p["c2"], r.ID)
	}
	if err == nil {
		for range 64 {
			if s, err := v.OpenExternalSession(ctx, ana); err == nil {
				t.Fatalf("the removed ana's provider account (sub %s) signed in as %s (%s)", sub, s.Name, s.Role)
			}
		}
		t.Fatalf("the identity value of removed ana was bound to newcomer")
	}
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("enrolling with a removed person's identity value: %v", err)
	}
}

// TestSummarisedRefusalsNameTheCredential: every event's actor names the
// credential that acted (custody-log.md 2.1), so that the acts of a
// second credential in someone's name (a certificate a CA administrator
// issued, a session an identity-provider administrator opened) stand
// apart from those of the person's own. Refusals past the burst are
// summarised; the summary must not drop the credential, nor merge two
// credentials' refusals under neither.
func TestSummarisedRefusalsNameTheCredential(t *testing.T) {
	v, _ := openTestVaultDir(t, withTestSources, func(c *Config) { c.RefusalWindow, c.RefusalBurst = time.Hour, 1 })
	ctx := context.Background()
	tok, _ := v.Enroll(ctx, "inv", RoleInvestigator)
	own, err := signIn(v, tok)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Repeat("ab", 32)
	card, err := v.AuthenticateCertificate(ExternalIdentity{Kind: "certificate", Name: "inv",
		Issuer: "CN=Org CA", Subject: "CN=inv", Fingerprint: forged, CAs: []string{testCASHA256}})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []Principal{own, own, card, card, card} {
		if _, err := v.EnrollBy(ctx, who, Enrolment{Name: "x", Role: RoleCustodian}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("refusal: %v", err)
		}
	}
	v.summariseRefusals(true)
	seen := false
	for _, ev := range logged(t, v) {
		if ev.Type != TypeAccessRefused || ev.Actor.Person != "inv" {
			continue
		}
		if ev.Actor.Auth == "token" || ev.Actor.Session == "" && ev.Actor.Certificate == "" {
			t.Errorf("event %d records refusals of inv with actor %+v: no credential named (data %s)", ev.Seq, ev.Actor, ev.Data)
		}
		seen = seen || ev.Actor.Certificate == forged
	}
	if !seen {
		t.Errorf("no refusal names certificate %s…, which was refused three times", forged[:16])
	}
}

// TestSealApprovalNeedsTheRequesterOnTheCase: a request whose requester
// lost their standing is void (identity.md section 5). An investigator
// taken off a case (case.member.removed: from its position on, they can
// no longer seal the case's evidence) must not still have their sealing
// carried out by a custodian who approves the request afterwards.
func TestSealApprovalNeedsTheRequesterOnTheCase(t *testing.T) {
	f, p, pkg := requiredSealing(t, "send it all out")
	v := f.v
	ctx := context.Background()
	if err := v.RemoveMember(ctx, p["c1"], "P-1", "inv", "suspected of leaking"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "again"}); err == nil {
		t.Fatal("a removed member asked for a sealing")
	}
	a, err := v.Approve(ctx, p["c2"], pkg.Request.ID)
	if err == nil {
		t.Fatalf("the sealing asked for by inv was carried out after inv was taken off the case: package %s (%d items)", a.Package.ID, a.Package.Items)
	}
}

// requiredSealing is a package fixture whose case requires a custodian's
// approval of exports, with custodians c1 and c2, and its investigator's
// pending request to seal every item of it for pros, for purpose.
func requiredSealing(t *testing.T, purpose string) (*packageFixture, map[string]Principal, *SealedPackage) {
	t.Helper()
	f := newPackageFixture(t)
	ctx := context.Background()
	p := people(t, f.v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	if _, err := f.v.SetCasePolicy(ctx, p["c1"], "P-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	pkg, err := f.v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: purpose})
	if err != nil || pkg.Request == nil {
		t.Fatalf("sealing under the policy: %+v %v", pkg, err)
	}
	return f, p, pkg
}

// sealsNeedApproval is the package fixture whose case P-1 needs a
// custodian's approval of each sealing, with two custodians (c1 set the
// policy; c2 decides) and its first item (ids[0]) classified national,
// the other not.
func sealsNeedApproval(t *testing.T) (f *packageFixture, p map[string]Principal, ids []string) {
	t.Helper()
	f = newPackageFixture(t)
	ctx := context.Background()
	p = people(t, f.v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	if _, err := f.v.SetCasePolicy(ctx, p["c1"], "P-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	ids = caseItemIDs(t, f.v.state, "P-1")
	if _, err := f.v.Classify(ctx, f.inv, ids[0], ClassifyRequest{Category: CategoryNational}); err != nil {
		t.Fatal(err)
	}
	return f, p, ids
}

// TestSealApprovalSealsWhatWasAsked: the approving custodian approves
// the request as recorded. A request for "every item" (no items listed)
// must not carry out, at the approval, a package of items that did not
// exist when it was asked for.
func TestSealApprovalSealsWhatWasAsked(t *testing.T) {
	f, p, ids := sealsNeedApproval(t)
	v := f.v
	ctx := context.Background()
	pkg, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"})
	if err != nil || pkg.Request == nil {
		t.Fatalf("sealing under the policy: %+v %v", pkg, err)
	}
	asked := len(ids)
	// The deciding custodian is shown the items asked, by name; the
	// requester too; no one else.
	var shown *AskedItems
	for _, r := range v.Requests(p["c2"]) {
		if r.ID == pkg.Request.ID {
			shown = r.Items
			if r.ForRole != RoleProsecutor {
				t.Errorf("the approver is told the package is for a %q", r.ForRole)
			}
		}
	}
	if shown == nil || shown.Count != asked || len(shown.First) != min(asked, maxAskedShown) || shown.First[0].Name == "" || shown.Size <= 0 {
		t.Fatalf("the approver is shown the items asked as %+v (%d asked)", shown, asked)
	}
	// And how they are classified, each and in all.
	if shown.Classified[CategoryNational] != 1 || len(shown.Classified) != 1 || shown.Unclassified != asked-1 {
		t.Errorf("the approver is told the items are classified %v, %d not classified", shown.Classified, shown.Unclassified)
	}
	for _, it := range shown.First {
		if want := map[bool]string{true: CategoryNational}[it.ID == ids[0]]; it.Category != want {
			t.Errorf("item %s is shown as %q, want %q", it.ID, it.Category, want)
		}
	}
	if mine := v.Requests(f.inv); len(mine) != 1 || mine[0].Items == nil || mine[0].Items.Count != asked || mine[0].ForRole != "" {
		t.Errorf("the requester's own list (no role of whom it is for: sealing lists no one): %+v", mine)
	}
	// Removed from the case, the requester no longer reads its items
	// through their request.
	if err := v.RemoveMember(ctx, p["c1"], "P-1", f.inv.Name, "moved to another unit"); err != nil {
		t.Fatal(err)
	}
	if mine := v.Requests(f.inv); len(mine) != 1 || mine[0].Items != nil {
		t.Errorf("a requester removed from the case is shown %+v", mine)
	}
	reinstated, err := v.AddMember(ctx, p["c1"], "P-1", f.inv.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Approve(ctx, p["c2"], reinstated.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: "later.txt", Body: strings.NewReader("deposited after the request")}); err != nil {
		t.Fatal(err)
	}
	// A reason that is not one line of text is refused before anything
	// is decided.
	if _, err := v.ApproveWithReason(ctx, p["c2"], pkg.Request.ID, "checked\x00"); !errors.Is(err, ErrBadInput) {
		t.Fatalf("an approval with a NUL in its reason: %v", err)
	}
	const why = "the court's order 2026/118 names pros"
	a, err := v.ApproveWithReason(ctx, p["c2"], pkg.Request.ID, why)
	if err != nil {
		t.Fatal(err)
	}
	if a.Package.Items != asked {
		t.Fatalf("the request was opened over %d items; the approval sealed %d, including one deposited after the request", asked, a.Package.Items)
	}
	// The approver's reason is on the record, and in the case's custody
	// report beside the approval.
	approvals := eventsOfType(t, v, TypeRequestApproved)
	var decided RequestDecided
	if err := approvals[len(approvals)-1].DecodeData(&decided); err != nil || decided.Request != pkg.Request.ID || decided.Reason != why {
		t.Errorf("request.approved records %+v (%v)", decided, err)
	}
	doc, err := v.CustodyDocument(ctx, f.auditor, DocumentRequest{Case: "P-1", Format: FormatText})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc.Body), "approved because “"+why+"”") {
		t.Errorf("the case's custody report does not say why the sealing was approved:\n%s", doc.Body)
	}
}

// TestNoPackageForAPersonWhoMayNotAct: evidence is never encrypted to a
// prosecutor or defence counsel who is suspended or removed, whether the
// sealing is asked for after it, or was asked for under a two-person
// policy before it and is approved after (the approval is refused at the
// event's position, and names why). Each refusal is recorded.
func TestNoPackageForAPersonWhoMayNotAct(t *testing.T) {
	for _, status := range []string{"suspended", "removed"} {
		t.Run(status, func(t *testing.T) {
			f := newPackageFixture(t)
			v := f.v
			ctx := context.Background()
			p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
			drop := func() {
				var err error
				if status == "suspended" {
					_, err = v.Suspend(ctx, p["c1"], "pros", "dismissed from the case by the court")
				} else {
					_, err = v.Remove(ctx, p["c1"], "pros", "left the service")
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			packages := func() int { return countType(t, v, TypePackageSealing) }
			// Under the two-person policy: asked for, then the person
			// is dropped, then approved.
			if _, err := v.SetCasePolicy(ctx, p["c1"], "P-1", ExportApprovalRequired, ""); err != nil {
				t.Fatal(err)
			}
			pkg, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "disclosure"})
			if err != nil || pkg.Request == nil {
				t.Fatalf("sealing under the policy: %+v %v", pkg, err)
			}
			drop()
			before, refusals := packages(), countType(t, v, TypeAccessRefused)
			if a, err := v.Approve(ctx, p["c2"], pkg.Request.ID); err == nil {
				t.Fatalf("a package (%s) was sealed for pros after pros was %s", a.Package.ID, status)
			} else if !strings.Contains(err.Error(), status) {
				t.Errorf("the approval's refusal does not say pros was %s: %v", status, err)
			}
			// Asked for afterwards, the policy lifted.
			if _, err := v.SetCasePolicy(ctx, p["c1"], "P-1", ExportApprovalNone, ""); err != nil {
				t.Fatal(err)
			}
			pkg, err = v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "disclosure"})
			if err == nil {
				t.Fatalf("a package (%+v) was sealed for pros after pros was %s", pkg, status)
			}
			// The investigator, who may not list people, is not told
			// why (cannotReceive); the log says it.
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "cannot receive packages") || strings.Contains(err.Error(), status) {
				t.Errorf("the refusal: %v", err)
			}
			if packages() != before {
				t.Error("a package.sealing was recorded")
			}
			recorded := eventsOfType(t, v, TypeAccessRefused)
			var d AccessRefused
			if len(recorded) <= refusals {
				t.Fatal("the refused sealing was not recorded")
			} else if err := recorded[len(recorded)-1].DecodeData(&d); err != nil || d.Reason != "pros is "+status || d.Grounds != GroundsState {
				t.Errorf("the refused sealing was recorded as %+v (%v)", d, err)
			}
		})
	}
}

// TestSealingIsNoWayToListPeople: an investigator, who may not list
// people, learns nothing of a name by sealing a package for it: one no
// one is enrolled under, a person in another role, a suspended
// prosecutor and one without a recipient are answered alike, each
// refusal recorded with the truth. A custodian, who lists people, is told
// why.
func TestSealingIsNoWayToListPeople(t *testing.T) {
	h := newHotline(t)
	v, ctx := h.v, h.ctx
	h.investigation(t)
	enrolled(t, v, "pros-suspended", RoleProsecutor)
	enrolled(t, v, "pros-norecipient", RoleProsecutor)
	if _, err := v.Suspend(ctx, h.cust, "pros-suspended", "under investigation"); err != nil {
		t.Fatal(err)
	}
	seal := func(who Principal, name string) error {
		_, err := v.SealPackage(ctx, who, SealRequest{Case: "INV-1", For: name, Purpose: "disclosure"})
		if err == nil {
			t.Fatalf("a package was sealed for %s", name)
		}
		return err
	}
	names := []string{"nobody", "ana1", "pros-suspended", "pros-norecipient"}
	refusals := len(eventsOfType(t, v, TypeAccessRefused))
	var answers []string
	for _, name := range names {
		err := seal(h.inv, name)
		if !errors.Is(err, ErrBadInput) {
			t.Errorf("sealing for %s: %v", name, err)
		}
		answers = append(answers, strings.ReplaceAll(err.Error(), name, "NAME"))
	}
	for i := range answers {
		if answers[i] != answers[0] {
			t.Errorf("sealing for %s is answered %q, for %s %q", names[i], answers[i], names[0], answers[0])
		}
	}
	recorded := eventsOfType(t, v, TypeAccessRefused)[refusals:]
	if len(recorded) != len(names) {
		t.Fatalf("%d refusals recorded for %d names", len(recorded), len(names))
	}
	for i, want := range []string{"no one is enrolled", "enrolled as analyst", "is suspended", "not registered"} {
		var d AccessRefused
		if err := recorded[i].DecodeData(&d); err != nil || !strings.Contains(d.Reason, want) {
			t.Errorf("the refusal for %s recorded as %+v (%v), want %q", names[i], d, err, want)
		}
	}
	for i, want := range []string{"no one is enrolled", "enrolled as analyst", "is suspended", "not registered"} {
		if err := seal(h.cust, names[i]); !strings.Contains(err.Error(), want) {
			t.Errorf("a custodian sealing for %s is not told why: %v", names[i], err)
		}
	}
	// What depends on the case alone is answered before anything of the
	// person, for a person who could receive the package too: an item
	// list that is not the case's, a case with no items.
	defenceCounsel(t, v)
	if err := v.OpenCase(ctx, h.inv, "PROBE", "an empty case"); err != nil {
		t.Fatal(err)
	}
	for _, req := range []SealRequest{
		{Case: "INV-1", Items: []string{"it_000000000000000000000000"}, Purpose: "disclosure"},
		{Case: "PROBE", Purpose: "disclosure"},
	} {
		answers := map[string]bool{}
		for _, name := range append(names, "dan") {
			req.For = name
			_, err := v.SealPackage(ctx, h.inv, req)
			if err == nil {
				t.Fatalf("a package was sealed for %s: %+v", name, req)
			}
			answers[strings.ReplaceAll(err.Error(), name, "NAME")] = true
		}
		if len(answers) != 1 {
			t.Errorf("sealing %+v is answered by who the person is: %v", req, answers)
		}
	}
}

// TestAuditorsTypoIsRecordedInItsWords: an auditor's timeline of a case
// or item id nothing names is refused as not found and recorded as what
// it was, a read of the custody log naming the id typed (it was recorded
// under the API's route and path before).
func TestAuditorsTypoIsRecordedInItsWords(t *testing.T) {
	v, _ := openTestVaultDir(t)
	aud := enrolled(t, v, "aud", RoleAuditor)
	for _, c := range []struct{ caseID, itemID, target string }{
		{"NOPE-1", "", "NOPE-1"},
		{"", "it_000000000000000000000000", "it_000000000000000000000000"},
	} {
		err := v.Timeline(context.Background(), aud, c.caseID, c.itemID, func(events.Record, *events.Event) error { return nil })
		if !errors.Is(err, ErrNotFound) || !Recorded(err) {
			t.Fatalf("timeline of %s: %v", c.target, err)
		}
		refusals := eventsOfType(t, v, TypeAccessRefused)
		var d AccessRefused
		if err := refusals[len(refusals)-1].DecodeData(&d); err != nil || d.Action != "audit.log" || d.Target != c.target || d.Grounds != GroundsUnknown {
			t.Errorf("recorded as %+v (%v)", d, err)
		}
	}
}

// fetchedPackage is the package file id as who fetches it.
func fetchedPackage(t *testing.T, v *Vault, who Principal, id string) []byte {
	t.Helper()
	rc, _, err := v.FetchPackage(context.Background(), who, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	pkg, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// caseToSeal is a vault with custodians c1 and c2, investigator inv and
// prosecutor pros, and case Q-1 of inv's with one item, for pros (whose
// age identity it returns) to receive a package of.
func caseToSeal(t *testing.T) (*Vault, map[string]Principal, *age.X25519Identity) {
	t.Helper()
	ctx := context.Background()
	v := openTestVault(t)
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian, "inv": RoleInvestigator, "pros": RoleProsecutor})
	if err := v.OpenCase(ctx, p["inv"], "Q-1", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, p["inv"], DepositRequest{Case: "Q-1", Name: "chat.txt", Body: strings.NewReader("a chat")}); err != nil {
		t.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(ctx, p["pros"], id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	return v, p, id
}

// TestPackageCarriesItsSealingsRequest: a package sealed on an approved
// request carries the request.opened its requester signed in and the
// request.approved, beside its package.sealing naming both, so that a
// reader checks from the package who asked for what and who agreed; the
// package verifies as before.
func TestPackageCarriesItsSealingsRequest(t *testing.T) {
	ctx := context.Background()
	v, p, id := caseToSeal(t)
	if _, err := v.SetCasePolicy(ctx, p["c1"], "Q-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	asked, err := v.SealPackage(ctx, p["inv"], SealRequest{Case: "Q-1", For: "pros", Purpose: "trial"})
	if err != nil || asked.Request == nil {
		t.Fatalf("sealing under export approval: %+v %v", asked, err)
	}
	a, err := v.Approve(ctx, p["c2"], asked.Request.ID)
	if err != nil {
		t.Fatal(err)
	}
	byType := verifiedPackageEvents(t, v, fetchedPackage(t, v, p["pros"], a.Package.ID), id)
	opened, approved := byType[TypeRequestOpened], byType[TypeRequestApproved]
	if opened == nil || approved == nil || opened.Actor.Person != "inv" || approved.Actor.Person != "c2" {
		t.Fatalf("the package carries the request as %+v and %+v", opened, approved)
	}
	var d RequestOpened
	if err := opened.DecodeData(&d); err != nil || d.Request != asked.Request.ID {
		t.Errorf("the request carried is %+v (%v), the sealing's %s", d, err, asked.Request.ID)
	}
}

// TestPackageCarriesItsPolicyDropsRequest: a package sealed after the
// case's export approval was dropped carries the drop's request.opened
// and request.approved (the case's own events), which a verifier checks
// the drop against (docs/package-format.md section 9 step 7a); the
// package verifies.
func TestPackageCarriesItsPolicyDropsRequest(t *testing.T) {
	ctx := context.Background()
	v, p, id := caseToSeal(t)
	if _, err := v.SetCasePolicy(ctx, p["c1"], "Q-1", ExportApprovalRequired, "court order"); err != nil {
		t.Fatal(err)
	}
	drop, err := v.SetCasePolicy(ctx, p["c1"], "Q-1", ExportApprovalNone, "order lifted")
	if err != nil || drop.Request == nil {
		t.Fatalf("asking to drop the export approval: %+v %v", drop, err)
	}
	if _, err := v.Approve(ctx, p["c2"], drop.Request.ID); err != nil {
		t.Fatal(err)
	}
	sealed, err := v.SealPackage(ctx, p["inv"], SealRequest{Case: "Q-1", For: "pros", Purpose: "trial"})
	if err != nil || sealed.Request != nil {
		t.Fatalf("sealing after the drop: %+v %v", sealed, err)
	}
	// Checked as a drop after the day packages began to carry its
	// request, whatever the day the test runs.
	since := pkgformat.PolicyRequestsCarriedSince
	pkgformat.PolicyRequestsCarriedSince = time.Time{}
	defer func() { pkgformat.PolicyRequestsCarriedSince = since }()
	byType := verifiedPackageEvents(t, v, fetchedPackage(t, v, p["pros"], sealed.ID), id)
	opened, approved := byType[TypeRequestOpened], byType[TypeRequestApproved]
	if opened == nil || approved == nil || opened.Actor.Person != "c1" || approved.Actor.Person != "c2" {
		t.Fatalf("the package carries the drop's request as %+v and %+v", opened, approved)
	}
}

// verifiedPackageEvents verifies pkg, a package of v's for the holder of
// id, and returns its events by type (the last of each).
func verifiedPackageEvents(t *testing.T, v *Vault, pkg []byte, id *age.X25519Identity) map[string]*events.Event {
	t.Helper()
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: v.VerifierKey(), Identities: []age.Identity{id}}); err != nil {
		t.Fatalf("the package does not verify: %v", err)
	}
	byType := map[string]*events.Event{}
	for _, m := range testenv.TarMembers(t, bytes.NewReader(pkg)) {
		if !strings.HasPrefix(m.Name, pkgformat.EventsDir) {
			continue
		}
		ev, err := events.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		byType[ev.Type] = ev
	}
	return byType
}

// cancelledPackageStore is the file store whose next write of a package,
// once armed, waits until released, and then fails if its caller's
// context has ended meanwhile, as a store honouring its context does.
type cancelledPackageStore struct {
	objects.Store
	armed            atomic.Bool
	entered, release chan struct{}
}

func (c *cancelledPackageStore) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	if strings.HasPrefix(name, "pk/") && c.armed.CompareAndSwap(true, false) {
		close(c.entered)
		<-c.release
		if err := ctx.Err(); err != nil {
			return objects.Info{}, err
		}
	}
	return c.Store.Put(ctx, name, r, opts)
}

// TestSealingOutlivesItsCaller: the approval of a package.seal request
// whose approver goes away while the package is written (a browser
// reloaded, a command interrupted) seals the package all the same: once
// the approval and the sealing are recorded, a request spent on no
// package would be a gap in the record nobody meant, and could not be
// approved again.
func TestSealingOutlivesItsCaller(t *testing.T) {
	store := &cancelledPackageStore{entered: make(chan struct{}), release: make(chan struct{})}
	f := newPackageFixture(t, func(c *Config) {
		store.Store = c.Objects
		c.Objects = store
	})
	v := f.v
	p := people(t, v, map[string]string{"c1": RoleCustodian, "c2": RoleCustodian})
	if _, err := v.SetCasePolicy(context.Background(), p["c1"], "P-1", ExportApprovalRequired, ""); err != nil {
		t.Fatal(err)
	}
	asked, err := v.SealPackage(context.Background(), f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"})
	if err != nil || asked.Request == nil {
		t.Fatalf("%+v %v", asked, err)
	}
	store.armed.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var a *Approval
	go func() {
		var err error
		a, err = v.Approve(ctx, p["c2"], asked.Request.ID)
		done <- err
	}()
	<-store.entered
	cancel() // the approver's client goes away
	close(store.release)
	if err := <-done; err != nil {
		t.Fatalf("the approval whose caller went away: %v", err)
	}
	if a.Package == nil || countType(t, v, TypePackageSealed) != 2 {
		t.Fatalf("the approval sealed %+v; %d packages on the record", a.Package, countType(t, v, TypePackageSealed))
	}
}

// TestTheApproverIsToldOfKnownMaterialAsked: the custodian deciding a
// sealing is told how many of the items asked are known material, hidden
// from review, besides the categories settled of the items themselves: a
// copy of an item settled illegal is known material while not classified
// itself.
func TestTheApproverIsToldOfKnownMaterialAsked(t *testing.T) {
	f, p, ids := sealsNeedApproval(t)
	v := f.v
	ctx := context.Background()
	first, _, _ := v.state.getItem(ids[0])
	// A copy of it, deposited under another name, and never classified.
	if _, err := v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: "copy.txt", Body: strings.NewReader("evidence " + first.Deposit.Name)}); err != nil {
		t.Fatal(err)
	}
	pkg, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: "trial"})
	if err != nil || pkg.Request == nil {
		t.Fatalf("sealing under the policy: %+v %v", pkg, err)
	}
	var shown *AskedItems
	for _, r := range v.Requests(p["c2"]) {
		if r.ID == pkg.Request.ID {
			shown = r.Items
		}
	}
	if shown == nil || shown.Count != 3 {
		t.Fatalf("the approver is shown %+v", shown)
	}
	if shown.Classified[CategoryNational] != 1 || shown.Unclassified != 2 || shown.Known != 2 || shown.KnownUnchecked != 0 {
		t.Errorf("the approver is told: classified %v, %d not classified, %d known material (%d unchecked); want national 1, 2, 2 and 0",
			shown.Classified, shown.Unclassified, shown.Known, shown.KnownUnchecked)
	}
}
