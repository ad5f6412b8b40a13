package vault

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/sequencer"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Receipts (docs/formats.md, "Receipts").
//
// The prosecutor or defence counsel a package is sealed for acknowledges
// it with an SSH signature (the stock `ssh-keygen -Y sign` format,
// SSHSIG, namespace "custos-receipt") over ReceiptMessage(package,
// sha256), with the key they registered once (receipt.key.set). The
// vault checks it and records package.received with the signature, which
// `ssh-keygen -Y verify` checks later alone.

const (
	// TypeReceiptKeySet records a person's receipt key.
	TypeReceiptKeySet = "receipt.key.set"
	// TypePackageReceived records a signed acknowledgement of a package.
	TypePackageReceived = "package.received"
	// ReceiptNamespace is the SSHSIG namespace of receipts.
	ReceiptNamespace = "custos-receipt"
	// maxSignature bounds an armored signature, in bytes.
	maxSignature = 16 << 10
)

// ReceiptKeySet is the data of receipt.key.set.
type ReceiptKeySet struct {
	// Key is the OpenSSH public key (authorized_keys form, no comment);
	// Fingerprint its SHA256 fingerprint as ssh-keygen -l prints it.
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	// Person and Request name whose key it is and the request a
	// custodian approved, on a replacement (absent on a first
	// registration, whose actor is the person).
	Person  string `json:"person,omitempty"`
	Request string `json:"request,omitempty"`
}

// PackageReceived is the data of package.received.
type PackageReceived struct {
	Package string `json:"package"`
	SHA256  string `json:"sha256"`
	// Signature is the armored SSHSIG signature over
	// ReceiptMessage(Package, SHA256); Fingerprint the signing key's.
	Signature   string `json:"signature"`
	Fingerprint string `json:"fingerprint"`
}

// ReceiptMessage is the text a receipt signs: three lines naming the
// format, the package and its file's SHA-256 (lowercase hex).
func ReceiptMessage(pkgID, sha256 string) []byte {
	return []byte("custos package receipt v1\npackage " + pkgID + "\nsha256 " + sha256 + "\n")
}

// SetReceiptKey registers the key with which a prosecutor or defence
// counsel signs package receipts: an OpenSSH public key line
// (ssh-ed25519, ecdsa-sha2-*, or ssh-rsa of at least 3072 bits). The
// first registration takes effect at once; replacing a registered key (a
// lost or compromised one) is a request a custodian approves
// (KindReceiptKey), returned instead: whoever held the person's session
// could otherwise sign receipts in their name from then on.
func (v *Vault) SetReceiptKey(ctx context.Context, who Principal, line string) (ReceiptKeySet, *RequestInfo, error) {
	if err := v.MayAsk(ctx, who, "receipt.key.set", ""); err != nil {
		return ReceiptKeySet{}, nil, err
	}
	d, err := parseReceiptKey(line)
	if err != nil {
		return ReceiptKeySet{}, nil, err
	}
	switch p, _ := v.state.personByName(who.Name); p.ReceiptKey {
	case d.Key:
		return d, nil, nil
	case "":
	default:
		info, err := v.openRequest(ctx, who, Request{Kind: KindReceiptKey, Person: who.Name}, receiptKeyParams{Key: d.Key, Fingerprint: d.Fingerprint})
		return d, info, err
	}
	first := func(ahead []*events.Event) error {
		if touchesPersons(ahead) || requestDepends(ahead) {
			return sequencer.ErrNotYet
		}
		if p, _ := v.state.personByName(who.Name); p.ReceiptKey != "" {
			return refused(ErrConflict, "a receipt key was registered meanwhile; a replacement needs a custodian's approval, ask again")
		}
		return nil
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypeReceiptKeySet, Actor: who.actor(), Check: first, Data: d})
	return d, nil, v.refusedAs(ctx, who, "receipt.key.set", "", err)
}

// parseReceiptKey reads one OpenSSH public key line of an accepted type.
func parseReceiptKey(line string) (ReceiptKeySet, error) {
	if len(line) > 16<<10 {
		return ReceiptKeySet{}, badInput("the key is over 16 KiB")
	}
	pub, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(strings.TrimSpace(string(rest))) != 0 {
		return ReceiptKeySet{}, badInput("not one OpenSSH public key line (as in id_ed25519.pub)")
	}
	if err := receiptKeyType(pub); err != nil {
		return ReceiptKeySet{}, err
	}
	return ReceiptKeySet{Key: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), Fingerprint: ssh.FingerprintSHA256(pub)}, nil
}

func receiptKeyType(pub ssh.PublicKey) error {
	switch pub.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return nil
	case ssh.KeyAlgoRSA:
		if ck, ok := pub.(ssh.CryptoPublicKey); ok {
			if rk, ok := ck.CryptoPublicKey().(interface{ Size() int }); ok && rk.Size()*8 >= 3072 {
				return nil
			}
		}
		return badInput("an RSA key must have at least 3072 bits")
	}
	return badInput("key type %s is not accepted: use ssh-ed25519 or ecdsa", pub.Type())
}

// receivedPackage is the gate of a package's receipt (package.receipt):
// a package sealed for who; any other, and an unknown one, are answered
// alike (ErrNotFound) and recorded with the truth.
func (v *Vault) receivedPackage(ctx context.Context, who Principal, pkgID string) (Package, error) {
	p, ok := v.state.getPackage(pkgID)
	if !ok || p.For != who.Name || !receivesPackages(who.Role) || p.Sealed == nil {
		return Package{}, v.refuseUnseen(ctx, who, "package.receipt", "package", pkgID, ok && p.Sealed != nil, "not a package sealed for them", "a package is acknowledged by the person it is sealed for")
	}
	return p, nil
}

// ReceivePackage records the signed acknowledgement of a package by the
// prosecutor or defence counsel it is sealed for: sha256 must be the
// package file's, and signature (armored SSHSIG) must verify over
// ReceiptMessage with their registered receipt key in ReceiptNamespace.
// A package is acknowledged once.
func (v *Vault) ReceivePackage(ctx context.Context, who Principal, pkgID, sha256, signature string) (PackageReceived, error) {
	p, err := v.receivedPackage(ctx, who, pkgID)
	if err != nil {
		return PackageReceived{}, err
	}
	if c, _ := v.state.getCase(p.Case); c.Destroyed {
		return PackageReceived{}, v.refuseHint(ctx, who, "package.receipt", pkgID, "the package's case was destroyed", destroyedPackageHint, ErrConflict)
	}
	if sha256 != p.Sealed.SHA256 {
		given := truncate(sha256)
		if events.IsHex(sha256, 64) {
			given = shown(sha256) // whole: two hashes may differ in their last digit
		}
		return PackageReceived{}, v.refuse(ctx, who, "package.receipt", pkgID,
			fmt.Sprintf("the SHA-256 %s is not the package file's, which is %s: acknowledge the file the vault sealed (custos package fetch)", given, p.Sealed.SHA256), ErrBadInput)
	}
	person, _ := v.state.personByName(who.Name)
	if person.ReceiptKey == "" {
		return PackageReceived{}, v.refuseHint(ctx, who, "package.receipt", pkgID, "no receipt key is registered for you", "register your receipt key first: custos receipt-key set KEY.pub, or the receipt key form on your Who am I page", ErrConflict)
	}
	if len(signature) > maxSignature {
		return PackageReceived{}, badInput("the signature is over %d bytes", maxSignature)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(person.ReceiptKey))
	if err != nil {
		return PackageReceived{}, err
	}
	if err := verifyReceipt(pub, pkgID, sha256, signature); err != nil {
		return PackageReceived{}, v.refuseOn(ctx, who, "package.receipt", pkgID, err.Error(), "", ErrForbidden, GroundsInput)
	}
	d := PackageReceived{Package: pkgID, SHA256: sha256, Signature: strings.TrimSpace(signature) + "\n", Fingerprint: ssh.FingerprintSHA256(pub)}
	// At the receipt's position: not acknowledged yet, and the key that
	// verified the signature still the one registered, so that a
	// receipt signed with a key a custodian has just replaced (a lost
	// one) is never recorded after its replacement.
	once := func(ahead []*events.Event) error {
		for _, ev := range ahead {
			if ev.Type == TypePackageReceived || ev.Type == TypeReceiptKeySet {
				return sequencer.ErrNotYet
			}
		}
		if v.state.packageReceived(pkgID) {
			return refused(ErrConflict, "the package is acknowledged already")
		}
		if q, _ := v.state.personByName(who.Name); q.ReceiptKey != person.ReceiptKey {
			return refused(ErrConflict, "your receipt key was replaced while the receipt was recorded: sign the receipt again with the key now registered")
		}
		return nil
	}
	_, err = v.append(ctx, sequencer.Draft{Type: TypePackageReceived, Actor: who.actor(), Case: p.Case, Check: once, Data: d})
	return d, v.refusedAs(ctx, who, "package.receipt", pkgID, err)
}

// verifyReceipt checks an armored SSHSIG signature by pub over the
// receipt message of pkgID and sha256. The signature must be the armored
// block alone, as ssh-keygen writes it: the vault records it as sent, and
// `ssh-keygen -Y verify` must read the record later (a PEM parser would
// skip text around the block or headers in it; OpenSSH does not).
func verifyReceipt(pub ssh.PublicKey, pkgID, sha256, armored string) error {
	trimmed := strings.TrimSpace(armored)
	block, rest := pem.Decode([]byte(trimmed))
	if block == nil || block.Type != "SSH SIGNATURE" || len(block.Headers) != 0 || len(rest) != 0 ||
		!strings.HasPrefix(trimmed, "-----BEGIN SSH SIGNATURE-----\n") || !strings.HasSuffix(trimmed, "\n-----END SSH SIGNATURE-----") {
		return errors.New("the signature is not one SSH signature block alone, as ssh-keygen -Y sign writes it")
	}
	sig, err := sshsig.Unarmor([]byte(trimmed))
	if err != nil {
		return errors.New("the signature is not an SSH signature (ssh-keygen -Y sign)")
	}
	h := sshsig.HashAlgorithm(sig.HashAlgorithm)
	if err := h.Available(); err != nil {
		return fmt.Errorf("the signature's hash %q is not accepted", sig.HashAlgorithm)
	}
	if err := sshsig.Verify(strings.NewReader(string(ReceiptMessage(pkgID, sha256))), sig, pub, h, ReceiptNamespace); err != nil {
		switch {
		case errors.Is(err, sshsig.ErrPublicKeyMismatch):
			return errors.New("the signature is not by the registered receipt key")
		case errors.Is(err, sshsig.ErrNamespaceMismatch):
			return fmt.Errorf("the signature's namespace is not %s", ReceiptNamespace)
		}
		return errors.New("the signature does not verify over this package's receipt")
	}
	return nil
}
