package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/exportdir"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/events/witness"
	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/gcpace"
	"github.com/custos-vault/custos/internal/keyfile"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/internal/tempfiles"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/custos-vault/custos/vault/api"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/mod/sumdb/note"
)

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// runAuditVerify downloads the whole custody log and every checkpoint and
// checks them here, on the auditor's machine, with the same engine the
// offline verifier uses: the vault is not trusted to check itself.
func runAuditVerify(args []string, stdout, stderr io.Writer) error {
	return auditVerify(args, stdout, stderr, nil)
}

// verifyHooks lets a command that shows the log (audit log --store) run
// the audit first, in the same replay.
type verifyHooks struct {
	// tap is called with each event the replay accepts, in log order
	// (verify.Engine.OnEvent: it copies what it keeps of an event's
	// strings, or keeps the event's whole text).
	tap func(*events.Event)
	// findingsOnly is set where the audit failed on custody-rule
	// findings alone: every other check passed.
	findingsOnly bool
}

// auditVerify is audit verify, with hooks (nil for none).
func auditVerify(args []string, stdout, stderr io.Writer, hooks *verifyHooks) (err error) {
	// A failed audit of an export folder is said with its own advice
	// (exportFailedAdvice): a copy made by people fails alike.
	exported := false
	defer func() {
		if exported && errors.Is(err, errAuditFailed) {
			err = &exportFailure{err}
		}
	}()
	fs := newFlags("audit verify")
	var saved stringList
	fs.Var(&saved, "checkpoint", "a checkpoint saved earlier (outside the vault); prove the log extends it (give it more than once for several, such as your own and, with --store, the vault's sticky head)")
	save := fs.String("save-checkpoint", "", "write the newest verified checkpoint to this file; a checkpoint of this vault already there is replaced only once the log is proven to extend it, and a file holding anything else is not replaced")
	key := fs.String("key", "", "the log's verifier key to trust, its fingerprint, or a file holding it (as custos audit key > FILE writes it); default: the one the vault names, checked against the log's first event")
	tsaCert := fs.String("tsa-cert", "", "PEM certificate(s) of the time-stamping authorities you trust (their own or their CA): the newest checkpoint must carry a token of one of them")
	policyFile := fs.String("witness-policy", "", "a witness policy file (docs/witnesses.md): the newest checkpoint must carry its quorum's cosignatures")
	store := fs.String("store", "", "check the custody log in its store without the server: a SQLite file (the server's DATA/custody.db, or a copy), a PostgreSQL URL (postgres://...), or a folder custos audit export wrote, read-only; for a server that is stopped, refuses to start, or has halted its log, or a log exported to you; needs --key")
	var accept positionList
	fs.Var(&accept, "accept-finding", "an event position whose custody-rule finding you have looked into and accept (give it more than once for several): it is reported, and no longer fails the audit; every other check still applies to it (docs/operations.md, \"A rule finding\")")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("audit verify takes no arguments")
	}
	if *store != "" {
		switch {
		case *key == "":
			return usageErr("--store needs --key: the file is in the hands of whoever runs the server, and a log it holds names its own key; give the key you saved while the vault ran (custos audit key > vault.key) or the fingerprint the operators published")
		case *tsaCert != "" || *policyFile != "":
			if *tsaCert == "" && exportdir.IsExport(*store) {
				break // an export holds the vault's witnessed checkpoint
			}
			return usageErr("--store reads the log's own store, which holds no witness cosignatures or time-stamp tokens: check those with the server running (an export folder holds the witnessed checkpoint: --witness-policy works with it)")
		}
	}
	if n := countStdin(append([]string{*key, *tsaCert, *policyFile}, saved...)...); n > 1 {
		return usageErr("only one of the files may be standard input (-)")
	}
	tsaCerts, err := readTSACerts(*tsaCert)
	if err != nil {
		return err
	}
	var policy *witness.Policy
	if *policyFile != "" {
		b, err := keyfile.ReadText(*policyFile, "witness policy")
		if err != nil {
			return inputErr("--witness-policy", err)
		}
		if policy, err = witness.ParsePolicy(b); err != nil {
			return keyfile.Malformed(*policyFile, "witness policy", "witness policy", b, err)
		}
	}

	defer paceReplayGC()()

	var c *client
	var k api.KeyResponse
	var local *localLog
	// earlyWarnings are said on stderr as found, and in the answer's
	// warnings too.
	var earlyWarnings []string
	if *store != "" {
		if local, err = openLocalLog(*store); err != nil {
			return err
		}
		defer local.Close()
		k = local.key
		exported = local.export
		if local.export {
			// Files taken from the folder vouch for nothing: it names
			// any key, and holds any checkpoint, its maker chose. A
			// checkpoint from it is one of its own, checked as they
			// all are, and counts for nothing more (neither yours nor
			// the vault's head, whatever its name).
			for _, f := range append([]string{*key}, saved...) {
				if insideFolder(f, local.path) {
					w := fmt.Sprintf("%s is inside the export %s itself, which holds whatever key and checkpoints its maker chose, and counts for nothing beyond it: give the key (or its fingerprint) the vault's operators published, and a checkpoint you or they kept apart from the export", f, local.path)
					fmt.Fprintf(stderr, "warning: %s\n", w)
					earlyWarnings = append(earlyWarnings, w)
				}
			}
			saved = slices.DeleteFunc(saved, func(f string) bool { return insideFolder(f, local.path) })
		}
	} else if c, k, err = clientAndLogKey(); err != nil {
		if errors.As(err, new(*unreachableError)) {
			return fmt.Errorf("%w; a vault that is stopped, or refuses to start, is audited from its log store: custos audit verify --store DATA/custody.db (or a postgres:// URL) --key vault.key", err)
		}
		if errors.Is(err, errNoServer) {
			return fmt.Errorf("%w. Without the vault, an export folder (custos audit export) or the log's store is checked with --store DIR --key KEY", err)
		}
		return err
	}
	if *key != "" {
		if err := keyTrusted(*key, k.Key, "nothing of the log was checked"); err != nil {
			if *asJSON && errors.Is(err, errAuditFailed) {
				json.NewEncoder(stdout).Encode(verifyFailure{OK: false, Error: strings.TrimPrefix(err.Error(), errAuditFailed.Error()+": ")})
			}
			return err
		}
	}
	if local != nil && local.export {
		// The folder's own key file is what its maker wrote: one that
		// is not the log's says the folder was put together.
		named, problem := exportKeyFile(local.path)
		if problem == "" && named != k.Key {
			problem = fmt.Sprintf("the export's key file names another key than the log's first event (%q): the folder was put together from more than one export, or its key file was replaced; the audit checks the log against the key you gave", cut(named, 100))
		}
		if problem != "" {
			fmt.Fprintf(stderr, "warning: %s\n", problem)
			earlyWarnings = append(earlyWarnings, problem)
		}
	}
	verifier, err := note.NewVerifier(k.Key)
	if err != nil {
		return fmt.Errorf("vault log key: %w", err)
	}
	// The stored checkpoints are read as the replay reaches them
	// (auditfeed.go): an audit holds a bounded number of them.
	var cps api.CheckpointsResponse
	var feed *checkpointFeed
	var goal uint64
	if local != nil {
		if cps, feed, goal, err = local.checkpoints(); err != nil {
			if *asJSON && errors.Is(err, errAuditFailed) {
				json.NewEncoder(stdout).Encode(verifyFailure{OK: false, Error: strings.TrimPrefix(err.Error(), errAuditFailed.Error()+": ")})
			}
			return err
		}
	} else if cps, feed, goal, err = serverCheckpoints(c); err != nil {
		return err
	}
	defer feed.close()
	eng := verify.New(k.Origin, verifier)
	// unsure is the answer where the store was written while it was read
	// as a file nobody writes (localLog.written): what was read may mix
	// two states of it, so nothing found is a finding, and no pass a
	// pass.
	unsure := func() error {
		err := local.written()
		if *asJSON {
			json.NewEncoder(stdout).Encode(verifyFailure{OK: false, Events: eng.Size(), Error: err.Error()})
		}
		return err
	}
	fail := func(err error) error {
		if local != nil && local.written() != nil {
			return unsure()
		}
		if *asJSON {
			out := verifyFailure{OK: false, Events: eng.Size(), Error: err.Error()}
			var p *verify.Problem
			if errors.As(err, &p) {
				out.Event = &p.Seq
			}
			json.NewEncoder(stdout).Encode(out)
		}
		return fmt.Errorf("%w: %v", errAuditFailed, err)
	}
	// given are the saved checkpoints given with --checkpoint, in the
	// order given; the log must extend each.
	var given []savedCheckpoint
	if local != nil {
		// The sticky head's copies in the data folder's file object
		// store, which a start compares too (before the keyring's, which
		// a failure then names where both commit to the same size).
		for _, c := range slices.Backward(local.objectHeads) {
			if !slices.ContainsFunc(saved, func(f string) bool { return sameFile(f, c) }) {
				saved = append(saved, c)
			}
		}
	}
	if local != nil && local.head != "" && !slices.ContainsFunc(saved, func(f string) bool { return sameFile(f, local.head) }) {
		// The sticky head beside the store's file is checked too: the
		// vault's own record of its newest checkpoint, which an
		// administrator who cut the store short must roll back as well.
		saved = append(saved, local.head)
	}
	for _, file := range saved {
		// Saved and mailed checkpoints come back with CRLF, a byte-order
		// mark or trailing blanks (normalised); a damaged one is malformed,
		// not a signature the log fails.
		b, err := local.savedBytes(file)
		if err != nil {
			return inputErr("--checkpoint", err)
		}
		ext, err := events.ParseCheckpoint(b, k.Origin, verifier)
		if err != nil {
			whose := "it was changed after it was saved, or it is another vault's"
			if origin, _, _ := strings.Cut(string(b), "\n"); origin != k.Origin && origin != "" {
				whose = fmt.Sprintf("it is of the log %q, this log is %q: another vault's", cut(origin, 100), k.Origin)
			}
			return fail(fmt.Errorf("saved checkpoint %s does not carry this vault's signature (%v): %s; the log itself was not checked", file, err, whose))
		}
		if err := eng.AddCheckpoint(b, savedLabel(file)); err != nil {
			return fail(err)
		}
		given = append(given, savedCheckpoint{ext, file, isStickyHead(file)})
	}
	// A vault writes its head before its first event and never removes
	// it: without it, a store cut back to an older checkpoint passes
	// every other check here. The audit fails on it after the rest is
	// checked, so that what the store holds is reported all the same.
	var headMissing error
	if local != nil && local.headMissing != "" && !slices.ContainsFunc(given, savedCheckpoint.isHead) {
		headMissing = fmt.Errorf("the vault's sticky head was not found: %s. A vault keeps it from before its first event (releases since 2026-11-30), so someone removed it; "+
			"that is how a log is cut back to an older checkpoint unnoticed. The events the store holds were checked%s, but not that none were cut from its end", local.headMissing, map[bool]string{true: " against your checkpoint", false: ""}[slices.ContainsFunc(given, savedCheckpoint.isOwn)])
	}
	if local != nil && !slices.ContainsFunc(given, savedCheckpoint.isOwn) && *save == "" {
		// Without a checkpoint kept outside the vault, the store's own
		// signatures prove its events, not that none were cut from its
		// end by someone who also rolled back the vault's own records.
		fmt.Fprintln(stderr, "note: no checkpoint of your own was given (--checkpoint FILE, as an earlier audit's --save-checkpoint wrote it): this proves the events the store holds are the log's, not that none were removed from its end together with the vault's own records")
	}
	// The file --save-checkpoint replaces may hold the auditor's only
	// copy of an earlier checkpoint: the log must extend it too, or it is
	// kept. A file that holds anything else is not replaced at all.
	var previous *events.Checkpoint
	var target saveTarget
	// extended are every saved checkpoint the log must extend: those
	// given, then the one --save-checkpoint replaces.
	extended := func() []*events.Checkpoint {
		var out []*events.Checkpoint
		for _, g := range given {
			out = append(out, g.Checkpoint)
		}
		if previous != nil {
			out = append(out, previous)
		}
		return out
	}
	if *save != "" {
		if local != nil && local.export && slices.ContainsFunc(saved, func(f string) bool { return sameFile(f, *save) }) {
			// The checkpoint an expert was given is evidence: kept as it
			// came, never replaced by one of the export's.
			return usageErr("--save-checkpoint %s would replace the checkpoint you gave with --checkpoint, which came with the export: keep it as it is, and save to a file of your own", *save)
		}
		if target, err = readSaveTarget(*save, saved); err != nil {
			return inputErr("--save-checkpoint", err)
		}
		if target.note != nil {
			if previous, err = events.ParseCheckpoint(target.note, k.Origin, verifier); err != nil {
				return fail(fmt.Errorf("your earlier checkpoint in %s (--save-checkpoint) is not signed by the key the vault now serves (%v): the vault's log key changed since it was saved, or the file is another vault's; it was left as it is", *save, err))
			}
			if err := eng.AddCheckpoint(target.note, "the earlier checkpoint in "+*save+", which --save-checkpoint replaces"); err != nil {
				return fail(err)
			}
		}
	}
	if cps.Newest != "" {
		what := "the checkpoint the vault signed as this audit began"
		if local != nil {
			what = "the store's batch seal"
		}
		if err := eng.AddCheckpoint([]byte(cps.Newest), what); err != nil {
			return fail(err)
		}
	}
	if len(tsaCerts) > 0 {
		if cps.Timestamped == "" {
			return fail(errors.New("the vault gave no time-stamped checkpoint: it is not configured with a time-stamping authority (--tsa)"))
		}
		if err := eng.AddCheckpoint([]byte(cps.Timestamped), "the time-stamped checkpoint"); err != nil {
			return fail(err)
		}
	}
	var witnessed *events.Checkpoint
	if policy != nil {
		if cps.Witnessed == "" && local != nil {
			return fail(fmt.Errorf("the export %s holds no witnessed checkpoint (no file %s): the vault had no witnesses when it was made, or the file was left out", local.path, filepath.Join(local.path, exportWitnessedFile)))
		}
		if cps.Witnessed == "" {
			return fail(errors.New("the vault gave no witnessed checkpoint: it is not configured with witnesses (--witness or --witness-policy)"))
		}
		if witnessed, err = events.ParseCheckpoint([]byte(cps.Witnessed), k.Origin, verifier); err != nil {
			return fail(fmt.Errorf("the witnessed checkpoint: %v", err))
		}
		// The replay checks its root against the log like any other.
		if err := eng.AddCheckpoint([]byte(cps.Witnessed), "the witnessed checkpoint"); err != nil {
			return fail(err)
		}
	}
	// A saved checkpoint is said with the time of the log it holds: its
	// last event's, which the replay reads.
	lastAt := map[uint64]time.Time{}
	for _, ext := range extended() {
		if ext.Size > 0 {
			lastAt[ext.Size-1] = time.Time{}
		}
	}
	if local != nil && local.export && goal > 0 {
		// The time of the export's last event: what it is the log as of.
		lastAt[goal-1] = time.Time{}
	}
	asOf := func(size uint64) string {
		if size == 0 {
			return ""
		}
		if t := lastAt[size-1]; !t.IsZero() {
			return "the log as of " + custody.TimeText(t)
		}
		return ""
	}
	findings := &ruleFindings{accepted: map[uint64]bool{}}
	// Configuration changes are said once: those before the auditor's
	// newest saved checkpoint were said at the audit that saved it.
	for _, g := range given {
		if g.isOwn() {
			findings.changesSince = max(findings.changesSince, g.Size)
		}
	}
	if previous != nil {
		findings.changesSince = max(findings.changesSince, previous.Size)
	}
	for _, n := range accept {
		findings.accepted[n] = true
	}
	var tap func(*events.Event)
	if hooks != nil {
		tap = hooks.tap
	}
	res, err := replayLog(c, local, eng, feed, goal, k, lastAt, findings, tap, progress(stderr, *asJSON, -1, "reading the log"))
	if err != nil {
		var rerr *replayError
		if errors.As(err, &rerr) {
			var p *verify.Problem
			if errors.As(rerr.err, &p) {
				for _, g := range given {
					if g.Size == p.Checkpoint && p.Checkpoint > 0 {
						p.Reason += findings.rollbackAdvice(g.Checkpoint)
						if local != nil && local.export && g.Size > eng.Size() {
							p.Reason += fmt.Sprintf(". An export holds the log up to its newest checkpoint as it was made (%d events here%s): if the checkpoint given was saved after the export was made, this is no finding: ask for a newer export; if before, events it covers were removed from the export", eng.Size(), strings.Replace(asOf(eng.Size()), "the log as of", ", the last of", 1))
						}
						break
					}
				}
			}
			return fail(rerr.err)
		}
		return err
	}
	if err := res.Covered(); err != nil {
		return fail(err)
	}
	if local != nil {
		if err := local.uncovered(res.Events); err != nil {
			return fail(err)
		}
	}
	if headMissing != nil {
		return fail(headMissing)
	}
	// The replay already proved the log extends the saved checkpoints; the
	// vault's consistency proofs must agree with it too.
	if local == nil {
		if err := checkConsistency(c, extended(), res.Latest); err != nil {
			return fail(err)
		}
	}
	var wout *witnessedOutput
	if policy != nil {
		if wout, err = checkWitnessed(policy, cps, witnessed, res.Latest.Size); err != nil {
			if local != nil && witnessed.Size < res.Latest.Size {
				err = fmt.Errorf("%v: in the export, events %d to %d are covered by the vault's key alone, not by witnesses; ask for an export made once the vault's witnesses cosigned its newest checkpoint", err, witnessed.Size, res.Latest.Size-1)
			}
			return fail(err)
		}
	}
	var stamps []timestampOutput
	if len(tsaCerts) > 0 {
		if stamps, err = checkTimestamps(cps, k.Origin, verifier, tsaCerts); err != nil {
			return fail(err)
		}
	}
	replaced := false
	if *save != "" {
		if replaced, err = target.write(res.Latest.Note); err != nil {
			return fmt.Errorf("--save-checkpoint %s: %w", *save, err)
		}
	}
	// What the rules forbid, last: every other check has run, and the
	// checkpoint --save-checkpoint asked for is saved (the log's
	// integrity is proven; a finding is of what it records).
	if err := findings.err(); err != nil {
		if hooks != nil && (local == nil || local.written() == nil) {
			hooks.findingsOnly = true
		}
		return fail(err)
	}
	if local != nil && local.written() != nil {
		return unsure()
	}
	out := verifyOutput{OK: true, KeyPinned: *key != "", Events: res.Events, Checkpoints: res.Checkpoints,
		Root: hex.EncodeToString(res.Root[:]), RootBase64: base64.StdEncoding.EncodeToString(res.Root[:]), Origin: k.Origin, Key: k.Key, Fingerprint: pkgformat.KeyFingerprint(k.Key)}
	// extends_checkpoint is the largest saved checkpoint the log was
	// proven to extend, extends_checkpoints each of them, in the order
	// given (--checkpoint, then the one --save-checkpoint replaces).
	for _, ext := range extended() {
		out.ExtendsCheckpoints = append(out.ExtendsCheckpoints, ext.Size)
		if out.ExtendsCheckpoint == nil || ext.Size > *out.ExtendsCheckpoint {
			out.ExtendsCheckpoint = &ext.Size
		}
	}
	out.Witnessed = wout
	out.Timestamps = stamps
	for _, rb := range findings.acceptedSeen {
		out.Warnings = append(out.Warnings, fmt.Sprintf("custody-rule finding accepted (--accept-finding %d): %s", rb.Seq, rb.Error()))
	}
	// A rollback the operators accepted is a fork every holder of a
	// checkpoint of the history given up can prove: said at every audit,
	// so that no auditor learns of it only when an old checkpoint fails.
	for _, r := range findings.rollbacks {
		lost := fmt.Sprintf("events %d to %d", r.Size, r.LostSize-1)
		if r.LostSize <= r.Size {
			lost = "an unknown number of events (its head was missing)"
		}
		out.Warnings = append(out.Warnings, fmt.Sprintf("the log records, at event %d, an accepted rollback (custos admin accept-rollback): the vault continued from %d events and gave up %s, because %q", r.seq, r.Size, lost, r.Reason))
	}
	out.Warnings = append(out.Warnings, earlyWarnings...)
	out.IntegrityFailures = findings.integrity.total
	out.Warnings = append(out.Warnings, findings.integrityWarnings()...)
	out.HashSetsUnused = findings.unused.total
	out.Warnings = append(out.Warnings, findings.unusedWarnings()...)
	out.ConfigurationChanges = findings.changes.total
	out.ApprovedDecisions = findings.approvals
	out.Warnings = append(out.Warnings, findings.configWarnings()...)
	out.SnapshotsDiscarded = findings.discards.total
	out.Warnings = append(out.Warnings, findings.discardWarnings()...)
	out.Warnings = append(out.Warnings, findings.unstoppedWarnings()...)
	if local != nil {
		// Without the vault's sticky head, a store cut short after the
		// newest checkpoint it was compared with passes: said in the
		// answer, which passes still (exit 0: nothing found is wrong).
		compared := slices.ContainsFunc(given, savedCheckpoint.isHead)
		out.StickyHeadCompared = &compared
		if !compared {
			var newest *events.Checkpoint
			for _, g := range given {
				if !g.head && (newest == nil || g.Size > newest.Size) {
					newest = g.Checkpoint
				}
			}
			if previous != nil && (newest == nil || previous.Size > newest.Size) {
				newest = previous
			}
			own := ""
			if newest != nil {
				own = "your saved checkpoint of " + sizeAsOf(newest.Size, asOf)
			}
			out.Warnings = append(out.Warnings, local.headNotCompared(own))
		}
	}
	which, extends := savedSummary(given, previous != nil, asOf)
	text := fmt.Sprintf("ok: %d events, hash chain intact, %d %s match the tree\nroot %s\n     (base64 %s, as the checkpoint note writes it)", res.Events, res.Checkpoints, which, out.Root, out.RootBase64)
	if extends != "" {
		text += "; the log extends " + extends
	}
	if out.StickyHeadCompared != nil && !*out.StickyHeadCompared {
		text += "; NOT compared with the vault's sticky head (see the warning below)"
	}
	if local != nil && local.export {
		text += fmt.Sprintf("\nchecked: %s (the log%s) of the export folder %s, every event it holds, read without the server, up to the newest checkpoint in it; an export holds no lookup values, so those the store keeps were not compared; log key fingerprint %s", eventRange(res.Events), strings.TrimPrefix(asOf(res.Events), "the log"), local.path, out.Fingerprint)
	} else if local != nil {
		text += fmt.Sprintf("\nchecked: %s of %s (every event it holds), read without the server, up to the newest signed checkpoint there (its stored checkpoints and batch seal); log key fingerprint %s", eventRange(res.Events), local.path, out.Fingerprint)
	} else {
		text += fmt.Sprintf("\nchecked: %s, up to the checkpoint the vault signed as this audit began (events added since are for the next audit); log key fingerprint %s", eventRange(res.Events), out.Fingerprint)
	}
	if *key == "" {
		text += " (taken from the vault: give --key to pin the one you were given)"
	} else {
		text += " (the key you gave with --key)"
	}
	text += fmt.Sprintf("\ncustody rules: every event was allowed where it stands (docs/custody-log.md section 7, step 8), %s a custodian other than who asked approved among them", plural(findings.approvals, "decision"))
	if n := len(findings.acceptedSeen); n > 0 {
		text += fmt.Sprintf("; %s accepted (see the warnings below)", plural(n, "finding"))
	}
	if previous != nil {
		text += fmt.Sprintf("; the log extends the checkpoint of %s that %s held", sizeAsOf(previous.Size, asOf), *save)
	}
	if *save != "" {
		verb := "saved"
		if replaced {
			verb = "saved (replacing the file there)"
		}
		text += fmt.Sprintf("\n%s the checkpoint of %d events to %s: keep it outside the vault, and give it with --checkpoint next time", verb, res.Latest.Size, *save)
	}
	if wout != nil {
		verdict := policy.Check([]byte(cps.Witnessed))
		text += fmt.Sprintf("\nwitnessed: the checkpoint of %d events is %s", wout.Size, policy.Describe(verdict))
		var times []string
		for _, name := range verdict.Cosigned {
			if t, ok := wout.CosignedAt[name]; ok {
				times = append(times, name+" at "+t)
			}
		}
		if len(times) > 0 {
			text += "; cosigned " + strings.Join(times, ", ")
		}
	}
	for _, st := range stamps {
		text += fmt.Sprintf("\ntime-stamped: the checkpoint of %d events existed at %s, says %s (RFC 3161)", st.Size, st.text, st.TSA)
	}
	for _, w := range out.Warnings {
		text += "\nwarning: " + w
	}
	return printResult(stdout, *asJSON, out, text)
}

// checkConsistency asks the vault for a consistency proof from each
// saved checkpoint to latest (GET /v1/log/consistency) and verifies it
// (RFC 9162 section 2.1.4): the replay proved the log extends them, and
// the vault's own proofs must agree.
func checkConsistency(c *client, saved []*events.Checkpoint, latest *events.Checkpoint) error {
	for _, ext := range saved {
		if ext.Size == 0 {
			continue
		}
		var cr api.ConsistencyResponse
		q := url.Values{"from": {strconv.FormatUint(ext.Size, 10)}, "to": {strconv.FormatUint(latest.Size, 10)}}
		if err := c.call("GET", "/v1/log/consistency", q, nil, &cr); err != nil {
			return err
		}
		proof := make([][]byte, len(cr.Proof))
		for i, h := range cr.Proof {
			proof[i], _ = hex.DecodeString(h)
		}
		if err := events.VerifyConsistency(ext.Size, latest.Size, proof, ext.Root, latest.Root); err != nil {
			return fmt.Errorf("consistency proof from the saved checkpoint of %d events: %v", ext.Size, err)
		}
	}
	return nil
}

// checkWitnessed checks the witnessed checkpoint against the policy: it
// must be of the log's newest checkpoint (latest, its size) and carry
// the quorum's cosignatures (docs/witnesses.md). It returns what the
// audit reports of it, or why it fails, with what the vault says of each
// missing witness.
func checkWitnessed(policy *witness.Policy, cps api.CheckpointsResponse, witnessed *events.Checkpoint, latest uint64) (*witnessedOutput, error) {
	verdict := policy.Check([]byte(cps.Witnessed))
	wout := &witnessedOutput{Size: witnessed.Size, Quorum: policy.Quorum, Cosigned: orEmpty(verdict.Cosigned), Missing: orEmpty(verdict.Missing),
		CosignedAt: map[string]string{}}
	for name, t := range verdict.Times {
		wout.CosignedAt[name] = t.Format(time.RFC3339)
	}
	if witnessed.Size < latest {
		// An older witnessed checkpoint proves nothing of the events
		// after it: the vault could have rewritten them unseen.
		return nil, fmt.Errorf("the witnessed checkpoint covers %d events, but the log's newest checkpoint %d: the vault did not have its newest checkpoint witnessed", witnessed.Size, latest)
	}
	if !verdict.Satisfied {
		msg := fmt.Sprintf("the newest checkpoint (%d events) lacks its witness quorum: %s", witnessed.Size, policy.Describe(verdict))
		for _, w := range policy.Witnesses {
			if !slices.Contains(verdict.Missing, w.Name) {
				continue
			}
			for _, st := range cps.Witnesses {
				if st.Key == witness.KeyID(w.Key) && st.LastError != "" {
					msg += fmt.Sprintf("; the vault reports of witness %s: %s", w.Name, printable.Terminal(st.LastError))
				}
			}
		}
		return nil, errors.New(msg)
	}
	return wout, nil
}

// checkTimestamps verifies the RFC 3161 tokens the vault keeps for its
// time-stamped checkpoint against the TSA certificates the auditor
// trusts (docs/timestamps.md): at least one must be of one of them. It
// returns the tokens that verified, or why none did.
func checkTimestamps(cps api.CheckpointsResponse, origin string, verifier note.Verifier, tsaCerts []*x509.Certificate) ([]timestampOutput, error) {
	var stamps []timestampOutput
	cp, err := events.ParseCheckpoint([]byte(cps.Timestamped), origin, verifier)
	if err != nil {
		return nil, fmt.Errorf("the time-stamped checkpoint: %v", err)
	}
	msg, err := events.LogSigned(cp.Note, verifier)
	if err != nil {
		return nil, fmt.Errorf("the time-stamped checkpoint: %v", err)
	}
	var errs []string
	for i, b64 := range cps.Timestamps {
		tok, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("time-stamp token %d is not base64", i+1)
		}
		a, err := tsa.Verify(tok, msg, tsaCerts)
		if errors.Is(err, tsa.ErrUntrustedSigner) {
			errs = append(errs, fmt.Sprintf("token %d: %v", i+1, err))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("time-stamp token %d over the checkpoint of %d events: %v", i+1, cp.Size, err)
		}
		stamps = append(stamps, timestampOutput{Size: cp.Size, Time: a.Time.UTC().Format(time.RFC3339Nano), Accuracy: a.Accuracy.String(), TSA: printable.Terminal(a.Subject),
			text: pkgformat.WithAccuracy(a.Time, a.Accuracy)})
	}
	if len(cps.Timestamps) == 0 {
		return nil, fmt.Errorf("the vault has no time-stamp token for its newest checkpoint (%d events): its time-stamping authorities did not answer (the server's log and custos_tsa_failures_total say why)", cp.Size)
	}
	if len(stamps) == 0 {
		return nil, fmt.Errorf("the newest checkpoint (%d events) carries no time-stamp token of a TSA whose certificate was given (%d token(s): %s)", cp.Size, len(cps.Timestamps), strings.Join(errs, "; "))
	}
	return stamps, nil
}

// saveTarget is the file --save-checkpoint writes, as it was when the
// audit began.
type saveTarget struct {
	// path is the file to replace: the name given, or, for a symbolic
	// link, the file it leads to (so that a link to removable media
	// keeps leading to the newest checkpoint).
	path string
	// stream: the name is a pipe, a terminal or another file that is
	// not a regular one, written through as before (nothing to keep).
	stream bool
	// existed and perm: whether a regular file was there, and its
	// permission bits, kept when it is replaced.
	existed bool
	perm    os.FileMode
	// raw is the file's bytes as read at the start; note, the earlier
	// checkpoint they hold, normalised (nil for an empty file, or the
	// --checkpoint file itself, which the audit already checks).
	raw, note []byte
}

// savedCheckpoint is a checkpoint given with --checkpoint, from file:
// one the auditor kept outside the vault, or the vault's sticky head.
type savedCheckpoint struct {
	*events.Checkpoint
	file string
	head bool
}

func (c savedCheckpoint) isHead() bool { return c.head }
func (c savedCheckpoint) isOwn() bool  { return !c.head }

// savedSummary words what a passed audit checked besides the vault's own
// checkpoints: which ("signed checkpoints (the vault's and your saved
// one)") and what the log was proven to extend ("the saved checkpoint of
// 12 events (the log as of 2026-12-05 12:56:10 UTC) and the vault's
// sticky head (14 events, the log as of ..., FILE)", "" for none).
// previous counts the checkpoint --save-checkpoint replaces among yours.
// asOf words the time of the log a checkpoint of that size holds ("the
// log as of 2026-12-05 12:56:10 UTC"; "" where it is not known).
func savedSummary(given []savedCheckpoint, previous bool, asOf func(size uint64) string) (which, extends string) {
	var own []string
	head := false
	for _, g := range given {
		if g.head {
			head = true
		} else {
			own = append(own, sizeAsOf(g.Size, asOf))
		}
	}
	yours := len(own)
	if previous {
		yours++
	}
	var also []string
	if head {
		also = append(also, "its sticky head")
	}
	switch {
	case yours == 1:
		also = append(also, "your saved one")
	case yours > 1:
		also = append(also, fmt.Sprintf("your %d saved ones", yours))
	}
	which = "signed checkpoints"
	if len(also) > 0 {
		which += " (the vault's and " + strings.Join(also, " and ") + ")"
	}
	var parts []string
	switch len(own) {
	case 0:
	case 1:
		parts = append(parts, "the saved checkpoint of "+own[0])
	default:
		parts = append(parts, "the saved checkpoints of "+strings.Join(own[:len(own)-1], ", ")+" and "+own[len(own)-1])
	}
	for _, g := range given {
		if g.head {
			at := ""
			if a := asOf(g.Size); a != "" {
				at = ", " + a
			}
			parts = append(parts, fmt.Sprintf("%s (%d events%s, %s)", headLabel(g.file), g.Size, at, g.file))
		}
	}
	return which, strings.Join(parts, " and ")
}

// sizeAsOf words a saved checkpoint by its size and, where asOf knows
// it, the time of the log it holds: "22 events (the log as of
// 2026-12-05 12:56:10 UTC)".
func sizeAsOf(size uint64, asOf func(uint64) string) string {
	s := strconv.FormatUint(size, 10) + " events"
	if a := asOf(size); a != "" {
		s += " (" + a + ")"
	}
	return s
}

// readSaveTarget reads what --save-checkpoint name would replace. A
// regular file that holds anything but a checkpoint is refused, so that
// no file is lost to a mistyped name.
func readSaveTarget(name string, checked []string) (saveTarget, error) {
	t := saveTarget{path: name, perm: 0o644}
	st, err := os.Stat(name) // through links
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A link to a file not made yet (on removable media) is followed:
		// the new file is made where it leads, the link kept.
		for i := 0; i < 40; i++ {
			lst, lerr := os.Lstat(t.path)
			if lerr != nil || lst.Mode()&fs.ModeSymlink == 0 {
				break
			}
			dest, rerr := os.Readlink(t.path)
			if rerr != nil {
				return t, fmt.Errorf("--save-checkpoint: %w", rerr)
			}
			if !filepath.IsAbs(dest) {
				dest = filepath.Join(filepath.Dir(t.path), dest)
			}
			t.path = dest
		}
		return t, nil
	case err != nil:
		return t, fmt.Errorf("--save-checkpoint: %w", err)
	case st.IsDir():
		return t, usageErr("--save-checkpoint %s is a folder: give a file name", name)
	case !st.Mode().IsRegular():
		t.stream = true
		return t, nil
	}
	if t.path, err = filepath.EvalSymlinks(name); err != nil {
		return t, fmt.Errorf("--save-checkpoint: %w", err)
	}
	t.existed, t.perm = true, st.Mode().Perm()
	raw, err := keyfile.ReadFile(t.path, "checkpoint")
	if err != nil {
		return t, err
	}
	t.raw = raw // compared again before replacing
	if len(raw) == 0 || slices.ContainsFunc(checked, func(c string) bool { return sameFile(name, c) }) {
		// Nothing to prove here: an empty file, or a --checkpoint file,
		// which the audit checks already.
		return t, nil
	}
	note, err := keyfile.ParseCheckpoint(name, raw)
	if err != nil {
		return t, fmt.Errorf("--save-checkpoint %s: the file exists and does not hold a checkpoint (%v); it was left as it is and the log was not checked: give another file name", name, err)
	}
	t.note = note
	return t, nil
}

// write saves note to the target: a stream is written through; a regular
// file is replaced atomically (durable.ReplaceMode, its permission bits
// kept), and only if it still holds what it held when the audit began,
// so that an audit that ran alongside and saved a newer checkpoint is
// never undone by this one. It reports whether a file was replaced.
func (t saveTarget) write(note []byte) (bool, error) {
	if t.stream {
		return false, os.WriteFile(t.path, note, 0o644)
	}
	now, err := os.ReadFile(t.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if t.existed {
			return false, errors.New("the file was removed while the audit ran; nothing was saved: run the audit again")
		}
	case err != nil:
		return false, err
	case !t.existed:
		return false, errAppeared
	case !bytes.Equal(now, t.raw):
		return false, errors.New("the file changed while the audit ran (another audit saving to it?); it was left as it is: run the audit again")
	}
	if !t.existed {
		// A new file, made as any other (the umask applies), and only if
		// no other file took the name meanwhile.
		return false, writeNewFile(t.path, note)
	}
	// Atomically: a crash while saving leaves the earlier checkpoint,
	// never half of either.
	return true, durable.ReplaceMode(t.path, note, t.perm)
}

// writeNewFile writes b to a file that must not exist yet, with mode
// 0644 less the umask (durable.Create).
func writeNewFile(path string, b []byte) error {
	err := durable.Create(path, b, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return errAppeared
	}
	return err
}

// errAppeared: the file --save-checkpoint was to make exists by now.
var errAppeared = errors.New("a file of that name appeared while the audit ran (another audit saving to it?); it was left as it is: run the audit again")

// countStdin counts the values that are "-" (standard input).
func countStdin(values ...string) int {
	n := 0
	for _, v := range values {
		if v == "-" {
			n++
		}
	}
	return n
}

// sameFile reports whether a and b name one existing file.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// eventRange names the first n events.
func eventRange(n uint64) string {
	if n == 0 {
		return "no events"
	}
	return fmt.Sprintf("events 0 to %d", n-1)
}

// checkGenesis checks that the log's first event names the key the vault
// served, so that a vault cannot swap keys under an auditor who did not
// pin one.
func checkGenesis(b []byte, k api.KeyResponse) error {
	return verify.CheckGenesis(b, k.Origin, k.Key)
}

// runAuditKey prints the vault's log key: the note verifier key that signs
// its checkpoints and packages, its origin, and its fingerprint
// (pkgformat.KeyFingerprint), to pin with custos-verify --key.
func runAuditKey(args []string, stdout io.Writer) error {
	fs := newFlags("audit key")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("audit key takes no arguments")
	}
	_, k, err := clientAndLogKey()
	if err != nil {
		return err
	}
	v, err := note.NewVerifier(k.Key)
	if err != nil || v.Name() != k.Origin {
		return fmt.Errorf("the vault answered a log key that is not a verifier key of its origin %q", k.Origin)
	}
	fp := pkgformat.KeyFingerprint(k.Key)
	out := keyOutput{Key: k.Key, Origin: k.Origin, Fingerprint: fp}
	// The key alone on the first line; the rest are comments, so that the
	// output saved to a file is a trusted-keys file for custos-verify.
	return printResult(stdout, *asJSON, out, fmt.Sprintf("%s\n# origin %s\n# fingerprint %s", k.Key, k.Origin, fp))
}

func runAuditScrub(args []string, stdout io.Writer) error {
	fs := newFlags("audit scrub")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := newClient()
	if err != nil {
		return err
	}
	var res api.ScrubResponse
	if err := c.call("POST", "/v1/audit/scrub", nil, nil, &res); err != nil {
		return err
	}
	text := fmt.Sprintf("%s, %s and %s re-hashed against the events that recorded them: ", plural(res.Objects, "item"), plural(res.Packages, "package"), plural(res.HashSets, "hash set"))
	if res.OK {
		text += "all match"
	} else {
		text += fmt.Sprintf("%d altered, %d missing, %d that no event accounts for", len(res.Mismatched), len(res.Missing), len(res.Unaccounted))
		if n := len(res.Foreign); n > 0 {
			entries := "entries"
			if n == 1 {
				entries = "entry"
			}
			text += fmt.Sprintf("; %d %s in the object store's place that no store writes (someone with the store's own access put them there): %s",
				n, entries, cut(strings.Join(res.Foreign, "; "), 2000))
		}
		if n := len(res.KeysAltered); n > 0 {
			text += fmt.Sprintf("; %s in the keyring folder not the one the log recorded (a case key rewritten or removed under the vault; its replicas are judged against the record too): %s",
				plural(n, "key file"), cut(strings.Join(res.KeysAltered, "; "), 2000))
		}
		if n := len(res.LocksWeakened); n > 0 {
			text += fmt.Sprintf("; %s whose protection in the store is weaker than the vault set (a legal hold off, put back; a retention shorter than recorded; a lock that cannot be read): %s",
				plural(n, "object"), cut(strings.Join(res.LocksWeakened, "; "), 2000))
		}
		if res.Incomplete != "" {
			text += "; the scrub could not read the whole store, so it is incomplete (what it found is recorded): " + res.Incomplete
		}
		if n := len(res.HashSetsAltered); n > 0 {
			text += fmt.Sprintf("; %s altered on disk and taken out of use until imported again: %s", plural(n, "hash set"), strings.Join(res.HashSetsAltered, ", "))
		}
	}
	if n := len(res.HashSetsOutOfUse); n > 0 {
		text += fmt.Sprintf("; %s out of use since found altered or unreadable, not re-hashed: %s (custos hashset list says why; import each again or remove it)", plural(n, "hash set"), strings.Join(res.HashSetsOutOfUse, ", "))
	}
	if n := len(res.RetainedDestroyed); n > 0 {
		text += fmt.Sprintf("; %s of destroyed cases still stored until their retention ends (unreadable)", plural(n, "object"))
	}
	if res.InFlight > 0 {
		text += fmt.Sprintf("; %s being written by deposits or packages under way, not judged", plural(res.InFlight, "object"))
	}
	if res.AwaitingSweep > 0 {
		text += fmt.Sprintf("; %s of interrupted or refused deposits, recorded as kept by the store until their pending retention ends (a start after that deletes them)", plural(res.AwaitingSweep, "object"))
	}
	if err := printResult(stdout, *asJSON, res, text); err != nil {
		return err
	}
	if !res.OK {
		msg := fmt.Sprintf("mismatched %v, missing %v, unaccounted %v, hash sets altered %v", res.Mismatched, res.Missing, res.Unaccounted, res.HashSetsAltered)
		if len(res.Foreign) > 0 {
			msg += fmt.Sprintf(", foreign [%s]", cut(strings.Join(res.Foreign, "; "), 500))
		}
		if len(res.KeysAltered) > 0 {
			msg += fmt.Sprintf(", keys altered [%s]", cut(strings.Join(res.KeysAltered, "; "), 500))
		}
		if len(res.LocksWeakened) > 0 {
			msg += fmt.Sprintf(", locks weakened [%s]", cut(strings.Join(res.LocksWeakened, "; "), 500))
		}
		if res.Incomplete != "" {
			msg += ", incomplete: " + res.Incomplete
		}
		return fmt.Errorf("%w: %s", errAuditFailed, msg)
	}
	return nil
}

func runAuditLog(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit log")
	caseID := fs.String("case", "", "only this case's events")
	item := fs.String("item", "", "only this item's events")
	person := fs.String("person", "", "only the events by this person or naming them (their enrolment, suspension, assignments, packages for them, requests they asked), their refused attempts included")
	since := fs.String("since", "", "only the events recorded at or after this time: a date (2026-12-05, midnight UTC) or an RFC 3339 time (2026-12-05T12:56:00Z)")
	verbose := fs.Bool("verbose", false, "also print each event's data and credential")
	store := fs.String("store", "", "read the log without the server, as audit verify --store does (a SQLite file, a PostgreSQL URL, or a folder custos audit export wrote), once it passes that audit; needs --key")
	key := fs.String("key", "", "with --store: the log's verifier key to trust, its fingerprint, or a file holding it")
	var saved stringList
	fs.Var(&saved, "checkpoint", "with --store: a checkpoint saved earlier, which the log must extend (as audit verify --checkpoint)")
	policyFile := fs.String("witness-policy", "", "with --store DIR (an export): the witness policy whose quorum must have cosigned its newest checkpoint (as audit verify --witness-policy)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("audit log takes no arguments")
	}
	if *store == "" && (*key != "" || len(saved) > 0 || *policyFile != "") {
		return usageErr("--key, --checkpoint and --witness-policy are for a log read without the server: give --store too")
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, *since); err != nil {
				return usageErr("--since %q is neither a date (2026-12-05) nor an RFC 3339 time (2026-12-05T12:56:00Z)", cut(*since, 80))
			}
		}
		from = t
	}
	var out api.TimelineResponse
	if *store != "" {
		evs, err := storeTimeline(*store, *key, saved, *policyFile, *caseID, *item, *person, from, stderr)
		if err != nil {
			return err
		}
		out.Events = evs
		if *asJSON {
			return json.NewEncoder(stdout).Encode(out)
		}
		printTimeline(stdout, out.Events, *verbose)
		return nil
	}
	c, err := newClient()
	if errors.Is(err, errNoServer) {
		return fmt.Errorf("%w. Without the vault, the timeline of an export folder (custos audit export) or of the log's store is read with --store DIR --key KEY", err)
	}
	if err != nil {
		return err
	}
	q := url.Values{}
	if *caseID != "" {
		q.Set("case", *caseID)
	}
	if *item != "" {
		q.Set("item", *item)
	}
	if err := c.call("GET", "/v1/log/timeline", q, nil, &out); err != nil {
		return err
	}
	out.Events = filterTimeline(out.Events, *person, from)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	printTimeline(stdout, out.Events, *verbose)
	return nil
}

// filterTimeline keeps the events by person or naming them (all when
// person is ""), recorded at or after from.
func filterTimeline(evs []*events.Event, person string, from time.Time) []*events.Event {
	if person == "" && from.IsZero() {
		return evs
	}
	kept := evs[:0]
	for _, ev := range evs {
		if timelineKeeps(ev, person, from) {
			kept = append(kept, ev)
		}
	}
	return kept
}

// timelineKeeps reports whether ev is by person or names them (any when
// person is ""), recorded at or after from.
func timelineKeeps(ev *events.Event, person string, from time.Time) bool {
	return (person == "" || custody.NamesPerson(ev, person)) && !ev.Timestamp().Before(from)
}

// printTimeline prints events for people: one line each, with time (UTC),
// its position in the log, who and how they signed in, what they did in
// words (custody.Describe, as the custody report and the web application
// word it), the case, the item and its name, and what the event says of
// it (its purpose, reason, target); with verbose, the event's type, data
// and full credential below.
func printTimeline(w io.Writer, evs []*events.Event, verbose bool) {
	names := map[string]string{}
	for _, ev := range evs {
		if ev.Type == "item.deposited" {
			var d struct {
				Name string `json:"name"`
			}
			if ev.DecodeData(&d) == nil {
				names[ev.Item] = d.Name
			}
		}
	}
	for _, ev := range evs {
		who := ev.Actor.Person
		if who == "" {
			who = "(not signed in)"
		}
		t := ev.Timestamp().UTC().Format("2006-01-02 15:04:05 UTC")
		// Data that breaks the grammar every reader applies (repeated
		// members) is described by its type alone; --verbose prints it
		// as stored.
		action, purpose, details := custody.DescribeWithPurpose(ev)
		line := fmt.Sprintf("%s  #%-5d %-16s %-20s %s", t, ev.Seq, who, ev.Actor.Role+"/"+ev.Actor.Auth, action)
		if ev.Case != "" {
			line += "  case " + ev.Case
		}
		if ev.Item != "" {
			line += "  item " + ev.Item
			if n := names[ev.Item]; n != "" {
				line += " " + displayName(n)
			}
		}
		if details != "" {
			line += ": " + details
		}
		if purpose != "" {
			line += "; purpose " + purpose
		}
		fmt.Fprintln(w, printable.Terminal(line))
		if verbose {
			a, _ := json.Marshal(ev.Actor)
			fmt.Fprintf(w, "    type  %s\n    actor %s\n    data  %s\n", ev.Type, a, ev.Data)
		}
	}
}

// clientAndLogKey connects as the environment says and fetches the log's
// key as the vault names it (GET /v1/log/key).
func clientAndLogKey() (*client, api.KeyResponse, error) {
	var k api.KeyResponse
	c, err := newClient()
	if err != nil {
		return nil, k, err
	}
	err = c.call("GET", "/v1/log/key", nil, nil, &k)
	return c, k, err
}

// logExportOutput is what audit export prints with --json (keys in sorted
// order, as TestOutputKeyOrder wants of every output).
type logExportOutput struct {
	Checkpoints    int    `json:"checkpoints"`
	Dir            string `json:"dir"`
	Events         uint64 `json:"events"`
	KeyFingerprint string `json:"key_fingerprint"`
	// NewestCheckpoint is the file of the newest checkpoint written (the
	// one the export is cut at), to hand over apart from the folder.
	NewestCheckpoint string `json:"newest_checkpoint"`
}

// exportReadme is README.txt of an audit export.
const exportReadme = `Custody log export (custos audit export)

This folder holds what a verifier outside the vault needs to check the
custody log, as docs/custody-log.md specifies it (sections 2 to 7 and 11):

key
    The log's verifier key, one line NAME+HASH+BASE64 (section 5.1). Its
    name is the log's origin. Compare it with the key or fingerprint you
    obtained from the vault's operators, not from this folder: this file
    is what the vault served.

events.ndjson
    Every event of the log up to the newest checkpoint, in sequence order
    (seq 0, 1, 2, ...), each exactly as stored, followed by one newline
    (section 2). Hash these bytes without the newline (section 3); never
    re-encode them. Event 0 (log.opened) names the key.

checkpoints/
    Every signed checkpoint the vault stored, as issued (section 5), one
    file each, named by its tree size in 20 decimal digits. A second,
    different checkpoint of a size already seen (which a sound vault never
    issues) is kept beside the first as SIZE-2, SIZE-3, ...

witnessed (only when the vault has witnesses)
    The newest checkpoint with its witnesses' cosignature lines (section
    5.9, docs/witnesses.md).

To verify with Custos, on any machine and without the vault:

    custos audit verify --store THIS_FOLDER --key KEY [--checkpoint FILE]

KEY being the key or fingerprint you obtained from the vault's operators
(not the key file in this folder, which is what the vault served), and
FILE a checkpoint kept apart from this folder: the log must extend it, so
no event up to its size was changed or cut. A copy of this folder's
newest checkpoint, handed over apart from it (custos audit export names
it), proves that none was cut from its end; one taken later is larger
than the export, which then fails against it (ask for a newer export). Copy the
folder as bytes (a zip or tar file): a copy that rewrites line ends
changes the events. custos audit log --store THIS_FOLDER --key KEY
--item ITEM shows an item's custody timeline once the folder passes.
docs/operations.md, "Auditing without the vault", says more.

To verify otherwise: check each checkpoint's signature with the key (section 5.4),
replay the events (section 7: decoding, seq, prev, leaf hashes, tree) and
check that the tree of every checkpoint's size has its root, and that the
newest checkpoint covers every event here. Consistency proofs between any
two sizes can be recomputed from the events (section 6).
`

// runAuditExport writes the custody log, its stored checkpoints and its
// key into a new folder, for a verifier outside the vault (README.txt in
// it says what each file is). The export is cut at the newest stored
// checkpoint, so that it is complete and consistent even while the vault
// appends: every exported event is covered by a checkpoint in it.
func runAuditExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit export")
	dir := fs.String("o", "", "the folder to write: new, or empty")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usageErr("audit export takes no arguments")
	} else if *dir == "" {
		return usageErr("audit export needs -o DIR: the new folder to write the log into")
	}
	// The folder first: a mistake in -o is found before the vault is asked.
	out, err := startExport(*dir)
	if err != nil {
		return err
	}
	defer out.close()
	tmp := out.tmp
	c, k, err := clientAndLogKey()
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(k.Key)
	if err != nil || verifier.Name() != k.Origin {
		return fmt.Errorf("the vault answered a log key that is not a verifier key of its origin %q", k.Origin)
	}
	if err := os.WriteFile(filepath.Join(tmp, "key"), []byte(k.Key+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "README.txt"), []byte(exportReadme), 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(tmp, "checkpoints"), 0o755); err != nil {
		return err
	}
	// The events are cut at the largest size a checkpoint signed by the
	// key covers; the checkpoints themselves are all written as served,
	// valid or not: judging them is the verifier's work. They are written
	// as the answer arrives, none held (a busy vault stores millions).
	var covered uint64
	haveCovered := false
	resp, err := c.get("/v1/log/checkpoints", nil)
	if err != nil {
		return err
	}
	var cps api.CheckpointsResponse
	i, written := 0, 0
	err = readCheckpointsAnswer(resp.Body, &cps, nil, func(b []byte) error {
		i++
		_, size, err := events.PeekCheckpoint(b)
		if err != nil {
			return fmt.Errorf("checkpoint %d the vault served is not a checkpoint note: %v", i, err)
		}
		if p, err := events.ParseCheckpoint(b, k.Origin, verifier); err == nil && (!haveCovered || p.Size > covered) {
			covered, haveCovered = p.Size, true
		}
		w, err := writeExportCheckpoint(filepath.Join(tmp, "checkpoints"), size, b)
		if w {
			written++
		}
		return err
	})
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("the vault's checkpoints: %w", err)
	}
	if cps.Witnessed != "" {
		if err := os.WriteFile(filepath.Join(tmp, "witnessed"), []byte(cps.Witnessed), 0o644); err != nil {
			return err
		}
	}
	if !haveCovered {
		return fmt.Errorf("the vault served no checkpoint signed by its log key %q: nothing to export that a verifier could check", k.Key)
	}
	n, err := exportEvents(c, filepath.Join(tmp, "events.ndjson"), covered, progress(stderr, *asJSON, -1, "exporting the log"))
	if err != nil {
		return err
	}
	if err := out.finish(); err != nil {
		return err
	}
	fp := pkgformat.KeyFingerprint(k.Key)
	newest := filepath.Join(*dir, "checkpoints", fmt.Sprintf("%020d", covered))
	return printResult(stdout, *asJSON, logExportOutput{Dir: *dir, Events: n, Checkpoints: written, KeyFingerprint: fp, NewestCheckpoint: newest},
		fmt.Sprintf("%s, %s and the log key (fingerprint %s) written to %s; %s says what each file is.\n"+
			"Hand over, apart from the folder (another message, a letter), the key's fingerprint and a copy of its newest checkpoint, %s (%s, signed by the vault's key): "+
			"given with --checkpoint, it proves no event was cut from the folder's end",
			plural(int(n), "event"), plural(written, "checkpoint"), fp, *dir, filepath.Join(*dir, "README.txt"), newest, plural(int(covered), "event")))
}

// writeExportCheckpoint writes note, a checkpoint of size events, into
// dir as NNNNNNNNNNNNNNNNNNNN (the size, 20 digits), or with -2, -3 ...
// after it when another note of that size is there; the same note twice
// is written once.
func writeExportCheckpoint(dir string, size uint64, note []byte) (written bool, err error) {
	name := fmt.Sprintf("%020d", size)
	for n := 2; ; n++ {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, err = f.Write(note)
			return true, errors.Join(err, f.Close())
		}
		if !errors.Is(err, os.ErrExist) {
			return false, err
		}
		if there, err := os.ReadFile(filepath.Join(dir, name)); err != nil || bytes.Equal(there, note) {
			return false, err // nil: the same note twice
		}
		name = fmt.Sprintf("%020d-%d", size, n)
	}
}

// exportEvents writes the first n events the vault serves (GET
// /v1/log/events), each as stored and followed by "\n", to path. Fewer
// than n is an error: a checkpoint covers events the vault did not send.
func exportEvents(c *client, path string, n uint64, bar *progressbar.ProgressBar) (uint64, error) {
	defer bar.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var got uint64
	if n > 0 {
		resp, err := c.get("/v1/log/events", url.Values{"from": {"0"}})
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), events.MaxEventSize+1)
		w := bufio.NewWriterSize(io.MultiWriter(f, bar), 1<<20)
		for got < n && sc.Scan() {
			w.Write(sc.Bytes())
			if err := w.WriteByte('\n'); err != nil {
				return got, err
			}
			got++
		}
		if err := sc.Err(); err != nil {
			return got, fmt.Errorf("reading the log after %d events: %v", got, err)
		}
		if err := w.Flush(); err != nil {
			return got, err
		}
	}
	if got < n {
		return got, fmt.Errorf("the vault sent %d events, but its newest checkpoint covers %d", got, n)
	}
	if err := f.Sync(); err != nil {
		return got, err
	}
	bar.Finish()
	return got, f.Close()
}

// readTSACerts reads a --tsa-cert file: the PEM certificates of the
// time-stamping authorities the user trusts; nil for "". A file that is
// missing or not PEM certificates is an input error (exit 2).
func readTSACerts(path string) ([]*x509.Certificate, error) {
	if path == "" {
		return nil, nil
	}
	b, err := keyfile.ReadText(path, "TSA certificate")
	if err != nil {
		return nil, inputErr("--tsa-cert", err)
	}
	certs, err := tsa.ParseCertificatesPEM(b)
	if err != nil {
		return nil, keyfile.Malformed(path, "TSA certificate", keyfile.KindPEM, b, err)
	}
	return certs, nil
}

// keyTrusted checks the log key the vault served against a --key flag's
// value (the key, its fingerprint, or a file holding either): a value
// that is no key is an input error (exit 2), another key an audit
// finding (errAuditFailed), whose message ends with unchecked (what was
// not checked). A pasted key may carry a byte-order mark or a line end;
// the file custos audit key writes is taken too.
func keyTrusted(flagValue, served, unchecked string) error {
	trusted, err := pkgformat.TrustedKeysFlag("--key", flagValue)
	if err != nil {
		return inputErr("--key", err)
	}
	if slices.ContainsFunc(trusted, func(t string) bool { return pkgformat.KeyMatches(t, served) }) {
		return nil
	}
	var names []string
	for _, t := range trusted {
		names = append(names, "fingerprint "+pkgformat.TrustedFingerprint(t))
	}
	return keyNotTrusted{fmt.Errorf("%w: the vault's log key (fingerprint %s) is not the key you trust (%s): the key you were given was mistyped or is another vault's, or this vault's key is not the one it was given to you as; %s",
		errAuditFailed, pkgformat.KeyFingerprint(served), strings.Join(names, ", "), unchecked)}
}

// keyNotTrusted is keyTrusted's finding: the audit failed before it read
// the log, and the first thing to check is the key the auditor typed.
type keyNotTrusted struct{ error }

func (e keyNotTrusted) Unwrap() error { return e.error }

// exportFolder is an export (audit export, audit timestamps) being
// written into a temporary folder beside its destination dir: finish
// moves it into place, and close, deferred, removes it unless finished.
type exportFolder struct {
	tmp, dir string
	held     *os.File
	untrack  func()
	done     bool
}

// startExport refuses an -o dir that is not a new or empty folder in a
// folder that exists (an input mistake: exit 2), and makes the
// temporary folder the export is written into, removed if the run is
// interrupted (tempfiles.Track) and held while it runs, so that another
// run's sweep of unfinished exports leaves it (tempfiles.Hold).
func startExport(dir string) (*exportFolder, error) {
	tmp, err := prepareExportDir(dir)
	if err != nil {
		return nil, err
	}
	e := &exportFolder{tmp: tmp, dir: dir, untrack: tempfiles.Track(tmp)}
	if d, err := os.Open(tmp); err == nil {
		tempfiles.Hold(d)
		e.held = d
	}
	return e, nil
}

// finish moves the finished export into place (finishExportDir).
func (e *exportFolder) finish() error {
	if err := finishExportDir(e.tmp, e.dir); err != nil {
		return err
	}
	e.done = true
	return nil
}

// close removes the temporary folder of an export not finished.
func (e *exportFolder) close() {
	if !e.done {
		os.RemoveAll(e.tmp)
	}
	e.untrack()
	if e.held != nil {
		e.held.Close()
	}
}

// prepareExportDir refuses an existing dir that is not an empty folder,
// and makes the temporary folder beside it that the export is written
// into (finishExportDir moves it into place).
func prepareExportDir(dir string) (string, error) {
	if fi, err := os.Lstat(dir); err == nil {
		if !fi.IsDir() {
			return "", inputErr("-o", fmt.Errorf("%s exists and is not a folder; refusing to overwrite it", dir))
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return "", fmt.Errorf("cannot read the folder %s: %v", dir, unwrapPath(err))
		}
		if len(ents) > 0 {
			return "", inputErr("-o", fmt.Errorf("the folder %s is not empty; give a new or empty folder", dir))
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if fi, err := os.Stat(parent); err != nil || !fi.IsDir() {
		return "", inputErr("-o", fmt.Errorf("cannot write %s: the folder %s does not exist", dir, parent))
	}
	prefix := "." + filepath.Base(filepath.Clean(dir)) + ".partial-"
	for _, p := range tempfiles.Sweep(parent, prefix, 2*time.Second) {
		fmt.Fprintf(os.Stderr, "custos: removed %s, an unfinished export an interrupted one left\n", p)
	}
	tmp, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", outputErr(fmt.Errorf("cannot write %s: the folder %s does not take new files (%v)", dir, parent, unwrapPath(err)), err)
	}
	return tmp, nil
}

// finishExportDir moves the finished export into place, in place of an
// empty folder dir if there is one.
func finishExportDir(tmp, dir string) error {
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if fi, err := os.Lstat(dir); err == nil && fi.IsDir() {
		// Empty when checked; os.Remove refuses a folder that is not.
		if err := os.Remove(dir); err != nil {
			return fmt.Errorf("the folder %s is no longer empty; the export was not written", dir)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("cannot write %s: %v", dir, unwrapPath(err))
	}
	return nil
}

// replayGCPace is how far audit verify's Go heap may grow between
// collections unless its user set GOGC or GOMEMLIMIT: by as much as the
// live heap, as Go's default lets it, and by at least 64 MiB. A
// replay's live heap is small (the batches of events in flight, some 40
// to 60 MiB) and its garbage is every event's decoding, about a kilobyte
// an event: at Go's default it collected every 50 MB or so, and the
// collector, with the page faults of a heap emptied and filled again,
// took about a seventh of the CLI's CPU in an audit of 10^7 events; the
// pace takes about an eighth off it (docs/benchmarks.md, "the audit timed
// after the start's checks, and audit verify's collector paced by a
// floor"). Its resident memory stays well within the 256 MiB an audit is
// allowed.
var replayGCPace = gcpace.Pace{Percent: 100, Floor: 64 << 20}

// paceReplayGC is setReplayGC, a variable for the test that checks that
// audit verify paces its collector.
var paceReplayGC = setReplayGC

// setReplayGC paces the collector by replayGCPace, unless GOGC or
// GOMEMLIMIT is set, and returns the function that stops the pace and
// puts back the target the process had before.
func setReplayGC() (stop func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	before := debug.SetGCPercent(100)
	debug.SetGCPercent(before)
	ctx, cancel := context.WithCancel(context.Background())
	replayGCPace.Run(ctx)
	return func() {
		cancel()
		debug.SetGCPercent(before)
	}
}
