package pkgformat

import (
	"strings"
	"testing"
	"unicode"
)

var testKeyManifest = &Manifest{Format: Format, LogKey: "custos-x+01234567+AAAA", LogKeyFingerprint: strings.Repeat("ab", 32)}

// keyVerdict runs text through rule report.key in writes of chunk bytes,
// as Verify does.
func keyVerdict(m *Manifest, text string, chunk int) error {
	k := keyLines{m: m}
	for b := []byte(text); len(b) > 0; {
		n := min(chunk, len(b))
		k.Write(b[:n])
		b = b[n:]
	}
	return k.finish()
}

// The vault's Log key lines, and the same lines as a person reads them
// (other white space, other case, a space before the colon), anywhere in
// the report, must name the key that signed; so must every such line,
// an empty value included.
func TestReportKeyLines(t *testing.T) {
	m := testKeyManifest
	fp, key := m.LogKeyFingerprint, m.LogKey
	other := strings.Repeat("cd", 32)
	good := "  Log key fingerprint:   " + fp + "\n  Log key:               " + key + "\n"
	filler := strings.Repeat("  Note:                  a line of a long report\n", 4000) // 200 KB
	for _, c := range []struct {
		name, text, want string
	}{
		{"the vault's lines", good, ""},
		{"another fingerprint", "  Log key fingerprint:   " + other + "\n  Log key:               " + key + "\n", "states the log key fingerprint cdcd"},
		{"another key", "  Log key fingerprint:   " + fp + "\n  Log key:               custos-y+89abcdef+BBBB\n", "states the log key custos-y"},
		{"a no-break space before the label", "\u00a0 Log key fingerprint:   " + other + "\n" + good, "states the log key fingerprint cdcd"},
		{"white space of other kinds in it", "  Log\u2002key\u00a0 fingerprint\u3000:\u00a0" + other + "\u2003\n" + good, "states the log key fingerprint cdcd"},
		{"upper case", "  LOG KEY FINGERPRINT: " + other + "\n" + good, "states the log key fingerprint cdcd"},
		{"a tab", "\tLog key: custos-y+89abcdef+BBBB\n" + good, "states the log key custos-y"},
		{"an empty value, then the genuine one", good + "  Log key fingerprint:\n  Log key fingerprint: " + other + "\n", "states the log key fingerprint  (line 3)"},
		{"far past the start", good + filler + "  Log key fingerprint:   " + other + "\n", "states the log key fingerprint cdcd"},
		{"the last line, without a line feed", good + "  Log key: custos-y+89abcdef+BBBB", "states the log key custos-y"},
		{"no Log key line", "  Note: nothing\n", "does not state the log key"},
		{"the fingerprint's line alone", "  Log key fingerprint:   " + fp + "\n", "does not state the log key"},
		{"a line too long to read", good + "  Log key:" + strings.Repeat(" ", keyLineMax) + key + "\n", "goes on past 4096 bytes"},
		{"a long line that states no key", good + "  Note: " + strings.Repeat("x", 3*keyLineMax) + "\n", ""},
		{"labels that are not the key's", good + "  Log keys: " + other + "\n  Logged key: " + other + "\n  Root hash: " + other + "\n", ""},
		{"a label padded with spaces", good + "Log key fingerprint" + strings.Repeat(" ", 46) + ": " + other + "\n", "states the log key fingerprint cdcd"},
		{"a label padded past the line's bound", good + "Log key" + strings.Repeat("\u00a0", keyLineMax) + ": " + other + "\n", "goes on past 4096 bytes"},
		{"an empty value after a padded label", good + "Log key" + strings.Repeat(" ", 58) + ":\n", "states the log key  (line 3)"},
		{"a step in a Log key line's place", good + "1. Log key: custos-y+89abcdef+BBBB\n", "gives the log key custos-y"},
	} {
		for _, chunk := range []int{1, 3, 4096, 1 << 20} {
			err := keyVerdict(m, c.text, chunk)
			if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, in writes of %d bytes: %v, want %q", c.name, chunk, err, c.want)
			}
		}
	}
	// A version 2 report needs no Log key line, but one it has is read.
	v2 := &Manifest{Format: FormatV2, LogKey: key, LogKeyFingerprint: fp}
	if err := keyVerdict(v2, "  Note: nothing\n", 7); err != nil {
		t.Errorf("a version 2 report without Log key lines: %v", err)
	}
	if err := keyVerdict(v2, "  Log key fingerprint: "+other+"\n", 7); err == nil {
		t.Error("a version 2 report naming another fingerprint verified")
	}
	if err := keyVerdict(v2, "  Log key fingerprint: "+fp+"\n", 7); err != nil {
		t.Errorf("a version 2 report with its right fingerprint's line alone: %v", err)
	}
}

// The numbered steps of the report's how-to-verify and certificate give
// the signer's fingerprint and key, and nothing else of their shape.
func TestReportKeySteps(t *testing.T) {
	m := testKeyManifest
	fp := m.LogKeyFingerprint
	other := strings.Repeat("cd", 32)
	lines := "  Log key fingerprint:   " + fp + "\n  Log key:               " + m.LogKey + "\n"
	for _, c := range []struct {
		name, step, want string
	}{
		{"the vault's", "1. Obtain the custody log's key fingerprint from a source other than this report. It must equal " + fp + ".", ""},
		{"must equal another", "1. Obtain the custody log's key fingerprint from a source other than this report. It must equal " + other + ".", "gives the fingerprint cdcd"},
		{"--key another", "2. Run: custos-verify PACKAGE.tar --key " + other + " --identity K", "gives the fingerprint cdcd"},
		{"in upper case", "2. Run: custos-verify PACKAGE.tar --key " + strings.ToUpper(fp), "gives the fingerprint ABAB"},
		{"longer", "2. Run: custos-verify PACKAGE.tar --key " + fp + "0", "gives the fingerprint abab"},
		{"in a sentence", "2. The vault stores each item ... whose log key fingerprint is " + other + ".", "gives the fingerprint cdcd"},
		{"another key", "4. Whoever holds two packages: custos-verify --same-items A.tar B.tar --key custos-y+89abcdef+BBBB.", "gives the log key custos-y"},
		{"indented with no-break spaces", "\u00a0\u00a03.\u00a0It must equal " + other, "gives the fingerprint cdcd"},
		{"a 40-digit hash", "3. compute sha1sum ITEM: f4611a4aadc4499ee8d80f44c5eec54e1e7cd16e", ""},
		{"not a step", "  Note: It must equal " + other + " per the seizure form.", ""},
		{"a number without its point", "2 Run: --key " + other, ""},
		{"a plus in a name", "1. It must equal " + fp + ", not a+b+12345678+c.", ""}, // split at the first two: HASH is b
		{"a key between brackets", "4. Run: custos-verify --key (custos-y+89abcdef+BBBB).", "gives the log key"},
	} {
		for _, chunk := range []int{1, 5, 1 << 20} {
			err := keyVerdict(m, lines+c.step+"\n", chunk)
			if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, in writes of %d bytes: %v, want %q", c.name, chunk, err, c.want)
			}
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

// FuzzReportKey: the verdict of rule report.key on a report does not
// depend on how its bytes are cut into writes.
func FuzzReportKey(f *testing.F) {
	fp := testKeyManifest.LogKeyFingerprint
	f.Add("  Log key fingerprint:   "+fp+"\n  Log key:               custos-x+01234567+AAAA\n", uint16(7))
	f.Add("1. It must equal "+strings.Repeat("cd", 32)+".\n", uint16(1))
	f.Add("\u00a0 LOG\u3000KEY : custos-y+89abcdef+BBBB", uint16(3))
	f.Add("  Log key:"+strings.Repeat(" ", 5000)+"x\n", uint16(511))
	f.Fuzz(func(t *testing.T, text string, chunk uint16) {
		verdict := func(n int) string {
			if err := keyVerdict(testKeyManifest, text, n); err != nil {
				return err.Error()
			}
			return ""
		}
		if whole, cut := verdict(len(text)+1), verdict(int(chunk%512)+1); whole != cut {
			t.Fatalf("whole: %q; in writes of %d bytes: %q", whole, chunk%512+1, cut)
		}
	})
}
