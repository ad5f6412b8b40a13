package vault

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
)

// eventTypes reads the event types this package declares, from its
// source: every constant named Type... whose value is a dotted lower-case
// string, in a const block or alone. It maps each type to its file.
func eventTypes(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	_, files := parseSources(t, ".")
	for name, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				for i, n := range v.Names {
					if !strings.HasPrefix(n.Name, "Type") || i >= len(v.Values) {
						continue
					}
					if typ, ok := stringLiteral(v.Values[i]); ok && eventTypeShape.MatchString(typ) {
						out[typ] = name
					}
				}
			}
		}
	}
	if len(out) < 50 {
		t.Fatalf("found only %d event types: their declarations are no longer read", len(out))
	}
	return out
}

// parseSources parses the Go files of dir that are not tests, by name.
func parseSources(t *testing.T, dir string) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	return fset, files
}

var eventTypeShape = regexp.MustCompile(`^[a-z]+(?:\.[a-z]+)+$`)

// stringLiteral is the value of e when it is a string literal.
func stringLiteral(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// TestEveryEventTypeHasWords: a custody report, the web timeline and
// the audit pages say in words what each event is; an event type the
// vault defines (a Type... constant anywhere in this package) without
// words in custody.Labels would be shown to a court by its raw type. And
// custody.Labels has words for no type the vault does not define: a
// label for a misspelt type would leave the real one without words.
func TestEveryEventTypeHasWords(t *testing.T) {
	types := eventTypes(t)
	for typ, file := range types {
		if custody.Labels[typ] == "" {
			t.Errorf("event type %s (%s) has no words in custody.Labels", typ, file)
			continue
		}
		if action, _ := custody.Describe(&events.Event{Type: typ, Data: []byte(`{}`)}); action == typ {
			t.Errorf("event type %s is described by its type", typ)
		}
	}
	for typ := range custody.Labels {
		if types[typ] == "" {
			t.Errorf("custody.Labels has words for %s, which is no event type of the vault", typ)
		}
	}
}

// TestEventTypesSpelledElsewhereAreTheVaultsOwn: the court documents
// (package custody) and the offline verifier (package pkgformat, which
// imports nothing of the vault) name the event types they read in their
// own strings. Each must be a type the vault writes: a misspelt one
// would make a court report or a verifier pass over the events it
// means. Read from their source: custody's constants named type..., and
// in pkgformat every string compared with an event's Type or given to
// findRequest as the type to find.
func TestEventTypesSpelledElsewhereAreTheVaultsOwn(t *testing.T) {
	types := eventTypes(t)
	found := 0
	for _, dir := range []string{"../custody", "../pkgformat"} {
		fset, files := parseSources(t, dir)
		for _, f := range files {
			check := func(e ast.Expr) {
				typ, ok := stringLiteral(e)
				if !ok {
					return
				}
				found++
				if types[typ] == "" {
					t.Errorf("%s: %q is named as an event type, but the vault writes no event of that type", fset.Position(e.Pos()), typ)
				}
			}
			isType := func(e ast.Expr) bool {
				sel, ok := e.(*ast.SelectorExpr)
				return ok && sel.Sel.Name == "Type"
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, id := range n.Names {
						if strings.HasPrefix(id.Name, "type") && i < len(n.Values) {
							check(n.Values[i])
						}
					}
				case *ast.BinaryExpr:
					if isType(n.X) {
						check(n.Y)
					} else if isType(n.Y) {
						check(n.X)
					}
				case *ast.CallExpr:
					if fn, ok := n.Fun.(*ast.Ident); ok && fn.Name == "findRequest" && len(n.Args) > 2 {
						check(n.Args[2])
					}
				}
				return true
			})
		}
	}
	if found < 25 {
		t.Fatalf("found only %d event types named in custody and pkgformat: their spelling is no longer read", found)
	}
}

// TestEveryRefusedActionHasWords: a refusal is recorded with the action
// asked for (access.refused's "action"), and the custody documents say
// it in words (custody.ActionWords): "asked to see the item's
// description (not its content)", not "item.show". Every action name
// this package, the API and the web application pass with the person
// asking has words.
func TestEveryRefusedActionHasWords(t *testing.T) {
	var files []string
	for _, pattern := range []string{"*.go", "api/*.go", "web/*.go"} {
		fs, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	call := regexp.MustCompile(`\b(?:who|p|principal)(?:\.[A-Za-z]+)?, "([a-z]+(?:\.[a-z]+)+)"`)
	found := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			if custody.Labels[m[1]] == "" {
				found[m[1]] = true
			}
		}
	}
	for _, a := range []string{"custody.report", "route.unknown", "route.method", "session.open", "invitation.redeem", "public.report"} {
		found[a] = true
	}
	if len(found) < 40 {
		t.Fatalf("found only %d action names: the pattern no longer matches the code", len(found))
	}
	// The gates' actions, which the API records under too.
	for a := range roleGates {
		found[a] = true
	}
	for _, a := range reportDecisions {
		found[a] = true
	}
	for a := range found {
		if custody.ActionWords[a] == "" {
			t.Errorf("action %s has no words in custody.ActionWords", a)
		}
	}
	ev := &events.Event{Type: TypeAccessRefused, Data: []byte(`{"action":"item.show","reason":"not assigned to the item's case"}`)}
	if _, details := custody.Describe(ev); !strings.Contains(details, "asked to see the item's description (not its content)") {
		t.Errorf("a refusal to show an item is described as %q", details)
	}
}

// TestActionsTableInCustodyLog: docs/custody-log.md lists every action
// (custody.ActionWords) once, with its words as the custody documents
// give them, and names in what is recorded when it is done only event
// types the vault writes or other actions; each request kind is an
// action whose row says it opens a request.
func TestActionsTableInCustodyLog(t *testing.T) {
	b, err := os.ReadFile("../docs/custody-log.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "**Actions, request kinds and routes.**")
	sec, _, _ = strings.Cut(sec, "\n**")
	if !ok {
		t.Fatal(`docs/custody-log.md has no "Actions, request kinds and routes"`)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z.]+)` \\| (.*) \\| (.*) \\|$")
	named := regexp.MustCompile("`([a-z]+(?:\\.[a-z]+)+)`")
	types := eventTypes(t)
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(sec, -1) {
		action, words, recorded := m[1], m[2], m[3]
		if _, twice := rows[action]; twice {
			t.Errorf("%s is listed twice", action)
		}
		rows[action] = recorded
		if w, ok := custody.ActionWords[action]; !ok {
			t.Errorf("%s is listed but is no action of the vault (custody.ActionWords)", action)
		} else if words != w {
			t.Errorf("%s: the table says %q, the custody documents %q", action, words, w)
		}
		for _, n := range named.FindAllStringSubmatch(recorded, -1) {
			if types[n[1]] == "" && custody.ActionWords[n[1]] == "" {
				t.Errorf("%s: %s is recorded, but the vault writes no such event type", action, n[1])
			}
		}
	}
	for a := range custody.ActionWords {
		if _, ok := rows[a]; !ok {
			t.Errorf("action %s is not listed in docs/custody-log.md", a)
		}
	}
	for kind := range requestKinds {
		if !strings.Contains(rows[kind], "`request.opened`") {
			t.Errorf("request kind %s: its row does not say it opens a request (%q)", kind, rows[kind])
		}
	}
	// What each approval wrote, in the logs the vault's tests recorded:
	// the event after a request.approved is what its kind carries out.
	seen := map[string]bool{}
	for _, test := range stateCorpusTests {
		raw, err := os.ReadFile(stateCorpusFile(test))
		if err != nil {
			t.Fatal(err)
		}
		var evs []*events.Event
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			ev, err := events.Decode([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
		kinds := map[string]string{}
		for i, ev := range evs {
			var d struct {
				Request string `json:"request"`
				Kind    string `json:"kind"`
			}
			if ev.DecodeData(&d) != nil {
				continue
			}
			switch {
			case ev.Type == TypeRequestOpened:
				kinds[d.Request] = d.Kind
			case ev.Type == TypeRequestApproved && i+1 < len(evs):
				kind, next := kinds[d.Request], evs[i+1].Type
				seen[kind] = true
				if !strings.Contains(rows[kind], "once approved") || !strings.Contains(rows[kind], "`"+next+"`") {
					t.Errorf("%s: an approval of a %s request wrote %s, which its row does not name after 'once approved' (%q)", test, kind, next, rows[kind])
				}
			}
		}
	}
	if len(seen) < 6 {
		t.Fatalf("the corpus's logs hold approvals of only %d request kinds: the check no longer reads them", len(seen))
	}
}
