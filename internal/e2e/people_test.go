package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asUser runs custos as someone with no dev credentials: only
// CUSTOS_SERVER and their own config folder, as a new user's shell has.
func (s *server) asUser(config, dir string, args ...string) result {
	s.t.Helper()
	return s.asUserIn(config, dir, "", args...)
}

// asUserIn is asUser with stdin.
func (s *server) asUserIn(config, dir, stdin string, args ...string) result {
	s.t.Helper()
	return runWith(dir, stdin, []string{"CUSTOS_SERVER=" + s.url, "CUSTOS_CONFIG_DIR=" + config, "CUSTOS_TOKEN="}, args...)
}

// runWith runs custos in dir with stdin and the test's environment plus
// env (later entries win).
func runWith(dir, stdin string, env []string, args ...string) result {
	cmd := exec.Command(filepath.Join(binDir, "custos"), args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{o.String(), e.String(), code}
}

// redeem runs custos login --invitation as a new user, the halves on
// standard input.
func (s *server) redeem(config, dir, name string, halves []string, extra ...string) result {
	s.t.Helper()
	return s.asUserIn(config, dir, strings.Join(halves, "\n")+"\n", append([]string{"login", "--name", name, "--invitation"}, extra...)...)
}

// enrolByTwo has custodian ask for a person and custodian2 approve, and
// returns the two invitation halves.
func (s *server) enrolByTwo(work, name, role string, extra ...string) (half1, half2 string) {
	s.t.Helper()
	req := s.ok("custodian", work, append([]string{"person", "add", name, "--role", role, "--json"}, extra...)...).json(s.t)
	id, _ := req["request"].(string)
	half1, _ = req["invitation_part"].(string)
	if !strings.HasPrefix(id, "rq_") || !strings.HasPrefix(half1, "csi_") || req["approved"] != false {
		s.t.Fatalf("person add answered %v", req)
	}
	s.refused("custodian", work, "their own request", "approve", id)
	app := s.ok("custodian2", work, "approve", id, "--json").json(s.t)
	half2, _ = app["invitation_part"].(string)
	if app["approved"] != true || !strings.HasPrefix(half2, "csi_") || half2 == half1 {
		s.t.Fatalf("approve answered %v", app)
	}
	return half1, half2
}

// TestPeopleAndMembership: two custodians enrol a second investigator,
// who redeems the two halves of their invitation for a credential of
// their own and is refused the case's evidence until two custodians
// assign them to it; the first custodians of a vault are enrolled
// offline, and nobody else is.
func TestPeopleAndMembership(t *testing.T) {
	s := newServer(t, "--request-ttl", "2h", "--invitation-ttl", "1h")
	work := t.TempDir()
	id, _ := setup(t, s, work)

	s.refused("investigator", work, "only custodians", "person", "add", "dara", "--role", "investigator")
	h1, h2 := s.enrolByTwo(work, "dara", "investigator")
	dara := t.TempDir()
	if r := s.asUser(dara, work, "login", "--name", "dara", "--invitation", h1); r.code != 2 || !strings.Contains(r.stderr, "never put them on the command line") {
		t.Fatalf("halves on the command line: %d %s", r.code, r.stderr)
	}
	if r := s.redeem(dara, work, "dara", []string{h1, h1}); r.code == 0 {
		t.Fatalf("one half given twice redeemed the invitation: %s", r.stdout)
	}
	if r := s.redeem(dara, work, "dara", []string{h2, h1}, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"name":"dara"`) {
		t.Fatalf("login with the invitation: %s %s", r.stdout, r.stderr)
	}
	if r := s.redeem(t.TempDir(), work, "dara", []string{h1, h2}); r.code == 0 {
		t.Fatal("an invitation was redeemed twice")
	}
	if r := s.asUser(dara, work, "get", id, "--purpose", "x", "-o", "d1"); r.code == 0 || !strings.Contains(r.stderr, "assigned") {
		t.Fatalf("an unassigned investigator read evidence: %q", r.stderr)
	}
	s.refused("investigator", work, "only custodians", "case", "add-member", "C-1", "dara")
	// Asked with a reason, typed as a custodian would: the second
	// custodian reads it in the list, and the case's log says it.
	req := s.ok("custodian", work, "case", "add-member", "C-1", "dara", "--reason", "second opinion on the chats, unit order 2026/14", "--json").json(t)
	if r := s.asUser(dara, work, "get", id, "--purpose", "x", "-o", "d1"); r.code == 0 {
		t.Fatal("a membership was in force before a second custodian approved it")
	}
	if l := s.ok("custodian2", work, "requests").stdout; !strings.Contains(l, `because: "second opinion on the chats, unit order 2026/14"`) {
		t.Fatalf("the pending request is listed as %q", l)
	}
	s.ok("custodian2", work, "approve", req["request"].(string))
	if r := s.asUser(dara, work, "get", id, "--purpose", "second opinion", "-o", "d2"); r.code != 0 {
		t.Fatalf("an assigned investigator was refused: %q", r.stderr)
	}
	if r := s.asUser(dara, work, "whoami", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"auth":"local"`) {
		t.Fatalf("whoami: %s %s", r.stdout, r.stderr)
	}
	// Signing out keeps the redeemed credential (the next command signs
	// in again); --forget removes it.
	if r := s.asUser(dara, work, "logout"); r.code != 0 || !strings.Contains(r.stdout, "credential stays") {
		t.Fatalf("logout: %s %s", r.stdout, r.stderr)
	}
	s.asUser(dara, work, "whoami")
	if r := s.asUser(dara, work, "logout", "--forget"); r.code != 0 {
		t.Fatalf("logout --forget: %s", r.stderr)
	}
	if r := s.asUser(dara, work, "whoami"); r.code == 0 || !strings.Contains(r.stderr, "not signed in") {
		t.Fatalf("whoami after logout --forget: %d %s", r.code, r.stderr)
	}
	// --request-ttl: a request is open for two hours.
	pending := s.ok("custodian", work, "person", "add", "late", "--role", "auditor", "--json").json(t)
	if exp, err := time.Parse(time.RFC3339, pending["expires"].(string)); err != nil || time.Until(exp) > 2*time.Hour+time.Minute || time.Until(exp) < time.Hour {
		t.Fatalf("a request under --request-ttl 2h expires %v (%v)", pending["expires"], err)
	}
	s.stop()

	// Offline enrolment, with the server stopped, is for the first two
	// custodians only; this vault has them.
	r := s.run("", work, "custos", "admin", "enroll", "--dev", "--data", s.data, "sok", "--role", "custodian", "--json")
	if r.code == 0 || !strings.Contains(r.stderr, "custodians") {
		t.Fatalf("admin enroll of a third custodian: %s %s", r.stdout, r.stderr)
	}
	fresh := t.TempDir()
	for i, name := range []string{"first", "second"} {
		r := s.run("", work, "custos", "admin", "enroll", "--dev", "--data", fresh, name, "--role", "custodian", "--json")
		if r.code != 0 || !strings.Contains(r.stdout, `"credential":"cst_`) {
			t.Fatalf("admin enroll of custodian %d: %s %s", i+1, r.stdout, r.stderr)
		}
	}
	for _, try := range [][]string{{"third", "--role", "custodian"}, {"inv", "--role", "investigator"}} {
		args := append([]string{"admin", "enroll", "--dev", "--data", fresh}, try...)
		if r := s.run("", work, "custos", args...); r.code == 0 {
			t.Fatalf("admin enroll %v succeeded", try)
		}
	}
	s.start()
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	for _, want := range []string{`"type":"case.member.added"`, `"name":"dara"`, `"type":"request.approved"`, `"type":"person.credential.issued"`} {
		if !strings.Contains(tl, want) {
			t.Fatalf("custody log lacks %s", want)
		}
	}
}

// TestAdminVerbsWaitForTheServer: an offline admin verb refuses to run on
// a data folder the server is using, and says so.
func TestAdminVerbsWaitForTheServer(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	r := s.run("", work, "custos", "admin", "enroll", "--dev", "--data", s.data, "late", "--role", "custodian")
	if r.code == 0 || !strings.Contains(r.stderr, "stop the server first") {
		t.Fatalf("admin enroll beside a running server: %d %s", r.code, r.stderr)
	}
	r = s.run("", work, "custos", "server", "--dev", "--data", s.data, "--listen", "127.0.0.1:1")
	if r.code == 0 || !strings.Contains(r.stderr, "another custos process") {
		t.Fatalf("a second server on one data folder: %d %s", r.code, r.stderr)
	}
}
