package main

import "github.com/custos-vault/custos/vault/api"

// What the verbs print with --json beyond the vault's own answers (those
// are the vault/api types). Fields are in alphabetical order: the order
// encoding/json gave these objects when they were maps, kept so that the
// output stays byte for byte the same.

// depositOutput is what deposit prints: one entry per file, in order.
type depositOutput struct {
	// Already lists files found deposited before (same name and SHA-256),
	// not stored again.
	Already []already             `json:"already,omitempty"`
	Items   []api.DepositResponse `json:"items"`
	// OtherContent lists the files of a folder deposited whose name and
	// source the case held already with other content: both are kept.
	OtherContent []otherContent `json:"other_content,omitempty"`
	// OtherContentUnchecked lists the items stored for which that could
	// not be checked (the vault did not answer).
	OtherContentUnchecked []string `json:"other_content_unchecked,omitempty"`
	// Skipped lists what a folder held that is not a regular file, and
	// what could not be read (LeftBehind).
	Skipped []skipped `json:"skipped,omitempty"`
	// Refused lists the files whose content did not have the acquisition
	// hash given for them: nothing of them kept, each refusal recorded.
	Refused []skipped `json:"refused,omitempty"`
	// SkippedEvent is the deposit.skipped event that records what was
	// skipped, when anything was.
	SkippedEvent uint64 `json:"skipped_event,omitempty"`
}

// otherContent is an item a folder deposit stored (ID, Name) whose name
// and --source the case held already, as Earlier, with other content.
type otherContent struct {
	Earlier []string `json:"earlier"`
	ID      string   `json:"id"`
	Name    string   `json:"name"`
}

// getOutput is what get prints once the plaintext is written and
// verified.
type getOutput struct {
	File   string `json:"file"`
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// fetchOutput is what package fetch prints once the file is written and
// verified.
type fetchOutput struct {
	File    string `json:"file"`
	Package string `json:"package"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
}

// verifyOutput is what audit verify prints when every check passes.
type verifyOutput struct {
	// ApprovedDecisions counts the decisions a custodian other than who
	// asked approved (request.approved, case.destruction.approved),
	// whose rules the audit checked.
	ApprovedDecisions int `json:"approved_decisions"`
	Checkpoints       int `json:"checkpoints"`
	// ConfigurationChanges counts the members of server.started that
	// differ from the start before (ruleFindings.started), after the
	// auditor's newest saved checkpoint where one is given, each said in
	// Warnings (the first ten).
	ConfigurationChanges int    `json:"configuration_changes"`
	Events               uint64 `json:"events"`
	// ExtendsCheckpoint is the size of the largest saved checkpoint
	// (--checkpoint) the log was proved to extend.
	ExtendsCheckpoint *uint64 `json:"extends_checkpoint,omitempty"`
	// ExtendsCheckpoints are the sizes of every saved checkpoint the log
	// was proven to extend: each --checkpoint (the vault's sticky head
	// among them, with --store), in the order given, then the one
	// --save-checkpoint replaces.
	ExtendsCheckpoints []uint64 `json:"extends_checkpoints,omitempty"`
	Fingerprint        string   `json:"fingerprint"`
	// HashSetsUnused counts the hashset.unused events the log records
	// (a set the vault stopped matching against), each said in Warnings
	// (the first ten).
	HashSetsUnused int `json:"hashsets_unused"`
	// IntegrityFailures counts the integrity.failed events the log
	// records (what the vault found altered, missing or unreadable);
	// Warnings says the first of them. The audit passes all the same: the
	// log holds the record of each.
	IntegrityFailures int    `json:"integrity_failures"`
	Key               string `json:"key"`
	// KeyPinned: the key was the one given with --key, not only the one
	// the vault named.
	KeyPinned bool   `json:"key_pinned"`
	OK        bool   `json:"ok"`
	Origin    string `json:"origin"`
	// Root is the tree root as 64 hex digits; RootBase64 the same bytes
	// as a checkpoint note writes them.
	Root       string `json:"root"`
	RootBase64 string `json:"root_base64"`
	// SnapshotsDiscarded counts the server starts that set state
	// snapshots aside (server.started's state_snapshots_discarded), after
	// the auditor's newest saved checkpoint where one is given, each
	// said in Warnings (the first ten).
	SnapshotsDiscarded int `json:"snapshots_discarded"`
	// StickyHeadCompared is, with --store, whether the vault's sticky
	// head (beside a SQLite file in its data folder, or given with
	// --checkpoint) was among the checkpoints the log was proven to
	// extend; false leaves a log cut short after the newest of the
	// others unproven, which Warnings says.
	StickyHeadCompared *bool `json:"sticky_head_compared,omitempty"`
	// Timestamps are, with --tsa-cert, the verified RFC 3161 tokens over
	// the newest checkpoint.
	Timestamps []timestampOutput `json:"timestamps,omitempty"`
	// Warnings say what a passed audit leaves unproven that the auditor
	// can still prove (the answer is ok all the same).
	Warnings []string `json:"warnings,omitempty"`
	// Witnessed is, with --witness-policy, the newest checkpoint's
	// witnessing.
	Witnessed *witnessedOutput `json:"witnessed,omitempty"`
}

// timestampOutput is one verified time-stamp token.
type timestampOutput struct {
	Size uint64 `json:"size"`
	Time string `json:"time"`
	// Accuracy is the TSA's stated accuracy of Time ("0s": none stated).
	Accuracy string `json:"accuracy"`
	TSA      string `json:"tsa"`
	text     string
}

// witnessedOutput is what a witness policy says of a checkpoint.
type witnessedOutput struct {
	Size     uint64   `json:"size"`
	Quorum   string   `json:"quorum"`
	Cosigned []string `json:"cosigned"`
	Missing  []string `json:"missing"`
	// CosignedAt is, per witness that cosigned, the time its
	// cosignature states (RFC 3339, UTC).
	CosignedAt map[string]string `json:"cosigned_at"`
}

// verifyFailure is what audit verify prints when a check fails.
type verifyFailure struct {
	Error string `json:"error"`
	// Event is the position the failure names, where it names one.
	Event  *uint64 `json:"event,omitempty"`
	Events uint64  `json:"events"`
	OK     bool    `json:"ok"`
}

// keyOutput is what audit key prints.
type keyOutput struct {
	Fingerprint string `json:"fingerprint"`
	Key         string `json:"key"`
	Origin      string `json:"origin"`
}

// migrateOutput is what admin migrate-log prints.
type migrateOutput struct {
	Events uint64 `json:"events"`
	OK     bool   `json:"ok"`
}
