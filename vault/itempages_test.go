package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"

	"filippo.io/age"
)

// pagedItems returns n items with ids it_%024d, as pages in a buffer,
// and the pages read from it.
func pagedItems(t testing.TB, n int) (*itemPages, []byte) {
	t.Helper()
	var buf bytes.Buffer
	pw := newItemPageWriter(&buf, 0)
	for i := range n {
		pw.add(&Item{ID: fmt.Sprintf("it_%024d", 2*i), Case: "C-1", DepositAt: uint64(i), events: named{n: 1, last: uint64(i)},
			Deposit: DepositSummary{Name: "f", Object: fmt.Sprintf("ev/%032d", i), SHA256: strings.Repeat("a", 64)}})
	}
	if err := pw.close(); err != nil {
		t.Fatal(err)
	}
	return newItemPages(bytes.NewReader(buf.Bytes()), nil, pw.index, pw.count), buf.Bytes()
}

// Every item written is found in its page, ids between and around them
// are not, a scan gives them all in order, and however many are read the
// cache holds at most pageCacheSize pages.
func TestItemPagesLookup(t *testing.T) {
	const n = 40_000 // 625 pages, more than the cache holds
	p, _ := pagedItems(t, n)
	if p.count != n || len(p.index) != (n+itemsPerPage-1)/itemsPerPage {
		t.Fatalf("%d items in %d pages", p.count, len(p.index))
	}
	for i := range n {
		id := fmt.Sprintf("it_%024d", 2*i)
		it, err := lookupItem(p, id)
		if err != nil || it == nil || it.ID != id || it.DepositAt != uint64(i) || it.events != (named{n: 1, last: uint64(i)}) {
			t.Fatalf("%s: %+v, %v", id, it, err)
		}
		if it, err := lookupItem(p, fmt.Sprintf("it_%024d", 2*i+1)); it != nil || err != nil {
			t.Fatalf("an id between two items: %+v, %v", it, err)
		}
	}
	for _, id := range []string{"", "it_", "a", "zz"} {
		if it, err := lookupItem(p, id); it != nil || err != nil {
			t.Fatalf("%q: %+v, %v", id, it, err)
		}
	}
	if got := p.cache.Len(); got > pageCacheSize || len(p.byNum) != got {
		t.Fatalf("the cache holds %d pages (%d by number), at most %d", got, len(p.byNum), pageCacheSize)
	}
	var ids []string
	if err := p.scan(0, false, func(items []*Item) (bool, error) {
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != n || !slices.IsSorted(ids) {
		t.Fatalf("a scan gave %d items, sorted %v", len(ids), slices.IsSorted(ids))
	}
}

// A page whose bytes differ from those its index was made from is never
// decoded into items, whatever the difference: ErrIntegrity.
func TestItemPagesRefuseAlteredBytes(t *testing.T) {
	p, enc := pagedItems(t, 300)
	pg := p.index[2]
	id := pg.first
	for name, edit := range map[string]func([]byte) []byte{
		// Still a valid page, with other file names.
		"a name changed": func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(`"name":"f"`), []byte(`"name":"g"`)) },
		"cut short":      func(b []byte) []byte { return b[:pg.off+int64(pg.size)/2] },
		"emptied":        func(b []byte) []byte { return nil },
	} {
		altered := edit(bytes.Clone(enc))
		if bytes.Equal(altered, enc) {
			t.Fatalf("%s: nothing changed", name)
		}
		q := newItemPages(bytes.NewReader(altered), nil, p.index, p.count)
		it, err := lookupItem(q, id)
		if it != nil || !errors.Is(err, ErrIntegrity) || !errors.Is(err, errPageCheck) {
			t.Errorf("%s: %+v, %v; want ErrIntegrity", name, it, err)
		}
		if err := q.scan(0, false, func([]*Item) (bool, error) { return true, nil }); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: a scan: %v; want ErrIntegrity", name, err)
		}
	}
}

// A page of the snapshot's items changed on disk under a running vault is
// never read as items: the read is refused (ErrIntegrity), the vault
// records integrity.failed and halts, and discards its snapshots, so the
// next start replays the log from its first event to the same state.
func TestAlteredItemPageHaltsTheVault(t *testing.T) {
	for _, alter := range []string{"a byte changed", "the file cut short"} {
		t.Run(alter, func(t *testing.T) {
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			logs := &logBuffer{}
			logger := slog.New(slog.NewTextHandler(logs, nil))
			v, closeAll, _ := startedFromPages(t, dir, logger, rec.Recipient().String(), 2)
			defer func() { closeAll() }()
			v.state.mu.RLock()
			pages, changed := v.state.pages, len(v.state.items)
			v.state.mu.RUnlock()
			if changed != 0 {
				t.Fatalf("%d items changed since the start", changed)
			}
			pg := pages.index[0]
			name := newestSnapshot(t, dir)
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			switch alter {
			case "a byte changed":
				b := make([]byte, pg.size)
				if _, err := f.ReadAt(b, pg.off); err != nil {
					t.Fatal(err)
				}
				i := bytes.Index(b, []byte(`"Accesses":`)) + len(`"Accesses":`)
				b[i] = '0' + (b[i]-'0'+1)%10 // a valid page, with another count of views
				f.WriteAt(b[i:i+1], pg.off+int64(i))
			default:
				f.Truncate(pg.off + 10)
			}
			f.Close()
			// The page's item, shown to an investigator of its case,
			// with the page not yet read (its case is taken from a
			// scan, which does not cache).
			var caseID string
			pages.scan(0, false, func(items []*Item) (bool, error) {
				if caseID == "" {
					caseID = items[0].Case
				}
				return true, nil
			})
			clearPageCache(pages)
			who := Principal{Name: "inv-" + strings.TrimPrefix(caseID, "CASE-"), Role: RoleInvestigator}
			it, err := v.ShowItem(context.Background(), who, pg.first)
			if it != nil || !errors.Is(err, ErrIntegrity) {
				t.Fatalf("showing %s: %+v, %v; want ErrIntegrity", pg.first, it, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for v.log.Halted() == nil && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if v.log.Halted() == nil {
				t.Fatal("the vault did not halt")
			}
			if failed := lastOfType(t, v, TypeIntegrityFailed); !strings.Contains(failed["reason"], "page of items") {
				t.Fatalf("integrity.failed %v: want the page named", failed)
			}
			// The operator is told that the snapshot is suspect, not the
			// log: nothing of the log is to be put back from a backup.
			if out := logs.String(); !strings.Contains(out, "the state snapshot in use cannot be vouched for") || strings.Contains(out, "put back the altered events") {
				t.Fatalf("the server's log does not say the snapshot, not the log, is suspect:\n%s", out)
			}
			if left, _ := v.snaps.list(); len(left) != 0 {
				t.Fatalf("snapshots left after the halt: %v", left)
			}
			closeAll()
			v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
			closeAll = func() { v.Close(); st.Close() }
			if started := lastOfType(t, v, TypeServerStarted); started["state_snapshot"] != "" {
				t.Fatalf("server.started %v: want a replay from the first event", started)
			}
			if diff := diffFromReplay(t, v); diff != "" {
				t.Fatalf("state differs from a full replay in %s", diff)
			}
		})
	}
}

// A page that fails its check while a start replays the events after
// its snapshot (the file changed after its MAC was checked) makes the
// start discard the snapshot and replay the log from its first event:
// the snapshot is what is wrong, not the log.
func TestAlteredItemPageAtStartReplays(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	logger := slog.New(slog.DiscardHandler)
	v, closeAll, older := startedFromPages(t, dir, logger, rec.Recipient().String())
	saved, _ := os.ReadFile(older)
	// Events after that snapshot, which name its items (views).
	inv := Principal{Name: "inv-a", Role: RoleInvestigator}
	pages := v.state.pages
	for _, pg := range pages.index {
		if _, err := v.Open(context.Background(), inv, RevealRequest{Item: pg.first, Purpose: "review"}); err != nil {
			t.Fatal(err)
		}
	}
	closeAll()
	names, _ := os.ReadDir(filepath.Join(dir, "snapshots"))
	for _, n := range names {
		os.Remove(filepath.Join(dir, "snapshots", n.Name()))
	}
	if err := os.WriteFile(older, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	afterSnapshotRead = func(path string) {
		b, _ := os.ReadFile(path)
		os.WriteFile(path, bytes.Replace(b, []byte(`"Accesses":1`), []byte(`"Accesses":7`), -1), 0o600)
	}
	defer func() { afterSnapshotRead = nil }()
	v, st := snapshotVault(t, dir, logger, rec.Recipient().String())
	defer func() { v.Close(); st.Close() }()
	started := lastOfType(t, v, TypeServerStarted)
	if started["state_snapshot"] != "" || !strings.Contains(started["state_snapshots_discarded"], "page of items") {
		t.Fatalf("server.started %v: want the snapshot discarded for its page, and a replay", started)
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
	if v.log.Halted() != nil {
		t.Fatal("the vault halted: the log is whole")
	}
}

// After a snapshot is written, a running vault reads its items from the
// new file's pages and holds in memory only those changed since; its
// state is still the replay's.
func TestItemsReadFromTheNewestSnapshot(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer func() { v.Close(); st.Close() }()
	busyVault(t, v, 0)
	busyVault(t, v, 1)
	// A checkpoint at least 50 events after the last snapshot writes one
	// (there may have been one since: timed checkpoints).
	if _, err := v.log.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	v.snaps.wait()
	v.state.mu.RLock()
	pages, changed := v.state.pages, slices.Collect(maps.Keys(v.state.items))
	v.state.mu.RUnlock()
	if pages == nil || pages.count == 0 || len(changed) >= 60 {
		t.Fatalf("pages %v, %d items changed since: want items in pages, and not all of the 60 held as changed", pages, len(changed))
	}
	// A view changes an item: it is held as changed, the rest are not.
	var it string
	pages.scan(0, false, func(items []*Item) (bool, error) {
		for _, x := range items {
			if it == "" && !slices.Contains(changed, x.ID) {
				it = x.ID
			}
		}
		return true, nil
	})
	got, _, _ := v.state.getItem(it)
	who := Principal{Name: "inv-" + strings.TrimPrefix(got.Case, "CASE-"), Role: RoleInvestigator}
	if _, err := v.Open(context.Background(), who, RevealRequest{Item: it, Purpose: "review"}); err != nil {
		t.Fatal(err)
	}
	v.state.mu.RLock()
	now := len(v.state.items)
	v.state.mu.RUnlock()
	if now != len(changed)+1 {
		t.Fatalf("%d items held as changed after one view, want %d", now, len(changed)+1)
	}
	if diff := diffFromReplay(t, v); diff != "" {
		t.Fatalf("state differs from a full replay in %s", diff)
	}
}

// clearPageCache empties the cache of p.
func clearPageCache[T any](p *pageSet[T]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cache.Init()
	clear(p.byNum)
}

// newestSnapshot returns the path of the newest snapshot in dir.
func newestSnapshot(t *testing.T, dir string) string {
	t.Helper()
	names, err := os.ReadDir(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	var snaps []string
	for _, n := range names {
		if _, ok := snapshotSize(n.Name()); ok {
			snaps = append(snaps, n.Name())
		}
	}
	if len(snaps) == 0 {
		t.Fatal("no snapshot")
	}
	return filepath.Join(dir, "snapshots", slices.Max(snaps))
}

// FuzzItemPage: a page line, however formed, is decoded into items in
// strictly increasing id order or refused; never a panic.
func FuzzItemPage(f *testing.F) {
	_, enc := pagedItems(f, 3)
	f.Add(enc)
	f.Add([]byte(`{"paged":[{"item":{"ID":"b"},"events":[1,0]},{"item":{"ID":"a"},"events":[1,0]}]}`))
	f.Add([]byte(`{"paged":[{"item":null,"events":[1,0]}],"lost_keys":{"x":true}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var part snapState
		if decodeSnapState(b, &part) != nil {
			return
		}
		items, err := pageItems(&part)
		if err != nil {
			return
		}
		for i, it := range items {
			if it == nil || it.ID == "" || (i > 0 && items[i-1].ID >= it.ID) || it.events.n == 0 {
				t.Fatalf("accepted %+v", items)
			}
		}
	})
}

// BenchmarkItemPageRead: an item looked up in a page not in the cache
// (read, checked and decoded), and one in a cached page.
func BenchmarkItemPageRead(b *testing.B) {
	const n = 64 * 1024
	p, _ := pagedItems(b, n)
	b.Run("uncached", func(b *testing.B) {
		i := 0
		for b.Loop() {
			clearPageCache(p)
			if it, err := lookupItem(p, fmt.Sprintf("it_%024d", 2*((i*7919)%n))); it == nil || err != nil {
				b.Fatal(it, err)
			}
			i++
		}
	})
	b.Run("cached", func(b *testing.B) {
		id := fmt.Sprintf("it_%024d", 2*77)
		for b.Loop() {
			if it, err := lookupItem(p, id); it == nil || err != nil {
				b.Fatal(it, err)
			}
		}
	})
}

// startedFromPages closes a vault made busy in rounds (30 items each)
// and starts it again from its snapshot, with every item in pages; it
// returns the vault, a closer of it and its store, and the snapshot's
// path.
func startedFromPages(t *testing.T, dir string, logger *slog.Logger, rec string, rounds ...int) (*Vault, func(), string) {
	t.Helper()
	n := 1
	if len(rounds) > 0 {
		n = rounds[0]
	}
	v, st := snapshotVault(t, dir, logger, rec)
	for round := range n {
		busyVault(t, v, round)
	}
	v.Close()
	st.Close()
	v, st = snapshotVault(t, dir, logger, rec)
	if started := lastOfType(t, v, TypeServerStarted); started["state_snapshot"] == "" {
		t.Fatalf("server.started %v: want a start from a snapshot", started)
	}
	if v.state.pages == nil || v.state.pages.count != 30*n {
		t.Fatalf("want the %d items in pages, got %v", 30*n, v.state.pages)
	}
	// What the start left to run beside the vault has ended: a test that
	// then alters the snapshot file finds it by the reads it makes, not
	// by a check that happened to read the file after it.
	<-v.checkDone
	if err := v.waitSweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v, func() { v.Close(); st.Close() }, newestSnapshot(t, dir)
}

// alterPages changes a digit in every page of the snapshot at path (each
// still a valid page) and empties the cache of p.
func alterPages(t *testing.T, path string, p *itemPages) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, pg := range p.index {
		i := pg.off + int64(bytes.Index(b[pg.off:pg.off+int64(pg.size)], []byte(`"Accesses":`))+len(`"Accesses":`))
		b[i] = '0' + (b[i]-'0'+1)%10
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	clearPageCache(p)
}

// waitHalted fails unless v halts within 10 s.
func waitHalted(t *testing.T, v *Vault) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for v.log.Halted() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if v.log.Halted() == nil {
		t.Fatal("the vault did not halt")
	}
}

// A read after the vault closed is no sign of a changed file: it fails,
// but nothing halts and the snapshot Close wrote is kept.
func TestReadAfterCloseKeepsTheSnapshots(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, closeAll, _ := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	first := v.state.pages.index[0].first
	clearPageCache(v.state.pages)
	closeAll()
	if _, _, err := v.state.getItem(first); !errors.Is(err, errPagesClosed) {
		t.Fatalf("a read after Close: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // a halt would have begun
	if names, _ := v.snaps.list(); len(names) == 0 {
		t.Fatal("the snapshots were discarded")
	}
}

// A page that fails its check in a scan of every item (scrub,
// statistics, writing a snapshot) halts the vault as a lookup does.
func TestAlteredPageFoundByAScanHalts(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, closeAll, path := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer closeAll()
	alterPages(t, path, v.state.pages)
	if _, err := v.Scrub(context.Background(), Principal{Name: "cust-a", Role: RoleCustodian}); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("scrub: %v; want ErrIntegrity", err)
	}
	waitHalted(t, v)
	if failed := lastOfType(t, v, TypeIntegrityFailed); !strings.Contains(failed["reason"], "page of items") {
		t.Fatalf("integrity.failed %v: want the page named", failed)
	}
}

// An event naming an item whose page fails its check changes nothing in
// the state (no count, no item), rather than half of what it would.
func TestAlteredPageLeavesTheStateAsItWas(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, closeAll, path := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer closeAll()
	v.state.mu.RLock()
	var id string
	v.state.eachItem(func(it *Item) error {
		if id == "" && it.Case == "CASE-a" {
			id = it.ID
		}
		return nil
	})
	v.state.mu.RUnlock()
	before, _ := v.state.namedBy("CASE-a", byCase)
	alterPages(t, path, v.state.pages)
	_, err := v.Open(context.Background(), Principal{Name: "inv-a", Role: RoleInvestigator}, RevealRequest{Item: id, Purpose: "review"})
	if !errors.Is(err, ErrIntegrity) {
		t.Fatalf("a view of %s: %v; want ErrIntegrity", id, err)
	}
	waitHalted(t, v)
	if after, _ := v.state.namedBy("CASE-a", byCase); after != before {
		t.Fatalf("the case's count of events moved from %+v to %+v", before, after)
	}
	v.state.mu.RLock()
	changed := len(v.state.items)
	v.state.mu.RUnlock()
	if changed != 0 {
		t.Fatalf("%d items held as changed", changed)
	}
}

// A start refused after it loaded a snapshot closes the snapshot's file.
func TestRefusedStartClosesTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	_, closeAll, path := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	closeAll()
	open := func() int {
		fds, _ := os.ReadDir("/proc/self/fd")
		n := 0
		for _, fd := range fds {
			if to, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.HasPrefix(to, filepath.Dir(path)) {
				n++
			}
		}
		return n
	}
	blocker := filepath.Join(dir, "not-a-folder")
	os.WriteFile(blocker, nil, 0o600)
	for range 3 {
		ctx := context.Background()
		st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "log.db")})
		if err != nil {
			t.Fatal(err)
		}
		objs, _ := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
		sealer, _ := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
		_, err = Open(ctx, Config{
			Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"), SpoolDir: filepath.Join(dir, "spool"),
			TileDir: filepath.Join(dir, "tiles"), SnapshotDir: filepath.Join(dir, "snapshots"), SnapshotEvery: 50,
			HashSetDir: filepath.Join(blocker, "hashsets"), RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler),
		})
		st.Close()
		if err == nil {
			t.Fatal("a start with its hash-set folder under a file was not refused")
		}
	}
	if n := open(); n != 0 {
		t.Fatalf("%d snapshot files left open by refused starts", n)
	}
}

// indexRows returns the rows of an index with keys k0000 to k0999 (as
// "k%04d"), key i holding i%5+1 values, as pages in a buffer, and the
// pages read from it.
func indexRows(t testing.TB) (*indexPages, [][2]string, []byte) {
	t.Helper()
	var rows [][2]string
	for i := range 1000 {
		for j := range i%5 + 1 {
			rows = append(rows, [2]string{fmt.Sprintf("k%04d", i), fmt.Sprintf("v%04d-%d", i, j)})
		}
	}
	var buf bytes.Buffer
	rw := newRowPageWriter(&buf, 0, func(r [][2]string) *snapState { return &snapState{Content: r} })
	for _, r := range rows {
		rw.add(r)
	}
	if err := rw.close(); err != nil {
		t.Fatal(err)
	}
	return newPageSet(&snapFile{r: bytes.NewReader(buf.Bytes())}, "content SHA-256s", rw.index, rw.count, contentRows), rows, buf.Bytes()
}

// Every key's values come back in the order written, also when they
// span two pages; keys before, between and after have none; and the rows
// merged with rows added since keep the pages' first for a key.
func TestIndexPagesLookup(t *testing.T) {
	p, rows, _ := indexRows(t)
	if len(p.index) < 20 || p.count != len(rows) {
		t.Fatalf("%d rows in %d pages", p.count, len(p.index))
	}
	want := map[string][]string{}
	for _, r := range rows {
		want[r[0]] = append(want[r[0]], r[1])
	}
	spans := 0 // keys whose rows begin on one page and end on the next
	for m := rowsPerPage; m < len(rows); m += rowsPerPage {
		if rows[m-1][0] == rows[m][0] {
			spans++
		}
	}
	if spans == 0 {
		t.Fatal("no key's rows span two pages")
	}
	for k, vs := range want {
		var got []string
		if err := lookupRows(p, k, func(v string) bool { got = append(got, v); return true }); err != nil || !slices.Equal(got, vs) {
			t.Fatalf("%s: %v, %v; want %v", k, got, err, vs)
		}
		// From any row of the key on, wherever the pages break.
		for skip := range len(vs) + 1 {
			var from []string
			if err := lookupRowsFrom(p, k, skip, func(v string) bool { from = append(from, v); return true }); err != nil || !slices.Equal(from, vs[skip:]) {
				t.Fatalf("%s from its row %d: %v, %v; want %v", k, skip, from, err, vs[skip:])
			}
		}
		// A lookup stops where its caller does.
		var first []string
		if err := lookupRows(p, k, func(v string) bool { first = append(first, v); return false }); err != nil || !slices.Equal(first, vs[:1]) {
			t.Fatalf("%s stopped at the first: %v, %v; want %v", k, first, err, vs[:1])
		}
	}
	for _, k := range []string{"", "a", "k", "k0000a", "k0999z", "l"} {
		if err := lookupRows(p, k, func(v string) bool { t.Fatalf("%q: %s", k, v); return true }); err != nil {
			t.Fatal(err)
		}
		if err := lookupRowsFrom(p, k, 1, func(v string) bool { t.Fatalf("%q from its row 1: %s", k, v); return true }); err != nil {
			t.Fatal(err)
		}
	}
	added := [][2]string{{"a", "new"}, {"k0001", "new1"}, {"k0001", "new2"}, {"z", "new"}}
	var merged [][2]string
	if err := mergeRows(p, nil, added, func(r [2]string) { merged = append(merged, r) }); err != nil {
		t.Fatal(err)
	}
	if len(merged) != len(rows)+len(added) || merged[0] != added[0] || merged[len(merged)-1] != added[3] ||
		!slices.IsSortedFunc(merged, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) }) {
		t.Fatalf("merged: %d rows, first %v, last %v", len(merged), merged[0], merged[len(merged)-1])
	}
	i := slices.IndexFunc(merged, func(r [2]string) bool { return r[0] == "k0001" })
	if got := merged[i : i+4]; got[0][1] != "v0001-0" || got[1][1] != "v0001-1" || got[2][1] != "new1" || got[3][1] != "new2" {
		t.Fatalf("k0001 merged: %v", got)
	}
	// A key the merge does not keep loses its pages' rows, not those
	// added since (a case opened again: its new list only).
	merged = nil
	if err := mergeRows(p, func(k string) bool { return k != "k0001" }, added, func(r [2]string) { merged = append(merged, r) }); err != nil {
		t.Fatal(err)
	}
	i = slices.IndexFunc(merged, func(r [2]string) bool { return r[0] == "k0001" })
	if len(merged) != len(rows)+len(added)-len(want["k0001"]) || merged[i][1] != "new1" || merged[i+1][1] != "new2" || merged[i+2][0] == "k0001" {
		t.Fatalf("k0001 merged without its pages' rows: %d rows, %v", len(merged), merged[i:i+3])
	}
}

// A page of an index whose bytes changed is never read: ErrIntegrity.
func TestIndexPagesRefuseAlteredBytes(t *testing.T) {
	p, _, enc := indexRows(t)
	altered := bytes.Replace(enc, []byte(`"v0500-0"`), []byte(`"v0500-9"`), 1)
	q := newPageSet(&snapFile{r: bytes.NewReader(altered)}, "content SHA-256s", p.index, p.count, contentRows)
	err := lookupRows(q, "k0500", func(string) bool { t.Fatal("a row of an altered page"); return true })
	if !errors.Is(err, ErrIntegrity) || !errors.Is(err, errPageCheck) {
		t.Fatalf("%v; want ErrIntegrity", err)
	}
}

// A page of the object or the content index changed on disk under a
// running vault is never read: the lookup is refused and the vault
// halts, as for a page of items.
func TestAlteredIndexPageHaltsTheVault(t *testing.T) {
	for _, index := range []string{"objects", "content", "cases"} {
		t.Run(index, func(t *testing.T) {
			dir := t.TempDir()
			rec, _ := age.GenerateX25519Identity()
			v, closeAll, path := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
			defer closeAll()
			pages := map[string]*indexPages{"objects": v.state.objectPages, "content": v.state.contentPages, "cases": v.state.casePages}[index]
			if pages == nil || pages.count < 30 {
				t.Fatalf("the %s index is not in pages: %v", index, pages)
			}
			// The first row's key: an object name, a SHA-256 in hex or a
			// case id.
			pg := pages.index[0]
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			line := b[pg.off : pg.off+int64(pg.size)]
			i := bytes.Index(line, []byte(`"it_`)) + 4 // a digit of the first row's item id
			line[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", line[i])+1)%16]
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			clearPageCache(pages)
			switch index {
			case "objects":
				_, _, err = v.state.objectOwner(pg.first)
			case "content":
				_, err = v.state.itemsBySHA256(pg.first)
			default:
				_, err = v.state.caseItems(pg.first)
			}
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("a lookup of %s: %v; want ErrIntegrity", pg.first, err)
			}
			waitHalted(t, v)
		})
	}
}

// FuzzIndexPage: a page line of the object, content or case index,
// however formed, is decoded into rows in key order (strictly increasing
// for the object index) or refused; never a panic.
func FuzzIndexPage(f *testing.F) {
	_, _, enc := indexRows(f)
	f.Add(enc[:bytes.IndexByte(enc, '\n')+1])
	f.Add([]byte(`{"objects_paged":[["b","it_1"],["a","it_2"]]}`))
	f.Add([]byte(`{"objects_paged":[["a","it_1"],["a","it_2"]]}`))
	f.Add([]byte(`{"content_paged":[["a",""]],"paged":[]}`))
	f.Add([]byte(`{"case_items_paged":[["C-1","it_2"],["C-1","it_1"],["C-0","it_3"]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var part snapState
		if decodeSnapState(b, &part) != nil {
			return
		}
		for i, decode := range []func(*snapState) ([][2]string, error){objectRows, contentRows, caseIndexRows} {
			unique := i == 0
			rows, err := decode(&part)
			if err != nil {
				continue
			}
			for i, r := range rows {
				if r[0] == "" || r[1] == "" || i > 0 && (r[0] < rows[i-1][0] || unique && r[0] == rows[i-1][0]) {
					t.Fatalf("accepted %v", rows)
				}
			}
		}
	})
}

// failingReaderAt fails every read as failing storage does.
type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, syscall.EIO }

// A page the storage cannot read, needed to apply an event (the object
// index, for a deposit's object), changes nothing in the state, and,
// since the event is durable and the state skipped it, halts the vault.
func TestUnreadableIndexPageLeavesTheStateAsItWas(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	v, closeAll, _ := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer closeAll()
	before, _ := v.state.namedBy("CASE-a", byCase)
	v.state.mu.Lock()
	p := v.state.objectPages
	v.state.objectPages = newPageSet(&snapFile{r: failingReaderAt{}}, p.what, p.index, p.count, objectRows)
	v.state.mu.Unlock()
	v.Deposit(context.Background(), Principal{Name: "inv-a", Role: RoleInvestigator},
		DepositRequest{Case: "CASE-a", Name: "late.bin", Body: strings.NewReader("late")})
	waitHalted(t, v)
	if !errors.Is(v.applyErr, errPageUnreadable) {
		t.Fatalf("the event's failure: %v", v.applyErr)
	}
	if after, _ := v.state.namedBy("CASE-a", byCase); after != before {
		t.Fatalf("the case's count of events moved from %+v to %+v", before, after)
	}
	v.state.mu.RLock()
	changed, unnamed := len(v.state.items), len(v.state.itemEvents)
	v.state.mu.RUnlock()
	if changed != 0 || unnamed != 0 {
		t.Fatalf("%d items and %d ids held after the failed event", changed, unnamed)
	}
}

// A start whose object index page fails its check sweeps nothing on its
// account: an object whose owner cannot be read is never taken for an
// orphan. The start sets the snapshot aside and begins again (here every
// snapshot it reads is altered so, until none is left), replaying the
// log; the sweep of that start, which knows every item, takes the
// orphan alone.
func TestAlteredObjectPageAtTheStartSetsTheSnapshotsAside(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	ctx := context.Background()
	_, closeAll, _ := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	closeAll()
	objs, err := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objs.Put(ctx, "ev/0crashed", strings.NewReader("ciphertext"), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	afterSnapshotRead = func(path string) {
		b, _ := os.ReadFile(path)
		i := bytes.Index(b, []byte(`{"objects_paged":[["`)) + len(`{"objects_paged":[["`) + 5
		b[i] = "0123456789abcdef"[(strings.IndexByte("0123456789abcdef", b[i])+1)%16]
		os.WriteFile(path, b, 0o600)
	}
	defer func() { afterSnapshotRead = nil }()
	count := func() int {
		n := 0
		if err := objs.List(ctx, "ev/", func(objects.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	v, st := snapshotVault(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer func() { v.Close(); st.Close() }()
	started := lastOfType(t, v, TypeServerStarted)
	if started["state_snapshot"] != "" || !strings.Contains(started["state_snapshots_discarded"], "during the start") {
		t.Fatalf("server.started %v: want the snapshots set aside during the start, and a replay", started)
	}
	if err := v.log.Halted(); err != nil {
		t.Fatalf("the vault halted: %v", err)
	}
	if err := v.waitSweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 30 {
		t.Fatalf("%d objects left, want the 30 items'", n)
	}
}

// newItemPages returns the item pages index gives of the file read from
// r (closed by close, if not nil).
func newItemPages(r io.ReaderAt, close func() error, index []pageRef, count int) *itemPages {
	return newPageSet(&snapFile{r: r, close: close}, "items", index, count, pageItems)
}

// A sweep beside the running vault that cannot read the page of the
// object index a listed name falls in (the storage fails) takes nothing
// for an orphan: it deletes and records nothing, and ends with the
// error.
func TestSweepWithAnUnreadableObjectPageDeletesNothing(t *testing.T) {
	dir := t.TempDir()
	rec, _ := age.GenerateX25519Identity()
	ctx := context.Background()
	v, closeAll, _ := startedFromPages(t, dir, slog.New(slog.DiscardHandler), rec.Recipient().String())
	defer closeAll()
	if err := v.waitSweep(ctx); err != nil {
		t.Fatal(err)
	}
	// After every item's object, so within the index's pages.
	orphan := "ev/ffffffffffffffffffffffffffffffff"
	if _, err := v.objects.Put(ctx, orphan, strings.NewReader("ciphertext"), objects.PutOptions{Unlocked: true}); err != nil {
		t.Fatal(err)
	}
	v.state.mu.Lock()
	p := v.state.objectPages
	v.state.objectPages = newPageSet(&snapFile{r: failingReaderAt{}}, p.what, p.index, p.count, objectRows)
	v.state.mu.Unlock()
	if err := v.sweep(ctx); err == nil || !errors.Is(err, syscall.EIO) {
		t.Fatalf("the sweep: %v, want the page's read error", err)
	}
	if _, err := v.objects.Stat(ctx, orphan); err != nil {
		t.Errorf("the object the sweep could not judge: %v", err)
	}
	noOrphanRecorded(t, v)
}
