package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-vault/custos/objects"
	"github.com/custos-vault/custos/objects/fs"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// withOnce gives a seal form its one-time value, as the form page does.
func withOnce(f url.Values) url.Values {
	f.Set("once", newOnce())
	return f
}

// countFrom counts the events of each type from position from on.
func (rv *rolesVault) countFrom(from uint64) map[string]int {
	counts := map[string]int{}
	for _, ty := range rv.typesFrom(from) {
		counts[ty]++
	}
	return counts
}

// sealingOf decodes the package.sealing event of a sealing recorded from
// position from on; it fails the test if there is none.
func (rv *rolesVault) sealingOf(from uint64) vault.PackageSealing {
	rv.t.Helper()
	ev := rv.eventOf(from, vault.TypePackageSealing)
	if ev == nil {
		rv.t.Fatalf("no package.sealing event; the log got %v", rv.typesFrom(from))
	}
	var d vault.PackageSealing
	if err := ev.DecodeData(&d); err != nil {
		rv.t.Fatal(err)
	}
	return d
}

// TestSealFormSealsWhatWasChosen: an investigator seals a package from
// the web application, of the items ticked on the case page or of every
// item, and the sealing records exactly those items, the purpose typed
// and the person it is for.
func TestSealFormSealsWhatWasChosen(t *testing.T) {
	rv := newRolesVault(t)
	first, _ := rv.setupCase()
	second := rv.deposit("inv", "C-1", "chat-export.txt", []byte("second item"))
	third := rv.deposit("inv", "C-1", "ledger.csv", []byte("third item"))
	inv := rv.signIn("inv")

	p := inv.get("/app/cases/C-1")
	p.status(t, "case page", http.StatusOK)
	p.has(t, "case page", "/app/cases/C-1/seal", "Seal a package of the ticked items")
	if !strings.Contains(p.raw2(), `name="item" value="`+second+`" form="case-view"`) {
		t.Error("the case page offers no box to choose an item for a package")
	}

	// The ticked items come to the form by name, chosen already.
	p = inv.get("/app/cases/C-1/seal?item=" + second + "&item=" + third)
	p.status(t, "seal form", http.StatusOK)
	p.postFormsCarryCSRF(t, "seal form")
	p.has(t, "seal form", "chat-export.txt", "ledger.csv", "Every item of the case (3 now)")
	if !regexp.MustCompile(`value="chosen" required checked`).MatchString(p.raw2()) {
		t.Error("the seal form does not say the ticked items are chosen")
	}

	form := url.Values{"for": {"pros"}, "purpose": {"disclosure in trial 2026/114"}, "scope": {"chosen"}, "item": {second, third}}
	inv.refusedWithoutCSRF(t, "/app/cases/C-1/packages", form)
	before := rv.size()
	p = inv.send("/app/cases/C-1/packages", withOnce(form))
	p.status(t, "sealing the chosen items", http.StatusOK)
	p.has(t, "sealed", "is sealed for pros (prosecutor); items: 2", "pros (prosecutor) finds it on their Packages page")
	d := rv.sealingOf(before)
	if !slices.Equal(d.Items, []string{second, third}) || d.For != "pros" || d.Purpose != "disclosure in trial 2026/114" || d.DisclosesOthers {
		t.Errorf("the sealing recorded %+v", d)
	}
	p.has(t, "sealed", "/app/packages/"+d.Package)
	if ev := rv.eventOf(before, vault.TypePackageSealed); ev == nil {
		t.Error("no package.sealed event")
	}

	// Typed ids, and every item (for a name typed with a capital: names
	// are lowercase).
	before = rv.size()
	p = inv.send("/app/cases/C-1/packages", withOnce(url.Values{"for": {"pros"}, "purpose": {"the first item alone"}, "scope": {"chosen"},
		"items": {first + ",\n" + first}, "disclose_others": {"yes"}}))
	p.status(t, "sealing a typed id", http.StatusOK)
	if d := rv.sealingOf(before); !slices.Equal(d.Items, []string{first}) || !d.DisclosesOthers {
		t.Errorf("a typed id sealed %+v", d)
	}
	before = rv.size()
	p = inv.send("/app/cases/C-1/packages", withOnce(url.Values{"for": {"Pros"}, "purpose": {"trial bundle"}, "scope": {"all"}}))
	p.status(t, "sealing every item", http.StatusOK)
	p.has(t, "every item", "is sealed for pros (prosecutor); items: 3")
	if d := rv.sealingOf(before); len(d.Items) != 3 {
		t.Errorf("every item sealed %v", d.Items)
	}
}

// TestSealFormRefusesWhatItCannotMeanAndChangesNothing: a form that does
// not say which items, says "chosen" with none chosen (a choice lost on
// its way, which must never become the whole case), names a malformed id
// or gives no purpose is answered 400 and records nothing; a person who
// does not seal gets no form.
func TestSealFormRefusesWhatItCannotMeanAndChangesNothing(t *testing.T) {
	rv := newRolesVault(t)
	item, _ := rv.setupCase()
	inv := rv.signIn("inv")
	for what, form := range map[string]url.Values{
		"no scope":         {"for": {"pros"}, "purpose": {"trial"}, "item": {item}},
		"an unknown scope": {"for": {"pros"}, "purpose": {"trial"}, "scope": {"everything"}},
		"nothing chosen":   {"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {" \n, "}},
		"a malformed id":   {"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {item + " it_nothex"}},
		"no purpose":       {"for": {"pros"}, "purpose": {"  "}, "scope": {"all"}},
	} {
		before := rv.size()
		p := inv.send("/app/cases/C-1/packages", withOnce(form))
		p.status(t, what, http.StatusBadRequest)
		if got := rv.typesFrom(before); len(got) != 0 {
			t.Errorf("%s: the log got %v", what, got)
		}
	}
	p := inv.send("/app/cases/C-1/packages", withOnce(url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {"it_nothex"}}))
	p.has(t, "a malformed id", "it_nothex", "item ids are it_ and 24 hex digits")

	// An analyst of the case neither sees the links nor gets the form.
	ctx := context.Background()
	asked, err := rv.v.AddMember(ctx, vault.Principal{Name: "cust", Role: vault.RoleCustodian}, "C-1", "ana", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rv.v.Approve(ctx, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, asked.ID); err != nil {
		t.Fatal(err)
	}
	ana := rv.signIn("ana")
	page := ana.get("/app/cases/C-1")
	page.has(t, "case page as an analyst", "Items 1 to 1 of 1.")
	page.lacks(t, "case page as an analyst", "/app/cases/C-1/seal", `form="case-view"`, `id="seal-chosen"`)
	before := rv.size()
	ana.get("/app/cases/C-1/seal").status(t, "seal form as an analyst", http.StatusForbidden)
	ana.send("/app/cases/C-1/packages", withOnce(url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"all"}})).status(t, "sealing as an analyst", http.StatusForbidden)
	rv.onlyRefusals(before, "sealing as an analyst")
}

// TestSealFormWithExportApprovalOpensARequest: where a case requires a
// custodian's approval of every export, the form says so and opens the
// request; nothing is sealed until it is approved. A custodian's form
// offers the prosecutors and defence counsel with a registered recipient
// to pick from; an investigator's lists nobody.
func TestSealFormWithExportApprovalOpensARequest(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	cust, inv := rv.signIn("cust"), rv.signIn("inv")
	cust.send("/app/cases/C-1/policy", url.Values{"export_approval": {"required"}}).status(t, "policy", http.StatusOK)

	p := inv.get("/app/cases/C-1/seal")
	p.has(t, "seal form under export approval", "requires a custodian's approval of every export", "Ask a custodian to approve this package")
	p.lacks(t, "seal form of an investigator", "<datalist")
	before := rv.size()
	p = inv.send("/app/cases/C-1/packages", withOnce(url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"all"}}))
	p.status(t, "sealing under export approval", http.StatusOK)
	p.has(t, "request", "Sealing a package of case C-1 for pros needs a custodian's approval")
	types := rv.typesFrom(before)
	if !slices.Contains(types, vault.TypeRequestOpened) || slices.Contains(types, vault.TypePackageSealing) {
		t.Errorf("sealing under export approval recorded %v", types)
	}

	// The custodian who decides it sees what it would seal; once they
	// approve it, the packages say who asked and who sealed.
	cust2 := rv.signIn("cust2")
	p = cust2.get("/app/requests")
	p.has(t, "approvals", "Items asked: 1, 14 B in all", "Classification of the items asked: not classified 1", "a.bin (14 B, not classified, SHA-256 ", `a package of C-1 for pros (prosecutor): “trial”`)
	p.lacks(t, "approvals", "pros is prosecutor")
	rq := regexp.MustCompile(`/app/requests/(rq_[0-9a-f]{24})/approve`).FindStringSubmatch(p.raw2())
	if rq == nil {
		t.Fatal("no approval form")
	}
	p.has(t, "approvals", `name="reason" type="text" maxlength="1024"`)
	before = rv.size()
	p = cust2.send("/app/requests/"+rq[1]+"/approve", url.Values{"reason": {"  the court's order 7 names pros  "}})
	p.status(t, "approval", http.StatusOK)
	// The package is said to be for whom it is, in their role.
	p.has(t, "approval", "for pros (prosecutor), who finds it on their Packages page")
	// The approver's reason is recorded in the approval, trimmed.
	var decided vault.RequestDecided
	if ev := rv.eventOf(before, vault.TypeRequestApproved); ev == nil || ev.DecodeData(&decided) != nil || decided.Reason != "the court's order 7 names pros" {
		t.Errorf("the approval recorded %+v", decided)
	}
	inv.get("/app/packages").has(t, "packages", "cust2 (asked by inv)")

	p = cust.get("/app/cases/C-1/seal")
	p.status(t, "seal form as a custodian", http.StatusOK)
	p.has(t, "seal form as a custodian", `<option value="pros">`)
	// Only those who can receive a package now: def has no recipient.
	p.lacks(t, "seal form as a custodian", `<option value="def">`, `<option value="inv">`, `<option value="aud">`)
}

// TestSealFormAsksWhoFirst: the seal form asks the vault who may seal
// before it reads a field (security.md rule 9): a malformed form from an
// analyst, a prosecutor, an auditor or an investigator of another team is
// answered, and recorded, as the same person's well-formed one is.
func TestSealFormAsksWhoFirst(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	many := make([]string, maxSealChoice+1)
	for i := range many {
		many[i] = fmt.Sprintf("it_%024x", i)
	}
	malformed := map[string]url.Values{
		"no scope":       {"for": {"pros"}, "purpose": {"trial"}},
		"nothing chosen": {"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}},
		"too many ids":   {"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {strings.Join(many, " ")}},
	}
	for _, who := range []string{"ana", "pros", "aud", "inv2"} {
		b := rv.signIn(who)
		before := rv.size()
		wellFormed := b.send("/app/cases/C-1/packages", withOnce(url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"all"}}))
		if wellFormed.code/100 != 4 || rv.eventOf(before, vault.TypeAccessRefused) == nil {
			t.Fatalf("%s's sealing: %d, recorded %v", who, wellFormed.code, rv.typesFrom(before))
		}
		for what, f := range malformed {
			before := rv.size()
			p := b.send("/app/cases/C-1/packages", withOnce(f))
			if p.code != wellFormed.code || rv.eventOf(before, vault.TypeAccessRefused) == nil {
				t.Errorf("%s, %s: answered %d and recorded %v; the well-formed form: %d, recorded", who, what, p.code, rv.typesFrom(before), wellFormed.code)
			}
		}
	}
}

// TestSealFormChoosesNothingForThePerson: reached with no item ticked
// (the page's own link, ticks on another page of the list, a reload),
// the form has neither "every item" nor "the items chosen" checked, and
// a browser sends it only once one is (required); reached with ticks, it
// has "the items chosen" checked. Its purpose is one line, as the vault
// takes it.
func TestSealFormChoosesNothingForThePerson(t *testing.T) {
	rv := newRolesVault(t)
	item, _ := rv.setupCase()
	inv := rv.signIn("inv")
	p := inv.get("/app/cases/C-1/seal")
	p.status(t, "seal form", http.StatusOK)
	if regexp.MustCompile(`name="scope"[^>]*checked`).MatchString(p.raw2()) {
		t.Error("the seal form reached with nothing ticked has a choice of items made already")
	}
	if n := len(regexp.MustCompile(`name="scope" value="[a-z]+" required`).FindAllString(p.raw2(), -1)); n != 2 {
		t.Errorf("%d of the two choices of items are required", n)
	}
	p.has(t, "seal form", "nothing is chosen for you")
	if !strings.Contains(p.raw2(), `<input id="purpose" name="purpose" type="text"`) {
		t.Error("the purpose is not a one-line field")
	}
	p = inv.get("/app/cases/C-1/seal?item=" + item)
	if !strings.Contains(p.raw2(), `value="chosen" required checked`) || strings.Contains(p.raw2(), `value="all" required checked`) {
		t.Error("the seal form reached with a ticked item does not choose the items ticked")
	}
}

// TestSealFormKeepsOtherCases: an item of another team's case in the seal
// form's address is shown as an unknown id is, and nothing is recorded
// in the name of whoever followed the link; sealing it is answered as an
// unknown id is.
func TestSealFormKeepsOtherCases(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	rv.apiCall("inv2", "POST", "/v1/cases", api.CaseRequest{Case: "C-2", Title: "other team"}, http.StatusCreated, nil)
	other := rv.deposit("inv2", "C-2", "name-of-C-2s-item.txt", []byte("other team's evidence"))
	unknown := "it_" + strings.Repeat("ab", 12)
	inv := rv.signIn("inv")
	same := func(what string, a, b page, aID, bID string) {
		t.Helper()
		norm := func(p page, id string) string {
			return regexp.MustCompile(`name="(csrf|once)" value="[^"]+"`).ReplaceAllString(strings.ReplaceAll(p.body, id, "ID"), "")
		}
		if a.code != b.code || norm(a, aID) != norm(b, bID) {
			t.Errorf("%s: another case's item is answered %d, an unknown id %d, or the pages differ", what, a.code, b.code)
		}
	}
	before := rv.size()
	a, b := inv.get("/app/cases/C-1/seal?item="+other), inv.get("/app/cases/C-1/seal?item="+unknown)
	a.lacks(t, "seal form", "name-of-C-2s-item")
	same("seal form", a, b, other, unknown)
	if got := rv.typesFrom(before); len(got) != 0 {
		t.Errorf("opening the seal form recorded %v", got)
	}
	form := func(id string) url.Values {
		return url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"chosen"}, "items": {id}}
	}
	same("sealing", inv.send("/app/cases/C-1/packages", withOnce(form(other))), inv.send("/app/cases/C-1/packages", withOnce(form(unknown))), other, unknown)
}

// TestSealFormSealsOncePerForm: the seal form's answer reloaded (the
// browser sends the same form again) seals nothing more and shows what
// the first sending did; a form whose first sending was refused may be
// corrected and sent again; a form without its one-time value is refused
// and changes nothing. The same holds for a request opened under export
// approval.
func TestSealFormSealsOncePerForm(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	inv := rv.signIn("inv")
	page := inv.get("/app/cases/C-1/seal")
	once := regexp.MustCompile(`name="once" value="([0-9a-f]{32})"`).FindStringSubmatch(page.raw2())
	if once == nil {
		t.Fatal("the seal form has no one-time value")
	}
	form := url.Values{"for": {"nobody"}, "purpose": {"trial"}, "scope": {"all"}, "once": {once[1]}}
	inv.send("/app/cases/C-1/packages", form).status(t, "sealing for nobody", http.StatusBadRequest)
	form.Set("for", "pros")
	before := rv.size()
	first := inv.send("/app/cases/C-1/packages", form)
	first.status(t, "the corrected form", http.StatusOK)
	sealed := rv.sealingOf(before).Package
	again := inv.send("/app/cases/C-1/packages", form)
	again.status(t, "the form sent again", http.StatusOK)
	again.has(t, "the form sent again", "This form was sent before", sealed)
	if n := rv.countFrom(before)[vault.TypePackageSealing]; n != 1 {
		t.Errorf("one form sealed %d packages", n)
	}

	// A form without its one-time value.
	if got := inv.send("/app/cases/C-1/packages", url.Values{"for": {"pros"}, "purpose": {"trial"}, "scope": {"all"}}); got.code != http.StatusBadRequest {
		t.Errorf("a form without its one-time value: %d", got.code)
	}

	// Under export approval: one request, however often it is sent.
	rv.signIn("cust").send("/app/cases/C-1/policy", url.Values{"export_approval": {"required"}}).status(t, "policy", http.StatusOK)
	form.Set("once", newOnce())
	before = rv.size()
	inv.send("/app/cases/C-1/packages", form).has(t, "a request", "needs a custodian's approval")
	inv.send("/app/cases/C-1/packages", form).has(t, "the request sent again", "This form was sent before", "needs a custodian's approval")
	if n := rv.countFrom(before)[vault.TypeRequestOpened]; n != 1 {
		t.Errorf("one form opened %d requests", n)
	}
}

// TestSentFormsUnderWay: a second sending while the first is under way
// is told so (nothing is done twice); a sending that failed is
// forgotten; each person's memory is bounded, the oldest finished
// forgotten first, and no one's sendings push out another's.
func TestSentFormsUnderWay(t *testing.T) {
	var f sentForms
	if _, fresh := f.begin("inv", "a"); !fresh {
		t.Fatal("a first sending is not fresh")
	}
	if prev, fresh := f.begin("inv", "a"); fresh || prev != nil {
		t.Fatalf("a second sending while the first is under way: %v %v", prev, fresh)
	}
	if _, fresh := f.begin("inv2", "a"); !fresh {
		t.Fatal("another person's sending of the same value is not theirs")
	}
	f.finish("inv", "a", "sealed")
	if prev, fresh := f.begin("inv", "a"); fresh || prev == nil || prev.outcome != "sealed" {
		t.Fatalf("a sending after the first finished: %v %v", prev, fresh)
	}
	f.begin("inv", "b")
	f.forget("inv", "b")
	if _, fresh := f.begin("inv", "b"); !fresh {
		t.Error("a failed sending is remembered")
	}
	f.finish("inv2", "a", "inv2's")
	for i := range maxSentForms + 10 {
		k := fmt.Sprint("k", i)
		f.begin("inv", k)
		f.finish("inv", k, i)
	}
	p := f.byPerson["inv"]
	if len(p.m) > maxSentForms || len(p.order) != len(p.m) {
		t.Errorf("%d sendings remembered (%d in order), bound %d", len(p.m), len(p.order), maxSentForms)
	}
	if _, ok := p.m[fmt.Sprint("k", maxSentForms+9)]; !ok {
		t.Error("the newest sending was forgotten")
	}
	if prev, fresh := f.begin("inv2", "a"); fresh || prev == nil || prev.outcome != "inv2's" {
		t.Error("one person's many sendings pushed out another's")
	}
}

// heldPackageStore is the file store whose next write of a package, once
// armed, waits until released (or its context ends, as S3's Put does),
// as a slow store writing a large package does.
type heldPackageStore struct {
	*fs.Store
	armed            atomic.Bool
	entered, release chan struct{}
	// cut is closed when the held write ends because its context did.
	cut chan struct{}
}

func (h *heldPackageStore) Put(ctx context.Context, name string, r io.Reader, opts objects.PutOptions) (objects.Info, error) {
	if strings.HasPrefix(name, "pk/") && h.armed.CompareAndSwap(true, false) {
		close(h.entered)
		select {
		case <-h.release:
		case <-ctx.Done():
			close(h.cut)
			return objects.Info{}, ctx.Err()
		}
	}
	return h.Store.Put(ctx, name, r, opts)
}

// TestSealFormClickedTwiceSealsOnce: the browser sends the seal form
// again while the first sealing is still writing the package (a second
// click, a reload) and drops the first request. The first sealing runs to
// its end all the same; the second sending is told to reload in a while;
// a later sending of the same form shows the package sealed, and one
// package is on the record.
func TestSealFormClickedTwiceSealsOnce(t *testing.T) {
	store := &heldPackageStore{entered: make(chan struct{}), release: make(chan struct{}), cut: make(chan struct{})}
	rv := newRolesVault(t, func(c *vault.Config) {
		store.Store = c.Objects.(*fs.Store)
		c.Objects = store
	})
	rv.setupCase()
	store.armed.Store(true)

	inv := rv.signIn("inv")
	form := withOnce(url.Values{"for": {"pros"}, "purpose": {"trial bundle"}, "scope": {"all"}, "csrf": {inv.csrf()}})
	before := rv.size()
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan struct{})
	go func() {
		defer close(first)
		req, _ := http.NewRequestWithContext(ctx, "POST", rv.srv.URL+"/app/cases/C-1/packages", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if resp, err := inv.c.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-store.entered
	second := inv.post("/app/cases/C-1/packages", form)
	if second.code != http.StatusConflict || !strings.Contains(second.body, "reload this page in a minute") {
		t.Errorf("the form sent again while it is being sealed: %d", second.code)
	}
	cancel() // the browser drops the first request
	<-first
	// The server sees the connection close within milliseconds; a
	// sealing bound to the request would end then.
	select {
	case <-store.cut:
		t.Fatal("the sealing was cut off with the request the browser dropped")
	case <-time.After(time.Second):
	}
	close(store.release)
	// Sent again until the first sending has ended (409 until then).
	var third page
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if third = inv.post("/app/cases/C-1/packages", form); third.code != http.StatusConflict || time.Now().After(deadline) {
			break
		}
	}
	third.status(t, "the form sent once the sealing ended", http.StatusOK)
	third.has(t, "the form sent once the sealing ended", "This form was sent before", "is sealed for pros")
	counts := rv.countFrom(before)
	if counts[vault.TypePackageSealing] != 1 || counts[vault.TypePackageSealed] != 1 {
		t.Errorf("one form clicked twice recorded %d sealings and %d packages", counts[vault.TypePackageSealing], counts[vault.TypePackageSealed])
	}
}

// TestTicksOutlastPagesAndSearches: the case page's boxes, its search
// and its pager are one form, so that an investigator who ticks items on
// one page and turns to the next, or searches, keeps them: the items
// ticked before are shown ticked where listed and carried unseen where
// not (and counted), and the seal button sends them all. What has no
// item id's form is dropped; more than a form takes is refused.
func TestTicksOutlastPagesAndSearches(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	var ids []string
	for i := range PageSize + 1 {
		ids = append(ids, rv.deposit("inv", "C-1", fmt.Sprintf("photo-%03d.jpg", i), fmt.Appendf(nil, "item %d", i)))
	}
	inv := rv.signIn("inv")
	first := inv.get("/app/cases/C-1")
	first.status(t, "case page", http.StatusOK)
	if !strings.Contains(first.raw2(), `form="case-view" name="page" value="2"`) {
		t.Fatal("the case page's Next is not a button of the page's form")
	}
	ticked := regexp.MustCompile(`name="item" value="(it_[0-9a-f]{24})" form="case-view" checked`)
	if n := len(ticked.FindAllString(first.raw2(), -1)); n != 0 {
		t.Fatalf("%d boxes ticked on a page opened afresh", n)
	}
	// Page 1 lists 50 of the 51 items; which one is on page 2 is the
	// list's order, so read it from the page.
	var onFirst, onSecond string
	for _, id := range ids {
		switch {
		case strings.Contains(first.raw2(), `value="`+id+`"`) && onFirst == "":
			onFirst = id
		case !strings.Contains(first.raw2(), `value="`+id+`"`):
			onSecond = id
		}
	}
	if onFirst == "" || onSecond == "" {
		t.Fatal("the 51 items are not on two pages")
	}
	// Next, as the browser sends it with one box ticked on page 1.
	second := inv.get("/app/cases/C-1?page=2&item=" + onFirst)
	second.status(t, "page 2", http.StatusOK)
	if !strings.Contains(second.raw2(), `<input type="hidden" name="item" value="`+onFirst+`">`) {
		t.Error("page 2 does not carry the item ticked on page 1")
	}
	second.has(t, "page 2", "and 1 ticked that this page does not show")
	// Back, with the item of page 2 ticked too: both stay ticked.
	back := inv.get("/app/cases/C-1?page=1&item=" + onFirst + "&item=" + onSecond)
	if got := ticked.FindAllStringSubmatch(back.raw2(), -1); len(got) != 1 || got[0][1] != onFirst {
		t.Errorf("back on page 1, ticked: %v", got)
	}
	if !strings.Contains(back.raw2(), `<input type="hidden" name="item" value="`+onSecond+`">`) {
		t.Error("page 1 does not carry the item ticked on page 2")
	}
	// A search keeps them too: the one listed ticked, the other carried.
	found := inv.get("/app/cases/C-1?q=photo-000&item=" + ids[0] + "&item=" + onSecond)
	if got := ticked.FindAllStringSubmatch(found.raw2(), -1); len(got) != 1 || got[0][1] != ids[0] {
		t.Errorf("a search's page ticks %v", got)
	}
	// "Show all" after a search is a button of the same form: the
	// search ends and the ticks stay.
	if !strings.Contains(found.raw2(), `name="clear" value="yes"`) {
		t.Error("the search's Show all is not a button of the page's form")
	}
	all := inv.get("/app/cases/C-1?q=photo-000&clear=yes&item=" + ids[0] + "&item=" + onSecond)
	if !strings.Contains(all.body, "Items 1 to 50 of 52") || strings.Contains(all.raw2(), `name="clear"`) {
		i := strings.Index(all.body, "Items")
		t.Errorf("Show all did not end the search: %q", all.body[max(i, 0):min(max(i, 0)+80, len(all.body))])
	}
	for _, id := range []string{ids[0], onSecond} {
		if !strings.Contains(all.raw2(), `value="`+id+`" form="case-view" checked`) && !strings.Contains(all.raw2(), `<input type="hidden" name="item" value="`+id+`">`) {
			t.Errorf("Show all dropped the tick of %s", id)
		}
	}
	// The seal form's way back to the case keeps the items chosen.
	seal := inv.get("/app/cases/C-1/seal?item=" + ids[0] + "&item=" + onSecond)
	if !strings.Contains(seal.raw2(), `href="/app/cases/C-1?item=`+ids[0]+`&amp;item=`+onSecond+`"`) {
		t.Error("the seal form's way back drops the items chosen")
	}
	// What is not an item id is not carried; too many are refused.
	junk := inv.get("/app/cases/C-1?item=it_not-an-id&item=%22%3E%3Cscript%3E")
	junk.status(t, "case page with junk ticks", http.StatusOK)
	junk.lacks(t, "case page with junk ticks", "it_not-an-id", "ticked that this page does not show")
	many := url.Values{}
	for i := range maxSealChoice + 1 {
		many.Add("item", fmt.Sprintf("it_%024x", i))
	}
	if p := inv.get("/app/cases/C-1?" + many.Encode()); p.code != http.StatusBadRequest {
		t.Errorf("a case page with %d ticks answered %d", maxSealChoice+1, p.code)
	}
}
