package api

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// registered returns "METHOD /path" for every route of the table New
// registers.
func registered(t *testing.T) []string {
	var out []string
	for _, rt := range Routes() {
		out = append(out, rt.Method+" "+docPath(rt.Pattern))
	}
	if len(out) < 10 {
		t.Fatalf("found only %d routes in the table", len(out))
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
			checkOperation(t, strings.ToUpper(method)+" "+path, path, op.(map[string]any), publicRoutes()[strings.ToUpper(method)+" "+path])
		}
	}
	sort.Strings(documented)
	want := registered(t)
	if strings.Join(documented, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/api.yaml and the route table disagree:\n documented: %v\n registered: %v", documented, want)
	}
	checkRefs(t, doc, doc)
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// docPath is a route's pattern as OpenAPI writes it: a wildcard that
// takes the rest of the path ({path...}) is written {path}.
func docPath(pattern string) string { return strings.ReplaceAll(pattern, "...}", "}") }

func publicRoutes() map[string]bool {
	out := map[string]bool{}
	for _, rt := range Routes() {
		if !rt.Auth {
			out[rt.Method+" "+docPath(rt.Pattern)] = true
		}
	}
	return out
}

func checkOperation(t *testing.T, name, path string, op map[string]any, wantPublic bool) {
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
	if public != wantPublic {
		t.Errorf("%s: public %v, want %v", name, public, wantPublic)
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

// loadSpec parses docs/api.yaml.
func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../../docs/api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/api.yaml: %v", err)
	}
	return doc
}

// operation returns the document's operation for rt, or nil.
func operation(doc map[string]any, rt Route) map[string]any {
	paths, _ := doc["paths"].(map[string]any)
	item, _ := paths[docPath(rt.Pattern)].(map[string]any)
	op, _ := item[strings.ToLower(rt.Method)].(map[string]any)
	return op
}

// TestNewRegistersTheRoutes checks that New serves each route of the
// table at its method and pattern, and nothing else at their paths.
func TestNewRegistersTheRoutes(t *testing.T) {
	h := New(nil, slog.New(slog.DiscardHandler), Options{})
	defer h.Close()
	seen := map[string]bool{}
	for _, rt := range Routes() {
		if seen[rt.action()] {
			t.Errorf("%s is in the table twice", rt.action())
		}
		seen[rt.action()] = true
		if rt.serve == nil || rt.Name == "" || rt.Summary == "" {
			t.Errorf("%s: no handler, name or summary", rt.action())
		}
		path := pathParam.ReplaceAllString(rt.Pattern, "x")
		r := httptest.NewRequest(rt.Method, path, nil)
		if _, pattern := h.mux.Handler(r); pattern != rt.action() {
			t.Errorf("%s %s is served by %q, want %q", rt.Method, path, pattern, rt.action())
		}
	}
}

// TestRoutesMatchOpenAPI checks each route's operationId, summary,
// action (x-custos-action, Route.Asks) and bearer token against
// docs/api.yaml, and that an operation with a JSON
// body documents the answers of a bad one (400, 415).
func TestRoutesMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	for _, rt := range Routes() {
		op := operation(doc, rt)
		if op == nil {
			t.Errorf("%s is not documented", rt.action())
			continue
		}
		if op["operationId"] != rt.Name {
			t.Errorf("%s: operationId %v, the table says %s", rt.action(), op["operationId"], rt.Name)
		}
		if op["summary"] != rt.Summary {
			t.Errorf("%s: summary %q, the table says %q", rt.action(), op["summary"], rt.Summary)
		}
		// The vault's action a route is gated by, which its refusals
		// record (custody-log.md section 8, "Actions, request kinds and
		// routes").
		if got, _ := op["x-custos-action"].(string); got != rt.Asks {
			t.Errorf("%s: x-custos-action %q, the table's Asks is %q", rt.action(), got, rt.Asks)
		}
		sec, hasSec := op["security"].([]any)
		if public := hasSec && len(sec) == 0; public == rt.Auth {
			t.Errorf("%s: documented without the bearer token: %v; the table says it needs one: %v", rt.action(), public, rt.Auth)
		}
		if rt.Request != nil {
			responses, _ := op["responses"].(map[string]any)
			for _, code := range []string{"400", "415"} {
				if responses[code] == nil {
					t.Errorf("%s: takes a JSON body but documents no %s", rt.action(), code)
				}
			}
		}
	}
}

// TestBodiesMatchOpenAPI checks, for every route, the JSON field names of
// its request and response types (their json tags) against the
// properties of the schemas docs/api.yaml gives them, recursively through
// nested objects and arrays. A response field is required in the schema
// exactly when it is always sent (no omitempty); a field a request schema
// requires must exist, and request schemas refuse other properties, as
// the handlers do.
func TestBodiesMatchOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	for _, rt := range Routes() {
		op := operation(doc, rt)
		if op == nil {
			continue // TestRoutesMatchOpenAPI reports it
		}
		reqBody, _ := op["requestBody"].(map[string]any)
		reqSchema := contentSchema(reqBody, "application/json")
		switch {
		case rt.Request == nil && reqSchema != nil:
			t.Errorf("%s: documented with a JSON request body, but the table has no request type", rt.action())
		case rt.Request != nil && reqSchema == nil:
			t.Errorf("%s: request type %T, but no application/json request body is documented", rt.action(), rt.Request)
		case rt.Request != nil:
			s := resolve(t, doc, reqSchema)
			if s["additionalProperties"] != false {
				t.Errorf("%s: the request schema does not refuse unknown properties (additionalProperties: false)", rt.action())
			}
			compareSchema(t, doc, rt.action()+" request", reflect.TypeOf(rt.Request), s, false)
		}
		ok, media := successResponse(op)
		respSchema := contentSchema(ok, media)
		switch {
		case rt.Response == nil && media == "application/json":
			t.Errorf("%s: documented with a JSON answer, but the table has no response type", rt.action())
		case rt.Response != nil && respSchema == nil:
			t.Errorf("%s: response type %T, but no JSON or NDJSON answer is documented", rt.action(), rt.Response)
		case rt.Response != nil:
			compareSchema(t, doc, rt.action()+" response", reflect.TypeOf(rt.Response), respSchema, true)
		}
		if responses, _ := op["responses"].(map[string]any); responses["202"] != nil && reflect.TypeOf(rt.Response) != reflect.TypeOf(RequestResponse{}) {
			alt, _ := responses["202"].(map[string]any)
			compareSchema(t, doc, rt.action()+" 202 response", reflect.TypeOf(RequestResponse{}), contentSchema(alt, "application/json"), true)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	compareSchema(t, doc, "error answers", reflect.TypeOf(ErrorResponse{}), schemas["Error"].(map[string]any), true)
}

// successResponse returns an operation's 2xx response and the media type
// of its content (application/json or application/x-ndjson, if any).
func successResponse(op map[string]any) (map[string]any, string) {
	responses, _ := op["responses"].(map[string]any)
	for _, code := range slices.Sorted(maps.Keys(responses)) {
		r := responses[code]
		if !strings.HasPrefix(code, "2") {
			continue
		}
		resp, _ := r.(map[string]any)
		content, _ := resp["content"].(map[string]any)
		for _, media := range []string{"application/json", "application/x-ndjson"} {
			if content[media] != nil {
				return resp, media
			}
		}
		return resp, ""
	}
	return nil, ""
}

// contentSchema returns the schema of a request body or response in the
// given media type, or nil.
func contentSchema(body map[string]any, media string) map[string]any {
	content, _ := body["content"].(map[string]any)
	mt, _ := content[media].(map[string]any)
	s, _ := mt["schema"].(map[string]any)
	return s
}

// resolve follows a schema's local $ref.
func resolve(t *testing.T, doc, s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := cur.(map[string]any)
			cur = m[part]
		}
		next, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("$ref %s does not resolve", ref)
		}
		s = next
	}
}

type jsonField struct {
	typ       reflect.Type
	omitempty bool
}

// jsonFieldsOf returns the JSON object keys encoding/json writes for a
// struct type, from its json tags.
func jsonFieldsOf(typ reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			maps.Copy(out, jsonFieldsOf(f.Type))
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = jsonField{typ: f.Type, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")}
	}
	return out
}

// compareSchema compares a Go type's JSON shape with a schema.
func compareSchema(t *testing.T, doc map[string]any, where string, typ reflect.Type, schema map[string]any, response bool) {
	t.Helper()
	s := resolve(t, doc, schema)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Slice, reflect.Array:
		if typ.Elem().Kind() == reflect.Uint8 {
			return // raw JSON or bytes
		}
		if s["type"] != "array" {
			t.Errorf("%s: %s is an array, the schema's type is %v", where, typ, s["type"])
			return
		}
		if items, ok := s["items"].(map[string]any); ok {
			compareSchema(t, doc, where+"[]", typ.Elem(), items, response)
		}
		return
	case reflect.Struct:
		if typ == reflect.TypeOf(time.Time{}) {
			if s["type"] != "string" {
				t.Errorf("%s: time is a string, the schema's type is %v", where, s["type"])
			}
			return
		}
	default:
		return
	}
	props, ok := s["properties"].(map[string]any)
	if !ok {
		t.Errorf("%s: %s is a JSON object, but its schema lists no properties", where, typ)
		return
	}
	fields := jsonFieldsOf(typ)
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if props[name] == nil {
			t.Errorf("%s: %s has field %q, which the schema does not document", where, typ, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(props)) {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s: the schema documents %q, which %s does not have", where, name, typ)
		}
	}
	required := map[string]bool{}
	reqList, _ := s["required"].([]any)
	for _, r := range reqList {
		name, _ := r.(string)
		required[name] = true
		if _, ok := fields[name]; !ok {
			t.Errorf("%s: the schema requires %q, which %s does not have", where, name, typ)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		f := fields[name]
		if response && required[name] == f.omitempty {
			if f.omitempty {
				t.Errorf("%s: the schema requires %q, but %s omits it when empty", where, name, typ)
			} else {
				t.Errorf("%s: %s always sends %q, but the schema does not require it", where, typ, name)
			}
		}
		if p, ok := props[name].(map[string]any); ok {
			compareSchema(t, doc, where+"."+name, f.typ, p, response)
		}
	}
}
