package transit_test

// fakeVault is a FAKE of Vault's Transit HTTP endpoints. It stands in
// because no Vault server runs on the machines these tests were written on:
// there is no Debian package, `go install github.com/hashicorp/vault` is
// refused (its go.mod replaces its api and sdk modules with local folders),
// and wrapper builds did not compile. It implements just what the sealer
// calls (keys read, encrypt, decrypt, rewrap, rotate, config, trim), with
// Vault's ciphertext format and its status codes, so that the client's
// requests, parsing and error mapping are exercised. It proves nothing
// about Vault itself: TestVaultConformance, run when VAULT_ADDR is set,
// does that.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

type fakeKey struct {
	versions   map[int][]byte // version -> 32-byte AES key
	latest     int
	minDecrypt int
	exportable bool
}

type fakeVault struct {
	*httptest.Server
	token string

	mu     sync.Mutex
	keys   map[string]*fakeKey
	sealed bool // answers 503 as a sealed Vault does
}

func newFakeVault(t *testing.T, token string) *fakeVault {
	f := &fakeVault{token: token, keys: map[string]*fakeKey{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeVault) addKey(name string, exportable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := &fakeKey{versions: map[int][]byte{}, minDecrypt: 1, exportable: exportable}
	k.rotate()
	f.keys[name] = k
}

func (f *fakeVault) setSealed(v bool) {
	f.mu.Lock()
	f.sealed = v
	f.mu.Unlock()
}

func (k *fakeKey) rotate() {
	k.latest++
	b := make([]byte, 32)
	rand.Read(b)
	k.versions[k.latest] = b
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, msg string) {
	reply(w, code, map[string]any{"errors": []string{msg}})
}

func (f *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sealed {
		fail(w, 503, "Vault is sealed")
		return
	}
	if r.Header.Get("X-Vault-Token") != f.token {
		fail(w, 403, "permission denied")
		return
	}
	var body map[string]any
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		json.NewDecoder(r.Body).Decode(&body)
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/transit/"), "/")
	if len(parts) < 2 {
		fail(w, 404, "no handler for route")
		return
	}
	op, name := parts[0], parts[1]
	k := f.keys[name]
	if k == nil {
		if op == "keys" && r.Method == http.MethodGet {
			w.WriteHeader(404)
			w.Write([]byte(`{"errors":[]}`))
			return
		}
		fail(w, 400, "encryption key not found")
		return
	}
	switch {
	case op == "keys" && len(parts) == 2 && r.Method == http.MethodGet:
		vs := map[string]int{}
		for v := range k.versions {
			vs[strconv.Itoa(v)] = 1700000000
		}
		reply(w, 200, map[string]any{"data": map[string]any{
			"name": name, "type": "aes256-gcm96", "latest_version": k.latest,
			"min_decryption_version": k.minDecrypt, "exportable": k.exportable,
			"supports_encryption": true, "keys": vs,
		}})
	case op == "keys" && len(parts) == 3 && parts[2] == "rotate":
		k.rotate()
		w.WriteHeader(204)
	case op == "keys" && len(parts) == 3 && parts[2] == "config":
		if v, ok := body["min_decryption_version"].(float64); ok {
			k.minDecrypt = int(v)
		}
		w.WriteHeader(204)
	case op == "keys" && len(parts) == 3 && parts[2] == "trim":
		v, _ := body["min_available_version"].(float64)
		if int(v) > k.minDecrypt {
			fail(w, 400, "cannot set min available version higher than min decryption version")
			return
		}
		for old := range k.versions {
			if old < int(v) {
				delete(k.versions, old)
			}
		}
		w.WriteHeader(204)
	case op == "encrypt":
		pt, err := base64.StdEncoding.DecodeString(fmt.Sprint(body["plaintext"]))
		if err != nil {
			fail(w, 400, "failed to base64-decode plaintext")
			return
		}
		reply(w, 200, map[string]any{"data": map[string]any{"ciphertext": k.encrypt(pt), "key_version": k.latest}})
	case op == "decrypt":
		pt, msg := k.decrypt(fmt.Sprint(body["ciphertext"]))
		if msg != "" {
			fail(w, 400, msg)
			return
		}
		reply(w, 200, map[string]any{"data": map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)}})
	case op == "rewrap":
		pt, msg := k.decrypt(fmt.Sprint(body["ciphertext"]))
		if msg != "" {
			fail(w, 400, msg)
			return
		}
		reply(w, 200, map[string]any{"data": map[string]any{"ciphertext": k.encrypt(pt), "key_version": k.latest}})
	default:
		fail(w, 405, "unsupported operation")
	}
}

func gcmOf(key []byte) cipher.AEAD {
	b, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(b)
	return g
}

func (k *fakeKey) encrypt(pt []byte) string {
	g := gcmOf(k.versions[k.latest])
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return fmt.Sprintf("vault:v%d:%s", k.latest, base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, pt, nil)))
}

// decrypt follows Vault: lenient base64 (as Go's StdEncoding is), version
// checks, then GCM.
func (k *fakeKey) decrypt(ct string) ([]byte, string) {
	rest, ok := strings.CutPrefix(ct, "vault:v")
	if !ok {
		return nil, "invalid ciphertext: no prefix"
	}
	vs, b64, ok := strings.Cut(rest, ":")
	v, err := strconv.Atoi(vs)
	if !ok || err != nil {
		return nil, "invalid ciphertext: could not parse version"
	}
	if v < k.minDecrypt {
		return nil, "ciphertext or signature version is disallowed by policy (too old)"
	}
	key, ok := k.versions[v]
	if !ok {
		return nil, "invalid key version"
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "invalid ciphertext: could not decode base64"
	}
	g := gcmOf(key)
	if len(raw) < g.NonceSize() {
		return nil, "invalid ciphertext length"
	}
	pt, err := g.Open(nil, raw[:g.NonceSize()], raw[g.NonceSize():], nil)
	if err != nil {
		return nil, "cipher: message authentication failed"
	}
	return pt, ""
}
