package pkgformat

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/custos-vault/custos/internal/keyfile"
	"golang.org/x/mod/sumdb/note"
)

// TestTrustedKeysFlag: --key takes the key, its fingerprint, or a file of
// either as users hold it (what custos audit key writes, its --json, a
// pipe, standard input); anything else is malformed and says why.
func TestTrustedKeysFlag(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "ssh-vault.example") // a name like another kind's
	if err != nil {
		t.Fatal(err)
	}
	fp := KeyFingerprint(vkey)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	printed, _ := json.Marshal(map[string]string{"key": vkey, "origin": "ssh-vault.example", "fingerprint": fp})
	for name, value := range map[string]string{
		"key":              vkey,
		"pasted key":       "\uFEFF " + vkey + "\r\n",
		"fingerprint":      strings.ToUpper(fp),
		"audit key output": write("vault.key", vkey+"\n# origin ssh-vault.example\n# fingerprint "+fp+"\n"),
		"audit key --json": write("vault-key.json", string(printed)+"\n"),
		"CRLF file":        write("crlf.key", "\uFEFF"+vkey+"\r\n"),
		// What custos audit key prints, pasted whole: "$(cat vault.key)".
		"printed, pasted":        vkey + "\n# origin ssh-vault.example\n# fingerprint " + fp,
		"printed --json, pasted": string(printed),
	} {
		keys, err := TrustedKeysFlag("--key", value)
		if err != nil || len(keys) != 1 || !KeyMatches(keys[0], vkey) {
			t.Errorf("%s: %v %v", name, keys, err)
		}
	}
	keys, err := TrustedKeysFlag("--key", write("two.keys", vkey+"\n"+strings.Repeat("ab", 32)+"\n"))
	if err != nil || len(keys) != 2 {
		t.Errorf("a file of two keys: %v %v", keys, err)
	}

	// Standard input, and a pipe.
	r, w, _ := os.Pipe()
	stdin := os.Stdin
	os.Stdin = r
	go func() { w.WriteString(vkey + "\n"); w.Close() }()
	keys, err = TrustedKeysFlag("--key", "-")
	os.Stdin = stdin
	if err != nil || len(keys) != 1 || keys[0] != vkey {
		t.Errorf("standard input: %v %v", keys, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if syscall.Mkfifo(fifo, 0o600) == nil {
		go func() { os.WriteFile(fifo, []byte(vkey+"\n"), 0o600) }()
		if keys, err := TrustedKeysFlag("--key", fifo); err != nil || len(keys) != 1 {
			t.Errorf("a pipe: %v %v", keys, err)
		}
	}

	for name, c := range map[string]struct{ value, says string }{
		"mistyped key": {vkey[:len(vkey)-3], "nor the name of a file holding one"},
		// Base64 holds "/" in one key of four: still a mistyped key.
		"mistyped key with a slash": {strings.TrimSuffix(vkey, vkey[strings.LastIndex(vkey, "+")+1:]) + "AV7AkrbZ2mJwr3tA1s7TR4/Czdh", "nor the name of a file holding one"},
		"missing file":              {filepath.Join(dir, "missing.key"), "no file " + strconv.Quote(filepath.Join(dir, "missing.key")) + " exists (check the path)"},
		"missing file here":         {"vault.keys", `no file "vault.keys" exists`},
		"folder":                    {dir, "it is a folder"},
		"checkpoint":                {write("saved.checkpoint", "ssh-vault.example\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 ssh-vault.example AAAA\n"), "it is a checkpoint, not a log key"},
		"identity":                  {write("me.key", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"), "it is an age identity, not a log key"},
		"other JSON":                {write("verify.json", `{"ok":true,"events":3}`), "it is a JSON file"},
		"file of one bad line":      {write("bad.keys", vkey+"\nnot a key\n"), "line 2"},
	} {
		_, err := TrustedKeysFlag("--key", c.value)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want it to say %q", name, err, c.says)
		} else if !errors.Is(err, keyfile.ErrMalformed) {
			t.Errorf("%s: %v is not a malformed-input error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "QQQQ") {
			t.Errorf("%s: the error quotes key material: %v", name, err)
		}
	}
}

// The JSON custos audit key --json prints is a file of one log key for
// --trusted-keys as for --key.
func TestTrustedKeysFileOfPrintedJSON(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "custos-0a1b")
	if err != nil {
		t.Fatal(err)
	}
	printed, _ := json.Marshal(map[string]string{"key": vkey, "origin": "custos-0a1b", "fingerprint": KeyFingerprint(vkey)})
	keys, err := ParseTrustedKeys(printed)
	if err != nil || len(keys) != 1 || keys[0] != vkey {
		t.Fatalf("%v %v", keys, err)
	}
	if _, err := ParseTrustedKeys([]byte(`{"key":"not a key"}`)); err == nil || !strings.Contains(err.Error(), "JSON file") {
		t.Fatalf("JSON without a key: %v", err)
	}
}

// A fingerprint as it is printed on paper or read aloud, in groups, is
// the fingerprint, given to --key or written in a trusted-keys file; one
// cut short, run together with other text, or beginning or ending in a
// separator is not guessed at.
func TestAGroupedFingerprintIsTheFingerprint(t *testing.T) {
	_, vkey, err := note.GenerateKey(rand.Reader, "custos-0a1b")
	if err != nil {
		t.Fatal(err)
	}
	fp := KeyFingerprint(vkey)
	groups := func(fp string, n int, sep string) string {
		var parts []string
		for i := 0; i < len(fp); i += n {
			parts = append(parts, fp[i:min(i+n, len(fp))])
		}
		return strings.Join(parts, sep)
	}
	dir := t.TempDir()
	for name, value := range map[string]string{
		"in fours":             groups(fp, 4, " "),
		"in upper-case eights": groups(strings.ToUpper(fp), 8, " "),
		"in colon pairs":       groups(fp, 2, ":"),
		"in hyphened sixteens": groups(fp, 16, "-"),
		"over two lines":       groups(fp[:32], 4, " ") + "\t" + groups(fp[32:], 4, " "),
	} {
		keys, err := TrustedKeysFlag("--key", value)
		if err != nil || len(keys) != 1 || keys[0] != fp {
			t.Errorf("%s %q: %v %v", name, value, keys, err)
		}
		p := filepath.Join(dir, "grouped.keys")
		if err := os.WriteFile(p, []byte("# published 2026-12-01\n"+value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if keys, err := readTrustedKeysFile(t, p); err != nil || len(keys) != 1 || !KeyMatches(keys[0], vkey) {
			t.Errorf("%s, in a file: %v %v", name, keys, err)
		}
	}
	for name, value := range map[string]string{
		"one digit short":         groups(fp[:63], 4, " "),
		"one digit more":          groups(fp+"0", 4, " "),
		"a letter not hex":        groups("g"+fp[1:], 4, " "),
		"with a word before":      "fingerprint: " + groups(fp, 4, " "),
		"ending in a separator":   groups(fp, 4, ":") + ":",
		"two fingerprints joined": groups(fp, 4, " ") + " " + groups(fp, 4, " "),
	} {
		if keys, err := TrustedKeysFlag("--key", value); err == nil {
			t.Errorf("%s %q: taken as %v", name, value, keys)
		}
	}
}

// readTrustedKeysFile reads a trusted-keys file as custos-verify
// --trusted-keys does.
func readTrustedKeysFile(t *testing.T, path string) ([]string, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ParseTrustedKeys(b)
}
