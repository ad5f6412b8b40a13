package e2e

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-vault/custos/internal/testenv"
)

// storedObjects returns the files of the fs object store in data whose
// path contains kind ("witnessed", "timestamps"), sorted, as any operator
// with the object store reads them.
func storedObjects(data, kind string) []string {
	var found []string
	filepath.WalkDir(filepath.Join(data, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, kind) {
			found = append(found, p)
		}
		return nil
	})
	sort.Strings(found)
	return found
}

// storedWitnessed returns the newest witnessed/<size> object.
func storedWitnessed(t *testing.T, data string) (string, []byte) {
	t.Helper()
	found := storedObjects(data, "witnessed")
	if len(found) == 0 {
		t.Fatalf("no witnessed/ object under %s", data)
	}
	b, err := os.ReadFile(found[len(found)-1])
	if err != nil {
		t.Fatal(err)
	}
	return found[len(found)-1], b
}

// prosecutorRecipient makes the dev prosecutor an age key in dir
// (p.key) with the stock age-keygen and registers its recipient.
func (s *server) prosecutorRecipient(dir string) string {
	return s.registerRecipient("prosecutor", dir, "p.key")
}

// sealAndFetch seals a package of a case as sealer for person (purpose
// "trial" unless extra says otherwise), fetches it as that person to out
// in dir, and returns its id.
func (s *server) sealAndFetch(sealer, person, dir, caseID, out string, extra ...string) string {
	s.t.Helper()
	args := append([]string{"package", "seal", "--case", caseID, "--for", person, "--json"}, extra...)
	if !slices.Contains(extra, "--purpose") {
		args = append(args, "--purpose", "trial")
	}
	id := s.ok(sealer, dir, args...).json(s.t)["package"].(string)
	s.ok(person, dir, "package", "fetch", id, "-o", out)
	return id
}

// registerRecipient makes a dev person an age key in dir (file) with the
// stock age-keygen, registers its recipient as that person, and returns
// the key's path.
func (s *server) registerRecipient(person, dir, file string) string {
	s.t.Helper()
	key := filepath.Join(dir, file)
	kg := s.run("", dir, testenv.Binary(s.t, "age-keygen"), "-o", key)
	if kg.code != 0 {
		s.t.Fatal(kg.stderr)
	}
	s.ok(person, dir, "recipient", "set", strings.TrimSpace(strings.TrimPrefix(kg.stderr, "Public key: ")))
	return key
}

// runVia runs custos as person against another server address.
func (s *server) runVia(person, dir, base string, args ...string) result {
	s.t.Helper()
	s.runEnv = []string{"CUSTOS_SERVER=" + base}
	defer func() { s.runEnv = nil }()
	return s.run(person, dir, "custos", args...)
}

// forgeWitnessed is the operator of a forked vault answering the
// auditor's GET /v1/log/checkpoints through a proxy, with the older
// witnessed checkpoint old (from its own object store) in place of the
// newest, which no witness cosigned.
func forgeWitnessed(t *testing.T, s *server, old []byte) *httptest.Server {
	target, _ := url.Parse(s.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/v1/log/checkpoints" || resp.StatusCode != 200 {
			return nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return err
		}
		m["witnessed"] = string(old)
		delete(m, "witnesses")
		body, _ = json.Marshal(m)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	return front
}

// A witness of the vault's configuration answers every add-checkpoint
// with 60 valid cosignature lines of its own key (other timestamps): a
// stand-in, since the real witness cannot be made to. The vault keeps
// one line a witness, so its packages stay verifiable (a checkpoint note
// is at most 4096 bytes) and carry the cosignature.
func TestCosignatureFloodKeepsPackagesVerifiable(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	name := "evil.partner.example"
	kh := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
	vkey := fmt.Sprintf("%s+%x+%s", name, kh[:4], base64.StdEncoding.EncodeToString(append([]byte{4}, pub...)))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, n, _ := strings.Cut(string(body), "\n\n")
		text, _, _ := strings.Cut(n, "\n\n")
		text += "\n"
		for i := 0; i < 60; i++ {
			ts := uint64(1_800_000_000 + i)
			var tb [8]byte
			binary.BigEndian.PutUint64(tb[:], ts)
			sig := ed25519.Sign(priv, []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)))
			fmt.Fprintf(w, "\u2014 %s %s\n", name, base64.StdEncoding.EncodeToString(append(append(kh[:4:4], tb[:]...), sig...)))
		}
	}))
	defer evil.Close()
	s := newServer(t, "--witness", "evil="+vkey+"@"+evil.URL)
	work := t.TempDir()
	logKey, _ := vaultKey(t, s, work, "auditor")
	s.ok("investigator", work, "case", "open", "KH-2026-801", "--title", "flood")
	file, _, _ := evidence(t, work, "photo.jpg", 10_000)
	s.ok("investigator", work, "deposit", "--case", "KH-2026-801", file)
	s.prosecutorRecipient(work)
	pkg := s.ok("investigator", work, "package", "seal", "--case", "KH-2026-801", "--for", "prosecutor", "--purpose", "trial", "--json").json(t)
	s.ok("prosecutor", work, "package", "fetch", pkg["package"].(string), "-o", "bundle.tar")
	r := s.run("", work, "custos-verify", "bundle.tar", "--key", logKey)
	t.Logf("custos-verify (no policy), exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	if r.code != 0 {
		t.Errorf("a package sealed by an honest vault fails custos-verify because of one witness's answer")
	}
	if tm := readTar(t, filepath.Join(work, "bundle.tar")); !slices.ContainsFunc(tm, func(m testenv.TarMember) bool {
		return m.Name == "checkpoint" && cosignatureLines(string(m.Data)) == 1
	}) {
		t.Error("the package's checkpoint does not carry the witness's one cosignature")
	}
}
