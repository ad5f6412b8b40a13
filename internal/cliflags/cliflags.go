// Package cliflags holds what the custos and custos-verify commands
// check of their flags beyond what the standard flag package does: a flag
// that took the next flag as its value, a flag given an empty value, and
// the flag package's errors written with two dashes, as the help writes
// flags.
package cliflags

import (
	"flag"
	"fmt"
	"regexp"
	"strings"
)

// Problem returns what is wrong with the flags args set on fs, once fs
// has parsed them, beyond what the flag package checks: a flag of one
// value given twice (Repeated), a flag that took another of fs's flags as
// its value (Swallowed), or a flag given an empty value (Empty); "" if
// nothing. The text names the flag as the help does and says what to
// write instead.
func Problem(fs *flag.FlagSet, args []string) string {
	if name := Repeated(fs, args); name != "" {
		return fmt.Sprintf("--%s was given more than once: it takes one value, and a second would silently replace the first; give it once", name)
	}
	return ProblemAllowingRepeats(fs, args)
}

// ProblemAllowingRepeats is Problem for a command whose flags are
// settings that a later one overrides (a server started with a unit's
// flags and then an operator's, where the last is meant): a flag given
// twice is not a problem there.
func ProblemAllowingRepeats(fs *flag.FlagSet, args []string) string {
	if name, v := Swallowed(fs, Explicit(fs, args)); name != "" {
		return fmt.Sprintf("--%s needs a value: it was followed by %s, another flag (to give that text as the value, write --%s=%s)", name, v, name, v)
	}
	if name := Empty(fs); name != "" {
		return fmt.Sprintf("--%s is empty: give it a value (in a script, is the variable after it set?)", name)
	}
	return ""
}

// Empty returns the first flag set on fs (in name order) that takes a
// value and was given only white space, or "": an unset variable in a
// script ("--checkpoint $SAVED") would otherwise be taken as the flag
// left out, and a check meant to run would silently not. Each value of a
// Lister counts.
func Empty(fs *flag.FlagSet) string {
	name := ""
	fs.Visit(func(f *flag.Flag) {
		if name != "" || isBool(f) {
			return
		}
		for _, v := range values(f) {
			if strings.TrimSpace(v) == "" {
				name = f.Name
				return
			}
		}
	})
	return name
}

// values is what a flag was given: each value of a Lister, or its one
// value.
func values(f *flag.Flag) []string {
	if l, ok := f.Value.(Lister); ok {
		return l.Values()
	}
	return []string{f.Value.String()}
}

// Explicit returns the names of the flags args gives as --name=VALUE (or
// -name=VALUE), up to a "--": their value is meant, whatever it is. args
// are read as the flag package reads them against fs: an argument that is
// a flag's value ("--checkpoint --checkpoint=a" gives --checkpoint the
// value "--checkpoint=a") is a value, not a flag given with "=".
func Explicit(fs *flag.FlagSet, args []string) map[string]bool {
	out := map[string]bool{}
	eachFlag(fs, args, func(name string, _ *flag.Flag, explicit bool) bool {
		if explicit {
			out[name] = true
		}
		return true
	})
	return out
}

// eachFlag calls fn for each flag args give, up to a "--", read as the
// flag package reads them against fs: f is nil for a name fs does not
// know, and an argument that is a flag's value is skipped, whatever it
// is. It stops when fn returns false.
func eachFlag(fs *flag.FlagSet, args []string, fn func(name string, f *flag.Flag, explicit bool) bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return
		}
		if len(a) < 2 || a[0] != '-' {
			continue // an operand (commands that read flags among them)
		}
		name, _, explicit := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		f := fs.Lookup(name)
		if !fn(name, f, explicit) {
			return
		}
		if !explicit && f != nil && !isBool(f) {
			i++ // the next argument is its value, whatever it is
		}
	}
}

// Repeated returns the first flag of fs that args give more than once
// and that is not repeatable (its value a Lister), or "": the flag
// package keeps the last value, so "--checkpoint A --checkpoint B" would
// check B alone, and "--key X --key Y" trust Y alone, without a word.
// args are read as Explicit reads them, up to a "--".
func Repeated(fs *flag.FlagSet, args []string) string {
	seen, repeated := map[string]bool{}, ""
	eachFlag(fs, args, func(name string, f *flag.Flag, _ bool) bool {
		if f == nil {
			return true
		}
		if _, ok := f.Value.(Lister); !ok {
			if seen[name] {
				repeated = name
				return false
			}
			seen[name] = true
		}
		return true
	})
	return repeated
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Lister is a repeatable flag's value: each value given, in order.
type Lister interface{ Values() []string }

// Swallowed finds a flag set on fs that takes a value and was given
// another of fs's flags as its value ("--save-checkpoint --key FILE": its
// value was left out, and the flag package took "--key"), unless it was
// given as --name=VALUE (explicit). It returns the flag's name and that
// value, or "" if there is none. Each value of a Lister counts.
func Swallowed(fs *flag.FlagSet, explicit map[string]bool) (name, value string) {
	fs.Visit(func(f *flag.Flag) {
		if name != "" || isBool(f) || explicit[f.Name] {
			return
		}
		for _, v := range values(f) {
			other, _, _ := strings.Cut(strings.TrimLeft(v, "-"), "=")
			if strings.HasPrefix(v, "-") && other != "" && fs.Lookup(other) != nil {
				name, value = f.Name, v
				return
			}
		}
	})
	return name, value
}

// flagInMessage finds the flags the flag package names with one dash in
// its errors ("flag needs an argument: -key").
var flagInMessage = regexp.MustCompile(`(: |flag |for )-([a-z0-9][a-z0-9-]+)\b`)

// DoubleDash writes the flags a flag package error names as the help
// writes them: --key, not -key (one-letter flags keep one dash).
func DoubleDash(msg string) string {
	return flagInMessage.ReplaceAllString(msg, "$1--$2")
}

// undefinedFlag finds the flag the flag package's error for an unknown
// one names ("flag provided but not defined: -cas").
var undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)

// Explain is a flag package error as people read it: flags written as
// the help writes them (DoubleDash) and, for a flag fs does not define,
// "unknown option --NAME" and the defined one it was most likely meant to be ("did you mean
// --case?", Closest), if there is one.
func Explain(fs *flag.FlagSet, err error) string {
	msg := DoubleDash(err.Error())
	m := undefinedFlag.FindStringSubmatch(err.Error())
	if m == nil {
		return msg
	}
	// The flag package's words name its own notion; a person typed an
	// option the command does not have.
	msg = "unknown option --" + m[1]
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if c := Closest(m[1], names); c != "" {
		return msg + " (did you mean --" + c + "?)"
	}
	return msg
}

// Closest returns the candidate a mistyped word was most likely meant to
// be: the one at the smallest edit distance (Levenshtein: a letter left
// out, added, changed or two swapped count one each, as Damerau's
// optimal string alignment counts them) if that is at most a third of
// the word's length (one for a word of up to five letters), or the one
// the word begins; "" when none is that near, or two are equally near.
func Closest(word string, candidates []string) string {
	limit := max(1, len(word)/3)
	best, bestD, tie := "", limit+1, false
	for _, c := range candidates {
		d := editDistance(word, c)
		if len(word) >= 2 && strings.HasPrefix(c, word) && d > limit {
			d = limit // "--cas" for "--case": a word cut short
		}
		switch {
		case d < bestD:
			best, bestD, tie = c, d, false
		case d == bestD && c != best:
			tie = true
		}
	}
	if tie || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// (bytes): insertions, deletions, substitutions and transpositions of
// neighbours, each 1.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
