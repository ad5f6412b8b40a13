package testenv

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Swtpm is a software TPM 2.0 (swtpm in socket mode) on 127.0.0.1, with
// its own state folder: its own endorsement and owner seeds, so two of
// them are two different TPMs. It can be killed and restarted on the same
// state (an outage) or wiped (a TPM lost and replaced).
//
// swtpm serves one client connection at a time; a second client waits
// until the first disconnects.
type Swtpm struct {
	// StateDir holds the TPM's persistent state (seeds, NV, persistent
	// objects).
	StateDir string

	bin      string
	logPath  string
	port     int
	ctrlPort int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartSwtpm starts a fresh software TPM for this test and stops it when
// the test ends. A missing swtpm skips the test (fails it under `make
// test`).
func StartSwtpm(t testing.TB) *Swtpm {
	t.Helper()
	bin := Binary(t, "swtpm")
	dir := t.TempDir()
	s := &Swtpm{
		StateDir: filepath.Join(dir, "state"),
		bin:      bin,
		logPath:  filepath.Join(dir, "swtpm.log"),
		port:     FreePort(t),
	}
	for s.ctrlPort = FreePort(t); s.ctrlPort == s.port; s.ctrlPort = FreePort(t) {
	}
	if err := os.Mkdir(s.StateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return s
}

// Addr is the TPM command port, HOST:PORT.
func (s *Swtpm) Addr() string { return Addr(s.port) }

// URL is the --sealer URL of this TPM.
func (s *Swtpm) URL() string { return "tpm+tcp://" + s.Addr() }

// Start runs swtpm on its state folder and ports, already powered on and
// started up (not-need-init, startup-clear), and waits until it accepts
// connections. Starting a running swtpm does nothing.
func (s *Swtpm) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("swtpm log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "socket", "--tpm2",
		"--tpmstate", "dir="+s.StateDir,
		"--server", "type=tcp,port="+strconv.Itoa(s.port)+",bindaddr=127.0.0.1",
		"--ctrl", "type=tcp,port="+strconv.Itoa(s.ctrlPort)+",bindaddr=127.0.0.1",
		"--flags", "not-need-init,startup-clear",
		"--log", "level=1,file="+s.logPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting swtpm: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if err := waitListening(s.Addr(), done, 15*time.Second); err != nil {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("swtpm on %s: %w\n%s", s.Addr(), err, tail(s.logPath))
	}
	s.cmd, s.done = cmd, done
	return nil
}

// Kill ends swtpm at once (SIGKILL), as a crash or a pulled device would,
// and waits for it to exit. Its state folder stays. Killing a stopped
// swtpm does nothing.
func (s *Swtpm) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	s.cmd, s.done = nil, nil
}

// Wipe kills swtpm, destroys its state and starts a fresh TPM on the same
// ports: new seeds, so everything sealed by the old one is lost.
func (s *Swtpm) Wipe() error {
	s.Kill()
	if err := os.RemoveAll(s.StateDir); err != nil {
		return err
	}
	if err := os.Mkdir(s.StateDir, 0o700); err != nil {
		return err
	}
	return s.Start()
}

// waitListening waits until addr accepts a TCP connection. The probe
// connection is closed at once, which swtpm takes as a client leaving.
func waitListening(addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-exited:
			return errors.New("exited while starting")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening after %v (last: %v)", limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
