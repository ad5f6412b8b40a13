//go:build cgo

package pkcs11

import (
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/custos-vault/custos/hsm"
)

// A PKCS#11 module is initialised once per process: a second C_Initialize
// fails, and C_Finalize ends every session of every user. modules counts
// the sealers using each module so that the last one out finalises it,
// and a sealer opened later initialises it afresh (and so sees tokens
// created since, which SoftHSM2 only reads at initialisation).
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

type module struct {
	ctx   *pkcs11.Ctx
	refs  int
	owned bool // we called C_Initialize, so we call C_Finalize
}

func acquire(path string) (*pkcs11.Ctx, error) {
	modules.Lock()
	defer modules.Unlock()
	if m := modules.m[path]; m != nil {
		m.refs++
		return m.ctx, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11: failed to load module %s: %w", path, hsm.ErrUnavailable)
	}
	owned := true
	if err := ctx.Initialize(); err != nil {
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
			ctx.Destroy()
			return nil, fmt.Errorf("pkcs11: failed to initialise module %s: %v: %w", path, err, hsm.ErrUnavailable)
		}
		owned = false
	}
	modules.m[path] = &module{ctx: ctx, refs: 1, owned: owned}
	return ctx, nil
}

func release(path string) {
	modules.Lock()
	defer modules.Unlock()
	m := modules.m[path]
	if m == nil {
		return
	}
	if m.refs--; m.refs > 0 {
		return
	}
	if m.owned {
		m.ctx.Finalize()
	}
	m.ctx.Destroy()
	delete(modules.m, path)
}

// unavailable reports whether a PKCS#11 return code means the token or
// the module cannot be reached, as opposed to refusing the request.
// CKR_GENERAL_ERROR is deliberately not among them: SoftHSM2 returns it
// when RFC 5649 unwrapping fails its integrity check.
func unavailable(err error) bool {
	var rv pkcs11.Error
	if !errors.As(err, &rv) {
		return false
	}
	switch uint(rv) {
	case pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_DEVICE_MEMORY, pkcs11.CKR_DEVICE_REMOVED,
		pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
		pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SESSION_HANDLE_INVALID,
		pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11.CKR_USER_NOT_LOGGED_IN,
		pkcs11.CKR_SLOT_ID_INVALID, pkcs11.CKR_HOST_MEMORY,
		// The KEK object found when the sealer opened is no longer there:
		// the token was removed or replaced under a live session.
		pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_WRAPPING_KEY_HANDLE_INVALID,
		pkcs11.CKR_UNWRAPPING_KEY_HANDLE_INVALID:
		return true
	}
	return false
}
