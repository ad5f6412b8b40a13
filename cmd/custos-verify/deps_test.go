package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/deplist"
)

// TestVerifierStaysSmall fails if the offline verifier grows a dependency
// on the server, the stores, the sealers or the network: a defence expert
// must be able to read everything it runs.
func TestVerifierStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := []string{
		"github.com/custos-vault/custos/cmd/custos-verify",
		"github.com/custos-vault/custos/pkgformat",
		"github.com/custos-vault/custos/events",
		"github.com/custos-vault/custos/internal/cliflags",  // standard library only: the flag checks custos makes too
		"github.com/custos-vault/custos/internal/inputfile", // standard library and printable only: files named on the command line, in plain words
		"github.com/custos-vault/custos/internal/keyfile",
		"github.com/custos-vault/custos/internal/printable",             // the escaping of names and terminal text
		"golang.org/x/text/unicode/norm", "golang.org/x/text/transform", // Unicode NFC, for printable.LookalikeMarks
		"github.com/custos-vault/custos/internal/strictjson", // standard library only: the one JSON grammar of the formats
		"filippo.io/age", "filippo.io/hpke",
		"golang.org/x/crypto/", "golang.org/x/sys/cpu", "golang.org/x/mod/sumdb/note",
		"github.com/transparency-dev/merkle", "github.com/transparency-dev/formats/log",
		// Witness policies and cosignatures (no network code: the
		// server's client is events/witness/witnessclient).
		"github.com/custos-vault/custos/events/witness",
		"github.com/transparency-dev/formats/note", "github.com/transparency-dev/formats/witness",
		"filippo.io/mldsa", // ML-DSA cosignature keys, which formats/note also reads
		// RFC 3161 tokens (no network code: the server's client is
		// events/tsa/tsaclient) and the CMS signatures they are.
		"github.com/custos-vault/custos/events/tsa", "github.com/smallstep/pkcs7",
	}
	// "net" itself comes with crypto/x509 (IP addresses in certificates,
	// for the TSA's certificate chain); the network stack that dials does
	// not: net/http, crypto/tls.
	forbidden := []string{"net/http", "crypto/tls", "os/exec", "database/sql", "plugin"}
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == f {
				t.Errorf("custos-verify depends on %s", pkg)
			}
		}
		if !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			if pkg == a || strings.HasPrefix(pkg, a+"/") || (strings.HasSuffix(a, "/") && strings.HasPrefix(pkg, a)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("custos-verify depends on %s; keep the verifier to the format and crypto packages", pkg)
		}
	}
}

// TestDeps fails when the verifier's dependencies differ from deps.txt,
// so that a new import is a visible decision (internal/deplist).
func TestDeps(t *testing.T) { deplist.Check(t, "deps.txt") }
