package signin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/durable"
	"github.com/custos-vault/custos/internal/secret"
)

// Cache keeps Tokens between runs, one file per vault server in one
// folder (callers use os.UserConfigDir()/custos). The files hold the
// tokens themselves, so the folder is made 0700 and each file 0600,
// written atomically (a temporary file renamed over the old one), and a
// file that others could read or write, that is not a regular file
// (a symbolic link, say), or that another user owns is refused, as is a
// folder that others may write to.
//
// A file is named tokens-HASH.json, HASH being derived from the server
// URL; it is JSON:
//
//	{"version":1,"server":"https://vault.example.org","id_token":"...",
//	 "access_token":"...","refresh_token":"...","expiry":"RFC 3339",
//	 "id_token_expiry":"RFC 3339","subject":"..."}
type Cache struct {
	dir string
}

// NewCache returns the cache in dir. Nothing is created until Save.
func NewCache(dir string) *Cache { return &Cache{dir: dir} }

// ErrNotCached: no tokens are cached for the server.
var ErrNotCached = errors.New("signin: not signed in to this server (no cached tokens)")

// maxCacheFile bounds what Load reads; a cache file holds three tokens.
const maxCacheFile = 1 << 20

type cacheFile struct {
	Version       int       `json:"version"`
	Server        string    `json:"server"`
	IDToken       string    `json:"id_token"`
	AccessToken   string    `json:"access_token"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	Expiry        time.Time `json:"expiry"`
	IDTokenExpiry time.Time `json:"id_token_expiry"`
	Subject       string    `json:"subject"`
}

// serverKey is how a server URL is compared: without trailing slashes.
func serverKey(server string) string { return strings.TrimRight(server, "/") }

func (c *Cache) path(server string) string {
	sum := sha256.Sum256([]byte(serverKey(server)))
	return filepath.Join(c.dir, "tokens-"+hex.EncodeToString(sum[:8])+".json")
}

// Load returns the tokens cached for server, or ErrNotCached. A file
// that fails the checks in the Cache comment, or does not parse, is an
// error (the tokens in it are not used).
func (c *Cache) Load(server string) (*Tokens, error) {
	if err := c.checkDir(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotCached
		}
		return nil, err
	}
	path := c.path(server)
	f, err := openNoFollow(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotCached
	}
	if err != nil {
		return nil, fmt.Errorf("signin: token cache: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("signin: token cache: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("signin: token cache %s is not a regular file; refusing it", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("signin: token cache %s has mode %04o: others may read it; remove it and sign in again", path, perm)
	}
	if err := ownedByUs(fi); err != nil {
		return nil, fmt.Errorf("signin: token cache %s: %w; refusing it", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil {
		return nil, fmt.Errorf("signin: token cache: %w", err)
	}
	if len(b) > maxCacheFile {
		return nil, fmt.Errorf("signin: token cache %s is larger than %d bytes", path, maxCacheFile)
	}
	t, err := decodeCacheFile(b, server)
	if err != nil {
		return nil, fmt.Errorf("signin: token cache %s: %w", path, err)
	}
	return t, nil
}

// decodeCacheFile parses a cache file for server. Its errors quote
// nothing from the file.
func decodeCacheFile(b []byte, server string) (*Tokens, error) {
	var cf cacheFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		return nil, errors.New("does not parse")
	}
	if dec.More() {
		return nil, errors.New("has data after its JSON object")
	}
	if cf.Version != 1 {
		return nil, fmt.Errorf("has version %d; this Custos reads version 1", cf.Version)
	}
	if serverKey(cf.Server) != serverKey(server) {
		return nil, errors.New("is for another server")
	}
	if cf.IDToken == "" || cf.AccessToken == "" {
		return nil, errors.New("lacks the ID token or the access token")
	}
	return &Tokens{
		IDToken:       secret.New(cf.IDToken),
		AccessToken:   secret.New(cf.AccessToken),
		RefreshToken:  secret.New(cf.RefreshToken),
		Expiry:        cf.Expiry,
		IDTokenExpiry: cf.IDTokenExpiry,
		Subject:       cf.Subject,
	}, nil
}

func encodeCacheFile(server string, t *Tokens) ([]byte, error) {
	return json.MarshalIndent(cacheFile{
		Version:       1,
		Server:        serverKey(server),
		IDToken:       t.IDToken.Reveal(),
		AccessToken:   t.AccessToken.Reveal(),
		RefreshToken:  t.RefreshToken.Reveal(),
		Expiry:        t.Expiry,
		IDTokenExpiry: t.IDTokenExpiry,
		Subject:       t.Subject,
	}, "", "\t")
}

// Save writes t as server's tokens, replacing any, creating the folder
// (0700) if needed and tightening an existing one of ours to 0700.
func (c *Cache) Save(server string, t *Tokens) error {
	if t == nil || t.IDToken.Empty() || t.AccessToken.Empty() {
		return errors.New("signin: token cache: nothing to save (no ID token or access token)")
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("signin: token cache: %w", err)
	}
	fi, err := os.Lstat(c.dir)
	if err != nil {
		return fmt.Errorf("signin: token cache: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("signin: token cache folder %s is not a folder", c.dir)
	}
	if err := ownedByUs(fi); err != nil {
		return fmt.Errorf("signin: token cache folder %s: %w", c.dir, err)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(c.dir, 0o700); err != nil {
			return fmt.Errorf("signin: token cache: %w", err)
		}
	}
	b, err := encodeCacheFile(server, t)
	if err != nil {
		return fmt.Errorf("signin: token cache: %w", err)
	}
	if err := durable.Replace(c.path(server), b); err != nil {
		return fmt.Errorf("signin: token cache: %w", err)
	}
	return nil
}

// Delete removes server's tokens (signing out locally). Deleting what is
// not cached is not an error.
func (c *Cache) Delete(server string) error {
	err := os.Remove(c.path(server))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("signin: token cache: %w", err)
	}
	return nil
}

// checkDir refuses a cache folder that is not ours or that others may
// write to (they could put their file in place of ours).
func (c *Cache) checkDir() error {
	fi, err := os.Stat(c.dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("signin: token cache folder %s is not a folder", c.dir)
	}
	if err := ownedByUs(fi); err != nil {
		return fmt.Errorf("signin: token cache folder %s: %w; refusing it", c.dir, err)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("signin: token cache folder %s has mode %04o: others may write to it; refusing it", c.dir, perm)
	}
	return nil
}
