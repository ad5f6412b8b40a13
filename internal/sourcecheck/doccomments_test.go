package sourcecheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// moduleRoot is the folder that holds go.mod, two levels up.
const moduleRoot = "../.."

// A doc comment says what its declaration is, beginning with its name
// (go.dev/doc/comment). One written for another declaration and left
// above this one when code was inserted between them is a fault that no
// compiler sees: go doc shows the wrong text, and the declaration it
// was written for has none. Two signs of one, in every Go file of the
// module:
//   - the declaration's own name begins a later line of its doc, not
//     the first (its own comment, with another's put above it);
//   - the doc begins with the name of another declaration of the same
//     package, and never names its own (another's comment, with none of
//     its own).
func TestDocCommentsBelongToTheirDeclaration(t *testing.T) {
	type decl struct {
		name string
		doc  *ast.CommentGroup
		at   token.Pos
	}
	fset := token.NewFileSet()
	byDir := map[string][]decl{}
	names := map[string]map[string]bool{} // folder -> its top-level names
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != moduleRoot && (n == "testdata" || n == "node_modules" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		if names[dir] == nil {
			names[dir] = map[string]bool{}
		}
		add := func(name string, doc *ast.CommentGroup, at token.Pos, topLevel bool) {
			if topLevel {
				names[dir][name] = true
			}
			if doc != nil {
				byDir[dir] = append(byDir[dir], decl{name, doc, at})
			}
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				add(d.Name.Name, d.Doc, d.Pos(), d.Recv == nil)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					var name string
					var doc *ast.CommentGroup
					switch s := s.(type) {
					case *ast.TypeSpec:
						name, doc = s.Name.Name, s.Doc
					case *ast.ValueSpec:
						name, doc = s.Names[0].Name, s.Doc
					default:
						continue
					}
					if len(d.Specs) == 1 && !d.Lparen.IsValid() {
						doc = d.Doc
					}
					add(name, doc, s.Pos(), true)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir, decls := range byDir {
		for _, d := range decls {
			lines := strings.Split(strings.TrimSpace(d.doc.Text()), "\n")
			own := func(l string) bool { return startsWithName(l, d.name) }
			first := firstWord(lines[0])
			switch {
			case own(lines[0]):
				continue
			case anyOf(lines[1:], own):
				t.Errorf("%s: the doc of %s begins %q: its own comment is below another's", fset.Position(d.at), d.name, lines[0])
			case first != d.name && names[dir][first] && !strings.Contains(d.doc.Text(), d.name) && !isTest(d.name):
				t.Errorf("%s: the doc of %s begins with %s, another declaration's name, and never names %s", fset.Position(d.at), d.name, first, d.name)
			}
		}
	}
}

// startsWithName reports whether line begins with name as a word, or
// with an article before it ("A sealing is").
func startsWithName(line, name string) bool {
	for _, article := range []string{"", "A ", "An ", "The "} {
		if rest, ok := strings.CutPrefix(line, article+name); ok && (rest == "" || !isIdentRune(rune(rest[0]))) {
			return true
		}
	}
	return false
}

// isTest reports whether name is a test's, a benchmark's, a fuzz
// target's or an example's, whose doc may begin with what it tests.
func isTest(name string) bool {
	for _, p := range []string{"Test", "Benchmark", "Fuzz", "Example"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func firstWord(line string) string {
	end := strings.IndexFunc(line, func(r rune) bool { return !isIdentRune(r) })
	if end < 0 {
		return line
	}
	return line[:end]
}

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func anyOf(lines []string, f func(string) bool) bool {
	for _, l := range lines {
		if f(l) {
			return true
		}
	}
	return false
}
