package custody

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// Bytes is a size in words: "1 byte", "1,234,567 bytes".
func Bytes(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	return Thousands(n) + " bytes"
}

// RootText is a checkpoint's root hash as documents show it: the base64
// the checkpoint carries, and the same 32 bytes in hex, as custos audit
// verify prints them.
func RootText(root string) string {
	b, err := base64.StdEncoding.DecodeString(root)
	if err != nil || len(b) != 32 {
		return Shown(root)
	}
	return root + " (hex " + hex.EncodeToString(b) + ")"
}

// Reading is the paragraph telling a reader how to read times, the order
// of events and escaped text.
func Reading() string {
	return "Reading this report: times are in UTC, to the second (fractions are cut, not rounded); events in the same second happened in the order of their event numbers. Text that could hide, reorder or forge characters is shown escaped: \\uXXXX stands for the Unicode character with that hexadecimal code (\\u000a a line break, \\u202e a right-to-left override), \\xHH for a byte of a file name that the name could not show as it is (a byte that is not text, from old media; each byte of a character hidden in a name, such as \\x0a for a line break or \\xe2\\x80\\xae for a right-to-left override; the name's exact bytes are these), and \\x5c for a backslash that would otherwise look like the start of an escape."
}

// Terms explains, one paragraph each, the words of a custody document a
// reader who is not an engineer meets in it, in the order they meet
// them: event numbers, the checkpoint and its root, the log key and its
// fingerprint, witnesses and time-stamps, the sign-in an event names, a
// refusal (where the record holds one), and an age recipient (a
// package's).
func Terms(r *Record) []string {
	out := []string{
		"Event: one entry of the vault's custody log, written before the act it records takes effect. Events are numbered across the whole vault, every case together, so the numbers in this report skip those of other cases and of the vault's own housekeeping; a gap is not a missing event of this case.",
		"Checkpoint and root hash: the checkpoint is a short statement, signed with the vault's log key, that the log held a given number of events; its root hash is a fingerprint of all of them together, so that changing, removing or reordering any one of them changes it. Each event below is shown to be one of them (its inclusion proof).",
		"Log key and its fingerprint: the log key is the vault's signing key for its custody log; its fingerprint is a short form of it (64 hexadecimal characters) to compare by eye with the one the vault's operators published or gave the court. A report is only as trustworthy as that comparison.",
		"Witness cosignature and RFC 3161 time-stamp: a witness is an independent service that countersigns a checkpoint only if it extends the history it saw before; a time-stamp is a dated signature of an independent authority (RFC 3161) showing the checkpoint existed by then. Either is evidence independent of the vault, once checked with the witness's or authority's own key.",
		"Signed in with: how the person was authenticated for the act (a local credential, the organisation's single sign-on, or a smart-card certificate) and the session the act was done in; the vault records who acted, not who sat at the keyboard.",
	}
	if hasRefusal(r) {
		out = append(out, "Refused: a request the vault declined, recorded with who asked, what for and on what grounds, before it was answered; nothing of it was done or shown. Refusals are recorded whatever their cause (a person's role not including the act, a mistyped name, a case on hold), so that the record shows the controls at work; one is not, by itself, a sign of misconduct.")
	}
	if r.Package != nil {
		out = append(out, "Recipient (age): the public half of the key the package's items are encrypted to (the age encryption format); only the holder of its private half, the person the package is for, can decrypt them.")
	}
	return out
}

// TimeText is how documents write a time: UTC, to the second, with the
// zone stated ("2026-11-30 21:50:03 UTC").
func TimeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// PersonText is a person with their role: "ana (investigator)".
func PersonText(p Person) string {
	if p.Name == "" {
		return "(not authenticated)"
	}
	return Shown(p.Name) + " (" + Shown(p.Role) + ")"
}

// OtherPackages says what the record shows of other packages of its
// items: in a package whose sealer did not choose to disclose them, that
// they are left out (so that no reader takes the chains for complete in
// that respect); "" in a report made on demand, which shows them all.
func OtherPackages(r *Record) string {
	switch {
	case r.Package == nil:
		return ""
	case !r.Package.DisclosesOthers:
		return "Not stated: the sealer did not choose to disclose other packages of these items. Each item's chain of custody below shows this package's events, and leaves out those of any other package that carried the item, and refused attempts to seal other packages of the case; a report made on demand by the vault's auditors shows them."
	case len(r.Disclosures) == 0:
		return "None: no other package carried these items when this one was sealed."
	}
	if len(r.Disclosures) == 1 {
		return "1 other package carried some of these items; it is listed under Other disclosures, and its events are in each item's chain of custody."
	}
	return fmt.Sprintf("%d other packages carried some of these items; they are listed under Other disclosures, and their events are in each item's chain of custody.", len(r.Disclosures))
}

// ClassificationPolicyText says how many agreeing votes settle an item's
// category in the case, as the last case.classification.policy of the
// record sets it (who set it, at which event, and its details: on whose
// request, why), or the default of one vote where the record carries
// none.
func ClassificationPolicyText(r *Record) string {
	e := r.ClassificationPolicy
	if e == nil {
		return "1 classification settles an item's category (the default: the case's policy was never set)"
	}
	words := fmt.Sprintf("%d agreeing classifications settle an item's category", r.ClassificationVotes)
	if r.ClassificationVotes <= 1 {
		words = "1 classification settles an item's category"
	}
	words += fmt.Sprintf(", set by %s (event %d)", PersonText(e.Actor), e.Seq)
	if _, why, ok := strings.Cut(e.Details, "; "); ok {
		words += ": " + why
	}
	return words
}

// RetentionText says how long the case's evidence is kept: its own
// period in words ("10 years", with its recorded form where that is not
// whole years or days), or the vault's default and, where the record
// knows it, its value when the record was made, which the vault's
// configuration sets, not a signed event.
func RetentionText(r *Record) string {
	if r.Retention != "" {
		d, err := time.ParseDuration(r.Retention)
		if err != nil || d <= 0 {
			return Shown(r.Retention)
		}
		return durationWords(d)
	}
	if r.VaultRetention > 0 {
		return "the vault's default, which was " + durationWords(r.VaultRetention) + " when this report was made (set by the vault's configuration, not recorded in the case's events)"
	}
	return "the vault's default"
}

// durationWords is a retention period in words: whole years ("10
// years"), whole days ("90 days"), or Go's form ("36h0m0s").
func durationWords(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	switch {
	case d%year == 0:
		return Count(int(d/year), "year")
	case d%day == 0:
		return Count(int(d/day), "day")
	}
	return d.String()
}

// HoldText says whether a legal hold is on the case, and if so who
// placed it, when and why, with its event: "on since 2026-03-02 10:04:00
// UTC, placed by ...".
func HoldText(r *Record) string {
	if !r.Held {
		return "none"
	}
	if r.Hold == nil {
		return "on"
	}
	s := fmt.Sprintf("on since %s, placed by %s (event %d)", TimeText(r.Hold.Time), PersonText(r.Hold.Actor), r.Hold.Seq)
	if d := r.Hold.Details; d != "" {
		s += ": " + d
	}
	return s
}

// ItemsText counts the record's items, and says when they are the ones
// asked for, which need not be all of the case's.
func ItemsText(r *Record) string {
	s := Count(len(r.Items), "item")
	switch {
	case r.Chosen:
		s += ", those asked for this report (the case may hold others, which it does not cover)"
	case r.Package == nil && r.Report != nil:
		s += ", every item the case held when this report was asked for"
	}
	return s
}

// DisclosedItemsText names the record's items another package carried,
// and, where it carried others too, how many in all: "it_a (1 of the 2
// items it carried; the others are not in this report)".
func DisclosedItemsText(d Disclosure) string {
	ids := make([]string, len(d.Items))
	for i, id := range d.Items {
		ids[i] = Shown(id)
	}
	s := strings.Join(ids, ", ")
	if d.Carried > len(d.Items) {
		s += fmt.Sprintf(" (%d of the %d items it carried; the others are not in this report)", len(d.Items), d.Carried)
	}
	return s
}

// Instructions are the paragraphs telling a reader how to check the
// document without the vault, in the order to print them; escaped
// already, written as they are.
func Instructions(r *Record) []string {
	fp := r.Checkpoint.LogKeyFingerprint
	if r.Package != nil {
		return []string{
			"Apart from the vault's log key, which step 1 has you obtain from elsewhere, nothing in this report needs to be taken on trust: every fact in it comes from the custody events inside the package, each signed into the custody log and proven included in the checkpoint above. Check them with the offline verifier, which needs no network and no access to the vault.",
			"1. Obtain the custody log's key fingerprint from a source other than this report and other than the vault that gave you the package: one its operators published or gave you on paper, or one a court has on file. It must equal " + fp + ".",
			"2. Run: custos-verify PACKAGE.tar --key " + fp + " --identity YOUR_AGE_KEY --extract FOLDER. It checks the manifest's signature, the checkpoint's signature, every event's inclusion proof in the checkpoint, decrypts every item and compares its SHA-256 with its deposit event, and writes the items to FOLDER. It prints VERIFIED on its last line, and exits with status 0, only if every check passes. If you are not the package's recipient (a court, a clerk, a custodian), leave out --identity YOUR_AGE_KEY and --extract FOLDER: it then checks everything but the items' decrypted contents, which only the recipient's key opens, and says so. If the checkpoint above lists witness cosignatures or RFC 3161 time-stamps, add --witness-policy FILE (the witnesses' keys, obtained from the witnesses themselves) and --tsa-cert FILE (the time-stamp authority's certificate) to check them; without these it says they were not checked.",
			"3. By hand, with the stock tools, the recipient also checks the items against this report: extract the package (tar -xf PACKAGE.tar); decrypt each item with age (age -d -i YOUR_AGE_KEY -o ITEM items/NNN-NAME.age); compute sha256sum ITEM, sha1sum ITEM and md5sum ITEM; each must equal the hashes printed for the item in this report. This shows that the items match this copy of the report, not that the report is genuine: step 2 shows that.",
			"4. Whoever holds two packages (for example the prosecution's and the defence's) shows that they carry exactly the same items, without decrypting either: custos-verify --same-items PACKAGE_A.tar PACKAGE_B.tar --key " + fp + ".",
		}
	}
	return []string{
		"This report was made on demand from the vault's custody log. Every event listed is signed into the log and was proven included in the checkpoint above when the report was made.",
		"1. An auditor replays the whole log, checking every event, the hash chain, the tree and the signed checkpoints: custos audit verify. The events of this case are listed with custos audit log --case " + Shown(r.Case.ID) + ".",
		"2. The log's key fingerprint is " + fp + "; obtain it from a source other than this report before relying on the checkpoint: one the vault's operators published or gave you on paper, one a court has on file, or one you saved at an earlier audit you trust (custos audit key asks the vault itself, which pins nothing against a vault that lies).",
		"3. Items delivered in a sealed package are checked offline with custos-verify, and by hand with age and sha256sum, as each package's own report describes.",
	}
}

// Establishes says in plain words what the report establishes once it is
// checked as "How to verify this independently" says (lead introduces
// does), and what it does not (not), so that a judge reads its limits
// before its rows: inclusion, not completeness; whose clock and key the
// history and its times rest on, and what the checkpoint's cosignatures
// and time-stamps add once checked; what a refusal is and which are
// listed; and that bytes, not content, are vouched for.
func Establishes(r *Record) (lead string, does, not []string) {
	lead = "Once checked offline as the section \"How to verify this independently\" says, it establishes:"
	if r.Package == nil {
		lead = "Made on demand, it cannot be checked offline by itself: an auditor checks it against the vault's log (custos audit verify, custos audit log) as the section \"How to verify this independently\" says. Once so checked, it establishes:"
	}
	does = []string{
		"The checkpoint below, signed with the vault's log key, commits to exactly the events listed, at their positions: none of them can have been altered or reordered since without that signature failing.",
		"Each act is attributed to the person, role and sign-in the vault authenticated when it was done, as each event records them.",
	}
	if r.Package != nil {
		does = append(does, "Each item in the package decrypts to exactly the bytes that were deposited: the same SHA-256 (and SHA-1 and MD5 where recorded) as its deposit event.")
	} else {
		does = append(does, "Each item's hashes are those the vault computed over the bytes it received at deposit; a copy is checked against them with sha256sum.")
	}
	not = []string{"That no other event concerns these items: each listed event's inclusion is proven, not that the list is complete. An auditor lists every event the vault holds of an item with custos audit log --item ITEM; custos audit verify checks the whole log."}
	cp := r.Checkpoint
	if len(cp.Cosignatures) == 0 && len(cp.Timestamps) == 0 {
		not = append(not, "When things happened, and that the vault showed this one history to everyone, independently of the vault: the times are the vault's own clock, and no witness cosigned this checkpoint and no time-stamp authority dated it, so both rest on the vault's signing key alone.")
	} else {
		not = append(not, fmt.Sprintf("When things happened, and that the vault showed this one history to everyone, unless what the checkpoint carries besides the vault's signature (here %s and %s) is checked: custos-verify checks them only with --witness-policy (the witnesses' keys, obtained from the witnesses themselves) and --tsa-cert (the authority's certificate), and otherwise says they were not checked. A witness cosigns only a history that extends the one it saw before, so a checked cosignature shows this history was not forked before it, to anyone who checks the same witness; a checked time-stamp shows the checkpoint existed by the time it gives. The events' own times are the vault's clock.",
			countOf(len(cp.Cosignatures), "witness cosignature"), countOf(len(cp.Timestamps), "time-stamp")))
	}
	not = append(not,
		"That every refused attempt on these items is listed: a person's refusals of one kind beyond 20 a minute are recorded later as a count, naming no item. A refusal listed was answered as refused, and by the vault's own account what it asked was not done: a refused view or fetch sent nothing, and a refused deposit made no item (the encrypted copy it received may stay in the store until its retention ends, recorded as objects.retained).",
		"What the files show: the vault vouches for their bytes, not for their content; a classification is people's assessment (their votes) or a match against a list of known material, recorded as such.")
	return lead, does, not
}

// countOf is n noun, in words: "no time-stamp", "1 witness
// cosignature", "2 time-stamps".
func countOf(n int, noun string) string {
	switch n {
	case 0:
		return "no " + noun
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// CertificateText is the certificate page: a title, paragraphs, one row
// per item, and the lines a custodian fills in by hand. Every text in it
// is escaped already (Shown): renderers write it as it is.
type CertificateText struct {
	Title      string
	Paragraphs []string
	// Columns heads Rows; each row is an item: id, name, SHA-256, how the
	// hash was produced.
	Columns []string
	Rows    [][]string
	// Blanks are the labels of the lines to fill in by hand.
	Blanks []string
	// Continued heads the lines to fill in when a page break parts them
	// from the rest: it says what the signature below certifies, so that
	// a signed page cannot pass for another certificate's.
	Continued string
}

// Certificate is the certificate of the items' hashes, in the manner of
// records certified under US Federal Rule of Evidence 902(14) and kept as
// ISO/IEC 27037 asks: what produced each hash, with which tool and
// version, and who certifies it.
func Certificate(r *Record) CertificateText {
	c := CertificateText{
		Title: "Certificate of authenticity of digital evidence by hash value",
		Paragraphs: []string{
			"I, the undersigned, a custodian or auditor of the evidence vault whose custody log is " + Shown(r.Checkpoint.Origin) + ", certify the following from the vault's signed custody records, which I have checked as " + checkedAs(r) + ".",
			"1. Each item listed below was received into the vault's custody at the time, and from the person, that its deposit event records. As the vault received each item it computed, over the item's exact bytes, its SHA-256 (FIPS 180-4) and, unless the vault was configured not to, its SHA-1 and MD5, and recorded them in the deposit event before confirming the deposit. Where an item's section of this report shows an acquisition hash, the depositor supplied it from the acquisition, and the vault refused the deposit unless the content matched it.",
			"2. The vault stores each item encrypted (age format) and records every access, export and other action on it in an append-only, hash-chained custody log before the action takes place; each event in this report is proven included in the signed checkpoint of " + fmt.Sprint(r.Checkpoint.Size) + " events whose log key fingerprint is " + r.Checkpoint.LogKeyFingerprint + ".",
		},
		Columns: []string{"Item", "Name", "SHA-256", "Hash produced by"},
		Blanks:  []string{"Name of the person certifying", "Role in the vault (custodian or auditor)", "Position and organisation", "Signature", "Date", "Place"},
	}
	if r.Package != nil {
		c.Paragraphs = append(c.Paragraphs, "3. When package "+r.Package.ID+" was sealed, the vault decrypted each item again, computed its SHA-256 and compared it with the deposit's; the package was sealed only because every item matched.")
	} else {
		c.Paragraphs = append(c.Paragraphs, "3. Each time an item was viewed, the vault computed the SHA-256 of what it sent and recorded whether it matched the deposit; those events are in the item's chain of custody.")
	}
	c.Paragraphs = append(c.Paragraphs, "4. The hashes were computed by the vault at deposit, by the process described in 1, with the Go standard library's crypto/sha256, crypto/sha1 and crypto/md5; this report and certificate were made from the signed records by "+r.Generator+". This certificate attests to the items' hashes and custody records; it says nothing of their content.")
	for _, it := range r.Items {
		c.Rows = append(c.Rows, []string{Shown(it.ID), ShownName(it.Name), Shown(it.Hashes.SHA256), fmt.Sprintf("deposit, event %d", it.Deposit.Seq)})
	}
	of := "case " + Shown(r.Case.ID)
	if r.Package != nil {
		of = "package " + Shown(r.Package.ID) + " of " + of
	}
	items := "no items"
	if n := len(r.Items); n > 0 {
		items = fmt.Sprintf("the %s listed above, from %s to %s", Count(n, "item"), Shown(r.Items[0].ID), Shown(r.Items[n-1].ID))
	}
	c.Continued = fmt.Sprintf("%s, continued. The person signing below certifies paragraphs 1 to 4 above and %s, of %s, from the checkpoint of %d events whose log key fingerprint is %s.",
		c.Title, items, of, r.Checkpoint.Size, r.Checkpoint.LogKeyFingerprint)
	return c
}

// checkedAs says which step of the report's "How to verify this
// independently" the certifying person took: a package's step 2 (the
// offline verifier, without the recipient's key), an on-demand report's
// step 1 (the auditor's replay of the whole log).
func checkedAs(r *Record) string {
	if r.Package != nil {
		return "step 2 of the section “How to verify this independently” describes (without the recipient's key, as it says)"
	}
	return "step 1 of the section “How to verify this independently” describes (an audit of the whole custody log)"
}

// Version is the release or source revision this binary was built from,
// as `make build` sets it (-ldflags "-X
// github.com/custos-vault/custos/custody.Version=...": git describe of
// the checkout, "-dirty" when it had changes); empty otherwise, and the
// module version the Go toolchain recorded is used.
var Version string

// Generator names this program and its version ("custos v1.2.0-14-g1ca5cb6,
// go1.26.8"; "custos (devel), go1.26.8" from a build that recorded
// none), for Input.Generator: a court document says which build made it.
func Generator() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if Version != "" {
			return "custos " + Version
		}
		return "custos"
	}
	v := bi.Main.Version
	if Version != "" {
		v = Version
	}
	if v == "" {
		v = "(devel)"
	}
	s := "custos " + v
	for _, st := range bi.Settings {
		if st.Key == "vcs.revision" && len(st.Value) >= 12 {
			s += ", revision " + st.Value[:12]
		}
	}
	return s + ", " + strings.TrimSpace(bi.GoVersion)
}

// RecipientText is an age recipient as documents show it: an X25519 one
// whole (age1 and 58 characters); a longer one (a hybrid post-quantum
// recipient, age1pq1 and 1,952 characters) by its first and last 16
// characters and the SHA-256 of the whole, which a reader compares with
// the manifest's recipient (`sha256sum` of it, without a line end): a
// page of characters no one reads is no comparison.
func RecipientText(r string) string {
	r = Shown(r)
	if len(r) <= 80 {
		return r
	}
	return fmt.Sprintf("%s…%s (%d characters; SHA-256 %x)", r[:16], r[len(r)-16:], len(r), sha256.Sum256([]byte(r)))
}

// hasRefusal reports whether the record shows a refused request, in the
// case's events or an item's chain.
func hasRefusal(r *Record) bool {
	for _, ev := range r.CaseEvents {
		if ev.Type == typeAccessRefused {
			return true
		}
	}
	for _, it := range r.Items {
		for _, ev := range it.Chain {
			if ev.Type == typeAccessRefused {
				return true
			}
		}
	}
	return false
}

// ClassificationText says what the record holds of an item's
// classification: each person's latest vote (item.classified, in the
// order cast) and the known-material hash-set entries its deposit
// matched; "" where it holds neither (an item nobody classified, or a
// case that does not classify). It states what was recorded, not a
// category settled from it: that depends on the case's policy (how many
// agreeing votes settle one) and on who may vote then, which the vault
// decides (docs/hotline.md, section 6).
func ClassificationText(it Item) string {
	var parts []string
	if len(it.Votes) > 0 {
		var votes []string
		for _, v := range it.Votes {
			votes = append(votes, fmt.Sprintf("%s by %s (event %d)", Shown(v.Category), PersonText(v.By), v.Seq))
		}
		lead := "votes, each person's latest: "
		if slices.ContainsFunc(it.Votes, func(v Vote) bool { return v.Category != it.Votes[0].Category }) {
			// Said first: a disagreement settles nothing, whatever the
			// policy.
			lead = "votes that disagree, so that they settle no category however many agree, each person's latest: "
		}
		parts = append(parts, lead+strings.Join(votes, ", "))
	}
	var matched []string
	for _, m := range it.Matches {
		if m.Category == "" {
			continue
		}
		w := m.words()
		if m.Table != "" {
			// Which import of the set: its tables' SHA-256, as the
			// vault's hashset.imported recorded it.
			w += ", whose tables as imported had SHA-256 " + Shown(m.Table)
		}
		matched = append(matched, w)
	}
	if len(matched) > 0 {
		parts = append(parts, "matched at deposit: "+strings.Join(matched, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	if len(it.Votes) == 0 {
		// A deposit's match alone: what the item is held as until
		// someone votes.
		return strings.Join(parts, "; ") + " (as recorded: no one has voted on the item; a match holds it in the entry's category until people of the case vote otherwise, two of them agreeing for known material)"
	}
	return strings.Join(parts, "; ") + " (as recorded, not a settled category: whether these settle one follows rules the vault applies, namely the case's classification policy (under CASE), whether each voter was still on the case and trusted to vote, which this report does not state, and, for known material, two people of the case agreeing that it is not illegal)"
}

// Opening is one time a person was sent an item's content (an
// item.accessed event of the item's chain of custody), as the report's
// summary of who was sent the evidence lists it.
type Opening struct {
	Seq     uint64
	Time    time.Time
	Item    string
	Name    string // the item's name as deposited, escaped (ShownName)
	Purpose string // as stated, not escaped
	Sent    string // how it was sent, in words (SentText)
}

// Opener is a person and every Opening of theirs, in log order.
type Opener struct {
	Person   Person
	Openings []Opening
}

// Openers are the people the record's chains of custody show were sent
// an item's content, each with every such event, in the order of each
// person's first: a judge asks who saw the evidence and why, and the
// answer is otherwise spread over every item's chain. Packages are not
// among them (each item's chain shows the sealing and retrieval of the
// package shown).
func Openers(r *Record) []Opener {
	var out []Opener
	at := map[Person]int{}
	type opened struct {
		e    Event
		item Item
	}
	var all []opened
	for _, it := range r.Items {
		for _, e := range it.Chain {
			if e.Type == typeItemAccessed {
				all = append(all, opened{e, it})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b opened) int { return cmp.Compare(a.e.Seq, b.e.Seq) })
	for _, o := range all {
		i, ok := at[o.e.Actor]
		if !ok {
			i = len(out)
			at[o.e.Actor] = i
			out = append(out, Opener{Person: o.e.Actor})
		}
		out[i].Openings = append(out[i].Openings, Opening{Seq: o.e.Seq, Time: o.e.Time, Item: o.item.ID, Name: ShownName(o.item.Name), Purpose: o.e.Purpose, Sent: o.e.Sent})
	}
	return out
}

// OpenersLead is the sentence before the summary of who was sent the
// evidence (Openers), or the sentence that stands for it when no one
// was.
func OpenersLead(r *Record, openers []Opener) string {
	if len(openers) == 0 {
		return NotYet(r, "No one was sent the content of these items (to view it or to save a copy)") + "."
	}
	return "Each time a person was sent an item's content, to view it or to save a copy, with the purpose they stated before it was sent, by person (each is an event of the item's chain of custody below; packages are not listed here, and each item's chain shows the package's sealing and retrieval)."
}
