package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// hotlineGuideMarker precedes each block of docs/hotline.md's "A day at
// the hotline" that TestHotlineGuide runs.
const hotlineGuideMarker = "<!-- hotline-guide-test -->"

// TestHotlineGuide pastes docs/hotline.md's "A day at the hotline" into
// bash, block by block, as an analyst and a custodian new to the vault
// would, from a checkout laid out as `make run` leaves it; then checks
// that the day did what the guide says: the report recorded, assessed,
// noticed, forwarded (with each capture's source) and closed as
// actioned; the listed capture hidden as known material and revealed
// only with the override, as deposited; the gallery classified; the
// figures counting the removal.
func TestHotlineGuide(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("sha256sum is not installed")
	}
	var script strings.Builder
	script.WriteString("set -euxo pipefail\n")
	blocks := 0
	for _, b := range readmeBlocks(t, filepath.Join(testenv.Root(), "docs", "hotline.md"), hotlineGuideMarker) {
		if b.section == "## A day at the hotline" && !b.marked {
			t.Errorf("docs/hotline.md:%d: a shell block of the guide without %s before it", b.line, hotlineGuideMarker)
		}
		if !b.marked {
			continue
		}
		if m := placeholder.FindString(b.text); m != "" || strings.Contains(b.text, "!") {
			t.Errorf("docs/hotline.md:%d: the block does not work pasted (a placeholder %q, or a \"!\")", b.line, m)
		}
		blocks++
		script.WriteString("# docs/hotline.md:" + strconv.Itoa(b.line) + "\n" + b.text)
	}
	if blocks < 8 {
		t.Fatalf("%d blocks of the guide marked %s", blocks, hotlineGuideMarker)
	}
	script.WriteString("echo \"scratch=$PWD\" > \"$GUIDE_TEST_RESULTS\"\necho \"report=$report\" >> \"$GUIDE_TEST_RESULTS\"\n")

	s := newServer(t)
	checkout := madeRunCheckout(t, s)
	tmp, results := t.TempDir(), filepath.Join(t.TempDir(), "results")
	env := pastingEnv("HOME="+t.TempDir(), "TMPDIR="+tmp, "GUIDE_TEST_RESULTS="+results)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String())
	cmd.Dir, cmd.Env = checkout, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the guide's blocks failed (%v); the shell's trace and output:\n%s", err, out)
	}
	output := string(out)
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	scratch, report := got["scratch"], got["report"]
	if !strings.HasPrefix(scratch, tmp+string(os.PathSeparator)) || !strings.HasPrefix(report, "rp_") {
		t.Fatalf("the guide ended in %q with report %q", scratch, report)
	}

	// The report: actioned and closed, one URL removed, one noticed.
	var rv struct {
		Status       string
		ClosedReason string `json:"closed_reason"`
		Notices      []struct {
			URL       string  `json:"url"`
			RemovedAt *string `json:"removed_at"`
		}
		Captures []struct{ ID, Name, Source, Known, Category string }
	}
	show := s.ok("analyst", scratch, "report", "show", report, "--json")
	if err := json.Unmarshal([]byte(show.stdout), &rv); err != nil {
		t.Fatal(err)
	}
	if rv.Status != "closed" || rv.ClosedReason != "actioned" || len(rv.Notices) != 2 || len(rv.Captures) != 3 {
		t.Fatalf("the report after the day: %s", show.stdout)
	}
	for _, c := range rv.Captures {
		switch c.Name {
		case "known.jpg":
			if c.Known == "" || c.Category != "baseline" {
				t.Errorf("the listed capture: %+v", c)
			}
		case "gallery.html":
			if c.Category != "baseline" || c.Source != "https://imgshare.example/g/7781" {
				t.Errorf("the gallery capture: %+v", c)
			}
			// Settled by the three analysts the case's policy asks.
			var it struct {
				Classification struct {
					Source string
					Needed int
					Tally  map[string]int
				}
			}
			show := s.ok("analyst", scratch, "item", "show", c.ID, "--json")
			if err := json.Unmarshal([]byte(show.stdout), &it); err != nil || it.Classification.Source != "votes" || it.Classification.Needed != 3 || it.Classification.Tally["baseline"] != 3 {
				t.Errorf("the gallery's classification (%v): %s", err, show.stdout)
			}
		}
	}
	// The known capture was refused, then revealed as deposited.
	if !strings.Contains(output, "(refused, and recorded: it is known material)") {
		t.Errorf("the first get of the known capture was not refused:\n%s", output)
	}
	if fileSum(t, filepath.Join(scratch, "seen.jpg")) != fileSum(t, filepath.Join(scratch, "known.jpg")) {
		t.Error("seen.jpg is not the deposited known.jpg")
	}
	// The forward names each capture's source.
	csv, err := os.ReadFile(filepath.Join(scratch, report+".csv"))
	if err != nil || !strings.Contains(string(csv), `"paste.txt"`) || !strings.Contains(string(csv), `"https://paste.example/x9"`+"\r\n") {
		t.Errorf("the forward (%v):\n%s", err, csv)
	}
	// The figures count the removal.
	var st struct {
		Notices struct{ Sent, Removed int }
	}
	stats := s.ok("analyst", scratch, "stats", "--json")
	if err := json.Unmarshal([]byte(stats.stdout), &st); err != nil || st.Notices.Sent != 2 || st.Notices.Removed != 1 {
		t.Errorf("the figures after the day (%v): %s", err, stats.stdout)
	}
}
