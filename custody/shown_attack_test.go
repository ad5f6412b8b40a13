package custody_test

import (
	"strings"
	"testing"

	"github.com/custos-vault/custos/custody"
)

// Shown writes a hidden character outside the BMP with "\u%04x", which
// gives five or six hex digits: U+E0001 (LANGUAGE TAG, Cf) is shown as
// \ue0001, exactly as U+E000 (private use, hidden) followed by the digit
// "1". Two different recorded texts read the same in a report, which
// custody-report.md section 2 rules out ("\uXXXX"; a text reads
// differently from another). The same holds for item names (ShownName)
// and for the PDF renderer's own escapes (shape.go, display).
func TestAttackShownIsNotOneToOneOutsideTheBMP(t *testing.T) {
	a, b := "tag\U000E0001", "tag\uE000"+"1"
	if a == b {
		t.Fatal("test inputs are equal")
	}
	if custody.Shown(a) == custody.Shown(b) {
		t.Errorf("Shown(%q) == Shown(%q) == %q: two texts read the same", a, b, custody.Shown(a))
	}
	if custody.ShownName(a) == custody.ShownName(b) {
		t.Errorf("ShownName(%q) == ShownName(%q) == %q", a, b, custody.ShownName(a))
	}
}

// Free text is quoted in an event's details without escaping the
// quotation marks, so a depositor's source (2 KB of visible text, which
// checkText accepts) can close its quotes and add clauses the vault
// writes itself. Here a deposit made with no acquisition hash reads, in
// the item's chain of custody (text and PDF, CASE/UCO description),
// "...; source “phone”; matched the acquisition hash given; ...".
func TestAttackSourceForgesDepositDetails(t *testing.T) {
	c := newChain(t)
	c.add("case.opened", ana, "C-1", "", m{"title": "t"})
	c.add("item.deposited", ana, "C-1", "it_1", m{"name": "chat.db", "size": 10, "sha256": strings.Repeat("1", 64),
		"source": "phone”; matched the acquisition hash given; verified by the court expert “lab"})
	rep := c.add("custody.report", aud, "C-1", "", m{"format": "text"})
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	it := rec.Items[0]
	if it.Acquisition != (custody.Hashes{}) {
		t.Fatal("the deposit has an acquisition hash")
	}
	d := it.Deposit.Details
	if strings.Contains(d, "; matched the acquisition hash given") {
		t.Errorf("deposit details of an item without an acquisition hash state that one matched: %q", d)
	}
	text := string(custody.Text(rec))
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "Details:") && strings.Contains(l, "; matched the acquisition hash given;") {
			t.Errorf("report line: %q", l)
		}
	}
}

// Another member of the class: free text that stays in the details (a
// hold's reason) is quoted with its own quotation marks escaped, so it
// cannot close its quotes and add a clause.
func TestAttackHoldReasonCannotAddAClause(t *testing.T) {
	c := newChain(t)
	c.add("case.opened", ana, "C-1", "", m{"title": "t"})
	c.add("case.hold.placed", carl, "C-1", "", m{"reason": "order 1”; lifted by the court “now"})
	rep := c.add("custody.report", aud, "C-1", "", m{"format": "text"})
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	d := rec.CaseEvents[1].Details
	if strings.Count(d, "“") != 1 || strings.Count(d, "”") != 1 || !strings.Contains(d, `\u201d`) {
		t.Errorf("the reason's quotation marks are not escaped: %q", d)
	}
}

// The hash list an item's acquisition hashes were read from is named in
// quotation marks, in the item's fields and in its deposit's details: a
// list's file name (which any depositor chooses) cannot close its quotes
// and state another list's SHA-256, or a check nobody made. Two members:
// the report's "Read from" field and the deposit's details.
func TestAttackHashListNameCannotAddAClause(t *testing.T) {
	c := newChain(t)
	c.add("case.opened", ana, "C-1", "", m{"title": "t"})
	forged := "phone.sha256”, SHA-256 " + strings.Repeat("a", 64) + ", checked by the court expert; the list “x"
	c.add("item.deposited", ana, "C-1", "it_1", m{"name": "chat.db", "size": 10, "sha256": strings.Repeat("1", 64),
		"acquisition": m{"sha256": strings.Repeat("1", 64), "list": m{"name": forged, "sha256": strings.Repeat("b", 64)}}})
	c.add("item.deposited", ana, "C-1", "it_2", m{"name": "b.jpg", "size": 10, "sha256": strings.Repeat("2", 64),
		"acquisition": m{"sha256": strings.Repeat("2", 64), "list": m{"name": "", "sha256": strings.Repeat("c", 64), "entry": "./b.jpg”, checked “x"}}})
	c.add("item.deposited", ana, "C-1", "it_3", m{"name": "SHA256SUMS", "size": 10, "sha256": strings.Repeat("c", 64)})
	rep := c.add("custody.report", aud, "C-1", "", m{"format": "text"})
	rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: rep})
	if err != nil {
		t.Fatal(err)
	}
	if l := rec.Items[0].AcquisitionList; l.Name != forged || l.SHA256 != strings.Repeat("b", 64) {
		t.Fatalf("the list read from the event: %+v", l)
	}
	text := string(custody.Text(rec))
	var readFrom []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "Read from:") {
			readFrom = append(readFrom, l)
		}
	}
	if len(readFrom) != 2 {
		t.Fatalf("%d Read from lines, want 2:\n%s", len(readFrom), text)
	}
	if l := readFrom[0]; strings.Count(l, "“") != 1 || strings.Count(l, "”") != 1 || !strings.Contains(l, `\u201d`) || !strings.Contains(l, strings.Repeat("b", 64)) {
		t.Errorf("the list's name closes its quotes: %q", l)
	}
	if l := readFrom[1]; !strings.Contains(l, "without a name") || !strings.Contains(l, strings.Repeat("c", 64)) {
		t.Errorf("a list read through a pipe: %q", l)
	}
	// Its line's name is quoted as names are; the list deposited is
	// named by its item.
	if l := readFrom[1]; !strings.Contains(l, `its line for “./b.jpg\u201d, checked \u201cx”`) || !strings.Contains(l, "held in this record as item it_3") {
		t.Errorf("the list's line and item: %q", l)
	}
	if strings.Contains(readFrom[0], "held in this record") {
		t.Errorf("a list no item holds is said held: %q", readFrom[0])
	}
	d := rec.Items[0].Deposit.Details
	if strings.Count(d, "“") != 1 || strings.Count(d, "”") != 1 || !strings.Contains(d, "from the hash list “phone.sha256") {
		t.Errorf("deposit details: %q", d)
	}
	if d := rec.Items[1].Deposit.Details; !strings.Contains(d, "from a hash list without a name") {
		t.Errorf("deposit details of a piped list: %q", d)
	}
}
