package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
	"golang.org/x/mod/sumdb/note"
	_ "modernc.org/sqlite"
)

// A database administrator deletes the newest checkpoint rows (or all of
// them) from the log's store: the checkpoints an auditor is given must
// still end with one covering every event, or an audit would check only
// the events before the newest row left and report them as the whole
// log.
func TestCheckpointsAnswerEndsWithTheVaultsOwn(t *testing.T) {
	for _, deleted := range []string{"the newest rows", "every row"} {
		t.Run(deleted, func(t *testing.T) {
			tv := newTestVault(t, Options{})
			early, db := checkpointedTwice(t, tv, "C-1")
			cut := int64(early)
			if deleted == "every row" {
				cut = -1
			}
			if _, err := db.Exec(`DELETE FROM checkpoints WHERE size > ?`, cut); err != nil {
				t.Fatal(err)
			}
			a := tv.do("aud", "GET", "/v1/log/checkpoints", "", nil)
			if a.code != 200 {
				t.Fatalf("%d %s", a.code, a.body)
			}
			var cr CheckpointsResponse
			if err := json.Unmarshal([]byte(a.body), &cr); err != nil {
				t.Fatal(err)
			}
			if len(cr.Checkpoints) == 0 {
				t.Fatal("no checkpoints served")
			}
			v, err := note.NewVerifier(tv.v.VerifierKey())
			if err != nil {
				t.Fatal(err)
			}
			last, err := events.ParseCheckpoint([]byte(cr.Checkpoints[len(cr.Checkpoints)-1]), tv.v.Origin(), v)
			if err != nil {
				t.Fatalf("the last checkpoint served does not verify: %v", err)
			}
			// The audit's own read is recorded too, after the answer's
			// checkpoint: the log grew by one since.
			if size := tv.v.Log().Size(); last.Size+1 < size || last.Size <= early {
				t.Errorf("the checkpoints answer ends at %d of the log's %d events (rows kept up to %d)", last.Size, size, early)
			}
		})
	}
}

// Once the vault halted its log (an integrity failure of its store),
// every action is refused, a sign-in included, since nothing can be
// recorded: the answer says that the log is halted and what to do, not
// that evidence or an upload failed a check.
func TestHaltedLogIsSaidToBeHalted(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.v.Log().Halt(fmt.Errorf("%w: the custody log's first 40 events do not make the root", vault.ErrIntegrity))
	a := tv.do("inv", "POST", "/v1/cases", "application/json", strings.NewReader(`{"case":"C-1","title":"t"}`))
	if a.code != 503 || !strings.Contains(a.body, "the custody log is halted") || !strings.Contains(a.body, "custos audit verify --store") ||
		strings.Contains(a.body, "upload") {
		t.Fatalf("an action on a halted log: %d %s", a.code, a.body)
	}
	// What still answers (a list records nothing) says the log is
	// halted, on every answer.
	for _, path := range []string{"/v1/cases", "/v1/health"} {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tv.tokens["inv"])
		rec := httptest.NewRecorder()
		tv.h.ServeHTTP(rec, req)
		if w := rec.Header().Get(HeaderLogHalted); !strings.Contains(w, "the custody log is halted") || rec.Code != 200 {
			t.Errorf("GET %s: %d, no %s header (%q)", path, rec.Code, HeaderLogHalted, w)
		}
	}
}

// A vault halted for its state snapshot (a page of the snapshot it
// resumed from failed its check) says that the snapshot is in question,
// not the log, and that a restart is what to do: nothing of the log is
// to be put back from a backup.
func TestSnapshotHaltIsSaidToBeTheSnapshots(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.v.Log().Halt(fmt.Errorf("%w: %w: the state snapshot this start resumed from (state-1.snap): its MAC does not match", vault.ErrSnapshotSuspect, vault.ErrIntegrity))
	a := tv.do("inv", "POST", "/v1/cases", "application/json", strings.NewReader(`{"case":"C-1","title":"t"}`))
	if a.code != 503 || !strings.Contains(a.body, "state snapshot") || !strings.Contains(a.body, "restarted") ||
		strings.Contains(a.body, "put back from a backup") || strings.Contains(a.body, "the events its store holds are not the log's") {
		t.Fatalf("an action on a vault halted for its snapshot: %d %s", a.code, a.body)
	}
	req := httptest.NewRequest("GET", "/v1/health", nil)
	rec := httptest.NewRecorder()
	tv.h.ServeHTTP(rec, req)
	if w := rec.Header().Get(HeaderLogHalted); !strings.Contains(w, "state snapshot") || strings.Contains(w, "not the log's") {
		t.Errorf("GET /v1/health: the %s header does not say the snapshot is suspect (%q)", HeaderLogHalted, w)
	}
}

// Once another server started on the same custody log after this one
// (vault.ErrAnotherServer), the answers say so, and where to go, not
// that the log's store was altered.
func TestLogHaltedByAnotherServerIsSaidSo(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.v.Log().Halt(fmt.Errorf("%w (its server.started is event 12)", vault.ErrAnotherServer))
	a := tv.do("inv", "POST", "/v1/cases", "application/json", strings.NewReader(`{"case":"C-1","title":"t"}`))
	if a.code != 503 || !strings.Contains(a.body, "another server started on this custody log") || strings.Contains(a.body, "audit verify --store") {
		t.Fatalf("an action on a log another server took: %d %s", a.code, a.body)
	}
	req := httptest.NewRequest("GET", "/v1/health", nil)
	rec := httptest.NewRecorder()
	tv.h.ServeHTTP(rec, req)
	if w := rec.Header().Get(HeaderLogHalted); !strings.Contains(w, "another server started") {
		t.Errorf("GET /v1/health: no %s header naming the other server (%q)", HeaderLogHalted, w)
	}
}

// A database administrator copies a newer checkpoint's note over an
// older checkpoint's row, so that the checkpoint published at that size
// is gone from the store: the auditor's read of the checkpoints records
// that the store does not hold what the log published.
func TestCheckpointRowOfAnotherSizeIsRecorded(t *testing.T) {
	tv := newTestVault(t, Options{})
	early, db := checkpointedTwice(t, tv, "C-1")
	if _, err := db.Exec(`UPDATE checkpoints SET note = (SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1) WHERE size = ?`, int64(early)); err != nil {
		t.Fatal(err)
	}
	if a := tv.do("aud", "GET", "/v1/log/checkpoints", "", nil); a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	awaitIntegrityFailed(t, tv, early, fmt.Sprintf("the stored checkpoint row of size %d does not hold the checkpoint of that size", early))
}

// The same with the size column of the newest row left raised (its note
// untouched): the column is not signed, and the answer must still end
// with the vault's own checkpoint of every event.
func TestCheckpointRowSizeColumnDoesNotHideTheVaultsOwn(t *testing.T) {
	tv := newTestVault(t, Options{})
	early, db := checkpointedTwice(t, tv, "C-1", "C-2", "C-3")
	for _, q := range []string{`DELETE FROM checkpoints WHERE size > ?`, `UPDATE checkpoints SET size = 4000000000000000000 WHERE size = ?`} {
		if _, err := db.Exec(q, int64(early)); err != nil {
			t.Fatal(err)
		}
	}
	before := tv.v.Log().Size()
	a := tv.do("aud", "GET", "/v1/log/checkpoints", "", nil)
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	var cr CheckpointsResponse
	if err := json.Unmarshal([]byte(a.body), &cr); err != nil {
		t.Fatal(err)
	}
	v, _ := note.NewVerifier(tv.v.VerifierKey())
	newest := uint64(0)
	for _, s := range cr.Checkpoints {
		if cp, err := events.ParseCheckpoint([]byte(s), tv.v.Origin(), v); err == nil && cp.Size > newest {
			newest = cp.Size
		}
	}
	if newest < before {
		t.Errorf("the newest checkpoint served covers %d of the %d events before the read (rows kept up to %d, its size column raised)", newest, before, early)
	}
	// The raised row, beyond every event, is not passed on as one of the
	// log's, and is recorded.
	if n := len(cr.Checkpoints); n == 0 || cr.Checkpoints[n-1] != cr.Newest {
		t.Errorf("the %d checkpoints served do not end with the newest", n)
	}
	for _, s := range cr.Checkpoints[:len(cr.Checkpoints)-1] {
		if _, size, err := events.PeekCheckpoint([]byte(s)); err != nil || size > early {
			t.Errorf("a stored checkpoint of %d events was served, the rows kept reaching %d (the row raised past the log was passed on)", size, early)
		}
	}
	awaitIntegrityFailed(t, tv, early, "the stored checkpoint row of size 4000000000000000000")
}

// awaitIntegrityFailed waits for an integrity.failed event after position
// from whose bytes hold want.
func awaitIntegrityFailed(t *testing.T, tv *testVault, from uint64, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		found := false
		tv.v.Store().Read(context.Background(), from, func(r events.Record) error {
			if strings.Contains(string(r.Bytes), `"integrity.failed"`) && strings.Contains(string(r.Bytes), want) {
				found = true
			}
			return nil
		})
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no integrity.failed event says %q", want)
		}
	}
}

// checkpointedTwice gives a vault a checkpoint, then opens the cases
// named and takes another: it returns the first checkpoint's size and
// the log's SQLite file, opened as a database administrator would.
func checkpointedTwice(t *testing.T, tv *testVault, cases ...string) (early uint64, db *sql.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := tv.v.Log().Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	early = tv.v.Log().Size()
	for _, c := range cases {
		if a := tv.do("inv", "POST", "/v1/cases", "application/json", strings.NewReader(`{"case":"`+c+`","title":"t"}`)); a.code >= 300 {
			t.Fatalf("open case: %d %s", a.code, a.body)
		}
	}
	if _, err := tv.v.Log().Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tv.dir, "custody.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return early, db
}

// TestCheckpointsAnswerNamesEachMemberOnce: the answer, written as the
// store is read, names each member once (a name twice is undefined in
// JSON, RFC 8259 section 4, and refused by strict readers), newest first
// and the list last, every member one CheckpointsResponse declares.
func TestCheckpointsAnswerNamesEachMemberOnce(t *testing.T) {
	tv := newTestVault(t, Options{})
	checkpointedTwice(t, tv, "C-1")
	a := tv.do("aud", "GET", "/v1/log/checkpoints", "", nil)
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	declared := map[string]bool{}
	rt := reflect.TypeOf(CheckpointsResponse{})
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		declared[name] = true
	}
	dec := json.NewDecoder(strings.NewReader(a.body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("the answer begins with %v %v", tok, err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		if slices.Contains(names, name) || !declared[name] {
			t.Fatalf("member %q named twice or not declared: %s", name, a.body)
		}
		names = append(names, name)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	if len(names) < 2 || names[0] != "newest" || names[len(names)-1] != "checkpoints" {
		t.Fatalf("members %v: want newest first and the list last", names)
	}
}
