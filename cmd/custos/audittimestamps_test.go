package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"golang.org/x/mod/sumdb/note"
)

// TestAuditTimestampsTrustsNothingTheVaultSends: a vault (or whoever
// answers for it) that sends names which are not the vault's, one name
// twice, a note with lines beside the log's signature, a note of another
// size than its name, or a token without its note, gets each named as
// failing, nothing written outside DIR, and the audit's exit status; the
// genuine note among them is written and passes.
func TestAuditTimestampsTrustsNothingTheVaultSends(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	cp5, err := events.SignCheckpoint(signer, "custos.test/log", 5, events.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	cp6, err := events.SignCheckpoint(signer, "custos.test/log", 6, events.Hash{})
	if err != nil {
		t.Fatal(err)
	}
	hexOf := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	wkey, _, err := note.GenerateKey(rand.Reader, "witness.example/w1")
	if err != nil {
		t.Fatal(err)
	}
	witness, _ := note.NewSigner(wkey)
	n, err := note.Open(cp5, note.VerifierList(mustVerifier(t, vkey)))
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := note.Sign(&note.Note{Text: n.Text}, signer, witness)
	if err != nil {
		t.Fatal(err)
	}
	tok := []byte("a token whose note is missing")
	moved := []byte("a token of checkpoint 5's note, filed under size 9")
	objs := []api.TimestampObject{
		{Name: "00000000000000000005-" + hexOf(cp5) + "-checkpoint", Bytes: cp5},
		{Name: "00000000000000000005-" + hexOf(cp5) + "-checkpoint", Bytes: cp5},
		{Name: "../escape", Bytes: []byte("x")},
		{Name: "00000000000000000005-" + hexOf(cosigned) + "-checkpoint", Bytes: cosigned},
		{Name: "00000000000000000007-" + hexOf(cp6) + "-checkpoint", Bytes: cp6},
		{Name: "00000000000000000007-" + strings.Repeat("a", 64) + "-" + hexOf(tok)[:16], Bytes: tok},
		{Name: "00000000000000000009-" + hexOf(cp5) + "-" + hexOf(moved)[:16], Bytes: moved},
		{Name: "00000000000000000001-" + strings.Repeat("1", 300), Bytes: tok},
		{Name: "00000000000000000011-" + hexOf(cp6) + "-0123456789abcdef", Unreadable: "not an object: a link, pipe, device or socket holds its name"},
		{Name: "00000000000000000012-" + hexOf(cp6) + "-0123456789abcdef", Bytes: make([]byte, 100<<10)},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/log/key":
			json.NewEncoder(w).Encode(api.KeyResponse{Key: vkey, Origin: "custos.test/log"})
		case "/v1/log/timestamps":
			for _, o := range objs {
				json.NewEncoder(w).Encode(o)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("CUSTOS_SERVER", srv.URL)
	t.Setenv("CUSTOS_TOKEN", vault.SessionPrefix+"test") // a session: no sign-in exchange
	parent := t.TempDir()
	dir := filepath.Join(parent, "stamps")
	var stdout, stderr bytes.Buffer
	err = runAuditTimestamps([]string{"-o", dir, "--json"}, &stdout, &stderr)
	if !errors.Is(err, errAuditFailed) {
		t.Fatalf("the audit of what a vault sent wrong: %v\n%s", err, stderr.String())
	}
	var out timestampsOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"sent twice",
		`"../escape": not a name the vault gives`,
		"not the note as the log signed it",
		"a checkpoint of 6 events, where its name says 7",
		"7df7c6140422a99a: no note of its size and of the SHA-256 its name gives beside it",
		hexOf(moved)[:16] + ": no note of its size and of the SHA-256 its name gives beside it",
		`"00000000000000000001-111`,
		"00000000000000000011-" + hexOf(cp6) + "-0123456789abcdef: the vault did not read it (not an object: a link",
		"00000000000000000012-" + hexOf(cp6) + "-0123456789abcdef: larger than 65536 bytes, more than any note or token the vault writes; not written",
	} {
		found := false
		for _, f := range out.Failures {
			found = found || strings.Contains(f, want)
		}
		if !found {
			t.Errorf("no failure says %q: %q", want, out.Failures)
		}
	}
	if out.OK || len(out.Failures) != 9 || out.Notes != 3 || out.Tokens != 2 || out.KeyPinned || out.TokensChecked {
		t.Errorf("%+v", out)
	}
	if _, err := os.Stat(filepath.Join(parent, "escape")); err == nil {
		t.Fatal("a name the vault sent was written outside DIR")
	}
	if b, err := os.ReadFile(filepath.Join(dir, objs[0].Name)); err != nil || !bytes.Equal(b, cp5) {
		t.Fatalf("the genuine note was not written: %v", err)
	}
	for _, o := range objs[len(objs)-2:] {
		if _, err := os.Lstat(filepath.Join(dir, o.Name)); err == nil {
			t.Errorf("%s was written", o.Name)
		}
	}
}

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestExportFolderMistakes: audit export and audit timestamps write a new
// folder, and an -o that cannot be one (a folder not empty, a file, a
// folder inside one that does not exist) is an input mistake (exit 2),
// found before the vault is asked, and leaves nothing behind.
func TestExportFolderMistakes(t *testing.T) {
	t.Setenv("CUSTOS_SERVER", "http://127.0.0.1:9") // never reached
	base := t.TempDir()
	full := filepath.Join(base, "full")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o644)
	for name, run := range map[string]func([]string, io.Writer, io.Writer) error{
		"audit export": runAuditExport, "audit timestamps": runAuditTimestamps} {
		for _, c := range []struct{ dir, want string }{
			{full, "is not empty"},
			{file, "is not a folder"},
			{filepath.Join(base, "no", "d"), "does not exist"},
		} {
			err := run([]string{"-o", c.dir}, new(bytes.Buffer), new(bytes.Buffer))
			if !errors.Is(err, errInput) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s -o %s: %v, want an input mistake saying %q", name, c.dir, err, c.want)
			}
		}
	}
	ents, _ := os.ReadDir(base)
	if len(ents) != 2 {
		t.Errorf("the mistakes left %d entries in the folder, want the 2 made here", len(ents))
	}
}

// TestAuditTimestampsMistakesInTheCommand: a range that holds no size and
// an -o folder that is not empty are usage and input mistakes (exit 2),
// found before the vault is asked.
func TestAuditTimestampsMistakesInTheCommand(t *testing.T) {
	t.Setenv("CUSTOS_SERVER", "http://127.0.0.1:9") // never reached
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	for _, c := range []struct {
		args []string
		is   error
		want string
	}{
		{[]string{"-o", filepath.Join(t.TempDir(), "d"), "--from", "5", "--to", "3"}, errUsage, "--from 5 is not below --to 3"},
		{[]string{"-o", filepath.Join(t.TempDir(), "d"), "--from", "05"}, errUsage, "is not a checkpoint size"},
		{[]string{"-o", full}, errInput, "is not empty"},
		{[]string{"-o", filepath.Join(t.TempDir(), "no", "d")}, errInput, "does not exist"},
	} {
		err := runAuditTimestamps(c.args, new(bytes.Buffer), new(bytes.Buffer))
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %v saying %q", c.args, err, c.is, c.want)
		}
	}
}
