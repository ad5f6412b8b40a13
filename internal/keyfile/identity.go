package keyfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ErrPassphraseNeeded is returned (wrapped, with the file's name) for a
// passphrase-encrypted identity file when no passphrase source was given.
var ErrPassphraseNeeded = errors.New("the identity file is encrypted with a passphrase (as `age -p` makes it), and no passphrase was given")

// ErrWrongPassphrase is returned (wrapped, with the file's name) when the
// passphrase given does not open a passphrase-encrypted identity file.
var ErrWrongPassphrase = errors.New("the passphrase given does not open the identity file")

// Passphrase returns the passphrase of an encrypted identity file. It is
// called at most once per file, and only for a file that needs it.
type Passphrase func() (string, error)

// ReadIdentities reads the age identity file at path ("-" is standard
// input) with ParseIdentities.
func ReadIdentities(path string, passphrase Passphrase) ([]age.Identity, error) {
	b, err := ReadFile(path, "age identity file")
	if err != nil {
		return nil, err
	}
	return ParseIdentities(path, b, passphrase)
}

// ParseIdentities parses the contents b of an age identity file named
// name (used in errors only). It reads:
//
//   - a plain identity file as age-keygen writes it: one identity per
//     line, AGE-SECRET-KEY-1... (X25519) or AGE-SECRET-KEY-PQ-1...
//     (hybrid post-quantum, age-keygen -pq); lines that are empty or
//     start with # are ignored; a byte-order mark, CRLF line ends and
//     white space around a line are tolerated, and so is a key in lower
//     case;
//   - the same, encrypted with a passphrase (age -p, armored or binary):
//     passphrase is called, and the file is decrypted (scrypt work factor
//     at most 2^22, as the age command line accepts) and then parsed as a
//     plain identity file.
//
// It returns at least one identity, each an *age.X25519Identity or an
// *age.HybridIdentity. Errors: ErrPassphraseNeeded (wrapped) for an
// encrypted file when passphrase is nil; ErrWrongPassphrase (wrapped)
// when the passphrase does not open it; a *MalformedError naming the
// line for anything else that is not such a file, including recipients
// (age1...), SSH keys, plugin identities and files encrypted to a key
// rather than a passphrase. No error quotes key material.
func ParseIdentities(name string, b []byte, passphrase Passphrase) ([]age.Identity, error) {
	head := bytes.TrimPrefix(b, []byte(bom))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("age-encryption.org/")):
		return parseEncrypted(name, bytes.NewReader(head), passphrase)
	case bytes.HasPrefix(trimmed, []byte(armor.Header)):
		// Armor is text: the same normalisation as any key file.
		return parseEncrypted(name, armor.NewReader(bytes.NewReader(Normalize(trimmed))), passphrase)
	}
	return parsePlain(name, b)
}

// parsePlain parses an unencrypted identity file.
func parsePlain(name string, b []byte) ([]age.Identity, error) {
	var ids []age.Identity
	for i, line := range strings.Split(string(Normalize(b)), "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		upper := strings.ToUpper(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case !utf8.ValidString(line):
			return nil, lineError(name, n, "the line is not UTF-8 text")
		case strings.HasPrefix(upper, "AGE-SECRET-KEY-PQ-1"):
			id, err := age.ParseHybridIdentity(upper)
			if err != nil {
				return nil, lineError(name, n, "the hybrid post-quantum identity (AGE-SECRET-KEY-PQ-1...) is damaged: a character is wrong, missing or extra")
			}
			ids = append(ids, id)
		case strings.HasPrefix(upper, "AGE-SECRET-KEY-1"):
			id, err := age.ParseX25519Identity(upper)
			if err != nil {
				return nil, lineError(name, n, "the identity (AGE-SECRET-KEY-1...) is damaged: a character is wrong, missing or extra")
			}
			ids = append(ids, id)
		case strings.HasPrefix(upper, "AGE-PLUGIN-"):
			return nil, lineError(name, n, "an age plugin identity (AGE-PLUGIN-...) needs its plugin program, which Custos does not run; %s", supportedIdentities)
		case strings.HasPrefix(upper, "AGE1"):
			return nil, lineError(name, n, "the line is a recipient (a public key, age1...), not an identity: give the file age-keygen wrote, whose key line starts with AGE-SECRET-KEY-")
		case strings.HasPrefix(line, "-----BEGIN"):
			return nil, lineError(name, n, "the file is a PEM or SSH private key, not an age identity; %s", supportedIdentities)
		case strings.HasPrefix(line, "ssh-") || strings.HasPrefix(line, "ecdsa-sha2-"):
			return nil, lineError(name, n, "the line is an SSH public key; %s", supportedIdentities)
		case strings.HasPrefix(line, "age-encryption.org/"):
			return nil, lineError(name, n, "an encrypted age file must start at the first line")
		default:
			return nil, lineError(name, n, "the line is not an age identity (one starts with AGE-SECRET-KEY-1 or AGE-SECRET-KEY-PQ-1)")
		}
	}
	if len(ids) == 0 {
		return nil, &MalformedError{File: name, What: "age identity file", Reason: "it holds no identity (a line starting with AGE-SECRET-KEY-)"}
	}
	return ids, nil
}

const supportedIdentities = "Custos reads age identities made by age-keygen (AGE-SECRET-KEY-1...) or age-keygen -pq (AGE-SECRET-KEY-PQ-1...), plain or encrypted with a passphrase (age -p)"

// parseEncrypted decrypts a passphrase-encrypted identity file and parses
// what it holds.
func parseEncrypted(name string, r io.Reader, passphrase Passphrase) ([]age.Identity, error) {
	id := &passphraseIdentity{name: name, passphrase: passphrase}
	d, err := age.Decrypt(r, id)
	if err == nil {
		var plain []byte
		plain, err = io.ReadAll(io.LimitReader(d, MaxFileSize+1))
		switch {
		case err != nil:
			return nil, &MalformedError{File: name, What: "encrypted age identity file", Reason: fmt.Sprintf("it is damaged: %v", err)}
		case len(plain) > MaxFileSize:
			return nil, &MalformedError{File: name, What: "encrypted age identity file", Reason: fmt.Sprintf("what it holds is longer than %d bytes", MaxFileSize)}
		}
		trimmed := bytes.TrimLeft(bytes.TrimPrefix(plain, []byte(bom)), " \t\r\n")
		if bytes.HasPrefix(trimmed, []byte("age-encryption.org/")) || bytes.HasPrefix(trimmed, []byte(armor.Header)) {
			return nil, &MalformedError{File: name, What: "encrypted age identity file", Reason: "it holds another encrypted file, not identities"}
		}
		return parsePlain(name+" (decrypted)", plain)
	}
	if id.err != nil {
		return nil, id.err
	}
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		return nil, &MalformedError{File: name, What: "age identity file", Reason: fmt.Sprintf(
			"it is an age file encrypted to a key (%s), not with a passphrase; %s", strings.Join(nm.StanzaTypes, ", "), supportedIdentities)}
	}
	return nil, &MalformedError{File: name, What: "encrypted age identity file", Reason: fmt.Sprintf("it is damaged: %v", err)}
}

// passphraseIdentity asks for the passphrase only when the file is
// encrypted with one (one scrypt stanza), as the age command line does,
// and keeps the error that stops the decryption.
type passphraseIdentity struct {
	name       string
	passphrase Passphrase
	err        error
}

func (p *passphraseIdentity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) != 1 || stanzas[0].Type != "scrypt" {
		return nil, age.ErrIncorrectIdentity
	}
	if p.passphrase == nil {
		p.err = fmt.Errorf("%s: %w", p.name, ErrPassphraseNeeded)
		return nil, p.err
	}
	pass, err := p.passphrase()
	if err != nil {
		p.err = fmt.Errorf("%s: %w", p.name, err)
		return nil, p.err
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		p.err = fmt.Errorf("%s: %w", p.name, err)
		return nil, p.err
	}
	key, err := id.Unwrap(stanzas)
	switch {
	case errors.Is(err, age.ErrIncorrectIdentity):
		p.err = fmt.Errorf("%s: %w", p.name, ErrWrongPassphrase)
	case err != nil:
		p.err = &MalformedError{File: p.name, What: "encrypted age identity file", Reason: err.Error()}
	}
	if p.err != nil {
		return nil, p.err
	}
	return key, nil
}

// ReadPassphrase reads a passphrase from the file at path ("-" is
// standard input): its whole content without a leading byte-order mark
// and without the line end (LF or CRLF) at its end. Other white space is
// part of the passphrase. An empty file, or one of more than one line,
// is a *MalformedError.
func ReadPassphrase(path string) (string, error) {
	b, err := ReadFile(path, "passphrase file")
	if err != nil {
		return "", err
	}
	s := strings.TrimPrefix(string(b), bom)
	s = strings.TrimRight(s, "\r\n")
	switch {
	case s == "":
		return "", &MalformedError{File: path, What: "passphrase file", Reason: "it is empty"}
	case strings.ContainsAny(s, "\r\n"):
		return "", &MalformedError{File: path, What: "passphrase file", Reason: "it holds more than one line; put the passphrase alone on one line"}
	case !utf8.ValidString(s):
		return "", &MalformedError{File: path, What: "passphrase file", Reason: "it is not UTF-8 text"}
	}
	return s, nil
}
