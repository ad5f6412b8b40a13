package vault

import (
	"time"

	"github.com/custos-vault/custos/pdq"
)

// Hotline work (docs/hotline.md): public reports, their assessment,
// notice and takedown, forwarding, classification votes and known
// material. Each step is a custody event like any other; the figures of
// `custos stats` are derived from these events (whether an item is known
// material also from the hash sets in use now).

// Event types of hotline work.
const (
	// TypeReportReceived records a report of a URL: from the public
	// intake (actor role "public", auth "none", nothing of the
	// reporter's connection kept) or entered by an analyst.
	TypeReportReceived = "report.received"
	// TypeReportAssessing records an analyst taking a report on, and the
	// case its captures are deposited to (the event's case).
	TypeReportAssessing = "report.assessing"
	// TypeReportClosed records a report closed, and why.
	TypeReportClosed = "report.closed"
	// TypeReportReopened records a closed report opened again, and why.
	TypeReportReopened = "report.reopened"
	// TypeNoticeSent, TypeNoticeAcknowledged and TypeContentRemoved
	// record notice and takedown of one reported URL.
	TypeNoticeSent         = "report.notice.sent"
	TypeNoticeAcknowledged = "report.notice.acknowledged"
	TypeContentRemoved     = "report.content.removed"
	// TypeReportForwarded records a report's hashes and URLs leaving the
	// vault for a partner hotline or the police, before they are
	// answered.
	TypeReportForwarded = "report.forwarded"
	// TypeReportContactOpened records an analyst opening the sealed
	// contact a reporter gave, before it is shown (report show, the
	// report's page): a reporter's personal data is read by name.
	TypeReportContactOpened = "report.contact.opened"
	// TypeItemClassified records one person's classification vote on an
	// item.
	TypeItemClassified = "item.classified"
	// TypeClassificationPolicySet records how many agreeing votes settle
	// an item's category in a case.
	TypeClassificationPolicySet = "case.classification.policy"
	// TypeHashSetImported and TypeHashSetRemoved record known-material
	// hash sets being loaded and removed.
	TypeHashSetImported = "hashset.imported"
	TypeHashSetRemoved  = "hashset.removed"
	// TypeHashSetUnused records, at a start, a hash set the vault does
	// not match against, and why (its files differ from its import, or
	// no import made it).
	TypeHashSetUnused = "hashset.unused"
)

// TypeContactsKeyCreated records the creation of the vault's
// reporter-contacts key: its age recipient, which every contact is
// sealed to, and the sealer holding it.
const TypeContactsKeyCreated = "reports.contacts.key"

// ContactsKeyCreated is the data of reports.contacts.key.
type ContactsKeyCreated struct {
	Recipient string `json:"recipient"`
	Sealer    string `json:"sealer"`
	// KeyFiles: as CaseOpened's, for this key's files.
	KeyFiles *KeyFiles `json:"key_files,omitempty"`
}

// RolePublic is the actor role of a report received through the public
// intake: nobody signed in, and the vault keeps nothing of the
// connection.
const RolePublic = "public"

// Report statuses, in the order a report moves through them.
const (
	StatusReceived  = "received"
	StatusAssessing = "assessing"
	StatusActioned  = "actioned"
	StatusClosed    = "closed"
)

// ReportChannels are the channels a report can arrive by.
var ReportChannels = []string{"web", "email", "phone", "hotline", "police", "other"}

// ReportCloseReasons are why a report is closed.
var ReportCloseReasons = []string{"actioned", "not-illegal", "duplicate", "content-gone", "out-of-scope", "unreachable"}

// ReportReceived is the data of report.received. A contact is kept only
// when the reporter gave one and did not ask to stay anonymous, and then
// only sealed (ContactSealed): an age file, base64, encrypted to the
// vault's reporter-contacts key and to the recovery recipient, so that
// the custody log, its auditors and its store's administrator never read
// it (docs/hotline.md 2.2).
type ReportReceived struct {
	Report        string   `json:"report"`
	Channel       string   `json:"channel"`
	URLs          []string `json:"urls"`
	Description   string   `json:"description,omitempty"`
	Anonymous     bool     `json:"anonymous,omitempty"`
	ContactSealed string   `json:"contact_sealed,omitempty"`
	// Reference is the report's reference elsewhere (a partner
	// hotline's or ICCAM's), if any.
	Reference string `json:"reference,omitempty"`
	// At is when the report reached the hotline (RFC 3339, UTC), where
	// an analyst records it later (at most MaxBackdate); absent, the
	// event's time. Never set by the public intake.
	At string `json:"at,omitempty"`
}

// ReportAssessing is the data of report.assessing; the event's case is
// the case the report's captures go to.
type ReportAssessing struct {
	Report string `json:"report"`
	Note   string `json:"note,omitempty"`
}

// ReportContactOpened is the data of report.contact.opened.
type ReportContactOpened struct {
	Report string `json:"report"`
}

// ReportClosed is the data of report.closed.
type ReportClosed struct {
	Report string `json:"report"`
	Reason string `json:"reason"`
	Note   string `json:"note,omitempty"`
}

// ReportReopened is the data of report.reopened.
type ReportReopened struct {
	Report string `json:"report"`
	Reason string `json:"reason"`
}

// NoticeSent is the data of report.notice.sent: to whom (a hosting
// provider, a registrar, a partner hotline), how (email, web form,
// ICCAM, phone, letter) and the notice's reference, if any.
type NoticeSent struct {
	Report    string `json:"report"`
	URL       string `json:"url"`
	To        string `json:"to"`
	Via       string `json:"via"`
	Reference string `json:"reference,omitempty"`
	// Country is the hosting country (ISO 3166-1 alpha-2), if traced.
	Country string `json:"country,omitempty"`
	// At is when the notice was sent (RFC 3339, UTC), where that was
	// before it was recorded; absent, the event's time.
	At string `json:"at,omitempty"`
}

// NoticeProgress is the data of report.notice.acknowledged and
// report.content.removed.
type NoticeProgress struct {
	Report string `json:"report"`
	URL    string `json:"url"`
	Note   string `json:"note,omitempty"`
	// At is when it happened (RFC 3339, UTC), where that was before it
	// was recorded; absent, the event's time.
	At string `json:"at,omitempty"`
}

// MaxBackdate bounds how long before its recording a notice, an
// acknowledgement or a removal may be stated to have happened.
const MaxBackdate = 30 * 24 * time.Hour

// statedTime is a stated time (At) or, absent, the event's.
func statedTime(at string, ev time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, at); err == nil && at != "" {
		return t.UTC()
	}
	return ev
}

// ReportForwarded is the data of report.forwarded: the export's format,
// what it holds, its size and SHA-256.
type ReportForwarded struct {
	Report string `json:"report"`
	To     string `json:"to"`
	Kind   string `json:"kind"`
	Format string `json:"format"`
	Items  int    `json:"items"`
	URLs   int    `json:"urls"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// Categories of INHOPE's universal classification.
const (
	// CategoryBaseline: illegal in every country (INTERPOL's baseline
	// criteria).
	CategoryBaseline = "baseline"
	// CategoryNational: illegal under national law only.
	CategoryNational = "national"
	// CategoryNotIllegal: assessed and not illegal.
	CategoryNotIllegal = "not-illegal"
	// CategoryKnownGood is a hash set's category only: files known to be
	// ordinary (NSRL-style reference sets), never a vote.
	CategoryKnownGood = "known-good"
)

// Categories are the categories of a vote.
var Categories = []string{CategoryBaseline, CategoryNational, CategoryNotIllegal}

// AgeGroups and Sexes are INHOPE's universal classification attributes.
var (
	AgeGroups = []string{"infant", "pre-pubescent", "pubescent", "unknown"}
	Sexes     = []string{"female", "male", "both", "unknown"}
)

// Illegal reports whether a category is known-illegal material.
func Illegal(category string) bool {
	return category == CategoryBaseline || category == CategoryNational
}

// ItemClassified is the data of item.classified: one vote. A person's
// later vote on the same item replaces their earlier one.
type ItemClassified struct {
	Category string `json:"category"`
	AgeGroup string `json:"age_group,omitempty"`
	Sex      string `json:"sex,omitempty"`
	Series   string `json:"series,omitempty"`
	Note     string `json:"note,omitempty"`
}

// ClassificationPolicySet is the data of case.classification.policy:
// the agreeing votes that settle a category from its position on; a
// lowering carries out a request a second custodian approved (since
// 2026-12-07: Request, RequestedBy and the requester's Reason, copied
// from it), a raising is the custodian's own, with their Reason.
type ClassificationPolicySet struct {
	Votes       int    `json:"votes"`
	Request     string `json:"request,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// HashSetImported is the data of hashset.imported: the set's name, the
// format read, the category its entries carry when they name none, the
// SHA-256 of the file imported, how many entries were imported and
// rejected, and the digest of the lookup tables built (docs/hashsets.md),
// which the vault checks before it matches against them.
type HashSetImported struct {
	Name         string `json:"name"`
	Format       string `json:"format"`
	Category     string `json:"category,omitempty"`
	SourceSHA256 string `json:"source_sha256"`
	Imported     int    `json:"imported"`
	Rejected     int    `json:"rejected"`
	TableSHA256  string `json:"table_sha256"`
	// Categories counts the entries by what a match with each means
	// (since 2026-12-08): an entry that names its own category (a VICS
	// number, an INHOPE category) keeps it whatever Category says, so a
	// set imported as baseline may mark some files not-illegal; "none"
	// counts the entries of a set without a category that name none
	// (they mark nothing).
	Categories map[string]int `json:"categories,omitempty"`
	// Request and RequestedBy: the hashset.import request the event's
	// actor approved, and the custodian who asked for it (absent in
	// imports before 2026-12-05, which one custodian made alone).
	Request     string `json:"request,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
}

// HashSetRemoved is the data of hashset.removed.
type HashSetRemoved struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	// Request and RequestedBy: the hashset.remove request the removal
	// carries out, and who asked (since 2026-12-07, on a vault whose
	// hash-set decisions need a second custodian); Reason is then the
	// requester's.
	Request     string `json:"request,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
}

// HashSetUnused is the data of hashset.unused.
type HashSetUnused struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// HashSetMatch is one match of a deposit against an imported hash set,
// recorded in its item.deposited event.
type HashSetMatch struct {
	Set       string `json:"set"`
	Entry     uint64 `json:"entry"`
	Algorithm string `json:"algorithm"`
	// Category is the INHOPE category (or known-good) the match
	// carries; SourceCategory the entry's own category text, as the set
	// gave it.
	Category       string `json:"category,omitempty"`
	SourceCategory string `json:"source_category,omitempty"`
	Series         string `json:"series,omitempty"`
	// Distance is, for a PDQ match (algorithm "pdq"), the Hamming
	// distance in bits (absent: 0).
	Distance int `json:"distance,omitempty"`
	// Table is the table digest of the set the match was found in, as
	// its hashset.imported event records it.
	Table string `json:"table,omitempty"`
}

// MediaInfo is what the deposit's one pass learned of an image or a
// video: an image's PDQ hash (64 hex digits, docs/pdq.md) and quality
// (0-100) or why it was not hashed, its size in pixels, and a video's
// duration in milliseconds.
type MediaInfo struct {
	Kind   string `json:"kind"`
	Format string `json:"format,omitempty"`
	PDQ    string `json:"pdq,omitempty"`
	// Dihedral are the PDQ hashes of the image's seven other
	// rotations and flips, in the order of docs/pdq.md, so that a
	// rotated or mirrored copy matches it.
	Dihedral   []string `json:"dihedral,omitempty"`
	Quality    int      `json:"quality,omitempty"`
	NotHashed  string   `json:"not_hashed,omitempty"`
	Width      int      `json:"width,omitempty"`
	Height     int      `json:"height,omitempty"`
	DurationMS int64    `json:"duration_ms,omitempty"`
}

// NearCopiesUnsearched reports whether the image has a PDQ hash too poor
// to compare (quality below pdq.MinQuality, 50): neither it nor its
// near-copies are found by PDQ, only exact copies by their hashes.
func (m *MediaInfo) NearCopiesUnsearched() bool {
	return m != nil && m.PDQ != "" && m.Quality < pdqMinQuality
}

// pdqMinQuality is the quality below which a PDQ hash is not matched
// (Meta's recommendation: discard hashes of quality 49 or less).
const pdqMinQuality = pdq.MinQuality

// pdqDistance is the vault's PDQ matching threshold, in bits: the
// configured one, or Meta's recommendation of 31 of 256.
func (v *Vault) pdqDistance() int {
	if d := v.cfg.PDQMaxDistance; d > 0 {
		return min(d, 64)
	}
	return pdq.DefaultMaxDistance
}
