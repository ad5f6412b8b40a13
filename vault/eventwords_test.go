package vault

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/events"
)

// TestEveryEventTypeHasWords: a custody report, the web timeline and
// the audit pages say in words what each event is; an event type the
// vault defines (a Type... constant anywhere in this package) without
// words in custody.Labels would be shown to a court by its raw type.
func TestEveryEventTypeHasWords(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^\s*Type[A-Za-z]+\s*=\s*"([a-z]+(?:\.[a-z]+)+)"`)
	found := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			found++
			typ := m[1]
			if custody.Labels[typ] == "" {
				t.Errorf("event type %s (%s) has no words in custody.Labels", typ, f)
				continue
			}
			if action, _ := custody.Describe(&events.Event{Type: typ, Data: []byte(`{}`)}); action == typ {
				t.Errorf("event type %s is described by its type", typ)
			}
		}
	}
	if found < 50 {
		t.Fatalf("found only %d event types: the pattern no longer matches their declarations", found)
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
