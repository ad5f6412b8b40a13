// Package testenv finds and starts the real components that tests run
// against (MinIO, swtpm, SoftHSM2, the age CLI, an OpenID provider, a
// headless Chromium) on 127.0.0.1, on free ports, in temporary folders,
// and stops them when the test ends.
//
// `make test` installs every component first (scripts/tools.sh) and sets
// CUSTOS_REQUIRE_COMPONENTS=1, so a missing component fails the run there.
// Outside it, a test whose component is missing is skipped with a message
// naming what to install.
package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// Required reports whether missing components are failures, not skips.
func Required() bool { return os.Getenv("CUSTOS_REQUIRE_COMPONENTS") == "1" }

// Root returns the repository root (the folder holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ToolsDir is where scripts/tools.sh installs Go tools.
func ToolsDir() string {
	if d := os.Getenv("CUSTOS_TOOLS"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "custos", "tools", "bin")
}

// Binary returns the path of a command from the project's tool folder
// (see ToolsDir) or PATH; if it is missing the test is skipped, or failed
// under `make test`.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if p := filepath.Join(ToolsDir(), name); isExec(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Missing(t, fmt.Sprintf("%s is not installed (run `make tools`)", name))
	return ""
}

// Missing skips the test, or fails it when components are required.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Required() {
		t.Fatalf("required component missing: %s", why)
	}
	t.Skipf("skipped: %s", why)
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr formats 127.0.0.1:port.
func Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
