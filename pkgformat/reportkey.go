package pkgformat

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is rule report.key (docs/package-format.md section 8): where
// report.txt states the key that signed the package, in its Log key lines
// and in the numbered steps of its how-to-verify and certificate, it must
// state the signer's, so that a genuine report copied into a package
// re-signed by another key cannot show a person the genuine vault's
// fingerprint. A report is the signer's own text: the rule reads the
// lines the vault writes, not every sentence a forger could write; what a
// person compares is the fingerprint custos-verify prints, or the key
// given with --key.

// keyLineMax bounds a line that states the key, after its leading white
// space: a longer one fails, its value unreadable. The vault's longest
// (a numbered step) is under 1,000 bytes.
const keyLineMax = 4 << 10

// keyLines checks, as report.txt streams by, every line that states the
// key. A line is read after its leading white space (Unicode's
// White_Space: the no-break space as much as the space); what follows
// decides what it is (check):
//
//   - a Log key line: the text before its first colon (':') reads, with
//     every run of white space as one space, with or without one before
//     the colon, and ASCII letters in either case, "log key fingerprint"
//     or "log key", however long its white space. Its value, the rest after the colon without the white
//     space around it, must be the manifest's log_key_fingerprint, or
//     log_key, exactly;
//   - a numbered step: it begins with ASCII digits, a '.' and white
//     space. Every run of 64 or more ASCII hexadecimal digits in it must
//     be log_key_fingerprint exactly, and every word (between white
//     space, without the characters .,;:)]}"' at its end) of the form
//     NAME+HASH+KEY (split at its first two '+', NAME and KEY not empty,
//     HASH 8 hexadecimal digits), log_key exactly.
//
// A line of either kind longer than keyLineMax bytes fails. A version 3
// report must have at least one Log key fingerprint line and one Log key
// line; a version 2 report needs neither.
type keyLines struct {
	m    *Manifest
	line []byte // the current line after its leading white space, its first keyLineMax bytes
	long bool   // the current line went on past keyLineMax bytes
	// label is the current line's text before its first colon, folded
	// (fold), up to one byte past labelMax (no label then); colon is the
	// offset in line just after that colon, 0 before it.
	label   []byte
	space   bool // white space after the label's last character
	colon   int
	carry   []byte // the start of a rune cut by the end of a write
	n       int    // the current line's number, from 0
	haveFP  bool
	haveKey bool
	err     error
}

// labelMax bounds a folded label: longer than "log key fingerprint" is
// not one, however much white space it holds.
const labelMax = 32

func (k *keyLines) Write(b []byte) (int, error) {
	if k.err == nil {
		eachRune(&k.carry, b, func(r rune, c []byte) bool {
			switch {
			case r == '\n':
				k.endLine()
			case len(k.line) == 0 && unicode.IsSpace(r): // leading white space
			default:
				if len(k.line)+len(c) <= keyLineMax {
					k.line = append(k.line, c...)
				} else {
					k.long = true
				}
				k.fold(r)
			}
			return k.err == nil
		})
	}
	return len(b), nil
}

// finish reads the last line (one without a line feed) and returns the
// first fault found.
func (k *keyLines) finish() error {
	if k.err == nil && (len(k.line) > 0 || len(k.carry) > 0) {
		k.line = append(k.line, k.carry...) // not UTF-8: report.text fails it first
		k.endLine()
	}
	switch {
	case k.err != nil:
		return k.err
	case k.m.Format == FormatV2:
		return nil // a version 2 report states no key; the lines it has were read
	case !k.haveFP || !k.haveKey:
		return errors.New("report.txt does not state the log key that signed the package (its Log key and Log key fingerprint lines)")
	}
	return nil
}

// fold reads r, a character of the current line after its leading
// white space, into its label, up to the line's first colon.
func (k *keyLines) fold(r rune) {
	switch {
	case k.colon > 0:
	case r == ':':
		k.colon = len(k.line) // (past the line's first keyLineMax bytes: long, and failed)
	case len(k.label) > labelMax:
	case unicode.IsSpace(r):
		k.space = true
	default:
		if k.space {
			k.label = append(k.label, ' ')
			k.space = false
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		k.label = utf8.AppendRune(k.label, r)
	}
}

func (k *keyLines) endLine() {
	k.err = k.check(string(k.line))
	k.line, k.long = k.line[:0], false
	k.label, k.space, k.colon = k.label[:0], false, 0
	k.n++
}

// check checks one line, its leading white space removed (its first
// keyLineMax bytes).
func (k *keyLines) check(line string) error {
	kind := ""
	switch {
	case k.colon > 0 && string(k.label) == "log key fingerprint":
		kind = "fingerprint"
	case k.colon > 0 && string(k.label) == "log key":
		kind = "key"
	case isStep(line):
		kind = "step"
	default:
		return nil
	}
	if k.long {
		return fmt.Errorf("report.txt's line %d states the log key but goes on past %d bytes: its value cannot be read", k.n+1, keyLineMax)
	}
	value := strings.TrimFunc(line[k.colon:], unicode.IsSpace) // of a Log key line
	switch kind {
	case "fingerprint":
		if value != k.m.LogKeyFingerprint {
			return fmt.Errorf("report.txt states the log key fingerprint %s (line %d), but the package is signed by the key whose fingerprint is %s: the report is not this key's", truncate(value), k.n+1, k.m.LogKeyFingerprint)
		}
		k.haveFP = true
	case "key":
		if value != k.m.LogKey {
			return fmt.Errorf("report.txt states the log key %s (line %d), but the package is signed by %s: the report is not this key's", truncate(value), k.n+1, k.m.LogKey)
		}
		k.haveKey = true
	case "step":
		for _, run := range hexRuns(line) {
			if run != k.m.LogKeyFingerprint {
				return fmt.Errorf("report.txt's line %d (a numbered step) gives the fingerprint %s, but the package is signed by the key whose fingerprint is %s: the report is not this key's", k.n+1, truncate(run), k.m.LogKeyFingerprint)
			}
		}
		for _, word := range strings.FieldsFunc(line, unicode.IsSpace) {
			if word = strings.TrimRight(word, ".,;:)]}\"'"); isLogKey(word) && word != k.m.LogKey {
				return fmt.Errorf("report.txt's line %d (a numbered step) gives the log key %s, but the package is signed by %s: the report is not this key's", k.n+1, truncate(word), k.m.LogKey)
			}
		}
	}
	return nil
}

// isStep reports whether a line, its leading white space removed, is a
// numbered step: ASCII digits, a '.', then white space.
func isStep(line string) bool {
	digits := len(line) - len(strings.TrimLeft(line, "0123456789"))
	if digits == 0 || digits+1 >= len(line) || line[digits] != '.' {
		return false
	}
	r, _ := utf8.DecodeRuneInString(line[digits+1:])
	return unicode.IsSpace(r)
}

// hexRuns returns the runs of 64 or more ASCII hexadecimal digits in s.
func hexRuns(s string) []string {
	var runs []string
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isHexDigit(s[j]) {
			j++
		}
		if j-i >= 64 {
			runs = append(runs, s[i:j])
		}
		i = j + 1
	}
	return runs
}

func isHexDigit(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

// isLogKey reports whether s has the shape of a note verifier key:
// NAME+HASH+KEY, NAME and KEY not empty, HASH 8 hexadecimal digits.
func isLogKey(s string) bool {
	name, rest, ok := strings.Cut(s, "+")
	if !ok || name == "" {
		return false
	}
	hash, key, ok := strings.Cut(rest, "+")
	if !ok || len(hash) != 8 || key == "" {
		return false
	}
	for i := 0; i < len(hash); i++ {
		if !isHexDigit(hash[i]) {
			return false
		}
	}
	return true
}
