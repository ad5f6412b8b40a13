package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestAStopIsOnTheRecord: a server stopped as asked (SIGTERM, as a
// service manager stops it) records server.stopped last, naming its own
// start; one killed records nothing, so that the next start follows no
// stop and an auditor tells a planned stop from a crash. The audit
// passes over both.
func TestAStopIsOnTheRecord(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "STOP-1", "--title", "before the stop")
	s.stop()
	if !strings.Contains(s.logs.String(), "stopped: the stop is recorded") {
		t.Errorf("the server's log does not say the stop was recorded:\n%s", s.logs)
	}
	s.start()
	s.ok("investigator", work, "case", "open", "STOP-2", "--title", "after the stop")
	s.kill()
	s.start()
	// The audit passes, and says the start after the kill.
	if r := s.ok("auditor", work, "audit", "verify"); !strings.Contains(r.stdout+r.stderr, "ended without recording its stop") {
		t.Errorf("audit verify after a kill says nothing of it:\n%s%s", r.stdout, r.stderr)
	} else if strings.Count(r.stdout+r.stderr, "ended without recording its stop") != 1 {
		t.Errorf("audit verify says more than the kill:\n%s%s", r.stdout, r.stderr)
	}

	var starts []uint64
	var stops []vault.ServerStopped
	var afterStop []bool // for each start: whether a stop is right before it
	lastStopped := false
	for _, ev := range logEvents(t, s) {
		switch ev.Type {
		case vault.TypeServerStarted:
			starts = append(starts, ev.Seq)
			afterStop = append(afterStop, lastStopped)
			lastStopped = false
		case vault.TypeServerStopped:
			var d vault.ServerStopped
			if err := ev.DecodeData(&d); err != nil {
				t.Fatal(err)
			}
			if ev.Actor.Role != vault.RoleSystem {
				t.Errorf("server.stopped recorded by %+v", ev.Actor)
			}
			stops = append(stops, d)
			lastStopped = true
		default:
			if ev.Actor.Role != vault.RoleSystem {
				lastStopped = false
			}
		}
	}
	if len(starts) < 3 || len(stops) != 1 {
		t.Fatalf("starts at %v, stops %+v", starts, stops)
	}
	n := len(starts)
	if stops[0].Started != starts[n-3] || stops[0].Reason != "stop signal" {
		t.Errorf("the stop records %+v; the server it stopped started at event %d", stops[0], starts[n-3])
	}
	if !afterStop[n-2] || afterStop[n-1] {
		t.Errorf("the start after the stop follows one: %v; the start after the kill: %v", afterStop[n-2], afterStop[n-1])
	}
}

// TestPersonListSaysUntilWhenAnInvitationWorks: a custodian listing
// people reads, for one invited and not yet signed in, until when the
// invitation may be redeemed.
func TestPersonListSaysUntilWhenAnInvitationWorks(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	req := s.ok("custodian", work, "person", "add", "erin", "--role", "analyst", "--json").json(t)
	s.ok("custodian2", work, "approve", req["request"].(string))
	out := s.ok("custodian", work, "person", "list").stdout
	if !regexp.MustCompile(`erin +analyst +invited \(the invitation may be redeemed until 20\d\d-\d\d-\d\d \d\d:\d\d UTC\)`).MatchString(out) {
		t.Errorf("person list:\n%s", out)
	}
}
