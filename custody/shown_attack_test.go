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
