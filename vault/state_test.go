package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects/fs"
)

// TestEveryApplierReadsItsType feeds each applier an event of its type
// whose data it cannot read, and one about a case the log never opened:
// each must answer an error (which stops a start), never skip the event.
func TestEveryApplierReadsItsType(t *testing.T) {
	for typ := range appliers {
		t.Run(typ, func(t *testing.T) {
			s := newState()
			ev := &events.Event{Seq: 7, Type: typ, Case: "NEVER-OPENED", Data: []byte(`{"title":5,"name":[],"orphans":"x","cases":1,"package":{},"recipient":3,"person":2,"request":1,"retention":"soon","origin":4,"session":5}`)}
			if err := s.apply(ev); err == nil && typ != TypeDestructionApproved && !strings.HasPrefix(typ, "case.hold.") {
				t.Fatalf("%s: unreadable data applied without an error", typ)
			}
			if strings.HasPrefix(typ, "case.") && typ != TypeCaseOpened {
				ev.Data = []byte(`{}`)
				if err := s.apply(ev); err == nil {
					t.Fatalf("%s: an event about a case the log never opened was applied", typ)
				}
			}
		})
	}
}

// TestUnreadableEventStopsTheStart: a log holding an event the state
// cannot apply is refused at start, naming the event.
func TestUnreadableEventStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	rec, _ := age.GenerateX25519Identity()
	open := func() (*Vault, events.Store, error) {
		st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
		if err != nil {
			t.Fatal(err)
		}
		objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
		sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
		v, err := Open(ctx, Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"),
			SpoolDir: filepath.Join(dir, "spool"), RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler),
			CheckpointInterval: time.Hour})
		return v, st, err
	}
	v, st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	// A correctly chained and signed event whose data the state cannot
	// read (as a buggy or foreign writer could leave).
	evs, err := v.log.Append(ctx, sequencer.Draft{Type: TypeCaseOpened, Actor: System, Case: "X-1", Data: map[string]any{"title": 5}})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	st.Close()
	if _, st, err = open(); err == nil || !strings.Contains(err.Error(), "cannot apply") || !strings.Contains(err.Error(), "event "+strconv.FormatUint(evs[0].Seq, 10)) {
		t.Fatalf("start on a log with an unreadable event: %v", err)
	}
	st.Close()
}

// The log records each item, each package's sealing and each object
// once; a log that does otherwise (a buggy or foreign writer, signed
// with the vault's key) is refused at the event, not applied: the
// indexes a start checks a snapshot's index pages by (restorer.checkRows:
// each item once in each) would otherwise differ from the replay's.
func TestApplierRefusesASecondRecordOfAnItemOrObject(t *testing.T) {
	f := newPackageFixture(t) // P-1 with two items, a package sealed
	evs := logged(t, f.v)
	var deposit, sealing, sealed *events.Event
	for _, ev := range evs {
		switch ev.Type {
		case TypeItemDeposited:
			deposit = ev
		case TypePackageSealing:
			sealing = ev
		case TypePackageSealed:
			sealed = ev
		}
	}
	var dep ItemDeposited
	var ing PackageSealing
	var seal PackageSealed
	if deposit.DecodeData(&dep) != nil || sealing.DecodeData(&ing) != nil || sealed.DecodeData(&seal) != nil {
		t.Fatal("the fixture's events do not decode")
	}
	// again is ev with other data, as the log's next events.
	seq := evs[len(evs)-1].Seq
	again := func(ev *events.Event, item string, data any) *events.Event {
		c := *ev
		seq++
		c.Seq, c.Item = seq, item
		c.Data, _ = json.Marshal(data)
		return &c
	}
	other := ing
	other.Package = "pk_00000000000000000000ffff"
	into := seal
	into.Package, into.Object = other.Package, dep.Object
	for name, tc := range map[string]struct {
		tail []*events.Event
		want string
	}{
		"the same deposit again":                 {[]*events.Event{again(deposit, deposit.Item, dep)}, "deposits item"},
		"another item with the same object":      {[]*events.Event{again(deposit, "it_00000000000000000000ffff", dep)}, "already owns"},
		"the same package sealed again":          {[]*events.Event{again(sealed, sealed.Item, seal)}, "seals package"},
		"the same package's sealing again":       {[]*events.Event{again(sealing, sealing.Item, ing)}, "seals package"},
		"a package sealed into an item's object": {[]*events.Event{again(sealing, sealing.Item, other), again(sealed, sealed.Item, into)}, "already owns"},
	} {
		s := newState()
		for _, ev := range evs {
			if err := s.apply(ev); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		for _, ev := range tc.tail {
			if err = s.apply(ev); err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it refused (%q)", name, err, tc.want)
		}
	}
}

// A log from before opening a case was checked at the event's position
// can hold two openings of one case (two custodians raced): the later
// replaced the case, so its item list holds only the items deposited
// after it. A state restored from a snapshot is the replay's, whether
// the snapshot was taken after the second opening or before it (then the
// case's list in the snapshot's pages is the replaced case's: the second
// opening sets it aside, and the next snapshot leaves it out).
func TestCaseOpenedTwiceRestoresAsReplayed(t *testing.T) {
	f := newPackageFixture(t) // P-1 with two items
	evs := logged(t, f.v)
	var opened, deposit *events.Event
	for _, ev := range evs {
		switch ev.Type {
		case TypeCaseOpened:
			opened = ev
		case TypeItemDeposited:
			deposit = ev
		}
	}
	var dep ItemDeposited
	if err := deposit.DecodeData(&dep); err != nil {
		t.Fatal(err)
	}
	seq := evs[len(evs)-1].Seq
	reopened := *opened
	seq++
	reopened.Seq = seq
	later := *deposit
	seq++
	later.Seq, later.Item = seq, "it_00000000000000000000ffff"
	dep.Object = "ev/0000000000000000000000000000ffff"
	later.Data, _ = json.Marshal(dep)
	s := newState()
	for _, ev := range append(evs, &reopened, &later) {
		if err := s.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	if got := caseItemIDs(t, s, "P-1"); len(got) != 1 || got[0] != later.Item {
		t.Fatalf("the replay's items of the reopened case: %v, want only %s", got, later.Item)
	}
	restored := snapshotRoundTrip(t, s)
	if d := stateDiff(restored, s); d != "" {
		t.Fatalf("the state restored from a snapshot differs from the replay in %s (items %v, replay %v)", d, caseItemIDs(t, restored, "P-1"), caseItemIDs(t, s, "P-1"))
	}
	// A snapshot from before the second opening, then the rest applied.
	before := newState()
	for _, ev := range evs {
		if err := before.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	paged := snapshotRoundTrip(t, before)
	if n := paged.cases["P-1"].paged; n != 2 {
		t.Fatalf("the snapshot's pages hold %d items of P-1, want 2", n)
	}
	for _, ev := range []*events.Event{&reopened, &later} {
		if err := paged.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []*State{paged, snapshotRoundTrip(t, paged)} {
		if got := caseItemIDs(t, st, "P-1"); len(got) != 1 || got[0] != later.Item {
			t.Fatalf("the items of the reopened case, from pages: %v, want only %s", got, later.Item)
		}
		if d := stateDiff(st, s); d != "" {
			t.Fatalf("the state from pages differs from the replay in %s", d)
		}
	}
}

// A case's items are read from the case index's pages by ranges: any
// offset and limit give the replay's items, the pages' and those
// deposited since together, and the first items of a large case read
// one page.
func TestCaseItemsReadByRanges(t *testing.T) {
	evs, more := moreDeposits(t)
	s := newState()
	for _, ev := range append(evs, more(300)...) {
		if err := s.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	paged := snapshotRoundTrip(t, s)
	if p := paged.casePages; p == nil || len(p.index) < 3 || paged.cases["P-1"].paged != 302 {
		t.Fatalf("want P-1's 302 items in three pages or more: %v", p)
	}
	for _, ev := range more(20) {
		if err := s.apply(ev); err != nil {
			t.Fatal(err)
		}
		if err := paged.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	all := caseItemIDs(t, s, "P-1")
	if len(all) != 322 || len(paged.cases["P-1"].Items) != 20 {
		t.Fatalf("%d items in the replay, %d deposited since the pages", len(all), len(paged.cases["P-1"].Items))
	}
	for _, offset := range []int{0, 1, 127, 128, 129, 255, 301, 302, 303, 321, 322, 400} {
		for _, limit := range []int{-1, 0, 1, 5, 128, 1000} {
			got, total, err := paged.caseItemsRange("P-1", offset, limit)
			from := min(offset, len(all))
			to := len(all)
			if limit >= 0 {
				to = min(to, from+limit)
			}
			if err != nil || total != len(all) || !slices.Equal(got, all[from:to]) {
				t.Fatalf("offset %d limit %d: %d items (%v), total %d; want %d of %d", offset, limit, len(got), err, total, to-from, len(all))
			}
		}
	}
	clearPageCache(paged.casePages)
	if got, _, err := paged.caseItemsRange("P-1", 0, 5); err != nil || len(got) != 5 || paged.casePages.cache.Len() != 1 {
		t.Fatalf("the first 5 items: %d (%v), read %d pages; want 1", len(got), err, paged.casePages.cache.Len())
	}
	// A range deep in the case reads the page where its rows begin and
	// the one that holds the range, not those between.
	clearPageCache(paged.casePages)
	if got, _, err := paged.caseItemsRange("P-1", 290, 5); err != nil || !slices.Equal(got, all[290:295]) || paged.casePages.cache.Len() > 2 {
		t.Fatalf("items 290 to 294: %d (%v), read %d pages; want 2 at most", len(got), err, paged.casePages.cache.Len())
	}
	if got, err := paged.caseItems("no-such-case"); err != nil || got != nil {
		t.Fatalf("no such case: %v %v", got, err)
	}
}

// moreDeposits returns the log of a vault with case P-1 and two items,
// and a function that returns n more deposits of P-1 to apply after it
// (and after any it returned before), their item ids made of their
// positions: it_ and 24 hex digits.
func moreDeposits(t *testing.T) ([]*events.Event, func(n int) []*events.Event) {
	f := newPackageFixture(t)
	evs := logged(t, f.v)
	var deposit *events.Event
	for _, ev := range evs {
		if ev.Type == TypeItemDeposited {
			deposit = ev
		}
	}
	var dep ItemDeposited
	if err := deposit.DecodeData(&dep); err != nil {
		t.Fatal(err)
	}
	seq := evs[len(evs)-1].Seq
	return evs, func(n int) []*events.Event {
		var out []*events.Event
		for range n {
			seq++
			ev := *deposit
			ev.Seq, ev.Item = seq, fmt.Sprintf("it_%024x", seq)
			dep.Object = fmt.Sprintf("ev/%032x", seq)
			ev.Data, _ = json.Marshal(dep)
			out = append(out, &ev)
		}
		return out
	}
}

// A scan of every item (scrub, statistics) passes each item once, in id
// order, the newer copy of one changed since the snapshot, whatever its
// chunks; and a scan during which items are deposited, changed and the
// state switches to a new snapshot's pages still passes every item that
// was there once, and none twice.
func TestScanItemsInChunks(t *testing.T) {
	evs, more := moreDeposits(t)
	apply := func(st *State, evs []*events.Event) {
		t.Helper()
		for _, ev := range evs {
			if err := st.apply(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := newState()
	apply(s, append(evs, more(300)...))
	paged := snapshotRoundTrip(t, s)
	later := more(20)
	apply(s, later)
	apply(paged, later)
	// One item of the pages changed since (as an event would).
	changed := caseItemIDs(t, s, "P-1")[7]
	for _, st := range []*State{s, paged} {
		renameItem(t, st, changed, "changed since")
	}
	var want []Item
	if err := s.eachItem(func(it *Item) error { want = append(want, *it); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(want) != 322 {
		t.Fatalf("%d items", len(want))
	}
	for _, chunk := range []int{1, 7, 64, 65, 1000} {
		// From pages, and from a state that holds every item.
		for _, st := range []*State{paged, s} {
			var got []Item
			if err := st.scanItems(chunk, func(it Item) error { got = append(got, it); return nil }); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("chunks of %d (paged %v): %d items, want %d (or another copy)", chunk, st.pages != nil, len(got), len(want))
			}
		}
	}
	// Work while a scan runs, from pages and from a state that has
	// none yet.
	before := map[string]bool{}
	for _, it := range want {
		before[it.ID] = true
	}
	for _, paged := range []*State{paged, s} {
		scanWhileWorking(t, paged, before, more, apply)
	}
}

// renameItem changes item id's name in st, as an event changes an item:
// moved out of its page first (State.itemToChange).
func renameItem(t *testing.T, st *State, id, name string) {
	t.Helper()
	st.mu.Lock()
	defer st.mu.Unlock()
	it, err := st.itemToChange(id)
	if err != nil || it == nil {
		t.Fatal(it, err)
	}
	it.Deposit.Name = name
}

// scanWhileWorking scans st while deposits are applied, an item changes
// and st switches to a new snapshot's pages, and fails unless every item
// of before is passed once, in id order, the changed one as it is after.
func scanWhileWorking(t *testing.T, paged *State, before map[string]bool, more func(int) []*events.Event, apply func(*State, []*events.Event)) {
	seen := map[string]bool{}
	last, n := "", 0
	var changed string
	for id := range before {
		changed = max(changed, id) // passed last
	}
	err := paged.scanItems(16, func(it Item) error {
		if it.ID == changed && it.Deposit.Name != "changed while scanned" {
			t.Errorf("%s passed as it was before the scan changed it", it.ID)
		}
		if it.ID <= last || seen[it.ID] {
			t.Fatalf("%s passed after %s", it.ID, last)
		}
		last, seen[it.ID] = it.ID, true
		switch n++; n {
		case 40:
			apply(paged, more(5))
		case 80:
			// The state switches to the pages of a snapshot written
			// now, as a running vault does.
			next := snapshotRoundTrip(t, paged)
			paged.usePages(snapPages{items: next.pages, objects: next.objectPages, content: next.contentPages, cases: next.casePages})
		case 100:
			renameItem(t, paged, changed, "changed while scanned")
		case 120:
			apply(paged, more(5))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range before {
		if !seen[id] {
			t.Fatalf("item %s was not passed", id)
		}
	}
	// A failing f ends the scan with its error.
	stop := errors.New("stop")
	calls := 0
	if err := paged.scanItems(16, func(Item) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("%v after %d calls", err, calls)
	}
}

// TestItemEventCountsMatchTheLog: the count of events naming each item
// and case, and the last one's position, which decide whether a store's
// lookup answer is whole (reads.go), are the log's, for ids that are
// items (kept on the item) and ids that are not (an event naming an id
// never deposited), live and read back from a snapshot.
func TestItemEventCountsMatchTheLog(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	busyVault(t, v, 0)
	inv := enrolled(t, v, "inv-x", RoleInvestigator)
	const ghost = "it_00000000000000000000dead"
	if _, err := v.Open(ctx, inv, RevealRequest{Item: ghost, Purpose: "look"}); err == nil {
		t.Fatal("an item never deposited was opened")
	}
	// The vault names no unknown item in its own events today (a refusal
	// of one does not say it was asked for); a log may (an older
	// version's, or an event type that records an id before its item):
	// one such event, applied here as a replay would.
	evs := logged(t, v)
	evs = append(evs, &events.Event{Seq: uint64(len(evs)), Type: "test.names-an-unknown-item", Item: ghost})
	live := newState()
	for _, ev := range evs {
		if err := live.apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]named{}
	wantCase := map[string]named{}
	wantOwn := map[string]named{}
	for _, ev := range evs {
		if ev.Item != "" {
			want[ev.Item] = named{n: want[ev.Item].n + 1, last: ev.Seq}
		}
		if ev.Case != "" {
			wantCase[ev.Case] = named{n: wantCase[ev.Case].n + 1, last: ev.Seq}
			if ev.Item == "" {
				wantOwn[ev.Case] = named{n: wantOwn[ev.Case].n + 1, last: ev.Seq}
			}
		}
	}
	for id, n := range wantOwn {
		if n == wantCase[id] {
			t.Fatalf("case %s has no events of its items: the test cannot tell its own events from all of them", id)
		}
	}
	restored := snapshotRoundTrip(t, live)
	if diff := stateDiff(restored, live); diff != "" {
		t.Errorf("the state read back differs in %s", diff)
	}
	for _, name := range []string{"replayed", "restored", "vault"} {
		s := map[string]*State{"vault": v.state, "replayed": live, "restored": restored}[name]
		if name == "vault" {
			delete(want, ghost) // the synthetic event is not in its log
		}
		items := 0
		for id, n := range want {
			if got, err := s.namedBy(id, byItem); err != nil || got != n {
				t.Errorf("%s: item %s is named by %+v (%v), the log says %+v", name, id, got, err, n)
			}
			if it, err := s.item(id); err != nil {
				t.Fatal(err)
			} else if it != nil {
				items++
			}
		}
		if items != 30 {
			t.Errorf("%s: %d of the ids named are items, want 30", name, items)
		}
		if len(s.itemEvents) != len(want)-items {
			t.Errorf("%s: itemEvents holds %d ids, want only the %d that are no item", name, len(s.itemEvents), len(want)-items)
		}
		for id, n := range wantCase {
			if got, _ := s.namedBy(id, byCase); got != n {
				t.Errorf("%s: case %s is named by %+v, the log says %+v", name, id, got, n)
			}
			if got, _ := s.namedBy(id, byCaseOwn); got != wantOwn[id] {
				t.Errorf("%s: case %s has %+v events of its own, the log says %+v", name, id, got, wantOwn[id])
			}
		}
		if got, _ := s.namedBy("it_never", byItem); got != (named{}) {
			t.Errorf("%s: an id no event names: %+v", name, got)
		}
	}
}

// TestElapsedWords: spans of time as the CLI and the web say them.
func TestElapsedWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * time.Second: "7 s", 44*time.Minute + 40*time.Second: "45 min", 3*time.Hour + 30*time.Minute: "3.5 h", 51 * time.Hour: "2.1 days",
	} {
		if got := ElapsedWords(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}
