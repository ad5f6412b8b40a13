package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/custos-vault/custos/internal/secret"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// Signing in, as the client does it (docs/identity.md):
//
//   - CUSTOS_TOKEN holding a session token (css_...) is used as it is;
//   - CUSTOS_TOKEN holding a local credential (cst_...) opens a session,
//     which is kept until it expires in the user's config folder, so that
//     each command does not sign in anew;
//   - without CUSTOS_TOKEN, the login `custos login` stored for
//     CUSTOS_SERVER (a redeemed credential, or an OpenID provider's
//     tokens) opens or refreshes the session.
//
// The folder is $CUSTOS_CONFIG_DIR, else the user's config folder
// (os.UserConfigDir) plus /custos; it is 0700 and its files 0600, written
// whole (temporary file, then rename). A folder that cannot be used only
// costs a sign-in per command.

// storedLogin is one file of the config folder: the login for a server
// (Credential, or the OpenID provider's refresh token) and the session it
// opened.
type storedLogin struct {
	Server string `json:"server"`
	// Kind is "local" or "oidc" for a login; "session" for the session of
	// an environment credential.
	Kind         string    `json:"kind"`
	Credential   string    `json:"credential,omitempty"`
	Issuer       string    `json:"issuer,omitempty"`
	ClientID     string    `json:"client_id,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Session      string    `json:"session_token,omitempty"`
	Expires      time.Time `json:"session_expires,omitzero"`
}

// sessionMargin: a cached session that ends sooner than this is replaced
// before use, so that it does not expire in the middle of a long upload.
const sessionMargin = 10 * time.Minute

func configDir() (string, error) {
	if d := os.Getenv("CUSTOS_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "custos"), nil
}

// loginPath names the file of a server's login (who = "login") or of the
// session of an environment credential (who = its SHA-256).
func loginPath(server, who string) (string, error) {
	dir, err := configDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(server + "\n" + who))
	return filepath.Join(dir, "sessions", hex.EncodeToString(sum[:16])+".json"), nil
}

// readLogin reads a stored login; a file that others may read, or that
// is not the user's, is refused (its secrets may have been seen).
func readLogin(path string) (*storedLogin, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): remove it and sign in again", path, st.Mode().Perm())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return nil, fmt.Errorf("%s belongs to another user: remove it and sign in again", path)
	}
	var l storedLogin
	if err := json.NewDecoder(f).Decode(&l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &l, nil
}

func writeLogin(path string, l *storedLogin) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".login-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// keptLogins lists the servers, other than server, that the folder dir
// keeps a redeemed credential for (at most three, sorted).
func keptLogins(dir, server string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		l, err := readLogin(filepath.Join(dir, e.Name()))
		if err != nil || l.Kind != "local" || l.Credential == "" || l.Server == server {
			continue
		}
		if p, err := loginPath(l.Server, "login"); err != nil || filepath.Base(p) != e.Name() {
			continue // a session of an environment credential, or misplaced
		}
		out = append(out, l.Server)
	}
	slices.Sort(out)
	return out[:min(len(out), 3)]
}

// signIn gives c a session token (see the comment at the top). A session
// taken from the folder may have ended at the vault (signed out
// elsewhere, a credential re-issued): c.resign then signs in anew.
func (c *client) signIn() error {
	cached, err := c.signInWith(false)
	if cached {
		c.resign = func() error {
			c.resign = nil
			_, err := c.signInWith(true)
			return err
		}
	}
	return err
}

// signInWith signs in, from the folder's session unless fresh; it
// reports whether the session came from the folder.
func (c *client) signInWith(fresh bool) (cached bool, err error) {
	server := c.base.String()
	token := os.Getenv("CUSTOS_TOKEN")
	switch {
	case strings.HasPrefix(token, vault.SessionPrefix):
		c.token = secret.New(token)
		return false, nil
	case strings.HasPrefix(token, vault.TokenPrefix):
		sum := sha256.Sum256([]byte(token))
		path, perr := loginPath(server, hex.EncodeToString(sum[:]))
		if perr == nil && !fresh {
			if l, err := readLogin(path); err == nil && l.Session != "" && time.Until(l.Expires) > sessionMargin {
				c.token = secret.New(l.Session)
				return true, nil
			}
		}
		s, err := c.openSession(api.SessionRequest{Credential: token})
		if err != nil {
			return false, signInHint(err)
		}
		c.token = secret.New(s.Token)
		if perr == nil {
			// Best effort: without a cache the next command signs in again.
			writeLogin(path, &storedLogin{Server: server, Kind: "session", Session: s.Token, Expires: s.Expires})
		}
		return false, nil
	case token != "":
		return false, errors.New("CUSTOS_TOKEN is neither a credential (cst_...) nor a session token (css_...)")
	case c.hasCert:
		return false, nil
	}
	path, err := loginPath(server, "login")
	if err != nil {
		return false, fmt.Errorf("not signed in: set CUSTOS_TOKEN, or run custos login (%v)", err)
	}
	l, err := readLogin(path)
	if errors.Is(err, fs.ErrNotExist) {
		msg := fmt.Sprintf("not signed in to %s: run custos login (through the vault's identity provider), custos login --name NAME --invitation (with an invitation from the custodians), or set CUSTOS_TOKEN", server)
		if others := keptLogins(filepath.Dir(path), server); len(others) > 0 {
			msg += fmt.Sprintf(". A login is kept for %s: if the vault moved from there (a new address, or TLS), move it with custos login --moved-from %s", strings.Join(others, " and "), others[0])
		}
		return false, errors.New(msg)
	}
	if err != nil {
		return false, err
	}
	if l.Session != "" && time.Until(l.Expires) > sessionMargin && !fresh {
		c.token = secret.New(l.Session)
		return true, nil
	}
	var s *api.SessionResponse
	switch l.Kind {
	case "local":
		s, err = c.openSession(api.SessionRequest{Credential: l.Credential})
	case "oidc":
		s, err = c.renewOIDC(l)
	default:
		return false, fmt.Errorf("%s: unknown login kind %q; run custos login again", path, l.Kind)
	}
	if err != nil {
		return false, signInHint(err)
	}
	l.Session, l.Expires = s.Token, s.Expires
	if err := writeLogin(path, l); err != nil {
		return false, err
	}
	c.token = secret.New(s.Token)
	return false, nil
}

// signInHint adds what the person can do about a refused sign-in: sign in
// again, unless a custodian must act first.
func signInHint(err error) error {
	msg := err.Error()
	var unreached *unreachableError
	var answered *statusError
	switch {
	case errors.As(err, &unreached):
		return err // the vault was not reached: signing in again changes nothing
	case strings.Contains(msg, " is suspended"):
		return fmt.Errorf("%w: ask a custodian (two custodians reinstate a suspended person)", err)
	case strings.Contains(msg, " was removed"):
		return err
	case strings.Contains(msg, "credential was replaced") || errors.As(err, &answered) && answered.code == http.StatusUnauthorized && answered.msg == signInUnknown:
		if os.Getenv("CUSTOS_TOKEN") != "" {
			return fmt.Errorf("%w: CUSTOS_TOKEN was replaced by a newer invitation (custos person reissue), or it is another vault's (CUSTOS_SERVER and CUSTOS_TOKEN must come from the same .env file; a development vault started afresh writes new ones); use your newest invitation, or ask the custodians for one", err)
		}
		return fmt.Errorf("%w: your credential is no longer valid; ask the custodians for a new invitation (custos person reissue)", err)
	case !errors.As(err, &answered):
		return err // the vault was not reached: signing in again changes nothing
	case isServerError(err):
		return err // the vault (or a proxy before it) cannot sign anyone in now: signing in again changes nothing
	}
	return fmt.Errorf("%w (run custos login)", err)
}

// openSession posts a sign-in (POST /v1/sessions, no bearer token).
func (c *client) openSession(req api.SessionRequest) (*api.SessionResponse, error) {
	var out api.SessionResponse
	if err := c.callAnonymous("POST", "/v1/sessions", req, &out); err != nil {
		var unreached *unreachableError
		if errors.As(err, &unreached) || strings.Contains(err.Error(), "TLS certificate") {
			return nil, err
		}
		return nil, fmt.Errorf("sign-in refused: %w", err)
	}
	return &out, nil
}

// isServerError reports whether err is an answer of status 500 or above.
func isServerError(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code >= 500
}
