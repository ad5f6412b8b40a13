// Package sealertest is the conformance suite every key sealer passes. A
// sealer guards the only copies (besides the offline recovery copy) of the
// keys that open evidence, so the suite is mostly about refusals: a blob that
// was altered, cut short, sealed by another device or by another kind of
// sealer must fail with hsm.ErrUnseal, never with garbage, and an unreachable
// device must say so with hsm.ErrUnavailable, never with ErrUnseal (callers
// treat ErrUnseal as evidence of tampering or of a lost device, which an
// outage is not).
package sealertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/soft"
)

// Options describe what a backend can offer the suite beyond the factory.
type Options struct {
	// Other returns a sealer with an independent KEK: another TPM, another
	// token, another Transit key. Required: every backend has one.
	Other func(t *testing.T) hsm.Sealer

	// Foreign are blobs of other sealer kinds that this backend must refuse,
	// in addition to the ones the suite makes itself (a soft blob, a Vault
	// Transit ciphertext string, random bytes).
	Foreign [][]byte

	// Unavailable, when set, makes the device behind s unreachable (kill the
	// simulator, remove the token, stop the server). It returns a function
	// that brings the device back with its state, or nil if it cannot.
	Unavailable func(t *testing.T, s hsm.Sealer) (restore func())

	// FlipPositions is how many byte positions of a sealed blob get one bit
	// flipped. Zero means every position; a positive value spreads that many
	// positions evenly, always including the first and last bytes.
	FlipPositions int

	// Secrets overrides the secret sizes sealed (default 1, 16, 32, 74, 100,
	// 200, MaxSecret).
	Sizes []int
}

// Run runs the suite. newSealer must return a sealer on the same device and
// KEK every time it is called (a reopened sealer must open what an earlier
// one sealed). Subtests run one after another: backends on simulators that
// serve one command at a time need no locking of their own for the suite.
func Run(t *testing.T, newSealer func(t *testing.T) hsm.Sealer, opts Options) {
	if opts.Other == nil {
		t.Fatal("sealertest: Options.Other is required")
	}
	sizes := opts.Sizes
	if len(sizes) == 0 {
		sizes = []int{1, 16, 32, 74, 100, 200, hsm.MaxSecret}
	}
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		s := open(t, newSealer)
		var sealT, unsealT []time.Duration
		for _, n := range sizes {
			secret := randomBytes(n)
			start := time.Now()
			blob, err := s.Seal(ctx, secret)
			sealT = append(sealT, time.Since(start))
			if err != nil {
				t.Fatalf("seal %d bytes: %v", n, err)
			}
			if bytes.Contains(blob, secret) && n >= 8 {
				t.Fatalf("sealed blob of %d bytes contains the secret in clear", n)
			}
			start = time.Now()
			got, err := s.Unseal(ctx, blob)
			unsealT = append(unsealT, time.Since(start))
			if err != nil {
				t.Fatalf("unseal %d bytes: %v", n, err)
			}
			if !bytes.Equal(got, secret) {
				t.Fatalf("unseal %d bytes gave other bytes back", n)
			}
			hsm.Zero(got)
		}
		t.Logf("seal median %v, unseal median %v over %d secrets", median(sealT), median(unsealT), len(sizes))
	})

	t.Run("AgeIdentity", func(t *testing.T) {
		// The secret Custos seals most: a 74-byte age X25519 identity.
		s := open(t, newSealer)
		id := []byte("AGE-SECRET-KEY-1" + strings.Repeat("Q", 58))
		blob := seal(t, s, id)
		got, err := s.Unseal(ctx, blob)
		if err != nil || !bytes.Equal(got, id) {
			t.Fatalf("age identity did not round-trip: %v", err)
		}
	})

	t.Run("SealTwiceDiffers", func(t *testing.T) {
		s := open(t, newSealer)
		secret := randomBytes(32)
		a, b := seal(t, s, secret), seal(t, s, secret)
		if bytes.Equal(a, b) {
			t.Fatal("sealing the same secret twice gave the same blob: sealing is not randomised")
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		s := open(t, newSealer)
		for _, n := range []int{hsm.MaxSecret + 1, 4096} {
			blob, err := s.Seal(ctx, make([]byte, n))
			if !errors.Is(err, hsm.ErrTooLarge) {
				t.Fatalf("seal of %d bytes: got %v, want ErrTooLarge", n, err)
			}
			if blob != nil {
				t.Fatal("refused seal returned a blob")
			}
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		s1 := newSealer(t)
		secret := randomBytes(32)
		blob := seal(t, s1, secret)
		ref := s1.KeyRef()
		if err := s1.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		s2 := open(t, newSealer)
		if s2.KeyRef() != ref {
			t.Errorf("KeyRef changed on reopen: %q then %q", ref, s2.KeyRef())
		}
		unsealEqual(t, s2, blob, secret)
	})

	t.Run("BitFlips", func(t *testing.T) {
		s := open(t, newSealer)
		secret := randomBytes(32)
		blob := seal(t, s, secret)
		for _, i := range positions(len(blob), opts.FlipPositions) {
			bad := slices.Clone(blob)
			bad[i] ^= 1 << (i % 8)
			mustRefuse(t, s, bad, "bit %d of byte %d of %d flipped", i%8, i, len(blob))
		}
		unsealEqual(t, s, blob, secret) // the original still opens afterwards
	})

	t.Run("Truncated", func(t *testing.T) {
		s := open(t, newSealer)
		blob := seal(t, s, randomBytes(32))
		for _, n := range []int{0, 1, len(blob) / 4, len(blob) / 2, len(blob) - 16, len(blob) - 1} {
			if n < 0 || n >= len(blob) {
				continue
			}
			mustRefuse(t, s, blob[:n:n], "truncated to %d of %d bytes", n, len(blob))
		}
		mustRefuse(t, s, append(slices.Clone(blob), 0), "one byte appended")
		mustRefuse(t, s, nil, "nil blob")
	})

	t.Run("OtherInstance", func(t *testing.T) {
		s := open(t, newSealer)
		o := opts.Other(t)
		t.Cleanup(func() { o.Close() })
		if s.KeyRef() == o.KeyRef() {
			t.Logf("note: two independent KEKs share the reference %q", s.KeyRef())
		}
		secret := randomBytes(32)
		mustRefuse(t, s, seal(t, o, secret), "blob sealed by the other instance")
		mustRefuse(t, o, seal(t, s, secret), "blob sealed by this instance, opened by the other")
	})

	t.Run("ForeignKind", func(t *testing.T) {
		s := open(t, newSealer)
		for i, blob := range foreignBlobs(t, opts.Foreign) {
			mustRefuse(t, s, blob, "foreign blob %d", i)
		}
	})

	t.Run("KeyRef", func(t *testing.T) {
		s := open(t, newSealer)
		ref := s.KeyRef()
		if ref == "" {
			t.Fatal("empty KeyRef")
		}
		secret := randomBytes(32)
		blob := seal(t, s, secret)
		if strings.Contains(ref, string(secret)) {
			t.Fatal("KeyRef contains the sealed secret")
		}
		for _, word := range []string{"pin=", "pin-value", "token=s.", "hvs.", "password"} {
			if strings.Contains(strings.ToLower(ref), word) {
				t.Errorf("KeyRef %q looks like it holds a credential (%q)", ref, word)
			}
		}
		if len(blob) > 0 && strings.Contains(ref, string(blob)) {
			t.Fatal("KeyRef contains a sealed blob")
		}
	})

	t.Run("UseAfterClose", func(t *testing.T) {
		s := newSealer(t)
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		blob, err := s.Seal(ctx, randomBytes(32))
		if !errors.Is(err, hsm.ErrUnavailable) || blob != nil {
			t.Fatalf("seal after close: blob %v, err %v; want ErrUnavailable", blob != nil, err)
		}
		if _, err := s.Unseal(ctx, []byte("anything")); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("unseal after close: %v, want ErrUnavailable", err)
		}
		s.Close() // closing twice is harmless
	})

	probe := newSealer(t)
	_, rotates := probe.(hsm.Rotator)
	probe.Close()
	if rotates {
		t.Run("Rotate", func(t *testing.T) { runRotate(t, newSealer) })
	}

	if opts.Unavailable != nil {
		t.Run("Unavailable", func(t *testing.T) { runUnavailable(t, newSealer, opts.Unavailable) })
	}
}

func runRotate(t *testing.T, newSealer func(t *testing.T) hsm.Sealer) {
	ctx := context.Background()
	s := open(t, newSealer)
	r := s.(hsm.Rotator)
	oldRef := s.KeyRef()
	oldSecret := randomBytes(32)
	oldBlob := seal(t, s, oldSecret)

	newRef, err := r.Rotate(ctx)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if newRef == oldRef || s.KeyRef() != newRef {
		t.Fatalf("rotate: KeyRef %q -> %q, Rotate returned %q", oldRef, s.KeyRef(), newRef)
	}
	newSecret := randomBytes(32)
	newBlob := seal(t, s, newSecret)
	unsealEqual(t, s, oldBlob, oldSecret) // old version still opens before RetireOld
	unsealEqual(t, s, newBlob, newSecret)
	if rw, ok := s.(hsm.Rewrapper); ok {
		moved, err := rw.Rewrap(ctx, oldBlob)
		if err != nil {
			t.Fatalf("rewrap: %v", err)
		}
		unsealEqual(t, s, moved, oldSecret)
		defer func() { unsealEqual(t, s, moved, oldSecret) }() // survives RetireOld
	}

	reopened := open(t, newSealer)
	if reopened.KeyRef() != newRef {
		t.Fatalf("a reopened sealer uses %q, not the rotated %q", reopened.KeyRef(), newRef)
	}
	unsealEqual(t, reopened, oldBlob, oldSecret)

	if err := r.RetireOld(ctx); err != nil {
		t.Fatalf("retire old: %v", err)
	}
	mustRefuse(t, s, oldBlob, "blob of a retired KEK version")
	unsealEqual(t, s, newBlob, newSecret)
	after := open(t, newSealer)
	mustRefuse(t, after, oldBlob, "blob of a retired KEK version, reopened sealer")
	unsealEqual(t, after, newBlob, newSecret)
}

func runUnavailable(t *testing.T, newSealer func(t *testing.T) hsm.Sealer, down func(*testing.T, hsm.Sealer) func()) {
	ctx := context.Background()
	s := open(t, newSealer)
	secret := randomBytes(32)
	blob := seal(t, s, secret)
	restore := down(t, s)

	got, err := s.Seal(ctx, randomBytes(32))
	if !errors.Is(err, hsm.ErrUnavailable) {
		t.Fatalf("seal with the device gone: %v, want ErrUnavailable", err)
	}
	if errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("seal with the device gone claims ErrUnseal too: %v", err)
	}
	if got != nil {
		t.Fatal("seal with the device gone returned a blob")
	}
	got, err = s.Unseal(ctx, blob)
	if !errors.Is(err, hsm.ErrUnavailable) || errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("unseal with the device gone: %v, want ErrUnavailable and not ErrUnseal", err)
	}
	if got != nil {
		t.Fatal("unseal with the device gone returned bytes")
	}
	if restore == nil {
		return
	}
	// The broken sealer is closed, as a server would on such an error,
	// before the device comes back and a new one is opened.
	s.Close()
	restore()
	// Nothing was left half-done: the device opens the earlier blob and
	// seals anew.
	back := open(t, newSealer)
	unsealEqual(t, back, blob, secret)
	fresh := randomBytes(32)
	unsealEqual(t, back, seal(t, back, fresh), fresh)
}

func open(t *testing.T, newSealer func(t *testing.T) hsm.Sealer) hsm.Sealer {
	t.Helper()
	s := newSealer(t)
	t.Cleanup(func() { s.Close() })
	return s
}

func seal(t *testing.T, s hsm.Sealer, secret []byte) []byte {
	t.Helper()
	blob, err := s.Seal(context.Background(), secret)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return blob
}

func unsealEqual(t *testing.T, s hsm.Sealer, blob, secret []byte) {
	t.Helper()
	got, err := s.Unseal(context.Background(), blob)
	if err != nil {
		t.Fatalf("unseal: %v", err)
	}
	if !bytes.Equal(got, secret) {
		t.Fatal("unseal gave other bytes back")
	}
	hsm.Zero(got)
}

func mustRefuse(t *testing.T, s hsm.Sealer, blob []byte, format string, args ...any) {
	t.Helper()
	got, err := s.Unseal(context.Background(), blob)
	if err == nil {
		hsm.Zero(got)
		t.Fatalf("unseal accepted a bad blob ("+format+")", args...)
	}
	if !errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("unseal of a bad blob ("+format+"): %v, want ErrUnseal", append(args, err)...)
	}
	if got != nil {
		t.Fatalf("refused unseal returned bytes ("+format+")", args...)
	}
}

// positions picks which bytes of an n-byte blob to alter.
func positions(n, want int) []int {
	if want <= 0 || want >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := map[int]bool{}
	var out []int
	for k := range want {
		i := k * (n - 1) / max(want-1, 1)
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

func foreignBlobs(t *testing.T, extra [][]byte) [][]byte {
	t.Helper()
	ss, err := soft.New(context.Background(), soft.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("soft sealer for a foreign blob: %v", err)
	}
	softBlob, err := ss.Seal(context.Background(), randomBytes(32))
	if err != nil {
		t.Fatal(err)
	}
	out := [][]byte{
		softBlob,
		[]byte("vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w=="),
		randomBytes(64),
		randomBytes(300),
		make([]byte, 128),
	}
	return append(out, extra...)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
