package keyfile

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/custos-vault/custos/internal/testenv"
	"golang.org/x/mod/sumdb/note"
)

// opens reports whether ids decrypt a file encrypted to recipient.
func opens(t *testing.T, ids []age.Identity, recipient age.Recipient) bool {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipient)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "evidence")
	w.Close()
	r, err := age.Decrypt(&buf, ids...)
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(r)
	return string(b) == "evidence"
}

func malformedAt(t *testing.T, err error, line int, want string) {
	t.Helper()
	var me *MalformedError
	if !errors.As(err, &me) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("want a MalformedError, got %v", err)
	}
	if me.Line != line || !strings.Contains(err.Error(), want) {
		t.Fatalf("want line %d saying %q, got %v", line, want, err)
	}
}

// Identity files as editors and mail programs save them: a byte-order
// mark, CRLF line ends, trailing and leading white space, a key in lower
// case, comments; X25519 and hybrid post-quantum keys alike.
func TestIdentityFilesAsSaved(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	for name, text := range map[string]string{
		"as age-keygen writes it": "# created: 2026-01-01T00:00:00Z\n# public key: " + x.Recipient().String() + "\n" + x.String() + "\n",
		"BOM":                     "\uFEFF" + x.String() + "\n",
		"CRLF":                    "# comment\r\n" + x.String() + "\r\n\r\n",
		"BOM CRLF no final EOL":   "\uFEFF# comment\r\n" + x.String(),
		"trailing white space":    x.String() + " \t \n",
		"leading white space":     "   " + x.String() + "\n",
		"lower case":              strings.ToLower(x.String()) + "\n",
		"lone CR":                 "# old Mac\r" + x.String() + "\r",
	} {
		ids, err := ParseIdentities("id.txt", []byte(text), nil)
		if err != nil || len(ids) != 1 || !opens(t, ids, x.Recipient()) || Recipient(ids[0]) != x.Recipient().String() {
			t.Errorf("%s: %v", name, err)
		}
	}
	ids, err := ParseIdentities("pq.txt", []byte("\uFEFF"+pq.String()+"  \r\n"+x.String()+"\r\n"), nil)
	if err != nil || len(ids) != 2 || !opens(t, ids, pq.Recipient()) || Recipient(ids[0]) != pq.Recipient().String() {
		t.Fatalf("hybrid identity: %v", err)
	}
}

// Anything else is malformed, naming the file and the line, without key
// material in the message.
func TestIdentityFilesMalformed(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	s := x.String()
	damaged := s[:20] + string("QPZRY9X8"[(strings.IndexByte("QPZRY9X8", s[20])+1)%8]) + s[21:]
	if damaged == s {
		t.Fatal("no change")
	}
	cases := []struct {
		name, text string
		line       int
		want       string
	}{
		{"empty", "", 0, "holds no identity"},
		{"comments only", "# nothing\n\n", 0, "holds no identity"},
		{"a recipient", "# mine\n" + x.Recipient().String() + "\n", 2, "is a recipient"},
		{"a hybrid recipient", pq.Recipient().String() + "\n", 1, "is a recipient"},
		{"damaged key", "# c\r\n\r\n" + damaged + "\r\n", 3, "is damaged"},
		{"truncated key", s[:40] + "\n", 1, "is damaged"},
		{"damaged hybrid key", pq.String()[:50] + "\n", 1, "hybrid post-quantum identity"},
		{"plugin", "AGE-PLUGIN-YUBIKEY-1QQQQQQQ\n", 1, "plugin"},
		{"ssh private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n", 1, "SSH private key"},
		{"ssh public key", "ssh-ed25519 AAAAC3Nza me@host\n", 1, "SSH public key"},
		{"garbage", s + "\nhello\n", 2, "not an age identity"},
		{"not UTF-8", "\xff\xfe" + s + "\n", 1, "not UTF-8"},
	}
	for _, c := range cases {
		_, err := ParseIdentities("k.txt", []byte(c.text), nil)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) { malformedAt(t, err, c.line, c.want) })
		if !strings.HasPrefix(err.Error(), "k.txt is not a well-formed age identity file") {
			t.Errorf("%s: %v does not name the file", c.name, err)
		}
		if strings.Contains(err.Error(), s[16:40]) || strings.Contains(err.Error(), damaged[16:40]) {
			t.Errorf("%s: the error quotes the key: %v", c.name, err)
		}
	}
}

// encryptWithPassphrase is what `age -p` writes, made with the library:
// an age file with one scrypt stanza.
func encryptWithPassphrase(t *testing.T, plain, pass string, armored bool) []byte {
	t.Helper()
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var buf bytes.Buffer
	var dst io.WriteCloser = nopCloser{&buf}
	if armored {
		dst = armor.NewWriter(&buf)
	}
	w, err := age.Encrypt(dst, r)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dst.Close()
	return buf.Bytes()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func fixed(s string) Passphrase { return func() (string, error) { return s, nil } }

// A passphrase-encrypted identity file, binary or armored (also with CRLF
// line ends), opens with its passphrase; without one it says what it is;
// with a wrong one it says so; and the passphrase is asked for only when
// the file needs it.
func TestPassphraseEncryptedIdentity(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	plain := "# created by age-keygen\n" + x.String() + "\n"
	bin := encryptWithPassphrase(t, plain, "correct horse", false)
	arm := encryptWithPassphrase(t, plain, "correct horse", true)
	armCRLF := []byte("\uFEFF" + strings.ReplaceAll(string(arm), "\n", "  \r\n"))
	for name, b := range map[string][]byte{"binary": bin, "armored": arm, "armored, BOM and CRLF": armCRLF} {
		ids, err := ParseIdentities("id.age", b, fixed("correct horse"))
		if err != nil || len(ids) != 1 || !opens(t, ids, x.Recipient()) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := ParseIdentities("id.age", b, nil); !errors.Is(err, ErrPassphraseNeeded) || !strings.HasPrefix(err.Error(), "id.age: ") {
			t.Errorf("%s without a passphrase: %v", name, err)
		}
		if _, err := ParseIdentities("id.age", b, fixed("wrong")); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s with a wrong passphrase: %v", name, err)
		}
	}
	asked := false
	if _, err := ParseIdentities("id.txt", []byte(plain), func() (string, error) { asked = true; return "", nil }); err != nil || asked {
		t.Fatalf("a plain file: %v, asked for a passphrase: %v", err, asked)
	}
	// Encrypted to a key, not a passphrase: refused, saying so.
	var buf bytes.Buffer
	other, _ := age.GenerateX25519Identity()
	w, _ := age.Encrypt(&buf, other.Recipient())
	io.WriteString(w, plain)
	w.Close()
	_, err := ParseIdentities("id.age", buf.Bytes(), func() (string, error) { asked = true; return "", nil })
	if asked {
		t.Error("asked for a passphrase for a file encrypted to a key")
	}
	malformedAt(t, err, 0, "encrypted to a key (X25519), not with a passphrase")
	// Holding something that is not identities.
	_, err = ParseIdentities("id.age", encryptWithPassphrase(t, "age1notanidentity\n", "p", false), fixed("p"))
	malformedAt(t, err, 1, "is a recipient")
	if !strings.Contains(err.Error(), "id.age (decrypted)") {
		t.Errorf("the error does not say it is about the decrypted content: %v", err)
	}
	// Damaged ciphertext.
	bad := bytes.Clone(bin)
	bad[len(bad)-3] ^= 1
	_, err = ParseIdentities("id.age", bad, fixed("correct horse"))
	malformedAt(t, err, 0, "is damaged")
}

// Files made by the stock age command line: age-keygen and age-keygen
// -pq identities saved with CRLF and a byte-order mark, and an identity
// encrypted with a passphrase as `age -p` does (the batchpass plugin
// shipped with age writes the same scrypt stanza without a terminal),
// armored and binary. The stock age then decrypts, with the same
// identity, what was encrypted to the recipient keyfile reports.
func TestStockAgeFiles(t *testing.T) {
	ageBin := testenv.Binary(t, "age")
	keygen := testenv.Binary(t, "age-keygen")
	testenv.Binary(t, "age-plugin-batchpass")
	dir := t.TempDir()
	run := func(env []string, name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "PATH="+filepath.Dir(ageBin)+":"+os.Getenv("PATH")), env...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", name, args, err, errb.String())
		}
		return out
	}
	for _, kind := range [][]string{{"-o", "x.key"}, {"-pq", "-o", "pq.key"}} {
		run(nil, keygen, kind...)
		file := kind[len(kind)-1]
		b, _ := os.ReadFile(filepath.Join(dir, file))
		os.WriteFile(filepath.Join(dir, "crlf-"+file), []byte("\uFEFF"+strings.ReplaceAll(string(b), "\n", " \r\n")), 0o600)
		ids, err := ReadIdentities(filepath.Join(dir, "crlf-"+file), nil)
		if err != nil || len(ids) != 1 {
			t.Fatalf("%s with BOM and CRLF: %v", file, err)
		}
		pub := strings.TrimSpace(string(run(nil, keygen, "-y", file)))
		if Recipient(ids[0]) != pub {
			t.Fatalf("%s: recipient %.40s..., age-keygen -y says %.40s...", file, Recipient(ids[0]), pub)
		}
		// The stock age encrypts to the recipient; ids open it.
		os.WriteFile(filepath.Join(dir, "plain"), []byte("evidence"), 0o600)
		ct := run(nil, ageBin, "-r", pub, "plain")
		d, err := age.Decrypt(bytes.NewReader(ct), ids...)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if got, _ := io.ReadAll(d); string(got) != "evidence" {
			t.Fatalf("%s: got %q", file, got)
		}
		for _, armored := range []bool{false, true} {
			args := []string{"-e", "-j", "batchpass", "-o", file + ".age", file}
			if armored {
				args = append([]string{"-a"}, args...)
			}
			run([]string{"AGE_PASSPHRASE=pass phrase", "AGE_PASSPHRASE_WORK_FACTOR=12"}, ageBin, args...)
			enc := filepath.Join(dir, file+".age")
			hdr := run(nil, testenv.Binary(t, "age-inspect"), enc)
			if !bytes.Contains(hdr, []byte(`"scrypt"`)) {
				t.Fatalf("age-inspect: %s", hdr)
			}
			// The passphrase file as a Windows editor saves it.
			pf := filepath.Join(dir, "pass.txt")
			os.WriteFile(pf, []byte("\uFEFFpass phrase\r\n"), 0o600)
			pass, err := ReadPassphrase(pf)
			if err != nil || pass != "pass phrase" {
				t.Fatalf("ReadPassphrase: %q %v", pass, err)
			}
			ids, err := ReadIdentities(enc, fixed(pass))
			if err != nil || len(ids) != 1 || Recipient(ids[0]) != pub {
				t.Fatalf("%s armored=%v with its passphrase: %v", file, armored, err)
			}
			if _, err := ReadIdentities(enc, nil); !errors.Is(err, ErrPassphraseNeeded) {
				t.Fatalf("%s armored=%v without a passphrase: %v", file, armored, err)
			}
			if _, err := ReadIdentities(enc, fixed("pass phrase ")); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("%s armored=%v with a wrong passphrase: %v", file, armored, err)
			}
		}
	}
}

func TestReadPassphrase(t *testing.T) {
	dir := t.TempDir()
	for text, want := range map[string]string{
		"secret\n":         "secret",
		"secret":           "secret",
		"\uFEFFsecret\r\n": "secret",
		" two words \n":    " two words ",
	} {
		p := filepath.Join(dir, "p")
		os.WriteFile(p, []byte(text), 0o600)
		if got, err := ReadPassphrase(p); err != nil || got != want {
			t.Errorf("%q: %q %v", text, got, err)
		}
	}
	for text, want := range map[string]string{"": "empty", "\r\n": "empty", "a\nb\n": "more than one line"} {
		p := filepath.Join(dir, "p")
		os.WriteFile(p, []byte(text), 0o600)
		_, err := ReadPassphrase(p)
		malformedAt(t, err, 0, want)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"\uFEFF":             "",
		"a":                  "a\n",
		"a\r\nb\r\n\r\n\r\n": "a\nb\n",
		"a \t\nb\u00a0\n":    "a\nb\n",
		"\n a\n":             "\n a\n",
		"a\rb":               "a\nb\n",
	} {
		if got := string(Normalize([]byte(in))); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NormalizeKey("\uFEFF  custos-abc+01234567+AQID\r\n"); got != "custos-abc+01234567+AQID" {
		t.Errorf("NormalizeKey: %q", got)
	}
}

// testCheckpoint signs a checkpoint note as the vault does.
func testCheckpoint(t testing.TB) []byte {
	skey, _, err := note.GenerateKey(rand.Reader, "custos-0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := note.Sign(&note.Note{Text: "custos-0123456789ab\n5\nUHA2boXATQnuxcog4jdCR79nMRBtDVs7oeXqMiIcf0k=\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Saved checkpoints come back exactly as signed after an editor added a
// byte-order mark, CRLF, trailing blanks or blank lines around them; a
// checkpoint whose form is broken is malformed, naming the line.
func TestCheckpointNormalised(t *testing.T) {
	cp := testCheckpoint(t)
	s := string(cp)
	for name, text := range map[string]string{
		"as saved":            s,
		"BOM CRLF":            "\uFEFF" + strings.ReplaceAll(s, "\n", "\r\n"),
		"trailing blanks":     strings.ReplaceAll(s, "\n", "  \n"),
		"blank lines around":  "\n\n" + s + "\n\n",
		"no final line end":   strings.TrimSuffix(s, "\n"),
		"CRLF, tabs at end":   strings.ReplaceAll(s, "\n", "\t\r\n"),
		"blank line is blank": strings.Replace(s, "\n\n", "\n   \n", 1),
	} {
		got, err := ParseCheckpoint("saved.cp", []byte(text))
		if err != nil || !bytes.Equal(got, cp) {
			t.Errorf("%s: %v\n%q", name, err, got)
		}
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	join := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	sig := lines[4]
	cases := []struct {
		name, text string
		line       int
		want       string
	}{
		{"empty", "\r\n", 0, "empty"},
		{"text only", join(lines[:3]...), 0, "cut short"},
		{"no signature", join(lines[:4]...) + "\n", 0, "cut short"},
		{"no blank line", join(lines[0], lines[1], lines[2], sig), 0, "no blank line"},
		{"two text lines", join(lines[0], lines[2], "", sig), 3, "three lines"},
		{"extension line", join(lines[0], lines[1], lines[2], "ext", "", sig), 4, "three lines"},
		{"size not decimal", join(lines[0], "five", lines[2], "", sig), 2, "tree size"},
		{"size with leading zero", join(lines[0], "05", lines[2], "", sig), 2, "tree size"},
		{"root cut", join(lines[0], lines[1], lines[2][:40], "", sig), 3, "root hash"},
		{"origin with space", join("custos x", lines[1], lines[2], "", sig), 1, "origin"},
		{"dash replaced", join(lines[0], lines[1], lines[2], "", "--"+strings.TrimPrefix(sig, "—")), 5, "em dash"},
		{"dash replaced, BOM, blank lines first", "\uFEFF\r\n\r\n" + join(lines[0], lines[1], lines[2], "", "- "+strings.TrimPrefix(sig, "— ")), 7, "em dash"},
		{"signature cut", join(lines[0], lines[1], lines[2], "", sig[:12]), 5, "signature"},
		{"signature not base64", join(lines[0], lines[1], lines[2], "", sig[:len(sig)-8]+"!!!!!!!!"), 5, "base64"},
		{"blank line among signatures", join(lines[0], lines[1], lines[2], "", sig, "", sig), 6, "empty line"},
		{"control character", strings.Replace(s, "5", "5\x00", 1), 0, "control"},
		{"too long", s + strings.Repeat("— k AAAAAAAA\n", 400), 0, "longer than"},
	}
	for _, c := range cases {
		_, err := ParseCheckpoint("saved.cp", []byte(c.text))
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) { malformedAt(t, err, c.line, c.want) })
		if !strings.HasPrefix(err.Error(), "saved.cp is not a well-formed checkpoint") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
