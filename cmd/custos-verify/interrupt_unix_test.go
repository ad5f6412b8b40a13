//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptedExtractionLeavesNothing: custos-verify --extract,
// stopped mid-package (Ctrl-C, SIGTERM, a closed terminal), removes its
// temporary folder of plaintexts and the folders it made, and fails.
// The package is read from a named pipe fed half of it, so that the
// signal comes while the check waits for the rest.
func TestInterruptedExtractionLeavesNothing(t *testing.T) {
	if args := os.Getenv("CUSTOS_VERIFY_CHILD"); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	pkg, err := os.ReadFile(vectorPkg)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "package.tar")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no named pipes here: %v", err)
			}
			out := filepath.Join(dir, "made", "exhibits")
			cmd := exec.Command(os.Args[0], "-test.run", "^TestInterruptedExtractionLeavesNothing$")
			cmd.Env = append(os.Environ(), "CUSTOS_VERIFY_CHILD="+strings.Join([]string{fifo, "--key", vectorKey(t), "--identity", vectorID, "--extract", out}, "\x1f"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.Write(pkg[:len(pkg)/2]); err != nil {
				t.Fatal(err)
			}
			// Waiting for the rest, with its temporary folder made.
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if ents, _ := os.ReadDir(out); len(ents) > 0 {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no temporary folder appeared: %s", stderr.String())
				}
			}
			cmd.Process.Signal(sig)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitFailed {
				t.Fatalf("exit: %v, want %d (%s)", err, exitFailed, stderr.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "made")); !os.IsNotExist(err) {
				t.Errorf("the folders it made, or its plaintexts, were left: %v", err)
			}
			if !strings.Contains(stderr.String(), "interrupted; the temporary extraction folder was removed") {
				t.Errorf("stderr: %q", stderr.String())
			}
		})
	}
}
