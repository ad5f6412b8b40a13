package pkgformat_test

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/mod/sumdb/note"
)

// recipe returns the shell commands of docs/package-format.md section 10
// that check manifest.sig, exactly as the document prints them.
func recipe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Root(), "docs", "package-format.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "Manifest and signature (section 3):")
	end := strings.Index(doc, "The same commands check `checkpoint`")
	if start < 0 || end < start {
		t.Fatal("docs/package-format.md section 10 has moved; update this test")
	}
	var lines []string
	for _, l := range strings.Split(doc[start:end], "\n") {
		if strings.HasPrefix(l, "    ") {
			lines = append(lines, strings.TrimPrefix(l, "    "))
		}
	}
	return strings.Join(lines, "\n")
}

// The by-hand check of section 10 works for every log key: also for keys
// whose base64 holds '+' (about half of them), which a split at the last
// '+' would cut.
func TestHandRecipeChecksEverySignature(t *testing.T) {
	for _, bin := range []string{"openssl", "xxd", "base64", "tar", "sha256sum"} {
		testenv.Binary(t, bin)
	}
	cmds := recipe(t)
	if !strings.Contains(cmds, "key='...'") {
		t.Fatal("the recipe no longer sets key='...'")
	}
	id, _ := age.GenerateX25519Identity()
	withPlus, without := 0, 0
	for tries := 0; tries < 64 && (withPlus < 2 || without < 1); tries++ {
		skey, vkey, err := note.GenerateKey(rand.Reader, "custos-5ea1ed0c0de5")
		if err != nil {
			t.Fatal(err)
		}
		plus := strings.Count(vkey, "+") > 2 // NAME+HASH+BASE64, and '+' in BASE64
		if plus && withPlus >= 2 || !plus && without >= 1 {
			continue
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "PACKAGE"), buildPackageWith(t, id, packageItems[:1], signer, vkey), 0o644); err != nil {
			t.Fatal(err)
		}
		script := "set -e\ncd " + dir + "\ntar xf PACKAGE\n" + strings.Replace(cmds, "key='...'", "key='"+vkey+"'", 1)
		out, err := exec.Command("bash", "-c", script).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
			t.Fatalf("key %s: the recipe of section 10 does not verify the manifest: %v\n%s", vkey, err, out)
		}
		if plus {
			withPlus++
		} else {
			without++
		}
	}
	if withPlus < 2 || without < 1 {
		t.Fatalf("tried %d keys with '+' in their base64 and %d without", withPlus, without)
	}
}
