package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestRequestReasonsOverTheAPI: a re-issue or a reinstatement is asked
// with no body, as before requests carried reasons, or with
// {"reason": TEXT}, which the answer and the pending request give back;
// a malformed body or a reason that is bad input is answered 400 and
// records nothing.
func TestRequestReasonsOverTheAPI(t *testing.T) {
	tv := newTestVault(t, Options{})
	a := tv.do("cust", "POST", "/v1/persons/inv/reissue", "", nil)
	if a.code != http.StatusAccepted {
		t.Fatalf("a re-issue without a body: %d %s", a.code, a.body)
	}
	var r RequestResponse
	if err := json.Unmarshal([]byte(a.body), &r); err != nil || r.Reason != "" {
		t.Fatalf("a re-issue without a body answers %s (%v)", a.body, err)
	}
	if a := tv.postJSON("cust", "/v1/requests/"+r.Request+"/reject", `{"reason":"asked twice"}`); a.code != http.StatusOK {
		t.Fatalf("withdrawing: %d %s", a.code, a.body)
	}

	before := tv.v.Log().Size()
	for what, body := range map[string]string{
		"malformed JSON":            `{"reason":`,
		"an unknown member":         `{"why":"lost laptop"}`,
		"a control character":       `{"reason":"lost\u001b[2Jlaptop"}`,
		"a reason of 1,025 bytes":   `{"reason":"` + strings.Repeat("x", 1025) + `"}`,
		"a reason over two lines":   `{"reason":"lost\nlaptop"}`,
		"an invisible character":    `{"reason":"lost laptop\u202e"}`,
		"a reason that is a number": `{"reason":7}`,
	} {
		if a := tv.postJSON("cust", "/v1/persons/inv/reissue", body); a.code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", what, a.code, a.body)
		}
	}
	if got := tv.v.Log().Size(); got != before {
		t.Fatalf("bad input appended %d events", got-before)
	}

	const why = "laptop stolen on 4 December, police report 2026/881"
	a = tv.postJSON("cust", "/v1/persons/inv/reissue", `{"reason":"`+why+`"}`)
	if a.code != http.StatusAccepted {
		t.Fatalf("a re-issue with a reason: %d %s", a.code, a.body)
	}
	if err := json.Unmarshal([]byte(a.body), &r); err != nil || r.Reason != why {
		t.Fatalf("the answer: %s (%v)", a.body, err)
	}
	var pending RequestsResponse
	if a := tv.do("cust", "GET", "/v1/requests", "", nil); a.code != http.StatusOK || json.Unmarshal([]byte(a.body), &pending) != nil {
		t.Fatalf("requests: %d %s", a.code, a.body)
	}
	var listed vault.PendingRequest
	for _, q := range pending.Requests {
		if q.ID == r.Request {
			listed = q
		}
	}
	if listed.Reason != why {
		t.Errorf("the pending request lists the reason %q", listed.Reason)
	}
}
