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

func parse(t *testing.T, args ...string) (string, string) {
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
	return Swallowed(fs, Explicit(args))
}

func TestSwallowed(t *testing.T) {
	for _, c := range []struct {
		args        []string
		name, value string
	}{
		{[]string{"--key", "--json"}, "key", "--json"},
		{[]string{"--key", "-name=x"}, "key", "-name=x"},
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
