package custody

import (
	"fmt"
	"strings"
)

// Text renders a record as plain UTF-8 text (report.txt): the same
// content as the PDF report, one fact per line, every text an event
// recorded passed through Shown, so that each line of the report is
// written by the report and none by a name.
func Text(r *Record) []byte {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	field := func(indent, label, value string) {
		if value != "" {
			line("%s%-22s %s", indent, label+":", value)
		}
	}
	heading := func(s string) { line("\n%s\n%s", s, strings.Repeat("=", len(s))) }

	line("CHAIN OF CUSTODY REPORT")
	field("", "Case", Shown(r.Case.ID)+"  "+quoted(r.Case.Title))
	if p := r.Package; p != nil {
		field("", "Package", p.ID)
		field("", "Sealed by", PersonText(p.SealedBy))
		field("", "Sealed for", PersonText(p.SealedFor))
		field("", "Recipient", RecipientText(p.Recipient))
		field("", "Purpose", Shown(p.Purpose))
		field("", "Sealed at", fmt.Sprintf("%s (event %d)", TimeText(p.SealedAt), p.Sealing.Seq))
		if p.Request != "" {
			field("", "Requested by", fmt.Sprintf("%s, request %s, approved by %s", Shown(p.RequestedBy), Shown(p.Request), Shown(p.SealedBy.Name)))
		}
	}
	if e := r.Report; e != nil {
		field("", "Requested by", PersonText(e.Actor))
		field("", "Purpose", Shown(e.Purpose))
		field("", "Made at", fmt.Sprintf("%s (event %d)", TimeText(e.Time), e.Seq))
		field("", "Authenticated by", Shown(e.Auth))
	}
	field("", "Other packages", OtherPackages(r))
	field("", "Made with", r.Generator+" (software)")

	lead, does, not := Establishes(r)
	heading("WHAT THIS REPORT ESTABLISHES, AND WHAT IT DOES NOT")
	line("  %s", lead)
	for _, s := range does {
		line("  - %s", s)
	}
	line("  It does not establish:")
	for _, s := range not {
		line("  - %s", s)
	}

	heading("READING THIS REPORT")
	line("  %s", Reading())
	for _, t := range Terms(r) {
		line("  - %s", t)
	}

	heading("CHECKPOINT")
	cp := r.Checkpoint
	field("  ", "Custody log", Shown(cp.Origin))
	field("  ", "Size", fmt.Sprintf("%d events", cp.Size))
	field("  ", "Root hash", RootText(cp.Root))
	field("  ", "Log key fingerprint", cp.LogKeyFingerprint)
	field("  ", "Log key", Shown(cp.LogKey))
	for _, c := range cp.Cosignatures {
		field("  ", "Witness cosignature", fmt.Sprintf("%s at %s", Shown(c.Witness), TimeText(c.Time)))
	}
	if len(cp.Cosignatures) == 0 {
		field("  ", "Witness cosignatures", "none")
	}
	for _, t := range cp.Timestamps {
		field("  ", "RFC 3161 time", fmt.Sprintf("%s by %s, serial %s", TimeText(t.Time), Shown(t.Authority), t.Serial))
	}
	if len(cp.Timestamps) == 0 {
		field("  ", "RFC 3161 time-stamps", "none")
	}
	line("  Every event listed in this report is proven included in this checkpoint.")
	if cp.Text != "" {
		line("  The signed checkpoint, as stored:")
		for _, l := range strings.Split(strings.TrimRight(cp.Text, "\n"), "\n") {
			line("    %s", Shown(l))
		}
	}

	heading("CASE")
	field("  ", "Opened", fmt.Sprintf("%s by %s (event %d)", TimeText(r.Case.Opened.Time), PersonText(r.Case.Opened.Actor), r.Case.Opened.Seq))
	field("  ", "Legal hold", HoldText(r))
	field("  ", "Export approval", yesNo(r.ExportApproval, ExportApprovalRequired, ExportApprovalNone))
	field("  ", "Classification", ClassificationPolicyText(r))
	field("  ", "Retention", RetentionText(r))
	field("  ", "Destroyed", yesNo(r.Destroyed, "yes", "no"))
	line("  Case events (%d):", len(r.CaseEvents))
	for _, e := range r.CaseEvents {
		textEvent(&b, e)
	}

	heading("WHO WAS SENT THE EVIDENCE, AND WHY")
	openers := Openers(r)
	line("  %s", OpenersLead(r, openers))
	for _, o := range openers {
		line("  %s: %s", PersonText(o.Person), Count(len(o.Openings), "time"))
		for _, op := range o.Openings {
			line("    Event %d  %s  item %s (%s), sent %s", op.Seq, TimeText(op.Time), op.Item, op.Name, op.Sent)
			line("      Purpose: %s", Shown(op.Purpose))
		}
	}

	heading("ITEMS")
	line("%s.", ItemsText(r))
	for _, it := range r.Items {
		line("\nItem %s", it.ID)
		field("  ", "Name", ShownName(it.Name))
		field("  ", "File in package", it.Path)
		field("  ", "Size", Bytes(it.Size))
		field("  ", "SHA-256", it.Hashes.SHA256)
		field("  ", "SHA-1", it.Hashes.SHA1)
		field("  ", "MD5", it.Hashes.MD5)
		if a := it.Acquisition; a != (Hashes{}) {
			field("  ", "Acquisition SHA-256", matched(a.SHA256))
			field("  ", "Acquisition SHA-1", matched(a.SHA1))
			field("  ", "Acquisition MD5", matched(a.MD5))
			field("  ", "Read from", listText(r, it.AcquisitionList))
		} else {
			field("  ", "Acquisition hash", "none given at deposit (optional: the hashes above are the vault's own)")
		}
		field("  ", "Source", Shown(it.Source))
		field("  ", "Note", Shown(it.Note))
		field("  ", "Hotline report", Shown(it.Report))
		field("  ", "Classification", ClassificationText(it))
		field("  ", "Deposited", fmt.Sprintf("%s by %s (event %d)", TimeText(it.Deposit.Time), PersonText(it.Deposit.Actor), it.Deposit.Seq))
		line("  Chain of custody (%s):", Count(len(it.Chain), "event"))
		for _, e := range it.Chain {
			textEvent(&b, e)
		}
	}

	if len(r.Disclosures) > 0 {
		heading("OTHER DISCLOSURES OF THESE ITEMS")
		for _, d := range r.Disclosures {
			line("  Package %s for %s, sealed %s", d.Package, PersonText(d.SealedFor), TimeText(d.SealedAt))
			field("    ", "Items", DisclosedItemsText(d))
			if !d.Fetched.IsZero() {
				field("    ", "Fetched", TimeText(d.Fetched))
			}
			if !d.Received.IsZero() {
				field("    ", "Receipt signed", TimeText(d.Received))
			} else {
				field("    ", "Receipt signed", NotYet(r, "no signed receipt"))
			}
		}
	}

	heading("HOW TO VERIFY THIS INDEPENDENTLY")
	for _, p := range Instructions(r) {
		line("%s", p)
	}

	c := Certificate(r)
	heading(strings.ToUpper(c.Title))
	for _, p := range c.Paragraphs {
		line("%s", p)
	}
	for _, row := range c.Rows {
		line("  %s  %s\n    SHA-256 %s (%s)", row[0], row[1], row[2], row[3])
	}
	line("")
	for _, l := range c.Blanks {
		line("%-30s ______________________________", l+":")
	}
	return []byte(b.String())
}

// NotYet says that something had not happened as of the report's
// checkpoint ("no signed receipt as of the checkpoint of 52 events"): a
// later event may record it, and a reader comparing two documents made
// at different times sees why they differ. The checkpoint's size counts
// the vault's whole log, not the events the report lists.
func NotYet(r *Record, what string) string {
	return fmt.Sprintf("%s as of the checkpoint of %s events (the vault's log then, every case together)", what, Thousands(int64(r.Checkpoint.Size)))
}

// textEvent writes one event as an indented block.
func textEvent(b *strings.Builder, e Event) {
	fmt.Fprintf(b, "    Event %d  %s  %s\n", e.Seq, TimeText(e.Time), e.Action)
	fmt.Fprintf(b, "      Person:           %s\n", PersonText(e.Actor))
	fmt.Fprintf(b, "      Authenticated by: %s\n", Shown(e.Auth))
	if e.Purpose != "" {
		fmt.Fprintf(b, "      Purpose:          %s\n", Shown(e.Purpose))
	}
	if e.Details != "" {
		fmt.Fprintf(b, "      Details:          %s\n", e.Details)
	}
}

// Thousands writes n with a comma every three digits: 1,234,567.
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// ListHead names hash list l in the documents' words: "the hash list
// “NAME”" (QuotedName), or "a hash list without a name".
func ListHead(l HashList) string {
	if l.Name == "" {
		return "a hash list without a name"
	}
	return "the hash list " + QuotedName(l.Name)
}

// ListTail is what the documents say of hash list l after its name and
// SHA-256: the line the item's hashes were read from, the items of r
// whose content has the list's SHA-256 (the list itself, deposited),
// and that the depositor stated it.
func ListTail(r *Record, l HashList) string {
	var b strings.Builder
	if l.Entry != "" {
		b.WriteString(", its line for " + QuotedName(l.Entry))
	}
	if held := r.itemsWithSHA256(l.SHA256); len(held) > 0 {
		b.WriteString(", held in this record as item " + strings.Join(held, ", "))
	}
	b.WriteString(", as the depositor stated it")
	return b.String()
}

// listText describes the hash list an item's acquisition hashes were
// read from; "" for none.
func listText(r *Record, l HashList) string {
	if l == (HashList{}) {
		return ""
	}
	return ListHead(l) + ", SHA-256 " + Shown(l.SHA256) + ListTail(r, l)
}

func matched(h string) string {
	if h == "" {
		return ""
	}
	return h + " (matched at deposit)"
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
