package cliflags

import (
	"flag"
	"io"
	"strings"
	"testing"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }
func (l *list) Values() []string   { return *l }

// parsed is a flag set of two string flags, a bool and a repeatable
// flag, having parsed args.
func parsed(t *testing.T, args ...string) *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("key", "", "")
	fs.String("name", "", "")
	fs.Bool("json", false, "")
	var urls list
	fs.Var(&urls, "url", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

func parse(t *testing.T, args ...string) (string, string) {
	fs := parsed(t, args...)
	return Swallowed(fs, Explicit(fs, args))
}

func TestSwallowed(t *testing.T) {
	for _, c := range []struct {
		args        []string
		name, value string
	}{
		{[]string{"--key", "--json"}, "key", "--json"},
		{[]string{"--key", "-name=x"}, "key", "-name=x"},
		{[]string{"--key", "--key=a"}, "key", "--key=a"},               // its own name, with "="
		{[]string{"--url", "u", "--url", "--url=v"}, "url", "--url=v"}, // a repeated flag's
		{[]string{"--json", "--name", "--key=k"}, "name", "--key=k"},
		{[]string{"--url", "https://a", "--url", "--json"}, "url", "--json"},
		{[]string{"--name=--key"}, "", ""},                 // meant
		{[]string{"--name", "-not-a-flag"}, "", ""},        // a value with a dash
		{[]string{"--key", "k", "--json"}, "", ""},         // nothing left out
		{[]string{"--json", "--", "--key=--json"}, "", ""}, // after --: positional
	} {
		name, value := parse(t, c.args...)
		if name != c.name || value != c.value {
			t.Errorf("%q: %q %q, want %q %q", c.args, name, value, c.name, c.value)
		}
	}
}

func TestDoubleDash(t *testing.T) {
	for in, want := range map[string]string{
		"flag needs an argument: -key":             "flag needs an argument: --key",
		"flag provided but not defined: -bogus":    "flag provided but not defined: --bogus",
		`invalid boolean value "yes" for -json: x`: `invalid boolean value "yes" for --json: x`,
		"flag needs an argument: -o":               "flag needs an argument: -o",
	} {
		if got := DoubleDash(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
}

// Empty finds a flag given only white space, a repeated flag's empty
// value among others included, and never a flag left out or a bool.
func TestEmpty(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", ""}, "key"},
		{[]string{"--key", "k", "--name", " \t"}, "name"},
		{[]string{"--url", "https://a.example", "--url", ""}, "url"},
		{[]string{"--json"}, ""},
		{[]string{"--key", "k", "--url", "u"}, ""},
		{nil, ""},
	} {
		fs := parsed(t, c.args...)
		if got := Empty(fs); got != c.want {
			t.Errorf("%q: Empty says %q, want %q", c.args, got, c.want)
		}
		if p := Problem(fs, c.args); (p == "") != (c.want == "") || (c.want != "" && !strings.Contains(p, "--"+c.want+" is empty")) {
			t.Errorf("%q: Problem says %q", c.args, p)
		}
	}
}

// A flag of one value given twice is found, however it is written; a
// repeatable flag, a value that looks like a flag, and what follows "--"
// are not.
func TestRepeated(t *testing.T) {
	for _, c := range []struct {
		args []string
		name string
	}{
		{[]string{"--key", "a", "--key", "b"}, "key"},
		{[]string{"--key=a", "-key", "b"}, "key"},
		{[]string{"--json", "--name", "n", "--json"}, "json"},
		{[]string{"--name", "n", "--key", "k", "--name=m"}, "name"},
		{[]string{"--url", "a", "--url", "b", "--key", "k"}, ""},
		{[]string{"--name", "--key", "--key", "k"}, ""}, // the first --key is --name's value
		{[]string{"--key", "k", "--", "--key", "x"}, ""},
		{[]string{"--key", "k"}, ""},
	} {
		if got := Repeated(parsed(t, c.args...), c.args); got != c.name {
			t.Errorf("%q: %q, want %q", c.args, got, c.name)
		}
	}
}

// TestClosest: a word mistyped by a letter (left out, added, changed,
// two swapped) or cut short is matched to what it was meant to be; a
// word near none, or as near two, is matched to nothing.
func TestClosest(t *testing.T) {
	cmds := []string{"case", "deposit", "get", "package", "audit", "items", "item"}
	for _, c := range []struct{ word, want string }{
		{"depost", "deposit"}, {"deposti", "deposit"}, {"depositt", "deposit"}, {"caes", "case"}, {"cas", "case"},
		{"pakcage", "package"}, {"audti", "audit"}, {"git", "get"},
		{"xyz", ""}, {"itemz", ""}, // as near "item" as "items"
		{"deploy", ""}, {"", ""},
	} {
		if got := Closest(c.word, cmds); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

// TestExplain: an unknown flag's error names the flag with two dashes
// and the defined one it was most likely meant to be; other errors are
// only written with two dashes.
func TestExplain(t *testing.T) {
	fs := flag.NewFlagSet("deposit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("case", "", "")
	fs.String("expect-sha256", "", "")
	fs.String("expect-sha1", "", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cas", "X"}, "unknown option --cas (did you mean --case?)"},
		{[]string{"--expect-sha265", "X"}, "unknown option --expect-sha265 (did you mean --expect-sha256?)"},
		{[]string{"--bogus"}, "unknown option --bogus"},
		{[]string{"--case"}, "flag needs an argument: --case"},
	} {
		err := fs.Parse(c.args)
		if err == nil {
			t.Fatalf("%q parsed", c.args)
		}
		if got := Explain(fs, err); got != c.want {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
}
