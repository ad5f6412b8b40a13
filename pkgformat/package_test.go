package pkgformat_test

// The sealed-package vector in testdata/package (specified in
// docs/package-format.md): a real package built with the format's own
// writer and signer, the event encoder, the Merkle tree and age, and
// written by
//
//	go test ./pkgformat -run TestPackageVector -update
//
// The age encryption is randomised, so the package is not reproducible
// byte for byte; the normal test checks the committed file instead.

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/custody"
	"github.com/custos-vault/custos/custody/pdfreport"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/custos-vault/custos/vault"
	"golang.org/x/mod/sumdb/note"
)

var update = flag.Bool("update", false, "rewrite the package vector in testdata/package")

const (
	packageDir     = "../testdata/package"
	packageFile    = "package.tar"
	identityFile   = "identity.txt"
	packageKeyName = "custos-5ea1ed0c0de5"
	packageCase    = "KH-2026-014"
	packageID      = "pk_0a1b2c3d4e5f60718293a4b5"
)

// packageKeys builds the log key of the vector from the fixed Ed25519 seed
// 0x20, 0x21, ..., 0x3f.
func packageKeys(t testing.TB) (note.Signer, string) {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(0x20 + i)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	vkey, err := note.NewEd25519VerifierKey(packageKeyName, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(vkey, "+", 3)
	signer, err := note.NewSigner("PRIVATE+KEY+" + parts[0] + "+" + parts[1] + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, seed...)))
	if err != nil {
		t.Fatal(err)
	}
	return signer, vkey
}

// vectorItem is one item of a test package.
type vectorItem struct{ id, name, content string }

// packageItems are the plaintexts of the vector's items.
var packageItems = []vectorItem{
	{"it_0f1e2d3c4b5a69788796a5b4", "chat <export> & log.txt", "2026-02-28 21:04 user1: test message\n2026-02-28 21:05 user2: reply\n"},
	{"it_5a4b3c2d1e0f112233445566", "ឯកសារ 0001.jpg", "\xff\xd8\xff\xe0 not really a JPEG\n"},
}

func readIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	f, err := os.Open(filepath.Join(packageDir, identityFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil || len(ids) != 1 {
		t.Fatalf("%s: %v", identityFile, err)
	}
	return ids[0].(*age.X25519Identity)
}

// buildPackage seals a package as the vault does (vault/packages.go): a
// small log with the case's events and the sealing event, a checkpoint
// after the sealing, proofs, the manifest and its signature, items
// encrypted to the identity, and a report.
func buildPackage(t testing.TB, id *age.X25519Identity) []byte {
	t.Helper()
	signer, vkey := packageKeys(t)
	return buildPackageWith(t, id, packageItems, signer, vkey)
}

// buildPackageWith builds a package of the given items, signed (log,
// checkpoint and manifest) by signer, whose verifier key is vkey.
func buildPackageWith(t testing.TB, id *age.X25519Identity, packageItems []vectorItem, signer note.Signer, vkey string) []byte {
	t.Helper()
	return buildPackageHook(t, id, packageItems, signer, vkey, nil)
}

// buildPackageHook is buildPackageWith with hook applied to every event
// before it is encoded, as a forger holding the log key could: the
// package's events, tree, checkpoint and manifest follow the changed
// events, while its reports are made from the events as they were.
func buildPackageHook(t testing.TB, id *age.X25519Identity, packageItems []vectorItem, signer note.Signer, vkey string, hook func(*events.Event)) []byte {
	t.Helper()
	return buildPackageOpts(t, id, packageItems, signer, vkey, vectorOptions{Hook: hook})
}

// vectorEvent is a case event a forged package adds before its sealing.
type vectorEvent struct {
	Type  string
	Actor events.Actor
	Data  any
}

// vectorOptions change the vector's events: Hook edits each event after
// it was encoded (the report is made from the events as they were);
// BeforeSealing adds case events, in the package, right before the
// sealing; SealedBy seals it in another's name; Sealing edits the
// sealing's data before it is encoded.
type vectorOptions struct {
	Hook          func(*events.Event)
	BeforeSealing []vectorEvent
	SealedBy      *events.Actor
	Sealing       func(*vault.PackageSealing)
	// Base is the first event's time (zero: the vector's, 2026-03-02).
	Base time.Time
}

func buildPackageOpts(t testing.TB, id *age.X25519Identity, packageItems []vectorItem, signer note.Signer, vkey string, opts vectorOptions) []byte {
	t.Helper()
	hook := opts.Hook
	packageKeyName := signer.Name()
	recipient := id.Recipient().String()
	investigator := events.Actor{Person: "sok.dara", Role: vault.RoleInvestigator, Auth: "token"}
	type draft struct {
		typ    string
		actor  events.Actor
		c, it  string
		data   any
		inPkg  bool
		itemNo int
	}
	drafts := []draft{
		{vault.TypeLogOpened, vault.System, "", "", vault.LogOpened{Origin: packageKeyName, CheckpointKey: vkey,
			RecoveryRecipient: "age19khm6ltzrdkw3twz3kh5l7wnr0kyqlmexnlvxe428es3gc2egffqaxrd97", Sealer: "soft:/var/lib/custos/keys#1a2b3c4d"}, false, -1},
		{vault.TypeCaseOpened, investigator, packageCase, "", vault.CaseOpened{Title: "Hotline report 2026/014",
			Recipient: "age192zp7hvun92c2ynwjnzm60cat3ugejm0qhe9xp5ejn7syvnmjuwqkz4n5z", Sealer: "soft:/var/lib/custos/keys#1a2b3c4d", Members: []string{"sok.dara"}}, true, -1},
	}
	for i, it := range packageItems {
		p := []byte(it.content)
		s256, m5, s1 := sha256.Sum256(p), md5.Sum(p), sha1.Sum(p)
		obj := sha256.Sum256([]byte("object " + it.id))
		drafts = append(drafts, draft{vault.TypeItemDeposited, investigator, packageCase, it.id, vault.ItemDeposited{
			Name: it.name, Size: int64(len(p)), SHA256: hex.EncodeToString(s256[:]), MD5: hex.EncodeToString(m5[:]), SHA1: hex.EncodeToString(s1[:]),
			Object: "ev/" + hex.EncodeToString(obj[:16]), CiphertextSize: int64(len(p)) + 200, CiphertextSHA256: hex.EncodeToString(obj[:]),
		}, true, i})
	}
	var ids []string
	for _, it := range packageItems {
		ids = append(ids, it.id)
	}
	first := sha256.Sum256([]byte(packageItems[0].content))
	drafts = append(drafts,
		draft{vault.TypeItemAccessed, investigator, packageCase, packageItems[0].id, vault.ItemAccessed{Purpose: "Prepare the brief", Access: "view"}, true, -1},
		draft{vault.TypeItemAccessCompleted, investigator, packageCase, packageItems[0].id, vault.ItemAccessCompleted{AccessEvent: "4",
			Bytes: int64(len(packageItems[0].content)), SHA256: hex.EncodeToString(first[:])}, true, -1},
		draft{vault.TypeAccessRefused, events.Actor{Auth: "none"}, "", "", vault.AccessRefused{Action: "GET /v1/items/{item}", Reason: "no valid credentials"}, false, -1},
	)
	for _, e := range opts.BeforeSealing {
		drafts = append(drafts, draft{e.Type, e.Actor, packageCase, "", e.Data, true, -1})
	}
	sealer := investigator
	if opts.SealedBy != nil {
		sealer = *opts.SealedBy
	}
	sealing := vault.PackageSealing{Package: packageID, For: "chea.sopheap", Recipient: recipient, Purpose: "Trial 2026/88", Items: ids}
	if opts.Sealing != nil {
		opts.Sealing(&sealing)
	}
	drafts = append(drafts, draft{vault.TypePackageSealing, sealer, packageCase, "", sealing, true, -1})

	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if !opts.Base.IsZero() {
		base = opts.Base
	}
	var tree events.Tree
	raw, unchanged := map[uint64][]byte{}, map[uint64][]byte{}
	var seqs []uint64
	depositAt := map[int]uint64{}
	var sealingTime string
	prev := events.ZeroHash
	for i, d := range drafts {
		data, err := json.Marshal(d.data)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("package vector event " + strconv.Itoa(i)))
		ev := &events.Event{V: events.Version, Seq: uint64(i), ID: hex.EncodeToString(sum[:16]), Type: d.typ,
			Time: events.FormatTime(base.Add(time.Duration(i) * time.Minute)), Actor: d.actor, Case: d.c, Item: d.it, Data: data, Prev: prev.String()}
		orig, err := events.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		b := orig
		if hook != nil {
			hook(ev)
			if b, err = events.Encode(ev); err != nil {
				t.Fatal(err)
			}
		}
		prev = events.LeafHash(b)
		tree.Append(prev)
		if d.inPkg {
			raw[ev.Seq], unchanged[ev.Seq] = b, orig
			seqs = append(seqs, ev.Seq)
		}
		if d.itemNo >= 0 {
			depositAt[d.itemNo] = ev.Seq
		}
		if d.typ == vault.TypePackageSealing {
			sealingTime = ev.Time
		}
	}
	size := tree.Size()
	sealingSeq := size - 1
	root, _ := tree.Root(size)
	cp, err := events.SignCheckpoint(signer, packageKeyName, size, root)
	if err != nil {
		t.Fatal(err)
	}

	m := &pkgformat.Manifest{
		Format: pkgformat.Format, Package: packageID, Case: packageCase, Origin: packageKeyName, LogKey: vkey,
		SealedBy: pkgformat.Person{Name: sealer.Person, Role: sealer.Role}, SealedFor: "chea.sopheap",
		Recipient: recipient, Purpose: "Trial 2026/88", SealedAt: sealingTime, SealingEvent: sealingSeq, CheckpointSize: size,
		LogKeyFingerprint: pkgformat.KeyFingerprint(vkey), CheckpointSHA256: sha256hex(cp),
	}
	var ciphertexts [][]byte
	for i, it := range packageItems {
		var ct bytes.Buffer
		w, err := age.Encrypt(&ct, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, it.content)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ciphertexts = append(ciphertexts, ct.Bytes())
		p := []byte(it.content)
		s256, m5, s1 := sha256.Sum256(p), md5.Sum(p), sha1.Sum(p)
		m.Items = append(m.Items, pkgformat.Item{ID: it.id, Name: it.name, Path: pkgformat.ItemPath(i, it.name), Size: int64(len(p)),
			SHA256: hex.EncodeToString(s256[:]), MD5: hex.EncodeToString(m5[:]), SHA1: hex.EncodeToString(s1[:]), DepositEvent: depositAt[i],
			FileSize: int64(ct.Len()), FileSHA256: sha256hex(ct.Bytes())})
	}
	proofs := pkgformat.Proofs{TreeSize: size, Proofs: map[string][]string{}}
	for _, seq := range seqs {
		p, err := tree.InclusionProof(seq, size)
		if err != nil {
			t.Fatal(err)
		}
		hs := make([]string, len(p))
		for i, h := range p {
			hs[i] = hex.EncodeToString(h)
		}
		proofs.Proofs[strconv.FormatUint(seq, 10)] = hs
		m.Events = append(m.Events, pkgformat.Event{Seq: seq, Path: pkgformat.EventPath(seq), LeafHash: events.LeafHash(raw[seq]).String()})
	}
	pb, _ := json.MarshalIndent(proofs, "", "  ")
	m.ProofsSHA256 = sha256hex(pb)
	// The reports, made as the vault makes them, from the events.
	var evs []custody.Raw
	for _, seq := range seqs {
		evs = append(evs, custody.Raw{Seq: seq, Bytes: unchanged[seq]})
	}
	paths := map[string]string{}
	for _, it := range m.Items {
		paths[it.ID] = it.Path
	}
	rec, err := custody.Build(custody.Input{Case: packageCase, Events: evs, Items: ids, Sealing: sealingSeq, Paths: paths, Generator: "custos (test vector)",
		Checkpoint: custody.Checkpoint{Origin: packageKeyName, Size: size, Root: base64.StdEncoding.EncodeToString(root[:]),
			LogKey: vkey, LogKeyFingerprint: pkgformat.KeyFingerprint(vkey), Text: string(cp)}})
	if err != nil {
		t.Fatal(err)
	}
	report := bytes.NewBuffer(custody.Text(rec))
	m.ReportSHA256 = sha256hex(report.Bytes())
	var pdf bytes.Buffer
	if err := pdfreport.Render(&pdf, rec); err != nil {
		t.Fatal(err)
	}
	reportPDF := pdf.Bytes()
	m.ReportPDFSHA256 = sha256hex(reportPDF)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := pkgformat.SignManifest(signer, packageID, mb)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := pkgformat.NewWriter(&out, base.Add(time.Hour))
	add := func(name string, b []byte) {
		if err := w.AddBytes(name, b); err != nil {
			t.Fatal(err)
		}
	}
	add(pkgformat.ManifestName, mb)
	add(pkgformat.SignatureName, sig)
	add(pkgformat.CheckpointName, cp)
	add(pkgformat.ProofsName, pb)
	for _, seq := range seqs {
		add(pkgformat.EventPath(seq), raw[seq])
	}
	for i, ct := range ciphertexts {
		add(m.Items[i].Path, ct)
	}
	add(pkgformat.ReportName, report.Bytes())
	add(pkgformat.ReportPDFName, reportPDF)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func writeVector(t *testing.T) {
	if err := os.MkdirAll(packageDir, 0o755); err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(packageDir, identityFile)
	if _, err := os.Stat(idPath); errors.Is(err, os.ErrNotExist) {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		text := fmt.Sprintf("# Test identity of the package vector; it protects nothing. Never use it for anything else.\n# public key: %s\n%s\n", id.Recipient(), id)
		if err := os.WriteFile(idPath, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(packageDir, packageFile), buildPackage(t, readIdentity(t)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readPackage(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(packageDir, packageFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// member is one tar member as Verify sees it: name, type and content, and
// where its content starts in the file.
type member struct {
	name   string
	typ    byte
	header int64
	offset int64
	data   []byte
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// members lists a tar file's members; the tar reader reads exactly the
// header blocks before each member's content, so the count of bytes read
// is the content's offset. A member's headers start at the 512-byte
// boundary after the previous member's content.
func members(b []byte) ([]member, error) {
	cr := &countingReader{r: bytes.NewReader(b)}
	tr := tar.NewReader(cr)
	var out []member
	for {
		var start int64
		if len(out) > 0 {
			last := out[len(out)-1]
			start = (last.offset + int64(len(last.data)) + 511) / 512 * 512
		}
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		m := member{name: h.Name, typ: h.Typeflag, header: start, offset: cr.n}
		if m.data, err = io.ReadAll(tr); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
}

func TestPackageVector(t *testing.T) {
	if *update {
		writeVector(t)
	}
	pkg := readPackage(t)
	id := readIdentity(t)
	_, vkey := packageKeys(t)

	// Without a trusted key everything is checked, but the package is not
	// verified: nothing shows which vault signed it.
	rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{})
	if !errors.Is(err, pkgformat.ErrNotAuthenticated) {
		t.Fatalf("Verify without a trusted key: %v, want ErrNotAuthenticated", err)
	}
	if rep.KeyPinned || rep.Decrypted != 0 || rep.Manifest.Package != packageID || rep.Checkpoint.Size != 8 || len(rep.Checks) != 8 {
		t.Fatalf("report without identity: %+v", rep)
	}
	rep, err = pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey})
	if err != nil || !rep.KeyPinned || len(rep.Checks) != 9 {
		t.Fatalf("Verify with the trusted key, without identity: %v %+v", err, rep)
	}
	if rep.Manifest.LogKeyFingerprint != pkgformat.KeyFingerprint(vkey) {
		t.Fatal("the manifest does not carry the key's fingerprint")
	}
	if rep.Manifest.LogKey != vkey || rep.Manifest.Recipient != id.Recipient().String() {
		t.Fatal("the vector is not sealed with the documented key to the committed identity")
	}
	rep, err = pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey + "\n", Identities: []age.Identity{id}})
	if err != nil {
		t.Fatalf("Verify with identity: %v", err)
	}
	if !rep.KeyPinned || rep.Decrypted != len(packageItems) || len(rep.Checks) != 10 {
		t.Fatalf("report with identity: %+v", rep)
	}
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: "custos-other+01234567+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"}); err == nil {
		t.Fatal("Verify accepted the package under another trusted key")
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{other}}); err == nil || errors.Is(err, pkgformat.ErrNotAuthenticated) {
		t.Fatal("Verify decrypted the package with another identity")
	}

	// Extracted plaintexts are the deposited ones.
	dir := t.TempDir()
	rep, err = pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}, ExtractDir: dir})
	if err != nil || len(rep.Extracted) != len(packageItems) {
		t.Fatalf("extract: %v %v", rep, err)
	}
	for i, it := range packageItems {
		x := rep.Extracted[i]
		got, err := os.ReadFile(x.Path)
		if err != nil || string(got) != it.content || filepath.Base(x.Path) != it.name || x.Fallback != "" {
			t.Fatalf("extracted %+v: %q %v", x, got, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != len(packageItems) {
		t.Fatalf("extraction left %d entries in the folder, want %d", len(ents), len(packageItems))
	}

	// The layout is the one docs/package-format.md describes.
	ms, err := members(pkg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.name)
	}
	want := "manifest.json manifest.sig checkpoint proofs.json events/000000000001.json events/000000000002.json events/000000000003.json " +
		"events/000000000004.json events/000000000005.json events/000000000007.json items/001-chat_export_log.txt.age items/002-0001.jpg.age report.txt report.pdf"
	if strings.Join(names, " ") != want {
		t.Fatalf("members:\n %s\nwant\n %s", strings.Join(names, " "), want)
	}

	// Every one-byte change fails, with the identity and without it (the
	// manifest commits to every item file's bytes): in each member's header
	// and at the start, middle and end of its content.
	for _, m := range ms {
		positions := map[string]int64{
			"header name": m.header, "header checksum": m.header + 148,
			"first byte": m.offset, "middle byte": m.offset + int64(len(m.data))/2, "last byte": m.offset + int64(len(m.data)) - 1,
		}
		for what, pos := range positions {
			bad := bytes.Clone(pkg)
			bad[pos] ^= 0x01
			_, errID := pkgformat.Verify(bytes.NewReader(bad), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}})
			if errID == nil {
				t.Errorf("%s, %s (offset %d) changed: Verify with identity accepted it", m.name, what, pos)
			}
			_, errNoID := pkgformat.Verify(bytes.NewReader(bad), pkgformat.VerifyOptions{TrustedKey: vkey})
			if errNoID == nil {
				t.Errorf("%s, %s (offset %d) changed: Verify without identity accepted it", m.name, what, pos)
			}
		}
	}
}

func TestManifestTrailingDataRefused(t *testing.T) {
	for _, in := range []string{`{"format":"custos-package/2"}}`, `{"format":"custos-package/2"}]x`, `{"format":"custos-package/2"} {}`} {
		if _, err := pkgformat.ParseManifest([]byte(in)); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
}

// A version 2 package (testdata/package/package-v2.tar, the vector as it
// was before report.pdf) still verifies, with and without the identity;
// it has no report.pdf, and one appended is refused.
func TestPackageVectorV2(t *testing.T) {
	pkg, err := os.ReadFile(filepath.Join(packageDir, "package-v2.tar"))
	if err != nil {
		t.Fatal(err)
	}
	_, vkey := packageKeys(t)
	m, err := pkgformat.ParseManifest(vectorMember(t, pkg, pkgformat.ManifestName))
	if err != nil || m.Format != pkgformat.FormatV2 || m.ReportPDFSHA256 != "" {
		t.Fatalf("the v2 vector's manifest: %+v %v", m, err)
	}
	rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{readIdentity(t)}})
	if err != nil || !rep.KeyPinned || rep.Decrypted != len(packageItems) {
		t.Fatalf("version 2 package: %v %+v", err, rep)
	}
	for _, c := range rep.Checks {
		if strings.Contains(c, "report.pdf") {
			t.Errorf("a version 2 package reports a check of report.pdf: %q", c)
		}
	}
	// A manifest of version 2 naming a report.pdf is refused.
	b := bytes.Replace(vectorMember(t, pkg, pkgformat.ManifestName), []byte(`"report_sha256"`), []byte(`"report_pdf_sha256": "`+strings.Repeat("a", 64)+`",
  "report_sha256"`), 1)
	if _, err := pkgformat.ParseManifest(b); err == nil || !strings.Contains(err.Error(), "report_pdf_sha256") {
		t.Errorf("a version 2 manifest with report_pdf_sha256: %v", err)
	}
}

// A version 3 manifest must commit to report.pdf.
func TestManifestV3NeedsReportPDF(t *testing.T) {
	b := vectorMember(t, readPackage(t), pkgformat.ManifestName)
	m, err := pkgformat.ParseManifest(b)
	if err != nil || m.Format != pkgformat.Format || m.ReportPDFSHA256 == "" {
		t.Fatalf("the vector's manifest: %+v %v", m, err)
	}
	for _, bad := range []string{"", "ABC", strings.Repeat("A", 64)} {
		c := bytes.Replace(b, []byte(`"report_pdf_sha256": "`+m.ReportPDFSHA256+`"`), []byte(`"report_pdf_sha256": "`+bad+`"`), 1)
		if _, err := pkgformat.ParseManifest(c); err == nil {
			t.Errorf("report_pdf_sha256 %q accepted", bad)
		}
	}
}

// report.txt and report.pdf are hashed as they are read, not held: a
// report of thousands of items, over MaxSmallMember, verifies; one over
// MaxReportMember is refused by its size alone.
func TestLargeReportVerifies(t *testing.T) {
	pkg := readPackage(t)
	signer, vkey := packageKeys(t)
	m, err := pkgformat.ParseManifest(vectorMember(t, pkg, pkgformat.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	// The genuine report's lines first: a report states the key that
	// signed its package.
	big := append(vectorMember(t, pkg, pkgformat.ReportName), bytes.Repeat([]byte("Event 1  2026-03-02 10:01:00 UTC  Deposited\n"), (pkgformat.MaxSmallMember/44)+1000)...)
	m.ReportSHA256 = sha256hex(big)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := pkgformat.SignManifest(signer, m.Package, mb)
	if err != nil {
		t.Fatal(err)
	}
	out := replaceMember(t, replaceMember(t, replaceMember(t, pkg, pkgformat.ReportName, big), pkgformat.ManifestName, mb), pkgformat.SignatureName, sig)
	if _, err := pkgformat.Verify(bytes.NewReader(out), pkgformat.VerifyOptions{TrustedKey: vkey}); err != nil {
		t.Fatalf("a %d-byte report.txt: %v", len(big), err)
	}
}

// An item file with one byte changed fails as the altered file it is,
// with or without the identity: the message names file_sha256, not only
// the age header or the decryption that met the change first.
func TestAlteredItemSaidAsAltered(t *testing.T) {
	pkg := readPackage(t)
	id := readIdentity(t)
	_, vkey := packageKeys(t)
	ms, err := members(pkg)
	if err != nil {
		t.Fatal(err)
	}
	var item member
	for _, m := range ms {
		if strings.HasPrefix(m.name, pkgformat.ItemsDir) {
			item = m
			break
		}
	}
	stanza := bytes.Index(item.data, []byte("-> X25519"))
	if stanza < 0 {
		t.Fatal("the vector's first item has no X25519 stanza")
	}
	stanza += len("-> X2551")
	for name, off := range map[string]int64{
		"the stanza's type": item.offset + int64(stanza),
		"the body":          item.offset + int64(len(item.data)) - 5,
	} {
		bad := bytes.Clone(pkg)
		bad[off] ^= 1
		for _, ids := range [][]age.Identity{nil, {id}} {
			_, err := pkgformat.Verify(bytes.NewReader(bad), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: ids})
			if err == nil || !strings.Contains(err.Error(), "SHA-256 differs from the manifest's file_sha256") {
				t.Errorf("%s changed, %d identities: %v", name, len(ids), err)
			}
		}
	}
}

// A package cut short anywhere is said to be incomplete, whatever check
// met its end first (a tar header, a member's bytes, an item's last chunk
// that age cannot authenticate), with or without the identity; a whole
// package with bytes after its end is not.
func TestCutShortPackageIsIncomplete(t *testing.T) {
	pkg := readPackage(t)
	id := readIdentity(t)
	_, vkey := packageKeys(t)
	for n := 0; n < len(pkg)-1024; n += 331 {
		for _, ids := range [][]age.Identity{nil, {id}} {
			_, err := pkgformat.Verify(bytes.NewReader(pkg[:n]), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: ids})
			if !errors.Is(err, pkgformat.ErrIncomplete) || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut at %d of %d, %d identities: %v", n, len(pkg), len(ids), err)
			}
		}
	}
	trailing := append(bytes.Clone(pkg), "not zeros"...)
	if _, err := pkgformat.Verify(bytes.NewReader(trailing), pkgformat.VerifyOptions{TrustedKey: vkey}); err == nil || errors.Is(err, pkgformat.ErrIncomplete) {
		t.Fatalf("bytes after the end: %v", err)
	}
}

// TestKeyNameReportedEscaped: the log key's name is the package's own
// text when no key is pinned; a name holding C1 controls (U+009B, the
// one-character CSI) must not reach a report's checks raw, where a
// terminal would act on them (clear the screen, print a verdict).
func TestKeyNameReportedEscaped(t *testing.T) {
	id := readIdentity(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos\u009b2J\u009b32mVERIFIED")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	pkg := buildPackageWith(t, id, packageItems[:1], signer, vkey)
	res, _ := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{Identities: []age.Identity{id}})
	if res == nil || len(res.Checks) == 0 {
		t.Fatal("no checks reported")
	}
	for _, c := range res.Checks {
		if strings.ContainsRune(c, '\u009b') {
			t.Errorf("a check holds the key name's C1 control raw: %q", c)
		}
	}
}
