package tsa_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies fails if the package grows a dependency on the network
// or on more than its CMS library: the offline verifier imports it. The
// HTTP exchange lives in tsaclient for this reason. (crypto/x509 brings
// in package net, for IP addresses in certificates; it opens no
// connection.)
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"github.com/custos-vault/custos/events/tsa",
		"github.com/custos-vault/custos/internal/printable",
		// Unicode normalization, for printable.LookalikeMarks.
		"golang.org/x/text/unicode/norm", "golang.org/x/text/transform",
		"github.com/smallstep/pkcs7",
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "net/http", "os/exec", "crypto/tls", "database/sql", "plugin":
			t.Errorf("events/tsa depends on %s", pkg)
		}
		if !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			ok = ok || pkg == a || strings.HasPrefix(pkg, a+"/")
		}
		if !ok {
			t.Errorf("events/tsa depends on %s", pkg)
		}
	}
}
