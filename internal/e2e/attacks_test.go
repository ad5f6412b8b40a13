package e2e

// Attacks by the people who run the vault: decisions raced against each
// other, a database administrator editing lookup columns or dropping the
// log, a backup operator restoring an old keyring, keys swapped on disk,
// and an investigator switching write-once protection off. Each test
// fails on a vault without the corresponding defence.

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
)

// client talks to the API directly, as a person, for tests that need
// hundreds of requests or precise concurrency.
type client struct {
	t     *testing.T
	url   string
	token string
}

func (s *server) client(person string) *client {
	s.t.Helper()
	c := &client{t: s.t}
	c.url, _ = s.credential(person)
	c.token = s.session(person)
	return c
}

// call sends a JSON request and returns the status and the decoded answer.
func (c *client) call(method, path string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// deposit uploads body as one item, streaming; the returned status is
// the vault's answer.
func (c *client) deposit(caseID, name string, body io.Reader, sum string) (int, map[string]any) {
	req, _ := http.NewRequest("POST", c.url+"/v1/cases/"+caseID+"/items?name="+name, body)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Trailer = http.Header{"Custos-Content-Sha256": {sum}}
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// view reads an item's plaintext; it returns the status.
func (c *client) view(item string) int {
	req, _ := http.NewRequest("GET", c.url+"/v1/items/"+item+"?purpose=race", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Errorf("view: %v", err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// logEvents reads every event of the custody log, as stored.
func logEvents(t *testing.T, s *server) []*events.Event {
	t.Helper()
	c := s.client("auditor")
	req, _ := http.NewRequest("GET", c.url+"/v1/log/events", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out []*events.Event
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		ev, err := events.Decode(line)
		if err != nil {
			t.Fatalf("event: %v", err)
		}
		out = append(out, ev)
	}
	return out
}

func byCase(evs []*events.Event) map[string][]*events.Event {
	out := map[string][]*events.Event{}
	for _, ev := range evs {
		if ev.Case != "" {
			out[ev.Case] = append(out[ev.Case], ev)
		}
	}
	return out
}

// TestRacedDecisionsHoldAtTheirLogPosition runs hundreds of concurrent
// pairs of decisions that exclude each other and checks that the custody
// log explains every outcome: a legal hold placed while a destruction is
// approved, and a hold released while one is approved.
func TestRacedDecisionsHoldAtTheirLogPosition(t *testing.T) {
	s := newServer(t)
	inv, cust, cust2 := s.client("investigator"), s.client("custodian"), s.client("custodian2")
	const tries = 200
	type outcome struct{ hold, approve int }
	var mu sync.Mutex
	outcomes := map[string]outcome{}
	forEachConcurrently(tries, 8, func(i int) {
		id := fmt.Sprintf("RACE-%03d", i)
		// Half the cases start held: there the race is release
		// against approval.
		held := i%2 == 1
		if code, out := inv.call("POST", "/v1/cases", map[string]string{"case": id, "title": "race"}); code != 201 {
			t.Errorf("open %s: %d %v", id, code, out)
			return
		}
		code, out := cust.call("POST", "/v1/cases/"+id+"/destruction", map[string]string{"order": "order 1", "reason": "race"})
		if code != 201 && code != 200 {
			t.Errorf("request destruction %s: %d %v", id, code, out)
			return
		}
		req, _ := out["request"].(string)
		if held {
			if code, out := cust.call("POST", "/v1/cases/"+id+"/hold", map[string]any{"on": true, "reason": "preservation"}); code != 200 {
				t.Errorf("hold %s: %d %v", id, code, out)
				return
			}
		}
		var o outcome
		var pair sync.WaitGroup
		pair.Add(2)
		go func() {
			defer pair.Done()
			o.hold, _ = cust.call("POST", "/v1/cases/"+id+"/hold", map[string]any{"on": !held, "reason": "race"})
		}()
		go func() {
			defer pair.Done()
			o.approve, _ = cust2.call("POST", "/v1/cases/"+id+"/destruction/"+req+"/approve", nil)
		}()
		pair.Wait()
		mu.Lock()
		outcomes[id] = o
		mu.Unlock()
	})
	violations, approved, refusedApprovals := 0, 0, 0
	for id, evs := range byCase(logEvents(t, s)) {
		o, ok := outcomes[id]
		if !ok {
			continue
		}
		isHeld, approvedAt := false, -1
		for i, ev := range evs {
			switch ev.Type {
			case "case.hold.placed":
				isHeld = true
			case "case.hold.lifted":
				isHeld = false
			case "case.destruction.approved":
				approvedAt = i
				if isHeld {
					violations++
					t.Errorf("%s: destruction approved at event %d while the case was held", id, ev.Seq)
				}
			}
		}
		// The answers agree with the log.
		switch {
		case approvedAt >= 0 && o.approve != 200:
			t.Errorf("%s: approval recorded but answered %d", id, o.approve)
		case approvedAt < 0 && o.approve == 200:
			violations++
			t.Errorf("%s: approval answered 200 but not recorded", id)
		}
		if approvedAt >= 0 {
			approved++
		} else {
			refusedApprovals++
		}
	}
	if violations != 0 {
		t.Fatalf("%d violations in %d tries", violations, tries)
	}
	t.Logf("%d tries: %d destructions approved, %d refused because the case was held at the approval's position", tries, approved, refusedApprovals)
	s.ok("auditor", t.TempDir(), "audit", "verify")
}

// slowBody sends a few bytes, then waits until released, then the rest.
type slowBody struct {
	first   []byte
	rest    []byte
	release chan struct{}
	sent    chan struct{}
	state   int
}

func (b *slowBody) Read(p []byte) (int, error) {
	switch b.state {
	case 0:
		b.state = 1
		return copy(p, b.first), nil
	case 1:
		close(b.sent)
		<-b.release
		b.state = 2
	}
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

// TestDepositStreamingWhileCaseDestroyedIsRefused: a deposit whose upload
// is still running when its case is destroyed must not be acknowledged,
// must leave no deposit event after the destruction, and must leave its
// ciphertext deleted or recorded as retained. The same holds for a view
// by an investigator removed from the case (another decision that races
// an act).
func TestDepositStreamingWhileCaseDestroyedIsRefused(t *testing.T) {
	s := newServer(t, "--retention", "2s", "--pending-retention", "2s")
	inv, cust, cust2 := s.client("investigator"), s.client("custodian"), s.client("custodian2")
	if code, out := inv.call("POST", "/v1/cases", map[string]string{"case": "D-1", "title": "t"}); code != 201 {
		t.Fatalf("open: %d %v", code, out)
	}
	content := bytes.Repeat([]byte("evidence "), 10_000)
	sum := sha256.Sum256(content)
	body := &slowBody{first: content[:10], rest: content[10:], release: make(chan struct{}), sent: make(chan struct{})}
	type answer struct {
		code int
		out  map[string]any
	}
	done := make(chan answer, 1)
	go func() {
		code, out := inv.deposit("D-1", "late.bin", body, hex.EncodeToString(sum[:]))
		done <- answer{code, out}
	}()
	<-body.sent
	_, out := cust.call("POST", "/v1/cases/D-1/destruction", map[string]string{"order": "court 7", "reason": "order"})
	if code, out := cust2.call("POST", "/v1/cases/D-1/destruction/"+out["request"].(string)+"/approve", nil); code != 200 {
		t.Fatalf("approve: %d %v", code, out)
	}
	close(body.release)
	a := <-done
	if a.code != http.StatusConflict || !strings.Contains(fmt.Sprint(a.out), "destroyed") {
		t.Fatalf("a deposit into a case destroyed while it streamed was not refused for it: %d %v", a.code, a.out)
	}
	evs := logEvents(t, s)
	destroyed := false
	for _, ev := range evs {
		switch {
		case ev.Type == "case.destruction.approved" && ev.Case == "D-1":
			destroyed = true
		case ev.Type == "item.deposited" && ev.Case == "D-1" && destroyed:
			t.Fatalf("item.deposited (event %d) follows the case's destruction", ev.Seq)
		}
	}
	// Its ciphertext is deleted, or recorded as retained until swept.
	scrub := s.ok("auditor", t.TempDir(), "audit", "scrub", "--json").json(t)
	if scrub["ok"] != true {
		t.Fatalf("after the refused deposit, scrub is not clean: %v", scrub)
	}

	// A member removed while views run: no view is recorded after the
	// removal.
	if code, out := inv.call("POST", "/v1/cases", map[string]string{"case": "M-1", "title": "t"}); code != 201 {
		t.Fatalf("open: %d %v", code, out)
	}
	code, dep := inv.deposit("M-1", "a.bin", bytes.NewReader(content), hex.EncodeToString(sum[:]))
	if code != 201 && code != 200 {
		t.Fatalf("deposit: %d %v", code, dep)
	}
	item, _ := dep["id"].(string)
	stop := make(chan struct{})
	var views sync.WaitGroup
	ok, refused := 0, 0
	var vm sync.Mutex
	for range 4 {
		views.Add(1)
		go func() {
			defer views.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code := inv.view(item)
				vm.Lock()
				if code == 200 {
					ok++
				} else {
					refused++
				}
				vm.Unlock()
				if code != 200 {
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if code, out := cust.call("POST", "/v1/cases/M-1/members/investigator/remove", map[string]string{"reason": "reassigned"}); code != 200 {
		t.Fatalf("remove member: %d %v", code, out)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	views.Wait()
	removed := false
	for _, ev := range logEvents(t, s) {
		switch {
		case ev.Type == "case.member.removed" && ev.Case == "M-1":
			removed = true
		case ev.Type == "item.accessed" && ev.Case == "M-1" && removed:
			t.Fatalf("a view (event %d) was recorded after the viewer's removal", ev.Seq)
		}
	}
	if ok == 0 || refused == 0 || !removed {
		t.Fatalf("views before and after the removal: %d allowed, %d refused", ok, refused)
	}
}

// sqliteExec edits the stopped server's custody.db, as a database
// administrator could.
func sqliteExec(t *testing.T, s *server, q string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(s.data, "custody.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.RowsAffected()
	return n
}

// TestEditedLookupColumnsAreNotTrusted: the SQLite case_id and item_id
// columns are edited offline to hide a view from an item's timeline and
// to pull another case's deposit into a package; the vault answers from
// the signed bytes, and audit verify names every edited event.
func TestEditedLookupColumnsAreNotTrusted(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	idA, _ := setup(t, s, work) // case C-1
	b, _, _ := evidence(t, work, "other.bin", 5000)
	s.ok("investigator", work, "case", "open", "C-2", "--title", "other")
	depB := s.ok("investigator", work, "deposit", "--case", "C-2", "--note", "NOTE OF CASE C-2", b, "--json").json(t)
	idB := depB["items"].([]any)[0].(map[string]any)["id"].(string)
	s.ok("investigator", work, "get", idA, "--purpose", "the view to hide", "-o", filepath.Join(work, "a.out"))
	s.ok("prosecutor", work, "recipient", "set", newAgeKey(t, filepath.Join(work, "p.key")))
	s.stop()

	// Hide the view from the item's timeline, and make C-2's deposit
	// look like an event of item A of case C-1.
	if n := sqliteExec(t, s, `UPDATE events SET item_id = 'it_000000000000000000000000', case_id = '' WHERE item_id = ? AND CAST(bytes AS TEXT) LIKE '%"item.accessed"%'`, idA); n != 1 {
		t.Fatalf("edited %d rows", n)
	}
	if n := sqliteExec(t, s, `UPDATE events SET item_id = ?, case_id = 'C-1' WHERE item_id = ? AND CAST(bytes AS TEXT) LIKE '%"item.deposited"%'`, idA, idB); n != 1 {
		t.Fatalf("edited %d rows", n)
	}
	s.start()

	tl := s.ok("auditor", work, "audit", "log", "--item", idA, "--json").stdout
	if !strings.Contains(tl, "the view to hide") {
		t.Fatal("an edited item_id column hid a view from the item's timeline")
	}
	if strings.Contains(tl, "NOTE OF CASE C-2") {
		t.Fatal("an edited item_id column pulled another case's deposit into an item's timeline")
	}
	ctl := s.ok("auditor", work, "audit", "log", "--case", "C-1", "--json").stdout
	if !strings.Contains(ctl, "the view to hide") || strings.Contains(ctl, "NOTE OF CASE C-2") {
		t.Fatal("the case timeline follows the edited columns")
	}
	seal := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "trial", "--items", idA, "--json").json(t)
	pkg := filepath.Join(work, "p.tar")
	s.ok("prosecutor", work, "package", "fetch", seal["package"].(string), "-o", pkg)
	raw, _ := os.ReadFile(pkg)
	if bytes.Contains(raw, []byte("NOTE OF CASE C-2")) {
		t.Fatal("the package holds another case's deposit, pulled in by an edited column")
	}
	if !bytes.Contains(raw, []byte("the view to hide")) {
		t.Fatal("the package lacks the item's hidden view")
	}
	r := s.run("auditor", work, "custos", "audit", "verify")
	if r.code == 0 || !strings.Contains(r.stderr, "lookup values") {
		t.Fatalf("audit verify did not report the edited columns: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// Every edited event is named.
	evs := logEvents(t, s)
	for _, ev := range evs {
		if (ev.Type == "item.accessed" && ev.Item == idA) || (ev.Type == "item.deposited" && ev.Item == idB) {
			if !strings.Contains(r.stderr, fmt.Sprintf("event %d:", ev.Seq)) {
				t.Errorf("audit verify does not name edited event %d: %s", ev.Seq, r.stderr)
			}
		}
	}
	// And the server put what it found on the record: the item's and
	// the case's lookups, each once.
	found := map[string]int{}
	for _, ev := range evs {
		var d struct {
			Reason string `json:"reason"`
		}
		if ev.Type == "integrity.failed" && ev.DecodeData(&d) == nil && strings.HasPrefix(d.Reason, "a lookup of the custody log store: ") {
			for _, key := range []string{"events naming " + idA + " ", "events naming C-1 "} {
				if strings.Contains(d.Reason, key) {
					found[key]++
				}
			}
		}
	}
	if found["events naming "+idA+" "] != 1 || found["events naming C-1 "] != 1 {
		t.Errorf("the edited lookups recorded as integrity.failed: %v", found)
	}
}

// TestLostOrShortenedLogIsRefused: the vault remembers the largest
// checkpoint it signed outside the log store, and refuses to start on a
// log that does not extend it: deleted, truncated with its checkpoints,
// or replaced by an older copy.
func TestLostOrShortenedLogIsRefused(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	s.stop()
	db := filepath.Join(s.data, "custody.db")
	old, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	s.start()
	s.ok("investigator", work, "case", "open", "C-9", "--title", "after the backup")
	// A checkpoint covers C-9, saved by the auditors outside the vault.
	auditorsCheckpoint := filepath.Join(work, "auditors.checkpoint")
	s.ok("auditor", work, "audit", "verify", "--save-checkpoint", auditorsCheckpoint)
	s.stop()
	start := func() result {
		return s.run("", work, "custos", append([]string{"server", "--dev", "--data", s.data, "--listen", s.listen}, s.extra...)...)
	}
	saved := map[string][]byte{}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		saved[suffix], _ = os.ReadFile(db + suffix)
	}
	restore := func() {
		for suffix, b := range saved {
			os.Remove(db + suffix)
			if b != nil {
				os.WriteFile(db+suffix, b, 0o600)
			}
		}
	}

	// 1. The log store is deleted.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	if r := start(); r.code == 0 || !strings.Contains(r.stderr, "the log store was lost") || !strings.Contains(r.stderr, "Restore the custody log") {
		t.Fatalf("a vault with its log deleted started (or said nothing useful): %d %s", r.code, r.stderr)
	}
	restore()

	// 2. The last events are deleted together with their checkpoints.
	var n int64
	{
		dbh, _ := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
		dbh.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n)
		dbh.Close()
	}
	sqliteExec(t, s, `DELETE FROM events WHERE seq >= ?`, n-3)
	sqliteExec(t, s, `DELETE FROM checkpoints WHERE size > ?`, n-3)
	// Refused by the log's own seal or by the sticky head, whichever is
	// read first: both say it was truncated.
	if r := start(); r.code == 0 || !strings.Contains(r.stderr, "truncated") {
		t.Fatalf("a truncated log started: %d %s", r.code, r.stderr)
	}
	restore()

	// 3. An older copy of the whole log is put back.
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	os.WriteFile(db, old, 0o600)
	if r := start(); r.code == 0 || !strings.Contains(r.stderr, "truncated, rolled back or replaced") {
		t.Fatalf("a rolled-back log started: %d %s", r.code, r.stderr)
	}
	// With no newer copy anywhere, the operator accepts the loss on the
	// record; the vault then continues from the old copy.
	// The auditors' checkpoint, typed as the operator would: a restored
	// log it extends proves no loss; the old copy's is not extended.
	if r := s.run("", work, "custos", "admin", "accept-rollback", "--dev", "--data", s.data, "--reason", "x", "--checkpoint", filepath.Join(work, "missing.checkpoint")); r.code == 0 || !strings.Contains(r.stderr, "--checkpoint") {
		t.Fatalf("accept-rollback with a missing checkpoint file: %d %s", r.code, r.stderr)
	}
	acc := s.run("", work, "custos", "admin", "accept-rollback", "--dev", "--data", s.data, "--reason", "the only backup left", "--checkpoint", auditorsCheckpoint, "--json")
	if acc.code != 0 || !strings.Contains(acc.stdout, `"lost_size"`) {
		t.Fatalf("accept-rollback: %d %s %s", acc.code, acc.stdout, acc.stderr)
	}
	s.start()
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if !strings.Contains(tl, `"log.rollback.accepted"`) || !strings.Contains(tl, "the only backup left") || strings.Contains(tl, "after the backup") {
		t.Fatal("the accepted rollback is not on the record")
	}
	if r := s.ok("auditor", work, "audit", "verify"); !strings.Contains(r.stdout, "warning: the log records, at event ") || !strings.Contains(r.stdout, `because "the only backup left"`) {
		t.Fatalf("an audit passing over an accepted rollback does not say so: %s", r.stdout)
	}
	// The auditors' checkpoint, of the history given up, no longer
	// matches: the audit fails, and says the log records the rollback.
	if r := s.run("auditor", work, "custos", "audit", "verify", "--checkpoint", auditorsCheckpoint); r.code == 0 ||
		!strings.Contains(r.stderr, "an accepted rollback (custos admin accept-rollback)") || !strings.Contains(r.stderr, `because "the only backup left"`) {
		t.Fatalf("an audit against a checkpoint of the history a rollback gave up: %d %s", r.code, r.stderr)
	}
	s.stop()
	// A log that extends the head has nothing to accept.
	if r := s.run("", work, "custos", "admin", "accept-rollback", "--dev", "--data", s.data, "--reason", "x"); r.code == 0 {
		t.Fatal("accept-rollback accepted a log that extends the head")
	}

	// 4. Both copies of the head are deleted (one root on a one-server
	// vault holds both), which is how a log is cut back to an older
	// checkpoint: the start is refused, and so is an audit of the store
	// without the server.
	s.start()
	key := filepath.Join(work, "vault.key")
	if err := os.WriteFile(key, []byte(s.ok("auditor", work, "audit", "key").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.run("", work, "custos", "audit", "verify", "--store", db, "--key", key); r.code != 0 {
		t.Fatalf("the store with its head: %d %s", r.code, r.stderr)
	}
	s.stop()
	os.Remove(filepath.Join(s.data, "keyring", "head.checkpoint"))
	heads, _ := filepath.Glob(filepath.Join(s.data, "objects", "head", "*"))
	if len(heads) == 0 {
		t.Fatal("no head in the object store")
	}
	for _, h := range heads {
		os.Remove(h)
	}
	if r := start(); r.code == 0 || !strings.Contains(r.stderr, "log head is missing") || !strings.Contains(r.stderr, "accept-rollback") {
		t.Fatalf("a vault whose head was deleted started (or said nothing useful): %d %s", r.code, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "verify", "--store", db, "--key", key); r.code == 0 || !strings.Contains(r.stderr, "sticky head was not found") {
		t.Fatalf("an audit of the store passed without the vault's head: %d %s", r.code, r.stderr)
	}
	acc = s.run("", work, "custos", "admin", "accept-rollback", "--dev", "--data", s.data, "--reason", "the head was deleted, incident 12", "--json")
	if acc.code != 0 || !strings.Contains(acc.stdout, `"head_missing":true`) {
		t.Fatalf("accept-rollback of a missing head: %d %s %s", acc.code, acc.stdout, acc.stderr)
	}
	s.start()
	s.ok("auditor", work, "audit", "verify")
}

// TestStaleKeyringBackupLosesNothing: the keyring folder is restored
// from a backup taken before a case was opened; the case's key comes back
// from its replica in the object store and its evidence reads again.
func TestStaleKeyringBackupLosesNothing(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	s.stop()
	backup := filepath.Join(t.TempDir(), "keys")
	if err := os.CopyFS(backup, os.DirFS(filepath.Join(s.data, "keyring"))); err != nil {
		t.Fatal(err)
	}
	s.start()
	f, _, sum := evidence(t, work, "late.bin", 20_000)
	s.ok("investigator", work, "case", "open", "C-2", "--title", "after the backup")
	dep := s.ok("investigator", work, "deposit", "--case", "C-2", f, "--json").json(t)
	id := dep["items"].([]any)[0].(map[string]any)["id"].(string)
	s.stop()
	os.RemoveAll(filepath.Join(s.data, "keyring"))
	if err := os.CopyFS(filepath.Join(s.data, "keyring"), os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	s.start()
	out := filepath.Join(work, "late.out")
	got := s.ok("investigator", work, "get", id, "--purpose", "after restore", "-o", out, "--json").json(t)
	if got["sha256"] != sum {
		t.Fatalf("evidence of a case newer than the keyring backup: %v", got)
	}
}

// TestMissingOrSwappedCaseKeys: a server refuses to start while a live
// case has no key anywhere and says which; admin recover goes on past
// that case and records its loss; swapped key files are reported as a
// key problem, never as evidence tampering.
func TestMissingOrSwappedCaseKeys(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id1, _ := setup(t, s, work) // C-1
	s.ok("investigator", work, "case", "open", "C-2", "--title", "two")
	s.ok("investigator", work, "case", "open", "C-3", "--title", "three")
	s.stop()

	// Swap the sealed keys of C-1 and C-2, and their replicas.
	swapKeys(t, s, "C-1", "C-2")
	s.start()
	r := s.refused("investigator", work, "case key unavailable", "get", id1, "--purpose", "after swap", "-o", filepath.Join(work, "x"))
	ref := regexp.MustCompile(`reference ([0-9a-f]{16})`).FindStringSubmatch(r.stderr)
	if ref == nil || !s.logs.waitFor(regexp.MustCompile(`ref=`+ref[1]+`.*belongs to another case`)) {
		t.Fatalf("a swapped key is not named as such: %s", r.stderr)
	}
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if strings.Contains(tl, `"integrity.failed"`) || !strings.Contains(tl, `"case.key.failed"`) {
		t.Fatal("a swapped key was recorded as evidence tampering, or not recorded")
	}
	s.stop()
	swapKeys(t, s, "C-1", "C-2")

	// C-3 loses every copy of its key.
	removeKeys(t, s, "C-3")
	start := s.run("", work, "custos", "server", "--dev", "--data", s.data, "--listen", s.listen)
	if start.code == 0 || !strings.Contains(start.stderr, "C-3") || !strings.Contains(start.stderr, "no usable key") {
		t.Fatalf("a vault with a keyless case started, or did not name it: %d %s", start.code, start.stderr)
	}
	rec := s.run("", work, "custos", "admin", "recover", "--dev", "--data", s.data,
		"--identity", filepath.Join(s.data, "dev", "recovery.key"), "--json")
	if rec.code == 0 || !strings.Contains(rec.stdout, `"C-1"`) || !strings.Contains(rec.stdout, `"C-2"`) || !strings.Contains(rec.stdout, "C-3") {
		t.Fatalf("admin recover stopped at the lost case or hid it: %d %s %s", rec.code, rec.stdout, rec.stderr)
	}
	s.start()
	s.ok("investigator", work, "get", id1, "--purpose", "after recovery", "-o", filepath.Join(work, "y"))
	tl = s.ok("auditor", work, "audit", "log", "--json").stdout
	if !strings.Contains(tl, `"lost":[{"case":"C-3"`) {
		t.Fatal("the lost case key is not recorded")
	}
}

// caseKeyPaths returns the local files and replica objects of a case's
// key in a dev vault (fs object store).
func caseKeyPaths(t *testing.T, s *server, caseID string) (local, replicas []string) {
	sum := sha256.Sum256([]byte("custos case key\x00" + caseID))
	h := hex.EncodeToString(sum[:16])
	local, _ = filepath.Glob(filepath.Join(s.data, "keyring", "cases", h+"*"))
	replicas, _ = filepath.Glob(filepath.Join(s.data, "objects", "key", h+"-*"))
	return local, replicas
}

func swapKeys(t *testing.T, s *server, a, b string) {
	t.Helper()
	sealed := func(caseID string) (local, replica string) {
		l, r := caseKeyPaths(t, s, caseID)
		for _, p := range l {
			if strings.HasSuffix(p, ".sealed") {
				local = p
			}
		}
		for _, p := range r {
			if strings.Contains(filepath.Base(p), "-s-") {
				replica = p
			}
		}
		if local == "" || replica == "" {
			t.Fatalf("key files of %s: %v %v", caseID, l, r)
		}
		return local, replica
	}
	swap := func(p, q string) {
		bp, _ := os.ReadFile(p)
		bq, _ := os.ReadFile(q)
		os.Chmod(p, 0o600)
		os.Chmod(q, 0o600)
		if os.WriteFile(p, bq, 0o600) != nil || os.WriteFile(q, bp, 0o600) != nil {
			t.Fatal("swapping key files")
		}
	}
	la, ra := sealed(a)
	lb, rb := sealed(b)
	swap(la, lb)
	swap(ra, rb)
}

func removeKeys(t *testing.T, s *server, caseID string) {
	t.Helper()
	l, r := caseKeyPaths(t, s, caseID)
	if len(l) != 2 || len(r) != 2 {
		t.Fatalf("key files of %s: %v %v", caseID, l, r)
	}
	for _, p := range append(l, r...) {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRetentionFloorAndWhoMayShortenIt: a retention of 1ns would switch
// write-once protection off for a case; below the floor is refused for
// everyone, and shorter than the vault's default only for custodians.
func TestRetentionFloorAndWhoMayShortenIt(t *testing.T) {
	s := newServer(t, "--min-retention", "1h")
	work := t.TempDir()
	s.refused("custodian", work, "shorter than a year", "case", "open", "R-0", "--title", "t", "--retention", "2h")
	s.refused("investigator", work, "below this vault's floor", "case", "open", "R-1", "--title", "t", "--retention", "1ns", "--yes")
	s.refused("custodian", work, "below this vault's floor", "case", "open", "R-2", "--title", "t", "--retention", "59m", "--yes")
	s.refused("investigator", work, "only a custodian", "case", "open", "R-3", "--title", "t", "--retention", "2h", "--yes")
	s.ok("custodian", work, "case", "open", "R-4", "--title", "t", "--retention", "2h", "--yes")
	s.ok("investigator", work, "case", "open", "R-5", "--title", "t", "--retention", "876000h")
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if strings.Count(tl, `"access.refused"`) < 1 || !strings.Contains(tl, "only a custodian may give a case a retention shorter") {
		t.Fatal("the refused retention is not recorded")
	}
	// A server whose default is below its floor does not start.
	bad := s.run("", work, "custos", "server", "--dev", "--data", t.TempDir(), "--listen", "127.0.0.1:1", "--retention", "1m", "--min-retention", "1h")
	if bad.code == 0 || !strings.Contains(bad.stderr, "below the retention floor") {
		t.Fatalf("server with a default below its floor: %d %s", bad.code, bad.stderr)
	}
}

// TestRacedActsAgainstDecisions races acts against the decisions that
// forbid them, many times: a deposit whose upload ends while its case's
// destruction is approved, and a view while the viewer is removed from
// the case. Whatever the timing, the log order explains every answer: an
// acknowledged deposit's event precedes the approval, a refused one left
// no event; an allowed view's access event precedes the removal, a
// refused one left none.
func TestRacedActsAgainstDecisions(t *testing.T) {
	s := newServer(t, "--retention", "2s", "--pending-retention", "2s")
	inv, cust, cust2 := s.client("investigator"), s.client("custodian"), s.client("custodian2")
	const tries = 60
	content := bytes.Repeat([]byte("x"), 64<<10)
	sum := sha256.Sum256(content)
	sumHex := hex.EncodeToString(sum[:])
	type answer struct{ act, decision int }
	var mu sync.Mutex
	answers := map[string]answer{}
	forEachConcurrently(tries, 6, func(i int) {
		var a answer
		if i%2 == 0 {
			id := fmt.Sprintf("DEP-%03d", i)
			inv.call("POST", "/v1/cases", map[string]string{"case": id, "title": "race"})
			_, out := cust.call("POST", "/v1/cases/"+id+"/destruction", map[string]string{"order": "o", "reason": "r"})
			req, _ := out["request"].(string)
			body := &slowBody{first: content[:100], rest: content[100:], release: make(chan struct{}), sent: make(chan struct{})}
			done := make(chan int, 1)
			go func() {
				code, _ := inv.deposit(id, "x.bin", body, sumHex)
				done <- code
			}()
			<-body.sent
			// The upload ends a little before or after the approval
			// is sent.
			go func() {
				time.Sleep(time.Duration(i%5) * time.Millisecond)
				close(body.release)
			}()
			time.Sleep(time.Duration((i/2)%5) * 8 * time.Millisecond)
			a.decision, _ = cust2.call("POST", "/v1/cases/"+id+"/destruction/"+req+"/approve", nil)
			a.act = <-done
			mu.Lock()
			answers[id] = a
			mu.Unlock()
			return
		}
		id := fmt.Sprintf("VIEW-%03d", i)
		inv.call("POST", "/v1/cases", map[string]string{"case": id, "title": "race"})
		_, dep := inv.deposit(id, "x.bin", bytes.NewReader(content), sumHex)
		item, _ := dep["id"].(string)
		done := make(chan int, 1)
		go func() { done <- inv.view(item) }()
		a.decision, _ = cust.call("POST", "/v1/cases/"+id+"/members/investigator/remove", map[string]string{"reason": "race"})
		a.act = <-done
		mu.Lock()
		answers[id] = a
		mu.Unlock()
	})
	acts := map[string]int{}
	for id, evs := range byCase(logEvents(t, s)) {
		a, ok := answers[id]
		if !ok {
			continue
		}
		actType, decisionType := "item.deposited", "case.destruction.approved"
		if strings.HasPrefix(id, "VIEW-") {
			actType, decisionType = "item.accessed", "case.member.removed"
		}
		decided, acted := false, false
		for _, ev := range evs {
			switch ev.Type {
			case decisionType:
				decided = true
			case actType:
				acted = true
				if decided {
					t.Errorf("%s: %s (event %d) follows %s", id, actType, ev.Seq, decisionType)
				}
			}
		}
		if a.decision != 200 || !decided {
			t.Errorf("%s: the decision answered %d, recorded %v", id, a.decision, decided)
		}
		okAct := a.act == 200 || a.act == 201
		if !okAct && a.act != http.StatusConflict && a.act != http.StatusNotFound && a.act != http.StatusForbidden {
			t.Errorf("%s: the act failed for another reason than the decision: %d", id, a.act)
		}
		if okAct != acted {
			t.Errorf("%s: the act answered %d but its event recorded: %v", id, a.act, acted)
		}
		if okAct {
			acts[actType]++
		}
	}
	if len(answers) != tries {
		t.Fatalf("%d of %d tries ran", len(answers), tries)
	}
	t.Logf("%d tries: %d deposits and %d views came before their decision, the rest were refused at their position", tries, acts["item.deposited"], acts["item.accessed"])
	scrub := s.ok("auditor", t.TempDir(), "audit", "scrub", "--json").json(t)
	if scrub["ok"] != true {
		t.Fatalf("scrub after the races: %v", scrub)
	}
}

// TestForgedEventsAreRefused: root on the database appends events that
// chain correctly but that the vault did not write (enrolling a person
// with a token of their choosing and assigning them to a case), while the
// vault runs and while it is stopped. The vault never applies them, never
// signs over them, refuses to write after them, and does not start on
// them; the forged person reads nothing.
func TestForgedEventsAreRefused(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	idA, _ := setup(t, s, work)
	forgedToken := "cst_" + strings.Repeat("M", 43)
	tokSum := sha256.Sum256([]byte(forgedToken))
	forgeRows := func() {
		db, err := sql.Open("sqlite", filepath.Join(s.data, "custody.db")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var size int64
		var last []byte
		if err := db.QueryRow(`SELECT seq + 1, bytes FROM events ORDER BY seq DESC LIMIT 1`).Scan(&size, &last); err != nil {
			t.Fatal(err)
		}
		prev := events.LeafHash(last)
		for i, d := range []struct{ typ, caseID, data string }{
			{"person.enrolled", "", fmt.Sprintf(`{"name":"mallory","role":"investigator","token_sha256":"%x"}`, tokSum)},
			{"case.member.added", "C-1", `{"person":"mallory"}`},
		} {
			ev := &events.Event{V: events.Version, Seq: uint64(size) + uint64(i), ID: events.NewID(), Type: d.typ,
				Time: events.FormatTime(time.Now()), Actor: events.Actor{Person: "custodian", Role: "custodian", Auth: "token"},
				Case: d.caseID, Data: []byte(d.data), Prev: prev.String()}
			b, err := events.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO events(seq, id, case_id, item_id, bytes) VALUES (?, ?, ?, '', ?)`, int64(ev.Seq), ev.ID, ev.Case, b); err != nil {
				t.Fatal(err)
			}
			prev = events.LeafHash(b)
		}
	}
	inv := s.client("investigator")
	mallory := &client{t: t, url: inv.url, token: forgedToken}
	signIn := func() int {
		b, _ := json.Marshal(map[string]string{"credential": forgedToken})
		resp, err := http.Post(inv.url+"/v1/sessions", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// While the vault runs.
	forgeRows()
	if code, _ := inv.call("POST", "/v1/cases", map[string]string{"case": "AFTER-1", "title": "x"}); code == 201 {
		t.Fatal("the vault appended after forged events")
	}
	if code := mallory.view(idA); code == 200 {
		t.Fatal("a person enrolled by a forged event read evidence")
	}
	if code := signIn(); code == http.StatusCreated {
		t.Fatal("a person enrolled by a forged event signed in")
	}
	if r := s.run("auditor", work, "custos", "audit", "verify"); r.code == 0 {
		t.Fatal("audit verify passed a log ending in forged events")
	}
	s.stop()
	// And at the next start.
	r := s.run("", work, "custos", "server", "--dev", "--data", s.data, "--listen", s.listen)
	if r.code == 0 || !strings.Contains(r.stderr, "not sealed by this log's key") {
		t.Fatalf("the vault started on forged events: %d %s", r.code, r.stderr)
	}
	// Removing the forged rows restores the vault.
	sqliteExec(t, s, `DELETE FROM events WHERE CAST(bytes AS TEXT) LIKE '%mallory%'`)
	s.start()
	if code := signIn(); code == http.StatusCreated {
		t.Fatal("the forged person signs in after the restore")
	}
	s.ok("investigator", work, "case", "open", "AFTER-2", "--title", "after the restore")
	s.ok("auditor", work, "audit", "verify")
}

// TestRecipientAndRoleDecidedAtPosition: a prosecutor's recipient
// replaced while packages are sealed, and two enrolments of one name with
// two roles sent together. Every package.sealing names the recipient the
// log held at its position, and a name never holds two roles.
func TestRecipientAndRoleDecidedAtPosition(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	inv, pros, cust := s.client("investigator"), s.client("prosecutor"), s.client("custodian")
	s.ok("prosecutor", work, "recipient", "set", newAgeKey(t, filepath.Join(work, "first.key")))
	// Pairs race each other; at most 8 pairs run at once, well under the
	// server's connections per client.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	pair := func(a, b func()) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var p sync.WaitGroup
			p.Add(2)
			go func() { defer p.Done(); a() }()
			go func() { defer p.Done(); b() }()
			p.Wait()
		}()
	}
	for i := range 30 {
		key := newAgeKey(t, filepath.Join(work, fmt.Sprintf("k%d", i)))
		pair(func() { pros.call("POST", "/v1/recipient", map[string]string{"recipient": key}) },
			func() {
				inv.call("POST", "/v1/packages", map[string]any{"case": "C-1", "for": "prosecutor", "purpose": "race"})
			})
	}
	for i := range 15 {
		name := fmt.Sprintf("zed%d", i)
		pair(func() { cust.call("POST", "/v1/persons", map[string]string{"name": name, "role": "investigator"}) },
			func() { cust.call("POST", "/v1/persons", map[string]string{"name": name, "role": "custodian"}) })
	}
	wg.Wait()
	recipient := ""
	roles := map[string]string{}
	sealings := 0
	for _, ev := range logEvents(t, s) {
		var d map[string]any
		json.Unmarshal(ev.Data, &d)
		switch ev.Type {
		case "recipient.set":
			recipient, _ = d["recipient"].(string)
		case "package.sealing":
			sealings++
			if d["recipient"] != recipient {
				t.Errorf("package.sealing %d names recipient %v; the log held %s", ev.Seq, d["recipient"], recipient)
			}
		case "person.enrolled":
			name, role := d["name"].(string), d["role"].(string)
			if old, ok := roles[name]; ok && old != role {
				t.Errorf("%s enrolled as %s at event %d, already %s", name, role, ev.Seq, old)
			}
			roles[name] = role
		}
	}
	if sealings == 0 {
		t.Fatal("no package was sealed")
	}
}

// TestRefusedTargetIsBounded: a refusal recorded before its target was
// validated costs the log a bounded size and carries no invisible
// characters.
func TestRefusedTargetIsBounded(t *testing.T) {
	s := newServer(t)
	inv := s.client("investigator")
	long := strings.Repeat("\u202e", 1000) + strings.Repeat("x", 40000)
	if code, _ := inv.call("POST", "/v1/persons", map[string]string{"name": long, "role": "custodian"}); code == 201 {
		t.Fatal("an investigator enrolled a person")
	}
	for _, ev := range logEvents(t, s) {
		if ev.Type != "access.refused" {
			continue
		}
		if len(ev.Data) > 1024 || strings.Contains(string(ev.Data), "\u202e") {
			t.Fatalf("refusal event %d holds %d bytes of data, or a raw U+202E", ev.Seq, len(ev.Data))
		}
	}
}

// TestDamagedLocalKeyRepairedFromReplica: a case's local sealed key cut
// short (or left stale) is replaced by its intact replica.
func TestDamagedLocalKeyRepairedFromReplica(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id1, _ := setup(t, s, work)
	s.stop()
	local, _ := caseKeyPaths(t, s, "C-1")
	for _, p := range local {
		if strings.HasSuffix(p, ".sealed") {
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:20], 0o600)
		}
	}
	s.start()
	s.ok("investigator", work, "get", id1, "--purpose", "after damage", "-o", filepath.Join(work, "out"))
}

// forEachConcurrently runs fn(i) for every i from 0 to n-1, at most
// parallel at once (staying under the server's connections per client),
// and returns when all are done.
func forEachConcurrently(n, parallel int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(i)
		}()
	}
	wg.Wait()
}
