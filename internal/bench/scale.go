package bench

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/custos-vault/custos/vault"
)

// How a vault's costs grow with its custody log (issue #18, section 1).
//
// For each size, Scale makes a development vault's data folder the way
// a person does (one `custos server --dev` start), fills its custody log
// in process with a history of that many events (scalegen.go), and then
// measures the server as an operator and an auditor meet it: how long it
// takes to start and how much memory it holds, its memory after an hour
// of ordinary work through the API, a case timeline of about 1,000
// events, and `custos audit verify` over the whole log. It measures
// whatever the server does at start (replay, or a snapshot once there is
// one), so it can be rerun unchanged after start-up work.

// ScaleLabel names a log size in metric names: 100k, 1m, 10m.
func ScaleLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "m"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// Scale measures a vault whose custody log holds n generated events (see
// the file's comment); progress goes to progress (nil: nowhere). The data
// folder is made under dir and removed at the end, unless keep is set:
// then it is keep/scale-LABEL, kept, with the generated history's
// description in keep/scale-LABEL.json, and a later run with the same
// keep measures that folder again instead of generating a new one (the
// log then also holds the earlier runs' hour of work).
func Scale(custos, dir string, n int, progress io.Writer, keep string) ([]Metric, error) {
	if progress == nil {
		progress = io.Discard
	}
	label := ScaleLabel(n)
	// Progress lines carry the machine's load: other work on it moves
	// the wall-clock figures.
	say := func(format string, args ...any) {
		b, _ := os.ReadFile("/proc/loadavg")
		load, _, _ := strings.Cut(string(b), " ")
		fmt.Fprintf(progress, "scale %s: %s (load %s)\n", label, fmt.Sprintf(format, args...), load)
	}
	data := filepath.Join(dir, "scale-"+label)
	if keep != "" {
		data = filepath.Join(keep, "scale-"+label)
	}
	logPath := data + ".log"
	kept, err := keptHistory(data + ".json")
	if err != nil {
		return nil, err
	}
	if keep == "" {
		os.RemoveAll(data)
		defer os.RemoveAll(data)
		defer os.Remove(logPath)
	} else if kept == nil {
		os.RemoveAll(data)
		os.Remove(logPath)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	fail := func(step string, err error) ([]Metric, error) {
		tail, _ := os.ReadFile(logPath)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		return nil, fmt.Errorf("%s: %w\nserver log (end):\n%s", step, err, tail)
	}

	g := kept
	if g == nil {
		// The data folder as a first start makes it: keys, the log's
		// opening, the development persons.
		first, _, err := startScaleServer(custos, data, logPath, time.Minute)
		if err != nil {
			return fail("first start", err)
		}
		if err := first.stop(); err != nil {
			return fail("stopping the first start", err)
		}
		t0 := time.Now()
		g, err = generateHistory(data, n, logPath, progress)
		if err != nil {
			return fail("generating the history", err)
		}
		g.Generated = time.Since(t0)
		say("generated %d events in %.0f s (%s; %d checkpoints, %.0f us each at a start)", g.Size, g.Generated.Seconds(), g.Mix,
			g.Checkpoints, float64(g.CheckpointCost)/float64(time.Microsecond))
		if keep != "" {
			if err := keepHistory(data+".json", g); err != nil {
				return nil, err
			}
		}
	} else {
		// A kept folder: one start and stop first, so that the start
		// measured resumes from a snapshot this build wrote (an older
		// build's is discarded, and the state replayed, at this one).
		say("measuring the kept folder %s (generated in %.0f s)", data, g.Generated.Seconds())
		w, warm, err := startScaleServer(custos, data, logPath, time.Hour)
		if err != nil {
			return fail("warm-up start", err)
		}
		if err := w.stop(); err != nil {
			return fail("stopping the warm-up start", err)
		}
		say("warm-up start in %.2f s", warm.Seconds())
	}
	genTime := g.Generated
	disk, err := folderSize(data)
	if err != nil {
		return nil, err
	}

	// The start an operator waits for.
	startedAt := time.Now()
	s, startup, err := startScaleServer(custos, data, logPath, time.Hour)
	if err != nil {
		return fail("start", err)
	}
	defer s.stop()
	startCPU, err := processCPU(s.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	rss, err := processRSS(s.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	say("started in %.2f s (%.2f s of CPU), %.0f MiB resident", startup.Seconds(), startCPU.Seconds(), rss)

	// An hour of a national unit's work, through the API.
	appended, err := scaleHour(s, g)
	if err != nil {
		return fail("an hour of work", err)
	}
	rssAfter, err := processRSS(s.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	say("an hour of work appended %d events; %.0f MiB resident", appended, rssAfter)

	// A case's timeline, as an auditor asks for it.
	auditor, err := signIn(s.url, personCredential(data, "auditor"))
	if err != nil {
		return fail("auditor sign-in", err)
	}
	tlFirst, tlMedian, tlEvents, err := scaleTimeline(s.url, auditor, g.TimelineCase, 9)
	if err != nil {
		return fail("case timeline", err)
	}
	rssTimeline, err := processRSS(s.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	say("timeline of %d events: first %.1f ms, median %.1f ms; %.0f MiB resident", tlEvents, tlFirst, tlMedian, rssTimeline)

	// The checks a start runs beside the serving vault (of the events
	// the snapshot covered, one read of the whole log, and then the
	// store's own quick_check, another) share the cores with whatever
	// runs first: the work and the timeline above ran beside them, as
	// they would after a restart; the audit is measured after them.
	if err := s.settle(settleLimit(uint64(n))); err != nil {
		return fail("waiting for the checks after the start", err)
	}
	checksDone := time.Since(startedAt)
	say("the server's checks after the start ended %.1f s after it", checksDone.Seconds())

	// The auditor's replay of the whole log: `custos audit verify`
	// downloads the log from the running server and checks it locally
	// (docs/cli.md), so the server stays up for it.
	serverBefore, err := processCPU(s.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	av, err := scaleAuditVerify(custos, s.url, personCredential(data, "auditor"), dir)
	if err != nil {
		return fail("audit verify", err)
	}
	logKey, err := scaleLogKey(s.url, auditor)
	if err != nil {
		return fail("the log's key", err)
	}
	serverAfter, err := processCPU(s.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	say("audit verify: %d events in %.1f s (%.1f s of its CPU, %.1f s of the server's), peak %.0f MiB",
		av.events, av.elapsed.Seconds(), av.cpu.Seconds(), (serverAfter - serverBefore).Seconds(), av.peakMiB)
	if err := s.stop(); err != nil {
		return fail("stopping the server", err)
	}
	// The same audit without the server (audit verify --store): the
	// log's file read by the auditor's process alone, which then has
	// both cores.
	keyFile := filepath.Join(dir, "scale-log.key")
	if err := os.WriteFile(keyFile, []byte(logKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	sv, err := scaleAuditVerify(custos, "", "", dir, "--store", filepath.Join(data, "custody.db"), "--key", keyFile)
	if err != nil {
		return fail("audit verify --store", err)
	}
	say("audit verify --store: %d events in %.1f s (%.1f s of its CPU), peak %.0f MiB", sv.events, sv.elapsed.Seconds(), sv.cpu.Seconds(), sv.peakMiB)
	// The start without a state snapshot: the first after an upgrade,
	// or after DATA/snapshots was removed (docs/state-snapshots.md).
	if err := os.RemoveAll(filepath.Join(data, "snapshots")); err != nil {
		return nil, err
	}
	r, replay, err := startScaleServer(custos, data, logPath, time.Hour)
	if err != nil {
		return fail("start without a snapshot", err)
	}
	replayRSS, err := processRSS(r.c.Process.Pid)
	if err != nil {
		return nil, err
	}
	if err := r.stop(); err != nil {
		return fail("stopping the server", err)
	}
	say("started without a state snapshot in %.2f s, %.0f MiB resident", replay.Seconds(), replayRSS)
	// A history the server cannot replay shows as a failed start; an
	// event the generator's vault could not apply, or lookups that
	// disagree with the signed events, show in the log.
	if b, err := os.ReadFile(logPath); err != nil {
		return nil, err
	} else if i := strings.Index(string(b), "level=ERROR"); i >= 0 {
		line, _, _ := strings.Cut(string(b[i:]), "\n")
		return nil, fmt.Errorf("the server or the generator logged an error: %s", line)
	}

	at := "_at_" + label + "_events"
	return []Metric{
		{"scale_generate_s" + at, genTime.Seconds(), "s"},
		{"scale_checkpoints" + at, float64(g.Checkpoints), "checkpoints"},
		{"startup_checkpoint_us" + at, float64(g.CheckpointCost) / float64(time.Microsecond), "us"},
		{"scale_data_mib" + at, float64(disk) / (1 << 20), "MiB"},
		{"startup_s" + at, startup.Seconds(), "s"},
		{"startup_without_snapshot_s" + at, replay.Seconds(), "s"},
		{"server_rss_without_snapshot_mib" + at, replayRSS, "MiB"},
		{"startup_cpu_s" + at, startCPU.Seconds(), "s"},
		{"server_rss_mib" + at, rss, "MiB"},
		{"hour_appended_events" + at, float64(appended), "events"},
		{"server_rss_after_appends_mib" + at, rssAfter, "MiB"},
		{"case_timeline_first_ms" + at, tlFirst, "ms"},
		{"case_timeline_ms" + at, tlMedian, "ms"},
		{"case_timeline_events" + at, float64(tlEvents), "events"},
		{"server_rss_after_timeline_mib" + at, rssTimeline, "MiB"},
		{"start_checks_done_s" + at, checksDone.Seconds(), "s"},
		{"audit_verify_events_per_s" + at, float64(av.events) / av.elapsed.Seconds(), "events/s"},
		{"audit_verify_cpu_s" + at, av.cpu.Seconds(), "s"},
		{"audit_verify_server_cpu_s" + at, (serverAfter - serverBefore).Seconds(), "s"},
		{"audit_verify_peak_rss_mib" + at, av.peakMiB, "MiB"},
		{"audit_verify_store_events_per_s" + at, float64(sv.events) / sv.elapsed.Seconds(), "events/s"},
		{"audit_verify_store_cpu_s" + at, sv.cpu.Seconds(), "s"},
		{"audit_verify_store_peak_rss_mib" + at, sv.peakMiB, "MiB"},
	}, nil
}

// scaleLogKey is the custody log's verifier key as the vault at base
// names it (GET /v1/log/key), for audit verify --store --key.
func scaleLogKey(base, token string) (string, error) {
	req, _ := http.NewRequest("GET", base+"/v1/log/key", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Key string `json:"key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Key == "" {
		return "", fmt.Errorf("log key: HTTP %d %v", resp.StatusCode, err)
	}
	return out.Key, nil
}

// keepHistory writes what keptHistory reads back.
func keepHistory(path string, g *history) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// keptHistory reads a kept history's description (nil if there is none).
func keptHistory(path string) (*history, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var g history
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &g, nil
}

// scaleServer is a `custos server --dev` whose start is timed: from the
// process's start to its log's "listening on" line.
type scaleServer struct {
	*devServer
	c   *exec.Cmd
	eof chan struct{}
	// checked is closed when the server logs that its log store's own
	// files passed their check (vault/snapshot_check.go, checkStore): the
	// last of the checks a start runs beside the serving vault, after
	// those of the snapshot's pages and of the events it covered.
	checked   chan struct{}
	checkOnce sync.Once
	stopOnce  sync.Once
	stopErr   error
}

// startScaleServer starts a development server on data, appending its
// log to logPath, and waits up to limit for it to listen.
func startScaleServer(custos, data, logPath string, limit time.Duration) (*scaleServer, time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, 0, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	c := exec.Command(custos, "server", "--dev", "--data", data, "--listen", "127.0.0.1:"+strconv.Itoa(port))
	c.Stdout = logf
	stderr, err := c.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, 0, err
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		logf.Close()
		return nil, 0, err
	}
	s := &scaleServer{devServer: &devServer{cmd: c.Process, url: base, data: data}, c: c, eof: make(chan struct{}), checked: make(chan struct{})}
	ready := make(chan time.Duration, 1)
	go func() {
		defer close(s.eof)
		defer logf.Close()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "listening on ") {
				select {
				case ready <- time.Since(start):
				default:
				}
			}
			if strings.Contains(line, "msg=\""+vault.LogStoreChecked+"\"") {
				s.checkOnce.Do(func() { close(s.checked) })
			}
			fmt.Fprintln(logf, line)
		}
	}()
	select {
	case d := <-ready:
		return s, d, nil
	case <-s.eof:
		err := c.Wait()
		return nil, 0, fmt.Errorf("the server stopped before listening: %v", err)
	case <-time.After(limit):
		s.stop()
		return nil, 0, fmt.Errorf("the server did not listen within %s", limit)
	}
}

// settle waits until the server has ended the checks a start runs beside
// the serving vault: the log line of the last of them, the store's own
// (vault.LogStoreChecked), which a server on the embedded store logs
// after every start. It fails if the server stops first, or if the line
// has not come within limit.
func (s *scaleServer) settle(limit time.Duration) error {
	select {
	case <-s.checked:
		return nil
	case <-s.eof:
		return errors.New("the server stopped before it ended the checks after its start")
	case <-time.After(limit):
		return fmt.Errorf("the server did not log %q within %v of its start", vault.LogStoreChecked, limit)
	}
}

// settleLimit is how long the checks after a start of a log of n events
// may take: two minutes, and two more a million events (they read the
// whole log twice: about 40 s at 10^7 on this machine).
func settleLimit(n uint64) time.Duration {
	return 2*time.Minute + time.Duration(n/1_000_000)*2*time.Minute
}

// stop interrupts the server and waits for it to exit.
func (s *scaleServer) stop() error {
	s.stopOnce.Do(func() {
		s.c.Process.Signal(os.Interrupt)
		<-s.eof
		s.stopErr = s.c.Wait()
	})
	return s.stopErr
}

// processRSS is a process's resident set (VmRSS) in MiB.
func processRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// personCredential is a development person's local credential, from the
// .env file the server wrote for them.
func personCredential(data, name string) string {
	b, _ := os.ReadFile(filepath.Join(data, "dev", name+".env"))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "export CUSTOS_TOKEN="); ok {
			return v
		}
	}
	return ""
}

// folderSize is the bytes of the regular files under dir.
func folderSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// scaleHour is an hour of a national unit's work (a few million events
// a year: about 1,500 events an hour of office time), through the API as
// the development investigator, four requests at a time: views of the
// items of their cases, requests for items of cases they are not
// assigned to (refused and recorded), failed and successful sign-ins, and
// two deposits. It returns how many events the log grew by.
func scaleHour(s *scaleServer, g *history) (int, error) {
	if len(g.HourItems) == 0 || len(g.OtherItems) == 0 || g.HourCase == "" {
		return 0, fmt.Errorf("the history has no items for the investigator's hour")
	}
	cred := personCredential(s.data, "investigator")
	tok, err := signIn(s.url, cred)
	if err != nil {
		return 0, err
	}
	s.token = tok
	before, err := logEvents(s.url)
	if err != nil {
		return 0, err
	}
	const views, refused, signIns, failedSignIns, workers = 700, 60, 12, 8, 4
	type job func(*http.Client) error
	var jobs []job
	rng := rand.New(rand.NewPCG(7, uint64(len(g.HourItems))))
	get := func(path string, want int) job {
		return func(c *http.Client) error {
			req, _ := http.NewRequest("GET", s.url+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				return fmt.Errorf("GET %s: HTTP %d, want %d", path, resp.StatusCode, want)
			}
			return nil
		}
	}
	purpose := url.QueryEscape("review for victim identification, request 2026/118")
	for range views {
		jobs = append(jobs, get("/v1/items/"+g.HourItems[rng.IntN(len(g.HourItems))]+"?purpose="+purpose, http.StatusOK))
	}
	for range refused {
		jobs = append(jobs, get("/v1/items/"+g.OtherItems[rng.IntN(len(g.OtherItems))]+"?purpose="+purpose, http.StatusNotFound))
	}
	for i := range signIns + failedSignIns {
		credential, want := cred, http.StatusCreated
		if i >= signIns {
			credential, want = "cst_not-a-credential-"+strconv.Itoa(i), http.StatusUnauthorized
		}
		jobs = append(jobs, func(c *http.Client) error {
			resp, err := c.Post(s.url+"/v1/sessions", "application/json", strings.NewReader(`{"credential":"`+credential+`"}`))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				return fmt.Errorf("sign-in: HTTP %d, want %d", resp.StatusCode, want)
			}
			return nil
		})
	}
	for range 2 {
		jobs = append(jobs, func(*http.Client) error {
			_, err := s.deposit(g.HourCase, 256<<10)
			return err
		})
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	next := make(chan job)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for j := range next {
				if err := j(c); err != nil {
					errs <- err
					for range next {
					}
					return
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	after, err := logEvents(s.url)
	return int(after - before), err
}

// logEvents is the custody log's size, from the server's metrics.
func logEvents(base string) (uint64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "custos_log_events "); ok {
			return strconv.ParseUint(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no custos_log_events in /metrics")
}

// scaleTimeline fetches a case's timeline (GET /v1/log/timeline?case=)
// as an auditor once, then rounds more times; it returns the first
// answer's time and the median of the others, in milliseconds, and how
// many events the timeline holds.
func scaleTimeline(base, token, caseID string, rounds int) (first, median float64, n int, err error) {
	fetch := func() (time.Duration, int, error) {
		req, _ := http.NewRequest("GET", base+"/v1/log/timeline?case="+url.QueryEscape(caseID), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		t := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		var out struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			return 0, 0, fmt.Errorf("timeline: HTTP %d %v", resp.StatusCode, err)
		}
		return time.Since(t), len(out.Events), nil
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	d, n, err := fetch()
	if err != nil {
		return 0, 0, 0, err
	}
	var ds []time.Duration
	for range rounds {
		d, _, err := fetch()
		if err != nil {
			return 0, 0, 0, err
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ms(d), ms(ds[len(ds)/2]), n, nil
}

// auditRun is what a run of `custos audit verify` took.
type auditRun struct {
	events  uint64
	elapsed time.Duration
	cpu     time.Duration // the process's user and system time
	peakMiB float64       // its peak resident set
}

// scaleAuditVerify runs `custos audit verify --json` as the development
// auditor against the server at base (with extra, such as --store FILE
// --key KEY, base and credential "" for none), the whole process timed,
// its peak resident set and CPU time taken from its rusage.
func scaleAuditVerify(custos, base, credential, dir string, extra ...string) (auditRun, error) {
	home, err := os.MkdirTemp(dir, "auditor-")
	if err != nil {
		return auditRun{}, err
	}
	defer os.RemoveAll(home)
	cmd := exec.Command(custos, append([]string{"audit", "verify", "--json"}, extra...)...)
	// The CLI keeps its session under the user's config folder: a
	// folder of its own here.
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home)
	if base != "" {
		cmd.Env = append(cmd.Env, "CUSTOS_SERVER="+base, "CUSTOS_TOKEN="+credential)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t := time.Now()
	if err := cmd.Start(); err != nil {
		return auditRun{}, err
	}
	// Its peak resident set, sampled while it runs (processPeakRSS says
	// why not from its rusage); the peak is a high-water mark, so the
	// last sample misses at most the last interval's growth.
	peak, sampled := 0.0, make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if p, err := processPeakRSS(cmd.Process.Pid); err == nil {
				peak = max(peak, p)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()
	err = cmd.Wait()
	close(stopSampling)
	<-sampled
	elapsed := time.Since(t)
	out := []byte(stdout.String())
	if err != nil {
		return auditRun{}, fmt.Errorf("%v: %s%s", err, out, stderr.String())
	}
	var res struct {
		Events uint64 `json:"events"`
		OK     bool   `json:"ok"`
	}
	if err := json.Unmarshal(out, &res); err != nil || !res.OK || res.Events == 0 {
		return auditRun{}, fmt.Errorf("audit verify answered %s (%v)", out, err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return auditRun{}, fmt.Errorf("no resource usage for audit verify")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if peak == 0 {
		return auditRun{}, fmt.Errorf("the peak resident set of audit verify was never read")
	}
	return auditRun{events: res.Events, elapsed: elapsed, cpu: cpu, peakMiB: peak}, nil
}

// randomHexOf is n random bytes from rng as lowercase hex.
func randomHexOf(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

// textLogger is the log of the vault opened in process.
func textLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
