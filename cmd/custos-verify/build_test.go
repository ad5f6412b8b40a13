package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBuildIsReproducible checks docs/cli.md's promise ("Getting
// custos-verify"): the verifier that `make build` makes is the one a
// defence expert gets by running the documented command on the source
// in any other folder, byte for byte, so that the SHA-256 published for
// the one can be checked against the other. It runs the Makefile's
// recipe in this checkout and the documented command in a copy of the
// verifier's sources elsewhere, and compares the files.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the verifier twice")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The Makefile's recipe, as make runs it, its output in a folder of
	// the test's.
	made := regexp.MustCompile(`CGO_ENABLED=0 \$\(GO\) build ([^&\n]*) -o bin/ \./cmd/custos-verify`).FindSubmatch(mk)
	if made == nil {
		t.Fatal("the Makefile's build target does not build ./cmd/custos-verify with CGO_ENABLED=0 into bin/")
	}
	documented := regexp.MustCompile(`(?m)^    CGO_ENABLED=0 go build ([^\n]*) -o custos-verify \./cmd/custos-verify$`).FindSubmatch(doc)
	if documented == nil {
		t.Fatal("docs/cli.md gives no command building custos-verify for this system")
	}
	if string(made[1]) != string(documented[1]) {
		t.Fatalf("make build uses %q, docs/cli.md tells a defence expert %q: the two builds differ", made[1], documented[1])
	}
	if !bytes.Contains(readme, []byte("CGO_ENABLED=0 go build "+string(documented[1])+" ./cmd/custos-verify")) {
		t.Errorf("README.md does not give docs/cli.md's command (go build %s)", documented[1])
	}
	flags := strings.Fields(string(made[1]))
	build := func(dir, out string) []byte {
		t.Helper()
		cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, "./cmd/custos-verify")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build in %s: %v\n%s", dir, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tmp := t.TempDir()
	a := build(root, filepath.Join(tmp, "made"))

	// A copy of the module's files that the verifier is built from, in
	// another folder, without the checkout's version control.
	elsewhere := filepath.Join(tmp, "elsewhere", "src")
	list := exec.Command("go", "list", "-deps", "-f", `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{"\t"}}{{join .GoFiles " "}} {{join .EmbedFiles " "}}{{end}}{{end}}`, "./cmd/custos-verify")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	copyFile := func(rel string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(elsewhere, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("go.mod")
	copyFile("go.sum")
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, files, ok := strings.Cut(line, "\t")
		if !ok {
			continue // the standard library's packages
		}
		rel, err := filepath.Rel(root, dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(files) {
			copyFile(filepath.Join(rel, f))
		}
	}
	b := build(elsewhere, filepath.Join(tmp, "rebuilt"))
	if !bytes.Equal(a, b) {
		t.Fatalf("the verifier built by make build's recipe (%d bytes) and the one rebuilt by docs/cli.md's command in another folder (%d bytes) differ", len(a), len(b))
	}
	// --version names what a rebuild must match, and nothing of the
	// checkout it was built in.
	v, err := exec.Command(filepath.Join(tmp, "made"), "--version").Output()
	if err != nil {
		t.Fatalf("custos-verify --version: %v", err)
	}
	for _, want := range []string{"custos-verify (devel), built with go", "-trimpath=true", "CGO_ENABLED=0", "GOOS="} {
		if !strings.Contains(string(v), want) {
			t.Errorf("custos-verify --version does not say %q:\n%s", want, v)
		}
	}
	if strings.Contains(string(v), "vcs.") {
		t.Errorf("custos-verify --version names the checkout it was built in:\n%s", v)
	}
}

// TestVersionGoesAlone: --version prints the build and checks nothing;
// with a package or another flag it is a usage error, so that no one
// takes its exit status 0 for a verified package.
func TestVersionGoesAlone(t *testing.T) {
	code, out, errs := runVerify("--version")
	if code != 0 || !strings.HasPrefix(out, "custos-verify ") || !strings.Contains(out, "built with go") || errs != "" {
		t.Fatalf("--version: %d %q %q", code, out, errs)
	}
	for _, args := range [][]string{{"--version", vectorPkg}, {vectorPkg, "--version", "--key", "x"}, {"--version", "--json"}} {
		if code, out, errs := runVerify(args...); code != 2 || out != "" || !strings.Contains(errs, "--version goes alone") {
			t.Errorf("%q: %d %q %q", args, code, out, errs)
		}
	}
}
