package tempfiles

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestInterruptRemovesTracked runs this test binary as a command that
// tracks a file and a folder and waits; interrupted (SIGINT, SIGTERM) it
// removes both, says so, and exits 130 or 143; what it untracked stays.
func TestInterruptRemovesTracked(t *testing.T) {
	if dir := os.Getenv("TEMPFILES_HELPER_DIR"); dir != "" {
		f := filepath.Join(dir, ".out.bin.partial-1")
		os.WriteFile(f, []byte("plaintext so far"), 0o600)
		d := filepath.Join(dir, ".export.partial-2")
		os.Mkdir(d, 0o700)
		os.WriteFile(filepath.Join(d, "events.ndjson"), []byte("{}\n"), 0o600)
		kept := filepath.Join(dir, "kept")
		os.WriteFile(kept, []byte("done"), 0o600)
		Track(f)
		Track(d)
		Track(kept)() // finished with: untracked
		os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run", "^TestInterruptRemovesTracked$")
			cmd.Env = append(os.Environ(), "TEMPFILES_HELPER_DIR="+dir)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitReady(t, cmd, dir)
			cmd.Process.Signal(c.sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != c.code {
				t.Fatalf("exit: %v, want %d", err, c.code)
			}
			for _, gone := range []string{".out.bin.partial-1", ".export.partial-2"} {
				if _, err := os.Stat(filepath.Join(dir, gone)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s outlived the interrupted command: %v", gone, err)
				}
				if !strings.Contains(stderr.String(), "removed the unfinished "+filepath.Join(dir, gone)) {
					t.Errorf("stderr does not say %s was removed: %q", gone, stderr.String())
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "kept")); err != nil {
				t.Errorf("an untracked file was removed: %v", err)
			}
		})
	}
}

// waitReady waits until the helper command in dir has tracked its files.
func waitReady(t *testing.T, cmd *exec.Cmd, dir string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the helper did not get ready")
		}
	}
}

// TestNohupKeepsRunning: a command started under nohup (SIGHUP ignored)
// is not stopped by a closed terminal, and keeps its files; it is still
// stopped, and cleans up, on Ctrl-C.
func TestNohupKeepsRunning(t *testing.T) {
	nohup, err := exec.LookPath("nohup")
	if err != nil {
		t.Skip("no nohup here")
	}
	dir := t.TempDir()
	cmd := exec.Command(nohup, os.Args[0], "-test.run", "^TestInterruptRemovesTracked$")
	cmd.Dir = dir // nohup.out, if any, goes there
	cmd.Env = append(os.Environ(), "TEMPFILES_HELPER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, cmd, dir)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, ".out.bin.partial-1")); err != nil {
		t.Errorf("a closed terminal removed the file of a command under nohup: %v", err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit after Ctrl-C: %v, want 130 (a SIGHUP under nohup ended it before?)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".out.bin.partial-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Ctrl-C left the file: %v", err)
	}
}

// TestSweep removes what an uncatchable end left (idle long enough) and
// nothing else: not a live writer's file, not a folder whose contents
// are being written, not other names.
func TestSweep(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	write := func(name string, at time.Time) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o600)
		os.Chtimes(p, at, at)
		return p
	}
	stale := write(".a.bin.partial-1", old)
	live := write(".a.bin.partial-2", time.Now())
	other := write(".b.bin.partial-3", old)
	folder := filepath.Join(dir, ".a.bin.partial-4")
	os.Mkdir(folder, 0o700)
	write(".a.bin.partial-4/inner", time.Now())
	os.Chtimes(folder, old, old)
	// Old, but its writer is alive: it holds the file.
	heldOld := write(".a.bin.partial-5", old)
	f, err := os.Open(heldOld)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Hold(f); err != nil {
		t.Fatal(err)
	}
	// Named like ours, but a link to something else: never followed.
	target := write("precious", old)
	link := filepath.Join(dir, ".a.bin.partial-6")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	got := Sweep(dir, ".a.bin.partial-", time.Minute)
	if len(got) != 1 || got[0] != stale {
		t.Fatalf("swept %v, want only %s", got, stale)
	}
	for _, p := range []string{live, other, folder, heldOld, target, link} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was swept: %v", p, err)
		}
	}
}

// An interrupt being handled makes untrack wait for the handler, which
// exits: the command never goes on to report an outcome beside the
// handler's (the failure its removal caused, as custos-verify once did,
// or a success whose file it removed). Run in this process: the handler
// catches the signal, and exit is replaced by one that waits.
func TestUntrackWaitsForTheInterrupt(t *testing.T) {
	if os.Getenv("TEMPFILES_HELPER_DIR") != "" {
		t.Skip("the helper process of another test")
	}
	// A handler of its own (one handles one interrupt: -count=N).
	once = sync.Once{}
	exited, release := make(chan int, 1), make(chan struct{})
	exit = func(code int) {
		exited <- code
		<-release
	}
	defer func() { exit = os.Exit }()
	p := filepath.Join(t.TempDir(), ".out.bin.partial-2")
	if err := os.WriteFile(p, []byte("plaintext so far"), 0o600); err != nil {
		t.Fatal(err)
	}
	untrack := Track(p)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 143 {
			t.Fatalf("exit %d, want 143", code)
		}
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("the interrupt was not handled")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the tracked file is left: %v", err)
	}
	returned := make(chan struct{})
	go func() { untrack(); close(returned) }()
	select {
	case <-returned:
		t.Error("untrack returned while the interrupt was being handled")
	case <-time.After(200 * time.Millisecond):
	}
	close(release) // as if exit had returned
	<-returned
}
