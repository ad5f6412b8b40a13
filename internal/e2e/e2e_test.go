package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// evidence writes a file with random content and a distinctive marker,
// so that any copy of its plaintext can be found on disk later.
func evidence(t *testing.T, dir, name string, size int) (path string, marker []byte, sum string) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	marker = []byte("CUSTOS-PLAINTEXT-" + hex.EncodeToString(b[:8]))
	for off := 0; off+len(marker) < size; off += 4096 {
		copy(b[off:], marker)
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return path, marker, hex.EncodeToString(h[:])
}

// scanFor fails if any file under the roots contains needle.
func scanFor(t *testing.T, needle []byte, roots ...string) {
	t.Helper()
	files := 0
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("cannot scan %s: %v", p, err)
			}
			files++
			if bytes.Contains(b, needle) {
				t.Errorf("plaintext found at rest in %s", p)
			}
			return nil
		})
	}
	if files == 0 {
		t.Fatal("scanned no files")
	}
}

func sha256sum(t *testing.T, s *server, dir, path string) string {
	t.Helper()
	r := s.run("", dir, "/usr/bin/sha256sum", path)
	if r.code != 0 {
		t.Fatalf("sha256sum: %s", r.stderr)
	}
	return strings.Fields(r.stdout)[0]
}

// TestEndToEnd is the whole vertical slice as the README tells a new user
// to run it: investigator, prosecutor and auditor, the stock age CLI and
// sha256sum, then a restart, and a scan for plaintext at rest.
func TestEndToEnd(t *testing.T) {
	ageBin := testenv.Binary(t, "age")
	ageKeygen := testenv.Binary(t, "age-keygen")
	s := newServer(t)
	work := t.TempDir()
	big, marker1, sum1 := evidence(t, work, "chat export (1).bin", 5<<20+123)
	small, marker2, sum2 := evidence(t, work, "payment-records.csv", 70_000)

	m := s.ok("investigator", work, "case", "open", "KH-2026-014", "--title", "Live-streamed abuse, Phnom Penh", "--json").json(t)
	if m["case"] != "KH-2026-014" {
		t.Fatalf("case open answered %v", m)
	}
	dep := s.ok("investigator", work, "deposit", "--case", "KH-2026-014", "--source", "https://example.invalid/report/118",
		"--note", "seized phone, extraction 1", big, small, "--json").json(t)
	items := dep["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("deposit answered %v", dep)
	}
	it1, it2 := items[0].(map[string]any), items[1].(map[string]any)
	if it1["sha256"] != sum1 || it2["sha256"] != sum2 || it1["name"] != "chat export (1).bin" || it1["size"].(float64) != 5<<20+123 {
		t.Fatalf("deposit results wrong: %v", items)
	}
	id1, id2 := it1["id"].(string), it2["id"].(string)

	// Record before reveal, then the plaintext, checked with sha256sum.
	got := s.ok("investigator", work, "get", id1, "--purpose", "identify the victim's location", "-o", filepath.Join(work, "viewed.bin"), "--json").json(t)
	if got["id"] != id1 || got["sha256"] != sum1 || sha256sum(t, s, work, "viewed.bin") != sum1 {
		t.Fatalf("get answered %v", got)
	}
	os.Remove(filepath.Join(work, "viewed.bin"))

	// The prosecutor makes an age key with the stock tool and registers it.
	key := filepath.Join(work, "prosecutor.key")
	kg := s.run("", work, ageKeygen, "-o", key)
	if kg.code != 0 {
		t.Fatal(kg.stderr)
	}
	recipient := strings.TrimSpace(strings.TrimPrefix(kg.stderr, "Public key: "))
	if r := s.ok("prosecutor", work, "recipient", "set", recipient, "--json").json(t); r["recipient"] != recipient {
		t.Fatalf("recipient set answered %v", r)
	}
	pk := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-014", "--for", "prosecutor",
		"--purpose", "trial bundle for the Phnom Penh municipal court", "--json").json(t)
	pkgID := pk["package"].(string)
	s.refused("investigator", work, "sealed for", "package", "fetch", pkgID, "-o", filepath.Join(work, "stolen.tar"))
	f := s.ok("prosecutor", work, "package", "fetch", pkgID, "-o", "bundle.tar", "--json").json(t)
	if f["package"] != pkgID || f["sha256"] != sha256sum(t, s, work, "bundle.tar") {
		t.Fatalf("package fetch answered %v", f)
	}

	// Offline: custos-verify with the vault's log key pinned (from custos
	// audit key), with and without the identity, then the stock age CLI
	// opens every item and sha256sum agrees with the deposits.
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	if r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey); r.code != 0 || !strings.Contains(r.stdout, "VERIFIED") {
		t.Fatalf("custos-verify: %s %s", r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey, "--identity", key, "--extract", "out"); r.code != 0 {
		t.Fatalf("custos-verify --identity: %s %s", r.stdout, r.stderr)
	}
	if sha256sum(t, s, work, "out/chat export (1).bin") != sum1 || sha256sum(t, s, work, "out/payment-records.csv") != sum2 {
		t.Fatal("extracted plaintext differs from the deposit")
	}
	if r := s.run("", work, "/usr/bin/tar", "xf", "bundle.tar", "-C", work); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for i, want := range []string{sum1, sum2} {
		var name string
		ents, _ := os.ReadDir(filepath.Join(work, "items"))
		name = ents[i].Name()
		dec := filepath.Join(work, name+".plain")
		if r := s.run("", work, ageBin, "-d", "-i", key, "-o", dec, filepath.Join("items", name)); r.code != 0 {
			t.Fatalf("stock age could not decrypt %s: %s", name, r.stderr)
		}
		if sha256sum(t, s, work, dec) != want {
			t.Fatalf("age-decrypted %s differs from the deposit", name)
		}
	}

	// The auditor replays the log and saves a checkpoint outside the vault.
	cp := filepath.Join(work, "audit-2026-11.checkpoint")
	v := s.ok("auditor", work, "audit", "verify", "--save-checkpoint", cp, "--json").json(t)
	if v["ok"] != true || v["events"].(float64) < 15 {
		t.Fatalf("audit verify answered %v", v)
	}
	if sc := s.ok("auditor", work, "audit", "scrub", "--json").json(t); sc["ok"] != true || sc["objects"].(float64) != 2 {
		t.Fatalf("audit scrub answered %v", sc)
	}
	// The item's own events, and the package that carried it out, its
	// download completed. A download's completion is recorded once the
	// connection took the whole file, so a moment after the client may
	// have read it: the timeline is read until it has it.
	const wantTimeline = "item.deposited,item.accessed,item.access.completed,package.sealing,package.sealed,package.fetched,package.fetch.completed"
	var types []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		tl := s.ok("auditor", work, "audit", "log", "--item", id1, "--json").json(t)
		types = types[:0]
		for _, e := range tl["events"].([]any) {
			types = append(types, e.(map[string]any)["type"].(string))
		}
		if strings.Join(types, ",") == wantTimeline || time.Now().After(deadline) {
			break
		}
	}
	if strings.Join(types, ",") != wantTimeline {
		t.Fatalf("timeline of %s: %v", id1, types)
	}
	s.refused("investigator", work, "only auditors", "audit", "log")
	s.refused("auditor", work, "investigators", "get", id2, "--purpose", "curious", "-o", filepath.Join(work, "x"))

	// A restart rebuilds everything from the log; the saved checkpoint is
	// still extended by the (longer) log.
	noPlaintextInLogs := func() {
		t.Helper()
		logs := s.logs.String()
		// The development sealer says what it is on every start.
		if !strings.Contains(logs, "DEVELOPMENT KEY SEALER") {
			t.Fatalf("the development sealer did not warn at start:\n%s", logs)
		}
		for _, m := range [][]byte{marker1, marker2} {
			if strings.Contains(logs, string(m)) {
				t.Fatal("evidence plaintext in the server's log")
			}
		}
	}
	noPlaintextInLogs()
	s.stop()
	s.start()
	s.ok("investigator", work, "get", id2, "--purpose", "prepare exhibit list", "-o", filepath.Join(work, "again.csv"))
	if sha256sum(t, s, work, "again.csv") != sum2 {
		t.Fatal("item differs after restart")
	}
	os.Remove(filepath.Join(work, "again.csv"))
	v = s.ok("auditor", work, "audit", "verify", "--checkpoint", cp, "--json").json(t)
	if v["ok"] != true || v["extends_checkpoint"] == nil {
		t.Fatalf("audit verify --checkpoint answered %v", v)
	}
	noPlaintextInLogs()
	s.stop()

	// No plaintext at rest: not in the data folder, not in the server's
	// temporary folder.
	for _, marker := range [][]byte{marker1, marker2} {
		scanFor(t, marker, s.data, s.tmp)
	}
	// Keys only sealed: no unsealed age identity or signing key anywhere
	// the vault writes (the development recovery identity, which in real
	// use lives offline, is the one expected exception).
	logFiles, _ := filepath.Glob(filepath.Join(s.data, "custody.db*"))
	roots := append([]string{filepath.Join(s.data, "keyring"), filepath.Join(s.data, "objects"), s.tmp}, logFiles...)
	for _, key := range [][]byte{[]byte("AGE-SECRET-KEY-1"), []byte("PRIVATE+KEY+")} {
		scanFor(t, key, roots...)
	}
}
