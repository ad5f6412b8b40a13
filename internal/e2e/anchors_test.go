package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// witnessFlags names two witnesses on the server's command line, with a
// quorum of both.
func witnessFlags(ws ...*testenv.Witness) []string {
	var out []string
	for _, w := range ws {
		out = append(out, "--witness", w.Name+"="+w.VKey+"@"+w.URL)
	}
	return append(out, "--witness-quorum", fmt.Sprint(len(ws)))
}

// writePolicy writes the witness policy a defence expert or auditor
// keeps: the witnesses' keys, no URLs, and the quorum.
func writePolicy(t *testing.T, dir string, ws ...*testenv.Witness) string {
	var b strings.Builder
	b.WriteString("# the partners that witness the vault's custody log\n")
	var names []string
	for i, w := range ws {
		name := fmt.Sprintf("w%d", i+1)
		fmt.Fprintf(&b, "witness %s %s\n", name, w.VKey)
		names = append(names, name)
	}
	fmt.Fprintf(&b, "group partners all %s\nquorum partners\n", strings.Join(names, " "))
	p := filepath.Join(dir, "witnesses.policy")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func getPublic(t *testing.T, s *server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// cosignatureLines counts the signature lines of a note beyond the log's.
func cosignatureLines(n string) int {
	_, sigs, _ := strings.Cut(n, "\n\n")
	return strings.Count(sigs, "\u2014 ") - 1
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	os.RemoveAll(to)
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v %s", from, to, err, out)
	}
}

// A vault with two real witnesses (litewitness) and a quorum of both:
// checkpoints are cosigned beside the appends; packages carry the
// cosigned checkpoint and custos-verify checks it against a policy;
// audit verify checks the newest checkpoint's quorum. With one witness
// down, appends go on and the checkpoints stay below the quorum until it
// returns. A vault restored from an older copy of its data folder, which
// then appends (a fork of its history), is refused by both witnesses:
// the server logs it at level ERROR and audit verify fails naming them.
func TestWitnessedVault(t *testing.T) {
	a := testenv.StartWitness(t, "witness-a.partner-one.example")
	b := testenv.StartWitness(t, "witness-b.partner-two.example")
	s := newServer(t)
	work := t.TempDir()
	logKey, _ := vaultKey(t, s, work, "auditor")
	origin, _, _ := strings.Cut(logKey, "+")
	for _, w := range []*testenv.Witness{a, b} {
		if err := w.RegisterLog(origin, logKey); err != nil {
			t.Fatal(err)
		}
	}
	s.stop()
	s.extra = witnessFlags(a, b)
	s.start()
	policy := writePolicy(t, work, a, b)

	s.ok("investigator", work, "case", "open", "KH-2026-201", "--title", "witnessed")
	file, _, _ := evidence(t, work, "photo.jpg", 40_000)
	s.ok("investigator", work, "deposit", "--case", "KH-2026-201", file)
	v := s.ok("auditor", work, "audit", "verify", "--witness-policy", policy, "--json").json(t)
	w, _ := v["witnessed"].(map[string]any)
	if v["ok"] != true || w == nil || len(w["cosigned"].([]any)) != 2 || w["quorum"] != "2 of 2" {
		t.Fatalf("audit verify with witnesses answered %v", v)
	}
	text := s.ok("auditor", work, "audit", "verify", "--witness-policy", policy).stdout
	if !strings.Contains(text, "cosigned by w1, w2 (quorum 2 of 2 met)") {
		t.Fatalf("audit verify said:\n%s", text)
	}
	// An export carries the witnessed checkpoint: an expert without the
	// vault checks the witnesses' cosignatures of it too.
	exp := filepath.Join(work, "witnessed-export")
	s.ok("auditor", work, "audit", "export", "-o", exp)
	keyFile := filepath.Join(work, "log.key")
	os.WriteFile(keyFile, []byte(logKey+"\n"), 0o644)
	if r := s.run("", work, "custos", "audit", "verify", "--store", exp, "--key", keyFile, "--witness-policy", policy); r.code != 0 || !strings.Contains(r.stdout, "cosigned by w1, w2 (quorum 2 of 2 met)") {
		t.Fatalf("the export's audit with the witness policy: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "verify", "--store", exp, "--key", keyFile, "--witness-policy", writePolicy(t, t.TempDir(), a, b, testenv.StartWitness(t, "witness-d.partner-four.example"))); r.code != 1 || !strings.Contains(r.stderr, "lacks its witness quorum") {
		t.Fatalf("the export's audit with a stricter policy: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "log", "--store", exp, "--key", keyFile, "--witness-policy", policy, "--case", "KH-2026-201"); r.code != 0 || !strings.Contains(r.stderr, "audited: ") || !strings.Contains(r.stdout, "KH-2026-201") {
		t.Fatalf("the export's timeline with the witness policy: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.Remove(filepath.Join(exp, "witnessed"))
	if r := s.run("", work, "custos", "audit", "log", "--store", exp, "--key", keyFile, "--witness-policy", policy); r.code != 1 || !strings.Contains(r.stderr, "no timeline of it is shown") {
		t.Fatalf("the timeline of an export without its witnessed checkpoint: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run("", work, "custos", "audit", "verify", "--store", exp, "--key", keyFile, "--witness-policy", policy); r.code != 1 || !strings.Contains(r.stderr, "holds no witnessed checkpoint") {
		t.Fatalf("the export without its witnessed checkpoint: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	code, cp := getPublic(t, s, "/checkpoint")
	if code != 200 || !strings.HasPrefix(cp, origin+"\n") || cosignatureLines(cp) != 2 {
		t.Fatalf("/checkpoint: %d\n%s", code, cp)
	}
	if n, err := a.Size(origin); err != nil || n == 0 {
		t.Fatalf("witness a holds %d, %v", n, err)
	}

	// The cosigned checkpoints stored in the object store are the
	// vault's own metadata to a scrub.
	if sc := s.ok("auditor", work, "audit", "scrub", "--json").json(t); sc["ok"] != true {
		t.Fatalf("audit scrub with witnessed checkpoints stored: %v", sc)
	}
	// A package carries its checkpoint with both cosignatures.
	s.prosecutorRecipient(work)
	pkg := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-201", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pkg["package"].(string), "-o", "bundle.tar")
	if out := s.ok("auditor", work, "audit", "scrub").stdout; !strings.Contains(out, "1 item, 1 package and 0 hash sets re-hashed") {
		t.Fatalf("audit scrub said: %s", out)
	}
	r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey, "--witness-policy", policy)
	if r.code != 0 || !strings.Contains(r.stdout, "cosigned by w1, w2 (quorum 2 of 2 met)") {
		t.Fatalf("custos-verify with the policy: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A policy naming a third witness the vault never used: the package
	// lacks its quorum.
	c := testenv.StartWitness(t, "witness-c.partner-three.example")
	strict := writePolicy(t, t.TempDir(), a, b, c)
	r = s.run("", work, "custos-verify", "bundle.tar", "--key", logKey, "--witness-policy", strict)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "lacks the witness quorum") {
		t.Fatalf("custos-verify with a stricter policy: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Witness b down: appends are acknowledged, audits see the missing
	// cosignature; once b is back the newest checkpoint reaches the quorum.
	b.Stop()
	s.ok("investigator", work, "case", "open", "KH-2026-202", "--title", "while b is down")
	r = s.run("auditor", work, "custos", "audit", "verify", "--witness-policy", policy)
	if r.code == 0 || !strings.Contains(r.stderr, "not by w2") || !strings.Contains(r.stderr, "unreachable") {
		t.Fatalf("audit verify with b down: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = s.run("auditor", work, "custos", "audit", "verify", "--witness-policy", policy)
		if r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never witnessed after b returned:\n%s", r.stderr)
		}
		time.Sleep(time.Second)
	}

	// An operator keeps a copy of the data folder, the vault goes on, and
	// later the copy is put back and the vault appends again: a fork.
	s.stop()
	backup := filepath.Join(t.TempDir(), "backup")
	copyTree(t, s.data, backup)
	s.start()
	for i := 0; i < 5; i++ {
		s.ok("investigator", work, "case", "open", fmt.Sprintf("KH-2026-3%02d", i), "--title", "after the copy")
	}
	s.ok("auditor", work, "audit", "verify", "--witness-policy", policy)
	s.stop()
	// (After the stop: the server's last checkpoint, with its
	// server.stopped, is witnessed as it stops.)
	held, _ := a.Size(origin)
	copyTree(t, backup, s.data)
	s.start()
	s.ok("investigator", work, "case", "open", "KH-2026-400", "--title", "on the restored copy")
	forked := regexp.MustCompile(`level=ERROR msg="witness did not cosign the custody log's checkpoint" witness=witness-a\.partner-one\.example .*rolled back or forked`)
	if !s.logs.waitFor(forked) {
		t.Fatalf("the server did not report the fork:\n%s", s.logs)
	}
	r = s.run("auditor", work, "custos", "audit", "verify", "--witness-policy", policy)
	if r.code == 0 || !strings.Contains(r.stderr, "not by w1, w2") || !strings.Contains(r.stderr, "rolled back or forked") {
		t.Fatalf("audit verify of the fork: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	_, metrics := getPublic(t, s, "/metrics")
	if !regexp.MustCompile(`custos_witness_forks_total\{witness="witness-a\.partner-one\.example"\} [1-9]`).MatchString(metrics) {
		t.Fatalf("the fork is not in the metrics:\n%s", metrics)
	}
	// The unwitnessed checkpoints are never reported as witnessed: the
	// witnessed size stays behind, and /checkpoint serves only a
	// checkpoint with its quorum.
	cs := regexp.MustCompile(`(?m)^custos_log_checkpoint_size (\d+)`).FindStringSubmatch(metrics)
	ws := regexp.MustCompile(`(?m)^custos_log_witnessed_size (\d+)`).FindStringSubmatch(metrics)
	if len(cs) != 2 || len(ws) != 2 || cs[1] == ws[1] {
		t.Fatalf("checkpoint size %v, witnessed size %v after the fork", cs, ws)
	}
	if code, pub := getPublic(t, s, "/checkpoint"); code == 200 && cosignatureLines(pub) != 2 {
		t.Fatalf("/checkpoint after the fork serves a checkpoint with %d cosignatures", cosignatureLines(pub))
	}
	// The operator hands the auditor the older checkpoint the witnesses
	// did cosign (from its own object store): it covers fewer events than
	// the log's newest checkpoint, and the audit says so.
	_, old := storedWitnessed(t, s.data)
	front := forgeWitnessed(t, s, old)
	r = s.runVia("auditor", work, front.URL, "audit", "verify", "--witness-policy", policy)
	if r.code == 0 || !strings.Contains(r.stderr, "did not have its newest checkpoint witnessed") {
		t.Fatalf("audit verify given an older witnessed checkpoint: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if now, _ := a.Size(origin); now != held {
		t.Fatalf("witness a moved from %d to %d on the fork", held, now)
	}
}

// With no witness configured, the server makes no outbound connection:
// the whole flow (deposit, view, package, audit) runs under strace, and
// every connect() it made was to the loopback address (its own clients'
// connections are accepted, not made) or a local socket.
func TestNoOutboundConnections(t *testing.T) {
	straceBin := testenv.Binary(t, "strace")
	trace := filepath.Join(t.TempDir(), "connect.trace")
	s := &server{t: t, data: filepath.Join(t.TempDir(), "data"), tmp: t.TempDir(),
		listen: testenv.Addr(testenv.FreePort(t)),
		wrap:   []string{straceBin, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", trace}}
	s.start()
	t.Cleanup(s.stop)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "KH-2026-500", "--title", "offline")
	file, _, _ := evidence(t, work, "chat.txt", 10_000)
	dep := s.ok("investigator", work, "deposit", "--case", "KH-2026-500", file, "--json").json(t)
	id := dep["items"].([]any)[0].(map[string]any)["id"].(string)
	s.ok("investigator", work, "get", id, "--purpose", "review", "-o", filepath.Join(work, "out.txt"))
	s.prosecutorRecipient(work)
	pkg := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-500", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pkg["package"].(string), "-o", "bundle.tar")
	s.ok("auditor", work, "audit", "verify")
	s.stop()
	if out := outbound(t, trace); len(out) > 0 {
		t.Errorf("the server connected out:\n%s", strings.Join(out, "\n"))
	}

	// The check sees a dial: the same server given a witness (at an
	// address where nothing listens) connects to it.
	trace2 := filepath.Join(t.TempDir(), "connect.trace")
	s.wrap[len(s.wrap)-1] = trace2
	s.extra = []string{"--witness", "w=witness.example+43d877ca+BEC5fu6IAUbjz+KQwbQXhGJNiRJ29WQNF6iTvPLpcR9e@http://127.0.0.2:9"}
	s.start()
	s.ok("investigator", work, "case", "open", "KH-2026-501", "--title", "dials")
	// The checkpoint of the next interval goes to the witness; on a
	// loaded machine that can take more than a second.
	for deadline := time.Now().Add(30 * time.Second); len(outbound(t, trace2)) == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	if out := outbound(t, trace2); len(out) == 0 || !strings.Contains(out[0], "127.0.0.2") {
		t.Fatalf("the trace shows no dial to the witness: %v", out)
	}
}

// outbound returns the connect() calls of a strace file to addresses
// other than 127.0.0.1 and ::1.
func outbound(t *testing.T, trace string) []string {
	t.Helper()
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, "sa_family=AF_INET,") && !strings.Contains(line, `inet_addr("127.0.0.1")`),
			strings.Contains(line, "sa_family=AF_INET6") && !strings.Contains(line, `inet_pton(AF_INET6, "::1"`):
			out = append(out, line)
		}
	}
	return out
}

// A vault with a real RFC 3161 time-stamping authority (OpenSSL's ts
// responder): packages carry tokens over their checkpoint, which
// custos-verify checks against the TSA's CA certificate and reports the
// attested time of, and which the stock `openssl ts -verify` accepts too;
// audit verify does the same for the newest checkpoint. A token of a TSA
// the user did not name establishes nothing; a package sealed while the
// TSA is down carries no token, and a verifier that wants one says so.
func TestTimestampedVault(t *testing.T) {
	ts := testenv.StartTSA(t)
	other := testenv.NewCA(t, "Another CA")
	s := newServer(t, "--tsa", ts.URL)
	work := t.TempDir()
	logKey, _ := vaultKey(t, s, work, "auditor")
	s.ok("investigator", work, "case", "open", "KH-2026-600", "--title", "time-stamped")
	file, _, _ := evidence(t, work, "ledger.csv", 5_000)
	s.ok("investigator", work, "deposit", "--case", "KH-2026-600", file)
	s.prosecutorRecipient(work)
	seal := func(name string) map[string]any {
		pkg := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-600", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
		s.ok("prosecutor", work, "package", "fetch", pkg["package"].(string), "-o", name)
		return pkg
	}
	seal("bundle.tar")

	r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey, "--tsa-cert", ts.CACertPEM, "--json")
	var res struct {
		Status     string
		Timestamps []struct{ Time, TSA string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Status != "verified" || len(res.Timestamps) != 1 {
		t.Fatalf("custos-verify --tsa-cert: %d %s %s", r.code, r.stdout, r.stderr)
	}
	at, err := time.Parse(time.RFC3339, res.Timestamps[0].Time)
	if err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Minute || !strings.Contains(res.Timestamps[0].TSA, "Custos test TSA") {
		t.Fatalf("attested %v (%v) by %q", at, err, res.Timestamps[0].TSA)
	}
	// The stock tool agrees: the token covers the checkpoint as the log
	// signed it.
	members := readTar(t, filepath.Join(work, "bundle.tar"))
	var token, cp []byte
	for _, m := range members {
		switch m.Name {
		case "timestamps/1.tst":
			token = m.Data
		case "checkpoint":
			cp = m.Data
		}
	}
	if token == nil || cp == nil {
		t.Fatal("the package has no timestamps/1.tst or checkpoint")
	}
	if err := testenv.OpenSSLVerifyToken(t, token, cp, ts.CACertPEM); err != nil {
		t.Fatalf("openssl ts -verify: %v", err)
	}
	checkTimestampByHand(t, logKey, cp, token, ts.CACertPEM)
	// Without --tsa-cert the token is noted, not taken as checked.
	r = s.run("", work, "custos-verify", "bundle.tar", "--key", logKey)
	if r.code != 0 || !strings.Contains(r.stdout, "not checked: give the time-stamping authority's certificate") {
		t.Fatalf("custos-verify without --tsa-cert: %d\n%s", r.code, r.stdout)
	}
	// Another CA's certificate: no token of a trusted TSA.
	r = s.run("", work, "custos-verify", "bundle.tar", "--key", logKey, "--tsa-cert", other.CertPEM)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "no time-stamp token is signed by a time-stamping authority whose certificate was given") ||
		!strings.Contains(r.stdout, "timestamps/1.tst: not counted: time-stamp token is not signed by a trusted time-stamping authority") {
		t.Fatalf("custos-verify with another CA: %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The tokens are stored beside their checkpoints, and a scrub takes
	// them for the vault's metadata.
	stored := len(storedObjects(s.data, "timestamps"))
	if stored == 0 || strings.Contains(s.logs.String(), "could not be stored") {
		t.Fatalf("%d time-stamp tokens stored:\n%s", stored, s.logs)
	}
	if sc := s.ok("auditor", work, "audit", "scrub", "--json").json(t); sc["ok"] != true {
		t.Fatalf("audit scrub with time-stamp tokens stored: %v", sc)
	}
	v := s.ok("auditor", work, "audit", "verify", "--tsa-cert", ts.CACertPEM, "--json").json(t)
	if stamps, _ := v["timestamps"].([]any); v["ok"] != true || len(stamps) != 1 {
		t.Fatalf("audit verify --tsa-cert answered %v", v)
	}
	if out := s.ok("auditor", work, "audit", "verify", "--tsa-cert", ts.CACertPEM).stdout; !strings.Contains(out, "time-stamped: the checkpoint of") {
		t.Fatalf("audit verify said:\n%s", out)
	}
	r = s.run("auditor", work, "custos", "audit", "verify", "--tsa-cert", other.CertPEM)
	if r.code == 0 || !strings.Contains(r.stderr, "carries no time-stamp token of a TSA whose certificate was given") {
		t.Fatalf("audit verify with another CA: %d\n%s", r.code, r.stderr)
	}

	// The tokens the object store keeps, with their notes, fetched and
	// checked by an auditor; bytes stored under one of their names by
	// someone else are named; only auditors fetch them.
	ta := s.ok("auditor", work, "audit", "timestamps", "-o", "stamps", "--tsa-cert", ts.CACertPEM, "--key", logKey, "--json").json(t)
	if ta["ok"] != true || ta["notes"].(float64) < 1 || ta["tokens"].(float64) < 1 || ta["verified"] != ta["tokens"] {
		t.Fatalf("audit timestamps: %v", ta)
	}
	if files, _ := os.ReadDir(filepath.Join(work, "stamps")); float64(len(files)) != ta["notes"].(float64)+ta["tokens"].(float64) {
		t.Fatalf("audit timestamps wrote %d files for %v", len(files), ta)
	}
	someNote := ""
	for _, p := range storedObjects(s.data, "timestamps") {
		if strings.HasSuffix(p, "-checkpoint") {
			someNote = p
		}
	}
	planted := strings.TrimSuffix(someNote, "-checkpoint") + "-0123456789abcdef"
	if someNote == "" || os.WriteFile(planted, []byte("not a token"), 0o644) != nil {
		t.Fatalf("could not plant a token beside %q", someNote)
	}
	r = s.run("auditor", work, "custos", "audit", "timestamps", "-o", "stamps2", "--tsa-cert", ts.CACertPEM)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED "+filepath.Base(planted)+": its bytes are not of the SHA-256 its name gives") {
		t.Fatalf("audit timestamps with a planted token: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Without the vault, the reproducible verifier checks the folder the
	// auditor fetched, and the object store's own folder, as the command
	// did: the planted token is named there too.
	r = s.run("", work, "custos-verify", "--timestamps", "stamps", "--key", logKey, "--tsa-cert", ts.CACertPEM)
	if m := regexp.MustCompile(`ok  ([0-9]+) tokens? verified over their notes`).FindStringSubmatch(r.stdout); r.code != 0 || m == nil || m[1] != fmt.Sprint(ta["tokens"]) || !strings.HasSuffix(r.stdout, "VERIFIED\n") {
		t.Fatalf("custos-verify --timestamps of the fetched folder: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = s.run("", work, "custos-verify", "--timestamps", filepath.Dir(planted), "--key", logKey, "--tsa-cert", ts.CACertPEM)
	if r.code != 1 || !strings.Contains(r.stdout, "FAILED "+filepath.Base(planted)+": its bytes are not of the SHA-256 its name gives") {
		t.Fatalf("custos-verify --timestamps of the store's folder with a planted token: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.Remove(planted)
	// An object of no vault's name in the folder is named too.
	stray := filepath.Join(filepath.Dir(someNote), "notes-of-mine")
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = s.run("auditor", work, "custos", "audit", "timestamps", "-o", "stamps4")
	if r.code != 1 || !strings.Contains(r.stdout, `FAILED "notes-of-mine": not a name the vault gives`) {
		t.Fatalf("audit timestamps with a stray object: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.Remove(stray)
	s.refused("investigator", work, "only auditors read the custody log", "audit", "timestamps", "-o", "stamps3")

	// The TSA is down: sealing still works, the package has no token,
	// the server says so, and a verifier that wants one fails.
	ts.Stop()
	if w, _ := seal("untimed.tar")["warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "no time-stamping authority time-stamped") {
		t.Fatalf("the sealer was not warned: %v", w)
	}
	if !s.logs.waitFor(regexp.MustCompile(`a package is sealed with a checkpoint no time-stamping authority time-stamped`)) {
		t.Fatalf("no warning for the untimed package:\n%s", s.logs)
	}
	// More checkpoints while it is down: the failure is logged once, not
	// once a checkpoint.
	s.ok("investigator", work, "case", "open", "KH-2026-601", "--title", "while the TSA is down")
	s.ok("auditor", work, "audit", "verify")
	if n := strings.Count(s.logs.String(), "did not time-stamp the custody log's checkpoint"); n != 1 {
		t.Fatalf("the TSA's failure logged %d times:\n%s", n, s.logs)
	}
	r = s.run("", work, "custos-verify", "untimed.tar", "--key", logKey, "--tsa-cert", ts.CACertPEM)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "carries no time-stamp token") {
		t.Fatalf("custos-verify of the untimed package: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// checkTimestampByHand runs the commands package-format.md section 4.1
// gives for checking a package's time-stamp token by hand with OpenSSL,
// as written there, on the package's checkpoint and token.
func checkTimestampByHand(t *testing.T, logKey string, cp, token []byte, caPEM string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/package-format.md")
	if err != nil {
		t.Fatal(err)
	}
	const intro = "One is checked by hand with OpenSSL"
	i := bytes.Index(doc, []byte(intro))
	if i < 0 {
		t.Fatalf("package-format.md no longer says %q", intro)
	}
	var script []string
	// The indented lines after the sentence, up to the first that is not.
	for _, line := range strings.Split(string(doc[i:]), "\n")[1:] {
		if strings.HasPrefix(line, "    ") {
			script = append(script, strings.TrimPrefix(line, "    "))
		} else if len(script) > 0 {
			break
		}
	}
	if len(script) == 0 {
		t.Fatal("package-format.md 4.1 gives no commands")
	}
	dir := t.TempDir()
	ca, err := os.ReadFile(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "timestamps"), 0o755)
	for name, b := range map[string][]byte{"checkpoint": cp, "timestamps/1.tst": token, "tsa-ca.pem": ca} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func() {
		t.Helper()
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", strings.ReplaceAll(strings.Join(script, "\n"), "NAME+HASH+BASE64", logKey))
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification: OK") {
			t.Fatalf("the commands of package-format.md 4.1:\n%s\n%v\n%s", strings.Join(script, "\n"), err, out)
		}
	}
	run()
	// A cosignature by another key of the log key's name: the commands
	// pick the log's line by the key's hash too.
	name, _, _ := strings.Cut(logKey, "+")
	other := base64.StdEncoding.EncodeToString(append([]byte{0xde, 0xad, 0xbe, 0xef}, make([]byte, 64)...))
	if err := os.WriteFile(filepath.Join(dir, "checkpoint"), append(bytes.Clone(cp), []byte("— "+name+" "+other+"\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	run()
}
