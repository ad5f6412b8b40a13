// Package e2e drives the built binaries exactly as a user would: a
// development server on loopback, the custos client verbs with each
// person's credentials, the stock age CLI and sha256sum.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "custos-e2e-bin-")
	if err != nil {
		panic(err)
	}
	build := exec.Command("go", "build", "-o", dir+"/", "./cmd/custos", "./cmd/custos-verify")
	build.Dir = testenv.Root()
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building binaries:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `custos server --dev`.
type server struct {
	t      *testing.T
	data   string
	tmp    string // the server's TMPDIR
	listen string
	extra  []string
	envs   []string // extra environment of the server process
	// wrap, if set, runs the server under another command (strace).
	wrap []string
	// runEnv, if set, is added to the environment of the commands run.
	runEnv []string
	cmd    *exec.Cmd
	logs   *logBuffer
	url    string
}

// logBuffer collects a server's output; the reader goroutine writes while
// the test may read it for a failure message.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(line + "\n")
}

// waitFor reports whether the server's output matches re within half a
// minute (it returns as soon as it does; the bound is for a loaded
// machine): a line the server logged may still be on its way through the
// pipe when the client's answer arrives.
func (l *logBuffer) waitFor(re *regexp.Regexp) bool {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if re.MatchString(l.String()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newServer(t *testing.T, extra ...string) *server {
	return newServerEnv(t, nil, extra...)
}

func newServerEnv(t *testing.T, envs []string, extra ...string) *server {
	s := &server{t: t, data: filepath.Join(t.TempDir(), "data"), tmp: t.TempDir(),
		listen: testenv.Addr(testenv.FreePort(t)), extra: extra, envs: envs}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	args := append([]string{filepath.Join(binDir, "custos"), "server", "--dev", "--data", s.data, "--listen", s.listen}, s.extra...)
	args = append(slices.Clone(s.wrap), args...)
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Env = append(append(os.Environ(), "TMPDIR="+s.tmp), s.envs...)
	logs := new(logBuffer)
	s.logs = logs
	pr, pw, _ := os.Pipe()
	s.cmd.Stderr, s.cmd.Stdout = pw, pw
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	pw.Close()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			logs.add(line)
			if i := strings.Index(line, "listening on "); i >= 0 {
				ready <- strings.Trim(line[i+len("listening on "):], `"`)
			}
		}
	}()
	select {
	case s.url = <-ready:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("server did not start:\n%s", s.logs)
	}
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.serverProcess().Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("server did not stop cleanly on SIGTERM: %v\n%s", err, s.logs)
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		s.t.Errorf("server ignored SIGTERM")
	}
	s.cmd = nil
}

// serverProcess is the custos process: the command's, or under wrap its
// child (strace passes no signal on).
func (s *server) serverProcess() *os.Process {
	if len(s.wrap) == 0 {
		return s.cmd.Process
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", s.cmd.Process.Pid, s.cmd.Process.Pid))
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return s.cmd.Process
	}
	pid, _ := strconv.Atoi(f[0])
	p, err := os.FindProcess(pid)
	if err != nil {
		return s.cmd.Process
	}
	return p
}

func (s *server) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// env returns the environment of a dev person, read from the .env file
// the server wrote, as a user's shell would source it.
func (s *server) env(person string) []string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.data, "dev", person+".env"))
	if err != nil {
		s.t.Fatal(err)
	}
	// Each server's clients keep their sessions in a folder of the
	// server's own, as each user has their own config folder.
	env := append(os.Environ(), "CUSTOS_CONFIG_DIR="+filepath.Join(s.tmp, "config-"+person))
	for _, line := range strings.Split(string(b), "\n") {
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			env = append(env, kv)
		}
	}
	return env
}

// sessionToken signs in with a local credential (POST /v1/sessions) and
// returns the session's bearer token.
func sessionToken(t testing.TB, base, credential string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"credential": credential})
	resp, err := http.Post(base+"/v1/sessions", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign-in: HTTP %d %v", resp.StatusCode, err)
	}
	return out.Token
}

// credential returns a dev person's local credential and the server's
// address, from their .env file.
func (s *server) credential(person string) (base, credential string) {
	s.t.Helper()
	for _, kv := range s.env(person) {
		if v, ok := strings.CutPrefix(kv, "CUSTOS_SERVER="); ok {
			base = v
		}
		if v, ok := strings.CutPrefix(kv, "CUSTOS_TOKEN="); ok {
			credential = v
		}
	}
	if base == "" || credential == "" {
		s.t.Fatalf("no credentials for %s", person)
	}
	return base, credential
}

// session returns a new session token of a dev person.
func (s *server) session(person string) string {
	base, cred := s.credential(person)
	return sessionToken(s.t, base, cred)
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return m
}

// run runs a binary as person ("" for no credentials) in dir.
func (s *server) run(person, dir, bin string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	path := bin
	if !filepath.IsAbs(bin) {
		path = filepath.Join(binDir, bin)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	if person != "" {
		cmd.Env = s.env(person)
	}
	if len(s.runEnv) > 0 {
		cmd.Env = append(cmd.Environ(), s.runEnv...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs a custos verb and fails the test unless it succeeds.
func (s *server) ok(person, dir string, args ...string) result {
	s.t.Helper()
	r := s.run(person, dir, "custos", args...)
	if r.code != 0 {
		s.t.Fatalf("custos %s failed (%d): %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// refused runs a custos verb that must fail with a one-line reason.
func (s *server) refused(person, dir, want string, args ...string) result {
	s.t.Helper()
	r := s.run(person, dir, "custos", args...)
	if r.code == 0 {
		s.t.Fatalf("custos %s succeeded; it must be refused", strings.Join(args, " "))
	}
	if !strings.HasPrefix(r.stderr, "custos: error: ") || !strings.Contains(r.stderr, want) {
		s.t.Fatalf("custos %s: stderr %q does not say %q", strings.Join(args, " "), r.stderr, want)
	}
	return r
}
