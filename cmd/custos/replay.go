package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
	"github.com/custos-vault/custos/events/verify"
	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/schollz/progressbar/v3"
)

// replayBatch is how many events audit verify hands the engine at once
// (about 4 MiB of a typical log), and replayBatchBytes the most bytes of
// events it gathers into one (edited stored values can make events and
// lookup values large): with two batches queued behind the one replayed,
// what the replay holds stays within about 64 MiB.
const (
	replayBatch      = 8192
	replayBatchBytes = 16 << 20
)

// replayError is a finding of the replay (the log or the stream fails a
// check), as against a failure to reach the vault.
type replayError struct{ err error }

func (e *replayError) Error() string { return e.err.Error() }

// logBatch is a run of consecutive events as the vault served them: their
// stored bytes, the lookup values stored beside them (nil from a vault
// without the records stream), and the read's error after them, if any.
type logBatch struct {
	bytes   [][]byte
	lookups []api.Lookup
	err     error
}

// replayLog reads the whole custody log from the vault and replays it
// into eng, checking the first event against the vault's key and every
// event's lookup values against its signed bytes, and returns the
// engine's result. The log is read from GET /v1/log/records, one stream
// with both, on a goroutine of its own, so that reading overlaps the
// replay; a vault without that route (an older version) is read from GET
// /v1/log/events and /v1/log/lookups. Findings are *replayError: the
// engine's first (the replay stops there), then every lookup value that
// disagrees.
//
// It reads the events the newest checkpoint given to eng covers
// (Engine.Goal): events appended since that checkpoint was signed are for
// the next audit (without the bound, an audit of a vault in use would
// find events no checkpoint covers).
//
// For each position lastAt holds (the last event of a saved checkpoint),
// the replay fills in the time of the event at that position, as the
// event states it. tap, if not nil, is called with each event the replay
// accepts, after the rules saw it.
func replayLog(c *client, local *localLog, eng *verify.Engine, feed *checkpointFeed, goal uint64, k api.KeyResponse, lastAt map[uint64]time.Time, rules *ruleFindings, tap func(*events.Event), bar *progressbar.ProgressBar) (*verify.Result, error) {
	defer bar.Close()
	upto := max(eng.Goal(), goal)
	var batches <-chan logBatch
	stop := make(chan struct{})
	defer close(stop)
	lookups := &lookupCheck{}
	var resp *http.Response
	if local == nil {
		q := url.Values{"from": {"0"}, "to": {strconv.FormatUint(upto, 10)}}
		var err error
		if resp, err = c.getOptional("/v1/log/records", q); err != nil {
			return nil, err
		}
	}
	if local != nil {
		rc := local.records(upto)
		defer rc.Close()
		batches = readRecords(io.TeeReader(rc, bar), upto, stop)
		if local.export {
			// An export holds the events alone: no lookup values to
			// check (the audit says so).
			lookups = &lookupCheck{off: true}
		}
	} else if resp != nil && isRecordsStream(resp) {
		defer resp.Body.Close()
		batches = readRecords(io.TeeReader(resp.Body, bar), upto, stop)
	} else {
		if resp != nil {
			resp.Body.Close()
		}
		// An older vault may not know "to": the first upto lines are read.
		q := url.Values{"from": {"0"}, "to": {strconv.FormatUint(upto, 10)}}
		eresp, err := c.get("/v1/log/events", q)
		if err != nil {
			return nil, err
		}
		defer eresp.Body.Close()
		lresp, err := c.get("/v1/log/lookups", q)
		if err != nil {
			return nil, err
		}
		defer lresp.Body.Close()
		lookups = newLineLookupCheck(lresp.Body)
		batches = readLines(io.TeeReader(eresp.Body, bar), upto, stop)
	}
	// The positions to time, in order: one comparison an event on the
	// replay's hot path, the time parsed only where one is.
	at := slices.Sorted(maps.Keys(lastAt))
	// What the log records must also have been allowed where it stands
	// (vault.CustodyRules): each event that was not is a finding, kept
	// while the replay checks the rest.
	eng.OnEvent(func(ev *events.Event) {
		lookups.next(ev)
		rules.check(ev)
		if tap != nil {
			tap(ev)
		}
		for len(at) > 0 && at[0] < ev.Seq {
			at = at[1:]
		}
		if len(at) > 0 && at[0] == ev.Seq {
			lastAt[ev.Seq] = ev.Timestamp()
		}
	})
	first := true
	for b := range batches {
		if first && len(b.bytes) > 0 {
			first = false
			if err := checkGenesis(b.bytes[0], k); err != nil {
				return nil, &replayError{err}
			}
		}
		lookups.queue = b.lookups
		// The stored checkpoints the batch reaches, before it.
		if err := feed.upto(eng, eng.Size()+uint64(len(b.bytes))); err != nil {
			return nil, &replayError{err}
		}
		if err := eng.AddBatch(b.bytes); err != nil {
			return nil, &replayError{err}
		}
		if b.err != nil {
			return nil, &replayError{fmt.Errorf("reading the log after %d events: %v", eng.Size(), b.err)}
		}
	}
	bar.Finish()
	if err := feed.rest(eng); err != nil {
		return nil, &replayError{err}
	}
	res, err := eng.Finish()
	if err != nil {
		return nil, &replayError{err}
	}
	// While the answers are open: the line streams' check reads on.
	if err := lookups.finish(); err != nil {
		return nil, &replayError{err}
	}
	return res, nil
}

// isRecordsStream reports whether the vault answered with a records
// stream (a vault that predates it may answer its web application's page).
func isRecordsStream(resp *http.Response) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == logstream.MediaType
}

// readRecords reads a records stream into batches on a goroutine of its
// own, until the stream ends, fails, holds n records (a vault that sends
// more than the "to" it was asked for is not read further), or stop is
// closed.
func readRecords(r io.Reader, n uint64, stop <-chan struct{}) <-chan logBatch {
	rd := logstream.NewReader(r)
	return batches(n, true, stop, func() ([]byte, api.Lookup, error) {
		rec, err := rd.Next()
		return rec.Bytes, api.Lookup{Seq: rec.Seq, ID: rec.ID, Case: rec.Case, Item: rec.Item}, err
	})
}

// readLines is readRecords for GET /v1/log/events (one event per line,
// no lookup values), up to its first n lines.
func readLines(r io.Reader, n uint64, stop <-chan struct{}) <-chan logBatch {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), events.MaxEventSize+1)
	return batches(n, false, stop, func() ([]byte, api.Lookup, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return nil, api.Lookup{}, err
			}
			return nil, api.Lookup{}, io.EOF
		}
		return append([]byte(nil), sc.Bytes()...), api.Lookup{}, nil
	})
}

// batches gathers what next reads (an event's bytes and, withLookups, its
// lookup values) into batches of at most replayBatch events and
// replayBatchBytes bytes, on a goroutine of its own, until next answers
// io.EOF or an error (passed on with the batch before it), n events were
// read, or stop is closed.
func batches(n uint64, withLookups bool, stop <-chan struct{}, next func() ([]byte, api.Lookup, error)) <-chan logBatch {
	out := make(chan logBatch, 2)
	go func() {
		defer close(out)
		var read uint64
		for {
			b := logBatch{bytes: make([][]byte, 0, replayBatch)}
			if withLookups {
				b.lookups = make([]api.Lookup, 0, replayBatch)
			}
			size, ended := 0, false
			for len(b.bytes) < replayBatch && size < replayBatchBytes {
				if read == n {
					ended = true
					break
				}
				ev, lk, err := next()
				if err != nil {
					if err != io.EOF {
						b.err = err
					}
					ended = true
					break
				}
				b.bytes = append(b.bytes, ev)
				size += len(ev)
				if withLookups {
					b.lookups = append(b.lookups, lk)
					size += len(lk.ID) + len(lk.Case) + len(lk.Item)
				}
				read++
			}
			select {
			case out <- b:
			case <-stop:
				return
			}
			if ended {
				return
			}
		}
	}()
	return out
}

// getOptional is get for a route an older vault may lack: a 404 answer
// is (nil, nil).
func (c *client) getOptional(path string, q url.Values) (*http.Response, error) {
	resp, err := c.get(path, q)
	var se *statusError
	if errors.As(err, &se) && se.code == http.StatusNotFound {
		return nil, nil
	}
	return resp, err
}

// ruleFindings are the events of a replay that the custody rules did not
// allow where they stand (vault.CustodyRules): the first
// shownRuleFindings kept to name, all counted. accepted are the positions the auditor accepted
// (--accept-finding), reported but not failing the audit.
type ruleFindings struct {
	rules    vault.CustodyRules
	accepted map[uint64]bool
	// kept and acceptedSeen are the findings kept, failing and accepted.
	kept, acceptedSeen []*vault.RuleBroken
	total              int
	// rollbacks are the log.rollback.accepted events replayed, by
	// position: what a saved checkpoint of the history given up no
	// longer matching is explained by.
	rollbacks []rollbackSeen
	// integrity are the first shownRuleFindings integrity.failed events
	// replayed (what the vault found altered, missing or unreadable, and
	// recorded), integrityTotal how many there are: an audit that passes
	// says them, as the log's own record of incidents.
	integrity firstShown[integritySeen]
	// config is the configuration the last server start recorded (its
	// server.started data, but what changes at every start), and
	// changes the first shownRuleFindings changes of it from one start
	// to the next, changesTotal how many: an operator who restarts the
	// vault with another threshold, approval or session life changes
	// what it holds and who may act, and an audit says so.
	config  map[string]string
	changes firstShown[configChange]
	// changesSince is the size of the auditor's newest saved checkpoint
	// (0: none): the changes before it were said at the audit that saved
	// it, and are counted (changesBefore), not said again.
	changesSince, changesBefore uint64
	// unused are the first shownRuleFindings hashset.unused events (a
	// set the vault stopped matching against: its files differ from its
	// import), unusedTotal how many: files altered under the vault, and
	// put back, would otherwise leave no trace an audit says.
	unused firstShown[unusedSeen]
	// discards are the first shownRuleFindings server starts that set
	// state snapshots aside (server.started's
	// state_snapshots_discarded: a file a start could not use, changed
	// or unreadable on disk, or of an older state version), after the
	// auditor's newest saved checkpoint (changesSince); discardsBefore
	// counts those before it, said by the audit that saved it.
	discards       firstShown[discardSeen]
	discardsBefore uint64
	// stopPending is the last server start that said it records its
	// stop (vault.StartedStops), until a server.stopped follows (0:
	// none pending); unstopped the first shownRuleFindings starts that
	// followed such a start with no stop between, after the auditor's
	// newest saved checkpoint.
	stopPending   uint64
	stopPendingAt time.Time
	unstopped     firstShown[unstoppedSeen]
	// approvals counts the two-person requests the log records approved
	// (request.approved) and destructions approved: decisions whose
	// second custodian the rules checked.
	approvals int
}

// firstShown keeps the first shownRuleFindings events of a kind that an
// audit says as warnings (an integrity failure, a hash set taken out of
// use, a change of configuration), and counts them all.
type firstShown[T interface{ position() uint64 }] struct {
	kept  []T
	total int
}

func (s *firstShown[T]) add(x T) {
	s.total++
	if len(s.kept) < shownRuleFindings {
		s.kept = append(s.kept, x)
	}
}

// more says how many there are after the last kept: "the log records 3
// more WHAT after event 109 (HOW)", "" when none.
func (s *firstShown[T]) more(what, how string) string {
	n := s.total - len(s.kept)
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("the log records %d more %s after event %d (%s)", n, what, s.kept[len(s.kept)-1].position(), how)
}

func (x integritySeen) position() uint64 { return x.seq }
func (x unusedSeen) position() uint64    { return x.seq }
func (x configChange) position() uint64  { return x.seq }
func (x discardSeen) position() uint64   { return x.seq }
func (x unstoppedSeen) position() uint64 { return x.seq }

// unstoppedSeen is a start (seq, at) that followed the server started
// at prev, which recorded no stop.
type unstoppedSeen struct {
	seq, prev  uint64
	at, prevAt time.Time
}

// unstoppedWarnings says each start that followed a server which ended
// without recording its stop, the first shownRuleFindings of them, and
// how many more there are.
func (f *ruleFindings) unstoppedWarnings() []string {
	var out []string
	for _, x := range f.unstopped.kept {
		out = append(out, fmt.Sprintf("the server that started at event %d (%s) ended without recording its stop: the start at event %d (%s) follows no server.stopped (a crash, a kill, the machine lost, or the log store failing as it stopped); find out which, and what happened to the vault meanwhile (docs/operations.md, \"Monitoring\")",
			x.prev, x.prevAt.UTC().Format(time.RFC3339), x.seq, x.at.UTC().Format(time.RFC3339)))
	}
	if more := f.unstopped.more("starts after a server that recorded no stop", "custos audit log --verbose shows each start and stop"); more != "" {
		out = append(out, more)
	}
	return out
}

// discardSeen is a server start that set state snapshots aside, with
// the reasons it recorded.
type discardSeen struct {
	seq     uint64
	at      time.Time
	reasons string
}

// discardWarnings says each server start that set state snapshots
// aside, the first shownRuleFindings of them, and how many more there
// are.
func (f *ruleFindings) discardWarnings() []string {
	var out []string
	for _, x := range f.discards.kept {
		out = append(out, fmt.Sprintf("the server started at event %d (%s) without the state snapshots it found, set aside because %s: a snapshot of an older state version is set aside after an upgrade, but one changed, unreadable or not the vault's own is someone's doing or a failing disk: find out which (docs/operations.md, \"Configuration changes an audit reports\")",
			x.seq, x.at.UTC().Format(time.RFC3339), printable.Readable(x.reasons)))
	}
	if more := f.discards.more("starts that set state snapshots aside", "custos audit log --verbose shows each start's server.started"); more != "" {
		out = append(out, more)
	}
	if f.discardsBefore > 0 {
		out = append(out, f.saidBefore(f.discardsBefore, "starts that set state snapshots aside"))
	}
	return out
}

// unusedSeen is a hashset.unused event of the log.
type unusedSeen struct {
	seq uint64
	at  time.Time
	vault.HashSetUnused
}

// unusedWarnings says each hash set the log records taken out of use,
// the first shownRuleFindings of them, and how many more there are.
func (f *ruleFindings) unusedWarnings() []string {
	var out []string
	for _, x := range f.unused.kept {
		out = append(out, fmt.Sprintf("the log records, at event %d (%s), that the vault stopped matching against hash set %s: %s; its files were changed or lost, and until it is imported again or removed what it lists is hidden without being known; find out who changed them (docs/operations.md, \"Hash sets taken out of use\")",
			x.seq, x.at.UTC().Format(time.RFC3339), printable.Readable(x.Name), printable.Readable(x.Reason)))
	}
	if more := f.unused.more("hash sets taken out of use", "custos audit log shows them in order"); more != "" {
		out = append(out, more)
	}
	return out
}

// configChange is a member of server.started that differs from the
// start before it (absent: "").
type configChange struct {
	seq           uint64
	at            time.Time
	key, was, now string
}

// startedNotConfig are the members of server.started that are not the
// server's configuration, or differ at every start: its key sealer's
// reference, its build, the snapshot it resumed from.
var startedNotConfig = map[string]bool{"sealer": true, "build": true, "state_snapshot": true, "state_snapshot_summary_sha256": true,
	"state_snapshot_sha256": true, "state_snapshots_discarded": true, vault.StartedStops: true}

// started notes the configuration a server.started records, and each
// member that differs from the start before it. An offline command's
// (run) records none.
func (f *ruleFindings) started(ev *events.Event) {
	var d map[string]string
	if ev.DecodeData(&d) != nil {
		return
	}
	if r := d["state_snapshots_discarded"]; r != "" {
		if ev.Seq < f.changesSince {
			f.discardsBefore++
		} else {
			f.discards.add(discardSeen{ev.Seq, ev.Timestamp(), r})
		}
	}
	if f.stopPending != 0 && ev.Seq >= f.changesSince {
		f.unstopped.add(unstoppedSeen{seq: ev.Seq, prev: f.stopPending, at: ev.Timestamp(), prevAt: f.stopPendingAt})
	}
	f.stopPending = 0
	if d["run"] != "" {
		return
	}
	if d[vault.StartedStops] == "recorded" {
		f.stopPending, f.stopPendingAt = ev.Seq, ev.Timestamp()
	}
	now := map[string]string{}
	for k, v := range d {
		if !startedNotConfig[k] {
			now[k] = v
		}
	}
	if f.config != nil {
		keys := slices.Sorted(maps.Keys(now))
		for k := range f.config {
			if _, ok := now[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			if f.config[k] == now[k] {
				continue
			}
			if ev.Seq < f.changesSince {
				f.changesBefore++
				continue
			}
			f.changes.add(configChange{ev.Seq, ev.Timestamp(), k, f.config[k], now[k]})
		}
	}
	f.config = now
}

// saidBefore counts n events of a kind (what) before the auditor's
// newest saved checkpoint, which the audit that saved it said.
func (f *ruleFindings) saidBefore(n uint64, what string) string {
	return fmt.Sprintf("%d earlier %s, before your saved checkpoint of %d events, are not said again: the audit that saved it said them", n, what, f.changesSince)
}

// configWarnings says each change of the server's configuration the log
// records from one start to the next, the first shownRuleFindings of
// them, and how many more there are.
func (f *ruleFindings) configWarnings() []string {
	var out []string
	shown := func(v string) string {
		if v == "" {
			return "(not set)"
		}
		return printable.Readable(v)
	}
	for _, c := range f.changes.kept {
		out = append(out, fmt.Sprintf("the server started at event %d (%s) with %s %s, where the start before had %s: a change of how the vault runs, by whoever runs it; make sure it was meant (docs/operations.md, \"Configuration changes an audit reports\")",
			c.seq, c.at.UTC().Format(time.RFC3339), printable.Readable(c.key), shown(c.now), shown(c.was)))
	}
	if more := f.changes.more("changes of the server's configuration", "custos audit log --verbose shows each start's server.started"); more != "" {
		out = append(out, more)
	}
	if f.changesBefore > 0 {
		out = append(out, f.saidBefore(f.changesBefore, "changes of the server's configuration"))
	}
	return out
}

// integritySeen is an integrity.failed event of the log.
type integritySeen struct {
	seq        uint64
	at         time.Time
	item, kase string // the event's envelope: the item and case it concerns, if any
	vault.IntegrityFailed
}

// integrityWarnings says each integrity failure the log records, the
// first shownRuleFindings of them, and how many more there are.
func (f *ruleFindings) integrityWarnings() []string {
	var out []string
	for _, x := range f.integrity.kept {
		var about []string
		if x.item != "" {
			about = append(about, "item "+printable.Readable(x.item))
		}
		if x.kase != "" {
			about = append(about, "case "+printable.Readable(x.kase))
		}
		if x.Object != "" {
			about = append(about, "object "+printable.Readable(x.Object))
		}
		object := ""
		if len(about) > 0 {
			object = " (" + strings.Join(about, ", ") + ")"
		}
		out = append(out, fmt.Sprintf("the log records, at event %d (%s), an integrity failure the vault detected%s: %s; find out what happened (docs/operations.md, \"Integrity failures an audit reports\")",
			x.seq, x.at.UTC().Format(time.RFC3339), object, printable.Readable(x.Reason)))
	}
	if more := f.integrity.more("integrity failures", "custos audit log shows them in order"); more != "" {
		out = append(out, more)
	}
	return out
}

// rollbackSeen is a log.rollback.accepted event of the log.
type rollbackSeen struct {
	seq uint64
	at  time.Time
	vault.RollbackAccepted
}

// rollbackAdvice is what an audit that failed on a saved checkpoint cp
// (a root the log does not have at its size, or more events than the log
// has) adds where the log records an accepted rollback that may explain
// it: one that gave up cp itself (its lost head) says so; one whose
// given-up events cp's size falls in (or whose head was missing) may,
// if cp was saved before the rollback, which only its holder knows, so
// the advice says when the rollback was and what to do either way. ""
// where no rollback can explain it.
func (f *ruleFindings) rollbackAdvice(cp *events.Checkpoint) string {
	for i := len(f.rollbacks) - 1; i >= 0; i-- {
		r := f.rollbacks[i]
		if r.Size >= cp.Size || !(cp.Size <= r.LostSize || r.HeadMissing && r.LostSize == 0) {
			continue
		}
		what := fmt.Sprintf("events %d to %d", r.Size, r.LostSize-1)
		if r.LostSize <= r.Size {
			what = "an unknown number of events (the vault's head was missing)"
		}
		told := fmt.Sprintf(". The log records, at event %d (%s), an accepted rollback (custos admin accept-rollback): the vault continued from %d events and gave up %s, because %q", r.seq, r.at.UTC().Format(time.RFC3339), r.Size, what, r.Reason)
		if r.LostSize == cp.Size && r.LostRoot == cp.Root.String() {
			return told + ". The checkpoint given is the head that rollback gave up: keep it, as the proof of what was lost, and save a new checkpoint to a new file (--save-checkpoint; docs/operations.md, \"Restoring\", step 4); if the rollback is not one the vault's operators told you of, follow what to do below"
		}
		return told + fmt.Sprintf(". If the checkpoint given was saved before %s, it is of the history that rollback gave up: keep it, as the proof of what was lost, and save a new checkpoint to a new file (docs/operations.md, \"Restoring\", step 4). If it was saved after, no rollback explains it: the log was rewritten since; follow what to do below", r.at.UTC().Format(time.RFC3339))
	}
	return ""
}

// shownRuleFindings is how many findings of each kind (failing,
// accepted) an audit names.
const shownRuleFindings = 10

func (f *ruleFindings) check(ev *events.Event) {
	switch ev.Type {
	case vault.TypeServerStarted:
		f.started(ev)
	case vault.TypeServerStopped:
		f.stopPending = 0
	case vault.TypeRequestApproved, vault.TypeDestructionApproved:
		f.approvals++
	case vault.TypeHashSetUnused:
		var d vault.HashSetUnused
		if ev.DecodeData(&d) == nil {
			f.unused.add(unusedSeen{ev.Seq, ev.Timestamp(), d})
		}
	}
	if ev.Type == vault.TypeIntegrityFailed {
		var d vault.IntegrityFailed
		if ev.DecodeData(&d) == nil {
			f.integrity.add(integritySeen{ev.Seq, ev.Timestamp(), ev.Item, ev.Case, d})
		}
	}
	if ev.Type == vault.TypeRollbackAccepted {
		var d vault.RollbackAccepted
		if ev.DecodeData(&d) == nil {
			f.rollbacks = append(f.rollbacks, rollbackSeen{ev.Seq, ev.Timestamp(), d})
		}
	}
	var rb *vault.RuleBroken
	if err := f.rules.Check(ev); !errors.As(err, &rb) {
		return
	}
	if f.accepted[rb.Seq] {
		if len(f.acceptedSeen) < shownRuleFindings {
			f.acceptedSeen = append(f.acceptedSeen, rb)
		}
		return
	}
	f.total++
	if len(f.kept) < shownRuleFindings {
		f.kept = append(f.kept, rb)
	}
}

// err is the audit's failure for the findings not accepted, nil if none:
// a *verify.Problem naming the first, with the others and the count.
func (f *ruleFindings) err() error {
	if f.total == 0 {
		return nil
	}
	first := f.kept[0]
	reason := first.Reason + " (the log's signatures hold: the vault recorded an action its rules forbid; docs/custody-log.md section 7, step 8, and docs/operations.md, \"A rule finding\")"
	if f.total > 1 {
		var more []string
		for _, rb := range f.kept[1:] {
			more = append(more, rb.Error())
		}
		reason += fmt.Sprintf("; %d findings in all", f.total)
		if len(more) > 0 {
			reason += ", the next: " + strings.Join(more, "; ")
		}
	}
	return &verify.Problem{Seq: first.Seq, Reason: reason}
}
