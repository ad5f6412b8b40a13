package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-vault/custos/vault"
)

// A use of a catalog key: where, the key, and how many arguments it is
// given (-1: not known).
type keyUse struct {
	where string
	key   string
	args  int
}

var (
	// {{$.T "key" args...}} or {{.T "key"}} in a template.
	templateKey = regexp.MustCompile(`\.T\s+"([^"]+)"`)
	// {{$.Raw "key"}}: a message whose verbs the page's script fills in.
	rawKey = regexp.MustCompile(`\.Raw\s+"([^"]+)"`)
	// .text("key", args...) or .lookup("key") in Go, with the key a
	// literal (not "prefix." + something).
	codeKey = regexp.MustCompile(`\.(text|lookup)\(\s*"([^"]+)"\s*[,)]`)
	// A notice: redirectDone(w, r, path, "notice"), done := "notice",
	// "?done=" + url.QueryEscape("notice").
	noticeKey = regexp.MustCompile(`redirectDone\([^\n]*,\s*"([a-z0-9-]+)"\)|\bdone\s*:?=\s*"([a-z0-9-]+)"|done="\s*\+\s*url\.QueryEscape\("([a-z0-9-]+)"\)`)
	// A fmt verb of a message (%% is not one).
	verb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z]`)
)

// templateArgs counts the arguments after a key in a template action:
// the words of the rest of the action at parenthesis depth 0.
func templateArgs(rest string) int {
	n, depth, inWord, quoted := 0, 0, false, false
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if quoted {
			if c == '\\' {
				i++
			} else if c == '"' {
				quoted = false
			}
			continue
		}
		if depth == 0 && (strings.HasPrefix(rest[i:], "}}") || strings.HasPrefix(rest[i:], "-}}")) {
			return n
		}
		if depth == 0 && strings.ContainsRune(" \t\r\n", rune(c)) {
			inWord = false
			continue
		}
		if depth == 0 && !inWord {
			inWord = true
			n++
		}
		switch c {
		case '"':
			quoted = true
		case '(':
			depth++
		case ')':
			depth--
		}
	}
	return -1
}

// codeArgs counts the arguments after a key in a Go call: the commas at
// depth 0 before the call's closing parenthesis.
func codeArgs(rest string) int {
	n, depth, quoted := 0, 0, byte(0)
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case quoted != 0:
			if c == '\\' {
				i++
			} else if c == quoted {
				quoted = 0
			}
		case c == '"' || c == '`' || c == '\'':
			quoted = c
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			if depth == 0 {
				return n
			}
			depth--
		case c == ',' && depth == 0:
			n++
		}
	}
	return -1
}

// usedKeys finds every catalog key the templates and the package's Go
// code use.
func usedKeys(t *testing.T) []keyUse {
	t.Helper()
	var uses []keyUse
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, m := range templateKey.FindAllStringSubmatchIndex(s, -1) {
			uses = append(uses, keyUse{where: f, key: s[m[2]:m[3]], args: templateArgs(s[m[1]:])})
		}
		for _, m := range rawKey.FindAllStringSubmatch(s, -1) {
			uses = append(uses, keyUse{where: f, key: m[1], args: -1})
		}
	}
	gofiles, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, m := range codeKey.FindAllStringSubmatchIndex(s, -1) {
			u := keyUse{where: f, key: s[m[4]:m[5]], args: -1}
			if s[m[2]:m[3]] == "text" {
				u.args = codeArgs(s[m[1]-1:]) // from the comma or parenthesis after the key
			}
			uses = append(uses, u)
		}
		for _, m := range noticeKey.FindAllStringSubmatch(s, -1) {
			for _, k := range m[1:] {
				if k != "" {
					uses = append(uses, keyUse{where: f, key: "done." + k, args: 0})
				}
			}
		}
	}
	// The start page's tasks: "task." and each menu link's last part.
	for _, role := range []string{vault.RoleInvestigator, vault.RoleAnalyst, vault.RoleProsecutor, vault.RoleDefence, vault.RoleAuditor, vault.RoleCustodian} {
		for _, l := range navFor(vault.Principal{Name: "x", Role: role}, "", defaultCatalog)[1:] {
			uses = append(uses, keyUse{where: "navFor(" + role + ")", key: "task." + strings.TrimPrefix(l.Href, Prefix), args: 0})
		}
	}
	return uses
}

// TestCatalogComplete checks that every key the templates and the code
// use is in the English catalog, with as many fmt verbs as the use gives
// arguments.
func TestCatalogComplete(t *testing.T) {
	uses := usedKeys(t)
	if len(uses) < 50 {
		t.Fatalf("only %d uses of catalog keys found: the patterns no longer match the code", len(uses))
	}
	for _, u := range uses {
		m, ok := defaultCatalog.msgs[u.key]
		if !ok || m == "" {
			t.Errorf("%s: key %q is not in locales/en", u.where, u.key)
			continue
		}
		if u.args < 0 {
			continue
		}
		if n := len(verb.FindAllString(strings.ReplaceAll(m, "%%", ""), -1)); n != u.args {
			t.Errorf("%s: key %q is given %d arguments, its English text has %d verbs: %q", u.where, u.key, u.args, n, m)
		}
	}
}

// TestCatalogFilesDistinct checks that the catalog files of a language
// share no key (the loader refuses that too, at start).
func TestCatalogFilesDistinct(t *testing.T) {
	langs, err := localeFS.ReadDir("locales")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range langs {
		files, _ := localeFS.ReadDir("locales/" + l.Name())
		seen := map[string]string{}
		for _, f := range files {
			b, _ := localeFS.ReadFile("locales/" + l.Name() + "/" + f.Name())
			for _, m := range regexp.MustCompile(`(?m)^\s*"([^"]+)":`).FindAllStringSubmatch(string(b), -1) {
				if other, dup := seen[m[1]]; dup && other != f.Name() {
					t.Errorf("%s: key %q is in %s and %s", l.Name(), m[1], other, f.Name())
				}
				seen[m[1]] = f.Name()
			}
		}
	}
}
