package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/custos-vault/custos/internal/testenv"
	"github.com/custos-vault/custos/pkgformat"
)

// Package recipients: X25519 and hybrid post-quantum ones, as pasted;
// everything else refused saying what is supported, never "too long".
func TestPackageRecipients(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	xr, pqr := x.Recipient().String(), pq.Recipient().String()
	if len(pqr) > MaxRecipientLen || len(pqr) < 1900 {
		t.Fatalf("a hybrid recipient is %d characters; MaxRecipientLen is %d", len(pqr), MaxRecipientLen)
	}
	for in, want := range map[string]string{
		xr:                                  xr,
		strings.ToUpper(xr):                 xr,
		"\uFEFF " + xr + "\r\n":             xr,
		pqr:                                 pqr,
		" " + strings.ToUpper(pqr) + "\n\n": pqr,
	} {
		r, canonical, err := parsePackageRecipient(in)
		if err != nil || canonical != want || r == nil {
			t.Errorf("%.30q...: %q %v", in, canonical, err)
		}
	}
	damagedPQ := pqr[:100] + map[bool]string{true: "q", false: "p"}[pqr[100] != 'q'] + pqr[101:]
	for in, want := range map[string]string{
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHX me@laptop":              "SSH keys are not supported",
		"ssh-rsa AAAAB3NzaC1yc2E" + strings.Repeat("A", 3000):            "SSH keys are not supported",
		"ecdsa-sha2-nistp256 AAAA":                                       "SSH keys are not supported",
		"age1yubikey1qpzry9x8gf2tvdw0s3jn54khce6mua7lqpzry9x8gf2tvdw0s3": `the age plugin "yubikey"`,
		"age1tag1qpzry9x8gf2tvdw0s3jn54khce6mua7lqpzry9x8gf2tvdw0s3jn":   `the age plugin "tag"`,
		x.String():                         "secret key",
		"":                                 "no recipient",
		"hello":                            "not an age recipient",
		"age1" + strings.Repeat("q", 3000): "longer than any supported one",
		"age1bogus":                        "not an age X25519 recipient",
		xr[:len(xr)-1]:                     "not an age X25519 recipient",
		damagedPQ:                          "not an age hybrid post-quantum recipient",
	} {
		_, _, err := parsePackageRecipient(in)
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), supportedRecipients) {
			t.Errorf("%.40q: %v, want %q and what is supported", in, err, want)
		}
		if strings.Contains(err.Error(), "AGE-SECRET-KEY-1") {
			t.Errorf("the refusal quotes a secret key: %v", err)
		}
	}
}

// A prosecutor registers a hybrid post-quantum recipient; the package's
// items are sealed to it: they open with the hybrid identity (and with
// the stock age command line), the package verifies, and an X25519
// identity is a key mismatch.
func TestSealToHybridRecipient(t *testing.T) {
	ctx := context.Background()
	v, _ := openTestVaultDir(t)
	login := func(name, role string) Principal { return enrolled(t, v, name, role) }
	inv, pros := login("inv", RoleInvestigator), login("pros", RoleProsecutor)
	if err := v.OpenCase(ctx, inv, "PQ-1", "post-quantum"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Deposit(ctx, inv, DepositRequest{Case: "PQ-1", Name: "a.txt", Body: strings.NewReader("evidence a")}); err != nil {
		t.Fatal(err)
	}
	pq, _ := age.GenerateHybridIdentity()
	got, req, err := v.SetRecipient(ctx, pros, " "+pq.Recipient().String()+"\r\n")
	if err != nil || req != nil || got != pq.Recipient().String() {
		t.Fatalf("SetRecipient(hybrid): %.20q %v %v", got, req, err)
	}
	sealed, err := v.SealPackage(ctx, inv, SealRequest{Case: "PQ-1", For: "pros", Purpose: "trial"})
	if err != nil {
		t.Fatal(err)
	}
	pkg := fetchedPackage(t, v, pros, sealed.ID)
	rep, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: v.VerifierKey(), Identities: []age.Identity{pq}})
	if err != nil || rep.Decrypted != 1 || rep.Manifest.Recipient != pq.Recipient().String() {
		t.Fatalf("Verify with the hybrid identity: %v %+v", err, rep)
	}
	x, _ := age.GenerateX25519Identity()
	var km *pkgformat.KeyMismatchError
	if _, err := pkgformat.Verify(bytes.NewReader(pkg), pkgformat.VerifyOptions{TrustedKey: v.VerifierKey(), Identities: []age.Identity{x}}); !errors.As(err, &km) {
		t.Fatalf("Verify with an X25519 identity: %v, want a key mismatch", err)
	}

	// The item is a standard age file with one mlkem768x25519 stanza: the
	// stock age opens it with the identity file.
	var item []byte
	for _, m := range testenv.TarMembers(t, bytes.NewReader(pkg)) {
		if item == nil && strings.HasPrefix(m.Name, pkgformat.ItemsDir) {
			item = m.Data
		}
	}
	if item == nil {
		t.Fatal("no item in the package")
	}
	if !bytes.Contains(item[:200], []byte("\n-> mlkem768x25519 ")) {
		t.Fatalf("the item's header has no hybrid stanza: %q", item[:120])
	}
	ageBin := testenv.Binary(t, "age")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pq.key"), []byte(pq.String()+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "item.age"), item, 0o600)
	out, err := exec.Command(ageBin, "-d", "-i", filepath.Join(dir, "pq.key"), filepath.Join(dir, "item.age")).Output()
	if err != nil || string(out) != "evidence a" {
		t.Fatalf("stock age -d: %q %v", out, err)
	}
}

// TestWhoAmISaysWhatIsRegistered: a prosecutor sees the recipient their
// packages are sealed to once registered (and that none is before); an
// investigator is told nothing of the kind.
func TestWhoAmISaysWhatIsRegistered(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	pros := enrolled(t, v, "pros", RoleProsecutor)
	inv := enrolled(t, v, "inv", RoleInvestigator)
	if w := v.WhoAmI(pros); w.Recipient != "" || w.ReceiptKey != "" {
		t.Fatalf("before registering: %+v", w)
	}
	x, _ := age.GenerateX25519Identity()
	if _, _, err := v.SetRecipient(ctx, pros, x.Recipient().String()); err != nil {
		t.Fatal(err)
	}
	if w := v.WhoAmI(pros); w.Recipient != x.Recipient().String() || w.Name != "pros" {
		t.Fatalf("after registering: %+v", w)
	}
	if w := v.WhoAmI(inv); w.Recipient != "" || w.ReceiptKey != "" {
		t.Fatalf("an investigator: %+v", w)
	}
}

// TestRequesterToldHowTheirRequestEnded: a prosecutor naming their own
// request once a custodian approved it is told it was approved, and by
// whom; another prosecutor naming it is answered as for an unknown one.
func TestRequesterToldHowTheirRequestEnded(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	p := people(t, v, map[string]string{"c1": RoleCustodian, "pros": RoleProsecutor, "pros2": RoleProsecutor})
	for i := 0; i < 2; i++ {
		id, _ := age.GenerateX25519Identity()
		if _, _, err := v.SetRecipient(ctx, p["pros"], id.Recipient().String()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := v.Requests(p["pros"])
	if len(reqs) != 1 || reqs[0].Kind != KindRecipient {
		t.Fatalf("the replacement's request: %+v", reqs)
	}
	if _, err := v.Approve(ctx, p["c1"], reqs[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err := v.Reject(ctx, p["pros"], reqs[0].ID, "changed my mind")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already approved by c1") {
		t.Fatalf("the requester naming their approved request: %v", err)
	}
	_, err = v.Reject(ctx, p["pros2"], reqs[0].ID, "curious")
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "approved") {
		t.Fatalf("another prosecutor naming it: %v", err)
	}
}
