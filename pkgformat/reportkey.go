package pkgformat

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file is rule report.key (docs/package-format.md section 8): the
// key report.txt states must be the key that signed the package, both in
// its Log key lines and wherever its text states a key, so that a package
// re-signed by another key cannot show a person the genuine vault's
// fingerprint. A report is the signer's own text: these checks catch a
// genuine report copied under another key and the look-alikes of the
// vault's own statements, not every sentence a forger could write; what a
// person compares is the fingerprint custos-verify prints, or the key
// given with --key.

// reportHead is the part of report.txt in which its Log key lines are
// looked for (section 8): a line counts when its first byte is among the
// first reportHead bytes. Its checkpoint section comes within the first
// few hundred.
const reportHead = 16 << 10

// reportLineMax bounds how far past reportHead a line that starts within
// it is read, to its line feed.
const reportLineMax = 4 << 10

// keyLabels are the labels of the Log key lines, as compared: letters
// only, in lower case.
var keyLabels = [...]struct{ letters, kind string }{
	{"logkeyfingerprint", "fingerprint"},
	{"logkey", "key"},
}

// isColon reports whether r is the colon or a character drawn like it.
func isColon(r rune) bool {
	switch r {
	case ':', '\u02f8', '\u0589', '\u05c3', '\u2236', '\ua789', '\ufe13', '\ufe55', '\uff1a':
		return true
	}
	return false
}

// readsAs reports whether r, in a label, reads as the lower-case ASCII
// letter want: the letter itself in either case, the ASCII characters
// drawn like it (1, I and | for l; 0 for o; 1, l, | and ! for i), or any
// letter or digit outside ASCII (a look-alike from another script, or a
// mathematical form). A full-width form (U+FF01 to U+FF5E) is read as
// its ASCII character. exact tells the first case.
func readsAs(r rune, want byte) (exact, ok bool) {
	if r >= '\uff01' && r <= '\uff5e' {
		r -= 0xfee0 // a full-width form is its ASCII character
	}
	if r >= utf8.RuneSelf {
		return false, unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	c := byte(r)
	if c|0x20 == want && want >= 'a' && want <= 'z' {
		return true, true
	}
	switch want {
	case 'l':
		return false, c == '1' || c == 'I' || c == '|'
	case 'o':
		return false, c == '0'
	case 'i':
		return false, c == '1' || c == 'l' || c == '|' || c == '!'
	}
	return false, false
}

// keyLine reads line as a Log key line: the part before its first colon
// (or a character drawn like one), without its white space (Unicode's
// White_Space, the no-break space included), reads as "Log key
// fingerprint" or "Log key" letter by letter (readsAs), at least one
// letter of it exactly. kind is "fingerprint" or "key", value the rest of
// the line without the white space around it.
func keyLine(line string) (kind, value string, ok bool) {
	i := strings.IndexFunc(line, isColon)
	if i < 0 {
		return "", "", false
	}
	var label []rune
	for _, r := range line[:i] {
		if !unicode.IsSpace(r) {
			label = append(label, r)
		}
	}
	_, colon := utf8.DecodeRuneInString(line[i:])
	for _, l := range keyLabels {
		if len(label) != len(l.letters) {
			continue
		}
		exact := 0
		for j, r := range label {
			e, ok := readsAs(r, l.letters[j])
			if !ok {
				exact = -1
				break
			}
			if e {
				exact++
			}
		}
		if exact > 0 {
			return l.kind, strings.TrimFunc(line[i+colon:], unicode.IsSpace), true
		}
	}
	return "", "", false
}

// reportNamesKey checks that report.txt states the log key that signed
// the package: the key a person reads in the report (and is told to
// compare with the one the vault's operators publish) must be the
// manifest's, or a package re-signed by another key with a genuine
// report copied in would show the genuine fingerprint. A version 2
// report states none; a version 3 report must.
//
// head is the report's first reportHead+reportLineMax bytes (all of it
// if shorter), and cut tells that the report goes on beyond them. Every
// line whose first byte is among the first reportHead bytes is read
// whole, up to its line feed (or the report's end); such a line that is
// a Log key line (keyLine) and does not end within head fails, as one
// whose value cannot be read.
func reportNamesKey(head []byte, cut bool, m *Manifest) error {
	var fp, key string
	var haveFP, haveKey bool
	// Every such line, not only the first: a report states one key.
	for start := 0; start < len(head) && start < reportHead; {
		line := string(head[start:])
		end := strings.IndexByte(line, '\n')
		if end >= 0 {
			line = line[:end]
		}
		at := start
		start += len(line) + 1
		kind, value, isKeyLine := keyLine(line)
		if !isKeyLine {
			continue
		}
		if end < 0 && cut {
			return fmt.Errorf("report.txt's Log key line starting at byte %d does not end by byte %d: its value cannot be read", at, reportHead+reportLineMax)
		}
		if kind == "fingerprint" {
			if fp = value; fp != m.LogKeyFingerprint {
				break
			}
			haveFP = true
		} else {
			if key = value; key != m.LogKey {
				break
			}
			haveKey = true
		}
	}
	switch {
	case fp != "" && fp != m.LogKeyFingerprint:
		return fmt.Errorf("report.txt states the log key fingerprint %s, but the package is signed by the key whose fingerprint is %s: the report is not this key's", truncate(fp), m.LogKeyFingerprint)
	case key != "" && key != m.LogKey:
		return fmt.Errorf("report.txt states the log key %s, but the package is signed by %s: the report is not this key's", truncate(key), m.LogKey)
	case !haveFP && !haveKey && m.Format == FormatV2:
		return nil
	case !haveFP || !haveKey:
		return errors.New("report.txt does not state the log key that signed the package (its Log key and Log key fingerprint lines)")
	}
	return nil
}

// keyPhrases are the words after which the vault's reports state the key
// or its fingerprint in their text ("It must equal FP.", "custos-verify
// PACKAGE.tar --key FP", "whose log key fingerprint is FP."), compared
// in ASCII without regard to case, with every run of white space (line
// feeds included) read as one space.
var keyPhrases = [...]string{"fingerprint is ", "fingerprint: ", "log key: ", "must equal ", "-key ", "-key="}

// statementWindow bounds the text keyStatements holds: it examines the
// report in windows of this many bytes, carrying statementCarry bytes from
// one to the next so that no statement is cut.
const (
	statementWindow = 64 << 10
	statementCarry  = 512
)

// keyStatements checks, as report.txt streams by, every statement of a
// key in its text (after one of keyPhrases): where the word that follows
// is a fingerprint (64 hexadecimal digits), it must be the signer's, in
// either case; where it is a log key (NAME+HASH+KEY), the signer's, as
// written; and a word of 64 characters that are hexadecimal digits or
// letters and digits outside ASCII, some of them, is a look-alike of a
// fingerprint and fails. Other words are not statements of a key.
type keyStatements struct {
	m     *Manifest
	text  []byte // white space runs read as one space
	carry []byte // the start of a rune cut by the end of a write
	space bool   // the last byte of text is a space
	err   error
}

func (k *keyStatements) Write(b []byte) (int, error) {
	n := len(b)
	if k.err != nil {
		return n, nil
	}
	if len(k.carry) > 0 {
		b = append(k.carry, b...)
		k.carry = nil
	}
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 && !utf8.FullRune(b) {
			k.carry = append([]byte(nil), b...)
			break
		}
		if unicode.IsSpace(r) {
			if !k.space {
				k.text = append(k.text, ' ')
				k.space = true
			}
		} else {
			k.text = append(k.text, b[:size]...)
			k.space = false
		}
		b = b[size:]
		if len(k.text) >= statementWindow {
			k.scan(false)
		}
	}
	return n, nil
}

// finish examines what is left; it returns the first statement of another
// key.
func (k *keyStatements) finish() error {
	if k.err == nil {
		k.scan(true)
	}
	return k.err
}

// scan examines the statements that begin in text, all of them at the
// end of the report, otherwise those that begin before its last
// statementCarry bytes, which it keeps for the next window.
func (k *keyStatements) scan(final bool) {
	text := string(k.text)
	limit := len(text)
	if !final {
		limit -= statementCarry
	}
	lower := asciiLower(text)
	for _, p := range keyPhrases {
		for at := 0; k.err == nil; {
			i := strings.Index(lower[at:], p)
			if i < 0 || at+i >= limit {
				break
			}
			at += i
			if p[0] == '-' && at > 0 && lower[at-1] != ' ' && lower[at-1] != '-' {
				at += len(p) // a word with -key in it, not the option
				continue
			}
			k.err = k.statement(text[at:at+len(p)], text[at+len(p):])
			at += len(p)
		}
	}
	if final {
		k.text = k.text[:0]
		return
	}
	k.text = append(k.text[:0], text[limit:]...)
}

// statement checks the word after phrase in rest.
func (k *keyStatements) statement(phrase, rest string) error {
	word, _, _ := strings.Cut(rest, " ")
	word = strings.TrimRight(word, ".,;:)]}\"'")
	said := strings.TrimSpace(phrase) + " " + truncate(word)
	switch {
	case isHex64(word):
		if !strings.EqualFold(word, k.m.LogKeyFingerprint) {
			return fmt.Errorf("report.txt says %q, but the package is signed by the key whose fingerprint is %s: the report is not this key's", said, k.m.LogKeyFingerprint)
		}
	case looksLikeHex64(word):
		return fmt.Errorf("report.txt says %q, a fingerprint written with characters that only look like hexadecimal digits: the package is signed by the key whose fingerprint is %s", said, k.m.LogKeyFingerprint)
	case isLogKey(word):
		if word != k.m.LogKey {
			return fmt.Errorf("report.txt says %q, but the package is signed by %s: the report is not this key's", said, k.m.LogKey)
		}
	}
	return nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

// looksLikeHex64 reports whether s is 64 characters, each a hexadecimal
// digit or a letter or digit outside ASCII, and not all of them ASCII.
func looksLikeHex64(s string) bool {
	if utf8.RuneCountInString(s) != 64 {
		return false
	}
	other := false
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && isHexDigit(byte(r)):
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			other = true
		default:
			return false
		}
	}
	return other
}

// isLogKey reports whether s has the shape of a note verifier key:
// NAME+HASH+KEY, HASH 8 hexadecimal digits.
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

// asciiLower is s with its ASCII letters in lower case and every other
// byte as it is, so that offsets in it are offsets in s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c | 0x20
		}
	}
	return string(b)
}
