package bench

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

func TestAuditVerifyProfile(t *testing.T) {
	if os.Getenv("CUSTOS_PROFILE") == "" {
		t.Skip("a measurement for profiling (set CUSTOS_PROFILE=1 and add -cpuprofile); make bench prints the figures")
	}
	ms, err := AuditVerify(200_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(ms)
}

func TestCustodyAppendProfile(t *testing.T) {
	if os.Getenv("CUSTOS_PROFILE") == "" {
		t.Skip("a measurement for profiling (set CUSTOS_PROFILE=1 and add -cpuprofile); make bench prints the figures")
	}
	ms, err := CustodyAppend(t.TempDir(), 64, 3e9)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(ms)
}

func TestHashSetSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a set of 200,000 digests")
	}
	ms, err := HashSet(t.TempDir(), 200_000)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range ms {
		got[m.Name] = m.Value
	}
	for _, name := range []string{"hashset_import_hashes_per_s", "hashset_lookup_p50_us", "hashset_lookup_p99_us", "hashset_lookup_entry_p99_us",
		"hashset_lookup_absent_p99_us", "hashset_rss_mib_per_10m"} {
		if got[name] <= 0 {
			t.Fatalf("%s missing or not positive: %v", name, ms)
		}
	}
	t.Log(ms)
}

// TestScaleSmall runs the scale group on a history of a few thousand
// events: the server must start on the generated log (every event
// applies at its replay) and every figure must be measured.
func TestScaleSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custos, generates a history and starts the server on it")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/custos-vault/custos/cmd/custos")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building custos: %v\n%s", err, out)
	}
	keep := filepath.Join(dir, "kept")
	ms, err := Scale(filepath.Join(dir, "custos"), dir, 3000, testLog{t}, keep)
	if err != nil {
		t.Fatal(err)
	}
	checkScaleMetrics(t, ms)
	// A second run on the kept folder measures it again without
	// generating a new history.
	if _, err := os.Stat(filepath.Join(keep, "scale-3k.json")); err != nil {
		t.Fatalf("the kept history's description: %v", err)
	}
	ms2, err := Scale(filepath.Join(dir, "custos"), dir, 3000, testLog{t}, keep)
	if err != nil {
		t.Fatal(err)
	}
	checkScaleMetrics(t, ms2)
	for i := range ms {
		if ms[i].Name == "scale_generate_s_at_3k_events" && ms2[i].Value != ms[i].Value {
			t.Errorf("the second run generated its history again (%v s, then %v s)", ms[i].Value, ms2[i].Value)
		}
	}
}

func checkScaleMetrics(t *testing.T, ms []Metric) {
	t.Helper()
	got := map[string]float64{}
	for _, m := range ms {
		got[m.Name] = m.Value
	}
	for _, name := range []string{"scale_generate_s", "scale_checkpoints", "startup_checkpoint_us", "scale_data_mib", "startup_s", "startup_without_snapshot_s", "startup_cpu_s", "server_rss_mib",
		"hour_appended_events", "server_rss_after_appends_mib", "case_timeline_first_ms", "case_timeline_ms",
		"server_rss_after_timeline_mib", "start_checks_done_s", "audit_verify_events_per_s", "audit_verify_cpu_s", "audit_verify_peak_rss_mib"} {
		if got[name+"_at_3k_events"] <= 0 {
			t.Errorf("%s_at_3k_events missing or not positive: %v", name, ms)
		}
	}
	if n := got["case_timeline_events_at_3k_events"]; n != scaleTimelineEvents {
		t.Errorf("the timeline case holds %v events, want %d", n, scaleTimelineEvents)
	}
	if n := got["hour_appended_events_at_3k_events"]; n < 1000 || n > 2000 {
		t.Errorf("an hour of work appended %v events, want about 1,500", n)
	}
}

// testLog writes progress lines to the test's log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// The stock-tools pipeline a deposit to the filesystem is judged against
// stays the one its earlier figures were measured with (docs/benchmarks.md),
// so that deposit_vs_stock_tools_ratio compares over time.
func TestStockPipelineUnchanged(t *testing.T) {
	want := `set -euo pipefail
tee >(sha256sum >/dev/null) >(md5sum >/dev/null) >(sha1sum >/dev/null) < "in.bin" | age -r "age1x" | tee >(sha256sum >/dev/null) > "out.age"
wait`
	if got := stockPipeline("in.bin", "age1x", `> "out.age"`); got != want {
		t.Fatalf("the pipeline changed:\n%s\nwant\n%s", got, want)
	}
}

// A package of a case an analyst opened is sealed by one of its
// investigators, whatever the order of its members: the vault refuses
// an analyst's sealing, and a history of 10^6 events stopped there. The
// newest cases here are an analyst's alone, an analyst's with an
// investigator assigned, and the timeline case; the choice is drawn many
// times.
func TestPackagesAreSealedByAnInvestigator(t *testing.T) {
	analyst := &genPerson{name: "analyst-004", role: vault.RoleAnalyst}
	investigator := &genPerson{name: "investigator-007", role: vault.RoleInvestigator}
	items := []genItem{{id: "it_1"}, {id: "it_2"}}
	alone := &genCase{id: "A", members: []*genPerson{analyst}, items: items}
	assigned := &genCase{id: "B", members: []*genPerson{analyst, investigator}, items: items}
	timeline := &genCase{id: "T", members: []*genPerson{investigator}, items: items}
	g := &generator{rng: rand.New(rand.NewPCG(1, 2)), cases: []*genCase{alone, assigned, timeline}, tl: timeline}
	for range 200 {
		c, sealer, err := g.packageCase()
		if err != nil {
			t.Fatal(err)
		}
		if c != assigned || sealer != investigator {
			t.Fatalf("the package of %s is sealed by %s (%s), want B's investigator", c.id, sealer.name, sealer.role)
		}
	}
	g.cases = []*genCase{alone, timeline}
	if c, sealer, err := g.packageCase(); err == nil {
		t.Fatalf("with no case of an investigator, %s's package is sealed by %s, want an error", c.id, sealer.name)
	}
}

// The OpenID sign-in measurement reads its own events without a
// finding: a sign-in whose recorded token the rules refused would be
// timed as a failure, not a check.
func TestAuditOIDCSignInsRunsClean(t *testing.T) {
	ms, err := AuditOIDCSignIns(20)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("metrics %v", ms)
	}
	for _, m := range ms {
		if m.Value <= 0 {
			t.Errorf("%s", m)
		}
	}
}
