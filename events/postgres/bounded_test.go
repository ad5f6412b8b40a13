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
	n := strconv.Itoa(oversized)
	asAdministrator(t, url,
		// The indexes refuse entries of this size; an administrator
		// drops them first.
		`DROP INDEX custody_events_by_case`, `DROP INDEX custody_events_by_item`, `DROP INDEX IF EXISTS custody_events_case_own`,
		`ALTER TABLE custody_events DROP CONSTRAINT custody_events_id_key`,
		`ALTER TABLE custody_events ALTER COLUMN bytes SET STORAGE EXTERNAL`,
		`UPDATE custody_events SET id = repeat('x', `+n+`), item_id = repeat('y', `+n+`), bytes = convert_to(repeat('z', `+n+`), 'UTF8') WHERE seq = 1`,
		`UPDATE custody_events SET case_id = repeat('c', `+n+`) WHERE seq = 2`,
		`UPDATE custody_checkpoints SET note = convert_to(repeat('n', `+n+`), 'UTF8')`,
		`UPDATE custody_seal SET note = convert_to(repeat('s', `+n+`), 'UTF8')`,
	)

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
	if _, err := events.AllCheckpoints(ctx, r); err == nil || !strings.Contains(err.Error(), "holds "+n+" bytes") {
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
	asAdministrator(t, url, `ALTER TABLE custody_events RENAME TO custody_events_kept`,
		`CREATE VIEW custody_events AS SELECT * FROM custody_events_kept`)
	if _, err := postgres.OpenReader(ctx, postgres.Config{URL: url}); err == nil || !strings.Contains(err.Error(), "not a view") {
		t.Fatalf("a view for the events table: %v, want it refused", err)
	}
}

// An administrator who puts a schema of their own before pg_catalog in
// the database's search_path, with an octet_length that says every value
// is short and an operator that says every column matches, neither makes
// the reads fetch an oversized value nor passes a table declared again.
// The server's start-up check of the head against the events calls
// pg_catalog's aggregates and operators, not those of a schema an
// administrator puts before pg_catalog in the database's search path: an
// operator of their own must not make a log whose last event was deleted
// look whole.
func TestHeadCheckIgnoresTheSearchPath(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	ctx := context.Background()
	url := pg.URL(t, t.Name())
	s := open(t, url)
	var c chainer
	if err := s.Append(ctx, 0, c.recs(3), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	asAdministrator(t, url, `DELETE FROM custody_events WHERE seq = 2`,
		`CREATE SCHEMA shadow`,
		// max(seq) + 1 answers one more than it is: 3 for a log of 0 and 1.
		`CREATE FUNCTION shadow.plus(bigint, integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT $1 OPERATOR(pg_catalog.+) $2 OPERATOR(pg_catalog.+) 1'`,
		`CREATE OPERATOR shadow.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = shadow.plus)`,
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, shadow, pg_catalog', current_database()); END $$`)
	// The shadow operator is what an unqualified query now calls.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var shadowed int64
	err = conn.QueryRow(ctx, `SELECT max(seq) + 1 FROM custody_events`).Scan(&shadowed)
	conn.Close(ctx)
	if err != nil || shadowed != 3 {
		t.Fatalf("the shadow operator gives %d (%v), want 3: the test does not shadow anything", shadowed, err)
	}
	st, err := postgres.New(ctx, postgres.Config{URL: url})
	if err == nil {
		st.Close()
		t.Fatal("the server's store opened a log whose last event was deleted: its head check called the search path's operator")
	}
	if !strings.Contains(err.Error(), "its head says it holds 3 events (positions 0 to 2), but its events table holds positions 0 to 1") {
		t.Errorf("refused with %v, want the head's disagreement named", err)
	}
}

// A trigger or rule added while the server has the log open (one that
// drops each event written would have the vault acknowledge events never
// stored) stops the next append before anything is written, as it stops
// the next start.
func TestLogAlteredWhileOpenStopsAppends(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	ctx := context.Background()
	for name, stmts := range map[string][]string{
		"a trigger dropping each event": {`CREATE FUNCTION drop_event() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'`,
			`CREATE TRIGGER drop_events BEFORE INSERT ON custody_events FOR EACH ROW EXECUTE FUNCTION drop_event()`},
		"a rule dropping checkpoints": {`CREATE RULE no_checkpoints AS ON INSERT TO custody_checkpoints DO INSTEAD NOTHING`},
		"row-level security":          {`ALTER TABLE custody_events ENABLE ROW LEVEL SECURITY`},
	} {
		t.Run(name, func(t *testing.T) {
			url := pg.URL(t, t.Name())
			s := open(t, url)
			defer s.Close()
			var c chainer
			recs := c.recs(3)
			if err := s.Append(ctx, 0, recs[:2], nil); err != nil {
				t.Fatal(err)
			}
			asAdministrator(t, url, stmts...)
			err := s.Append(ctx, 2, recs[2:], &events.StoredCheckpoint{Size: 3, Note: []byte("checkpoint 3")})
			if err == nil {
				t.Fatal("the append went on after a table of the log was altered")
			}
			if !strings.Contains(err.Error(), "while the vault had it open; nothing was appended") {
				t.Fatalf("refused with %v, want it to say the log was altered while open", err)
			}
			if n, err := s.Size(ctx); err != nil || n != 2 {
				t.Fatalf("the log holds %d events (%v), want the 2 before the refused append", n, err)
			}
		})
	}
}

// Tables declared otherwise (a size of another type, a generated column)
// are refused by the audit's reader and by the server's store, and an
// edited custody_meta row is not quoted whole.
func TestSearchPathAndTablesDeclaredAgain(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	ctx := context.Background()
	url := pg.URL(t, t.Name())
	s := open(t, url)
	var c chainer
	recs := c.recs(2)
	if err := s.Append(ctx, 0, recs, &events.StoredCheckpoint{Size: 2, Note: []byte("seal 2"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	n := strconv.Itoa(oversized)
	asAdministrator(t, url, `DROP INDEX custody_events_by_case`, `DROP INDEX IF EXISTS custody_events_case_own`, `ALTER TABLE custody_events DROP CONSTRAINT custody_events_id_key`,
		`UPDATE custody_events SET id = repeat('x', `+n+`), case_id = repeat('c', `+n+`) WHERE seq = 1`,
		`CREATE SCHEMA shadow`,
		`CREATE FUNCTION shadow.octet_length(text) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 0'`,
		`CREATE FUNCTION shadow.octet_length(bytea) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 0'`,
		`CREATE FUNCTION shadow.always(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''seq bigint'''`,
		`CREATE OPERATOR shadow.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = shadow.always)`,
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = "$user", public, shadow, pg_catalog', current_database()); END $$`)

	before := testenv.ResetPeakMemory(t)
	r, err := postgres.OpenReader(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	var got []events.Record
	if err := r.Read(ctx, 0, func(rec events.Record) error { got = append(got, rec); return nil }); err != nil {
		t.Fatal(err)
	}
	r.Close()
	marker := "(a value of " + n + " bytes)"
	if len(got) != 2 || got[1].ID != marker || got[1].Case != marker {
		t.Fatalf("read %d records (%.40q, %.40q), want event 1's values read as %q", len(got), got[1].ID, got[1].Case, marker)
	}
	store := open(t, url)
	got = got[:0]
	if err := store.Read(ctx, 0, func(rec events.Record) error { got = append(got, rec); return nil }); err != nil || len(got) != 2 || got[1].ID != marker {
		t.Fatalf("the server's store read %d records (%v), want event 1's id read as %q", len(got), err, marker)
	}
	store.Close()
	if grew := testenv.PeakMemory(t) - before; grew > oversized/2 {
		t.Errorf("the reads raised the process's peak memory by %d MiB: the search path's octet_length was called", grew>>20)
	}

}

// Tables declared otherwise (a size of another type, fetched whole; a
// generated column, computed at each read) are refused by the audit's
// reader and by the server's store, and an edited custody_meta row is
// not quoted whole in the refusal.
func TestTablesDeclaredAgainAreRefused(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	ctx := context.Background()
	for name, c := range map[string]struct {
		stmts  []string
		reader bool // OpenReader refuses it too (it reads no custody_meta)
	}{
		"a size of another type": {[]string{`ALTER TABLE custody_seal DROP CONSTRAINT custody_seal_size_check`,
			`ALTER TABLE custody_seal ALTER COLUMN size TYPE text USING repeat('9', 1000)`}, true},
		"a generated column": {[]string{`ALTER TABLE custody_events RENAME COLUMN item_id TO item_kept`,
			`ALTER TABLE custody_events ADD COLUMN item_id text GENERATED ALWAYS AS (repeat('x', 1000)) STORED`}, true},
		"an edited custody_meta": {[]string{`UPDATE custody_meta SET value = repeat('k', ` + strconv.Itoa(oversized) + `) WHERE key = 'kind'`}, false},
		// What would show the audit's session other rows than the
		// server's, or change what the server's writes do.
		"row-level security": {[]string{`ALTER TABLE custody_events ENABLE ROW LEVEL SECURITY`, `ALTER TABLE custody_events FORCE ROW LEVEL SECURITY`,
			`CREATE POLICY hide ON custody_events USING (seq < 1 OR current_setting('default_transaction_read_only') = 'off')`}, true},
		"a domain type, whose operators come first": {[]string{`CREATE DOMAIN dseq AS bigint`, `ALTER TABLE custody_events ALTER COLUMN seq TYPE dseq`}, true},
		"a trigger": {[]string{`CREATE FUNCTION drop_event() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'`,
			`CREATE TRIGGER drop_events BEFORE INSERT ON custody_events FOR EACH ROW EXECUTE FUNCTION drop_event()`}, true},
		"a rule":              {[]string{`CREATE RULE no_checkpoints AS ON INSERT TO custody_checkpoints DO INSTEAD NOTHING`}, true},
		"an inheriting table": {[]string{`CREATE TABLE more_events () INHERITS (custody_events)`}, true},
		"a partitioned table": {[]string{`ALTER TABLE custody_events RENAME TO kept_events`,
			`CREATE TABLE custody_events (seq bigint, id text, case_id text, item_id text, bytes bytea) PARTITION BY RANGE (seq)`,
			`CREATE TABLE events_0 PARTITION OF custody_events FOR VALUES FROM (0) TO (1000000)`,
			`INSERT INTO custody_events SELECT * FROM kept_events`}, true},
	} {
		t.Run(name, func(t *testing.T) {
			url := sealedLog(t, pg)
			asAdministrator(t, url, c.stmts...)
			if st, err := postgres.New(ctx, postgres.Config{URL: url}); err == nil {
				st.Close()
				t.Error("the server's store opened the altered log")
			} else if len(err.Error()) > 1000 {
				t.Errorf("the store's refusal is %d bytes long: it quotes what was stored", len(err.Error()))
			} else {
				t.Logf("store refused: %v", err)
			}
			if !c.reader {
				return
			}
			if r, err := postgres.OpenReader(ctx, postgres.Config{URL: url}); err == nil {
				r.Close()
				t.Error("the audit's reader opened the altered log")
			} else if !strings.Contains(err.Error(), "it was altered") {
				t.Errorf("the reader refused with %v, want it to say the table was altered", err)
			}
		})
	}
}

// asAdministrator runs statements on the database at url as its
// administrator would, from a connection of its own.
func asAdministrator(t *testing.T, url string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
}

// TestATriggerDroppedSinceSaysToVacuum: PostgreSQL keeps a table marked
// as having triggers after its last trigger is dropped, until the table
// is vacuumed. The store's refusal says so, and what to do; once the
// table is vacuumed, it opens.
func TestATriggerDroppedSinceSaysToVacuum(t *testing.T) {
	ctx := context.Background()
	url := sealedLog(t, testenv.SharedPostgres(t))
	asAdministrator(t, url, `CREATE FUNCTION drop_event() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'`,
		`CREATE TRIGGER drop_events BEFORE INSERT ON custody_events FOR EACH ROW EXECUTE FUNCTION drop_event()`,
		`DROP TRIGGER drop_events ON custody_events`)
	_, err := postgres.New(ctx, postgres.Config{URL: url})
	if err == nil || !strings.Contains(err.Error(), "none exists now") || !strings.Contains(err.Error(), "VACUUM custody_events") {
		t.Fatalf("a table marked by a dropped trigger: %v, want the refusal to say to vacuum it", err)
	}
	asAdministrator(t, url, `VACUUM custody_events`)
	st, err := postgres.New(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatalf("after VACUUM: %v", err)
	}
	st.Close()
}

// sealedLog makes a database of pg for the test holding a log of two
// events and their seal, closed, and returns its URL.
func sealedLog(t *testing.T, pg *testenv.Postgres) string {
	t.Helper()
	url := pg.URL(t, t.Name())
	s := open(t, url)
	var ch chainer
	if err := s.Append(context.Background(), 0, ch.recs(2), &events.StoredCheckpoint{Size: 2, Note: []byte("seal 2"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	return url
}
