package api

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestLeftOutAnswersChangeNothing: a request that leaves out a member
// whose absence the decoder would read as a value is refused, and
// changes nothing: a legal hold's "on" (absent or null would have read
// as false, lifting the hold), a case policy's export_approval (absent
// reads as "", which the vault refuses). A member that is a choice with
// a safe default (rotate-kek's retire_old) may still be left out.
func TestLeftOutAnswersChangeNothing(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	if a := tv.postJSON("cust", "/v1/cases/C-1/hold", `{"on":true,"reason":"court order 12"}`); a.code != 200 {
		t.Fatal(a.code, a.body)
	}
	if a := tv.postJSON("cust", "/v1/cases/C-1/policy", `{"export_approval":"required"}`); a.code != 200 {
		t.Fatal(a.code, a.body)
	}
	events := tv.v.Log().Size()
	for _, c := range []struct{ path, body, says string }{
		{"/v1/cases/C-1/hold", `{"reason":"court order 12"}`, `member \"on\" is missing`},
		{"/v1/cases/C-1/hold", `{"on":null,"reason":"court order 12"}`, "null is not a value"},
		{"/v1/cases/C-1/policy", `{}`, "export"},
		{"/v1/cases/C-1/policy", `{"export_approval":null}`, "export"},
	} {
		a := tv.postJSON("cust", c.path, c.body)
		if a.code != 400 || !strings.Contains(a.body, c.says) {
			t.Errorf("%s %s: %d %s, want 400 saying %q", c.path, c.body, a.code, a.body, c.says)
		}
	}
	if n := tv.v.Log().Size(); n != events {
		t.Fatalf("refused requests appended %d events", n-events)
	}
	if lifted := tv.events(vault.TypeCaseHoldLifted); len(lifted) != 0 {
		t.Fatalf("the hold was lifted: %d case.hold.lifted", len(lifted))
	}
	if a := tv.do("cust", "GET", "/v1/cases/C-1", "", nil); !strings.Contains(a.body, `"held":true`) || !strings.Contains(a.body, `"export_approval":true`) {
		t.Fatalf("the case after the refused requests: %s", a.body)
	}
	// (This vault's development sealer cannot rotate; the refusal is
	// its, not the body's.)
	if a := tv.postJSON("cust", "/v1/admin/rotate-kek", `{}`); strings.Contains(a.body, "retire_old") || strings.Contains(a.body, "JSON") {
		t.Errorf("rotate-kek without retire_old: %d %s", a.code, a.body)
	}
}

// TestCutShortDepositIsSaidSo: a deposit whose client sends fewer bytes
// than its Content-Length and stops is answered as an interrupted upload
// (not as a missing checksum), and nothing is recorded.
func TestCutShortDepositIsSaidSo(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	before := tv.v.Log().Size()
	c, err := net.Dial("tcp", strings.TrimPrefix(tv.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/cases/C-1/items?name=x.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n0123456789", tv.tokens["inv"])
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	if !strings.Contains(string(b), "upload interrupted") || strings.Contains(string(b), "SHA-256") {
		t.Fatalf("a cut-short deposit was answered: %s", b)
	}
	if n := tv.v.Log().Size(); n != before {
		t.Fatalf("a cut-short deposit appended %d events", n-before)
	}
}
