package pkgformat

import (
	"strings"
	"testing"
	"unicode"
)

// A Log key line counts when its first byte is among the first 16,384
// bytes of report.txt, and is read whole, to its line feed: a line
// starting before the boundary and ending after it is read whole (right
// or wrong), one starting after it is not read.
func TestReportKeyLineAcrossBoundary(t *testing.T) {
	m := &Manifest{Format: Format, LogKey: "custos-x+01234567+AAAA", LogKeyFingerprint: strings.Repeat("ab", 32)}
	good := "  Log key fingerprint:   " + m.LogKeyFingerprint + "\n  Log key:               " + m.LogKey + "\n"
	// text puts line at byte at, after filler lines, and runs it
	// through what Verify does.
	text := func(at int, line string) error {
		fill := strings.Repeat(strings.Repeat("x", 99)+"\n", at/100) + strings.Repeat("y", at%100)
		if at%100 != 0 {
			fill = fill[:len(fill)-1] + "\n" // the line starts at a line's start
		}
		r := good + fill[len(good):] + line + strings.Repeat("z\n", 10000)
		w := prefixWriter{max: reportHead + reportLineMax}
		w.Write([]byte(r))
		return reportNamesKey(w.b, w.cut, m)
	}
	wrong := "  Log key:               custos-other+89abcdef+BBBB\n"
	right := "  Log key:               " + m.LogKey + "\n"
	for _, c := range []struct {
		at   int
		line string
		want string
	}{
		{reportHead - 10, wrong, "states the log key custos-other"}, // straddles: read whole, and wrong
		{reportHead - 10, right, ""},                                // straddles: read whole, and right
		{reportHead - 30, right, ""},                                // the boundary within its value
		{reportHead - 1, wrong, "states the log key custos-other"},
		{reportHead, wrong, ""}, // starts past the boundary: not read
		{reportHead + 100, wrong, ""},
		{reportHead - 10, "  Log key fingerprint:   " + strings.Repeat("cd", 32) + "\n", "fingerprint cdcd"},
		{reportHead - 10, "  Log key:" + strings.Repeat(" ", reportLineMax) + "\n", "does not end within"},
	} {
		err := text(c.at, c.line)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q at byte %d: %v, want %q", c.line[:20], c.at, err, c.want)
		}
	}
}

// TestUnicodeVersion: rule report.text (docs/package-format.md section 8)
// is Unicode 15.0.0 exactly, the tables of Go's unicode package that
// printable.Hidden reads: a code point assigned later is unassigned (Cn)
// and refused. A Go release with other tables changes which reports
// verify. If this fails after a Go upgrade, do not just change the
// version here: either keep the verifier's tables at 15.0.0 (build with
// the older Go, or vendor the tables), or decide to move the rule to the
// new version, update section 8 and the cases, and say so in the
// changelog, since reports that were refused may now verify.
func TestUnicodeVersion(t *testing.T) {
	if unicode.Version != "15.0.0" {
		t.Fatalf("Go's unicode package carries Unicode %s; rule report.text (docs/package-format.md section 8) is Unicode 15.0.0: see this test's comment", unicode.Version)
	}
}
