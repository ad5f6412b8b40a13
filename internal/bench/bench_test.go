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
	if len(ms) != 4 || ms[0].Value <= 0 || ms[2].Value <= 0 || ms[3].Value <= 0 {
		t.Fatal(ms)
	}
	t.Log(ms)
}
