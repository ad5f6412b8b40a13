package pkgformat_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/pkgformat"
)

// opaqueIdentity is an identity whose type does not tell its recipient.
type opaqueIdentity struct{ age.Identity }

// An identity that is not the package's recipient is a key mismatch,
// reported after every other check passed, naming both recipients, with
// nothing decrypted and nothing left in the extraction folder; a package
// that fails a check fails, whatever the identity.
func TestKeyMismatch(t *testing.T) {
	pkg := readPackage(t)
	id := readIdentity(t)
	_, vkey := packageKeys(t)
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	for name, c := range map[string]struct {
		ids  []age.Identity
		want []string
	}{
		"X25519":                       {[]age.Identity{x}, []string{x.Recipient().String()}},
		"hybrid":                       {[]age.Identity{pq}, []string{pq.Recipient().String()}},
		"two":                          {[]age.Identity{x, pq}, []string{x.Recipient().String(), pq.Recipient().String()}},
		"of a type that does not tell": {[]age.Identity{opaqueIdentity{x}}, nil},
	} {
		for _, key := range []string{vkey, ""} {
			dir := t.TempDir()
			rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: key, Identities: c.ids, ExtractDir: dir})
			var km *pkgformat.KeyMismatchError
			if !errors.As(err, &km) || errors.Is(err, pkgformat.ErrNotAuthenticated) {
				t.Fatalf("%s, key %q: %v, want a key mismatch", name, key, err)
			}
			if km.Recipient != id.Recipient().String() || !slices.Equal(km.IdentityRecipients, c.want) {
				t.Errorf("%s: %+v", name, km)
			}
			if rep.Decrypted != 0 || len(rep.Extracted) != 0 || rep.KeyPinned != (key != "") {
				t.Errorf("%s: %+v", name, rep)
			}
			if c.want != nil && len(rep.Checks) != map[bool]int{true: 9, false: 8}[key != ""] {
				t.Errorf("%s, key %q: only %d checks passed: %q", name, key, len(rep.Checks), rep.Checks)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("%s: %d entries left in the extraction folder", name, len(ents))
			}
		}
	}
	// The right identity among others opens it.
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{x, id}}); err != nil {
		t.Fatalf("with the recipient's identity among others: %v", err)
	}
	// An item whose header was altered does not open with the
	// recipient's identity: that is a failure, not a key mismatch.
	hdr := bytes.Clone(pkg)
	hdr[bytes.Index(hdr, []byte("age-encryption.org/v1"))+40] ^= 1
	if _, err := pkgformat.Verify(bytes.NewReader(hdr), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{id}}); err == nil || errors.As(err, new(*pkgformat.KeyMismatchError)) {
		t.Fatalf("an altered item header with the recipient's identity: %v, want a failure", err)
	}
	// A failed check wins over the mismatch.
	bad := bytes.Clone(pkg)
	i := bytes.LastIndex(bad, []byte("age-encryption.org/v1"))
	bad[i+200] ^= 1
	_, err := pkgformat.Verify(bytes.NewReader(bad), pkgformat.VerifyOptions{TrustedKey: vkey, Identities: []age.Identity{x}})
	var km *pkgformat.KeyMismatchError
	if err == nil || errors.As(err, &km) {
		t.Fatalf("an altered package with another identity: %v, want a failure", err)
	}
}

// A trusted key that is neither a key nor a fingerprint is refused as
// such, before any package is read.
func TestCheckTrustedKey(t *testing.T) {
	_, vkey := packageKeys(t)
	for _, k := range []string{vkey, pkgformat.KeyFingerprint(vkey), "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"} {
		if err := pkgformat.CheckTrustedKey(k); err != nil {
			t.Errorf("%q: %v", k, err)
		}
	}
	for _, k := range []string{"", vkey[:len(vkey)-2], pkgformat.KeyFingerprint(vkey)[1:], "custos-x+zz+AQ", vkey + " "} {
		if err := pkgformat.CheckTrustedKey(k); err == nil {
			t.Errorf("%q accepted", k)
		}
	}
}
