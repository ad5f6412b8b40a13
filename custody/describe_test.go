package custody

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// TestDescribe: one event in words, as the documents show it; an event of
// a type this version does not know, or whose data does not decode, by
// its type.
func TestDescribe(t *testing.T) {
	dep := &events.Event{Type: "item.deposited", Data: json.RawMessage(`{"size":2048,"sha256":"` + strings.Repeat("ab", 32) + `"}`)}
	if action, details := Describe(dep); action != "Deposited (received into custody)" || !strings.Contains(details, "2,048 bytes") {
		t.Fatalf("a deposit: %q %q", action, details)
	}
	for _, ev := range []*events.Event{
		{Type: "something.new", Data: json.RawMessage(`{}`)},
		{Type: "item.deposited", Data: json.RawMessage(`{"size":"not a number"}`)},
	} {
		if action, _ := Describe(ev); action != ev.Type {
			t.Errorf("%s %s: %q", ev.Type, ev.Data, action)
		}
	}
}

// TestDescribeClauses: the clauses are the details Describe joins, one
// by one; an event that does not decode has none.
func TestDescribeClauses(t *testing.T) {
	for _, ev := range []*events.Event{
		{Type: "item.deposited", Data: json.RawMessage(`{"name":"הקלטה","size":11,"sha256":"` + strings.Repeat("ab", 32) + `","report":"rp_1"}`)},
		{Type: "case.held", Data: json.RawMessage(`{"reason":"צו \u201d 12"}`)},
		{Type: "item.accessed", Data: json.RawMessage(`{"purpose":"review","access":"view","override":"a match"}`)},
	} {
		action, details := Describe(ev)
		a, clauses := DescribeClauses(ev)
		if a != action || strings.Join(clauses, "; ") != details || len(clauses) < 2 && ev.Type == "item.deposited" {
			t.Errorf("%s: clauses %q, action %q; Describe says %q %q", ev.Type, clauses, a, action, details)
		}
	}
	// A statement of what a deposit skipped is said as the named
	// person's, bounded: twenty files at most, each path and reason cut.
	var files []string
	for i := range 30 {
		files = append(files, fmt.Sprintf(`{"path":"d/%d/%s","reason":"r","left_behind":%v}`, i, strings.Repeat("x", 3000), i < 5))
	}
	st := &events.Event{Type: "deposit.skipped", Data: json.RawMessage(`{"count":40,"deposited":3,"already":1,"source":"phone","files":[` + strings.Join(files, ",") + `]}`)}
	action, details := Describe(st)
	if !strings.Contains(action, "as the person named stated it") || !strings.Contains(details, "stated 40 files or folders found and not deposited, 30 listed here, of which 5 are content the case does not hold") ||
		!strings.Contains(details, "deposited 3 and found 1") || !strings.Contains(details, "and 10 more listed") || len(details) > 20*(maxSkippedRunes+maxReasonRunes+20)+1000 {
		t.Errorf("a statement: %q, %d bytes: %.300q", action, len(details), details)
	}
	if a, c := DescribeClauses(&events.Event{Type: "item.deposited", Data: json.RawMessage(`{"size":"x"}`)}); a != "item.deposited" || c != nil {
		t.Errorf("an event that does not decode: %q %q", a, c)
	}
}

// A court reads how the plaintext was sent: shown in the web viewer, or
// as a copy the person's computer keeps; an access of before the two
// were told apart says either.
func TestDescribeShownOrCopy(t *testing.T) {
	for access, want := range map[string]string{
		"shown": "Sent to the vault's web viewer",
		"copy":  "Copy sent",
		"view":  "to view or to save",
		"":      "to view or to save",
	} {
		action, _ := Describe(&events.Event{Type: "item.accessed", Data: json.RawMessage(`{"purpose":"review","access":"` + access + `"}`)})
		if !strings.Contains(action, want) {
			t.Errorf("access %q: %q, want %q in it", access, action, want)
		}
		action, _ = Describe(&events.Event{Type: "item.accessed", Data: json.RawMessage(`{"purpose":"review","access":"` + access + `","override":"a match"}`)})
		if !strings.Contains(action, "known material revealed explicitly") || (access == "copy") != strings.HasPrefix(action, "Copy sent") {
			t.Errorf("access %q with the override: %q", access, action)
		}
	}
}

// A court reads, from the record alone, that known material was revealed
// on purpose and why it counted as known, and what a deposit matched.
func TestDescribeHotlineFacts(t *testing.T) {
	view := &events.Event{Type: "item.accessed", Data: json.RawMessage(`{"purpose":"confirm the match","access":"view","override":"it matches entry 0 of hash set local-known (baseline)"}`)}
	action, details := Describe(view)
	if action != "Viewed, known material revealed explicitly" || !strings.Contains(details, "known material because “it matches entry 0 of hash set local-known (baseline)”") {
		t.Errorf("a reveal of known material: %q %q", action, details)
	}
	if action, _ := Describe(&events.Event{Type: "item.accessed", Data: json.RawMessage(`{"purpose":"review","access":"view"}`)}); strings.Contains(action, "known") {
		t.Errorf("an ordinary view: %q", action)
	}
	dep := &events.Event{Type: "item.deposited", Data: json.RawMessage(`{"size":2048,"sha256":"` + strings.Repeat("ab", 32) + `","report":"rp_0123",` +
		`"matches":[{"set":"projectvic","entry":3,"algorithm":"pdq","category":"baseline","distance":16},{"set":"partner","entry":7,"algorithm":"sha256"}]}`)}
	_, details = Describe(dep)
	for _, want := range []string{"for hotline report rp_0123", "matched entry 3 of hash set projectvic (pdq, distance 16 of 256 bits, baseline)", "matched entry 7 of hash set partner (sha256)"} {
		if !strings.Contains(details, want) {
			t.Errorf("a deposit's details lack %q: %q", want, details)
		}
	}
	// How a report came, in words: a partner's report is not one
	// "by hotline", which reads as who received it.
	for channel, want := range map[string]string{"hotline": "report rp_1; from a partner hotline", "web": "report rp_1; through the public web form", "email": "report rp_1; by email", "fax": "report rp_1; by fax"} {
		if _, details := Describe(&events.Event{Type: "report.received", Data: json.RawMessage(`{"report":"rp_1","channel":"` + channel + `"}`)}); details != want {
			t.Errorf("a report received by %s: %q, want %q", channel, details, want)
		}
	}
	if got := Count(1, "item") + ", " + Count(2, "item"); got != "1 item, 2 items" {
		t.Errorf("Count: %q", got)
	}
}

// TestDescribeRefusalGrounds: a refusal says on what grounds it was
// refused, where the event records them; one recorded before grounds
// were says only its reason.
func TestDescribeRefusalGrounds(t *testing.T) {
	for grounds, want := range map[string]string{
		"permission": "their role, or their assignment to the case, does not include it",
		"state":      "whoever asked",
		"unknown":    "does not exist",
	} {
		ev := &events.Event{Type: "access.refused", Data: json.RawMessage(`{"action":"case.open","reason":"r","grounds":"` + grounds + `"}`)}
		if _, details := Describe(ev); !strings.Contains(details, want) {
			t.Errorf("grounds %s: %q", grounds, details)
		}
	}
	old := &events.Event{Type: "access.refused", Data: json.RawMessage(`{"action":"case.open","reason":"r"}`)}
	if _, details := Describe(old); strings.Contains(details, "grounds") {
		t.Errorf("a refusal without grounds: %q", details)
	}
	for g := range GroundsWords {
		if !strings.HasPrefix(GroundsWords[g], "on the grounds that ") {
			t.Errorf("%s: %q", g, GroundsWords[g])
		}
	}
}

// A summary of refusals is written at the end of its window: it says
// when the attempts it stands for happened, so that no reader takes its
// own time for theirs; a refusal recorded as it happened says nothing of
// attempts.
func TestDescribeRefusalSummarySaysWhen(t *testing.T) {
	summary := func(at, count, first, last string) *events.Event {
		return &events.Event{Type: "access.refused", Time: at, Data: json.RawMessage(`{"action":"session.open","reason":"dara is suspended","grounds":"credentials","count":` + count + `,"first":"` + first + `","last":"` + last + `"}`)}
	}
	for _, c := range []struct {
		ev   *events.Event
		want string
	}{
		{summary("2026-12-05T12:58:02.000000000Z", "1", "2026-12-05T12:56:55.123000000Z", "2026-12-05T12:56:55.123000000Z"), "1 attempt at 12:56:55 UTC; asked to sign in"},
		{summary("2026-12-05T12:58:02.000000000Z", "12", "2026-12-05T12:56:01.5Z", "2026-12-05T12:56:58.25Z"), "12 attempts from 12:56:01 to 12:56:58 UTC; asked to sign in"},
		{summary("2026-12-05T12:58:02.000000000Z", "2", "2026-12-05T12:56:58.1Z", "2026-12-05T12:56:58.9Z"), "2 attempts at 12:56:58 UTC"},
		// A window across midnight: the day before the event's is named.
		{summary("2026-12-06T00:00:40.000000000Z", "3", "2026-12-05T23:59:40Z", "2026-12-06T00:00:10Z"), "3 attempts from 2026-12-05 23:59:40 to 00:00:10 UTC"},
	} {
		_, details := Describe(c.ev)
		if !strings.Contains(details, c.want) {
			t.Errorf("a summary written at %s: %q, want %q", c.ev.Time, details, c.want)
		}
		if strings.Contains(details, "12:58") || strings.Contains(details, "refusals") {
			t.Errorf("a summary written at %s gives its own time or a bare count: %q", c.ev.Time, details)
		}
	}
	one := &events.Event{Type: "access.refused", Time: "2026-12-05T12:58:02.000000000Z", Data: json.RawMessage(`{"action":"case.open","reason":"r","grounds":"permission","target":"C-1"}`)}
	if _, details := Describe(one); strings.Contains(details, "attempt") {
		t.Errorf("a refusal recorded as it happened: %q", details)
	}
}

// A case's export approval is said as the rule is: a custodian's
// approval, never the requester's own (an investigator's sealing needs
// one custodian), not a second custodian's.
func TestDescribeExportPolicy(t *testing.T) {
	req := &events.Event{Type: "case.policy.set", Data: json.RawMessage(`{"export_approval":"required","reason":"court order"}`)}
	_, details := Describe(req)
	if !strings.Contains(details, "export approval required: every package needs a custodian's approval, never its requester's own") || strings.Contains(details, "second") {
		t.Errorf("requiring export approval: %q", details)
	}
	drop := &events.Event{Type: "case.policy.set", Actor: events.Actor{Person: "c2"}, Data: json.RawMessage(`{"export_approval":"none","request":"rq_1","requested_by":"c1"}`)}
	if _, details := Describe(drop); !strings.HasPrefix(details, "export approval none; asked by c1 in request rq_1, approved by c2") {
		t.Errorf("an approved drop: %q", details)
	}
}

// A hash set's import is told by its name and what a match means, and,
// when a second custodian approved it, who asked for it; a removal names
// the set.
func TestDescribeHashSets(t *testing.T) {
	imp := &events.Event{Type: "hashset.imported", Data: json.RawMessage(`{"name":"partner","format":"sha256sum","category":"baseline","source_sha256":"` + strings.Repeat("ab", 32) + `","imported":2,"rejected":0,"table_sha256":"` + strings.Repeat("cd", 32) + `","request":"rq_0123456789abcdef01234567","requested_by":"sokha"}`)}
	action, details := Describe(imp)
	if action != "Hash set of known material imported" || !strings.Contains(details, "partner (sha256sum, a match means baseline)") || !strings.Contains(details, "asked for by sokha in request rq_0123456789abcdef01234567") {
		t.Errorf("an approved import: %q %q", action, details)
	}
	if _, details := Describe(&events.Event{Type: "hashset.removed", Data: json.RawMessage(`{"name":"partner","reason":"superseded"}`)}); !strings.Contains(details, "partner") {
		t.Errorf("a removal: %q", details)
	}
}

// TestDescribeApprovedSealingNamesBoth: a sealing a second custodian
// approved names who asked and who approved it, from the event alone (as
// the timeline and custos audit log describe it, not only the report).
func TestDescribeApprovedSealingNamesBoth(t *testing.T) {
	ev := &events.Event{Type: "package.sealing", Actor: events.Actor{Person: "custodian2", Role: "custodian"},
		Data: json.RawMessage(`{"package":"pk_0123","for":"vanna","recipient":"age1x","purpose":"trial","items":["it_1"],"request":"rq_0123","requested_by":"sokha","for_role":"prosecutor"}`)}
	if _, details := Describe(ev); !strings.Contains(details, "requested by sokha in request rq_0123, approved by custodian2") {
		t.Errorf("an approved sealing: %q", details)
	}
}

// TestDescribeASealingsRequest: a request to seal says the purpose it
// was asked for (a sealing's why), not that no reason was recorded; and
// its approval is not said to be a "second" custodian's, as an
// investigator may have asked.
func TestDescribeASealingsRequest(t *testing.T) {
	ev := &events.Event{Type: "request.opened", Actor: events.Actor{Person: "vichea", Role: "investigator"},
		Data: json.RawMessage(`{"request":"rq_0123","kind":"package.seal","case":"C-1","person":"sophea","params":{"for":"sophea","purpose":"the prosecution's trial bundle","items":["it_1"]},"expires":"2026-12-12T09:00:00Z"}`)}
	_, details := Describe(ev)
	if !strings.Contains(details, "for the purpose “the prosecution's trial bundle”") || strings.Contains(details, "no reason") {
		t.Errorf("a sealing's request: %q", details)
	}
	if action, _ := Describe(&events.Event{Type: "request.approved", Data: json.RawMessage(`{"request":"rq_0123","kind":"package.seal","requested_by":"vichea"}`)}); strings.Contains(action, "second") {
		t.Errorf("an approval is described as %q", action)
	}
}

// TestDescribeAnApproversReason: an approval's own reason is said to be
// why it was approved, never taken for a rejection's; a rejection's and
// a withdrawal's are said as before.
func TestDescribeAnApproversReason(t *testing.T) {
	for _, c := range []struct {
		typ, actor, want, not string
	}{
		{"request.approved", "dara", "approved because “checked with the investigator”", "rejected"},
		{"request.rejected", "dara", "rejected because “checked with the investigator”", "approved"},
		{"request.rejected", "vichea", "withdrawn by its requester because “checked with the investigator”", "approved"},
	} {
		_, details := Describe(&events.Event{Type: c.typ, Actor: events.Actor{Person: c.actor, Role: "custodian"},
			Data: json.RawMessage(`{"request":"rq_0123","kind":"package.seal","requested_by":"vichea","reason":"checked with the investigator"}`)})
		if !strings.Contains(details, c.want) || strings.Contains(details, c.not) {
			t.Errorf("%s by %s: %q, want %q", c.typ, c.actor, details, c.want)
		}
	}
}

// TestDescribeStarts: an auditor reading the log in words tells a server's
// start from an offline command's opening of the vault, reads which build
// ran (an upgrade), and sees the state snapshots a start set aside, the
// trace a disk changed under the vault leaves.
func TestDescribeStarts(t *testing.T) {
	for _, c := range []struct {
		data, action string
		details      []string
	}{
		{`{"sealer":"soft","build":"custos v1.4.0"}`, "Server started", []string{"build custos v1.4.0", "keys sealed by the development sealer (soft)"}},
		{`{"sealer":"tpm:0x81000001"}`, "Server started", []string{"keys sealed by tpm"}},
		{`{"sealer":"soft","run":"custos admin enroll","build":"custos v1.4.0"}`, "Opened by custos admin enroll (the server stopped)", nil},
		{`{"sealer":"soft","state_snapshots_discarded":"state-00000000000000000031.snap: it covers 31 events but the custody log holds 28"}`, "Server started",
			[]string{"state snapshots not used, set aside: state-00000000000000000031.snap: it covers 31 events but the custody log holds 28"}},
		{`{"sealer":"soft"}`, "Server started", nil},
	} {
		action, details := Describe(&events.Event{Type: "server.started", Data: json.RawMessage(c.data)})
		if c.data == `{"sealer":"tpm:0x81000001"}` && strings.Contains(details, "development") {
			t.Errorf("a TPM's start is described as the development sealer's: %q", details)
		}
		if action != c.action {
			t.Errorf("%s: %q", c.data, action)
		}
		for _, want := range c.details {
			if !strings.Contains(details, want) {
				t.Errorf("%s: the details lack %q: %q", c.data, want, details)
			}
		}
		if c.details == nil && strings.Contains(details, "set aside") {
			t.Errorf("%s: %q", c.data, details)
		}
	}
}

// TestDescribeStops: a stop as asked says what stopped it and which
// start it ends.
func TestDescribeStops(t *testing.T) {
	action, details := Describe(&events.Event{Type: "server.stopped", Data: json.RawMessage(`{"reason":"stop signal","started":41}`)})
	if action != "Server stopped as asked" || !strings.Contains(details, "by a stop signal") || !strings.Contains(details, "it had started at event 41") {
		t.Errorf("%q: %q", action, details)
	}
}

// TestStatementReasonsKeepHashesWhole: a statement's reason (a refusal
// for an acquisition hash names three SHA-256) is shown cut at a space,
// so that no hash is shown in part, where a document would let a reader
// take a prefix for the whole.
func TestStatementReasonsKeepHashesWhole(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 64) }
	reason := "refused: " + strings.Repeat("DCIM/", 40) + "x.jpg: its sha256 is " + h("a") + ", not the expected " + h("b") + " (read from the hash list ‘SHA256SUMS’, SHA-256 " + h("c") + ")"
	st := &events.Event{Type: "deposit.skipped", Data: json.RawMessage(`{"count":1,"files":[{"path":"x.jpg","reason":` + strconv.Quote(reason) + `,"left_behind":true}]}`)}
	_, details := Describe(st)
	for _, c := range []string{"a", "b", "c"} {
		n := strings.Count(details, strings.Repeat(c, 8))
		if n != 0 && !strings.Contains(details, h(c)) {
			t.Errorf("the hash of %s is shown in part: %q", c, details)
		}
	}
	if !strings.Contains(details, h("a")) || strings.Contains(details, h("c")) || !strings.Contains(details, " …") {
		t.Errorf("the reason is not cut where it should be (%d runes): %q", len([]rune(details)), details)
	}
}
