package oidcauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-vault/custos/internal/signin"
	"github.com/custos-vault/custos/internal/testenv"
)

// The provider is real (internal/testenv/oidcprovider); tokens are
// obtained from it with internal/signin, as `custos login` would.

type signedIn struct {
	id, access string
	refresh    *signin.Tokens
}

func loopback(t *testing.T, o *testenv.OIDC, clientID string, u testenv.OIDCUser) signedIn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	browsed := make(chan error, 1)
	open := func(authURL string) error {
		go func() { browsed <- o.CompleteAuthorization(ctx, authURL, u.Name, u.Password) }()
		return nil
	}
	tok, err := signin.Loopback(ctx, signin.Config{Issuer: o.Issuer, ClientID: clientID}, &bytes.Buffer{}, open)
	if err != nil {
		t.Fatalf("Loopback: %v", err)
	}
	if err := <-browsed; err != nil {
		t.Fatalf("browser: %v", err)
	}
	return signedIn{tok.IDToken.Reveal(), tok.AccessToken.Reveal(), tok}
}

// codeOut hands over the user code Device prints.
type codeOut struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
	code chan string
}

var codeRE = regexp.MustCompile(`the code ([A-Z0-9-]+)\.`)

func (w *codeOut) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if m := codeRE.FindStringSubmatch(w.buf.String()); m != nil {
		w.once.Do(func() { w.code <- m[1] })
	}
	return len(p), nil
}

func device(t *testing.T, o *testenv.OIDC, u testenv.OIDCUser) signedIn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &codeOut{code: make(chan string, 1)}
	approved := make(chan error, 1)
	go func() {
		select {
		case c := <-out.code:
			approved <- o.ApproveDevice(ctx, c, u.Name, u.Password)
		case <-ctx.Done():
			approved <- ctx.Err()
		}
	}()
	tok, err := signin.Device(ctx, signin.Config{Issuer: o.Issuer, ClientID: o.ClientID}, out)
	if aerr := <-approved; aerr != nil {
		t.Fatalf("approving: %v", aerr)
	}
	if err != nil {
		t.Fatalf("Device: %v", err)
	}
	return signedIn{tok.IDToken.Reveal(), tok.AccessToken.Reveal(), tok}
}

func newVerifier(t *testing.T, o *testenv.OIDC, claim string, now func() time.Time) *Verifier {
	t.Helper()
	v, err := New(context.Background(), Config{Issuer: o.Issuer, ClientID: o.ClientID, Claim: claim, Now: now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

// noTokenIn fails if err's text holds a piece of a token.
func noTokenIn(t *testing.T, err error, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		for _, part := range strings.Split(tok, ".") {
			if len(part) >= 8 && strings.Contains(err.Error(), part) {
				t.Fatalf("the error quotes a token: %v", err)
			}
		}
	}
}

func TestVerifyNames(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx := context.Background()
	flows := map[string]signedIn{
		"device":   device(t, o, o.User),
		"loopback": loopback(t, o, o.ClientID, o.User),
	}
	want := map[string]string{
		ClaimSub:               o.User.Subject,
		"":                     o.User.Subject,
		ClaimEmail:             o.User.Email,
		ClaimPreferredUsername: o.User.Name,
	}
	for flow, s := range flows {
		for claim, name := range want {
			v := newVerifier(t, o, claim, nil)
			id, err := v.Verify(ctx, s.id, s.access)
			if err != nil {
				t.Fatalf("%s, claim %q: %v", flow, claim, err)
			}
			if id.Name != name || id.Subject != o.User.Subject || id.Issuer != o.Issuer || id.ClientID != o.ClientID {
				t.Fatalf("%s, claim %q: %+v, want name %q", flow, claim, id, name)
			}
			if time.Until(id.Expiry) < 50*time.Minute {
				t.Fatalf("%s: expiry %v", flow, id.Expiry)
			}
		}
	}

	// Names come from the ID token, which the provider's key signs, with
	// or without the access token; a client whose ID tokens carry none
	// (they come from the userinfo endpoint, whose answer is not signed)
	// signs people in by sub alone.
	s := flows["loopback"]
	if id, err := newVerifier(t, o, ClaimEmail, nil).Verify(ctx, s.id, ""); err != nil || id.Name != o.User.Email {
		t.Fatalf("email without the access token: %+v %v", id, err)
	}
	u := loopback(t, o, o.UserInfoClientID, o.User)
	for _, claim := range []string{ClaimEmail, ClaimPreferredUsername} {
		v, err := New(ctx, Config{Issuer: o.Issuer, ClientID: o.UserInfoClientID, Claim: claim})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(ctx, u.id, u.access)
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "has no "+claim+" claim") {
			t.Fatalf("%s from the userinfo endpoint alone: %v", claim, err)
		}
	}
	v, err := New(ctx, Config{Issuer: o.Issuer, ClientID: o.UserInfoClientID})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Verify(ctx, u.id, u.access); err != nil || id.Name != o.User.Subject {
		t.Fatalf("sub, from a client whose ID tokens carry no names: %+v %v", id, err)
	}
}

func TestVerifyRefreshed(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	s := loopback(t, o, o.ClientID, o.MFAUser)
	next, err := signin.Refresh(context.Background(), signin.Config{Issuer: o.Issuer, ClientID: o.ClientID}, s.refresh)
	if err != nil {
		t.Fatal(err)
	}
	if next.IDToken.Reveal() == s.id {
		t.Fatal("refresh gave the same ID token")
	}
	id, err := newVerifier(t, o, ClaimEmail, nil).Verify(context.Background(), next.IDToken.Reveal(), next.AccessToken.Reveal())
	if err != nil {
		t.Fatalf("refreshed tokens: %v", err)
	}
	if id.Name != o.MFAUser.Email || !id.Satisfies("", "mfa") {
		t.Fatalf("refreshed identity %+v", id)
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx := context.Background()
	s := loopback(t, o, o.ClientID, o.User)
	v := newVerifier(t, o, ClaimSub, nil)
	if _, err := v.Verify(ctx, s.id, s.access); err != nil {
		t.Fatalf("the untouched token: %v", err)
	}
	parts := strings.Split(s.id, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token has %d parts", len(parts))
	}

	// Another subject, signature kept.
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = o.MFAUser.Subject
	forged, _ := json.Marshal(claims)
	otherSub := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	// A signature bit flipped.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 1
	badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	// alg none, no signature.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."

	other := loopback(t, o, o.OtherClientID, o.User)
	mfa := loopback(t, o, o.ClientID, o.MFAUser)

	cases := []struct {
		name, id, access string
		expired          bool
	}{
		{"payload changed", otherSub, s.access, false},
		{"signature changed", badSig, s.access, false},
		{"unsigned", none, "", false},
		{"not a JWT", "not-a-token", "", false},
		{"empty", "", "", false},
		{"another audience", other.id, other.access, false},
		{"another person's access token", s.id, mfa.access, false},
		{"too long", strings.Repeat("a", maxToken+1), "", false},
	}
	for _, c := range cases {
		_, err := v.Verify(ctx, c.id, c.access)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want a refusal", c.name, err)
			continue
		}
		noTokenIn(t, err, s.id, s.access, other.id, mfa.access)
	}

	// An hour and a minute later (ID tokens last an hour) it is expired.
	later := newVerifier(t, o, ClaimSub, func() time.Time { return time.Now().Add(61 * time.Minute) })
	_, err = later.Verify(ctx, s.id, s.access)
	if !errors.Is(err, ErrExpired) || !errors.Is(err, ErrRefused) {
		t.Fatalf("expired token: %v", err)
	}
	noTokenIn(t, err, s.id)

	// The other client's verifier accepts the other client's token.
	vo, err := New(ctx, Config{Issuer: o.Issuer, ClientID: o.OtherClientID})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := vo.Verify(ctx, other.id, other.access); err != nil || id.ClientID != o.OtherClientID {
		t.Fatalf("the other client's own token: %+v, %v", id, err)
	}
}

func TestUnverifiedEmailRefused(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx := context.Background()
	s := loopback(t, o, o.ClientID, o.UnverifiedUser)
	// This provider leaves email_verified out when it is false (the
	// library's omitempty): an email the token does not say is verified
	// is refused, whatever the discovery document lists.
	_, err := newVerifier(t, o, ClaimEmail, nil).Verify(ctx, s.id, s.access)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "verified the email address") {
		t.Fatalf("unverified email: %v", err)
	}
	id, err := newVerifier(t, o, ClaimPreferredUsername, nil).Verify(ctx, s.id, s.access)
	if err != nil || id.Name != o.UnverifiedUser.Name {
		t.Fatalf("the same person by preferred_username: %+v, %v", id, err)
	}
}

func TestMFA(t *testing.T) {
	t.Parallel()
	o := testenv.StartOIDC(t)
	ctx := context.Background()
	v := newVerifier(t, o, ClaimPreferredUsername, nil)
	for _, c := range []struct {
		how string
		s   signedIn
		u   testenv.OIDCUser
	}{
		{"loopback", loopback(t, o, o.ClientID, o.MFAUser), o.MFAUser},
		{"device", device(t, o, o.MFAUser), o.MFAUser},
		{"loopback", loopback(t, o, o.ClientID, o.User), o.User},
	} {
		id, err := v.Verify(ctx, c.s.id, c.s.access)
		if err != nil {
			t.Fatalf("%s %s: %v", c.how, c.u.Name, err)
		}
		if got := id.Satisfies("", "mfa"); got != c.u.MFA {
			t.Fatalf("%s %s (amr %v): Satisfies(mfa) = %v", c.how, c.u.Name, id.AMR, got)
		}
		if !slices.Contains(id.AMR, "pwd") {
			t.Fatalf("%s %s: amr %v lacks pwd", c.how, c.u.Name, id.AMR)
		}
		// This provider issues no acr: an acr requirement alone is not met.
		if id.ACR != "" || id.Satisfies("urn:custos:mfa", "") || !id.Satisfies("", "") {
			t.Fatalf("%s %s: acr %q", c.how, c.u.Name, id.ACR)
		}
	}
}

func TestSatisfies(t *testing.T) {
	phr := Identity{ACR: "phr", AMR: []string{"hwk"}}
	pwd := Identity{AMR: []string{"pwd"}}
	for _, c := range []struct {
		id       Identity
		acr, amr string
		want     bool
	}{
		{phr, "phr", "", true},
		{phr, "", "hwk", true},
		{phr, "phr", "mfa", true},
		{phr, "urn:custos:mfa", "mfa", false},
		{phr, "", "", true},
		{pwd, "", "mfa", false},
		{pwd, "phr", "", false},
		{pwd, "", "pwd", true},
		{Identity{}, "", "", true},
		{Identity{}, "", "mfa", false},
	} {
		if got := c.id.Satisfies(c.acr, c.amr); got != c.want {
			t.Errorf("%+v.Satisfies(%q, %q) = %v", c.id, c.acr, c.amr, got)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []Config{
		{Issuer: "http://idp.example.org/", ClientID: "x"},
		{Issuer: "https://idp.example.org/", ClientID: ""},
		{Issuer: "https://idp.example.org/", ClientID: "x", Claim: "name"},
	} {
		if _, err := New(ctx, c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
	o := testenv.StartOIDC(t)
	if _, err := New(ctx, Config{Issuer: strings.TrimSuffix(o.Issuer, "/"), ClientID: o.ClientID}); err == nil {
		t.Error("New accepted the issuer without its trailing slash")
	}
}

func FuzzClaims(f *testing.F) {
	f.Add([]byte(`{"sub":"1","amr":["pwd","mfa"],"acr":"phr","email":"a@b","email_verified":true,"preferred_username":"a"}`))
	f.Add([]byte(`{"sub":"1","amr":"pwd","email":"a@b","email_verified":"false"}`))
	f.Add([]byte(`{"sub":"1","amr":null,"email_verified":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c idClaims
		if json.Unmarshal(b, &c) != nil {
			return
		}
		for _, claim := range []string{ClaimSub, ClaimEmail, ClaimPreferredUsername} {
			v := &Verifier{cfg: Config{Claim: claim}}
			name, found, err := v.name(c.names)
			if err != nil && (found || name != "") {
				t.Fatal("a refusal also gave a name")
			}
			if found && name == "" {
				t.Fatal("found an empty name")
			}
			if claim == ClaimEmail && found && (c.EmailVerified == nil || !bool(*c.EmailVerified)) {
				t.Fatal("accepted an email the token does not say is verified")
			}
		}
		id := Identity{ACR: c.ACR, AMR: c.AMR}
		if id.Satisfies("", "mfa") != slices.Contains(c.AMR, "mfa") {
			t.Fatal("Satisfies disagrees with the amr list")
		}
	})
}
