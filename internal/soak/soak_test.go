package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault/api"
	"golang.org/x/mod/sumdb/note"
)

// durationEnv names the whole soak's duration (a Go duration: 1h, 30m),
// split evenly between the configurations.
const durationEnv = "CUSTOS_SOAK_DURATION"

// binEnv, if set, names another folder holding custos and custos-verify
// to soak (default: the repository's bin/).
const binEnv = "CUSTOS_SOAK_BIN"

// A configuration is the backends one soak runs against.
type config struct {
	name string
	// backends starts what the server needs and returns its flags and
	// environment.
	backends func(t *testing.T) (flags, env []string)
}

var configs = []config{
	{name: "embedded", backends: func(*testing.T) ([]string, []string) { return nil, nil }},
	{name: "postgres_minio", backends: func(t *testing.T) ([]string, []string) {
		pg := testenv.StartPostgres(t)
		m := testenv.StartMinIO(t)
		return []string{"--log", pg.URL(t, "soak"), "--objects", m.URL("evidence"), "--retention", "1h"},
			[]string{"AWS_ACCESS_KEY_ID=" + m.AccessKey(), "AWS_SECRET_ACCESS_KEY=" + m.SecretKey()}
	}},
}

// TestSoak runs the server under a steady load for CUSTOS_SOAK_DURATION,
// half on the embedded defaults, half with PostgreSQL and MinIO. It fails
// if an operation fails, if memory, open files or goroutines grow, if
// `audit verify` or `audit scrub` does not pass, or if any acknowledged
// deposit does not read back.
func TestSoak(t *testing.T) {
	v := os.Getenv(durationEnv)
	if v == "" {
		t.Skipf("the soak test runs only when %s is set (for example `make soak DURATION=1h`); it is not part of `make test`", durationEnv)
	}
	total, err := time.ParseDuration(v)
	if err != nil || total < 2*time.Minute {
		t.Fatalf("%s=%q: want a duration of at least 2m (1h, 30m)", durationEnv, v)
	}
	bin := filepath.Join(testenv.Root(), "bin")
	if d := os.Getenv(binEnv); d != "" {
		bin = d
	}
	for _, name := range []string{"custos", "custos-verify"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Fatalf("%s is missing: build it first (`make build`; `make soak` does)", filepath.Join(bin, name))
		}
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) { soak(t, bin, c, total/time.Duration(len(configs))) })
	}
}

// The development persons the load signs in as.
var persons = []string{"investigator", "prosecutor", "auditor", "custodian", "defence", "analyst"}

func soak(t *testing.T, bin string, c config, d time.Duration) {
	flags, env := c.backends(t)
	s := startServer(t, bin, flags, env)
	l := setUp(t, s)

	// One sample every minute, or twelve over a shorter soak.
	interval := time.Minute
	if d < 12*time.Minute {
		interval = d / 12
	}
	n := int(d / interval)
	rss := series{name: "resident memory", unit: "MiB", tol: rssTolerance}
	fds := series{name: "open files", unit: "count", tol: fdTolerance}
	gor := series{name: "goroutines", unit: "count", tol: goroutineTolerance}
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	began := time.Now()
	l.start(stop, &wg)
	cpu0, lastCPU, lastAt := 0.0, 0.0, began
	for i := 0; i <= n; i++ {
		select {
		case <-time.After(time.Until(began.Add(time.Duration(i) * interval))):
		case <-s.exited:
			cancel()
			t.Fatalf("the server exited during the soak:\n%s", s.logTail())
		}
		mib, open, cpu, err := s.proc()
		if err != nil {
			t.Errorf("sample %d: %v", i, err)
			continue
		}
		g, err := s.goroutines(context.Background())
		if err != nil {
			t.Errorf("sample %d: %v", i, err)
			continue
		}
		items := float64(l.deposits.Load())
		rss.add(mib, items)
		fds.add(float64(open), items)
		gor.add(float64(g), items)
		pct := "-"
		if i == 0 {
			cpu0 = cpu
		} else {
			pct = fmt.Sprintf("%.0f", 100*(cpu-lastCPU)/time.Since(lastAt).Seconds())
		}
		lastCPU, lastAt = cpu, time.Now()
		fmt.Printf("sample %s %2d/%d t=%s rss_mib=%.1f open_files=%d goroutines=%d server_cpu_pct=%s deposits=%d views=%d packages=%d refusals=%d checkpoints=%d errors=%d\n",
			c.name, i, n, time.Since(began).Round(time.Second), mib, open, g, pct,
			l.deposits.Load(), l.views.Load(), l.packages.Load(), l.refusals.Load(), l.newCheckpoints.Load(), l.nerrors())
	}
	cancel()
	wg.Wait()
	loaded := time.Since(began)
	serverCPU := 100 * (lastCPU - cpu0) / lastAt.Sub(began).Seconds()

	if nerr, errs := l.errors(); nerr > 0 {
		t.Errorf("%d operations failed during the soak; the first ones:\n%s", nerr, strings.Join(errs, "\n"))
	}
	for _, s := range []series{rss, fds, gor} {
		mid, last, limit, grew, err := s.judge()
		switch {
		case err != nil:
			t.Error(err)
		case grew:
			t.Errorf("%s grew: median %.1f in the second third, %.1f in the last (limit %.1f)\n%s", s.name, mid, last, limit, s)
		default:
			fmt.Printf("verdict %s %s flat: median %.1f in the second third, %.1f in the last (limit %.1f)\n", c.name, s.name, mid, last, limit)
		}
	}

	// The load has stopped: audit the log and every object, then read
	// back every acknowledged deposit.
	at := time.Now()
	var verified struct {
		Events      int64 `json:"events"`
		Checkpoints int64 `json:"checkpoints"` // those checked: the stored ones, and the newest
		OK          bool  `json:"ok"`
	}
	auditCLI(t, s, &verified, "audit", "verify", "--json")
	verifyTime := time.Since(at)
	if !verified.OK {
		t.Errorf("audit verify: %+v", verified)
	}
	at = time.Now()
	var scrubbed struct {
		Objects int64 `json:"objects"`
		OK      bool  `json:"ok"`
	}
	auditCLI(t, s, &scrubbed, "audit", "scrub", "--json")
	scrubTime := time.Since(at)
	items := l.acknowledged()
	if !scrubbed.OK || scrubbed.Objects < int64(len(items)) {
		t.Errorf("audit scrub: %+v, for %d acknowledged deposits", scrubbed, len(items))
	}
	at = time.Now()
	if failed := l.readBack(items); len(failed) > 0 {
		t.Errorf("%d of %d acknowledged deposits did not read back:\n%s", len(failed), len(items), strings.Join(failed[:min(len(failed), 20)], "\n"))
	}
	readTime := time.Since(at)
	l.refusalRecorded(t)

	s.stop()
	errLines, warnLines := s.logLines("ERROR"), s.logLines("WARN")
	if len(errLines) > 0 {
		t.Errorf("the server logged %d errors; the first ones:\n%s", len(errLines), strings.Join(errLines[:min(len(errLines), 20)], "\n"))
	}
	if len(warnLines) > 0 {
		t.Logf("the server logged %d warnings; the first ones:\n%s", len(warnLines), strings.Join(warnLines[:min(len(warnLines), 20)], "\n"))
	}

	metric := func(name string, value any, unit string) {
		fmt.Printf("metric soak_%s_%s %v %s\n", c.name, name, value, unit)
	}
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	metric("load_minutes", f1(loaded.Minutes()), "min")
	metric("deposits", l.deposits.Load(), "count")
	metric("deposit_mib", f1(float64(l.depositBytes.Load())/(1<<20)), "MiB")
	metric("views", l.views.Load(), "count")
	metric("view_mib", f1(float64(l.viewBytes.Load())/(1<<20)), "MiB")
	metric("packages", l.packages.Load(), "count")
	metric("packages_verified", l.verified.Load(), "count")
	metric("refusals", l.refusals.Load(), "count")
	metric("checkpoints_read", l.checkpoints.Load(), "count")
	metric("checkpoints_new", l.newCheckpoints.Load(), "count")
	metric("consistency_proofs", l.proofs.Load(), "count")
	metric("errors", l.nerrors(), "count")
	metric("server_cpu_pct", fmt.Sprintf("%.0f", serverCPU), "%")
	if len(rss.vals) > 0 {
		metric("rss_mib_start", f1(rss.vals[0]), "MiB")
		metric("rss_mib_end", f1(rss.vals[len(rss.vals)-1]), "MiB")
		metric("open_files_start", fds.vals[0], "count")
		metric("open_files_end", fds.vals[len(fds.vals)-1], "count")
		metric("goroutines_start", gor.vals[0], "count")
		metric("goroutines_end", gor.vals[len(gor.vals)-1], "count")
	}
	metric("log_events", verified.Events, "count")
	metric("log_checkpoints_checked", verified.Checkpoints, "count")
	metric("audit_verify_s", f1(verifyTime.Seconds()), "s")
	metric("scrubbed_objects", scrubbed.Objects, "count")
	metric("audit_scrub_s", f1(scrubTime.Seconds()), "s")
	metric("read_back", l.readbacks.Load(), "count")
	metric("read_back_s", f1(readTime.Seconds()), "s")
	metric("server_log_errors", len(errLines), "count")
	metric("server_log_warnings", len(warnLines), "count")
	passed := 1
	if t.Failed() {
		passed = 0
	}
	metric("passed", passed, "bool")
}

func (l *load) nerrors() int {
	n, _ := l.errors()
	return n
}

// setUp signs the development persons in, opens the cases, registers the
// prosecutor's and defence counsel's age recipients and deposits one
// item a case.
func setUp(t *testing.T, s *server) *load {
	t.Helper()
	ctx := context.Background()
	l := &load{s: s, tokens: map[string]string{}, idents: map[string]string{}}
	for _, p := range persons {
		l.tokens[p] = s.session(p)
	}
	var key api.KeyResponse
	if code, b, err := s.do(ctx, l.tokens["auditor"], "GET", "/v1/log/key", "", nil, &key); err != nil || code != http.StatusOK {
		t.Fatalf("GET /v1/log/key: HTTP %d %v %s", code, err, b)
	}
	v, err := note.NewVerifier(key.Key)
	if err != nil {
		t.Fatal(err)
	}
	l.origin, l.key, l.verifier = key.Origin, key.Key, v
	for i := 1; i <= 4; i++ {
		id := fmt.Sprintf("SOAK-%d", i)
		body, _ := json.Marshal(api.CaseRequest{Case: id, Title: fmt.Sprintf("soak case %d", i)})
		if code, b, err := s.do(ctx, l.tokens["investigator"], "POST", "/v1/cases", "application/json", bytes.NewReader(body), nil); err != nil || code != http.StatusCreated {
			t.Fatalf("open case %s: HTTP %d %v %s", id, code, err, b)
		}
		l.cases = append(l.cases, id)
	}
	for _, p := range []string{"prosecutor", "defence"} {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(s.tmp, p+".key")
		if err := os.WriteFile(path, []byte(id.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		l.idents[p] = path
		body, _ := json.Marshal(api.RecipientRequest{Recipient: id.Recipient().String()})
		if code, b, err := s.do(ctx, l.tokens[p], "POST", "/v1/recipient", "application/json", bytes.NewReader(body), nil); err != nil || code != http.StatusOK {
			t.Fatalf("recipient of %s: HTTP %d %v %s", p, code, err, b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	src := rand.NewChaCha8([32]byte{'s', 'e', 'e', 'd'})
	buf := make([]byte, maxDeposit)
	for range l.cases {
		if err := l.deposit(ctx, r, src, buf); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// auditCLI runs `custos VERB...` as the auditor and decodes its JSON.
func auditCLI(t *testing.T, s *server, out any, args ...string) {
	t.Helper()
	stdout, stderr, code, err := s.run("auditor", "custos", args...)
	if err != nil || code != 0 {
		t.Errorf("custos %s: exit %d %v\n%s%s", strings.Join(args, " "), code, err, stdout, stderr)
		return
	}
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Errorf("custos %s: %v\n%s", strings.Join(args, " "), err, stdout)
	}
}

// refusalRecorded checks that a prosecutor's refused view is in the
// item's custody timeline.
func (l *load) refusalRecorded(t *testing.T) {
	t.Helper()
	if l.refusedFor == "" {
		t.Error("no refused view to look for")
		return
	}
	var tl struct {
		Events []struct {
			Type  string `json:"type"`
			Actor struct {
				Role string `json:"role"`
			} `json:"actor"`
		} `json:"events"`
	}
	if code, b, err := l.s.do(context.Background(), l.tokens["auditor"], "GET", "/v1/log/timeline?item="+l.refusedFor, "", nil, &tl); err != nil || code != http.StatusOK {
		t.Errorf("timeline of %s: HTTP %d %v %s", l.refusedFor, code, err, b)
		return
	}
	for _, e := range tl.Events {
		if e.Type == "access.refused" && e.Actor.Role == "prosecutor" {
			return
		}
	}
	t.Errorf("the prosecutor's refused view of %s is not in its timeline", l.refusedFor)
}
