package vault

import (
	"encoding/json"
	"errors"
)

// Event types. The custody log is the only record of what happened; these
// names and the data each carries are part of the log format
// (docs/custody-log.md) and never change meaning once written. A new
// type is read in several places that must agree (the state's appliers,
// the audit's custody rules, the court documents' words):
// docs/architecture.md, "Adding an event type", lists them.
const (
	TypeLogOpened            = "log.opened"
	TypePersonEnrolled       = "person.enrolled"
	TypeRecipientSet         = "recipient.set"
	TypeCaseOpened           = "case.opened"
	TypeCaseMemberAdded      = "case.member.added"
	TypeCaseMemberRemoved    = "case.member.removed"
	TypeCaseKeyFailed        = "case.key.failed"
	TypeCaseHoldPlaced       = "case.hold.placed"
	TypeCaseHoldLifted       = "case.hold.lifted"
	TypeDestructionRequested = "case.destruction.requested"
	TypeDestructionApproved  = "case.destruction.approved"
	TypeDestructionRejected  = "case.destruction.rejected"
	TypeCaseDestroyed        = "case.destroyed"
	TypeItemDeposited        = "item.deposited"
	TypeDepositSkipped       = "deposit.skipped"
	TypeItemAccessed         = "item.accessed"
	TypeItemAccessCompleted  = "item.access.completed"
	TypeIntegrityFailed      = "integrity.failed"
	TypePackageSealing       = "package.sealing"
	TypePackageSealed        = "package.sealed"
	TypePackageFetched       = "package.fetched"
	TypePackageFetchDone     = "package.fetch.completed"
	TypeAccessRefused        = "access.refused"
	TypeObjectsSwept         = "objects.swept"
	TypeObjectsRetained      = "objects.retained"
	TypeAuditScrubbed        = "audit.scrubbed"
	TypeKeysRecovered        = "keys.recovered"
	TypeKeysRotating         = "keys.rotating"
	TypeKeysRotated          = "keys.rotated"
	TypeKeyStored            = "key.stored"
	TypeServerStarted        = "server.started"
	TypeServerStopped        = "server.stopped"

	// Identity (docs/identity.md).
	TypeCredentialIssued   = "person.credential.issued"
	TypePersonSuspended    = "person.suspended"
	TypePersonReinstated   = "person.reinstated"
	TypePersonRemoved      = "person.removed"
	TypeSessionOpened      = "session.opened"
	TypeSessionEnded       = "session.ended"
	TypeRequestOpened      = "request.opened"
	TypeRequestApproved    = "request.approved"
	TypeRequestRejected    = "request.rejected"
	TypeCasePolicySet      = "case.policy.set"
	TypeCredentialReissued = "person.credential.reissued"
)

// Roles: each person is enrolled in one (docs/identity.md, section 1);
// roleGates says what each may ask.
const (
	RoleInvestigator = "investigator"
	RoleProsecutor   = "prosecutor"
	RoleAuditor      = "auditor"
	RoleCustodian    = "custodian"
	// RoleDefence is defence counsel (or the defence's expert): they
	// receive packages sealed for them, fetch and acknowledge them, and
	// see nothing else of the vault.
	RoleDefence = "defence"
	// RoleAnalyst is a hotline analyst: they take reports, deposit
	// captures and classify the items of the cases they are assigned
	// to, record notices and takedowns and forward; known material is
	// hidden from them unless they override with a recorded purpose
	// (docs/hotline.md).
	RoleAnalyst = "analyst"
	RoleSystem  = "system"
)

// receivesPackages reports whether a role holds a package recipient:
// packages are sealed for prosecutors and for defence counsel.
func receivesPackages(role string) bool { return role == RoleProsecutor || role == RoleDefence }

// LogOpened is the first event of every log: it names the log and the key
// that signs its checkpoints, so that a verifier holding only the log can
// see which key it is meant to trust (and compare it with the one it
// pinned).
type LogOpened struct {
	Origin            string `json:"origin"`
	CheckpointKey     string `json:"checkpoint_key"`
	RecoveryRecipient string `json:"recovery_recipient"`
	Sealer            string `json:"sealer"`
	// RecoveryCopy is the SHA-256 (hex) of the log key's recovery copy
	// (keyring/log.key.recovery.age), by which its replicas in the object
	// store are judged; a log opened before it was recorded records it
	// at a later start (key.stored, key "log").
	RecoveryCopy string `json:"recovery_copy_sha256,omitempty"`
}

// PersonEnrolled records a person, their role, and how they prove who
// they are. A person enrolled by the server itself (development persons,
// the first custodians of `custos admin enroll`) has TokenSHA256, the
// SHA-256 of their local credential (never the credential). A person
// enrolled on a custodian's request approved by another has an
// invitation instead (Invitation, the request's id; the two halves'
// hashes are in the request.opened and request.approved events) unless
// the vault has no local accounts. OIDC and Certificate name the
// identity-provider claim value and the certificate name that sign this
// person in; empty means the person's name.
type PersonEnrolled struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	TokenSHA256 string `json:"token_sha256,omitempty"`
	OIDC        string `json:"oidc,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	Request     string `json:"request,omitempty"`
	// RequestedBy and Reason are who asked for it and why, as the
	// request recorded them (since 2026-12-05; Reason absent when they
	// gave none).
	RequestedBy string `json:"requested_by,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Invitation is set when the person redeems two invitation halves
	// for a credential of their own; Expires bounds when (RFC 3339).
	Invitation string `json:"invitation,omitempty"`
	Expires    string `json:"expires,omitempty"`
}

// CredentialReissued records that a person's local credential and every
// session they had are ended, and that a new invitation (the request's)
// replaces them.
type CredentialReissued struct {
	Name       string `json:"name"`
	Request    string `json:"request"`
	Invitation string `json:"invitation"`
	Expires    string `json:"expires"`
	// RequestedBy and Reason are who asked for it and why, as the
	// request recorded them (since 2026-12-05; Reason absent when they
	// gave none).
	RequestedBy string `json:"requested_by,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// CredentialIssued records a person redeeming their invitation for a
// local credential of their own: its SHA-256, never the credential.
type CredentialIssued struct {
	Name        string `json:"name"`
	Invitation  string `json:"invitation"`
	TokenSHA256 string `json:"token_sha256"`
}

// PersonStatus records a person suspended, reinstated or removed, and
// why. Suspension and removal take effect at once (they take power
// away); a reinstatement is a request another custodian approved.
type PersonStatus struct {
	Name    string `json:"name"`
	Reason  string `json:"reason,omitempty"`
	Request string `json:"request,omitempty"`
	// RequestedBy is who asked for a reinstatement (since 2026-12-05),
	// whose reason, if they gave one, is Reason.
	RequestedBy string `json:"requested_by,omitempty"`
}

// SessionOpened records a sign-in: the session's id, the SHA-256 of its
// bearer token (never the token), and when it expires (RFC 3339, UTC).
// The event's actor says how the person authenticated. Refreshed names
// the session a refresh replaced (which ends with it).
type SessionOpened struct {
	Session     string `json:"session"`
	TokenSHA256 string `json:"token_sha256"`
	Expires     string `json:"expires"`
	Refreshed   string `json:"refreshed,omitempty"`
	// SignedIn is, on a refresh, when the sign-in the refreshed chain
	// began with was made (RFC 3339, UTC); absent, the event's own time.
	SignedIn string `json:"signed_in,omitempty"`
	// Claim is, for a session an OpenID provider's ID token opened, the
	// claim whose value named the person (Config.OIDCClaim: sub, email
	// or preferred_username); absent for other sessions, and in events
	// written before 2026-12-04.
	Claim string `json:"claim,omitempty"`
	// ClientID is, for a session an OpenID provider's ID token opened,
	// the client the token was issued to (its aud: the vault's client id
	// at that provider); absent for other sessions, and in events an
	// earlier release wrote.
	ClientID string `json:"client_id,omitempty"`
	// Key is, for a session an OpenID provider's ID token opened, the
	// thumbprint of the provider's key that signed the token (RFC 7638,
	// SHA-256, base64url); absent for other sessions, and in events
	// written before 2026-12-07.
	Key string `json:"key,omitempty"`
	// IDToken is, for a session an OpenID provider's ID token opened,
	// the token as the provider signed it (a compact JWS), and KeyJWK
	// the provider's public key that verifies it (a JWK, RFC 7517; its
	// thumbprint is Key), since 2026-12-07: an audit checks the
	// provider's signature itself, so that a sign-in the server made up
	// shows (identity.md section 9.2). The vault refuses a token a
	// second time, so that one read in the log opens nothing.
	IDToken string          `json:"id_token,omitempty"`
	KeyJWK  json.RawMessage `json:"jwk,omitempty"`
}

// SessionEnded records a session ended before it expired: a sign-out.
type SessionEnded struct {
	Session string `json:"session"`
	Reason  string `json:"reason"`
}

// RequestOpened records a decision that needs the approval of a
// custodian other than its requester: its kind (see requests.go), what
// it asks, who asked (the actor) and until when it may be approved (RFC
// 3339, UTC). For a kind that issues an
// invitation, InvitationSHA256 is the SHA-256 of the half given to the
// requester.
type RequestOpened struct {
	Request          string          `json:"request"`
	Kind             string          `json:"kind"`
	Case             string          `json:"case,omitempty"`
	Person           string          `json:"person,omitempty"`
	Params           json.RawMessage `json:"params"`
	Expires          string          `json:"expires"`
	InvitationSHA256 string          `json:"invitation_sha256,omitempty"`
	// Reason is why the requester asks, as they typed it (optional);
	// absent in events before requests carried one.
	Reason string `json:"reason,omitempty"`
	// ClientCAs are, for a request asked with a client certificate, the
	// SHA-256 (hex) of each configured client CA its chains ran through
	// (since 2026-12-07): retiring one voids the request, as retiring an
	// OpenID source voids the requests asked in its sessions.
	ClientCAs []string `json:"client_ca_sha256,omitempty"`
}

// RequestDecided records the approval of a custodian other than the
// requester (then the decision's own event follows in the same append)
// or a rejection. For a kind that issues an invitation, InvitationSHA256
// is the SHA-256 of the half given to the approver.
type RequestDecided struct {
	Request     string `json:"request"`
	Kind        string `json:"kind"`
	RequestedBy string `json:"requested_by"`
	// Reason is the decider's: why it was rejected or withdrawn
	// (required), or why it was approved (optional, since 2026-12-05).
	Reason           string `json:"reason,omitempty"`
	InvitationSHA256 string `json:"invitation_sha256,omitempty"`
	// ClientCAs are, for an approval given with a client certificate,
	// the SHA-256 (hex) of each configured client CA its chains ran
	// through (since 2026-12-07), as RequestOpened's: the invitation an
	// approval issues is void once one of them is retired.
	ClientCAs []string `json:"client_ca_sha256,omitempty"`
}

// CasePolicySet records a case's export policy: with ExportApproval
// "required", every package sealed of the case needs the approval of a
// custodian other than whoever asked for it.
type CasePolicySet struct {
	ExportApproval string `json:"export_approval"`
	Request        string `json:"request,omitempty"`
	// Reason is why: the custodian's who requires approval, or, when
	// the requirement is dropped by an approved request, its requester's
	// (RequestedBy), as the request recorded it (optional; since
	// 2026-12-05).
	Reason      string `json:"reason,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
}

// RecipientSet records the age recipient a person receives packages for.
// A replacement of a registered recipient is approved by a custodian:
// Person and Request name whose recipient it is and the request.
type RecipientSet struct {
	Recipient string `json:"recipient"`
	Person    string `json:"person,omitempty"`
	Request   string `json:"request,omitempty"`
}

// CaseOpened records a case, its age recipient and which sealer holds its
// identity.
type CaseOpened struct {
	Title string `json:"title"`
	// Retention, a Go duration, overrides the vault's default retention
	// for this case's objects.
	Retention string   `json:"retention,omitempty"`
	Recipient string   `json:"recipient"`
	Sealer    string   `json:"sealer"`
	Members   []string `json:"members"`
	// KeyFiles are the digests of the case key's two files as written
	// before this event; absent in logs from before they were recorded.
	KeyFiles *KeyFiles `json:"key_files,omitempty"`
}

// startedWitnessKeys is the server.started field that lists the
// verifier keys of the witnesses of the start's policy (C2SP vkeys,
// separated by single spaces, sorted).
const startedWitnessKeys = "witness_keys"

// startedRetention, startedPendingRetention and startedRun are the
// members of server.started that record the default and the pending
// retention of the start, and name an offline command that is not a
// start; startedClassificationLowering ("request") says that the server
// lowers a case's classification policy only on an approved request, and
// startedHashSetRemoval ("request") that it removes a hash set only on
// one where hashset_approval is required (custody-log.md section 8).
const (
	startedRetention              = "retention"
	startedPendingRetention       = "pending_retention"
	startedRun                    = "run"
	startedClassificationLowering = "classification_lowering"
	startedHashSetRemoval         = "hashset_removal"
)

// KeyFiles are the SHA-256 digests (64 lowercase hex digits each) of a
// key's two files in the keyring folder, byte for byte as the vault
// wrote them: the sealed key ("CASEHASH.sealed") and its copy encrypted
// to the recovery recipient ("CASEHASH.recovery.age"). Each replica in
// the object store holds the same bytes. An empty digest is not
// recorded (docs/keys.md, "Key files on the record").
type KeyFiles struct {
	Sealed   string `json:"sealed_sha256,omitempty"`
	Recovery string `json:"recovery_sha256,omitempty"`
}

// KeyStored records the digests of a key's files when they change
// without the key changing (a re-sealing under another key-encryption
// key, before it is written), or when a start finds files the log has
// no digest for. Key is "case" (the event's case names it) or
// "reporter-contacts". A digest left empty keeps the one recorded
// before.
type KeyStored struct {
	Key      string   `json:"key"`
	KeyFiles KeyFiles `json:"key_files"`
	Sealer   string   `json:"sealer"`
	Reason   string   `json:"reason"`
}

// Values of KeyStored.Key.
const (
	keyStoredCase     = "case"
	keyStoredContacts = "reporter-contacts"
	// keyStoredLog: the log's signing key, of which only the recovery
	// copy's digest is recorded (its replicas in the object store are
	// judged by it).
	keyStoredLog = "log"
)

// HoldChanged records a legal hold placed on or lifted from a case, and
// why (a court order, a preservation request).
type HoldChanged struct {
	Reason string `json:"reason"`
}

// DestructionRequested records a custodian's request to destroy a case
// under a court order. It takes effect only when a second custodian
// approves it.
type DestructionRequested struct {
	Request string `json:"request"`
	Order   string `json:"order"`
	Reason  string `json:"reason"`
	// Expires is when the request stops being approvable (RFC 3339,
	// UTC): the request TTL the vault ran with when it was asked. Events
	// written before it was recorded have none: theirs is the event's
	// time plus the default TTL (DefaultRequestTTL), never the TTL a
	// server runs with later.
	Expires string `json:"expires,omitempty"`
	// ClientCAs are as RequestOpened's: for a request asked with a
	// client certificate, the CAs its chains ran through.
	ClientCAs []string `json:"client_ca_sha256,omitempty"`
}

// DestructionRejected records a destruction request ended unapproved: by
// a custodian other than its requester (rejected), or by its requester
// (withdrawn).
type DestructionRejected struct {
	Request     string `json:"request"`
	RequestedBy string `json:"requested_by"`
	Reason      string `json:"reason"`
}

// DestructionApproved records the second custodian's approval, before the
// keys are destroyed.
type DestructionApproved struct {
	Request     string `json:"request"`
	Order       string `json:"order"`
	RequestedBy string `json:"requested_by"`
}

// CaseDestroyed records the outcome: the case's keys are gone
// (crypto-shredding), and which objects the store let the vault delete.
type CaseDestroyed struct {
	Request  string   `json:"request"`
	Order    string   `json:"order"`
	Deleted  []string `json:"deleted,omitempty"`
	Retained []string `json:"retained,omitempty"`
}

// MemberAdded records a person assigned to a case.
type MemberAdded struct {
	Person  string `json:"person"`
	Request string `json:"request,omitempty"`
	// RequestedBy and Reason are who asked for it and why, as the
	// request recorded them (since 2026-12-05; Reason absent when they
	// gave none).
	RequestedBy string `json:"requested_by,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// MemberRemoved records the end of a person's assignment to a case, and
// why.
type MemberRemoved struct {
	Person string `json:"person"`
	Reason string `json:"reason"`
}

// KeyFailed records that a case's key could not be used: missing from the
// keyring, not unsealed by the sealer, or not the key recorded when the
// case was opened. It is a problem of the keys, never of the evidence.
type KeyFailed struct {
	Reason string `json:"reason"`
}

// ItemDeposited records a deposit once its ciphertext is durable.
type ItemDeposited struct {
	Name             string `json:"name"`
	Size             int64  `json:"size"`
	SHA256           string `json:"sha256"`
	MD5              string `json:"md5,omitempty"`
	SHA1             string `json:"sha1,omitempty"`
	Object           string `json:"object"`
	CiphertextSize   int64  `json:"ciphertext_size"`
	CiphertextSHA256 string `json:"ciphertext_sha256"`
	// CiphertextHeaderSHA256 is the SHA-256 (hex) of the ciphertext's
	// age header and payload nonce (agestream.Result.CipherHeaderSHA256),
	// which a view checks before it decrypts a byte; absent in deposits
	// before 2026-12-05.
	CiphertextHeaderSHA256 string `json:"ciphertext_header_sha256,omitempty"`
	Source                 string `json:"source,omitempty"`
	Note                   string `json:"note,omitempty"`
	// Acquisition holds the hashes the depositor gave from the
	// acquisition (--expect-sha256 and the like), which the content
	// matched; absent when none was given.
	Acquisition *AcquisitionHashes `json:"acquisition,omitempty"`
	// Report is the hotline report the item was captured for.
	Report string `json:"report,omitempty"`
	// Matches are the known-material hash-set entries the content
	// matched when it was deposited (docs/hotline.md).
	Matches []HashSetMatch `json:"matches,omitempty"`
	// Media is what the deposit's pass learned of an image or video.
	Media *MediaInfo `json:"media,omitempty"`
}

// AcquisitionHashes are acquisition hashes (lowercase hex), each absent
// where not given.
type AcquisitionHashes struct {
	SHA256 string `json:"sha256,omitempty"`
	SHA1   string `json:"sha1,omitempty"`
	MD5    string `json:"md5,omitempty"`
	// List is the hash list the hashes were read from (custos deposit
	// --expect-from), as the depositor stated it; absent when they were
	// given one by one, and in deposits before 2026-12-07.
	List *AcquisitionList `json:"list,omitempty"`
}

// AcquisitionList names the hash list (a sha256sum, sha1sum or md5sum
// file: the acquisition tool's record) an item's acquisition hashes were
// read from, so that whoever holds the list can tell it is the one: its
// base name and the SHA-256 of its bytes as the depositor read them. The
// vault never sees the list; both are the depositor's word.
type AcquisitionList struct {
	// Name is the list's file name, without its folder, escaped as item
	// names are (EscapeName); at most 255 bytes unescaped; "" for a list
	// that was not a file (read through a pipe).
	Name string `json:"name"`
	// SHA256 is the SHA-256 (lowercase hex) of the list's bytes.
	SHA256 string `json:"sha256"`
	// Entry is the file's name as the list writes it on the line the
	// hashes were read from (sha256sum's own escapes undone: ./DCIM/a.jpg,
	// phone/DCIM/a.jpg, an absolute path), escaped as item names are; at
	// most 16,384 bytes; absent in lists recorded before 2026-12-07.
	Entry string `json:"entry,omitempty"`
}

// ItemAccessed is written, and durable, before any plaintext leaves.
type ItemAccessed struct {
	Purpose string `json:"purpose"`
	Access  string `json:"access"`
	// Override, when set, says why the item counted as known material
	// that the person chose to see anyway (docs/hotline.md).
	Override string `json:"override,omitempty"`
}

// ItemAccessCompleted records that the plaintext was streamed in full and its
// SHA-256 matched the deposit.
type ItemAccessCompleted struct {
	AccessEvent string `json:"access_event"`
	// Aborted, when set, says why the reader went away before the end;
	// the event then has no sha256.
	Aborted string `json:"aborted,omitempty"`
	Bytes   int64  `json:"bytes"`
	SHA256  string `json:"sha256,omitempty"`
}

// IntegrityFailed records stored evidence that did not match its deposit.
type IntegrityFailed struct {
	Object string `json:"object,omitempty"`
	Reason string `json:"reason"`
}

// PackageSealing is written before a package is built: who asked, for
// whom, why, and which items.
type PackageSealing struct {
	Package   string   `json:"package"`
	For       string   `json:"for"`
	Recipient string   `json:"recipient"`
	Purpose   string   `json:"purpose"`
	Items     []string `json:"items"`
	// Request and RequestedBy name the request a custodian other than
	// its requester approved, where the case's policy requires one.
	Request     string `json:"request,omitempty"`
	RequestedBy string `json:"requested_by,omitempty"`
	// ForRole is the role of the person it is for (prosecutor or
	// defence); absent in events before defence counsel.
	ForRole string `json:"for_role,omitempty"`
	// DisclosesOthers says the sealer chose to state, in the package's
	// report, the other packages the same items were sealed in.
	DisclosesOthers bool `json:"discloses_others,omitempty"`
}

// PackageSealed records the finished package file.
type PackageSealed struct {
	Package        string `json:"package"`
	Object         string `json:"object"`
	Size           int64  `json:"size"`
	SHA256         string `json:"sha256"`
	ManifestSHA256 string `json:"manifest_sha256"`
}

// PackageFetched is written before the package file is sent.
type PackageFetched struct {
	Package string `json:"package"`
}

// PackageFetchDone records how a package's retrieval (its
// package.fetched event, FetchEvent: the position as a decimal string)
// ended: the file sent in full, checked against its package.sealed
// event (Bytes and SHA256), or Aborted with why in words and how many
// bytes were sent, and no SHA256. As item.access.completed is to a view.
type PackageFetchDone struct {
	Package    string `json:"package"`
	FetchEvent string `json:"fetch_event"`
	Aborted    string `json:"aborted,omitempty"`
	Bytes      int64  `json:"bytes"`
	SHA256     string `json:"sha256,omitempty"`
}

// AccessRefused records a refused request. Refusals that no valid
// credential answers for (and unknown routes) are aggregated per source
// address, action and reason over a window: the first is recorded at
// once, the later ones of the window in one summary event whose Count says
// how many it stands for, between First and Last (RFC 3339, UTC). Count,
// First and Last are absent from an event that stands for one refusal.
type AccessRefused struct {
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	Reason string `json:"reason"`
	// Grounds says what kind of refusal it is (RefusalGrounds): that the
	// person may not do it, that what they named does not exist, that
	// the record does not allow it now, that the request is not valid,
	// that it carried no valid credentials, or that it was one too many.
	// Absent in events written before 2026-12-04.
	Grounds string `json:"grounds,omitempty"`
	// Source is the client's IP address, where the API records it.
	Source string `json:"source,omitempty"`
	Count  int64  `json:"count,omitempty"`
	First  string `json:"first,omitempty"`
	Last   string `json:"last,omitempty"`
}

// The grounds of a refusal (AccessRefused.Grounds).
const (
	// GroundsPermission: the person may not do it (their role, their
	// assignment to the case, a policy, a second person's approval).
	GroundsPermission = "permission"
	// GroundsUnknown: what they named does not exist.
	GroundsUnknown = "unknown"
	// GroundsState: the custody record does not allow it now (a case that
	// already exists, a request already decided, a hash that does not
	// match the deposit's).
	GroundsState = "state"
	// GroundsInput: the request itself is not valid.
	GroundsInput = "input"
	// GroundsCredentials: the request carried no valid credentials.
	GroundsCredentials = "credentials"
	// GroundsLimit: too many requests, past the vault's limits.
	GroundsLimit = "limit"
)

// RefusalGrounds returns the grounds of a refusal answered with err, by
// the kind it wraps: ErrForbidden is GroundsPermission, ErrNotFound
// GroundsUnknown, ErrConflict GroundsState, ErrBadInput GroundsInput,
// ErrUnauthenticated GroundsCredentials; "" for any other error.
func RefusalGrounds(err error) string {
	switch {
	case errors.Is(err, ErrForbidden):
		return GroundsPermission
	case errors.Is(err, ErrNotFound):
		return GroundsUnknown
	case errors.Is(err, ErrConflict):
		return GroundsState
	case errors.Is(err, ErrBadInput):
		return GroundsInput
	case errors.Is(err, ErrUnauthenticated):
		return GroundsCredentials
	}
	return ""
}

// ObjectsSwept records objects found at start that no event accounts for
// (leftovers of deposits that crashed before their event was written),
// before they are deleted; with TypeObjectsRetained, those the store
// refused to delete.
type ObjectsSwept struct {
	Orphans []string `json:"orphans"`
}

// ObjectsRetained records the swept objects (or the ciphertext of a
// refused deposit) that the store refused to delete, so that scrub
// accounts for them and a later start sweeps them.
type ObjectsRetained struct {
	Orphans []string `json:"orphans"`
}

// AuditScrubbed records a scrub's outcome.
type AuditScrubbed struct {
	Objects     int      `json:"objects"`
	Mismatched  []string `json:"mismatched,omitempty"`
	Missing     []string `json:"missing,omitempty"`
	Unaccounted []string `json:"unaccounted,omitempty"`
	// Packages counts the package files among Objects; RetainedDestroyed
	// lists objects of destroyed cases still in the store.
	Packages          int      `json:"packages,omitempty"`
	RetainedDestroyed []string `json:"retained_destroyed,omitempty"`
	// HashSetsAltered names the known-material hash sets whose files
	// no longer hash to what their import recorded (taken out of use).
	HashSetsAltered []string `json:"hash_sets_altered,omitempty"`
	// Foreign lists what the object store's place holds besides
	// objects, each as "ENTRY: why" (ScrubResult.Foreign).
	Foreign []string `json:"foreign,omitempty"`
	// KeysAltered lists the live keys' files in the keyring folder that
	// are not the ones the log recorded (ScrubResult.KeysAltered).
	KeysAltered []string `json:"keys_altered,omitempty"`
	// LocksWeakened lists the evidence objects whose protection in the
	// store is weaker than the vault set (ScrubResult.LocksWeakened).
	LocksWeakened []string `json:"locks_weakened,omitempty"`
	// Incomplete says why the scrub could not read the whole store.
	Incomplete string `json:"incomplete,omitempty"`
	// TSACerts are the SHA-256 (hex) of the certificates the stored
	// time-stamp tokens were checked against (Config.TSACerts); none if
	// the server was given none, and the tokens were only read.
	TSACerts []string `json:"tsa_certs,omitempty"`
	// Omitted counts the entries the lists above leave out (each list
	// keeps its first 200 ids or 30 names, and cuts a name at 200
	// bytes, so that the event fits whatever the store holds), and
	// ListsSHA256, set when any was left out or cut, is the SHA-256 of
	// the scrub's whole lists as it answered them (docs/custody-log.md).
	Omitted     int    `json:"omitted,omitempty"`
	ListsSHA256 string `json:"lists_sha256,omitempty"`
}

// KeysResealed records a recovery or a key-encryption-key rotation: the
// cases whose keys were sealed again, and (recovery only) those whose key
// could not be recovered, each with why.
type KeysResealed struct {
	Sealer string   `json:"sealer"`
	Cases  []string `json:"cases"`
	// ContactsKey (recovery only): the reporter-contacts key was sealed
	// again too, and is no longer lost if an earlier recovery lost it.
	ContactsKey bool      `json:"contacts_key,omitempty"`
	Lost        []LostKey `json:"lost,omitempty"`
	Reason      string    `json:"reason"`
}

// LostKey is a case whose key a recovery could not restore.
type LostKey struct {
	Case   string `json:"case"`
	Reason string `json:"reason"`
}

// ServerStopped is the data of server.stopped: a server that stopped as
// asked (a stop signal) records it last, once the requests it was
// answering ended, so that the log tells a planned stop from a crash, a
// kill or a lost machine (after which the next server.started follows
// no server.stopped). Started is the position of the stopping server's
// own server.started; Reason says what stopped it.
type ServerStopped struct {
	Reason  string `json:"reason"`
	Started uint64 `json:"started"`
}
