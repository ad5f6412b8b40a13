package e2e

import (
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// setup opens a case with two deposits and returns their ids.
func setup(t *testing.T, s *server, work string) (string, string) {
	t.Helper()
	a, _, _ := evidence(t, work, "a.bin", 300_000)
	b, _, _ := evidence(t, work, "b.bin", 1000)
	s.ok("investigator", work, "case", "open", "C-1", "--title", "t")
	dep := s.ok("investigator", work, "deposit", "--case", "C-1", a, b, "--json").json(t)
	items := dep["items"].([]any)
	return items[0].(map[string]any)["id"].(string), items[1].(map[string]any)["id"].(string)
}

func objectFiles(t *testing.T, s *server) []string {
	var out []string
	filepath.WalkDir(filepath.Join(s.data, "objects", "ev"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".lock") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestFlippedObjectByteIsCaughtByScrubAndGet(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id1, id2 := setup(t, s, work)
	// Flip one byte in the middle of the larger object.
	for _, p := range objectFiles(t, s) {
		b, _ := os.ReadFile(p)
		if len(b) < 100_000 {
			continue
		}
		b[len(b)/2] ^= 0x01
		os.Chmod(p, 0o600)
		if err := os.WriteFile(p, b, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	r := s.run("auditor", work, "custos", "audit", "scrub", "--json")
	if r.code == 0 || !strings.Contains(r.stdout, `"ok":false`) || !strings.Contains(r.stdout, id1) {
		t.Fatalf("scrub missed the flipped byte: %d %s %s", r.code, r.stdout, r.stderr)
	}
	out := filepath.Join(work, "a.out")
	s.refused("investigator", work, "", "get", id1, "--purpose", "check", "-o", out)
	if _, err := os.Stat(out); err == nil {
		t.Fatal("get wrote a file for tampered evidence")
	}
	leftovers, _ := filepath.Glob(filepath.Join(work, ".a.out.partial-*"))
	if len(leftovers) != 0 {
		t.Fatalf("partial plaintext left behind: %v", leftovers)
	}
	// Sealing a package of it fails too, before anything is stored.
	s.ok("prosecutor", work, "recipient", "set", newAgeKey(t, filepath.Join(work, "p.key")))
	s.refused("investigator", work, "integrity failure", "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "court")
	// Each failure is on record (scrub, get, seal), and the intact item
	// still reads.
	tl := s.ok("auditor", work, "audit", "log", "--item", id1, "--json").stdout
	if n := strings.Count(tl, "integrity.failed"); n != 3 {
		t.Fatalf("%d integrity events recorded, want 3 (scrub, get, seal): %s", n, tl)
	}
	s.ok("investigator", work, "get", id2, "--purpose", "check", "-o", filepath.Join(work, "b.out"))
	// The log is intact, and the audit says the incidents it records,
	// to a reader of the exit status, the text or the JSON alike.
	text := s.ok("auditor", work, "audit", "verify").stdout
	if n := strings.Count(text, "warning: the log records, at event "); n != 3 || !strings.Contains(text, "an integrity failure the vault detected (item "+id1+", case C-1") {
		t.Fatalf("audit verify names %d integrity failures, want 3:\n%s", n, text)
	}
	v := s.ok("auditor", work, "audit", "verify", "--json").json(t)
	if v["ok"] != true || v["integrity_failures"] != 3.0 {
		t.Fatalf("audit verify --json: %v", v)
	}
}

func tamperLog(t *testing.T, s *server, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(s.data, "custody.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(stmt)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("tampering changed nothing: %s", stmt)
	}
}

func TestEditedOrDeletedEventIsCaughtByAuditVerify(t *testing.T) {
	for _, tc := range []struct{ name, stmt, want string }{
		{"edited", `UPDATE events SET bytes = replace(bytes, '"size":1000', '"size":1001') WHERE type_placeholder`, "event"},
		{"deleted", `DELETE FROM events WHERE seq = 9`, "event 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t)
			work := t.TempDir()
			setup(t, s, work)
			s.ok("auditor", work, "audit", "verify")
			// An insider with write access to the live database edits it.
			stmt := strings.Replace(tc.stmt, "type_placeholder", "instr(bytes, '\"size\":1000') > 0", 1)
			tamperLog(t, s, stmt)
			r := s.run("auditor", work, "custos", "audit", "verify")
			if r.code == 0 || !strings.Contains(r.stderr, "audit failed") || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("audit verify did not name the tampering: %d %q", r.code, r.stderr)
			}
			t.Logf("audit verify: %s", strings.TrimSpace(r.stderr))
		})
	}
}

func TestAlteredPackageFailsVerification(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	key := filepath.Join(work, "p.key")
	// The stock age CLI is exercised in TestEndToEnd; a key made with the
	// age library is enough here.
	id := newAgeKey(t, key)
	s.ok("prosecutor", work, "recipient", "set", id)
	pk := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pk["package"].(string), "-o", "p.tar")
	orig, _ := os.ReadFile(filepath.Join(work, "p.tar"))
	logKey, _ := vaultKey(t, s, work, "prosecutor")
	if res := s.run("", work, "custos-verify", "p.tar", "--key", logKey, "--identity", key); res.code != 0 {
		t.Fatalf("intact package failed: %s", res.stderr)
	}
	// Flip a byte in several places: manifest, an event, an item, the
	// text and PDF reports. Every one must fail verification (with the identity, so the
	// item bytes are checked too).
	for _, at := range []string{`"purpose"`, `"type":"item.deposited"`, "age-encryption.org/v1", "CHAIN OF CUSTODY REPORT", "%PDF-1.7"} {
		i := strings.Index(string(orig), at)
		if i < 0 {
			t.Fatalf("marker %q not in package", at)
		}
		bad := append([]byte(nil), orig...)
		bad[i+len(at)+40] ^= 0x01
		os.WriteFile(filepath.Join(work, "bad.tar"), bad, 0o600)
		if res := s.run("", work, "custos-verify", "bad.tar", "--key", logKey, "--identity", key); res.code != 1 {
			t.Fatalf("package altered after %q verified", at)
		} else {
			t.Logf("altered after %q: %s", at, strings.TrimSpace(res.stderr))
		}
	}
}

// TestBadInputChangesNothing sends malformed, oversized, unauthorised and
// interrupted requests and checks each gets a clear error and leaves no
// object and no deposit behind.
func TestBadInputChangesNothing(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	setup(t, s, work)
	before := len(objectFiles(t, s))
	f, _, _ := evidence(t, work, "c.bin", 1000)

	s.refused("investigator", work, "no such case", "deposit", "--case", "NOPE", f)
	s.refused("prosecutor", work, "assigned", "deposit", "--case", "C-1", f)
	s.refused("auditor", work, "only investigators, analysts and custodians", "case", "open", "C-2", "--title", "x")
	s.refused("investigator", work, "note is", "deposit", "--case", "C-1", "--note", strings.Repeat("n", 5000), f)
	s.refused("investigator", work, "case id", "case", "open", "../../etc", "--title", "x")
	s.refused("investigator", work, "case open needs --title", "case", "open", "C-3")
	s.refused("prosecutor", work, "not an age X25519 recipient", "recipient", "set", "age1bogus")
	s.refused("investigator", work, "is malformed", "get", "../../../etc/passwd", "--purpose", "x", "-o", filepath.Join(work, "y"))
	s.refused("investigator", work, "no such item", "get", "it_000000000000000000000000", "--purpose", "x", "-o", filepath.Join(work, "y"))
	s.refused("investigator", work, "--purpose", "get", "it_000000000000000000000000", "-o", filepath.Join(work, "y"))

	env := map[string]string{}
	for _, kv := range s.env("investigator") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	post := func(name string, body io.Reader) (int, string) {
		req, _ := http.NewRequest("POST", env["CUSTOS_SERVER"]+"/v1/cases/C-1/items?name="+url.QueryEscape(name), body)
		req.Header.Set("Authorization", "Bearer "+sessionToken(t, env["CUSTOS_SERVER"], env["CUSTOS_TOKEN"]))
		req.ContentLength = -1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, name := range []string{"../../etc/passwd", `..\..\boot.ini`, "a//b", "/etc/passwd", "a/./b", "..", "", "bad\x00name", strings.Repeat("x", 300)} {
		code, body := post(name, strings.NewReader("data"))
		if code != 400 {
			t.Fatalf("file name %q: HTTP %d %s", name, code, body)
		}
	}
	// No client hash trailer: refused.
	if code, body := post("ok.bin", strings.NewReader("data")); code == 201 {
		t.Fatalf("deposit without the client's SHA-256 accepted: %s", body)
	}
	// An upload that dies midway.
	pr, pw := io.Pipe()
	go func() {
		pw.Write(make([]byte, 3<<20))
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}()
	if code, _ := post("cut.bin", pr); code == 201 {
		t.Fatal("interrupted upload acknowledged")
	}
	// Unauthenticated.
	req, _ := http.NewRequest("POST", env["CUSTOS_SERVER"]+"/v1/cases", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("unauthenticated request: %v %v", resp, err)
	}
	resp.Body.Close()

	if after := len(objectFiles(t, s)); after != before {
		t.Fatalf("bad requests left %d objects behind", after-before)
	}
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if strings.Count(tl, `"type":"item.deposited"`) != 2 {
		t.Fatal("a bad request produced a deposit event")
	}
	// Every refused request is itself on record.
	if n := strings.Count(tl, `"type":"access.refused"`); n < 5 {
		t.Fatalf("only %d refusals recorded", n)
	}
	s.ok("auditor", work, "audit", "verify")
	s.ok("auditor", work, "audit", "scrub")
}

func TestServerRefusesNonLoopback(t *testing.T) {
	r := (&server{t: t}).run("", t.TempDir(), "custos", "server", "--dev", "--data", t.TempDir(), "--listen", "0.0.0.0:0")
	if r.code == 0 || !strings.Contains(r.stderr, "loopback") {
		t.Fatalf("listening off loopback was not refused: %q", r.stderr)
	}
	r = (&server{t: t}).run("", t.TempDir(), "custos", "server", "--data", t.TempDir(), "--sealer", "soft:/tmp/x", "--log", "sqlite:/tmp/x.db", "--objects", "fs:/tmp/o", "--recovery-recipient", "age1x")
	if r.code == 0 || !strings.Contains(r.stderr, "development") {
		t.Fatalf("soft sealer outside --dev was not refused: %q", r.stderr)
	}
}
