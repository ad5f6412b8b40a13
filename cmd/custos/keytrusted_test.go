package main

import (
	"crypto/rand"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-vault/custos/pkgformat"
)

// TestAWrongKeyIsToldApart: an audit given a key that is not the vault's
// fails before reading the log, as a finding (errAuditFailed), told apart
// (keyNotTrusted) so that the auditor is asked first to check the key
// they typed; the vault's own key, or its fingerprint, is trusted.
func TestAWrongKeyIsToldApart(t *testing.T) {
	_, served, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	err = keyTrusted(other, served, "nothing was checked")
	var kn keyNotTrusted
	if !errors.Is(err, errAuditFailed) || !errors.As(err, &kn) {
		t.Fatalf("another vault's key: %v", err)
	}
	for _, good := range []string{served, pkgformat.KeyFingerprint(served)} {
		if err := keyTrusted(good, served, "nothing was checked"); err != nil {
			t.Fatalf("the vault's own key (%s): %v", good, err)
		}
	}
}
