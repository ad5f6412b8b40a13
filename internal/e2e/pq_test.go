package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// windowsCopy writes a copy of a text file as a Windows editor saves it:
// a byte-order mark, CRLF line ends, a trailing blank on each line.
func windowsCopy(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, []byte("\uFEFF"+strings.ReplaceAll(string(b), "\n", " \r\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPostQuantumPackage: a prosecutor makes a hybrid post-quantum key
// with the stock age-keygen -pq and registers its recipient; the package
// sealed to it verifies with custos-verify --identity (the key file as
// saved on Windows, and encrypted with a passphrase as age -p makes it),
// and the stock age opens its items. An identity for another recipient
// is reported as a key mismatch, not as tampering, and leaves no folder;
// an SSH recipient is refused saying what is supported.
func TestPostQuantumPackage(t *testing.T) {
	ageBin := testenv.Binary(t, "age")
	ageKeygen := testenv.Binary(t, "age-keygen")
	testenv.Binary(t, "age-plugin-batchpass")
	s := newServer(t)
	work := t.TempDir()
	file, _, sum := evidence(t, work, "interview recording.bin", 300_000)
	s.ok("investigator", work, "case", "open", "PQ-2026-1", "--title", "post-quantum package")
	s.ok("investigator", work, "deposit", "--case", "PQ-2026-1", file)

	s.refused("prosecutor", work, "SSH keys are not supported as package recipients; Custos seals packages to age X25519 recipients",
		"recipient", "set", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq5lBRDGGQ5TtzbCKdpk0Mf2dkJY3rRmQ7eZSHuCkXh prosecutor@laptop")

	kg := s.run("", work, ageKeygen, "-pq", "-o", "pq.key")
	if kg.code != 0 {
		t.Fatal(kg.stderr)
	}
	recipient := strings.TrimSpace(strings.TrimPrefix(kg.stderr, "Public key: "))
	if !strings.HasPrefix(recipient, "age1pq1") || len(recipient) < 1900 {
		t.Fatalf("age-keygen -pq printed %q", kg.stderr)
	}
	if r := s.ok("prosecutor", work, "recipient", "set", recipient, "--json").json(t); r["recipient"] != recipient {
		t.Fatalf("recipient set answered %.80v", r)
	}
	id := s.ok("investigator", work, "package", "seal", "--case", "PQ-2026-1", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)["package"].(string)
	s.ok("prosecutor", work, "package", "fetch", id, "-o", "bundle.tar")
	key, _ := vaultKey(t, s, work, "prosecutor")

	windowsCopy(t, filepath.Join(work, "pq.key"), filepath.Join(work, "pq-windows.key"))
	r := s.run("", work, "custos-verify", "bundle.tar", "--key", key, "--identity", "pq-windows.key", "--extract", "out")
	if r.code != 0 || !strings.HasSuffix(r.stdout, "VERIFIED\n") || !strings.Contains(r.stdout, "1 item decrypted") {
		t.Fatalf("custos-verify --identity (hybrid): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if sha256sum(t, s, work, "out/interview recording.bin") != sum {
		t.Fatal("the extracted plaintext differs from the deposit")
	}

	// The identity encrypted with a passphrase, as age -p makes it (the
	// batchpass plugin shipped with age writes the same file without a
	// terminal).
	enc := exec.Command(ageBin, "-e", "-j", "batchpass", "-a", "-o", "pq.key.age", "pq.key")
	enc.Dir = work
	enc.Env = append(os.Environ(), "PATH="+filepath.Dir(ageBin)+string(os.PathListSeparator)+os.Getenv("PATH"), "AGE_PASSPHRASE=four words of passphrase")
	if out, err := enc.CombinedOutput(); err != nil {
		t.Fatalf("age -e -j batchpass: %v %s", err, out)
	}
	os.WriteFile(filepath.Join(work, "passphrase.txt"), []byte("four words of passphrase\r\n"), 0o600)
	if r := s.run("", work, "custos-verify", "bundle.tar", "--key", key, "--identity", "pq.key.age"); r.code != 2 || !strings.Contains(r.stderr, "--identity-passphrase-file") {
		t.Fatalf("an encrypted identity without its passphrase: exit %d %s", r.code, r.stderr)
	}
	if r := s.run("", work, "custos-verify", "bundle.tar", "--key", key, "--identity", "pq.key.age", "--identity-passphrase-file", "passphrase.txt"); r.code != 0 || !strings.Contains(r.stdout, "1 item decrypted") {
		t.Fatalf("an encrypted identity with its passphrase: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The stock age opens the item with the same identity file.
	if r := s.run("", work, "/usr/bin/tar", "xf", "bundle.tar", "-C", work); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ents, _ := os.ReadDir(filepath.Join(work, "items"))
	if len(ents) != 1 {
		t.Fatalf("%d items in the package", len(ents))
	}
	if r := s.run("", work, ageBin, "-d", "-i", "pq.key", "-o", "plain.bin", filepath.Join("items", ents[0].Name())); r.code != 0 {
		t.Fatalf("age -d: %s", r.stderr)
	}
	if sha256sum(t, s, work, "plain.bin") != sum {
		t.Fatal("age -d gave another plaintext")
	}

	// Another key: a key mismatch naming both recipients, nothing left.
	if kg := s.run("", work, ageKeygen, "-o", "other.key"); kg.code != 0 {
		t.Fatal(kg.stderr)
	}
	other := strings.TrimSpace(strings.TrimPrefix(s.run("", work, ageKeygen, "-y", "other.key").stdout, "Public key: "))
	r = s.run("", work, "custos-verify", "bundle.tar", "--key", key, "--identity", "other.key", "--extract", "new/exhibits")
	if r.code != 4 || !strings.HasSuffix(r.stdout, "KEY MISMATCH\n") || strings.Contains(r.stdout+r.stderr, "FAILED") ||
		!strings.Contains(r.stdout, other) || !strings.Contains(r.stdout, recipient[:24]) || !strings.Contains(r.stdout, "not a sign of tampering") {
		t.Fatalf("another identity: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(work, "new")); !os.IsNotExist(err) {
		t.Fatalf("the folder --extract created was left: %v", err)
	}
	m := s.run("", work, "custos-verify", "bundle.tar", "--key", key, "--identity", "other.key", "--json").json(t)
	if m["status"] != "key-mismatch" || m["recipient"] != recipient || m["identity_recipients"].([]any)[0] != other {
		t.Fatalf("--json: %.200v", m)
	}
}

// TestSavedKeysAsSaved: a checkpoint saved by custos audit verify and
// a trusted-keys file, after a round trip through a Windows editor
// (byte-order mark, CRLF, trailing blanks), still pin the key for custos
// audit verify and custos-verify; a checkpoint whose signature line lost
// its em dash is reported as malformed by both, not as a forged log.
func TestSavedKeysAsSaved(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	_, ident := sealedPackage(t, s, work)
	key, _ := vaultKey(t, s, work, "prosecutor")
	s.ok("auditor", work, "audit", "verify", "--save-checkpoint", "saved.cp")
	windowsCopy(t, filepath.Join(work, "saved.cp"), filepath.Join(work, "saved-windows.cp"))
	os.WriteFile(filepath.Join(work, "trusted"), []byte("# the unit's vault\n"+key+"\n"), 0o600)
	windowsCopy(t, filepath.Join(work, "trusted"), filepath.Join(work, "trusted-windows"))

	s.ok("auditor", work, "audit", "verify", "--checkpoint", "saved-windows.cp", "--key", key+"\r\n")
	for _, pin := range [][]string{{"--checkpoint", "saved-windows.cp"}, {"--trusted-keys", "trusted-windows"}, {"--key", " " + key + "\r\n"}} {
		if r := s.run("", work, "custos-verify", append([]string{"p.tar", "--identity", ident}, pin...)...); r.code != 0 || !strings.HasSuffix(r.stdout, "VERIFIED\n") {
			t.Errorf("%s: exit %d\n%s%s", pin[0], r.code, r.stdout, r.stderr)
		}
	}

	b, _ := os.ReadFile(filepath.Join(work, "saved.cp"))
	os.WriteFile(filepath.Join(work, "mangled.cp"), []byte(strings.Replace(string(b), "— ", "-- ", 1)), 0o600)
	s.refused("auditor", work, "mangled.cp is not a well-formed checkpoint: line 5: a signature line must start with an em dash", "audit", "verify", "--checkpoint", "mangled.cp")
	r := s.run("", work, "custos-verify", "p.tar", "--checkpoint", "mangled.cp")
	if r.code != 2 || !strings.Contains(r.stderr, "mangled.cp is not a well-formed checkpoint: line 5") || strings.Contains(r.stdout, "FAILED") {
		t.Fatalf("custos-verify with a mangled checkpoint: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.refused("auditor", work, "--key is not a well-formed log key", "audit", "verify", "--key", key[:len(key)-4])
}
