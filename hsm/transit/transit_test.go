package transit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/internal/testenv"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/sealertest"
	"github.com/custos-vault/custos/hsm/transit"
)

func open(t *testing.T, cfg transit.Config) *transit.Sealer {
	t.Helper()
	s, err := transit.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("transit.New: %v", err)
	}
	return s
}

// TestFakeTransitConformance runs the suite against the FAKE Transit
// server (see fake_vault_test.go): it checks this client, not Vault.
// "Another instance" is a second fake server with a key of the same name.
func TestFakeTransitConformance(t *testing.T) {
	a, b := newFakeVault(t, "tok-a"), newFakeVault(t, "tok-b")
	a.addKey("custos", false)
	b.addKey("custos", false)
	cfgA := transit.Config{Address: a.URL, Key: "custos", Token: secret.New("tok-a"), MaxRetries: -1}
	cfgB := transit.Config{Address: b.URL, Key: "custos", Token: secret.New("tok-b"), MaxRetries: -1}
	sealertest.Run(t, func(t *testing.T) hsm.Sealer { return open(t, cfgA) }, sealertest.Options{
		Other: func(t *testing.T) hsm.Sealer { return open(t, cfgB) },
		Unavailable: func(t *testing.T, _ hsm.Sealer) func() {
			a.setSealed(true)
			return func() { a.setSealed(false) }
		},
	})
}

func TestFakeTransitRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFakeVault(t, "tok")
	f.addKey("custos", false)
	f.addKey("other", false)
	f.addKey("leaky", true)
	cfg := transit.Config{Address: f.URL, Key: "custos", Token: secret.New("tok"), MaxRetries: -1}

	t.Run("another key on the same Vault", func(t *testing.T) {
		o := cfg
		o.Key = "other"
		blob, err := open(t, o).Seal(ctx, []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := open(t, cfg).Unseal(ctx, blob); !errors.Is(err, hsm.ErrUnseal) {
			t.Fatalf("got %v, want ErrUnseal", err)
		}
	})
	t.Run("exportable key refused", func(t *testing.T) {
		o := cfg
		o.Key = "leaky"
		if _, err := transit.New(ctx, o); err == nil || !strings.Contains(err.Error(), "exportable") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("absent key is unavailable", func(t *testing.T) {
		o := cfg
		o.Key = "absent"
		if _, err := transit.New(ctx, o); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("got %v, want ErrUnavailable", err)
		}
	})
	t.Run("wrong token is unavailable, not unseal", func(t *testing.T) {
		s := open(t, cfg)
		blob, _ := s.Seal(ctx, []byte("secret"))
		o := cfg
		o.Token = secret.New("wrong")
		if _, err := transit.New(ctx, o); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("New with a wrong token: %v", err)
		}
		f.token = "rotated-out"
		defer func() { f.token = "tok" }()
		if _, err := s.Unseal(ctx, blob); !errors.Is(err, hsm.ErrUnavailable) || errors.Is(err, hsm.ErrUnseal) {
			t.Fatalf("unseal with a revoked token: %v", err)
		}
	})
	t.Run("server gone is unavailable", func(t *testing.T) {
		g := newFakeVault(t, "tok")
		g.addKey("custos", false)
		o := cfg
		o.Address = g.URL
		s := open(t, o)
		blob, err := s.Seal(ctx, []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		g.Close()
		if _, err := s.Unseal(ctx, blob); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("got %v", err)
		}
		if _, err := transit.New(ctx, o); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("New: got %v", err)
		}
	})
	t.Run("plain http off loopback refused", func(t *testing.T) {
		o := cfg
		o.Address = "http://vault.example.org:8200"
		if _, err := transit.New(ctx, o); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("no token", func(t *testing.T) {
		o := cfg
		o.Token = secret.New("")
		if _, err := transit.New(ctx, o); err == nil {
			t.Fatal("accepted")
		}
	})
}

// TestVaultConformance runs the suite against a real Vault server named by
// VAULT_ADDR (with VAULT_TOKEN, and VAULT_CACERT for TLS), with the Transit
// engine mounted at transit/ (or CUSTOS_VAULT_TRANSIT_MOUNT). It creates
// two keys of its own and deletes them at the end.
func TestVaultConformance(t *testing.T) {
	addr, token := os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Skip("skipped: no Vault server here; set VAULT_ADDR (and VAULT_TOKEN) to run the Transit sealer against one")
	}
	mount := os.Getenv("CUSTOS_VAULT_TRANSIT_MOUNT")
	if mount == "" {
		mount = "transit"
	}
	vc := api.DefaultConfig()
	client, err := api.NewClient(vc)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(token)
	newKey := func() string {
		b := make([]byte, 4)
		rand.Read(b)
		name := "custos-test-" + hex.EncodeToString(b)
		if _, err := client.Logical().Write(mount+"/keys/"+name, map[string]any{"type": "aes256-gcm96"}); err != nil {
			t.Fatalf("creating key %s: %v", name, err)
		}
		t.Cleanup(func() {
			client.Logical().Write(mount+"/keys/"+name+"/config", map[string]any{"deletion_allowed": true})
			client.Logical().Delete(mount + "/keys/" + name)
		})
		return name
	}
	a, b := newKey(), newKey()
	cfg := func(key string) transit.Config {
		return transit.Config{Address: addr, Mount: mount, Key: key, Token: secret.New(token), CACert: os.Getenv("VAULT_CACERT")}
	}
	sealertest.Run(t, func(t *testing.T) hsm.Sealer { return open(t, cfg(a)) }, sealertest.Options{
		Other: func(t *testing.T) hsm.Sealer { return open(t, cfg(b)) },
	})
}

// Go's base64 decoder, which Vault uses, ignores the unused low bits of the
// last character: such a blob must still be refused, or a one-bit change
// would go unnoticed.
func TestNonCanonicalBase64Refused(t *testing.T) {
	f := newFakeVault(t, "tok")
	f.addKey("custos", false)
	s := open(t, transit.Config{Address: f.URL, Key: "custos", Token: secret.New("tok"), MaxRetries: -1})
	blob, err := s.Seal(context.Background(), []byte{42}) // 29 raw bytes: one '=' of padding
	if err != nil {
		t.Fatal(err)
	}
	if blob[len(blob)-1] != '=' || blob[len(blob)-2] == '=' {
		t.Fatalf("unexpected padding in %q", blob[len(blob)-8:])
	}
	bad := []byte(testenv.NonCanonicalBase64(string(blob)))
	if _, err := s.Unseal(context.Background(), bad); !errors.Is(err, hsm.ErrUnseal) {
		t.Fatalf("non-canonical base64: %v, want ErrUnseal", err)
	}
}
