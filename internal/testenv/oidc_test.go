package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestStartOIDC(t *testing.T) {
	oidcProviderBinary(t) // the build is not part of the start
	began := time.Now()
	o := StartOIDC(t)
	t.Logf("provider started in %v", time.Since(began))

	resp, err := http.Get(o.Issuer + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Issuer string `json:"issuer"`
		Device string `json:"device_authorization_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != o.Issuer || !strings.HasPrefix(d.Device, o.Issuer) {
		t.Fatalf("discovery: %+v, issuer %s", d, o.Issuer)
	}

	// Wrong codes and wrong passwords are refused by the pages.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.ApproveDevice(ctx, "BCDF-GHJK", o.User.Name, o.User.Password); err == nil {
		t.Fatal("an unknown user code was approved")
	}
	if err := o.CompleteAuthorization(ctx, o.Issuer+"auth", o.User.Name, o.User.Password); err == nil {
		t.Fatal("an authorization URL without redirect_uri was completed")
	}
}

func FuzzParseForm(f *testing.F) {
	f.Add(`<form method="POST" action="/login/username"><input type="hidden" name="id" value="x"><input name="username"></form>`)
	f.Add(`<form action="?a=b"><input name="q" value="1"></form><form action="/second"></form>`)
	f.Add(`<p>no form</p>`)
	base, _ := url.Parse("http://127.0.0.1:1234/device?user_code=X")
	f.Fuzz(func(t *testing.T, page string) {
		fm, err := parseForm(strings.NewReader(page), base)
		if err != nil {
			return
		}
		if fm.method != http.MethodGet && fm.method != http.MethodPost {
			t.Fatalf("method %q", fm.method)
		}
		if fm.action == nil || fm.fields == nil {
			t.Fatal("a form without action or fields")
		}
	})
}
