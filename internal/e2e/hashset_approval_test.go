package e2e

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHashSetImportTakesTwoCustodians: a vault started with
// --hashset-approval required answers a custodian's import with a
// request, lists it as waiting, refuses its requester's approval, and
// puts the set in use on a second custodian's; a value that is neither
// required nor none is a usage error.
func TestHashSetImportAndRemovalTakeTwoCustodians(t *testing.T) {
	if r := runWith(t.TempDir(), "", nil, "server", "--dev", "--data", filepath.Join(t.TempDir(), "d"), "--hashset-approval", "maybe"); r.code != 2 || !strings.Contains(r.stderr, "--hashset-approval") {
		t.Fatalf("--hashset-approval maybe: exit %d, %q", r.code, r.stderr)
	}
	s := newServer(t, "--hashset-approval", "required")
	work := t.TempDir()
	sum := sha256.Sum256([]byte("listed"))
	file := write(t, work, "partner.sha256", []byte(fmt.Sprintf("%x  x.jpg\n", sum)))
	out := s.ok("custodian", work, "hashset", "import", file, "--format", "sha256sum", "--name", "partner", "--category", "baseline").stdout
	rq := regexp.MustCompile(`rq_[0-9a-f]{24}`).FindString(out)
	if rq == "" || !strings.Contains(out, "The set is not in use until a second custodian approves it") {
		t.Fatalf("hashset import on a vault that asks two custodians:\n%s", out)
	}
	if l := s.ok("custodian", work, "hashset", "list").stdout; !strings.Contains(l, "waiting for a second custodian's approval (request "+rq) {
		t.Fatalf("hashset list with an import waiting:\n%s", l)
	}
	if l := s.ok("custodian2", work, "requests").stdout; !strings.Contains(l, "import hash set partner (sha256sum, a match means baseline): 1 entry") {
		t.Fatalf("requests:\n%s", l)
	}
	s.refused("custodian", work, "nobody approves their own request", "approve", rq)
	if a := s.ok("custodian2", work, "approve", rq).stdout; !strings.Contains(a, "hash set partner is in use") {
		t.Fatalf("approve:\n%s", a)
	}
	if l := s.ok("custodian", work, "hashset", "list").stdout; !strings.Contains(l, "custodian, approved by custodian2") || !strings.Contains(l, "in use") {
		t.Fatalf("hashset list after the approval:\n%s", l)
	}

	// Its removal takes two custodians too.
	out = s.ok("custodian", work, "hashset", "remove", "partner", "--reason", "the partner withdrew the list").stdout
	rq = regexp.MustCompile(`rq_[0-9a-f]{24}`).FindString(out)
	if rq == "" || !strings.Contains(out, "removing hash set partner (it stays in use until then) needs a second custodian") {
		t.Fatalf("hashset remove on a vault that asks two custodians:\n%s", out)
	}
	if l := s.ok("custodian2", work, "requests").stdout; !strings.Contains(l, "remove hash set partner (a match means baseline; 1 entry)") {
		t.Fatalf("requests:\n%s", l)
	}
	if l := s.ok("custodian", work, "hashset", "list").stdout; !strings.Contains(l, "partner") || !strings.Contains(l, "in use") {
		t.Fatalf("hashset list with a removal waiting:\n%s", l)
	}
	s.refused("custodian", work, "nobody approves their own request", "approve", rq)
	s.ok("custodian2", work, "approve", rq)
	if l := s.ok("custodian", work, "hashset", "list").stdout; strings.Contains(l, "partner") {
		t.Fatalf("hashset list after the removal's approval:\n%s", l)
	}
	s.ok("auditor", work, "audit", "verify")
}
