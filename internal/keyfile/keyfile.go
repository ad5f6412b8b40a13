// Package keyfile reads the keys people hand to Custos's command-line
// tools as they really arrive: age identity files (plain, or encrypted
// with a passphrase as `age -p` makes them), log keys and fingerprints
// pasted from a message, trusted-keys files and saved checkpoints, with
// a UTF-8 byte-order mark, Windows (CRLF) line ends or trailing white
// space.
//
// Everything that is only a matter of how a text editor or a mail
// program saved the file is normalised (Normalize). Everything else that
// is not in the expected format is a *MalformedError naming the file and
// the line, so that a caller never reports a damaged key file as a forged
// signature or as a package sealed with another key.
//
// The package imports only the standard library and filippo.io/age, so
// that the offline verifier (cmd/custos-verify) stays small.
package keyfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"filippo.io/age"
)

// MaxFileSize is the largest key, identity, passphrase or checkpoint file
// read, in bytes. Real ones are under 10 KiB (a hybrid post-quantum
// identity line is about 2,000 characters).
const MaxFileSize = 64 << 10

// ErrMalformed is wrapped by every *MalformedError.
var ErrMalformed = errors.New("malformed")

// MalformedError says that a file (or a value given on the command line)
// is not in the format it must have. It never quotes key material.
type MalformedError struct {
	// File is the file's name as given, or what the value is (for
	// example "--key").
	File string
	// Line is the 1-based line at fault in the file as given, or 0 when
	// the whole file is.
	Line int
	// What is what the file should have been, such as "age identity file".
	What string
	// Reason says what is wrong, in words a user can act on.
	Reason string
}

func (e *MalformedError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s is not a well-formed %s: line %d: %s", e.File, e.What, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s is not a well-formed %s: %s", e.File, e.What, e.Reason)
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

const bom = "\uFEFF"

// Normalize returns text as a careful user meant it: without a leading
// UTF-8 byte-order mark, with CRLF and lone CR line ends made LF, without
// white space (Unicode) at the end of any line, without blank lines at
// the end, and ending in exactly one LF (unless it is empty). Leading
// white space and blank lines before the first line are kept, so that
// line numbers stay those of the file as given.
func Normalize(b []byte) []byte {
	s := strings.TrimPrefix(string(b), bom)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return []byte{}
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// NormalizeKey returns a key or fingerprint as pasted on a command line
// without a leading byte-order mark and without surrounding white space
// (including CR and LF).
func NormalizeKey(s string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), bom))
}

// ReadFile reads at most MaxFileSize bytes of the file at path ("-" is
// standard input). A longer file is a *MalformedError; what names the
// kind of file expected, for that error.
func ReadFile(path, what string) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close() // read only: nothing to lose
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, &MalformedError{File: path, What: what, Reason: fmt.Sprintf("it is longer than %d bytes", MaxFileSize)}
	}
	return b, nil
}

// ReadText is ReadFile followed by Normalize.
func ReadText(path, what string) ([]byte, error) {
	b, err := ReadFile(path, what)
	if err != nil {
		return nil, err
	}
	return Normalize(b), nil
}

// Recipient returns the recipient (public key) of an age identity of a
// type this package reads, *age.X25519Identity (age1...) or
// *age.HybridIdentity (age1pq1...), or "" for any other type.
func Recipient(id age.Identity) string {
	switch i := id.(type) {
	case *age.X25519Identity:
		return i.Recipient().String()
	case *age.HybridIdentity:
		return i.Recipient().String()
	}
	return ""
}

// lineError is a MalformedError for a line of an identity file.
func lineError(name string, line int, format string, args ...any) error {
	return &MalformedError{File: name, Line: line, What: "age identity file", Reason: fmt.Sprintf(format, args...)}
}

// validText reports whether b is UTF-8 without control characters other
// than LF and tab.
func validText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	return !bytes.ContainsFunc(b, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) })
}
