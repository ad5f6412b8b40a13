package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// FuzzVerifyReceipt feeds arbitrary signatures to the receipt check: it
// never panics, and accepts only a signature by the key over the
// receipt message in the receipt namespace.
func FuzzVerifyReceipt(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(priv)
	good, _ := sshsig.Sign(strings.NewReader(string(ReceiptMessage("pk_1", "ab"))), signer, sshsig.HashSHA512, ReceiptNamespace)
	other, _ := sshsig.Sign(strings.NewReader(string(ReceiptMessage("pk_1", "ab"))), signer, sshsig.HashSHA512, "file")
	f.Add(string(sshsig.Armor(good)))
	f.Add(string(sshsig.Armor(other)))
	f.Add("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n")
	if err := verifyReceipt(signer.PublicKey(), "pk_1", "ab", string(sshsig.Armor(good))); err != nil {
		f.Fatal(err)
	}
	if err := verifyReceipt(signer.PublicKey(), "pk_1", "ab", string(sshsig.Armor(other))); err == nil {
		f.Fatal("a signature in another namespace verified")
	}
	if err := verifyReceipt(signer.PublicKey(), "pk_2", "ab", string(sshsig.Armor(good))); err == nil {
		f.Fatal("a receipt of another package verified")
	}
	// Text around the block, or headers in it, would be recorded with the
	// receipt and make ssh-keygen -Y verify fail on the record later.
	for _, bad := range []string{
		"NOT RECEIVED: the seal was broken\n" + string(sshsig.Armor(good)),
		string(sshsig.Armor(good)) + "and more\n",
		strings.Replace(string(sshsig.Armor(good)), "-----BEGIN SSH SIGNATURE-----\n", "-----BEGIN SSH SIGNATURE-----\nNote: x\n\n", 1),
	} {
		if err := verifyReceipt(signer.PublicKey(), "pk_1", "ab", bad); err == nil {
			f.Fatalf("accepted %q", bad)
		}
	}
	f.Fuzz(func(t *testing.T, armored string) {
		if verifyReceipt(signer.PublicKey(), "pk_1", "ab", armored) == nil && !strings.HasPrefix(strings.TrimSpace(armored), "-----BEGIN SSH SIGNATURE-----") {
			t.Fatalf("accepted %q", armored)
		}
	})
}
