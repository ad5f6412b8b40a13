package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
)

// refusalsOf returns the reasons of the access.refused events of action.
func refusalsOf(t *testing.T, tv *testVault, action string) []string {
	t.Helper()
	tv.h.Close() // records the summaries still aggregated
	var out []string
	err := tv.v.Store().Read(context.Background(), 0, func(r events.Record) error {
		ev, err := events.Decode(r.Bytes)
		if err != nil {
			return err
		}
		var d struct{ Action, Reason string }
		json.Unmarshal(ev.Data, &d)
		if ev.Type == "access.refused" && d.Action == action && ev.Actor.Auth == "none" {
			out = append(out, d.Reason)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCredentialsOpenSessionsOnly: a local credential is refused as a
// bearer token; it opens a session whose token signs requests in until
// it is ended; a failed sign-in is recorded.
func TestCredentialsOpenSessionsOnly(t *testing.T) {
	tv := newTestVault(t, Options{})
	req, _ := http.NewRequest("GET", tv.srv.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+tv.creds["inv"])
	resp, err := tv.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a credential used as a bearer token answered %d", resp.StatusCode)
	}
	if a := tv.do("", "GET", "/v1/auth", "", nil); a.code != 200 || !strings.Contains(a.body, `"local":true`) || strings.Contains(a.body, "oidc") {
		t.Fatalf("GET /v1/auth: %d %s", a.code, a.body)
	}
	a := tv.postJSON("", "/v1/sessions", `{"credential":"`+tv.creds["inv"]+`"}`)
	var s SessionResponse
	if a.code != 201 || json.Unmarshal([]byte(a.body), &s) != nil || !strings.HasPrefix(s.Token, "css_") || s.Auth != "local" {
		t.Fatalf("sign-in: %d %s", a.code, a.body)
	}
	tv.tokens["new"] = s.Token
	if w := tv.do("new", "GET", "/v1/whoami", "", nil); w.code != 200 || !strings.Contains(w.body, `"session":"`+s.Session+`"`) {
		t.Fatalf("whoami: %d %s", w.code, w.body)
	}
	if e := tv.postJSON("new", "/v1/sessions/end", ""); e.code != 200 {
		t.Fatalf("sign-out: %d %s", e.code, e.body)
	}
	if w := tv.do("new", "GET", "/v1/whoami", "", nil); w.code != http.StatusUnauthorized {
		t.Fatalf("an ended session answered %d", w.code)
	}
	for _, body := range []string{
		`{"credential":"cst_` + strings.Repeat("A", 43) + `"}`,
		`{"id_token":"eyJ.x.y"}`,
	} {
		if a := tv.postJSON("", "/v1/sessions", body); a.code != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", body, a.code, a.body)
		}
	}
	if a := tv.postJSON("", "/v1/sessions", `{"credential":"`+tv.creds["inv"]+`","id_token":"x"}`); a.code != http.StatusBadRequest {
		t.Fatalf("both a credential and an ID token: %d", a.code)
	}
	if got := refusalsOf(t, tv, "session.open"); len(got) != 2 {
		t.Fatalf("refused sign-ins recorded: %q", got)
	}
}
