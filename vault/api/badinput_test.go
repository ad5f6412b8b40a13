package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// addPerson enrols name in role and opens a session for them.
func (tv *testVault) addPerson(name, role string) {
	tv.t.Helper()
	ctx := context.Background()
	tok, err := tv.v.Enroll(ctx, name, role)
	if err != nil {
		tv.t.Fatal(err)
	}
	s, err := tv.v.OpenSession(ctx, tok.Reveal())
	if err != nil {
		tv.t.Fatal(err)
	}
	tv.tokens[name], tv.creds[name] = s.Token.Reveal(), tok.Reveal()
}

// TestReportWorkAsksWhoFirst: who may not work on a report (a
// prosecutor; an analyst of another case than the one it is assessed
// into) is refused, and the refusal recorded, before anything of the
// report shapes the answer: a VICS forward must not count its items, a
// notice or its progress must not match a URL against its URLs. A
// prosecutor's answer is the one an unknown report gets.
func TestReportWorkAsksWhoFirst(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.addPerson("ana", vault.RoleAnalyst)
	tv.addPerson("ana2", vault.RoleAnalyst)
	a := tv.postJSON("ana", "/v1/reports", `{"channel":"email","urls":["http://example.org/secret-path","https://www.example.org/secret-path/"]}`)
	var rc ReportCreated
	if a.code != 201 || json.Unmarshal([]byte(a.body), &rc) != nil {
		t.Fatal(a.code, a.body)
	}
	if a := tv.postJSON("ana", "/v1/cases", `{"case":"H-1","title":"hotline"}`); a.code != 201 {
		t.Fatal(a.code, a.body)
	}
	if a := tv.postJSON("ana", "/v1/reports/"+rc.Report+"/assess", `{"case":"H-1"}`); a.code != 200 {
		t.Fatal(a.code, a.body)
	}
	if a := tv.deposit("ana", "H-1", "cap.png&report="+rc.Report, []byte("capture bytes")); a.code != 201 {
		t.Fatal(a.code, a.body)
	}
	unknown := "rp_000000000000000000000000"
	for _, who := range []string{"pros", "ana2"} {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/forward?to=police&kind=police&format=vics", ""},
			{"POST", "/notices", `{"url":"example.org/secret-path","to":"x","via":"email"}`},
			{"POST", "/acknowledged", `{"url":"example.org/secret-path"}`},
			{"POST", "/removed", `{"url":"example.org/secret-path"}`},
		} {
			n0 := len(tv.events(vault.TypeAccessRefused))
			var got, none answer
			if c.method == "GET" {
				got, none = tv.do(who, "GET", "/v1/reports/"+rc.Report+c.path, "", nil), tv.do(who, "GET", "/v1/reports/"+unknown+c.path, "", nil)
			} else {
				got, none = tv.postJSON(who, "/v1/reports/"+rc.Report+c.path, c.body), tv.postJSON(who, "/v1/reports/"+unknown+c.path, c.body)
			}
			// A prosecutor is told what an unknown report gets; an
			// analyst, who reads the list of reports, that it is
			// another case's work.
			want := none.code
			if who == "ana2" {
				want = 403
			}
			if got.code != want || strings.Contains(got.body, "secret-path") || strings.Contains(got.body, "1 are not") {
				t.Errorf("%s %s: %d %s; an unknown report: %d %s", who, c.path, got.code, got.body, none.code, none.body)
			}
			if n := len(tv.events(vault.TypeAccessRefused)) - n0; n < 2 {
				t.Errorf("%s %s: %d refusals recorded for 2 refused requests", who, c.path, n)
			}
		}
	}
}

// TestFullRefusalTableStaysBounded: once the table of refusal windows is
// full, refusals from new addresses share one window per action and
// grounds whatever their reason (which may repeat what was sent), so
// that varied input cannot grow it.
func TestFullRefusalTableStaysBounded(t *testing.T) {
	tv := newTestVault(t, Options{})
	l := newRefusalLog(tv.v, slog.New(slog.DiscardHandler), time.Hour, 4)
	defer l.close()
	for i := range 200 {
		if err := l.note(context.Background(), nil, fmt.Sprintf("192.0.2.%d", i), "session.open", "", fmt.Sprintf("no person is enrolled with this identity (sub %q)", fmt.Sprint("s-", i)), vault.GroundsCredentials); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	n := len(l.windows)
	l.mu.Unlock()
	if n > 5 {
		t.Fatalf("%d refusal windows open after 200 refusals of varied reasons from 200 addresses; the table holds 4 and one overflow", n)
	}
}

// TestAlteredUploadIsRecordedAsSaid: a deposit whose bytes are not the
// ones its client hashed (the trailer's SHA-256) stores nothing, is
// recorded as a refused deposit naming the file and both digests, and
// the answer says so and what to do, rather than claiming an
// integrity.failed that was never written. A file whose acquisition
// hash does not hold, the other member of the class, is recorded alike.
func TestAlteredUploadIsRecordedAsSaid(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	send := func(query string, content []byte, sum string) answer {
		req, _ := http.NewRequest("POST", tv.srv.URL+"/v1/cases/C-1/items?"+query, io.NopCloser(bytes.NewReader(content)))
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+tv.tokens["inv"])
		req.Trailer = http.Header{HeaderContentSHA256: {sum}}
		resp, err := tv.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	content := []byte("evidence bytes, altered on the way")
	good := sha256.Sum256(content)
	for _, c := range []struct {
		query, sum, says string
		code             int
	}{
		{"name=altered.bin", strings.Repeat("0", 64), "the client hashed " + strings.Repeat("0", 64), 422},
		{"name=acquired.bin&expect_sha256=" + strings.Repeat("1", 64), hex.EncodeToString(good[:]), "not the expected", 400},
	} {
		n0 := len(tv.events(vault.TypeAccessRefused))
		a := send(c.query, content, c.sum)
		if a.code != c.code || !strings.Contains(a.body, c.says) || strings.Contains(a.body, "integrity.failed") {
			t.Errorf("%s: %d %s", c.query, a.code, a.body)
		}
		evs := tv.events(vault.TypeAccessRefused)
		if len(evs) != n0+1 {
			t.Errorf("%s: %d refusals recorded, want 1", c.query, len(evs)-n0)
			continue
		}
		if d := refusalData(t, evs[n0]); d.Grounds != vault.GroundsInput || !strings.Contains(d.Reason, strings.TrimPrefix(strings.SplitN(c.query, "&", 2)[0], "name=")) {
			t.Errorf("%s: recorded %+v", c.query, d)
		}
	}
	if a := send("name=altered.bin", content, strings.Repeat("0", 64)); !strings.Contains(a.body, "deposit the file again") {
		t.Errorf("the answer does not say what to do: %s", a.body)
	}
	if n := len(tv.events(vault.TypeItemDeposited)); n != 1 {
		t.Fatalf("%d deposits recorded, want the setup's one", n)
	}
}

// TestTimesOutOfRangeAreBadInput: a statistics bound whose offset
// carries it out of the years 1 to 9999 in UTC is refused (400), where
// it was answered 200 with an empty body (the answer could not encode
// it); and an answer that cannot be encoded is a 500, not an empty 200.
func TestTimesOutOfRangeAreBadInput(t *testing.T) {
	tv := newTestVault(t, Options{})
	for _, q := range []string{"to=9999-12-31T23:00:00-10:00", "from=0000-01-01T00:00:00%2B10:00", "from=0000-06-01"} {
		if a := tv.do("aud", "GET", "/v1/stats?"+q, "", nil); a.code != 400 || !strings.Contains(a.body, "years 1 to 9999") {
			t.Errorf("%s: %d %q", q, a.code, a.body)
		}
	}
	if a := tv.do("aud", "GET", "/v1/stats?from=2026-01-01&to=2026-12-31", "", nil); a.code != 200 || !strings.HasPrefix(a.body, "{") {
		t.Errorf("a year's statistics: %d %q", a.code, a.body)
	}
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, struct{ T time.Time }{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "internal error") {
		t.Errorf("an answer that cannot be encoded: %d %q", rec.Code, rec.Body)
	}
}

// TestCaseUCOAskedOfTheReportRoute: the custody report's route asked for
// format case-uco points to the CASE/UCO route, rather than refusing a
// format "" nobody sent and suggesting the one that was.
func TestCaseUCOAskedOfTheReportRoute(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.setupCase()
	a := tv.do("aud", "GET", "/v1/cases/C-1/report?format=case-uco", "", nil)
	if a.code != 400 || !strings.Contains(a.body, "/case-uco") || strings.Contains(a.body, `format \"\"`) {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if a := tv.do("aud", "GET", "/v1/cases/C-1/report?format=xml", "", nil); a.code != 400 || !strings.Contains(a.body, `format \"xml\"`) {
		t.Fatalf("format xml: %d %s", a.code, a.body)
	}
}

// TestReportContactOnlyWhenAsked: reading a report is not reading its
// reporter's contact. An analyst's GET of a report shows that one was
// given and records nothing; ?contact=open shows it, its opening recorded
// first; a custodian asking for it is not shown it; any other value is
// bad input, and nothing is recorded.
func TestReportContactOnlyWhenAsked(t *testing.T) {
	tv := newTestVault(t, Options{})
	tv.addPerson("ana", vault.RoleAnalyst)
	a := tv.postJSON("ana", "/v1/reports", `{"channel":"phone","urls":["https://example.org/a"],"contact":"caller@example.net"}`)
	var rc ReportCreated
	if a.code != 201 || json.Unmarshal([]byte(a.body), &rc) != nil {
		t.Fatal(a.code, a.body)
	}
	path := "/v1/reports/" + rc.Report
	before := tv.v.Log().Size()
	for _, c := range []struct {
		who, query string
		code       int
		shown      bool
	}{
		{"ana", "", 200, false},
		{"cust", "?contact=open", 200, false},
		{"ana", "?contact=yes", 400, false},
		{"ana", "?contact=", 200, false},
	} {
		a := tv.do(c.who, "GET", path+c.query, "", nil)
		if a.code != c.code || strings.Contains(a.body, "caller@example.net") != c.shown || c.code == 200 && !strings.Contains(a.body, `"contact_withheld":true`) {
			t.Errorf("%s GET %s: %d %s", c.who, c.query, a.code, a.body)
		}
	}
	if n := tv.v.Log().Size(); n != before {
		t.Fatalf("reads without opening the contact appended %d events", n-before)
	}
	if a := tv.do("ana", "GET", path+"?contact=open", "", nil); a.code != 200 || !strings.Contains(a.body, "caller@example.net") {
		t.Fatalf("?contact=open: %d %s", a.code, a.body)
	}
	if opened := tv.events(vault.TypeReportContactOpened); len(opened) != 1 || opened[0].Actor.Person != "ana" {
		t.Fatalf("the contact's opening was not recorded first: %+v", opened)
	}
}
