package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// Every group of `make bench` runs to its end at small sizes and prints
// its figures. The full run takes hours and no other test runs most
// groups, so without this a group can stop working unseen: the web group
// once waited for an upload the page had skipped, and failed after ten
// minutes. Each group gets five minutes; one that takes longer is
// stopped, with everything it started.
func TestEveryGroupRunsSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custos and runs every benchmark group")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/custos-vault/custos/cmd/custos", "github.com/custos-vault/custos/cmd/custos-bench")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	// The groups' real components: age in the stock-tools pipeline (from
	// PATH), MinIO, litewitness, OpenSSL (its TSA) and Chromium.
	testenv.Binary(t, "age")
	testenv.Binary(t, "minio")
	testenv.Binary(t, "litewitness")
	testenv.Binary(t, "openssl")
	if _, err := os.Stat(testenv.ChromiumPath); err != nil {
		testenv.Missing(t, "chromium is not installed (run `make tools`, or apt-get install chromium)")
	}
	small := []string{
		"-custos", filepath.Join(dir, "custos"),
		"-append-duration", "1s",
		"-audit-events", "20000",
		"-deposit-bytes", "4194304",
		"-rss-bytes", "0",
		"-growth-events", "20000",
		"-report-events", "30",
		"-hashset-entries", "20000",
		"-witnessed-checkpoints", "3",
		"-match-deposit-bytes", "65536",
		"-web-items", "200",
		"-web-upload-bytes", "4194304",
		"-scale-events", "3000",
		"-checkpoints-events", "3000",
	}
	for _, group := range []string{"custody", "anchors", "growth", "audit", "reports", "deposit", "s3", "hashset", "pdq", "web", "stocktools", "stocktools-s3", "scale", "checkpoints"} {
		t.Run(group, func(t *testing.T) {
			if group == "stocktools-s3" {
				// MinIO's client is installed by `make bench`, not by
				// `make test` (scripts/tools.sh, CUSTOS_BENCH_TOOLS).
				if _, err := os.Stat(filepath.Join(testenv.ToolsDir(), "mc")); err != nil {
					t.Skip("skipped: MinIO's client (mc) is installed by make bench only")
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(dir, "custos-bench"), append([]string{"-only", group}, small...)...)
			// Its own process group, stopped whole at the deadline: the
			// servers, MinIO and Chromium a group starts go with it.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			cmd.WaitDelay = 10 * time.Second
			// make bench runs it from the repository root (the pdq
			// group reads its photos from testdata/).
			cmd.Dir = testenv.Root()
			cmd.Env = append(os.Environ(), "PATH="+testenv.ToolsDir()+string(os.PathListSeparator)+os.Getenv("PATH"), "TMPDIR="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if ctx.Err() != nil {
				t.Fatalf("custos-bench -only %s did not end within five minutes\n%s", group, tail(stderr.String(), 4000))
			}
			if err != nil {
				t.Fatalf("custos-bench -only %s: %v\n%s", group, err, tail(stderr.String(), 4000))
			}
			metrics := 0
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) != 4 || f[0] != "metric" {
					t.Errorf("%s printed %q, not a `metric NAME VALUE UNIT` line", group, sc.Text())
					continue
				}
				metrics++
			}
			if metrics == 0 {
				t.Errorf("%s printed no figure", group)
			}
		})
	}
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
