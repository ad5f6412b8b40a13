package pkgformat_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
	"golang.org/x/mod/sumdb/note"
)

var fixedTime = time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)

// forgedKeys makes another log key under the vector's origin name: what
// an insider who can rebuild a package end to end would use.
func forgedKeys(t *testing.T) (note.Signer, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, packageKeyName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, vkey
}

// writeMembers writes members as the vault writes a package, at the
// vector's time.
func writeMembers(t testing.TB, ms []member) []byte {
	t.Helper()
	var out bytes.Buffer
	w := pkgformat.NewWriter(&out, fixedTime)
	for _, m := range ms {
		if err := w.AddBytes(m.name, m.data); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return out.Bytes()
}

// replaceMember rebuilds a package with one member's content replaced.
func replaceMember(t *testing.T, pkg []byte, name string, data []byte) []byte {
	t.Helper()
	ms, err := members(pkg)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range ms {
		if ms[i].name == name {
			ms[i].data, found = data, true
		}
	}
	if !found {
		t.Fatalf("no member %s", name)
	}
	return writeMembers(t, ms)
}

// A package forged end to end with another key, under the same origin, is
// consistent with the key it names. It is never VERIFIED: without a
// trusted key it is "not authenticated", and every way of trusting the
// real key refutes it.
func TestForgedPackageNotVerified(t *testing.T) {
	id := readIdentity(t)
	_, realKey := packageKeys(t)
	fs, fkey := forgedKeys(t)
	forged := buildPackageWith(t, id, packageItems, fs, fkey)

	rep, err := pkgformat.Verify(bytes.NewReader(forged), pkgformat.VerifyOptions{Identities: []age.Identity{id}})
	if !errors.Is(err, pkgformat.ErrNotAuthenticated) || rep.KeyPinned {
		t.Fatalf("forged package without a trusted key: %v, want ErrNotAuthenticated", err)
	}

	// The real vault's checkpoint, saved by an auditor.
	realPkg := readPackage(t)
	savedCP := vectorMember(t, realPkg, pkgformat.CheckpointName)
	trustedFile := []byte("# keys of vaults we accept packages from\n\n" + realKey + "\n")
	keys, err := pkgformat.ParseTrustedKeys(trustedFile)
	if err != nil {
		t.Fatal(err)
	}
	fp := pkgformat.KeyFingerprint(realKey)
	for name, opts := range map[string]pkgformat.VerifyOptions{
		"--key":               {TrustedKey: realKey},
		"--key fingerprint":   {TrustedKey: strings.ToUpper(fp)},
		"--trusted-keys":      {TrustedKeys: keys},
		"--checkpoint":        {TrustedCheckpoint: savedCP},
		"fingerprint in list": {TrustedKeys: []string{fp}},
	} {
		if _, err := pkgformat.Verify(bytes.NewReader(forged), opts); err == nil || errors.Is(err, pkgformat.ErrNotAuthenticated) {
			t.Errorf("%s: forged package: %v, want a failure", name, err)
		}
		rep, err := pkgformat.Verify(bytes.NewReader(realPkg), opts)
		if err != nil || !rep.KeyPinned {
			t.Errorf("%s: real package: %v", name, err)
		}
	}
	// A saved checkpoint of another log does not pin anything.
	other := bytes.Replace(savedCP, []byte(packageKeyName), []byte("custos-other"), 1)
	if _, err := pkgformat.Verify(bytes.NewReader(realPkg), pkgformat.VerifyOptions{TrustedCheckpoint: other}); err == nil {
		t.Error("a checkpoint of another origin pinned the key")
	}
}

func TestParseTrustedKeys(t *testing.T) {
	_, realKey := packageKeys(t)
	for _, bad := range []string{"", "# only a comment\n", "not a key\n", realKey + "\nzz\n"} {
		if _, err := pkgformat.ParseTrustedKeys([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	keys, err := pkgformat.ParseTrustedKeys([]byte(" " + realKey + " \r\n" + pkgformat.KeyFingerprint(realKey) + "\n"))
	if err != nil || len(keys) != 2 || keys[0] != realKey {
		t.Fatalf("%q %v", keys, err)
	}
}

// Every member the manifest did not commit to in format 1 is now bound:
// an extra proof, an extra signature line on the checkpoint or on the
// manifest's signature, each fail even though the signatures that matter
// still verify.
func TestUncommittedMembersRefused(t *testing.T) {
	pkg := readPackage(t)
	_, vkey := packageKeys(t)
	other, _ := forgedKeys(t)
	opts := pkgformat.VerifyOptions{TrustedKey: vkey}
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), opts); err != nil {
		t.Fatal(err)
	}
	proofs := vectorMember(t, pkg, pkgformat.ProofsName)
	cp := vectorMember(t, pkg, pkgformat.CheckpointName)
	sig := vectorMember(t, pkg, pkgformat.SignatureName)
	cosign := func(b []byte) []byte {
		n, err := note.Open(b, note.VerifierList(mustVerifier(t, vkey)))
		if err != nil {
			t.Fatal(err)
		}
		extra, err := note.Sign(&note.Note{Text: n.Text}, other)
		if err != nil {
			t.Fatal(err)
		}
		_, line, _ := bytes.Cut(extra, []byte("\n\n"))
		return append(bytes.Clone(b), line...)
	}
	cases := map[string][]byte{
		pkgformat.ProofsName:     bytes.Replace(proofs, []byte(`"proofs": {`), []byte(`"proofs": {"999": [],`), 1),
		pkgformat.CheckpointName: cosign(cp),
		pkgformat.SignatureName:  cosign(sig),
	}
	for name, data := range cases {
		if bytes.Equal(data, vectorMember(t, pkg, name)) {
			t.Fatalf("%s unchanged", name)
		}
		if _, err := pkgformat.Verify(bytes.NewReader(replaceMember(t, pkg, name, data)), opts); err == nil {
			t.Errorf("%s with extra content verified", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOtherFormatsRefused(t *testing.T) {
	for _, f := range []string{pkgformat.FormatV1, "custos-package/4", ""} {
		_, err := pkgformat.ParseManifest([]byte(fmt.Sprintf(`{"format":%q}`, f)))
		if err == nil || !strings.Contains(err.Error(), "format") {
			t.Errorf("format %q: %v", f, err)
		}
	}
	if _, err := pkgformat.ParseManifest([]byte(`{"format":"custos-package/1"}`)); err == nil || !strings.Contains(err.Error(), "no longer read") {
		t.Errorf("format 1: %v", err)
	}
}

// A failure after items were decrypted leaves nothing in the extract
// folder: not for an altered report, an extra member, or a package whose
// key is not pinned.
func TestExtractLeavesNothingOnFailure(t *testing.T) {
	pkg := readPackage(t)
	id := readIdentity(t)
	_, vkey := packageKeys(t)
	report := vectorMember(t, pkg, pkgformat.ReportName)
	badReport := bytes.Clone(report)
	badReport[len(badReport)-2] ^= 1
	extra := append(bytes.Clone(pkg[:len(pkg)-1024]), tarMember(t, "zz", []byte("x"))...)
	for name, c := range map[string]struct {
		pkg []byte
		key string
	}{
		"altered report":      {replaceMember(t, pkg, pkgformat.ReportName, badReport), vkey},
		"extra member":        {extra, vkey},
		"key not pinned":      {pkg, ""},
		"another trusted key": {pkg, "custos-other+01234567+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"},
	} {
		dir := filepath.Join(t.TempDir(), "out")
		os.Mkdir(dir, 0o755)
		rep, err := pkgformat.Verify(bytes.NewReader(c.pkg), pkgformat.VerifyOptions{TrustedKey: c.key, Identities: []age.Identity{id}, ExtractDir: dir})
		if err == nil {
			t.Errorf("%s: verified", name)
			continue
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 0 || len(rep.Extracted) != 0 {
			t.Errorf("%s: %v; the folder holds %d entries after the failure", name, err, len(ents))
		}
	}
}

func tarMember(t *testing.T, name string, data []byte) []byte {
	var b bytes.Buffer
	w := pkgformat.NewWriter(&b, fixedTime)
	w.AddBytes(name, data)
	w.Close()
	return b.Bytes()
}

// fatRefuses simulates a FAT32 or exFAT file system, which refuses names
// with <>:"|?*\ or control characters (EINVAL) and longer than 255 bytes
// (ENAMETOOLONG). No FAT file system can be mounted in a test, so the
// refusal is simulated in front of the real rename.
func fatRefuses(oldpath, newpath string) error {
	base := filepath.Base(newpath)
	if strings.ContainsAny(base, "<>:\"|?*\\") || strings.ContainsFunc(base, func(r rune) bool { return r < 0x20 }) {
		return &os.LinkError{Op: "link", Old: oldpath, New: newpath, Err: syscall.EINVAL}
	}
	if len(base) > 255 {
		return &os.LinkError{Op: "link", Old: oldpath, New: newpath, Err: syscall.ENAMETOOLONG}
	}
	return pkgformat.RenameNoReplace(oldpath, newpath)
}

// An intact package extracts onto a file system that refuses some names:
// each refused or unsafe name falls back to the item's archive name, and
// the report says why.
func TestExtractFallsBackOnRefusedNames(t *testing.T) {
	id := readIdentity(t)
	signer, vkey := packageKeys(t)
	long := strings.Repeat("ម", 90) + ".txt" // 274 bytes: too long for ext4, NTFS, FAT
	items := []vectorItem{
		{"it_000000000000000000000001", "report: 2026?.txt", "colon and question mark\n"},
		{"it_000000000000000000000002", "chat <export> & log.txt", "angle brackets\n"},
		{"it_000000000000000000000003", "CON.txt", "a Windows device name\n"},
		{"it_000000000000000000000004", "notes. ", "trailing dot and space\n"},
		{"it_000000000000000000000005", "photo.jpg", "an ordinary name\n"},
		{"it_000000000000000000000006", "dir/photo.jpg", "the same base name again\n"},
		{"it_000000000000000000000007", long, "a long name\n"},
		{"it_000000000000000000000008", "a|b*c\"d", "pipe, star, quote\n"},
	}
	pkg := buildPackageWith(t, id, items, signer, vkey)
	check := func(t *testing.T, rep *pkgformat.Report, dir string, kept []int) {
		t.Helper()
		if len(rep.Extracted) != len(items) {
			t.Fatalf("extracted %d of %d", len(rep.Extracted), len(items))
		}
		for i, it := range items {
			x := rep.Extracted[i]
			got, err := os.ReadFile(x.Path)
			if err != nil || string(got) != it.content {
				t.Fatalf("%q: %s %q %v", it.name, x.Path, got, err)
			}
			archive := strings.TrimSuffix(filepath.Base(pkgformat.ItemPath(i, it.name)), ".age")
			if slices.Contains(kept, i) {
				// Under its deposited name, relative path included.
				if x.Fallback != "" || x.Path != filepath.Join(dir, filepath.FromSlash(it.name)) {
					t.Errorf("%q extracted as %s (%s)", it.name, x.Path, x.Fallback)
				}
			} else if filepath.Dir(x.Path) != dir {
				t.Errorf("%q extracted as %s, outside %s", it.name, x.Path, dir)
			} else if x.Fallback == "" || filepath.Base(x.Path) != archive {
				t.Errorf("%q extracted as %s, want %s with a reason", it.name, x.Path, archive)
			} else {
				t.Logf("%q -> %s: %s", it.name, filepath.Base(x.Path), x.Fallback)
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) != len(items) {
			t.Errorf("folder holds %d entries, want %d", len(ents), len(items))
		}
	}

	t.Run("simulated FAT", func(t *testing.T) {
		defer pkgformat.SetRenameHook(fatRefuses)()
		dir := t.TempDir()
		rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}, ExtractDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		check(t, rep, dir, []int{4, 5})
	})
	t.Run("local file system", func(t *testing.T) {
		// Real refusals: the long name (ENAMETOOLONG on every common Linux
		// file system); device names and trailing dots are never tried.
		dir := t.TempDir()
		rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}, ExtractDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		check(t, rep, dir, []int{0, 1, 4, 5, 7})
	})
}

// TestSignatureInOneEncodingOnly: manifest.sig re-encoded with non-zero
// unused base64 bits still decodes to the same signature; it is refused,
// so that the package's bytes cannot change without the key.
func TestSignatureInOneEncodingOnly(t *testing.T) {
	pkg := readPackage(t)
	_, vkey := packageKeys(t)
	sig := vectorMember(t, pkg, pkgformat.SignatureName)
	line := bytes.TrimRight(sig, "\n")
	i := bytes.LastIndexByte(line, ' ') + 1
	b64 := string(line[i:])
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	// An Ed25519 note signature (4-byte key hash + 64 bytes) is 68
	// bytes: 92 base64 characters with two unused bits before "==".
	mutated := testenv.NonCanonicalBase64(b64)
	if again, err := base64.StdEncoding.DecodeString(mutated); err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("the mutation changed the signature itself: %v", err)
	}
	altered := append(append(bytes.Clone(line[:i]), mutated...), '\n')
	if _, err := pkgformat.Verify(bytes.NewReader(replaceMember(t, pkg, pkgformat.SignatureName, altered)), pkgformat.VerifyOptions{TrustedKey: vkey}); err == nil {
		t.Fatal("a re-encoded manifest signature verified")
	}
}

// TestSignedButContradictedManifestRefused: a manifest signed with the
// log key that contradicts the signed events it carries (a vault bug or
// an insider with the key) is not VERIFIED: the legacy hashes of an item
// against its deposit event, the sealing time against the sealing event,
// the case's opening missing, an event of another case.
func TestSignedButContradictedManifestRefused(t *testing.T) {
	pkg := readPackage(t)
	signer, vkey := packageKeys(t)
	opts := pkgformat.VerifyOptions{TrustedKey: vkey}
	resign := func(mutate func(m *pkgformat.Manifest)) []byte {
		m, err := pkgformat.ParseManifest(vectorMember(t, pkg, pkgformat.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		mutate(m)
		mb, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		sig, err := pkgformat.SignManifest(signer, m.Package, mb)
		if err != nil {
			t.Fatal(err)
		}
		return replaceMember(t, replaceMember(t, pkg, pkgformat.ManifestName, mb), pkgformat.SignatureName, sig)
	}
	if _, err := pkgformat.Verify(bytes.NewReader(resign(func(*pkgformat.Manifest) {})), opts); err != nil {
		t.Fatalf("the re-signed, unchanged manifest: %v", err)
	}
	cases := map[string]func(m *pkgformat.Manifest){
		"md5 of an item":      func(m *pkgformat.Manifest) { m.Items[0].MD5 = strings.Repeat("0", 32) },
		"sha1 of an item":     func(m *pkgformat.Manifest) { m.Items[0].SHA1 = "" },
		"sealing time":        func(m *pkgformat.Manifest) { m.SealedAt = "1999-01-01T00:00:00.000000000Z" },
		"case of the package": func(m *pkgformat.Manifest) { m.Case = "OTHER-CASE" },
	}
	for name, mutate := range cases {
		if _, err := pkgformat.Verify(bytes.NewReader(resign(mutate)), opts); err == nil {
			t.Errorf("%s contradicting the signed events verified", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// The case's opening left out: the event removed from the manifest and
	// the archive.
	m, _ := pkgformat.ParseManifest(vectorMember(t, pkg, pkgformat.ManifestName))
	opened := ""
	for _, e := range m.Events {
		if bytes.Contains(vectorMember(t, pkg, e.Path), []byte(`"type":"case.opened"`)) {
			opened = e.Path
		}
	}
	if opened == "" {
		t.Fatal("the vector has no case.opened event")
	}
	// Its proof goes too: proofs.json holds one proof per listed event.
	var proofs pkgformat.Proofs
	if err := json.Unmarshal(vectorMember(t, pkg, pkgformat.ProofsName), &proofs); err != nil {
		t.Fatal(err)
	}
	seq := strings.TrimLeft(strings.TrimSuffix(strings.TrimPrefix(opened, "events/"), ".json"), "0")
	delete(proofs.Proofs, seq)
	pb, _ := json.MarshalIndent(proofs, "", "  ")
	pkg = replaceMember(t, pkg, pkgformat.ProofsName, pb)
	without := resign(func(m *pkgformat.Manifest) {
		m.Events = slices.DeleteFunc(m.Events, func(e pkgformat.Event) bool { return e.Path == opened })
		m.ProofsSHA256 = sha256hex(pb)
	})
	without = removeMember(t, without, opened)
	if _, err := pkgformat.Verify(bytes.NewReader(without), opts); err == nil || !strings.Contains(err.Error(), "case.opened") {
		t.Errorf("a package without its case's opening: %v", err)
	}
}

func removeMember(t *testing.T, pkg []byte, name string) []byte {
	t.Helper()
	ms, err := members(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return writeMembers(t, slices.DeleteFunc(ms, func(m member) bool { return m.name == name }))
}

// A saved checkpoint of the same size as the package's, signed by the
// same key, must be the same tree: two roots of one size are two
// histories of one append-only log (the vault's log rewritten), and the
// package fails with ErrForkedFromSaved even though the saved checkpoint
// pins the key. The package's own checkpoint passes, saying the trees
// are one; a saved checkpoint of another size pins the key and says
// that consistency is not shown.
func TestSavedCheckpointOfTheSameSizeIsTheSameTree(t *testing.T) {
	signer, _ := packageKeys(t)
	realPkg := readPackage(t)
	own := vectorMember(t, realPkg, pkgformat.CheckpointName)
	origin, size, err := events.PeekCheckpoint(own)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(size uint64, root events.Hash) []byte {
		b, err := events.SignCheckpoint(signer, origin, size, root)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	forked := sign(size, events.Hash{1, 2, 3})
	rep, err := pkgformat.Verify(bytes.NewReader(realPkg), pkgformat.VerifyOptions{TrustedCheckpoint: forked})
	if !errors.Is(err, pkgformat.ErrForkedFromSaved) || !strings.Contains(err.Error(), "two different roots") {
		t.Fatalf("a saved checkpoint of the package's size with another root: %v, want ErrForkedFromSaved", err)
	}
	if rep.KeyPinned && rep.Checkpoint != nil && rep.Checkpoint.Size != size {
		t.Errorf("the report names a checkpoint of %d events", rep.Checkpoint.Size)
	}

	rep, err = pkgformat.Verify(bytes.NewReader(realPkg), pkgformat.VerifyOptions{TrustedCheckpoint: own})
	if err != nil || !rep.KeyPinned || !slices.ContainsFunc(rep.Checks, func(c string) bool { return strings.Contains(c, "your saved checkpoint's tree") }) {
		t.Fatalf("the package's own checkpoint, saved: %v, checks %q", err, rep.Checks)
	}

	rep, err = pkgformat.Verify(bytes.NewReader(realPkg), pkgformat.VerifyOptions{TrustedCheckpoint: sign(size+5, events.Hash{4})})
	if err != nil || !rep.KeyPinned || !slices.ContainsFunc(rep.Notes, func(c string) bool { return strings.Contains(c, "is not shown here") }) {
		t.Fatalf("a later saved checkpoint: %v, notes %q", err, rep.Notes)
	}
}

// TestExtractFallbackNameTaken: a seized file may bear any name, another
// item's archive name too. A blank name falls back to its archive name;
// when a file of the package was restored under that very name, the
// fallback takes the next free one (~2) and the package still verifies;
// a name the file system refuses leaves no empty folder made for it.
func TestExtractFallbackNameTaken(t *testing.T) {
	id := readIdentity(t)
	signer, vkey := packageKeys(t)
	items := []vectorItem{
		{"it_000000000000000000000001", "002-x20", "a file named like an archive name\n"},
		{"it_000000000000000000000002", `\x20`, "a file named with one space\n"},
		{"it_000000000000000000000003", "deep/er/" + strings.Repeat("ម", 90) + ".txt", "too long a name\n"},
	}
	pkg := buildPackageWith(t, id, items, signer, vkey)
	dir := t.TempDir()
	rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}, ExtractDir: dir})
	if err != nil {
		t.Fatalf("a package whose names collide with an archive name: %v", err)
	}
	want := []string{"002-x20", "002-x20~2", "003-deep_er_.txt"}
	for i, x := range rep.Extracted {
		got, err := os.ReadFile(x.Path)
		if err != nil || string(got) != items[i].content || filepath.Base(x.Path) != want[i] {
			t.Errorf("%q extracted as %s (%s), want %s", items[i].name, x.Path, x.Fallback, want[i])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "deep")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the folders made for a name the file system refused are left: %v", err)
	}
}

// TestExtractNamesTaken: the same file name from two exhibits (a Thai
// photo on two phones) is extracted the second time with ~2 before its
// extension, in its own folders, its letters kept (not the archive name,
// which keeps ASCII alone), and the fallback says so; an item deposited
// under a name another item's fallback would take (a~2.jpg beside two
// a.jpg; 001-CON beside CON, whose archive name it is) keeps its own
// name: the usable first names are placed before the repeats and the
// fallbacks. The answer stays in the manifest's order, each file with
// its item's id.
func TestExtractNamesTaken(t *testing.T) {
	for _, c := range []struct {
		items []vectorItem
		want  []string
	}{
		{[]vectorItem{
			{"it_000000000000000000000001", "DCIM/รูปภาพ.jpg", "the photo on the first phone\n"},
			{"it_000000000000000000000002", "DCIM/รูปภาพ.jpg", "the photo on the second phone\n"},
			{"it_000000000000000000000003", "DCIM/รูปภาพ.jpg", "and on a third\n"},
			{"it_000000000000000000000004", ".profile", "a dot file\n"},
			{"it_000000000000000000000005", ".profile", "its twin\n"},
		}, []string{"DCIM/รูปภาพ.jpg", "DCIM/รูปภาพ~2.jpg", "DCIM/รูปภาพ~3.jpg", ".profile", ".profile~2"}},
		{[]vectorItem{
			{"it_000000000000000000000001", "CON", "a Windows device name\n"},
			{"it_000000000000000000000002", "a.jpg", "the first a.jpg\n"},
			{"it_000000000000000000000003", "a.jpg", "the second a.jpg\n"},
			{"it_000000000000000000000004", "a~2.jpg", "a file deposited as a~2.jpg\n"},
			{"it_000000000000000000000005", "001-CON", "a file deposited as 001-CON\n"},
		}, []string{"001-CON~2", "a.jpg", "a~3.jpg", "a~2.jpg", "001-CON"}},
	} {
		dir, rep := extractItems(t, c.items)
		if len(rep.Extracted) != len(c.want) {
			t.Fatalf("extracted %d files", len(rep.Extracted))
		}
		for i, x := range rep.Extracted {
			it := c.items[i]
			got, err := os.ReadFile(x.Path)
			if err != nil || string(got) != it.content || x.Path != filepath.Join(dir, filepath.FromSlash(c.want[i])) || x.ID != it.id {
				t.Errorf("%s %q extracted as %s (%s, id %s), want %s", it.id, it.name, x.Path, x.Fallback, x.ID, c.want[i])
			}
			if (x.Fallback != "") != (c.want[i] != it.name) {
				t.Errorf("%s: the fallback says %q", c.want[i], x.Fallback)
			}
		}
	}
}

// extractItems seals items into a package, verifies it and extracts it
// into a new folder, which it returns with the report.
func extractItems(t *testing.T, items []vectorItem) (string, *pkgformat.Report) {
	t.Helper()
	id := readIdentity(t)
	signer, vkey := packageKeys(t)
	pkg := buildPackageWith(t, id, items, signer, vkey)
	dir := t.TempDir()
	rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}, ExtractDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, rep
}
