package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/hsm/soft"
	"golang.org/x/mod/sumdb/note"
)

// appendSigned appends evs (each given its position, id, time and prev
// here) to the stopped vault's SQLite log as an insider who can use the
// development sealer would: chained, under a checkpoint signed with the
// log's own key, stored with the store's seal and the vault's sticky
// head moved to it, so that every signature and hash an audit checks
// holds.
func appendSigned(t *testing.T, data string, evs ...*events.Event) {
	t.Helper()
	ctx := context.Background()
	sealer, err := soft.New(ctx, soft.Config{Dir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	blob, err := os.ReadFile(filepath.Join(data, "keyring", "log.key.sealed"))
	if err != nil {
		t.Fatal(err)
	}
	sk, err := sealer.Unseal(ctx, blob)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(string(sk))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, "custody.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tree events.Tree
	var last events.Hash
	rows, err := db.Query(`SELECT bytes FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		last = events.LeafHash(b)
		tree.Append(last)
	}
	rows.Close()
	for _, ev := range evs {
		ev.V, ev.Seq, ev.ID, ev.Time, ev.Prev = events.Version, tree.Size(), events.NewID(), events.FormatTime(time.Now()), last.String()
		b, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO events(seq, id, case_id, item_id, bytes) VALUES (?, ?, ?, ?, ?)`, int64(ev.Seq), ev.ID, ev.Case, ev.Item, b); err != nil {
			t.Fatal(err)
		}
		last = events.LeafHash(b)
		tree.Append(last)
	}
	size := tree.Size()
	root, err := tree.Root(size)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := events.SignCheckpoint(signer, signer.Name(), size, root)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`INSERT INTO checkpoints(size, note) VALUES (?, ?)`, `UPDATE seal SET size = ?, note = ?`} {
		if _, err := db.Exec(q, int64(size), cp); err != nil {
			t.Fatal(q, err)
		}
	}
	if err := os.WriteFile(filepath.Join(data, "keyring", "head.checkpoint"), cp, 0o600); err != nil {
		t.Fatal(err)
	}
	heads, _ := filepath.Glob(filepath.Join(data, "objects", "head", "*"))
	for _, h := range heads {
		os.Remove(h)
	}
	if err := os.WriteFile(filepath.Join(data, "objects", "head", fmt.Sprintf("%020d", size)), cp, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAuditFindsWhatTheRulesForbid: whoever can use the log's key (the
// service's own user can make the sealer unseal it) can record an event
// the vault's rules forbid, with every signature and hash in place: here
// a view by an analyst never assigned to the case. custos audit verify
// finds it by the rules (vault.CustodyRules), with the server and from
// the store without it, naming the event; before it, the same log
// passes.
func TestAuditFindsWhatTheRulesForbid(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id, _ := setup(t, s, work)
	key := filepath.Join(work, "vault.key")
	if err := os.WriteFile(key, []byte(s.ok("auditor", work, "audit", "key").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	s.ok("auditor", work, "audit", "verify")
	s.stop()
	db := filepath.Join(s.data, "custody.db")
	if r := s.run("", work, "custos", "audit", "verify", "--store", db, "--key", key); r.code != 0 {
		t.Fatalf("the honest store: %d %s", r.code, r.stderr)
	}
	appendSigned(t, s.data, &events.Event{Type: "item.accessed", Actor: events.Actor{Person: "analyst", Role: "analyst", Auth: "local"},
		Case: "C-1", Item: id, Data: []byte(`{"purpose":"curiosity","access":"view"}`)})
	r := s.run("", work, "custos", "audit", "verify", "--store", db, "--key", key, "--json")
	var failed struct {
		OK    bool    `json:"ok"`
		Event *uint64 `json:"event"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &failed); err != nil || r.code != 1 || failed.OK || failed.Event == nil ||
		!strings.Contains(r.stderr, "who was not assigned to case C-1") {
		t.Fatalf("audit verify --store of a log with a forbidden view: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s.start()
	r = s.run("auditor", work, "custos", "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "an action its rules forbid") || !strings.Contains(r.stderr, fmt.Sprintf("event %d:", *failed.Event)) {
		t.Fatalf("audit verify of a log with a forbidden view: %d\n%s", r.code, r.stderr)
	}
	// An auditor who looked into it accepts it: reported, not failing;
	// another position accepted leaves the finding failing.
	r = s.run("auditor", work, "custos", "audit", "verify", "--accept-finding", fmt.Sprint(*failed.Event+1))
	if r.code != 1 {
		t.Fatalf("a finding failed with another position accepted: %d\n%s", r.code, r.stderr)
	}
	r = s.run("auditor", work, "custos", "audit", "verify", "--accept-finding", fmt.Sprint(*failed.Event))
	if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "custody-rule finding accepted") {
		t.Fatalf("the finding accepted: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestAuditFindsAGrantOfPowerWithoutTwoPeople: an assignment a custodian
// asked and a second approved passes the audit's rules; one recorded by
// a single custodian, with every signature in place (as whoever can use
// the log's key, or a build that is not the vault's, could record it),
// is a finding that names the rule of two people. So is a view by the
// case's own investigator in a session the log never opened (a state
// forged with a session of its own signs such a session in).
func TestAuditFindsAGrantOfPowerWithoutTwoPeople(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id, _ := setup(t, s, work)
	add := s.ok("custodian", work, "case", "add-member", "C-1", "analyst", "--json").json(t)
	s.ok("custodian2", work, "approve", add["request"].(string))
	s.ok("auditor", work, "audit", "verify")
	s.stop()
	appendSigned(t, s.data, &events.Event{Type: "case.member.added", Actor: events.Actor{Person: "custodian", Role: "custodian", Auth: "local"},
		Case: "C-1", Data: []byte(`{"person":"prosecutor"}`)},
		&events.Event{Type: "item.accessed", Actor: events.Actor{Person: "investigator", Role: "investigator", Auth: "local", Session: "se_000000000000000000000000"},
			Case: "C-1", Item: id, Data: []byte(`{"purpose":"review","access":"view"}`)})
	s.start()
	r := s.run("auditor", work, "custos", "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "an action its rules forbid") || !strings.Contains(r.stderr, "without a request a second custodian approved") ||
		!strings.Contains(r.stderr, "2 findings in all") || !strings.Contains(r.stderr, "acted in session se_000000000000000000000000, which the log never opened") {
		t.Fatalf("audit verify of an assignment by one custodian and a view in a session never opened: %d\n%s", r.code, r.stderr)
	}
}

// TestAuditFindsAClassificationPolicyLoweredByOne: a custodian raises a
// case's classification policy alone; lowering it is a request a second
// custodian approves, and the approval says what it settled. The audit
// passes both; a lowering recorded by one custodian, with every
// signature in place, is a finding.
func TestAuditFindsAClassificationPolicyLoweredByOne(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	raised := s.ok("custodian", work, "case", "classification-votes", "C-1", "3", "--reason", "CAID-style review", "--json").json(t)
	if raised["votes"] != 3.0 || raised["recorded"] != true {
		t.Fatalf("raising the policy: %v", raised)
	}
	lower := s.ok("custodian", work, "case", "classification-votes", "C-1", "2", "--reason", "backlog agreed with the unit head")
	if !strings.Contains(lower.stdout, "needs a second custodian") {
		t.Fatalf("lowering the policy says:\n%s", lower.stdout)
	}
	s.refused("custodian2", work, "already asks this", "case", "classification-votes", "C-1", "1")
	pending := s.ok("custodian2", work, "requests", "--json").json(t)
	var id string
	for _, r := range pending["requests"].([]any) {
		if r := r.(map[string]any); r["kind"] == "case.classification.policy" {
			id = r["request"].(string)
		}
	}
	if id == "" {
		t.Fatalf("the lowering is not among the pending requests: %v", pending)
	}
	if shown := s.ok("custodian2", work, "requests").stdout; !strings.Contains(shown, "lower the agreeing votes that settle an item's category from 3 to 2; now 3; approved now, the votes already cast would settle no item") {
		t.Fatalf("custos requests shows the lowering as:\n%s", shown)
	}
	s.refused("custodian", work, "nobody approves their own request", "approve", id)
	if out := s.ok("custodian2", work, "approve", id).stdout; !strings.Contains(out, "classification policy is lowered") {
		t.Fatalf("the approval says:\n%s", out)
	}
	if show := s.ok("custodian", work, "case", "show", "C-1", "--json").json(t); show["classification_votes"] != 2.0 {
		t.Fatalf("approved, the case shows %v", show["classification_votes"])
	}
	if show := s.ok("custodian", work, "case", "show", "C-1").stdout; !strings.Contains(show, "2 agreeing classifications settle an item's category (set by custodian2 at ") ||
		!strings.Contains(show, `asked by custodian, because: "backlog agreed with the unit head"`) {
		t.Fatalf("case show after the lowering:\n%s", show)
	}
	ok := s.ok("auditor", work, "audit", "verify").stdout
	approved := regexp.MustCompile(`custody rules: every event was allowed where it stands \(docs/custody-log.md section 7, step 8\), (\d+) decisions? a custodian other than who asked approved among them`).FindStringSubmatch(ok)
	if approved == nil || approved[1] == "0" {
		t.Fatalf("audit verify does not count the decisions a second custodian approved:\n%s", ok)
	}
	if j := s.ok("auditor", work, "audit", "verify", "--json").json(t); fmt.Sprint(j["approved_decisions"]) != approved[1] {
		t.Fatalf("audit verify --json counts %v approved decisions, the text %s", j["approved_decisions"], approved[1])
	}
	s.stop()
	appendSigned(t, s.data, &events.Event{Type: "case.classification.policy", Actor: events.Actor{Person: "custodian", Role: "custodian", Auth: "local"},
		Case: "C-1", Data: []byte(`{"votes":1}`)})
	s.start()
	r := s.run("auditor", work, "custos", "audit", "verify")
	if r.code != 1 || !strings.Contains(r.stderr, "an action its rules forbid") ||
		!strings.Contains(r.stderr, "classification policy was lowered from 2 agreeing votes to 1 without a request a second custodian approved") {
		t.Fatalf("audit verify of a lowering by one custodian: %d\n%s", r.code, r.stderr)
	}
}
