package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// artifacts is the folder rendered report pages go to, for a person to
// look at: $CUSTOS_ARTIFACTS/name if set (make test sets .run/artifacts),
// else a temporary folder.
func artifacts(t *testing.T, name string) string {
	dir := t.TempDir()
	if root := os.Getenv("CUSTOS_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, name)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("rendered pages of %s in %s", name, dir)
	return dir
}

// pdfText is the text pdftotext extracts from a PDF, with runs of white
// space made one space (table cells wrap).
func pdfText(t *testing.T, s *server, dir, pdf string) string {
	t.Helper()
	r := s.run("", dir, testenv.Binary(t, "pdftotext"), "-raw", "-enc", "UTF-8", pdf, "-")
	if r.code != 0 {
		t.Fatalf("pdftotext %s: %s", pdf, r.stderr)
	}
	return strings.Join(strings.Fields(r.stdout), " ")
}

// renderPages renders a PDF's pages to PNG files in dir (pdftoppm) and
// returns how many.
func renderPages(t *testing.T, s *server, pdf, dir, prefix string) int {
	t.Helper()
	r := s.run("", dir, testenv.Binary(t, "pdftoppm"), "-r", "70", "-png", pdf, filepath.Join(dir, prefix))
	if r.code != 0 {
		t.Fatalf("pdftoppm %s: %s", pdf, r.stderr)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, prefix+"*.png"))
	return len(pages)
}

// timelineEvent is one event of `custos audit log --json`.
type timelineEvent struct {
	Seq   uint64 `json:"seq"`
	Type  string `json:"type"`
	Time  string `json:"time"`
	Item  string `json:"item"`
	Actor struct {
		Person, Role string
	} `json:"actor"`
	Data map[string]any `json:"data"`
}

func timeline(t *testing.T, s *server, work, caseID string) []timelineEvent {
	t.Helper()
	out := s.ok("auditor", work, "audit", "log", "--case", caseID, "--json")
	var tl struct {
		Events []timelineEvent `json:"events"`
	}
	if err := json.Unmarshal([]byte(out.stdout), &tl); err != nil {
		t.Fatal(err)
	}
	return tl.Events
}

// reportTime is how reports write a time.
func reportTime(t *testing.T, rfc3339 string) string {
	tm, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// TestCourtDocuments drives the court documents as their users do: an
// investigator deposits (a Khmer name, a name with a right-to-left
// override, a folder, an acquisition hash) and views an item; a custodian
// places a hold; the prosecution and the defence each get a package of
// the same items, the defence's stating the prosecution's; custos-verify
// proves offline that both carry the same items; the auditor makes a
// custody report. Every report (text and PDF, in the packages and on
// demand) is checked against the events: each event of each item appears
// with its time, person and purpose; names cannot reorder or forge text.
// Pages are rendered to PNG for a person to look at.
func TestCourtDocuments(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	const caseID = "KH-2026-777"
	s.ok("investigator", work, "case", "open", caseID, "--title", "Operation Lotus")
	dump := filepath.Join(work, "phone")
	os.MkdirAll(filepath.Join(dump, "DCIM"), 0o755)
	os.WriteFile(filepath.Join(dump, "DCIM", "ស្រីពៅ.jpg"), []byte("khmer name"), 0o644)
	os.WriteFile(filepath.Join(dump, "caf\xe9.txt"), []byte("a name that is not UTF-8"), 0o644)
	// Phones name files with emoji; a name that a right-to-left override
	// makes read as another is kept too, recorded with the override
	// escaped: nothing of the seized folder is left behind.
	os.WriteFile(filepath.Join(dump, "\u2764\ufe0f\u200d\U0001f525.jpg"), []byte("an emoji name"), 0o644)
	os.WriteFile(filepath.Join(dump, "invoice\u202egpj.exe"), []byte("rtl override"), 0o644)
	if out := s.ok("investigator", work, "deposit", "--case", caseID, "--source", "seized phone, exhibit 4", dump).stdout; !strings.Contains(out, "4 items deposited, 0 already there, 0 skipped") || strings.Contains(out, "\u202e") || !strings.Contains(out, "DCIM/ស្រីពៅ.jpg") {
		t.Fatalf("the seized folder was not deposited whole, or its names reach the terminal raw:\n%s", out)
	}
	os.WriteFile(filepath.Join(work, "ledger.csv"), []byte("payments"), 0o644)
	acq := sha256sum(t, s, work, "ledger.csv")
	// A Khmer note holds zero-width spaces between its words.
	s.ok("investigator", work, "deposit", "--case", caseID, "--expect-sha256", acq, "--note", "ledger of payments\nEvent 1 FORGED\nបញ្ជី\u200bការ\u200bបង់\u200bប្រាក់", "ledger.csv")
	s.refused("investigator", work, "invisible character", "deposit", "--case", caseID, "--note", "a hidden\u202e turn", "ledger.csv")
	items := s.ok("investigator", work, "item", "list", "--case", caseID, "--json").json(t)["items"].([]any)
	if len(items) != 5 {
		t.Fatalf("items %v", items)
	}
	names := map[string]bool{}
	for _, it := range items {
		names[it.(map[string]any)["name"].(string)] = true
	}
	for _, want := range []string{`invoice\xe2\x80\xaegpj.exe`, "\u2764\ufe0f\u200d\U0001f525.jpg", `caf\xe9.txt`} {
		if !names[want] {
			t.Errorf("no item is named %+q: %v", want, names)
		}
	}
	first := items[0].(map[string]any)["id"].(string)
	s.ok("investigator", work, "get", first, "--purpose", "classify the photograph", "-o", filepath.Join(work, "seen.bin"))
	s.ok("custodian", work, "case", "hold", caseID, "--reason", "preservation order 12/2026")

	// The prosecution's package, then the defence's, which states it.
	s.prosecutorRecipient(work)
	pros := s.sealAndFetch("investigator", "prosecutor", work, caseID, "pros.tar", "--purpose", "trial bundle")
	s.registerRecipient("defence", work, "d.key")
	def := s.sealAndFetch("custodian", "defence", work, caseID, "def.tar", "--purpose", "disclosure to the defence", "--disclose-others")

	// The defence sees its package and nothing else.
	if l := s.ok("defence", work, "package", "list", "--json").json(t)["packages"].([]any); len(l) != 1 || l[0].(map[string]any)["package"] != def {
		t.Errorf("defence counsel lists %v", l)
	}
	s.refused("defence", work, "", "item", "list", "--case", caseID)
	s.refused("defence", work, "", "audit", "log", "--case", caseID)
	s.refused("defence", work, "", "package", "fetch", pros, "-o", "x.tar")
	s.refused("defence", work, "", "report", "--case", caseID, "-o", "r.pdf")

	logKey, _ := vaultKey(t, s, work, "auditor")
	for _, c := range []struct{ tar, key string }{{"pros.tar", "p.key"}, {"def.tar", "d.key"}} {
		if r := s.run("", work, "custos-verify", c.tar, "--key", logKey, "--identity", c.key); r.code != 0 {
			t.Fatalf("custos-verify %s: %s%s", c.tar, r.stdout, r.stderr)
		}
	}
	// The prosecution extracts every file under the name it was seized
	// with, but the override's: that one gets its archive name, and the
	// report says why, so that no file on the prosecutor's disk passes
	// for another.
	if r := s.run("", work, "custos-verify", "pros.tar", "--key", logKey, "--identity", "p.key", "--extract", "seized"); r.code != 0 || !strings.Contains(r.stderr, `the item named invoice\xe2\x80\xaegpj.exe extracted as`) || !strings.Contains(r.stderr, "invisible character") {
		t.Fatalf("custos-verify --extract: %d %s%s", r.code, r.stdout, r.stderr)
	}
	for _, name := range []string{"\u2764\ufe0f\u200d\U0001f525.jpg", filepath.Join("DCIM", "ស្រីពៅ.jpg"), "caf\xe9.txt"} {
		if _, err := os.Stat(filepath.Join(work, "seized", name)); err != nil {
			t.Errorf("not extracted under its seized name: %v", err)
		}
	}
	filepath.WalkDir(filepath.Join(work, "seized"), func(path string, d os.DirEntry, err error) error {
		if strings.Contains(path, "\u202e") {
			t.Errorf("extracted under a name holding the override: %+q", path)
		}
		return nil
	})
	if r := s.run("", work, "custos-verify", "--same-items", "pros.tar", "def.tar", "--key", logKey); r.code != 0 {
		t.Fatalf("custos-verify --same-items: %d %s%s", r.code, r.stdout, r.stderr)
	}

	// The auditor's report, on demand, as PDF and as text.
	rep := s.ok("auditor", work, "report", "--case", caseID, "--purpose", "for the hearing", "-o", "custody.pdf", "--json").json(t)
	s.ok("auditor", work, "report", "--case", caseID, "-o", "custody.txt")
	if rep["sha256"] != sha256sum(t, s, work, "custody.pdf") || rep["format"] != "pdf" {
		t.Fatalf("report answered %v", rep)
	}
	s.refused("investigator", work, "auditors and custodians", "report", "--case", caseID, "-o", "inv.pdf")

	evs := timeline(t, s, work, caseID)
	var reportEvent *timelineEvent
	for i := range evs {
		if evs[i].Type == "custody.report" && evs[i].Data["purpose"] == "for the hearing" {
			reportEvent = &evs[i]
		}
	}
	if reportEvent == nil || reportEvent.Actor.Person != "auditor" {
		t.Fatal("the report was not recorded")
	}

	// Extract the packages' reports.
	for _, p := range []string{"pros", "def"} {
		os.MkdirAll(filepath.Join(work, p), 0o755)
		if r := s.run("", filepath.Join(work, p), "/usr/bin/tar", "-xf", filepath.Join(work, p+".tar"), "report.txt", "report.pdf"); r.code != 0 {
			t.Fatalf("tar: %s", r.stderr)
		}
	}
	pages := artifacts(t, "court-documents")
	documents := map[string]string{
		"on demand (PDF)":    pdfText(t, s, work, "custody.pdf"),
		"on demand (text)":   readFile(t, filepath.Join(work, "custody.txt")),
		"prosecution (PDF)":  pdfText(t, s, work, "pros/report.pdf"),
		"prosecution (text)": readFile(t, filepath.Join(work, "pros", "report.txt")),
		"defence (PDF)":      pdfText(t, s, work, "def/report.pdf"),
	}
	for _, f := range []string{"custody.pdf", "pros/report.pdf", "def/report.pdf"} {
		if n := renderPages(t, s, filepath.Join(work, f), pages, strings.ReplaceAll(strings.TrimSuffix(f, ".pdf"), "/", "-")); n < 2 {
			t.Errorf("%s renders to %d pages", f, n)
		}
	}
	for name, text := range documents {
		flat := strings.Join(strings.Fields(text), " ")
		onDemand := strings.HasPrefix(name, "on demand")
		for _, ev := range evs {
			if ev.Item == "" || ev.Type == "access.refused" {
				continue
			}
			if !onDemand && ev.Seq > reportEvent.Seq {
				continue
			}
			for _, want := range []string{reportTime(t, ev.Time), ev.Actor.Person + " (" + ev.Actor.Role + ")"} {
				if !strings.Contains(flat, want) {
					t.Errorf("%s: event %d (%s): %q is not in the report", name, ev.Seq, ev.Type, want)
				}
			}
			if p, _ := ev.Data["purpose"].(string); p != "" && !strings.Contains(flat, p) {
				t.Errorf("%s: event %d: purpose %q is not in the report", name, ev.Seq, p)
			}
		}
		for _, want := range []string{"DCIM/ស្រីពៅ.jpg", `caf\xe9.txt`, `invoice\xe2\x80\xaegpj.exe`, acq, "preservation order 12/2026", "seized phone, exhibit 4"} {
			if !strings.Contains(flat, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		if strings.Contains(text, "\u202e") {
			t.Errorf("%s carries a raw right-to-left override", name)
		}
		if regexp.MustCompile(`(?m)^Event 1 FORGED`).MatchString(text) {
			t.Errorf("%s: a note wrote a line of its own", name)
		}
	}
	// Table cells wrap long words (package ids among them): look for ids
	// with white space taken out.
	squeezed := func(name string) string { return strings.Join(strings.Fields(documents[name]), "") }
	// The defence's package states the prosecution's; the prosecution's,
	// sealed without --disclose-others, states nothing of the defence's.
	if !strings.Contains(squeezed("defence (PDF)"), pros) {
		t.Errorf("the defence's report does not state the prosecution's package %s", pros)
	}
	if strings.Contains(squeezed("prosecution (PDF)"), def) || strings.Contains(squeezed("prosecution (text)"), def) {
		t.Error("the prosecution's report names the defence's package")
	}
	for _, name := range []string{"prosecution (PDF)", "prosecution (text)"} {
		if !strings.Contains(documents[name], "did not choose to disclose other packages") {
			t.Errorf("%s does not say that it leaves other packages out", name)
		}
	}
	if !strings.Contains(squeezed("on demand (PDF)"), def) || !strings.Contains(squeezed("on demand (PDF)"), pros) {
		t.Error("the auditor's report does not list both packages")
	}
	// The CASE/UCO record: recorded, valid against the CASE 1.4 ontology
	// and shapes, and holding every item's hashes and every event.
	uco := s.ok("investigator", work, "export", "case-uco", "--case", caseID, "--purpose", "for the partner agency", "-o", "custody.jsonld", "--json").json(t)
	if uco["sha256"] != sha256sum(t, s, work, "custody.jsonld") {
		t.Fatalf("export case-uco answered %v", uco)
	}
	if r := s.run("", work, testenv.Binary(t, "node"), filepath.Join(testenv.Root(), "scripts", "shacl", "validate.mjs"), filepath.Join(work, "custody.jsonld")); r.code != 0 {
		t.Fatalf("the CASE/UCO export does not validate: %s%s", r.stdout, r.stderr)
	}
	jsonld := readFile(t, filepath.Join(work, "custody.jsonld"))
	for _, it := range items {
		if h := it.(map[string]any)["sha256"].(string); !strings.Contains(jsonld, h) {
			t.Errorf("the CASE/UCO export lacks the SHA-256 %s", h)
		}
	}
	if !strings.Contains(jsonld, "classify the photograph") || !strings.Contains(jsonld, "case-investigation:InvestigativeAction") {
		t.Error("the CASE/UCO export lacks the custody events")
	}
	recorded := false
	for _, ev := range timeline(t, s, work, caseID) {
		recorded = recorded || ev.Type == "case.caseuco.exported" && ev.Actor.Person == "investigator" && ev.Data["purpose"] == "for the partner agency"
	}
	if !recorded {
		t.Error("the CASE/UCO export was not recorded")
	}

	for _, name := range []string{"on demand (PDF)", "prosecution (PDF)"} {
		if !strings.Contains(documents[name], "Signature") || !strings.Contains(documents[name], "custos-verify") {
			t.Errorf("%s has no certificate or no verification instructions", name)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
