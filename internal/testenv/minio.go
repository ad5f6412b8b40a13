package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MinIO is a real MinIO server on 127.0.0.1, with its own data folder and
// generated root credentials. It can be stopped and started again on the
// same folder and port, so fault tests can make the object store go away
// and come back.
type MinIO struct {
	bin       string
	dir       string // holds data/ and minio.log
	port      int
	accessKey string
	secretKey string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartMinIO starts a MinIO server for this test alone and stops it when
// the test ends. A missing binary skips the test (fails it under `make
// test`). Tests that only need a bucket should prefer SharedMinIO: each
// start costs a second or two.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	bin := Binary(t, "minio")
	m := newMinIO(bin, t.TempDir(), FreePort(t))
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

var shared struct {
	sync.Mutex
	m   *MinIO
	err error
}

// SharedMinIO returns the MinIO server shared by every test of the test
// binary, starting it on first use. Tests must not stop it and should
// use their own buckets. The package's TestMain must call StopSharedMinIO
// after m.Run, or the server outlives the tests.
func SharedMinIO(t testing.TB) *MinIO {
	t.Helper()
	bin := Binary(t, "minio")
	shared.Lock()
	defer shared.Unlock()
	if shared.m == nil && shared.err == nil {
		dir, err := os.MkdirTemp("", "custos-minio-")
		if err != nil {
			shared.err = err
		} else {
			m := newMinIO(bin, dir, FreePort(t))
			if shared.err = m.Start(); shared.err == nil {
				shared.m = m
			} else {
				os.RemoveAll(dir)
			}
		}
	}
	if shared.err != nil {
		t.Fatalf("shared minio: %v", shared.err)
	}
	return shared.m
}

// StopSharedMinIO stops the shared server, if one was started, and removes
// its data folder. Call it from TestMain after m.Run.
func StopSharedMinIO() {
	shared.Lock()
	defer shared.Unlock()
	if shared.m != nil {
		shared.m.Stop()
		os.RemoveAll(shared.m.dir)
		shared.m = nil
	}
}

func newMinIO(bin, dir string, port int) *MinIO {
	return &MinIO{
		bin:       bin,
		dir:       dir,
		port:      port,
		accessKey: "custos-" + randHex(6),
		secretKey: randHex(20),
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Endpoint is HOST:PORT, the form minio-go and objects/s3 take.
func (m *MinIO) Endpoint() string { return Addr(m.port) }

// AccessKey is the root user.
func (m *MinIO) AccessKey() string { return m.accessKey }

// SecretKey is the root password.
func (m *MinIO) SecretKey() string { return m.secretKey }

// URL is the --objects URL of bucket on this server (plain HTTP, loopback).
func (m *MinIO) URL(bucket string) string {
	return "s3+http://" + m.Endpoint() + "/" + bucket
}

// Start runs the server on its folder and port and waits until it is
// live and serving S3 calls. Starting a running server does nothing.
func (m *MinIO) Start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil
	}
	logPath := filepath.Join(m.dir, "minio.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("minio log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(m.bin, "server", filepath.Join(m.dir, "data"),
		"--address", m.Endpoint(), "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.accessKey,
		"MINIO_ROOT_PASSWORD="+m.secretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting minio: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	if err := waitLive(m.Endpoint(), done, 30*time.Second); err != nil {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("minio on %s: %w\n%s", m.Endpoint(), err, tail(logPath))
	}
	m.cmd, m.done = cmd, done
	return nil
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 seconds) and waits
// for it to exit; its data folder stays for Start. Stopping a stopped
// server does nothing.
func (m *MinIO) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd, m.done = nil, nil
}

func waitLive(endpoint string, exited <-chan struct{}, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-exited:
			return errors.New("server exited while starting")
		default:
		}
		resp, err := client.Get("http://" + endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			// Live comes before the object layer: until then the server
			// answers 200 with this header and refuses S3 calls.
			if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Minio-Server-Status") != "offline" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not live after %v (last: %v)", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the end of the server's log, to explain a failed start.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// LaunchMinIO starts a MinIO server outside a test (the benchmarks use
// it): binary bin, data under dir, a free loopback port. Stop it when done.
func LaunchMinIO(bin, dir string) (*MinIO, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	m := newMinIO(bin, dir, port)
	if err := m.Start(); err != nil {
		return nil, err
	}
	return m, nil
}
