package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// defenceCounsel enrols dan as defence counsel, with an age recipient.
func defenceCounsel(t *testing.T, v *Vault) Principal {
	t.Helper()
	dan := enrolled(t, v, "dan", RoleDefence)
	id, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(context.Background(), dan, id.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	return dan
}

// packageMembers fetches a package as the person it is for and returns
// its members by name.
func packageMembers(t *testing.T, v *Vault, who Principal, id string) map[string][]byte {
	t.Helper()
	rc, _, err := v.FetchPackage(context.Background(), who, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string][]byte{}
	for _, m := range testenv.TarMembers(t, rc) {
		out[m.Name] = m.Data
	}
	return out
}

// packageEventTypes are the types of the events inside a package, by
// package id they name (data.package), and the seqs of all.
func packageEventTypes(t *testing.T, members map[string][]byte) (map[string]bool, []uint64) {
	t.Helper()
	var m pkgformat.Manifest
	if err := json.Unmarshal(members[pkgformat.ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	var seqs []uint64
	for _, e := range m.Events {
		ev, err := events.Decode(members[e.Path])
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ev.Seq)
		var d struct {
			Package string `json:"package"`
		}
		ev.DecodeData(&d)
		if d.Package != "" {
			named[d.Package] = true
		}
	}
	return named, seqs
}

// Defence counsel receives packages sealed for them, and nothing else:
// not the case, its items, the log, nor anyone else's package. A
// package for the defence does not reveal the prosecution's package of
// the same items unless the sealer says so, and then its report does.
func TestDefenceSeesOnlyTheirPackages(t *testing.T) {
	f := newPackageFixture(t) // P-1 with a.txt and b.txt, sealed for pros
	v := f.v
	ctx := context.Background()
	dan := defenceCounsel(t, v)
	quiet, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "dan", Purpose: "disclosure to the defence"})
	if err != nil {
		t.Fatal(err)
	}
	told, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "dan", Purpose: "disclosure, stating the others", DiscloseOthers: true})
	if err != nil {
		t.Fatal(err)
	}

	// Theirs: listed, fetched, acknowledged.
	var listed []string
	for _, p := range v.Packages(dan) {
		listed = append(listed, p.Package)
	}
	if strings.Join(listed, ",") != quiet.ID+","+told.ID {
		t.Errorf("defence counsel lists %v, want their two packages", listed)
	}
	quietMembers := packageMembers(t, v, dan, quiet.ID)
	named, _ := packageEventTypes(t, quietMembers)
	if named[f.pkg.ID] {
		t.Errorf("the defence's package carries events of the prosecution's package %s, which the sealer did not disclose", f.pkg.ID)
	}
	report := string(quietMembers[pkgformat.ReportName])
	if strings.Contains(report, f.pkg.ID) || !strings.Contains(report, "dan (defence)") {
		t.Errorf("report of the undisclosing package:\n%s", report)
	}
	if len(quietMembers[pkgformat.ReportPDFName]) == 0 || !bytes.HasPrefix(quietMembers[pkgformat.ReportPDFName], []byte("%PDF-")) {
		t.Error("the package has no PDF report")
	}
	toldMembers := packageMembers(t, v, dan, told.ID)
	if named, _ := packageEventTypes(t, toldMembers); !named[f.pkg.ID] {
		t.Errorf("the disclosing package does not carry the prosecution's package %s", f.pkg.ID)
	}
	if r := string(toldMembers[pkgformat.ReportName]); !strings.Contains(r, "OTHER DISCLOSURES") || !strings.Contains(r, "Package "+f.pkg.ID+" for pros (prosecutor)") {
		t.Errorf("the disclosing package's report does not state the prosecution's package:\n%s", r)
	}

	// Nothing else.
	if cs := v.Cases(dan); len(cs) != 0 {
		t.Errorf("defence counsel lists cases %+v", cs)
	}
	items := caseItemIDs(t, v.state, "P-1")
	refusals := map[string]error{}
	_, refusals["case show"] = v.ShowCase(ctx, dan, "P-1")
	_, refusals["items"] = v.Items(ctx, dan, "P-1", ItemFilter{})
	_, refusals["item show"] = v.ShowItem(ctx, dan, items[0])
	_, refusals["item open"] = v.OpenItem(ctx, dan, items[0], "curious")
	_, refusals["deposit"] = v.Deposit(ctx, dan, DepositRequest{Case: "P-1", Name: "x", Body: strings.NewReader("x")})
	_, refusals["seal"] = v.SealPackage(ctx, dan, SealRequest{Case: "P-1", For: "dan", Purpose: "self-service"})
	_, _, refusals["fetch another's"] = v.FetchPackage(ctx, dan, f.pkg.ID)
	refusals["timeline"] = v.Timeline(ctx, dan, "P-1", "", func(events.Record, *events.Event) error { return nil })
	_, refusals["report"] = v.CustodyDocument(ctx, dan, DocumentRequest{Case: "P-1", Format: FormatText})
	_, refusals["case-uco"] = v.CustodyDocument(ctx, dan, DocumentRequest{Case: "P-1", Format: FormatCaseUCO})
	_, refusals["hashes"] = v.ExportHashes(ctx, dan, "P-1", "sha256sum")
	_, refusals["scrub"] = v.Scrub(ctx, dan)
	for what, err := range refusals {
		if !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound) {
			t.Errorf("%s by defence counsel: %v, want a refusal", what, err)
		}
	}
	// A prosecutor is not sent the defence's packages either.
	if _, _, err := v.FetchPackage(ctx, f.pros, quiet.ID); err == nil {
		t.Error("the prosecutor fetched the defence's package")
	}
}

// A receipt key is replaced only through a request a custodian approves;
// until then receipts signed with the new key are refused.
func TestReceiptKeyReplacementNeedsACustodian(t *testing.T) {
	f := newPackageFixture(t)
	v := f.v
	ctx := context.Background()
	keyLine := func() (string, ssh.Signer) {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		s, _ := ssh.NewSignerFromKey(priv)
		return string(ssh.MarshalAuthorizedKey(s.PublicKey())), s
	}
	first, _ := keyLine()
	second, signer := keyLine()
	if _, info, err := v.SetReceiptKey(ctx, f.pros, first); err != nil || info != nil {
		t.Fatalf("first key: %v %+v", err, info)
	}
	_, info, err := v.SetReceiptKey(ctx, f.pros, second)
	if err != nil || info == nil || info.Kind != KindReceiptKey {
		t.Fatalf("replacement: %v %+v", err, info)
	}
	p, _ := v.state.personByName("pros")
	if p.ReceiptKey != strings.TrimSpace(first) {
		t.Fatal("the key was replaced before a custodian approved")
	}
	c := people(t, v, map[string]string{"c1": RoleCustodian})
	if _, err := v.Approve(ctx, f.pros, info.ID); err == nil {
		t.Fatal("the prosecutor approved their own replacement")
	}
	if _, err := v.Approve(ctx, c["c1"], info.ID); err != nil {
		t.Fatal(err)
	}
	p, _ = v.state.personByName("pros")
	if p.ReceiptKey != strings.TrimSpace(second) {
		t.Fatal("the approved replacement did not take effect")
	}
	// The recorded event names whose key and the request.
	var found bool
	for _, ev := range logged(t, v) {
		if ev.Type == TypeReceiptKeySet && strings.Contains(string(ev.Data), info.ID) && strings.Contains(string(ev.Data), `"person":"pros"`) {
			found = ev.Actor.Person == "c1"
		}
	}
	if !found {
		t.Error("no receipt.key.set by the custodian naming pros and the request")
	}
	// A receipt signed with the new key is accepted.
	sealed, _ := v.state.getPackage(f.pkg.ID)
	sig, err := sshsig.Sign(strings.NewReader(string(ReceiptMessage(f.pkg.ID, sealed.Sealed.SHA256))), signer, sshsig.HashSHA512, ReceiptNamespace)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ReceivePackage(ctx, f.pros, f.pkg.ID, sealed.Sealed.SHA256, string(sshsig.Armor(sig))); err != nil {
		t.Fatal(err)
	}
}

// TestPackageListSaysTheManifestsSealingTime: the list (CLI, API, web)
// gives a package the "sealed at" its signed manifest and report state
// (the package.sealing event's time), and who sealed it; the moment its
// file was stored is told apart (stored_at).
func TestPackageListSaysTheManifestsSealingTime(t *testing.T) {
	f := newPackageFixture(t)
	members := packageMembers(t, f.v, f.pros, f.pkg.ID)
	var m pkgformat.Manifest
	if err := json.Unmarshal(members[pkgformat.ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range f.v.Packages(f.pros) {
		if p.Package != f.pkg.ID {
			continue
		}
		found = true
		if got := p.SealedAt.UTC().Format(time.RFC3339Nano); !sameInstant(got, m.SealedAt) || p.SealedBy != m.SealedBy.Name {
			t.Errorf("listed as sealed at %s by %s; its manifest says %s by %s", got, p.SealedBy, m.SealedAt, m.SealedBy.Name)
		}
		if p.StoredAt.Before(p.SealedAt) {
			t.Errorf("stored at %s, before it was sealed at %s", p.StoredAt, p.SealedAt)
		}
	}
	if !found {
		t.Fatal("the package is not listed")
	}
}

func sameInstant(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}
