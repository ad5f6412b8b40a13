package custody_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
)

// chain builds a case's events as a vault would write them (hash chain
// included), so that Build reads exactly the stored form.
type chain struct {
	t    *testing.T
	raws []custody.Raw
	prev events.Hash
	at   time.Time
}

var (
	ana  = events.Actor{Person: "ana", Role: "investigator", Auth: "local", Session: "s_1"}
	carl = events.Actor{Person: "carl", Role: "custodian", Auth: "oidc", Issuer: "https://id.example", Subject: "c-17", AMR: []string{"pwd", "otp"}}
	pia  = events.Actor{Person: "pia", Role: "prosecutor", Auth: "certificate", Issuer: "CN=Court CA", Subject: "CN=pia", Certificate: strings.Repeat("ab", 32)}
	aud  = events.Actor{Person: "audrey", Role: "auditor", Auth: "local", Session: "s_5"}
)

func newChain(t *testing.T) *chain {
	return &chain{t: t, at: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
}

func (c *chain) add(typ string, a events.Actor, caseID, item string, data any) uint64 {
	c.t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		c.t.Fatal(err)
	}
	seq := uint64(len(c.raws) + 1)
	c.at = c.at.Add(time.Minute)
	e := &events.Event{V: 1, Seq: seq, ID: events.NewID(), Type: typ, Time: events.FormatTime(c.at), Actor: a, Case: caseID, Item: item, Data: b, Prev: c.prev.String()}
	raw, err := events.Encode(e)
	if err != nil {
		c.t.Fatal(err)
	}
	c.prev = events.LeafHash(raw)
	c.raws = append(c.raws, custody.Raw{Seq: seq, Bytes: raw})
	return seq
}

type m = map[string]any

// sample is a case with two items, an access, a hold, a package for the
// prosecution and one for the defence.
func sample(t *testing.T) (*chain, map[string]uint64) {
	c := newChain(t)
	s := map[string]uint64{}
	s["opened"] = c.add("case.opened", ana, "C-1", "", m{"title": "Operation Lotus", "recipient": "age1x", "sealer": "soft", "members": []string{"ana"}})
	s["dep1"] = c.add("item.deposited", ana, "C-1", "it_1", m{"name": "chats/\u202egpj.exe", "size": 1234567, "sha256": strings.Repeat("1", 64),
		"sha1": strings.Repeat("2", 40), "md5": strings.Repeat("3", 32), "object": "o1", "ciphertext_size": 1, "ciphertext_sha256": strings.Repeat("4", 64),
		"source": "phone of suspect", "note": "line one\nFORGED LINE", "acquisition": m{"sha256": strings.Repeat("1", 64)}})
	s["dep2"] = c.add("item.deposited", ana, "C-1", "it_2", m{"name": "ស្រីពៅ.jpg", "size": 10, "sha256": strings.Repeat("5", 64), "object": "o2",
		"ciphertext_size": 1, "ciphertext_sha256": strings.Repeat("6", 64)})
	s["view"] = c.add("item.accessed", ana, "C-1", "it_1", m{"purpose": "classify the chat log", "access": "view"})
	s["viewed"] = c.add("item.access.completed", ana, "C-1", "it_1", m{"access_event": "x", "bytes": 1234567, "sha256": strings.Repeat("1", 64)})
	s["hold"] = c.add("case.hold.placed", carl, "C-1", "", m{"reason": "court order 17/2026"})
	s["seal1"] = c.add("package.sealing", ana, "C-1", "", m{"package": "pk_a", "for": "pia", "for_role": "prosecutor", "recipient": "age1p", "purpose": "trial", "items": []string{"it_1", "it_2"}})
	s["sealed1"] = c.add("package.sealed", ana, "C-1", "", m{"package": "pk_a", "object": "x", "size": 99, "sha256": strings.Repeat("7", 64), "manifest_sha256": strings.Repeat("8", 64)})
	s["fetch1"] = c.add("package.fetched", pia, "C-1", "", m{"package": "pk_a"})
	s["seal2"] = c.add("package.sealing", carl, "C-1", "", m{"package": "pk_b", "for": "dan", "for_role": "defence", "recipient": "age1d", "purpose": "disclosure to the defence", "items": []string{"it_1"}, "discloses_others": true})
	s["seal3"] = c.add("package.sealing", carl, "C-1", "", m{"package": "pk_c", "for": "dan", "for_role": "defence", "recipient": "age1d", "purpose": "second disclosure", "items": []string{"it_2"}})
	s["report"] = c.add("custody.report", aud, "C-1", "", m{"format": "pdf", "purpose": "for the judge"})
	return c, s
}

func TestBuildPackageRecordKeepsOtherPackagesUnlessDisclosed(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Sealing: s["seal3"], Paths: map[string]string{"it_2": "items/001-x.age"}, Items: []string{"it_2"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Package == nil || rec.Package.ID != "pk_c" || rec.Package.SealedFor != (custody.Person{Name: "dan", Role: "defence"}) || rec.Package.DisclosesOthers {
		t.Fatalf("package %+v", rec.Package)
	}
	if len(rec.Disclosures) != 0 {
		t.Errorf("a package whose sealer did not disclose others shows %d disclosures", len(rec.Disclosures))
	}
	if len(rec.Items) != 1 || rec.Items[0].ID != "it_2" || rec.Items[0].Path != "items/001-x.age" {
		t.Fatalf("items %+v", rec.Items)
	}
	var seqs []uint64
	for _, e := range rec.Items[0].Chain {
		seqs = append(seqs, e.Seq)
	}
	// Its deposit and its own sealing; not pk_a, which also carried it.
	if want := []uint64{s["dep2"], s["seal3"]}; !equal(seqs, want) {
		t.Errorf("chain %v, want %v", seqs, want)
	}
	text := string(custody.Text(rec))
	if strings.Contains(text, "pk_a") || strings.Contains(text, "pk_b") {
		t.Error("the report of an undisclosing package names another package")
	}
	// It says that it leaves them out, so that nobody takes the chains
	// for complete in that respect.
	if !strings.Contains(text, "Not stated: the sealer did not choose to disclose other packages") {
		t.Errorf("the report of an undisclosing package does not say it leaves other packages out:\n%s", text)
	}
}

func TestBuildDisclosesOthersWhenTheSealerSaysSo(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Sealing: s["seal2"], Items: []string{"it_1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Disclosures) != 1 {
		t.Fatalf("disclosures %+v", rec.Disclosures)
	}
	d := rec.Disclosures[0]
	if d.Package != "pk_a" || d.SealedFor.Name != "pia" || !equalS(d.Items, []string{"it_1"}) || d.Fetched.IsZero() || !d.Received.IsZero() {
		t.Errorf("disclosure %+v", d)
	}
	var seqs []uint64
	for _, e := range rec.Items[0].Chain {
		seqs = append(seqs, e.Seq)
	}
	// pk_c carried only it_2: not a disclosure of it_1.
	if want := []uint64{s["dep1"], s["view"], s["viewed"], s["seal1"], s["sealed1"], s["fetch1"], s["seal2"]}; !equal(seqs, want) {
		t.Errorf("chain %v, want %v", seqs, want)
	}
	text := string(custody.Text(rec))
	if !strings.Contains(text, "OTHER DISCLOSURES") || !strings.Contains(text, "Package pk_a for pia (prosecutor)") {
		t.Errorf("the text does not state the disclosure:\n%s", text)
	}
}

func TestBuildReportRecord(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"], Checkpoint: custody.Checkpoint{Origin: "custos.example/log", Size: 13, LogKeyFingerprint: "ff"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Report == nil || rec.Report.Actor.Name != "audrey" || rec.Report.Purpose != "for the judge" || rec.Package != nil {
		t.Fatalf("report %+v", rec.Report)
	}
	if !rec.Held || rec.Case.Title != "Operation Lotus" || len(rec.Items) != 2 || len(rec.Disclosures) != 3 {
		t.Errorf("held %v title %q items %d disclosures %d", rec.Held, rec.Case.Title, len(rec.Items), len(rec.Disclosures))
	}
	it := rec.Items[0]
	if it.Acquisition.SHA256 != strings.Repeat("1", 64) || it.Hashes.MD5 != strings.Repeat("3", 32) || it.Source != "phone of suspect" {
		t.Errorf("item %+v", it)
	}
	var caseSeqs []uint64
	for _, e := range rec.CaseEvents {
		caseSeqs = append(caseSeqs, e.Seq)
	}
	if want := []uint64{s["opened"], s["hold"], s["report"]}; !equal(caseSeqs, want) {
		t.Errorf("case events %v, want %v", caseSeqs, want)
	}
	// How each authenticated, in words.
	if a := rec.Items[0].Chain[0].Auth; !strings.Contains(a, "session s_1") {
		t.Errorf("auth %q", a)
	}
	if a := rec.CaseEvents[1].Auth; !strings.Contains(a, "https://id.example") || !strings.Contains(a, "pwd+otp") {
		t.Errorf("auth %q", a)
	}
}

// No name, note or purpose can write a line of the text report or
// reorder it: newlines and bidirectional controls are shown escaped.
func TestTextShowsHiddenCharactersEscaped(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"]})
	if err != nil {
		t.Fatal(err)
	}
	text := string(custody.Text(rec))
	for _, bad := range []string{"\u202e", "\nFORGED LINE"} {
		if strings.Contains(text, bad) {
			t.Errorf("the report contains %q raw", bad)
		}
	}
	for _, want := range []string{`chats/\u202egpj.exe`, `line one\u000aFORGED LINE`, "ស្រីពៅ.jpg", "1,234,567 bytes", "classify the chat log",
		"2026-11-30 09:04:00 UTC", "matched at deposit", "Legal hold:            on"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func TestBuildRefusesWhatIsNotAChainOfCustody(t *testing.T) {
	c, s := sample(t)
	other := newChain(t)
	other.add("case.opened", ana, "C-2", "", m{"title": "x"})
	dup := append([]custody.Raw{}, c.raws...)
	dup = append(dup, c.raws[2])
	for name, in := range map[string]custody.Input{
		"no kind":           {Case: "C-1", Events: c.raws},
		"both kinds":        {Case: "C-1", Events: c.raws, Sealing: s["seal1"], Report: s["report"]},
		"another case":      {Case: "C-1", Events: append(append([]custody.Raw{}, c.raws...), custody.Raw{Seq: 99, Bytes: other.raws[0].Bytes}), Report: s["report"]},
		"seq mismatch":      {Case: "C-1", Events: []custody.Raw{{Seq: 7, Bytes: c.raws[0].Bytes}}, Report: 7},
		"no opening":        {Case: "C-1", Events: c.raws[1:], Report: s["report"]},
		"unknown item":      {Case: "C-1", Events: c.raws, Report: s["report"], Items: []string{"it_9"}},
		"item twice":        {Case: "C-1", Events: c.raws, Report: s["report"], Items: []string{"it_1", "it_1"}},
		"event twice":       {Case: "C-1", Events: dup, Report: s["report"]},
		"sealing not there": {Case: "C-1", Events: c.raws, Sealing: s["hold"]},
		"report not there":  {Case: "C-1", Events: c.raws, Report: s["hold"]},
		"undecodable":       {Case: "C-1", Events: append(append([]custody.Raw{}, c.raws...), custody.Raw{Seq: 50, Bytes: []byte("{")}), Report: s["report"]},
	} {
		if _, err := custody.Build(in); !errors.Is(err, custody.ErrRecord) {
			t.Errorf("%s: %v, want ErrRecord", name, err)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := custody.Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalS(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// In a document every backslash starts an escape: a purpose that holds
// the six characters \u202e reads differently from one holding U+202E,
// and a recorded name keeps its own escapes.
func TestShownIsUnambiguous(t *testing.T) {
	for in, want := range map[string]string{
		"\u202e":          `\u202e`,
		`\u202e`:          `\x5cu202e`,
		`C:\Users\x`:      `C:\x5cUsers\x5cx`,
		`C:\temp\a`:       `C:\temp\a`,
		"line\nFORGED":    `line\u000aFORGED`,
		"ស្រីពៅ":          "ស្រីពៅ",
		"caf\xe9":         `caf\xe9`,
		`a\b`:             `a\b`,
		"tab\there\u2028": `tab\u0009here\u2028`,
	} {
		if got := custody.Shown(in); got != want {
			t.Errorf("Shown(%q) = %q, want %q", in, got, want)
		}
	}
	if got := custody.ShownName(`caf\xe9 \x5c.txt`); got != `caf\xe9 \x5c.txt` {
		t.Errorf("ShownName re-escaped a recorded name: %q", got)
	}
	if custody.Shown(`\u202e`) == custody.Shown("\u202e") {
		t.Error("the text \\u202e and the character U+202E are shown alike")
	}
}

// TestRecordStatesTheExportPolicy: the record's case facts say whether
// packages of the case need a custodian's approval, as the last
// case.policy.set it carries says (any value but "none" requires it);
// none carried is "not required".
func TestRecordStatesTheExportPolicy(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"]})
	if err != nil {
		t.Fatal(err)
	}
	if rec.ExportApproval || !strings.Contains(string(custody.Text(rec)), "Export approval:       not required") {
		t.Errorf("a case without a policy event: %v", rec.ExportApproval)
	}
	c.add("case.policy.set", carl, "C-1", "", m{"export_approval": "required", "reason": "the defence asked for every export to be approved"})
	rec, err = custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"]})
	if err != nil {
		t.Fatal(err)
	}
	if text := string(custody.Text(rec)); !rec.ExportApproval || !strings.Contains(text, "Export approval:       required: every package needs a custodian's approval") {
		t.Errorf("a case whose approval is required: %v\n%s", rec.ExportApproval, text)
	}
	c.add("case.policy.set", carl, "C-1", "", m{"export_approval": "none", "request": "rq_1", "requested_by": "ana"})
	if rec, err = custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"]}); err != nil || rec.ExportApproval {
		t.Errorf("a requirement dropped: %v %v", rec.ExportApproval, err)
	}
	// A value this format does not write is read as the vault reads it:
	// only "none" drops the approval.
	c.add("case.policy.set", carl, "C-1", "", m{"export_approval": "REQUIRED"})
	if rec, err = custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"]}); err != nil || !rec.ExportApproval {
		t.Errorf("export_approval REQUIRED read as not required: %v %v", rec.ExportApproval, err)
	}
}

// TestReportOfChosenItemsSaysWhatItLeavesOut: a report on demand of some
// of a case's items says they are the ones asked for, and that another
// package also carried items it does not cover, so that no reader takes
// the package for one of these items alone; the hold on the case says
// who placed it, when and why.
func TestReportOfChosenItemsSaysWhatItLeavesOut(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"], Items: []string{"it_1"}})
	if err != nil {
		t.Fatal(err)
	}
	text := string(custody.Text(rec))
	for _, want := range []string{
		"1 item, those asked for this report (the case may hold others, which it does not cover).",
		// pk_a carried it_1 and it_2; pk_b it_1 alone.
		"Items:                 it_1 (1 of the 2 items it carried; the others are not in this report)",
		"Legal hold:            on since 2026-11-30 09:06:00 UTC, placed by carl (custodian) (event 6): “court order 17/2026”",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "of the 2 items it carried") != 1 {
		t.Errorf("a package that carried only the item asked for is said to carry others:\n%s", text)
	}
	// The whole case: neither note.
	rec, err = custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"]})
	if err != nil {
		t.Fatal(err)
	}
	if text := string(custody.Text(rec)); strings.Contains(text, "those asked for") || strings.Contains(text, "items it carried") {
		t.Errorf("a report of the whole case says it leaves items out:\n%s", text)
	}
}

// TestReportSaysTheRetention: a case's own retention is said in words;
// the vault's default is said with its value when the report was made,
// marked as the vault's configuration, not a signed fact.
func TestReportSaysTheRetention(t *testing.T) {
	c, s := sample(t)
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: s["report"], VaultRetention: 10 * 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := custody.RetentionText(rec), "the vault's default, which was 10 years when this report was made (set by the vault's configuration, not recorded in the case's events)"; got != want {
		t.Errorf("the default retention is said as %q, want %q", got, want)
	}
	if !strings.Contains(string(custody.Text(rec)), "Retention:             the vault's default, which was 10 years") {
		t.Errorf("the text report does not say the default retention's value:\n%s", custody.Text(rec))
	}
	for retention, want := range map[string]string{"87600h0m0s": "10 years", "2160h0m0s": "90 days", "36h0m0s": "36h0m0s", "": "the vault's default"} {
		rec.Retention, rec.VaultRetention = retention, 0
		if got := custody.RetentionText(rec); got != want {
			t.Errorf("retention %q is said as %q, want %q", retention, got, want)
		}
	}
}

// A case title is escaped once in the text report, as every other text:
// a zero-width space between two Khmer words reads \u200b, not \x5cu200b.
func TestTextEscapesTheTitleOnce(t *testing.T) {
	c := newChain(t)
	c.add("case.opened", ana, "C-1", "", m{"title": "ការ\u200bរំលោភ", "recipient": "age1x", "sealer": "soft", "members": []string{"ana"}})
	rep := c.add("custody.report", aud, "C-1", "", m{"format": "text", "purpose": "for the judge"})
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	text := string(custody.Text(rec))
	if !strings.Contains(text, "“ការ\\u200bរំលោភ”") || strings.Contains(text, `\x5cu200b`) {
		t.Errorf("the title is not shown escaped once:\n%s", text[:min(len(text), 600)])
	}
}

// TestCertificateNamesTheStepTaken: the certificate says which step of
// the report's instructions its signer took, and that step is the one
// the instructions number so: a package's offline check (step 2), an
// on-demand report's audit of the whole log (step 1).
func TestCertificateNamesTheStepTaken(t *testing.T) {
	c, s := sample(t)
	for _, in := range []custody.Input{
		{Case: "C-1", Events: c.raws, Sealing: s["seal1"], Paths: map[string]string{"it_1": "items/001-a.age", "it_2": "items/002-b.age"}, Items: []string{"it_1", "it_2"}},
		{Case: "C-1", Events: c.raws, Report: s["report"]},
	} {
		rec, err := custody.Build(in)
		if err != nil {
			t.Fatal(err)
		}
		step := "step 1 "
		if rec.Package != nil {
			step = "step 2 "
		}
		cert := custody.Certificate(rec).Paragraphs[0]
		if !strings.Contains(cert, "as "+step+"of the section") {
			t.Fatalf("package %v: the certificate says %q", rec.Package != nil, cert)
		}
		var said string
		for _, p := range custody.Instructions(rec) {
			if strings.HasPrefix(p, strings.TrimSpace(strings.TrimPrefix(step, "step "))+". ") {
				said = p
			}
		}
		if rec.Package != nil && !strings.Contains(said, "custos-verify") || rec.Package == nil && !strings.Contains(said, "custos audit verify") {
			t.Errorf("package %v: the %sof the instructions is %q", rec.Package != nil, step, said)
		}
	}
}
