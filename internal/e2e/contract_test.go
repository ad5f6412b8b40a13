package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// TestJSONHoldsWhatTheContractNames: each verb of the user-facing CLI
// contract (the tables of client verbs and of additions that docs/cli.md
// extends) prints, with --json, at least the members the contract names,
// nested ones included; a script written against the contract reads them
// all.
func TestJSONHoldsWhatTheContractNames(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	has := func(verb string, got map[string]any, path string, keys ...string) {
		t.Helper()
		obj := got
		if path != "" {
			list, ok := got[path].([]any)
			if !ok || len(list) == 0 {
				t.Errorf("%s --json: no %q list in %v", verb, path, got)
				return
			}
			if obj, ok = list[0].(map[string]any); !ok {
				t.Errorf("%s --json: %q holds %v", verb, path, list[0])
				return
			}
		}
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s --json: no %q in %v", verb, strings.TrimPrefix(path+"."+k, "."), obj)
			}
		}
	}
	run := func(role, verb string, args ...string) map[string]any {
		t.Helper()
		return s.ok(role, work, append(args, "--json")...).json(t)
	}

	const c = "KH-2026-777"
	has("case open", run("investigator", "case open", "case", "open", c, "--title", "contract"), "", "case")
	file := write(t, work, "chat.txt", []byte("a chat export"))
	dep := run("investigator", "deposit", "deposit", "--case", c, "--source", "https://example.org/x", "--note", "n", file)
	has("deposit", dep, "items", "id", "name", "size", "sha256")
	item := dep["items"].([]any)[0].(map[string]any)["id"].(string)
	// The same file named again is deposited again, and the answer says
	// which item it repeats.
	if again := s.ok("investigator", work, "deposit", "--case", c, file).stdout; !strings.Contains(again, "a repeat of "+item+" (same name and content, already in the case)") {
		t.Errorf("deposit of a file the case holds, named again:\n%s", again)
	}
	has("get", run("investigator", "get", "get", item, "--purpose", "review", "-o", filepath.Join(work, "out.txt")), "", "id", "sha256")
	kg := s.run("", work, testenv.Binary(t, "age-keygen"), "-o", filepath.Join(work, "p.key"))
	if kg.code != 0 {
		t.Fatalf("age-keygen: %s", kg.stderr)
	}
	pub := strings.TrimSpace(strings.TrimPrefix(kg.stderr, "Public key: "))
	has("recipient set", run("prosecutor", "recipient set", "recipient", "set", pub), "", "recipient")
	pkg := run("investigator", "package seal", "package", "seal", "--case", c, "--for", "prosecutor", "--purpose", "trial", "--items", item)
	has("package seal", pkg, "", "package")
	has("package fetch", run("prosecutor", "package fetch", "package", "fetch", pkg["package"].(string), "-o", filepath.Join(work, "p.tar")), "", "package", "sha256")
	verified := run("auditor", "audit verify", "audit", "verify")
	has("audit verify", verified, "", "events", "ok", "root")
	if root, _ := verified["root"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(root) {
		t.Errorf("audit verify --json: root %q is not 64 lowercase hex digits", root)
	}
	has("audit scrub", run("auditor", "audit scrub", "audit", "scrub"), "", "objects", "ok")
	has("audit log", run("auditor", "audit log", "audit", "log", "--case", c), "", "events")

	has("whoami", run("investigator", "whoami", "whoami"), "", "name", "role", "auth")
	for _, role := range []string{"analyst", "defence"} {
		if _, err := os.Stat(filepath.Join(s.data, "dev", role+".env")); err != nil {
			t.Errorf("--dev wrote no sign-in file for the %s: %v", role, err)
		}
	}
	has("case list", run("investigator", "case list", "case", "list"), "cases", "case", "title")
	has("case show", run("investigator", "case show", "case", "show", c), "", "case", "title", "items", "members")
	has("item list", run("investigator", "item list", "item", "list", "--case", c), "items", "id", "name", "size", "sha256")
	has("item show", run("investigator", "item show", "item", "show", item), "", "id", "name", "size", "sha256", "deposited_by", "deposited_at")
	has("package list", run("prosecutor", "package list", "package", "list"), "packages", "package", "case", "sealed_at")
	has("audit key", run("investigator", "audit key", "audit", "key"), "", "key")
	// The counts are the documents': the case's two items, and their
	// custody events (opening, deposits, access, sealing, fetch and more).
	counted := func(verb string, got map[string]any, items float64, events bool) {
		t.Helper()
		n, _ := got["events"].(float64)
		if got["items"] != items || events && n < 5 {
			t.Errorf("%s --json counts %v items and %v events, want %v items and at least 5 events", verb, got["items"], got["events"], items)
		}
	}
	rep := run("auditor", "report", "report", "--case", c, "-o", filepath.Join(work, "r.pdf"))
	has("report", rep, "", "file", "sha256", "events")
	counted("report", rep, 2, true)
	for _, f := range []string{"sha256sum", "sha1sum", "md5sum", "csv", "vics"} {
		list := run("investigator", "export hashes", "export", "hashes", "--case", c, "--format", f, "-o", filepath.Join(work, "h."+f))
		has("export hashes --format "+f, list, "", "file", "items")
		counted("export hashes --format "+f, list, 2, false)
	}
	uco := run("auditor", "export case-uco", "export", "case-uco", "--case", c, "-o", filepath.Join(work, "c.jsonld"))
	has("export case-uco", uco, "", "file", "items", "events")
	counted("export case-uco", uco, 2, true)
	set := write(t, work, "set.sha256", []byte(strings.Repeat("ab", 32)+"  known.jpg\n"))
	has("hashset import", run("custodian", "hashset import", "hashset", "import", set, "--format", "sha256sum", "--name", "partner", "--category", "baseline"), "", "hashset", "imported", "rejected")

	s.ok("custodian", work, "case", "open", "HL-2026-777", "--title", "hotline")
	add := run("custodian", "case add-member", "case", "add-member", "HL-2026-777", "analyst")
	has("requests", run("custodian", "requests", "requests"), "requests", "request", "kind", "by", "expires")
	has("approve", run("custodian2", "approve", "approve", add["request"].(string)), "", "request", "approved")
	photo := write(t, work, "capture.jpg", []byte("a capture"))
	hid := itemOf(t, s.ok("analyst", work, "deposit", "--case", "HL-2026-777", photo, "--json"))["id"].(string)
	has("classify", run("analyst", "classify", "classify", hid, "--category", "national"), "", "item", "category", "votes")
	has("stats", run("custodian", "stats", "stats"), "", "reports", "items", "by_category")
	again := run("custodian", "case add-member", "case", "add-member", c, "analyst")
	rej := run("custodian2", "reject", "reject", again["request"].(string), "--reason", "not this case")
	has("reject", rej, "", "request", "approved")
	if fmt.Sprint(rej["approved"]) == "true" {
		t.Errorf("reject --json says approved: %v", rej)
	}
}
