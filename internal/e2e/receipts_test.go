package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
)

// TestPackageReceipts: a prosecutor registers an SSH key made with the
// stock ssh-keygen, acknowledges a package with `custos package receipt`
// (ssh-keygen -Y sign), and the vault records the signature; later, the
// stock `ssh-keygen -Y verify` checks the recorded receipt alone, from
// the audit log. A receipt for another file, by another key, by someone
// the package is not for, or a second one, is refused and recorded as a
// refusal; replacing the key is a request a custodian approves.
func TestPackageReceipts(t *testing.T) {
	keygen := testenv.Binary(t, "ssh-keygen")
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-950", "--title", "receipts")
	file, _, _ := evidence(t, work, "ledger.csv", 3_000)
	s.ok("investigator", work, "deposit", "--case", "KH-2026-950", file)
	s.prosecutorRecipient(work)
	id := s.sealAndFetch("investigator", "prosecutor", work, "KH-2026-950", "court bundle.tar")

	for _, k := range []string{"receipt_key", "other_key"} {
		if r := s.run("", work, keygen, "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(work, k)); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	// No key registered yet.
	s.refused("prosecutor", work, "register your receipt key first", "package", "receipt", id, "--file", "court bundle.tar", "--ssh-key", "receipt_key")
	set := s.ok("prosecutor", work, "receipt-key", "set", "receipt_key.pub", "--json").json(t)
	if !strings.HasPrefix(set["fingerprint"].(string), "SHA256:") {
		t.Fatalf("receipt-key set answered %v", set)
	}
	// Replacing the key is a request a custodian approves; until then the
	// registered key stands.
	repl := s.ok("prosecutor", work, "receipt-key", "set", "other_key.pub", "--json").json(t)
	if repl["kind"] != "receipt.key.replace" || repl["request"] == nil {
		t.Fatalf("replacing the receipt key answered %v", repl)
	}
	s.refused("investigator", work, "only prosecutors", "receipt-key", "set", "other_key.pub")

	// Another file, another key, another person: refused.
	os.WriteFile(filepath.Join(work, "other.tar"), []byte("not the package"), 0o644)
	s.refused("prosecutor", work, "not the package file's", "package", "receipt", id, "--file", "other.tar", "--ssh-key", "receipt_key")
	s.refused("prosecutor", work, "not by the registered receipt key", "package", "receipt", id, "--file", "court bundle.tar", "--ssh-key", "other_key")
	s.refused("investigator", work, "sealed for", "package", "receipt", id, "--file", "court bundle.tar", "--ssh-key", "receipt_key")

	// As a prosecutor runs it, on a package file whose name has a space
	// (the commands it prints are pasted into a shell as they are).
	printed := s.ok("prosecutor", work, "package", "receipt", id, "--file", "court bundle.tar", "--ssh-key", "receipt_key").stdout
	rec := map[string]any{"sha256": sha256sum(t, s, work, "court bundle.tar")}
	if !strings.Contains(printed, "package "+id+" acknowledged: receipt signed by "+set["fingerprint"].(string)) {
		t.Fatalf("package receipt answered %s", printed)
	}
	s.refused("prosecutor", work, "acknowledged already", "package", "receipt", id, "--file", "court bundle.tar", "--ssh-key", "receipt_key")
	// Kept beside the package: the files the printed commands check, as
	// a prosecutor runs them.
	for _, f := range []string{"court bundle.tar.receipt.txt", "court bundle.tar.receipt.sig"} {
		if _, err := os.Stat(filepath.Join(work, f)); err != nil {
			t.Fatalf("the receipt was not kept as %s: %v", f, err)
		}
	}
	_, kept, ok := strings.Cut(printed, "(docs/formats.md):\n")
	if !ok {
		t.Fatalf("the receipt's answer prints no commands to check it: %s", printed)
	}
	if r := s.run("", work, "/bin/sh", "-c", kept); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Good") {
		t.Fatalf("the kept receipt, checked by the commands printed: %s: %d %s%s", kept, r.code, r.stdout, r.stderr)
	}

	// Later, from the log alone: the recorded signature, the message of
	// docs/formats.md and the registered key, checked by ssh-keygen.
	tl := s.ok("auditor", work, "audit", "log", "--case", "KH-2026-950", "--json").json(t)
	var sig string
	for _, e := range tl["events"].([]any) {
		ev := e.(map[string]any)
		if ev["type"] == "package.received" {
			sig = ev["data"].(map[string]any)["signature"].(string)
		}
	}
	if sig == "" {
		t.Fatalf("no package.received event with a signature: %v", tl)
	}
	// The item's own timeline gives the receipt of the package that
	// carried it, as its custody report does.
	item := s.ok("investigator", work, "item", "list", "--case", "KH-2026-950", "--json").json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	if !strings.Contains(s.ok("auditor", work, "audit", "log", "--item", item, "--json").stdout, `"type":"package.received"`) {
		t.Errorf("the item's timeline does not give the receipt of its package")
	}
	// --since, as an auditor types it: a date keeps what was recorded
	// from its midnight (UTC) on; a later date, nothing.
	today := time.Now().UTC().Format(time.DateOnly)
	if out := s.ok("auditor", work, "audit", "log", "--case", "KH-2026-950", "--since", today).stdout; !strings.Contains(out, "Package receipt signed") {
		t.Errorf("audit log --since %s leaves out today's receipt:\n%s", today, out)
	}
	if out := s.ok("auditor", work, "audit", "log", "--case", "KH-2026-950", "--since", "2999-01-01T00:00:00Z").stdout; strings.TrimSpace(out) != "" {
		t.Errorf("audit log --since a later time gives events:\n%s", out)
	}
	os.WriteFile(filepath.Join(work, "receipt.sig"), []byte(sig), 0o644)
	msg := "custos package receipt v1\npackage " + id + "\nsha256 " + rec["sha256"].(string) + "\n"
	os.WriteFile(filepath.Join(work, "receipt.txt"), []byte(msg), 0o644)
	pub, _ := os.ReadFile(filepath.Join(work, "receipt_key.pub"))
	os.WriteFile(filepath.Join(work, "allowed_signers"), []byte("prosecutor "+string(pub)), 0o644)
	cmd := "ssh-keygen -Y verify -f allowed_signers -I prosecutor -n custos-receipt -s receipt.sig < receipt.txt"
	if r := s.run("", work, "/bin/sh", "-c", cmd); r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Good") {
		t.Fatalf("%s: %d %s%s", cmd, r.code, r.stdout, r.stderr)
	}
	os.WriteFile(filepath.Join(work, "receipt.txt"), []byte(strings.Replace(msg, "sha256 ", "sha256 0", 1)), 0o644)
	if r := s.run("", work, "/bin/sh", "-c", cmd); r.code == 0 {
		t.Fatal("ssh-keygen verified the receipt over another message")
	}
}

// TestSameItems: custos-verify --same-items proves offline, without
// decrypting either, that two packages carry exactly the same items
// (sealed for two people), and names what one carries that the other
// does not; a package of another vault is refused.
func TestSameItems(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-960", "--title", "disclosure")
	a, _, _ := evidence(t, work, "a.jpg", 2_000)
	b, _, _ := evidence(t, work, "b.jpg", 3_000)
	dep := s.ok("investigator", work, "deposit", "--case", "KH-2026-960", a, b, "--json").json(t)
	first := dep["items"].([]any)[0].(map[string]any)["id"].(string)
	s.prosecutorRecipient(work)
	seal := func(name string, extra ...string) {
		s.sealAndFetch("investigator", "prosecutor", work, "KH-2026-960", name, extra...)
	}
	seal("all-1.tar")
	seal("all-2.tar")
	seal("one.tar", "--items", first)
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	r := s.run("", work, "custos-verify", "--same-items", "all-1.tar", "all-2.tar", "--key", logKey)
	if r.code != 0 || !strings.Contains(r.stdout, "SAME ITEMS: 2 items") || !strings.Contains(r.stdout, "is not shown here (custos audit verify --checkpoint") {
		t.Fatalf("same items: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Told apart by name, not by id alone.
	r = s.run("", work, "custos-verify", "--same-items", "all-1.tar", "one.tar", "--key", logKey)
	if r.code != 1 || !regexp.MustCompile(`only in pk_[0-9a-f]+: item it_[0-9a-f]+ \(.+\)`).MatchString(r.stdout) || !strings.Contains(r.stdout, "ITEMS DIFFER") {
		t.Fatalf("different items, for people: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s.run("", work, "custos-verify", "--same-items", "all-1.tar", "one.tar", "--key", logKey, "--json")
	if r.code != 1 || !strings.Contains(r.stdout, `"same":false`) || !strings.Contains(r.stdout, `"only_a":["it_`) {
		t.Fatalf("different items: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos-verify", "--same-items", "all-1.tar", "all-2.tar"); r.code != 3 {
		t.Fatalf("without a pinned key: %d %s", r.code, r.stderr)
	}
	if r := s.run("", work, "custos-verify", "--same-items", "all-1.tar", "--key", logKey); r.code != 2 {
		t.Fatalf("one package: %d %s", r.code, r.stderr)
	}
	// A package of another vault: refused, by its key.
	s2 := newServer(t)
	w2 := t.TempDir()
	s2.ok("investigator", w2, "case", "open", "OTHER-1", "--title", "elsewhere")
	c, _, _ := evidence(t, w2, "c.jpg", 1_000)
	s2.ok("investigator", w2, "deposit", "--case", "OTHER-1", c)
	s2.prosecutorRecipient(w2)
	s2.sealAndFetch("investigator", "prosecutor", w2, "OTHER-1", filepath.Join(work, "other.tar"), "--purpose", "x")
	key2, _ := vaultKey(t, s2, w2, "prosecutor")
	os.WriteFile(filepath.Join(work, "keys"), []byte(logKey+"\n"+key2+"\n"), 0o644)
	// Named by their keys' fingerprints, which two logs of the same name
	// do not share.
	if r := s.run("", work, "custos-verify", "--same-items", "all-1.tar", "other.tar", "--trusted-keys", "keys"); r.code != 1 || !strings.Contains(r.stderr, "two custody logs") ||
		!strings.Contains(r.stderr, "key fingerprint "+pkgformat.KeyFingerprint(logKey)) || !strings.Contains(r.stderr, "key fingerprint "+pkgformat.KeyFingerprint(key2)) {
		t.Fatalf("packages of two vaults: %d %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestSameItemsSeesAForkedHistory: someone who holds the log, the
// keyring and the object store (one root on a one-server vault) cuts the
// log back to a checkpoint it stored, puts that checkpoint back as the
// head in both places, and lets the vault go on: a legal hold recorded
// after it is gone, and a package sealed before the cut and one sealed
// after it each verify alone. Compared, they prove the fork (both list
// an event at one position, with two leaf hashes), and --same-items says
// so and fails instead of finding the same items. With views of the item
// after the cut point, the packages list one position with two events;
// without, they list none in common, and their inclusion proofs show one
// subtree of the log with two hashes.
func TestSameItemsSeesAForkedHistory(t *testing.T) {
	for _, views := range []int{6, 0} {
		t.Run(fmt.Sprintf("%d views", views), func(t *testing.T) { sameItemsOfAFork(t, views) })
	}
}

func sameItemsOfAFork(t *testing.T, views int) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-961", "--title", "fork")
	a, _, _ := evidence(t, work, "a.jpg", 2_000)
	dep := s.ok("investigator", work, "deposit", "--case", "KH-2026-961", a, "--json").json(t)
	item := dep["items"].([]any)[0].(map[string]any)["id"].(string)
	s.prosecutorRecipient(work)
	s.ok("auditor", work, "audit", "verify") // stores a checkpoint of every event so far
	var cut int64
	var note []byte
	{
		// Read-only, as anything beside the running vault opens its log
		// (operations.md, "Backups").
		db, err := sql.Open("sqlite", "file:"+filepath.Join(s.data, "custody.db")+"?mode=ro&_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&cut, &note); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	s.ok("custodian", work, "case", "hold", "KH-2026-961", "--reason", "court order 77")
	// Views of the item after the cut point: the package sealed before
	// the cut lists each, so that its events span the positions the
	// vault writes again after it.
	for i := range views {
		s.ok("investigator", work, "get", item, "--purpose", fmt.Sprintf("look %d", i), "-o", filepath.Join(work, fmt.Sprintf("look-%d.jpg", i)))
	}
	s.sealAndFetch("investigator", "prosecutor", work, "KH-2026-961", "before.tar")
	s.stop()

	sqliteExec(t, s, `DELETE FROM events WHERE seq >= ?`, cut)
	sqliteExec(t, s, `DELETE FROM checkpoints WHERE size > ?`, cut)
	sqliteExec(t, s, `DELETE FROM seal`)
	for _, p := range []string{"custody.db-lookups", "snapshots", "tiles"} {
		os.RemoveAll(filepath.Join(s.data, p))
	}
	heads, _ := filepath.Glob(filepath.Join(s.data, "objects", "head", "*"))
	for _, h := range heads {
		os.Remove(h)
	}
	for _, p := range []string{filepath.Join("keyring", "head.checkpoint"), filepath.Join("objects", "head", fmt.Sprintf("%020d", cut))} {
		if err := os.WriteFile(filepath.Join(s.data, p), note, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.start()
	if out := s.ok("custodian", work, "case", "show", "KH-2026-961").stdout; strings.Contains(out, "court order 77") {
		t.Fatal("the hold survived the cut: the test did not cut the log")
	}
	s.sealAndFetch("investigator", "prosecutor", work, "KH-2026-961", "after.tar")
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	for _, p := range []string{"before.tar", "after.tar"} {
		if r := s.run("", work, "custos-verify", p, "--key", logKey); r.code != 0 {
			t.Fatalf("%s alone: %d %s%s", p, r.code, r.stdout, r.stderr)
		}
	}
	r := s.run("", work, "custos-verify", "--same-items", "before.tar", "after.tar", "--key", logKey)
	if r.code != 1 || !strings.Contains(r.stdout, "FORKED HISTORY") || strings.Contains(r.stdout, "SAME ITEMS") ||
		!regexp.MustCompile(`each proves a different (event [0-9]+|hash .* of events [0-9]+ to [0-9]+) (in|of) the log`).MatchString(r.stdout) {
		t.Fatalf("two packages of a forked log: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s.run("", work, "custos-verify", "--same-items", "after.tar", "before.tar", "--key", logKey, "--json")
	if r.code != 1 || !strings.Contains(r.stdout, `"forked":true`) || !strings.Contains(r.stdout, `"same":false`) {
		t.Fatalf("two packages of a forked log, JSON: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
