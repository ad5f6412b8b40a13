// Package deplist checks a binary's dependency list: the packages outside
// the standard library that it imports, directly or not, as `go list
// -deps` reports them for one platform, against a file committed beside
// the binary (deps.txt). A new import into a binary then shows up as a
// change to that file in review, a visible decision (docs/package-format.md,
// section 9, explains the verifier's).
//
// Only tests import it.
package deplist

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite deps.txt with the binary's current dependencies")

// Platform is the one the lists are made for: the dependencies of a
// package differ between operating systems (golang.org/x/sys/unix or
// windows) and with cgo.
var Platform = []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=1"}

// Regenerate is the command that rewrites every list.
const Regenerate = "go test ./cmd/... -run TestDeps -update"

// List returns the sorted import paths of the packages outside the
// standard library that the package in dir depends on, itself included,
// on Platform.
func List(dir string) ([]string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), Platform...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps: %w", err)
	}
	pkgs := strings.Fields(string(out))
	slices.Sort(pkgs)
	return slices.Compact(pkgs), nil
}

// Check compares the dependencies of the package in the current folder
// with the file named (deps.txt), or rewrites the file with -update. A
// difference fails the test with every package added or removed and the
// command to regenerate the file.
func Check(t *testing.T, file string) {
	t.Helper()
	got, err := List(".")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		var b strings.Builder
		fmt.Fprintf(&b, "# Packages outside the standard library that this binary imports,\n")
		fmt.Fprintf(&b, "# directly or not (go list -deps, %s).\n", strings.Join(Platform, " "))
		fmt.Fprintf(&b, "# Checked by TestDeps; regenerate with: %s\n", Regenerate)
		for _, p := range got {
			b.WriteString(p + "\n")
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (create it with: %s)", err, Regenerate)
	}
	var want []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			want = append(want, line)
		}
	}
	if d := diff(want, got); d != "" {
		t.Errorf("the binary's dependencies differ from %s (+ now imported, - no longer imported):\n%s"+
			"If the change is intended, regenerate the file and commit it: %s", file, d, Regenerate)
	}
}

// diff lists, one per line, the packages in got but not want (+) and in
// want but not got (-), in sorted order.
func diff(want, got []string) string {
	var b strings.Builder
	for _, p := range got {
		if !slices.Contains(want, p) {
			fmt.Fprintf(&b, "+ %s\n", p)
		}
	}
	for _, p := range want {
		if !slices.Contains(got, p) {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	}
	return b.String()
}
