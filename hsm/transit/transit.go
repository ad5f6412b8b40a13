// Package transit seals keys with a key held by HashiCorp Vault's Transit
// secrets engine: Vault encrypts and decrypts on request and never hands
// out the key itself. For deployments that already run Vault (a national
// unit) rather than an HSM on each server.
//
// Sealing is transit/encrypt, unsealing transit/decrypt; Vault's
// ciphertext ("vault:vN:...", AES-256-GCM with a random nonce) is what the
// blob carries, behind a header naming the mount and key so that a blob of
// another key is refused before it is sent. Keys marked exportable are
// refused: such a KEK could leave Vault.
//
// # Rotation
//
// Rotate is transit/keys/KEY/rotate: Vault adds a key version and
// encrypts with it from then on; Rewrap (transit/rewrap) moves a blob to
// the latest version without the secret leaving Vault. RetireOld sets
// min_decryption_version (and min_encryption_version) to the latest
// version, so Vault refuses older ciphertexts, then trims the older
// versions (transit/keys/KEY/trim), which deletes them from Vault's
// storage: only a backup of Vault's storage could bring them back.
package transit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/custos-vault/custos/internal/secret"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/custos-vault/custos/hsm"
)

// Config names the Vault server, the Transit key and the credentials.
type Config struct {
	// Address is Vault's URL: https://HOST:PORT, or http://HOST:PORT on a
	// loopback address only.
	Address string
	// Mount is where the Transit engine is mounted (default "transit").
	Mount string
	// Key is the Transit key's name.
	Key string
	// Token is the Vault token (normally from VAULT_TOKEN).
	Token secret.String
	// CACert is a PEM file of the CA that signed Vault's certificate; empty
	// means the system's roots.
	CACert string
	// Timeout bounds each request (default 30 seconds).
	Timeout time.Duration
	// MaxRetries is how often a request is retried on a 5xx answer or a
	// connection error (default 2; a negative value means none).
	MaxRetries int
}

// Sealer is a Vault Transit key sealer.
type Sealer struct {
	client *api.Client
	host   string // for KeyRef
	mount  string
	key    string

	mu      sync.Mutex
	closed  bool
	version int // latest key version, for KeyRef
}

var (
	_ hsm.Sealer    = (*Sealer)(nil)
	_ hsm.Rotator   = (*Sealer)(nil)
	_ hsm.Rewrapper = (*Sealer)(nil)
)

// New connects to Vault and reads the key's metadata. An unreachable or
// sealed Vault, and a key that does not exist, give errors wrapping
// hsm.ErrUnavailable.
func New(ctx context.Context, cfg Config) (*Sealer, error) {
	u, err := url.Parse(cfg.Address)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("transit: address %q is not http(s)://HOST:PORT", cfg.Address)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !Loopback(u.Hostname()) {
			return nil, fmt.Errorf("transit: plain HTTP to %s refused: the token and every case key would cross the network in clear (use https, or a loopback address)", u.Host)
		}
	default:
		return nil, fmt.Errorf("transit: address %q is not http(s)://HOST:PORT", cfg.Address)
	}
	if cfg.Key == "" || strings.ContainsAny(cfg.Key, "/?#") {
		return nil, fmt.Errorf("transit: bad key name %q", cfg.Key)
	}
	if cfg.Token.Empty() {
		return nil, errors.New("transit: no Vault token (set VAULT_TOKEN)")
	}
	mount := strings.Trim(cfg.Mount, "/")
	if mount == "" {
		mount = "transit"
	}
	vc := api.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("transit: %w", vc.Error)
	}
	vc.Address = strings.TrimSuffix(cfg.Address, "/")
	vc.Timeout = cfg.Timeout
	if vc.Timeout == 0 {
		vc.Timeout = 30 * time.Second
	}
	vc.MaxRetries = cfg.MaxRetries
	if cfg.MaxRetries == 0 {
		vc.MaxRetries = 2
	} else if cfg.MaxRetries < 0 {
		vc.MaxRetries = 0
	}
	if cfg.CACert != "" {
		if err := vc.ConfigureTLS(&api.TLSConfig{CACert: cfg.CACert}); err != nil {
			return nil, fmt.Errorf("transit: %w", err)
		}
	}
	client, err := api.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("transit: %w", err)
	}
	client.SetToken(cfg.Token.Reveal())
	client.SetNamespace("")
	s := &Sealer{client: client, host: u.Host, mount: mount, key: cfg.Key}
	if u.Scheme == "http" {
		s.host = "http://" + u.Host
	}
	if err := s.refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Loopback reports whether host is a loopback name or address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Sealer) path(op string) string { return s.mount + "/" + op + "/" + s.key }

// refresh reads the key's metadata: it must exist, be able to encrypt,
// and not be exportable.
func (s *Sealer) refresh(ctx context.Context) error {
	sec, err := s.client.Logical().ReadWithContext(ctx, s.path("keys"))
	if err != nil {
		return s.unavailable("failed to read the key", err)
	}
	if sec == nil || sec.Data == nil {
		return fmt.Errorf("transit: key %q does not exist under %s/ (vault write -f %s type=aes256-gcm96): %w", s.key, s.mount, s.path("keys"), hsm.ErrUnavailable)
	}
	if exp, _ := sec.Data["exportable"].(bool); exp {
		return fmt.Errorf("transit: key %q is exportable: a KEK must never leave Vault", s.key)
	}
	if enc, ok := sec.Data["supports_encryption"].(bool); ok && !enc {
		return fmt.Errorf("transit: key %q cannot encrypt (type %v)", s.key, sec.Data["type"])
	}
	v, err := number(sec.Data["latest_version"])
	if err != nil {
		return fmt.Errorf("transit: key %q: latest_version: %w", s.key, err)
	}
	s.mu.Lock()
	s.version = v
	s.mu.Unlock()
	return nil
}

func number(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return int(i), err
	case float64:
		return int(n), nil
	case int:
		return n, nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

// KeyRef implements hsm.Sealer: server, mount, key and latest version.
// The token is never part of it.
func (s *Sealer) KeyRef() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("transit://%s/%s/%s v%d", strings.TrimPrefix(s.host, "http://"), s.mount, s.key, s.version)
}

// Close implements hsm.Sealer. The token is dropped from memory.
func (s *Sealer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.client.ClearToken()
	}
	return nil
}

func (s *Sealer) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("transit: sealer closed: %w", hsm.ErrUnavailable)
	}
	return nil
}

// unavailable wraps an error from a request that is not about a blob:
// anything Vault did not answer with a 4xx is unavailability.
func (s *Sealer) unavailable(what string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 {
		if re.StatusCode == 403 {
			return fmt.Errorf("transit: %s: Vault refused the token: %v: %w", what, err, hsm.ErrUnavailable)
		}
		return fmt.Errorf("transit: %s: %w", what, err)
	}
	return fmt.Errorf("transit: %s: %v: %w", what, err, hsm.ErrUnavailable)
}

// refused wraps an error from decrypting or rewrapping a blob: Vault's 400
// (bad ciphertext, wrong key, version retired) is ErrUnseal; a refused
// token, a sealed or unreachable Vault is ErrUnavailable.
func (s *Sealer) refused(what string, err error) error {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == 400 {
		return fmt.Errorf("transit: %w: %s: %v", hsm.ErrUnseal, what, strings.Join(re.Errors, "; "))
	}
	return s.unavailable(what, err)
}
