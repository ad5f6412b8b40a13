package e2e

// audit verify reads the log in one records stream (GET /v1/log/records,
// events/logstream). An insider between the store and the auditor may
// edit the unsigned lookup values into anything, or cut the stream; an
// older vault lacks the route.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/logstream"
)

// auditProxy is a reverse proxy in front of s that records the paths
// requested and passes each answer through change (nil: unchanged). It
// stands for the network between the auditor and the vault.
type auditProxy struct {
	mu    sync.Mutex
	paths []string
	url   string
}

func newAuditProxy(t *testing.T, s *server, change func(w http.ResponseWriter, r *http.Request, next http.Handler) bool) *auditProxy {
	t.Helper()
	base, _ := s.credential("auditor")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &auditProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.paths = append(p.paths, r.URL.Path)
		p.mu.Unlock()
		if change != nil && change(w, r, rp) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	p.url = ts.URL
	s.runEnv = append(s.runEnv, "CUSTOS_SERVER="+ts.URL)
	t.Cleanup(func() { s.runEnv = nil })
	return p
}

func (p *auditProxy) asked(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.paths {
		if q == path {
			return true
		}
	}
	return false
}

// TestAuditVerifyReadsTheLogOnce: one records stream, not the two line
// streams, and the same verdict.
func TestAuditVerifyReadsTheLogOnce(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	p := newAuditProxy(t, s, nil)
	out := s.ok("auditor", work, "audit", "verify", "--json").json(t)
	if out["ok"] != true {
		t.Fatalf("audit verify: %v", out)
	}
	if !p.asked("/v1/log/records") || p.asked("/v1/log/events") || p.asked("/v1/log/lookups") {
		t.Fatalf("audit verify asked for %v", p.paths)
	}
}

// recordedExports appends n events to s's log (an investigator's recorded
// hash-list exports of case C-1, a few at a time).
func recordedExports(t *testing.T, s *server, n int) {
	t.Helper()
	base, _ := s.credential("investigator")
	token := s.session("investigator")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				req, _ := http.NewRequest("GET", base+"/v1/cases/C-1/hashes?format=sha256sum", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("hash-list export: HTTP %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestAuditVerifyOfAVaultInUse: events appended between the checkpoint
// an audit starts from and its read of the log are left for the next
// audit, not taken for events no checkpoint covers; on either way of
// reading the log.
func TestAuditVerifyOfAVaultInUse(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	for _, older := range []bool{false, true} {
		// Whoever reads the log, the vault appends three events first.
		inUse := func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			switch r.URL.Path {
			case "/v1/log/records":
				if older {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusNotFound)
					io.WriteString(w, `{"error":"not found: no such route"}`)
					return true
				}
				recordedExports(t, s, 3)
			case "/v1/log/events":
				recordedExports(t, s, 3)
			}
			return false
		}
		newAuditProxy(t, s, inUse)
		out := s.ok("auditor", work, "audit", "verify", "--json").json(t)
		s.runEnv = nil
		if out["ok"] != true {
			t.Fatalf("older %v: %v", older, out)
		}
		// What the audit covered is less than the log holds now.
		if n := len(logEvents(t, s)); int(out["events"].(float64)) >= n {
			t.Fatalf("older %v: the audit covered %v events of a log of %d", older, out["events"], n)
		}
	}
}

// TestAuditVerifyReadsAnOlderVault: a vault without the records stream
// is read from its two line streams: a log whose lookup values fill more
// than a read buffer checks out, and edited lookup values are found.
func TestAuditVerifyReadsAnOlderVault(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	idA, _ := setup(t, s, work)
	// About 100 bytes of lookup values an event: more than the 64 KiB the
	// line check reads ahead.
	recordedExports(t, s, 1200)
	older := func(w http.ResponseWriter, r *http.Request, _ http.Handler) bool {
		if r.URL.Path != "/v1/log/records" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not found: no such route"}`)
		return true
	}
	p := newAuditProxy(t, s, older)
	if out := s.ok("auditor", work, "audit", "verify", "--json").json(t); out["ok"] != true || out["events"].(float64) < 1200 {
		t.Fatalf("audit verify of an older vault: %v", out)
	}
	if !p.asked("/v1/log/events") || !p.asked("/v1/log/lookups") || !p.asked("/v1/log/records") {
		t.Fatalf("audit verify asked for %v", p.paths)
	}
	s.runEnv = nil
	s.stop()
	if n := sqliteExec(t, s, `UPDATE events SET case_id = 'C-9' WHERE item_id = ? AND CAST(bytes AS TEXT) LIKE '%"item.deposited"%'`, idA); n != 1 {
		t.Fatalf("edited %d rows", n)
	}
	s.start()
	p = newAuditProxy(t, s, older)
	r := s.run("auditor", work, "custos", "audit", "verify")
	if r.code == 0 || !strings.Contains(r.stderr, `case "C-9" (signed: "C-1")`) {
		t.Fatalf("audit verify of an older vault: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if !p.asked("/v1/log/events") || !p.asked("/v1/log/lookups") {
		t.Fatalf("audit verify asked for %v", p.paths)
	}
}

// TestEditedLookupValuesCannotShiftTheStream: values edited to hold line
// ends, the stream's own tag bytes, or more bytes than any event are
// carried as values, and every edited event is named, no other.
func TestEditedLookupValuesCannotShiftTheStream(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	idA, _ := setup(t, s, work)
	s.stop()
	if n := sqliteExec(t, s, `UPDATE events SET id = id || char(10, 0, 1) || '{"seq":0}' WHERE item_id = ? AND CAST(bytes AS TEXT) LIKE '%"item.deposited"%'`, idA); n != 1 {
		t.Fatalf("edited %d rows", n)
	}
	if n := sqliteExec(t, s, `UPDATE events SET case_id = 'C-1' || char(10) || printf('%.*c', 200000, 'x') WHERE seq = 2`); n != 1 {
		t.Fatalf("edited %d rows", n)
	}
	s.start()
	r := s.run("auditor", work, "custos", "audit", "verify")
	if r.code == 0 || !strings.Contains(r.stderr, "2 event(s) have lookup values that disagree") || !strings.Contains(r.stderr, "event 2:") {
		t.Fatalf("audit verify: %d %s %s", r.code, r.stdout, r.stderr)
	}
	for _, ev := range logEvents(t, s) {
		named := strings.Contains(r.stderr, fmt.Sprintf("event %d:", ev.Seq))
		edited := ev.Seq == 2 || (ev.Type == "item.deposited" && ev.Item == idA)
		if named != edited {
			t.Errorf("event %d (%s): named %v, edited %v", ev.Seq, ev.Type, named, edited)
		}
	}
	if len(r.stderr) > 64<<10 {
		t.Errorf("the report quotes the edited values whole (%d bytes)", len(r.stderr))
	}
}

// TestCutRecordsStreamIsRefused: an answer cut short (by the network or
// by a proxy) is never taken for the whole log, even where it ends
// between two records.
func TestCutRecordsStreamIsRefused(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	for _, keep := range []int{21, 400, 2000} {
		cut := func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if r.URL.Path != "/v1/log/records" {
				return false
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body[:min(keep, len(body)-1)])
			return true
		}
		newAuditProxy(t, s, cut)
		r := s.run("auditor", work, "custos", "audit", "verify")
		if r.code == 0 || !strings.Contains(r.stderr, "incomplete") {
			t.Fatalf("a records stream cut after %d bytes: %d %s %s", keep, r.code, r.stdout, r.stderr)
		}
		s.runEnv = nil
	}
}

// TestLogStreamsTakeARange: from and to bound every log stream; a bad
// bound is refused before anything is sent.
func TestLogStreamsTakeARange(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	base, _ := s.credential("auditor")
	token := s.session("auditor")
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	for _, tc := range []struct {
		q        string
		from, to uint64
	}{{"from=2&to=5", 2, 5}, {"to=0", 0, 0}, {"from=4&to=3", 4, 4}, {"from=3", 3, 1 << 62}} {
		resp, b := get("/v1/log/records?" + tc.q)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", tc.q, resp.StatusCode)
		}
		rd := logstream.NewReader(bytes.NewReader(b))
		want := tc.from
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			if rec.Seq != want || rec.Seq >= tc.to {
				t.Fatalf("%s: record %d, wanted %d", tc.q, rec.Seq, want)
			}
			want++
		}
		if tc.to < 1<<62 && want != tc.to && !(tc.to < tc.from && want == tc.from) {
			t.Fatalf("%s: ended at %d", tc.q, want)
		}
		_, lines := get("/v1/log/events?" + tc.q)
		if n := bytes.Count(lines, []byte("\n")); uint64(n) != want-tc.from {
			t.Fatalf("%s: %d event lines, %d records", tc.q, n, want-tc.from)
		}
	}
	for _, q := range []string{"to=-1", "to=x", "from=1e3"} {
		if resp, _ := get("/v1/log/records?" + q); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: HTTP %d", q, resp.StatusCode)
		}
	}
}

// TestAuditVerifySaysWhatItChecked: an auditor who is not an engineer
// learns from the answer what was checked, up to where and against which
// key; a key or saved checkpoint that does not match says so and that the
// log was not checked, in JSON too.
func TestAuditVerifySaysWhatItChecked(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	_, fp := vaultKey(t, s, work, "auditor")
	cp := filepath.Join(work, "saved.checkpoint")
	out := s.ok("auditor", work, "audit", "verify", "--save-checkpoint", cp).stdout
	for _, want := range []string{"checked: events 0 to ", "up to the checkpoint the vault signed as this audit began", "fingerprint " + fp,
		"taken from the vault", "saved the checkpoint of ", cp} {
		if !strings.Contains(out, want) {
			t.Errorf("the answer lacks %q:\n%s", want, out)
		}
	}
	// A saved checkpoint is named by its size and the time of the log it
	// holds, its last event's, which the replay reads.
	s.ok("investigator", work, "case", "open", "C-2", "--title", "after the saved checkpoint")
	note, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	size, err := strconv.ParseUint(strings.Split(string(note), "\n")[1], 10, 64)
	if err != nil || size < 2 {
		t.Fatalf("the saved checkpoint %q: %v", note, err)
	}
	var timeline struct{ Events []events.Event }
	if err := json.Unmarshal([]byte(s.ok("auditor", work, "audit", "log", "--json").stdout), &timeline); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for _, ev := range timeline.Events {
		if ev.Seq == size-1 {
			last = ev.Timestamp()
		}
	}
	want := fmt.Sprintf("the log extends the saved checkpoint of %d events (the log as of %s)", size, last.UTC().Format("2006-01-02 15:04:05 UTC"))
	if out := s.ok("auditor", work, "audit", "verify", "--checkpoint", cp).stdout; last.IsZero() || !strings.Contains(out, want) {
		t.Errorf("the answer lacks %q:\n%s", want, out)
	}
	out = s.ok("auditor", work, "audit", "verify", "--key", fp, "--checkpoint", cp, "--save-checkpoint", cp).stdout
	if !strings.Contains(out, "the vault's and your saved one") || !strings.Contains(out, "replacing the file there") || strings.Contains(out, "taken from the vault") {
		t.Errorf("the answer with a pinned key and a saved checkpoint:\n%s", out)
	}
	// Several saved checkpoints: an older copy and the newer one, each
	// proven extended (the consistency proof from each), in either order.
	older := filepath.Join(work, "older.checkpoint")
	if b, err := os.ReadFile(cp); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(older, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.ok("auditor", work, "audit", "verify", "--save-checkpoint", cp)
	for _, order := range [][]string{{cp, older}, {older, cp}} {
		out = s.ok("auditor", work, "audit", "verify", "--key", fp, "--checkpoint", order[0], "--checkpoint", order[1]).stdout
		if !strings.Contains(out, "your 2 saved ones") || !strings.Contains(out, "extends the saved checkpoints of ") {
			t.Errorf("two saved checkpoints (%s first):\n%s", order[0], out)
		}
	}

	other := strings.Repeat("ab", 32)
	r := s.run("auditor", work, "custos", "audit", "verify", "--key", other, "--json")
	var failure map[string]any
	if r.code == 0 || json.Unmarshal([]byte(r.stdout), &failure) != nil || failure["ok"] != false ||
		!strings.Contains(r.stderr, fp) || !strings.Contains(r.stderr, other) || !strings.Contains(r.stderr, "nothing of the log was checked") {
		t.Fatalf("a key that is not the vault's: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := s.run("auditor", work, "custos", "audit", "verify", "--key", ""); r.code == 0 || !strings.Contains(r.stderr, "--key is empty") {
		t.Fatalf("an empty --key: %d %q", r.code, r.stderr)
	}

	// The file custos audit key writes is taken where the key is; a
	// file of one kind given where another is expected is named as what
	// it is.
	keyFile := filepath.Join(work, "vault.key")
	if err := os.WriteFile(keyFile, []byte(s.ok("auditor", work, "audit", "key").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := s.ok("auditor", work, "audit", "verify", "--key", keyFile).stdout; !strings.Contains(out, "fingerprint "+fp+" (the key you gave with --key)") || strings.Contains(out, "taken from the vault") {
		t.Errorf("audit verify --key with the key file:\n%s", out)
	}
	if v := s.ok("auditor", work, "audit", "verify", "--key", s.ok("auditor", work, "audit", "key").stdout, "--json").json(t); v["key_pinned"] != true {
		t.Errorf("audit verify --key with the key pasted whole: %v", v)
	}
	if v := s.ok("auditor", work, "audit", "verify", "--json").json(t); v["key_pinned"] != false {
		t.Errorf("audit verify without --key: %v", v)
	}
	// A mistake in the files named is exit 2, as a usage error, never the
	// exit 1 of a failed check.
	for _, args := range [][]string{
		{"--checkpoint", filepath.Join(work, "missing.checkpoint")},
		{"--checkpoint", keyFile},
		{"--checkpoint", ""},
		{"--save-checkpoint", "--key", keyFile},
		{"--key", filepath.Join(work, "missing.key")},
	} {
		if r := s.run("auditor", work, "custos", append([]string{"audit", "verify"}, args...)...); r.code != 2 {
			t.Errorf("audit verify %q: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}
	if r := s.run("auditor", work, "custos", "audit", "verify", "--checkpoint", keyFile); r.code == 0 || !strings.Contains(r.stderr, "it is a log key, not a checkpoint") || strings.Contains(r.stderr, "cut short") {
		t.Errorf("the key file given as a checkpoint: %d %q", r.code, r.stderr)
	}
	if r := s.run("auditor", work, "custos", "audit", "verify", "--key", cp); r.code == 0 || !strings.Contains(r.stderr, "it is a checkpoint, not a log key") {
		t.Errorf("the checkpoint given as the key: %d %q", r.code, r.stderr)
	}
	if r := s.run("auditor", work, "custos", "audit", "verify", "--key", filepath.Join(work, "missing.key")); r.code == 0 || !strings.Contains(r.stderr, "missing.key\" exists (check the path)") {
		t.Errorf("--key naming no file: %d %q", r.code, r.stderr)
	}

	b, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(b), "\n", 3)
	lines[1] = lines[1] + "0" // another size
	edited := filepath.Join(work, "edited.checkpoint")
	if err := os.WriteFile(edited, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.run("auditor", work, "custos", "audit", "verify", "--checkpoint", edited)
	if r.code == 0 || !strings.Contains(r.stderr, "changed after it was saved, or it is another vault's") || !strings.Contains(r.stderr, "the log itself was not checked") {
		t.Fatalf("an edited saved checkpoint: %d %q", r.code, r.stderr)
	}

	// --save-checkpoint replaces an earlier checkpoint of this vault only
	// once the log is proven to extend it, and nothing else at all.
	earlier := filepath.Join(work, "earlier.checkpoint")
	if err := os.WriteFile(earlier, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.ok("custodian", work, "case", "open", "C-LATER", "--title", "later")
	out = s.ok("auditor", work, "audit", "verify", "--save-checkpoint", earlier).stdout
	if !strings.Contains(out, "the log extends the checkpoint of ") || !strings.Contains(out, earlier+" held") || !strings.Contains(out, "replacing the file there") {
		t.Errorf("saving over an earlier checkpoint:\n%s", out)
	}
	if now, _ := os.ReadFile(earlier); bytes.Equal(now, b) {
		t.Error("the earlier checkpoint was not replaced by the newer one")
	}
	notes := filepath.Join(work, "notes.txt")
	for _, keep := range []struct{ path, body, says string }{
		{edited, "", "is not signed by the key the vault now serves"},
		{notes, "my notes on the audit\n", "does not hold a checkpoint"},
		{keyFile, "", "does not hold a checkpoint"},
	} {
		if keep.body != "" {
			if err := os.WriteFile(keep.path, []byte(keep.body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		before, _ := os.ReadFile(keep.path)
		r := s.run("auditor", work, "custos", "audit", "verify", "--save-checkpoint", keep.path)
		if r.code == 0 || !strings.Contains(r.stderr, keep.says) || !strings.Contains(r.stderr, "left as it is") {
			t.Errorf("--save-checkpoint over %s: %d %q", keep.path, r.code, r.stderr)
		}
		if after, _ := os.ReadFile(keep.path); !bytes.Equal(before, after) {
			t.Errorf("--save-checkpoint changed %s, which held no checkpoint of this vault", keep.path)
		}
	}

	// Another vault (or this one with another key) is an audit failure,
	// not advice to use another file name, and the earlier checkpoint is
	// kept.
	vault2 := newServer(t)
	otherWork := t.TempDir()
	before, _ := os.ReadFile(earlier)
	r = vault2.run("auditor", otherWork, "custos", "audit", "verify", "--save-checkpoint", earlier, "--json")
	var verdict map[string]any
	if r.code != 1 || json.Unmarshal([]byte(r.stdout), &verdict) != nil || verdict["ok"] != false ||
		!strings.Contains(r.stderr, "not signed by the key the vault now serves") || strings.Contains(r.stderr, "another file name") {
		t.Errorf("saving another vault's checkpoint over this one's: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.ReadFile(earlier); !bytes.Equal(before, after) {
		t.Error("another vault's audit replaced this vault's saved checkpoint")
	}
}
