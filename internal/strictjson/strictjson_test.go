package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
)

type person struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

type doc struct {
	Size  int64    `json:"size"`
	Seq   uint64   `json:"seq"`
	Hash  string   `json:"hash"`
	Note  string   `json:"note,omitempty"`
	By    person   `json:"by"`
	Items []person `json:"items"`
}

const good = `{"size":15,"seq":0,"hash":"ab","by":{"name":"a","role":"b"},"items":[{"name":"c","role":"d"}]}`

func TestManifestRules(t *testing.T) {
	var d doc
	if err := Decode([]byte(good), &d, Manifest); err != nil || d.Size != 15 || d.Items[0].Role != "d" {
		t.Fatalf("%+v %v", d, err)
	}
	// Borderline but valid: negative numbers for signed members, the
	// largest values, an optional member given, escapes inside strings.
	for _, in := range []string{
		strings.Replace(good, `"size":15`, `"size":-15`, 1),
		strings.Replace(good, `"seq":0`, `"seq":18446744073709551615`, 1),
		strings.Replace(good, `"size":15`, `"size":9223372036854775807`, 1),
		strings.Replace(good, `"hash":"ab"`, `"hash":"\u0061b","note":"x"`, 1),
		strings.Replace(good, `"size":15,`, "\"size\" :\n 15 ,", 1),
		strings.Replace(good, `"hash":"ab"`, `"hash":"\ud83d\ude00"`, 1),
	} {
		if err := Decode([]byte(in), new(doc), Manifest); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for name, in := range map[string]string{
		"fraction":            strings.Replace(good, `"size":15`, `"size":15.0`, 1),
		"exponent":            strings.Replace(good, `"size":15`, `"size":1.5e1`, 1),
		"integer exponent":    strings.Replace(good, `"seq":0`, `"seq":0e0`, 1),
		"minus zero":          strings.Replace(good, `"size":15`, `"size":-0`, 1),
		"negative unsigned":   strings.Replace(good, `"seq":0`, `"seq":-1`, 1),
		"out of range":        strings.Replace(good, `"seq":0`, `"seq":18446744073709551616`, 1),
		"signed overflow":     strings.Replace(good, `"size":15`, `"size":9223372036854775808`, 1),
		"leading zero":        strings.Replace(good, `"size":15`, `"size":015`, 1),
		"case of a name":      strings.Replace(good, `"hash"`, `"Hash"`, 1),
		"nested case":         strings.Replace(good, `"role":"d"`, `"ROLE":"d"`, 1),
		"repeat":              strings.Replace(good, `"hash":"ab"`, `"hash":"ab","hash":"cd"`, 1),
		"nested repeat":       strings.Replace(good, `"name":"a"`, `"name":"a","name":"a"`, 1),
		"unknown":             strings.Replace(good, `"hash":"ab"`, `"hash":"ab","extra":1`, 1),
		"missing required":    strings.Replace(good, `"hash":"ab",`, ``, 1),
		"missing nested":      strings.Replace(good, `"role":"b"`, `"x":"b"`, 1),
		"null string":         strings.Replace(good, `"hash":"ab"`, `"hash":null`, 1),
		"null list":           strings.Replace(good, `[{"name":"c","role":"d"}]`, `null`, 1),
		"string for number":   strings.Replace(good, `"size":15`, `"size":"15"`, 1),
		"trailing value":      good + ` {}`,
		"trailing brace":      good + `}`,
		"not JSON":            `{"size":15,}`,
		"two values in list":  strings.Replace(good, `"items":[`, `"items":[1,`, 1),
		"leading space":       " " + good,
		"final newline":       good + "\n",
		"invalid UTF-8":       strings.Replace(good, `"hash":"ab"`, "\"hash\":\"a\xffb\"", 1),
		"lone high surrogate": strings.Replace(good, `"hash":"ab"`, `"hash":"\ud83d"`, 1),
		"lone low surrogate":  strings.Replace(good, `"hash":"ab"`, `"hash":"\ude00x"`, 1),
	} {
		if err := Decode([]byte(in), new(doc), Manifest); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestEventDataRules(t *testing.T) {
	var d doc
	in := `{"size":15,"other":{"Size":1.5,"deep":[1,2]},"items":null,"hash":"x"}`
	if err := Decode([]byte(in), &d, EventData); err != nil || d.Size != 15 || d.Items != nil || d.Seq != 0 {
		t.Fatalf("%+v %v", d, err)
	}
	for name, in := range map[string]string{
		"fraction in a member read":        `{"size":15.0}`,
		"minus zero":                       `{"size":-0}`,
		"repeat of a member read":          `{"size":1,"size":2}`,
		"repeat of an unknown member":      `{"size":1,"x":1,"x":2}`,
		"repeat deep in unknown":           `{"x":[{"a":1,"a":1}]}`,
		"another case of a name":           `{"Size":1}`,
		"escaped capital in a nested name": `{"by":{"n\u0041me":"a"}}`,
		"long s for s":                     `{"\u017fize":1}`,
		"not an object at the top":         `[1]`,
		"whitespace-separated extra":       `{} {}`,
		"string where a struct is due":     `{"by":"a"}`,
	} {
		if err := Decode([]byte(in), new(doc), EventData); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := func(n int) string { return `{"x":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}` }
	if err := Decode([]byte(deep(10000)), new(doc), EventData); err != nil {
		t.Errorf("10,000 levels: %v", err)
	}
	if err := Decode([]byte(deep(10001)), new(doc), EventData); err == nil {
		t.Error("10,001 levels accepted")
	}
}

// FuzzDecode checks that whatever Decode accepts, encoding/json accepts
// and reads to the same value, and that an accepted manifest-rules input
// re-encodes to a value Decode accepts again.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"size":15.0}`))
	f.Add([]byte(`{"size":1,"size":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range []Rules{Manifest, EventData} {
			var d doc
			if Decode(b, &d, r) != nil {
				continue
			}
			var std doc
			if err := json.Unmarshal(b, &std); err != nil {
				t.Fatalf("accepted what encoding/json refuses: %q: %v", b, err)
			}
			again, _ := json.Marshal(d)
			var d2 doc
			if r == Manifest {
				if err := Decode(again, &d2, r); err != nil {
					t.Fatalf("re-encoding of an accepted value refused: %q: %v", again, err)
				}
			}
		}
	})
}

type inner struct {
	Case string `json:"case"`
}

type outer struct {
	inner
	Title string `json:"title"`
}

// The rules request bodies use: space around the value, a depth bound,
// and members promoted from an embedded struct read as encoding/json
// reads them.
func TestRequestRules(t *testing.T) {
	r := Rules{AllowNull: true, Optional: true, MaxDepth: 3, Space: true}
	var o outer
	if err := Decode([]byte(" {\"case\":\"A\",\"title\":null}\n"), &o, r); err != nil || o.Case != "A" {
		t.Fatalf("%+v %v", o, err)
	}
	for name, in := range map[string]string{
		"embedded name in another case": `{"CASE":"A"}`,
		"repeated promoted member":      `{"case":"A","case":"B"}`,
		"unknown":                       `{"x":1}`,
	} {
		if err := Decode([]byte(in), new(outer), r); err == nil {
			t.Errorf("%s: accepted %s", name, in)
		}
	}
	deep := Rules{AllowUnknown: true, MaxDepth: 3, Optional: true}
	if err := Decode([]byte(`{"x":[[]]}`), new(outer), deep); err != nil {
		t.Errorf("3 levels: %v", err)
	}
	if err := Decode([]byte(`{"x":[[[]]]}`), new(outer), deep); err == nil || !strings.Contains(err.Error(), "deeper than 3") {
		t.Errorf("4 levels: %v", err)
	}
	if err := Decode([]byte(`{"case":"A"}`+"\n"), new(outer), Manifest); err == nil {
		t.Error("a final newline accepted without Space")
	}
}

type holdLike struct {
	On        bool   `json:"on"`
	Anonymous bool   `json:"anonymous,omitempty"`
	Reason    string `json:"reason"`
}

// RequiredBools: under Optional, a boolean member without omitempty must
// be given, and no boolean is null; other members stay optional.
func TestRequiredBools(t *testing.T) {
	r := Rules{AllowNull: true, Optional: true, RequiredBools: true}
	for _, in := range []string{`{"on":false}`, `{"on":true,"reason":null}`, `{"on":false,"anonymous":true}`} {
		if err := Decode([]byte(in), new(holdLike), r); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for _, in := range []string{`{"reason":"x"}`, `{}`, `{"on":null}`, `{"on":true,"anonymous":null}`} {
		if err := Decode([]byte(in), new(holdLike), r); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
	if err := Decode([]byte(`{"reason":"x"}`), new(holdLike), Rules{AllowNull: true, Optional: true}); err != nil {
		t.Errorf("without RequiredBools a missing boolean is refused: %v", err)
	}
}
