package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sqlite"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
)

// testVault is a vault on the embedded backends behind the real handler,
// served on loopback, with one person per role.
type testVault struct {
	t      *testing.T
	dir    string
	v      *vault.Vault
	h      *Handler
	srv    *httptest.Server
	tokens map[string]string // session tokens
	creds  map[string]string // local credentials
	// storeGone skips the custody rules' read of the log at the end, for
	// a test that took the log's file from under the store.
	storeGone bool
}

func newTestVault(t *testing.T, opts Options, configure ...func(*vault.Config)) *testVault {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.New(ctx, sqlite.Config{Path: filepath.Join(dir, "custody.db")})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := fs.New(ctx, fs.Config{Dir: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := soft.New(ctx, soft.Config{Dir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := age.GenerateX25519Identity()
	cfg := vault.Config{Log: st, Objects: objs, Sealer: sealer, KeyringDir: filepath.Join(dir, "keyring"),
		SpoolDir: filepath.Join(dir, "spool"), TileDir: filepath.Join(dir, "tiles"),
		RecoveryRecipient: rec.Recipient().String(), Logger: slog.New(slog.DiscardHandler)}
	for _, c := range configure {
		c(&cfg)
	}
	v, err := vault.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tv := &testVault{t: t, dir: dir, v: v, tokens: map[string]string{}, creds: map[string]string{}}
	for _, p := range []struct{ name, role string }{
		{"inv", vault.RoleInvestigator}, {"inv2", vault.RoleInvestigator}, {"pros", vault.RoleProsecutor},
		{"pros2", vault.RoleProsecutor}, {"aud", vault.RoleAuditor}, {"cust", vault.RoleCustodian},
	} {
		tok, err := v.Enroll(ctx, p.name, p.role)
		if err != nil {
			t.Fatal(err)
		}
		s, err := v.OpenSession(ctx, tok.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		tv.tokens[p.name] = s.Token.Reveal()
		tv.creds[p.name] = tok.Reveal()
	}
	tv.h = New(v, slog.New(slog.DiscardHandler), opts)
	tv.srv = httptest.NewServer(tv.h)
	t.Cleanup(func() {
		tv.srv.Close()
		tv.h.Close()
		v.Close()
		if !tv.storeGone {
			checkRulesHold(t, st)
		}
		st.Close()
	})
	return tv
}

// checkRulesHold reads the test vault's whole log through the custody
// rules, as an audit does: whatever the test did through the API, signed
// in as people are, the rules must allow. The server's own enrolments
// are not read: tests enrol people by the vault's method whenever they
// need them, which a server does only for --dev and admin enroll.
func checkRulesHold(t *testing.T, st *sqlite.Store) {
	t.Helper()
	if t.Failed() {
		return
	}
	var r vault.CustodyRules
	err := st.Read(context.Background(), 0, func(rec events.Record) error {
		ev, err := events.Decode(rec.Bytes)
		if err != nil {
			return err
		}
		if err := r.Check(ev); err != nil && !(ev.Type == vault.TypePersonEnrolled && ev.Actor.Role == vault.RoleSystem) {
			t.Errorf("the custody rules refuse what the vault recorded: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("reading the log for the custody rules: %v", err)
	}
}

type answer struct {
	code   int
	header http.Header
	body   string
}

// do sends one request as person ("" for none) and reads the answer.
func (tv *testVault) do(person, method, path, ctype string, body io.Reader) answer {
	tv.t.Helper()
	req, err := http.NewRequest(method, tv.srv.URL+path, body)
	if err != nil {
		tv.t.Fatal(err)
	}
	if person != "" {
		req.Header.Set("Authorization", "Bearer "+tv.tokens[person])
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := tv.srv.Client().Do(req)
	if err != nil {
		tv.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (tv *testVault) postJSON(person, path, body string) answer {
	tv.t.Helper()
	return tv.do(person, "POST", path, "application/json", strings.NewReader(body))
}

// deposit uploads content as person, with the trailer the CLI sends.
func (tv *testVault) deposit(person, caseID, name string, content []byte) answer {
	tv.t.Helper()
	sum := sha256.Sum256(content)
	req, _ := http.NewRequest("POST", tv.srv.URL+"/v1/cases/"+caseID+"/items?name="+name, io.NopCloser(bytes.NewReader(content)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+tv.tokens[person])
	req.Trailer = http.Header{HeaderContentSHA256: {hex.EncodeToString(sum[:])}}
	resp, err := tv.srv.Client().Do(req)
	if err != nil {
		tv.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// events returns every stored event of the given type.
func (tv *testVault) events(typ string) []*events.Event {
	tv.t.Helper()
	var out []*events.Event
	err := tv.v.Store().Read(context.Background(), 0, func(rec events.Record) error {
		ev, err := events.Decode(rec.Bytes)
		if err != nil {
			return err
		}
		if ev.Type == typ {
			out = append(out, ev)
		}
		return nil
	})
	if err != nil {
		tv.t.Fatal(err)
	}
	return out
}

func refusalData(t *testing.T, ev *events.Event) vault.AccessRefused {
	t.Helper()
	var d vault.AccessRefused
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// setupCase opens case C-1 with inv as member, deposits one item and seals
// a package of it for pros; it returns the item and package ids.
func (tv *testVault) setupCase() (item, pkg string) {
	tv.t.Helper()
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"C-1","title":"first"}`); a.code != 201 {
		tv.t.Fatalf("open case: %d %s", a.code, a.body)
	}
	a := tv.deposit("inv", "C-1", "a.bin", []byte("evidence bytes"))
	if a.code != 201 {
		tv.t.Fatalf("deposit: %d %s", a.code, a.body)
	}
	var dep struct{ ID string }
	json.Unmarshal([]byte(a.body), &dep)
	id, _ := age.GenerateX25519Identity()
	if a := tv.postJSON("pros", "/v1/recipient", `{"recipient":"`+id.Recipient().String()+`"}`); a.code != 200 {
		tv.t.Fatalf("recipient: %d %s", a.code, a.body)
	}
	a = tv.postJSON("inv", "/v1/packages", `{"case":"C-1","for":"pros","purpose":"trial"}`)
	if a.code != 201 {
		tv.t.Fatalf("seal: %d %s", a.code, a.body)
	}
	var p struct{ Package string }
	json.Unmarshal([]byte(a.body), &p)
	if dep.ID == "" || p.Package == "" {
		tv.t.Fatalf("no ids: %q %q", dep.ID, p.Package)
	}
	return dep.ID, p.Package
}

// TestUnauthenticatedFloodCostsBoundedLog sends a burst of requests without
// valid credentials: the log grows by O(1) events, the first at once and
// one summary (at Close) whose count is the rest. A second action from the
// same address is aggregated apart.
func TestUnauthenticatedFloodCostsBoundedLog(t *testing.T) {
	tv := newTestVault(t, Options{UnauthRate: 1e6, UnauthBurst: 1e6, RefusalWindow: time.Hour})
	const n = 300
	for i := range n {
		path := "/v1/items/it_000000000000000000000000"
		if i%3 == 0 {
			path = "/v1/log/events"
		}
		if a := tv.do("", "GET", path, "", nil); a.code != http.StatusUnauthorized {
			t.Fatalf("request %d: %d %s", i, a.code, a.body)
		}
	}
	if got := len(tv.events(vault.TypeAccessRefused)); got != 2 {
		t.Fatalf("%d refusals recorded during the window, want 2 (the first of each action)", got)
	}
	tv.h.Close()
	evs := tv.events(vault.TypeAccessRefused)
	if len(evs) != 4 {
		t.Fatalf("%d refusal events after the window, want 4", len(evs))
	}
	var total int64
	for _, ev := range evs {
		d := refusalData(t, ev)
		if ev.Actor.Auth != "none" || d.Source != "127.0.0.1" || d.Reason != "no valid credentials" || d.Grounds != vault.GroundsCredentials {
			t.Errorf("refusal %+v by %+v", d, ev.Actor)
		}
		total += max(d.Count, 1)
		if d.Count > 0 && (d.First == "" || d.Last == "" || d.Last < d.First) {
			t.Errorf("summary without its times: %+v", d)
		}
	}
	if total != n {
		t.Fatalf("the events account for %d refusals, want %d", total, n)
	}
}

// TestRefusalWindowEnds checks that a summary is written when its window
// ends, without waiting for Close, and that the next refusal after it is
// recorded at once again.
func TestRefusalWindowEnds(t *testing.T) {
	tv := newTestVault(t, Options{UnauthRate: 1e6, UnauthBurst: 1e6, RefusalWindow: 200 * time.Millisecond})
	for range 10 {
		tv.do("", "POST", "/v1/cases", "application/json", strings.NewReader(`{}`))
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(tv.events(vault.TypeAccessRefused)) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	evs := tv.events(vault.TypeAccessRefused)
	if len(evs) != 2 || refusalData(t, evs[1]).Count != 9 {
		t.Fatalf("want the first refusal and a summary of 9, got %d events", len(evs))
	}
	tv.do("", "POST", "/v1/cases", "application/json", strings.NewReader(`{}`))
	if got := len(tv.events(vault.TypeAccessRefused)); got != 3 {
		t.Fatalf("the first refusal of a new window was not recorded at once (%d events)", got)
	}
}

// TestUnauthenticatedRateLimit: beyond the burst, 429 with Retry-After,
// and the limited requests are recorded in aggregate too.
func TestUnauthenticatedRateLimit(t *testing.T) {
	tv := newTestVault(t, Options{UnauthRate: 0.5, UnauthBurst: 5, RefusalWindow: time.Hour})
	codes := map[int]int{}
	for range 50 {
		a := tv.do("", "GET", "/v1/log/key", "", nil)
		codes[a.code]++
		if a.code == http.StatusTooManyRequests && a.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[401] != 5 || codes[429] != 45 {
		t.Fatalf("answers %v, want 5 x 401 then 45 x 429", codes)
	}
	// A valid person is not limited.
	if a := tv.do("aud", "GET", "/v1/log/key", "", nil); a.code != 200 {
		t.Fatalf("an authenticated request was limited: %d", a.code)
	}
	tv.h.Close()
	var total int64
	for _, ev := range tv.events(vault.TypeAccessRefused) {
		total += max(refusalData(t, ev).Count, 1)
	}
	if total != 50 {
		t.Fatalf("events account for %d refusals, want 50", total)
	}
}

func TestRateLimiterTableIsBounded(t *testing.T) {
	l := newRateLimiter(1, 1, 100)
	now := time.Now()
	for i := range 10000 {
		l.allow(net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String(), now)
	}
	if len(l.buckets) > 101 {
		t.Fatalf("%d buckets for a limit of 100", len(l.buckets))
	}
	if _, ok := l.allow("10.9.9.9", now); ok {
		t.Fatal("a new address past the table's limit was not limited with the overflow bucket")
	}
}

// TestUnknownRoutesAndMethodsRecorded: an unknown path is 404, a known
// path with another method 405 with Allow; both are recorded.
func TestUnknownRoutesAndMethodsRecorded(t *testing.T) {
	tv := newTestVault(t, Options{RefusalWindow: time.Hour})
	if a := tv.do("inv", "GET", "/v1/nothing-here", "", nil); a.code != 404 || !strings.Contains(a.body, "no such route") {
		t.Fatalf("unknown route: %d %s", a.code, a.body)
	}
	a := tv.do("", "DELETE", "/v1/items/it_000000000000000000000000", "", nil)
	if a.code != 405 || a.header.Get("Allow") != "GET" {
		t.Fatalf("unknown method: %d Allow %q %s", a.code, a.header.Get("Allow"), a.body)
	}
	if a := tv.do("cust", "PUT", "/v1/cases", "", nil); a.code != 405 || a.header.Get("Allow") != "GET, POST" {
		t.Fatalf("unknown method on a POST route: %d Allow %q", a.code, a.header.Get("Allow"))
	}
	evs := tv.events(vault.TypeAccessRefused)
	if len(evs) != 3 {
		t.Fatalf("%d refusals recorded, want 3", len(evs))
	}
	if d := refusalData(t, evs[0]); d.Action != "route.unknown" || evs[0].Actor.Person != "inv" || d.Target != "GET /v1/nothing-here" {
		t.Errorf("unknown route recorded as %+v by %+v", d, evs[0].Actor)
	}
	if d := refusalData(t, evs[1]); d.Action != "route.method" || evs[1].Actor.Auth != "none" {
		t.Errorf("unknown method recorded as %+v by %+v", d, evs[1].Actor)
	}
}

// TestHeadRevealsNothing: HEAD on a reveal route (an item, a package)
// records no access or retrieval, and sends nothing: it is refused (405).
func TestHeadRevealsNothing(t *testing.T) {
	tv := newTestVault(t, Options{})
	item, pkg := tv.setupCase()
	before := len(tv.events(vault.TypeItemAccessed)) + len(tv.events(vault.TypeItemAccessCompleted)) + len(tv.events(vault.TypePackageFetched))
	if a := tv.do("inv", "HEAD", "/v1/items/"+item+"?purpose=check", "", nil); a.code != 405 || a.header.Get(HeaderAccessEvent) != "" {
		t.Fatalf("HEAD item: %d, access event %q", a.code, a.header.Get(HeaderAccessEvent))
	}
	if a := tv.do("pros", "HEAD", "/v1/packages/"+pkg, "", nil); a.code != 405 {
		t.Fatalf("HEAD package: %d", a.code)
	}
	after := len(tv.events(vault.TypeItemAccessed)) + len(tv.events(vault.TypeItemAccessCompleted)) + len(tv.events(vault.TypePackageFetched))
	if after != before {
		t.Fatalf("HEAD recorded %d reveal events", after-before)
	}
	if a := tv.do("", "HEAD", "/v1/health", "", nil); a.code != 200 {
		t.Fatalf("HEAD /v1/health: %d", a.code)
	}
	// GET still reveals, and records it.
	if a := tv.do("inv", "GET", "/v1/items/"+item+"?purpose=check", "", nil); a.code != 200 || a.body != "evidence bytes" {
		t.Fatalf("GET item: %d", a.code)
	}
	// The completion is recorded once the connection took the whole
	// answer, so a moment after the client may have read it.
	n := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n = len(tv.events(vault.TypeItemAccessCompleted)); n != 0 {
			break
		}
	}
	if n != 1 {
		t.Fatalf("%d completed accesses after one GET", n)
	}
}

// TestUnseenAnsweredAlike: a person who may not see a case, item or
// package gets the same answer whether it exists or not, and both are
// recorded.
func TestUnseenAnsweredAlike(t *testing.T) {
	tv := newTestVault(t, Options{})
	item, pkg := tv.setupCase()
	missingItem, missingPkg := "it_000000000000000000000000", "pk_000000000000000000000000"
	norm := strings.NewReplacer(item, "ID", missingItem, "ID", pkg, "ID", missingPkg, "ID", "C-1", "ID", "C-9", "ID")
	same := func(what string, a, b answer) {
		t.Helper()
		if a.code != 404 || b.code != 404 || norm.Replace(a.body) != norm.Replace(b.body) {
			t.Errorf("%s: existing %d %s, missing %d %s", what, a.code, a.body, b.code, b.body)
		}
	}
	n0 := len(tv.events(vault.TypeAccessRefused))
	same("item, another investigator", tv.do("inv2", "GET", "/v1/items/"+item+"?purpose=x", "", nil), tv.do("inv2", "GET", "/v1/items/"+missingItem+"?purpose=x", "", nil))
	same("item, an auditor", tv.do("aud", "GET", "/v1/items/"+item+"?purpose=x", "", nil), tv.do("aud", "GET", "/v1/items/"+missingItem+"?purpose=x", "", nil))
	same("package, another prosecutor", tv.do("pros2", "GET", "/v1/packages/"+pkg, "", nil), tv.do("pros2", "GET", "/v1/packages/"+missingPkg, "", nil))
	same("deposit, another investigator", tv.deposit("inv2", "C-1", "x", []byte("x")), tv.deposit("inv2", "C-9", "x", []byte("x")))
	same("seal, another investigator",
		tv.postJSON("inv2", "/v1/packages", `{"case":"C-1","for":"pros","purpose":"p"}`),
		tv.postJSON("inv2", "/v1/packages", `{"case":"C-9","for":"pros","purpose":"p"}`))
	same("deposit, a prosecutor", tv.deposit("pros", "C-1", "x", []byte("x")), tv.deposit("pros", "C-9", "x", []byte("x")))
	if n := len(tv.events(vault.TypeAccessRefused)) - n0; n != 12 {
		t.Fatalf("%d refusals recorded for 12 refused requests", n)
	}
}

// TestCustodianNotFoundRecorded: a refusal the vault itself did not
// record (a custodian naming a case that does not exist) is recorded by
// the API: on membership, hold and destruction routes alike.
func TestCustodianNotFoundRecorded(t *testing.T) {
	tv := newTestVault(t, Options{})
	for _, c := range []struct{ path, body string }{
		{"/v1/cases/NOPE/members", `{"person":"inv"}`},
		{"/v1/cases/NOPE/hold", `{"on":true,"reason":"order 1"}`},
		{"/v1/cases/NOPE/destruction", `{"order":"o-1","reason":"r"}`},
		{"/v1/cases/NOPE/destruction/dr_1/approve", ``},
	} {
		n0 := len(tv.events(vault.TypeAccessRefused))
		a := tv.postJSON("cust", c.path, c.body)
		if a.code != 404 {
			t.Errorf("%s: %d %s", c.path, a.code, a.body)
			continue
		}
		evs := tv.events(vault.TypeAccessRefused)
		if len(evs) != n0+1 {
			t.Errorf("%s: a 404 was not recorded", c.path)
			continue
		}
		if d := refusalData(t, evs[n0]); evs[n0].Actor.Person != "cust" || !strings.Contains(d.Target, "NOPE") {
			t.Errorf("%s: recorded %+v", c.path, d)
		}
	}
}

// TestStrictJSON: duplicate keys, keys differing only in case, unknown
// keys and bodies that are not JSON are refused on every JSON route, and
// change nothing.
func TestStrictJSON(t *testing.T) {
	tv := newTestVault(t, Options{})
	for _, c := range []struct {
		ctype, body string
		code        int
		want        string
	}{
		{"application/json", `{"case":"A","case":"B","title":"t"}`, 400, "duplicate key"},
		{"application/json", `{"Case":"B","title":"t"}`, 400, "case-sensitive"},
		{"application/json", `{"case":"B","TITLE":"t"}`, 400, "case-sensitive"},
		{"application/json", `{"case":"B","title":"t","x":{"a":1,"a":2}}`, 400, "unknown key"},
		{"application/json", `["case","B"]`, 400, "one JSON object"},
		{"application/json", "{\"case\":\"B\",\"title\":\"t\xff\"}", 400, "UTF-8"},
		{"application/json", `{"case":"B","title":"t\ud800"}`, 400, "surrogate"},
		{"text/plain", `{"case":"B","title":"t"}`, 415, "application/json"},
		{"", `{"case":"B","title":"t"}`, 415, "application/json"},
		{"application/json; charset=latin1", `{"case":"B","title":"t"}`, 415, "utf-8"},
	} {
		a := tv.do("inv", "POST", "/v1/cases", c.ctype, strings.NewReader(c.body))
		if a.code != c.code || !strings.Contains(a.body, c.want) {
			t.Errorf("%q %s: %d %s, want %d %q", c.ctype, c.body, a.code, a.body, c.code, c.want)
		}
	}
	if evs := tv.events(vault.TypeCaseOpened); len(evs) != 0 {
		t.Fatalf("a refused body opened a case: %s", evs[0].Case)
	}
	// Another route, another member of the class.
	a := tv.postJSON("pros", "/v1/recipient", `{"recipient":"x","recipient":"age1zz"}`)
	if a.code != 400 || !strings.Contains(a.body, "duplicate key") {
		t.Fatalf("recipient with duplicate keys: %d %s", a.code, a.body)
	}
	a = tv.postJSON("inv", "/v1/packages", `{"case":"C","for":"pros","purpose":"p","items":["a"],"Items":["b"]}`)
	if a.code != 400 || !strings.Contains(a.body, "case-sensitive") {
		t.Fatalf("package with a case-variant key: %d %s", a.code, a.body)
	}
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"OK-1","title":"fine"}`); a.code != 201 {
		t.Fatalf("a well-formed body was refused: %d %s", a.code, a.body)
	}
}

var absPath = regexp.MustCompile(`(^|[\s"'(:=])/[A-Za-z0-9._-]+/`)

// TestErrorsNameNoLocalPath: integrity failures (422) and internal
// errors (500) answer a generic message with a reference, never the
// local path that the underlying error names.
func TestErrorsNameNoLocalPath(t *testing.T) {
	tv := newTestVault(t, Options{})
	item, _ := tv.setupCase()
	// 422: the evidence object is gone (the store's error names its file).
	objs, _ := filepath.Glob(filepath.Join(tv.dir, "objects", "ev", "*"))
	if len(objs) == 0 {
		t.Fatal("no evidence objects")
	}
	for _, o := range objs {
		os.Remove(o)
	}
	a := tv.do("inv", "GET", "/v1/items/"+item+"?purpose=check", "", nil)
	if a.code != 422 || absPath.MatchString(a.body) || strings.Contains(a.body, tv.dir) || !strings.Contains(a.body, "reference") {
		t.Fatalf("422 answer: %d %s", a.code, a.body)
	}
	// It says the failure is recorded only because it is.
	if failed := tv.events(vault.TypeIntegrityFailed); len(failed) == 0 || !strings.Contains(a.body, "recorded in the custody log") {
		t.Fatalf("422 answer after %d integrity.failed: %s", len(failed), a.body)
	}
	// 500: the spool folder is not writable, so sealing cannot stage.
	spool := filepath.Join(tv.dir, "spool")
	os.RemoveAll(spool)
	os.WriteFile(spool, nil, 0o600)
	a = tv.postJSON("inv", "/v1/packages", `{"case":"C-1","for":"pros","purpose":"again"}`)
	if a.code < 500 && a.code != 422 || absPath.MatchString(a.body) || strings.Contains(a.body, tv.dir) {
		t.Fatalf("failed seal answer: %d %s", a.code, a.body)
	}
	// Every status the mapping hides, directly.
	for _, err := range []error{
		&os.PathError{Op: "open", Path: "/var/lib/custos/keyring/x.sealed", Err: os.ErrNotExist},
		fmtErr(vault.ErrIntegrity, "/var/lib/custos/objects/ev/1"),
		fmtErr(vault.ErrUnavailable, "/var/lib/custos/custody.db"),
	} {
		rec := httptest.NewRecorder()
		tv.h.fail(rec, httptest.NewRequest("GET", "/v1/x", nil), err)
		if absPath.MatchString(rec.Body.String()) || !strings.Contains(rec.Body.String(), "reference") {
			t.Errorf("%d answer carries the detail: %s", rec.Code, rec.Body)
		}
	}
}

func fmtErr(kind error, path string) error {
	return &wrapped{kind: kind, msg: kind.Error() + ": open " + path + ": permission denied"}
}

type wrapped struct {
	kind error
	msg  string
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.kind }

// TestAnswersEscapeUserText: an error that echoes what the client sent
// shows it in ASCII escapes, never as raw separators or invisibles.
func TestAnswersEscapeUserText(t *testing.T) {
	tv := newTestVault(t, Options{})
	for _, body := range []string{
		`{"case":"C-1\u2028x","title":"t"}`,
		`{"case":"C-1","title":"t","retention":"1y\u3164\u2029"}`,
	} {
		a := tv.postJSON("inv", "/v1/cases", body)
		var e struct{ Error string }
		json.Unmarshal([]byte(a.body), &e)
		if a.code != 400 || e.Error == "" || strings.ContainsAny(e.Error, "\u2028\u2029\u3164") {
			t.Errorf("%s: %d %q", body, a.code, e.Error)
		}
	}
	if s := sanitize("a\u2028b\u3164c\x1b[31m\xffd"); s != `a\u2028b\u3164c\x1b[31m\xffd` {
		t.Errorf("sanitize: %q", s)
	}
}

// TestStalledUploadIsCut: a deposit whose body stops arriving is cut
// after the window and leaves no object and no deposit event; a normal
// deposit on the same server still succeeds.
func TestStalledUploadIsCut(t *testing.T) {
	tv := newTestVault(t, Options{MinUploadRate: 1000, UploadWindow: 300 * time.Millisecond})
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"S-1","title":"slow"}`); a.code != 201 {
		t.Fatal(a.body)
	}
	c, err := net.Dial("tcp", tv.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v1/cases/S-1/items?name=slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tv.tokens["inv"]+
		"\r\nTransfer-Encoding: chunked\r\nTrailer: "+HeaderContentSHA256+"\r\n\r\n")
	start := time.Now()
	done := make(chan struct{})
	var answer string
	go func() {
		b, _ := io.ReadAll(io.LimitReader(c, 4096))
		answer = string(b)
		close(done)
	}()
	// One byte every 100ms: 10 bytes/s, far under 1000.
	for i := 0; i < 50; i++ {
		if _, err := io.WriteString(c, "1\r\nx\r\n"); err != nil {
			break
		}
		select {
		case <-done:
			i = 50
		case <-time.After(100 * time.Millisecond):
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled deposit was never cut")
	}
	if d := time.Since(start); d > 3*time.Second || !strings.Contains(answer, "stalled") {
		t.Fatalf("cut after %s with %q", d, answer)
	}
	if n := len(tv.events(vault.TypeItemDeposited)); n != 0 {
		t.Fatalf("the stalled deposit was recorded (%d deposits)", n)
	}
	objs, _ := filepath.Glob(filepath.Join(tv.dir, "objects", "ev", "*"))
	for _, o := range objs {
		if !strings.HasSuffix(o, ".lock") {
			t.Fatalf("the stalled deposit left an object: %s", o)
		}
	}
	if a := tv.deposit("inv", "S-1", "fast.bin", bytes.Repeat([]byte("y"), 100_000)); a.code != 201 {
		t.Fatalf("a normal deposit failed: %d %s", a.code, a.body)
	}
}

// TestConnectionsPerClientLimited: past the limit, a client's further
// connections are closed at once; closing one frees its slot.
func TestConnectionsPerClientLimited(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitListener(raw, 3)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	closedAtOnce := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF
	}
	for i := range 5 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if got := closedAtOnce(c); got != (i >= 3) {
			t.Fatalf("connection %d closed at once: %v", i, got)
		}
	}
	conns[0].Close()
	time.Sleep(100 * time.Millisecond)
	c, _ := net.Dial("tcp", raw.Addr().String())
	conns = append(conns, c)
	if closedAtOnce(c) {
		t.Fatal("a freed slot was not reusable")
	}
}

// TestStalledReaderIsCut: a client that asks for an item and stops
// reading does not hold the connection: the write stalls, the server cuts
// it, and the access is recorded as aborted, not completed.
func TestStalledReaderIsCut(t *testing.T) {
	tv := newTestVault(t, Options{WriteStall: 300 * time.Millisecond})
	if a := tv.postJSON("inv", "/v1/cases", `{"case":"R-1","title":"reader"}`); a.code != 201 {
		t.Fatal(a.body)
	}
	a := tv.deposit("inv", "R-1", "big.bin", bytes.Repeat([]byte("z"), 32<<20))
	if a.code != 201 {
		t.Fatalf("deposit: %d %s", a.code, a.body)
	}
	var dep struct{ ID string }
	json.Unmarshal([]byte(a.body), &dep)
	c, err := net.Dial("tcp", tv.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(c, "GET /v1/items/"+dep.ID+"?purpose=stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tv.tokens["inv"]+"\r\n\r\n")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if evs := tv.events(vault.TypeItemAccessCompleted); len(evs) == 1 {
			if !strings.Contains(string(evs[0].Data), "aborted") {
				t.Fatalf("a stalled reader's access was recorded as completed: %s", evs[0].Data)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("a client that stopped reading held the connection for 20 s")
}

// TestSlowSignInBodyIsCut: the minimum rate holds before anyone is
// signed in too: an anonymous POST /v1/sessions whose body trickles is
// cut, not held open.
func TestSlowSignInBodyIsCut(t *testing.T) {
	tv := newTestVault(t, Options{MinUploadRate: 1000, UploadWindow: 300 * time.Millisecond})
	c, err := net.Dial("tcp", tv.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{\"credential\":\"cst_")
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(c, 4096))
		done <- string(b)
	}()
	start := time.Now()
	for i := 0; i < 50; i++ {
		select {
		case answer := <-done:
			if d := time.Since(start); d > 3*time.Second || !strings.Contains(answer, "stalled") {
				t.Fatalf("cut after %s with %q", d, answer)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		io.WriteString(c, "a")
	}
	t.Fatalf("an anonymous sign-in body trickling 10 bytes/s was held for %s", time.Since(start).Round(time.Millisecond))
}

// flushFailingWriter takes every write into its buffer and fails every
// flush: the connection never took the end of the answer.
type flushFailingWriter struct{ *httptest.ResponseRecorder }

func (flushFailingWriter) FlushError() error { return errors.New("connection reset by peer") }

// TestDownloadsAreCompletedOnlyOnceFlushed: a package or a view whose end
// is still in the server's buffers when the connection fails is recorded
// as ended early, never as sent in full with its SHA-256.
func TestDownloadsAreCompletedOnlyOnceFlushed(t *testing.T) {
	tv := newTestVault(t, Options{})
	item, pkg := tv.setupCase()
	serve := func(person, path string) {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tv.tokens[person])
		w := flushFailingWriter{httptest.NewRecorder()}
		func() {
			defer func() {
				if r := recover(); r != http.ErrAbortHandler {
					t.Fatalf("%s with a failing flush: %v, want the connection cut", path, r)
				}
			}()
			tv.h.ServeHTTP(w, req)
		}()
	}
	serve("pros", "/v1/packages/"+pkg)
	done := tv.events(vault.TypePackageFetchDone)
	var d vault.PackageFetchDone
	if len(done) != 1 || done[0].DecodeData(&d) != nil || d.SHA256 != "" || d.Aborted == "" {
		t.Fatalf("a package download whose flush failed is recorded as %+v", d)
	}
	serve("inv", "/v1/items/"+item+"?purpose=check")
	views := tv.events(vault.TypeItemAccessCompleted)
	var c vault.ItemAccessCompleted
	if len(views) != 1 || views[0].DecodeData(&c) != nil || c.SHA256 != "" || c.Aborted == "" {
		t.Fatalf("a view whose flush failed is recorded as %+v", c)
	}
}
