package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// Every example a client verb's --help gives parses: its flags and
// arguments are the verb's own, so that a person who pastes one (with
// their own ids) gets to the vault, not a usage error. (Without
// CUSTOS_SERVER the command stops where it would call the vault.)
func TestClientExamplesParse(t *testing.T) {
	t.Setenv("CUSTOS_SERVER", "")
	t.Setenv("CUSTOS_TOKEN", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	n := 0
	for _, c := range commands {
		if c.group != "Hotline work" && c.group != "Cases and evidence" {
			continue
		}
		for _, ex := range c.examples {
			words := exampleWords(ex)
			if len(words) < 2 || words[0] != "custos" {
				continue // a line of the shell's (export ...)
			}
			n++
			err := run(words[1:], io.Discard, io.Discard)
			if errors.Is(err, errUsage) {
				t.Errorf("the example %q of %s: %v", ex, c.name, err)
			}
		}
	}
	if n < 20 {
		t.Fatalf("%d examples tried; the client verbs give more", n)
	}
}

// exampleWords splits an example as a POSIX shell would, for the forms
// the examples use: words apart by spaces, '...' and "..." quoted.
func exampleWords(s string) []string {
	var words []string
	var b strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			b.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ':
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words
}
