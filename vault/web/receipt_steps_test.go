package web

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// TestPackagePageAsksForAReceiptKeyFirst: a prosecutor who has not
// registered a receipt key is told so on their package's page, with the
// link to the form and the line that makes a key, before they sign
// anything; once it is registered the page no longer says so.
func TestPackagePageAsksForAReceiptKeyFirst(t *testing.T) {
	rv := newRolesVault(t)
	_, pkg := rv.setupCase()
	pros := rv.signIn("pros")
	p := pros.get("/app/packages/" + pkg)
	p.has(t, "package page without a receipt key", "You have not registered a receipt key yet", `/app/me#receiptkey`, "ssh-keygen -t ed25519")
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	rv.apiCall("pros", "POST", "/v1/receipt-key", api.ReceiptKeyRequest{Key: string(ssh.MarshalAuthorizedKey(sshPub))}, http.StatusOK, nil)
	pros.get("/app/packages/"+pkg).lacks(t, "package page with a receipt key", "You have not registered a receipt key yet")
	rv.signIn("aud").get("/app/packages/"+pkg).lacks(t, "package page of an auditor", "You have not registered a receipt key yet")
}

// TestRecipientPastedWithItsLabel: the line age-keygen prints ("Public
// key: age1...") pasted whole registers the recipient it names; anything
// else is still the vault's to refuse.
func TestRecipientPastedWithItsLabel(t *testing.T) {
	rv := newRolesVault(t)
	id, _ := age.GenerateX25519Identity()
	def := rv.signIn("def")
	before := rv.size()
	def.send("/app/me/recipient", url.Values{"recipient": {"Public key: " + id.Recipient().String()}}).status(t, "the line pasted", http.StatusOK)
	if ev := rv.eventOf(before, vault.TypeRecipientSet); ev == nil {
		t.Fatalf("no recipient.set: %v", rv.typesFrom(before))
	}
	if got := rv.v.WhoAmI(vault.Principal{Name: "def", Role: vault.RoleDefence}).Recipient; got != id.Recipient().String() {
		t.Errorf("registered %q", got)
	}
	for in, want := range map[string]string{
		"  public KEY:  age1abc ": "age1abc",
		"age1abc":                 "age1abc",
		"Public key age1abc":      "Public key age1abc",
		// Letters whose lower case is longer in UTF-8 (U+023A, 2 bytes;
		// its lower case U+2C65, 3): no label, and no panic.
		"\u023a\u023a\u023a\u023a\u023a age1abc": "\u023a\u023a\u023a\u023a\u023a age1abc",
		"Public k\u023ay: age1abc":               "Public k\u023ay: age1abc",
	} {
		if got := pastedRecipient(in); got != want {
			t.Errorf("pastedRecipient(%q) = %q, want %q", in, got, want)
		}
	}
}
