package bench

import "testing"

func TestAuditVerifyProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	ms, err := AuditVerify(200_000)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(ms)
}

func TestCustodyAppendProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	ms, err := CustodyAppend(t.TempDir(), 64, 3e9)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(ms)
}
