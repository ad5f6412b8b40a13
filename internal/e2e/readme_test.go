package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// readmeMarker precedes each README block that TestREADME runs.
const readmeMarker = "<!-- readme-test -->"

// readmeSections are the README sections whose shell blocks must all be
// run by TestREADME: a block added there without the marker fails it.
var readmeSections = []string{"## Five minutes with it", "## People and sign-in"}

// readmeBlock is one fenced shell block of README.md.
type readmeBlock struct {
	line    int // of the opening fence
	section string
	marked  bool
	text    string
}

// readmeBlocks returns the fenced shell blocks of a markdown file, each
// with the section it is in and whether marker (readmeMarker, or another
// file's own) precedes it.
func readmeBlocks(t *testing.T, path, marker string) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks  []readmeBlock
		section string
		marked  bool // the marker was the last non-blank line
		cur     *readmeBlock
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(line, "## "):
			section, marked = line, false
		case trimmed == marker:
			marked = true
		case trimmed == "```sh" || trimmed == "```bash" || trimmed == "```shell":
			cur = &readmeBlock{line: n, section: section, marked: marked}
			marked = false
		case trimmed != "":
			if marked {
				t.Fatalf("%s:%d: %s must be followed by a fenced shell block (```sh)", filepath.Base(path), n-1, marker)
			}
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated fenced block", filepath.Base(path), cur.line)
	}
	return blocks
}

// placeholder matches what a reader would have to replace by hand: an id
// left as dots, a path to fill in, or an angle-bracket placeholder.
var placeholder = regexp.MustCompile(`\b(it|pk|rq|csi|cst|css)_\.\.\.|/path/to/|<[A-Z_]+>`)

// TestREADME pastes the README's "Five minutes with it" and "People and
// sign-in" blocks into bash, in order, as a new user would: from a
// checkout laid out as `make run` leaves it (bin/ and .run/data, here the
// test's binaries and a development server's data folder), with the
// stock age tools where `make tools` puts them, in a home of its own.
// Then it checks that they did what the README says: everything written
// in a scratch folder outside the checkout, a package that custos-verify
// verifies with the vault's real log key pinned, the viewed, extracted
// and age-decrypted video equal to the deposited sample, the samples as
// the vault recorded them, and dara signed in with the redeemed
// invitation and working on the case.
func TestREADME(t *testing.T) {
	ageBin := testenv.Binary(t, "age")
	keygenBin := testenv.Binary(t, "age-keygen")
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}

	var script strings.Builder
	script.WriteString("set -euxo pipefail\n")
	ran := map[string]int{}
	for _, b := range readmeBlocks(t, filepath.Join(testenv.Root(), "README.md"), readmeMarker) {
		tested := false
		for _, s := range readmeSections {
			tested = tested || b.section == s
		}
		if tested && !b.marked {
			t.Errorf("README.md:%d: a shell block in %q without %s before it: every block there must be run by this test", b.line, b.section, readmeMarker)
		}
		if !b.marked {
			continue
		}
		if m := placeholder.FindString(b.text); m != "" {
			t.Errorf("README.md:%d: the block has a placeholder (%q): it must work when pasted", b.line, m)
		}
		if strings.Contains(b.text, "!") {
			t.Errorf("README.md:%d: the block has a \"!\", which an interactive bash takes for history expansion when pasted", b.line)
		}
		ran[b.section]++
		script.WriteString("# README.md:" + strconv.Itoa(b.line) + "\n" + b.text)
	}
	for _, s := range readmeSections {
		if ran[s] == 0 {
			t.Errorf("README.md has no %s block in %q", readmeMarker, s)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	s := newServer(t)

	// A checkout as `make run` leaves it, a home with the age tools where
	// `make tools` installs them, and a TMPDIR for the scratch folder.
	checkout := madeRunCheckout(t, s)
	home := t.TempDir()
	tools := filepath.Join(home, ".cache", "custos", "tools", "bin")
	if err := os.MkdirAll(tools, 0o700); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, ageBin, filepath.Join(tools, "age"))
	mustSymlink(t, keygenBin, filepath.Join(tools, "age-keygen"))
	tmp := t.TempDir()
	results := filepath.Join(t.TempDir(), "results")

	// After the blocks: where the shell ended up, and which programs it ran.
	script.WriteString(`
{ echo "scratch=$PWD"
  for p in custos custos-verify age age-keygen; do echo "$p=$(command -v "$p")"; done
} > "$README_TEST_RESULTS"
`)
	env := pastingEnv("HOME="+home, "TMPDIR="+tmp, "README_TEST_RESULTS="+results)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String())
	cmd.Dir = checkout
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's blocks failed (%v); the shell's trace and output:\n%s", err, out.String())
	}
	t.Logf("the README's blocks ran in %s", time.Since(start).Round(time.Millisecond))
	output := out.String()

	got := map[string]string{}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	// The programs are the ones the README's PATH names.
	for name, want := range map[string]string{
		"custos":        filepath.Join(checkout, "bin", "custos"),
		"custos-verify": filepath.Join(checkout, "bin", "custos-verify"),
		"age":           filepath.Join(tools, "age"),
		"age-keygen":    filepath.Join(tools, "age-keygen"),
	} {
		if got[name] != want {
			t.Errorf("the README's PATH runs %s from %q, not %q", name, got[name], want)
		}
	}
	// Everything landed in a scratch folder, nothing in the checkout.
	scratch := got["scratch"]
	if scratch == "" || !strings.HasPrefix(scratch, tmp+string(os.PathSeparator)) {
		t.Fatalf("the blocks ended in %q, not in a new scratch folder under TMPDIR", scratch)
	}
	if ents, _ := os.ReadDir(checkout); len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the blocks wrote into the checkout: it holds %v", names)
	}
	if ents, _ := os.ReadDir(filepath.Join(checkout, ".run")); len(ents) != 1 {
		t.Errorf("the blocks wrote into the checkout's .run folder")
	}
	file := func(name string) string { return filepath.Join(scratch, name) }

	// The samples are as the vault recorded them at their deposit: no
	// later step overwrote an input.
	var items struct {
		Items []struct{ Name, Sha256 string }
	}
	list := s.ok("investigator", scratch, "item", "list", "--case", "KH-2026-014", "--json")
	if err := json.Unmarshal([]byte(list.stdout), &items); err != nil || len(items.Items) != 2 {
		t.Fatalf("the case should hold the two samples: %s %v", list.stdout, err)
	}
	sums := map[string]string{}
	for _, it := range items.Items {
		sums[it.Name] = it.Sha256
		if h := fileSum(t, file(it.Name)); h != it.Sha256 {
			t.Errorf("the sample %s no longer has the SHA-256 recorded at its deposit", it.Name)
		}
	}
	// The viewed copy, the verifier's extract and the stock age's
	// decryption are the deposited video.
	for _, name := range []string{"viewed.mp4", "exhibits/video.mp4", "video-from-bundle.mp4"} {
		if h := fileSum(t, file(name)); h != sums["video.mp4"] {
			t.Errorf("%s is not the deposited video", name)
		}
	}
	// The pinned key is the vault's, and the package verifies with it.
	key := s.ok("auditor", scratch, "audit", "key")
	if pinned, _ := os.ReadFile(file("vault.key")); string(pinned) != key.stdout {
		t.Errorf("vault.key is not the vault's log key:\n%s\nwant:\n%s", pinned, key.stdout)
	}
	v := s.run("", scratch, "custos-verify", "bundle.tar", "--trusted-keys", "vault.key")
	if v.code != 0 || !strings.Contains(v.stdout, "VERIFIED") || !strings.Contains(v.stdout, "for prosecutor") {
		t.Errorf("bundle.tar does not verify as a package for the prosecutor (%d):\n%s%s", v.code, v.stdout, v.stderr)
	}
	if !strings.Contains(output, "VERIFIED") {
		t.Errorf("the README's custos-verify did not say VERIFIED:\n%s", output)
	}
	if _, err := os.Stat(file("november.checkpoint")); err != nil {
		t.Errorf("the auditor's checkpoint was not saved: %v", err)
	}
	// Dara redeemed the invitation, signed in and works on the case.
	if !strings.Contains(output, "dara (investigator), signed in with a local credential") {
		t.Errorf("dara did not sign in with the invitation:\n%s", output)
	}
	members := s.ok("custodian", scratch, "case", "show", "KH-2026-014", "--json")
	if !strings.Contains(members.stdout, `"dara"`) {
		t.Errorf("dara is not a member of the case: %s", members.stdout)
	}
}

// pastingEnv is the environment of a shell a new user pastes blocks
// into: this process's, without what would sign them in, point them
// elsewhere or run code before the blocks (CUSTOS_*, XDG_*, HOME,
// TMPDIR, DEV, CDPATH, ENV, BASH_ENV, exported functions), with extra.
func pastingEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "CUSTOS_"), strings.HasPrefix(name, "XDG_"), strings.HasPrefix(name, "BASH_FUNC_"),
			name == "HOME", name == "TMPDIR", name == "DEV", name == "CDPATH", name == "ENV", name == "BASH_ENV":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// madeRunCheckout is a checkout as `make run` leaves it, for blocks a
// new user pastes there: bin/ (the test's binaries) and .run/data (the
// development server s's data folder), nothing else.
func madeRunCheckout(t *testing.T, s *server) string {
	t.Helper()
	checkout := t.TempDir()
	mustSymlink(t, binDir, filepath.Join(checkout, "bin"))
	if err := os.Mkdir(filepath.Join(checkout, ".run"), 0o700); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, s.data, filepath.Join(checkout, ".run", "data"))
	return checkout
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v", err)
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestREADMEInstallsThePinnedAge: the line the README gives for
// installing age alone installs the version make tools pins.
func TestREADMEInstallsThePinnedAge(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	tools, err := os.ReadFile("../../scripts/tools.sh")
	if err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`(?m)^AGE_VERSION=(\S+)$`).FindSubmatch(tools)
	given := regexp.MustCompile(`go install filippo\.io/age/cmd/\.\.\.@(\S+?)` + "`").FindSubmatch(readme)
	if pinned == nil || given == nil {
		t.Fatalf("no AGE_VERSION in scripts/tools.sh (%v) or no go install line for age in README.md (%v)", pinned != nil, given != nil)
	}
	if string(pinned[1]) != string(given[1]) {
		t.Fatalf("README.md installs age %s, make tools pins %s", given[1], pinned[1])
	}
}
