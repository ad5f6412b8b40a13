package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// badHalves is a well-formed invitation half that matches nothing.
var badHalves = `["csi_` + strings.Repeat("A", 43) + `","csi_` + strings.Repeat("B", 43) + `"]`

// TestRefusedRedemptionsAreAggregated: refused sign-ins are recorded at
// bounded cost, aggregated per client address, action and reason, so
// that an anonymous client cannot fill the log (security.md, "anonymous
// client"). The reason of a refused redemption must not carry the name
// the client chose, or every name tried is an event of its own.
func TestRefusedRedemptionsAreAggregated(t *testing.T) {
	tv := newTestVault(t, Options{})
	const n = 15 // within one address's burst
	for i := range n {
		body := fmt.Sprintf(`{"name":"nobody-%d","halves":%s}`, i, badHalves)
		if a := tv.postJSON("", "/v1/invitations/redeem", body); a.code != http.StatusUnauthorized {
			t.Fatalf("redemption %d: %d %s", i, a.code, a.body)
		}
	}
	if got := refusalsOf(t, tv, "invitation.redeem"); len(got) > 2 {
		t.Fatalf("%d refused redemptions from one address in one window cost %d events, not one and a summary: %q ...", n, len(got), got[:3])
	}
}

// TestRedemptionAnswersDoNotTellWhoIsInvited: an anonymous client, with
// halves that match nothing, must get the same answer whether or not the
// name it gives has an open invitation; otherwise it learns who is about
// to join the unit, and whose invitation is worth intercepting.
func TestRedemptionAnswersDoNotTellWhoIsInvited(t *testing.T) {
	tv := newTestVault(t, Options{})
	ctx := context.Background()
	tok, err := tv.v.Enroll(ctx, "cust2", "custodian")
	if err != nil {
		t.Fatal(err)
	}
	s, err := tv.v.OpenSession(ctx, tok.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	tv.tokens["cust2"] = s.Token.Reveal()
	a := tv.postJSON("cust", "/v1/persons", `{"name":"dara","role":"investigator"}`)
	var req RequestResponse
	if a.code != http.StatusAccepted || json.Unmarshal([]byte(a.body), &req) != nil {
		t.Fatalf("enrol: %d %s", a.code, a.body)
	}
	if a := tv.postJSON("cust2", "/v1/requests/"+req.Request+"/approve", ""); a.code != http.StatusOK {
		t.Fatalf("approve: %d %s", a.code, a.body)
	}
	invited := tv.postJSON("", "/v1/invitations/redeem", `{"name":"dara","halves":`+badHalves+`}`)
	unknown := tv.postJSON("", "/v1/invitations/redeem", `{"name":"sok","halves":`+badHalves+`}`)
	if invited.code != unknown.code || strings.ReplaceAll(unknown.body, "sok", "dara") != invited.body {
		t.Fatalf("the answers tell an invited name from another:\n  dara (invited): %d %s  sok: %d %s", invited.code, invited.body, unknown.code, unknown.body)
	}
}

// TestRefusalSummariesDoNotBlameAnotherCredential: every event's actor
// names the credential that acted. Refusals of one person from one
// address are summarised per window; the summary must not attribute the
// refusals of one credential (here a second session in the person's
// name, as an identity-provider administrator would open) to another
// (the person's own session, refused once first).
func TestRefusalSummariesDoNotBlameAnotherCredential(t *testing.T) {
	tv := newTestVault(t, Options{})
	own := tv.tokens["inv"]
	s, err := tv.v.OpenSession(context.Background(), tv.creds["inv"])
	if err != nil {
		t.Fatal(err)
	}
	tv.tokens["other"] = s.Token.Reveal()
	ownSession, err := tv.v.Authenticate(own)
	if err != nil {
		t.Fatal(err)
	}
	tv.do("inv", "GET", "/v1/no-such-route", "", nil)
	const n = 5
	for range n {
		tv.do("other", "GET", "/v1/no-such-route", "", nil)
	}
	tv.h.Close()
	var blamed int64
	for _, ev := range tv.events("access.refused") {
		if ev.Actor.Session != ownSession.Credential.Session {
			continue
		}
		var d struct{ Count int64 }
		json.Unmarshal(ev.Data, &d)
		blamed += max(d.Count, 1)
	}
	if blamed != 1 {
		t.Fatalf("session %s was refused once; the log attributes %d refusals to it (the other %d are session %s's)", ownSession.Credential.Session, blamed, blamed-1, s.ID)
	}
}
