package web

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-vault/custos/vault"
)

// unisolated lists the text on the page, in a right-to-left script
// (Hebrew, Arabic), that stands outside any bidirectional isolate (bdi,
// or an element with a dir of its own, or in an option after U+2068):
// the text people wrote, which bidi.go puts in isolates. Form fields' own
// values and the document's title are not drawn among other text.
const unisolated = `(() => {
  const rtl = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/;
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!rtl.test(n.textContent)) continue;
    const el = n.parentElement;
    if (el.closest('bdi, [dir], textarea, script, template')) continue;
    // An option's text takes no element: Unicode's isolate characters.
    if (el.closest('option') && n.textContent.includes('\u2068')) continue;
    out.push(el.tagName.toLowerCase() + ': ' + n.textContent.trim().slice(0, 80));
  }
  return out;
})()`

// titleUnisolated is the document's title if it holds text in a
// right-to-left script outside U+2068 ... U+2069 (a tab or a window's
// title bar draws " · Custos" beside it), else "".
const titleUnisolated = `(() => {
  const rtl = /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/g;
  const t = document.title;
  for (const m of t.matchAll(rtl)) {
    const open = t.lastIndexOf('\u2068', m.index), close = t.lastIndexOf('\u2069', m.index);
    if (open < 0 || close > open) return t;
  }
  return '';
})()`

// drawnAfter reports where b, the first text after a in the text of
// the first element sel selects that holds a, is drawn against a: the
// x of b's left edge minus the x of a's right edge (negative: b is
// drawn before or inside a, as if part of it; 100000 when b is on a
// line below); -100000 if either is missing.
const drawnAfter = `((sel, a, b) => {
  const el = [...document.querySelectorAll(sel)].find(e => e.textContent.includes(a));
  if (!el) return -100000;
  // One line, so that the order of the runs shows, not where a narrow
  // column wraps.
  el.style.whiteSpace = 'nowrap';
  const rect = (n, i, len) => {
    const r = document.createRange();
    r.setStart(n, i); r.setEnd(n, i + len);
    return r.getBoundingClientRect();
  };
  const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let ra = null;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    let from = 0;
    if (!ra) {
      const i = n.textContent.indexOf(a);
      if (i < 0) continue;
      ra = rect(n, i, a.length);
      from = i + a.length;
    }
    const j = n.textContent.indexOf(b, from);
    if (j < 0) continue;
    const rb = rect(n, j, b.length);
    // On a line below: after it, as text that wraps is.
    return rb.top >= ra.bottom - 1 ? 100000 : rb.left - ra.right;
  }
  return -100000;
})`

// TestBrowserValuesKeepTheirPlace: text in a right-to-left script that
// people wrote (a case title, an item's name, its source and note, a
// hold's reason, a court order) is drawn in its own bidirectional
// isolate on every page that shows it, and does not pull the page's own
// words and figures into its run: a case titled in Hebrew, followed on
// the triage list by its count of items waiting, had the count drawn
// before its title, and an item named in Hebrew its size before its name.
func TestBrowserValuesKeepTheirPlace(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bg := context.Background()
	cust := vault.Principal{Name: "cust", Role: vault.RoleCustodian}
	const title, name = "תיק 16 - 17", "הקלטה"
	if err := bv.v.OpenCase(bg, inv, "BIDI-1", title); err != nil {
		t.Fatal(err)
	}
	res, err := bv.v.Deposit(bg, inv, vault.DepositRequest{Case: "BIDI-1", Name: "צילום מסך.jpg", Source: "טלפון 2", Note: "ملاحظة 3", Body: bytes.NewReader(photo(t, 64, 48, 7))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Deposit(bg, inv, vault.DepositRequest{Case: "BIDI-1", Name: name, Body: strings.NewReader("a recording")}); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.SetHold(bg, cust, "BIDI-1", true, "צו שיפוטי 12"); err != nil {
		t.Fatal(err)
	}
	if err := bv.v.OpenCase(bg, inv, "BIDI-2", "قضية 4"); err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.RequestDestruction(bg, cust, "BIDI-2", "צו 16/2026", "סוף תקופת השמירה 5"); err != nil {
		t.Fatal(err)
	}
	if err := bv.v.OpenCase(bg, inv, "BIDI-3", "ended"); err != nil {
		t.Fatal(err)
	}
	ended, err := bv.v.RequestDestruction(bg, cust, "BIDI-3", "צו 9/2026", "סוף")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Reject(bg, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, ended, "not this case"); err != nil {
		t.Fatal(err)
	}

	// An analyst assigned to the case, with a report in Hebrew not yet
	// assessed: the report page lists the cases it may go into.
	ana := vault.Principal{Name: "ana", Role: vault.RoleAnalyst}
	member, err := bv.v.AddMember(bg, cust, "BIDI-1", "ana", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bv.v.Approve(bg, vault.Principal{Name: "cust2", Role: vault.RoleCustodian}, member.ID); err != nil {
		t.Fatal(err)
	}
	report, err := bv.v.RecordReport(bg, ana, vault.ReportRequest{Channel: "phone", URLs: []string{"https://host.example/16"}, Description: "סרטון 16, 17"})
	if err != nil {
		t.Fatal(err)
	}

	check := func(ctx context.Context, person, path string) {
		t.Helper()
		run(t, ctx, chromedp.Navigate(bv.url+path))
		if bad := value(t, ctx, chromedp.Evaluate[[]string](unisolated)); len(bad) > 0 {
			t.Errorf("%s %s: right-to-left text outside an isolate:\n  %s", person, path, strings.Join(bad, "\n  "))
		}
		if bad := value(t, ctx, chromedp.Evaluate[string](titleUnisolated)); bad != "" {
			t.Errorf("%s %s: the title's right-to-left text is not isolated: %q", person, path, bad)
		}
	}
	bv.signIn(t, ctx, "inv")
	for _, path := range []string{"/app/", "/app/triage", "/app/cases/BIDI-1", "/app/items/" + res.ID, "/app/cases/BIDI-1/seal?item=" + res.ID} {
		check(ctx, "inv", path)
	}
	// The page's own words and figures stay where the page puts them:
	// the count after a case's title.
	after := func(ctx context.Context, path, sel, a, b, what string) {
		t.Helper()
		run(t, ctx, chromedp.Navigate(bv.url+path))
		gap := value(t, ctx, chromedp.Evaluate[float64](drawnAfter+`(`+strconv.Quote(sel)+`, `+strconv.Quote(a)+`, `+strconv.Quote(b)+`)`))
		if gap == -100000 {
			t.Fatalf("%s: no %q followed by %q", path, a, b)
		}
		if gap == 100000 {
			t.Fatalf("%s: %q is drawn on a line below %q: the check would not see an exchange", path, b, a)
		}
		if gap < 0 {
			t.Errorf("%s: %s is drawn %.0f px before the end of %q, as part of it", path, what, -gap, a)
		}
	}
	after(ctx, "/app/triage", "h3", title, "2 waiting", "the count of items waiting")

	signOut := func() {
		run(t, ctx, chromedp.Click(chromedp.CSS(`header form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("credential")))
	}
	signOut()
	bv.signIn(t, ctx, "cust2")
	for _, path := range []string{"/app/", "/app/requests", "/app/cases/BIDI-1/manage", "/app/cases/BIDI-2/manage"} {
		check(ctx, "cust2", path)
	}

	// A destruction request that ended, in its requester's list: its
	// court order and reason, in a sentence of the page's own words.
	signOut()
	bv.signIn(t, ctx, "cust")
	check(ctx, "cust", "/app/requests")

	signOut()
	bv.signIn(t, ctx, "ana")
	for _, path := range []string{"/app/triage", "/app/reports", "/app/reports/" + report} {
		check(ctx, "ana", path)
	}
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#case option').length`)); n < 2 {
		t.Fatalf("the report page lists %d cases to assess it into", n-1)
	}

	// The case's custody timeline, as an auditor reads it.
	signOut()
	bv.signIn(t, ctx, "aud")
	for _, path := range []string{"/app/cases/BIDI-1/timeline", "/app/audit"} {
		check(ctx, "aud", path)
	}
}

// TestIsolatedText: a message's arguments are escaped and each put in
// one <bdi>, formatted with the message's own verb; a value holding the
// marks isolatedText uses cannot open or close an isolate of its own;
// counts and sizes stay plain.
func TestIsolatedText(t *testing.T) {
	c := &catalog{lang: "en", msgs: map[string]string{
		"m":     "case %s: %q, %d items, %.1f%%",
		"plain": "<b>&</b>",
	}}
	got := string(c.isolatedText("m", "<script>", "a\x01b\x02c", 16, 2.5))
	want := "case <bdi>&lt;script&gt;</bdi>: <bdi>&#34;a\\x01b\\x02c&#34;</bdi>, 16 items, 2.5%"
	if got != want {
		t.Errorf("isolatedText:\n got %s\nwant %s", got, want)
	}
	got = string(c.isolatedText("m", "x\x01<bdi>\x02", "", 1, 1.0))
	if strings.Count(got, "<bdi>") != 2 || strings.Count(got, "</bdi>") != 2 || strings.Contains(got, "\x01") || strings.Contains(got, "\x02") {
		t.Errorf("a value with the marks in it: %q", got)
	}
	if got := string(c.isolatedText("plain")); got != "&lt;b&gt;&amp;&lt;/b&gt;" {
		t.Errorf("a message without arguments is %q", got)
	}
	if got := string(iso("a<b")); got != "<bdi>a&lt;b</bdi>" {
		t.Errorf("iso: %q", got)
	}
	// An event's clauses: each isolated, and each quoted text in each; a
	// quotation mark escaped inside a quote (custody's quoted) does not
	// end it, a stray one in a name opens nothing.
	got = string(clauses([]string{"קובץ<1>.jpg", `because “צו \u201d 16”, approved by cust`, "a ” b"}))
	want = `<bdi>קובץ&lt;1&gt;.jpg</bdi>; <bdi>because “<bdi>צו \u201d 16</bdi>”, approved by cust</bdi>; <bdi>a ” b</bdi>`
	if got != want {
		t.Errorf("clauses:\n got %s\nwant %s", got, want)
	}
	if clauses(nil) != "" {
		t.Error("no clauses are not empty")
	}
}
