package vault

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

func newReceiptKey(t *testing.T) (string, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))), s
}

// TestFirstReceiptKeysRacingOneLands: two first registrations of a
// person's receipt key sent at once: one is recorded, the other is
// refused (or, if it came after the first was recorded, becomes a
// replacement request a custodian approves), never both with the second
// silently replacing the first. Each round is a new person, so that the
// race is run many times.
func TestFirstReceiptKeysRacingOneLands(t *testing.T) {
	v := openTestVault(t)
	ctx := context.Background()
	for i := range 300 {
		name := fmt.Sprintf("pros%d", i)
		p := enrolled(t, v, name, RoleProsecutor)
		k1, _ := newReceiptKey(t)
		k2, _ := newReceiptKey(t)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for j, k := range []string{k1, k2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, info, err := v.SetReceiptKey(ctx, p, k)
				if err == nil && info != nil {
					err = fmt.Errorf("opened request %s", info.ID)
				}
				errs[j] = err
			}()
		}
		close(start)
		wg.Wait()
		n := 0
		for _, ev := range logged(t, v) {
			if ev.Type == TypeReceiptKeySet && ev.Actor.Person == name {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d first registrations of %s recorded (errors %v), want 1", i, n, name, errs)
		}
		// The other is refused, or, if it came once the first was
		// recorded, opened a replacement request.
		for _, err := range errs {
			if err != nil && !errors.Is(err, ErrConflict) && !strings.HasPrefix(err.Error(), "opened request") {
				t.Fatalf("round %d: %v", i, err)
			}
		}
	}
}

// TestReceiptUnderAReplacedKeyIsRefused: a receipt signed with a key
// whose replacement a custodian approves at the same moment is either
// recorded before the replacement or refused, never recorded after it
// under a key no longer registered.
func TestReceiptUnderAReplacedKeyIsRefused(t *testing.T) {
	f := newPackageFixture(t)
	v := f.v
	ctx := context.Background()
	c := people(t, v, map[string]string{"c1": RoleCustodian})
	line, signer := newReceiptKey(t)
	if _, _, err := v.SetReceiptKey(ctx, f.pros, line); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		pkg, err := v.SealPackage(ctx, f.inv, SealRequest{Case: "P-1", For: "pros", Purpose: fmt.Sprintf("trial %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		sealed, _ := v.state.getPackage(pkg.ID)
		sig, err := sshsig.Sign(strings.NewReader(string(ReceiptMessage(pkg.ID, sealed.Sealed.SHA256))), signer, sshsig.HashSHA512, ReceiptNamespace)
		if err != nil {
			t.Fatal(err)
		}
		next, nextSigner := newReceiptKey(t)
		_, info, err := v.SetReceiptKey(ctx, f.pros, next)
		if err != nil || info == nil {
			t.Fatal(info, err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		var recErr, apprErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, recErr = v.ReceivePackage(ctx, f.pros, pkg.ID, sealed.Sealed.SHA256, string(sshsig.Armor(sig)))
		}()
		go func() { defer wg.Done(); <-start; _, apprErr = v.Approve(ctx, c["c1"], info.ID) }()
		close(start)
		wg.Wait()
		if apprErr != nil {
			t.Fatal(apprErr)
		}
		var keySeq, recSeq uint64
		for _, ev := range logged(t, v) {
			if ev.Type == TypeReceiptKeySet && strings.Contains(string(ev.Data), info.ID) {
				keySeq = ev.Seq
			}
			if ev.Type == TypePackageReceived && strings.Contains(string(ev.Data), pkg.ID) {
				recSeq = ev.Seq
			}
		}
		switch {
		case recErr == nil && recSeq > keySeq:
			t.Fatalf("round %d: the receipt under the replaced key was recorded at %d, after the replacement at %d", i, recSeq, keySeq)
		case recErr != nil && !errors.Is(recErr, ErrConflict) &&
			!(errors.Is(recErr, ErrForbidden) && strings.Contains(recErr.Error(), "not by the registered receipt key")):
			// A conflict: replaced while the receipt was recorded; or
			// the signature checked against the new key: replaced
			// before the receipt read it. Nothing else.
			t.Fatalf("round %d: refused as %v, want a conflict or the new key's refusal", i, recErr)
		case recErr != nil && recSeq != 0:
			t.Fatalf("round %d: refused, yet recorded", i)
		}
		signer = nextSigner
	}
}
