package postgres_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// oversized is the size of each value the edits below store: far more
// than any value of the log, enough that fetching one would show in this
// process's peak memory.
const oversized = 80 << 20

// A database administrator can store a value of up to a gigabyte in any
// column of the log's tables. The store's reads (the server's, and an
// audit's through OpenReader) do not fetch it: an event's bytes come back
// as one byte more than an event may hold, a lookup value as "(a value of
// N bytes)", a checkpoint or seal note is refused naming its row. The
// values are made by the database server (repeat), so this process's
// peak memory (VmHWM, reset before the reads) shows only what the reads
// fetch. A view in place of a table is refused by OpenReader.
func TestReadsDoNotFetchOversizedValues(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	ctx := context.Background()
	url := pg.URL(t, t.Name())
	s := open(t, url)
	var c chainer
	recs := c.recs(3)
	recs[1].Item = "i"
	if err := s.Append(ctx, 0, recs, &events.StoredCheckpoint{Size: 3, Note: []byte("published 3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 3, c.recs(1), &events.StoredCheckpoint{Size: 4, Note: []byte("seal 4"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	n := strconv.Itoa(oversized)
	for _, q := range []string{
		// The indexes refuse entries of this size; an administrator
		// drops them first.
		`DROP INDEX custody_events_by_case`, `DROP INDEX custody_events_by_item`, `DROP INDEX IF EXISTS custody_events_case_own`,
		`ALTER TABLE custody_events DROP CONSTRAINT custody_events_id_key`,
		`ALTER TABLE custody_events ALTER COLUMN bytes SET STORAGE EXTERNAL`,
		`UPDATE custody_events SET id = repeat('x', ` + n + `), item_id = repeat('y', ` + n + `), bytes = convert_to(repeat('z', ` + n + `), 'UTF8') WHERE seq = 1`,
		`UPDATE custody_events SET case_id = repeat('c', ` + n + `) WHERE seq = 2`,
		`UPDATE custody_checkpoints SET note = convert_to(repeat('n', ` + n + `), 'UTF8')`,
		`UPDATE custody_seal SET note = convert_to(repeat('s', ` + n + `), 'UTF8')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}

	before := testenv.ResetPeakMemory(t)
	r, err := postgres.OpenReader(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []events.Record
	if err := r.Read(ctx, 0, func(rec events.Record) error { got = append(got, rec); return nil }); err != nil {
		t.Fatal(err)
	}
	marker := "(a value of " + n + " bytes)"
	if len(got) != 4 || got[1].ID != marker || got[1].Item != marker || got[2].Case != marker || got[0].Case != "c" {
		t.Fatalf("read %d records; lookup values %.40q %.40q %.40q, want %q", len(got), got[1].ID, got[1].Item, got[2].Case, marker)
	}
	if len(got[1].Bytes) != events.MaxEventSize+1 || bytes.ContainsFunc(got[1].Bytes, func(r rune) bool { return r != 0 }) {
		t.Errorf("event 1's bytes are %d bytes, want %d zeros", len(got[1].Bytes), events.MaxEventSize+1)
	}
	var sizes []int
	if err := r.ReadBytes(ctx, 0, func(_ uint64, b []byte) error { sizes = append(sizes, len(b)); return nil }); err != nil || len(sizes) != 4 || sizes[1] != events.MaxEventSize+1 {
		t.Errorf("ReadBytes: sizes %v, %v", sizes, err)
	}
	for name, read := range map[string]func(context.Context, string, func(events.Record) error) error{"ReadCase": r.ReadCase, "ReadCaseOwn": r.ReadCaseOwn} {
		if err := read(ctx, "c", func(events.Record) error { return nil }); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := r.Checkpoints(ctx); err == nil || !strings.Contains(err.Error(), "holds "+n+" bytes") {
		t.Errorf("checkpoints: %v, want the row refused for its size", err)
	}
	if _, err := r.Seal(ctx); err == nil || !strings.Contains(err.Error(), "holds "+n+" bytes") {
		t.Errorf("seal: %v, want the row refused for its size", err)
	}
	if grew := testenv.PeakMemory(t) - before; grew > oversized/2 {
		t.Errorf("the reads raised the process's peak memory by %d MiB: an oversized value was fetched", grew>>20)
	} else {
		t.Logf("peak memory grew by %d MiB reading values of %d MiB", grew>>20, oversized>>20)
	}

	r.Close()
	for _, q := range []string{`ALTER TABLE custody_events RENAME TO custody_events_kept`,
		`CREATE VIEW custody_events AS SELECT * FROM custody_events_kept`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	if _, err := postgres.OpenReader(ctx, postgres.Config{URL: url}); err == nil || !strings.Contains(err.Error(), "not a view") {
		t.Fatalf("a view for the events table: %v, want it refused", err)
	}
}
