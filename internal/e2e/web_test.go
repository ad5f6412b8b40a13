package e2e

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/internal/testenv"
)

var seqField = regexp.MustCompile(`"seq":\s*(\d+)`)

// TestWebTimelineMatchesAuditLog: the real `custos server` serves the web
// application; an auditor signs in through it in a browser, and the case
// timeline the page shows is, event for event, what `custos audit log`
// prints; and an investigator's view through the page is one more line
// of both.
func TestWebTimelineMatchesAuditLog(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	id1, _ := setup(t, s, work)
	s.ok("investigator", work, "get", id1, "--purpose", "first look", "-o", work+"/seen.bin")

	b := testenv.Chromium(t)
	ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Minute)
	defer cancel()
	base := "http://" + s.listen
	signIn := func(person string) {
		t.Helper()
		var cred string
		for _, kv := range s.env(person) {
			if v, ok := strings.CutPrefix(kv, "CUSTOS_TOKEN="); ok {
				cred = v
			}
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/app/sign-in"),
			chromedp.SendKeys(chromedp.ID("credential"), cred),
			chromedp.Submit(chromedp.ID("credential")),
			chromedp.WaitVisible(chromedp.CSS("header .who"))); err != nil {
			t.Fatal(err)
		}
	}
	pageSeqs := func() []uint64 {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/app/cases/C-1/timeline"), chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
			t.Fatal(err)
		}
		cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('tbody tr td:first-child')).map(td => td.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, c := range cells {
			n, err := strconv.ParseUint(c, 10, 64)
			if err != nil {
				t.Fatalf("a timeline row starts with %q", c)
			}
			out = append(out, n)
		}
		return out
	}
	cliSeqs := func() []uint64 {
		t.Helper()
		var out []uint64
		for _, m := range seqField.FindAllStringSubmatch(s.ok("auditor", work, "audit", "log", "--case", "C-1", "--json").stdout, -1) {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			out = append(out, n)
		}
		return out
	}

	signIn("auditor")
	got, want := pageSeqs(), cliSeqs()
	if len(want) < 4 || !slices.Equal(got, want) {
		t.Fatalf("the page's timeline %v, custos audit log's %v", got, want)
	}
	testenv.Screenshot(t, ctx, "auditor-timeline")

	// The investigator views the other item in the browser.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`header form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("credential"))); err != nil {
		t.Fatal(err)
	}
	signIn("investigator")
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/app/items/"+id1),
		chromedp.SendKeys(chromedp.ID("purpose"), "second look, in the browser"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.ok("auditor", work, "audit", "log", "--item", id1, "--json").stdout, "second look, in the browser") {
		if time.Now().After(deadline) {
			t.Fatal("the browser's view is not in custos audit log")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`header form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("credential"))); err != nil {
		t.Fatal(err)
	}
	signIn("auditor")
	got, want = pageSeqs(), cliSeqs()
	if !slices.Equal(got, want) {
		t.Fatalf("after the browser's view: the page's timeline %v, custos audit log's %v", got, want)
	}
	b.NoErrors(t, nil)
}
