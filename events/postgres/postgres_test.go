package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/events/storetest"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedPostgres()
	os.Exit(code)
}

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	storetest.Run(t, func(t *testing.T) (events.Store, func() events.Store) {
		url := pg.URL(t, t.Name())
		s := open(t, url)
		t.Cleanup(func() { s.Close() })
		return s, func() events.Store {
			s2 := open(t, url)
			t.Cleanup(func() { s2.Close() })
			return s2
		}
	})
}

// exec runs SQL on a database directly, as another program would.
func exec(t *testing.T, url string, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesForeignDatabases(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	cases := []struct {
		name  string
		setup string
		want  string
	}{
		{"application tables", `CREATE TABLE users (id int); CREATE TABLE events (seq bigint, payload jsonb)`, "not a Custos custody log"},
		{"our table names without meta", `CREATE TABLE custody_events (seq bigint PRIMARY KEY, bytes bytea)`, "not a Custos custody log"},
		{"meta of something else", `CREATE TABLE custody_meta (key text, value text); INSERT INTO custody_meta VALUES ('kind', 'billing ledger'), ('version', '1')`, "does not mark a Custos custody log"},
		{"meta with other columns", `CREATE TABLE custody_meta (name int)`, "refusing to touch it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := pg.URL(t, t.Name())
			exec(t, url, c.setup)
			_, err := postgres.New(context.Background(), postgres.Config{URL: url})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, c.want)
			}
			t.Logf("refused: %v", err)
			// Nothing was created in the refused database.
			conn, _ := pgx.Connect(context.Background(), url)
			defer conn.Close(context.Background())
			var n int
			conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'custody_head'`).Scan(&n)
			if n != 0 {
				t.Fatal("the refused database was modified")
			}
		})
	}
}

func TestRefusesOtherVersionsAndDamage(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	mk := func(t *testing.T) string {
		url := pg.URL(t, t.Name())
		s := open(t, url)
		var c chainer
		if err := s.Append(context.Background(), 0, c.recs(3), nil); err != nil {
			t.Fatal(err)
		}
		s.Close()
		return url
	}
	cases := []struct {
		name, sql, want string
	}{
		{"newer schema", `UPDATE custody_meta SET value = '3' WHERE key = 'version'`, "schema version"},
		{"head ahead of events", `UPDATE custody_head SET size = 5`, "damaged"},
		{"event deleted at the end", `DELETE FROM custody_events WHERE seq = 2`, "damaged"},
		{"event deleted at the start", `DELETE FROM custody_events WHERE seq = 0`, "damaged"},
		{"table dropped", `DROP TABLE custody_checkpoints`, "no custody_checkpoints"},
	}
	// A version 1 log (before batch seals) is upgraded in place.
	t.Run("version 1 upgraded", func(t *testing.T) {
		url := mk(t)
		exec(t, url, `DROP TABLE custody_seal; UPDATE custody_meta SET value = '1' WHERE key = 'version'`)
		s, err := postgres.New(context.Background(), postgres.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if seal, err := s.Seal(context.Background()); err != nil || seal != nil {
			t.Fatalf("seal of an upgraded log: %v %v", seal, err)
		}
	})
	// A log made before the index of the cases' own events gains it at
	// open, and its own-event reads answer as before.
	t.Run("case-own index added", func(t *testing.T) {
		url := mk(t)
		exec(t, url, `DROP INDEX custody_events_case_own`)
		s := open(t, url)
		defer s.Close()
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var def string
		if err := conn.QueryRow(context.Background(), `SELECT indexdef FROM pg_indexes WHERE indexname = 'custody_events_case_own'`).Scan(&def); err != nil {
			t.Fatalf("the index of the cases' own events was not made again: %v", err)
		}
		if !strings.Contains(def, "item_id = ''") {
			t.Fatalf("the index is %s", def)
		}
		n := 0
		if err := s.ReadCaseOwn(context.Background(), "c", func(events.Record) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("case c has %d events of its own, want 3", n)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := mk(t)
			exec(t, url, c.sql)
			_, err := postgres.New(context.Background(), postgres.Config{URL: url})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, c.want)
			}
			t.Logf("refused: %v", err)
		})
	}
}

func TestBadURLs(t *testing.T) {
	for _, u := range []string{"", "sqlite:/tmp/x.db", "mysql://h/db", "postgres://[::1", "esdb://localhost:2113"} {
		if _, err := postgres.New(context.Background(), postgres.Config{URL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	// Unreachable server: a prompt error, and the password is not echoed.
	port := testenv.FreePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := postgres.New(ctx, postgres.Config{URL: fmt.Sprintf("postgres://u:s3cret@127.0.0.1:%d/db?sslmode=disable", port)})
	if err == nil {
		t.Fatal("opened a log on a port nobody listens on")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error reveals the password: %v", err)
	}
	t.Logf("unreachable: %v", err)
}

// Two processes (two stores with their own connection pools) on one
// database race for every position: the head lock admits one per position.
func TestTwoStoresNeverFork(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	url := pg.URL(t, t.Name())
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for _, s := range []events.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c chainer
			for range 40 {
				n, err := s.Size(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				c.size = n
				err = s.Append(context.Background(), n, c.recs(3), nil)
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, events.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, _ := a.Size(context.Background())
	if n != uint64(3*wins) {
		t.Fatalf("%d appends of 3 won but the log has %d events", wins, n)
	}
	var i uint64
	b.Read(context.Background(), 0, func(r events.Record) error {
		if r.Seq != i {
			t.Fatalf("position %d holds seq %d", i, r.Seq)
		}
		i++
		return nil
	})
	if i != n {
		t.Fatalf("read %d of %d", i, n)
	}
}

// chainer makes records with unique ids; their bytes need not be real
// events for store-level tests.
type chainer struct{ size uint64 }

func (c *chainer) recs(n int) []events.Record {
	out := make([]events.Record, n)
	for i := range out {
		out[i] = events.Record{Seq: c.size, ID: events.NewID(), Case: "c", Bytes: []byte(fmt.Sprintf(`{"seq":%d,"pad":%q}`, c.size, strings.Repeat("x", 400)))}
		c.size++
	}
	return out
}

// Opening a complete log writes nothing: a read-only session (a hot
// standby, the source of admin migrate-log) and a role granted the tables
// without owning them open it. Where the index of the cases' own events
// is missing, such a session opens the log without it and reads a case's
// own events as well, from the case index.
func TestOpensWithoutWriting(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	url := pg.URL(t, t.Name())
	s := open(t, url)
	recs := []events.Record{{Seq: 0, ID: "a", Case: "c", Bytes: []byte("x")}, {Seq: 1, ID: "b", Case: "c", Item: "i", Bytes: []byte("y")},
		{Seq: 2, ID: "d", Case: "c", Bytes: []byte("z")}}
	if err := s.Append(context.Background(), 0, recs, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	exec(t, url, `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'custos_reader') THEN CREATE ROLE custos_reader LOGIN; END IF; END $$`)
	exec(t, url, `GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO custos_reader`)
	user := strings.SplitN(strings.TrimPrefix(url, "postgres://"), "@", 2)[0]
	sessions := map[string]string{
		"read-only":                    url + "&options=-c%20default_transaction_read_only%3Don",
		"a role not owning the tables": strings.Replace(url, "postgres://"+user+"@", "postgres://custos_reader@", 1),
	}
	for _, missing := range []bool{false, true} {
		if missing {
			exec(t, url, `DROP INDEX custody_events_case_own`)
		}
		for name, u := range sessions {
			s, err := postgres.New(context.Background(), postgres.Config{URL: u})
			if err != nil {
				t.Fatalf("%s (index missing: %v): the log does not open: %v", name, missing, err)
			}
			var got []uint64
			if err := s.ReadCaseOwn(context.Background(), "c", func(r events.Record) error { got = append(got, r.Seq); return nil }); err != nil {
				t.Fatal(err)
			}
			s.Close()
			if len(got) != 2 || got[0] != 0 || got[1] != 2 {
				t.Fatalf("%s (index missing: %v): case c's own events are %v, want [0 2]", name, missing, got)
			}
		}
	}
}

// The reader an audit without the server uses (OpenReader) reads the
// events with their lookup columns, the checkpoints and the seal, and
// cannot write: every transaction of its connections is read-only. A
// database without a custody log is refused, and none is made in it.
func TestOpenReaderReadsWithoutWriting(t *testing.T) {
	pg := testenv.SharedPostgres(t)
	ctx := context.Background()
	url := pg.URL(t, t.Name())
	s := open(t, url)
	var c chainer
	if err := s.Append(ctx, 0, c.recs(3), &events.StoredCheckpoint{Size: 3, Note: []byte("published 3")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, 3, c.recs(1), &events.StoredCheckpoint{Size: 4, Note: []byte("seal 4"), Seal: true}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r, err := postgres.OpenReader(ctx, postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var seqs []uint64
	if err := r.Read(ctx, 1, func(rec events.Record) error { seqs = append(seqs, rec.Seq); return nil }); err != nil || !slices.Equal(seqs, []uint64{1, 2, 3}) {
		t.Fatalf("read %v %v", seqs, err)
	}
	cps, err := events.AllCheckpoints(ctx, r)
	if err != nil || len(cps) != 1 || cps[0].Size != 3 {
		t.Fatalf("checkpoints %+v %v", cps, err)
	}
	seal, err := r.Seal(ctx)
	if err != nil || seal == nil || seal.Size != 4 || string(seal.Note) != "seal 4" {
		t.Fatalf("seal %+v %v", seal, err)
	}
	if err := r.Append(ctx, 4, c.recs(1), nil); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("an append through the reader: %v, want a read-only transaction's refusal", err)
	}
	empty := pg.URL(t, t.Name()+"-empty")
	if _, err := postgres.OpenReader(ctx, postgres.Config{URL: empty}); err == nil || !strings.Contains(err.Error(), "holds no Custos custody log") {
		t.Fatalf("a database without a log: %v", err)
	}
	conn, err := pgx.Connect(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the reader made %d tables in an empty database (%v)", tables, err)
	}
}
