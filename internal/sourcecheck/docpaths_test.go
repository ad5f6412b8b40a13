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
// must exist. A name that does not, with a placeholder in it (a folder
// named in capitals, DATA/ or DIR, an ellipsis, a pattern), is not a path
// of the module and is passed over; one that does is checked whatever
// its letters (README.md, RECORD).
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
	checked := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(moduleRoot, doc)
		var paths []string
		for _, m := range span.FindAllStringSubmatch(string(b), -1) {
			if first, _, _ := strings.Cut(m[1], "/"); top[first] {
				paths = append(paths, m[1])
			}
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
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
			if _, err := os.Stat(filepath.Join(moduleRoot, p)); err != nil && !placeholder(p) {
				t.Errorf("%s names %s, which does not exist", rel, p)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d paths found in the documents: the patterns no longer match how they name files", checked)
	}
}

// placeholder reports whether a path names no file but stands for some:
// it holds an ellipsis or a pattern, or a part in capitals standing for a
// folder or a name (DATA/, DIR) or a run of one capital for digits
// (SSSSSSSSSSSS.json). A name in capitals with an extension
// (README.md) is a file's.
func placeholder(p string) bool {
	if strings.Contains(p, "...") || strings.ContainsAny(p, "*{}<>") {
		return true
	}
	for _, part := range strings.Split(p, "/") {
		ext := filepath.Ext(part)
		name := strings.TrimSuffix(part, ext)
		if name == "" || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			continue
		}
		if ext == "" || strings.Count(name, name[:1]) == len(name) {
			return true
		}
	}
	return false
}
