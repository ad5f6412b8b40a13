package sealers

import (
	"context"
	"errors"
	"github.com/custos-vault/custos/internal/secret"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/pkcs11"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/hsm/tpm"
	"github.com/custos-vault/custos/hsm/transit"
	"github.com/custos-vault/custos/internal/testenv"
)

func TestParse(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("hunter2\n"), 0o600)
	env := func(k string) string {
		return map[string]string{"VAULT_TOKEN": "hvs.test", "VAULT_CACERT": "/etc/ca.pem"}[k]
	}
	noToken := func(string) string { return "" }
	p11 := "pkcs11:token=custos;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/pin"
	tests := []struct {
		url     string
		opts    Options
		want    spec
		wantErr string
	}{
		{url: "soft:/var/lib/custos/keys", opts: Options{Dev: true},
			want: spec{kind: "soft", soft: soft.Config{Dir: "/var/lib/custos/keys"}}},
		{url: "soft:keys", opts: Options{Dev: true}, want: spec{kind: "soft", soft: soft.Config{Dir: "keys"}}},
		{url: "soft:/var/lib/custos/keys", wantErr: "development only"},
		{url: "soft:", opts: Options{Dev: true}, wantErr: "needs a folder"},
		{url: "tpm:/dev/tpmrm0", want: spec{kind: "tpm", tpm: tpm.Config{Device: "/dev/tpmrm0"}}},
		{url: "tpm:/dev/tpmrm0?pcrs=0,7&password-source=" + pw,
			want: spec{kind: "tpm", tpm: tpm.Config{Device: "/dev/tpmrm0", PCRs: []int{0, 7}, Password: []byte("hunter2")}}},
		{url: "tpm:dev/tpmrm0", wantErr: "device path"},
		{url: "tpm+tcp://127.0.0.1:2321", want: spec{kind: "tpm", tpm: tpm.Config{Addr: "127.0.0.1:2321"}}},
		{url: "tpm+tcp://127.0.0.1", wantErr: "port"},
		{url: "tpm+tcp://127.0.0.1:2321/x", wantErr: "nothing else"},
		{url: "tpm+tcp://127.0.0.1:2321?pcrs=24", wantErr: "0-23"},
		{url: "tpm+tcp://127.0.0.1:2321?pcrs=a", wantErr: "0-23"},
		{url: "tpm+tcp://127.0.0.1:2321?colour=red", wantErr: "unknown TPM URL parameter"},
		{url: "tpm:/dev/tpmrm0?password-source=/nonexistent/pw", wantErr: "password-source"},
		{url: p11, opts: Options{CreateKEK: true}, want: spec{kind: "pkcs11", pkcs11: pkcs11.Config{URI: p11, CreateKEK: true}}},
		{url: "pkcs11:token=custos", wantErr: "object"},
		{url: "transit://vault.example.org:8200/custos",
			want: spec{kind: "transit", transit: transit.Config{Address: "https://vault.example.org:8200", Key: "custos", Token: secret.New("hvs.test"), CACert: "/etc/ca.pem"}}},
		{url: "transit://vault.example.org:8200/kv/custos-transit/kek",
			want: spec{kind: "transit", transit: transit.Config{Address: "https://vault.example.org:8200", Mount: "kv/custos-transit", Key: "kek", Token: secret.New("hvs.test"), CACert: "/etc/ca.pem"}}},
		{url: "transit+http://127.0.0.1:8200/custos",
			want: spec{kind: "transit", transit: transit.Config{Address: "http://127.0.0.1:8200", Key: "custos", Token: secret.New("hvs.test"), CACert: "/etc/ca.pem"}}},
		{url: "transit+http://[::1]:8200/custos",
			want: spec{kind: "transit", transit: transit.Config{Address: "http://[::1]:8200", Key: "custos", Token: secret.New("hvs.test"), CACert: "/etc/ca.pem"}}},
		{url: "transit+http://10.0.0.5:8200/custos", wantErr: "loopback only"},
		{url: "transit+http://vault.example.org:8200/custos", wantErr: "loopback only"},
		{url: "transit://vault.example.org:8200/", wantErr: "KEY"},
		{url: "transit://vault.example.org/custos", wantErr: "KEY"},
		{url: "transit://user:pw@vault.example.org:8200/custos", wantErr: "KEY"},
		{url: "transit://vault.example.org:8200/custos", opts: Options{Getenv: noToken}, wantErr: "VAULT_TOKEN"},
		{url: "s3://bucket", wantErr: "unknown URL scheme"},
		{url: "/dev/tpmrm0", wantErr: "unknown URL scheme"},
		{url: "", wantErr: "unknown URL scheme"},
		{url: "TPM:/dev/tpmrm0", wantErr: "unknown URL scheme"},
	}
	for _, tt := range tests {
		if tt.opts.Getenv == nil {
			tt.opts.Getenv = env
		}
		got, err := parse(tt.url, tt.opts)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want one containing %q", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.url, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.url, got, tt.want)
		}
	}
}

func TestUnknownListsForms(t *testing.T) {
	_, err := Open(context.Background(), "gcpkms://x", Options{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, f := range []string{"soft:PATH", "tpm:/dev/tpmrm0", "tpm+tcp://", "pkcs11:", "transit://", "transit+http://"} {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error does not list %q:\n%v", f, err)
		}
	}
}

func TestSoftRefusedOutsideDev(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	_, err := Open(context.Background(), "soft:"+dir, Options{})
	if !errors.Is(err, ErrDevOnly) {
		t.Fatalf("got %v", err)
	}
	if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
		t.Fatal("a refused soft sealer still created its folder")
	}
}

// roundTrip opens raw with Open and seals and unseals through it.
func roundTrip(t *testing.T, raw string, opts Options) {
	t.Helper()
	s, err := Open(context.Background(), raw, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", raw, err)
	}
	defer s.Close()
	blob, err := s.Seal(context.Background(), []byte("AGE-SECRET-KEY-1OPEN"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Unseal(context.Background(), blob)
	if err != nil || string(got) != "AGE-SECRET-KEY-1OPEN" {
		t.Fatalf("unseal: %v", err)
	}
	hsm.Zero(got)
	if strings.Contains(s.KeyRef(), "pin-source") {
		t.Errorf("KeyRef %q", s.KeyRef())
	}
}

func TestOpenReal(t *testing.T) {
	t.Run("soft", func(t *testing.T) {
		roundTrip(t, "soft:"+t.TempDir(), Options{Dev: true})
	})
	t.Run("tpm+tcp", func(t *testing.T) {
		sw := testenv.StartSwtpm(t)
		roundTrip(t, sw.URL()+"?pcrs=7", Options{})
	})
	t.Run("pkcs11", func(t *testing.T) {
		h := testenv.NewSoftHSM(t)
		tok := h.InitToken(t, "custos")
		uri := h.URI(tok, "kek")
		if _, err := Open(context.Background(), uri, Options{CreateKEK: true}); err != nil && strings.Contains(err.Error(), "without cgo") {
			t.Skip("skipped: PKCS#11 needs cgo")
		}
		uri = strings.Replace(uri, "object=kek", "object=kek2", 1)
		if _, err := Open(context.Background(), uri, Options{}); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("absent KEK without CreateKEK: %v", err)
		}
		roundTrip(t, uri, Options{CreateKEK: true})
		roundTrip(t, uri, Options{})
	})
}

// A sealer that fails to open is a nil interface (see
// TestFailedOpenGivesNoStore in events/logstore).
func TestFailedOpenGivesNoSealer(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kek"), []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), "soft:"+dir, Options{Dev: true})
	if err == nil || s != nil {
		t.Fatalf("Open with a damaged key file: %#v, %v; want no sealer and an error", s, err)
	}
}
