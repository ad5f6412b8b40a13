package soak

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// server is one `bin/custos server --dev` process with its backends.
type server struct {
	t       *testing.T
	bin     string // folder holding custos and custos-verify
	data    string
	tmp     string // the server's TMPDIR and the clients' config folders
	logPath string // everything the server printed
	cmd     *exec.Cmd
	exited  chan struct{}
	url     string
	client  *http.Client
}

// startServer runs the development server with extra flags and
// environment and waits for its "listening on URL" line.
func startServer(t *testing.T, bin string, extra, env []string) *server {
	t.Helper()
	root := t.TempDir()
	s := &server{t: t, bin: bin, data: filepath.Join(root, "data"), tmp: filepath.Join(root, "tmp"),
		logPath: filepath.Join(root, "server.log"), exited: make(chan struct{})}
	if err := os.Mkdir(s.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"server", "--dev", "--data", s.data, "--listen", testenv.Addr(testenv.FreePort(t))}, extra...)
	s.cmd = exec.Command(filepath.Join(bin, "custos"), args...)
	s.cmd.Env = append(append(os.Environ(), "TMPDIR="+s.tmp), env...)
	logf, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ready := make(chan string, 1)
	go func() {
		defer logf.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if i := strings.Index(line, "listening on "); i >= 0 {
				select {
				case ready <- strings.Trim(line[i+len("listening on "):], `"`):
				default:
				}
			}
		}
	}()
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	select {
	case s.url = <-ready:
	case <-s.exited:
		t.Fatalf("the server exited while starting:\n%s", s.logTail())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the server did not start:\n%s", s.logTail())
	}
	// Every worker shares one pool of connections, well under the
	// server's --max-conns-per-client (64).
	s.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}}
	return s
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server with SIGTERM and says so if it does not stop
// cleanly.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if !s.cmd.ProcessState.Success() {
			s.t.Errorf("the server did not stop cleanly on SIGTERM: %v\n%s", s.cmd.ProcessState, s.logTail())
		}
	case <-time.After(time.Minute):
		s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("the server ignored SIGTERM for a minute")
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// logLines returns the lines the server logged at level (ERROR, WARN).
func (s *server) logLines(level string) []string {
	b, _ := os.ReadFile(s.logPath)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "level="+level+" ") {
			out = append(out, line)
		}
	}
	return out
}

// env returns a development person's environment, from the .env file the
// server wrote, with a config folder of their own.
func (s *server) env(person string) []string {
	b, err := os.ReadFile(filepath.Join(s.data, "dev", person+".env"))
	if err != nil {
		panic(err) // written at the server's first start, before any caller
	}
	env := append(os.Environ(), "CUSTOS_CONFIG_DIR="+filepath.Join(s.tmp, "config-"+person))
	for _, line := range strings.Split(string(b), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			env = append(env, kv)
		}
	}
	return env
}

// session signs a development person in with their local credential
// (POST /v1/sessions) and returns the session token.
func (s *server) session(person string) string {
	s.t.Helper()
	cred := ""
	for _, kv := range s.env(person) {
		if v, ok := strings.CutPrefix(kv, "CUSTOS_TOKEN="); ok {
			cred = v
		}
	}
	var out struct {
		Token string `json:"token"`
	}
	body, _ := json.Marshal(map[string]string{"credential": cred})
	if code, b, err := s.do(context.Background(), "", "POST", "/v1/sessions", "application/json", bytes.NewReader(body), &out); err != nil || code != http.StatusCreated {
		s.t.Fatalf("sign-in of %s: HTTP %d %v %s", person, code, err, b)
	}
	return out.Token
}

// do sends one request with a bearer token ("" for none) and decodes a
// JSON answer into out when out is not nil and the answer is a success.
// It returns the status, the body (when out is nil or on failure) and
// any transport error.
func (s *server) do(ctx context.Context, token, method, path, ctype string, body io.Reader, out any) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, body)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, err
	}
	if out != nil && resp.StatusCode < 300 {
		return resp.StatusCode, nil, json.Unmarshal(b, out)
	}
	return resp.StatusCode, b, nil
}

// run runs one of the binaries as a development person ("" for nobody)
// and returns its standard output, standard error and exit code. It is
// safe to call from the load's goroutines.
func (s *server) run(person, name string, args ...string) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.tmp
	if person != "" {
		cmd.Env = s.env(person)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode(), nil
	}
	return o.String(), e.String(), 0, err
}

// proc reads the server's resident memory (MiB), open files and CPU time
// (seconds, user and system) from /proc.
func (s *server) proc() (rssMiB float64, openFiles int, cpu float64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			kb, err := strconv.ParseFloat(f[0], 64)
			if err != nil || len(f) != 2 || f[1] != "kB" {
				return 0, 0, 0, fmt.Errorf("VmRSS line %q", line)
			}
			rssMiB = kb / 1024
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid()))
	if err != nil {
		return 0, 0, 0, err
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0, 0, 0, err
	}
	// The fields after the command name, which is in parentheses:
	// utime and stime are the 14th and 15th fields, in clock ticks.
	rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return rssMiB, len(fds), (utime + stime) / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go runs on.
const clockTicks = 100

// goroutines reads go_goroutines from the server's GET /metrics.
func (s *server) goroutines(ctx context.Context) (int, error) {
	code, b, err := s.do(ctx, "", "GET", "/metrics", "", nil, nil)
	if err != nil || code != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: HTTP %d %v", code, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			return strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return 0, fmt.Errorf("GET /metrics has no go_goroutines:\n%s", b)
}
