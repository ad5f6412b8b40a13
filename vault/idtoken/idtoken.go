// Package idtoken checks an OpenID Connect ID token as a custody log
// records it: the compact JWS (RFC 7515 section 7.1) a provider signed
// and the public key (a JWK, RFC 7517) that verifies it, so that whoever
// reads the log, without the provider or the vault, can tell that the
// provider vouched for a sign-in, and which of its keys did (its RFC
// 7638 thumbprint, as the vault's identity sources name keys).
//
// It reads what OpenID Connect Core 1.0 section 2 defines of an ID
// token: iss, sub, aud, exp, iat, and the claims the vault names people
// by (sub, email with email_verified, preferred_username). It does not
// decide whether a token is fit for a sign-in at a given time or to a
// given client: its callers compare the claims with what they expect.
package idtoken

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// MaxToken bounds a recorded ID token, in bytes (as the vault's verifier
// bounds the tokens it accepts).
const MaxToken = 16 << 10

// MaxKey bounds a recorded key, in bytes: a JWK of an RSA key of 8,192
// bits is under 1,500.
const MaxKey = 4 << 10

// algs are the JWS algorithms a recorded token may be signed with:
// asymmetric ones only (never "none" or an HMAC, which anyone holding
// the key could forge), as the vault's verifier accepts.
var algs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512,
	jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// Claims are the claims of a verified ID token that a sign-in is judged
// by. Times are UTC, to the second; a claim absent is its zero value.
type Claims struct {
	Issuer, Subject string
	// Audience is aud, a single string or a list.
	Audience []string
	// Expiry and IssuedAt are exp and iat.
	Expiry, IssuedAt time.Time
	// Email is set only when email_verified is true (or "true").
	Email             string
	PreferredUsername string
}

// Name is the value of claim ("sub", "email" or "preferred_username")
// that names the person, as the vault reads it; "" if the token lacks it
// (or, for email, does not say the provider verified it).
func (c Claims) Name(claim string) string {
	switch claim {
	case "sub":
		return c.Subject
	case "email":
		return c.Email
	case "preferred_username":
		return c.PreferredUsername
	}
	return ""
}

// Verify checks that key, a public JWK, verifies token, a compact JWS
// with one signature by an asymmetric algorithm, and returns the token's
// claims and the key's thumbprint (RFC 7638, SHA-256, base64url without
// padding). Errors say what is wrong: a key that is not one public
// signing key, a token that does not parse, a signature that does not
// verify, claims that do not parse (exp or iat that are not numbers).
func Verify(token string, key []byte) (Claims, string, error) {
	return (*Keys)(nil).Verify(token, key)
}

// Keys keeps the keys Verify parsed, by their JSON, so that a reader of
// many tokens of one provider (an audit) parses each key once. The zero
// Keys is ready; a nil *Keys keeps none. It holds at most maxKeys keys
// (then it starts afresh). Not safe for concurrent use.
type Keys struct {
	m map[string]parsedKey
}

// maxKeys bounds Keys: a provider has a handful of keys at a time.
const maxKeys = 64

type parsedKey struct {
	jwk   jose.JSONWebKey
	thumb string
}

// Verify is the package's Verify, with the keys k parsed before.
func (k *Keys) Verify(token string, key []byte) (Claims, string, error) {
	if len(token) > MaxToken {
		return Claims{}, "", fmt.Errorf("the ID token is over %d bytes", MaxToken)
	}
	if len(key) > MaxKey {
		return Claims{}, "", fmt.Errorf("the key is over %d bytes", MaxKey)
	}
	pk, err := k.parse(key)
	if err != nil {
		return Claims{}, "", err
	}
	c, err := verifyWith(token, &pk.jwk)
	if err != nil {
		return Claims{}, "", err
	}
	return c, pk.thumb, nil
}

// parse reads key, or finds it parsed.
func (k *Keys) parse(key []byte) (parsedKey, error) {
	if k != nil {
		if pk, ok := k.m[string(key)]; ok {
			return pk, nil
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(key); err != nil {
		return parsedKey{}, fmt.Errorf("the key is not a JWK: %v", err)
	}
	if !jwk.Valid() || !jwk.IsPublic() {
		return parsedKey{}, errors.New("the key is not a valid public key")
	}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return parsedKey{}, fmt.Errorf("the key has no thumbprint: %v", err)
	}
	pk := parsedKey{jwk: jwk, thumb: base64.RawURLEncoding.EncodeToString(sum)}
	if k != nil {
		if k.m == nil || len(k.m) >= maxKeys {
			k.m = map[string]parsedKey{}
		}
		k.m[string(key)] = pk
	}
	return pk, nil
}

// verifyWith checks token's signature by jwk and reads its claims.
func verifyWith(token string, jwk *jose.JSONWebKey) (Claims, error) {
	jws, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		return Claims{}, fmt.Errorf("the ID token is not a compact JWS of an asymmetric algorithm: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return Claims{}, errors.New("the ID token does not have exactly one signature")
	}
	payload, err := jws.Verify(jwk)
	if err != nil {
		return Claims{}, errors.New("the key does not verify the ID token's signature")
	}
	return parse(payload)
}

// Digest names a token by what its provider signed: the SHA-256
// (lowercase hex) of its payload, decoded. The vault keeps it to refuse
// a token a second time, and an audit to find one recorded twice. The
// token's own string would not do: another string carries the same
// signed claims (an ECDSA signature's other valid form, s for n - s;
// base64url whose last character's unused bits differ), and a token
// is its claims, which a provider signs once. A token whose payload
// does not decode is named by its string.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	if _, rest, ok := strings.Cut(token, "."); ok {
		if payload, _, ok := strings.Cut(rest, "."); ok {
			if b, err := base64.RawURLEncoding.DecodeString(payload); err == nil {
				sum = sha256.Sum256(b)
			}
		}
	}
	return hex.EncodeToString(sum[:])
}

// PublicJWK is the JSON of key's public part, as a log records it: the
// key's own members with its kid, alg and use, without the certificates
// a provider may publish with it (x5c, x5t, x5t#S256), which the
// signature does not need and which would make each sign-in's record
// kilobytes longer.
func PublicJWK(key jose.JSONWebKey) ([]byte, error) {
	pub := key.Public()
	if !pub.Valid() {
		return nil, errors.New("idtoken: the key has no public part")
	}
	bare := jose.JSONWebKey{Key: pub.Key, KeyID: pub.KeyID, Algorithm: pub.Algorithm, Use: pub.Use}
	return bare.MarshalJSON()
}

// parse reads the claims of a verified payload.
func parse(payload []byte) (Claims, error) {
	var raw struct {
		Iss               string          `json:"iss"`
		Sub               string          `json:"sub"`
		Aud               json.RawMessage `json:"aud"`
		Exp               *json.Number    `json:"exp"`
		Iat               *json.Number    `json:"iat"`
		Email             string          `json:"email"`
		EmailVerified     json.RawMessage `json:"email_verified"`
		PreferredUsername string          `json:"preferred_username"`
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return Claims{}, fmt.Errorf("the ID token's claims do not parse: %v", err)
	}
	c := Claims{Issuer: raw.Iss, Subject: raw.Sub, PreferredUsername: raw.PreferredUsername}
	if len(raw.Aud) > 0 {
		var one string
		if err := json.Unmarshal(raw.Aud, &one); err == nil {
			c.Audience = []string{one}
		} else if err := json.Unmarshal(raw.Aud, &c.Audience); err != nil {
			return Claims{}, errors.New("the ID token's aud is neither a string nor a list of strings")
		}
	}
	for _, t := range []struct {
		n   *json.Number
		to  *time.Time
		key string
	}{{raw.Exp, &c.Expiry, "exp"}, {raw.Iat, &c.IssuedAt, "iat"}} {
		if t.n == nil {
			continue
		}
		f, err := t.n.Float64()
		if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
			return Claims{}, fmt.Errorf("the ID token's %s is not a time", t.key)
		}
		*t.to = time.Unix(int64(f), 0).UTC()
	}
	switch string(raw.EmailVerified) {
	case `true`, `"true"`:
		c.Email = raw.Email
	}
	return c, nil
}

// UnverifiedExpiry is the exp of token, read without checking its
// signature: for bookkeeping only (how long the vault remembers a token
// it refuses a second time), never to decide whether to trust it. Zero
// if the token does not parse or has no exp.
func UnverifiedExpiry(token string) time.Time {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return time.Time{}
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok || len(payload) > MaxToken {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return time.Time{}
	}
	c, err := parse(b)
	if err != nil {
		return time.Time{}
	}
	return c.Expiry
}
