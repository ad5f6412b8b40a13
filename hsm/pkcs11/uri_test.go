package pkcs11

import (
	"github.com/custos-vault/custos/internal/secret"
	"os"
	"path/filepath"
	"testing"
)

func TestParseURI(t *testing.T) {
	pinFile := filepath.Join(t.TempDir(), "pin file")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	tests := []struct {
		uri     string
		want    URI
		wantErr bool
	}{
		{uri: "pkcs11:token=custos;object=kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/etc/pin",
			want: URI{Token: "custos", Object: "kek", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PINSource: "/etc/pin"}},
		{uri: "pkcs11:object=case%20keys;token=My%20Token;type=secret-key?pin-value=12%3B34&module-path=%2Fopt%2Fhsm.so",
			want: URI{Token: "My Token", Object: "case keys", ModulePath: "/opt/hsm.so", PINValue: secret.New("12;34")}},
		{uri: "pkcs11:token=a+b;serial=0123;object=k?module-path=/m.so",
			want: URI{Token: "a+b", Serial: "0123", Object: "k", ModulePath: "/m.so"}},
		{uri: "pkcs11:token=t;object=k;manufacturer=SoftHSM%20project;model=SoftHSM%20v2?module-path=/m.so",
			want: URI{Token: "t", Object: "k", Manufacturer: "SoftHSM project", Model: "SoftHSM v2", ModulePath: "/m.so"}},
		{uri: "pkcs11:token=t;object=k?module-path=/m.so&pin-source=file:" + filepath.ToSlash(pinFile),
			want: URI{Token: "t", Object: "k", ModulePath: "/m.so", PINSource: "file:" + filepath.ToSlash(pinFile)}},
		{uri: "pkcs11:token=t;object=k", wantErr: true},                                // no module
		{uri: "pkcs11:object=k?module-path=/m.so", wantErr: true},                      // no token
		{uri: "pkcs11:token=t?module-path=/m.so", wantErr: true},                       // no object
		{uri: "pkcs11:token=t;token=u;object=k?module-path=/m.so", wantErr: true},      // repeated
		{uri: "pkcs11:token=t;object=k;type=private?module-path=/m.so", wantErr: true}, // not a secret key
		{uri: "pkcs11:token=t;object=k;slot-id=3?module-path=/m.so", wantErr: true},    // slot ids change
		{uri: "pkcs11:token=t;object=k;colour=red?module-path=/m.so", wantErr: true},   // unknown
		{uri: "pkcs11:token=t%zz;object=k?module-path=/m.so", wantErr: true},           // bad escape
		{uri: "pkcs11:token=t;object=k?module-path=/m.so&pin-value=1&pin-source=/p", wantErr: true},
		{uri: "pkcs11:token=t;object=k?module-name=softhsm2", wantErr: true},
		{uri: "pkcs12:token=t;object=k?module-path=/m.so", wantErr: true},
		{uri: "pkcs11:token;object=k?module-path=/m.so", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseURI(tt.uri)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: accepted", tt.uri)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.uri, err)
			continue
		}
		if *got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.uri, *got, tt.want)
		}
	}
}

func TestPIN(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pin")
	os.WriteFile(path, []byte("s3cret\r\n"), 0o600)
	for _, src := range []string{path, "file:" + path, "file://" + path, "file://localhost" + path} {
		pin, err := (&URI{PINSource: src}).PIN()
		if err != nil || string(pin) != "s3cret" {
			t.Errorf("pin-source %s: %q %v", src, pin, err)
		}
	}
	if _, err := (&URI{PINSource: "file://elsewhere" + path}).PIN(); err == nil {
		t.Error("a remote file: URI was accepted")
	}
	if _, err := (&URI{PINSource: filepath.Join(dir, "absent")}).PIN(); err == nil {
		t.Error("an absent pin file was accepted")
	}
	if pin, _ := (&URI{PINValue: secret.New("42")}).PIN(); string(pin) != "42" {
		t.Error("pin-value not used")
	}
	u := &URI{Token: "t;x", Object: "k", ModulePath: "/m.so", PINValue: secret.New("42")}
	if s := u.String(); s != "pkcs11:token=t%3Bx;object=k" {
		t.Errorf("String() = %q", s)
	}
}
