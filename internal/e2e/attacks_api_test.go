package e2e

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// token returns the bearer token of a dev person.
func token(s *server, person string) string {
	return s.client(person).token
}

// storedRefusals reads the access.refused events from the stopped
// server's log file.
func storedRefusals(t *testing.T, s *server) (n int, actors []string, data []map[string]any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(s.data, "custody.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT bytes FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		rows.Scan(&b)
		var ev struct {
			Type  string
			Actor struct{ Auth string }
			Data  map[string]any
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "access.refused" {
			n++
			actors = append(actors, ev.Actor.Auth)
			data = append(data, ev.Data)
		}
	}
	return n, actors, data
}

// TestAttackAPIRefusalFloodCostsBoundedLog: a burst of requests without
// valid credentials costs O(1) custody events, which account for every
// one of them (the summary is written at shutdown at the latest).
func TestAttackAPIRefusalFloodCostsBoundedLog(t *testing.T) {
	s := newServer(t, "--refusal-window", "1h", "--unauth-rate", "100000", "--unauth-burst", "100000")
	const n = 400
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range n {
		req, _ := http.NewRequest("GET", s.url+"/v1/items/it_000000000000000000000000?purpose=x", nil)
		req.Header.Set("Authorization", fmt.Sprintf("Bearer cst_guess%d", i))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("request %d answered %d", i, resp.StatusCode)
		}
	}
	s.stop()
	count, actors, data := storedRefusals(t, s)
	if count > 2 {
		t.Fatalf("%d refused requests cost %d events", n, count)
	}
	var total float64
	for i, d := range data {
		c, _ := d["count"].(float64)
		total += max(c, 1)
		if actors[i] != "none" || d["source"] != "127.0.0.1" {
			t.Errorf("refusal recorded as %v by %s", d, actors[i])
		}
	}
	if total != n {
		t.Fatalf("the events account for %v refusals, want %d: %v", total, n, data)
	}
}

// TestAttackAPISlowAndIdleClients holds hundreds of idle connections and
// slow deposits from one address while a legitimate deposit succeeds;
// connections past the per-client limit are closed at once; the slow
// deposits are cut and leave no object and no deposit event; idle
// connections are closed.
func TestAttackAPISlowAndIdleClients(t *testing.T) {
	s := newServer(t, "--max-conns-per-client", "300", "--read-header-timeout", "6s", "--idle-timeout", "1s",
		"--min-upload-rate", "1000", "--upload-window", "4s")
	work := t.TempDir()
	setup(t, s, work)
	objectsBefore := len(objectFiles(t, s))
	addr := strings.TrimPrefix(s.url, "http://")
	tok := token(s, "investigator")

	var mu sync.Mutex
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return c
	}
	// closedBy reports whether the server closed c before the deadline.
	// (Probes past the limit are dialled together and read after: reading
	// each in turn would give the server time to cut the slow deposits
	// and free their slots.)
	closedBy := func(c net.Conn, deadline time.Time) bool {
		c.SetReadDeadline(deadline)
		_, err := io.Copy(io.Discard, c)
		// A close with unread bytes in the server's buffer arrives as a
		// reset; only the deadline means the server kept the connection.
		return !errors.Is(err, os.ErrDeadlineExceeded)
	}
	idle := make([]net.Conn, 250)
	for i := range idle {
		idle[i] = dial()
	}
	// A keep-alive connection that made one request, then idles.
	keep := dial()
	fmt.Fprintf(keep, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(keep)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v", err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	slow := make([]net.Conn, 30)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range slow {
		c := dial()
		slow[i] = c
		fmt.Fprintf(c, "POST /v1/cases/C-1/items?name=slow%d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n", i, tok)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 { // 6 bytes a second at most, for at most 20 s
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if _, err := io.WriteString(c, "1\r\nx\r\n"); err != nil {
					return
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	// The legitimate deposit, while all of them are held.
	big, _, sum := evidence(t, work, "legit.bin", 2<<20)
	dep := s.ok("investigator", work, "deposit", "--case", "C-1", big, "--json").json(t)
	if got := dep["items"].([]any)[0].(map[string]any)["sha256"]; got != sum {
		t.Fatalf("legitimate deposit: sha256 %v", got)
	}

	// Past the limit: closed at once.
	refused := 0
	probes := make([]net.Conn, 40)
	for i := range probes {
		probes[i] = dial()
	}
	for _, c := range probes {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		if err == io.EOF {
			refused++
		}
	}
	if refused < 10 {
		t.Fatalf("only %d of 40 connections past the per-client limit were closed at once", refused)
	}

	// The server ends every one of them, in bounded time.
	deadline := time.Now().Add(20 * time.Second)
	if !closedBy(keep, deadline) {
		t.Fatal("an idle keep-alive connection was kept open")
	}
	for i, c := range slow {
		if !closedBy(c, deadline) {
			t.Fatalf("slow deposit %d was never cut", i)
		}
	}
	for i, c := range idle {
		if !closedBy(c, deadline) {
			t.Fatalf("idle connection %d was never closed", i)
		}
	}
	if n := len(objectFiles(t, s)); n != objectsBefore+1 {
		t.Fatalf("%d objects after one legitimate deposit (was %d): the slow deposits left objects", n, objectsBefore)
	}
	tl := s.ok("auditor", work, "audit", "log", "--json").stdout
	if n := strings.Count(tl, `"type":"item.deposited"`); n != 3 {
		t.Fatalf("%d deposits recorded, want 3 (setup's two and the legitimate one)", n)
	}
	if strings.Contains(tl, `"name":"slow`) {
		t.Fatal("a slow deposit was recorded")
	}
}

// TestAttackAPIDataFilesOwnerOnly: after a development server has run
// (deposits, an access, a package sealed and fetched), no file or folder
// under its data folder grants anything to group or others, whatever the
// umask.
func TestAttackAPIDataFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	s := newServer(t)
	work := t.TempDir()
	id1, _ := setup(t, s, work)
	s.ok("investigator", work, "get", id1, "--purpose", "review", "-o", filepath.Join(work, "out.bin"))
	keyFile := filepath.Join(work, "pros.key")
	r := s.run("", work, testenv.Binary(t, "age-keygen"), "-o", keyFile)
	if r.code != 0 {
		t.Fatalf("age-keygen: %s", r.stderr)
	}
	s.ok("prosecutor", work, "recipient", "set", recipientOf(t, keyFile))
	pkg := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "court", "--json").json(t)["package"].(string)
	s.ok("prosecutor", work, "package", "fetch", pkg, "-o", filepath.Join(work, "p.tar"))
	s.stop()
	checked := 0
	filepath.WalkDir(s.data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		checked++
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: readable by others than the vault's user", strings.TrimPrefix(p, s.data), fi.Mode().Perm())
		}
		return nil
	})
	if checked < 10 {
		t.Fatalf("checked only %d paths", checked)
	}
}

var absPathRE = regexp.MustCompile(`(^|[\s"'(:=])/[A-Za-z0-9._-]+/`)

// TestAttackAPIErrorsNameNoPath: an integrity failure (the evidence
// object is gone from the store, and the store's error names its file)
// answers without the server's file paths; the detail and a reference are
// in the server's log.
func TestAttackAPIErrorsNameNoPath(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id1, _ := setup(t, s, work)
	objs := objectFiles(t, s)
	if len(objs) == 0 {
		t.Fatal("no evidence objects")
	}
	for _, o := range objs {
		os.Remove(o)
	}
	r := s.refused("investigator", work, "integrity failure", "get", id1, "--purpose", "check", "-o", "out.bin")
	if strings.Contains(r.stderr, s.data) || absPathRE.MatchString(r.stderr) {
		t.Fatalf("the answer names a server path: %s", r.stderr)
	}
	m := regexp.MustCompile(`reference ([0-9a-f]{16})`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no reference in %q", r.stderr)
	}
	if !s.logs.waitFor(regexp.MustCompile(regexp.QuoteMeta(m[1]))) {
		t.Fatalf("reference %s is not in the server's log", m[1])
	}
}

func recipientOf(t *testing.T, keyFile string) string {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "# public key: "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no public key in the age key file")
	return ""
}
