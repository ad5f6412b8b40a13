package oidcauth

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/custos-vault/custos/vault/idtoken"
)

// keySet is the provider's signing keys as its jwks_uri serves them, and
// the one that verified each token: go-oidc's RemoteKeySet verifies a
// token but does not say with which key, and the vault accepts a
// provider's keys one by one (its identity sources). It follows
// RemoteKeySet's strategy (OpenID Connect Core 1.0 section 10.1.1): a
// token that no key held verifies makes the set be read again, once,
// with concurrent readers waiting for one request; and not more often
// than every minRefetch, so that tokens naming made-up keys, which
// anyone may send, do not make the vault ask the provider for each.
type keySet struct {
	uri    string
	client *http.Client

	fetch sync.Mutex // held while reading the set from the provider

	mu      sync.Mutex // guards keys and fetched
	keys    []servedKey
	fetched time.Time // when the last read began (zero: never)
}

// servedKey is one of the provider's keys with its thumbprint, taken
// once when the set is read.
type servedKey struct {
	key   jose.JSONWebKey
	thumb string
	// public is the key's public JWK as a log records it beside the
	// token it verified (idtoken.PublicJWK).
	public []byte
}

// minRefetch is the least time between the starts of two reads of the
// provider's keys: a read asked for sooner waits for it (a token signed
// by a key the provider began to use just after the last read is
// answered that much later).
const minRefetch = 5 * time.Second

// maxKeySet bounds the JWKS document read from the provider.
const maxKeySet = 1 << 20

// signingAlgs are the JWS algorithms a token may be signed with: those
// go-oidc supports (asymmetric only; never "none" or HMAC).
var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512,
	jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// usedKey is where VerifySignature says which key verified a token: a
// *signer in the context Verify passes to go-oidc.
type usedKey struct{}

// signer is the key that verified a token: its thumbprint and public
// JWK.
type signer struct {
	thumb  string
	public []byte
}

// VerifySignature implements oidc.KeySet: it returns jwt's payload if
// one of the provider's keys verifies its signature, and writes that
// key's thumbprint (Thumbprint) and public JWK where the context's
// usedKey points.
// go-oidc's verifier has checked the header's alg before calling it.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(jwt, signingAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed token: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("the token has more than one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	asked := time.Now()
	k.mu.Lock()
	keys := k.keys
	k.mu.Unlock()
	payload, key, ok := verifyWith(jws, kid, keys)
	if !ok {
		if keys, err = k.read(ctx, asked); err != nil {
			return nil, err
		}
		if payload, key, ok = verifyWith(jws, kid, keys); !ok {
			return nil, errors.New("no key the provider serves verifies the token's signature")
		}
	}
	if p, ok := ctx.Value(usedKey{}).(*signer); ok {
		*p = signer{thumb: key.thumb, public: key.public}
	}
	return payload, nil
}

// verifyWith tries the keys named kid (all of them if kid is empty) and
// gives the payload and the key that verified it.
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []servedKey) (payload []byte, key servedKey, ok bool) {
	for i := range keys {
		if kid != "" && keys[i].key.KeyID != kid {
			continue
		}
		if p, err := jws.Verify(&keys[i].key); err == nil {
			return p, keys[i], true
		}
	}
	return nil, servedKey{}, false
}

// Keys reads the provider's keys again (waiting, if they were read less
// than minRefetch ago, until then) and gives their thumbprints
// (Thumbprint), sorted: the keys it signs tokens with now, and those it
// publishes ahead of a rotation. Errors: the provider cannot be reached,
// or its set does not parse.
func (v *Verifier) Keys(ctx context.Context) ([]string, error) {
	keys, err := v.keys.read(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	return thumbprints(keys), nil
}

// ServedKeys reads, as this computer reaches it, the discovery document
// of the provider issuer and the keys its jwks_uri serves, and gives
// their thumbprints, sorted: what a person checks the keys a server
// lists against, since whoever runs the server controls the names it
// resolves and the TLS roots it trusts, not theirs. hc nil means a
// client with a 10-second timeout per request. Errors as New's and
// Keys'.
func ServedKeys(ctx context.Context, issuer string, hc *http.Client) ([]string, error) {
	if err := secureURL(issuer); err != nil {
		return nil, fmt.Errorf("oidcauth: issuer: %w", err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, hc), issuer)
	if err != nil {
		return nil, fmt.Errorf("oidcauth: discovery at %s: %w", issuer, err)
	}
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidcauth: discovery document: %w", err)
	}
	if err := secureURL(meta.JWKS); err != nil {
		return nil, fmt.Errorf("oidcauth: the provider's jwks_uri: %w", err)
	}
	keys, err := (&keySet{uri: meta.JWKS, client: hc}).get(ctx)
	if err != nil {
		return nil, err
	}
	return thumbprints(keys), nil
}

// thumbprints gives the keys' thumbprints, sorted, once each.
func thumbprints(keys []servedKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.thumb)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// read returns the provider's keys as read after asked: read now, unless
// another caller's read began after asked (then that one's). Reads are
// one at a time; tokens whose keys are held verify meanwhile.
func (k *keySet) read(ctx context.Context, asked time.Time) ([]servedKey, error) {
	k.fetch.Lock()
	defer k.fetch.Unlock()
	k.mu.Lock()
	keys, fetched := k.keys, k.fetched
	k.mu.Unlock()
	if fetched.After(asked) {
		return keys, nil
	}
	if wait := minRefetch - time.Since(fetched); !fetched.IsZero() && wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("oidcauth: waiting to read the provider's keys: %w", ctx.Err())
		case <-t.C:
		}
	}
	began := time.Now()
	keys, err := k.get(ctx)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.keys, k.fetched = keys, began
	k.mu.Unlock()
	return keys, nil
}

// get reads the provider's key set from its jwks_uri, with each key's
// thumbprint (a key without one is left out).
func (k *keySet) get(ctx context.Context) ([]servedKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.uri, nil)
	if err != nil {
		return nil, fmt.Errorf("oidcauth: the provider's keys: %w", err)
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidcauth: reading the provider's keys: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySet+1))
	if err != nil {
		return nil, fmt.Errorf("oidcauth: reading the provider's keys: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("oidcauth: the provider's keys at %s: it answered %s", k.uri, resp.Status)
	}
	if len(body) > maxKeySet {
		return nil, fmt.Errorf("oidcauth: the provider's keys at %s: more than %d bytes", k.uri, maxKeySet)
	}
	keys, err := parseKeySet(body)
	if err != nil {
		return nil, fmt.Errorf("oidcauth: the provider's keys at %s: %w", k.uri, err)
	}
	served := make([]servedKey, 0, len(keys))
	for _, key := range keys {
		t, err := Thumbprint(key)
		if err != nil {
			continue
		}
		public, err := idtoken.PublicJWK(key)
		if err != nil {
			continue
		}
		served = append(served, servedKey{key, t, public})
	}
	return served, nil
}

// parseKeySet reads a JWK Set (RFC 7517 section 5): its public signing
// keys. As RFC 7517 asks, and as go-oidc does, a key of a type or an
// algorithm not understood here is skipped, not fatal; keys marked for
// encryption only (use "enc") and private keys are skipped too.
func parseKeySet(b []byte) ([]jose.JSONWebKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %v", err)
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var meta struct {
			Alg string `json:"alg"`
			Use string `json:"use"`
		}
		if err := json.Unmarshal(r, &meta); err != nil {
			return nil, fmt.Errorf("a key is not a JSON object: %v", err)
		}
		if meta.Use == "enc" || (meta.Alg != "" && !slices.Contains(signingAlgs, jose.SignatureAlgorithm(meta.Alg))) {
			continue
		}
		var key jose.JSONWebKey
		if err := json.Unmarshal(r, &key); err != nil {
			if errors.Is(err, jose.ErrUnsupportedKeyType) {
				continue
			}
			return nil, fmt.Errorf("a key does not parse: %v", err)
		}
		if !key.Valid() || !key.IsPublic() {
			continue
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// Thumbprint is how the vault names a provider's signing key: its JWK
// thumbprint (RFC 7638) with SHA-256, base64url without padding (43
// characters), as "oidc-key ISSUER THUMBPRINT" identity sources hold it.
func Thumbprint(key jose.JSONWebKey) (string, error) {
	b, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("oidcauth: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
