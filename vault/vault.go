// Package vault is Custos's domain: the commands people issue (open a
// case, deposit, view, seal and fetch a package, audit), who may issue
// them, and the state they are decided on, rebuilt from the custody log.
//
// Every command writes its custody event before it acts: an access event
// is durable before a byte of plaintext leaves, a package's sealing event
// before the package is built, a refusal as soon as it is decided. A
// deposit is acknowledged only after both its ciphertext and its event are
// durable.
package vault

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/events/witness/witnessclient"
	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/internal/cliflags"
	"github.com/custos-vault/custos/internal/smallfile"
	"github.com/custos-vault/custos/objects"
	"golang.org/x/mod/sumdb/note"
)

// Config wires a vault to its backends.
type Config struct {
	Log     events.Store
	Objects objects.Store
	Sealer  hsm.Sealer
	// KeyringDir holds the sealed keys (see Keyring).
	KeyringDir string
	// SpoolDir holds packages while they are built: age ciphertext to the
	// recipient of the prosecutor or defence counsel it is for, and
	// metadata, never plaintext.
	SpoolDir string
	// TileDir holds the custody log's Merkle tree as tiles (package
	// events/tiles), rebuilt from the log at a start that has no state
	// snapshot; "" keeps the tree in memory.
	TileDir string
	// SnapshotDir holds state snapshots (docs/state-snapshots.md): a
	// start loads the newest valid one and replays only the events after
	// it. "" (or no TileDir) replays the whole log at every start.
	SnapshotDir string
	// SnapshotEvery is how many events pass between snapshots; one is
	// also written at Close. Default DefaultSnapshotEvery.
	SnapshotEvery uint64
	// RecoveryRecipient is the offline recovery recipient (age1...).
	RecoveryRecipient string
	// Retention is how long evidence objects stay write-once. Default
	// DefaultRetention.
	Retention time.Duration
	// PendingRetention is the retention an object is written with before
	// its deposit event is durable; the vault then extends it to
	// Retention. Ciphertext a crash left without an event can be swept
	// once it ends. Default DefaultPendingRetention.
	PendingRetention time.Duration
	// MinRetention is the floor below which no case's retention may be
	// set, so that nobody can switch write-once protection off for a
	// case. Default 24 hours; Retention must not be below it.
	MinRetention time.Duration
	// RefusalWindow and RefusalBurst bound what a signed-in person's
	// refusals cost the log: per person, action and reason, RefusalBurst
	// refusals a window are recorded one by one, the rest in one summary
	// (refusals.go). Defaults one minute and 20.
	RefusalWindow time.Duration
	RefusalBurst  int
	// Identity (docs/identity.md). NoLocalAccounts turns local
	// credentials off (a vault whose people sign in through an OpenID
	// provider or with client certificates): no session is opened with a
	// credential and no invitation is issued.
	NoLocalAccounts bool
	// SessionTTL is how long a session lasts (default 12 hours);
	// InvitationTTL how long an invitation may be redeemed (default 72
	// hours); RequestTTL how long a two-person request may be approved
	// (default 7 days).
	SessionTTL    time.Duration
	InvitationTTL time.Duration
	RequestTTL    time.Duration // DefaultRequestTTL if 0
	// Run names the command that opens the vault where it is not a
	// server start ("custos admin accept-rollback"): server.started
	// records it as `run`, and none of the configuration a server
	// records (its sign-in and lifetimes are not in force).
	Run string
	// SignIn is what, besides the vault's own credentials, signs people
	// in, as server.started records it at every start (whoever
	// administers it can sign in as anyone who signs in through it: a
	// change of it must be on the record). The server fills it; the vault
	// only records it.
	SignIn SignInAuthorities
	// OIDCServedKeys reads the thumbprints of the keys the OpenID
	// provider serves now (oidcauth.Verifier.Keys), so that custodians
	// see a key published ahead of a rotation and accept it before it
	// signs; nil, or an error, lists those SignIn.OIDCKeys names (the
	// start's).
	OIDCServedKeys func(context.Context) ([]string, error)
	// OIDCClaim names the identity-provider claim that names a person
	// (for messages; the verification is the caller's). RequireMFA is, per
	// role, what an OIDC sign-in must show.
	OIDCClaim  string
	RequireMFA map[string]MFARequirement
	// NoLegacyHashes skips MD5 and SHA-1 at deposit.
	NoLegacyHashes bool
	// ExposureDailyLimit, if positive, is how many items a person may be
	// shown a day before every further reveal warns them
	// (docs/hotline.md).
	ExposureDailyLimit int
	// HashSetApproval makes each hash-set import a request another
	// custodian approves (KindHashSetImport), instead of one custodian's
	// act (docs/hotline.md section 4); server.started records which.
	HashSetApproval bool
	// PDQMaxDistance is the Hamming distance, in bits, within which two
	// PDQ hashes match (default 31, Meta's recommendation; at most 64).
	PDQMaxDistance int
	// HashSetDir holds the imported known-material hash sets; "" turns
	// hash sets off.
	HashSetDir string
	// Witnesses, if set, is the witness policy: every published
	// checkpoint is submitted to its witnesses (docs/witnesses.md).
	// AnchorHTTP is the HTTP client for witnesses (default: a 10-second
	// timeout). Without witnesses the vault dials nothing.
	Witnesses  *witness.Policy
	AnchorHTTP *http.Client
	// TSAs are the URLs of RFC 3161 time-stamping authorities; published
	// checkpoints are time-stamped at most once per TSAInterval (0: each
	// one), and those of packages and audits on demand; each token is
	// kept with the note it dates beside it (docs/timestamps.md).
	TSAs        []string
	TSAInterval time.Duration
	// TSACerts, if set, are the certificates the TSAs' tokens must
	// verify against (tsa.Verify; the TSAs' own, an intermediate or a
	// root): a token that does not is refused as the TSA's failure, never
	// stored, and a scrub lists a stored token that does not as
	// unaccounted (a token an insider signed with an authority of their
	// own would pass without them).
	TSACerts []*x509.Certificate
	// CheckpointInterval: see sequencer.Config. Default 1s.
	CheckpointInterval time.Duration
	// CheckpointStoreInterval: sequencer.Config's StoreInterval, the
	// shortest time between two checkpoints of the interval stored in the
	// log store. Default 1 minute.
	CheckpointStoreInterval time.Duration
	Logger                  *slog.Logger
	Now                     func() time.Time

	// skipKeyCheck lets Recover open a vault whose case keys it is about
	// to restore.
	skipKeyCheck bool
	// acceptRollback lets AcceptRollback open a log that does not extend
	// the sticky head.
	acceptRollback bool
	rollbackReason string
	// rollbackSaved is AcceptRollback's checkpoint kept outside, if any.
	rollbackSaved []byte
	// startDiscards are the snapshots the attempts of a start that
	// began again (Open) set aside: not read again, and renamed, with
	// the reasons in server.started, once a start goes on.
	startDiscards []snapshotDiscard
}

// Vault is a running vault.
type Vault struct {
	closeOnce sync.Once
	closeErr  error

	cfg      Config
	log      *sequencer.Sequencer
	state    *State
	keys     *Keyring
	objects  objects.Store
	recovery age.Recipient
	// freshRecovery is a recovery copy of the log key made at this start
	// from the key itself (openLogKey), for settleLogRecovery.
	freshRecovery []byte
	origin        string
	vkey          string
	verifier      note.Verifier
	signer        note.Signer
	logger        *slog.Logger
	head          *stickyHead
	// later runs recordLater's appends; laterClosed is set once Close
	// waits for them.
	later       sync.Mutex
	laterRun    sync.WaitGroup
	laterClosed bool
	// storeFindings are the findings of verified reads that the log
	// store does not hold the log's events, recorded (storeContradicts).
	storeMu       sync.Mutex
	storeFindings map[string]bool
	// lookupFindings are those of lookups that disagreed with the signed
	// events (readNamed), recorded the same way under a budget of their
	// own: edited lookups must not use up the one of edited events.
	lookupFindings map[string]bool
	// refusals bounds signed-in persons' refusals (refusals.go).
	refusals            *refusalBudget
	stopRefusals        chan struct{}
	refusalSummariesRun chan struct{}
	// applyErr is the first event the state could not apply.
	applyErr error
	// serving is set once this server's own server.started is durable: a
	// server.started applied after it is another server's (onEvent).
	serving atomic.Bool
	// startedSeq is the position of this server's server.started.
	startedSeq uint64
	// recentTrimAt is the size of the state's index of recent objects
	// at which a deposit next trims it (trimRecent).
	recentTrimAt atomic.Int64
	// testBeforeStorePackage, set only by tests, runs between building a
	// package and recording it.
	testBeforeStorePackage func()
	// rolledBack is set by AcceptRollback's Open.
	rolledBack *RollbackAccepted
	// witnesses submits checkpoints to the witness policy's witnesses
	// (anchors.go); nil without a policy.
	witnesses *witnessclient.Client
	stamps    *stamper
	witnessMu sync.Mutex
	// witnessedMu guards witnessedSize, the size of the witnessed
	// checkpoint last written to the keyring folder.
	witnessedMu   sync.Mutex
	witnessedSize uint64
	// hashsets are the loaded known-material hash sets (hashsets.go);
	// nil without Config.HashSetDir.
	hashsets *hashSets
	// listed caches which items the hash sets in use list as
	// known-illegal, for the near-copy check (knownWith).
	listed listedCache
	// hashImage computes an image's PDQ hash from its plaintext stream
	// (media.go); nil turns perceptual hashing off.
	hashImage func(io.Reader) *MediaInfo
	// probeGrace is how long a deposit waits for its media probe once
	// its stream has ended (0: probeGrace); tests shorten it.
	probeGrace time.Duration
	// snaps writes and loads state snapshots; nil without SnapshotDir.
	// stopCheck ends the checks beside the running vault after a start
	// (checkSnapshotPages, checkCovered, checkStore); checkDone is closed
	// when they have ended.
	snaps     *snapshots
	stopCheck context.CancelFunc
	checkDone chan struct{}
	// sweepDone is closed when the sweep of unaccounted objects, run
	// beside the vault after its start (sweep.go), has ended; inFlight
	// are the objects deposits and packages are writing, which it leaves
	// alone.
	sweepDone chan struct{}
	inFlight  objectsInFlight

	// holdMu serialises applying a case's legal hold to its objects.
	holdMu sync.Mutex
	// openMu serialises case openings, each of which writes its key
	// files under a name derived from the case id, and keeps them out of
	// a key-encryption-key rotation.
	openMu sync.Mutex
	// keysMu serialises destroying a case's keys and re-sealing them.
	keysMu sync.Mutex
}

// System is the actor of events the vault itself causes.
var System = events.Actor{Person: "custos", Role: RoleSystem, Auth: "server"}

// Open starts a vault: unseals the log signing key, resumes from the
// newest state snapshot or replays and checks the whole custody log (the
// log after the snapshot, and the snapshot and the log under it are then
// checked beside the running vault), writes the log's first event if it
// is new, and starts, beside the running vault, the sweep of objects that
// a crash left without a deposit event (sweep.go).
//
// A page of the snapshot that fails its check while the start runs (its
// steps after the replay read some: the keys' check, the retention of
// recent objects, the hash sets) makes the start set the snapshot aside
// and begin again from an older one or from event 0, as a page found
// wrong during the replay does; the discard is recorded in the
// server.started of the start that goes on.
func Open(ctx context.Context, cfg Config) (*Vault, error) {
	if err := CheckOIDCSignIn(cfg.SignIn.OIDCIssuer, cfg.SignIn.OIDCClientID, cfg.OIDCClaim); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	for {
		v, err := open(ctx, cfg)
		var pf *startPageFailure
		if !errors.As(err, &pf) {
			return v, err
		}
		// The next attempt reads none of the files set aside (renamed
		// only once a start goes on and has recorded why): each attempt
		// sets one more aside, so that at worst the start replays the
		// log from event 0, which reads no snapshot's page.
		cfg.Logger.Error("a page of the state snapshot this start resumed from failed its check while the start ran: the snapshot is set aside, not trusted, and the start begins again without it (the custody log is not in question; docs/state-snapshots.md, section 2.1)",
			"snapshot", pf.discards[len(pf.discards)-1].name, "err", pf.discards[len(pf.discards)-1].why)
		cfg.startDiscards = append(cfg.startDiscards, pf.discards...)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// startPageFailure is the end of a start during which a page of the
// snapshot it resumed from failed its check: discards are the files it
// found unfit, that snapshot last, which Open's next attempt does not
// read (none of them renamed yet).
type startPageFailure struct{ discards []snapshotDiscard }

func (e *startPageFailure) Error() string {
	return "a page of the state snapshot failed its check during the start: " + e.discards[len(e.discards)-1].reason()
}

// DefaultRetention (ten years of 365 days) and DefaultPendingRetention
// (24 hours) are Config.Retention's and Config.PendingRetention's
// defaults, and custos server's.
const (
	DefaultRetention        = 10 * 365 * 24 * time.Hour
	DefaultPendingRetention = 24 * time.Hour
)

func open(ctx context.Context, cfg Config) (*Vault, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	recovery, err := age.ParseX25519Recipient(cfg.RecoveryRecipient)
	if err != nil {
		return nil, fmt.Errorf("recovery recipient: %w", err)
	}
	if err := clearSpool(cfg.SpoolDir); err != nil {
		return nil, err
	}
	keys, err := newKeyring(cfg.KeyringDir, cfg.Sealer, cfg.Objects)
	if err != nil {
		return nil, err
	}
	size, err := cfg.Log.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("custody log: %w", err)
	}
	signer, verifier, vkey, snapKey, freshRecovery, err := openLogKey(ctx, cfg, keys, size, recovery)
	if err != nil {
		return nil, err
	}
	v := &Vault{
		hashImage: hashImagePDQ,
		cfg:       cfg, state: newState(), keys: keys, objects: cfg.Objects, recovery: recovery, freshRecovery: freshRecovery,
		origin: verifier.Name(), vkey: vkey, verifier: verifier, signer: signer, logger: cfg.Logger,
		head:     newStickyHead(cfg.KeyringDir, cfg.Objects),
		refusals: &refusalBudget{window: cfg.RefusalWindow, burst: cfg.RefusalBurst, open: map[refusalKey]*refusalWindow{}},
	}
	// A start refused after a snapshot's state was loaded closes the
	// file its pages are read from.
	opened := false
	var snap *loaded
	defer func() {
		if !opened && v.state != nil {
			v.state.closePages()
		}
		if !opened && snap != nil && snap.checkFile != nil {
			snap.checkFile.Close()
		}
	}()
	head, where, err := v.head.load(ctx, v.origin, verifier, size == 0)
	if err != nil {
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	noHeadInStore := size > 0 && v.head.stored == "" && head != nil
	if noHeadInStore {
		// Not one copy of the head in the object store, which every
		// checkpoint writes there: a store that holds nothing at all is
		// not this vault's (a mistyped --objects path, a bucket or disk
		// not mounted), and a deposit made into it would be lost to the
		// vault's own store.
		if err := notThisVaultsStore(ctx, cfg.Objects, size, where, headObject(head.Size)); err != nil {
			return nil, fmt.Errorf("refusing to start: %w", err)
		}
	}
	if !cfg.acceptRollback {
		// A log shorter than the head is refused before anything is
		// read or changed (checkExtends compares no root for it).
		if err := checkExtends(head, where, size, nil); err != nil {
			return nil, fmt.Errorf("refusing to start: %w", err)
		}
	}
	switch {
	case head == nil && size > 0 && !cfg.acceptRollback:
		// A vault saves its head before its first event (below), and
		// never removes the last copy: a log with events and no head in
		// either place had both copies deleted, which is how a log is
		// cut back to an older checkpoint unnoticed.
		return nil, fmt.Errorf("refusing to start: %w", missingHead(size, v.head.file))
	case head == nil && size == 0 && !cfg.acceptRollback:
		if err := v.head.saveEmpty(ctx, signer, verifier, v.origin); err != nil {
			return nil, err
		}
	}
	// The largest checkpoint the vault signed that a state snapshot
	// carried (below), which the log must extend as it must extend the
	// head, and where it was found.
	var snapSigned *events.Checkpoint
	var snapWhere string
	seqCfg := sequencer.Config{
		Store: cfg.Log, Origin: v.origin, Signer: signer, Verifier: verifier,
		CheckpointInterval: cfg.CheckpointInterval, StoreInterval: cfg.CheckpointStoreInterval, Now: cfg.Now,
		TileDir: cfg.TileDir, Logger: cfg.Logger,
		OnEvent:       v.onEvent,
		BeforePublish: v.head.save,
		AfterPublish:  v.afterPublish,
		MustExtend: func(size uint64, root func(uint64) (events.Hash, error)) error {
			if cfg.acceptRollback {
				return nil
			}
			if err := checkExtends(head, where, size, root); err != nil {
				return err
			}
			if err := checkExtends(snapSigned, snapWhere, size, root); err != nil {
				return fmt.Errorf("%w. If a rollback was accepted (custos admin accept-rollback) after that snapshot was written, and the snapshot was put back since, it is of the history the rollback gave up: move it out of %s and start again", err, cfg.SnapshotDir)
			}
			return nil
		},
	}
	// started is what server.started records of the start.
	started := v.startRecord()
	// The snapshots' files found unfit, renamed once the start goes on.
	var discards []snapshotDiscard
	if cfg.SnapshotDir != "" && cfg.TileDir != "" && !cfg.acceptRollback {
		if err := os.MkdirAll(cfg.SnapshotDir, 0o700); err != nil {
			if fi, serr := os.Stat(cfg.SnapshotDir); serr == nil && !fi.IsDir() {
				return nil, fmt.Errorf("refusing to start: the state snapshot folder %s is a file, not a folder: move the file aside (keep it for whoever investigates how it came there); the vault keeps its state snapshots in that folder, and a start without them replays the custody log", cfg.SnapshotDir)
			}
			return nil, fmt.Errorf("state snapshot folder: %w", err)
		}
		every := cfg.SnapshotEvery
		if every == 0 {
			every = DefaultSnapshotEvery
		}
		v.snaps = &snapshots{dir: cfg.SnapshotDir, tileDir: cfg.TileDir, every: every, key: snapKey, logger: cfg.Logger}
		snap, discards, snapSigned = v.snaps.load(v.origin, verifier, size, cfg.startDiscards)
		if snapSigned != nil {
			snapWhere = "the state snapshot of " + strconv.FormatUint(snapSigned.Size, 10) + " events in " + cfg.SnapshotDir
			if err := checkExtends(snapSigned, snapWhere, size, nil); err != nil {
				return nil, fmt.Errorf("refusing to start: %w. If a rollback was accepted (custos admin accept-rollback) after that snapshot was written, and the snapshot was put back since, it is of the history the rollback gave up: move it out of %s and start again", err, cfg.SnapshotDir)
			}
		}
	}
	// The sticky head: events it covers past the store's seal are the
	// vault's own, under a seal row rolled back. (A state snapshot's
	// checkpoint was the head when it was taken: the head covers it
	// unless the head was rolled back too, which the start refuses
	// apart, checkExtends.)
	seqCfg.Anchor = head
	if snap != nil {
		v.state = snap.state
		seqCfg.Resume = snap.resume
		v.log, err = sequencer.Open(ctx, seqCfg)
		if err == nil && (errors.Is(v.applyErr, errPageCheck) || errors.Is(v.applyErr, errPageUnreadable)) {
			// A page of the snapshot (items or an index), read for an
			// event after it, failed its check or could not be read:
			// the snapshot, not the log, is what is wrong.
			v.log.Close()
			err = fmt.Errorf("%w: %w", sequencer.ErrResume, v.applyErr)
		}
		if errors.Is(err, sequencer.ErrResume) {
			discards = append(discards, v.snaps.pending(snap.name, err))
			v.snaps.last = 0
			v.state.closePages()
			if snap.checkFile != nil {
				snap.checkFile.Close()
			}
			v.state, v.applyErr, seqCfg.Resume, snap = newState(), nil, nil, nil
			v.log, err = sequencer.Open(ctx, seqCfg)
		}
	} else {
		v.log, err = sequencer.Open(ctx, seqCfg)
	}
	if snap != nil {
		started["state_snapshot"] = strconv.FormatUint(snap.resume.Size, 10)
		started["state_snapshot_summary_sha256"] = snap.summary
	}
	discards = append(slices.Clone(cfg.startDiscards), discards...)
	if len(discards) > 0 {
		var reasons []string
		for _, d := range discards {
			reasons = append(reasons, d.reason())
		}
		started["state_snapshots_discarded"] = strings.Join(reasons, "; ")
	}
	if err == nil && v.applyErr != nil {
		v.log.Close()
		err = fmt.Errorf("the custody log holds an event the vault cannot apply: %w", v.applyErr)
	}
	if err != nil {
		if errors.Is(err, sequencer.ErrSealRolledBack) {
			err = fmt.Errorf("%w (the sticky head read: %s)", err, where)
		}
		if errors.Is(err, sequencer.ErrLogAltered) {
			err = fmt.Errorf("%w; check the store without the server (custos audit verify --store, for a SQLite or PostgreSQL log, with the auditors' saved checkpoint) and put back the altered rows from a backup: docs/operations.md, \"The custody log halted\"", err)
		}
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	// A page of the state snapshot (items or an index) that fails its
	// check from now on (the file was changed under the running vault)
	// halts it, as a failed check of the log does: the next start replays
	// the log.
	//
	// Until the start's own steps are done, a page that fails is noted
	// instead (startPages): the start then sets the snapshot aside and
	// begins again (Open).
	var starting sync.Mutex
	startPages, duringStart := error(nil), true
	v.state.mu.Lock()
	v.state.pagesFailed = func(err error) {
		starting.Lock()
		during := duringStart
		if during && startPages == nil {
			startPages = err
		}
		starting.Unlock()
		if !during {
			// halt says what to do: the snapshot is suspect, not the log.
			go v.halt(fmt.Errorf("%w: %w", ErrSnapshotSuspect, err))
		}
	}
	v.state.mu.Unlock()
	// pageFailure ends the start where a page failed during it: the
	// snapshot is set aside with the start's other discards, nothing
	// renamed, and Open begins again; err (a step's failure, which the
	// page's may have caused) is then not the start's answer. Without a
	// page failure, err is. final: the start's steps are done, and from
	// here on a page's failure halts the vault.
	pageFailure := func(err error, final bool) error {
		starting.Lock()
		failed := startPages
		if final && failed == nil {
			duringStart = false
		}
		starting.Unlock()
		if failed == nil || snap == nil {
			return err
		}
		if v.snaps != nil {
			// A snapshot this attempt began to write is not left
			// writing beside the next attempt's reads.
			v.snaps.stop(failed)
			v.snaps.wait()
		}
		v.log.Close()
		if v.hashsets != nil {
			v.hashsets.close()
		}
		d := v.snaps.pending(snap.name, fmt.Errorf("a page failed its check during the start: %w", failed))
		return &startPageFailure{discards: append(slices.Clone(discards[len(cfg.startDiscards):]), d)}
	}
	if noHeadInStore && !cfg.acceptRollback {
		// Before anything is written to the store: a store without
		// the vault's head must hold evidence the log recorded.
		if err := v.holdsRecordedObjects(ctx, size, where, headObject(head.Size)); err != nil {
			v.log.Close()
			return nil, fmt.Errorf("refusing to start: %w", err)
		}
	}
	if cfg.acceptRollback {
		if err := v.acceptRollback(ctx, head); err != nil {
			v.log.Close()
			return nil, err
		}
	}
	if !cfg.acceptRollback {
		v.warnIfQuiet(ctx)
	}
	if v.state.empty() {
		opened := LogOpened{Origin: v.origin, CheckpointKey: vkey, RecoveryRecipient: cfg.RecoveryRecipient, Sealer: cfg.Sealer.KeyRef()}
		if b, err := smallfile.ReadNoLink(v.keys.logRecoveryFile(), maxKeyFile); err == nil && !testHookOpenedAsBefore {
			opened.RecoveryCopy = fileDigest(b)
		}
		_, err := v.append(ctx, sequencer.Draft{Type: TypeLogOpened, Actor: System, Data: opened})
		if err != nil {
			v.log.Close()
			return nil, err
		}
	} else if got := v.state.logInfo().CheckpointKey; got != vkey {
		v.log.Close()
		return nil, fmt.Errorf("the keyring's log key %q is not the key this custody log was opened with (%q)", vkey, got)
	}
	// The log key's recovery copy, on the record and replicated as every
	// case key's is, so that a keyring folder lost with no backup loses
	// no key. A failure costs that replica only, not the start.
	if testHookOpenedAsBefore {
		// As a release before 2026-12-06: no record, no replica.
	} else if err := v.settleLogRecovery(ctx); err != nil {
		v.logger.Error("the log key's recovery copy could not be settled; back the keyring folder up", "err", err)
	}
	if !cfg.skipKeyCheck {
		if err := v.checkCaseKeys(ctx); err != nil {
			if pf := pageFailure(err, false); pf != err {
				return nil, pf
			}
			v.log.Close()
			return nil, fmt.Errorf("refusing to start: %w", err)
		}
	}
	v.finishInterruptedDestructions(ctx)
	v.extendRecentRetention(ctx)
	if cfg.HashSetDir != "" {
		h, err := openHashSets(cfg.HashSetDir, v.state, v.logger, v.pdqDistance())
		if err != nil {
			if pf := pageFailure(err, false); pf != err {
				return nil, pf
			}
			v.log.Close()
			return nil, err
		}
		v.hashsets = h
		// What ended requests for imports left staged.
		h.sweepStaged(v.state, cfg.Now())
		// Taken out of use later (its files changed on disk while the
		// vault runs; a scrub records its own): recorded as at a start,
		// from the goroutine of the deposit or view that found it, which
		// may be inside a decision's check, so after it.
		h.withdrawn = func(name, reason string) {
			v.recordLater(sequencer.Draft{Type: TypeHashSetUnused, Actor: System, Data: HashSetUnused{Name: name, Reason: reason}})
		}
		// A set not used is a custody fact: the matches of later
		// deposits depend on it. (Not recorded by an attempt that a
		// page's failure ends: the next records it.)
		if err := pageFailure(nil, false); err != nil {
			return nil, err
		}
		names := slices.Sorted(maps.Keys(h.problems))
		for _, name := range names {
			if _, err := v.append(ctx, sequencer.Draft{Type: TypeHashSetUnused, Actor: System, Data: HashSetUnused{Name: name, Reason: h.problems[name]}}); err != nil {
				if pf := pageFailure(err, false); pf != err {
					return nil, pf
				}
				v.log.Close()
				return nil, err
			}
		}
	}
	if err := pageFailure(nil, true); err != nil {
		return nil, err
	}
	evs, err := v.append(ctx, sequencer.Draft{Type: TypeServerStarted, Actor: System, Data: started})
	if err != nil {
		v.log.Close()
		return nil, err
	}
	v.startedSeq = evs[0].Seq
	// The start goes on: the snapshots it found unfit are set aside (a
	// start refused above left them as they were).
	if v.snaps != nil {
		v.snaps.discardAll(discards)
	}
	v.serving.Store(true)
	v.stopRefusals, v.refusalSummariesRun = make(chan struct{}), make(chan struct{})
	go v.runRefusalSummaries(v.stopRefusals, v.refusalSummariesRun)
	// The witnesses start last, with the newest checkpoint (one signed
	// before this start, or during it).
	if _, err := v.log.Checkpoint(ctx); err != nil {
		v.Close()
		return nil, err
	}
	v.startAnchors()
	// What a start leaves to be done beside the running server: the sweep
	// of unaccounted objects; the checks of the snapshot file it resumed
	// from (its pages and index), of the events the snapshot covered, and
	// of the store's own files.
	ctx, cancel := context.WithCancel(context.Background())
	v.stopCheck, v.checkDone, v.sweepDone = cancel, make(chan struct{}), make(chan struct{})
	go func() {
		defer close(v.sweepDone)
		if err := v.sweep(ctx); err != nil && ctx.Err() == nil {
			v.logger.Error("objects not swept: unaccounted objects stay in the store until the next start's sweep (audit scrub lists them)", "err", err)
		}
	}()
	if snap != nil && snap.checkFile != nil && beforeSnapshotCheck != nil {
		snap.checkFile = beforeSnapshotCheck(snap.checkFile)
	}
	go func() {
		defer close(v.checkDone)
		// A snapshot file the storage could not read halts nothing, and
		// the events are checked all the same.
		if snap != nil && snap.checkFile != nil && v.checkSnapshotPages(ctx, snap) != nil && v.log.Halted() != nil {
			return
		}
		if snap != nil && v.checkCovered(ctx, snap.resume.Size, snap.resume.Root) != nil {
			return
		}
		v.checkStore(ctx)
	}()
	opened = true
	return v, nil
}

// setDefaults gives every unset setting of cfg its default, and
// refuses a default retention below the retention floor.
func (cfg *Config) setDefaults() error {
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.PendingRetention == 0 {
		cfg.PendingRetention = DefaultPendingRetention
	}
	if cfg.RefusalWindow <= 0 {
		cfg.RefusalWindow = time.Minute
	}
	if cfg.RefusalBurst <= 0 {
		cfg.RefusalBurst = 20
	}
	if cfg.MinRetention == 0 {
		cfg.MinRetention = min(24*time.Hour, cfg.Retention)
	}
	if cfg.Retention < cfg.MinRetention {
		return fmt.Errorf("the default retention %s is below the retention floor %s", cfg.Retention, cfg.MinRetention)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = 72 * time.Hour
	}
	if cfg.RequestTTL <= 0 {
		cfg.RequestTTL = DefaultRequestTTL
	}
	if cfg.OIDCClaim == "" {
		cfg.OIDCClaim = "sub"
	}
	return nil
}

// clearSpool makes the spool folder and empties it: files left there
// are packages whose building a stop cut short (ciphertext only).
func clearSpool(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if old, err := os.ReadDir(dir); err == nil {
		for _, e := range old {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// openLogKey unseals the log's signing key from the keyring (making
// it for a new log, size 0) and returns its signer and verifier, the
// verifier key as log.opened records it, and the key of the state
// snapshots' MAC derived from it. The unsealed key is zeroed before it
// returns. A log key beside an empty log, or a public key that is not
// the signing key's, refuses the start.
//
// freshRecovery is a recovery copy of the log key made now, from the
// key itself, encrypted to recovery: what settleLogRecovery records and
// writes where the log records none (a log opened before it was
// recorded) or the recorded one is lost, so that no copy it records was
// ever one it could not check.
func openLogKey(ctx context.Context, cfg Config, keys *Keyring, size uint64, recovery *age.X25519Recipient) (note.Signer, note.Verifier, string, snapshotKey, []byte, error) {
	if size == 0 && keys.hasLogKey() {
		return nil, nil, "", snapshotKey{}, nil, fmt.Errorf("the custody log is empty, but the keyring %s holds this vault's log key: the log store was lost or replaced. "+
			"Restore the custody log from backup. An empty log with an existing log key is never a new vault "+
			"(only if this vault never finished its first start may its keyring folder be removed to begin again)", cfg.KeyringDir)
	}
	skey, vkey, err := keys.logKey(ctx, size == 0, recovery, func() (string, string, error) {
		return note.GenerateKey(rand.Reader, "custos-"+randomHex(6))
	})
	if err != nil {
		return nil, nil, "", snapshotKey{}, nil, err
	}
	signer, err := note.NewSigner(string(skey))
	snapKey, kerr := deriveSnapshotKey(skey)
	fresh, ferr := encryptRecovery(skey, recovery)
	hsm.Zero(skey)
	if ferr != nil {
		return nil, nil, "", snapshotKey{}, nil, fmt.Errorf("a recovery copy of the log key: %w", ferr)
	}
	if kerr != nil {
		return nil, nil, "", snapshotKey{}, nil, fmt.Errorf("state snapshot key: %w", kerr)
	}
	if err != nil {
		return nil, nil, "", snapshotKey{}, nil, fmt.Errorf("log signing key: %w", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, "", snapshotKey{}, nil, fmt.Errorf("log verifier key: %w", err)
	}
	if err := sameKey(signer, verifier); err != nil {
		return nil, nil, "", snapshotKey{}, nil, fmt.Errorf("refusing to start: the log's public key (%s) is not the public half of its sealed signing key (%v): "+
			"the keyring was altered, or holds files of another vault; restore it from backup", filepath.Join(cfg.KeyringDir, "log.pub"), err)
	}
	return signer, verifier, vkey, snapKey, fresh, nil
}

// testHookOpenedAsBefore makes a start as a release before 2026-12-06
// made it: a new log's log.opened without the log key's recovery copy,
// and the copy neither recorded nor replicated.
var testHookOpenedAsBefore bool

// startRecord is what server.started records of a start before the
// start's own steps: the sealer, the build, which run it is, the server's
// configuration and the witnesses' keys. The start adds the snapshot it
// resumed from, and any it discarded.
func (v *Vault) startRecord() map[string]string {
	cfg := v.cfg
	started := map[string]string{"sealer": cfg.Sealer.KeyRef(), "pdq_max_distance": strconv.Itoa(v.pdqDistance()),
		// Which program wrote what follows: an upgrade is on the record.
		"build": custody.Generator()}
	switch {
	case cfg.Run != "":
		started[startedRun] = cfg.Run
	case cfg.skipKeyCheck:
		// Not a server: the recovery, which opens the vault with the
		// server stopped to seal its keys again.
		started[startedRun] = "custos admin recover"
	}
	// What decides who signs in, how long sessions, invitations and
	// requests last, and how long evidence stays write-once: server
	// configuration, not signed anywhere else, so that a change of it
	// is on the record with the start that made it (custody-log.md,
	// server.started).
	if started[startedRun] == "" {
		for k, val := range cfg.startedConfig() {
			started[k] = val
		}
	}
	// The witnesses' keys, so that what they cosigned stays the vault's
	// to a scrub after they leave the policy (State.witnessKeys).
	if cfg.Witnesses != nil {
		var vkeys []string
		for _, w := range cfg.Witnesses.Witnesses {
			// As the cosignature key each signs with, whichever form
			// the policy gave (the policy parsed it already).
			if k, err := witness.CosignatureVKey(w.VKey); err == nil {
				vkeys = append(vkeys, k)
			}
		}
		slices.Sort(vkeys)
		started[startedWitnessKeys] = strings.Join(slices.Compact(vkeys), " ")
	}
	return started
}

// onEvent applies each durable event to the state, on the sequencer's
// writer goroutine. A failure during the start-up replay stops the start;
// one afterwards (an event this vault just wrote) is a bug, logged loudly.
func (v *Vault) onEvent(ev *events.Event, _ []byte) {
	if ev.Type == TypeServerStarted && v.serving.Load() {
		// Another server started on this custody log since this one did
		// (its events were read as an append of ours met them). Its
		// start swept the objects it could not account for, which may
		// include those this server is writing; the newer server goes
		// on, this one writes nothing more (its requests are answered
		// ErrAnotherServer, nothing they wrote acknowledged).
		err := fmt.Errorf("%w (its server.started is event %d)", ErrAnotherServer, ev.Seq)
		v.logger.Error("another server started on this custody log: this one stops writing; run one server only, and restart this one only once the other has stopped (docs/operations.md, \"Upgrades\")", "event", ev.Seq)
		v.log.Halt(err)
	}
	if err := v.state.apply(ev); err != nil {
		if v.applyErr == nil {
			v.applyErr = err
		}
		v.logger.Error("an event could not be applied to the vault's state", "err", err)
	}
}

// recordLater appends d from a goroutine of its own, for a fact found
// where appending would wait on itself (inside a decision's check);
// Close waits for it. A failure is logged.
func (v *Vault) recordLater(d sequencer.Draft) {
	v.later.Lock()
	defer v.later.Unlock()
	if v.laterClosed {
		v.logger.Error("not recorded: the vault is closing", "type", d.Type)
		return
	}
	v.laterRun.Add(1)
	go func() {
		defer v.laterRun.Done()
		if _, err := v.append(context.Background(), d); err != nil {
			v.logger.Error("could not record", "type", d.Type, "err", err)
		}
	}()
}

// RecordStop records that the server stops as asked (server.stopped,
// with reason: what stopped it, such as "stop signal"), once it answers
// nothing more: the caller has shut its listeners and waited for the
// requests under way, and closes the vault next. A vault whose start
// did not finish records nothing (nil); one that stopped writing
// (another server started on its log) answers ErrAnotherServer. Errors:
// the append's.
func (v *Vault) RecordStop(ctx context.Context, reason string) error {
	if !v.serving.Load() {
		return nil
	}
	_, err := v.append(ctx, sequencer.Draft{Type: TypeServerStopped, Actor: System, Data: ServerStopped{Reason: reason, Started: v.startedSeq}})
	return err
}

// Close records what is pending (refusal summaries, recordLater's
// events), flushes the log (with a final checkpoint) and closes it.
// Calls after the first, at once or later, wait for it and return its
// error.
func (v *Vault) Close() error {
	v.closeOnce.Do(func() { v.closeErr = v.close() })
	return v.closeErr
}

func (v *Vault) close() error {
	v.later.Lock()
	v.laterClosed = true
	v.later.Unlock()
	v.laterRun.Wait()
	if v.stopCheck != nil {
		v.stopCheck()
		<-v.checkDone
		<-v.sweepDone
		v.stopCheck = nil
	}
	if v.stopRefusals != nil {
		close(v.stopRefusals)
		<-v.refusalSummariesRun
		v.stopRefusals = nil
	}
	err := v.log.Close()
	if v.snaps != nil {
		// The writer has stopped: the state and the tree are at the
		// newest checkpoint, unless its final signing failed.
		v.snaps.wait()
		if cp := v.log.LatestCheckpoint(); cp != nil && cp.Size == v.log.Size() {
			v.snaps.maybeWrite(v, cp, true)
			v.snaps.wait()
		}
	}
	v.stopAnchors()
	v.hashsets.close()
	v.state.closePages()
	return err
}

// Origin returns the log's origin line; VerifierKey its public key.
func (v *Vault) Origin() string      { return v.origin }
func (v *Vault) VerifierKey() string { return v.vkey }

// Log gives read access to the sequencer (proofs, checkpoints).
func (v *Vault) Log() *sequencer.Sequencer { return v.log }

// InvitationTTL is how long a new person's invitation may be redeemed
// once issued (Config.InvitationTTL).
func (v *Vault) InvitationTTL() time.Duration { return v.cfg.InvitationTTL }

// Store returns the custody-log store, for audit reads.
func (v *Vault) Store() events.Store { return v.cfg.Log }

// Errors that the API maps to HTTP statuses.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	ErrNotFound        = errors.New("not found")
	ErrBadInput        = errors.New("bad request")
	ErrConflict        = errors.New("conflict")
	ErrIntegrity       = errors.New("integrity failure")
	ErrUnavailable     = errors.New("a backend is unavailable")
	// ErrKey is a case key that is missing, cannot be unsealed, or is not
	// the case's own. It is a problem of the keys, not of the evidence.
	ErrKey = fmt.Errorf("%w: case key unavailable", ErrUnavailable)
	// ErrLogHalted answers every action once the vault found that its
	// custody log cannot be vouched for and halted it (halt): nothing
	// can be recorded, so nothing is done, until the log store is
	// restored and the server restarted. It wraps what was found.
	ErrLogHalted = sequencer.ErrHalted
	// ErrAnotherServer is what halts a server's log (ErrLogHalted wraps
	// it in every answer) once it finds that another server started on
	// the same custody log after it: one server only writes a log.
	ErrAnotherServer = errors.New("another server started on this custody log")
)

func badInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadInput, fmt.Sprintf(format, args...))
}

// notOneOf is ErrBadInput for a value of what (a category, a format)
// that is none of allowed: it names them, and the one a mistyped value
// was most likely meant to be (cliflags.Closest), as the command line
// does for its flags.
func notOneOf(what, got string, allowed []string) error {
	guess := ""
	if c := cliflags.Closest(got, allowed); c != "" {
		guess = fmt.Sprintf("did you mean %s? ", c)
	}
	return badInput("%s %q: %suse one of %s", what, truncate(got), guess, strings.Join(allowed, ", "))
}

// sameKey checks that verifier accepts what signer signs: the keyring's
// log.pub is a file beside the sealed key, and everything the vault
// checks of its own log at a start (the log's opening, the sticky head,
// the snapshots' checkpoints) is checked against it. A public key of an
// administrator's own, with the same name, would otherwise let a log
// they rewrote and signed themselves be served until the vault's next
// checkpoint; a matching key hash alone is 32 bits, so a signature is
// made and verified.
func sameKey(signer note.Signer, verifier note.Verifier) error {
	msg, err := note.Sign(&note.Note{Text: "custos: the log key's halves\n"}, signer)
	if err != nil {
		return err
	}
	_, err = note.Open(msg, note.VerifierList(verifier))
	return err
}
