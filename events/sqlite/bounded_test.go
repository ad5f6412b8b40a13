package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/internal/testenv"
)

// oversized is the size of each value the edit below stores: far more
// than any value of the log, and enough that reading one would show in
// the process's peak memory.
const oversized = 80 << 20

// A database administrator can store a value of up to a gigabyte in any
// column of the log's tables. Neither the store (the server's reads:
// replay, range and lookup reads, the check of covered events, the
// indexer) nor the reader of an audit without the server loads such a
// value: an event's bytes come back as one byte more than an event may
// hold, a lookup value as "(a value of N bytes)", and a checkpoint or
// seal note is refused, naming its row. The edit is made by a child
// process, so that this process's peak memory (VmHWM, reset before the
// reads) shows only what the reads load.
func TestReadsDoNotLoadOversizedValues(t *testing.T) {
	if path := os.Getenv("CUSTOS_OVERSIZE_EDIT"); path != "" {
		editOversized(t, path, os.Getenv("CUSTOS_OVERSIZE_NOTES") != "")
		return
	}
	if testing.Short() {
		t.Skip("writes about 500 MB")
	}
	ctx := context.Background()
	for _, notes := range []bool{false, true} {
		t.Run("notes="+strconv.FormatBool(notes), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "custody.db")
			s := sealedLog(t, path)
			recs := []events.Record{{Seq: 1, ID: events.NewID(), Case: "c", Item: "i", Bytes: []byte(`{"seq":1}`)},
				{Seq: 2, ID: events.NewID(), Bytes: []byte(`{"seq":2}`)}}
			if err := s.Append(ctx, 1, recs, &events.StoredCheckpoint{Size: 3, Note: []byte("checkpoint 3")}); err != nil {
				t.Fatal(err)
			}
			// The lookup file indexes the three events (once a second), so
			// that its reads check its anchor against the last event's id.
			waitIndexed(t, path, 3)
			s.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^TestReadsDoNotLoadOversizedValues$")
			cmd.Env = append(os.Environ(), "CUSTOS_OVERSIZE_EDIT="+path)
			if notes {
				cmd.Env = append(cmd.Env, "CUSTOS_OVERSIZE_NOTES=1")
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("editing the file: %v\n%s", err, out)
			}

			before := testenv.ResetPeakMemory(t)
			if notes {
				readNotes(t, path)
			} else {
				readEvents(t, path)
			}
			if grew := testenv.PeakMemory(t) - before; grew > oversized/2 {
				t.Errorf("the reads raised the process's peak memory by %d MiB: an oversized value was loaded", grew>>20)
			} else {
				t.Logf("peak memory grew by %d MiB reading values of %d MiB", grew>>20, oversized>>20)
			}
		})
	}
}

// editOversized stores oversized values: event 1's id, item and bytes and
// event 2's case and id, or (notes) the checkpoint's and the seal's notes.
func editOversized(t *testing.T, path string, notes bool) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big := "printf('%.*c', " + strconv.Itoa(oversized) + ", 'x')"
	stmts := []string{
		`UPDATE events SET id = ` + big + `, item_id = ` + big + `, bytes = zeroblob(` + strconv.Itoa(oversized) + `) WHERE seq = 1`,
		// The last event's id is what the lookup file's anchor is checked
		// against, at each of its reads.
		`UPDATE events SET case_id = ` + big + `, id = ` + big + ` WHERE seq = 2`,
	}
	if notes {
		stmts = []string{`UPDATE checkpoints SET note = zeroblob(` + strconv.Itoa(oversized) + `)`,
			`UPDATE seal SET note = CAST(` + big + ` AS BLOB)`}
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
}

func readEvents(t *testing.T, path string) {
	ctx := context.Background()
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := func(how string, got []events.Record) {
		t.Helper()
		if len(got) != 3 {
			t.Fatalf("%s: %d records, want 3", how, len(got))
		}
		marker := "(a value of " + strconv.Itoa(oversized) + " bytes)"
		if got[1].ID != marker || got[1].Item != marker || got[2].Case != marker || got[2].ID != marker {
			t.Errorf("%s: lookup values %.40q %.40q %.40q %.40q, want %q", how, got[1].ID, got[1].Item, got[2].Case, got[2].ID, marker)
		}
		if len(got[1].Bytes) != events.MaxEventSize+1 || bytes.ContainsFunc(got[1].Bytes, func(r rune) bool { return r != 0 }) {
			t.Errorf("%s: event 1's bytes are %d bytes, want %d zeros", how, len(got[1].Bytes), events.MaxEventSize+1)
		}
		if string(got[2].Bytes) != `{"seq":2}` || got[0].Case != "c" {
			t.Errorf("%s: the rows left alone read %q, %q", how, got[2].Bytes, got[0].Case)
		}
	}
	collect := func(read func(context.Context, uint64, func(events.Record) error) error) []events.Record {
		t.Helper()
		return collectRecords(t, read, 0)
	}
	want("Read", collect(s.Read))
	want("ReadTransient", collect(s.ReadTransient))
	var sizes []int
	if err := s.ReadBytes(ctx, 0, func(_ uint64, b []byte) error { sizes = append(sizes, len(b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 || sizes[1] != events.MaxEventSize+1 {
		t.Errorf("ReadBytes: sizes %v", sizes)
	}
	// The lookups by case and item compare the columns of the events the
	// lookup file has not indexed yet (here all: the indexer waits a
	// second), and a case's own events those whose item is empty.
	for name, read := range map[string]func(context.Context, string, func(events.Record) error) error{
		"ReadCase": s.ReadCase, "ReadItem": s.ReadItem, "ReadCaseOwn": s.ReadCaseOwn} {
		n := 0
		if err := read(ctx, "c", func(events.Record) error { n++; return nil }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := map[string]int{"ReadCase": 2, "ReadItem": 0, "ReadCaseOwn": 1}[name]; n != want {
			t.Errorf("%s: %d events, want %d", name, n, want)
		}
	}
	r, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want("Reader.Read", collect(r.Read))
}

func readNotes(t *testing.T, path string) {
	ctx := context.Background()
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := sqlite.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, read := range map[string]func() error{
		"Store.ReadCheckpoints":  func() error { _, err := events.AllCheckpoints(ctx, s); return err },
		"Store.Seal":             func() error { _, err := s.Seal(ctx); return err },
		"Reader.ReadCheckpoints": func() error { _, err := events.AllCheckpoints(ctx, r); return err },
		"Reader.Seal":            func() error { _, err := r.Seal(ctx); return err },
	} {
		err := read()
		if err == nil || !strings.Contains(err.Error(), "holds "+strconv.Itoa(oversized)+" bytes") {
			t.Errorf("%s: %v, want the row refused for its size", name, err)
		}
	}
}
