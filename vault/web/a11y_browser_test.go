package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/vault"
)

// a11yCheck lists what a page does against the accessibility basics the
// application keeps (docs/web.md section 5): a language, one h1, a label
// for every field, text on every button and link, alt on images, header
// cells in tables, unique ids, no page wider than the window (1280 px:
// a long hash or command wraps), and text contrast of at least 4.5:1
// (WCAG 2.1 AA for normal text) against the background it is drawn on.
const a11yCheck = `(() => {
  const problems = [];
  const short = el => el.outerHTML.slice(0, 100);
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push('wider than the window: ' + document.documentElement.scrollWidth + ' px in ' + window.innerWidth);
  if (document.querySelectorAll('h1').length !== 1) problems.push(document.querySelectorAll('h1').length + ' h1 elements');
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(el => {
    const label = el.id && document.querySelector('label[for="' + el.id + '"]');
    if (!label && !el.getAttribute('aria-label') && !el.closest('label')) problems.push('field without a label: ' + short(el));
  });
  document.querySelectorAll('button, a[href]').forEach(el => {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('no text: ' + short(el));
  });
  document.querySelectorAll('img').forEach(el => { if (!el.hasAttribute('alt')) problems.push('image without alt: ' + short(el)); });
  document.querySelectorAll('table').forEach(el => { if (!el.querySelector('th')) problems.push('table without header cells'); });
  const ids = {};
  document.querySelectorAll('[id]').forEach(el => { if (ids[el.id]) problems.push('duplicate id ' + el.id); ids[el.id] = true; });
  const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  document.querySelectorAll('body *').forEach(el => {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.offsetParent === null) return;
    const fg = rgb(getComputedStyle(el).color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ': ' + short(el));
  });
  return problems;
})()`

// TestBrowserAccessibilityBasics opens each role's pages and checks them
// against a11yCheck; and signs in with the keyboard alone.
func TestBrowserAccessibilityBasics(t *testing.T) {
	bv := newBrowserVault(t)
	ctx := bv.ctx
	bv.openCase(t, "A11Y-1")
	item := bv.deposit(t, "A11Y-1", "DCIM/IMG_0001.JPG", photo(t, 64, 48, 4))

	// Keyboard only: the credential field has the focus, Enter signs in.
	run(t, ctx, chromedp.Navigate(bv.url+"/app/sign-in"))
	if id := value(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "credential" {
		t.Fatalf("the sign-in page starts with the focus on %q", id)
	}
	run(t, ctx, chromedp.KeyEvent(bv.creds["inv"]))
	navigation(t, ctx, chromedp.KeyEvent(kb.Enter))
	if u := location(t, ctx); u.Path != "/app/" {
		t.Fatalf("signing in with the keyboard led to %s", u)
	}
	// The skip link is the first stop of the Tab key.
	run(t, ctx, chromedp.KeyEvent(kb.Tab))
	if cls := value(t, ctx, chromedp.Evaluate[string](`document.activeElement.className`)); cls != "skip" {
		t.Fatalf("the first Tab stop is %q, not the skip link", cls)
	}

	check := func(person, path string) {
		t.Helper()
		run(t, ctx, chromedp.Navigate(bv.url+path))
		problems := value(t, ctx, chromedp.Evaluate[[]string](a11yCheck))
		if len(problems) > 0 {
			t.Errorf("%s %s:\n  %s", person, path, strings.Join(problems, "\n  "))
		}
	}
	pages := map[string][]string{
		"inv": {"/app/", "/app/me", "/app/triage", "/app/cases/A11Y-1", "/app/cases/A11Y-1/upload", "/app/cases/A11Y-1/seal?item=" + item, "/app/items/" + item},
	}
	for _, p := range browserPersons {
		if p.name == "inv" {
			continue
		}
		for _, l := range navFor(vault.Principal{Name: p.name, Role: p.role}, "", defaultCatalog) {
			pages[p.name] = append(pages[p.name], l.Href)
		}
		pages[p.name] = append(pages[p.name], "/app/me")
	}
	// The timeline, whose details hold whole SHA-256 values, wraps them.
	pages["aud"] = append(pages["aud"], "/app/cases/A11Y-1/timeline")
	for _, p := range browserPersons {
		c, cancel := context.WithCancel(ctx)
		if p.name != "inv" {
			run(t, c, chromedp.Navigate(bv.url+"/app/"))
			if location(t, c).Path != "/app/sign-in" {
				// Signed in as someone else: sign out first.
				run(t, c, chromedp.Click(chromedp.CSS(`header form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("credential")))
			}
			bv.signIn(t, c, p.name)
		}
		for _, path := range pages[p.name] {
			check(p.name, path)
		}
		testenv.Screenshot(t, c, p.name+"-start")
		cancel()
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`header form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("credential")))
	check("", "/app/sign-in")
}
