package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// TestPostgresLog runs the flow with the custody log in a real PostgreSQL.
func TestPostgresLog(t *testing.T) {
	pg := testenv.StartPostgres(t)
	s := newServer(t, "--log", pg.URL(t, "custody_flow"))
	work := t.TempDir()
	sums := flow(t, s, work)
	s.stop()
	s.start()
	getAll(t, s, work, sums)
	s.ok("auditor", work, "audit", "verify")
}

// TestMigrateLogToPostgres moves a vault's log from SQLite to PostgreSQL
// byte for byte: the auditor's checkpoint saved before the move still
// verifies against the moved log, and every item still reads.
func TestMigrateLogToPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	s := newServer(t)
	work := t.TempDir()
	sums := flow(t, s, work)
	cp := filepath.Join(work, "before-move.checkpoint")
	s.ok("auditor", work, "audit", "verify", "--save-checkpoint", cp)
	s.stop()

	dst := pg.URL(t, "custody_moved")
	src := "sqlite:" + filepath.Join(s.data, "custody.db")
	r := s.run("", work, "custos", "admin", "migrate-log", "--from", src, "--to", dst, "--data", s.data, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"ok":true`) {
		t.Fatalf("migrate-log: %s %s", r.stdout, r.stderr)
	}
	// A second migration into the now non-empty destination is refused.
	if r := s.run("", work, "custos", "admin", "migrate-log", "--from", src, "--to", dst, "--data", s.data); r.code == 0 {
		t.Fatal("migrated into a non-empty log")
	}
	s.extra = append(s.extra, "--log", dst)
	s.start()
	getAll(t, s, work, sums)
	v := s.ok("auditor", work, "audit", "verify", "--checkpoint", cp, "--json").json(t)
	if v["ok"] != true || v["extends_checkpoint"] == nil {
		t.Fatalf("audit after the move: %v", v)
	}
}
