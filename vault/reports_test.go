package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A custody report made on demand is recorded before it is made, shows
// its own event and every event of each item, and is refused (and the
// refusal recorded) to those who may not make one.
func TestCustodyReportOnDemand(t *testing.T) {
	f := newPackageFixture(t)
	v := f.v
	ctx := context.Background()
	items := caseItemIDs(t, v.state, "P-1")
	if _, err := v.OpenItem(ctx, f.inv, items[0], "classify the photo"); err != nil {
		t.Fatal(err)
	}
	before := len(logged(t, v))
	doc, err := v.CustodyDocument(ctx, f.auditor, DocumentRequest{Case: "P-1", Format: FormatText, Purpose: "for the hearing of 3 December"})
	if err != nil {
		t.Fatal(err)
	}
	evs := logged(t, v)
	if ev := evs[doc.Event]; ev.Type != TypeCustodyReport || ev.Actor.Person != "aud" || !strings.Contains(string(ev.Data), "for the hearing") {
		t.Fatalf("event %d is %s by %s: %s", doc.Event, ev.Type, ev.Actor.Person, ev.Data)
	}
	if doc.Event < uint64(before) || doc.Checkpoint <= doc.Event {
		t.Errorf("report event %d, checkpoint %d, log had %d events before", doc.Event, doc.Checkpoint, before)
	}
	text := string(doc.Body)
	// Every event of every item, with its number, person and purpose.
	for _, ev := range evs[:doc.Checkpoint] {
		if ev.Item == "" {
			continue
		}
		if !strings.Contains(text, "Event "+strconv.FormatUint(ev.Seq, 10)+" ") {
			t.Errorf("the report lacks event %d (%s of %s)", ev.Seq, ev.Type, ev.Item)
		}
	}
	for _, want := range []string{"classify the photo", "inv (investigator)", "for the hearing of 3 December", "Package " + f.pkg.ID + " for pros (prosecutor)", "a.txt", "b.txt"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if doc.SHA256 != sha256Hex(doc.Body) {
		t.Error("the document's SHA-256 is not its body's")
	}

	// One item, as PDF.
	pdf, err := v.CustodyDocument(ctx, f.auditor, DocumentRequest{Case: "P-1", Format: FormatPDF, Items: items[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) || pdf.ContentType != "application/pdf" {
		t.Errorf("not a PDF: %q", pdf.Body[:min(8, len(pdf.Body))])
	}

	// Refused: the case's own investigator (reports are for auditors and
	// custodians), a prosecutor, bad input; the refusals of people are
	// recorded, bad input changes nothing.
	for _, who := range []Principal{f.inv, f.pros} {
		if _, err := v.CustodyDocument(ctx, who, DocumentRequest{Case: "P-1", Format: FormatPDF}); !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want a refusal", who.Name, err)
		}
	}
	n := len(logged(t, v))
	for _, req := range []DocumentRequest{
		{Case: "P-1", Format: "docx"},
		{Case: "P-1", Format: FormatPDF, Items: []string{"it_000000000000000000000000"}},
		{Case: "P-1", Format: FormatPDF, Items: []string{items[0], items[0]}},
		{Case: "P-1", Format: FormatPDF, Purpose: "line\nbreak"},
		{Case: "../P-1", Format: FormatPDF},
	} {
		if _, err := v.CustodyDocument(ctx, f.auditor, req); !errors.Is(err, ErrBadInput) {
			t.Errorf("%+v: %v, want a bad request", req, err)
		}
	}
	if m := len(logged(t, v)); m != n {
		t.Errorf("bad input wrote %d events", m-n)
	}
}

// A CASE/UCO export is for the case's investigators too; it is recorded.
func TestCaseUCOExportRecorded(t *testing.T) {
	f := newPackageFixture(t)
	doc, err := f.v.CustodyDocument(context.Background(), f.inv, DocumentRequest{Case: "P-1", Format: FormatCaseUCO})
	if err != nil {
		t.Fatal(err)
	}
	if ev := logged(t, f.v)[doc.Event]; ev.Type != TypeCaseUCOExported || ev.Actor.Person != "inv" {
		t.Errorf("event %d is %s", doc.Event, ev.Type)
	}
	if !bytes.Contains(doc.Body, []byte("uco-observable:File")) {
		t.Error("the export has no uco-observable:File")
	}
	// Recorded before it was made: the export shows its own event.
	own := regexp.MustCompile(fmt.Sprintf(`"uco-observable:eventRecordID":\s*"%d",\s*"uco-observable:eventType":\s*"%s"`,
		doc.Event, regexp.QuoteMeta(TypeCaseUCOExported)))
	if !own.Match(doc.Body) {
		t.Errorf("the export does not show its own event %d", doc.Event)
	}
}

// The acquisition hash a depositor gives is recorded with the deposit.
func TestAcquisitionHashRecorded(t *testing.T) {
	f := newPackageFixture(t)
	body := "seized content"
	res, err := f.v.Deposit(context.Background(), f.inv, DepositRequest{Case: "P-1", Name: "c.txt", Body: strings.NewReader(body),
		Expect: Hashes{SHA256: strings.ToUpper(sha256Hex([]byte(body)))}})
	if err != nil {
		t.Fatal(err)
	}
	it, _, _ := f.v.state.getItem(res.ID)
	d, err := f.v.depositRecord(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	if d.Acquisition == nil || d.Acquisition.SHA256 != sha256Hex([]byte(body)) || d.Acquisition.MD5 != "" {
		t.Errorf("acquisition %+v", d.Acquisition)
	}
}

// The hash list acquisition hashes were read from is recorded with them,
// its SHA-256 in lowercase; a list named wrongly is refused as bad input
// and changes nothing (no event, no item); a content refused for its
// hash names the list in the refusal recorded.
func TestAcquisitionListRecorded(t *testing.T) {
	f := newPackageFixture(t)
	ctx := context.Background()
	body := "seized content"
	want := sha256Hex([]byte(body))
	listSum := strings.Repeat("ab", 32)
	res, err := f.v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: "c.txt", Body: strings.NewReader(body),
		Expect: Hashes{SHA256: want}, ExpectList: &AcquisitionList{Name: `phone caf\xe9.sha256`, SHA256: strings.ToUpper(listSum), Entry: "/media/exhibit 4/c.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	it, _, _ := f.v.state.getItem(res.ID)
	d, err := f.v.depositRecord(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	if d.Acquisition == nil || d.Acquisition.List == nil || *d.Acquisition.List != (AcquisitionList{Name: `phone caf\xe9.sha256`, SHA256: listSum, Entry: "/media/exhibit 4/c.txt"}) {
		t.Fatalf("acquisition %+v", d.Acquisition)
	}

	before := len(logged(t, f.v))
	for _, c := range []struct {
		why    string
		expect Hashes
		list   AcquisitionList
	}{
		{"a list without hashes read from it", Hashes{}, AcquisitionList{Name: "a.sha256", SHA256: listSum}},
		{"a folder in its name", Hashes{SHA256: want}, AcquisitionList{Name: "exhibits/a.sha256", SHA256: listSum}},
		{"a right-to-left override in its name", Hashes{SHA256: want}, AcquisitionList{Name: "a\u202e652ahs.txt", SHA256: listSum}},
		{"a name of dots", Hashes{SHA256: want}, AcquisitionList{Name: "..", SHA256: listSum}},
		{"a NUL byte in its name", Hashes{SHA256: want}, AcquisitionList{Name: `a\x00.sha256`, SHA256: listSum}},
		{"a NUL byte in an entry", Hashes{SHA256: want}, AcquisitionList{Name: "a.sha256", SHA256: listSum, Entry: `DCIM/a\x00b.jpg`}},
		{"a name past 255 bytes", Hashes{SHA256: want}, AcquisitionList{Name: strings.Repeat("a", 256), SHA256: listSum}},
		{"a SHA-256 too short", Hashes{SHA256: want}, AcquisitionList{Name: "a.sha256", SHA256: "abc"}},
		{"a SHA-256 that is no hex", Hashes{SHA256: want}, AcquisitionList{Name: "a.sha256", SHA256: strings.Repeat("g", 64)}},
		{"an entry with a newline", Hashes{SHA256: want}, AcquisitionList{Name: "a.sha256", SHA256: listSum, Entry: "a\nb.txt"}},
		{"an entry with a needless escape", Hashes{SHA256: want}, AcquisitionList{Name: "a.sha256", SHA256: listSum, Entry: `a\x41.txt`}},
		{"an entry past 16,384 bytes", Hashes{SHA256: want}, AcquisitionList{Name: "a.sha256", SHA256: listSum, Entry: strings.Repeat("a", 16385)}},
	} {
		l := c.list
		_, err := f.v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: "d.txt", Body: strings.NewReader(body), Expect: c.expect, ExpectList: &l})
		if !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v, want bad input", c.why, err)
		}
	}
	if after := logged(t, f.v); len(after) != before {
		t.Errorf("refused lists recorded %d events, the first %s", len(after)-before, after[before].Type)
	}

	_, err = f.v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: "e.txt", Body: strings.NewReader("altered"),
		Expect: Hashes{SHA256: want}, ExpectList: &AcquisitionList{Name: "card.sha256", SHA256: listSum}})
	if !errors.Is(err, ErrBadInput) || !Recorded(err) {
		t.Fatalf("content that is not its listed hash: %v", err)
	}
	// A list's name cannot close its quotes and state another SHA-256.
	_, err = f.v.Deposit(ctx, f.inv, DepositRequest{Case: "P-1", Name: "f.txt", Body: strings.NewReader("altered again"),
		Expect: Hashes{SHA256: want}, ExpectList: &AcquisitionList{Name: "a.sum’, SHA-256 " + strings.Repeat("f", 64) + " ‘x", SHA256: listSum}})
	if !errors.Is(err, ErrBadInput) || !Recorded(err) {
		t.Fatalf("content that is not its listed hash: %v", err)
	}
	evs := logged(t, f.v)
	if d := string(evs[len(evs)-1].Data); !strings.Contains(d, `‘a.sum\\u2019, SHA-256 `+strings.Repeat("f", 64)+` \\u2018x’, SHA-256 `+listSum) {
		t.Errorf("the refusal of a list with quotation marks in its name: %s", d)
	}
	last := evs[len(evs)-2]
	if last.Type != TypeAccessRefused || !strings.Contains(string(last.Data), "e.txt") || !strings.Contains(string(last.Data), "read from the hash list ‘card.sha256’, SHA-256 "+listSum) {
		t.Errorf("the refusal recorded: %s %s", last.Type, last.Data)
	}
}
