package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// stoppedAfterTwoAudits is a stopped vault whose log holds two audited
// checkpoints with a case opened between them, and the work folder.
func stoppedAfterTwoAudits(t *testing.T) (*server, string) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	s.ok("auditor", work, "audit", "verify")
	s.ok("investigator", work, "case", "open", "C-2", "--title", "after the first audit")
	s.ok("auditor", work, "audit", "verify")
	s.stop()
	return s, work
}

// TestSealRolledBackUnderTheHeadIsNamed: the log store's seal row put
// back to an older checkpoint, and the checkpoint rows after it deleted,
// with the events left in place. The events are under the vault's sticky
// head: the start is refused naming a seal row rolled back (not events
// added by someone else, whose advice, a restore from backup, would lose
// them), and the seal put back from the head as docs/operations.md says
// lets the vault start and the audit pass.
func TestSealRolledBackUnderTheHeadIsNamed(t *testing.T) {
	s, work := stoppedAfterTwoAudits(t)
	db := filepath.Join(s.data, "custody.db")
	head, err := os.ReadFile(filepath.Join(s.data, "keyring", "head.checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	_, headSize, err := events.PeekCheckpoint(head)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite", db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var older int64
	if err := conn.QueryRow(`SELECT MIN(size) FROM checkpoints WHERE size > 1`).Scan(&older); err != nil || uint64(older) >= headSize {
		t.Fatalf("no checkpoint older than the head (%d): %d %v", headSize, older, err)
	}
	for _, q := range []string{`DELETE FROM checkpoints WHERE size > ?`, `UPDATE seal SET size = ?1, note = (SELECT note FROM checkpoints WHERE size = ?1)`} {
		if _, err := conn.Exec(q, older); err != nil {
			t.Fatal(q, err)
		}
	}
	r := s.run("", work, "custos", append([]string{"server", "--dev", "--data", s.data, "--listen", s.listen}, s.extra...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "under the vault's sticky head") || strings.Contains(r.stderr, "from backup") || strings.Contains(r.stderr, "from a backup") {
		t.Fatalf("the start on a seal row rolled back: %d %s", r.code, r.stderr)
	}
	// The remedy of docs/operations.md, "A seal row rolled back".
	if _, err := conn.Exec(`UPDATE seal SET size = ?, note = ?`, int64(headSize), head); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.ok("auditor", work, "audit", "verify")
}

// TestSealRolledBackBelowAnOlderHead: as above, with the sticky head
// itself older than the log's end (as a crash between a batch's seal and
// the next publish leaves it), here put back to the stored checkpoint
// before the last. The start names the events after the head; with the
// seal put back, the next start refuses those as unsealed; with them
// removed as docs/operations.md says, the vault starts and the audit
// passes.
func TestSealRolledBackBelowAnOlderHead(t *testing.T) {
	s, work := stoppedAfterTwoAudits(t)
	conn, err := sql.Open("sqlite", filepath.Join(s.data, "custody.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var sizes []int64
	rows, err := conn.Query(`SELECT size FROM checkpoints WHERE size > 1 ORDER BY size`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int64
		rows.Scan(&n)
		sizes = append(sizes, n)
	}
	rows.Close()
	var end int64
	conn.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&end)
	if len(sizes) < 2 || sizes[len(sizes)-2] >= end {
		t.Fatalf("stored checkpoints %v of a log of %d events: want two below its end", sizes, end)
	}
	sealAt, headAt := sizes[0], sizes[len(sizes)-2]
	var head []byte
	if err := conn.QueryRow(`SELECT note FROM checkpoints WHERE size = ?`, headAt).Scan(&head); err != nil {
		t.Fatal(err)
	}
	// The head put back to headAt, both copies; the seal to sealAt. No
	// state snapshot covers more than the head (a snapshot's checkpoint
	// is the head when it is taken; a crash after a batch's seal, before
	// its publish, leaves the head behind the log's end, not behind a
	// snapshot).
	os.RemoveAll(filepath.Join(s.data, "snapshots"))
	os.WriteFile(filepath.Join(s.data, "keyring", "head.checkpoint"), head, 0o600)
	olds, _ := filepath.Glob(filepath.Join(s.data, "objects", "head", "*"))
	for _, h := range olds {
		os.Remove(h)
	}
	os.WriteFile(filepath.Join(s.data, "objects", "head", fmt.Sprintf("%020d", headAt)), head, 0o600)
	for _, q := range []string{`DELETE FROM checkpoints WHERE size > ?`, `UPDATE seal SET size = ?1, note = (SELECT note FROM checkpoints WHERE size = ?1)`} {
		if _, err := conn.Exec(q, sealAt); err != nil {
			t.Fatal(q, err)
		}
	}
	start := func() result {
		return s.run("", work, "custos", append([]string{"server", "--dev", "--data", s.data, "--listen", s.listen}, s.extra...)...)
	}
	r := start()
	if want := fmt.Sprintf("events %d to %d, after the sticky head", headAt, end-1); r.code == 0 || !strings.Contains(r.stderr, "under the vault's sticky head") || !strings.Contains(r.stderr, want) {
		t.Fatalf("the start on a seal row rolled back below an older head: %d, want %q in\n%s", r.code, want, r.stderr)
	}
	if _, err := conn.Exec(`UPDATE seal SET size = ?, note = ?`, headAt, head); err != nil {
		t.Fatal(err)
	}
	if r := start(); r.code == 0 || !strings.Contains(r.stderr, "not sealed by this log's key") {
		t.Fatalf("the start with events after the head unsealed: %d %s", r.code, r.stderr)
	}
	if _, err := conn.Exec(`DELETE FROM events WHERE seq >= ?`, headAt); err != nil {
		t.Fatal(err)
	}
	s.start()
	s.ok("auditor", work, "audit", "verify")
}
