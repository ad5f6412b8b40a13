package e2e

// Insider attacks on what leaves the vault (issue 9, sections 7 and 8):
// packages forged or altered after sealing must never verify, extraction
// must never leave unverified plaintext, and the object-store
// administrator cannot delete or alter a package file unnoticed.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
	"golang.org/x/mod/sumdb/note"
)

// sealedPackage deposits two items, seals a package of them for the
// prosecutor and fetches it to work/p.tar; it returns the package id and
// the prosecutor's identity file.
func sealedPackage(t *testing.T, s *server, work string) (string, string) {
	t.Helper()
	setup(t, s, work)
	key := filepath.Join(work, "p.key")
	s.ok("prosecutor", work, "recipient", "set", newAgeKey(t, key))
	pk := s.ok("investigator", work, "package", "seal", "--case", "C-1", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	id := pk["package"].(string)
	s.ok("prosecutor", work, "package", "fetch", id, "-o", "p.tar")
	return id, key
}

// vaultKey runs `custos audit key --json` as person and checks its answer.
func vaultKey(t *testing.T, s *server, work, person string) (key, fingerprint string) {
	t.Helper()
	k := s.ok(person, work, "audit", "key", "--json").json(t)
	key, _ = k["key"].(string)
	fingerprint, _ = k["fingerprint"].(string)
	sum := sha256.Sum256([]byte(key))
	if key == "" || fingerprint != hex.EncodeToString(sum[:]) || !strings.HasPrefix(key, k["origin"].(string)+"+") {
		t.Fatalf("audit key answered %v", k)
	}
	return key, fingerprint
}

func readTar(t *testing.T, path string) []testenv.TarMember {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return testenv.TarMembers(t, f)
}

func writeTar(t *testing.T, path string, ms []testenv.TarMember) {
	t.Helper()
	var b bytes.Buffer
	w := pkgformat.NewWriter(&b, time.Now())
	for _, m := range ms {
		if err := w.AddBytes(m.Name, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func member(ms []testenv.TarMember, name string) *testenv.TarMember {
	for i := range ms {
		if ms[i].Name == name {
			return &ms[i]
		}
	}
	return nil
}

// forge rebuilds a real package end to end under another log key with
// the same origin: new checkpoint signature, manifest and manifest
// signature. With ownReport, report.txt is rewritten to state the new
// key (its hash in the manifest updated): every check that needs no
// trusted key passes on the result. Without, the genuine report.txt is
// kept, stating the genuine key.
func forge(t *testing.T, in, out string, ownReport bool) {
	t.Helper()
	ms := readTar(t, in)
	m, err := pkgformat.ParseManifest(member(ms, pkgformat.ManifestName).Data)
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, m.Origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	genuine, _ := note.NewVerifier(m.LogKey)
	cpm := member(ms, pkgformat.CheckpointName)
	n, err := note.Open(cpm.Data, note.VerifierList(genuine))
	if err != nil {
		t.Fatal(err)
	}
	if cpm.Data, err = note.Sign(&note.Note{Text: n.Text}, signer); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cpm.Data)
	if ownReport {
		rep := member(ms, pkgformat.ReportName)
		rep.Data = bytes.ReplaceAll(rep.Data, []byte(m.LogKeyFingerprint), []byte(pkgformat.KeyFingerprint(vkey)))
		rep.Data = bytes.ReplaceAll(rep.Data, []byte(m.LogKey), []byte(vkey))
		rs := sha256.Sum256(rep.Data)
		m.ReportSHA256 = hex.EncodeToString(rs[:])
	}
	m.LogKey, m.LogKeyFingerprint, m.CheckpointSHA256 = vkey, pkgformat.KeyFingerprint(vkey), hex.EncodeToString(sum[:])
	mb, _ := json.MarshalIndent(m, "", "  ")
	member(ms, pkgformat.ManifestName).Data = mb
	if member(ms, pkgformat.SignatureName).Data, err = pkgformat.SignManifest(signer, m.Package, mb); err != nil {
		t.Fatal(err)
	}
	writeTar(t, out, ms)
}

// TestForgedPackageIsNotVerified: a package forged end to end with
// another log key verified (exit 0) whenever --key was not given. Now the
// verifier never says VERIFIED without a pinned key (exit 3), and every
// way of pinning the vault's real key (custos audit key, its fingerprint,
// a trusted-keys file, an auditor's saved checkpoint) refutes the forgery
// (exit 1) and accepts the real package (exit 0).
func TestForgedPackageIsNotVerified(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	_, ident := sealedPackage(t, s, work)
	key, fp := vaultKey(t, s, work, "prosecutor")
	if k2, _ := vaultKey(t, s, work, "investigator"); k2 != key {
		t.Fatal("audit key answers differ between persons")
	}
	s.refused("", work, "", "audit", "key")
	cp := filepath.Join(work, "saved.checkpoint")
	s.ok("auditor", work, "audit", "verify", "--save-checkpoint", cp)
	trusted := filepath.Join(work, "trusted-keys")
	os.WriteFile(trusted, []byte("# the vault of the Phnom Penh unit\n"+key+"\n"), 0o600)

	// The report a prosecutor prints names the fingerprint to pin.
	if rep := member(readTar(t, filepath.Join(work, "p.tar")), pkgformat.ReportName); rep == nil || !bytes.Contains(rep.Data, []byte(fp)) {
		t.Fatal("report.txt does not carry the log key's fingerprint")
	}
	forge(t, filepath.Join(work, "p.tar"), filepath.Join(work, "forged.tar"), true)
	forge(t, filepath.Join(work, "p.tar"), filepath.Join(work, "forged-genuine-report.tar"), false)

	for _, pkg := range []string{"p.tar", "forged.tar"} {
		r := s.run("", work, "custos-verify", pkg, "--identity", ident)
		if r.code != 3 || strings.Contains(r.stdout, "\nVERIFIED") || !strings.Contains(r.stdout, "AUTHENTICITY NOT ESTABLISHED") {
			t.Fatalf("%s without a pinned key: exit %d\n%s%s", pkg, r.code, r.stdout, r.stderr)
		}
	}
	// The forger's own report names the forger's key, which a person
	// comparing it with the published fingerprint sees differ; one who
	// keeps the genuine report (which shows the published fingerprint)
	// is refused even without a pinned key: the report must name the key
	// that signed.
	if rep := member(readTar(t, filepath.Join(work, "forged.tar")), pkgformat.ReportName); bytes.Contains(rep.Data, []byte(fp)) {
		t.Fatal("the forged report still shows the genuine fingerprint")
	}
	if r := s.run("", work, "custos-verify", "forged-genuine-report.tar", "--identity", ident); r.code != 1 || !strings.Contains(r.stderr, "report.txt states the log key fingerprint "+fp) {
		t.Fatalf("a forgery with the genuine report, without a pinned key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A file of one kind given where another is expected is named as
	// what it is, and nothing is checked.
	if r := s.run("", work, "custos-verify", "p.tar", "--trusted-keys", cp); r.code != 2 || !strings.Contains(r.stderr, "it is a checkpoint, not a log key") {
		t.Errorf("a checkpoint given as trusted keys: exit %d %q", r.code, r.stderr)
	}
	if r := s.run("", work, "custos-verify", "p.tar", "--checkpoint", trusted); r.code != 2 || !strings.Contains(r.stderr, "it is a log key, not a checkpoint") {
		t.Errorf("trusted keys given as a checkpoint: exit %d %q", r.code, r.stderr)
	}
	// --key takes the file of keys too (what custos audit key writes).
	for _, pin := range [][]string{{"--key", key}, {"--key", fp}, {"--key", trusted}, {"--trusted-keys", trusted}, {"--checkpoint", cp}} {
		if r := s.run("", work, "custos-verify", append([]string{"p.tar"}, pin...)...); r.code != 0 || !strings.HasSuffix(r.stdout, "VERIFIED\n") {
			t.Errorf("real package with %s: exit %d\n%s%s", pin[0], r.code, r.stdout, r.stderr)
		}
		r := s.run("", work, "custos-verify", append([]string{"forged.tar", "--identity", ident}, pin...)...)
		if r.code != 1 || !strings.HasSuffix(r.stdout, "FAILED\n") {
			t.Errorf("forged package with %s: exit %d\n%s%s", pin[0], r.code, r.stdout, r.stderr)
		} else {
			t.Logf("forged, %s: %s", pin[0], strings.TrimSpace(r.stderr))
		}
	}
}

// TestAlteredMemberCaughtWithoutIdentity: one flipped byte in an item's
// ciphertext verified without --identity. Now the manifest commits to
// every member's bytes, so an altered item, an extra inclusion proof and
// an extra signature line on the checkpoint all fail without keys.
func TestAlteredMemberCaughtWithoutIdentity(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	sealedPackage(t, s, work)
	key, _ := vaultKey(t, s, work, "prosecutor")
	orig := readTar(t, filepath.Join(work, "p.tar"))
	if r := s.run("", work, "custos-verify", "p.tar", "--key", key); r.code != 0 {
		t.Fatalf("intact package: %d %s", r.code, r.stderr)
	}
	clone := func() []testenv.TarMember {
		out := make([]testenv.TarMember, len(orig))
		for i, m := range orig {
			out[i] = testenv.TarMember{Name: m.Name, Data: bytes.Clone(m.Data)}
		}
		return out
	}
	var itemName string
	for _, m := range orig {
		if strings.HasPrefix(m.Name, pkgformat.ItemsDir) {
			itemName = m.Name
		}
	}
	attacks := map[string]func([]testenv.TarMember){
		"item ciphertext byte": func(ms []testenv.TarMember) {
			it := member(ms, itemName)
			it.Data[len(it.Data)/2] ^= 0x01
		},
		"extra proof": func(ms []testenv.TarMember) {
			p := member(ms, pkgformat.ProofsName)
			p.Data = bytes.Replace(p.Data, []byte(`"proofs": {`), []byte(`"proofs": {"99999": [],`), 1)
		},
		"extra checkpoint signature": func(ms []testenv.TarMember) {
			c := member(ms, pkgformat.CheckpointName)
			skey, _, _ := note.GenerateKey(rand.Reader, "witness.example")
			signer, _ := note.NewSigner(skey)
			text, _, _ := bytes.Cut(c.Data, []byte("\n\n"))
			signed, _ := note.Sign(&note.Note{Text: string(text) + "\n"}, signer)
			_, line, _ := bytes.Cut(signed, []byte("\n\n"))
			c.Data = append(c.Data, line...)
		},
	}
	for name, attack := range attacks {
		ms := clone()
		attack(ms)
		writeTar(t, filepath.Join(work, "bad.tar"), ms)
		r := s.run("", work, "custos-verify", "bad.tar", "--key", key)
		if r.code != 1 || !strings.HasSuffix(r.stdout, "FAILED\n") {
			t.Errorf("%s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		} else {
			t.Logf("%s: %s", name, strings.TrimSpace(r.stderr))
		}
	}
}

// TestExtractLeavesNoPlaintextOnFailure: --extract wrote plaintexts and
// left them when a later check (the report) failed. Now nothing appears in
// the folder unless every check passed: not for an altered report, not
// for a package whose key is not pinned.
func TestExtractLeavesNoPlaintextOnFailure(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	_, ident := sealedPackage(t, s, work)
	key, _ := vaultKey(t, s, work, "prosecutor")
	ms := readTar(t, filepath.Join(work, "p.tar"))
	rep := member(ms, pkgformat.ReportName)
	rep.Data[len(rep.Data)/2] ^= 0x01
	writeTar(t, filepath.Join(work, "bad-report.tar"), ms)
	for name, args := range map[string][]string{
		"altered report": {"bad-report.tar", "--key", key},
		"key not pinned": {"p.tar"},
	} {
		out := filepath.Join(work, "out-"+strings.ReplaceAll(name, " ", "-"))
		r := s.run("", work, "custos-verify", append(args, "--identity", ident, "--extract", out)...)
		ents, _ := os.ReadDir(out)
		if r.code == 0 || len(ents) != 0 {
			t.Errorf("%s: exit %d, %d entries left in the extract folder\n%s", name, r.code, len(ents), r.stderr)
		}
	}
	out := filepath.Join(work, "out")
	if r := s.run("", work, "custos-verify", "p.tar", "--key", key, "--identity", ident, "--extract", out); r.code != 0 {
		t.Fatalf("intact package: %d %s", r.code, r.stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 2 {
		t.Fatalf("extract folder holds %d entries, want the 2 items", len(ents))
	}
}

// TestExtractFallsBackToArchiveNames: names that some common file system
// refuses or silently changes (a Windows device name, a trailing dot) are
// extracted under the item's archive name, and the output says so. (Names
// a file system refuses outright, as FAT does `?` and `:`, are tested with
// a simulated refusal in pkgformat, since no FAT file system can be
// mounted here.)
func TestExtractFallsBackToArchiveNames(t *testing.T) {
	s := newServer(t)
	work := t.TempDir()
	s.ok("investigator", work, "case", "open", "C-2", "--title", "t")
	var files []string
	for _, name := range []string{"CON.txt", "notes.", "report: 2026?.txt"} {
		p := filepath.Join(work, name)
		os.WriteFile(p, []byte("content of "+name), 0o600)
		files = append(files, p)
	}
	s.ok("investigator", work, append([]string{"deposit", "--case", "C-2"}, files...)...)
	ident := filepath.Join(work, "p.key")
	s.ok("prosecutor", work, "recipient", "set", newAgeKey(t, ident))
	id := s.ok("investigator", work, "package", "seal", "--case", "C-2", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)["package"].(string)
	s.ok("prosecutor", work, "package", "fetch", id, "-o", "p.tar")
	key, _ := vaultKey(t, s, work, "prosecutor")
	out := filepath.Join(work, "out")
	r := s.run("", work, "custos-verify", "p.tar", "--key", key, "--identity", ident, "--extract", out, "--json")
	var res struct {
		Status    string
		Extracted []pkgformat.Extracted
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Status != "verified" || len(res.Extracted) != 3 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	want := map[string]string{"CON.txt": "001-CON.txt", "notes.": "002-notes", "report: 2026?.txt": "report: 2026?.txt"}
	for _, x := range res.Extracted {
		got, err := os.ReadFile(x.Path)
		if err != nil || string(got) != "content of "+x.Name || filepath.Base(x.Path) != want[x.Name] {
			t.Errorf("%q extracted as %s (%s): %q %v", x.Name, x.Path, x.Fallback, got, err)
		}
		if (x.Fallback != "") != (want[x.Name] != x.Name) {
			t.Errorf("%q: fallback %q", x.Name, x.Fallback)
		}
		if x.Fallback != "" && !strings.Contains(r.stderr, x.Path) {
			t.Errorf("stderr does not name the fallback of %q: %s", x.Name, r.stderr)
		}
	}
}

// TestPackageObjectTamperingIsCaught: the object-store administrator
// deletes or alters a package file. Scrub said ok, and a fetch recorded
// package.fetched and failed with HTTP 500. Now scrub fails naming the
// package, and a fetch is answered 422 as an integrity failure, recorded,
// with no retrieval recorded.
func TestPackageObjectTamperingIsCaught(t *testing.T) {
	for _, how := range []string{"deleted", "altered"} {
		t.Run(how, func(t *testing.T) {
			s := newServer(t)
			work := t.TempDir()
			id, _ := sealedPackage(t, s, work)
			if r := s.run("auditor", work, "custos", "audit", "scrub", "--json"); r.code != 0 {
				t.Fatalf("scrub of an intact vault: %s %s", r.stdout, r.stderr)
			}
			files, _ := filepath.Glob(filepath.Join(s.data, "objects", "pk", "*"))
			var obj string
			for _, f := range files {
				if !strings.HasSuffix(f, ".lock") {
					obj = f
				}
			}
			if obj == "" {
				t.Fatalf("no package object among %v", files)
			}
			os.Chmod(obj, 0o600)
			if how == "deleted" {
				os.Remove(obj)
			} else {
				b, _ := os.ReadFile(obj)
				b[len(b)/2] ^= 0x01
				os.WriteFile(obj, b, 0o400)
			}
			r := s.run("auditor", work, "custos", "audit", "scrub", "--json")
			var res struct {
				OK                  bool
				Missing, Mismatched []string
			}
			json.Unmarshal([]byte(r.stdout), &res)
			named := append(res.Missing, res.Mismatched...)
			if r.code == 0 || res.OK || len(named) != 1 || named[0] != id {
				t.Fatalf("scrub after the package file was %s: %d %s %s", how, r.code, r.stdout, r.stderr)
			}

			c := newAPIClient(s, "prosecutor")
			req, _ := http.NewRequest("GET", c.base+"/v1/packages/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+c.token)
			resp, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "integrity") {
				t.Fatalf("fetch of a %s package: HTTP %d %s", how, resp.StatusCode, body)
			}
			s.refused("prosecutor", work, "integrity", "package", "fetch", id, "-o", "again.tar")
			if _, err := os.Stat(filepath.Join(work, "again.tar")); err == nil {
				t.Fatal("package fetch wrote a file")
			}
			tl := s.ok("auditor", work, "audit", "log", "--case", "C-1", "--json").stdout
			if n := strings.Count(tl, id); strings.Count(tl, "package.fetched") != 1 || n < 3 {
				t.Fatalf("timeline: %d mentions of the package, %d retrievals (want the first only)", n, strings.Count(tl, "package.fetched"))
			}
			if n := strings.Count(tl, "integrity.failed"); n != 3 {
				t.Fatalf("%d integrity.failed events, want 3 (scrub, two fetches)", n)
			}
		})
	}
}
