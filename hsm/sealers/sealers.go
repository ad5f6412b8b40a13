// Package sealers opens the key sealer a --sealer URL names. It is the one
// place that knows every backend, so that the server and the admin verbs
// accept the same forms and refuse the same things: the development sealer
// outside --dev, plain HTTP to Vault off loopback, unknown schemes.
package sealers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/hsm"
	"github.com/custos-vault/custos/hsm/pkcs11"
	"github.com/custos-vault/custos/hsm/soft"
	"github.com/custos-vault/custos/hsm/tpm"
	"github.com/custos-vault/custos/hsm/transit"
	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/internal/typednil"
)

// Forms lists the accepted --sealer URL forms, for help texts and errors.
var Forms = []string{
	"soft:PATH (development only, with --dev)",
	"tpm:/dev/tpmrm0[?pcrs=0,7&password-source=FILE]",
	"tpm+tcp://HOST:PORT[?pcrs=...&password-source=FILE] (a TPM simulator such as swtpm)",
	"pkcs11:token=LABEL;object=KEK?module-path=MODULE.so&pin-source=FILE (RFC 7512)",
	"transit://HOST:PORT/[MOUNT/]KEY (Vault Transit over TLS; token from VAULT_TOKEN, CA from VAULT_CACERT)",
	"transit+http://HOST:PORT/[MOUNT/]KEY (Vault Transit, plain HTTP, loopback only)",
}

// Options carry what a URL does not.
type Options struct {
	// Dev allows the development sealer (soft:PATH).
	Dev bool
	// CreateKEK lets the PKCS#11 sealer generate its KEK in the token if
	// absent (first start); leave it off afterwards.
	CreateKEK bool
	// Getenv reads VAULT_TOKEN and VAULT_CACERT; cmd/custos passes
	// os.Getenv (nil reads nothing: the environment is read only there).
	Getenv func(string) string
}

// ErrDevOnly is returned for soft:PATH without Options.Dev.
var ErrDevOnly = errors.New("the soft sealer keeps its key in a plain file and is for development only: use it with --dev, or name a TPM, an HSM or Vault Transit")

// Open opens the sealer raw names.
func Open(ctx context.Context, raw string, opts Options) (hsm.Sealer, error) {
	sp, err := parse(raw, opts)
	if err != nil {
		return nil, err
	}
	switch sp.kind {
	case "soft":
		return typednil.As[hsm.Sealer](soft.New(ctx, sp.soft))
	case "tpm":
		return typednil.As[hsm.Sealer](tpm.New(ctx, sp.tpm))
	case "pkcs11":
		return typednil.As[hsm.Sealer](pkcs11.New(ctx, sp.pkcs11))
	default:
		return typednil.As[hsm.Sealer](transit.New(ctx, sp.transit))
	}
}

// spec is a parsed URL: one backend and its configuration.
type spec struct {
	kind    string
	soft    soft.Config
	tpm     tpm.Config
	pkcs11  pkcs11.Config
	transit transit.Config
}

func parse(raw string, opts Options) (spec, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return spec{}, unknown(raw)
	}
	switch scheme {
	case "soft":
		if rest == "" || strings.HasPrefix(rest, "//") {
			return spec{}, fmt.Errorf("sealer: soft:PATH needs a folder path, as in soft:/var/lib/custos/keys")
		}
		if !opts.Dev {
			return spec{}, fmt.Errorf("sealer: %w", ErrDevOnly)
		}
		return spec{kind: "soft", soft: soft.Config{Dir: rest}}, nil
	case "tpm", "tpm+tcp":
		return parseTPM(raw)
	case "pkcs11":
		if _, err := pkcs11.ParseURI(raw); err != nil {
			return spec{}, fmt.Errorf("sealer: %w", err)
		}
		return spec{kind: "pkcs11", pkcs11: pkcs11.Config{URI: raw, CreateKEK: opts.CreateKEK}}, nil
	case "transit", "transit+http":
		return parseTransit(raw, getenv)
	}
	return spec{}, unknown(raw)
}

func unknown(raw string) error {
	scheme, _, _ := strings.Cut(raw, ":")
	if len(scheme) > 20 || scheme == raw {
		scheme = "(none)"
	}
	return fmt.Errorf("sealer: unknown URL scheme %q; accepted forms:\n  %s", scheme, strings.Join(Forms, "\n  "))
}

func parseTPM(raw string) (spec, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return spec{}, fmt.Errorf("sealer: bad TPM URL: %w", err)
	}
	var cfg tpm.Config
	if u.Scheme == "tpm" {
		dev := u.Opaque
		if dev == "" {
			dev = u.Path
		}
		if !strings.HasPrefix(dev, "/") || u.Host != "" {
			return spec{}, errors.New("sealer: tpm:PATH needs a device path, as in tpm:/dev/tpmrm0")
		}
		cfg.Device = dev
	} else {
		if u.Host == "" || (u.Path != "" && u.Path != "/") || u.Port() == "" {
			return spec{}, errors.New("sealer: tpm+tcp://HOST:PORT needs a host and a port and nothing else")
		}
		cfg.Addr = u.Host
	}
	q := u.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		vals := q[name]
		if len(vals) != 1 {
			return spec{}, fmt.Errorf("sealer: TPM URL repeats %q", name)
		}
		switch v := vals[0]; name {
		case "pcrs":
			for p := range strings.SplitSeq(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(p))
				if err != nil || n < 0 || n > 23 {
					return spec{}, fmt.Errorf("sealer: pcrs=%s: PCRs are numbers 0-23", v)
				}
				cfg.PCRs = append(cfg.PCRs, n)
			}
		case "password-source":
			b, err := os.ReadFile(v)
			if err != nil {
				return spec{}, fmt.Errorf("sealer: failed to read password-source: %w", err)
			}
			cfg.Password = []byte(strings.TrimRight(string(b), "\r\n"))
			hsm.Zero(b)
		default:
			return spec{}, fmt.Errorf("sealer: unknown TPM URL parameter %q (pcrs, password-source)", name)
		}
	}
	return spec{kind: "tpm", tpm: cfg}, nil
}

func parseTransit(raw string, getenv func(string) string) (spec, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return spec{}, fmt.Errorf("sealer: bad Transit URL: %w", err)
	}
	path := strings.Trim(u.Path, "/")
	if u.Host == "" || u.Port() == "" || path == "" || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return spec{}, errors.New("sealer: Transit URL is transit://HOST:PORT/[MOUNT/]KEY")
	}
	cfg := transit.Config{Key: path, Token: secret.New(getenv("VAULT_TOKEN")), CACert: getenv("VAULT_CACERT")}
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		cfg.Mount, cfg.Key = path[:i], path[i+1:]
	}
	if u.Scheme == "transit+http" {
		if !transit.Loopback(u.Hostname()) {
			return spec{}, fmt.Errorf("sealer: transit+http to %s refused: plain HTTP is for loopback only; use transit:// (TLS)", u.Hostname())
		}
		cfg.Address = "http://" + u.Host
	} else {
		cfg.Address = "https://" + u.Host
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return spec{}, fmt.Errorf("sealer: Transit URL host: %w", err)
	}
	if cfg.Token.Empty() {
		return spec{}, errors.New("sealer: Vault Transit needs a token in VAULT_TOKEN")
	}
	return spec{kind: "transit", transit: cfg}, nil
}
