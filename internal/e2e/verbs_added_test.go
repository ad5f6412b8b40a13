package e2e

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRemoveMemberAsTyped drives `custos case remove-member` as a user
// types it: a usage error without a reason, a refusal for anyone but a
// custodian, the removal recorded with its reason, and the removed
// investigator refused afterwards.
func TestRemoveMemberAsTyped(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id1, _ := setup(t, s, work)
	if r := s.run("custodian", work, "custos", "case", "remove-member", "C-1", "investigator"); r.code != 2 || !strings.Contains(r.stderr, "--reason") {
		t.Fatalf("remove-member without --reason: %d %s", r.code, r.stderr)
	}
	if r := s.run("custodian", work, "custos", "case", "remove-member", "C-1"); r.code != 2 {
		t.Fatalf("remove-member without PERSON: %d %s", r.code, r.stderr)
	}
	s.refused("investigator", work, "only custodians", "case", "remove-member", "C-1", "investigator", "--reason", "self")
	out := s.ok("custodian", work, "case", "remove-member", "C-1", "investigator", "--reason", "reassigned to another unit", "--json").json(t)
	if out["case"] != "C-1" || out["person"] != "investigator" {
		t.Fatalf("remove-member --json: %v", out)
	}
	s.refused("investigator", work, "", "get", id1, "--purpose", "after removal", "-o", filepath.Join(work, "x"))
	s.refused("custodian", work, "not assigned", "case", "remove-member", "C-1", "investigator", "--reason", "again")
	tl := s.ok("auditor", work, "audit", "log", "--case", "C-1", "--json").stdout
	if !strings.Contains(tl, `"case.member.removed"`) || !strings.Contains(tl, "reassigned to another unit") {
		t.Fatal("the removal and its reason are not in the case's timeline")
	}
}

// TestWriteStallTimeoutFlag: a server started with --write-stall-timeout
// cuts a download the client stopped reading, and records the access as
// aborted, not completed.
func TestWriteStallTimeoutFlag(t *testing.T) {
	s := newServer(t, "--write-stall-timeout", "1s")
	work := t.TempDir()
	big, _, _ := evidence(t, work, "big.bin", 48<<20)
	s.ok("investigator", work, "case", "open", "W-1", "--title", "stall")
	dep := s.ok("investigator", work, "deposit", "--case", "W-1", big, "--json").json(t)
	id := dep["items"].([]any)[0].(map[string]any)["id"].(string)
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET /v1/items/%s?purpose=stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", id, token(s, "investigator"))
	bufio.NewReader(c).ReadString('\n') // the status line; then the client stops reading
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		tl := s.ok("auditor", work, "audit", "log", "--item", id, "--json").stdout
		if strings.Contains(tl, `"item.access.completed"`) {
			if !strings.Contains(tl, `"aborted"`) {
				t.Fatalf("a download the client stopped reading was recorded as completed: %s", tl)
			}
			return
		}
	}
	t.Fatal("a client that stopped reading held the download for 30 s")
}
