package vault

// State snapshots: the projection saved at a signed checkpoint, so that a
// start reads only the events after it (docs/state-snapshots.md).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/internal/ctxio"
	"github.com/custos-vault/custos/internal/durable"
	gojson "github.com/goccy/go-json"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/sys/unix"
)

// snapshotMagic is a snapshot file's first line.
const snapshotMagic = "custos state snapshot v1\n"

// stateVersion names what the appliers derive from the log. Bump it
// whenever an applier changes what it records, or a field is added to
// the state: snapshots of another version are discarded, never read.
// TestStateVersionRaisedWhenTheStateChanges (statecorpus_test.go) fails
// when logs recorded in testdata/state-corpus replay to other states
// under the same version.
//
// Version 2: items keep a summary of their deposit record
// (DepositSummary), not the whole record.
// Version 3: the object index, the cases' item lists and the items of
// each content SHA-256 are derived at restore, not carried.
// Version 4: a case records the position of its opening (OpenedSeq),
// from which its item list is derived.
// Version 5: each case counts its own events (those naming no item,
// State.caseOwn), which a package's custody record reads alone.
// Version 6: a pending destruction request keeps its time
// (DestructionRequest.At), from which it expires.
// Version 7: requests are voided by their requester's suspension
// (Request.void, DestructionRequest.Void), and a hotline report keeps the
// positions of its events (Report.Events).
// Version 8: how each request that left the state ended (State.decided),
// so that a late decision on it is told who ended it and when; a notice's
// latest sending (Notice.LastSentAt), and the case a notice or forwarding
// was made in (Notice.Case, Forward.Case).
// Version 9: a destruction request ended beside the approved one is
// recorded as it ended (expired, void, or overtaken), and a report's
// closing keeps the case it was made in (Closing.Case).
// Version 10: an item's time as nanoseconds since the epoch (Item.At), and
// its deposit summary's media kind as a number and its rarely set parts
// under "more" (DepositSummary.More): 80 bytes an item fewer in memory.
// Version 11: the items are pages of their own lines ("paged", each item
// with its count of events), first in the file and in id order, which the
// state reads back a page at a time (itempages.go) instead of holding.
// Version 12: so are the object index and the content index
// ("objects_paged", "content_paged"; indexpages.go), no longer derived at
// a start.
// Version 13: so is each case's item list ("case_items_paged"), which a
// case's list of items reads by ranges.
// Version 14: the page index and the summary line (pageindex.go): a start
// reads the summary and no page; the pages are checked beside the
// running vault (checkSnapshotPages).
// Version 15: the digests of each key's files as the log recorded them
// (State.keyFiles).
// Version 16: the witnesses' keys server.started events named
// (State.witnessKeys).
// Version 17: the marks of items votes once settled as illegal, with
// their case (hot.settled), each vote's case, and the digests of the
// hash lists the vault exported (hot.exportedSums).
// Version 18: a mark stays when votes clear its item, so that it holds
// the item again should the clearing lapse (applyItemClassified); a
// version 17 snapshot lacks the marks of cleared items.
// Version 19: a notice's acknowledgement or removal makes it the case's
// it was recorded in (Notice.Case), as its sending does.
// Version 20: who asked each two-person request that ended
// (requestEnd.Requester), who is told how it ended.
// Version 21: the default retention each start recorded
// (State.defaultRetentions), against which a scrub judges the locks of
// the items of cases on the default.
// Version 22: a settled mark keeps who agreed (settledMark.Voters), by
// whom a copy in a case of a stricter policy is judged; a version 21
// snapshot of this day's earlier builds lacks them.
// Version 23: what the requester of a two-person request that ended is
// told of it (requestEnd.Kind, Target, Case, Asked, For, Purpose, Reason,
// Package); when a pending request was voided (Request.voidAt, the first
// suspension or removal before its expiry), an unanswered void request
// ending as void, not expired; a suspended person's suspension
// (Person.Suspension); and who set a case's export policy, when and why
// (Case.ExportPolicy).
// Version 24: the same, as the last of this day's builds keeps it: a
// version 23 snapshot of its earlier builds lacks an ended request's
// case, person, parameters, recipient and purpose, when a request was
// voided, and who set a case's export policy, names the package of a
// sealing that never finished, and keeps as void a request whose
// requester was suspended after it expired (as it keeps a destruction
// request). An ended request keeps its kind, case, person and
// parameters (a sealing's without their items), from which what it
// named is derived, not Target, For and Purpose beside them.
// Version 25: the digests of the csv hash lists of cases the vault
// exported, as of the plain ones (hot.exportedSums): a version 24
// snapshot lacks them.
// Version 26: and of the reports' csv forwardings: a version 25
// snapshot of this day's earlier build lacks them.
// Version 27: and of every hash list the vault wrote, VICS ones too: a
// version 26 snapshot lacks the VICS ones.
// Version 28: a case.policy.set whose export_approval is neither
// "required" nor "none" is read as requiring approval (only "none" drops
// it): a version 27 snapshot may hold such a case as not requiring it.
// Version 29: a legal hold placed on a case voids its pending destruction
// requests (DestructionRequest.HeldAfter): a version 28 snapshot holds
// them as pending.
// Version 30: a destruction request's end is told its requester
// (EndedRequests: its kind, case, order and reason, and when a hold or a
// suspension voided it, DestructionRequest.VoidAt): a version 29
// snapshot holds ended destruction requests without them.
// Version 32: a mark a custodian's decision unsettles is released, not
// dropped (settledMark.Released), so that one person's not-illegal vote
// does not settle the item when the policy is lowered again: a version
// 31 snapshot lacks the marks of the items sent back for review.
// Version 33: a case keeps who set its classification policy
// (Case.ClassificationPolicy), which a version 32 snapshot lacks.
// Version 34: which identity sources sign people in (State.identity:
// the first start that guards them, its own sources and each
// identity.source.accepted), which a version 33 snapshot lacks.
// Version 35: whether a start pinned OpenID providers' keys
// (identitySources.KeysPinned, and the keys it accepted) and the key
// that signed an OpenID session's ID token (Credential.Key).
// Version 36: the identity sources retired (identitySources.Retired,
// identity.source.retired), and an OpenID client and claim accepted as
// sources.
// Version 37: identity.source.retired ends the sessions opened through
// the source, and an offline command's record changes no identity
// source.
// Version 38: the identity sources a request's asker signed in through
// (Request.via), whose retirement voids it.
// Version 39: the same of a destruction request (DestructionRequest.Via),
// and the retired source that voided one (DestructionRequest.Retired);
// for a request asked with a client certificate, its CAs the request
// records (client_ca_sha256); a request recorded as asked through a
// source retired already is void from its start; every access
// (view, shown or copy) counts in its person's exposure.
// Version 40: an invitation keeps the identity sources its requester and
// approver went through (an approval with a certificate records its
// CAs), and the retired one that voided it.
// Version 41: the ID tokens that opened sessions, until they expire
// (State.idTokens), refused a second time.
// Version 42: how each person was enrolled (Person.Enrolment: who
// approved, who asked, when, why); what a hash set's entries mean,
// counted (HashSetImported.Categories).
// Version 43: the notes of a notice's acknowledgement and removal
// (Notice.AcknowledgedNote, RemovedNote).
const stateVersion = 43

// errOtherStateVersion marks a snapshot that is the vault's own (its MAC
// holds) but of another state version: what an upgrade leaves, not a sign
// of tampering, so its discard is a warning.
var errOtherStateVersion = errors.New("another version of the state")

// macLineLen is the length of a snapshot's last line: "mac ", the
// HMAC-SHA256 in hex, "\n".
const macLineLen = 4 + 64 + 1

// DefaultSnapshotEvery is how many events pass between state snapshots
// when Config.SnapshotEvery is 0.
const DefaultSnapshotEvery = 100_000

// maxSnapshotSize bounds the snapshot file a start will read (16 GiB):
// anything larger was not written by the vault.
const maxSnapshotSize = 16 << 30

// snapshotHeader is a snapshot's second line: where in the log it was
// taken, as the signed checkpoint of that size says.
type snapshotHeader struct {
	// Checkpoint is the signed checkpoint note of size Size.
	Checkpoint string `json:"checkpoint"`
	// Edge holds the tree's rightmost incomplete tile of each level
	// (hex leaf and node hashes), Head the leaf hash of event Size-1.
	Edge [][]string `json:"edge"`
	// Entries counts the large maps' entries, so that a start sizes
	// them once (absent in snapshots written before it was added).
	Entries      *snapshotEntries `json:"entries,omitempty"`
	Head         string           `json:"head"`
	Origin       string           `json:"origin"`
	Root         string           `json:"root"`
	Size         uint64           `json:"size"`
	StateVersion int              `json:"state_version"`
	Written      string           `json:"written"`
}

// snapshotKey authenticates snapshots: HMAC-SHA256 with a key derived
// from the log's signing key (HKDF-SHA256, info "custos state snapshot
// v1"), so only the vault that holds the log key can write one a start
// accepts. It never prints.
type snapshotKey struct{ k []byte }

func (snapshotKey) String() string               { return "[redacted]" }
func (snapshotKey) GoString() string             { return "snapshotKey([redacted])" }
func (snapshotKey) Format(f fmt.State, _ rune)   { io.WriteString(f, "[redacted]") }
func (snapshotKey) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (k snapshotKey) mac() hash.Hash             { return hmac.New(sha256.New, k.k) }
func (snapshotKey) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

func deriveSnapshotKey(logKey []byte) (snapshotKey, error) {
	k, err := hkdf.Key(sha256.New, logKey, nil, "custos state snapshot v1", 32)
	return snapshotKey{k}, err
}

// snapshots writes and loads the state snapshots of one vault.
type snapshots struct {
	dir, tileDir string
	every        uint64
	key          snapshotKey
	logger       *slog.Logger

	mu   sync.Mutex
	last uint64 // size of the newest snapshot written or loaded
	// next is the size before which no snapshot is tried: after a
	// failure, the next is tried every events later, not at every
	// checkpoint.
	next    uint64
	busy    bool  // a snapshot is being written
	stopped error // set: no snapshot is written again by this process
	wg      sync.WaitGroup
}

// stop ends the writing of snapshots by this process: the state can no
// longer be vouched for (an event that could not be applied, a log found
// altered).
func (sn *snapshots) stop(why error) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.stopped == nil {
		sn.stopped = why
		sn.logger.Error("no more state snapshots are written by this server", "reason", why.Error())
	}
}

// snapshotName is the file name of the snapshot of size events.
func snapshotName(size uint64) string { return fmt.Sprintf("state-%020d.snap", size) }

// snapshotSize parses a snapshot's file name.
func snapshotSize(name string) (uint64, bool) {
	digits, ok1 := strings.CutPrefix(name, "state-")
	digits, ok2 := strings.CutSuffix(digits, ".snap")
	if !ok1 || !ok2 || len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return n, err == nil && n > 0
}

// maybeWrite saves the state as of checkpoint cp, if one is due (force:
// any growth since the last) and the tree and state are at cp's size.
// It runs on the sequencer's writer goroutine (or after it stopped), so
// no event is applied while the state is encoded; the file is synced
// and named in the background (wait). Failures are logged: a missing
// snapshot costs only a longer start.
func (sn *snapshots) maybeWrite(v *Vault, cp *events.Checkpoint, force bool) {
	if v.applyErr != nil {
		// The state skipped an event: saving it would make every later
		// start decide on it without complaint.
		sn.stop(fmt.Errorf("an event could not be applied: %w", v.applyErr))
	}
	sn.mu.Lock()
	if sn.stopped != nil || sn.busy || cp.Size <= sn.last || (!force && (cp.Size < sn.last+sn.every || cp.Size < sn.next)) {
		sn.mu.Unlock()
		return
	}
	sn.busy = true
	sn.wg.Add(1) // under mu: stop and wait cannot miss it
	sn.mu.Unlock()
	// done ends this attempt: written (size), or not (0); a failure is
	// tried again every events later, not at the next checkpoint.
	done := func(size uint64, failed bool) {
		sn.mu.Lock()
		sn.busy = false
		if size > sn.last {
			sn.last = size
		}
		if failed {
			sn.next = cp.Size + sn.every
		}
		sn.mu.Unlock()
		sn.wg.Done()
	}
	tree := v.log.Tree()
	size, edge, ok := tree.Edge()
	if !ok || size != cp.Size {
		done(0, false) // tiles pending, or events after cp: the next checkpoint
		return
	}
	head, err := tree.Leaf(size - 1)
	if err != nil {
		sn.logger.Error("state snapshot not written", "size", size, "err", err)
		done(0, true)
		return
	}
	f, err := sn.encode(v, cp, head, edge)
	if err != nil {
		sn.logger.Error("state snapshot not written", "size", size, "err", err)
		done(0, true)
		return
	}
	go func() {
		if err := sn.install(f, size); err != nil {
			os.Remove(f.Name())
			sn.logger.Error("state snapshot not written", "size", size, "err", err)
			done(0, true)
			return
		}
		done(size, false)
	}()
}

// wait waits for snapshots being written.
func (sn *snapshots) wait() { sn.wg.Wait() }

// encode writes the snapshot into a new temporary file in the snapshot
// folder, page index, summary line and MAC line included, and returns it open (install syncs and
// names it). The state's read lock is held while it is encoded: the large
// maps a few hundred entries per line (snapState.split), so that no more
// than a line's JSON is held beside the state.
//
// The state then reads its items and indexes from the new file's pages,
// and forgets the items it held as changed since the last, the index rows
// it held as added and each case's items deposited since (State.usePages):
// they are in the file. The
// pages are read through a descriptor of their own, so that the file
// stays readable whatever becomes of its name (install, a later discard).
func (sn *snapshots) encode(v *Vault, cp *events.Checkpoint, head events.Hash, edge [][]events.Hash) (*os.File, error) {
	f, err := os.CreateTemp(sn.dir, ".state-*.tmp")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	mac := sn.key.mac()
	w := bufio.NewWriterSize(io.MultiWriter(f, mac), 1<<20)
	var pw *writtenPages
	var first []byte // the magic line and the header line
	h := snapshotHeader{Checkpoint: string(cp.Note), Head: head.String(), Origin: v.origin, Root: cp.Root.String(),
		Size: cp.Size, StateVersion: stateVersion, Written: v.cfg.Now().UTC().Format(time.RFC3339)}
	for _, level := range edge {
		hs := make([]string, len(level))
		for i, x := range level {
			hs[i] = x.String()
		}
		h.Edge = append(h.Edge, hs)
	}
	err = func() error {
		v.state.mu.RLock()
		defer v.state.mu.RUnlock()
		h.Entries = v.state.snapshot().entries()
		h.Entries.Items = v.state.itemCount()
		hb, err := json.Marshal(h)
		if err != nil {
			return err
		}
		first = append(append([]byte(snapshotMagic), hb...), '\n')
		w.Write(first)
		pw, err = v.state.writeSnapshotBody(w, int64(len(first)))
		return err
	}()
	if err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	// The summary's MAC, of the bytes as the file holds them.
	end, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fail(err)
	}
	sum, err := summaryMAC(sn.key, first, pw.tailOff, io.NewSectionReader(f, pw.tailOff, end-pw.tailOff), end-pw.tailOff)
	if err != nil {
		return fail(err)
	}
	w.Write(summaryLine(pw.tailOff, sum))
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if _, err := fmt.Fprintf(f, "mac %x\n", mac.Sum(nil)); err != nil {
		return fail(err)
	}
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	pf := os.NewFile(uintptr(fd), f.Name())
	v.state.usePages(pw.open(&snapFile{r: pf, close: pf.Close}))
	return f, nil
}

// encodeSnapState encodes a snapshot's line, without its newline.
func encodeSnapState(b *snapState) ([]byte, error) { return json.Marshal(b) }

// snapshotLine is how many entries of a large map one line holds.
const snapshotLine = 512

// install makes a written snapshot durable and gives it its name: the
// tiles it relies on are synced first (they are written without fsync),
// then the file, then the folder; older snapshots but the one before are
// removed.
func (sn *snapshots) install(f *os.File, size uint64) error {
	defer f.Close()
	if err := syncFS(sn.tileDir); err != nil {
		return fmt.Errorf("syncing the tiles: %w", err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(sn.dir, snapshotName(size))); err != nil {
		return err
	}
	if err := durable.SyncDir(sn.dir); err != nil {
		return err
	}
	// The vault keeps this one and the newest before it. A file named
	// for more events than this one is not one the vault wrote on this
	// log as it now is (put there, or of a history since given up): it
	// is left for the next start, which reads it and discards it loudly,
	// never removed here unread, nor counted against the vault's own.
	names, _ := sn.list()
	kept := 0
	for _, name := range names {
		n, _ := snapshotSize(name)
		switch {
		case n > size:
			sn.logger.Warn("a state snapshot file named for more events than the vault just saved is in the folder: not the vault's own on this log; the next start checks it and discards it if unfit", "snapshot", filepath.Join(sn.dir, name))
		case kept < 2:
			kept++
		default:
			os.Remove(filepath.Join(sn.dir, name))
		}
	}
	return nil
}

// syncFS commits the file system holding dir to disk (syncfs(2)).
func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Syncfs(fd)
}

// list returns the snapshot files' names, newest (largest size) first.
func (sn *snapshots) list() ([]string, error) {
	entries, err := os.ReadDir(sn.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, ok := snapshotSize(e.Name()); ok && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // fixed-width sizes sort as numbers
	slices.Reverse(names)
	return names, nil
}

// removeSnapshots removes every snapshot file in dir ("" or a missing
// folder: nothing to do).
func removeSnapshots(dir string) error {
	if dir == "" {
		return nil
	}
	names, err := (&snapshots{dir: dir}).list()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return err
}

// loaded is a snapshot a start may use.
type loaded struct {
	// summary is the summary digest: the SHA-256 of the first two
	// lines, the tail and the summary line.
	summary string
	name    string
	// cp is the signed checkpoint it is bound to.
	cp     *events.Checkpoint
	state  *State
	resume *sequencer.Resume
	// checkFile, if set, is the file read by its summary, for
	// checkSnapshotPages to read whole (size bytes); its user closes it.
	checkFile *os.File
	size      int64
}

// load returns the newest snapshot that is the vault's own (its MAC),
// of this log (origin, a checkpoint signed by the log's key whose size and
// root it carries) and of this version of the state, and no longer than
// the log (size). Every other snapshot file it read is to be discarded
// (renamed *.discarded, never read again) once the start goes on
// (discardAll): a start refused leaves the folder as it found it, for
// whoever investigates. signed is the largest checkpoint of the log's
// key that a file whose MAC held carried, used or not: the vault signed
// it, so the log must extend it as it must extend the sticky head (a
// snapshot of 31 events beside a log of 28 is the vault's own proof that
// the log was cut back). The files setAside names (by an earlier attempt
// of the same start, Open) are not read.
func (sn *snapshots) load(origin string, verifier note.Verifier, size uint64, setAside []snapshotDiscard) (l *loaded, discards []snapshotDiscard, signed *events.Checkpoint) {
	// Before anything of this start writes one: what a crash while
	// writing left.
	sn.removeTemps()
	names, err := sn.list()
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			sn.logger.Error("state snapshots could not be listed; replaying the custody log from its first event", "folder", sn.dir, "err", err)
		}
		return nil, nil, nil
	}
	seen := func(cp *events.Checkpoint) {
		if cp != nil && (signed == nil || cp.Size > signed.Size) {
			signed = cp
		}
	}
	// The files an earlier attempt of this start set aside are not read
	// again (Open).
	names = slices.DeleteFunc(names, func(name string) bool {
		return slices.ContainsFunc(setAside, func(d snapshotDiscard) bool { return d.name == name })
	})
	for i, name := range names {
		if i >= maxSnapshotTries {
			// The vault keeps two; more were put there by someone else,
			// or the newest could not be used. The rest are left as they
			// are, unread (a file is discarded only for what was found
			// in it): the next start reads them if the newer ones are
			// gone by then.
			sn.logger.Warn("more state snapshot files than a start reads: left in place, unread; the start replays the custody log from its first event", "snapshot", filepath.Join(sn.dir, name))
			continue
		}
		l, err := sn.read(name, origin, verifier, size)
		if errors.Is(err, errSnapshotRead) {
			// The storage or the file's permissions refused it: no sign
			// that it changed, so it is left in place, not discarded.
			sn.logger.Error("a state snapshot could not be read: left in place, not used; the start resumes from an older snapshot or replays the custody log (check the storage, and that the file belongs to the service's user)", "snapshot", filepath.Join(sn.dir, name), "err", err)
			continue
		}
		var s *signedSnapshotError
		if errors.As(err, &s) {
			seen(s.cp)
		}
		if err == nil {
			seen(l.cp)
			sn.last = l.resume.Size
			if afterSnapshotRead != nil {
				afterSnapshotRead(filepath.Join(sn.dir, name))
			}
			return l, discards, signed
		}
		discards = append(discards, sn.pending(name, err))
	}
	return nil, discards, signed
}

// snapshotDiscard is a snapshot file a start found unfit, to be renamed
// *.discarded once the start goes on: the file as it was read (info) and
// why.
type snapshotDiscard struct {
	name string
	info os.FileInfo // nil if it could not be read
	why  error
}

// reason is the discard's reason as the custody log records it.
func (d snapshotDiscard) reason() string { return d.name + ": " + d.why.Error() }

// pending is the discard of the file name, as it is now, for why.
func (sn *snapshots) pending(name string, why error) snapshotDiscard {
	fi, _ := os.Lstat(filepath.Join(sn.dir, name))
	return snapshotDiscard{name: name, info: fi, why: why}
}

// discardAll renames the files of ds, each only if it is still the file
// the start read (a snapshot written since under its name is not
// discarded for it), then removes all but the newest discarded files
// (tidy). A snapshot this start is writing meanwhile is left alone.
func (sn *snapshots) discardAll(ds []snapshotDiscard) {
	for _, d := range ds {
		if fi, err := os.Lstat(filepath.Join(sn.dir, d.name)); err == nil && d.info != nil && os.SameFile(fi, d.info) {
			sn.discard(d.name, d.why)
		}
	}
	sn.tidy()
}

// signedSnapshotError is why a snapshot is not used, of a snapshot whose
// MAC held and which carried cp, a checkpoint the log's key signed.
type signedSnapshotError struct {
	cp  *events.Checkpoint
	err error
}

func (e *signedSnapshotError) Error() string { return e.err.Error() }
func (e *signedSnapshotError) Unwrap() error { return e.err }

// afterSnapshotRead, if set (by tests), is called with the path of the
// snapshot a start has read and will resume from.
var afterSnapshotRead func(path string)

// beforeSnapshotCheck, if set (by tests), is given the file a start read
// by its summary before checkSnapshotPages reads it, and returns what the
// check reads instead.
var beforeSnapshotCheck func(*os.File) *os.File

// openSnapshotFile opens a snapshot file to read, without following a
// link or blocking on a FIFO put in the folder (a variable: tests make
// the storage refuse it).
var openSnapshotFile = func(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
}

// maxSnapshotTries is how many snapshot files a start reads at most.
const maxSnapshotTries = 3

// maxDiscarded is how many discarded snapshot files are kept for whoever
// investigates; older ones are removed.
const maxDiscarded = 4

// removeTemps removes what a crash while writing a snapshot left (its
// temporary files). It runs before the start writes any: one being
// written (encode, then install on a goroutine of its own) is never
// removed under it.
func (sn *snapshots) removeTemps() {
	entries, err := os.ReadDir(sn.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, ".state-") && strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(sn.dir, name))
		}
	}
}

// tidy removes all but the newest discarded snapshots.
func (sn *snapshots) tidy() {
	entries, err := os.ReadDir(sn.dir)
	if err != nil {
		return
	}
	var discarded []os.DirEntry
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".discarded") {
			discarded = append(discarded, e)
		}
	}
	if len(discarded) <= maxDiscarded {
		return
	}
	mtime := func(e os.DirEntry) time.Time {
		fi, err := e.Info()
		if err != nil {
			return time.Time{}
		}
		return fi.ModTime()
	}
	slices.SortFunc(discarded, func(a, b os.DirEntry) int { return mtime(b).Compare(mtime(a)) })
	for _, e := range discarded[maxDiscarded:] {
		os.Remove(filepath.Join(sn.dir, e.Name()))
	}
}

// discard renames a snapshot that must not be used, logs why, and
// returns the reason as the custody log records it.
func (sn *snapshots) discard(name string, why error) string {
	path := filepath.Join(sn.dir, name)
	if err := os.Rename(path, path+".discarded"); err != nil {
		os.Remove(path)
	}
	if errors.Is(why, errOtherStateVersion) {
		sn.logger.Warn("a state snapshot of another version of the state was discarded (an upgrade): it is not used; a start resumes from an older snapshot or replays the custody log from its first event",
			"snapshot", path, "reason", why.Error())
	} else {
		sn.logger.Error("a state snapshot was discarded, not trusted: it is not used, and is kept as *.discarded for whoever investigates; a start resumes from an older snapshot or replays the custody log from its first event",
			"snapshot", path, "reason", why.Error())
	}
	return name + ": " + why.Error()
}

// read reads and checks one snapshot file: by its summary alone
// (readSummary) if it ends with one, as every snapshot of state version
// 14 on does; otherwise whole (readWhole), only to tell an older
// version's file (its MAC holds: discarded with a warning) from an
// altered one (an error): such a file is never used.
func (sn *snapshots) read(name, origin string, verifier note.Verifier, logSize uint64) (*loaded, error) {
	fd, err := openSnapshotFile(filepath.Join(sn.dir, name))
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EIO) {
		// Refused by the storage or the permissions: nothing was read.
		return nil, fmt.Errorf("%w: opening it: %w", errSnapshotRead, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening it: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	keep := false // the restored state reads its pages from f
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("it is not a regular file")
	}
	if fi.Size() < int64(len(snapshotMagic)+macLineLen) || fi.Size() > maxSnapshotSize {
		return nil, fmt.Errorf("a file of %d bytes is not a snapshot", fi.Size())
	}
	l, err := sn.readSummary(f, fi.Size(), name, origin, verifier, logSize)
	if errors.Is(err, errNoSummary) {
		// Read whole for the reason it is not used: another version's
		// (a warning), or altered (an error).
		var whole *loaded
		if whole, err = sn.readWhole(context.Background(), f, fi.Size(), name, origin, verifier, logSize); err == nil {
			err = &signedSnapshotError{cp: whole.cp, err: errors.New("it has no summary line, which every snapshot of this version has")}
		}
	}
	if err != nil {
		return nil, err
	}
	keep = l.state.pages != nil
	return l, nil
}

// errNoSummary: the file does not end with a summary line.
var errNoSummary = errors.New("no summary line")

// maxHeadLen bounds a snapshot's first two lines as readSummary reads
// them, before any MAC is checked: the header holds a checkpoint note and
// at most 255 hashes a level of the tree (about 140 KB at 2^64 events).
const maxHeadLen = 1 << 20

// readFirst reads a snapshot's first two lines (the magic line and the
// header) from the first n bytes of r, at most maxHeadLen of them.
func readFirst(r io.ReaderAt, n int64) ([]byte, error) {
	magic, line, err := readFirstLines(bufio.NewReader(io.NewSectionReader(r, 0, min(n, maxHeadLen))))
	if err != nil {
		return nil, err
	}
	return append([]byte(magic), line...), nil
}

// readFirstLines reads a snapshot's magic line and its header line.
func readFirstLines(br *bufio.Reader) (magic string, header []byte, err error) {
	magic, err = br.ReadString('\n')
	if err != nil || magic != snapshotMagic {
		return "", nil, errors.New("not a state snapshot (first line)")
	}
	header, err = br.ReadBytes('\n')
	if err != nil {
		return "", nil, errors.New("the header line is cut short")
	}
	return magic, header, nil
}

// readSummary reads and checks a snapshot by its summary (pageindex.go,
// docs/state-snapshots.md 2.2): its first two lines and its tail, the
// lines from the offset the summary line gives up to the summary line
// (the rest of the state and the page index), under the summary's MAC,
// checked before anything is parsed and again over the bytes parsed.
// Loading reads no page: the state reads them when it needs them, each
// checked against what the index gives of it, and checkSnapshotPages
// reads the whole file beside the running vault. errNoSummary if f has
// no summary line.
func (sn *snapshots) readSummary(f *os.File, size int64, name, origin string, verifier note.Verifier, logSize uint64) (*loaded, error) {
	tailEnd := size - macLineLen - summaryLineLen
	if tailEnd < int64(len(snapshotMagic)) {
		return nil, errNoSummary
	}
	line := make([]byte, summaryLineLen)
	if _, err := f.ReadAt(line, tailEnd); err != nil {
		return nil, errNoSummary
	}
	tailOff, want, ok := parseSummaryLine(line)
	if !ok {
		return nil, errNoSummary
	}
	first, err := readFirst(f, min(tailOff, tailEnd))
	if err != nil {
		return nil, err
	}
	if tailOff < int64(len(first)) || tailOff > tailEnd {
		return nil, fmt.Errorf("its summary line gives offset %d, outside the file", tailOff)
	}
	tailLen := tailEnd - tailOff
	got, err := summaryMAC(sn.key, first, tailOff, io.NewSectionReader(f, tailOff, tailLen), tailLen)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(got, want) {
		return nil, errors.New("its MAC does not match: it was altered, or not written by the vault holding this log's key")
	}
	mac := sn.key.mac()
	summaryInput(mac, first, tailOff, tailLen)
	digest := sha256.New()
	digest.Write(first)
	br := bufio.NewReaderSize(io.TeeReader(io.NewSectionReader(f, tailOff, tailLen), io.MultiWriter(mac, digest)), 1<<20)
	var h snapshotHeader
	hErr := json.Unmarshal(first[len(snapshotMagic):], &h)
	body := restorer{r: f, close: f.Close, indexed: true, pagesFrom: int64(len(first)), pagesTo: tailOff, sizes: entryHint(h, hErr, size, logSize)}
	bErr := decodeLines(br, tailOff, body.add)
	if errors.Is(bErr, errSnapshotRead) {
		return nil, bErr
	}
	if !hmac.Equal(mac.Sum(nil), want) {
		return nil, errors.New("it changed while it was read")
	}
	digest.Write(line)
	resume, cp, err := checkHeader(h, hErr, bErr, name, origin, verifier, logSize)
	if err != nil {
		return nil, err
	}
	st, err := body.state()
	if err != nil {
		return nil, err
	}
	// What checkSnapshotPages reads: the file, whatever becomes of the
	// descriptor the state reads its pages through.
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errSnapshotRead, err)
	}
	return &loaded{name: name, state: st, resume: resume, cp: cp, summary: hex.EncodeToString(digest.Sum(nil)),
		checkFile: os.NewFile(uintptr(fd), name), size: size}, nil
}

// entryHint returns the header's counts of entries, a hint only, bounded
// by what the file could hold (every entry takes at least 8 bytes of
// JSON) and by the log's size: the header was MAC-checked, but the file
// could change before the second read, whose MAC is checked at its end.
func entryHint(h snapshotHeader, hErr error, size int64, logSize uint64) snapshotEntries {
	e := h.Entries
	if hErr != nil || e == nil {
		return snapshotEntries{}
	}
	n := int(min(logSize, uint64(size/8)))
	c := func(k int) int { return max(0, min(k, n)) }
	return snapshotEntries{Items: c(e.Items), Cases: c(e.Cases),
		ItemEvents: c(e.ItemEvents), CaseEvents: c(e.CaseEvents), CaseOwn: c(e.CaseOwn)}
}

// checkHeader checks a snapshot's header (hErr: its parse error) against
// the log, once its MAC held, and returns where the tree resumes; bErr
// is the state lines' error, reported after the version (another
// version's body need not parse as this one's).
//
// An error of a header whose checkpoint the log's key signed is a
// *signedSnapshotError carrying it, whatever else is wrong (another
// version of the state, a log shorter than it): what the vault signed
// binds the log whether or not the snapshot is used.
func checkHeader(h snapshotHeader, hErr, bErr error, name, origin string, verifier note.Verifier, logSize uint64) (*sequencer.Resume, *events.Checkpoint, error) {
	var signed *events.Checkpoint
	cpErr := errors.New("not read")
	if hErr == nil && h.Origin == origin {
		signed, cpErr = events.ParseCheckpoint([]byte(h.Checkpoint), origin, verifier)
	}
	r, err := checkSignedHeader(h, hErr, bErr, name, origin, signed, cpErr, logSize)
	if err != nil && signed != nil {
		err = &signedSnapshotError{cp: signed, err: err}
	}
	return r, signed, err
}

// checkSignedHeader is checkHeader's work, with the header's checkpoint
// parsed and checked (cp, or why not: cpErr).
func checkSignedHeader(h snapshotHeader, hErr, bErr error, name, origin string, cp *events.Checkpoint, cpErr error, logSize uint64) (*sequencer.Resume, error) {
	if hErr == nil && h.StateVersion != stateVersion {
		return nil, fmt.Errorf("%w: it holds state version %d; this build reads version %d", errOtherStateVersion, h.StateVersion, stateVersion)
	}
	if hErr != nil || bErr != nil {
		return nil, fmt.Errorf("unreadable: %v", errors.Join(hErr, bErr))
	}
	if h.Origin != origin {
		return nil, fmt.Errorf("it is of log %q, not %q", h.Origin, origin)
	}
	if cpErr != nil {
		return nil, fmt.Errorf("its checkpoint: %w", cpErr)
	}
	var err error
	if cp.Size != h.Size || cp.Root.String() != h.Root {
		return nil, errors.New("its size and root are not those of its signed checkpoint")
	}
	if n, _ := snapshotSize(name); n != h.Size {
		return nil, fmt.Errorf("it is named for %d events but covers %d", n, h.Size)
	}
	if h.Size > logSize {
		return nil, fmt.Errorf("it covers %d events but the custody log holds %d", h.Size, logSize)
	}
	r := &sequencer.Resume{Size: cp.Size, Root: cp.Root}
	if r.Head, err = parseHash(h.Head); err != nil {
		return nil, fmt.Errorf("its head: %w", err)
	}
	for _, level := range h.Edge {
		hs := make([]events.Hash, len(level))
		for i, x := range level {
			if hs[i], err = parseHash(x); err != nil {
				return nil, fmt.Errorf("its tree edge: %w", err)
			}
		}
		r.Edge = append(r.Edge, hs)
	}
	return r, nil
}

// readWhole reads and checks a whole snapshot file of size bytes: its
// MAC over every byte before the last line, checked before anything is
// parsed and again over the bytes parsed, then every line, pages
// included, each checked against the others and against the page
// index, whose pages the state then reads from f (closed with the
// state). It is how a start tells why a file without a summary line (an
// older version's) is not used, and how checkSnapshotPages checks the
// file a start read by its summary. Reading stops with ctx.
func (sn *snapshots) readWhole(ctx context.Context, f *os.File, size int64, name, origin string, verifier note.Verifier, logSize uint64) (*loaded, error) {
	end := size - macLineLen
	want := make([]byte, macLineLen)
	if _, err := f.ReadAt(want, end); err != nil {
		if errors.Is(err, io.EOF) {
			// Shorter than when it was opened: changed, not unreadable.
			return nil, fmt.Errorf("it is cut short (%d bytes when opened)", size)
		}
		return nil, fmt.Errorf("%w: %w", errSnapshotRead, err)
	}
	// A summary line, if there is one, is not a line of the state; the
	// summary's bytes are hashed as they are parsed, for the caller to
	// compare with what a start read (checkSnapshotPages).
	body := end
	summary := make([]byte, summaryLineLen)
	digest := &summaryDigest{h: sha256.New(), tailOff: -1}
	if end-summaryLineLen >= int64(len(snapshotMagic)) {
		if _, err := f.ReadAt(summary, end-summaryLineLen); err == nil {
			if rest, _, ok := parseSummaryLine(summary); ok {
				body, digest.tailOff = end-summaryLineLen, rest
			}
		}
	}
	src := func(n int64) io.Reader { return ctxio.NewReader(ctx, io.NewSectionReader(f, 0, n)) }
	mac := sn.key.mac()
	if _, err := io.Copy(mac, src(end)); err != nil {
		return nil, fmt.Errorf("%w: %w", errSnapshotRead, err)
	}
	if !hmac.Equal(fmt.Appendf(nil, "mac %x\n", mac.Sum(nil)), want) {
		return nil, errors.New("its MAC does not match: it was altered, or not written by the vault holding this log's key")
	}
	mac.Reset()
	br := bufio.NewReaderSize(io.TeeReader(src(body), io.MultiWriter(mac, digest)), 1<<20)
	magic, line, err := readFirstLines(br)
	if err != nil {
		return nil, err
	}
	var h snapshotHeader
	hErr := json.Unmarshal(line, &h)
	r := restorer{r: f, close: f.Close, sizes: entryHint(h, hErr, size, logSize)}
	bErr := decodeLines(br, int64(len(magic)+len(line)), r.add)
	if errors.Is(bErr, errSnapshotRead) {
		// Cut short by the storage, not altered: say so (the reason
		// goes into server.started), not that it changed.
		return nil, bErr
	}
	if body != end {
		mac.Write(summary)
		digest.h.Write(summary)
	}
	if !hmac.Equal(fmt.Appendf(nil, "mac %x\n", mac.Sum(nil)), want) {
		return nil, errors.New("it changed while it was read")
	}
	resume, cp, err := checkHeader(h, hErr, bErr, name, origin, verifier, logSize)
	if err != nil {
		return nil, err
	}
	if body != end && r.tailAt != digest.tailOff {
		return nil, fmt.Errorf("its summary line gives offset %d, and its first line after the pages is at %d", digest.tailOff, r.tailAt)
	}
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	l := &loaded{name: name, state: st, resume: resume, cp: cp}
	if body != end {
		l.summary = hex.EncodeToString(digest.h.Sum(nil))
	}
	return l, nil
}

// summaryDigest hashes, of the bytes written to it from a snapshot's
// first on, those of the summary (section 2.2 of state-snapshots.md):
// the first two lines, and everything from offset rest on (the caller
// adds the summary line).
type summaryDigest struct {
	h        hash.Hash
	tailOff  int64 // -1: no summary
	off      int64 // of the next byte written
	newlines int   // seen so far, up to 2
}

func (d *summaryDigest) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && d.newlines < 2 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			d.h.Write(p)
			d.off += int64(len(p))
			return n, nil
		}
		d.h.Write(p[:i+1])
		d.off += int64(i + 1)
		p = p[i+1:]
		d.newlines++
	}
	if d.tailOff >= 0 && d.off+int64(len(p)) > d.tailOff {
		from := max(0, d.tailOff-d.off)
		d.h.Write(p[from:])
	}
	d.off += int64(len(p))
	return n, nil
}

// decodeLines decodes the state lines left in br and passes them to add
// in the file's order. Lines are decoded on up to GOMAXPROCS goroutines
// while add takes the ones before them: decoding is most of a start's
// work once the replay is gone. After a line that does not parse, br is
// still read to its end (the caller's MAC covers every byte, and tells a
// file changed under the reader from one the vault wrote wrong); after
// an error reading br, nothing more is read. The first error is
// returned once every goroutine is done.
//
// Each line is given with where it is: off is the offset of br's first
// byte in the file, and the line's SHA-256 is taken of the bytes decoded.
func decodeLines(br *bufio.Reader, off int64, add func(*snapState, lineAt) error) error {
	type decoded struct {
		part *snapState
		at   lineAt
		err  error
	}
	procs := runtime.GOMAXPROCS(0)
	queue := make(chan chan decoded, 2*procs) // in the file's order
	busy := make(chan struct{}, procs)
	var failed atomic.Bool // stop decoding, keep reading
	var wg sync.WaitGroup
	go func() {
		defer close(queue)
		for {
			line, err := br.ReadBytes('\n')
			if err == io.EOF && len(line) == 0 {
				return
			}
			if failed.Load() && err == nil {
				continue
			}
			res := make(chan decoded, 1)
			at := lineAt{off: off, size: len(line)}
			off += int64(len(line))
			queue <- res
			switch {
			case err == io.EOF:
				res <- decoded{err: errors.New("a line is cut short")}
				continue
			case err != nil:
				// The file cannot be read (its MAC cannot hold): a
				// reader error may well come back at every read.
				res <- decoded{err: fmt.Errorf("%w: %w", errSnapshotRead, err)}
				return
			}
			busy <- struct{}{}
			wg.Go(func() {
				defer func() { <-busy }()
				part := &snapState{}
				at.sum = sha256.Sum256(line)
				res <- decoded{part, at, decodeSnapState(line, part)}
			})
		}
	}()
	var first error
	for res := range queue {
		d := <-res
		if first != nil {
			continue
		}
		if first = d.err; first == nil {
			first = add(d.part, d.at)
		}
		if first != nil {
			failed.Store(true)
		}
	}
	wg.Wait()
	return first
}

// errSnapshotRead marks a snapshot file that could not be read to its
// end (an I/O error, not a change to its bytes).
var errSnapshotRead = errors.New("reading it")

func parseHash(s string) (events.Hash, error) {
	var h events.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%q is not a SHA-256 hash in hex", s)
	}
	copy(h[:], b)
	return h, nil
}

// decodeSnapState decodes a snapshot's state line. goccy/go-json reads
// them about three times as fast as encoding/json (a start's largest cost
// once the replay is gone); the lines are MAC-checked, every vault test
// reads its state back through this function (checkSnapshotRoundTrip),
// and a start from a snapshot is compared with a full replay in
// snapshot_test.go.
func decodeSnapState(b []byte, into *snapState) error { return gojson.Unmarshal(b, into) }
