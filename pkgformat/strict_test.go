package pkgformat_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-vault/custos/pkgformat"
)

// A manifest member named in another case, or repeated, is refused:
// encoding/json alone would take "Purpose" for "purpose" and keep the
// last of two, and a reader taking the first would see another purpose.
func TestManifestMembersAreExact(t *testing.T) {
	b := vectorMember(t, readPackage(t), pkgformat.ManifestName)
	if _, err := pkgformat.ParseManifest(b); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"another case":          bytes.Replace(b, []byte(`"purpose":`), []byte(`"Purpose":`), 1),
		"repeated":              bytes.Replace(b, []byte(`"purpose": "`), []byte(`"purpose": "other", "purpose": "`), 1),
		"nested, another case":  bytes.Replace(b, []byte(`"file_sha256":`), []byte(`"File_SHA256":`), 1),
		"nested, repeated":      bytes.Replace(b, []byte(`"leaf_hash": "`), []byte(`"leaf_hash": "00", "leaf_hash": "`), 1),
		"sealed_by, other case": bytes.Replace(b, []byte(`"role":`), []byte(`"ROLE":`), 1),
	} {
		if bytes.Equal(bad, b) {
			t.Fatalf("%s: the test did not change the manifest", name)
		}
		if _, err := pkgformat.ParseManifest(bad); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// proofs.json spells each proof one way: seq keys in canonical decimal,
// hashes in lowercase hex.
func TestProofsSpelledOneWay(t *testing.T) {
	pkg := readPackage(t)
	signer, vkey := packageKeys(t)
	pb := vectorMember(t, pkg, pkgformat.ProofsName)
	var p pkgformat.Proofs
	if err := json.Unmarshal(pb, &p); err != nil {
		t.Fatal(err)
	}
	var key string
	for k, hs := range p.Proofs {
		if len(hs) > 0 {
			key = k
		}
	}
	if key == "" {
		t.Fatal("the vector has no proof with hashes")
	}
	for name, mutate := range map[string]func(p *pkgformat.Proofs){
		"a key with a leading zero": func(p *pkgformat.Proofs) { p.Proofs["0"+key] = p.Proofs[key]; delete(p.Proofs, key) },
		"uppercase hex":             func(p *pkgformat.Proofs) { p.Proofs[key][0] = strings.ToUpper(p.Proofs[key][0]) },
	} {
		var q pkgformat.Proofs
		json.Unmarshal(pb, &q)
		mutate(&q)
		qb, _ := json.MarshalIndent(q, "", "  ")
		m, err := pkgformat.ParseManifest(vectorMember(t, pkg, pkgformat.ManifestName))
		if err != nil {
			t.Fatal(err)
		}
		m.ProofsSHA256 = sha256hex(qb)
		mb, _ := json.MarshalIndent(m, "", "  ")
		sig, err := pkgformat.SignManifest(signer, m.Package, mb)
		if err != nil {
			t.Fatal(err)
		}
		out := replaceMember(t, replaceMember(t, replaceMember(t, pkg, pkgformat.ProofsName, qb), pkgformat.ManifestName, mb), pkgformat.SignatureName, sig)
		if _, err := pkgformat.Verify(bytes.NewReader(out), pkgformat.VerifyOptions{TrustedKey: vkey}); err == nil {
			t.Errorf("%s: a package signed by the log key verified", name)
		} else if !strings.Contains(err.Error(), "proofs.json") {
			t.Errorf("%s: refused for another reason: %v", name, err)
		}
	}
}

// The manifest is json.MarshalIndent's bytes: nothing before its "{",
// nothing after its "}" (no final newline).
func TestManifestHasNoSurroundingSpace(t *testing.T) {
	b := vectorMember(t, readPackage(t), pkgformat.ManifestName)
	for name, bad := range map[string][]byte{
		"final newline": append(append([]byte(nil), b...), '\n'),
		"leading space": append([]byte(" "), b...),
	} {
		if _, err := pkgformat.ParseManifest(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
