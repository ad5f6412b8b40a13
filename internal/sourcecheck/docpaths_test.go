package sourcecheck

import (
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The documents name the module's files and folders, in code spans
// (`vault/snapshot.go`) and in relative links ([x](../testdata/...)): a
// path that moved or never existed sends a reader, or an implementer
// writing their own verifier, nowhere. Every such name in README.md,
// docs/ and deploy/ that begins with a top-level folder of the module
// must exist. Names with a placeholder in them (DATA/, DIR, *, ...)
// are not paths of the module and are passed over.
func TestDocumentsNamePathsThatExist(t *testing.T) {
	top := map[string]bool{}
	entries, err := os.ReadDir(moduleRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			top[e.Name()] = true
		}
	}
	docs := []string{filepath.Join(moduleRoot, "README.md")}
	for _, dir := range []string{"docs", "deploy"} {
		found, err := filepath.Glob(filepath.Join(moduleRoot, dir, "*.md"))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, found...)
	}
	span := regexp.MustCompile("`([a-z][a-z0-9_-]*(?:/[A-Za-z0-9_.-]+)+/?)`")
	link := regexp.MustCompile(`\]\(([^)#\s]+)`)
	placeholder := regexp.MustCompile(`[A-Z]{3,}|\.\.\.|[*{}<>]`)
	checked := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(moduleRoot, doc)
		var paths []string
		for _, m := range span.FindAllStringSubmatch(string(b), -1) {
			if first, _, _ := strings.Cut(m[1], "/"); top[first] && !placeholder.MatchString(m[1]) {
				paths = append(paths, m[1])
			}
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || placeholder.MatchString(target) {
				continue
			}
			p, err := filepath.Rel(moduleRoot, filepath.Join(filepath.Dir(doc), target))
			if err != nil || strings.HasPrefix(p, "..") {
				t.Errorf("%s: the link %s leads out of the module", rel, target)
				continue
			}
			paths = append(paths, p)
		}
		for _, p := range paths {
			// A Go identifier after a package's path (internal/keyfile.Kind)
			// names the package's folder.
			if i := strings.LastIndex(p, "."); i > strings.LastIndex(p, "/") && i+1 < len(p) && unicode.IsUpper(rune(p[i+1])) {
				p = p[:i]
			}
			// A package of Go's own (crypto/x509) is not the module's,
			// though the module has a folder of that first name.
			if pkg, err := build.Import(p, "", build.FindOnly); err == nil && pkg.Goroot {
				continue
			}
			checked++
			if _, err := os.Stat(filepath.Join(moduleRoot, p)); err != nil {
				t.Errorf("%s names %s, which does not exist", rel, p)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d paths found in the documents: the patterns no longer match how they name files", checked)
	}
}
