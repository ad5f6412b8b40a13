package main

import (
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// updating reports whether the test runs with -update (the flag is
// internal/deplist's, which also rewrites deps.txt).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const (
	docPath  = "../../docs/cli.md"
	docBegin = "<!-- commands: generated from cmd/custos/commands.go by `go test ./cmd/custos -run TestCLIDoc -update`; do not edit -->"
	docEnd   = "<!-- end of commands -->"
)

// commandTable renders the command declarations as docs/cli.md shows
// them.
func commandTable() string {
	var b strings.Builder
	for _, g := range groups {
		b.WriteString("\n### " + g + "\n\n| command | who | does | `--json` prints |\n|---|---|---|---|\n")
		for _, c := range commands {
			if c.group != g {
				continue
			}
			does := upper(c.summary) + "."
			if c.details != "" {
				does += " " + c.details
			}
			cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
			json := c.json
			if json != "" && !strings.Contains(json, "`") {
				json = "`" + json + "`"
			}
			b.WriteString("| `" + cell(strings.TrimSpace("custos "+c.name+" "+c.args)) + "` | " + cell(c.who) + " | " + cell(does) + " | " + cell(json) + " |\n")
		}
	}
	return b.String()
}

// TestCLIDoc: docs/cli.md's command table is the declaration's, so that
// the two cannot drift.
func TestCLIDoc(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/cli.md lacks the markers %q and %q", docBegin, docEnd)
	}
	want := doc[:i+len(docBegin)] + "\n" + commandTable() + "\n" + doc[j:]
	if updating() {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Fatal("docs/cli.md's command table differs from commands.go: go test ./cmd/custos -run TestCLIDoc -update")
	}
}

// TestEveryCommandHasHelp: each command's --help prints its synopsis and
// exits 0; a usage error names the command's --help.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands {
		var out, errb strings.Builder
		err := run(append(strings.Fields(c.name), "--help"), &out, &errb)
		if err != nil && !strings.Contains(err.Error(), "help requested") {
			t.Errorf("%s --help: %v", c.name, err)
		}
		if !strings.Contains(out.String(), "usage: custos "+c.name) || !strings.Contains(out.String(), "Flags:") && c.name != "logout" {
			t.Errorf("%s --help printed %q", c.name, out.String())
		}
	}
}

// TestEveryCommandRefusesUnknownFlags: a flag a command does not have is a
// usage error (exit 2, a pointer to --help), for every command, before
// anything is read or sent.
func TestEveryCommandRefusesUnknownFlags(t *testing.T) {
	t.Setenv("CUSTOS_SERVER", "")
	for _, c := range commands {
		var out, errb strings.Builder
		err := run(append(strings.Fields(c.name), "--no-such-flag"), &out, &errb)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "no-such-flag") {
			t.Errorf("%s --no-such-flag: %v", c.name, err)
		}
	}
}

// TestHelpAgreesWithUsageLine: every flag a usage line names exists, is
// shown with a value exactly when it takes one, and with the same word for
// it in the flag list as in the usage line (a usage line saying
// "--checkpoint FILE" over a list saying "--checkpoint TEXT" confuses
// whoever reads it). Both are read from the printed help, the usage line
// by its own pattern here.
func TestHelpAgreesWithUsageLine(t *testing.T) {
	flagInUsage := regexp.MustCompile(`(?:^|[\s\[(|])--?([a-z0-9][a-z0-9-]*)(?:\s+([^\s\[\]()|-][^\s\[\]()]*))?`)
	for _, c := range commands {
		var out, errb strings.Builder
		run(append(strings.Fields(c.name), "--help"), &out, &errb)
		listed := map[string]string{} // flag -> the value word the list shows, "" for none
		_, list, _ := strings.Cut(out.String(), "\nFlags:\n")
		for _, line := range strings.Split(list, "\n") {
			if !strings.HasPrefix(line, "  -") {
				continue
			}
			f := strings.Fields(line)
			name := strings.TrimLeft(f[0], "-")
			listed[name] = ""
			if len(f) > 1 {
				listed[name] = f[1]
			}
		}
		for _, line := range strings.Split(out.String(), "\n") {
			usage, ok := strings.CutPrefix(line, "usage: custos "+c.name)
			if !ok {
				continue
			}
			for _, m := range flagInUsage.FindAllStringSubmatch(usage, -1) {
				name, value := m[1], m[2]
				value, _, _ = strings.Cut(value, "|-") // --a X|--b Y: two flags
				if !strings.HasSuffix(value, ",...") {
					value = strings.TrimSuffix(value, "...") // repeatable
				}
				shown, ok := listed[name]
				switch {
				case !ok:
					t.Errorf("%s: the usage line %q names --%s, which the command does not have", c.name, usage, name)
				case (value == "") != (shown == ""):
					t.Errorf("%s: the usage line shows --%s with value %q, the flag list with %q", c.name, name, value, shown)
				case strings.ContainsAny(value, ":/"):
					// An example value (--listen 127.0.0.1:PORT): the list
					// shows the flag's own word.
				case value != shown:
					t.Errorf("%s: the usage line shows --%s %s, the flag list --%s %s", c.name, name, value, name, shown)
				}
			}
		}
	}
}

func TestUsageValues(t *testing.T) {
	got := usageValues("--case CASE [--expect-sha256 H|--expect-from SUMS] [--again] [--url URL...] [--anonymous | --contact C] [--items ID,...] -o FILE (--data DIR | --key KEY) [--retention D [--yes]]")
	want := map[string]string{"case": "CASE", "expect-sha256": "H", "expect-from": "SUMS", "again": "", "url": "URL",
		"anonymous": "", "contact": "C", "items": "ID,...", "o": "FILE", "data": "DIR", "key": "KEY", "retention": "D", "yes": ""}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("--%s: got %q, want %q", k, got[k], v)
		}
	}
}

// TestServerFlagsDocumented: docs/cli.md's table of server flags (under
// "## Server") names every flag `custos server` takes, and no flag it
// does not: the table is written by hand, for its longer explanations.
func TestServerFlagsDocumented(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "\n## Server\n")
	j := strings.Index(doc[i+1:], "\n## ")
	if i < 0 || j < 0 {
		t.Fatal(`docs/cli.md has no "## Server" section followed by another`)
	}
	inTable := map[string]bool{}
	flagName := regexp.MustCompile("`--([a-z0-9-]+)")
	for _, line := range strings.Split(doc[i:i+1+j], "\n") {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		first := strings.SplitN(line[1:], "|", 2)[0]
		for _, m := range flagName.FindAllStringSubmatch(first, -1) {
			inTable[m[1]] = true
		}
	}
	fs, _ := newServerFlags()
	fs.VisitAll(func(f *flag.Flag) {
		if !inTable[f.Name] {
			t.Errorf("docs/cli.md's server flags lack --%s (%s)", f.Name, f.Usage)
		}
		delete(inTable, f.Name)
	})
	for name := range inTable {
		t.Errorf("docs/cli.md's server flags name --%s, which custos server does not take", name)
	}
}

// TestLongHelpPutsFlagsFirst: a command whose paragraph is long (deposit)
// gives its flags and examples before it, saying where it is; a short
// one (case open) gives it first, as before.
func TestLongHelpPutsFlagsFirst(t *testing.T) {
	for _, c := range []struct {
		args                []string
		paragraph           string
		paragraphAfterFlags bool
	}{
		{[]string{"deposit", "--help"}, "Folders are walked", true},
		{[]string{"audit", "verify", "--help"}, "In everyday use", true},
		{[]string{"case", "open", "--help"}, "--retention gives the case", false},
	} {
		var out, errb strings.Builder
		run(c.args, &out, &errb)
		help := out.String()
		flags, examples, para := strings.Index(help, "\nFlags:\n"), strings.Index(help, "\nExamples:\n"), strings.Index(help, c.paragraph)
		if flags < 0 || para < 0 {
			t.Fatalf("%v: no flags or no paragraph:\n%s", c.args, help)
		}
		if after := para > flags && (examples < 0 || para > examples); after != c.paragraphAfterFlags {
			t.Fatalf("%v: the paragraph after the flags and examples: %v, want %v:\n%s", c.args, after, c.paragraphAfterFlags, help)
		}
		if said := strings.Contains(help, "(In detail: after the flags and examples, below.)") && strings.Contains(help, "\nIn detail:\n"); said != c.paragraphAfterFlags {
			t.Fatalf("%v: says where the paragraph is: %v:\n%s", c.args, said, help)
		}
	}
}
