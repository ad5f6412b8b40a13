package caseuco

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
)

// The exports are checked against the CASE 1.4.0 ontology and its SHACL
// shapes by scripts/shacl/validate.mjs (Node.js, npm packages pinned by
// scripts/shacl/package-lock.json, installed by scripts/tools.sh).

type validation struct {
	File     string `json:"file"`
	Conforms bool   `json:"conforms"`
	Results  []struct {
		Severity, Focus, Path, Message, Value string
	} `json:"results"`
	Triples  int `json:"triples"`
	Nodes    int `json:"nodes"`
	Targeted int `json:"targeted"`
	Focus    int `json:"focus"`
	Checks   int `json:"checks"`
}

type validationSummary struct {
	Files             int `json:"files"`
	Failed            int `json:"failed"`
	Shapes            int `json:"shapes"`
	SPARQLConstraints int `json:"sparqlConstraints"`
	OntologyTriples   int `json:"ontologyTriples"`
	LoadMs            int `json:"loadMs"`
	CompileMs         int `json:"compileMs"`
	TotalMs           int `json:"totalMs"`
}

// validateFiles runs the validator once on every file (name -> bytes)
// and returns its verdict on each.
func validateFiles(t *testing.T, files map[string][]byte, selfCheck bool) (map[string]validation, validationSummary) {
	t.Helper()
	node := testenv.Binary(t, "node")
	dir := filepath.Join(testenv.Root(), "scripts", "shacl")
	mods, err := os.Stat(filepath.Join(dir, "node_modules", "rdf-validate-shacl"))
	if err != nil {
		testenv.Missing(t, "the npm packages of scripts/shacl are not installed (run `make tools`, or npm ci --prefix scripts/shacl)")
	}
	if lock, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
		if top, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil && lock.ModTime().After(top.ModTime()) && lock.ModTime().After(mods.ModTime()) {
			testenv.Missing(t, "scripts/shacl/node_modules is older than package-lock.json (run `make tools`)")
		}
	}
	tmp := t.TempDir()
	args := []string{filepath.Join(dir, "validate.mjs"), "--json"}
	if selfCheck {
		args = append(args, "--self-check")
	}
	for name, b := range files {
		p := filepath.Join(tmp, name+".jsonld")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	cmd := exec.Command(node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("validate.mjs: %v\n%s%s", err, out, stderr.String())
	}
	got := map[string]validation{}
	var sum validationSummary
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(line, &probe); err != nil {
			t.Fatalf("validate.mjs printed %q: %v", line, err)
		}
		switch {
		case probe["summary"] != nil:
			if err := json.Unmarshal(probe["summary"], &sum); err != nil {
				t.Fatal(err)
			}
		case probe["selfCheck"] != nil:
			var self struct {
				Conforms bool
				Results  []any
				Focus    int
				Checks   int
				Ms       int
			}
			if err := json.Unmarshal(line, &self); err != nil {
				t.Fatal(err)
			}
			if !self.Conforms || self.Focus == 0 || self.Checks == 0 {
				t.Errorf("the ontology alone does not conform: %s", line)
			}
			t.Logf("ontology alone: conforms, %d focus nodes, %d checks, %d ms", self.Focus, self.Checks, self.Ms)
		default:
			var v validation
			if err := json.Unmarshal(line, &v); err != nil {
				t.Fatal(err)
			}
			got[strings.TrimSuffix(filepath.Base(v.File), ".jsonld")] = v
		}
	}
	if len(got) != len(files) || sum.Files != len(files) {
		t.Fatalf("validate.mjs reported on %d of %d files:\n%s%s", len(got), len(files), out, stderr.String())
	}
	// The validation applies shapes: hundreds, with SPARQL constraints.
	if sum.Shapes < 200 || sum.SPARQLConstraints == 0 || sum.OntologyTriples < 10000 {
		t.Errorf("the validator read %d shapes, %d SPARQL constraints, %d ontology triples", sum.Shapes, sum.SPARQLConstraints, sum.OntologyTriples)
	}
	t.Logf("validated %d files in %v (node: load %d ms, compile %d ms, total %d ms); %d shapes with targets, %d SPARQL constraints, %d ontology triples",
		len(files), elapsed.Round(time.Millisecond), sum.LoadMs, sum.CompileMs, sum.TotalMs, sum.Shapes, sum.SPARQLConstraints, sum.OntologyTriples)
	return got, sum
}

// TestValidate checks every test record's export against CASE 1.4.0, and
// that exports broken on purpose are reported, each for its fault: the
// validation cannot pass by checking nothing.
func TestValidate(t *testing.T) {
	files := map[string][]byte{}
	for name, rec := range records() {
		files[name] = marshal(t, rec())
	}
	broken := brokenExports(t, files["small"])
	for name, c := range broken {
		files["broken-"+name] = c.doc
	}
	got, _ := validateFiles(t, files, !testing.Short())

	for name := range records() {
		v := got[name]
		if !v.Conforms {
			for _, r := range v.Results {
				t.Errorf("%s: %s: %s (focus %s, path %s, value %s)", name, r.Severity, r.Message, r.Focus, r.Path, r.Value)
			}
			continue
		}
		if v.Nodes == 0 || v.Targeted != v.Nodes || v.Focus < v.Nodes || v.Checks < v.Nodes {
			t.Errorf("%s: %d nodes, %d of a class a shape targets, %d focus nodes, %d checks: not every node was checked", name, v.Nodes, v.Targeted, v.Focus, v.Checks)
		}
		t.Logf("%s: conforms: %d triples, %d nodes, %d shape checks", name, v.Triples, v.Nodes, v.Checks)
	}
	for name, c := range broken {
		v := got["broken-"+name]
		if v.Conforms {
			t.Errorf("broken export %q conforms", name)
			continue
		}
		found := false
		for _, r := range v.Results {
			if r.Severity == c.severity && strings.Contains(r.Message+" "+r.Path+" "+r.Value, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("broken export %q: no %s result saying %q in %+v", name, c.severity, c.want, v.Results)
		}
	}
}

type brokenExport struct {
	doc      []byte
	severity string // the severity of the result it must give
	want     string // a part of the result's message or value
}

// brokenExports makes exports with one fault each from a good one.
func brokenExports(t *testing.T, good []byte) map[string]brokenExport {
	t.Helper()
	out := map[string]brokenExport{}
	edit := func(name, severity, want string, change func(doc map[string]any)) {
		var doc map[string]any
		if err := json.Unmarshal(good, &doc); err != nil {
			t.Fatal(err)
		}
		change(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = brokenExport{b, severity, want}
	}
	// first returns the first node object (depth first) that has key.
	var first func(v any, key string) map[string]any
	first = func(v any, key string) map[string]any {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if n := first(e, key); n != nil {
					return n
				}
			}
		case map[string]any:
			if _, ok := x[key]; ok {
				return x
			}
			for _, k := range []string{"@graph", "uco-core:hasFacet", "uco-observable:hash"} {
				if n := first(x[k], key); n != nil {
					return n
				}
			}
		}
		return nil
	}
	byType := func(doc map[string]any, typ string) map[string]any {
		for _, n := range doc["@graph"].([]any) {
			if m := n.(map[string]any); m["@type"] == typ {
				return m
			}
		}
		t.Fatalf("no %s", typ)
		return nil
	}

	edit("hash not hex", "Violation", "not-hex", func(doc map[string]any) {
		first(doc, "uco-types:hashValue")["uco-types:hashValue"].(map[string]any)["@value"] = "not-hex"
	})
	edit("unknown property", "Violation", "uco-observable:filename", func(doc map[string]any) {
		n := first(doc, "uco-observable:fileName")
		n["uco-observable:filename"] = n["uco-observable:fileName"]
		delete(n, "uco-observable:fileName")
	})
	edit("unknown class", "Violation", "uco-observable:Fiel", func(doc map[string]any) {
		byType(doc, "uco-observable:File")["@type"] = "uco-observable:Fiel"
	})
	edit("property outside CASE or UCO", "Violation", "http://example.org/p", func(doc map[string]any) {
		byType(doc, "uco-observable:File")["http://example.org/p"] = "x"
	})
	edit("size not an integer", "Violation", "integer", func(doc map[string]any) {
		n := first(doc, "uco-observable:sizeInBytes")
		n["uco-observable:sizeInBytes"] = "1048576"
	})
	edit("hash a blank node", "Violation", "blank nodes", func(doc map[string]any) {
		delete(first(doc, "uco-types:hashValue"), "@id")
	})
	edit("facet shared", "Violation", "hasFacet must not be used to link two objects to one Facet", func(doc map[string]any) {
		var files []map[string]any
		for _, n := range doc["@graph"].([]any) {
			if m := n.(map[string]any); m["@type"] == "uco-observable:File" {
				files = append(files, m)
			}
		}
		shared := files[0]["uco-core:hasFacet"].([]any)[0].(map[string]any)["@id"]
		files[1]["uco-core:hasFacet"] = append(files[1]["uco-core:hasFacet"].([]any), map[string]any{"@id": shared})
	})
	edit("id without UUID", "Info", "UUID", func(doc map[string]any) {
		byType(doc, "case-investigation:Investigation")["@id"] = "kb:investigation"
	})
	edit("hash method not in vocabulary", "Info", "HashNameVocab", func(doc map[string]any) {
		first(doc, "uco-types:hashMethod")["uco-types:hashMethod"] = "SHA-256"
	})
	edit("relationship not directional", "Violation", "isDirectional", func(doc map[string]any) {
		delete(byType(doc, "uco-core:Relationship"), "uco-core:isDirectional")
	})
	edit("two performers", "Violation", "performer", func(doc map[string]any) {
		a := byType(doc, "case-investigation:InvestigativeAction")
		a["uco-action:performer"] = []any{a["uco-action:performer"], map[string]any{"@id": byType(doc, "uco-identity:Person")["@id"]}}
	})
	edit("performer not a UCO object", "Violation", "is not an instance of <"+nsCore+"UcoObject>", func(doc map[string]any) {
		byType(doc, "case-investigation:InvestigativeAction")["uco-action:performer"] = map[string]any{"@id": "kb:nobody-00000000-0000-5000-8000-000000000000"}
	})
	edit("key the context does not map", "Error", "JSON-LD", func(doc map[string]any) {
		byType(doc, "uco-observable:File")["fileName"] = "x"
	})
	edit("remote context", "Error", "refusing to load", func(doc map[string]any) {
		doc["@context"] = "https://ontology.caseontology.org/case/context.jsonld"
	})
	return out
}
