// Package custody reads a chain of custody out of signed custody events
// and holds it as a Record, the one model every court document is made
// from: the custody report (text and PDF, custody/pdfreport), the CASE/UCO
// export (custody/caseuco). A Record holds nothing that is not derived from
// the events' signed bytes and the checkpoint that covers them
// (docs/custody-report.md).
//
// Text in a Record is as the events recorded it: names, purposes and notes
// may hold any Unicode, including right-to-left overrides and characters
// that show as nothing. Renderers show them with Shown, which makes every
// such character visible as \u{XXXX}, so that no name can reorder, hide or
// forge a line of a document.
package custody

import (
	"fmt"
	"time"
)

// Record is a case's chain of custody, or the part of it that a package or
// a report covers.
type Record struct {
	// Case is the case the record is about.
	Case Case
	// Package is the package the record describes, when it is a
	// package's report; nil for a report made on demand.
	Package *Package
	// Report is the on-demand report's own event (custody.report), when
	// the record is one; nil in a package.
	Report *Event
	// Items are the items covered, in the order asked for.
	Items []Item
	// CaseEvents are the case's own events (opening, members, holds,
	// retention policy, destruction requests, hash-list exports, reports),
	// in log order. Package events are in Disclosures and in each item's
	// Chain.
	CaseEvents []Event
	// Disclosures are the other packages the same items were sealed in,
	// when the sealer chose to say so (Package.DisclosesOthers) or in a
	// report made on demand; in log order.
	Disclosures []Disclosure
	// Holds is whether a legal hold is on the case at the checkpoint,
	// and Destroyed whether the case was destroyed. ExportApproval is
	// whether every package of the case needs a custodian's approval
	// then, as its last case.policy.set says (none: not required).
	Held, Destroyed, ExportApproval bool
	// ClassificationPolicy is the case's last case.classification.policy
	// the record carries (nil: none, the default of one vote), and
	// ClassificationVotes the agreeing votes it sets.
	ClassificationPolicy *Event
	ClassificationVotes  int
	// Hold is the case.hold.placed event of the hold on the case at the
	// checkpoint (who placed it, when), nil while none is.
	Hold *Event
	// Chosen says the record reports the items asked for (Input.Items
	// of a report on demand), which may not be all of the case's.
	Chosen bool
	// Retention is the case's retention period as its last policy event
	// set it, or "" for the vault's default; VaultRetention is that
	// default when the record was made (0: not known).
	Retention      string
	VaultRetention time.Duration
	// Checkpoint is the signed checkpoint every event of the record is
	// proven included in.
	Checkpoint Checkpoint
	// Generator names the software that made the record and its version
	// ("custos devel (vcs 4352c33)"), for the certificate of the hashes.
	Generator string

	// bySHA256 indexes Items by content SHA-256 (itemsWithSHA256), made
	// at its first use.
	bySHA256 map[string][]string
}

// itemsWithSHA256 returns the ids of r's items whose content has SHA-256
// sum, in r's order.
func (r *Record) itemsWithSHA256(sum string) []string {
	if r.bySHA256 == nil {
		r.bySHA256 = make(map[string][]string, len(r.Items))
		for _, it := range r.Items {
			r.bySHA256[it.Hashes.SHA256] = append(r.bySHA256[it.Hashes.SHA256], it.ID)
		}
	}
	return r.bySHA256[sum]
}

// The words of a case's export approval policy in the documents.
const (
	ExportApprovalRequired = "required: every package needs a custodian's approval, never its requester's own"
	ExportApprovalNone     = "not required"
)

// Case is the case's identity as its case.opened event recorded it.
type Case struct {
	ID     string
	Title  string
	Opened Event
}

// Person is someone who acted, as the event's actor names them.
type Person struct {
	Name string
	Role string
}

// Package describes the package a record is the report of, from its
// package.sealing event.
type Package struct {
	ID        string
	SealedBy  Person
	SealedFor Person
	// Recipient is the age recipient the items are encrypted to.
	Recipient string
	Purpose   string
	// SealedAt is the sealing event's time; Sealing is the event.
	SealedAt time.Time
	Sealing  Event
	// Request and RequestedBy name the request a custodian other than
	// its requester approved, where the case's policy needed one.
	Request, RequestedBy string
	// DisclosesOthers says the sealer chose to list the other packages
	// the same items were sealed in (Record.Disclosures).
	DisclosesOthers bool
}

// Hashes are hex digests (lowercase), each "" where not known.
type Hashes struct {
	SHA256, SHA1, MD5 string
}

// HashList names a hash list (a sha256sum, sha1sum or md5sum file) by
// its file name, escaped as item names are, and the SHA-256 (lowercase
// hex) of its bytes; Entry is the name the list gives the item's file,
// escaped as item names are ("" where not recorded).
type HashList struct {
	Name, SHA256, Entry string
}

// Item is one evidence item and its complete chain of custody.
type Item struct {
	ID string
	// Name is the item's name as deposited, with its relative path when a
	// folder was deposited ("photos/2024/a.jpg"), in the escaped form the
	// vault records (docs/package-format.md, section 9).
	Name string
	// Path is the item's file in the package ("items/001-a.jpg.age"), or
	// "" outside a package.
	Path string
	// Size is the plaintext size in bytes.
	Size int64
	// Hashes are the plaintext digests the vault computed at deposit.
	Hashes Hashes
	// Acquisition are the hashes the depositor gave from the acquisition
	// (the seizure tool's report), which the content matched; "" fields
	// where none was given.
	Acquisition Hashes
	// AcquisitionList is the hash list the acquisition hashes were read
	// from, as the depositor stated it (custos deposit --expect-from);
	// zero where they were given one by one.
	AcquisitionList HashList
	// Source and Note are as the depositor gave them.
	Source, Note string
	// Deposit is the item.deposited event.
	Deposit Event
	// Report is the hotline report the item was deposited for ("" if
	// none); Matches the known-material hash-set entries its deposit
	// matched; Votes each person's latest classification vote in its
	// chain, in the order cast (ClassificationText).
	Report  string
	Matches []Match
	Votes   []Vote
	// Chain is every event of the item, in log order, starting with its
	// deposit (the same event as Deposit): accesses and their completion, integrity failures, refusals, and
	// the package events (sealing, sealed, fetched, received) of every
	// package the record shows that carries the item.
	Chain []Event
}

// Match is a hash-set entry an item's deposit matched (item.deposited's
// data.matches): the set's name,
// the entry's number, its category ("" for none), how it matched
// (algorithm "sha256", "md5", "sha1" or "pdq", with the PDQ distance in
// bits of 256), and which import of the set it was.
type Match struct {
	Set       string `json:"set"`
	Entry     uint64 `json:"entry"`
	Category  string `json:"category"`
	Algorithm string `json:"algorithm"`
	Distance  int    `json:"distance"`
	// Table is the SHA-256 of the set's tables as imported
	// (hashset.imported's table_sha256), which tells one import of a
	// set of that name from another; "" in deposits that recorded none.
	Table string `json:"table"`
}

// words says the match as the documents do: "entry 3 of hash set caid
// (sha256, baseline)", "(pdq, distance 16 of 256 bits, baseline)".
func (m Match) words() string {
	how := Shown(m.Algorithm)
	if m.Algorithm == "pdq" {
		how = fmt.Sprintf("pdq, distance %d of 256 bits", m.Distance)
	}
	if m.Category != "" {
		how += ", " + Shown(m.Category)
	}
	return fmt.Sprintf("entry %d of hash set %s (%s)", m.Entry, Shown(m.Set), how)
}

// Vote is a person's latest classification vote on an item
// (item.classified): its category and the event that cast it.
type Vote struct {
	By       Person
	Category string
	Seq      uint64
}

// Event is one custody event as a person reads it.
type Event struct {
	// Seq is the event's number in the custody log.
	Seq uint64
	// Time is the event's time, in UTC.
	Time time.Time
	// Type is the event's type ("item.accessed").
	Type string
	// Action says in words what happened ("Deposited (received into custody)").
	// Action and Details are written as documents show them: every text
	// from the event in them is escaped (Shown) and quoted already, so
	// renderers write them as they are, never through Shown again.
	Action string
	// Actor is who acted; Auth how they authenticated, in words ("OpenID
	// Connect: https://id.example/ as 2f1c...", "local session s_...").
	Actor Person
	Auth  string
	// Purpose is the purpose the actor stated, or "".
	Purpose string
	// Sent is, for an item.accessed, how the content was sent, in words
	// (SentText: "a copy", "to the web viewer"), or "".
	Sent string
	// Details are further facts in words ("for prosecutor, package
	// pk_...", "sha256 3a7b... matched the deposit"), or "".
	Details string
	// Item is the item the event is about, or "".
	Item string
	// LeafHash is the event's RFC 6962 leaf hash (hex), which the
	// inclusion proof starts from.
	LeafHash string
}

// Disclosure is another package that carried some of the record's items.
type Disclosure struct {
	Package   string
	SealedFor Person
	SealedAt  time.Time
	// Items are the record's items it carried; Carried is how many
	// items it carried in all (the record's and others).
	Items   []string
	Carried int
	// Fetched and Received are when the person it was for fetched it
	// and acknowledged it with a signed receipt; zero if not (yet).
	Fetched, Received time.Time
}

// Checkpoint is the signed checkpoint that covers every event of a record.
type Checkpoint struct {
	// Origin, Size and Root (base64, as in the checkpoint) are the
	// checkpoint's body (C2SP tlog-checkpoint).
	Origin string
	Size   uint64
	Root   string
	// LogKey is the log's verifier key (note format), and
	// LogKeyFingerprint its SHA-256 (hex).
	LogKey, LogKeyFingerprint string
	// Text is the signed checkpoint note exactly as stored.
	Text string
	// Cosignatures are the witnesses' cosignatures that verified.
	Cosignatures []Cosignature
	// Timestamps are the RFC 3161 time-stamp tokens over the checkpoint.
	Timestamps []Timestamp
}

// Cosignature is one witness's cosignature (C2SP tlog-cosignature).
type Cosignature struct {
	Witness string
	Time    time.Time
}

// Timestamp is one RFC 3161 time-stamp token over the checkpoint.
type Timestamp struct {
	// Authority is the time-stamping authority, as its certificate's
	// subject names it, or "" where the token carries no certificate.
	Authority string
	Time      time.Time
	// Serial is the token's serial number (decimal).
	Serial string
}
