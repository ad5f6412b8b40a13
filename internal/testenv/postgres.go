package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Postgres is a real PostgreSQL server on 127.0.0.1 with its own cluster in
// a temporary folder. It can be stopped and started again on the same
// folder and port, so fault tests can take the database away mid-write.
//
// initdb and the server refuse to run as root, and CI runs tests as root:
// then the cluster folder is created outside the test's own temp folder
// (whose parents are private to root), handed to the postgres system user,
// and every server command runs through runuser.
type Postgres struct {
	bin    string // folder holding initdb, pg_ctl, createdb
	dir    string // holds data/, sock/ and server.log
	port   int
	asUser string // system user the server runs as, or "" for ourselves

	mu      sync.Mutex
	running bool
	dbs     int
}

// pgUser is the superuser the clusters are initialised with; local
// connections are trusted, so it needs no password.
const pgUser = "custos"

// StartPostgres starts a PostgreSQL server for this test alone and stops it
// and removes its cluster when the test ends. A missing installation skips
// the test (fails it under `make test`). Tests that only need a database
// should prefer SharedPostgres: each start costs a second or two.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	p, err := newPostgres(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(); os.RemoveAll(p.dir) })
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

var sharedPG struct {
	sync.Mutex
	p   *Postgres
	err error
}

// SharedPostgres returns the server shared by every test of the test
// binary, starting it on first use. Tests must not stop it; each uses its
// own database (URL). The package's TestMain must call StopSharedPostgres
// after m.Run, or the server outlives the tests.
func SharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	pgBin(t) // skips before taking the lock when PostgreSQL is missing
	sharedPG.Lock()
	defer sharedPG.Unlock()
	if sharedPG.p == nil && sharedPG.err == nil {
		p, err := newPostgres(t)
		if err == nil {
			if err = p.Start(); err != nil {
				os.RemoveAll(p.dir)
			}
		}
		sharedPG.p, sharedPG.err = p, err
	}
	if sharedPG.err != nil {
		t.Fatalf("shared postgres: %v", sharedPG.err)
	}
	return sharedPG.p
}

// StopSharedPostgres stops the shared server, if one was started, and
// removes its cluster. Call it from TestMain after m.Run.
func StopSharedPostgres() {
	sharedPG.Lock()
	defer sharedPG.Unlock()
	if sharedPG.p != nil && sharedPG.err == nil {
		sharedPG.p.Stop()
		os.RemoveAll(sharedPG.p.dir)
	}
	sharedPG.p, sharedPG.err = nil, nil
}

// pgBin finds the newest installed PostgreSQL's bin folder
// (/usr/lib/postgresql/VERSION/bin, the Debian layout).
func pgBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	Missing(t, "PostgreSQL is not installed (Debian package postgresql; run `make tools`)")
	return ""
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func newPostgres(t testing.TB) (*Postgres, error) {
	bin := pgBin(t)
	p := &Postgres{bin: bin, port: FreePort(t)}
	dir, err := os.MkdirTemp("", "custos-pg-")
	if err != nil {
		return nil, err
	}
	p.dir = dir
	if err := os.Mkdir(p.sock(), 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			Missing(t, "running as root and there is no postgres system user to run the server as (Debian package postgresql creates it)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{dir, filepath.Join(dir, "sock")} {
			if err := os.Chown(d, uid, gid); err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
		}
		p.asUser = "postgres"
	}
	out, err := p.run("initdb", "-D", p.data(), "-U", pgUser, "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return p, nil
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }
func (p *Postgres) sock() string { return filepath.Join(p.dir, "sock") }
func (p *Postgres) log() string  { return filepath.Join(p.dir, "server.log") }

// run runs one of the server's commands, as the postgres user when we
// are root.
func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if p.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// Start runs the server and waits until it accepts connections. Starting
// a running server does nothing.
func (p *Postgres) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return nil
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=200", p.port, p.sock())
	out, err := p.run("pg_ctl", "start", "-D", p.data(), "-l", p.log(), "-w", "-t", "60", "-o", opts)
	if err != nil {
		return fmt.Errorf("pg_ctl start on port %d: %w\n%s\n%s", p.port, err, out, tail(p.log()))
	}
	p.running = true
	return nil
}

// Stop ends the server in fast mode: open transactions are rolled back
// and every client is disconnected, as when a database host goes down
// cleanly. The cluster stays for Start. Stopping a stopped server does
// nothing.
func (p *Postgres) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return
	}
	if out, err := p.run("pg_ctl", "stop", "-D", p.data(), "-m", "fast", "-w", "-t", "60"); err != nil {
		// Leave a trace; a cleanup has no test to fail.
		fmt.Fprintf(os.Stderr, "testenv: pg_ctl stop: %v\n%s\n", err, out)
		return
	}
	p.running = false
}

// Crash stops the server at once, as a power loss would (pg_ctl -m
// immediate: no backend finishes what it was doing, and the next Start
// recovers from the write-ahead log).
func (p *Postgres) Crash() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return
	}
	if out, err := p.run("pg_ctl", "stop", "-D", p.data(), "-m", "immediate", "-w", "-t", "60"); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: pg_ctl stop -m immediate: %v\n%s\n", err, out)
		return
	}
	p.running = false
}

// URL creates a new, empty database named after dbname (made unique on
// this server) and returns its postgres:// URL for the superuser.
func (p *Postgres) URL(t testing.TB, dbname string) string {
	t.Helper()
	p.mu.Lock()
	p.dbs++
	name := fmt.Sprintf("%s_%d", sanitizeDB(dbname), p.dbs)
	p.mu.Unlock()
	out, err := p.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", pgUser, name)
	if err != nil {
		t.Fatalf("createdb %s: %v\n%s", name, err, out)
	}
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", pgUser, Addr(p.port), name)
}

// sanitizeDB turns a test name into a database name: lower case letters,
// digits and underscores, short enough for PostgreSQL's 63-byte limit.
func sanitizeDB(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 48 {
		name = name[len(name)-48:]
	}
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		name = "db_" + name
	}
	return name
}
