package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// cleanupFixture is an extraction folder made for a check, with a
// temporary folder of plaintexts in it, and the interrupt cleanup set on
// a channel of signals whose exit records its code and then waits until
// release is closed (os.Exit would not return).
type cleanupFixture struct {
	out, temp string
	created   []string
	sig       chan os.Signal
	stderr    *testenv.LogBuffer
	exited    chan int
	release   chan struct{}
	stop      func()
}

func newCleanupFixture(t *testing.T) *cleanupFixture {
	t.Helper()
	out := filepath.Join(t.TempDir(), "made", "exhibits")
	created, err := makeFolders(out)
	if err != nil {
		t.Fatal(err)
	}
	f := &cleanupFixture{out: out, created: created, sig: make(chan os.Signal, 1), stderr: &testenv.LogBuffer{},
		exited: make(chan int, 1), release: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-f.release:
		default:
			close(f.release)
		}
	})
	f.stop, err = cleanupOnSignal(f.sig, out, created, f.stderr, func(code int) {
		f.exited <- code
		<-f.release
	})
	if err != nil {
		t.Fatal(err)
	}
	// The check's temporary folder, made after the cleanup was set.
	f.temp = filepath.Join(out, ".custos-verify-123")
	if err := os.MkdirAll(f.temp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.temp, "0"), []byte("plaintext"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// An interrupt during the check removes what the check wrote, and the
// check's end (stop) waits for the handler, which exits: the run never
// goes on to report the failure the removal caused (an item it could no
// longer write), as it once did.
func TestInterruptBeforeTheCheckEndsIsTheHandlers(t *testing.T) {
	f := newCleanupFixture(t)
	f.sig <- syscall.SIGTERM
	select {
	case code := <-f.exited:
		if code != exitFailed {
			t.Fatalf("exit code %d, want %d", code, exitFailed)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the interrupt was not handled")
	}
	if _, err := os.Stat(filepath.Join(f.out, "..")); !os.IsNotExist(err) {
		t.Errorf("the folders made for the extraction are left: %v", err)
	}
	if !strings.Contains(f.stderr.String(), "interrupted; the temporary extraction folder was removed") {
		t.Errorf("stderr: %q", f.stderr.String())
	}
	returned := make(chan struct{})
	go func() { f.stop(); close(returned) }()
	select {
	case <-returned:
		t.Fatal("the check's end went on while the interrupt was being handled")
	case <-time.After(200 * time.Millisecond):
	}
	close(f.release) // as if exit had returned
	<-returned
}

// A signal after the check has ended (stop) changes nothing: what it
// extracted stays, and nothing exits.
func TestInterruptAfterTheCheckEndsChangesNothing(t *testing.T) {
	f := newCleanupFixture(t)
	f.stop()
	f.sig <- syscall.SIGINT
	select {
	case code := <-f.exited:
		t.Fatalf("exited with %d after the check had ended", code)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := os.Stat(filepath.Join(f.temp, "0")); err != nil {
		t.Errorf("the check's files were removed after it ended: %v", err)
	}
	f.stop() // a second stop (the deferred one) returns at once
}
