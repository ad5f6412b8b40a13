package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/events/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (events.Store, func() events.Store) {
		path := filepath.Join(t.TempDir(), "custody.db")
		s := open(t, path)
		t.Cleanup(func() { s.Close() })
		return s, func() events.Store { return open(t, path) }
	})
}

func TestRefusesForeignAndCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 200)), 0o600)
	before, _ := os.ReadFile(notDB)
	if _, err := sqlite.New(context.Background(), sqlite.Config{Path: notDB}); err == nil {
		t.Fatal("opened a text file as a custody log")
	} else {
		t.Logf("text file: %v", err)
	}
	after, _ := os.ReadFile(notDB)
	if string(before) != string(after) {
		t.Fatal("the refused file was modified")
	}

	// A real SQLite database that is not ours.
	foreign := filepath.Join(dir, "foreign.db")
	s := open(t, foreign)
	s.Close()
	raw, _ := os.ReadFile(foreign)
	// Clear the application id (bytes 68..71 of the header).
	copy(raw[68:72], []byte{0, 0, 0, 0})
	os.WriteFile(foreign, raw, 0o600)
	if _, err := sqlite.New(context.Background(), sqlite.Config{Path: foreign}); err == nil || !strings.Contains(err.Error(), "not a Custos custody log") {
		t.Fatalf("foreign database: %v", err)
	}
}

func TestCorruptPagesAreReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	s := open(t, path)
	var recs []events.Record
	for i := 0; i < 500; i++ {
		recs = append(recs, events.Record{Seq: uint64(i), ID: events.NewID(), Bytes: []byte(strings.Repeat("x", 300))})
	}
	if err := s.Append(context.Background(), 0, recs, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	raw, _ := os.ReadFile(path)
	if len(raw) < 4*4096 {
		t.Fatalf("database unexpectedly small: %d", len(raw))
	}
	// Scribble over an interior page.
	for i := 2 * 4096; i < 3*4096; i++ {
		raw[i] = 0xA5
	}
	os.WriteFile(path, raw, 0o600)
	if _, err := sqlite.New(context.Background(), sqlite.Config{Path: path}); err == nil {
		t.Fatal("opened a log with a scribbled page")
	} else {
		t.Logf("corrupt: %v", err)
	}
	// A file over the size New checks itself opens; CheckIntegrity (run
	// by the vault beside the started server) reports it.
	defer sqlite.SetQuickCheckAtOpen(0)()
	big, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatalf("a large log is checked beside the start, not at open: %v", err)
	}
	defer big.Close()
	if err := big.CheckIntegrity(context.Background()); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("CheckIntegrity of a scribbled log: %v", err)
	}
}

// TestVersionOneIsUpgraded: a log written before batch seals existed
// (schema version 1, no seal table) opens, gains the table, and keeps
// its events.
func TestVersionOneIsUpgraded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.db")
	s := open(t, path)
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE seal; PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = open(t, path)
	defer s.Close()
	if seal, err := s.Seal(context.Background()); err != nil || seal != nil {
		t.Fatalf("seal of an upgraded log: %v %v", seal, err)
	}
}

// waitIndexed waits until the lookup file of the log at path covers n
// events.
func waitIndexed(t *testing.T, path string, n int) {
	t.Helper()
	raw, _ := sql.Open("sqlite", "file:"+path+"-lookups?_pragma=busy_timeout(10000)")
	defer raw.Close()
	deadline := time.Now().Add(30 * time.Second)
	for got := -1; got != n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the lookup file covers %d events after 30 s, want %d", got, n)
		}
		raw.QueryRow(`SELECT size FROM lookups_size`).Scan(&got)
	}
}

// itemOf is the item of event i in TestLookupFileIsDerived's log: none
// for one event in ten, else one of seven.
func itemOf(i int) string {
	if i%10 == 9 {
		return ""
	}
	return fmt.Sprint("I-", i%7)
}

// The lookup file is derived data: case and item lookups are right before
// the indexer has run (a scan of the log), after it (the table), when the
// file was deleted, replaced by garbage, or taken from another log (made
// again from the log).
func TestLookupFileIsDerived(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custody.db")
	fill := func(s *sqlite.Store, prefix string) {
		var recs []events.Record
		for i := range 3000 {
			recs = append(recs, events.Record{Seq: uint64(i), ID: fmt.Sprint(prefix, "id-", i), Case: fmt.Sprint(prefix, "C-", i%3),
				Item: itemOf(i), Bytes: []byte(fmt.Sprint("event ", i))})
		}
		if err := s.Append(ctx, 0, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(s *sqlite.Store, when string) {
		t.Helper()
		var got []uint64
		if err := s.ReadCase(ctx, "C-1", func(r events.Record) error { got = append(got, r.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1000 || got[0] != 1 || got[999] != 2998 {
			t.Fatalf("%s: case C-1 has %d events", when, len(got))
		}
		got = got[:0]
		if err := s.ReadItem(ctx, "I-6", func(r events.Record) error { got = append(got, r.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 386 || got[0] != 6 {
			t.Fatalf("%s: item I-6 has %d events", when, len(got))
		}
		// The case's own events (no item), from the same lookups.
		got = got[:0]
		if err := s.ReadCaseOwn(ctx, "C-1", func(r events.Record) error {
			if r.Item != "" {
				t.Errorf("%s: event %d of item %s read as the case's own", when, r.Seq, r.Item)
			}
			got = append(got, r.Seq)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 100 || got[0] != 19 || got[99] != 2989 {
			t.Fatalf("%s: case C-1 has %d events of its own", when, len(got))
		}
	}
	s := open(t, path)
	fill(s, "")
	check(s, "not indexed")
	waitIndexed(t, path, 3000)
	check(s, "indexed")
	s.Close()

	os.Remove(path + "-lookups")
	s = open(t, path)
	check(s, "lookup file deleted")
	waitIndexed(t, path, 3000)
	s.Close()

	os.WriteFile(path+"-lookups", []byte("not a database at all, but long enough to look like one.................................................................................................................."), 0o600)
	os.Remove(path + "-lookups-wal")
	os.Remove(path + "-lookups-shm")
	s = open(t, path)
	check(s, "lookup file garbage")
	waitIndexed(t, path, 3000)
	s.Close()

	// Another log's lookup file, fully indexed, whose cases are named
	// differently.
	other := filepath.Join(dir, "other.db")
	o := open(t, other)
	fill(o, "x")
	waitIndexed(t, other, 3000)
	o.Close()
	for _, suffix := range []string{"-lookups", "-lookups-wal", "-lookups-shm"} {
		os.Remove(path + suffix)
		if b, err := os.ReadFile(other + suffix); err == nil {
			os.WriteFile(path+suffix, b, 0o600)
		}
	}
	s = open(t, path)
	defer s.Close()
	waitIndexed(t, path, 3000)
	check(s, "another log's lookup file")
}

// A lookup file of the version before the cases' own rows is kept, not
// made again: the events it covers are read by the case's rows, and the
// events indexed after it gain own rows.
func TestLookupFileOfTheVersionBefore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	var recs []events.Record
	for i := range 3000 {
		recs = append(recs, events.Record{Seq: uint64(i), ID: fmt.Sprint("id-", i), Case: fmt.Sprint("C-", i%3),
			Item: itemOf(i), Bytes: []byte(fmt.Sprint("event ", i))})
	}
	s := open(t, path)
	if err := s.Append(ctx, 0, recs, nil); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, path, 3000)
	s.Close()
	ownOf := func(s *sqlite.Store, when string, n int) {
		t.Helper()
		var got, want []uint64
		if err := s.ReadCaseOwn(ctx, "C-1", func(r events.Record) error { got = append(got, r.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if i%3 == 1 && itemOf(i) == "" {
				want = append(want, uint64(i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: case C-1's own events are %d, want %d", when, len(got), len(want))
		}
	}
	// A lookup file as the version before the case's own rows wrote it
	// (or as that version leaves one this version wrote, which it makes
	// again since the anchor is not its own): no own rows, an anchor of
	// the bare id. It is kept, read by the case's rows for the events it
	// covers, and gains own rows for the events indexed next.
	raw, err := sql.Open("sqlite", "file:"+path+"-lookups?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var anchor string
	raw.QueryRow(`SELECT anchor FROM lookups_size`).Scan(&anchor)
	if !strings.HasPrefix(anchor, "2:0:") {
		t.Fatalf("the anchor of a lookup file made with own rows is %q", anchor)
	}
	res, err := raw.Exec(`DELETE FROM lookups WHERE key LIKE 'o:%'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 300 {
		t.Fatalf("the lookup file held %d rows of cases' own events, want 300", n)
	}
	if _, err := raw.Exec(`UPDATE lookups_size SET anchor = substr(anchor, 5)`); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	ownOf(s, "lookup file of the version before", 3000)
	var more []events.Record
	for i := 3000; i < 4000; i++ {
		more = append(more, events.Record{Seq: uint64(i), ID: fmt.Sprint("id-", i), Case: fmt.Sprint("C-", i%3),
			Item: itemOf(i), Bytes: []byte(fmt.Sprint("event ", i))})
	}
	if err := s.Append(ctx, 3000, more, nil); err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, path, 4000)
	var own, below int
	raw.QueryRow(`SELECT count(*), count(CASE WHEN seq < 3000 THEN 1 END) FROM lookups WHERE key LIKE 'o:%'`).Scan(&own, &below)
	if own != 100 || below != 0 {
		t.Fatalf("the upgraded lookup file holds %d own rows, %d of them before it was upgraded; want 100 and 0", own, below)
	}
	raw.QueryRow(`SELECT anchor FROM lookups_size`).Scan(&anchor)
	if !strings.HasPrefix(anchor, "2:3000:") {
		t.Fatalf("the anchor of the upgraded lookup file is %q", anchor)
	}
	ownOf(s, "across the upgrade", 4000)
	s.Close()
	// An anchor of neither form: the file is made again.
	if _, err := raw.Exec(`UPDATE lookups_size SET anchor = '2:x:' || anchor`); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	// A read finds the anchor is not this log's and makes the file again
	// before it answers.
	if err := s.ReadCaseOwn(ctx, "C-1", func(events.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	raw.QueryRow(`SELECT anchor FROM lookups_size`).Scan(&anchor)
	if !strings.HasPrefix(anchor, "2:0:") {
		t.Fatalf("a lookup file with a malformed anchor was not made again: %q", anchor)
	}
	ownOf(s, "made again", 4000)
	s.Close()
}
