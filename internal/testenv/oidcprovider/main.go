// Command oidcprovider is a real OpenID provider for tests: the example
// provider of github.com/zitadel/oidc/v3 (its in-memory storage, its
// login and device-login pages, its OpenID and OAuth endpoints) with the
// clients and users Custos's tests need. It is not a mock: discovery,
// signed ID tokens, JWKS, userinfo, the device grant, code + PKCE and
// refresh tokens are the library's own.
//
// Usage:
//
//	oidcprovider -listen 127.0.0.1:PORT [-device-interval 5s]
//
// It listens on the loopback address given (port 0 picks a free port)
// and, once serving, prints one line to stdout:
//
//	issuer http://127.0.0.1:PORT/
//
// The issuer ends with a slash; relying parties must use it exactly.
// SIGTERM or SIGINT stops it. Its log (warnings and errors only) goes to
// stderr.
//
// # Clients
//
// Three public clients (no secret), identical but for their ids, so that a
// test can obtain a token for another audience, and but for where names
// are:
//
//   - custos-cli: ID tokens carry the claims of the scopes asked for
//     (profile: preferred_username; email: email, email_verified), as
//     providers do when told to put them in ID tokens
//   - custos-other: the same, for another audience
//   - custos-userinfo: ID tokens issued with an access token carry no
//     names (the example's default): they come from the userinfo endpoint
//
// Each may use the device authorization grant (RFC 8628), the
// authorization code grant with PKCE S256 and a loopback redirect URI
// http://127.0.0.1:ANY-PORT/callback (RFC 8252 §7.3; localhost and [::1]
// match too) or, for the vault's web application,
// http://127.0.0.1:ANY-PORT/app/sign-in/oidc/callback, and refresh tokens when offline_access is requested. Access
// tokens are opaque; ID tokens last an hour, access tokens five minutes.
//
// # Users
//
//	user   password         sub   email                      email_verified  amr
//	alice  alice-password   1001  alice@custos.example.org   true            pwd otp mfa
//	bob    bob-password     1002  bob@custos.example.org     true            pwd
//	carol  carol-password   1003  carol@custos.example.org   false           pwd
//
// The login pages ask only for a password. Alice stands for a person
// whose sign-in uses a second factor: every ID token issued to her (code
// flow, device flow, refresh) carries amr ["pwd","otp","mfa"] (RFC 8176),
// the others ["pwd"]. No acr is issued (the example storage has none, and
// the library puts acr only in ID tokens of the code flow).
//
// For custos-userinfo, as in the example, ID tokens that come with an
// access token hold only iss, sub, aud, exp, iat, azp, at_hash (and amr,
// auth_time); names and email come from the userinfo endpoint with the
// access token.
//
// # Key rotation
//
// SIGHUP rotates the signing key as providers do: a new RSA key signs
// every token from then on, and the provider's keys (jwks_uri) serve it
// beside every earlier one. The example has one key for its life.
//
// # Changes to the example
//
// The example registers no client allowed the device grant, and its
// device-login page records the user name where its storage expects the
// user id; this program wraps the example storage to fix both, to put
// the amr above into ID tokens, and to give refresh tokens from the
// device grant their client. -device-interval rewrites the polling
// interval the device authorization response advertises (the example's
// is 5 seconds, which slows tests); the provider itself enforces no
// interval.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Client ids and the loopback redirect URI registered for them.
const (
	clientID         = "custos-cli"
	otherClientID    = "custos-other"
	userInfoClientID = "custos-userinfo"
	redirectURI      = "http://127.0.0.1/callback"
	// webRedirectURI is the vault web application's (vault/web), on a
	// loopback vault of any port.
	webRedirectURI = "http://127.0.0.1/app/sign-in/oidc/callback"
)

// amrMFA is what an ID token of a user who signs in with a second factor
// carries; amrPassword is everyone else's.
var (
	amrMFA      = []string{"pwd", "otp", "mfa"}
	amrPassword = []string{"pwd"}
)

type user struct {
	storage.User
	mfa bool
}

var users = []user{
	{User: storage.User{ID: "1001", Username: "alice", Password: "alice-password",
		FirstName: "Alice", LastName: "Example", Email: "alice@custos.example.org", EmailVerified: true}, mfa: true},
	{User: storage.User{ID: "1002", Username: "bob", Password: "bob-password",
		FirstName: "Bob", LastName: "Example", Email: "bob@custos.example.org", EmailVerified: true}},
	{User: storage.User{ID: "1003", Username: "carol", Password: "carol-password",
		FirstName: "Carol", LastName: "Example", Email: "carol@custos.example.org", EmailVerified: false}},
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback `address` to listen on (HOST:PORT; port 0 picks one)")
	interval := flag.Duration("device-interval", 5*time.Second, "polling `interval` the device authorization response advertises (whole seconds, at least 1s)")
	flag.Parse()
	if err := run(*listen, *interval); err != nil {
		fmt.Fprintf(os.Stderr, "oidcprovider: error: %v\n", err)
		os.Exit(1)
	}
}

func run(listen string, interval time.Duration) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen: %q is not a loopback IP address: this provider is for tests only", host)
	}
	if interval < time.Second || interval%time.Second != 0 {
		return fmt.Errorf("-device-interval: %v is not a whole number of seconds of at least 1", interval)
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	issuer := "http://" + l.Addr().String() + "/"

	clients := map[string]*storage.Client{
		clientID:      storage.NativeClient(clientID, redirectURI, webRedirectURI),
		otherClientID: storage.NativeClient(otherClientID, redirectURI, webRedirectURI),
		// (names from the userinfo endpoint alone: cliClient)
		userInfoClientID: storage.NativeClient(userInfoClientID, redirectURI, webRedirectURI),
	}
	us := userStore{}
	for i := range users {
		us[users[i].ID] = &users[i]
	}
	st := &store{Storage: storage.NewStorageWithClients(us, clients), users: us}
	if err := st.rotate(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := exampleop.SetupServer(issuer, st, logger, false)

	srv := &http.Server{
		Handler:           deviceInterval(router, int(interval/time.Second)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	fmt.Printf("issuer %s\n", issuer)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
wait:
	for {
		select {
		case err := <-done:
			return err
		case <-hup:
			if err := st.rotate(); err != nil {
				return err
			}
		case <-sig:
			break wait
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// userStore implements the example's storage.UserStore over users.
type userStore map[string]*user

func (u userStore) GetUserByID(id string) *storage.User {
	if x := u[id]; x != nil {
		return &x.User
	}
	return nil
}

func (u userStore) GetUserByUsername(name string) *storage.User {
	if x := u.byName(name); x != nil {
		return &x.User
	}
	return nil
}

func (u userStore) byName(name string) *user {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}

// ExampleClientID names the example's JWT-profile service user.
func (u userStore) ExampleClientID() string { return storage.ServiceUserID }

// amr is what ID tokens issued to the user with this id carry.
func (u userStore) amr(id string) []string {
	if x := u[id]; x != nil && x.mfa {
		return amrMFA
	}
	return amrPassword
}

// store is the example storage with the changes the package comment
// lists.
type store struct {
	*storage.Storage
	users userStore

	mu   sync.Mutex
	keys []*rsaKey // the last one signs
}

// rsaKey is one signing key, as op.SigningKey and op.Key.
type rsaKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *rsaKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *rsaKey) ID() string                                  { return k.id }
func (k *rsaKey) Use() string                                 { return "sig" }

// signing is the key as op.SigningKey (its private half).
type signing struct{ *rsaKey }

func (k signing) Key() any { return k.key }

// public is the key as op.Key (its public half).
type public struct{ *rsaKey }

func (k public) Key() any { return &k.key.PublicKey }

// rotate makes a new key the signing one; the earlier ones stay served.
func (s *store) rotate() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, &rsaKey{id: fmt.Sprintf("key-%d", len(s.keys)+1), key: key})
	return nil
}

func (s *store) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signing{s.keys[len(s.keys)-1]}, nil
}

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *store) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]op.Key, len(s.keys))
	for i, k := range s.keys {
		out[i] = public{k}
	}
	return out, nil
}

// cliClient adds the device grant to the example's native client, and
// (but for custos-userinfo) names in its ID tokens.
type cliClient struct{ op.Client }

func (c cliClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode}
}

func (c cliClient) IDTokenUserinfoClaimsAssertion() bool { return c.GetID() != userInfoClientID }

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return cliClient{c}, nil
}

// authRequest is a code-flow request with the user's amr.
type authRequest struct {
	op.AuthRequest
	amr []string
}

func (a authRequest) GetAMR() []string { return a.amr }

func (s *store) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return authRequest{r, s.users.amr(r.GetSubject())}, nil
}

// refreshRequest is a refresh-token request with the user's amr.
type refreshRequest struct {
	op.RefreshTokenRequest
	amr []string
}

func (r refreshRequest) GetAMR() []string { return r.amr }

func (s *store) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	r, err := s.Storage.TokenRequestByRefreshToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return refreshRequest{r, s.users.amr(r.GetSubject())}, nil
}

// unwrap gives the example storage the request types it recognises: its
// own, and for the device grant an AuthRequest carrying the client, the
// user and the scopes (without it, the refresh token would have no
// client and could not be used).
func unwrap(r op.TokenRequest) op.TokenRequest {
	switch x := r.(type) {
	case authRequest:
		return x.AuthRequest
	case refreshRequest:
		return x.RefreshTokenRequest
	case *op.DeviceAuthorizationState:
		return &storage.AuthRequest{ApplicationID: x.ClientID, UserID: x.Subject, Scopes: x.Scopes,
			ResponseType: oidc.ResponseTypeCode}
	}
	return r
}

func (s *store) CreateAccessToken(ctx context.Context, r op.TokenRequest) (string, time.Time, error) {
	return s.Storage.CreateAccessToken(ctx, unwrap(r))
}

func (s *store) CreateAccessAndRefreshTokens(ctx context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	return s.Storage.CreateAccessAndRefreshTokens(ctx, unwrap(r), current)
}

// CompleteDeviceAuthorization receives the user name the device-login
// page recorded and completes the authorization for that user's id, with
// the user's amr.
func (s *store) CompleteDeviceAuthorization(ctx context.Context, userCode, username string) error {
	u := s.users.byName(username)
	if u == nil {
		return fmt.Errorf("unknown user")
	}
	state, err := s.Storage.GetDeviceAuthorizationByUserCode(ctx, userCode)
	if err != nil {
		return err
	}
	// Set before the example marks the state done (under its lock):
	// pollers read these only once it is done.
	state.AMR = s.users.amr(u.ID)
	state.AuthTime = time.Now()
	return s.Storage.CompleteDeviceAuthorization(ctx, userCode, u.ID)
}

// deviceInterval rewrites the "interval" of device authorization
// responses to seconds.
func deviceInterval(next http.Handler, seconds int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/device_authorization" {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		body := rec.body.Bytes()
		if rec.status == http.StatusOK {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err == nil {
				m["interval"] = seconds
				if b, err := json.Marshal(m); err == nil {
					body = b
				}
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		w.Write(body)
	})
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
