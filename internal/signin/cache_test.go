package signin

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/secret"
)

func sampleTokens() *Tokens {
	return &Tokens{
		IDToken:       secret.New("eyJ.id-token-value.sig"),
		AccessToken:   secret.New("access-token-value"),
		RefreshToken:  secret.New("refresh-token-value"),
		Expiry:        time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		IDTokenExpiry: time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC),
		Subject:       "1002",
	}
}

func sameTokens(a, b *Tokens) bool {
	return a.IDToken.Equal(b.IDToken) && a.AccessToken.Equal(b.AccessToken) && a.RefreshToken.Equal(b.RefreshToken) &&
		a.Expiry.Equal(b.Expiry) && a.IDTokenExpiry.Equal(b.IDTokenExpiry) && a.Subject == b.Subject
}

func TestCacheRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custos")
	c := NewCache(dir)
	const server = "https://vault.example.org"
	if _, err := c.Load(server); !errors.Is(err, ErrNotCached) {
		t.Fatalf("Load before Save: %v", err)
	}
	want := sampleTokens()
	if err := c.Save(server, want); err != nil {
		t.Fatal(err)
	}
	// The same server with a trailing slash is the same entry.
	got, err := c.Load(server + "/")
	if err != nil {
		t.Fatal(err)
	}
	if !sameTokens(got, want) {
		t.Fatal("Load gave other tokens than Save was given")
	}
	if _, err := c.Load("https://other.example.org"); !errors.Is(err, ErrNotCached) {
		t.Fatalf("another server: %v", err)
	}

	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 {
		t.Fatalf("files in the cache folder: %v (a temporary file left?)", files)
	}
	fi, err = os.Stat(files[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	// The tokens are in the file (it is the cache), readable as JSON.
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), `"refresh_token": "refresh-token-value"`) || !strings.Contains(string(b), `"server": "https://vault.example.org"`) {
		t.Fatalf("cache file:\n%s", b)
	}

	// Saving again replaces.
	want.AccessToken = secret.New("another-access-token")
	if err := c.Save(server, want); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Load(server); err != nil || !got.AccessToken.Equal(want.AccessToken) {
		t.Fatalf("after a second Save: %v", err)
	}

	if err := c.Delete(server); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(server); !errors.Is(err, ErrNotCached) {
		t.Fatalf("Load after Delete: %v", err)
	}
	if err := c.Delete(server); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestCacheRefusesExposedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custos")
	c := NewCache(dir)
	const server = "https://vault.example.org"
	if err := c.Save(server, sampleTokens()); err != nil {
		t.Fatal(err)
	}
	path := c.path(server)

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := c.Load(server)
		if err == nil || !strings.Contains(err.Error(), "others may read it") {
			t.Fatalf("mode %04o: %v", mode, err)
		}
		if strings.Contains(err.Error(), "token-value") {
			t.Fatal("the error quotes the file")
		}
	}
	os.Chmod(path, 0o600)

	// A symbolic link in place of the file is refused.
	real := filepath.Join(t.TempDir(), "elsewhere.json")
	os.Rename(path, real)
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(server); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("symbolic link: %v", err)
	}
	os.Remove(path)
	os.Rename(real, path)

	// A folder others may write to is refused; Save tightens our own.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(server); err == nil || !strings.Contains(err.Error(), "others may write") {
		t.Fatalf("folder 0777: %v", err)
	}
	if err := c.Save(server, sampleTokens()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("Save left the folder %04o", fi.Mode().Perm())
	}
	if _, err := c.Load(server); err != nil {
		t.Fatal(err)
	}
}

func TestCacheRefusesOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := filepath.Join(t.TempDir(), "custos")
	c := NewCache(dir)
	const server = "https://vault.example.org"
	if err := c.Save(server, sampleTokens()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(c.path(server), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(server); err == nil || !strings.Contains(err.Error(), "owned by user 65534") {
		t.Fatalf("a file of another user: %v", err)
	}
}

func TestCacheRefusesBadFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "custos")
	c := NewCache(dir)
	const server = "https://vault.example.org"
	if err := c.Save(server, sampleTokens()); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(c.path(server))
	for name, body := range map[string]string{
		"not JSON":       "refresh-token-value",
		"other version":  strings.Replace(string(good), `"version": 1`, `"version": 2`, 1),
		"other server":   strings.Replace(string(good), "vault.example.org", "evil.example.org", 1),
		"unknown field":  strings.Replace(string(good), `"version": 1`, `"version": 1, "x": 1`, 1),
		"trailing data":  string(good) + "{}",
		"no ID token":    strings.Replace(string(good), `"id_token": "eyJ.id-token-value.sig"`, `"id_token": ""`, 1),
		"empty":          "",
		"a JSON array":   "[]",
		"wrong ID token": strings.Replace(string(good), `"id_token": "eyJ.id-token-value.sig"`, `"id_token": 7`, 1),
	} {
		if err := os.WriteFile(c.path(server), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := c.Load(server)
		if err == nil || errors.Is(err, ErrNotCached) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.Contains(err.Error(), "token-value") {
			t.Errorf("%s: the error quotes the file: %v", name, err)
		}
	}
	if err := c.Save(server, &Tokens{}); err == nil {
		t.Fatal("saved empty tokens")
	}
}

func FuzzDecodeCacheFile(f *testing.F) {
	good, _ := encodeCacheFile("https://vault.example.org", sampleTokens())
	f.Add(good)
	f.Add([]byte(`{"version":1,"server":"https://vault.example.org","id_token":"a","access_token":"b"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		const server = "https://vault.example.org"
		tok, err := decodeCacheFile(b, server)
		if err != nil {
			return
		}
		// What decodes encodes and decodes again to the same tokens.
		again, err := encodeCacheFile(server, tok)
		if err != nil {
			t.Fatal(err)
		}
		tok2, err := decodeCacheFile(again, server)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if !sameTokens(tok, tok2) || !reflect.DeepEqual(tok.Expiry.UTC(), tok2.Expiry.UTC()) {
			t.Fatal("round trip changed the tokens")
		}
	})
}
