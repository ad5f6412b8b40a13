package custody_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/custos-vault/custos/custody"
)

// Whatever an event's data holds, Build either refuses it or makes a
// record whose text report has no hidden character but the newlines it
// writes itself, and no line that a recorded string wrote.
func FuzzBuildText(f *testing.F) {
	f.Add(`{"name":"a\u202eb","size":1,"sha256":"ab"}`, `{"purpose":"x\ny"}`)
	f.Add(`{"name":3}`, `{}`)
	f.Add(`{"name":"\u2028FORGED"}`, `{"purpose":"\u0000","access":"\r"}`)
	f.Fuzz(func(t *testing.T, deposit, access string) {
		var o1, o2 map[string]any
		if json.Unmarshal([]byte(deposit), &o1) != nil || json.Unmarshal([]byte(access), &o2) != nil || o1 == nil || o2 == nil {
			return // events carry a JSON object
		}
		c := newChain(t)
		c.add("case.opened", ana, "C-1", "", m{"title": "t"})
		c.add("item.deposited", ana, "C-1", "it_1", json.RawMessage(deposit))
		c.add("item.accessed", ana, "C-1", "it_1", json.RawMessage(access))
		rep := c.add("custody.report", aud, "C-1", "", m{"format": "text"})
		rec, err := custody.Build(custody.Input{Case: "C-1", Events: c.raws, Report: rep})
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(custody.Text(rec)), "\n") {
			if strings.Contains(line, "FORGED") && !strings.HasPrefix(line, " ") {
				t.Fatalf("a recorded string wrote a line: %q", line)
			}
			for _, r := range line {
				if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
					t.Fatalf("hidden character %U in line %q", r, line)
				}
			}
		}
	})
}
