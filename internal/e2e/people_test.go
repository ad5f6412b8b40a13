package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPeopleAndMembership: a custodian enrols a second investigator, who
// is refused the case's evidence until the custodian assigns them to it;
// a person can also be enrolled offline (the first custodian of a vault).
func TestPeopleAndMembership(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id, _ := setup(t, s, work)

	s.refused("investigator", work, "only custodians", "person", "add", "dara", "--role", "investigator")
	out := s.ok("custodian", work, "person", "add", "dara", "--role", "investigator", "--json").json(t)
	token := out["token"].(string)
	if !strings.HasPrefix(token, "cst_") {
		t.Fatalf("person add answered %v", out)
	}
	dara := func(args ...string) result {
		cmd := exec.Command(filepath.Join(binDir, "custos"), args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "CUSTOS_SERVER="+s.url, "CUSTOS_TOKEN="+token)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{o.String(), e.String(), code}
	}
	if r := dara("get", id, "--purpose", "x", "-o", "d1"); r.code == 0 || !strings.Contains(r.stderr, "assigned") {
		t.Fatalf("an unassigned investigator read evidence: %q", r.stderr)
	}
	s.refused("investigator", work, "only custodians", "case", "add-member", "C-1", "dara")
	s.ok("custodian", work, "case", "add-member", "C-1", "dara")
	if r := dara("get", id, "--purpose", "second opinion", "-o", "d2"); r.code != 0 {
		t.Fatalf("an assigned investigator was refused: %q", r.stderr)
	}
	s.stop()

	// Offline enrolment, with the server stopped.
	r := s.run("", work, "custos", "admin", "enroll", "--dev", "--data", s.data, "sok", "--role", "custodian", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"token":"cst_`) {
		t.Fatalf("admin enroll: %s %s", r.stdout, r.stderr)
	}
	s.start()
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	for _, want := range []string{`"type":"case.member.added"`, `"name":"dara"`, `"name":"sok"`} {
		if !strings.Contains(tl, want) {
			t.Fatalf("custody log lacks %s", want)
		}
	}
}
