package keyfile

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCheckpoint is the largest checkpoint note accepted, in bytes, as
// docs/custody-log.md section 5.4 says.
const MaxCheckpoint = 4096

// ReadCheckpoint reads a saved checkpoint note from the file at path
// with ParseCheckpoint.
func ReadCheckpoint(path string) ([]byte, error) {
	b, err := ReadFile(path, "checkpoint")
	if err != nil {
		return nil, err
	}
	return ParseCheckpoint(path, b)
}

// ParseCheckpoint normalises a saved checkpoint note (Normalize, and
// blank lines before its first line removed) and checks its form, not
// its signatures (docs/custody-log.md section 5): at most MaxCheckpoint
// bytes of UTF-8 without control characters; three text lines (origin, a
// decimal tree size, a root hash of 32 bytes in standard base64); one
// blank line; then one to 100 signature lines, each "— NAME BASE64" (an
// em dash, U+2014, and a space) whose base64 holds a 4-byte key hash and
// a signature. It returns the normalised note, which is what a signature
// check must be given, or a *MalformedError naming the file (name) and
// the line as numbered in b. A note that passes may still carry no valid
// signature: that is for the signature check to say.
func ParseCheckpoint(name string, b []byte) ([]byte, error) {
	bad := func(line int, format string, args ...any) error {
		return &MalformedError{File: name, Line: line, What: "checkpoint", Reason: fmt.Sprintf(format, args...)}
	}
	norm := string(Normalize(b))
	// Blank lines above the origin: pasted notes often have them.
	skipped := 0
	for strings.HasPrefix(norm, "\n") {
		norm, skipped = norm[1:], skipped+1
	}
	switch {
	case norm == "":
		return nil, bad(0, "it is empty")
	case len(norm) > MaxCheckpoint:
		return nil, bad(0, "it is longer than %d bytes", MaxCheckpoint)
	case !validText([]byte(norm)) || strings.Contains(norm, "\t"):
		return nil, bad(0, "it is not plain UTF-8 text (it holds control characters, tabs or invalid bytes)")
	}
	if reason := WrongKind([]byte(norm), "checkpoint"); reason != "" {
		return nil, bad(0, "%s: a checkpoint is the note audit verify --save-checkpoint writes (origin, tree size, root hash, a blank line, signature lines)", reason)
	}
	lines := strings.Split(strings.TrimSuffix(norm, "\n"), "\n")
	n := func(i int) int { return i + 1 + skipped } // line number in the file as given
	blank := -1
	for i, l := range lines {
		if l == "" {
			blank = i
			break
		}
	}
	switch {
	case blank < 0 && len(lines) <= 3 && Kind([]byte(norm)) == "checkpoint":
		return nil, bad(0, "it ends after its text: the blank line and the signature line that follow are missing (was it cut short?)")
	case blank < 0 && len(lines) <= 3:
		return nil, bad(0, "a checkpoint is three lines of text (origin, tree size, root hash), a blank line, then signature lines, as audit verify --save-checkpoint writes it")
	case blank < 0:
		return nil, bad(0, "it has no blank line between its text and its signature lines")
	case blank < 3:
		return nil, bad(n(blank), "the text above the blank line must be three lines (origin, tree size, root hash); it has %d", blank)
	case blank > 3:
		return nil, bad(n(3), "the text above the blank line must be three lines (origin, tree size, root hash); it has %d", blank)
	}
	if o := lines[0]; strings.ContainsFunc(o, unicode.IsSpace) || strings.Contains(o, "+") {
		return nil, bad(n(0), "the first line must be the log's origin, a key name without spaces or '+'")
	}
	if s := lines[1]; s == "" || (len(s) > 1 && s[0] == '0') || strings.Trim(s, "0123456789") != "" {
		return nil, bad(n(1), "the second line must be the tree size, a decimal number")
	} else if _, err := strconv.ParseUint(s, 10, 64); err != nil {
		return nil, bad(n(1), "the tree size is out of range")
	}
	if root, err := base64.StdEncoding.Strict().DecodeString(lines[2]); err != nil || len(root) != 32 {
		return nil, bad(n(2), "the third line must be the root hash: 32 bytes in standard base64 (44 characters ending in =)")
	}
	sigs := lines[blank+1:]
	switch {
	case len(sigs) == 0:
		return nil, bad(0, "it has no signature line after the blank line (was it cut short?)")
	case len(sigs) > 100:
		return nil, bad(n(blank+101), "it has more than 100 signature lines")
	}
	for j, l := range sigs {
		i := blank + 1 + j
		rest, ok := strings.CutPrefix(l, "— ")
		if !ok {
			if l == "" {
				return nil, bad(n(i), "an empty line among the signature lines")
			}
			if r, _ := utf8.DecodeRuneInString(l); strings.ContainsRune("-‐‑‒–―−", r) {
				return nil, bad(n(i), "a signature line must start with an em dash (—, U+2014) and a space; an editor or a mail program may have replaced the dash")
			}
			return nil, bad(n(i), "a signature line must start with an em dash (—, U+2014) and a space: was this line added to the checkpoint after it was saved?")
		}
		keyName, sig, ok := strings.Cut(rest, " ")
		if !ok || keyName == "" || strings.Contains(sig, " ") {
			return nil, bad(n(i), "a signature line must be \"— KEY-NAME BASE64\"")
		}
		if raw, err := base64.StdEncoding.DecodeString(sig); err != nil || len(raw) < 5 {
			return nil, bad(n(i), "the signature is not base64 of a key hash and a signature (characters lost or changed?)")
		}
	}
	return []byte(norm), nil
}
