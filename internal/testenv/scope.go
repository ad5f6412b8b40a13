package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TB is the part of testing.TB that the components' starters use, so
// that they also run outside tests (Scope).
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// binaryOf is Binary for a TB: a test is skipped (failed under `make
// test`) when the command is missing; a Scope fails.
func binaryOf(t TB, name string) string {
	t.Helper()
	if tb, ok := t.(testing.TB); ok {
		return Binary(tb, name)
	}
	if p := filepath.Join(ToolsDir(), name); isExec(p) {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed (run `make tools`)", name)
	}
	return p
}

// Scope runs the components' starters outside a test (the benchmarks):
// it implements TB, turns a fatal error into an error that Run returns,
// and stops what was started, and removes its folders, at Close.
type Scope struct {
	cleanups []func()
	dirs     []string
}

type scopeFailure struct{ msg string }

func (s *Scope) Helper()                           {}
func (s *Scope) Fatal(args ...any)                 { panic(scopeFailure{fmt.Sprint(args...)}) }
func (s *Scope) Fatalf(format string, args ...any) { panic(scopeFailure{fmt.Sprintf(format, args...)}) }
func (s *Scope) Errorf(format string, args ...any) { panic(scopeFailure{fmt.Sprintf(format, args...)}) }
func (s *Scope) Logf(format string, args ...any)   {}
func (s *Scope) Cleanup(f func())                  { s.cleanups = append(s.cleanups, f) }

// TempDir returns a new folder, removed at Close.
func (s *Scope) TempDir() string {
	d, err := os.MkdirTemp("", "custos-scope-")
	if err != nil {
		s.Fatal(err)
	}
	s.dirs = append(s.dirs, d)
	return d
}

// Run calls f and returns the failure of a Fatal, Fatalf or Errorf in it.
func (s *Scope) Run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			sf, ok := r.(scopeFailure)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s", sf.msg)
		}
	}()
	f()
	return nil
}

// Close runs the cleanups, newest first, and removes the folders.
func (s *Scope) Close() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	for _, d := range s.dirs {
		os.RemoveAll(d)
	}
	s.cleanups, s.dirs = nil, nil
}
