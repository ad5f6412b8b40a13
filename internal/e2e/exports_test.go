package e2e

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHashListsForPartners: a case's hash lists, in the formats partner
// agencies import, are checked by the stock tools (sha256sum -c, sha1sum
// -c, md5sum -c) against the files custos-verify extracts from a package
// of the case, and the CSV and VICS lists are read back field by field
// against the deposits. Names keep their folders and bytes (a name that
// is not UTF-8, one a spreadsheet would take for a formula). Each export
// is recorded before it is written; people outside the case are refused,
// and an unknown format changes nothing.
func TestHashListsForPartners(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-900", "--title", "hash lists")
	dump := filepath.Join(work, "dump")
	os.MkdirAll(filepath.Join(dump, "DCIM", "Camera"), 0o755)
	files := map[string]string{
		"chat export.db":           "chat database",
		"DCIM/Camera/IMG_0001.jpg": "jpeg bytes",
		"caf\xe9.txt":              "latin-1 name",
		"=HYPERLINK(x).csv":        "a name a spreadsheet would run",
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(dump, filepath.FromSlash(name)), []byte(body), 0o644)
	}
	dep := s.ok("investigator", work, "deposit", "--case", "KH-2026-900", dump, "--json").json(t)
	deposits := map[string]map[string]any{}
	for _, it := range dep["items"].([]any) {
		m := it.(map[string]any)
		deposits[m["name"].(string)] = m
	}
	if len(deposits) != len(files) {
		t.Fatalf("deposited %v", deposits)
	}

	// The defence expert's view: the plaintext files as custos-verify
	// extracts them from a package.
	s.prosecutorRecipient(work)
	pkg := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-900", "--for", "prosecutor", "--purpose", "disclosure", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pkg["package"].(string), "-o", "bundle.tar")
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	if r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey, "--identity", "p.key", "--extract", "extracted"); r.code != 0 {
		t.Fatalf("custos-verify --extract: %s%s", r.stdout, r.stderr)
	}

	for _, c := range []struct{ format, tool string }{{"sha256sum", "sha256sum"}, {"sha1sum", "sha1sum"}, {"md5sum", "md5sum"}} {
		list := filepath.Join(work, "list."+c.format)
		out := s.ok("investigator", work, "export", "hashes", "--case", "KH-2026-900", "--format", c.format, "-o", list, "--json").json(t)
		if out["sha256"] != sha256sum(t, s, work, list) || out["format"] != c.format {
			t.Fatalf("export %s answered %v", c.format, out)
		}
		r := s.run("", filepath.Join(work, "extracted"), "/usr/bin/"+c.tool, "-c", "--strict", list)
		if r.code != 0 || strings.Count(r.stdout, ": OK") != len(files) {
			t.Fatalf("%s -c: %d\n%s%s", c.tool, r.code, r.stdout, r.stderr)
		}
	}

	// CSV, read back field by field.
	s.ok("custodian", work, "export", "hashes", "--case", "KH-2026-900", "--format", "csv", "-o", "list.csv")
	f, err := os.Open(filepath.Join(work, "list.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != len(files)+1 || strings.Join(rows[0], ",") != "item,name,size,sha256,sha1,md5,deposited_at,deposit_event" {
		t.Fatalf("csv: %v %v", rows, err)
	}
	for _, row := range rows[1:] {
		name := row[1]
		if strings.HasPrefix(name, "'=") {
			name = name[1:] // the formula guard
		} else if strings.HasPrefix(name, "=") {
			t.Fatalf("a name starting with = reaches a spreadsheet as a formula: %q", row[1])
		}
		d := deposits[name]
		if d == nil || row[0] != d["id"] || row[3] != d["sha256"] || row[4] != d["sha1"] || row[5] != d["md5"] || row[2] != jsonNumber(d["size"]) {
			t.Fatalf("csv row %v does not match the deposit %v", row, d)
		}
	}

	// VICS 2.0, read back field by field.
	s.ok("investigator", work, "export", "hashes", "--case", "KH-2026-900", "--format", "vics", "-o", "list.json")
	b, _ := os.ReadFile(filepath.Join(work, "list.json"))
	var doc struct {
		Context string `json:"@odata.context"`
		Value   []struct {
			CaseNumber string
			Media      []struct {
				MediaID    int
				MD5, SHA1  string
				MediaSize  int64
				MediaFiles []struct{ FileName, FilePath string }
			}
		} `json:"value"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || !strings.Contains(doc.Context, "ProjectVic/DataModels/2.0") || len(doc.Value) != 1 ||
		doc.Value[0].CaseNumber != "KH-2026-900" || len(doc.Value[0].Media) != len(files) {
		t.Fatalf("vics: %v\n%s", err, b)
	}
	for i, m := range doc.Value[0].Media {
		name := m.MediaFiles[0].FileName
		if m.MediaFiles[0].FilePath != "" {
			name = m.MediaFiles[0].FilePath + "/" + name
		}
		d := deposits[name]
		if d == nil || m.MediaID != i+1 || m.MD5 != strings.ToUpper(d["md5"].(string)) || m.SHA1 != strings.ToUpper(d["sha1"].(string)) ||
			jsonNumber(d["size"]) != jsonNumber(float64(m.MediaSize)) {
			t.Fatalf("vics media %+v does not match the deposit %v", m, d)
		}
	}

	// Refusals, and an unknown format: nothing written, nothing recorded
	// but the refusals.
	s.refused("prosecutor", work, "investigators and custodians", "export", "hashes", "--case", "KH-2026-900", "--format", "csv", "-o", "p.csv")
	s.refused("auditor", work, "investigators and custodians", "export", "hashes", "--case", "KH-2026-900", "--format", "csv", "-o", "a.csv")
	r := s.run("investigator", work, "custos", "export", "hashes", "--case", "KH-2026-900", "--format", "xml", "-o", "x.xml")
	if r.code == 0 || !strings.Contains(r.stderr, "sha256sum, sha1sum, md5sum, csv, vics") {
		t.Fatalf("an unknown format: %d %s", r.code, r.stderr)
	}
	for _, name := range []string{"p.csv", "a.csv", "x.xml"} {
		if _, err := os.Stat(filepath.Join(work, name)); err == nil {
			t.Errorf("%s was written", name)
		}
	}
	tl := s.ok("auditor", work, "audit", "log", "--case", "KH-2026-900", "--json").json(t)
	exports := 0
	for _, e := range tl["events"].([]any) {
		if e.(map[string]any)["type"] == "case.hashes.exported" {
			exports++
		}
	}
	if exports != 5 {
		t.Fatalf("%d exports recorded, want 5", exports)
	}
}

// jsonNumber writes a JSON number (a float64 from encoding/json) as the
// decimal integer it holds.
func jsonNumber(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}
