package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Files named on the command line that cannot be read are answered in a
// person's words, before anything is sent: a folder given where a file
// belongs, a file that does not exist. Every command that reads a file it
// is given says it alike, and that nothing was done.
func TestInputFilesInPlainWords(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "captures")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	evidence := filepath.Join(dir, "photo.jpg")
	os.WriteFile(evidence, []byte("a photo"), 0o600)
	missing := filepath.Join(dir, "nope.txt")
	// Nothing listens here: a command that reached for the vault would
	// say it is unreachable.
	t.Setenv("CUSTOS_SERVER", "http://127.0.0.1:1")
	t.Setenv("CUSTOS_TOKEN", "cst_unused")
	for _, c := range []struct {
		name string
		args func(path string) []string
	}{
		{"hashset import", func(p string) []string {
			return []string{"hashset", "import", p, "--format", "md5sum", "--name", "d"}
		}},
		{"receipt-key set", func(p string) []string { return []string{"receipt-key", "set", p} }},
		{"deposit --expect-from", func(p string) []string {
			return []string{"deposit", "--case", "C-1", "--expect-from", p, evidence}
		}},
		{"package receipt --file", func(p string) []string {
			return []string{"package", "receipt", "pk_0123456789abcdef01234567", "--file", p, "--ssh-key", filepath.Join(dir, "id")}
		}},
	} {
		for path, says := range map[string]string{folder: "captures is a folder: give the file itself", missing: "nope.txt does not exist"} {
			err := run(c.args(path), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), says) || strings.Contains(err.Error(), "unreachable") {
				t.Errorf("%s %s: %v, want %q", c.name, filepath.Base(path), err, says)
			}
		}
	}
}

// A request whose body this machine fails to read while sending it is
// said to be that, not a vault out of reach.
func TestLocalReadFailureIsNotTheNetwork(t *testing.T) {
	c := testClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	body := io.MultiReader(strings.NewReader("part of a file"), failingReader{&fs.PathError{Op: "read", Path: "captures", Err: errors.New("input/output error")}})
	req, err := http.NewRequest("POST", c.url("/v1/hashsets", nil), body)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.do(req)
	if err == nil || !strings.Contains(err.Error(), "reading what was being sent failed: input/output error") || strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("a body that failed to read: %v", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// A deposit stopped part-way says how to deposit the rest without
// depositing twice what was stored: running it again skips a folder's
// files already deposited, not files named on their own.
func TestStoppedDepositSaysHowToGoOn(t *testing.T) {
	folder := []upload{{name: "a.png", inFolder: true}, {name: "b.png", inFolder: true}}
	loose := []upload{{name: "a.png", path: "a.png"}}
	for _, c := range []struct {
		before []upload
		some   bool
		says   string
	}{
		{nil, false, "run the command again to deposit it"},
		{folder, true, "files of a folder already deposited are skipped"},
		{append(loose, folder...), true, "name only the files not deposited"},
	} {
		if got := rerunHint(c.before, c.some); !strings.Contains(got, c.says) {
			t.Errorf("%+v: %q, want %q", c.before, got, c.says)
		}
	}
}

// A refusal is not met by sending the same again: only a failure on the
// way or of the server is worth retrying as it is.
func TestRefusedIsNotRetried(t *testing.T) {
	for err, want := range map[error]bool{
		&statusError{code: http.StatusNotFound, msg: "no such case"}:            true,
		&statusError{code: http.StatusForbidden, msg: "only investigators"}:     true,
		&statusError{code: http.StatusConflict, msg: "assess it first"}:         true,
		fmt.Errorf("a.txt: %w", &statusError{code: http.StatusNotFound}):        true,
		&statusError{code: http.StatusTooManyRequests, msg: "slow down"}:        false,
		&statusError{code: http.StatusRequestTimeout, msg: "too slow"}:          false,
		&statusError{code: http.StatusServiceUnavailable, msg: "disk full"}:     false,
		&statusError{code: http.StatusInternalServerError, msg: "server fault"}: false,
		errors.New("connection reset by peer"):                                  false,
	} {
		if got := refused(err); got != want {
			t.Errorf("refused(%v) = %v, want %v", err, got, want)
		}
	}
}

// The command a receipt prints to check it names the public key file
// whether --ssh-key named the private key or the public one.
func TestReceiptCheckNamesThePublicKey(t *testing.T) {
	for key, want := range map[string]string{"id_ed25519": "id_ed25519.pub", "id_ed25519.pub": "id_ed25519.pub", "keys/pros.key": "keys/pros.key.pub"} {
		if got := publicKeyPath(key); got != want {
			t.Errorf("publicKeyPath(%q) = %q, want %q", key, got, want)
		}
	}
}
