package api

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// registered returns "METHOD /path" for every route New registers, read
// from this package's source so that nothing is exported for the test.
func registered(t *testing.T) []string {
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`h\.(?:route|mux\.HandleFunc)\("([A-Z]+) (/[^"]*)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1]+" "+m[2])
	}
	if len(out) < 10 {
		t.Fatalf("found only %d routes in api.go; has the registration changed shape?", len(out))
	}
	sort.Strings(out)
	return out
}

// TestOpenAPICoversEveryRoute fails when a route registered in New is
// missing from docs/api.yaml or the spec documents a route that does not
// exist, when a path parameter is undeclared, when an operation lacks its
// error responses, or when a $ref points nowhere.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/api.yaml: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Fatalf("openapi version %q", v)
	}
	paths, _ := doc["paths"].(map[string]any)
	var documented []string
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			switch method {
			case "get", "post", "put", "delete", "patch":
			default:
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			checkOperation(t, strings.ToUpper(method)+" "+path, path, op.(map[string]any))
		}
	}
	sort.Strings(documented)
	want := registered(t)
	if strings.Join(documented, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/api.yaml and api.go disagree:\n documented: %v\n registered: %v", documented, want)
	}
	checkRefs(t, doc, doc)
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func checkOperation(t *testing.T, name, path string, op map[string]any) {
	declared := map[string]bool{}
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		p := p.(map[string]any)
		if p["in"] == "path" {
			declared[p["name"].(string)] = true
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		if !declared[m[1]] {
			t.Errorf("%s: path parameter %s is not declared", name, m[1])
		}
	}
	responses, _ := op["responses"].(map[string]any)
	sec, hasSec := op["security"].([]any)
	public := hasSec && len(sec) == 0
	if public != (path == "/v1/health") {
		t.Errorf("%s: only /v1/health is documented without the bearer token", name)
	}
	if !public && responses["401"] == nil {
		t.Errorf("%s: no 401 response", name)
	}
	ok := false
	for code := range responses {
		ok = ok || strings.HasPrefix(code, "2")
	}
	if !ok {
		t.Errorf("%s: no success response", name)
	}
}

// checkRefs resolves every local $ref in the document.
func checkRefs(t *testing.T, doc map[string]any, node any) {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok {
			var cur any = doc
			for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
				m, _ := cur.(map[string]any)
				cur = m[part]
			}
			if !strings.HasPrefix(ref, "#/") || cur == nil {
				t.Errorf("$ref %s does not resolve", ref)
			}
		}
		for _, v := range n {
			checkRefs(t, doc, v)
		}
	case []any:
		for _, v := range n {
			checkRefs(t, doc, v)
		}
	case nil, string, bool, int, float64:
	default:
		t.Errorf("unexpected YAML node %s", fmt.Sprintf("%T", n))
	}
}
