package web

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// TestHeldAnswersOnlyTheCasesMembers: the upload page's question (does
// the case hold this name with this SHA-256?) is answered to the case's
// investigators and analysts only: by the item, or "" for another name or
// content; anyone else is refused and recorded as a listing of the case
// is; a malformed SHA-256 is bad input and records nothing.
func TestHeldAnswersOnlyTheCasesMembers(t *testing.T) {
	rv := newRolesVault(t)
	item, _ := rv.setupCase()
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte("evidence bytes")))
	inv := rv.signIn("inv")
	ask := func(b *browser, name, sha string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", rv.srv.URL+"/app/cases/C-1/held?"+url.Values{"name": {name}, "sha256": {sha}}.Encode(), nil)
		req.Header.Set("Accept", "application/json")
		p := b.do(req)
		var out struct{ Item, Error string }
		json.Unmarshal(p.raw, &out)
		return p.code, out.Item
	}
	for _, c := range []struct{ name, sha, want string }{
		{"a.bin", sum, item},
		{"b.bin", sum, ""},
		{"a.bin", fmt.Sprintf("%x", sha256.Sum256([]byte("other"))), ""},
	} {
		if code, got := ask(inv, c.name, c.sha); code != http.StatusOK || got != c.want {
			t.Errorf("held %s %s…: %d %q, want %q", c.name, c.sha[:8], code, got, c.want)
		}
	}
	before := rv.size()
	if code, _ := ask(inv, "a.bin", "ABC"); code != http.StatusBadRequest {
		t.Errorf("a malformed SHA-256: %d", code)
	}
	if got := rv.typesFrom(before); len(got) != 0 {
		t.Errorf("a malformed SHA-256 recorded %v", got)
	}
	for _, who := range []string{"inv2", "pros", "aud"} {
		before := rv.size()
		if code, got := ask(rv.signIn(who), "a.bin", sum); code/100 != 4 || got != "" {
			t.Errorf("held as %s: %d %q", who, code, got)
		}
		if rv.eventOf(before, vault.TypeAccessRefused) == nil {
			t.Errorf("held as %s: the refusal is not recorded", who)
		}
	}
}

// TestUploadKeepsEveryName: a browser gives a file's name as text; the
// upload page's deposit records it as custos deposit does, escaped where
// a character would not be seen or is a backslash, so that no file of a
// seized folder is refused for its name, and the page's question before
// sending finds it again under the name the browser gives.
func TestUploadKeepsEveryName(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	inv := rv.signIn("inv")
	csrf := inv.csrf()
	content := []byte("a seized file")
	sum := fmt.Sprintf("%x", sha256.Sum256(content))
	for name, recorded := range map[string]string{
		"invoice\u202egpj.exe": `invoice\xe2\x80\xaegpj.exe`,
		`back\slash.txt`:       `back\x5cslash.txt`,
		"❤️.jpg":               "❤️.jpg",
	} {
		req, _ := http.NewRequest("POST", rv.srv.URL+"/app/cases/C-1/items?"+url.Values{"name": {name}}.Encode(), strings.NewReader(string(content)))
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("X-Custos-CSRF", csrf)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/octet-stream")
		p := inv.do(req)
		var out struct{ ID, Name, Error string }
		json.Unmarshal(p.raw, &out)
		if p.code != http.StatusCreated || out.Name != recorded {
			t.Errorf("upload of %+q: %d %q %s, want it recorded as %+q", name, p.code, out.Name, out.Error, recorded)
			continue
		}
		req, _ = http.NewRequest("GET", rv.srv.URL+"/app/cases/C-1/held?"+url.Values{"name": {name}, "sha256": {sum}}.Encode(), nil)
		req.Header.Set("Accept", "application/json")
		var held struct{ Item string }
		json.Unmarshal(inv.do(req).raw, &held)
		if held.Item != out.ID {
			t.Errorf("held %+q: %q, want %s", name, held.Item, out.ID)
		}
	}
}

// TestPagesShowLookalikeNamesApart: two items whose names differ only in
// how é is spelt (precomposed, or e and a combining accent) do not read
// alike on the case's page or the item's: the combining accent is shown
// escaped, as the command line and the custody documents show it.
func TestPagesShowLookalikeNamesApart(t *testing.T) {
	rv := newRolesVault(t)
	rv.setupCase()
	nfd := rv.deposit("inv", "C-1", url.QueryEscape("cafe\u0301.jpg"), []byte("one"))
	rv.deposit("inv", "C-1", url.QueryEscape("café.jpg"), []byte("two"))
	inv := rv.signIn("inv")
	page := inv.get("/app/cases/C-1")
	page.has(t, "the case page", `cafe\u0301.jpg`, "café.jpg")
	if strings.Contains(page.body, "cafe\u0301.jpg") {
		t.Error("the case page shows a combining accent raw, as café")
	}
	inv.get("/app/items/"+nfd).has(t, "the item page", `cafe\u0301.jpg`)
}
