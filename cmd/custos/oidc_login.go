package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/custos-vault/custos/internal/signin"
	"github.com/custos-vault/custos/vault/api"
)

// loginScopes are the scopes `custos login` asks the provider for: the
// refresh token (offline_access) lets the client sign in to the vault
// again when its session ends, without the person.
var loginScopes = signin.DefaultScopes

// loginTimeout bounds how long `custos login` waits for the person to
// approve the sign-in at the provider.
const loginTimeout = 10 * time.Minute

// loginOIDC signs in through the vault's OpenID provider: the device
// authorization grant (a URL and a code to enter on any device; no
// browser here needed), or with browser, the authorization code with
// PKCE and a loopback redirect. The provider's tokens are kept in the
// config folder (signin.Cache); the ID token opens the vault session.
func (c *client) loginOIDC(p api.OIDCClient, browser bool, stderr io.Writer) (*storedLogin, error) {
	cfg := signin.Config{Issuer: p.Issuer, ClientID: p.ClientID, Scopes: p.Scopes, HTTPClient: c.http}
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	var t *signin.Tokens
	var err error
	if browser {
		t, err = signin.Loopback(ctx, cfg, stderr, openBrowser)
	} else {
		t, err = signin.Device(ctx, cfg, stderr)
	}
	if err != nil {
		return nil, fmt.Errorf("signing in at %s: %w", p.Issuer, err)
	}
	dir, err := configDir()
	if err != nil {
		return nil, err
	}
	if err := signin.NewCache(dir).Save(c.base.String(), t); err != nil {
		return nil, fmt.Errorf("keeping the provider's tokens: %w", err)
	}
	s, err := c.openSession(api.SessionRequest{IDToken: t.IDToken.Reveal(), AccessToken: t.AccessToken.Reveal()})
	if err != nil {
		return nil, err
	}
	return &storedLogin{Server: c.base.String(), Kind: "oidc", Issuer: p.Issuer, ClientID: p.ClientID, Session: s.Token, Expires: s.Expires}, nil
}

// renewOIDC opens a new vault session with a new ID token, got with the
// provider's refresh token from the config folder: the vault takes an ID
// token once (the custody log records it), and the one kept opened the
// session that ended. A provider that sends no new ID token on a refresh
// needs the person to sign in again.
func (c *client) renewOIDC(l *storedLogin) (*api.SessionResponse, error) {
	dir, err := configDir()
	if err != nil {
		return nil, err
	}
	cache := signin.NewCache(dir)
	old, err := cache.Load(c.base.String())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := signin.Config{Issuer: l.Issuer, ClientID: l.ClientID, Scopes: loginScopes, HTTPClient: c.http}
	t, err := signin.Refresh(ctx, cfg, old)
	if err != nil {
		return nil, fmt.Errorf("renewing the sign-in at %s: %w (run custos login)", l.Issuer, err)
	}
	if err := cache.Save(c.base.String(), t); err != nil {
		return nil, err
	}
	if t.IDToken.Equal(old.IDToken) {
		return nil, errors.New("the identity provider sent no new ID token with the refreshed tokens, and the vault takes each ID token once (run custos login)")
	}
	return c.openSession(api.SessionRequest{IDToken: t.IDToken.Reveal(), AccessToken: t.AccessToken.Reveal()})
}

// forgetOIDC removes the provider's tokens of a server.
func forgetOIDC(server string) {
	if dir, err := configDir(); err == nil {
		signin.NewCache(dir).Delete(server)
	}
}

// openBrowser opens url in the desktop's browser, where there is one.
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && runtime.GOOS == "linux" {
		return fmt.Errorf("no desktop to open a browser in; open the URL above yourself")
	}
	return exec.Command(name, url).Start()
}
