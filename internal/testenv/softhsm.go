package testenv

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SoftHSMModules are the places Debian and Ubuntu put the SoftHSM2 PKCS#11
// module.
var SoftHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// SoftHSM is a SoftHSM2 installation private to one test: its own config
// file and token folder, pointed at by SOFTHSM2_CONF for the rest of the
// test (so tests using it cannot run in parallel). The module reads that
// variable when it is initialised, so close every PKCS#11 session opened
// on it before the test ends.
type SoftHSM struct {
	Module   string // path of libsofthsm2.so
	Conf     string // the SOFTHSM2_CONF file
	TokenDir string // where the tokens live

	util string
	dir  string
}

// SoftHSMToken is an initialised token and its credentials.
type SoftHSMToken struct {
	Label   string
	PIN     string // user PIN
	SOPIN   string // security officer PIN
	PINFile string // a 0600 file holding PIN, for pin-source
}

// NewSoftHSM prepares an empty SoftHSM2 token folder and config for this
// test. A missing softhsm2-util or module skips the test (fails it under
// `make test`).
func NewSoftHSM(t testing.TB) *SoftHSM {
	t.Helper()
	util := Binary(t, "softhsm2-util")
	module := ""
	for _, p := range SoftHSMModules {
		if _, err := os.Stat(p); err == nil {
			module = p
			break
		}
	}
	if module == "" {
		Missing(t, "the SoftHSM2 module libsofthsm2.so is not installed (Debian package softhsm2; run `make tools`)")
	}
	dir := t.TempDir()
	h := &SoftHSM{
		Module:   module,
		Conf:     filepath.Join(dir, "softhsm2.conf"),
		TokenDir: filepath.Join(dir, "tokens"),
		util:     util,
		dir:      dir,
	}
	if err := os.Mkdir(h.TokenDir, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", h.TokenDir)
	if err := os.WriteFile(h.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", h.Conf)
	return h
}

// InitToken initialises a new token with random PINs in the first free
// slot, as an operator would with softhsm2-util.
func (h *SoftHSM) InitToken(t testing.TB, label string) SoftHSMToken {
	t.Helper()
	tok := SoftHSMToken{Label: label, PIN: randHex(8), SOPIN: randHex(8)}
	h.run(t, "--init-token", "--free", "--label", label, "--so-pin", tok.SOPIN, "--pin", tok.PIN)
	tok.PINFile = filepath.Join(h.dir, "pin-"+hex.EncodeToString([]byte(label)))
	if err := os.WriteFile(tok.PINFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return tok
}

// DeleteToken removes a token and everything in it, as if the HSM were
// replaced by an empty one.
func (h *SoftHSM) DeleteToken(t testing.TB, label string) {
	t.Helper()
	h.run(t, "--delete-token", "--token", label)
}

// Unplug takes every token away from the module, as pulling an HSM's
// cable would: the token folder is moved aside. replug puts it back.
func (h *SoftHSM) Unplug(t testing.TB) (replug func()) {
	t.Helper()
	away := h.TokenDir + ".unplugged"
	if err := os.Rename(h.TokenDir, away); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Rename(away, h.TokenDir); err != nil {
			t.Fatal(err)
		}
	}
}

// URI is the RFC 7512 URI of object in tok, with the module path and the
// PIN file as query attributes: the form `custos server --sealer` takes.
func (h *SoftHSM) URI(tok SoftHSMToken, object string) string {
	q := url.Values{}
	q.Set("module-path", h.Module)
	q.Set("pin-source", tok.PINFile)
	return "pkcs11:token=" + url.PathEscape(tok.Label) + ";object=" + url.PathEscape(object) +
		"?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

func (h *SoftHSM) run(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(h.util, args...)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+h.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util %s: %v\n%s", args[0], err, out)
	}
}
