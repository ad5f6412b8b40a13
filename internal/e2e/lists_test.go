package e2e

import (
	"strings"
	"testing"

	"filippo.io/age"
)

// TestFindingOnesWork: each person lists the cases, items and packages
// they may know, and nothing else; an unknown or unseen case or item is
// an error, never an empty success.
func TestFindingOnesWork(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id, _ := setup(t, s, work)
	s.ok("custodian", work, "case", "open", "OTHER-1", "--title", "not the investigator's")

	if out := s.ok("investigator", work, "case", "list", "--json").stdout; !strings.Contains(out, `"case":"C-1"`) || strings.Contains(out, "OTHER-1") {
		t.Fatalf("investigator's case list: %s", out)
	}
	if out := s.ok("auditor", work, "case", "list").stdout; !strings.Contains(out, "C-1") || !strings.Contains(out, "OTHER-1") {
		t.Fatalf("auditor's case list: %s", out)
	}
	if out := s.ok("prosecutor", work, "case", "list").stdout; strings.Contains(out, "C-1") {
		t.Fatalf("a prosecutor with no package sees %s", out)
	}
	show := s.ok("investigator", work, "case", "show", "C-1", "--json").json(t)
	if show["items"].(float64) != 2 || show["size"].(float64) != 301_000 || show["title"] != "t" {
		t.Fatalf("case show: %v", show)
	}
	s.refused("investigator", work, "no such case", "case", "show", "OTHER-1")
	s.refused("investigator", work, "no such case", "case", "show", "NOPE-1")

	all := s.ok("investigator", work, "item", "list", "--case", "C-1", "--json").json(t)["items"].([]any)
	if len(all) != 2 {
		t.Fatalf("item list: %v", all)
	}
	first := all[0].(map[string]any)
	by := s.ok("investigator", work, "item", "list", "--case", "C-1", "--sha256", strings.ToUpper(first["sha256"].(string)), "--json").json(t)["items"].([]any)
	if len(by) != 1 || by[0].(map[string]any)["id"] != id {
		t.Fatalf("item list by hash: %v", by)
	}
	if got := s.ok("investigator", work, "item", "list", "--case", "C-1", "--name", "b.*", "--json").json(t)["items"].([]any); len(got) != 1 {
		t.Fatalf("item list by name: %v", got)
	}
	s.refused("custodian", work, "only the case's investigators and analysts list its items", "item", "list", "--case", "C-1")
	s.refused("investigator", work, "hex digits", "item", "list", "--case", "C-1", "--sha256", "xyz")

	s.ok("investigator", work, "get", id, "--purpose", "look", "-o", "copy")
	item := s.ok("investigator", work, "item", "show", id, "--json").json(t)
	if item["name"] != "a.bin" || item["deposited_by"] != "investigator" || item["accesses"].(float64) != 1 || item["md5"] == nil {
		t.Fatalf("item show: %v", item)
	}
	if out := s.ok("investigator", work, "item", "show", id).stdout; !strings.Contains(out, "292.97 KiB") && !strings.Contains(out, "293.0 KiB (300000 bytes)") {
		t.Fatalf("item show for people: %s", out)
	}
	s.refused("prosecutor", work, "no such item", "item", "show", id)
	s.refused("investigator", work, "no such item", "item", "show", "it_000000000000000000000000")

	key, _ := age.GenerateX25519Identity()
	s.ok("prosecutor", work, "recipient", "set", key.Recipient().String())
	pkg := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)["package"].(string)
	if out := s.ok("prosecutor", work, "package", "list", "--json").stdout; !strings.Contains(out, pkg) || !strings.Contains(out, `"sealed_at"`) {
		t.Fatalf("prosecutor's package list: %s", out)
	}
	s.ok("prosecutor", work, "package", "fetch", pkg, "-o", "p.tar")
	if tl := s.ok("auditor", work, "audit", "log", "--item", id, "--json").stdout; !strings.Contains(tl, `"package.sealing"`) || !strings.Contains(tl, `"package.fetched"`) {
		t.Fatalf("the item's timeline does not show the package that carried it out:\n%s", tl)
	}
	if out := s.ok("prosecutor", work, "case", "list").stdout; !strings.Contains(out, "C-1") {
		t.Fatalf("a prosecutor with a package does not see its case: %s", out)
	}
	refusals := 0
	for _, ev := range logEvents(t, s) {
		if ev.Type == "access.refused" && (strings.Contains(string(ev.Data), "case.show") || strings.Contains(string(ev.Data), "item.")) {
			refusals++
		}
	}
	if refusals < 5 {
		t.Fatalf("%d refusals recorded, want at least 5", refusals)
	}
}
