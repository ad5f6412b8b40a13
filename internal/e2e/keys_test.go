package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// flow runs the core of the vertical slice against s and returns the
// deposited item ids and their SHA-256s.
func flow(t *testing.T, s *server, work string) map[string]string {
	t.Helper()
	a, _, sumA := evidence(t, work, "a.bin", 2<<20+7)
	b, _, sumB := evidence(t, work, "b.txt", 900)
	s.ok("investigator", work, "case", "open", "HW-1", "--title", "hardware sealer case")
	dep := s.ok("investigator", work, "deposit", "--case", "HW-1", a, b, "--json").json(t)
	sums := map[string]string{}
	for i, it := range dep["items"].([]any) {
		sums[it.(map[string]any)["id"].(string)] = []string{sumA, sumB}[i]
	}
	for id, want := range sums {
		out := filepath.Join(work, id+".out")
		got := s.ok("investigator", work, "get", id, "--purpose", "check", "-o", out, "--json").json(t)
		if got["sha256"] != want {
			t.Fatalf("get %s: %v", id, got)
		}
		os.Remove(out)
	}
	key := filepath.Join(work, "p.key")
	s.ok("prosecutor", work, "recipient", "set", newAgeKey(t, key))
	pk := s.ok("investigator", work, "package", "seal", "--case", "HW-1", "--for", "prosecutor", "--purpose", "court", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pk["package"].(string), "-o", "pkg.tar")
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	if r := s.run("", work, "custos-verify", "pkg.tar", "--key", logKey, "--identity", key); r.code != 0 {
		t.Fatalf("custos-verify: %s", r.stderr)
	}
	os.Remove(filepath.Join(work, "pkg.tar"))
	s.ok("auditor", work, "audit", "verify")
	return sums
}

func getAll(t *testing.T, s *server, work string, sums map[string]string) {
	t.Helper()
	for id, want := range sums {
		out := filepath.Join(work, id+".again")
		got := s.ok("investigator", work, "get", id, "--purpose", "after recovery", "-o", out, "--json").json(t)
		if got["sha256"] != want {
			t.Fatalf("get %s: %v", id, got)
		}
		os.Remove(out)
	}
}

// TestLostTPMIsRecoverable: deposit with keys sealed to a (software) TPM,
// lose the TPM, see reads fail clearly, recover onto a new TPM with the
// offline recovery identity, and read everything again.
func TestLostTPMIsRecoverable(t *testing.T) {
	tpm := testenv.StartSwtpm(t)
	s := newServer(t, "--sealer", tpm.URL())
	work := t.TempDir()
	sums := flow(t, s, work)
	rep := reportWithContact(t, s, work)

	// The TPM is lost (its state destroyed) and replaced by a new one.
	tpm.Kill()
	if err := tpm.Wipe(); err != nil {
		t.Fatal(err)
	}
	if err := tpm.Start(); err != nil {
		t.Fatal(err)
	}
	var id string
	for k := range sums {
		id = k
	}
	// A lost key is a key problem, never reported as evidence tampering.
	r := s.refused("investigator", work, "case key unavailable", "get", id, "--purpose", "after loss", "-o", filepath.Join(work, "lost"))
	// The answer names no server detail; the server's log has it under
	// the answer's reference.
	ref := regexp.MustCompile(`reference ([0-9a-f]{16})`).FindStringSubmatch(r.stderr)
	if ref == nil || !s.logs.waitFor(regexp.MustCompile(`ref=`+ref[1]+`.*unsealing the key of case HW-1`)) {
		t.Fatalf("unclear error after TPM loss: %s\n%s", r.stderr, s.logs)
	}
	s.stop()
	// The server does not start without its keys, and says why.
	start := s.run("", work, "custos", "server", "--dev", "--data", s.data, "--listen", s.listen, "--sealer", tpm.URL())
	if start.code == 0 || !strings.Contains(start.stderr, "unsealing the log signing key") {
		t.Fatalf("server start after TPM loss: %d %s", start.code, start.stderr)
	}
	rec := s.run("", work, "custos", "admin", "recover", "--dev", "--data", s.data, "--sealer", tpm.URL(),
		"--identity", filepath.Join(s.data, "dev", "recovery.key"), "--json")
	if rec.code != 0 || !strings.Contains(rec.stdout, "HW-1") {
		t.Fatalf("admin recover: %s %s", rec.stdout, rec.stderr)
	}
	s.start()
	getAll(t, s, work, sums)
	checkContact(t, s, work, rep)
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if !strings.Contains(tl, `"type":"keys.recovered"`) || !strings.Contains(tl, `"type":"case.key.failed"`) {
		t.Fatal("the loss and the recovery are not in the custody log")
	}
	if strings.Contains(tl, `"type":"integrity.failed"`) {
		t.Fatal("a lost TPM was recorded as an integrity failure of the evidence")
	}
	// Each key sealed again (the case's and the reporter-contacts key)
	// is recorded before it is written, and the scrub finds the files
	// as recorded.
	if n := strings.Count(tl, `"type":"key.stored"`); n != 2 {
		t.Fatalf("%d key.stored events after a recovery of two keys", n)
	}
	s.ok("auditor", work, "audit", "verify")
	s.ok("auditor", work, "audit", "scrub")
}

// TestHSMSealerAndRotation runs the flow with case keys wrapped by an AES
// key inside a PKCS#11 token (SoftHSM2), rotates the key-encryption key,
// destroys the old one, and reads everything again, also after a restart.
func TestHSMSealerAndRotation(t *testing.T) {
	h := testenv.NewSoftHSM(t)
	tok := h.InitToken(t, "custos-e2e")
	s := newServer(t, "--sealer", h.URI(tok, "custos-kek"), "--create-kek")
	work := t.TempDir()
	sums := flow(t, s, work)
	rep := reportWithContact(t, s, work)
	s.refused("investigator", work, "only custodians", "admin", "rotate-kek")
	r := s.ok("custodian", work, "admin", "rotate-kek", "--retire-old", "--json").json(t)
	if r["retired"] != true || len(r["cases"].([]any)) != 1 {
		t.Fatalf("rotate-kek answered %v", r)
	}
	getAll(t, s, work, sums)
	s.stop()
	s.start()
	getAll(t, s, work, sums)
	checkContact(t, s, work, rep)
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if !strings.Contains(tl, `"type":"keys.rotating"`) || !strings.Contains(tl, `"type":"keys.rotated"`) {
		t.Fatal("the rotation is not in the custody log")
	}
	if n := strings.Count(tl, `"type":"key.stored"`); n != 2 {
		t.Fatalf("%d key.stored events after a rotation of two keys", n)
	}
	s.ok("auditor", work, "audit", "scrub")
}

// reporterContact is the contact reportWithContact records.
const reporterContact = "+63 917 000 0000, evenings"

// reportWithContact records a report whose contact is sealed to the
// vault's reporter-contacts key, and returns its id.
func reportWithContact(t *testing.T, s *server, work string) string {
	t.Helper()
	r := s.ok("analyst", work, "report", "new", "--channel", "phone", "--url", "https://host.example/x", "--contact", reporterContact, "--json").json(t)
	return r["report"].(string)
}

// checkContact: the analyst still reads the sealed contact (the key moved
// with the keyring's other keys), and the custody log does not hold it.
func checkContact(t *testing.T, s *server, work, rep string) {
	t.Helper()
	if got := s.ok("analyst", work, "report", "show", rep, "--contact", "--json").json(t)["contact"]; got != reporterContact {
		t.Fatalf("the reporter's contact after the keys moved: %v", got)
	}
	if strings.Contains(s.ok("auditor", work, "audit", "log", "--json", "--verbose").stdout, "917 000") {
		t.Fatal("the custody log holds the reporter's contact in clear")
	}
	// An auditor who asks for it is told it is not theirs to open.
	if out := s.ok("auditor", work, "report", "show", rep, "--contact").stdout; strings.Contains(out, "917 000") || !strings.Contains(out, "not shown to you") {
		t.Fatalf("an auditor's report show --contact:\n%s", out)
	}
}

// TestRotationSkipsAKeyNotAsRecorded: a custodian's `admin rotate-kek
// --retire-old`, typed as in operations.md, with one case's sealed key
// file and its replica rewritten alike: the other case is re-sealed, the
// rewritten one is named as not re-sealed, nothing is retired, and the
// command exits with an error that says what to do.
func TestRotationSkipsAKeyNotAsRecorded(t *testing.T) {
	h := testenv.NewSoftHSM(t)
	tok := h.InitToken(t, "custos-e2e")
	s := newServer(t, "--sealer", h.URI(tok, "custos-kek"), "--create-kek")
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "RK-1", "--title", "kept")
	s.ok("investigator", work, "case", "open", "RK-2", "--title", "rewritten")
	local, replicas := caseKeyPaths(t, s, "RK-2")
	for _, p := range append(local, replicas...) {
		if strings.Contains(filepath.Base(p), ".sealed") || strings.Contains(filepath.Base(p), "-s-") {
			os.Chmod(p, 0o600)
			if err := os.WriteFile(p, []byte("not a sealed key"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := s.run("custodian", work, "custos", "admin", "rotate-kek", "--retire-old")
	if r.code == 0 || !strings.Contains(r.stdout, "NOT RE-SEALED: RK-2") || !strings.Contains(r.stdout, "old versions retired: false") ||
		!strings.Contains(r.stderr, "1 key(s) were not re-sealed") {
		t.Fatalf("rotate-kek with a rewritten key: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	res := s.run("custodian", work, "custos", "admin", "rotate-kek", "--json")
	var got struct {
		Cases   []string                `json:"cases"`
		Retired bool                    `json:"retired"`
		Skipped []struct{ Case string } `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || !slices.Equal(got.Cases, []string{"RK-1"}) || len(got.Skipped) != 1 || got.Skipped[0].Case != "RK-2" || got.Retired {
		t.Fatalf("rotate-kek --json: %v %s %s", err, res.stdout, res.stderr)
	}
	if tl := s.ok("auditor", work, "audit", "log", "--json").stdout; !strings.Contains(tl, `"type":"case.key.failed"`) {
		t.Fatal("the key not re-sealed is not recorded as a key problem")
	}
}
