package pkgformat

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// A custos audit key --json file whose members contradict each other is
// refused, not read by its key alone: which one the user meant is not
// for the verifier to guess.
func TestTrustedKeysJSONContradiction(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "custos-0a1b")
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := note.GenerateKey(rand.Reader, "custos-0a1b")
	for name, c := range map[string]struct {
		origin, fingerprint, want string
	}{
		"agreeing":                      {"custos-0a1b", KeyFingerprint(vkey), ""},
		"fingerprint in upper case":     {"custos-0a1b", strings.ToUpper(KeyFingerprint(vkey)), ""},
		"another key's fingerprint":     {"custos-0a1b", KeyFingerprint(other), "is not the fingerprint of its key"},
		"a fingerprint that is no hash": {"custos-0a1b", "00", "is not the fingerprint of its key"},
		"the origin of another log":     {"custos-ffff", KeyFingerprint(vkey), "is not the name of its key"},
		"members absent: the key alone": {"", "", ""},
	} {
		printed, _ := json.Marshal(map[string]string{"key": vkey, "origin": c.origin, "fingerprint": c.fingerprint})
		keys, err := ParseTrustedKeys(printed)
		switch {
		case c.want == "" && (err != nil || len(keys) != 1 || keys[0] != vkey):
			t.Errorf("%s: %v %v", name, keys, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v %v, want an error naming %q", name, keys, err, c.want)
		}
		if _, err := TrustedKeysFlag("--key", string(printed)); (err == nil) != (c.want == "") {
			t.Errorf("%s: --key with the JSON pasted: %v", name, err)
		}
	}
}

// A log key whose HASH is in upper case is not the key's one spelling
// (custody-log.md 5.1; package-format.md section 9 step 2): it is refused
// as such when given, never compared and reported as another key.
func TestTrustedKeyUpperCaseHash(t *testing.T) {
	var vkey, upper string
	for upper == vkey { // a hash of digits alone has no case
		_, k, err := note.GenerateKey(rand.Reader, "custos-0a1b")
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.SplitN(k, "+", 3)
		vkey, upper = k, parts[0]+"+"+strings.ToUpper(parts[1])+"+"+parts[2]
	}
	if _, err := note.NewVerifier(upper); err != nil {
		t.Fatalf("note reads the upper-case spelling no longer: %v", err)
	}
	if err := CheckTrustedKey(vkey); err != nil {
		t.Fatal(err)
	}
	for name, input := range map[string]func() error{
		"--key":               func() error { _, err := TrustedKeysFlag("--key", upper); return err },
		"a trusted-keys line": func() error { _, err := ParseTrustedKeys([]byte(upper + "\n")); return err },
		"the JSON's key":      func() error { _, err := ParseTrustedKeys([]byte(`{"key":"` + upper + `"}`)); return err },
		"CheckTrustedKey":     func() error { return CheckTrustedKey(upper) },
	} {
		if err := input(); err == nil || !strings.Contains(err.Error(), "lower case") {
			t.Errorf("%s: %v, want a refusal naming the key's form", name, err)
		}
	}
}
