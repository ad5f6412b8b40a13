package migrate_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/migrate"
	"github.com/custos-vault/custos/events/postgres"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/mod/sumdb/note"
)

const origin = "custos.test/log"

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedPostgres()
	os.Exit(code)
}

func keys(t testing.TB) (note.Signer, note.Verifier) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	return s, v
}

// build writes n events through the real sequencer into a new SQLite log,
// with a checkpoint after every batch but the last (so the tail is
// covered by no checkpoint, as in a live log), and returns its path.
func build(t *testing.T, n, batch int, signer note.Signer, verifier note.Verifier) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "custody.db")
	st, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	appendEvents(t, st, 0, n, batch, signer, verifier)
	return path
}

func appendEvents(t *testing.T, st events.Store, from, n, batch int, signer note.Signer, verifier note.Verifier) {
	t.Helper()
	seq, err := sequencer.Open(context.Background(), sequencer.Config{Store: st, Origin: origin, Signer: signer, Verifier: verifier, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	for i := from; i < from+n; i += batch {
		var ds []sequencer.Draft
		for j := i; j < min(from+n, i+batch); j++ {
			ds = append(ds, sequencer.Draft{Type: "test.event", Case: "case-" + string(rune('a'+j%3)), Item: "item", Data: map[string]int{"n": j}})
		}
		if _, err := seq.Append(context.Background(), ds...); err != nil {
			t.Fatal(err)
		}
		if i+batch < from+n {
			if _, err := seq.Checkpoint(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.New(context.Background(), sqlite.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPG(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), postgres.Config{URL: testenv.SharedPostgres(t).URL(t, t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func all(t *testing.T, s events.Store) []events.Record {
	t.Helper()
	var out []events.Record
	if err := s.Read(context.Background(), 0, func(r events.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSQLiteToPostgres(t *testing.T) {
	signer, verifier := keys(t)
	from := openSQLite(t, build(t, 2503, 97, signer, verifier))
	to := openPG(t)
	start := time.Now()
	n, err := migrate.MigrateLog(context.Background(), from, to, origin, verifier)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("migrated %d events in %v", n, time.Since(start).Round(time.Millisecond))
	if n != 2503 {
		t.Fatalf("copied %d events, want 2503", n)
	}
	src, dst := all(t, from), all(t, to)
	if len(src) != len(dst) {
		t.Fatalf("%d events copied of %d", len(dst), len(src))
	}
	for i := range src {
		a, b := src[i], dst[i]
		if a.Seq != b.Seq || a.ID != b.ID || a.Case != b.Case || a.Item != b.Item || !bytes.Equal(a.Bytes, b.Bytes) {
			t.Fatalf("event %d differs", i)
		}
	}
	scps, _ := events.AllCheckpoints(context.Background(), from)
	dcps, _ := events.AllCheckpoints(context.Background(), to)
	if len(scps) < 25 || len(dcps) != len(scps) {
		t.Fatalf("%d checkpoints copied of %d", len(dcps), len(scps))
	}
	for i := range scps {
		if scps[i].Size != dcps[i].Size || !bytes.Equal(scps[i].Note, dcps[i].Note) {
			t.Fatalf("checkpoint %d differs", i)
		}
	}
	// The moved log goes on: the sequencer opens it (replaying and
	// checking it) and appends.
	appendEvents(t, to, 2503, 10, 10, signer, verifier)
	if got, _ := to.Size(context.Background()); got != 2513 {
		t.Fatalf("size after appending to the moved log: %d", got)
	}
}

// tamper rewrites one stored event in a SQLite log file, as someone with
// access to the file could.
func tamper(t *testing.T, path string, seq int, edit func([]byte) []byte) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b []byte
	if err := db.QueryRow(`SELECT bytes FROM events WHERE seq = ?`, seq).Scan(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE events SET bytes = ? WHERE seq = ?`, edit(b), seq); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesBadSources(t *testing.T) {
	signer, verifier := keys(t)
	_, otherKey := keys(t)
	cases := []struct {
		name     string
		mutate   func(t *testing.T, path string)
		verifier note.Verifier
		want     string
	}{
		{"edited event", func(t *testing.T, path string) {
			tamper(t, path, 150, func(b []byte) []byte { return bytes.Replace(b, []byte(`"n":150`), []byte(`"n":151`), 1) })
		}, verifier, "event 151"},
		{"edited tail event beyond the last checkpoint", func(t *testing.T, path string) {
			tamper(t, path, 398, func(b []byte) []byte { return bytes.Replace(b, []byte(`"n":398`), []byte(`"n":999`), 1) })
		}, verifier, "event 399"},
		{"re-encoded event", func(t *testing.T, path string) {
			tamper(t, path, 3, func(b []byte) []byte { return bytes.Replace(b, []byte(`"v":1,`), []byte(`"v": 1,`), 1) })
		}, verifier, "event 3"},
		{"another signing key", func(t *testing.T, path string) {}, otherKey, "not signed by the log's key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := build(t, 400, 50, signer, verifier)
			c.mutate(t, path)
			from := openSQLite(t, path)
			to := openPG(t)
			_, err := migrate.MigrateLog(context.Background(), from, to, origin, c.verifier)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was copied") {
				t.Fatalf("got %v, want a refusal mentioning %q", err, c.want)
			}
			t.Logf("refused: %v", err)
			if n, _ := to.Size(context.Background()); n != 0 {
				t.Fatalf("a refused source left %d events in the destination", n)
			}
			if cps, _ := events.AllCheckpoints(context.Background(), to); len(cps) != 0 {
				t.Fatal("a refused source left checkpoints in the destination")
			}
		})
	}
}

func TestRefusesNonEmptyDestination(t *testing.T) {
	signer, verifier := keys(t)
	from := openSQLite(t, build(t, 20, 5, signer, verifier))
	to := openSQLite(t, build(t, 3, 3, signer, verifier))
	if _, err := migrate.MigrateLog(context.Background(), from, to, origin, verifier); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("non-empty destination: %v", err)
	}
	if n, _ := to.Size(context.Background()); n != 3 {
		t.Fatalf("the refused destination changed: %d events", n)
	}
	if _, err := migrate.MigrateLog(context.Background(), from, openSQLite(t, filepath.Join(t.TempDir(), "x.db")), "", nil); err == nil {
		t.Fatal("migrated without an origin and verifier")
	}
}

// An empty log moves too (nothing to copy, nothing to check).
func TestEmptyLog(t *testing.T) {
	_, verifier := keys(t)
	from := openSQLite(t, filepath.Join(t.TempDir(), "a.db"))
	to := openSQLite(t, filepath.Join(t.TempDir(), "b.db"))
	if n, err := migrate.MigrateLog(context.Background(), from, to, origin, verifier); err != nil || n != 0 {
		t.Fatalf("%d, %v", n, err)
	}
}
