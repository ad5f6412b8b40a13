package pdfreport

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/pdfreport/internal/pdf"
)

var t0 = time.Date(2026, 11, 30, 21, 50, 3, 0, time.UTC)

// testRecord builds a package's record by hand: a case with two case
// events, items whose chains have n events each (the first item's
// names given by names), two other disclosures, a witness and a TSA.
func testRecord(items, n int) *custody.Record {
	seq := uint64(1)
	ev := func(typ, action string, p custody.Person, purpose, details string) custody.Event {
		e := custody.Event{
			Seq: seq, Time: t0.Add(time.Duration(seq) * 97 * time.Second), Type: typ, Action: action,
			Actor: p, Auth: "OpenID Connect: https://id.example.org/ as " + p.Name + "-sub",
			Purpose: purpose, Details: details, LeafHash: fmt.Sprintf("%064x", seq),
		}
		seq++
		return e
	}
	ana := custody.Person{Name: "ana.silva", Role: "investigator"}
	pros := custody.Person{Name: "prosecutor.kim", Role: "prosecutor"}
	r := &custody.Record{
		Case:           custody.Case{ID: "C-2026-0042", Title: "Hotline referral 7731"},
		Retention:      "10y",
		Held:           true,
		ExportApproval: true,
		Generator:      "custos (devel), go1.26.8",
	}
	r.Case.Opened = ev("case.opened", "Case opened", ana, "referral from hotline", `title "Hotline referral 7731"`)
	r.CaseEvents = append(r.CaseEvents, r.Case.Opened,
		ev("case.member_added", "Person assigned to the case", ana, "", "prosecutor.kim (prosecutor)"),
		ev("case.hold_placed", "Legal hold placed", ana, "court order 55/2026", "court order 55/2026"))
	for i := range items {
		id := fmt.Sprintf("it_%02d", i+1)
		it := custody.Item{
			ID: id, Name: fmt.Sprintf("photos/2024/img_%04d.jpg", i+1), Path: fmt.Sprintf("items/%03d-img_%04d.jpg.age", i+1, i+1),
			Size:   1234567 + int64(i),
			Hashes: custody.Hashes{SHA256: fmt.Sprintf("%064x", 0xa5a5+i), SHA1: fmt.Sprintf("%040x", 0xb6+i), MD5: fmt.Sprintf("%032x", 0xc7+i)},
			Source: "seized phone, exhibit " + id, Note: "extracted with the acquisition tool",
		}
		if i == 0 {
			it.Acquisition = custody.Hashes{SHA256: it.Hashes.SHA256, MD5: it.Hashes.MD5}
			it.AcquisitionList = custody.HashList{Name: "phone.sha256", SHA256: fmt.Sprintf("%064x", 0xd8)}
			it.Report = "rp_0a1b"
			it.Matches = []custody.Match{{Set: "caid", Entry: 7, Category: "baseline", Algorithm: "pdq", Distance: 16}}
			it.Votes = []custody.Vote{{By: ana, Category: "baseline", Seq: 31}}
		}
		it.Deposit = ev("item.deposited", "Deposited (received into custody)", ana, "", fmt.Sprintf("%q, %d bytes, sha256 %s", it.Name, it.Size, it.Hashes.SHA256))
		it.Chain = append(it.Chain, it.Deposit)
		for k := 1; k < n; k++ {
			p := ana
			if k%3 == 0 {
				p = pros
			}
			it.Chain = append(it.Chain, ev("item.accessed", "Viewed (plaintext opened)", p,
				fmt.Sprintf("review %s number %d for the indictment", id, k), fmt.Sprintf("%d bytes streamed, sha256 %s matched the deposit", it.Size, it.Hashes.SHA256)))
		}
		r.Items = append(r.Items, it)
	}
	sealing := ev("package.sealing", "Sealing a package", ana, "disclosure to the prosecution", "package pk_7f3a for prosecutor.kim (prosecutor)")
	r.Package = &custody.Package{
		ID: "pk_7f3a", SealedBy: ana, SealedFor: pros, Recipient: "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq",
		Purpose: "disclosure to the prosecution", SealedAt: sealing.Time, Sealing: sealing,
		Request: "rq_19", RequestedBy: "prosecutor.kim", DisclosesOthers: true,
	}
	r.Disclosures = []custody.Disclosure{
		{Package: "pk_11aa", SealedFor: custody.Person{Name: "defence.lee", Role: "defence"}, SealedAt: t0.Add(time.Hour), Items: []string{"it_01"}, Fetched: t0.Add(2 * time.Hour)},
		{Package: "pk_22bb", SealedFor: custody.Person{Name: "expert.ng", Role: "expert"}, SealedAt: t0.Add(3 * time.Hour), Items: []string{"it_01", "it_02"}, Fetched: t0.Add(4 * time.Hour), Received: t0.Add(5 * time.Hour)},
	}
	r.Checkpoint = custody.Checkpoint{
		Origin: "custos.example.org/log", Size: seq + 10, Root: "q2V5IHJvb3QgaGFzaCBvZiB0aGUgY3VzdG9keSBsb2c=",
		LogKey: "custos.example.org/log+5f2a9c11+AcGQ0Y2ZkZjJkNTU1NzQ2OTc0YWFkYzI3YzVhZWYzZTA=", LogKeyFingerprint: fmt.Sprintf("%064x", 0xfeed),
		Text:         "custos.example.org/log\n" + fmt.Sprint(seq+10) + "\nq2V5IHJvb3QgaGFzaCBvZiB0aGUgY3VzdG9keSBsb2c=\n\n— custos.example.org/log X5ocEQ3dj6Xo0Wm3y3xQUtyU1p8e4mM2nqv1u3iB8nA=\n",
		Cosignatures: []custody.Cosignature{{Witness: "witness.example.net", Time: t0.Add(6 * time.Hour)}},
		Timestamps:   []custody.Timestamp{{Authority: "CN=Example TSA, O=Example, C=KH", Time: t0.Add(6 * time.Hour), Serial: "1234567890123456789"}},
	}
	return r
}

// rendered is a report rendered for a test, with what the test hooks saw.
type rendered struct {
	pdf   []byte
	marks []pdf.Mark
	pages int
}

func renderTest(t testing.TB, r *custody.Record) rendered {
	t.Helper()
	var out rendered
	var b bytes.Buffer
	err := render(&b, r, options{
		trace: func(m pdf.Mark) { out.marks = append(out.marks, m) },
		pages: func(n int) { out.pages = n },
	})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	out.pdf = b.Bytes()
	return out
}

// needTool skips the test when a poppler tool is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian poppler-utils)", name)
	}
	return p
}

// pdfText is what pdftotext extracts from the PDF, one string per page:
// in reading order as poppler's layout analysis finds it, or with raw in
// the order the content stream draws it (which is cell by cell in
// tables, where the analysis may interleave neighbouring cells' lines).
func pdfText(t testing.TB, doc []byte, raw bool) []string {
	t.Helper()
	tool := needTool(t, "pdftotext")
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-enc", "UTF-8"}
	if raw {
		args = append(args, "-raw")
	}
	cmd := exec.Command(tool, append(args, in, "-")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("pdftotext: %v: %s", err, stderr.Bytes())
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

// squash removes all white space.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// norm collapses every run of white space to one space.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

// artifacts is where rendered pages are kept: $CUSTOS_ARTIFACTS, or a
// temporary folder.
func artifacts(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("CUSTOS_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "pdfreport", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// toPNG renders every page to PNG at 80 dpi with pdftoppm and returns
// the files, checking that poppler reports no error.
func toPNG(t testing.TB, doc []byte, name string) []string {
	t.Helper()
	tool := needTool(t, "pdftoppm")
	dir := artifacts(t, name)
	old, _ := filepath.Glob(filepath.Join(dir, name+"-*.png"))
	for _, f := range old {
		os.Remove(f) // pages of an earlier run
	}
	in := filepath.Join(dir, name+".pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "-r", "80", "-png", in, filepath.Join(dir, name))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("pdftoppm: %v: %s", err, stderr.Bytes())
	}
	files, err := filepath.Glob(filepath.Join(dir, name+"-*.png"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: PDF and %d PNG pages in %s", name, len(files), dir)
	return files
}
