package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/verify"
)

// Reading the log by case or by item.
//
// A store answers "the events of case C" from lookup columns (SQLite and
// PostgreSQL columns, KurrentDB metadata) that nobody signs: a database
// administrator can edit them to hide an access from a timeline or pull
// another case's deposit into a package. So nothing a lookup returns is
// taken on trust. Every record must hash to the leaf the verified tree
// holds at its position, decode to an event that names the case or item
// asked for, and carry columns equal to that event's fields; and the
// lookup must return exactly as many events as the verified replay
// counted. If any of that fails, the answer comes from a scan of the
// whole log filtered on the signed bytes instead, and the disagreement is
// logged (`custos audit verify` names every event whose columns
// disagree).

// verifiedRecord checks one stored record against the verified tree and
// returns its event, or why it cannot be trusted.
func (v *Vault) verifiedRecord(r events.Record) (*events.Event, string) {
	leaf, err := v.log.Tree().Leaf(r.Seq)
	if err != nil {
		return nil, fmt.Sprintf("event %d is beyond the verified log", r.Seq)
	}
	if events.LeafHash(r.Bytes) != leaf {
		return nil, fmt.Sprintf("the stored bytes of event %d are not the ones the log's tree holds", r.Seq)
	}
	// The audit engine's reader: it accepts exactly what events.Decode
	// accepts (FuzzDecodeAgreesWithStdlib), several times faster.
	ev, err := verify.DecodeEvent(r.Bytes)
	if err != nil {
		return nil, fmt.Sprintf("event %d: %v", r.Seq, err)
	}
	if d := columnsDisagree(r, ev); d != "" {
		return ev, d
	}
	return ev, ""
}

// columnsDisagree names the lookup columns of r that differ from the
// signed event's fields ("" if none).
func columnsDisagree(r events.Record, ev *events.Event) string {
	var bad []string
	if r.Seq != ev.Seq {
		bad = append(bad, fmt.Sprintf("seq %d (signed: %d)", r.Seq, ev.Seq))
	}
	if r.ID != ev.ID {
		bad = append(bad, fmt.Sprintf("id %q (signed: %q)", r.ID, ev.ID))
	}
	if r.Case != ev.Case {
		bad = append(bad, fmt.Sprintf("case %q (signed: %q)", r.Case, ev.Case))
	}
	if r.Item != ev.Item {
		bad = append(bad, fmt.Sprintf("item %q (signed: %q)", r.Item, ev.Item))
	}
	if len(bad) == 0 {
		return ""
	}
	return fmt.Sprintf("event %d: the store's lookup columns say %s", ev.Seq, strings.Join(bad, ", "))
}

// readNamed calls fn, in log order, for every event a lookup of kind
// returns for key (a case id, or an item id for byItem), trusting only
// the signed bytes.
func (v *Vault) readNamed(ctx context.Context, key string, kind lookupKind, fn func(events.Record, *events.Event) error) error {
	want, err := v.state.namedBy(key, kind)
	if err != nil {
		return err
	}
	var lookup func(context.Context, string, func(events.Record) error) error
	var names func(*events.Event) bool
	switch kind {
	case byItem:
		lookup = v.cfg.Log.ReadItem
		names = func(ev *events.Event) bool { return ev.Item == key }
	case byCaseOwn:
		lookup = func(ctx context.Context, key string, fn func(events.Record) error) error {
			return events.ReadCaseOwn(ctx, v.cfg.Log, key, fn)
		}
		names = func(ev *events.Event) bool { return ev.Case == key && ev.Item == "" }
	default:
		lookup = v.cfg.Log.ReadCase
		names = func(ev *events.Event) bool { return ev.Case == key }
	}
	var (
		recs    []events.Record
		evs     []*events.Event
		counted uint64
		bad     problems
		// failed: the lookup returned an error (bad names it), which
		// an outage of the database gives as well as an edit.
		failed bool
	)
	var last int64 = -1
	err = lookup(ctx, key, func(r events.Record) error {
		ev, why := v.verifiedRecord(r)
		switch {
		case int64(r.Seq) <= last:
			// A record returned twice (or out of order) could stand in
			// for one the lookup hid, and keep the count right.
			bad.add(fmt.Sprintf("event %d was returned out of order or twice", r.Seq))
		case why != "":
			bad.add(why)
		case !names(ev):
			bad.add(fmt.Sprintf("event %d was returned for %s but %s", ev.Seq, key, kind.doesNot()))
		default:
			if ev.Seq <= want.last {
				counted++
			}
			recs, evs = append(recs, r), append(evs, ev)
		}
		last = max(last, int64(r.Seq))
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		// A lookup the store cannot answer (its lookup data edited into
		// something it cannot read, or the database unreachable for a
		// moment) is one that disagrees: the scan below answers, or
		// says the log itself is not whole.
		bad.add(fmt.Sprintf("the lookup failed: %v", err))
		failed = true
	case bad.n == 0 && counted == want.n:
		for i := range recs {
			if err := fn(recs[i], evs[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if counted != want.n && err == nil {
		bad.add(fmt.Sprintf("the lookup returned %d %s, the verified log has %d", counted, kind.events(key), want.n))
	}
	v.logger.Error("the custody log store's lookups (its case and item columns, or a lookup file beside it) disagree with the signed events; answering from a full scan. "+
		"Run `custos audit verify` (`--store` while the log is halted or the server stopped): if it finds the log whole, only the store's derived lookup data was altered (docs/operations.md, \"Lookup data\")",
		"key", key, "problems", bad.String())

	// The scan must itself be whole (readWhole), with as many events
	// naming key as the replay counted; otherwise the answer is an
	// integrity error, never a partial history.
	counted = 0
	err = v.readWhole(ctx, func(r events.Record, ev *events.Event) error {
		if !names(ev) {
			return nil
		}
		if ev.Seq <= want.last {
			counted++
		}
		return fn(r, ev)
	})
	if err != nil {
		return err
	}
	if counted != want.n {
		return v.storeContradicts("count "+kind.events(key), "the log store holds %d %s, the verified log has %d", counted, kind.events(key), want.n)
	}
	// Nothing the vault does makes a lookup disagree (a record is in the
	// tree before the store holds it, and the replay counts an event
	// only once it is durable): whoever edited the store's lookup data
	// is on the record, as a read that found the log's own events
	// altered is: once the store answered the whole scan, and only for
	// a lookup that returned events the signed ones contradict (or too
	// few). One that only failed is logged, not recorded: a statement
	// timeout or a dropped connection fails it as an edit into
	// something unreadable does, and the log would accuse the store of
	// being edited at every outage (the audit names edited values).
	if contradicted := bad.n > 1 || bad.n == 1 && !failed; contradicted {
		v.recordStoreFinding(&v.lookupFindings, kind.events(key), lookupFinding(kind.events(key), bad.String()))
	}
	return nil
}

// lookupFinding is the reason an integrity.failed records for a lookup
// of what (lookupKind.events) that disagreed with the signed events, as
// problems says; at most maxFindingBytes, cut at a character.
func lookupFinding(what, problems string) string {
	s := "a lookup of the custody log store: the store's answer for the " + what +
		" disagrees with the signed events, and was answered from a full scan of the log instead: " + problems
	if len(s) > maxFindingBytes {
		s = strings.ToValidUTF8(s[:maxFindingBytes], "") + "…"
	}
	return s
}

// maxFindingBytes bounds the reason of a lookup's integrity.failed: the
// problems quote the store's columns, which whoever edited them chose.
const maxFindingBytes = 2048

// problems gathers what a verified read found wrong with a store's
// answer, keeping the first few: a lookup edited to return every event of
// the log must not make each read write a line of that size.
type problems struct {
	first []string
	n     int
}

// maxProblems is how many problems a log line names; the rest are
// counted.
const maxProblems = 10

func (p *problems) add(s string) {
	if p.n < maxProblems {
		p.first = append(p.first, s)
	}
	p.n++
}

func (p *problems) String() string {
	s := strings.Join(p.first, "; ")
	if p.n > len(p.first) {
		s += fmt.Sprintf("; and %d more", p.n-len(p.first))
	}
	return s
}

// events names the events a lookup of kind for key asks for.
func (k lookupKind) events(key string) string {
	if k == byCaseOwn {
		return "events of case " + key + "'s own (naming no item)"
	}
	return "events naming " + key
}

// doesNot says why an event a lookup of kind returned is not one it asks
// for.
func (k lookupKind) doesNot() string {
	if k == byCaseOwn {
		return "is not the case's own (it names another case, or an item)"
	}
	return "does not name it"
}

// readWhole calls fn with every event of the verified log, in order,
// from 0 to the log's size when the read began, each read from the store
// and checked against the tree: a position missing from the store,
// stored bytes that are not the ones the tree holds, or bytes that do not
// decode are ErrIntegrity, never a partial or edited history.
func (v *Vault) readWhole(ctx context.Context, fn func(events.Record, *events.Event) error) error {
	size := v.log.Size()
	var next uint64
	err := v.cfg.Log.Read(ctx, 0, func(r events.Record) error {
		if r.Seq >= size {
			return errStopRead // appended after this read began
		}
		if r.Seq != next {
			return v.storeContradicts(fmt.Sprint("missing ", next), "event %d is missing from the log store", next)
		}
		next++
		// The signed bytes decide: lookup columns that disagree with
		// them (verifiedRecord's other finding) change nothing here.
		ev, why := v.verifiedRecord(r)
		if ev == nil {
			return v.storeContradicts(fmt.Sprint("bytes ", r.Seq), "%s", why)
		}
		return fn(r, ev)
	})
	if err != nil && !errors.Is(err, errStopRead) {
		return err
	}
	if next < size {
		return v.storeContradicts(fmt.Sprint("short ", next), "the log store holds %d of the log's %d events", next, size)
	}
	return nil
}

// EventTime is the time of event seq, read from the store and checked
// against the verified tree (ErrIntegrity if its stored bytes are not the
// log's), for the custodians and auditors who read the log's state.
func (v *Vault) EventTime(ctx context.Context, who Principal, seq uint64) (time.Time, error) {
	if !seesAllCases(who) {
		return time.Time{}, refused(ErrForbidden, "only auditors and custodians read the log's state")
	}
	ev, err := v.eventAt(ctx, seq)
	if err != nil {
		return time.Time{}, err
	}
	return ev.Timestamp(), nil
}

// eventAt reads event seq from the store and checks it against the
// verified tree (verifiedRecord): ErrNotFound beyond the log,
// ErrIntegrity if the stored bytes are not the log's or the row at seq is
// missing (a read from seq must not answer with the event after it).
// Lookup columns that disagree with the signed event are logged; the
// signed bytes decide.
func (v *Vault) eventAt(ctx context.Context, seq uint64) (*events.Event, error) {
	if seq >= v.log.Size() {
		return nil, fmt.Errorf("%w: event %d is not in the log", ErrNotFound, seq)
	}
	var ev *events.Event
	err := v.cfg.Log.Read(ctx, seq, func(r events.Record) error {
		got, bad := v.verifiedRecord(r)
		switch {
		case got == nil:
			return v.storeContradicts(fmt.Sprint("bytes ", r.Seq), "%s", bad)
		case got.Seq != seq:
			return v.storeContradicts(fmt.Sprint("missing ", seq), "event %d is missing from the log store", seq)
		case bad != "":
			v.logger.Error("the custody log store's lookup columns disagree with the signed events; the signed bytes decide (docs/operations.md, \"Lookup data\")", "problems", bad)
		}
		ev = got
		return errStopRead
	})
	if err != nil && !errors.Is(err, errStopRead) {
		return nil, err
	}
	if ev == nil {
		return nil, v.storeContradicts(fmt.Sprint("missing ", seq), "event %d is missing from the log store", seq)
	}
	return ev, nil
}

// storeContradicts is a verified read's finding that the log store does
// not hold the verified log's events (one missing, out of place, or
// with bytes the tree does not hold, or fewer naming a case or item than
// the replay counted): ErrIntegrity, with why. The finding is recorded in
// the custody log (integrity.failed, actor system, naming no item), from
// a goroutine of its own since the read may hold what an append waits
// for, once for each finding (key names it: what was found and where,
// not the counts, which move as the log grows), at most
// maxStoreFindings in a run of the server; the server's log has every
// one. The vault goes on acting: the store's copy of the log is what is
// wrong, and the next start, which reads the whole log, refuses it
// (docs/operations.md).
func (v *Vault) storeContradicts(key, format string, args ...any) error {
	why := fmt.Sprintf(format, args...)
	err := fmt.Errorf("%w: %s", ErrIntegrity, why)
	v.logger.Error("the custody log store does not hold the log's events: check it (custos audit verify, or --store without the server) and put back the altered events from a backup (docs/operations.md, \"The custody log halted\")", "err", err)
	if h := v.log.Halted(); h != nil {
		// Nothing can be recorded: the answer says the log is halted,
		// not that the finding is in the log.
		return fmt.Errorf("%w (%w)", err, ErrLogHalted)
	}
	v.recordStoreFinding(&v.storeFindings, key, "a read of the custody log store: "+why)
	return err
}

// recordStoreFinding records reason in the custody log (integrity.failed,
// actor system, naming no item), from a goroutine of its own since the
// read that found it may hold what an append waits for: once for each
// key (what was found and where, not counts, which move as the log
// grows), at most maxStoreFindings of each kind (budget: the findings of
// reads, or of lookups) in a run of the server, and not while the log is
// halted (nothing can be recorded).
func (v *Vault) recordStoreFinding(budget *map[string]bool, key, reason string) {
	if v.log.Halted() != nil {
		return
	}
	v.storeMu.Lock()
	seen := *budget
	first := !seen[key] && len(seen) < maxStoreFindings
	if first {
		if seen == nil {
			seen = map[string]bool{}
			*budget = seen
		}
		seen[key] = true
	}
	v.storeMu.Unlock()
	if first {
		v.recordLater(sequencer.Draft{Type: TypeIntegrityFailed, Actor: System, Data: IntegrityFailed{Reason: reason}})
	}
}

// maxStoreFindings bounds the store findings recorded in a run of the
// server (storeContradicts): a store edited everywhere must not make
// every read append an event.
const maxStoreFindings = 64

var errStopRead = errors.New("stop reading")

// depositRecord returns an item's deposit record as its signed
// item.deposited event holds it, read from the store at the position the
// verified replay recorded and checked like every read (verifiedRecord):
// ErrIntegrity if the stored bytes are not the log's, or the event there
// is not the item's deposit.
func (v *Vault) depositRecord(ctx context.Context, it Item) (ItemDeposited, error) {
	ev, err := v.eventAt(ctx, it.DepositAt)
	if errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("%w: %v", ErrIntegrity, err) // the replay saw it
	}
	if err != nil {
		return ItemDeposited{}, err
	}
	if ev.Type != TypeItemDeposited || ev.Item != it.ID {
		return ItemDeposited{}, fmt.Errorf("%w: event %d is not the deposit of item %s", ErrIntegrity, it.DepositAt, it.ID)
	}
	d, err := data[ItemDeposited](ev)
	if err != nil {
		return ItemDeposited{}, fmt.Errorf("%w: event %d: %v", ErrIntegrity, ev.Seq, err)
	}
	return d, nil
}

// recordedItem is an item with its deposit record read from the log.
type recordedItem struct {
	Item
	Record ItemDeposited
}

// depositRecords reads the deposit records of items (depositRecord), in
// their order.
func (v *Vault) depositRecords(ctx context.Context, items []Item) ([]recordedItem, error) {
	out := make([]recordedItem, 0, len(items))
	for _, it := range items {
		d, err := v.depositRecord(ctx, it)
		if err != nil {
			return nil, err
		}
		out = append(out, recordedItem{it, d})
	}
	return out, nil
}

// ReadStoredCheckpoints calls fn with each checkpoint the log store holds
// of size at most upto, by size, for an auditor's read (GET
// /v1/log/checkpoints): a page at a time (events.Store.ReadCheckpoints),
// since a vault stores millions over its life (up to one a minute
// besides those asked for; logs written before, one a second). Their
// rows are not signed: a row whose note does not state the row's own
// size (a note copied over another row, which hides the checkpoint that
// was there), or whose size is beyond the log's events, is a finding
// that the store does not hold what the log published, recorded as
// storeContradicts records one. The notes are passed on as stored all
// the same: the auditor checks each one's signature and root, which the
// vault does not do again here, once an audit. Rows beyond upto are read
// and checked too, not passed on (those stored since are for the next
// audit). An error of fn ends the read and is returned.
func (v *Vault) ReadStoredCheckpoints(ctx context.Context, upto uint64, fn func(events.StoredCheckpoint) error) error {
	return v.cfg.Log.ReadCheckpoints(ctx, 0, func(c events.StoredCheckpoint) error {
		key := fmt.Sprint("checkpoint ", c.Size)
		if size, ok := events.StatedSize(c.Note); !ok || size != c.Size {
			v.storeContradicts(key, "the stored checkpoint row of size %d does not hold the checkpoint of that size", c.Size)
		}
		if c.Size <= upto {
			return fn(c)
		}
		if c.Size > v.log.Size() {
			// Beyond what this server appended: another writer's since
			// (two servers on one store), unless the store lacks the
			// events too.
			if n, err := v.cfg.Log.Size(ctx); err == nil && c.Size > n {
				v.storeContradicts(key, "a stored checkpoint row of size %d lies beyond the log's %d events", c.Size, n)
			}
		}
		return nil
	})
}
