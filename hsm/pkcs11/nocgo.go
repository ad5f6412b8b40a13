//go:build !cgo

package pkcs11

import (
	"context"
	"errors"
	"fmt"

	"github.com/custos-vault/custos/hsm"
)

// PKCS#11 modules are C libraries: without cgo this package can parse
// URIs but not reach a token. The stub keeps builds without cgo (such as
// a static custos-verify) compiling, and says why at run time.

// Config selects the token, the KEK and the PIN.
type Config struct {
	URI       string
	CreateKEK bool
}

// Sealer is unavailable in builds without cgo.
type Sealer struct{}

var _ hsm.Sealer = (*Sealer)(nil)

var errNoCgo = errors.New("pkcs11: this binary was built without cgo, so it cannot load a PKCS#11 module")

// New always fails in builds without cgo.
func New(_ context.Context, cfg Config) (*Sealer, error) {
	if _, err := ParseURI(cfg.URI); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %w", errNoCgo, hsm.ErrUnavailable)
}

// Seal implements hsm.Sealer.
func (*Sealer) Seal(context.Context, []byte) ([]byte, error) { return nil, errNoCgo }

// Unseal implements hsm.Sealer.
func (*Sealer) Unseal(context.Context, []byte) (hsm.Secret, error) { return nil, errNoCgo }

// KeyRef implements hsm.Sealer.
func (*Sealer) KeyRef() string { return "pkcs11:unavailable" }

// Close implements hsm.Sealer.
func (*Sealer) Close() error { return nil }
