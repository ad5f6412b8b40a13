package vault

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"

	"filippo.io/age"
)

// openCases opens each case as who.
func openCases(t testing.TB, v *Vault, who Principal, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := v.OpenCase(context.Background(), who, id, "t"); err != nil {
			t.Fatal(err)
		}
	}
}

// depositText deposits content to caseID as who, under name.
func depositText(t testing.TB, v *Vault, who Principal, caseID, name, content string) *DepositResult {
	t.Helper()
	res, err := v.Deposit(context.Background(), who, DepositRequest{Case: caseID, Name: name, Body: strings.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// editedLookups is a log store whose lookup answers were edited the way a
// database administrator could edit any backend's unsigned lookup values
// (SQLite or PostgreSQL columns, KurrentDB metadata): records left out,
// records of other items slipped in under the asked-for id, and bytes
// swapped. Read (the full log) is left intact.
type editedLookups struct {
	events.Store
	omit    func(events.Record) bool
	foreign []events.Record
}

func (e *editedLookups) ReadItem(ctx context.Context, id string, fn func(events.Record) error) error {
	err := e.Store.ReadItem(ctx, id, func(r events.Record) error {
		if e.omit != nil && e.omit(r) {
			return nil
		}
		return fn(r)
	})
	if err != nil {
		return err
	}
	for _, r := range e.foreign {
		r.Item = id
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (e *editedLookups) ReadCase(ctx context.Context, id string, fn func(events.Record) error) error {
	return e.Store.ReadCase(ctx, id, func(r events.Record) error {
		if e.omit != nil && e.omit(r) {
			return nil
		}
		return fn(r)
	})
}

func TestLookupsAreCheckedAgainstTheSignedBytes(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	invTok, _ := v.Enroll(ctx, "inv", RoleInvestigator)
	inv, _ := signIn(v, invTok)
	audTok, _ := v.Enroll(ctx, "aud", RoleAuditor)
	aud, _ := signIn(v, audTok)
	openCases(t, v, inv, "A", "B")
	a := depositText(t, v, inv, "A", "a.bin", "aaaa")
	b, err := v.Deposit(ctx, inv, DepositRequest{Case: "B", Name: "b.bin", Note: "NOTE OF B", Body: strings.NewReader("bbbb")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := v.OpenItem(ctx, inv, a.ID, "the view")
	if err != nil {
		t.Fatal(err)
	}
	r.Finish(ctx)

	real := v.cfg.Log
	var depositB events.Record
	real.ReadItem(ctx, b.ID, func(r events.Record) error {
		if bytes.Contains(r.Bytes, []byte("item.deposited")) {
			depositB = r
		}
		return nil
	})
	timeline := func(caseID, item string) string {
		var out strings.Builder
		if err := v.Timeline(ctx, aud, caseID, item, func(r events.Record, _ *events.Event) error {
			out.Write(r.Bytes)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	timeline("", a.ID)
	timeline("A", "")
	if f := lookupFindings(t, v); len(f) != 0 {
		t.Fatalf("honest lookups recorded as failures: %q", f)
	}
	cases := []struct {
		name  string
		store *editedLookups
	}{
		{"an access left out", &editedLookups{Store: real, omit: func(r events.Record) bool { return bytes.Contains(r.Bytes, []byte(`"purpose":"the view"`)) }}},
		{"another case's deposit slipped in", &editedLookups{Store: real, foreign: []events.Record{depositB}}},
		{"a record with other bytes under a real position", &editedLookups{Store: real, foreign: []events.Record{{Seq: depositB.Seq, ID: depositB.ID, Case: "A", Bytes: bytes.Replace(depositB.Bytes, []byte(`"B"`), []byte(`"A"`), 1)}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v.cfg.Log = tc.store
			defer func() { v.cfg.Log = real }()
			for _, tl := range []string{timeline("", a.ID), timeline("A", "")} {
				if !strings.Contains(tl, "the view") {
					t.Error("the timeline lost an event the lookup left out")
				}
				if strings.Contains(tl, "NOTE OF B") {
					t.Error("the timeline holds another case's event the lookup slipped in")
				}
			}
		})
	}
	// The edit is on the record, once for each lookup found edited
	// (item a's and case A's), however many reads found it.
	f := lookupFindings(t, v)
	if len(f) != 2 || !slices.ContainsFunc(f, func(r string) bool { return strings.Contains(r, "events naming "+a.ID+" ") }) ||
		!slices.ContainsFunc(f, func(r string) bool { return strings.Contains(r, "events naming A ") }) {
		t.Errorf("the edited lookups recorded: %q", f)
	}
	checkRulesHold(t, v)
}

// forgedRead is a store whose Read hands out other bytes for one event,
// as a database administrator who edited the row would.
type forgedRead struct {
	events.Store
	seq   uint64
	bytes []byte
}

func (f forgedRead) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return f.Store.Read(ctx, from, func(r events.Record) error {
		if r.Seq == f.seq {
			r.Bytes = f.bytes
		}
		return fn(r)
	})
}

// TestEventTimeIsTheSignedOne: the time of an event the audit page shows
// is read through the verified tree: an edited row is an integrity
// failure, never a time; and only auditors and custodians ask.
func TestEventTimeIsTheSignedOne(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"aud": RoleAuditor, "inv": RoleInvestigator})
	last := v.log.Size() - 1
	want, err := v.EventTime(ctx, p["aud"], last)
	if err != nil || want.IsZero() {
		t.Fatalf("the newest event's time: %v %v", want, err)
	}
	var orig []byte
	v.cfg.Log.Read(ctx, last, func(r events.Record) error { orig = r.Bytes; return errStopRead })
	year := []byte(want.UTC().Format("2006"))
	real := v.cfg.Log
	v.cfg.Log = forgedRead{Store: real, seq: last, bytes: bytes.Replace(orig, year, []byte("1999"), 1)}
	defer func() { v.cfg.Log = real }()
	if got, err := v.EventTime(ctx, p["aud"], last); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("an edited row gave %v, %v", got, err)
	}
	// A deleted row: the next event's time is not this one's.
	v.cfg.Log = skippedRow{Store: real, seq: last - 1}
	if got, err := v.EventTime(ctx, p["aud"], last-1); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("a deleted row gave %v, %v", got, err)
	}
	v.cfg.Log = real
	if _, err := v.EventTime(ctx, p["inv"], last); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an investigator asking: %v", err)
	}
}

// skippedRow is a store whose Read leaves out one event, as a database
// administrator who deleted the row would.
type skippedRow struct {
	events.Store
	seq uint64
}

func (s skippedRow) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	return s.Store.Read(ctx, from, func(r events.Record) error {
		if r.Seq == s.seq {
			return nil
		}
		return fn(r)
	})
}

// TestDepositRecordIsTheSignedOne: what the state does not keep of a
// deposit (legacy hashes, ciphertext, source, note) is read from the
// signed deposit event; an edited or deleted row is an integrity failure
// for every reader of it (and, for a scrub, a failure of the item,
// recorded), never other hashes or another event's data.
func TestDepositRecordIsTheSignedOne(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "D-1")
	res, err := v.Deposit(ctx, inv, DepositRequest{Case: "D-1", Name: "d.bin", Note: "seized at the border", Body: strings.NewReader("dddd")})
	if err != nil {
		t.Fatal(err)
	}
	res0 := res
	// Something after it, so that a skipped row leaves another event at
	// the position's place.
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "D-1", Name: "e.bin", Body: strings.NewReader("eeee")}); err != nil {
		t.Fatal(err)
	}
	it, _, _ := v.state.getItem(res.ID)
	detail, err := v.ShowItem(ctx, inv, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if detail.MD5 != res.MD5 || detail.SHA1 != res.SHA1 || detail.Note != "seized at the border" {
		t.Fatalf("the item's detail %+v is not its deposit's", detail)
	}
	var stored []byte
	v.cfg.Log.Read(ctx, it.DepositAt, func(r events.Record) error { stored = r.Bytes; return errStopRead })
	real := v.cfg.Log
	stores := map[string]events.Store{
		"an edited row": forgedRead{Store: real, seq: it.DepositAt, bytes: bytes.Replace(stored, []byte(res.MD5), []byte(strings.Repeat("0", 32)), 1)},
		"a deleted row": skippedRow{Store: real, seq: it.DepositAt},
		"another's row": forgedRead{Store: real, seq: it.DepositAt, bytes: func() []byte {
			var b []byte
			real.Read(ctx, it.DepositAt+1, func(r events.Record) error { b = r.Bytes; return errStopRead })
			return b
		}()},
	}
	for name, st := range stores {
		t.Run(name, func(t *testing.T) {
			v.cfg.Log = st
			defer func() { v.cfg.Log = real }()
			if _, err := v.ShowItem(ctx, inv, res.ID); !errors.Is(err, ErrIntegrity) {
				t.Errorf("ShowItem: %v, want ErrIntegrity", err)
			}
			if _, err := v.ExportHashes(ctx, inv, "D-1", "md5sum"); !errors.Is(err, ErrIntegrity) {
				t.Errorf("ExportHashes: %v, want ErrIntegrity", err)
			}
			if _, err := v.ItemsPage(ctx, inv, "D-1", ItemFilter{MD5: res0.MD5}, 0, 10); !errors.Is(err, ErrIntegrity) {
				t.Errorf("ItemsPage filtered by MD5: %v, want ErrIntegrity", err)
			}
			if r, err := v.Open(ctx, inv, RevealRequest{Item: res0.ID, Purpose: "review"}); !errors.Is(err, ErrIntegrity) {
				if r != nil {
					r.Finish(ctx)
				}
				t.Errorf("Open: %v, want ErrIntegrity", err)
			}
			// What the reads found is in the custody log, not only in
			// the server's.
			v.laterRun.Wait()
			if n := storeFindings(t, v); n == 0 {
				t.Error("the reads' finding that the store does not hold the log's events was not recorded")
			}
			// The scrub goes on: the item fails it, and the failure is
			// recorded.
			failures := integrityFailures(t, v, res0.ID)
			res, err := v.Scrub(ctx, aud)
			if err != nil {
				t.Fatalf("Scrub: %v", err)
			}
			if res.OK || !slices.Contains(res.Mismatched, res0.ID) {
				t.Errorf("Scrub: %+v, want item %s failed", res, res0.ID)
			}
			if integrityFailures(t, v, res0.ID) != failures+1 {
				t.Error("the scrub recorded no integrity.failed for the item")
			}
		})
	}
}

// A scrub is not stopped by one item's unreadable deposit record: an
// object altered at the same time, of another item, is still found and
// recorded.
func TestScrubGoesOnPastAnUnreadableDepositRecord(t *testing.T) {
	v, dir := openTestVaultDir(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "S-1")
	a := depositText(t, v, inv, "S-1", "a.bin", "aaaa")
	b := depositText(t, v, inv, "S-1", "b.bin", "bbbb")
	itA, _, _ := v.state.getItem(a.ID)
	itB, _, _ := v.state.getItem(b.ID)
	p := filepath.Join(dir, "objects", filepath.FromSlash(itB.Deposit.Object))
	os.Chmod(p, 0o600)
	flipByte(t, p, 100)
	var stored []byte
	v.cfg.Log.Read(ctx, itA.DepositAt, func(r events.Record) error { stored = r.Bytes; return errStopRead })
	real := v.cfg.Log
	v.cfg.Log = forgedRead{Store: real, seq: itA.DepositAt, bytes: bytes.Replace(stored, []byte(`"a.bin"`), []byte(`"x.bin"`), 1)}
	res, err := v.Scrub(ctx, aud)
	v.cfg.Log = real
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(res.Mismatched)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if res.OK || !slices.Equal(res.Mismatched, want) {
		t.Fatalf("scrub %+v, want both items failed", res)
	}
	if n := integrityFailures(t, v, a.ID) + integrityFailures(t, v, b.ID); n != 2 {
		t.Fatalf("%d integrity.failed events for the items, want 2", n)
	}
	v.laterRun.Wait()
	if n := storeFindings(t, v); n != 1 {
		t.Fatalf("%d findings of the store recorded, want 1 (one edited event, found again by each read)", n)
	}
}

// integrityFailures counts the integrity.failed events naming item.
func integrityFailures(t *testing.T, v *Vault, item string) int {
	t.Helper()
	n := 0
	for _, ev := range logged(t, v) {
		if ev.Type == TypeIntegrityFailed && ev.Item == item {
			n++
		}
	}
	return n
}

// lookupFindings returns the reasons of the integrity.failed events that
// record a lookup found to disagree with the signed events
// (recordStoreFinding), once the vault's later records are in.
func lookupFindings(t *testing.T, v *Vault) []string {
	t.Helper()
	v.laterRun.Wait()
	var out []string
	for _, ev := range logged(t, v) {
		var d IntegrityFailed
		if ev.Type == TypeIntegrityFailed && ev.Item == "" && ev.DecodeData(&d) == nil && strings.HasPrefix(d.Reason, "a lookup of the custody log store: ") {
			out = append(out, d.Reason)
		}
	}
	return out
}

// storeFindings counts the integrity.failed events that record a
// verified read's finding that the log store does not hold the log's
// events (storeContradicts).
func storeFindings(t *testing.T, v *Vault) int {
	t.Helper()
	n := 0
	for _, ev := range logged(t, v) {
		var d IntegrityFailed
		if ev.Type == TypeIntegrityFailed && ev.Item == "" && ev.DecodeData(&d) == nil && strings.HasPrefix(d.Reason, "a read of the custody log store: ") {
			n++
		}
	}
	return n
}

// With a hash set loaded, whether an item is known needs its legacy
// hashes, which only its signed deposit record holds: an edited record
// makes the unclassified queue and the statistics answer an integrity
// error, never quietly leave the item out of review.
func TestKnownCheckOnAnUnreadableDepositRecordIsAnError(t *testing.T) {
	h := newHotline(t, func(c *Config) { c.HashSetDir = filepath.Join(t.TempDir(), "hashsets") })
	_, _, other := sums([]byte("something else"))
	if _, err := importSet(t, h.v, h.ctx, h.cust, HashSetImport{Name: "sums", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(other + "  x.jpg\n")}); err != nil {
		t.Fatal(err)
	}
	res := h.deposit(t, h.a1, "new.jpg", []byte("never seen before"), "")
	page, err := h.v.ItemsPage(h.ctx, h.a1, "HL-1", ItemFilter{Unclassified: true}, 0, 100)
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("before: %v, %+v", err, page)
	}
	it, _, _ := h.v.state.getItem(res.ID)
	var stored []byte
	h.v.cfg.Log.Read(h.ctx, it.DepositAt, func(r events.Record) error { stored = r.Bytes; return errStopRead })
	real := h.v.cfg.Log
	h.v.cfg.Log = forgedRead{Store: real, seq: it.DepositAt, bytes: bytes.Replace(stored, []byte(res.MD5), []byte(strings.Repeat("0", 32)), 1)}
	defer func() { h.v.cfg.Log = real }()
	if _, err := h.v.ItemsPage(h.ctx, h.a1, "HL-1", ItemFilter{Unclassified: true}, 0, 100); !errors.Is(err, ErrIntegrity) {
		t.Errorf("the unclassified queue: %v, want ErrIntegrity", err)
	}
	if _, err := h.v.ItemsPage(h.ctx, h.a1, "HL-1", ItemFilter{}, 0, 100); !errors.Is(err, ErrIntegrity) {
		t.Errorf("the item list: %v, want ErrIntegrity", err)
	}
	if _, err := h.v.Statistics(h.ctx, h.cust, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)); !errors.Is(err, ErrIntegrity) {
		t.Errorf("the statistics: %v, want ErrIntegrity", err)
	}
}

// Timeline hands each record with the event its own bytes hold, on
// every path (a case's, an item's, the whole log's), so that its callers
// (the API's and the web's timelines) show what was signed without
// decoding it again; bytes that do not decode are an integrity failure.
func TestTimelineEventsAreTheRecordsOwn(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"aud": RoleAuditor, "inv": RoleInvestigator})
	if err := v.OpenCase(ctx, p["inv"], "T-1", "timeline"); err != nil {
		t.Fatal(err)
	}
	res, err := v.Deposit(ctx, p["inv"], DepositRequest{Case: "T-1", Name: "t.txt", Body: strings.NewReader("t")})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range [][2]string{{"T-1", ""}, {"", res.ID}, {"", ""}} {
		n := 0
		err := v.Timeline(ctx, p["aud"], q[0], q[1], func(r events.Record, ev *events.Event) error {
			n++
			want, err := events.Decode(r.Bytes)
			if err != nil {
				return err
			}
			if ev == nil || ev.Seq != r.Seq || ev.ID != want.ID || ev.Type != want.Type || !bytes.Equal(ev.Data, want.Data) {
				t.Errorf("timeline %q: event %d handed with %+v, its bytes hold %+v", q, r.Seq, ev, want)
			}
			return nil
		})
		if err != nil || n == 0 {
			t.Fatalf("timeline %q: %d events, %v", q, n, err)
		}
	}
	// The whole log's timeline is checked against the verified tree as a
	// case's is: a row a database administrator edited (still a
	// well-formed event), one deleted, or bytes that do not decode.
	var orig []byte
	v.cfg.Log.Read(ctx, res.Event, func(r events.Record) error { orig = r.Bytes; return errStopRead })
	real := v.cfg.Log
	defer func() { v.cfg.Log = real }()
	for name, store := range map[string]events.Store{
		"an edited row":           forgedRead{Store: real, seq: res.Event, bytes: bytes.Replace(orig, []byte("t.txt"), []byte("x.txt"), 1)},
		"a deleted row":           skippedRow{Store: real, seq: res.Event},
		"bytes that are no event": forgedRead{Store: real, seq: 1, bytes: []byte(`{"not":"an event"}`)},
	} {
		v.cfg.Log = store
		shown := false
		err = v.Timeline(ctx, p["aud"], "", "", func(r events.Record, _ *events.Event) error {
			shown = shown || r.Seq == res.Event && bytes.Contains(r.Bytes, []byte("x.txt"))
			return nil
		})
		if !errors.Is(err, ErrIntegrity) || shown {
			t.Errorf("the whole log's timeline over %s: %v (edited event shown: %v)", name, err, shown)
		}
	}
}

// gatedAppend holds the next Append, once armed, until released: the
// sequencer has then taken the batch's leaves into its tree (to sign the
// batch's seal) but the store does not hold the batch yet.
type gatedAppend struct {
	events.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gatedAppend) Append(ctx context.Context, expected uint64, recs []events.Record, cp *events.StoredCheckpoint) error {
	if g.armed.CompareAndSwap(true, false) {
		close(g.entered)
		<-g.release
	}
	return g.Store.Append(ctx, expected, recs, cp)
}

// Reads bounded by the log's size see the durable log while another
// request's events are being appended: the whole log's timeline, a
// case's timeline answered by a full scan, and an event's time are
// never an integrity failure for an append in flight.
func TestReadsDuringAnAppendAreNotIntegrityFailures(t *testing.T) {
	g := &gatedAppend{entered: make(chan struct{}), release: make(chan struct{})}
	v, _ := openTestVaultDir(t, func(cfg *Config) { g.Store = cfg.Log; cfg.Log = g })
	ctx := context.Background()
	aud := enrolled(t, v, "aud", RoleAuditor)
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if err := v.OpenCase(ctx, inv, "T-0", "before"); err != nil {
		t.Fatal(err)
	}
	size := v.log.Size()
	g.armed.Store(true)
	opened := make(chan error, 1)
	go func() { opened <- v.OpenCase(ctx, inv, "T-1", "in flight") }()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the case's opening never reached the store")
	}
	if got := v.log.Size(); got != size {
		t.Errorf("the log's size during the append: %d, want the durable %d", got, size)
	}
	n := 0
	err := v.Timeline(ctx, aud, "", "", func(events.Record, *events.Event) error { n++; return nil })
	if err != nil || uint64(n) != size {
		t.Errorf("the whole log's timeline during an append: %d events, %v; want the %d durable ones", n, err, size)
	}
	if err := v.readWhole(ctx, func(events.Record, *events.Event) error { return nil }); err != nil {
		t.Errorf("a full scan during an append: %v", err)
	}
	if _, err := v.EventTime(ctx, aud, size-1); err != nil {
		t.Errorf("the newest durable event's time during an append: %v", err)
	}
	if err := v.Timeline(ctx, aud, "T-0", "", func(events.Record, *events.Event) error { return nil }); err != nil {
		t.Errorf("a case's timeline during an append: %v", err)
	}
	close(g.release)
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if v.log.Size() <= size {
		t.Errorf("the log's size after the append: %d", v.log.Size())
	}
	// And the case's lookup, read while its opening is appended and
	// after, is no finding either.
	for range 2 {
		if err := v.Timeline(ctx, aud, "T-1", "", func(events.Record, *events.Event) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if f := lookupFindings(t, v); len(f) != 0 || storeFindings(t, v) != 0 {
		t.Errorf("reads beside an append recorded as failures: %q", f)
	}
}

// editedOwn is a log store whose answers to a case's own events
// (events.CaseOwnReader) were edited as a database administrator could
// edit the unsigned item and case columns: records left out, and records
// of an item or of another case slipped in with their columns set to
// look like the case's own. It counts the reads of a whole case, which a
// package's custody record must not need.
type editedOwn struct {
	events.Store
	omit      func(events.Record) bool
	foreign   []events.Record
	caseReads atomic.Int32
	// wholeReads counts reads of the whole log: the vault's answer when
	// a lookup is found edited.
	wholeReads atomic.Int32
}

func (e *editedOwn) Read(ctx context.Context, from uint64, fn func(events.Record) error) error {
	e.wholeReads.Add(1)
	return e.Store.Read(ctx, from, fn)
}

func (e *editedOwn) ReadCaseOwn(ctx context.Context, id string, fn func(events.Record) error) error {
	var out []events.Record
	if err := events.ReadCaseOwn(ctx, e.Store, id, func(r events.Record) error {
		if e.omit == nil || !e.omit(r) {
			out = append(out, r)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, r := range e.foreign {
		r.Case, r.Item = id, ""
		out = append(out, r)
	}
	// In log order, so that what gives them away is what they are, not
	// where they come.
	slices.SortFunc(out, func(a, b events.Record) int { return int(a.Seq) - int(b.Seq) })
	for _, r := range out {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (e *editedOwn) ReadCase(ctx context.Context, id string, fn func(events.Record) error) error {
	e.caseReads.Add(1)
	return e.Store.ReadCase(ctx, id, fn)
}

// A package's custody record reads the case's own events alone, not
// every event of every item of the case; and what that lookup returns is
// checked against the signed bytes and the replay's count of the case's
// own events, as every lookup is: left out or slipped in, the record is
// the one the signed log gives.
func TestCaseOwnLookupIsChecked(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	cust := enrolled(t, v, "cust", RoleCustodian)
	openCases(t, v, inv, "A", "B")
	var ids []string
	for _, name := range []string{"a.bin", "b.bin"} {
		d := depositText(t, v, inv, "A", name, name)
		ids = append(ids, d.ID)
	}
	other := depositText(t, v, inv, "B", "c.bin", "c")
	for _, id := range []string{ids[0], ids[1], ids[1], other.ID} {
		r, err := v.OpenItem(ctx, inv, id, "VIEW OF "+id)
		if err != nil {
			t.Fatal(err)
		}
		r.Finish(ctx)
	}
	if _, err := v.SetHold(ctx, cust, "A", true, "THE HOLD"); err != nil {
		t.Fatal(err)
	}
	// Packages of each item: the item's timeline shows its own.
	defenceCounsel(t, v)
	var sealed []string
	for _, id := range ids {
		p, err := v.SealPackage(ctx, inv, SealRequest{Case: "A", For: "dan", Purpose: "PACKAGE OF " + id, Items: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, p.ID)
	}
	r, err := v.OpenItem(ctx, inv, ids[0], "A VIEW AFTER THE PACKAGES")
	if err != nil {
		t.Fatal(err)
	}
	r.Finish(ctx)
	size := v.log.Size()
	all := func(string) bool { return true }
	record := func() map[uint64][]byte {
		t.Helper()
		raw, err := v.custodyEvents(ctx, "A", ids[:1], size, all, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// What the record must hold, from the signed log alone: the case's
	// events that name no item (of packages, those of the one carrying
	// the item shown), and those of the item shown.
	want := map[uint64][]byte{}
	var hold, viewOfB, openingB events.Record
	if err := v.readWhole(ctx, func(r events.Record, ev *events.Event) error {
		var d struct {
			Package string `json:"package"`
		}
		ev.DecodeData(&d)
		switch {
		case r.Seq >= size:
		case ev.Case == "A" && ev.Item == ids[0],
			ev.Case == "A" && ev.Item == "" && (d.Package == "" || d.Package == sealed[0]):
			want[r.Seq] = r.Bytes
		}
		switch {
		case ev.Type == TypeCaseHoldPlaced:
			hold = r
		case ev.Type == TypeItemAccessed && ev.Item == ids[1] && viewOfB.Bytes == nil:
			viewOfB = r
		case ev.Type == TypeCaseOpened && ev.Case == "B":
			openingB = r
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if hold.Bytes == nil || viewOfB.Bytes == nil || openingB.Bytes == nil {
		t.Fatal("the test's log lacks the events it edits")
	}
	same := func(got map[uint64][]byte, what string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: the record holds %d events, the signed log gives %d", what, len(got), len(want))
		}
		for seq, b := range want {
			if !bytes.Equal(got[seq], b) {
				t.Errorf("%s: the record lacks event %d or holds other bytes for it", what, seq)
			}
		}
	}
	// An item's timeline, as the signed log gives it: the item's events
	// and its package's, in log order.
	aud := enrolled(t, v, "aud", RoleAuditor)
	var wantTimeline []uint64
	pkgEvents, afterPkg := 0, false
	if err := v.readWhole(ctx, func(r events.Record, ev *events.Event) error {
		if r.Seq >= size {
			return nil
		}
		var d struct {
			Package string `json:"package"`
		}
		ev.DecodeData(&d)
		if ev.Item == ids[0] || (ev.Item == "" && d.Package == sealed[0]) {
			wantTimeline = append(wantTimeline, r.Seq)
			if ev.Item == "" {
				pkgEvents++
			} else if pkgEvents > 0 {
				afterPkg = true
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	timeline := func(what string) {
		t.Helper()
		var got []uint64
		if err := v.Timeline(ctx, aud, "", ids[0], func(r events.Record, _ *events.Event) error {
			if r.Seq < size {
				got = append(got, r.Seq)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, wantTimeline) {
			t.Errorf("%s: the item's timeline is events %v, the signed log gives %v", what, got, wantTimeline)
		}
	}
	if pkgEvents < 2 || !afterPkg {
		t.Fatalf("the item's timeline has %d events of its package and events after them: %v; the test needs both", pkgEvents, afterPkg)
	}

	real := v.cfg.Log
	defer func() { v.cfg.Log = real }()

	faithful := &editedOwn{Store: real}
	v.cfg.Log = faithful
	same(record(), "the store as it is")
	timeline("the store as it is")
	if n := faithful.caseReads.Load(); n != 0 {
		t.Errorf("the record read the whole case %d times: its items' events were read to find the case's own", n)
	}
	if n := faithful.wholeReads.Load(); n != 0 {
		t.Errorf("the faithful lookup was taken for an edited one: the whole log was read %d times", n)
	}

	for _, tc := range []struct {
		name  string
		store *editedOwn
	}{
		{"the hold left out", &editedOwn{Store: real, omit: func(r events.Record) bool { return r.Seq == hold.Seq }}},
		{"another item's view slipped in", &editedOwn{Store: real, foreign: []events.Record{viewOfB}}},
		{"another case's opening slipped in", &editedOwn{Store: real, foreign: []events.Record{openingB}}},
		{"the hold replaced by another item's view", &editedOwn{Store: real, omit: func(r events.Record) bool { return r.Seq == hold.Seq },
			foreign: []events.Record{viewOfB}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.cfg.Log = tc.store
			defer func() { v.cfg.Log = real }()
			same(record(), tc.name)
			timeline(tc.name)
			if tc.store.wholeReads.Load() == 0 {
				t.Error("the edited lookup was not found out (no scan of the whole log)")
			}
		})
	}
}

// hookedOwn calls after once its ReadCaseOwn has answered.
type hookedOwn struct {
	events.Store
	after func()
}

func (h *hookedOwn) ReadCaseOwn(ctx context.Context, id string, fn func(events.Record) error) error {
	err := events.ReadCaseOwn(ctx, h.Store, id, fn)
	if h.after != nil {
		h.after()
		h.after = nil
	}
	return err
}

// An item's timeline reads the case's own events, then the item's: what
// is appended between the two reads is for the next timeline, so that a
// view of the item cannot appear without the package sealing logged
// before it.
func TestItemTimelineIsOneMoment(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	dan := enrolled(t, v, "dan", RoleProsecutor)
	id, _ := age.GenerateX25519Identity()
	recipient, _, err := v.SetRecipient(ctx, dan, id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	openCases(t, v, inv, "A")
	d := depositText(t, v, inv, "A", "a.bin", "a")
	real := v.cfg.Log
	defer func() { v.cfg.Log = real }()
	hooked := &hookedOwn{Store: real}
	hooked.after = func() {
		// Between the reads: a package of the item is sealed, then the
		// item is viewed.
		if _, err := v.log.Append(ctx,
			sequencer.Draft{Type: TypePackageSealing, Actor: inv.actor(), Case: "A",
				Data: PackageSealing{Package: "pk_between", For: "dan", ForRole: RoleProsecutor, Recipient: recipient, Purpose: "p", Items: []string{d.ID}}},
			sequencer.Draft{Type: TypeItemAccessed, Actor: inv.actor(), Case: "A", Item: d.ID,
				Data: ItemAccessed{Purpose: "AFTER THE SEALING", Access: "view"}}); err != nil {
			t.Error(err)
		}
	}
	v.cfg.Log = hooked
	var seqs []uint64
	if err := v.Timeline(ctx, aud, "", d.ID, func(r events.Record, ev *events.Event) error {
		if bytes.Contains(r.Bytes, []byte("AFTER THE SEALING")) {
			t.Errorf("the timeline shows event %d, appended after its read of the case's own events, without the sealing before it", r.Seq)
		}
		seqs = append(seqs, r.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if hooked.after != nil || len(seqs) == 0 {
		t.Fatalf("the timeline did not read the case's own events through the store (%d events)", len(seqs))
	}
	// The next timeline shows both, in order.
	v.cfg.Log = real
	var types []string
	if err := v.Timeline(ctx, aud, "", d.ID, func(r events.Record, ev *events.Event) error {
		types = append(types, ev.Type)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(types); n < 2 || types[n-2] != TypePackageSealing || types[n-1] != TypeItemAccessed {
		t.Fatalf("the next timeline ends with %v", types)
	}
}

// The SQLite lookup file itself edited, as anyone who can write the data
// folder could: a row of the case's own events deleted, a row slipped in
// for another case's hold, the anchor moved. The package's custody record is
// the signed log's each time.
func TestEditedLookupFileOwnRows(t *testing.T) {
	v, dir := openTestVaultDir(t)
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	cust := enrolled(t, v, "cust", RoleCustodian)
	openCases(t, v, inv, "A", "B")
	d := depositText(t, v, inv, "A", "a.bin", "a")
	r, err := v.OpenItem(ctx, inv, d.ID, "a view")
	if err != nil {
		t.Fatal(err)
	}
	r.Finish(ctx)
	for _, c := range []string{"A", "B"} {
		if _, err := v.SetHold(ctx, cust, c, true, "THE HOLD OF "+c); err != nil {
			t.Fatal(err)
		}
	}
	size := v.log.Size()
	var hold, otherHold uint64
	if err := v.readWhole(ctx, func(r events.Record, ev *events.Event) error {
		if ev.Type == TypeCaseHoldPlaced && ev.Case == "A" {
			hold = r.Seq
		} else if ev.Type == TypeCaseHoldPlaced {
			otherHold = r.Seq
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "log.db-lookups")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	deadline := time.Now().Add(10 * time.Second)
	for n := uint64(0); n < size; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the lookup file covers %d of %d events after 10 s", n, size)
		}
		raw.QueryRow(`SELECT size FROM lookups_size`).Scan(&n)
	}
	record := func() map[uint64][]byte {
		t.Helper()
		out, err := v.custodyEvents(ctx, "A", []string{d.ID}, size, func(string) bool { return true }, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := record()
	if want[hold] == nil || want[otherHold] != nil {
		t.Fatal("the record lacks the case's hold, or holds the other case's")
	}
	edit := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ name, do, undo string }{
		{"the hold's own row deleted", `DELETE FROM lookups WHERE key = 'o:A' AND seq = ?`, `INSERT INTO lookups(key, seq) VALUES ('o:A', ?)`},
		{"another case's hold slipped in", `INSERT INTO lookups(key, seq) VALUES ('o:A', ?)`, `DELETE FROM lookups WHERE key = 'o:A' AND seq = ?`},
	} {
		seq := map[bool]uint64{true: hold, false: otherHold}[strings.Contains(c.name, "the hold")]
		edit(c.do, int64(seq))
		got := record()
		if len(got) != len(want) {
			t.Errorf("%s: the record holds %d events, the signed log gives %d", c.name, len(got), len(want))
		}
		for s, b := range want {
			if !bytes.Equal(got[s], b) {
				t.Errorf("%s: the record lacks event %d", c.name, s)
			}
		}
		edit(c.undo, int64(seq))
	}
	if f := lookupFindings(t, v); !slices.ContainsFunc(f, func(r string) bool { return strings.Contains(r, "events of case A's own") }) {
		t.Errorf("the edited lookup file is not on the record: %q", f)
	}
	// Rows edited to hold what the schema does not allow (SQLite keeps
	// whatever a column is given), under each kind of key: the reads
	// answer the signed history, not a driver's conversion error.
	timeline := func(caseID, item string) int {
		t.Helper()
		n := 0
		aud := enrolled(t, v, fmt.Sprintf("aud-%d", time.Now().UnixNano()), RoleAuditor)
		if err := v.Timeline(ctx, aud, caseID, item, func(events.Record, *events.Event) error { n++; return nil }); err != nil {
			t.Fatalf("timeline of %q/%q: %v", caseID, item, err)
		}
		return n
	}
	caseEvents, itemEvents := timeline("A", ""), timeline("", d.ID)
	for _, key := range []string{"o:A", "c:A", "i:" + d.ID} {
		for _, val := range []any{1.5, -3, "7"} {
			edit(`INSERT INTO lookups(key, seq) VALUES (?, ?)`, key, val)
			got := record()
			if len(got) != len(want) {
				t.Errorf("a row %v under %s: the record holds %d events, the signed log gives %d", val, key, len(got), len(want))
			}
			if n := timeline("A", ""); n < caseEvents {
				t.Errorf("a row %v under %s: the case's timeline has %d events, had %d", val, key, n, caseEvents)
			}
			if n := timeline("", d.ID); n < itemEvents {
				t.Errorf("a row %v under %s: the item's timeline has %d events, had %d", val, key, n, itemEvents)
			}
			edit(`DELETE FROM lookups WHERE key = ? AND seq = ?`, key, val)
		}
	}
	// The anchor moved to say the own rows begin at the end: the case's
	// rows are read, filtered, and the answer is the same.
	edit(`UPDATE lookups_size SET anchor = '2:' || size || ':' || substr(anchor, instr(substr(anchor, 3), ':') + 3)`)
	if got := record(); len(got) != len(want) {
		t.Errorf("the anchor moved: the record holds %d events, the signed log gives %d", len(got), len(want))
	}
	// The size row edited into something that is not a count: the file is
	// made again from the log (its size row an integer again), and every
	// read answers meanwhile.
	for _, q := range []string{`UPDATE lookups_size SET size = size + 0.5`, `UPDATE lookups_size SET size = 'many'`,
		`UPDATE lookups_size SET size = -1`, `UPDATE lookups_size SET anchor = x'00ff'`} {
		edit(q)
		if got := record(); len(got) != len(want) {
			t.Errorf("%s: the record holds %d events, the signed log gives %d", q, len(got), len(want))
		}
		if n := timeline("", d.ID); n < itemEvents {
			t.Errorf("%s: the item's timeline has %d events, had %d", q, n, itemEvents)
		}
		var kind string
		if err := raw.QueryRow(`SELECT typeof(size) || '/' || typeof(anchor) FROM lookups_size`).Scan(&kind); err != nil || kind != "integer/text" {
			t.Errorf("%s: the size row is %q (%v) after a read; want it made again", q, kind, err)
		}
	}
	// The size table declared again with a column that converts every
	// count it is given (text, real): reads answer, promptly, and the
	// table is not made again and again.
	for _, typ := range []string{"TEXT", "REAL"} {
		edit(`CREATE TABLE ls2 (one INTEGER PRIMARY KEY CHECK (one = 1), size ` + typ + ` NOT NULL, anchor TEXT NOT NULL);
			INSERT INTO ls2 SELECT * FROM lookups_size; DROP TABLE lookups_size; ALTER TABLE ls2 RENAME TO lookups_size`)
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		aud := enrolled(t, v, "aud-"+strings.ToLower(typ), RoleAuditor)
		n := 0
		err := v.Timeline(tctx, aud, "", d.ID, func(events.Record, *events.Event) error { n++; return nil })
		if err != nil || n < itemEvents {
			t.Fatalf("size column %s: the item's timeline has %d events (had %d): %v", typ, n, itemEvents, err)
		}
		got, err := v.custodyEvents(tctx, "A", []string{d.ID}, size, func(string) bool { return true }, nil, false)
		cancel()
		if err != nil || len(got) != len(want) {
			t.Fatalf("size column %s: the record holds %d events, the signed log gives %d: %v", typ, len(got), len(want), err)
		}
	}
}

// failingLookups is a log store whose case and item lookups cannot be
// answered: the error a store gives when its lookup data was edited into
// something its driver cannot read.
type failingLookups struct{ events.Store }

var errLookupUnreadable = errors.New("sql: Scan error on column index 0: converting driver.Value type float64 to a int64")

func (failingLookups) ReadItem(context.Context, string, func(events.Record) error) error {
	return errLookupUnreadable
}
func (failingLookups) ReadCase(context.Context, string, func(events.Record) error) error {
	return errLookupUnreadable
}
func (failingLookups) ReadCaseOwn(context.Context, string, func(events.Record) error) error {
	return errLookupUnreadable
}

// A lookup that fails is one that disagrees: the answer comes from the
// checked scan of the whole log, the same as the lookup's would have
// been, and a package is sealed with its whole custody record. The log
// line names a bounded number of problems however many the store's
// answer has (a lookup edited to return every event of the log).
func TestFailingOrFloodedLookupAnswersFromTheScan(t *testing.T) {
	var logs logBuffer
	v, _ := openTestVaultDir(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	ctx := context.Background()
	inv := enrolled(t, v, "inv", RoleInvestigator)
	aud := enrolled(t, v, "aud", RoleAuditor)
	openCases(t, v, inv, "A")
	var items []string
	for i := range 3 {
		d, err := v.Deposit(ctx, inv, DepositRequest{Case: "A", Name: fmt.Sprint(i, ".bin"), Body: strings.NewReader(fmt.Sprint("flood ", i))})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, d.ID)
	}
	for range 40 {
		r, err := v.OpenItem(ctx, inv, items[0], "a view")
		if err != nil {
			t.Fatal(err)
		}
		r.Finish(ctx)
	}
	read := func() (caseN, itemN int, record map[uint64][]byte) {
		t.Helper()
		if err := v.Timeline(ctx, aud, "A", "", func(events.Record, *events.Event) error { caseN++; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := v.Timeline(ctx, aud, "", items[1], func(events.Record, *events.Event) error { itemN++; return nil }); err != nil {
			t.Fatal(err)
		}
		record, err := v.custodyEvents(ctx, "A", items[1:2], v.log.Size(), func(string) bool { return true }, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return caseN, itemN, record
	}
	wantCase, wantItem, wantRecord := read()
	honest := v.cfg.Log
	for _, c := range []struct {
		name  string
		store events.Store
	}{
		{"failing", failingLookups{honest}},
		// Every event of the log returned for the asked-for id.
		{"flooded", &editedLookups{Store: honest, foreign: func() []events.Record {
			var all []events.Record
			honest.Read(ctx, 0, func(r events.Record) error { all = append(all, r); return nil })
			return all
		}()}},
	} {
		v.cfg.Log = c.store
		logs.Reset()
		gotCase, gotItem, gotRecord := read()
		v.cfg.Log = honest
		if gotCase != wantCase || gotItem != wantItem || len(gotRecord) != len(wantRecord) {
			t.Errorf("%s lookups: case timeline %d (want %d), item timeline %d (want %d), record %d (want %d)",
				c.name, gotCase, wantCase, gotItem, wantItem, len(gotRecord), len(wantRecord))
		}
		for s, b := range wantRecord {
			if !bytes.Equal(gotRecord[s], b) {
				t.Errorf("%s lookups: the record lacks event %d", c.name, s)
			}
		}
		out := logs.String()
		if !strings.Contains(out, "answering from a full scan") {
			t.Errorf("%s lookups: nothing logged: %s", c.name, out)
		}
		for line := range strings.SplitSeq(out, "\n") {
			if len(line) > 4096 {
				t.Errorf("%s lookups: a log line of %d bytes", c.name, len(line))
			}
		}
		if c.name == "flooded" && !strings.Contains(out, "more") {
			t.Errorf("flooded lookups: the problems are not counted past the first: %s", out)
		}
	}
	// On the record too, a lookup that returned other events (the
	// flooded one, of the item) names what it was for, in a reason of
	// bounded size; one that only failed is not (an outage fails it
	// too).
	f := lookupFindings(t, v)
	if !slices.ContainsFunc(f, func(r string) bool { return strings.Contains(r, "events naming "+items[1]+" ") }) {
		t.Errorf("no integrity.failed for the flooded lookup of %s: %q", items[1], f)
	}
	if slices.ContainsFunc(f, func(r string) bool { return strings.Contains(r, "lookup failed") }) {
		t.Errorf("a lookup that only failed was recorded: %q", f)
	}
	for _, r := range f {
		if len(r) > maxFindingBytes+len("…") {
			t.Errorf("a finding of %d bytes", len(r))
		}
	}
}

// flakyLookups is a log store whose first case lookup fails, as a
// statement timeout or a dropped connection makes one fail, and whose
// data nobody edited.
type flakyLookups struct {
	events.Store
	failed bool
}

func (f *flakyLookups) ReadCase(ctx context.Context, id string, fn func(events.Record) error) error {
	if !f.failed {
		f.failed = true
		return errors.New("pq: canceling statement due to statement timeout")
	}
	return f.Store.ReadCase(ctx, id, fn)
}

// A lookup that only failed (an outage fails it as an edit does) is
// answered from the scan and logged, not recorded as an edit of the
// store.
func TestAFailedLookupIsNotRecordedAsAnEdit(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"aud": RoleAuditor, "inv": RoleInvestigator})
	openCases(t, v, p["inv"], "F-1")
	real := v.cfg.Log
	v.cfg.Log = &flakyLookups{Store: real}
	n := 0
	if err := v.Timeline(ctx, p["aud"], "F-1", "", func(events.Record, *events.Event) error { n++; return nil }); err != nil || n == 0 {
		t.Fatalf("the timeline during the outage: %d events, %v", n, err)
	}
	v.cfg.Log = real
	if f := lookupFindings(t, v); len(f) != 0 {
		t.Errorf("a failed query recorded as an edit: %q", f)
	}
}

// A lookup flooded with every event of a long log is recorded in a
// reason of bounded size.
func TestLookupFindingIsBounded(t *testing.T) {
	long := strings.Repeat("event 7: the store's lookup columns say case \"ÄÄÄÄÄÄÄÄÄÄ\"; ", 100)
	r := lookupFinding("events naming A", long)
	if len(r) > maxFindingBytes+len("…") || !utf8.ValidString(r) || !strings.HasPrefix(r, "a lookup of the custody log store: ") {
		t.Errorf("a finding of %d bytes, valid UTF-8 %v: %.80q", len(r), utf8.ValidString(r), r)
	}
	if short := lookupFinding("events naming A", "event 7 was returned twice"); !strings.HasSuffix(short, "event 7 was returned twice") {
		t.Errorf("a short finding cut: %q", short)
	}
}

// Names are matched as people type them: without regard to letter case,
// by the last path element, or by a folder above it.
func TestMatchNameIgnoresLetterCase(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"img*", "DCIM/IMG_0042.JPG", true},
		{"*.jpg", "DCIM/IMG_0042.JPG", true},
		{"dcim/*", "DCIM/IMG_0042.JPG", true},
		{"IMG_0042.JPG", "img_0042.jpg", true},
		{"*.png", "DCIM/IMG_0042.JPG", false},
		{"video.mp4", "chat.txt", false},
	} {
		if got := matchName(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchName(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
