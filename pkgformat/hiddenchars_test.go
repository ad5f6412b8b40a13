package pkgformat_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos-vault/custos/internal/printable"
)

// hiddenCharactersFile lists the code points rule report.text refuses
// (docs/package-format.md section 8), as ranges, so that a verifier
// built on other Unicode tables than 15.0.0 can use this one instead.
const hiddenCharactersFile = "../testdata/package/hidden-characters.txt"

// hiddenRanges are the ranges of code points (first and last, both
// included) that printable.Hidden refuses, the line feed aside (the one
// such character a report holds); surrogates are left out, as no UTF-8
// text holds them.
func hiddenRanges() [][2]rune {
	var out [][2]rune
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r == '\n' || !printable.Hidden(r) {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == r-1 {
			out[n-1][1] = r
			continue
		}
		out = append(out, [2]rune{r, r})
	}
	return out
}

func hiddenCharactersText() string {
	var b strings.Builder
	b.WriteString("# The code points a package's report.txt may not hold (rule report.text,\n")
	b.WriteString("# docs/package-format.md section 8): Unicode 15.0.0's categories Cc, Cf,\n")
	b.WriteString("# Zl, Zp, Co and Cn (unassigned and noncharacters), the line feed aside.\n")
	b.WriteString("# One range a line, FIRST..LAST in hexadecimal, both included; surrogates\n")
	b.WriteString("# (D800..DFFF) are not listed: UTF-8 holds none. Written by\n")
	b.WriteString("# go test ./pkgformat -run TestHiddenCharactersFile -update\n")
	for _, r := range hiddenRanges() {
		fmt.Fprintf(&b, "%04X..%04X\n", r[0], r[1])
	}
	return b.String()
}

// TestHiddenCharactersFile: the committed table is the one the reader
// applies.
func TestHiddenCharactersFile(t *testing.T) {
	want := hiddenCharactersText()
	if *update {
		if err := os.WriteFile(hiddenCharactersFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(hiddenCharactersFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is not the table rule report.text applies: regenerate it with -update", hiddenCharactersFile)
	}
	// A few members, named: a control, a bidirectional override, an
	// unassigned code point, U+1FA77 (assigned in 15.0.0: not listed).
	in := func(c rune) bool {
		for _, r := range hiddenRanges() {
			if c >= r[0] && c <= r[1] {
				return true
			}
		}
		return false
	}
	for c, hidden := range map[rune]bool{0x1B: true, 0x202E: true, 0x0378: true, 0x1FA77: false, 'a': false, ' ': false, '\n': false} {
		if in(c) != hidden {
			t.Errorf("%U: listed %v, want %v", c, in(c), hidden)
		}
	}
}
