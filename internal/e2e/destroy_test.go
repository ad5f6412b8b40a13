package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDestructionNeedsTwoCustodians: destruction under a court order is
// requested by one custodian and approved by another; then the case's
// keys are gone (crypto-shredding), its objects are deleted once their
// retention allows, nothing of it can be read, and every step is on
// record. A case under legal hold cannot be destroyed.
func TestDestructionNeedsTwoCustodians(t *testing.T) {
	s := newServer(t, "--retention", "2s", "--pending-retention", "2s")
	work := t.TempDir()
	id, _ := setup(t, s, work)

	req := s.ok("custodian", work, "case", "destroy", "C-1", "--order", "Phnom Penh Court 2026/55", "--reason", "retention period ended", "--json").json(t)
	rid := req["request"].(string)
	s.refused("custodian", work, "cannot approve their own", "case", "approve-destruction", "C-1", rid)
	s.refused("investigator", work, "only custodians", "case", "approve-destruction", "C-1", rid)
	// The pending request is on the case, for the custodians who decide it.
	if out := s.ok("custodian2", work, "case", "show", "C-1").stdout; !regexp.MustCompile(`destruction requested: ` + rid + ` by custodian at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC under order Phnom Penh Court 2026/55`).MatchString(out) {
		t.Fatalf("case show with a destruction pending:\n%s", out)
	}
	// Still readable until approved.
	s.ok("investigator", work, "get", id, "--purpose", "last review", "-o", filepath.Join(work, "before"))

	time.Sleep(2500 * time.Millisecond) // the objects' retention ends
	res := s.ok("custodian2", work, "case", "approve-destruction", "C-1", rid, "--json").json(t)
	if len(res["deleted"].([]any)) != 2 || len(res["retained"].([]any)) != 0 {
		t.Fatalf("approve-destruction answered %v", res)
	}
	s.refused("investigator", work, "destroyed", "get", id, "--purpose", "after", "-o", filepath.Join(work, "after"))
	if keys, _ := os.ReadDir(filepath.Join(s.data, "keyring", "cases")); len(keys) != 0 {
		t.Fatalf("key files remain after destruction: %v", keys)
	}
	tl := s.ok("auditor", work, "audit", "log", "--case", "C-1", "--json").stdout
	for _, want := range []string{`"type":"case.destruction.requested"`, `"type":"case.destruction.approved"`, `"type":"case.destroyed"`, `Phnom Penh Court 2026/55`, `"requested_by":"custodian"`} {
		if !strings.Contains(tl, want) {
			t.Fatalf("custody log lacks %s", want)
		}
	}
	// The case and its items say who decided it, under which order.
	show := s.ok("auditor", work, "case", "show", "C-1").stdout
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`destroyed:  yes, under order Phnom Penh Court 2026/55; its keys are gone \(event \d+\)`),
		regexp.MustCompile(`asked:    by custodian at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(event \d+\), because “retention period ended”`),
		regexp.MustCompile(`approved: by custodian2 at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(event \d+\)`),
	} {
		if !want.MatchString(show) {
			t.Errorf("case show of a destroyed case does not match %s:\n%s", want, show)
		}
	}
	if js := s.ok("auditor", work, "case", "show", "C-1", "--json").stdout; !strings.Contains(js, `"approved_by":"custodian2"`) || !strings.Contains(js, `"requested_by":"custodian"`) {
		t.Errorf("case show --json of a destroyed case: %s", js)
	}
	if out := s.ok("investigator", work, "item", "show", id).stdout; !strings.Contains(out, "case:       C-1 (destroyed under a court order") {
		t.Errorf("item show of a destroyed case's item:\n%s", out)
	}
	s.ok("auditor", work, "audit", "verify")
	s.ok("auditor", work, "audit", "scrub")

	// A held case cannot be destroyed.
	s.ok("investigator", work, "case", "open", "C-2", "--title", "held")
	s.ok("custodian", work, "case", "hold", "C-2", "--reason", "appeal pending")
	s.refused("custodian", work, "legal hold", "case", "destroy", "C-2", "--order", "x", "--reason", "y")
}
