package bench

import (
	"os"
	"testing"
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
