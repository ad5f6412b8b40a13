//go:build cgo

package pkcs11_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/pkcs11"
	"github.com/custos-vault/custos/hsm/sealertest"
	"github.com/custos-vault/custos/internal/testenv"
)

func open(t *testing.T, uri string, create bool) hsm.Sealer {
	t.Helper()
	s, err := pkcs11.New(context.Background(), pkcs11.Config{URI: uri, CreateKEK: create})
	if err != nil {
		t.Fatalf("pkcs11.New: %v", err)
	}
	return s
}

// TestConformance runs the sealer suite on SoftHSM2: "another token" is a
// second token initialised in the same SoftHSM2, with a KEK of the same
// label.
func TestConformance(t *testing.T) {
	h := testenv.NewSoftHSM(t)
	a := h.InitToken(t, "custos-a")
	b := h.InitToken(t, "custos-b")
	uriA, uriB := h.URI(a, "kek"), h.URI(b, "kek")
	open(t, uriA, true).Close()
	open(t, uriB, true).Close()

	sealertest.Run(t, func(t *testing.T) hsm.Sealer { return open(t, uriA, false) }, sealertest.Options{
		Other: func(t *testing.T) hsm.Sealer { return open(t, uriB, false) },
		Unavailable: func(t *testing.T, s hsm.Sealer) func() {
			// The tokens are taken away from under a live session.
			return h.Unplug(t)
		},
	})
}

func TestUnavailableAtOpen(t *testing.T) {
	h := testenv.NewSoftHSM(t)
	a := h.InitToken(t, "custos-a")
	good := h.URI(a, "kek")
	open(t, good, true).Close()
	for name, uri := range map[string]string{
		"wrong module path": strings.Replace(good, url.QueryEscape(h.Module), "%2Fnonexistent%2Flibnothing.so", 1),
		"absent token":      strings.Replace(good, "token=custos-a", "token=custos-gone", 1),
		"absent KEK":        strings.Replace(good, "object=kek", "object=other", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if uri == good {
				t.Fatal("test URI was not changed")
			}
			s, err := pkcs11.New(context.Background(), pkcs11.Config{URI: uri})
			if !errors.Is(err, hsm.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if s != nil {
				t.Fatal("a sealer came back with the error")
			}
		})
	}
	t.Run("wrong PIN", func(t *testing.T) {
		pin := filepath.Join(t.TempDir(), "pin")
		os.WriteFile(pin, []byte("000000\n"), 0o600)
		uri := strings.Replace(good, url.QueryEscape(a.PINFile), url.QueryEscape(pin), 1)
		_, err := pkcs11.New(context.Background(), pkcs11.Config{URI: uri})
		if err == nil || errors.Is(err, hsm.ErrUnavailable) || errors.Is(err, hsm.ErrUnseal) {
			t.Fatalf("wrong PIN: %v, want a plain refusal", err)
		}
	})
	// The KEK was not created by the refused opens.
	s := open(t, good, false)
	defer s.Close()
	if !strings.HasSuffix(s.KeyRef(), "kek=v1") {
		t.Fatalf("KeyRef %q", s.KeyRef())
	}
}

// A token replaced by a fresh one (same label, new KEK) must refuse the old
// blobs: this is the lost-HSM case the recovery identity exists for.
func TestReplacedToken(t *testing.T) {
	h := testenv.NewSoftHSM(t)
	a := h.InitToken(t, "custos-a")
	s := open(t, h.URI(a, "kek"), true)
	blob, err := s.Seal(context.Background(), []byte("AGE-SECRET-KEY-1XYZ"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	h.DeleteToken(t, a.Label)
	a2 := h.InitToken(t, a.Label)
	s2 := open(t, h.URI(a2, "kek"), true)
	defer s2.Close()
	if _, err := s2.Unseal(context.Background(), blob); !errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("old blob on a replaced token: %v, want ErrUnseal", err)
	}
}

// The KEK the sealer creates must never be readable or extractable.
func TestKEKAttributes(t *testing.T) {
	h := testenv.NewSoftHSM(t)
	a := h.InitToken(t, "custos-a")
	open(t, h.URI(a, "kek"), true).Close()

	ctx := p11.New(h.Module)
	if ctx == nil {
		t.Fatal("cannot load module")
	}
	defer ctx.Destroy()
	if err := ctx.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer ctx.Finalize()
	slots, _ := ctx.GetSlotList(true)
	var sh p11.SessionHandle
	for _, slot := range slots {
		if info, _ := ctx.GetTokenInfo(slot); info.Label == a.Label {
			sh, _ = ctx.OpenSession(slot, p11.CKF_SERIAL_SESSION)
		}
	}
	if err := ctx.Login(sh, p11.CKU_USER, a.PIN); err != nil {
		t.Fatal(err)
	}
	ctx.FindObjectsInit(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, "kek")})
	objs, _, _ := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if len(objs) != 1 {
		t.Fatalf("%d objects labelled kek", len(objs))
	}
	attrs, err := ctx.GetAttributeValue(sh, objs[0], []*p11.Attribute{
		p11.NewAttribute(p11.CKA_SENSITIVE, nil),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
		p11.NewAttribute(p11.CKA_TOKEN, nil),
		p11.NewAttribute(p11.CKA_VALUE_LEN, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	if attrs[0].Value[0] != 1 || attrs[1].Value[0] != 0 || attrs[2].Value[0] != 1 {
		t.Fatalf("KEK sensitive=%v extractable=%v token=%v", attrs[0].Value, attrs[1].Value, attrs[2].Value)
	}
	if _, err := ctx.GetAttributeValue(sh, objs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)}); err == nil {
		t.Fatal("the KEK's value could be read")
	}
}
