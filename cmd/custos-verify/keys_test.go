package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

const vectorRecipient = "age1lnht03htk4tmn24264l2vtlf43pgw29ynjyjgczauaruumm4x5cq0ugupd"

// An identity that is not the package's recipient is a key mismatch (exit
// 4), naming both recipients, never FAILED; nothing is decrypted and no
// --extract folder is left, not even one it created.
func TestKeyMismatchReported(t *testing.T) {
	key := vectorKey(t)
	dir := t.TempDir()
	other, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	for name, id := range map[string]age.Identity{"X25519": other, "hybrid": pq} {
		idFile := filepath.Join(dir, name+".key")
		os.WriteFile(idFile, []byte(id.(interface{ String() string }).String()+"\n"), 0o600)
		var rec string
		switch i := id.(type) {
		case *age.X25519Identity:
			rec = i.Recipient().String()
		case *age.HybridIdentity:
			rec = i.Recipient().String()
		}
		out := filepath.Join(dir, "new", name, "exhibits")
		code, stdout, stderr := runVerify(vectorPkg, "--key", key, "--identity", idFile, "--extract", out)
		if code != 4 || !strings.HasSuffix(stdout, "KEY MISMATCH\n") || strings.Contains(stdout, "FAILED") || strings.Contains(stderr, "FAILED") {
			t.Fatalf("%s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		for _, want := range []string{vectorRecipient, short(rec), "not a sign of tampering", idFile} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: stdout does not say %q:\n%s", name, want, stdout)
			}
		}
		if !strings.Contains(stderr, "key mismatch") || !strings.Contains(stderr, short(rec)) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: stderr %q", name, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
			t.Errorf("%s: the folders --extract created were left: %v", name, err)
		}
		code, stdout, _ = runVerify(vectorPkg, "--key", key, "--identity", idFile, "--json")
		var res result
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 4 || res.Status != "key-mismatch" ||
			res.Recipient != vectorRecipient || !slices.Equal(res.IdentityRecipients, []string{rec}) || res.Decrypted != 0 || !res.KeyPinned {
			t.Errorf("%s --json: %d %v %+v", name, code, err, res)
		}
	}
	// Without a pinned key as well: still a key mismatch, saying the
	// authenticity is not established either.
	idFile := filepath.Join(dir, "X25519.key")
	code, stdout, _ := runVerify(vectorPkg, "--identity", idFile)
	if code != 4 || !strings.Contains(stdout, "not established") {
		t.Fatalf("without a key: %d\n%s", code, stdout)
	}
	// An altered package with another identity fails: tampering wins.
	pkg, _ := os.ReadFile(vectorPkg)
	i := bytes.LastIndex(pkg, []byte("age-encryption.org/v1"))
	pkg[i+200] ^= 1
	bad := filepath.Join(dir, "bad.tar")
	os.WriteFile(bad, pkg, 0o600)
	if code, stdout, _ := runVerify(bad, "--key", key, "--identity", idFile); code != 1 || !strings.HasSuffix(stdout, "FAILED\n") {
		t.Fatalf("altered, another identity: %d\n%s", code, stdout)
	}
}

// --extract leaves no folder it created when the package fails or is not
// authenticated, and keeps a folder that was there before.
func TestExtractFolderNotLeft(t *testing.T) {
	key := vectorKey(t)
	dir := t.TempDir()
	pkg, _ := os.ReadFile(vectorPkg)
	pkg[bytes.LastIndex(pkg, []byte("age-encryption.org/v1"))+200] ^= 1 // an item's ciphertext
	bad := filepath.Join(dir, "bad.tar")
	os.WriteFile(bad, pkg, 0o600)
	for name, args := range map[string][]string{
		"failed":     {bad, "--key", key},
		"not pinned": {vectorPkg},
	} {
		out := filepath.Join(dir, "a", "b")
		code, stdout, _ := runVerify(append(args, "--identity", vectorID, "--extract", out)...)
		if code == 0 {
			t.Fatalf("%s: verified\n%s", name, stdout)
		}
		if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
			t.Errorf("%s: the extract folder was left (%v)", name, err)
		}
		existing := filepath.Join(dir, "existing")
		os.Mkdir(existing, 0o755)
		runVerify(append(args, "--identity", vectorID, "--extract", existing)...)
		if ents, err := os.ReadDir(existing); err != nil || len(ents) != 0 {
			t.Errorf("%s: the existing folder: %v %d entries", name, err, len(ents))
		}
	}
	out := filepath.Join(dir, "a", "b")
	if code, stdout, stderr := runVerify(vectorPkg, "--key", key, "--identity", vectorID, "--extract", out); code != 0 {
		t.Fatalf("intact: %d\n%s%s", code, stdout, stderr)
	}
	// Again into the same folder: refused before any check (exit 2), not
	// FAILED, and the first extraction untouched.
	if code, _, stderr := runVerify(vectorPkg, "--key", key, "--identity", vectorID, "--extract", out); code != 2 || !strings.Contains(stderr, "already holds files") {
		t.Fatalf("a second extraction into the same folder: %d %s", code, stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 2 {
		t.Fatalf("%d files extracted", len(ents))
	}
}

// Keys as people save and paste them: a byte-order mark, CRLF line ends,
// trailing white space, in the identity, the trusted-keys file, the saved
// checkpoint and --key.
func TestKeysAsSaved(t *testing.T) {
	key := vectorKey(t)
	dir := t.TempDir()
	windows := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("\uFEFF"+strings.ReplaceAll(string(b), "\n", " \r\n")), 0o600)
		return p
	}
	idb, _ := os.ReadFile(vectorID)
	pkg, _ := os.ReadFile(vectorPkg)
	id := windows("identity.txt", idb)
	trusted := windows("trusted", []byte("# ours\n"+key+"\n"))
	cp := windows("saved.checkpoint", memberOf(t, pkg, "checkpoint"))
	for _, args := range [][]string{
		{vectorPkg, "--key", "\uFEFF " + key + " \r\n", "--identity", id},
		{vectorPkg, "--key", keyFingerprint(t, key) + "\r\n", "--identity", id},
		{vectorPkg, "--trusted-keys", trusted, "--identity", id},
		{vectorPkg, "--checkpoint", cp, "--identity", id},
	} {
		if code, out, errs := runVerify(args...); code != 0 || !strings.HasSuffix(out, "VERIFIED\n") || !strings.Contains(out, "2 items decrypted") {
			t.Errorf("%q: %d\n%s%s", args[1:3], code, out, errs)
		}
	}
}

// Malformed inputs are reported as malformed (exit 2, naming the file and
// line), never as a forged signature, a swapped key or a failed package.
func TestMalformedInputs(t *testing.T) {
	key := vectorKey(t)
	dir := t.TempDir()
	pkg, _ := os.ReadFile(vectorPkg)
	cp := string(memberOf(t, pkg, "checkpoint"))
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"key cut short", []string{"--key", key[:len(key)-3]}, "--key is not a well-formed log key"},
		{"fingerprint cut short", []string{"--key", keyFingerprint(t, key)[:60]}, "--key is not a well-formed log key"},
		{"checkpoint with its dash replaced", []string{"--checkpoint", write("cp1", strings.Replace(cp, "— ", "-- ", 1))}, "cp1 is not a well-formed checkpoint: line 5: a signature line must start with an em dash"},
		{"checkpoint cut short", []string{"--checkpoint", write("cp2", cp[:len(cp)-30])}, "cp2 is not a well-formed checkpoint: line 5"},
		{"checkpoint without signature", []string{"--checkpoint", write("cp3", strings.SplitN(cp, "\n\n", 2)[0])}, "cut short"},
		{"trusted keys with a broken line", []string{"--trusted-keys", write("tk", "# ours\r\n"+key[:20]+"\r\n")}, "tk is not a well-formed trusted-keys file: line 2"},
		{"identity that is a recipient", []string{"--key", key, "--identity", write("id1", "# mine\n"+vectorRecipient+"\n")}, "id1 is not a well-formed age identity file: line 2: the line is a recipient"},
		{"identity damaged", []string{"--key", key, "--identity", write("id2", "AGE-SECRET-KEY-1QD9THF67L2SRZ8E5MYR9CDVD5SGLNDYS6PD7XXT5WC7KL0K3VAKQ3WEJS3\n")}, "id2 is not a well-formed age identity file: line 1: the identity (AGE-SECRET-KEY-1...) is damaged"},
		{"identity missing", []string{"--key", key, "--identity", filepath.Join(dir, "nothing")}, "no such file"},
		{"checkpoint with a note added", []string{"--checkpoint", write("cp5", cp+"seen by me, 3 March\n")}, "was this line added to the checkpoint"},
		{"checkpoint given as the keys", []string{"--trusted-keys", write("cp6", cp)}, "it is a checkpoint, not a log key (a checkpoint is given with --checkpoint)"},
		{"checkpoint given as the witness policy", []string{"--key", key, "--witness-policy", write("cp7", cp)}, "it is a checkpoint, not a witness policy (a checkpoint is given with --checkpoint)"},
		{"key file given as the TSA certificate", []string{"--key", key, "--tsa-cert", write("key8", key+"\n")}, "it is a log key, not a PEM file"},
		// A policy with two quorum lines is malformed, whichever they name.
		{"witness policy with two quorum lines", []string{"--key", key, "--witness-policy", write("wp1", "witness a "+testWitnessKey+"\nwitness b "+testWitnessKey2+"\nquorum a\nquorum b\n")}, "line 4: a second quorum line (the first is line 3)"},
		{"witness policy with one quorum line twice", []string{"--key", key, "--witness-policy", write("wp2", "witness a "+testWitnessKey+"\nquorum a\nquorum a\n")}, "line 3: a second quorum line"},
		// The JSON custos audit key --json prints, its members edited apart.
		{"key JSON whose fingerprint is another key's", []string{"--trusted-keys", write("kj", `{"key":"`+key+`","origin":"`+strings.SplitN(key, "+", 2)[0]+`","fingerprint":"`+strings.Repeat("ab", 32)+`"}`)}, "is not the fingerprint of its key"},
		{"key with its hash in upper case", []string{"--key", strings.Replace(key, "+d3a084f2+", "+D3A084F2+", 1)}, "must be in lower case"},
	}
	for _, c := range cases {
		code, out, errs := runVerify(append([]string{vectorPkg}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Contains(out, "FAILED") || strings.Contains(errs, "not the trusted key") ||
			strings.Contains(errs, "does not verify") || !strings.HasSuffix(errs, "the package was not checked\n") {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", c.name, code, out, errs)
		}
	}
	// A flag left without its value, or given an empty one (an unset
	// variable in a script), is a usage error, never ignored.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "--identity", write("id3", "x")}, "--key needs a value: it was followed by --identity"},
		{[]string{"--key", ""}, "--key is empty"},
		{[]string{"--key", key, "--checkpoint", " "}, "--checkpoint is empty"},
		// --key=VALUE is taken as meant: here a malformed key, not a
		// swallowed flag.
		{[]string{"--key=--identity"}, "--key is not a well-formed log key"},
	} {
		if code, _, errs := runVerify(append([]string{vectorPkg}, c.args...)...); code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d\n%s", c.args, code, errs)
		}
	}
	// A mistyped fingerprint is a mismatch that names both fingerprints
	// and says it may be a typo.
	fp := keyFingerprint(t, key)
	typo := fp[:63] + string("10"[map[bool]int{true: 1, false: 0}[fp[63] == '1']])
	if code, _, errs := runVerify(vectorPkg, "--key", typo); code != 1 || !strings.Contains(errs, "not the key you gave (fingerprint "+typo+")") || !strings.Contains(errs, "mistyped") {
		t.Errorf("a mistyped fingerprint: exit %d\n%s", code, errs)
	}
	// A well-formed checkpoint signed by another key is a real mismatch.
	other := strings.Replace(cp, "custos-5ea1ed0c0de5\n", "custos-5ea1ed0c0de5\n", 1)
	lines := strings.Split(other, "\n")
	lines[1] = "9" // another tree size: the signature no longer verifies
	if code, out, _ := runVerify(vectorPkg, "--checkpoint", write("cp4", strings.Join(lines, "\n"))); code != 1 || !strings.HasSuffix(out, "FAILED\n") {
		t.Errorf("a checkpoint whose signature fails: exit %d\n%s", code, out)
	}
}

// A passphrase-encrypted identity (age -p) opens with
// --identity-passphrase-file; without it the refusal says what to do; a
// wrong passphrase says so.
func TestPassphraseIdentity(t *testing.T) {
	key := vectorKey(t)
	dir := t.TempDir()
	idb, _ := os.ReadFile(vectorID)
	r, _ := age.NewScryptRecipient("correct horse battery")
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, _ := age.Encrypt(aw, r)
	w.Write(idb)
	w.Close()
	aw.Close()
	enc := filepath.Join(dir, "identity.age")
	os.WriteFile(enc, buf.Bytes(), 0o600)
	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("correct horse battery\r\n"), 0o600)
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("correct horse\n"), 0o600)

	if code, out, errs := runVerify(vectorPkg, "--key", key, "--identity", enc, "--identity-passphrase-file", pass); code != 0 || !strings.Contains(out, "2 items decrypted") {
		t.Fatalf("with the passphrase: %d\n%s%s", code, out, errs)
	}
	code, _, errs := runVerify(vectorPkg, "--key", key, "--identity", enc)
	if code != 2 || !strings.Contains(errs, "encrypted with a passphrase") || !strings.Contains(errs, "--identity-passphrase-file") {
		t.Fatalf("without the passphrase: %d %s", code, errs)
	}
	code, _, errs = runVerify(vectorPkg, "--key", key, "--identity", enc, "--identity-passphrase-file", wrong)
	if code != 2 || !strings.Contains(errs, "does not open") {
		t.Fatalf("a wrong passphrase: %d %s", code, errs)
	}
	if code, _, errs := runVerify(vectorPkg, "--identity-passphrase-file", pass); code != 2 || !strings.Contains(errs, "needs --identity") {
		t.Fatalf("a passphrase without an identity: %d %s", code, errs)
	}
	if code, _, errs := runVerify(vectorPkg, "--identity", "-", "--identity-passphrase-file", "-"); code != 2 || !strings.Contains(errs, "standard input") {
		t.Fatalf("two files from standard input: %d %s", code, errs)
	}
}

// custos-verify builds without cgo into one static file, and `make build`
// builds it so.
func TestStaticBuild(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "custos-verify")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	ok := false
	for _, line := range strings.Split(string(mk), "\n") {
		if strings.Contains(line, "CGO_ENABLED=0 $(GO) build") && strings.HasSuffix(strings.TrimSpace(line), "./cmd/custos-verify") {
			ok = true
		}
	}
	if !ok {
		t.Fatal("the Makefile does not build ./cmd/custos-verify with CGO_ENABLED=0")
	}
}

// testWitnessKey and testWitnessKey2 are well-formed witness verifier
// keys (Ed25519, type 0x01) of no real witness.
const (
	testWitnessKey  = "witness.a.example+238dbf64+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"
	testWitnessKey2 = "witness.b.example+7c8d293d+AQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC"
)
