package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// rolesVault is a vault on the embedded backends behind the API and the
// web application, served on loopback, with people in every role.
type rolesVault struct {
	t       *testing.T
	v       *vault.Vault
	objects string // the object store's folder
	srv     *httptest.Server
	creds   map[string]string // local credentials
	tokens  map[string]string // API session tokens
}

func newRolesVault(t *testing.T, configure ...func(*vault.Config)) *rolesVault {
	t.Helper()
	bv := openTestVault(t, configure...)
	ctx := context.Background()
	v := bv.v
	rv := &rolesVault{t: t, v: v, objects: bv.objects, creds: map[string]string{}, tokens: map[string]string{}}
	for _, p := range []struct{ name, role string }{{"inv2", vault.RoleInvestigator}, {"def", vault.RoleDefence}} {
		tok, err := v.Enroll(ctx, p.name, p.role)
		if err != nil {
			t.Fatal(err)
		}
		bv.creds[p.name] = tok.Reveal()
	}
	for name, cred := range bv.creds {
		s, err := v.OpenSession(ctx, cred)
		if err != nil {
			t.Fatal(err)
		}
		rv.creds[name], rv.tokens[name] = cred, s.Token.Reveal()
	}
	logger := slog.New(slog.DiscardHandler)
	apiH := api.New(v, logger, api.Options{})
	var web http.Handler
	rv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { web.ServeHTTP(w, r) }))
	wh, err := New(v, apiH, logger, Options{BaseURL: rv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	web = wh
	t.Cleanup(func() {
		rv.srv.Close()
		apiH.Close()
	})
	return rv
}

// apiCall sends one API request as person and decodes the JSON answer
// into out (if not nil); it fails the test unless the status is want.
func (rv *rolesVault) apiCall(person, method, path string, body any, want int, out any) {
	rv.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, rv.srv.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+rv.tokens[person])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := rv.srv.Client().Do(req)
	if err != nil {
		rv.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		rv.t.Fatalf("%s %s as %s: %d %s (want %d)", method, path, person, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			rv.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// deposit uploads content into a case as person, with the trailer the
// CLI sends, and returns the item's id.
func (rv *rolesVault) deposit(person, caseID, name string, content []byte) string {
	rv.t.Helper()
	sum := sha256.Sum256(content)
	req, _ := http.NewRequest("POST", rv.srv.URL+"/v1/cases/"+caseID+"/items?name="+name, io.NopCloser(bytes.NewReader(content)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+rv.tokens[person])
	req.Trailer = http.Header{api.HeaderContentSHA256: {hex.EncodeToString(sum[:])}}
	resp, err := rv.srv.Client().Do(req)
	if err != nil {
		rv.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		rv.t.Fatalf("deposit: %d %s", resp.StatusCode, b)
	}
	var d struct{ ID string }
	json.Unmarshal(b, &d)
	return d.ID
}

// setupCase opens case C-1 with inv as member and one item, and seals a
// package of it for pros; it returns the item's and the package's ids.
func (rv *rolesVault) setupCase() (item, pkg string) {
	rv.t.Helper()
	rv.apiCall("inv", "POST", "/v1/cases", api.CaseRequest{Case: "C-1", Title: "first"}, http.StatusCreated, nil)
	item = rv.deposit("inv", "C-1", "a.bin", []byte("evidence bytes"))
	id, _ := age.GenerateX25519Identity()
	rv.apiCall("pros", "POST", "/v1/recipient", api.RecipientRequest{Recipient: id.Recipient().String()}, http.StatusOK, nil)
	var p vault.SealedPackage
	rv.apiCall("inv", "POST", "/v1/packages", api.PackageRequest{Case: "C-1", For: "pros", Purpose: "trial"}, http.StatusCreated, &p)
	if item == "" || p.ID == "" {
		rv.t.Fatalf("no ids: %q %q", item, p.ID)
	}
	return item, p.ID
}

// size is the custody log's length.
func (rv *rolesVault) size() uint64 {
	rv.t.Helper()
	n, err := rv.v.Store().Size(context.Background())
	if err != nil {
		rv.t.Fatal(err)
	}
	return n
}

// eventsFrom returns the events from position from on.
func (rv *rolesVault) eventsFrom(from uint64) []*events.Event {
	rv.t.Helper()
	var out []*events.Event
	err := rv.v.Store().Read(context.Background(), from, func(rec events.Record) error {
		ev, err := events.Decode(rec.Bytes)
		if err != nil {
			return err
		}
		out = append(out, ev)
		return nil
	})
	if err != nil {
		rv.t.Fatal(err)
	}
	return out
}

// typesFrom lists the types of the events from position from on.
func (rv *rolesVault) typesFrom(from uint64) []string {
	var out []string
	for _, ev := range rv.eventsFrom(from) {
		out = append(out, ev.Type)
	}
	return out
}

// eventOf returns the first event of type typ from position from on, or
// nil.
func (rv *rolesVault) eventOf(from uint64, typ string) *events.Event {
	for _, ev := range rv.eventsFrom(from) {
		if ev.Type == typ {
			return ev
		}
	}
	return nil
}

// awaitEvent returns the first event of type typ from position from on,
// waiting up to 10 seconds for it: what a server records after its
// answer's last byte (a retrieval's completion) may land after the
// client has read the answer.
func (rv *rolesVault) awaitEvent(from uint64, typ string) *events.Event {
	rv.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ev := rv.eventOf(from, typ); ev != nil {
			return ev
		}
		if time.Now().After(deadline) {
			rv.t.Fatalf("no %s event within 10 s", typ)
		}
	}
}

// onlyRefusals fails unless every event from position from on is a
// recorded refusal: a refused request changed nothing.
func (rv *rolesVault) onlyRefusals(from uint64, what string) {
	rv.t.Helper()
	for _, typ := range rv.typesFrom(from) {
		if typ != vault.TypeAccessRefused {
			rv.t.Errorf("%s: the log got a %s event", what, typ)
		}
	}
}

// browser is one person's browser: a cookie jar signed in to the web
// application.
type browser struct {
	rv   *rolesVault
	name string
	c    *http.Client
}

// page is an answer as the browser got it (after redirects).
type page struct {
	code   int
	header http.Header
	body   string // HTML entities decoded, for matching
	raw    []byte
	url    string
}

func (rv *rolesVault) signIn(name string) *browser {
	rv.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{rv: rv, name: name, c: &http.Client{Jar: jar}}
	p := b.post("/app/sign-in", url.Values{"credential": {rv.creds[name]}, "next": {"/app/"}})
	if p.code != http.StatusOK || !strings.HasSuffix(p.url, "/app/") {
		rv.t.Fatalf("sign-in as %s: %d at %s", name, p.code, p.url)
	}
	return b
}

func (b *browser) do(req *http.Request) page {
	b.rv.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.rv.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	// body is the page's text as read: the isolates values sit in
	// (<bdi>, bidi.go) break no word.
	return page{code: resp.StatusCode, header: resp.Header, body: html.UnescapeString(isolates.Replace(string(raw))), raw: raw, url: resp.Request.URL.String()}
}

func (b *browser) get(path string) page {
	b.rv.t.Helper()
	req, _ := http.NewRequest("GET", b.rv.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form as a same-origin page of the vault would.
func (b *browser) post(path string, form url.Values) page {
	b.rv.t.Helper()
	req, _ := http.NewRequest("POST", b.rv.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var isolates = strings.NewReplacer("<bdi>", "", "</bdi>", "")

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the browser's session, from a page's form.
func (b *browser) csrf() string {
	b.rv.t.Helper()
	p := b.get("/app/me")
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.rv.t.Fatalf("no CSRF token on /app/me for %s", b.name)
	}
	return m[1]
}

// send posts a form with the session's CSRF token added.
func (b *browser) send(path string, form url.Values) page {
	b.rv.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf())
	return b.post(path, form)
}

// raw2 is the page as sent (entities not decoded), for patterns on the
// markup.
func (p page) raw2() string { return string(p.raw) }

// postFormsCarryCSRF checks that every POST form of the page carries the
// CSRF token field.
func (p page) postFormsCarryCSRF(t *testing.T, what string) {
	t.Helper()
	forms := regexp.MustCompile(`(?s)<form method="post".*?</form>`).FindAllString(p.raw2(), -1)
	if len(forms) == 0 {
		t.Errorf("%s: no POST form", what)
	}
	for _, f := range forms {
		if !strings.Contains(f, `<input type="hidden" name="csrf" value="`) {
			t.Errorf("%s: a form without the CSRF token: %.120s", what, f)
		}
	}
}

func (p page) has(t *testing.T, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s: %q is not on the page (%d)", what, s, p.code)
		}
	}
}

func (p page) lacks(t *testing.T, what string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.body, s) {
			t.Errorf("%s: %q is on the page", what, s)
		}
	}
}

func (p page) status(t *testing.T, what string, want int) {
	t.Helper()
	if p.code != want {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.code, want, p.body)
	}
}

// refusedWithoutCSRF posts form without the CSRF token: it must be
// refused (403) and change nothing.
func (b *browser) refusedWithoutCSRF(t *testing.T, path string, form url.Values) {
	t.Helper()
	before := b.rv.size()
	p := b.post(path, form)
	p.status(t, "POST "+path+" without csrf", http.StatusForbidden)
	b.rv.onlyRefusals(before, "POST "+path+" without csrf")
}

func TestRolesPackages(t *testing.T) {
	rv := newRolesVault(t)
	_, pkg := rv.setupCase()
	pros, def, aud := rv.signIn("pros"), rv.signIn("def"), rv.signIn("aud")

	p := pros.get("/app/packages")
	p.status(t, "packages as pros", http.StatusOK)
	p.has(t, "packages as pros", pkg, "C-1", "trial", "not yet: acknowledge it")
	// Times to the second, as the CLI and the custody reports give them:
	// events seconds apart are told apart and ordered.
	seconds := func(typ string) string {
		t.Helper()
		ev := rv.eventOf(0, typ)
		if ev == nil {
			t.Fatalf("no %s event", typ)
		}
		return ev.Timestamp().UTC().Format("2006-01-02 15:04:05")
	}
	p.has(t, "packages as pros", seconds(vault.TypePackageSealing))
	p = def.get("/app/packages")
	p.status(t, "packages as def", http.StatusOK)
	p.lacks(t, "packages as def", pkg, "C-1")
	p = aud.get("/app/packages")
	p.status(t, "packages as aud", http.StatusOK)
	p.has(t, "packages as aud", pkg, "not yet acknowledged")

	p = pros.get("/app/packages/" + pkg)
	p.status(t, "package page as pros", http.StatusOK)
	p.postFormsCarryCSRF(t, "package page as pros")
	p.has(t, "package page as pros", "/app/packages/"+pkg+"/download", "/app/packages/"+pkg+"/receipt",
		"ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n custos-receipt receipt.txt", "custos package receipt v1\npackage "+pkg+"\nsha256 ")
	p = aud.get("/app/packages/" + pkg)
	p.status(t, "package page as aud", http.StatusOK)
	p.lacks(t, "package page as aud", "/download", "/receipt\"")
	before := rv.size()
	def.get("/app/packages/"+pkg).status(t, "package page as def", http.StatusNotFound)
	if rv.eventOf(before, vault.TypeAccessRefused) == nil {
		t.Error("the refused package page is not recorded")
	}

	// The download: only with the CSRF token, only by its person.
	pros.refusedWithoutCSRF(t, "/app/packages/"+pkg+"/download", nil)
	before = rv.size()
	def.send("/app/packages/"+pkg+"/download", nil).status(t, "download as def", http.StatusNotFound)
	rv.onlyRefusals(before, "download as def")
	before = rv.size()
	p = pros.send("/app/packages/"+pkg+"/download", nil)
	p.status(t, "download as pros", http.StatusOK)
	sum := sha256.Sum256(p.raw)
	for k, want := range map[string]string{"Content-Type": "application/octet-stream", "Content-Disposition": `attachment; filename=` + pkg + `.tar`,
		"Cache-Control": "no-store", api.HeaderSHA256: hex.EncodeToString(sum[:]), "Content-Length": strconv.Itoa(len(p.raw))} {
		if got := p.header.Get(k); got != want {
			t.Errorf("download: %s is %q, want %q", k, got, want)
		}
	}
	if ev := rv.eventOf(before, vault.TypePackageFetched); ev == nil || ev.Actor.Person != "pros" {
		t.Error("the download is not recorded as package.fetched by pros")
	}
	// Its completion is recorded once the last byte is sent, which the
	// browser may have read first: the steps below count events from
	// after it.
	if ev := rv.awaitEvent(before, vault.TypePackageFetchDone); ev.Actor.Person != "pros" {
		t.Errorf("the download's completion is recorded for %q, not pros", ev.Actor.Person)
	}

	// The receipt, signed as ssh-keygen -Y sign would.
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	signer, _ := ssh.NewSignerFromKey(priv)
	rv.apiCall("pros", "POST", "/v1/receipt-key", api.ReceiptKeyRequest{Key: string(ssh.MarshalAuthorizedKey(sshPub))}, http.StatusOK, nil)
	sha := hex.EncodeToString(sum[:])
	sign := func(msg []byte) string {
		sig, err := sshsig.Sign(bytes.NewReader(msg), signer, sshsig.HashSHA512, vault.ReceiptNamespace)
		if err != nil {
			t.Fatal(err)
		}
		// As a browser sends a pasted textarea: CRLF line ends.
		return strings.ReplaceAll(string(sshsig.Armor(sig)), "\n", "\r\n")
	}
	good := url.Values{"sha256": {sha + "  " + pkg + ".tar"}, "signature": {sign(vault.ReceiptMessage(pkg, sha))}}
	pros.refusedWithoutCSRF(t, "/app/packages/"+pkg+"/receipt", good)
	before = rv.size()
	bad := url.Values{"sha256": {sha}, "signature": {sign(vault.ReceiptMessage(pkg, strings.Repeat("0", 64)))}}
	p = pros.send("/app/packages/"+pkg+"/receipt", bad)
	if p.code != http.StatusForbidden {
		t.Errorf("a receipt signed over another hash: %d, want 403", p.code)
	}
	p.has(t, "bad receipt", "does not verify")
	rv.onlyRefusals(before, "bad receipt")
	before = rv.size()
	p = pros.send("/app/packages/"+pkg+"/receipt", good)
	p.status(t, "receipt", http.StatusOK)
	p.has(t, "receipt", "Your receipt is recorded", "acknowledged by pros", ssh.FingerprintSHA256(sshPub),
		"ssh-keygen -Y verify -f allowed_signers -I pros -n custos-receipt -s receipt.sig")
	if ev := rv.eventOf(before, vault.TypePackageReceived); ev == nil {
		t.Error("no package.received event")
	}
	pros.get("/app/packages").has(t, "packages after the receipt", "acknowledged "+seconds(vault.TypePackageReceived))
	aud.get("/app/packages").has(t, "packages after the receipt, as aud", "acknowledged ")
}

func TestRolesVerifyPage(t *testing.T) {
	rv := newRolesVault(t)
	fp := pkgformat.KeyFingerprint(rv.v.VerifierKey())
	for _, who := range []string{"pros", "def", "inv"} {
		p := rv.signIn(who).get("/app/verify")
		p.status(t, "verify as "+who, http.StatusOK)
		p.has(t, "verify as "+who, rv.v.VerifierKey(), fp, "custos-verify PACKAGE.tar --key "+fp,
			"--trusted-keys vault.key", "custos audit key > vault.key")
	}
}

var halfPattern = regexp.MustCompile(`<code id="invitation-half">(csi_[^<]+)</code>`)
var requestPattern = regexp.MustCompile(`request (rq_[0-9a-f]{24})`)

func TestRolesPeopleAndRequests(t *testing.T) {
	rv := newRolesVault(t)
	cust, cust2, aud, inv := rv.signIn("cust"), rv.signIn("cust2"), rv.signIn("aud"), rv.signIn("inv")

	p := cust.get("/app/people")
	p.status(t, "people as cust", http.StatusOK)
	p.postFormsCarryCSRF(t, "people as cust")
	p.has(t, "people as cust", "inv2", "investigator", "active", `action="/app/people"`, "/app/people/inv2/suspend")
	p = aud.get("/app/people")
	p.status(t, "people as aud", http.StatusOK)
	p.has(t, "people as aud", "inv2")
	p.lacks(t, "people as aud", `action="/app/people"`, "/suspend")
	inv.get("/app/people").status(t, "people as inv", http.StatusForbidden)

	// Enrolment: a request, with the requester's half shown once.
	enrol := url.Values{"name": {"newbie"}, "role": {vault.RoleInvestigator}}
	cust.refusedWithoutCSRF(t, "/app/people", enrol)
	before := rv.size()
	p = cust.send("/app/people", url.Values{"name": {"newbie"}, "role": {"wizard"}})
	p.status(t, "enrol with a bad role", http.StatusBadRequest)
	p.has(t, "enrol with a bad role", "unknown role")
	rv.onlyRefusals(before, "enrol with a bad role")
	before = rv.size()
	aud.send("/app/people", url.Values{"name": {"newbie"}, "role": {vault.RoleInvestigator}}).status(t, "enrol as aud", http.StatusForbidden)
	rv.onlyRefusals(before, "enrol as aud")
	before = rv.size()
	p = cust.send("/app/people", enrol)
	p.status(t, "enrol", http.StatusOK)
	p.has(t, "enrol", "Enrolling newbie as investigator needs a second custodian", "shown this once")
	half1 := halfPattern.FindStringSubmatch(p.raw2())
	rq := requestPattern.FindStringSubmatch(p.body)
	if half1 == nil || rq == nil {
		t.Fatalf("enrol: no invitation half or request id:\n%s", p.body)
	}
	if ev := rv.eventOf(before, vault.TypeRequestOpened); ev == nil || ev.Actor.Person != "cust" {
		t.Fatal("the enrolment request is not recorded")
	}
	if cust2.post("/app/people", enrol).code != http.StatusForbidden {
		t.Error("a second enrolment without csrf was not refused")
	}

	// Approvals: the requester cannot approve; another custodian can.
	p = cust.get("/app/requests")
	p.has(t, "requests as cust", rq[1], "newbie as investigator", "Your request")
	p.lacks(t, "requests as cust", "/app/requests/"+rq[1]+"/approve")
	p = cust2.get("/app/requests")
	p.postFormsCarryCSRF(t, "requests as cust2")
	p.has(t, "requests as cust2", rq[1], "/app/requests/"+rq[1]+"/approve", "cust (custodian), asked at ")
	inv.get("/app/requests").lacks(t, "requests as inv", rq[1])
	cust2.refusedWithoutCSRF(t, "/app/requests/"+rq[1]+"/approve", nil)
	before = rv.size()
	cust.send("/app/requests/"+rq[1]+"/approve", nil).status(t, "approving one's own request", http.StatusForbidden)
	rv.onlyRefusals(before, "approving one's own request")
	before = rv.size()
	p = cust2.send("/app/requests/"+rq[1]+"/approve", nil)
	p.status(t, "approve", http.StatusOK)
	p.has(t, "approve", "is approved and carried out", "custos login --name newbie --invitation")
	half2 := halfPattern.FindStringSubmatch(p.raw2())
	if half2 == nil {
		t.Fatalf("approve: no invitation half:\n%s", p.body)
	}
	if rv.eventOf(before, vault.TypePersonEnrolled) == nil {
		t.Fatal("no person.enrolled event")
	}
	// The halves the pages showed are the invitation's.
	if _, err := rv.v.RedeemInvitation(context.Background(), "newbie", []string{half1[1], half2[1]}); err != nil {
		t.Errorf("redeeming the halves the pages showed: %v", err)
	}

	// Suspension (reason required), reinstatement (a request), rejection.
	before = rv.size()
	cust.send("/app/people/inv2/suspend", nil).status(t, "suspend without a reason", http.StatusBadRequest)
	rv.onlyRefusals(before, "suspend without a reason")
	cust.refusedWithoutCSRF(t, "/app/people/inv2/suspend", url.Values{"reason": {"left"}})
	before = rv.size()
	p = cust.send("/app/people/inv2/suspend", url.Values{"reason": {"on leave"}})
	p.status(t, "suspend", http.StatusOK)
	p.has(t, "suspend", "The person is suspended", "suspended", "/app/people/inv2/reinstate")
	if ev := rv.eventOf(before, vault.TypePersonSuspended); ev == nil {
		t.Error("no person.suspended event")
	}
	p = cust.send("/app/people/inv2/reinstate", nil)
	p.status(t, "reinstate", http.StatusOK)
	p.has(t, "reinstate", "Reinstating inv2 needs a second custodian")
	p.lacks(t, "reinstate", "invitation-half")
	rq = requestPattern.FindStringSubmatch(p.body)
	// The second custodian deciding it is told the suspension it ends,
	// as the People page tells it.
	cust2.get("/app/requests").has(t, "the reinstatement to decide", "reinstate", "Suspended by cust at 20", "Why, as cust gave it: on leave")
	cust2.get("/app/people").has(t, "people with inv2 suspended", "Suspended by cust at 20", "Why, as cust gave it: on leave")
	cust2.refusedWithoutCSRF(t, "/app/requests/"+rq[1]+"/reject", url.Values{"reason": {"no"}})
	before = rv.size()
	p = cust2.send("/app/requests/"+rq[1]+"/reject", url.Values{"reason": {"not yet"}})
	p.status(t, "reject", http.StatusOK)
	p.has(t, "reject", "The request is rejected")
	p.lacks(t, "reject", rq[1])
	if ev := rv.eventOf(before, vault.TypeRequestRejected); ev == nil || ev.Actor.Person != "cust2" {
		t.Error("no request.rejected event")
	}
	// Removal is for good: its own form, its own box to tick; without
	// it nothing is recorded but the refusal.
	people := cust.get("/app/people")
	people.has(t, "people", `action="/app/people/inv2/remove"`, `name="confirm" type="checkbox" value="yes" required`)
	people.lacks(t, "people", `formaction="/app/people/inv2/remove"`)
	before = rv.size()
	cust.send("/app/people/inv2/remove", url.Values{"reason": {"left the unit"}}).status(t, "remove without the box", http.StatusBadRequest)
	if rv.eventOf(before, vault.TypePersonRemoved) != nil {
		t.Error("a removal without its box ticked was recorded")
	}
	before = rv.size()
	p = cust.send("/app/people/inv2/remove", url.Values{"reason": {"left the unit"}, "confirm": {"yes"}})
	p.status(t, "remove", http.StatusOK)
	if rv.eventOf(before, vault.TypePersonRemoved) == nil {
		t.Error("no person.removed event")
	}
}

func TestRolesManageCase(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	rv.apiCall("cust", "POST", "/v1/cases", api.CaseRequest{Case: "C-2", Title: "second"}, http.StatusCreated, nil)
	cust, cust2, inv, pros, def := rv.signIn("cust"), rv.signIn("cust2"), rv.signIn("inv"), rv.signIn("pros"), rv.signIn("def")

	p := cust.get("/app/cases/C-1/manage")
	p.status(t, "manage as cust", http.StatusOK)
	p.postFormsCarryCSRF(t, "manage as cust")
	p.has(t, "manage as cust", "first", "inv", "/app/cases/C-1/hold", "/app/cases/C-1/members/inv/remove", `<option value="inv2">`)
	p = inv.get("/app/cases/C-1/manage")
	p.status(t, "manage as inv", http.StatusOK)
	p.has(t, "manage as inv", "Only custodians change")
	p.lacks(t, "manage as inv", "/app/cases/C-1/hold")
	def.get("/app/cases/C-1/manage").status(t, "manage as def", http.StatusNotFound)
	inv.get("/app/cases/C-2/manage").status(t, "manage of another case as inv", http.StatusNotFound)

	// Legal hold.
	place := url.Values{"hold": {"place"}, "reason": {"court order 12"}}
	cust.refusedWithoutCSRF(t, "/app/cases/C-1/hold", place)
	before := rv.size()
	inv.send("/app/cases/C-1/hold", url.Values{"hold": {"place"}, "reason": {"mine"}}).status(t, "hold as inv", http.StatusForbidden)
	rv.onlyRefusals(before, "hold as inv")
	before = rv.size()
	cust.send("/app/cases/C-1/hold", url.Values{"hold": {"maybe"}, "reason": {"x"}}).status(t, "hold=maybe", http.StatusBadRequest)
	cust.send("/app/cases/C-1/hold", url.Values{"hold": {"place"}}).status(t, "hold without a reason", http.StatusBadRequest)
	rv.onlyRefusals(before, "bad hold forms")
	before = rv.size()
	p = cust.send("/app/cases/C-1/hold", place)
	p.status(t, "hold", http.StatusOK)
	p.has(t, "hold", "The legal hold is placed", "on legal hold", "Lift the hold")
	// Who placed it, when and why, for the custodian who may lift it.
	cust.get("/app/cases/C-1/manage").has(t, "the held case's page", "placed by cust at", "court order 12")
	// To the second, as the CLI and the custody reports give it.
	if ev := rv.eventOf(before, vault.TypeCaseHoldPlaced); ev != nil {
		at := ev.Timestamp().UTC().Format("2006-01-02 15:04:05")
		cust.get("/app/cases/C-1/manage").has(t, "the held case's page", "placed by cust at "+at)
		cust.get("/app/cases/C-1").has(t, "the held case's own page", "placed by cust at "+at)
	}
	if ev := rv.eventOf(before, vault.TypeCaseHoldPlaced); ev == nil || ev.Case != "C-1" {
		t.Error("no case.hold.placed event")
	}
	before = rv.size()
	cust.send("/app/cases/C-1/hold", url.Values{"hold": {"lift"}, "reason": {"order lifted"}}).status(t, "lift", http.StatusOK)
	if rv.eventOf(before, vault.TypeCaseHoldLifted) == nil {
		t.Error("no case.hold.lifted event")
	}

	// Policies.
	before = rv.size()
	p = cust.send("/app/cases/C-1/policy", url.Values{"export_approval": {"required"}})
	p.status(t, "policy", http.StatusOK)
	// The rule as it is: a custodian approves, never the requester
	// (an investigator's sealing needs one custodian, not two).
	p.has(t, "policy", "every package needs a custodian's approval, never its requester's own", "a custodian approves an investigator's sealing")
	p.lacks(t, "policy", "second custodian's approval", "second approval")
	if rv.eventOf(before, vault.TypeCasePolicySet) == nil {
		t.Error("no case.policy.set event")
	}
	p = cust.send("/app/cases/C-1/policy", url.Values{"export_approval": {"none"}})
	p.has(t, "dropping the policy", "Dropping the export approval of case C-1 needs a second custodian")
	before = rv.size()
	cust.send("/app/cases/C-1/classification-policy", url.Values{"votes": {"two"}}).status(t, "votes=two", http.StatusBadRequest)
	cust.send("/app/cases/C-1/classification-policy", url.Values{"votes": {"99"}}).status(t, "votes=99", http.StatusBadRequest)
	rv.onlyRefusals(before, "bad votes")
	before = rv.size()
	p = cust.send("/app/cases/C-1/classification-policy", url.Values{"votes": {"2"}})
	p.status(t, "votes", http.StatusOK)
	p.has(t, "votes", "The classification policy is set.")
	if rv.eventOf(before, vault.TypeClassificationPolicySet) == nil {
		t.Error("no classification policy event")
	}
	// Lowering it is a request: nothing recorded but the request, which
	// the page names for the second custodian; the same number again
	// records nothing.
	cust.get("/app/cases/C-1/manage").has(t, "the policy in force", "Now 2.", "lowering it lets fewer people settle a category")
	before = rv.size()
	lowerAt := before
	p = cust.send("/app/cases/C-1/classification-policy", url.Values{"votes": {"1"}, "reason": {"backlog agreed with the unit head"}})
	p.status(t, "lowering", http.StatusOK)
	p.has(t, "lowering", "Lowering the agreeing votes that settle an item's category in case C-1 to 1 needs a second custodian")
	if rv.eventOf(before, vault.TypeClassificationPolicySet) != nil || rv.eventOf(before, vault.TypeRequestOpened) == nil {
		t.Error("lowering the classification policy recorded a policy, or no request")
	}
	before = rv.size()
	p = cust.send("/app/cases/C-1/classification-policy", url.Values{"votes": {"2"}})
	p.has(t, "unchanged votes", "The case already had that classification policy: nothing was recorded")
	if rv.size() != before {
		t.Error("asking for the policy in force recorded something")
	}
	var asked vault.RequestOpened
	if err := rv.eventOf(lowerAt, vault.TypeRequestOpened).DecodeData(&asked); err != nil || asked.Kind != vault.KindClassificationPolicy {
		t.Fatalf("the lowering's request: %+v %v", asked, err)
	}
	lowering := asked.Request
	p = cust2.get("/app/requests")
	p.has(t, "the lowering to approve", lowering, "case C-1: lower the agreeing votes that settle an item's category from 2 to 1", "backlog agreed with the unit head",
		"Now 2. Approved now, the votes already cast would settle these items of the case, by category: none.")
	before = rv.size()
	p = cust2.send("/app/requests/"+lowering+"/approve", nil)
	p.status(t, "approving the lowering", http.StatusOK)
	p.has(t, "approving the lowering", "is approved and carried out", "Items of the case whose category the votes already cast now settle: 0; no longer settled: 0.")
	if rv.eventOf(before, vault.TypeClassificationPolicySet) == nil {
		t.Error("the approved lowering recorded no classification policy")
	}
	// Who set the policy in force, on whose request and why, on the
	// case's pages.
	for _, path := range []string{"/app/cases/C-1/manage", "/app/cases/C-1"} {
		cust.get(path).has(t, path, "Agreeing votes that settle an item's category: 1.", "Set by cust2 at ", "as cust asked.", "Why: backlog agreed with the unit head")
	}

	// A custodian who opened a case is listed among its members, with
	// what a custodian does not do there.
	if err := rv.v.OpenCase(context.Background(), vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "C-9", "opened by a custodian"); err != nil {
		t.Fatal(err)
	}
	cust.get("/app/cases/C-9/manage").has(t, "a case a custodian opened", "a custodian manages it, and may seal its packages, but does not view, deposit or classify its evidence")
	cust.get("/app/cases/C-1/manage").lacks(t, "a case an investigator opened", "a custodian manages it")

	// Members.
	p = cust.send("/app/cases/C-1/members", url.Values{"person": {"inv2"}})
	p.status(t, "add member", http.StatusOK)
	p.has(t, "add member", "Assigning inv2 to case C-1 needs a second custodian")
	cust.refusedWithoutCSRF(t, "/app/cases/C-1/members/inv/remove", url.Values{"reason": {"x"}})
	// A suspended member is still listed, and said to be unable to act.
	cust.get("/app/cases/C-1/manage").lacks(t, "an active member", "suspended: can no longer act")
	if _, err := rv.v.Suspend(context.Background(), vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "inv", "under review"); err != nil {
		t.Fatal(err)
	}
	cust.get("/app/cases/C-1/manage").has(t, "a suspended member", "suspended: can no longer act on the case")
	before = rv.size()
	p = cust.send("/app/cases/C-1/members/inv/remove", url.Values{"reason": {"moved to another unit"}})
	p.status(t, "remove member", http.StatusOK)
	p.has(t, "remove member", "The assignment has ended")
	if ev := rv.eventOf(before, vault.TypeCaseMemberRemoved); ev == nil || ev.Case != "C-1" {
		t.Error("no case.member.removed event")
	}

	// Destruction of C-2: asked by one custodian, approved by another.
	cust.refusedWithoutCSRF(t, "/app/cases/C-2/destruction", url.Values{"order": {"CO-1"}, "reason": {"x"}})
	before = rv.size()
	cust.send("/app/cases/C-2/destruction", url.Values{"reason": {"no order"}}).status(t, "destruction without an order", http.StatusBadRequest)
	rv.onlyRefusals(before, "destruction without an order")
	before = rv.size()
	p = cust.send("/app/cases/C-2/destruction", url.Values{"order": {"CO-2026-7"}, "reason": {"retention ended"}})
	p.status(t, "destruction request", http.StatusOK)
	m := regexp.MustCompile(`<code id="destruction-request">(dr_[0-9a-f]+)</code>`).FindStringSubmatch(p.raw2())
	if m == nil || rv.eventOf(before, vault.TypeDestructionRequested) == nil {
		t.Fatalf("destruction request: no id or no event\n%s", p.body)
	}
	before = rv.size()
	cust.send("/app/cases/C-2/destruction/approve", url.Values{"request": {m[1]}, "confirm": {"yes"}}).status(t, "approving one's own destruction", http.StatusForbidden)
	pros.send("/app/cases/C-2/destruction/approve", url.Values{"request": {m[1]}, "confirm": {"yes"}}).status(t, "destruction approved by pros", http.StatusForbidden)
	// The second custodian reads the pending request on the case's page,
	// and must confirm.
	cust2.get("/app/cases/C-2/manage").has(t, "pending destruction", m[1], "Asked by", "10y")
	// The second custodian finds it among the approvals, sent to the
	// case's page to decide it; its requester is told another decides.
	cust2.get("/app/requests").has(t, "destruction among the approvals", m[1], "Case destructions", "CO-2026-7", "retention ended",
		`href="/app/cases/C-2/manage"`)
	cust2.get("/app/requests").lacks(t, "destruction among the approvals", "/app/requests/"+m[1]+"/approve", "0001-01-01")
	cust.get("/app/requests").has(t, "one's own destruction among the approvals", m[1], "Your request")
	cust2.send("/app/cases/C-2/destruction/approve", url.Values{"request": {m[1]}}).status(t, "destruction approved without the confirmation", http.StatusBadRequest)
	rv.onlyRefusals(before, "refused destruction approvals")
	// A second request beside the pending one is refused, naming it.
	before = rv.size()
	p = cust2.send("/app/cases/C-2/destruction", url.Values{"order": {"CO-2026-8"}, "reason": {"asked twice"}})
	p.status(t, "a second destruction request", http.StatusConflict)
	p.has(t, "a second destruction request", m[1])
	rv.onlyRefusals(before, "a second destruction request")
	// The pending one is offered for rejection to the other custodian,
	// and withdrawn by its own; then a new one can be asked.
	cust2.get("/app/requests").has(t, "a destruction request's rejection", "/app/requests/"+m[1]+"/reject")
	cust2.get("/app/cases/C-2/manage").has(t, "a destruction request's rejection on the case's page", "/app/requests/"+m[1]+"/reject")
	cust.refusedWithoutCSRF(t, "/app/requests/"+m[1]+"/reject", url.Values{"reason": {"asked twice"}})
	before = rv.size()
	p = cust.send("/app/requests/"+m[1]+"/reject", url.Values{"reason": {"wrong order number"}})
	p.status(t, "withdrawal of a destruction request", http.StatusOK)
	p.has(t, "withdrawal of a destruction request", "Your request is withdrawn")
	if ev := rv.eventOf(before, vault.TypeDestructionRejected); ev == nil || ev.Case != "C-2" || ev.Actor.Person != "cust" {
		t.Fatalf("no case.destruction.rejected event of cust for C-2: %+v", ev)
	}
	cust2.get("/app/requests").lacks(t, "a withdrawn destruction request", m[1])
	// Its requester is told, among their ended requests, what it asked.
	cust.get("/app/requests").has(t, "one's own withdrawn destruction request", m[1], "destroy case C-2", "CO-2026-7", "Withdrawn by you", "wrong order number")
	p = cust.send("/app/cases/C-2/destruction", url.Values{"order": {"CO-2026-8"}, "reason": {"retention ended"}})
	m2 := regexp.MustCompile(`<code id="destruction-request">(dr_[0-9a-f]+)</code>`).FindStringSubmatch(p.raw2())
	if m2 == nil {
		t.Fatalf("a destruction request after the withdrawal: no id\n%s", p.body)
	}
	// The withdrawn one cannot be approved: who ended it, and when.
	before = rv.size()
	p = cust2.send("/app/cases/C-2/destruction/approve", url.Values{"request": {m[1]}, "confirm": {"yes"}})
	p.status(t, "approving a withdrawn destruction request", http.StatusConflict)
	p.has(t, "approving a withdrawn destruction request", "withdrawn by its requester cust")
	rv.onlyRefusals(before, "approving a withdrawn destruction request")
	before = rv.size()
	p = cust2.send("/app/cases/C-2/destruction/approve", url.Values{"request": {m2[1]}, "confirm": {"yes"}})
	p.status(t, "destruction approval", http.StatusOK)
	p.has(t, "destruction approval", "Case C-2 is destroyed")
	if rv.eventOf(before, vault.TypeCaseDestroyed) == nil {
		t.Error("no case.destroyed event")
	}
	p = cust.get("/app/cases/C-2/manage")
	p.has(t, "a destroyed case", "destroyed", "under order CO-2026-8, asked by cust at ", "because “retention ended”, approved by cust2 at ")
	p.lacks(t, "a destroyed case", "/app/cases/C-2/hold", "the shredding is not recorded yet")
	// The case's own page says it alike, to whoever sees the case.
	cust.get("/app/cases/C-2").has(t, "a destroyed case's page", "under order CO-2026-8, asked by cust at ", "approved by cust2 at ")
}

func TestRolesHashSets(t *testing.T) {
	rv := newRolesVault(t)
	sum := sha256.Sum256([]byte("known picture"))
	importHashSet(t, rv.v, vault.HashSetImport{Name: "known", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(hex.EncodeToString(sum[:]) + "  x.jpg\n")})
	cust, aud, inv := rv.signIn("cust"), rv.signIn("aud"), rv.signIn("inv")
	p := cust.get("/app/hashsets")
	p.status(t, "hash sets as cust", http.StatusOK)
	p.postFormsCarryCSRF(t, "hash sets as cust")
	p.has(t, "hash sets as cust", "known", "sha256sum", "baseline", "in use", "/app/hashsets/known/remove", "custos hashset import FILE")
	p = aud.get("/app/hashsets")
	p.status(t, "hash sets as aud", http.StatusOK)
	p.has(t, "hash sets as aud", "known")
	p.lacks(t, "hash sets as aud", "/remove", "custos hashset import")
	inv.get("/app/hashsets").status(t, "hash sets as inv", http.StatusForbidden)

	cust.refusedWithoutCSRF(t, "/app/hashsets/known/remove", url.Values{"reason": {"outdated"}})
	before := rv.size()
	cust.send("/app/hashsets/known/remove", nil).status(t, "remove without a reason", http.StatusBadRequest)
	aud.send("/app/hashsets/known/remove", url.Values{"reason": {"x"}}).status(t, "remove as aud", http.StatusForbidden)
	cust.send("/app/hashsets/unknown/remove", url.Values{"reason": {"x"}}).status(t, "remove an unknown set", http.StatusNotFound)
	rv.onlyRefusals(before, "refused removals")
	before = rv.size()
	p = cust.send("/app/hashsets/known/remove", url.Values{"reason": {"superseded by the 2026 list"}})
	p.status(t, "remove", http.StatusOK)
	p.has(t, "remove", "The hash set is removed", "No hash set is imported")
	if rv.eventOf(before, vault.TypeHashSetRemoved) == nil {
		t.Error("no hashset.removed event")
	}
}

// TestRolesHashSetRemovalTakesTwo: on a vault whose hash-set decisions
// need a second custodian, the removal form opens a request, the set
// stays in use, and the Approvals page shows the second custodian which
// set it removes; their approval removes it.
func TestRolesHashSetRemovalTakesTwo(t *testing.T) {
	rv := newRolesVault(t, func(c *vault.Config) { c.HashSetApproval = true })
	sum := sha256.Sum256([]byte("known picture"))
	importHashSet(t, rv.v, vault.HashSetImport{Name: "known", Format: "sha256sum", Category: "baseline", Body: strings.NewReader(hex.EncodeToString(sum[:]) + "  x.jpg\n")})
	cust, cust2 := rv.signIn("cust"), rv.signIn("cust2")
	before := rv.size()
	p := cust.send("/app/hashsets/known/remove", url.Values{"reason": {"superseded by the 2026 list"}})
	p.status(t, "remove", http.StatusOK)
	p.has(t, "remove", "Removing hash set known needs a second custodian")
	opened := rv.eventOf(before, vault.TypeRequestOpened)
	if opened == nil || rv.eventOf(before, vault.TypeHashSetRemoved) != nil {
		t.Fatal("the removal recorded no request, or a removal")
	}
	var asked vault.RequestOpened
	if err := opened.DecodeData(&asked); err != nil {
		t.Fatal(err)
	}
	cust.get("/app/hashsets").has(t, "hash sets with a removal waiting", "known", "in use")
	cust2.get("/app/requests").has(t, "the removal to approve", asked.Request, "remove hash set known (a match means baseline; entries: 1)")
	before = rv.size()
	cust2.send("/app/requests/"+asked.Request+"/approve", nil).status(t, "approving the removal", http.StatusOK)
	if rv.eventOf(before, vault.TypeHashSetRemoved) == nil {
		t.Fatal("the approved removal recorded no hashset.removed")
	}
	cust.get("/app/hashsets").has(t, "hash sets after the removal", "No hash set is imported")
}

func TestRolesAuditPage(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	aud, cust, pros := rv.signIn("aud"), rv.signIn("cust"), rv.signIn("pros")

	p := aud.get("/app/audit")
	p.status(t, "audit as aud", http.StatusOK)
	p.postFormsCarryCSRF(t, "audit as aud")
	cp, _ := rv.v.PublicCheckpoint() // the one the page's read signed
	p.has(t, "audit as aud", "Events covered by the latest checkpoint", hex.EncodeToString(cp.Root[:]), "/app/cases/C-1/timeline",
		"/app/cases/C-1/report", "This vault has no witnesses", "no time-stamping authority", "custos audit verify --save-checkpoint")
	p = cust.get("/app/audit")
	p.status(t, "audit as cust", http.StatusOK)
	p.has(t, "audit as cust", "/app/cases/C-1/manage", "/app/cases/C-1/report", "/checkpoint")
	p.lacks(t, "audit as cust", "/app/cases/C-1/timeline")
	before := rv.size()
	pros.get("/app/audit").status(t, "audit as pros", http.StatusForbidden)
	if ev := rv.eventOf(before, vault.TypeAccessRefused); ev == nil || ev.Actor.Person != "pros" {
		t.Error("the refused audit page is not recorded")
	}

	// Scrub.
	aud.refusedWithoutCSRF(t, "/app/audit/scrub", nil)
	before = rv.size()
	pros.send("/app/audit/scrub", nil).status(t, "scrub as pros", http.StatusForbidden)
	rv.onlyRefusals(before, "scrub as pros")
	before = rv.size()
	p = aud.send("/app/audit/scrub", nil)
	p.status(t, "scrub as aud", http.StatusOK)
	p.has(t, "scrub", "Every stored object matches the event that recorded it (evidence objects checked: 1; package files checked: 1).",
		"Hash sets re-hashed")
	if ev := rv.eventOf(before, vault.TypeAuditScrubbed); ev == nil || ev.Actor.Person != "aud" {
		t.Error("the scrub is not recorded")
	}
	// What the store holds besides objects is shown, named.
	if err := os.WriteFile(filepath.Join(rv.objects, "HIDDEN"), []byte("x"), 0o400); err != nil {
		t.Fatal(err)
	}
	p = aud.send("/app/audit/scrub", nil)
	p.status(t, "scrub with a foreign file", http.StatusOK)
	p.has(t, "scrub with a foreign file", "In the object store but not objects", "HIDDEN: a name no object can have")
	// And a case key's file that is not the one the log recorded.
	recovery, _ := filepath.Glob(filepath.Join(filepath.Dir(rv.objects), "keyring", "cases", "*.recovery.age"))
	if len(recovery) != 1 {
		t.Fatalf("recovery copies %v", recovery)
	}
	if err := os.WriteFile(recovery[0], []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = aud.send("/app/audit/scrub", nil)
	p.status(t, "scrub with a key file rewritten", http.StatusOK)
	p.has(t, "scrub with a key file rewritten", "Case key files not the ones the custody log recorded", "case C-1: recovery copy: not the file the log recorded")
}

var timelineSeq = regexp.MustCompile(`<tr>\s*<td class="num">(\d+)</td>`)

func seqsOf(body string) []uint64 {
	var out []uint64
	for _, m := range timelineSeq.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		out = append(out, n)
	}
	return out
}

func TestRolesTimeline(t *testing.T) {
	rv := newRolesVault(t)
	item, _ := rv.setupCase()
	rv.deposit("inv", "C-1", "b.bin", []byte("more bytes"))
	rv.deposit("inv", "C-1", "c.bin", []byte("and more"))
	rv.apiCall("cust", "POST", "/v1/cases/C-1/hold", api.HoldRequest{On: true, Reason: "court asked"}, http.StatusOK, nil)
	aud := rv.signIn("aud")

	var api1 api.TimelineResponse
	rv.apiCall("aud", "GET", "/v1/log/timeline?case=C-1", nil, http.StatusOK, &api1)
	var want []uint64
	for _, ev := range api1.Events {
		want = append(want, ev.Seq)
	}
	p := aud.get("/app/cases/C-1/timeline")
	p.status(t, "timeline", http.StatusOK)
	p.postFormsCarryCSRF(t, "timeline")
	p.has(t, "timeline in words", "Deposited (received into custody)")
	if got := seqsOf(p.raw2()); !slices.Equal(got, want) || len(want) < 5 {
		t.Errorf("timeline sequence numbers %v, the API's %v", got, want)
	}
	p.has(t, "timeline", "item.deposited", "a.bin", "purpose: trial", "“court asked”", "inv (investigator, local)", "Custody timeline of case C-1")
	// A reason the description quotes is not said again in its column.
	if strings.Contains(p.body, "reason: court asked") {
		t.Error("the timeline says a hold's reason twice")
	}

	// One item's timeline, as the API's.
	var api2 api.TimelineResponse
	rv.apiCall("aud", "GET", "/v1/log/timeline?item="+item, nil, http.StatusOK, &api2)
	want = nil
	for _, ev := range api2.Events {
		want = append(want, ev.Seq)
	}
	if got := seqsOf(aud.get("/app/cases/C-1/timeline?item=" + item).raw2()); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("item timeline %v, the API's %v", got, want)
	}
	// Filters.
	got := seqsOf(aud.get("/app/cases/C-1/timeline?type=item.").raw2())
	want = nil
	for _, ev := range api1.Events {
		if strings.HasPrefix(ev.Type, "item.") {
			want = append(want, ev.Seq)
		}
	}
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("type filter: %v, want %v", got, want)
	}
	got = seqsOf(aud.get("/app/cases/C-1/timeline?person=cust").raw2())
	want = nil
	for _, ev := range api1.Events {
		if custody.NamesPerson(ev, "cust") {
			want = append(want, ev.Seq)
		}
	}
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("person filter: %v, want %v", got, want)
	}
	// A person's history across the whole log: what they did or tried,
	// and the events naming them (their enrolment among them), as
	// custos audit log --person gives it; for auditors alone.
	var whole api.TimelineResponse
	rv.apiCall("aud", "GET", "/v1/log/timeline", nil, http.StatusOK, &whole)
	want = nil
	enrolled := false
	for _, ev := range whole.Events {
		if custody.NamesPerson(ev, "inv") {
			want = append(want, ev.Seq)
			enrolled = enrolled || ev.Type == vault.TypePersonEnrolled
		}
	}
	p = aud.get("/app/audit/person?person=inv")
	p.status(t, "a person's history", http.StatusOK)
	p.has(t, "a person's history", "History of inv", `<a href="/app/cases/C-1/timeline">C-1</a>`)
	p.lacks(t, "a person's history", "/report\"")
	if got := seqsOf(p.raw2()); !slices.Equal(got, want) || !enrolled {
		t.Errorf("inv's history %v, the log's %v (enrolment among them: %v)", got, want, enrolled)
	}
	aud.get("/app/audit").has(t, "the audit page", `action="/app/audit/person"`)
	aud.get("/app/audit/person").status(t, "a history of nobody", http.StatusBadRequest)
	rv.signIn("cust").get("/app/audit/person?person=inv").status(t, "a person's history as a custodian", http.StatusForbidden)
	// Paging: after the second event, the rest.
	got = seqsOf(aud.get("/app/cases/C-1/timeline?after=" + strconv.FormatUint(api1.Events[1].Seq, 10)).raw2())
	want = nil
	for _, ev := range api1.Events[2:] {
		want = append(want, ev.Seq)
	}
	if !slices.Equal(got, want) {
		t.Errorf("after: %v, want %v", got, want)
	}
	aud.get("/app/cases/C-1/timeline?after=x").status(t, "after=x", http.StatusBadRequest)

	// Bounded pages, each linking to the next, with the filters kept.
	defer func(n int) { timelineRows = n }(timelineRows)
	timelineRows = 2
	next := "/app/cases/C-1/timeline?type=" + url.QueryEscape("item.")
	var pages []uint64
	for i := 0; next != ""; i++ {
		p := aud.get(next)
		p.status(t, "timeline page", http.StatusOK)
		got := seqsOf(p.raw2())
		if len(got) > 2 || i > 10 {
			t.Fatalf("a page of %d rows", len(got))
		}
		pages = append(pages, got...)
		next = ""
		if m := regexp.MustCompile(`<a href="([^"]+)">Next events</a>`).FindStringSubmatch(p.raw2()); m != nil {
			next = html.UnescapeString(m[1])
			p.has(t, "a bounded page", "A page shows at most 2 events.")
		}
	}
	want = nil
	for _, ev := range api1.Events {
		if strings.HasPrefix(ev.Type, "item.") {
			want = append(want, ev.Seq)
		}
	}
	if !slices.Equal(pages, want) || len(want) < 3 {
		t.Errorf("paged item. events %v, want %v", pages, want)
	}

	// Only auditors read the log.
	for _, who := range []string{"cust", "inv", "pros"} {
		before := rv.size()
		p := rv.signIn(who).get("/app/cases/C-1/timeline")
		p.status(t, "timeline as "+who, http.StatusForbidden)
		p.lacks(t, "timeline as "+who, "item.deposited")
		if rv.eventOf(before, vault.TypeAccessRefused) == nil {
			t.Errorf("the timeline refused to %s is not recorded", who)
		}
	}
}

func TestRolesCustodyReport(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	aud, cust, inv := rv.signIn("aud"), rv.signIn("cust"), rv.signIn("inv")
	form := url.Values{"purpose": {"for the hearing"}}
	aud.refusedWithoutCSRF(t, "/app/cases/C-1/report", form)
	for _, b := range []*browser{aud, cust} {
		before := rv.size()
		p := b.send("/app/cases/C-1/report", url.Values{"purpose": {"for the hearing"}})
		p.status(t, "report as "+b.name, http.StatusOK)
		ev := rv.eventOf(before, vault.TypeCustodyReport)
		if ev == nil {
			t.Fatalf("report as %s: no custody.report event", b.name)
		}
		if !bytes.HasPrefix(p.raw, []byte("%PDF-")) || p.header.Get("Content-Type") != "application/pdf" ||
			p.header.Get("Content-Disposition") != fmt.Sprintf("attachment; filename=custody-report-C-1-event-%d.pdf", ev.Seq) {
			t.Errorf("report as %s: %q %q %.8q", b.name, p.header.Get("Content-Type"), p.header.Get("Content-Disposition"), p.raw)
		}
		var d vault.CustodyDocumentMade
		if ev == nil || ev.DecodeData(&d) != nil || d.Purpose != "for the hearing" || d.Format != vault.FormatPDF || ev.Actor.Person != b.name {
			t.Errorf("report as %s: not recorded with its purpose (%v)", b.name, ev)
		}
		if p.header.Get(api.HeaderAccessEvent) != strconv.FormatUint(ev.Seq, 10) {
			t.Errorf("report as %s: access event %q, recorded as %d", b.name, p.header.Get(api.HeaderAccessEvent), ev.Seq)
		}
	}
	before := rv.size()
	p := inv.send("/app/cases/C-1/report", url.Values{"purpose": {"curious"}})
	p.status(t, "report as inv", http.StatusForbidden)
	rv.onlyRefusals(before, "report as inv")
	before = rv.size()
	p = aud.send("/app/cases/C-1/report", url.Values{"items": {"it_nothing"}})
	if p.code != http.StatusBadRequest && p.code != http.StatusNotFound {
		t.Errorf("report of an unknown item: %d", p.code)
	}
	if rv.eventOf(before, vault.TypeCustodyReport) != nil {
		t.Error("a refused report was recorded as made")
	}
}

// TestRolesStatistics: the hotline's figures are a page for those who
// read reports (analysts, custodians, auditors), linked from their menu,
// for the year so far or a chosen period; an investigator is refused.
func TestRolesStatistics(t *testing.T) {
	rv := newRolesVault(t)
	if _, err := rv.v.RecordReport(context.Background(), vault.Principal{Name: "ana", Role: vault.RoleAnalyst},
		vault.ReportRequest{Channel: "phone", URLs: []string{"https://host.example/figures"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ana", "cust", "aud"} {
		c := rv.signIn(name)
		c.get("/app/").has(t, "the menu of "+name, `href="/app/stats"`)
		p := c.get("/app/stats")
		p.status(t, "statistics as "+name, http.StatusOK)
		p.has(t, "statistics as "+name, "Received in the period</dt><dd>1</dd>", "phone 1", "Notice and takedown")
	}
	p := rv.signIn("cust").get("/app/stats?from=2000-01-01&to=2000-12-31")
	p.status(t, "statistics of another year", http.StatusOK)
	p.has(t, "statistics of another year", "Received in the period</dt><dd>0</dd>", `value="2000-01-01"`)
	rv.signIn("cust").get("/app/stats?from=yesterday").status(t, "a period that is not a date", http.StatusBadRequest)
	// A link cannot put words of its own on the page: a value that is
	// no date is not shown back, nor is a person's name no person has.
	bad := rv.signIn("cust").get("/app/stats?from=" + url.QueryEscape("call 555 0100 to confirm"))
	bad.status(t, "a period of someone else's words", http.StatusBadRequest)
	bad.lacks(t, "a period of someone else's words", "555 0100")
	hist := rv.signIn("aud").get("/app/audit/person?person=" + url.QueryEscape("דנה 16 asks you to call"))
	hist.status(t, "a history of a name no person has", http.StatusBadRequest)
	hist.lacks(t, "a history of a name no person has", "asks you to call")
	inv := rv.signIn("inv")
	inv.get("/app/").lacks(t, "an investigator's menu", `href="/app/stats"`)
	inv.get("/app/stats").status(t, "statistics as inv", http.StatusForbidden)
}

// TestRolesReportPageForwardAndHistory: an analyst forwards a report from
// its page (the export recorded, then downloaded as a file) and reads its
// history and forwardings there.
func TestRolesReportPageForwardAndHistory(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	ana := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	rp, err := rv.v.RecordReport(ctx, ana, vault.ReportRequest{Channel: "phone", URLs: []string{"https://host.example/fwd"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.v.CloseReport(ctx, ana, rp, "content-gone", "handled by phone"); err != nil {
		t.Fatal(err)
	}
	if err := rv.v.ReopenReport(ctx, ana, rp, "the page is back"); err != nil {
		t.Fatal(err)
	}
	b := rv.signIn("ana")
	p := b.get("/app/reports/" + rp)
	p.status(t, "the report page", http.StatusOK)
	p.postFormsCarryCSRF(t, "the report page")
	p.has(t, "the report page", `action="/app/reports/`+rp+`/forward"`, "History", "handled by phone", "the page is back", "Report reopened")
	before := rv.size()
	f := b.send("/app/reports/"+rp+"/forward", url.Values{"to": {"ECPAT Philippines"}, "kind": {"hotline"}, "format": {"csv"}})
	f.status(t, "a forwarding", http.StatusOK)
	if cd := f.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "filename="+rp+".csv") ||
		!strings.Contains(f.body, "https://host.example/fwd") {
		t.Fatalf("the forwarding's answer: %s %q", cd, f.body)
	}
	if ev := rv.eventOf(before, vault.TypeReportForwarded); ev == nil || ev.Actor.Person != "ana" {
		t.Fatal("no report.forwarded event of ana")
	}
	b.get("/app/reports/"+rp).has(t, "the report page after the forwarding", "Forwarded", "ECPAT Philippines")
	rv.signIn("inv").send("/app/reports/"+rp+"/forward", url.Values{"to": {"x"}, "kind": {"hotline"}, "format": {"csv"}}).status(t, "a forwarding by inv", http.StatusNotFound)
}

// TestRolesStaffExposure: a custodian's menu leads to the day's exposure
// of every analyst and investigator; anyone else is refused.
func TestRolesStaffExposure(t *testing.T) {
	rv := newRolesVault(t)
	cust := rv.signIn("cust")
	cust.get("/app/").has(t, "a custodian's menu", `href="/app/exposure"`)
	p := cust.get("/app/exposure")
	p.status(t, "staff exposure", http.StatusOK)
	p.has(t, "staff exposure", "Exposure of staff", "<td>ana</td>", "<td>inv</td>")
	cust.get("/app/exposure?date=someday").status(t, "staff exposure of a day that is not one", http.StatusBadRequest)
	rv.signIn("ana").get("/app/exposure").status(t, "staff exposure as ana", http.StatusForbidden)
}

// TestWhoMayAskFirstInForms: a form field that is malformed, sent by
// someone who may not make the request at all, is their refusal,
// recorded as the API records it, not an unrecorded "check what you
// entered" (security.md rule 9): the log's timeline, the statistics, a
// case's classification policy, its hold, a destruction's approval and
// a step of a report's work.
func TestWhoMayAskFirstInForms(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	rv.apiCall("ana", "POST", "/v1/cases", api.CaseRequest{Case: "H-1", Title: "hotline case"}, http.StatusCreated, nil)
	ana := rv.signIn("ana")
	resp := ana.send("/app/reports", url.Values{"channel": {"email"}, "urls": {"https://bad.example/x"}})
	report := regexp.MustCompile(`rp_[0-9a-f]{24}`).FindString(resp.url)
	if report == "" {
		t.Fatalf("no report: %s", resp.url)
	}
	if p := ana.send("/app/reports/"+report+"/assess", url.Values{"case": {"H-1"}}); p.code != 200 {
		t.Fatalf("assess: %d %s", p.code, p.body)
	}
	// The triage list names the case the report is in, and the report
	// page who assessed it into it.
	ana.get("/app/triage").has(t, "the triage list", `<a href="/app/cases/H-1">H-1</a>`)
	ana.get("/app/reports/"+report).has(t, "the report page", "assessed into it by ana")
	b := rv.signIn("inv2") // an investigator of another team
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/app/cases/C-1/timeline?after=x", nil},
		{"GET", "/app/stats?from=x", nil},
		{"POST", "/app/cases/C-1/classification-policy", url.Values{"votes": {"x"}}},
		{"POST", "/app/cases/C-1/hold", url.Values{"reason": {"r"}}},
		{"POST", "/app/cases/C-1/destruction/approve", url.Values{"request": {"dr_0123456789abcdef"}}},
		{"POST", "/app/reports/" + report + "/notice", url.Values{"url": {"https://bad.example/x"}, "at_local": {"x"}}},
		{"POST", "/app/reports/" + report + "/close", url.Values{"reason": {"duplicate"}, "at_local": {"x"}}},
	} {
		before := rv.size()
		var p page
		if c.method == "GET" {
			p = b.get(c.path)
		} else {
			p = b.send(c.path, c.form)
		}
		if p.code == http.StatusBadRequest || rv.eventOf(before, vault.TypeAccessRefused) == nil {
			t.Errorf("%s %s as inv2: %d, refusal recorded: %v", c.method, c.path, p.code, rv.eventOf(before, vault.TypeAccessRefused) != nil)
		}
	}
}

// TestRolesDestroyedCasePackages: the manage page offers a destruction
// request's approval only to a custodian who may give it (not to its
// requester; not one a hold voided, even once it is lifted); once the case is destroyed, its
// package is marked so in the recipient's list and page, which offer no
// download or receipt, and the result says the vault can no longer read
// the case, with the package file it keeps named apart.
func TestRolesDestroyedCasePackages(t *testing.T) {
	rv := newRolesVault(t)
	item, pkg := rv.setupCase()
	cust, cust2, pros := rv.signIn("cust"), rv.signIn("cust2"), rv.signIn("pros")
	var dr api.DestructionResponse
	rv.apiCall("cust", "POST", "/v1/cases/C-1/destruction", api.DestructionRequest{Order: "CO-9", Reason: "ordered"}, http.StatusCreated, &dr)
	approve := `action="/app/cases/C-1/destruction/approve"`
	p := cust.get("/app/cases/C-1/manage")
	p.has(t, "one's own destruction request on the case's page", dr.Request, "Your request: a custodian other than you decides it")
	p.lacks(t, "one's own destruction request on the case's page", approve, `action="/app/cases/C-1/destruction">`)
	// The approvals page does not say nothing waits above a waiting
	// destruction; someone who is not a custodian is told whose
	// requests they see.
	cust2.get("/app/requests").lacks(t, "the approvals page with a destruction waiting", "No request is waiting.")
	rv.signIn("inv").get("/app/requests").has(t, "an investigator's approvals page", "No request of yours is waiting")
	cust2.get("/app/cases/C-1/manage").has(t, "another's destruction request", approve)
	// A hold voids the request waiting; lifted, it does not bring it
	// back: destruction is asked again.
	rv.apiCall("cust2", "POST", "/v1/cases/C-1/hold", api.HoldRequest{On: true, Reason: "appeal"}, http.StatusOK, nil)
	p = cust2.get("/app/cases/C-1/manage")
	p.has(t, "a held case's page", "its destruction cannot be asked for until a custodian lifts the hold", "The hold also voided any destruction request that was waiting")
	p.lacks(t, "a held case's page", approve)
	p.has(t, "a held case's page", "Destruction request "+dr.Request, "can no longer be approved: a legal hold was placed on the case")
	rv.apiCall("cust2", "POST", "/v1/cases/C-1/hold", api.HoldRequest{On: false, Reason: "appeal dismissed"}, http.StatusOK, nil)
	p = cust2.get("/app/cases/C-1/manage")
	p.lacks(t, "the case's page once the hold is lifted", approve)
	p.has(t, "the case's page once the hold is lifted", "Destruction request "+dr.Request, "can no longer be approved: a legal hold was placed on the case")
	rv.apiCall("cust", "POST", "/v1/cases/C-1/destruction", api.DestructionRequest{Order: "CO-9", Reason: "ordered, asked again after the appeal"}, http.StatusCreated, &dr)
	cust2.get("/app/cases/C-1/manage").has(t, "the request asked again", approve, dr.Request)

	pros.get("/app/packages/"+pkg).has(t, "the package before", "/app/packages/"+pkg+"/download")
	p = cust2.send("/app/cases/C-1/destruction/approve", url.Values{"request": {dr.Request}, "confirm": {"yes"}})
	p.status(t, "destruction approval", http.StatusOK)
	p.has(t, "destruction approval", "the vault can no longer read anything of it", "Package files the store keeps until their retention ends")
	p.lacks(t, "destruction approval", "nothing of it can be read again")
	p = pros.get("/app/packages")
	p.has(t, "the recipient's list after the destruction", pkg, `<span class="badge">destroyed</span>`)
	p.lacks(t, "the recipient's list after the destruction", "/app/packages/"+pkg+"#receipt")
	p = pros.get("/app/packages/" + pkg)
	p.has(t, "the package's page after the destruction", "was destroyed under a court order after this package was sealed")
	p.lacks(t, "the package's page after the destruction", "/app/packages/"+pkg+"/download", "/app/packages/"+pkg+"/receipt")
	// Asked anyway, the vault says why not and what stays.
	var refusal api.ErrorResponse
	rv.apiCall("pros", "GET", "/v1/packages/"+pkg, nil, http.StatusConflict, &refusal)
	if !strings.Contains(refusal.Error, "the package's case was destroyed") || !strings.Contains(refusal.Error, "a copy fetched before stays readable with your own key") {
		t.Errorf("fetching a destroyed case's package: %q", refusal.Error)
	}
	var list api.PackagesResponse
	rv.apiCall("pros", "GET", "/v1/packages", nil, http.StatusOK, &list)
	if len(list.Packages) != 1 || !list.Packages[0].CaseDestroyed {
		t.Fatalf("the recipient's package list: %+v", list.Packages)
	}
	// The case's investigator is offered nothing the vault would refuse.
	inv := rv.signIn("inv")
	p = inv.get("/app/cases/C-1")
	p.has(t, "a destroyed case's page", "destroyed under a court order")
	p.lacks(t, "a destroyed case's page", "/app/cases/C-1/upload")
	var detail vault.ItemDetail
	rv.apiCall("inv", "GET", "/v1/items/"+item+"/details", nil, http.StatusOK, &detail)
	if !detail.CaseDestroyed {
		t.Error("a destroyed case's item details do not say so")
	}
	p = inv.get("/app/items/" + item)
	p.has(t, "a destroyed case's item", "destroyed under a court order")
	p.lacks(t, "a destroyed case's item", "/app/items/"+item+"/reveal", "/app/items/"+item+"/classify")
}

// TestReportPageOfAnotherTeamSaysWhatIsWithheld: an analyst not assigned
// to the case a report was assessed into is not told that no notice was
// sent and nothing captured, where a notice was sent and a capture made:
// the page says these are not shown, and why.
func TestReportPageOfAnotherTeamSaysWhatIsWithheld(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	tok, err := rv.v.Enroll(ctx, "ana-other", vault.RoleAnalyst)
	if err != nil {
		t.Fatal(err)
	}
	rv.creds["ana-other"] = tok.Reveal()
	rv.apiCall("ana", "POST", "/v1/cases", api.CaseRequest{Case: "H-1", Title: "hotline case"}, http.StatusCreated, nil)
	ana := rv.signIn("ana")
	resp := ana.send("/app/reports", url.Values{"channel": {"email"}, "urls": {"https://bad.example/x"}})
	report := regexp.MustCompile(`rp_[0-9a-f]{24}`).FindString(resp.url)
	if p := ana.send("/app/reports/"+report+"/assess", url.Values{"case": {"H-1"}}); p.code != 200 {
		t.Fatalf("assess: %d %s", p.code, p.body)
	}
	who := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	if err := rv.v.SendNotice(ctx, who, report, vault.NoticeSent{URL: "https://bad.example/x", To: "host.example", Via: "email"}); err != nil {
		t.Fatal(err)
	}
	dep, err := rv.v.Deposit(ctx, who, vault.DepositRequest{Case: "H-1", Name: "capture.png", Report: report, Source: "https://bad.example/x?a=1&b=<2>", Body: strings.NewReader("a capture")})
	if err != nil {
		t.Fatal(err)
	}
	// The item's page names the report it was captured for, as item
	// show does.
	ana.get("/app/items/"+dep.ID).has(t, "the capture's page", "Captured for report", `<a href="/app/reports/`+report+`">`)
	own := ana.get("/app/reports/" + report)
	// Its own analyst reads its captures by name, with how each stands.
	own.has(t, "the report page of its own analyst", "host.example", ">capture.png</a>", "not classified", "(captured from https://bad.example/x?a=1&b=<2>)")
	if strings.Contains(string(own.raw), "b=<2>") {
		t.Error("the capture's source reached the page unescaped")
	}
	own.lacks(t, "the report page of its own analyst", "not shown: ")
	p := rv.signIn("ana-other").get("/app/reports/" + report)
	p.has(t, "the report page of another team", "not shown: notices are recorded in the case", "not shown: captures are in the case")
	p.lacks(t, "the report page of another team", "no notice sent", "host.example", "capture.png")
}

// TestTriageLeadsToEveryWaitingItem: the triage queue lists the first
// items of a case waiting for a classification and links to all of them
// on the case's page, which lists only those with ?waiting=yes, page by
// page; an item classified leaves that list.
func TestTriageLeadsToEveryWaitingItem(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	rv.apiCall("ana", "POST", "/v1/cases", api.CaseRequest{Case: "H-1", Title: "hotline case"}, http.StatusCreated, nil)
	who := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	var first string
	for i := range 25 {
		res, err := rv.v.Deposit(ctx, who, vault.DepositRequest{Case: "H-1", Name: fmt.Sprintf("capture-%02d.png", i), Body: strings.NewReader(fmt.Sprintf("capture %d", i))})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res.ID
		}
	}
	if _, err := rv.v.Classify(ctx, who, first, vault.ClassifyRequest{Category: vault.CategoryNotIllegal}); err != nil {
		t.Fatal(err)
	}
	ana := rv.signIn("ana")
	ana.get("/app/triage").has(t, "the triage queue", "24 waiting", "These are the first 20 of 24", `href="/app/cases/H-1?waiting=yes"`)
	p := ana.get("/app/cases/H-1?waiting=yes")
	p.has(t, "the case's waiting items", "Items 1 to 24 of 24.", "capture-24.png")
	p.lacks(t, "the case's waiting items", "capture-00.png")
	ana.get("/app/cases/H-1").has(t, "the case's items", "capture-00.png", "Items 1 to 25 of 25.")
}

// TestReportsListFindsClosedAndRepeatedReports: a closed report leaves
// the triage queue but is found on the reports list, by status, by a URL
// it names (typed without its scheme) and by its receipt number's
// start; a report naming a URL reported before shows the earlier report
// on its page, with what came of it.
func TestReportsListFindsClosedAndRepeatedReports(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	ana := rv.signIn("ana")
	newReport := func(u string) string {
		resp := ana.send("/app/reports", url.Values{"channel": {"email"}, "urls": {u}})
		id := regexp.MustCompile(`rp_[0-9a-f]{24}`).FindString(resp.url)
		if id == "" {
			t.Fatalf("no report: %s", resp.url)
		}
		return id
	}
	first := newReport("https://www.badsite.example/gallery/123/")
	if err := rv.v.CloseReport(ctx, vault.Principal{Name: "ana", Role: vault.RoleAnalyst}, first, "duplicate", ""); err != nil {
		t.Fatal(err)
	}
	ana.get("/app/triage").lacks(t, "the triage queue", first)
	second := newReport("badsite.example/gallery/123")
	newReport("https://elsewhere.example/")
	ana.get("/app/").has(t, "an analyst's menu", `href="/app/reports"`)
	ana.get("/app/reports").has(t, "every report", first, second, "Reports 1 to 3 of 3.")
	closed := ana.get("/app/reports?status=closed")
	closed.has(t, "closed reports", first)
	closed.lacks(t, "closed reports", second)
	byURL := ana.get("/app/reports?url=" + url.QueryEscape("badsite.example/gallery/123"))
	byURL.has(t, "reports of a URL", first, second, "Reports 1 to 2 of 2.")
	ana.get("/app/reports?number="+first[:10]).has(t, "a report by its receipt number's start", first)
	page := ana.get("/app/reports/" + second)
	page.has(t, "a repeated report's page", "Other reports of these URLs", first, "(before this one)", "closed (duplicate)", "no notice sent")
	ana.get("/app/reports/"+first).has(t, "the first report's page", second, "(after this one)")
	// A report entered later but received ten days ago is listed after
	// the ones received since.
	late := ana.send("/app/reports", url.Values{"channel": {"email"}, "urls": {"https://late.example/"}, "at_local": {time.Now().Add(-10 * 24 * time.Hour).UTC().Format("2006-01-02T15:04")}, "tz": {"0"}})
	lateID := regexp.MustCompile(`rp_[0-9a-f]{24}`).FindString(late.url)
	list := ana.get("/app/reports").body
	if lateID == "" || strings.Index(list, lateID) < strings.Index(list, first) {
		t.Errorf("a report received ten days ago is listed before one received today (%s)", lateID)
	}
	// With the browser's scripts off, the forms offer the time zones
	// beside the time, and the one chosen places it.
	page.has(t, "a report's page, for a browser without scripts", `<noscript>`, `name="tz_manual"`, `<option value="345">UTC+05:45</option>`)
	manual := ana.send("/app/reports", url.Values{"channel": {"phone"}, "urls": {"https://noscript.example/"},
		"at_local": {time.Now().Add(-2 * time.Hour).UTC().Add(7 * time.Hour).Format("2006-01-02T15:04")}, "tz": {""}, "tz_manual": {"420"}})
	if regexp.MustCompile(`rp_[0-9a-f]{24}`).FindString(manual.url) == "" {
		t.Errorf("a report timed with the zone chosen beside it was not recorded: %s\n%s", manual.url, manual.body)
	}
	rv.signIn("inv").get("/app/reports").status(t, "the reports list as an investigator", http.StatusForbidden)
}

// TestCasePageListsItsReports: a case's page lists the reports assessed
// into it, each linked, to its analysts and to auditors; the reports list
// keeps a case's alone (?case=); an investigator of the case is shown
// none, and the reports list refuses them a case's reports.
func TestCasePageListsItsReports(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	ana := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	if err := rv.v.OpenCase(ctx, ana, "HL-7", "hotline reports"); err != nil {
		t.Fatal(err)
	}
	req, err := rv.v.AddMember(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "HL-7", "inv", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, req.ID); err != nil {
		t.Fatal(err)
	}
	report := func(u string) string {
		id, err := rv.v.RecordReport(ctx, ana, vault.ReportRequest{Channel: "email", URLs: []string{u}, Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	in, out := report("https://gallery.example/in"), report("https://gallery.example/out")
	if err := rv.v.AssessReport(ctx, ana, in, "HL-7", ""); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ana", "aud"} {
		b := rv.signIn(who)
		page := b.get("/app/cases/HL-7")
		page.has(t, "the case's page", "Reports assessed into this case", `href="/app/reports/`+in+`"`, "https://gallery.example/in", `href="/app/reports?case=HL-7"`)
		page.lacks(t, "the case's page", out)
		list := b.get("/app/reports?case=HL-7")
		list.has(t, "the case's reports", in, "Only the reports assessed into case HL-7.", "Reports 1 to 1 of 1.")
		list.lacks(t, "the case's reports", out)
	}
	inv := rv.signIn("inv")
	inv.get("/app/cases/HL-7").lacks(t, "the case's page to its investigator", "Reports assessed into this case", in)
	inv.get("/app/reports?case=HL-7").status(t, "a case's reports as an investigator", http.StatusForbidden)
}

// TestStartPageAsksForARecipientFirst: defence counsel who have
// registered no age recipient are told on their start page that nothing
// can be sealed for them yet, and where to register it; once they have,
// the notice is gone.
func TestStartPageAsksForARecipientFirst(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	tok, err := rv.v.Enroll(ctx, "def-new", vault.RoleDefence)
	if err != nil {
		t.Fatal(err)
	}
	rv.creds["def-new"] = tok.Reveal()
	b := rv.signIn("def-new")
	b.get("/app/").has(t, "a new defence counsel's start page", "Nothing can be sealed for you yet", `href="/app/me"`)
	id, _ := age.GenerateX25519Identity()
	if _, _, err := rv.v.SetRecipient(ctx, vault.Principal{Name: "def-new", Role: vault.RoleDefence}, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	b.get("/app/").lacks(t, "the start page after registering", "Nothing can be sealed for you yet")
}

// TestTriageListsTheOldestOpenReports: the triage page lists the 50
// oldest open reports and links to all of them on the reports list.
func TestTriageListsTheOldestOpenReports(t *testing.T) {
	rv := newRolesVault(t)
	ctx := context.Background()
	who := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	var first, last string
	for i := range 52 {
		id, err := rv.v.RecordReport(ctx, who, vault.ReportRequest{Channel: "email", URLs: []string{fmt.Sprintf("https://bad.example/%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = id
		}
		last = id
	}
	ana := rv.signIn("ana")
	p := ana.get("/app/triage")
	p.has(t, "a long triage queue", first, "These are the 50 oldest of 52 open reports", `href="/app/reports?status=open"`)
	p.lacks(t, "a long triage queue", last)
	// The reports list pages through them, 50 a page.
	list := ana.get("/app/reports?status=open")
	list.has(t, "the open reports' first page", "Reports 1 to 50 of 52.", `rel="next"`, "Page 1 of 2")
	list.lacks(t, "the open reports' first page", `rel="prev"`)
	ana.get("/app/reports?page=2&status=open").has(t, "the open reports' second page", "Reports 51 to 52 of 52.", `rel="prev"`)
}

// TestMalformedFormsAnsweredAsTheirRefusal: a form whose body is not a
// form at all, sent by someone who may not ask for the decision, is
// answered and recorded as that person's refusal, as their well-formed
// form is (security.md rule 9), on every form of a decision the vault
// gates by role, not only those whose handler asks first.
func TestMalformedFormsAnsweredAsTheirRefusal(t *testing.T) {
	rv := newRolesVault(t)
	item, _ := rv.setupCase()
	inv2 := rv.signIn("inv2") // an investigator of another team
	csrf := inv2.csrf()
	malformed := func(path string) page {
		t.Helper()
		req, _ := http.NewRequest("POST", rv.srv.URL+path, strings.NewReader("reason=%zz&person=%"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("X-Custos-CSRF", csrf)
		return inv2.do(req)
	}
	for _, path := range []string{
		"/app/people", "/app/people/cust/suspend", "/app/people/cust/remove", "/app/people/cust/reinstate", "/app/people/cust/reissue",
		"/app/requests/rq_0123456789abcdef01234567/approve",
		"/app/cases/C-1/members", "/app/cases/C-1/members/inv/remove", "/app/cases/C-1/policy", "/app/cases/C-1/classification-policy",
		"/app/cases/C-1/destruction", "/app/cases/C-1/destruction/approve", "/app/hashsets/partner/remove",
		"/app/me/recipient", "/app/me/receipt-key", "/app/items/" + item + "/reveal", "/app/items/" + item + "/classify",
		"/app/audit/scrub", "/app/reports", "/app/cases/C-1/packages",
	} {
		before := rv.size()
		p := malformed(path)
		if p.code == http.StatusBadRequest || rv.eventOf(before, vault.TypeAccessRefused) == nil {
			t.Errorf("a malformed form to %s from an investigator of another team: %d, refusal recorded %v", path, p.code, rv.eventOf(before, vault.TypeAccessRefused) != nil)
		}
	}
}
