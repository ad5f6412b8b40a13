package testenv

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Witness is a real C2SP tlog-witness on 127.0.0.1: litewitness (from
// filippo.io/torchwood), with its own SQLite database and an Ed25519
// signing key held by its own ssh-agent. Logs are registered by writing
// into the witness's database (its witnessctl does not build here). It
// can be stopped and started again on the same port, database and key,
// so tests can make a witness go away and come back.
//
// litewitness answers POST URL/add-checkpoint (C2SP tlog-witness): 200
// with cosignature lines (C2SP tlog-cosignature, verifiable with
// VKey), 409 with content type text/x.tlog.size and the size it holds
// when the request's old size is not that size, 422 for a consistency
// proof that does not verify, 403 for an origin it does not know or a
// checkpoint no registered key signed, 400 for a malformed body. It
// refuses bodies over 10 KiB.
type Witness struct {
	// Name is the witness's name (the cosigner name in its signatures).
	Name string
	// URL is the witness's base URL, http://127.0.0.1:PORT, to which
	// /add-checkpoint is appended.
	URL string
	// VKey is the witness's verifier key, a C2SP tlog-cosignature
	// (cosignature/v1, Ed25519) vkey as litewitness prints it:
	// NAME+KEYHASH+BASE64. golang.org/x/mod/sumdb/note does not know this
	// key type: verify with github.com/transparency-dev/formats/note's
	// NewVerifierForCosignatureV1.
	VKey string

	bin         string
	dir         string // holds the database, the key, the agent's socket and the logs
	port        int
	sock        string // the ssh-agent's socket
	fingerprint string // SHA256:... of the witness key
	pub         ed25519.PublicKey

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{} // closed when cmd has exited
	agent *exec.Cmd
	adone chan struct{} // closed when agent has exited
}

// StartWitness starts a witness named name for this test alone, and stops
// it and removes its folder when the test ends; if the test failed, the
// witness's log is written to the test log. A missing litewitness or
// OpenSSH client skips the test (fails it under `make test`). The name is
// URL-like (example.com/witness): a note name, without spaces or '+'.
func StartWitness(t testing.TB, name string) *Witness {
	t.Helper()
	bins := WitnessBinaries{Binary(t, "litewitness"), Binary(t, "ssh-agent"), Binary(t, "ssh-keygen"), Binary(t, "ssh-add")}
	w, err := LaunchWitness(bins, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("witness %s (%s) log:\n%s", w.Name, w.URL, tail(w.logPath()))
			t.Logf("witness %s ssh-agent log:\n%s", w.Name, tail(filepath.Join(w.dir, "agent.log")))
		}
		w.Close()
	})
	return w
}

// WitnessBinaries are the programs a witness runs: litewitness, and the
// stock OpenSSH client's ssh-agent, ssh-keygen and ssh-add.
type WitnessBinaries struct{ Litewitness, Agent, Keygen, Add string }

// FindWitnessBinaries finds the witness's programs in the project's tool
// folder or PATH, for callers outside tests (the benchmarks).
func FindWitnessBinaries() (WitnessBinaries, error) {
	var out [4]string
	for i, name := range []string{"litewitness", "ssh-agent", "ssh-keygen", "ssh-add"} {
		if p := filepath.Join(ToolsDir(), name); isExec(p) {
			out[i] = p
			continue
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return WitnessBinaries{}, fmt.Errorf("%s is not installed (run `make tools`)", name)
		}
		out[i] = p
	}
	return WitnessBinaries{out[0], out[1], out[2], out[3]}, nil
}

// LaunchWitness starts a witness as StartWitness does, for callers
// outside tests; Close stops it and removes its folder.
func LaunchWitness(bins WitnessBinaries, name string) (*Witness, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// The folder holds a Unix socket, whose path must stay short (about
	// 100 bytes): t.TempDir's paths grow with the test's name.
	dir, err := os.MkdirTemp("", "custos-witness-")
	if err != nil {
		return nil, err
	}
	w := &Witness{
		Name: name,
		bin:  bins.Litewitness,
		dir:  dir,
		port: port,
		sock: filepath.Join(dir, "agent.sock"),
	}
	w.URL = "http://" + Addr(w.port)
	if err := w.startAgent(bins.Agent, bins.Keygen, bins.Add); err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Start(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops the witness and its agent and removes its folder.
func (w *Witness) Close() {
	w.Stop()
	w.stopAgent()
	os.RemoveAll(w.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (w *Witness) logPath() string { return filepath.Join(w.dir, "litewitness.log") }
func (w *Witness) dbPath() string  { return filepath.Join(w.dir, "witness.db") }

// startAgent starts an ssh-agent on the witness's socket, generates an
// Ed25519 key with ssh-keygen and adds it to the agent.
func (w *Witness) startAgent(agentBin, keygen, add string) error {
	if len(w.sock) > 100 {
		return fmt.Errorf("ssh-agent socket path too long for a Unix socket: %s (set TMPDIR to a shorter folder)", w.sock)
	}
	key := filepath.Join(w.dir, "witness_key")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "custos test witness "+w.Name, "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v\n%s", err, out)
	}
	pubLine, err := os.ReadFile(key + ".pub")
	if err != nil {
		return err
	}
	w.fingerprint, w.pub, err = sshEd25519Key(pubLine)
	if err != nil {
		return fmt.Errorf("%s.pub: %w", key, err)
	}

	logf, err := os.OpenFile(filepath.Join(w.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	// -D: in the foreground, so that it is our child and stops with the test.
	agent := exec.Command(agentBin, "-D", "-a", w.sock)
	agent.Stdout, agent.Stderr = logf, logf
	if err := agent.Start(); err != nil {
		return fmt.Errorf("starting ssh-agent: %w", err)
	}
	done := make(chan struct{})
	go func() { agent.Wait(); close(done) }()
	w.agent, w.adone = agent, done
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("ssh-agent exited while starting\n%s", tail(filepath.Join(w.dir, "agent.log")))
		default:
		}
		if c, err := net.Dial("unix", w.sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return errors.New("ssh-agent: no socket after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	cmd := exec.Command(add, "-q", key)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+w.sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-add: %v\n%s", err, out)
	}
	return nil
}

func (w *Witness) stopAgent() {
	if w.agent == nil {
		return
	}
	w.agent.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.adone:
	case <-time.After(5 * time.Second):
		w.agent.Process.Kill()
		<-w.adone
	}
	w.agent = nil
}

// sshEd25519Key reads an OpenSSH public key line ("ssh-ed25519 BASE64
// comment") and returns its SHA256 fingerprint as ssh-keygen -l prints
// it and the Ed25519 public key.
func sshEd25519Key(line []byte) (string, ed25519.PublicKey, error) {
	f := strings.Fields(string(line))
	if len(f) < 2 || f[0] != "ssh-ed25519" {
		return "", nil, errors.New("not an ssh-ed25519 public key")
	}
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return "", nil, err
	}
	// The blob is string "ssh-ed25519", string key (RFC 4253 strings: a
	// 32-bit big-endian length, then the bytes).
	rest := blob
	var parts [][]byte
	for len(rest) > 0 {
		if len(rest) < 4 {
			return "", nil, errors.New("truncated key blob")
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return "", nil, errors.New("truncated key blob")
		}
		parts = append(parts, rest[4:4+n])
		rest = rest[4+n:]
	}
	if len(parts) != 2 || string(parts[0]) != "ssh-ed25519" || len(parts[1]) != ed25519.PublicKeySize {
		return "", nil, errors.New("malformed ssh-ed25519 key blob")
	}
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), ed25519.PublicKey(parts[1]), nil
}

// Start runs litewitness on the witness's port, database and key, waits
// until it serves HTTP, and reads its verifier key from its log (on a
// restart, the key must be the one it had). Starting a running witness
// does nothing.
func (w *Witness) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(w.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("litewitness log: %w", err)
	}
	defer logf.Close()
	fi, err := logf.Stat()
	if err != nil {
		return err
	}
	from := fi.Size() // this run's lines start here
	cmd := exec.Command(w.bin,
		"-name="+w.Name,
		"-db="+w.dbPath(),
		"-ssh-agent="+w.sock,
		"-key="+w.fingerprint,
		"-listen="+Addr(w.port))
	cmd.Dir = w.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting litewitness: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	fail := func(err error) error {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("litewitness %s on %s: %w\n%s", w.Name, Addr(w.port), err, tail(w.logPath()))
	}
	vkey, err := w.waitReady(from, done, 30*time.Second)
	if err != nil {
		return fail(err)
	}
	if w.VKey != "" && vkey != w.VKey {
		return fail(fmt.Errorf("verifier key changed on restart: %s, was %s", vkey, w.VKey))
	}
	w.VKey = vkey
	w.cmd, w.done = cmd, done
	return nil
}

// waitReady waits for the verifier key line in the log (after offset
// from) and then for the index page, which names that key, so that what
// answers on the port is this witness.
func (w *Witness) waitReady(from int64, exited <-chan struct{}, limit time.Duration) (string, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	vkey := ""
	var last error
	for {
		select {
		case <-exited:
			return "", errors.New("exited while starting")
		default:
		}
		if vkey == "" {
			k, err := w.readVKey(from)
			if err != nil {
				return "", err
			}
			vkey = k
		}
		if vkey != "" {
			resp, err := client.Get(w.URL + "/")
			if err == nil {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(vkey)) {
					return vkey, nil
				}
				err = fmt.Errorf("GET / answered %s without the witness's key", resp.Status)
			}
			last = err
		}
		if time.Now().After(deadline) {
			if vkey == "" {
				return "", fmt.Errorf("no verifier key logged after %v", limit)
			}
			return "", fmt.Errorf("not serving after %v (last: %v)", limit, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readVKey looks for litewitness's `msg="verifier key" vkey=...` line in
// its log after offset from, and checks that the key is a cosignature/v1
// key for this witness's name and ssh key. It returns "" if the line is
// not there yet.
func (w *Witness) readVKey(from int64) (string, error) {
	f, err := os.Open(w.logPath())
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, from, 1<<20))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, `msg="verifier key"`) {
			continue
		}
		_, v, ok := strings.Cut(line, " vkey=")
		if !ok {
			continue
		}
		// slog quotes values holding spaces, '=' or quotes.
		if strings.HasPrefix(v, `"`) {
			q, err := strconv.QuotedPrefix(v)
			if err != nil {
				return "", fmt.Errorf("verifier key line: %q", line)
			}
			v, _ = strconv.Unquote(q)
		} else {
			v, _, _ = strings.Cut(v, " ")
		}
		if err := w.checkVKey(v); err != nil {
			return "", fmt.Errorf("verifier key %q: %w", v, err)
		}
		return v, nil
	}
	return "", nil
}

// checkVKey checks that vkey is NAME+HASH+BASE64(0x04 || key) for this
// witness's name and Ed25519 key.
func (w *Witness) checkVKey(vkey string) error {
	v, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return err
	}
	if v.Name() != w.Name {
		return fmt.Errorf("names %q, not %q", v.Name(), w.Name)
	}
	// The base64 key may itself hold '+': split off the first two fields.
	_, rest, _ := strings.Cut(vkey, "+")
	_, key64, _ := strings.Cut(rest, "+")
	k, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(k) != 1+ed25519.PublicKeySize || k[0] != 0x04 {
		return errors.New("not an Ed25519 cosignature/v1 key")
	}
	if !w.pub.Equal(ed25519.PublicKey(k[1:])) {
		return errors.New("not the key added to the witness's ssh-agent")
	}
	return nil
}

// Stop ends litewitness (SIGINT, on which it shuts its server down, then
// SIGKILL after 10 seconds) and waits for it to exit. Its database and
// key stay for Start. Stopping a stopped witness does nothing.
func (w *Witness) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return
	}
	w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
	w.cmd, w.done = nil, nil
}

// emptyTreeHash is base64(SHA-256("")), the hash litewitness expects for
// a log it has seen no checkpoint of.
var emptyTreeHash = func() string {
	h := sha256.Sum256(nil)
	return base64.StdEncoding.EncodeToString(h[:])
}()

// openDB opens the witness's database for one operation. litewitness
// keeps it in WAL mode and reads it on every request, so writes here take
// effect at its next request, running or not.
func (w *Witness) openDB() (*sql.DB, error) {
	if _, err := os.Stat(w.dbPath()); err != nil {
		return nil, fmt.Errorf("witness database: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	return sql.Open("sqlite", w.dbPath()+"?"+q.Encode())
}

// RegisterLog makes the witness accept checkpoints of the log origin
// signed by the note verifier key logVKey (golang.org/x/mod/sumdb/note
// format, Ed25519), starting from the empty tree. A log may have several
// keys: registering another key for a known origin adds it; registering
// the same key again does nothing. The witness need not be running.
func (w *Witness) RegisterLog(origin, logVKey string) error {
	if origin == "" || strings.ContainsAny(origin, "\n") {
		return fmt.Errorf("register log: bad origin %q", origin)
	}
	if _, err := note.NewVerifier(logVKey); err != nil {
		return fmt.Errorf("register log %q: verifier key: %w", origin, err)
	}
	db, err := w.openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO log (origin, tree_size, tree_hash) VALUES (?, 0, ?)
		ON CONFLICT (origin) DO NOTHING`, origin, emptyTreeHash); err != nil {
		return fmt.Errorf("register log %q: %w", origin, err)
	}
	if _, err := tx.Exec(`INSERT INTO key (origin, key) SELECT ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM key WHERE origin = ? AND key = ?)`,
		origin, logVKey, origin, logVKey); err != nil {
		return fmt.Errorf("register log %q: %w", origin, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("register log %q: %w", origin, err)
	}
	return nil
}

// Size returns the tree size the witness holds for the log origin: the
// size of the last checkpoint it cosigned, 0 if none. It reads the
// witness's database, so it works whether the witness runs or not. An
// origin that was never registered is an error.
func (w *Witness) Size(origin string) (int64, error) {
	db, err := w.openDB()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var size int64
	err = db.QueryRow(`SELECT tree_size FROM log WHERE origin = ?`, origin).Scan(&size)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("witness %s: log %q is not registered", w.Name, origin)
	}
	if err != nil {
		return 0, fmt.Errorf("witness %s: size of %q: %w", w.Name, origin, err)
	}
	return size, nil
}
