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
