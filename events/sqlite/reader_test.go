package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
)

// The reader an audit without the server uses reads a closed log (the
// server stopped: no -wal or -shm beside it) and a log a store has open,
// returns its events with their lookup columns, its checkpoints and its
// seal, and leaves the folder as it found it: no file created, none
// changed. What is not a custody log is refused.
func TestReaderReadsWithoutWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custody.db")
	s, err := sqlite.New(ctx, sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(seq uint64) events.Record {
		return events.Record{Seq: seq, ID: events.NewID(), Case: "c", Item: fmt.Sprint("i", seq), Bytes: []byte(fmt.Sprintf(`{"seq":%d}`, seq))}
	}
	if err := s.Append(ctx, 0, []events.Record{rec(0), rec(1), rec(2)}, &events.StoredCheckpoint{Size: 3, Note: []byte("published 3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 3, []events.Record{rec(3)}, &events.StoredCheckpoint{Size: 4, Note: []byte("seal 4"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		r, err := sqlite.OpenReader(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		defer r.Close()
		var got []events.Record
		if err := r.Read(ctx, 1, func(rec events.Record) error {
			rec.Bytes = slices.Clone(rec.Bytes)
			got = append(got, rec)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(got) != 3 || got[0].Seq != 1 || got[2].Item != "i3" || string(got[2].Bytes) != `{"seq":3}` {
			t.Fatalf("%s: read %+v", when, got)
		}
		cps, err := r.Checkpoints(ctx)
		if err != nil || len(cps) != 1 || cps[0].Size != 3 || string(cps[0].Note) != "published 3" {
			t.Fatalf("%s: checkpoints %+v %v", when, cps, err)
		}
		seal, err := r.Seal(ctx)
		if err != nil || seal == nil || seal.Size != 4 || string(seal.Note) != "seal 4" {
			t.Fatalf("%s: seal %+v %v", when, seal, err)
		}
	}
	check("with the store open")
	s.Close()
	before := listing(t, dir)
	check("with the store closed")
	if after := listing(t, dir); after != before {
		t.Fatalf("the reader changed the folder:\nbefore %s\nafter  %s", before, after)
	}
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("not a database"), 0o600)
	if _, err := sqlite.OpenReader(ctx, other); err == nil || !strings.Contains(err.Error(), "not a readable SQLite database") {
		t.Fatalf("a text file: %v", err)
	}
	if _, err := sqlite.OpenReader(ctx, filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("a missing file was opened")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Fatal("opening a missing file created it")
	}
}

// listing names each file of dir with its size and modification time.
func listing(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%d", e.Name(), fi.Size(), fi.ModTime().UnixNano()))
	}
	return strings.Join(out, " ")
}
