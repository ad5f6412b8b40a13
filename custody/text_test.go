package custody

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// The sentence on other packages counts them in the right number.
func TestOtherPackagesInWords(t *testing.T) {
	r := &Record{Package: &Package{DisclosesOthers: true}}
	for n, want := range map[int]string{1: "1 other package carried some of these items; it is listed", 2: "2 other packages carried some of these items; they are listed"} {
		r.Disclosures = make([]Disclosure, n)
		if got := OtherPackages(r); !strings.HasPrefix(got, want) {
			t.Errorf("%d disclosures: %q", n, got)
		}
	}
}

// A hybrid post-quantum recipient (1,959 characters) is shown by its ends
// and the SHA-256 of the whole, which a reader can compare; an X25519
// one is shown whole.
func TestRecipientText(t *testing.T) {
	x := "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
	if got := RecipientText(x); got != x {
		t.Errorf("an X25519 recipient: %q", got)
	}
	pq := "age1pq1" + strings.Repeat("q", 1952)
	got := RecipientText(pq)
	if len(got) > 200 || !strings.HasPrefix(got, pq[:16]+"…") || !strings.Contains(got, fmt.Sprintf("SHA-256 %x", sha256.Sum256([]byte(pq)))) || !strings.Contains(got, "1959 characters") {
		t.Errorf("a hybrid recipient: %q", got)
	}
}

// The report says what it establishes and what not, before its rows:
// that the history and its times rest on the vault's key alone without
// witnesses or time-stamps; with them, that they count only once checked
// with --witness-policy and --tsa-cert; and in every case that inclusion
// is not completeness and that refusals beyond the burst are not listed.
func TestEstablishesSaysWhatTheHistoryRestsOn(t *testing.T) {
	for _, tc := range []struct {
		name string
		cp   Checkpoint
		want string
	}{
		{"neither", Checkpoint{}, "so both rest on the vault's signing key alone"},
		{"a time-stamp", Checkpoint{Timestamps: []Timestamp{{Authority: "TSA"}}}, "(here no witness cosignature and 1 time-stamp) is checked"},
		{"two witnesses", Checkpoint{Cosignatures: []Cosignature{{Witness: "a"}, {Witness: "b"}}}, "(here 2 witness cosignatures and no time-stamp) is checked: custos-verify checks them only with --witness-policy"},
	} {
		r := &Record{Checkpoint: tc.cp, Package: &Package{}}
		_, does, not := Establishes(r)
		all := strings.Join(not, "\n")
		if !strings.Contains(all, tc.want) || !strings.Contains(all, "not that the list is complete") || !strings.Contains(all, "beyond 20 a minute are recorded later as a count") {
			t.Errorf("%s: does not establish:\n%s", tc.name, all)
		}
		if !strings.Contains(strings.Join(does, "\n"), "decrypts to exactly the bytes that were deposited") {
			t.Errorf("%s: establishes:\n%s", tc.name, does)
		}
		text := string(Text(r))
		head, rows, ok := strings.Cut(text, "CHECKPOINT")
		if !ok || !strings.Contains(head, "WHAT THIS REPORT ESTABLISHES, AND WHAT IT DOES NOT") || !strings.Contains(head, tc.want) || strings.Contains(rows, tc.want) {
			t.Errorf("%s: the text report does not say it before its rows:\n%s", tc.name, text)
		}
	}
	// On demand, the report says it cannot be checked offline by itself.
	if lead, _, _ := Establishes(&Record{}); !strings.Contains(lead, "cannot be checked offline by itself") {
		t.Errorf("an on-demand report's lead: %q", lead)
	}
}

// The report says how to read it, and what its words mean, before the
// rows that use them: the terms come right after what it establishes,
// before the checkpoint; a package's report explains its recipient, a
// report made on demand has none to explain.
func TestTheReportExplainsItsWordsFirst(t *testing.T) {
	for _, r := range []*Record{{Package: &Package{}}, {Report: &Event{}}} {
		text := string(Text(r))
		at := strings.Index(text, "READING THIS REPORT")
		if at < 0 || at < strings.Index(text, "WHAT THIS REPORT ESTABLISHES") || at > strings.Index(text, "CHECKPOINT") {
			t.Fatalf("the terms are not between what the report establishes and its checkpoint:\n%s", text)
		}
		for _, term := range append([]string{Reading()}, Terms(r)...) {
			if !strings.Contains(text, term) {
				t.Errorf("the report lacks %.50q...", term)
			}
		}
		if recipient := strings.Contains(text, "Recipient (age):"); recipient != (r.Package != nil) {
			t.Errorf("the age recipient explained: %v, in a report of a package: %v", recipient, r.Package != nil)
		}
	}
}

// A refusal in the record is explained among the terms (what it is, that
// nothing was done, that one is no sign of misconduct by itself); a
// record without one has no such paragraph.
func TestTheReportExplainsRefusalsWhereItHasOne(t *testing.T) {
	refused := Event{Seq: 9, Type: typeAccessRefused, Action: "Refused"}
	for _, c := range []struct {
		r    *Record
		want bool
	}{
		{&Record{Report: &Event{}}, false},
		{&Record{Report: &Event{}, CaseEvents: []Event{refused}}, true},
		{&Record{Package: &Package{}, Items: []Item{{Chain: []Event{refused}}}}, true},
	} {
		text := string(Text(c.r))
		if got := strings.Contains(text, "Refused: a request the vault declined") && strings.Contains(text, "not, by itself, a sign of misconduct"); got != c.want {
			t.Errorf("refusal explained %v, want %v:\n%s", got, c.want, text)
		}
	}
}

// The report says, by person, every time someone was sent an item's
// content and the purpose they stated, in log order across the items,
// before the items' chains; a record without any says so.
func TestWhoWasSentTheEvidence(t *testing.T) {
	ana, ben := Person{Name: "ana", Role: "analyst"}, Person{Name: "ben", Role: "prosecutor"}
	r := &Record{Checkpoint: Checkpoint{Size: 40}, Items: []Item{
		{ID: "it_1", Name: "chat.txt", Chain: []Event{
			{Seq: 3, Type: "item.deposited", Actor: ana},
			{Seq: 9, Type: "item.accessed", Actor: ben, Purpose: "prepare the trial"},
			{Seq: 12, Type: "item.access.completed", Actor: ben},
		}},
		{ID: "it_2", Name: "IMG_0001.png", Chain: []Event{
			{Seq: 5, Type: "item.accessed", Actor: ana, Purpose: "classify", Sent: SentText("shown")},
			{Seq: 20, Type: "item.accessed", Actor: ben, Purpose: "compare\nwith the chat", Sent: SentText("copy")},
		}},
	}}
	o := Openers(r)
	if len(o) != 2 || o[0].Person != ana || len(o[0].Openings) != 1 || o[1].Person != ben || len(o[1].Openings) != 2 ||
		o[1].Openings[0].Seq != 9 || o[1].Openings[1].Item != "it_2" {
		t.Fatalf("openers: %+v", o)
	}
	text := string(Text(r))
	section := text[strings.Index(text, "WHO WAS SENT THE EVIDENCE, AND WHY"):strings.Index(text, "\nITEMS\n")]
	for _, want := range []string{"ana (analyst): 1 time", "ben (prosecutor): 2 times", "Event 20", "item it_2 (IMG_0001.png), sent a copy", "(IMG_0001.png), sent to the web viewer", `Purpose: compare\u000awith the chat`} {
		if !strings.Contains(section, want) {
			t.Errorf("the section lacks %q:\n%s", want, section)
		}
	}
	if got := string(Text(&Record{Checkpoint: Checkpoint{Size: 40}})); !strings.Contains(got, "No one was sent the content of these items") {
		t.Errorf("a record without any: %s", got)
	}
}
