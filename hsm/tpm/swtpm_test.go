package tpm_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/sealertest"
	"github.com/custos-vault/custos/hsm/tpm"
	"github.com/custos-vault/custos/internal/testenv"
)

func open(t *testing.T, cfg tpm.Config) *tpm.Sealer {
	t.Helper()
	s, err := tpm.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("tpm.New: %v", err)
	}
	return s
}

// TestConformance runs the sealer suite on swtpm; "another TPM" is a
// second swtpm with its own state (its own owner seed).
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  tpm.Config
	}{
		{"Password", tpm.Config{}},
		{"PCRPolicy", tpm.Config{Password: []byte("correct horse"), PCRs: []int{0, 7, 16}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := testenv.StartSwtpm(t), testenv.StartSwtpm(t)
			cfgA, cfgB := tc.cfg, tc.cfg
			cfgA.Addr, cfgB.Addr = a.Addr(), b.Addr()
			sealertest.Run(t, func(t *testing.T) hsm.Sealer { return open(t, cfgA) }, sealertest.Options{
				Other: func(t *testing.T) hsm.Sealer { return open(t, cfgB) },
				Unavailable: func(t *testing.T, _ hsm.Sealer) func() {
					a.Kill()
					return func() {
						if err := a.Start(); err != nil {
							t.Fatal(err)
						}
					}
				},
			})
		})
	}
}

// A TPM that is lost and replaced (state destroyed, fresh seeds) cannot
// open what the old one sealed: this is what the recovery identity is for.
func TestLostTPM(t *testing.T) {
	sw := testenv.StartSwtpm(t)
	s := open(t, tpm.Config{Addr: sw.Addr()})
	blob, err := s.Seal(context.Background(), []byte("AGE-SECRET-KEY-1LOST"))
	if err != nil {
		t.Fatal(err)
	}
	refBefore := s.KeyRef()
	s.Close()
	if err := sw.Wipe(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, tpm.Config{Addr: sw.Addr()})
	defer s2.Close()
	if s2.KeyRef() == refBefore {
		t.Errorf("a replaced TPM has the same KeyRef %q", refBefore)
	}
	if _, err := s2.Unseal(context.Background(), blob); !errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("blob of a lost TPM: %v, want ErrUnseal", err)
	}
}

func TestKilledAtOpen(t *testing.T) {
	sw := testenv.StartSwtpm(t)
	sw.Kill()
	s, err := tpm.New(context.Background(), tpm.Config{Addr: sw.Addr()})
	if !errors.Is(err, hsm.ErrUnavailable) || s != nil {
		t.Fatalf("New on a dead TPM: %v, want ErrUnavailable", err)
	}
}

func TestWrongPassword(t *testing.T) {
	sw := testenv.StartSwtpm(t)
	for _, pcrs := range [][]int{nil, {16}} {
		s := open(t, tpm.Config{Addr: sw.Addr(), Password: []byte("right"), PCRs: pcrs})
		blob, err := s.Seal(context.Background(), []byte("secret"))
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{"wrong", ""} {
			o := open(t, tpm.Config{Addr: sw.Addr(), Password: []byte(pw)})
			_, err := o.Unseal(context.Background(), blob)
			o.Close()
			if !errors.Is(err, hsm.ErrUnseal) {
				t.Fatalf("PCRs %v, password %q: %v, want ErrUnseal", pcrs, pw, err)
			}
		}
	}
}

// A blob bound to PCR 16 opens only while PCR 16 holds the value it had at
// sealing: extending it (as a changed boot chain would change PCRs 0-7)
// makes the TPM refuse; resetting it brings the value back.
func TestPCRPolicy(t *testing.T) {
	sw := testenv.StartSwtpm(t)
	ctx := context.Background()
	s := open(t, tpm.Config{Addr: sw.Addr(), PCRs: []int{16}})
	defer s.Close()
	secret := []byte("AGE-SECRET-KEY-1PCR")
	blob, err := s.Seal(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Unseal(ctx, blob); err != nil || string(got) != string(secret) {
		t.Fatalf("unseal with PCRs unchanged: %v", err)
	}
	pcr16(t, sw.Addr(), false)
	if _, err := s.Unseal(ctx, blob); !errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("unseal after PCR 16 changed: %v, want ErrUnseal", err)
	}
	pcr16(t, sw.Addr(), true)
	if got, err := s.Unseal(ctx, blob); err != nil || string(got) != string(secret) {
		t.Fatalf("unseal after PCR 16 reset: %v", err)
	}
}

// pcr16 extends PCR 16 with a fixed digest, or resets it.
func pcr16(t *testing.T, addr string, reset bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tp := transport.FromReadWriteCloser(c)
	defer tp.Close()
	h := tpm2.AuthHandle{Handle: tpm2.TPMHandle(16), Auth: tpm2.PasswordAuth(nil)}
	if reset {
		_, err = tpm2.PCRReset{PCRHandle: h}.Execute(tp)
	} else {
		_, err = tpm2.PCRExtend{PCRHandle: h, Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{
			{HashAlg: tpm2.TPMAlgSHA256, Digest: make([]byte, 32)},
		}}}.Execute(tp)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// RetireOld after two rotations destroys the persistent versions: even a
// sealer told nothing about the retirement cannot reach them.
func TestRotateTwice(t *testing.T) {
	sw := testenv.StartSwtpm(t)
	ctx := context.Background()
	s := open(t, tpm.Config{Addr: sw.Addr()})
	defer s.Close()
	var blobs [][]byte
	for i := range 3 {
		b, err := s.Seal(ctx, []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
		if i < 2 {
			if _, err := s.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, b := range blobs {
		if got, err := s.Unseal(ctx, b); err != nil || got[0] != byte(i) {
			t.Fatalf("version %d before retiring: %v", i+1, err)
		}
	}
	if err := s.RetireOld(ctx); err != nil {
		t.Fatal(err)
	}
	for i, b := range blobs[:2] {
		if _, err := s.Unseal(ctx, b); !errors.Is(err, hsm.ErrUnseal) {
			t.Fatalf("version %d after retiring: %v, want ErrUnseal", i+1, err)
		}
	}
	// The evicted handles are gone from the TPM itself.
	c, err := net.Dial("tcp", sw.Addr())
	if err != nil {
		t.Fatal(err)
	}
	tp := transport.FromReadWriteCloser(c)
	defer tp.Close()
	for _, h := range []tpm2.TPMHandle{tpm.DefaultHandleBase + 1, tpm.DefaultHandleBase + 2} {
		if _, err := (tpm2.ReadPublic{ObjectHandle: h}).Execute(tp); err == nil {
			t.Fatalf("handle %#x still present after RetireOld", uint32(h))
		}
	}
	if _, err := (tpm2.ReadPublic{ObjectHandle: tpm.DefaultHandleBase + 3}).Execute(tp); err != nil {
		t.Fatalf("current version evicted: %v", err)
	}
}
