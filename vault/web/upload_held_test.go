package web

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
