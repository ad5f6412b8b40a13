package keyfile

import (
	"errors"
	"strings"
	"testing"
)

// Files of other kinds, as users hold them beside their checkpoints.
var otherKinds = map[string]string{
	"log key":            "custos.example+1a2b3c4d+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/cdefgh\n# origin custos.example\n# fingerprint 00\n",
	"age identity":       "# created: 2026-01-01T00:00:00Z\n# public key: age1xyz\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
	"age recipient":      "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n",
	"age-encrypted file": "age-encryption.org/v1\n-> scrypt AAAA 18\nxyz\n--- abc\n",
	"PEM file (a certificate or a private key)": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	"SSH key":        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA me@host\n",
	"witness policy": "witness w1 w1+1a2b3c4d+AAAA https://w1.example/\nquorum w1\n",
	"JSON file (such as the output of --json)": "{\"ok\":true,\"events\":12}\n",
}

// TestCheckpointOfAnotherKind: a file of another kind given where a
// checkpoint is expected is named as what it is, and never guessed to be
// a checkpoint cut short.
func TestCheckpointOfAnotherKind(t *testing.T) {
	for kind, text := range otherKinds {
		if got := Kind([]byte(text)); got != kind {
			t.Errorf("Kind(%q) = %q, want %q", text, got, kind)
		}
		_, err := ParseCheckpoint("given.txt", []byte(text))
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: %v", kind, err)
		}
		if !strings.Contains(err.Error(), kind+", not a checkpoint") || strings.Contains(err.Error(), "cut short") {
			t.Errorf("%s given as a checkpoint: %v", kind, err)
		}
		if strings.Contains(err.Error(), "QQQQ") || strings.Contains(err.Error(), "AbCdEf") {
			t.Errorf("%s: the error quotes key material: %v", kind, err)
		}
	}
	// Text that is no known kind is not called a checkpoint cut short.
	_, err := ParseCheckpoint("notes.txt", []byte("meeting notes\nbring the disk\n"))
	if err == nil || strings.Contains(err.Error(), "cut short") || !strings.Contains(err.Error(), "a checkpoint is three lines of text") {
		t.Errorf("plain text as a checkpoint: %v", err)
	}
	// A checkpoint that lost its signature still is one cut short.
	_, err = ParseCheckpoint("cut.txt", []byte("custos.example\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"))
	if err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("a checkpoint without its signature: %v", err)
	}
	if got := Kind([]byte("custos.example\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— custos.example AAAA\n")); got != "checkpoint" {
		t.Errorf("Kind of a checkpoint = %q", got)
	}
}

// TestCheckpointOriginsOfAnyShape: an origin that begins like another
// kind of file is still a checkpoint's.
func TestCheckpointOriginsOfAnyShape(t *testing.T) {
	for _, origin := range []string{"ssh-vault.example", "age1.example", "AGE-SECRET-KEY-vault", "{vault}", "[vault]", "-----BEGIN", "witness", "log", "age-encryption.org/v1", "#vault", "ecdsa-sha2-x"} {
		note := origin + "\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— " + origin + " AAAAAAAAAAAA\n"
		if _, err := ParseCheckpoint("c", []byte(note)); err != nil {
			t.Errorf("origin %q: %v", origin, err)
		}
	}
}

// TestKeyFilesOfAnyName: the file custos audit key writes is a log key
// whatever the key's name starts with, and so is a file of fingerprints.
func TestKeyFilesOfAnyName(t *testing.T) {
	for _, name := range []string{"custos-0a1b", "ssh-vault.example", "age1.example", "AGE-SECRET-KEY-vault", "ecdsa-sha2-x", "{vault}", "[vault]", "age-encryption.org", "-----BEGIN"} {
		file := name + "+1a2b3c4d+AbCdEfGh+/IjKlMnOpQrStUvWxYz0123456789abcdef\n# origin " + name + "\n# fingerprint 00\n"
		if k := Kind([]byte(file)); k != "log key" {
			t.Errorf("a key named %q: Kind says %q", name, k)
		}
	}
	fps := "# the unit's vault\n" + strings.Repeat("AB", 32) + "\n" + strings.Repeat("0c", 32) + "\n"
	if k := Kind([]byte(fps)); k != "log key" {
		t.Errorf("a file of fingerprints: Kind says %q", k)
	}
}

// Malformed names a file of another kind as what it is, for every kind of
// file a flag takes (a witness policy, a TSA certificate), and otherwise
// keeps the parser's reason.
func TestMalformedNamesTheKind(t *testing.T) {
	cp := "custos.example\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 custos.example AAAA\n"
	cause := errors.New("line 1: unknown keyword")
	for _, c := range []struct{ kind, body, want string }{
		{"witness policy", cp, "it is a checkpoint, not a witness policy"},
		{KindPEM, cp, "it is a checkpoint, not a PEM file"},
		{KindPEM, otherKinds["log key"], "it is a log key, not a PEM file"},
		{"witness policy", "something else\n", "line 1: unknown keyword"},
		{"witness policy", otherKinds["witness policy"], "line 1: unknown keyword"},
	} {
		err := Malformed("f", "what", c.kind, []byte(c.body), cause)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s given %q: %v, want %q", c.kind, c.body, err, c.want)
		}
	}
}
