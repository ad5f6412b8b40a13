package keyfile

import (
	"encoding/base64"
	"strings"
)

// Kind names, in words a user knows, what kind of file b looks like, so
// that a file given to the wrong flag is named as what it is ("this is an
// age identity, not a checkpoint") instead of judged as a damaged file of
// the expected kind. It returns "" when b looks like none of them. It
// recognises, from the first line that is not blank or a "#" comment:
//
//   - "checkpoint": an origin line (whatever it starts with), then a
//     decimal tree size (the note audit verify --save-checkpoint writes),
//     tested first;
//   - "log key": NAME+HASH+BASE64, a note verifier key, or a fingerprint
//     (64 hex digits) (what custos audit key writes, alone or with
//     comments), tested before the prefixes below;
//   - "age identity": AGE-SECRET-KEY-...;
//   - "age recipient": age1...;
//   - "age-encrypted file": age-encryption.org/... or age's armor;
//   - "PEM file (a certificate or a private key)": -----BEGIN ...;
//   - "SSH key": ssh-... or ecdsa-sha2-...;
//   - "witness policy": witness, group, quorum or log lines;
//   - "JSON file (such as the output of --json)": { or [.
//
// Kind never returns key material.
func Kind(b []byte) string {
	text := string(Normalize(b))
	// all are the lines that are not blank; lines, of those, the ones
	// that are not "#" comments. A checkpoint's origin is its first line
	// whatever it starts with ("#" included).
	var all, lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			all = append(all, l)
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
	}
	if len(all) > 1 && !strings.ContainsAny(all[0], " +") && strings.Trim(all[1], "0123456789") == "" {
		return "checkpoint"
	}
	if len(lines) == 0 {
		return ""
	}
	first := lines[0]
	upper := strings.ToUpper(first)
	word, _, _ := strings.Cut(first, " ")
	switch {
	// Keys before the prefixes below, so that no key name
	// ("ssh-vault.example", "age1.example") is taken for another kind.
	case isVerifierKey(first) || isFingerprint(first):
		return "log key"
	case strings.HasPrefix(upper, "AGE-SECRET-KEY-"):
		return "age identity"
	case strings.HasPrefix(upper, "AGE1"):
		return "age recipient"
	case strings.HasPrefix(first, "age-encryption.org/") || strings.HasPrefix(first, "-----BEGIN AGE ENCRYPTED FILE-----"):
		return "age-encrypted file"
	case strings.HasPrefix(first, "-----BEGIN "):
		return KindPEM
	case strings.HasPrefix(first, "ssh-") || strings.HasPrefix(first, "ecdsa-sha2-"):
		return "SSH key"
	case first[0] == '{' || first[0] == '[':
		return "JSON file (such as the output of --json)"
	case (word == "witness" || word == "group" || word == "quorum" || word == "log") && strings.Contains(first, " "):
		return "witness policy"
	}
	return ""
}

// KindPEM is Kind's name for a PEM file.
const KindPEM = "PEM file (a certificate or a private key)"

// isFingerprint reports whether s is 64 hex digits (a key fingerprint).
func isFingerprint(s string) bool {
	return len(s) == 64 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// isVerifierKey reports whether s has a note verifier key's shape:
// NAME+HASH+BASE64 with an 8-hex-digit hash and base64 key data
// (golang.org/x/mod/sumdb/note). It checks the shape, not the key.
func isVerifierKey(s string) bool {
	parts := strings.SplitN(s, "+", 3) // base64 may hold "+"
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 8 || strings.ContainsAny(s, " \t") {
		return false
	}
	if strings.Trim(strings.ToLower(parts[1]), "0123456789abcdef") != "" {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	return err == nil && len(raw) > 1
}

// WrongKind is the reason to give when a file of another kind is given
// where one of what (a Kind) is expected, as "it is an age identity, not
// a checkpoint": "" when b is not recognisably of another kind.
func WrongKind(b []byte, what string) string {
	k := Kind(b)
	if k == "" || k == what {
		return ""
	}
	reason := "it is " + article(k) + " " + k + ", not " + article(what) + " " + what
	if h := kindFlag[k]; h != "" {
		reason += " (" + article(k) + " " + k + " is given with " + h + ")"
	}
	return reason
}

// kindFlag names the flag that takes a file of each kind, for the hint.
var kindFlag = map[string]string{
	"checkpoint":     "--checkpoint",
	"log key":        "--key",
	"witness policy": "--witness-policy",
	"age identity":   "custos-verify --identity",
}

// article is "a" or "an" before a kind's name, by its sound.
func article(kind string) string {
	switch kind[0] {
	case 'a', 'e', 'i', 'o', 'u', 'S': // "an SSH key"; "a JSON file"
		return "an"
	}
	return "a"
}

// Malformed is the *MalformedError for file b, read as a what (such as
// "witness policy") and refused by its parser with cause: the reason is
// WrongKind's when b is recognisably a file of another kind than kind
// (a Kind, or "" when kind has none), else the parser's.
func Malformed(file, what, kind string, b []byte, cause error) error {
	reason := cause.Error()
	if k := Kind(b); k != "" && k != kind {
		reason = WrongKind(b, kind) // "it is a checkpoint, not a witness policy (...)"
	}
	return &MalformedError{File: file, What: what, Reason: reason}
}
