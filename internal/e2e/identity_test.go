package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// The three ways one custodian could act as anyone while the vault
// issued every credential to whichever custodian asked. Each must fail.

// TestCustodianCannotReissueAndViewAsInvestigator: re-issuing the
// investigator's credential is a request; the requesting custodian gets
// one half of the new invitation, which redeems nothing; the approval of
// a second custodian ends the old credential and its sessions.
func TestCustodianCannotReissueAndViewAsInvestigator(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id, _ := setup(t, s, work)
	inv := s.client("investigator")

	req := s.ok("custodian", work, "person", "reissue", "investigator", "--reason", "laptop stolen, police report 2026/881", "--json").json(t)
	rq, half := req["request"].(string), req["invitation_part"].(string)
	if req["reason"] != "laptop stolen, police report 2026/881" {
		t.Fatalf("a re-issue asked with --reason answers %v", req)
	}
	s.refused("custodian", work, "their own request", "approve", rq)
	// The custodian's half alone, twice, or with a guess, redeems nothing.
	mallory := t.TempDir()
	for _, halves := range [][]string{{half, half}, {half, "csi_" + strings.Repeat("A", 43)}} {
		if r := s.redeem(mallory, work, "investigator", halves); r.code == 0 {
			t.Fatalf("a custodian redeemed the investigator's invitation with %v", halves)
		}
	}
	// Before the approval the investigator works as before.
	if code := inv.view(id); code != http.StatusOK {
		t.Fatalf("investigator refused before the re-issue was approved: %d", code)
	}
	s.ok("custodian2", work, "approve", rq)
	if code := inv.view(id); code != http.StatusUnauthorized {
		t.Fatalf("a session of the re-issued credential still works: %d", code)
	}
	if r := s.run("investigator", work, "custos", "whoami"); r.code == 0 {
		t.Fatal("the re-issued credential still signs in")
	}
	for _, ev := range logEvents(t, s) {
		if ev.Type == "item.accessed" && ev.Actor.Person == "investigator" && ev.Actor.Session == "" {
			t.Fatalf("an access names no session: %+v", ev.Actor)
		}
	}
	n := 0
	for _, ev := range logEvents(t, s) {
		if ev.Type == "access.refused" && strings.Contains(string(ev.Data), "invitation.redeem") {
			n++
		}
	}
	if n == 0 {
		t.Fatal("the refused redemptions were not recorded")
	}
}

// TestCustodianCannotReissueColleagueAndApproveOwnDestruction: the second
// custodian's credential is out of the first's reach, so the first cannot
// approve their own destruction request.
func TestCustodianCannotReissueColleagueAndApproveOwnDestruction(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	req := s.ok("custodian", work, "person", "reissue", "custodian2", "--json").json(t)
	s.refused("custodian", work, "their own request", "approve", req["request"].(string))
	d := s.ok("custodian", work, "case", "destroy", "C-1", "--order", "ORD-1", "--reason", "r", "--json").json(t)
	s.refused("custodian", work, "second custodian", "case", "approve-destruction", "C-1", d["request"].(string))
	if r := s.run("custodian2", work, "custos", "whoami", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"name":"custodian2"`) {
		t.Fatalf("custodian2 lost their credential to an unapproved request: %s %s", r.stdout, r.stderr)
	}
}

// TestCustodianCannotEnrolProsecutorAndExport: a prosecutor enrolled by
// one custodian does not exist until another approves, so nothing can be
// sealed for them.
func TestCustodianCannotEnrolProsecutorAndExport(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	req := s.ok("custodian", work, "person", "add", "mallory", "--role", "prosecutor", "--reason", "new prosecutor of the trafficking unit", "--json").json(t)
	s.refused("custodian", work, "their own request", "approve", req["request"].(string))
	if l := s.ok("custodian2", work, "requests").stdout; !strings.Contains(l, `because: "new prosecutor of the trafficking unit"`) {
		t.Fatalf("the pending enrolment is listed as %q", l)
	}
	s.refused("custodian", work, "not a prosecutor or defence counsel known", "package", "seal", "--case", "C-1", "--for", "mallory", "--purpose", "p")
	list := s.ok("custodian2", work, "requests", "--json").stdout
	if !strings.Contains(list, req["request"].(string)) || !strings.Contains(list, `"kind":"person.enroll"`) {
		t.Fatalf("requests does not list the pending enrolment: %s", list)
	}
	if out := s.ok("custodian2", work, "reject", req["request"].(string), "--reason", "not known to the unit").stdout; !strings.Contains(out, "rejected request "+req["request"].(string)) {
		t.Fatalf("a second custodian's rejection says: %s", out)
	}
	s.refused("custodian2", work, "was already rejected by custodian2", "approve", req["request"].(string))
	// Its requester ending a request withdraws it, and is told so.
	again := s.ok("custodian", work, "person", "add", "mallory2", "--role", "prosecutor", "--json").json(t)
	if out := s.ok("custodian", work, "reject", again["request"].(string), "--reason", "asked by mistake").stdout; !strings.Contains(out, "withdrew your request "+again["request"].(string)) {
		t.Fatalf("a requester's withdrawal says: %s", out)
	}
}

// TestSessionsExpireAndPeopleAreSuspended: a session ends after
// --session-ttl; a suspended person is refused at once, and only two
// custodians reinstate them; every refusal is recorded.
func TestSessionsExpireAndPeopleAreSuspended(t *testing.T) {
	// Sessions of 2 s make every later command start with an expired
	// session (refused, and counted against the address's allowance of
	// requests without valid credentials) before it signs in again: the
	// allowance is raised, as it is not what this test is about.
	s := newServer(t, "--session-ttl", "2s", "--unauth-burst", "500")
	work := t.TempDir()
	id, _ := setup(t, s, work)
	inv := s.client("investigator")
	if code := inv.view(id); code != http.StatusOK {
		t.Fatalf("view: %d", code)
	}
	time.Sleep(2500 * time.Millisecond)
	if code, body := inv.call("GET", "/v1/whoami", nil); code != http.StatusUnauthorized || !strings.Contains(body["error"].(string), "expired") {
		t.Fatalf("an expired session answered %d %v", code, body)
	}
	// The client signs in again with its credential.
	s.ok("investigator", work, "whoami")

	inv = s.client("investigator")
	s.refused("investigator", work, "only custodians", "person", "suspend", "custodian", "--reason", "x")
	s.ok("custodian", work, "person", "suspend", "investigator", "--reason", "under internal investigation")
	if code := inv.view(id); code != http.StatusUnauthorized {
		t.Fatalf("a suspended person's session answered %d", code)
	}
	s.refused("investigator", work, "suspended", "whoami")
	// The case still names the suspended member, and says they cannot act.
	if out := s.ok("custodian", work, "case", "show", "C-1").stdout; !strings.Contains(out, "investigator (suspended)") {
		t.Errorf("case show names a suspended member without saying so:\n%s", out)
	}
	req := s.ok("custodian", work, "person", "reinstate", "investigator", "--reason", "cleared by the internal inquiry", "--json").json(t)
	s.refused("investigator", work, "suspended", "whoami")
	// A reason of more than a line is refused, and nothing is decided.
	s.refused("custodian2", work, "reason", "approve", req["request"].(string), "--reason", "two\nlines")
	s.refused("investigator", work, "suspended", "whoami")
	s.ok("custodian2", work, "approve", req["request"].(string), "--reason", "the inquiry's report, read with custodian")
	// The decision's event says who asked and why, and why it was
	// approved, as custos audit log prints it.
	l := s.ok("auditor", work, "audit", "log").stdout
	if !strings.Contains(l, "asked by custodian in request "+req["request"].(string)+", approved by custodian2; because “cleared by the internal inquiry”") {
		t.Errorf("custos audit log does not say why the reinstatement was asked:\n%s", l)
	}
	if !strings.Contains(l, "approved because “the inquiry's report, read with custodian”") {
		t.Errorf("custos audit log does not say why the reinstatement was approved:\n%s", l)
	}
	s.ok("investigator", work, "whoami")
	s.ok("custodian", work, "person", "remove", "investigator", "--reason", "left the unit")
	s.refused("investigator", work, "removed", "whoami")
	s.refused("custodian", work, "removed", "person", "reinstate", "investigator")
	if out := s.ok("auditor", work, "case", "show", "C-1", "--json").stdout; !strings.Contains(out, `"inactive_members":{"investigator":"removed"}`) {
		t.Errorf("case show names a removed member without saying so:\n%s", out)
	}
	if out := s.ok("auditor", work, "case", "show", "C-1").stdout; !strings.Contains(out, "investigator (removed from the vault)") {
		t.Errorf("case show names a removed member without saying so:\n%s", out)
	}
	list := s.ok("auditor", work, "person", "list", "--json").stdout
	if !strings.Contains(list, `"name":"investigator","role":"investigator","status":"removed"`) {
		t.Fatalf("person list: %s", list)
	}

	// An auditor reads one person's history: their acts, their refused
	// attempts, and what was decided about them, nobody else's.
	mine := s.ok("auditor", work, "audit", "log", "--person", "investigator").stdout
	for _, want := range []string{"Refused", "investigator is suspended", "investigator was removed", "under internal investigation"} {
		if !strings.Contains(mine, want) {
			t.Errorf("audit log --person investigator does not give %q:\n%s", want, mine)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(mine), "\n") {
		if !strings.Contains(line, "investigator") {
			t.Errorf("audit log --person investigator gives a line that names nobody of that name: %s", line)
		}
	}
	s.refused("auditor", work, "--since", "audit", "log", "--since", "yesterday") // refused before anything is sent
	var expired, suspended, removed bool
	for _, ev := range logEvents(t, s) {
		if ev.Type != "access.refused" {
			continue
		}
		expired = expired || strings.Contains(string(ev.Data), "expired")
		// A suspended or removed person's refusals are recorded in
		// their name, with the credential they presented: an auditor
		// finds them among the person's acts.
		for _, why := range []string{"is suspended", "was removed"} {
			if strings.Contains(string(ev.Data), "investigator "+why) && ev.Actor.Role != "custodian" { // not a custodian's refused reinstatement
				if ev.Actor.Person != "investigator" || ev.Actor.Role != "investigator" || ev.Actor.Auth != "local" {
					t.Errorf("the refusal %s of a person who %s is recorded as %+v's", ev.Data, why, ev.Actor)
				}
				suspended = suspended || why == "is suspended"
				removed = removed || why == "was removed"
			}
		}
	}
	if !expired || !suspended || !removed {
		t.Fatalf("refusals recorded: expired %v, suspended %v, removed %v", expired, suspended, removed)
	}
}

// TestRecipientReplacementAndExportPolicy: a prosecutor's first
// recipient takes effect at once, a replacement only once a custodian
// approves; a case whose policy requires it seals a package only on a
// custodian's approval, never the requester's own.
func TestRecipientReplacementAndExportPolicy(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	first, _ := age.GenerateX25519Identity()
	second, _ := age.GenerateX25519Identity()
	s.ok("prosecutor", work, "recipient", "set", first.Recipient().String())
	req := s.ok("prosecutor", work, "recipient", "set", second.Recipient().String(), "--json").json(t)
	if req["kind"] != "recipient.replace" {
		t.Fatalf("a replacement answered %v", req)
	}

	// A case that needs no approval is left as it is, and is said so.
	if r := s.ok("custodian", work, "case", "policy", "C-1", "--export-approval", "none"); !strings.Contains(r.stdout, "nothing changed") {
		t.Fatalf("dropping an approval that was never required says %q", r.stdout)
	}
	// The rule as it is: a custodian's approval, never the requester's
	// own; an investigator's sealing needs one custodian, not two.
	if r := s.ok("custodian", work, "case", "policy", "C-1", "--export-approval", "required"); !strings.Contains(r.stdout, "now need a custodian's approval to be sealed, never the requester's own") || strings.Contains(r.stdout, "second") {
		t.Fatalf("requiring approval says %q", r.stdout)
	}
	if r := s.ok("custodian", work, "case", "show", "C-1"); !strings.Contains(r.stdout, "exports:    need a custodian's approval, never the requester's own") || strings.Contains(r.stdout, "second custodian") {
		t.Fatalf("case show says %q", r.stdout)
	}
	// Asked again, with a reason: nothing is recorded, and it says so.
	if r := s.ok("custodian", work, "case", "policy", "C-1", "--export-approval", "required", "--reason", "the court's order 2026/99", "--json").json(t); r["recorded"] != false {
		t.Fatalf("requiring approval again answers %v", r)
	}
	seal := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	if seal["kind"] != "package.seal" || seal["request"] == nil {
		t.Fatalf("a sealing under an approval policy answered %v", seal)
	}
	app := s.ok("custodian", work, "approve", seal["request"].(string), "--json").json(t)
	if p := app["package"].(map[string]any); p["for"] != "prosecutor" || p["for_role"] != "prosecutor" {
		t.Fatalf("the approval's package names %v", p)
	}
	// The list says who sealed it, and who asked.
	if out := s.ok("investigator", work, "package", "list").stdout; !strings.Contains(out, "custodian (asked by investigator)") || !strings.Contains(out, "SEALED BY") {
		t.Errorf("package list does not say who sealed the package and who asked:\n%s", out)
	}
	pkg := app["package"].(map[string]any)["package"].(string)

	// A sealing for defence counsel (the development person named
	// defence): the request and the approval name them in their role,
	// never as a prosecutor, and never as "defence is defence".
	def, _ := age.GenerateX25519Identity()
	s.ok("defence", work, "recipient", "set", def.Recipient().String())
	dseal := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "defence", "--purpose", "disclosure", "--json").json(t)
	if r := s.ok("custodian", work, "requests"); !strings.Contains(r.stdout, `a package of C-1 for defence (defence counsel): "disclosure"`) || strings.Contains(r.stdout, "defence is defence") {
		t.Fatalf("custos requests says %q", r.stdout)
	}
	if r := s.ok("custodian", work, "approve", dseal["request"].(string)); !strings.Contains(r.stdout, "for defence (defence counsel), who finds it with custos package list") || strings.Contains(r.stdout, "prosecutor") {
		t.Fatalf("the approval of a sealing for defence counsel says %q", r.stdout)
	}
	out := filepath.Join(work, "p.tar")
	s.ok("prosecutor", work, "package", "fetch", pkg, "-o", out)
	// Sealed to the first recipient: the replacement is not approved.
	idFile := filepath.Join(work, "first.key")
	os.WriteFile(idFile, []byte(first.String()+"\n"), 0o600)
	key := strings.Fields(s.ok("auditor", work, "audit", "key").stdout)[0]
	if r := s.run("", work, "custos-verify", out, "--key", key, "--identity", idFile); r.code != 0 {
		t.Fatalf("custos-verify with the first recipient's identity: %s %s", r.stdout, r.stderr)
	} else if want := "the sealing was asked by investigator in request " + seal["request"].(string); !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "approved by custodian custodian") {
		// The two-person rule of the sealing is checked from the
		// package's own events.
		t.Errorf("custos-verify does not say who asked and who approved:\n%s", r.stdout)
	}
	s.ok("custodian", work, "approve", req["request"].(string))
	drop := s.ok("custodian", work, "case", "policy", "C-1", "--export-approval", "none", "--json").json(t)
	if drop["kind"] != "case.policy" {
		t.Fatalf("dropping the approval policy answered %v", drop)
	}
	s.refused("custodian", work, "their own request", "approve", drop["request"].(string))
}
