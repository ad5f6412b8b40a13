package tsafolder_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"flag"
	"fmt"
	iofs "io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/events/tsa"
	"github.com/custos-vault/custos/events/tsa/tsaclient"
	"github.com/custos-vault/custos/events/tsa/tsafolder"
	"github.com/custos-vault/custos/internal/testenv"
)

var writeVectors = flag.Bool("write-vectors", false, "make testdata/ anew with tokens from a real OpenSSL TSA")

// The vectors in testdata/ (docs/timestamps.md section 5):
//
//	log.key  the test log's note verifier key
//	ca.pem   the CA of the TSA that time-stamped the notes
//	folder/  notes of a test log at sizes 3 and 5, named as the vault
//	         names them, each with a token from openssl ts -reply over
//	         it, and a note and token of size 7 named as releases before
//	         2026-12-04 named them (<size>-checkpoint, <size>-1)
const (
	vectorFolder = "testdata/folder"
	vectorKey    = "testdata/log.key"
	vectorCA     = "testdata/ca.pem"
)

// TestWriteVectors makes testdata/ anew when run with -write-vectors:
// go test ./events/tsa/tsafolder -run TestWriteVectors -write-vectors
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to make testdata/ anew")
	}
	a := testenv.StartTSA(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos.test/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll("testdata"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(vectorFolder, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []uint64{3, 5, 7} {
		msg, err := events.SignCheckpoint(signer, "custos.test/log", size, events.Hash(sha256.Sum256([]byte(fmt.Sprint("root ", size)))))
		if err != nil {
			t.Fatal(err)
		}
		token, err := tsaclient.Request(context.Background(), http.DefaultClient, a.URL, msg)
		if err != nil {
			t.Fatal(err)
		}
		noteName, tokenName := fmt.Sprintf("%020d-checkpoint", size), fmt.Sprintf("%020d-1", size)
		if size != 7 {
			noteName, tokenName = names(msg, token, size)
		}
		write(filepath.Join(vectorFolder, noteName), msg)
		write(filepath.Join(vectorFolder, tokenName), token)
	}
	write(vectorKey, []byte(vkey+"\n"))
	ca, err := os.ReadFile(a.CACertPEM)
	if err != nil {
		t.Fatal(err)
	}
	write(vectorCA, ca)
}

// names are the names the vault gives a note and a token over it.
func names(note, token []byte, size uint64) (noteName, tokenName string) {
	n, k := sha256.Sum256(note), sha256.Sum256(token)
	prefix := fmt.Sprintf("%020d-%s", size, hex.EncodeToString(n[:]))
	return prefix + "-checkpoint", prefix + "-" + hex.EncodeToString(k[:])[:16]
}

func vectorInputs(t *testing.T) ([]note.Verifier, []*x509.Certificate) {
	t.Helper()
	k, err := os.ReadFile(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(k)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(vectorCA)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := tsa.ParseCertificatesPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return []note.Verifier{v}, certs
}

// copyVectors copies the vector folder into a new temporary folder.
func copyVectors(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ents, err := os.ReadDir(vectorFolder)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(vectorFolder, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// vectorNames finds the vector folder's names: the note and token of
// sizes 3 and 5, by size.
func vectorNames(t *testing.T) (notes, tokens map[uint64]string) {
	t.Helper()
	notes, tokens = map[uint64]string{}, map[uint64]string{}
	ents, err := os.ReadDir(vectorFolder)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		n, ok := tsafolder.ParseName(e.Name())
		if !ok {
			t.Fatalf("vector %s: not a name", e.Name())
		}
		if n.Note {
			notes[n.Size] = e.Name()
		} else {
			tokens[n.Size] = e.Name()
		}
	}
	if len(notes) != 3 || len(tokens) != 3 {
		t.Fatalf("vectors: notes %v, tokens %v", notes, tokens)
	}
	return notes, tokens
}

func TestVectorFolderVerifies(t *testing.T) {
	keys, certs := vectorInputs(t)
	var r tsafolder.Report
	if err := r.CheckFolder(os.DirFS(vectorFolder), keys, certs); err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if !r.OK() || r.Notes != 3 || r.Tokens != 3 || r.Verified != 3 || len(r.NotCounted) != 0 {
		t.Fatalf("%+v", r)
	}
	if r.First.IsZero() || r.Last.Before(r.First) || r.First.Before(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("attested %v to %v", r.First, r.Last)
	}

	// Without certificates nothing is verified, and nothing fails.
	r = tsafolder.Report{}
	if err := r.CheckFolder(os.DirFS(vectorFolder), keys, nil); err != nil || !r.OK() || r.Verified != 0 || r.Tokens != 3 {
		t.Fatalf("without certificates: %v %+v", err, r)
	}
	// Another TSA's certificate: the tokens are not counted, and so
	// each note is not dated by anyone trusted: each note fails.
	other := testenv.NewCA(t, "Another CA")
	r = tsafolder.Report{}
	if err := r.CheckFolder(os.DirFS(vectorFolder), keys, []*x509.Certificate{other.Cert}); err != nil || r.Failed() != 3 || r.Verified != 0 || len(r.NotCounted) != 3 ||
		!strings.Contains(r.Failures[0], "-checkpoint: none of its tokens is of a time-stamping authority whose certificates were given (1 not counted, listed)") {
		t.Fatalf("another CA: %v %+v", err, r)
	}
	// A second authority's token beside a trusted one's: listed as not
	// counted, and the note is dated.
	dir := copyVectors(t)
	notes, _ := vectorNames(t)
	msg, _ := os.ReadFile(filepath.Join(dir, notes[3]))
	tok, err := tsaclient.Request(context.Background(), http.DefaultClient, testenv.StartTSA(t).URL, msg)
	if err != nil {
		t.Fatal(err)
	}
	_, n := names(msg, tok, 3)
	os.WriteFile(filepath.Join(dir, n), tok, 0o644)
	r = tsafolder.Report{}
	if err := r.CheckFolder(os.DirFS(dir), keys, certs); err != nil || !r.OK() || r.Verified != 3 || len(r.NotCounted) != 1 || r.Tokens != 4 {
		t.Fatalf("two authorities, one trusted: %v %+v", err, r)
	}
	// Another log's key: every note fails, and so every token (no note).
	_, vkey, _ := note.GenerateKey(rand.Reader, "custos.test/log")
	v, _ := note.NewVerifier(vkey)
	r = tsafolder.Report{}
	if err := r.CheckFolder(os.DirFS(vectorFolder), []note.Verifier{v}, certs); err != nil || r.OK() || r.Failed() != 6 || r.Verified != 0 {
		t.Fatalf("another key: %v %+v", err, r)
	}
	// Several keys given: a note signed by any of them passes.
	r = tsafolder.Report{}
	if err := r.CheckFolder(os.DirFS(vectorFolder), append([]note.Verifier{v}, keys...), certs); err != nil || !r.OK() || r.Verified != 3 {
		t.Fatalf("two keys: %v %+v", err, r)
	}
}

// TestTamperedFolders changes one thing in a copy of the vector folder
// and checks that exactly the objects it touches fail, each named with
// the reason, while the others still verify.
func TestTamperedFolders(t *testing.T) {
	keys, certs := vectorInputs(t)
	notes, tokens := vectorNames(t)
	otherKey, _, _ := note.GenerateKey(rand.Reader, "custos.test/log")
	otherSigner, _ := note.NewSigner(otherKey)
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(dir, name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	cases := []struct {
		name   string
		change func(dir string)
		failed map[string]string // object name -> words of its failure
		// verified is how many tokens still verify.
		verified int
	}{
		{"a byte of a note changed", func(dir string) {
			write(dir, notes[3], flip(read(dir, notes[3]), 20))
		}, map[string]string{notes[3]: "its bytes are not of the SHA-256 its name gives", tokens[3]: "no note of its size"}, 2},
		{"a byte of a token changed", func(dir string) {
			write(dir, tokens[5], flip(read(dir, tokens[5]), 100))
		}, map[string]string{tokens[5]: "its bytes are not of the SHA-256 its name gives"}, 2},
		{"a byte of an earlier release's token changed: no digest in its name, so the TSA's signature finds it", func(dir string) {
			b := read(dir, tokens[7])
			write(dir, tokens[7], flip(b, len(b)-5))
		}, map[string]string{tokens[7]: "token"}, 2},
		{"a note signed by another key, named by its own digest", func(dir string) {
			msg, _ := events.SignCheckpoint(otherSigner, "custos.test/log", 3, events.Hash{})
			n, _ := names(msg, nil, 3)
			write(dir, n, msg)
		}, map[string]string{"-checkpoint": "not a checkpoint signed by the log's key"}, 3},
		{"a note of another size than its name", func(dir string) {
			msg := read(dir, notes[5])
			n, _ := names(msg, nil, 4)
			write(dir, n, msg)
		}, map[string]string{"00000000000000000004-": "a checkpoint of 5 events, where its name says 4"}, 3},
		{"a note with a cosignature beside the log's", func(dir string) {
			msg := read(dir, notes[5])
			cosigned := append(bytes.Clone(msg), []byte("— witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")...)
			n, _ := names(cosigned, nil, 5)
			write(dir, n, cosigned)
		}, map[string]string{"00000000000000000005-": "not the note as the log signed it"}, 3},
		{"a token moved beside another note", func(dir string) {
			tok := read(dir, tokens[5])
			_, n := names(read(dir, notes[3]), tok, 3)
			write(dir, n, tok)
		}, map[string]string{"00000000000000000003-": "for another message"}, 3},
		{"a note removed", func(dir string) {
			os.Remove(filepath.Join(dir, notes[5]))
		}, map[string]string{tokens[5]: "no note of its size and of the SHA-256 its name gives beside it"}, 2},
		{"an earlier release's note removed", func(dir string) {
			os.Remove(filepath.Join(dir, notes[7]))
		}, map[string]string{tokens[7]: "no note of its size"}, 2},
		{"a link named as a note", func(dir string) {
			os.Remove(filepath.Join(dir, notes[3]))
			if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(dir, notes[3])); err != nil {
				t.Fatal(err)
			}
			write(dir, "elsewhere", read(vectorFolder, notes[3]))
		}, map[string]string{notes[3]: "not a file", tokens[3]: "no note", "elsewhere": "not a name the vault gives"}, 2},
		{"a folder named as a token", func(dir string) {
			n := strings.Replace(tokens[3], tokens[3][len(tokens[3])-16:], "0123456789abcdef", 1)
			if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"0123456789abcdef": "not a file"}, 3},
		{"an object larger than any the vault writes", func(dir string) {
			big := make([]byte, tsafolder.MaxObjectSize+1)
			_, n := names(read(dir, notes[3]), big, 3)
			write(dir, n, big)
		}, map[string]string{"00000000000000000003-": "larger than"}, 3},
		{"names the vault does not give", func(dir string) {
			write(dir, "00000000000000000003-checkpoint.bak", read(dir, notes[3]))
			write(dir, strings.ToUpper(notes[5]), read(dir, notes[5]))
		}, map[string]string{".bak": "not a name the vault gives", "CHECKPOINT": "not a name the vault gives"}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyVectors(t)
			c.change(dir)
			var r tsafolder.Report
			if err := r.CheckFolder(os.DirFS(dir), keys, certs); err != nil {
				t.Fatal(err)
			}
			r.Finish()
			if r.OK() || r.Failed() != len(c.failed) || r.Verified != c.verified {
				t.Fatalf("failed %d (want %d), verified %d (want %d):\n%s", r.Failed(), len(c.failed), r.Verified, c.verified, strings.Join(r.Failures, "\n"))
			}
			for name, words := range c.failed {
				found := false
				for _, f := range r.Failures {
					if i := strings.Index(f, ": "); i > 0 && strings.Contains(f[:i], name) && strings.Contains(f[i:], words) {
						found = true
					}
				}
				if !found {
					t.Errorf("no failure of %s saying %q:\n%s", name, words, strings.Join(r.Failures, "\n"))
				}
			}
		})
	}
}

func TestFailuresAreListedUpToALimit(t *testing.T) {
	dir := copyVectors(t)
	for i := range tsafolder.MaxListed + 5 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("junk-%04d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys, certs := vectorInputs(t)
	var r tsafolder.Report
	if err := r.CheckFolder(os.DirFS(dir), keys, certs); err != nil {
		t.Fatal(err)
	}
	r.Finish()
	if r.Failed() != tsafolder.MaxListed+5 || len(r.Failures) != tsafolder.MaxListed+1 || r.Failures[tsafolder.MaxListed] != "and 5 more" || r.Verified != 3 {
		t.Fatalf("failed %d, listed %d, last %q, verified %d", r.Failed(), len(r.Failures), r.Failures[len(r.Failures)-1], r.Verified)
	}
}

func TestParseName(t *testing.T) {
	d64 := strings.Repeat("ab", 32)
	for _, c := range []struct {
		name string
		ok   bool
		want tsafolder.Name
	}{
		{"00000000000000000012-" + d64 + "-checkpoint", true, tsafolder.Name{Size: 12, Note: true, NoteSHA256: d64}},
		{"00000000000000000012-" + d64 + "-checkpoint-0badc0de", true, tsafolder.Name{Size: 12, Note: true, NoteSHA256: d64}},
		{"00000000000000000012-" + d64 + "-0123456789abcdef", true, tsafolder.Name{Size: 12, NoteSHA256: d64, TokenSHA256Prefix: "0123456789abcdef"}},
		{"00000000000000000012-" + d64 + "-0123456789abcdef-0badc0de", true, tsafolder.Name{Size: 12, NoteSHA256: d64, TokenSHA256Prefix: "0123456789abcdef"}},
		{"00000000000000000012-checkpoint", true, tsafolder.Name{Size: 12, Note: true}},
		{"00000000000000000012-2", true, tsafolder.Name{Size: 12}},
		{"18446744073709551615-checkpoint", true, tsafolder.Name{Size: 1<<64 - 1, Note: true}},
		{"18446744073709551616-checkpoint", false, tsafolder.Name{}}, // beyond 64 bits
		{"00000000000000000012-0", false, tsafolder.Name{}},
		{"0000000000000000012-checkpoint", false, tsafolder.Name{}},
		{"00000000000000000012-" + strings.ToUpper(d64) + "-checkpoint", false, tsafolder.Name{}},
		{"00000000000000000012-" + d64 + "-checkpoint\n", false, tsafolder.Name{}},
		{"../00000000000000000012-checkpoint", false, tsafolder.Name{}},
		{"timestamps/00000000000000000012-checkpoint", false, tsafolder.Name{}},
		{"00000000000000000012-" + d64 + "-0123456789abcdef-0badc0de-0badc0de", false, tsafolder.Name{}},
		{"", false, tsafolder.Name{}},
	} {
		got, ok := tsafolder.ParseName(c.name)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseName(%q) = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseName checks that a name ParseName accepts is a plain file
// name that says what it parsed to.
func FuzzParseName(f *testing.F) {
	f.Add("00000000000000000012-" + strings.Repeat("ab", 32) + "-checkpoint")
	f.Add("00000000000000000012-" + strings.Repeat("ab", 32) + "-0123456789abcdef-0badc0de")
	f.Add("00000000000000000012-7")
	f.Add("../x")
	f.Fuzz(func(t *testing.T, name string) {
		n, ok := tsafolder.ParseName(name)
		if !ok {
			return
		}
		if name != filepath.Base(name) || strings.ContainsAny(name, "/\\.\x00") || name != strings.ToLower(name) {
			t.Fatalf("%q accepted", name)
		}
		if fmt.Sprintf("%020d", n.Size) != name[:20] || (n.NoteSHA256 != "" && !strings.Contains(name, n.NoteSHA256)) ||
			(n.Note != strings.Contains(name, "checkpoint")) || (n.TokenSHA256Prefix != "" && (n.Note || n.NoteSHA256 == "")) {
			t.Fatalf("%q parsed to %+v", name, n)
		}
	})
}

// changing is a folder whose files read differently the second time, as
// a share its owner serves could.
type changing struct {
	fstest.MapFS
	reads  map[string]int
	second map[string][]byte
}

func (c changing) Open(name string) (iofs.File, error) {
	if c.reads[name]++; c.reads[name] > 1 && c.second[name] != nil {
		return fstest.MapFS{name: {Data: c.second[name]}}.Open(name)
	}
	return c.MapFS.Open(name)
}

// TestASecondReadMustMatchTheFirst: a token and its note are read again
// to verify the token; bytes other than those checked first fail.
func TestASecondReadMustMatchTheFirst(t *testing.T) {
	keys, certs := vectorInputs(t)
	notes, _ := vectorNames(t)
	m := fstest.MapFS{}
	ents, _ := os.ReadDir(vectorFolder)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(vectorFolder, e.Name()))
		m[e.Name()] = &fstest.MapFile{Data: b}
	}
	other := m[notes[3]].Data
	fsys := changing{m, map[string]int{}, map[string][]byte{notes[5]: other}}
	var r tsafolder.Report
	if err := r.CheckFolder(fsys, keys, certs); err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Failed() != 1 || r.Verified != 2 || !strings.Contains(r.Failures[0], "changed while the folder was checked") {
		t.Fatalf("%+v", r)
	}
}
