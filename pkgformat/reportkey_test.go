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
		{reportHead - 10, "  Log key:" + strings.Repeat(" ", reportLineMax) + "\n", "does not end by byte 20480"},
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

// A Log key line is read as a person reads it: white space of any kind,
// either case, and letters drawn like the label's (another script's, a
// full-width or mathematical form, 0 for o, 1 or I for l) make the same
// label, and the colon may be one drawn like it. Lines the vault writes
// under other labels are not key lines.
func TestKeyLineLookAlikes(t *testing.T) {
	for _, c := range []struct {
		line, kind, value string
	}{
		{"  Log key fingerprint:   abcd", "fingerprint", "abcd"},
		{"  Log key:               custos-x+01234567+AAAA", "key", "custos-x+01234567+AAAA"},
		{"\u00a0 Log key fingerprint:   abcd", "fingerprint", "abcd"},
		{"  Log\u00a0key fingerprint:\u3000abcd\u2003", "fingerprint", "abcd"},
		{"  LOG KEY FINGERPRINT: abcd", "fingerprint", "abcd"},
		{"  L\u043eg key: k", "key", "k"},                               // Cyrillic o
		{"  \uff2c\uff4f\uff47 \uff4b\uff45\uff59\uff1a k", "key", "k"}, // all full-width
		{"  \uff2cog key\uff1a k", "key", "k"},                          // full-width L and colon
		{"  L0g key: k", "key", "k"},
		{"  Iog key: k", "key", "k"},
		{"  Log key fingerprint : abcd", "fingerprint", "abcd"},
		{"  Log key\u2236 k", "key", "k"},
		{"  Log keys: k", "", ""},
		{"  Logged key: k", "", ""},
		{"  Root hash:             abcd", "", ""},
		{"  \u0430\u0431\u0432\u0433\u0434\u0435: k", "", ""}, // six Cyrillic letters: nothing reads as the label
		{"  Log key", "", ""},
	} {
		kind, value, ok := keyLine(c.line)
		if ok != (c.kind != "") || kind != c.kind || value != c.value {
			t.Errorf("keyLine(%q) = %q, %q, %v; want %q, %q", c.line, kind, value, ok, c.kind, c.value)
		}
	}
}

// Statements of the key in the report's text name the signer's key,
// wherever they are and however the text is cut into writes.
func TestKeyStatements(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	m := &Manifest{Format: Format, LogKey: "custos-x+01234567+AAAA", LogKeyFingerprint: fp}
	other := strings.Repeat("cd", 32)
	check := func(text string, chunk int) error {
		k := keyStatements{m: m}
		for b := []byte(text); len(b) > 0; {
			n := min(chunk, len(b))
			k.Write(b[:n])
			b = b[n:]
		}
		return k.finish()
	}
	filler := strings.Repeat("Item 3, SHA-256: "+other+". \n", 3000) // hashes that are not statements of the key
	for _, c := range []struct {
		name, text string
		bad        bool
	}{
		{"the vault's own sentences", "1. ... It must equal " + fp + ".\n2. Run: custos-verify PACKAGE.tar --key " + fp + " --identity K\nwhose log key fingerprint is " + fp + ".\n  Log key:               custos-x+01234567+AAAA\n", false},
		{"must equal another", "It must equal " + other + ".", true},
		{"in upper case, another", "It must equal " + strings.ToUpper(other) + ".", true},
		{"in upper case, the signer's", "It must equal " + strings.ToUpper(fp) + ".", false},
		{"--key another", "custos-verify P.tar --key " + other + " --identity K", true},
		{"--key= another", "custos-verify P.tar --key=" + other, true},
		{"-key another key", "custos-verify P.tar -key custos-y+89abcdef+BBBB", true},
		{"a word with -key in it", "the case-key " + other, false},
		{"across lines", "whose log key fingerprint is\n    " + other + ".", true},
		{"after no-break spaces", "whose log key fingerprint is\u00a0\u00a0" + other, true},
		{"Log key line another", "  Log key:  custos-y+89abcdef+BBBB", true},
		{"a look-alike fingerprint", "It must equal " + fp[:10] + "\u0435" + fp[11:] + ".", true}, // Cyrillic e
		{"other words", "It must equal the one the operators publish.", false},
		{"past the first window", filler + "It must equal " + other + ".", true},
		{"item hashes alone", filler, false},
	} {
		for _, chunk := range []int{1, 7, 4096, 1 << 20} {
			if c.name == "past the first window" && chunk == 1 {
				chunk = 3 // a byte at a time over 250 KB is slow, not more telling
			}
			err := check(c.text, chunk)
			if (err != nil) != c.bad {
				t.Errorf("%s, in writes of %d bytes: %v, want a failure: %v", c.name, chunk, err, c.bad)
			}
		}
	}
	// A statement at each offset around the end of the first window.
	for pad := statementWindow - statementCarry - 40; pad < statementWindow+40; pad++ {
		text := strings.Repeat("x", pad) + " It must equal " + other + ". " + strings.Repeat("y", 100)
		if check(text, 1<<20) == nil || check(text, 4093) == nil {
			t.Fatalf("a statement at byte %d was not read", pad)
		}
	}
}

// FuzzKeyStatements: the verdict on a report's statements of the key
// does not depend on how its bytes are cut into writes, and reading a
// line as a Log key line never fails on any text.
func FuzzKeyStatements(f *testing.F) {
	fp := strings.Repeat("ab", 32)
	f.Add("It must equal "+fp+".", uint16(7))
	f.Add("--key "+strings.Repeat("cd", 32), uint16(1))
	f.Add("  L\u043eg key: custos-y+89abcdef+BBBB\n", uint16(3))
	f.Add("fingerprint is\n\u00a0"+fp[:63]+"\u0435", uint16(64))
	f.Fuzz(func(t *testing.T, text string, chunk uint16) {
		m := &Manifest{Format: Format, LogKey: "custos-x+01234567+AAAA", LogKeyFingerprint: fp}
		verdict := func(n int) string {
			k := keyStatements{m: m}
			for b := []byte(text); len(b) > 0; {
				c := min(n, len(b))
				k.Write(b[:c])
				b = b[c:]
			}
			if err := k.finish(); err != nil {
				return err.Error()
			}
			return ""
		}
		if whole, cut := verdict(len(text)+1), verdict(int(chunk%512)+1); whole != cut {
			t.Fatalf("whole: %q; in writes of %d bytes: %q", whole, chunk%512+1, cut)
		}
		for line := range strings.SplitSeq(text, "\n") {
			keyLine(line)
		}
	})
}
