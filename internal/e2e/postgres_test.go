package e2e

import (
	"os"
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
	keyFile := filepath.Join(work, "vault.key")
	if err := os.WriteFile(keyFile, []byte(s.ok("auditor", work, "audit", "key").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	_, fp := vaultKey(t, s, work, "auditor")
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
	// The key file custos audit key writes names the key as well as
	// --data does; a fingerprint cannot check signatures.
	if r := s.run("", work, "custos", "admin", "migrate-log", "--from", src, "--to", pg.URL(t, "custody_moved_by_key"), "--key", keyFile, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"ok":true`) {
		t.Fatalf("migrate-log --key FILE: %s %s", r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos", "admin", "migrate-log", "--from", src, "--to", pg.URL(t, "custody_by_fingerprint"), "--key", fp); r.code != 2 || !strings.Contains(r.stderr, "not a fingerprint") {
		t.Fatalf("migrate-log --key FINGERPRINT: %d %s", r.code, r.stderr)
	}
	s.extra = append(s.extra, "--log", dst)
	s.start()
	getAll(t, s, work, sums)
	v := s.ok("auditor", work, "audit", "verify", "--checkpoint", cp, "--json").json(t)
	if v["ok"] != true || v["extends_checkpoint"] == nil {
		t.Fatalf("audit after the move: %v", v)
	}
}
