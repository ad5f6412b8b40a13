package vault

import (
	"os"
	"path/filepath"
	"regexp"
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
