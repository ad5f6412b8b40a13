//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/custos-vault/custos/hsm"
)

// Config selects the token, the KEK and the PIN.
type Config struct {
	// URI is an RFC 7512 URI: token label, KEK object label, module path
	// and PIN source (see ParseURI).
	URI string
	// CreateKEK generates the KEK in the token if no object has its label.
	// Leave it off in production once the KEK exists: a token that was
	// replaced by an empty one should stop the server, not quietly start
	// sealing under a new key.
	CreateKEK bool
}

// Sealer is a PKCS#11 key sealer. It holds one logged-in session; calls
// are serialised because a PKCS#11 session is not safe for concurrent use.
type Sealer struct {
	uri    *URI
	module string

	mu      sync.Mutex
	ctx     *pkcs11.Ctx // nil once closed
	session pkcs11.SessionHandle
	serial  string
	keks    map[int]pkcs11.ObjectHandle // KEK version -> object
	current int
}

var (
	_ hsm.Sealer    = (*Sealer)(nil)
	_ hsm.Rotator   = (*Sealer)(nil)
	_ hsm.Rewrapper = (*Sealer)(nil)
)

// New opens the token named by cfg.URI, logs in and finds the KEK
// versions. A module that cannot be loaded, a token that is not present
// and a KEK that does not exist (without CreateKEK) give errors wrapping
// hsm.ErrUnavailable.
func New(_ context.Context, cfg Config) (*Sealer, error) {
	uri, err := ParseURI(cfg.URI)
	if err != nil {
		return nil, err
	}
	pin, err := uri.PIN()
	if err != nil {
		return nil, err
	}
	defer hsm.Zero(pin)
	ctx, err := acquire(uri.ModulePath)
	if err != nil {
		return nil, err
	}
	s := &Sealer{uri: uri, module: uri.ModulePath, ctx: ctx}
	if err := s.open(pin, cfg.CreateKEK); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Sealer) open(pin []byte, create bool) error {
	slot, serial, err := findSlot(s.ctx, s.uri)
	if err != nil {
		return err
	}
	s.serial = serial
	s.session, err = s.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return fmt.Errorf("pkcs11: failed to open a session on token %q: %v: %w", s.uri.Token, err, hsm.ErrUnavailable)
	}
	if len(pin) > 0 {
		err := s.ctx.Login(s.session, pkcs11.CKU_USER, string(pin))
		if err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
			if unavailable(err) {
				return fmt.Errorf("pkcs11: failed to log in to token %q: %v: %w", s.uri.Token, err, hsm.ErrUnavailable)
			}
			return fmt.Errorf("pkcs11: token %q refused the PIN: %w", s.uri.Token, err)
		}
	}
	if err := s.findKEKs(); err != nil {
		return err
	}
	if len(s.keks) == 0 {
		if !create {
			return fmt.Errorf("pkcs11: no KEK labelled %q in token %q (on a new token, create it once with --create-kek, or create-kek = true in the config file, then remove it): %w", s.uri.Object, s.uri.Token, hsm.ErrUnavailable)
		}
		if _, err := s.generate(1); err != nil {
			return err
		}
	}
	return nil
}

// findSlot finds the one token whose label (and serial, manufacturer,
// model, when the URI gives them) matches. Slot numbers are not stable
// across restarts of a module, labels are.
func findSlot(ctx *pkcs11.Ctx, u *URI) (uint, string, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, "", fmt.Errorf("pkcs11: failed to list slots: %v: %w", err, hsm.ErrUnavailable)
	}
	var found []uint
	var serial string
	for _, slot := range slots {
		info, err := ctx.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		if info.Label != u.Token ||
			(u.Serial != "" && info.SerialNumber != u.Serial) ||
			(u.Manufacturer != "" && info.ManufacturerID != u.Manufacturer) ||
			(u.Model != "" && info.Model != u.Model) {
			continue
		}
		found = append(found, slot)
		serial = info.SerialNumber
	}
	switch len(found) {
	case 0:
		return 0, "", fmt.Errorf("pkcs11: no token labelled %q is present: %w", u.Token, hsm.ErrUnavailable)
	case 1:
		return found[0], serial, nil
	default:
		return 0, "", fmt.Errorf("pkcs11: %d tokens are labelled %q: add serial= to the URI", len(found), u.Token)
	}
}

// versionLabel is the CKA_LABEL of KEK version v.
func (s *Sealer) versionLabel(v int) string {
	if v == 1 {
		return s.uri.Object
	}
	return s.uri.Object + "#v" + strconv.Itoa(v)
}

// parseVersion is the inverse of versionLabel; 0 means not ours.
func (s *Sealer) parseVersion(label string) int {
	if label == s.uri.Object {
		return 1
	}
	rest, ok := strings.CutPrefix(label, s.uri.Object+"#v")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(rest)
	if err != nil || v < 2 || strconv.Itoa(v) != rest {
		return 0
	}
	return v
}

func (s *Sealer) findKEKs() error {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
	}
	if err := s.ctx.FindObjectsInit(s.session, tmpl); err != nil {
		return s.deviceErr("failed to search the token", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		objs, _, err := s.ctx.FindObjects(s.session, 64)
		if err != nil {
			s.ctx.FindObjectsFinal(s.session)
			return s.deviceErr("failed to search the token", err)
		}
		if len(objs) == 0 {
			break
		}
		all = append(all, objs...)
	}
	if err := s.ctx.FindObjectsFinal(s.session); err != nil {
		return s.deviceErr("failed to search the token", err)
	}
	s.keks = map[int]pkcs11.ObjectHandle{}
	s.current = 0
	for _, o := range all {
		attrs, err := s.ctx.GetAttributeValue(s.session, o, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
		if err != nil {
			return s.deviceErr("failed to read a key label", err)
		}
		v := s.parseVersion(string(attrs[0].Value))
		if v == 0 {
			continue
		}
		if _, dup := s.keks[v]; dup {
			return fmt.Errorf("pkcs11: two keys in token %q are labelled %q: refusing to guess which is the KEK", s.uri.Token, s.versionLabel(v))
		}
		s.keks[v] = o
		s.current = max(s.current, v)
	}
	return nil
}

// generate makes KEK version v inside the token: AES-256, sensitive,
// never extractable, usable only to wrap and unwrap.
func (s *Sealer) generate(v int) (pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, s.versionLabel(v)),
		pkcs11.NewAttribute(pkcs11.CKA_ID, []byte("custos-kek-v"+strconv.Itoa(v))),
	}
	o, err := s.ctx.GenerateKey(s.session, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl)
	if err != nil {
		return 0, s.deviceErr("failed to generate the KEK", err)
	}
	s.keks[v] = o
	s.current = v
	return o, nil
}

// deviceErr wraps err as unavailable when the token cannot be reached.
func (s *Sealer) deviceErr(what string, err error) error {
	if unavailable(err) {
		return fmt.Errorf("pkcs11: %s: %v: %w", what, err, hsm.ErrUnavailable)
	}
	return fmt.Errorf("pkcs11: %s: %w", what, err)
}

// KeyRef implements hsm.Sealer: the token, its serial and the KEK label
// and version. No PIN, no module path.
func (s *Sealer) KeyRef() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%s serial=%s kek=v%d", s.uri.String(), s.serial, s.current)
}

// Close implements hsm.Sealer: it closes the session and, if this was the
// last sealer on the module, finalises the module.
func (s *Sealer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return nil
	}
	if s.session != 0 {
		s.ctx.CloseSession(s.session)
	}
	s.ctx = nil
	release(s.module)
	return nil
}

func errClosed() error { return fmt.Errorf("pkcs11: sealer closed: %w", hsm.ErrUnavailable) }
