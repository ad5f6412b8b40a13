package main

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

const (
	vectorPkg = "../../testdata/package/package.tar"
	vectorID  = "../../testdata/package/identity.txt"
)

// vectorKey is the log key of testdata/package (its README: Ed25519 seed
// 0x20..0x3f, name custos-5ea1ed0c0de5).
func vectorKey(t *testing.T) string {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(0x20 + i)
	}
	k, err := note.NewEd25519VerifierKey("custos-5ea1ed0c0de5", ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func runVerify(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Without a pinned key the verifier never says VERIFIED and exits 3; with
// the key (or its fingerprint, a trusted-keys file, a saved checkpoint) it
// exits 0; a package that fails a check exits 1; a usage error exits 2.
func TestExitStatus(t *testing.T) {
	key := vectorKey(t)
	dir := t.TempDir()
	trusted := filepath.Join(dir, "trusted")
	os.WriteFile(trusted, []byte("# ours\n"+key+"\n"), 0o600)
	pkg, _ := os.ReadFile(vectorPkg)
	cp := memberOf(t, pkg, "checkpoint")
	cpFile := filepath.Join(dir, "saved.checkpoint")
	os.WriteFile(cpFile, cp, 0o600)
	bad := bytes.Clone(pkg)
	i := bytes.LastIndex(bad, []byte("age-encryption.org/v1"))
	bad[i+200] ^= 1 // inside an item's ciphertext
	badFile := filepath.Join(dir, "bad.tar")
	os.WriteFile(badFile, bad, 0o600)

	code, out, errs := runVerify(vectorPkg)
	if code != 3 || strings.Contains(out, "\nVERIFIED") || !strings.Contains(out, "AUTHENTICITY NOT ESTABLISHED") || !strings.Contains(errs, "authenticity not established") ||
		!strings.Contains(out, "items were not decrypted") {
		t.Fatalf("without a key: %d\n%s\n%s", code, out, errs)
	}
	for _, args := range [][]string{
		{vectorPkg, "--key", key},
		{vectorPkg, "--key", strings.ToUpper(keyFingerprint(t, key))},
		{vectorPkg, "--trusted-keys", trusted},
		{vectorPkg, "--checkpoint", cpFile},
		{vectorPkg, "--key", key, "--identity", vectorID},
	} {
		if code, out, errs := runVerify(args...); code != 0 || !strings.HasSuffix(out, "VERIFIED\n") {
			t.Errorf("%q: %d\n%s\n%s", args, code, out, errs)
		}
	}
	// Without the identity, what was checked of the items is said as
	// what it is: the encrypted files, not their contents.
	if _, out, _ := runVerify(vectorPkg, "--key", key); !strings.Contains(out, "encrypted item files are the bytes the signed manifest names") ||
		!strings.Contains(out, "decrypted contents were not checked") {
		t.Errorf("without the identity, the items are said checked as:\n%s", out)
	}
	// One byte of an item's ciphertext changed: caught without the identity.
	if code, out, _ := runVerify(badFile, "--key", key); code != 1 || !strings.HasSuffix(out, "FAILED\n") {
		t.Errorf("altered item without identity: %d\n%s", code, out)
	}
	// With it, the failure names the alteration, not the recipient's key,
	// and tells a reader who is not the recipient where a fresh copy is.
	if code, out, _ := runVerify(badFile, "--key", key, "--identity", vectorID); code != 1 || !strings.Contains(out, "it was altered after the package was sealed") ||
		!strings.Contains(out, "the alteration, not the key you gave") || !strings.Contains(out, "if you are not its recipient, ask whoever gave it to you") {
		t.Errorf("altered item with the identity: %d\n%s", code, out)
	}
	if code, _, _ := runVerify(badFile); code != 1 {
		t.Errorf("altered item, no key: %d, want 1 (failed takes precedence)", code)
	}
	for _, args := range [][]string{{}, {vectorPkg, "--bogus"}, {vectorPkg, "--extract", dir}, {vectorPkg, vectorPkg}} {
		if code, _, errs := runVerify(args...); code != 2 || !strings.HasPrefix(errs, "custos-verify: error: ") {
			t.Errorf("%q: %d %q", args, code, errs)
		}
	}
	code, out, _ = runVerify(vectorPkg, "--json")
	var res result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 3 || res.Status != "authenticity-not-established" || res.KeyPinned || res.LogKey != key {
		t.Fatalf("--json without key: %d %v %+v", code, err, res)
	}
	code, out, _ = runVerify(vectorPkg, "--json", "--key", key)
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || res.Status != "verified" || !res.KeyPinned || res.LogKeyFingerprint != keyFingerprint(t, key) {
		t.Fatalf("--json with key: %d %v %+v", code, err, res)
	}
}

// keyFingerprint is the documented fingerprint, computed here
// independently: SHA-256 of the key string, lowercase hex.
func keyFingerprint(t *testing.T, key string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func memberOf(t *testing.T, pkg []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(pkg))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no member %s: %v", name, err)
		}
		if h.Name == name {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}

// TestFileSHA256IsTheFilesOwn: a verified package's report carries the
// SHA-256 of the file as read (what the vault records of the file it
// sealed, and what a receipt signs), so that a copy re-packed after
// sealing, which verifies (its members are the same), is told apart by
// it; a package that fails carries none.
func TestFileSHA256IsTheFilesOwn(t *testing.T) {
	key := vectorKey(t)
	sums := map[string]string{}
	for _, p := range []string{vectorPkg, "../../testdata/package/cases/valid-container-metadata.tar", "../../testdata/package/cases/valid-container-record-padding.tar"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%x", sha256.Sum256(b))
		code, out, _ := runVerify("--key", key, "--json", p)
		var res result
		if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 {
			t.Fatalf("%s: exit %d, %v: %s", p, code, err, out)
		}
		if res.FileSHA256 != want {
			t.Errorf("%s: file_sha256 %q, want %s", p, res.FileSHA256, want)
		}
		if _, out, _ = runVerify("--key", key, p); !strings.Contains(out, "package file SHA-256 "+want) {
			t.Errorf("%s: the text report does not give the file's SHA-256:\n%s", p, out)
		}
		sums[want] = p
	}
	if len(sums) != 3 {
		t.Fatalf("the re-packed copies have the same SHA-256 as the package: %v", sums)
	}
	// Not established (no key pinned): still read whole.
	if _, out, _ := runVerify("--json", vectorPkg); !strings.Contains(out, `"file_sha256":"`) {
		t.Errorf("a package whose authenticity is not established has no file_sha256: %s", out)
	}
	// A failed package: none.
	pkg, _ := os.ReadFile(vectorPkg)
	i := bytes.LastIndex(pkg, []byte("age-encryption.org/v1"))
	pkg[i+200] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.tar")
	os.WriteFile(bad, pkg, 0o600)
	if _, out, _ := runVerify("--key", key, "--json", bad); strings.Contains(out, `"file_sha256":"`) {
		t.Errorf("a failed package's report gives a file SHA-256: %s", out)
	}
}

// A package path that is a folder, or that does not exist, is said so in
// plain words, and nothing was checked.
func TestPackagePathMistakes(t *testing.T) {
	dir := t.TempDir()
	for path, says := range map[string]string{dir: "is a folder: give the file itself", filepath.Join(dir, "nope.tar"): "nope.tar does not exist"} {
		code, out, errOut := runVerify("--key", vectorKey(t), path)
		if code != exitFailed || !strings.Contains(errOut, says) || !strings.Contains(errOut, "the package was not checked") || strings.Contains(out, "VERIFIED") {
			t.Errorf("%s: exit %d, %q %q", path, code, out, errOut)
		}
	}
}

// Without a witness policy the report says what the checkpoint's
// witnesses vouch for: nothing checked, or no witness at all.
func TestWitnessesUncheckedAreSaidSo(t *testing.T) {
	key := vectorKey(t)
	for path, says := range map[string]string{
		vectorPkg: "no witness cosigned the checkpoint",
		"../../testdata/package/cases/valid-checkpoint-unknown-cosignature.tar": "carries 1 witness cosignature(s), not checked",
	} {
		if code, out, _ := runVerify("--key", key, path); code != exitVerified || !strings.Contains(out, says) {
			t.Errorf("%s: exit %d\n%s", path, code, out)
		}
	}
}

// A package signed by another key than the one pinned is answered with
// what to check, the key, not told to be fetched again.
func TestOtherKeySaysCheckTheKey(t *testing.T) {
	code, out, errOut := runVerify("--key", strings.Repeat("0", 64), vectorPkg)
	if code != exitFailed || !strings.Contains(out, "not signed by the key you pinned: check that key") || strings.Contains(out, "fetch the package again") ||
		!strings.Contains(errOut, "the package is not signed by the key you trust: it is signed by log key") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestOutputSaysWhatIsEstablished: what custos-verify prints is read by
// people who keep its standard output as a transcript. A copy that fails
// says why on it, and that the lines read from its manifest are not
// established; without a pinned key, the manifest's signature is said to
// be by the key the package names itself; a verified package says that
// its events are proven included, not complete.
func TestOutputSaysWhatIsEstablished(t *testing.T) {
	key := vectorKey(t)
	pkg, _ := os.ReadFile(vectorPkg)
	bad := bytes.Clone(pkg)
	i := bytes.LastIndex(bad, []byte("age-encryption.org/v1"))
	bad[i+200] ^= 1
	badFile := filepath.Join(t.TempDir(), "bad.tar")
	os.WriteFile(badFile, bad, 0o600)

	code, out, _ := runVerify(badFile, "--key", key)
	if code != 1 || !strings.Contains(out, "none of them is established") || !regexp.MustCompile(`\n  why: .+\nFAILED\n$`).MatchString(out) {
		t.Errorf("a failed copy: %d\n%s", code, out)
	}
	code, out, _ = runVerify(vectorPkg)
	if code != 3 || !strings.Contains(out, "signed by the key it names itself") || !regexp.MustCompile(`ok  manifest signed by the log key .*: the key the package names itself, not one you trust`).MatchString(out) {
		t.Errorf("without a pinned key: %d\n%s", code, out)
	}
	code, out, _ = runVerify(vectorPkg, "--key", key)
	if code != 0 || strings.Contains(out, "names itself") || strings.Contains(out, "not established") || !strings.Contains(out, "that none was left out is not") {
		t.Errorf("verified: %d\n%s", code, out)
	}
}
