package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
)

// Cookie names. Over HTTPS the cookies take the __Host- prefix: the
// browser then keeps them only if they are Secure, host-only and for /,
// so that no other host (a sibling under the same parent domain) and no
// plain-HTTP answer can plant one; and only the prefixed names are read.
const (
	cookieName           = "custos_session"
	secureCookieName     = "__Host-custos_session"
	oidcCookieName       = "custos_oidc"
	secureOIDCCookieName = "__Host-custos_oidc"
	noticeCookieName     = "custos_done"
	secureNoticeName     = "__Host-custos_done"
)

// cookie is a cookie of the web application: HttpOnly, SameSite (Strict
// unless said), and over TLS Secure, __Host- named (secureName) and for
// Path=/. Without maxAge it ends with the browser.
func cookie(secure bool, name, secureName, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteStrictMode}
	if secure {
		c.Name, c.Secure = secureName, true
	}
	return c
}

// cookieValue is the value of the request's cookie of that name (the
// __Host- one over TLS), or "".
func cookieValue(r *http.Request, secure bool, name, secureName string) string {
	if secure {
		name = secureName
	}
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

// sessionToken is the vault session token the request's cookie carries,
// or "".
func (h *Handler) sessionToken(r *http.Request) string {
	return cookieValue(r, h.opts.TLS, cookieName, secureCookieName)
}

// setSessionCookie keeps the vault's own session token in the browser
// until the browser is closed (the vault ends the session itself when it
// expires); it is revealed from its secret type only into the cookie of
// the person who just signed in.
func setSessionCookie(w http.ResponseWriter, secure bool, s *vault.Session) {
	http.SetCookie(w, cookie(secure, cookieName, secureCookieName, s.Token.Reveal(), 0))
}

func clearSessionCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, cookie(secure, cookieName, secureCookieName, "", -1))
}

// csrfToken is the CSRF token of who's sign-in: an HMAC, under a key made
// at the server's start, of the session (or, for a client certificate, of
// the certificate's fingerprint). It changes with every session, and a
// restart invalidates open forms.
func (h *Handler) csrfToken(who vault.Principal) string {
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte("custos web csrf\x00" + who.Name + "\x00" + who.Credential.Auth + "\x00" + who.Credential.Session + "\x00" + who.Credential.Certificate))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks the form field csrf, or the header X-Custos-CSRF of a
// page script's request, in constant time.
func (h *Handler) validCSRF(r *http.Request, s *session) bool {
	got := r.Header.Get("X-Custos-CSRF")
	if got == "" {
		// Only a urlencoded form is parsed here (bounded); an upload's body
		// is never read for its token.
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
			if r.ParseForm() == nil {
				got = r.PostForm.Get("csrf")
			}
		}
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

type signInData struct {
	Next string
	// Ended is why the browser's session no longer signs it in, as the
	// page says it ("" when it came to sign in otherwise).
	Ended           string
	Local           bool
	OIDC            bool
	Certificates    bool
	Failed          string
	SignedInAlready *vault.Principal
}

// endedBecause is why a session no longer signs its browser in, as the
// sign-in page's ended parameter carries it: a word from a fixed list,
// never the refusal's text, so that a link cannot make the page say
// anything else. A session that was ended (a sign-out, a suspension or
// removal, a re-issued credential) is gone from the vault's state, so
// "ended" cannot say which.
func endedBecause(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "session expired"):
		return "expired"
	case strings.Contains(msg, "sign in again") || strings.Contains(msg, "no longer signs people in") || strings.Contains(msg, "sign in the way it now allows"):
		return "changed"
	}
	return "ended"
}

// endedText is what the sign-in page says of an ended session, from its
// ended parameter (endedBecause); "" for none, and the plain "ended" for
// a word not on the list.
func endedText(c *catalog, why string) string {
	switch why {
	case "":
		return ""
	case "expired":
		return c.text("signin.ended.expired")
	case "changed":
		return c.text("signin.ended.changed")
	}
	return c.text("signin.ended")
}

// safeNext keeps a post-sign-in destination inside the web application.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, Prefix) {
		return Prefix
	}
	return next
}

func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.signInForm(w, r, http.StatusOK, "")
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request, code int, failed string) {
	cfg := h.api.SignIn()
	d := signInData{Next: safeNext(r.FormValue("next")), Ended: endedText(defaultCatalog, r.URL.Query().Get("ended")),
		Local: cfg.Local, OIDC: cfg.OIDC != nil, Certificates: cfg.ClientCertificates, Failed: failed}
	var s *session
	if who, err := h.api.Authenticate(r, h.sessionToken(r)); err == nil {
		d.SignedInAlready = &who
		s = h.sessionOf(r, who)
	}
	if err := h.render(w, r, s, code, "signin", "", d); err != nil {
		h.log.Error("rendering the sign-in page", "err", err)
	}
}

// signInLocal signs a person in with their local credential. A refusal is
// rate-limited and recorded (aggregated) exactly as the API's.
func (h *Handler) signInLocal(w http.ResponseWriter, r *http.Request) {
	if h.throttled(w, r, "session.open") {
		return
	}
	if err := form(w, r); err != nil {
		h.signInForm(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	cred := strings.TrimSpace(r.PostForm.Get("credential"))
	if cred == "" {
		h.signInForm(w, r, http.StatusBadRequest, "Enter your credential.")
		return
	}
	s, err := h.v.OpenSession(r.Context(), cred)
	if err != nil {
		if nerr := h.api.NoteUnauthenticated(r, "session.open", "", err); nerr != nil {
			h.log.Error("recording a refused sign-in", "err", nerr)
		}
		code, msg := h.api.Message(r, err)
		var inactive *vault.InactiveError
		switch {
		case errors.As(err, &inactive) && inactive.Who.Name != "":
			// Said as the command line says it: the credential is
			// theirs, and what to do about it.
			msg = fmt.Sprintf("The credential is %s's, who may not sign in: %s.", inactive.Who.Name, inactiveReason(inactive))
		case code == http.StatusUnauthorized:
			msg = "That credential was not accepted."
		}
		h.signInForm(w, r, code, msg)
		return
	}
	h.endEarlierSession(r)
	setSessionCookie(w, h.opts.TLS, s)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

// inactiveReason says why a person may not sign in, and what can be done.
func inactiveReason(e *vault.InactiveError) string {
	msg := strings.TrimLeft(strings.TrimPrefix(e.Error(), vault.ErrUnauthenticated.Error()), ": ")
	if strings.Contains(msg, "suspended") {
		return msg + "; ask a custodian (two custodians reinstate a suspended person)"
	}
	return msg + "; removal is for good"
}

// endEarlierSession ends the session the browser held before a new
// sign-in replaces its cookie, as signing out would: a browser holds one
// session, and a token copied from it does not outlive it.
func (h *Handler) endEarlierSession(r *http.Request) {
	token := h.sessionToken(r)
	if token == "" {
		return
	}
	if who, err := h.v.Authenticate(token); err == nil {
		if err := h.v.EndSession(r.Context(), who); err != nil {
			h.log.Warn("ending the earlier session of a browser that signed in again", "err", err)
		}
	}
}

// endFlowSession ends the session the browser held when it started an
// OpenID sign-in that has now opened a new one (oidcFlow.earlier).
func (h *Handler) endFlowSession(r *http.Request, fl oidcFlow) {
	if fl.earlier == nil {
		return
	}
	if err := h.v.EndSession(r.Context(), *fl.earlier); err != nil && !errors.Is(err, vault.ErrUnauthenticated) {
		h.log.Warn("ending the earlier session of a browser that signed in again", "err", err)
	}
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	if s.who.Credential.Session != "" {
		if err := h.v.EndSession(r.Context(), s.who); err != nil {
			return err
		}
	}
	clearSessionCookie(w, h.opts.TLS)
	h.redirectDone(w, r, Prefix+"sign-in", "signed-out")
	return nil
}

// oidcFlows are the authorisation code flows in progress: at most
// maxFlows, each for ten minutes, keyed by their state.
type oidcFlows struct {
	client *http.Client
	mu     sync.Mutex
	flows  map[string]oidcFlow
	prov   *oidc.Provider
	issuer string
}

type oidcFlow struct {
	verifier, nonce, next string
	// source is the client address that started it: one address holds
	// at most maxFlowsPerSource of the table.
	source  string
	binding [32]byte
	until   time.Time
	// earlier is the session the browser held when it started the flow
	// (nil if none), ended when the new one opens: the provider's
	// redirect back is a cross-site navigation, which does not carry the
	// SameSite=Strict session cookie.
	earlier *vault.Principal
}

const (
	maxFlows          = 1000
	maxFlowsPerSource = 10
)

func newOIDCFlows(c *http.Client) *oidcFlows {
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	return &oidcFlows{client: c, flows: map[string]oidcFlow{}}
}

func (f *oidcFlows) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prov != nil && f.issuer == issuer {
		return f.prov, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, f.client), issuer)
	if err != nil {
		return nil, err
	}
	f.prov, f.issuer = p, issuer
	return p, nil
}

func (f *oidcFlows) put(state string, fl oidcFlow, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.flows {
		if now.After(v.until) {
			delete(f.flows, k)
		}
	}
	if len(f.flows) >= maxFlows {
		return false
	}
	n := 0
	for _, v := range f.flows {
		if v.source == fl.source {
			n++
		}
	}
	if n >= maxFlowsPerSource {
		return false
	}
	f.flows[state] = fl
	return true
}

func (f *oidcFlows) take(state string, now time.Time) (oidcFlow, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl, ok := f.flows[state]
	delete(f.flows, state)
	return fl, ok && now.Before(fl.until)
}

func randomText() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (h *Handler) oauthConfig(r *http.Request) (*oauth2.Config, *oidc.Provider, error) {
	cfg := h.api.SignIn().OIDC
	if cfg == nil {
		return nil, nil, vault.ErrNotFound
	}
	p, err := h.oidc.provider(oidc.ClientContext(r.Context(), h.oidc.client), cfg.Issuer)
	if err != nil {
		return nil, nil, err
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail}
	}
	return &oauth2.Config{ClientID: cfg.ClientID, Endpoint: p.Endpoint(), Scopes: scopes,
		RedirectURL: strings.TrimRight(h.opts.BaseURL, "/") + Prefix + "sign-in/oidc/callback"}, p, nil
}

// signInOIDC starts the authorisation code flow with PKCE (RFC 7636) and
// a nonce; the state is bound to this browser by a cookie.
func (h *Handler) signInOIDC(w http.ResponseWriter, r *http.Request) {
	if h.throttled(w, r, "session.open") {
		return
	}
	if crossSite(r) {
		// Another site's link would sign the browser in (to whatever
		// account it holds at the provider) without the person asking
		// here: the sign-in page is shown, and its button starts it.
		h.signInForm(w, r, http.StatusOK, "")
		return
	}
	oc, _, err := h.oauthConfig(r)
	if err != nil {
		h.log.Warn("the identity provider could not be reached", "err", err)
		h.signInForm(w, r, http.StatusServiceUnavailable, "Sign-in through the identity provider is not available now.")
		return
	}
	state, binding := randomText(), randomText()
	fl := oidcFlow{verifier: oauth2.GenerateVerifier(), nonce: randomText(), next: safeNext(r.URL.Query().Get("next")), source: clientIP(r),
		binding: sha256.Sum256([]byte(binding)), until: h.opts.Now().Add(10 * time.Minute)}
	if token := h.sessionToken(r); token != "" {
		if who, err := h.v.Authenticate(token); err == nil && who.Credential.Session != "" {
			fl.earlier = &who
		}
	}
	if !h.oidc.put(state, fl, h.opts.Now()) {
		h.errorPage(w, r, nil, http.StatusTooManyRequests, "Too many sign-ins are in progress; try again in a few minutes.")
		return
	}
	// Lax: the provider's redirect back is a cross-site navigation.
	bc := cookie(h.opts.TLS, oidcCookieName, secureOIDCCookieName, binding, 600)
	bc.SameSite = http.SameSiteLaxMode
	http.SetCookie(w, bc)
	http.Redirect(w, r, oc.AuthCodeURL(state, oauth2.S256ChallengeOption(fl.verifier), oidc.Nonce(fl.nonce)), http.StatusSeeOther)
}

// oidcCallback finishes the flow: the code is exchanged with the PKCE
// verifier, the ID token's signature, audience and nonce are checked here,
// and the vault then verifies it as it verifies the CLI's (its claim and
// second-factor rules) before opening a session.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if h.throttled(w, r, "session.open") {
		return
	}
	q := r.URL.Query()
	fl, ok := h.oidc.take(q.Get("state"), h.opts.Now())
	boundTo := cookieValue(r, h.opts.TLS, oidcCookieName, secureOIDCCookieName)
	http.SetCookie(w, cookie(h.opts.TLS, oidcCookieName, secureOIDCCookieName, "", -1))
	refuse := func(reason string, err error) {
		if err != nil {
			h.log.Info("an OpenID sign-in was refused", "reason", reason, "err", err, "source", clientIP(r))
		}
		if nerr := h.api.NoteUnauthenticated(r, "session.open", "", errReason(reason)); nerr != nil {
			h.log.Error("recording a refused sign-in", "err", nerr)
		}
		h.signInForm(w, r, http.StatusUnauthorized, "The sign-in was not accepted: "+reason+".")
	}
	if !ok || boundTo == "" {
		refuse("the sign-in expired or was started in another browser", nil)
		return
	}
	b := sha256.Sum256([]byte(boundTo))
	if subtle.ConstantTimeCompare(b[:], fl.binding[:]) != 1 {
		refuse("the sign-in was started in another browser", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		refuse("the identity provider refused it", nil)
		return
	}
	oc, p, err := h.oauthConfig(r)
	if err != nil {
		refuse("the identity provider could not be reached", err)
		return
	}
	ctx := oidc.ClientContext(r.Context(), h.oidc.client)
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(fl.verifier))
	if err != nil {
		refuse("the code could not be exchanged", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: oc.ClientID}).Verify(ctx, raw)
	if err != nil {
		refuse("the ID token was not valid", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(fl.nonce)) != 1 {
		refuse("the ID token was not for this sign-in", nil)
		return
	}
	id, err := h.api.VerifyIDToken(r, raw, tok.AccessToken)
	if err != nil {
		refuse("the ID token was not accepted", nil)
		return
	}
	s, err := h.v.OpenExternalSession(r.Context(), id)
	if err != nil {
		if nerr := h.api.NoteUnauthenticated(r, "session.open", "", err); nerr != nil {
			h.log.Error("recording a refused sign-in", "err", nerr)
		}
		code, msg := h.api.Message(r, err)
		h.signInForm(w, r, code, msg)
		return
	}
	h.endFlowSession(r, fl)
	h.endEarlierSession(r)
	setSessionCookie(w, h.opts.TLS, s)
	// Not a redirect: a navigation that began at the provider is a
	// cross-site one all along its redirects, and the browser would not
	// send the SameSite=Strict cookie just set. This page of the vault
	// moves on by itself (and offers a link), as a same-site navigation.
	sess := h.sessionOf(r, vault.Principal{Name: s.Name, Role: s.Role, Credential: vault.Credential{Auth: s.Auth, Session: s.ID, Expires: s.Expires}})
	if err := h.render(w, r, sess, http.StatusOK, "continue", sess.lang.text("signin.done"), fl.next); err != nil {
		h.log.Error("rendering the sign-in page", "err", err)
	}
}

type reasonError string

func (e reasonError) Error() string { return string(e) }
func (e reasonError) Unwrap() error { return vault.ErrUnauthenticated }

func errReason(s string) error { return reasonError("unauthenticated: " + s) }

func clientIP(r *http.Request) string { return api.ClientIP(r) }

type redeemData struct {
	Name   string
	Failed string
	// Credential is the new person's own credential, shown this once.
	Credential string
}

// redeemPage is where a newly enrolled person exchanges the two halves of
// their invitation (one from each custodian) for their own credential.
func (h *Handler) redeemPage(w http.ResponseWriter, r *http.Request) {
	if err := h.render(w, r, nil, http.StatusOK, "redeem", pickCatalog(r).text("redeem.title"), redeemData{}); err != nil {
		h.log.Error("rendering the invitation page", "err", err)
	}
}

// redeem redeems an invitation as POST /v1/invitations/redeem does
// (rate-limited, a refusal recorded), shows the credential once, and
// signs the person in with it.
func (h *Handler) redeem(w http.ResponseWriter, r *http.Request) {
	lang := pickCatalog(r)
	if h.throttled(w, r, "invitation.redeem") {
		return
	}
	fail := func(code int, msg string, d redeemData) {
		d.Failed = msg
		if err := h.render(w, r, nil, code, "redeem", lang.text("redeem.title"), d); err != nil {
			h.log.Error("rendering the invitation page", "err", err)
		}
	}
	if err := form(w, r); err != nil {
		fail(http.StatusBadRequest, "The form could not be read.", redeemData{})
		return
	}
	d := redeemData{Name: strings.TrimSpace(r.PostForm.Get("name"))}
	halves := []string{strings.TrimSpace(r.PostForm.Get("first")), strings.TrimSpace(r.PostForm.Get("second"))}
	cred, err := h.v.RedeemInvitation(r.Context(), d.Name, halves)
	if err != nil {
		if nerr := h.api.NoteUnauthenticated(r, "invitation.redeem", "", err); nerr != nil {
			h.log.Error("recording a refused invitation", "err", nerr)
		}
		code, msg := h.api.Message(r, err)
		if code == http.StatusUnauthorized {
			msg = "That name and those two halves were not accepted. Check them with the custodians who gave them to you; each invitation works once, and only until it expires."
		}
		fail(code, msg, d)
		return
	}
	s, err := h.v.OpenSession(r.Context(), cred.Reveal())
	if err == nil {
		h.endEarlierSession(r)
		setSessionCookie(w, h.opts.TLS, s)
	}
	// Revealed from its secret type only here, to the person redeeming.
	d.Credential = cred.Reveal()
	var sess *session
	if err == nil {
		who, _ := h.v.Authenticate(s.Token.Reveal())
		sess = h.sessionOf(r, who)
	}
	if err := h.render(w, r, sess, http.StatusOK, "redeem", lang.text("redeem.title"), d); err != nil {
		h.log.Error("rendering the invitation page", "err", err)
	}
}
