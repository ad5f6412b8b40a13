package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/idtoken"
)

// AuditOIDCSignIns measures what the audit's rules spend on one OpenID
// sign-in that records its ID token (identity.md section 9.2): n
// session.opened events, each with a token of its own signed by an
// RSA-2048 key (RS256, what most providers use) and then by a P-256 key
// (ES256), read by vault.CustodyRules, against n sign-ins with local
// credentials read the same way. Reports the time per sign-in in
// microseconds (audit_oidc_signin_rs256_us, audit_oidc_signin_es256_us,
// audit_local_signin_us).
func AuditOIDCSignIns(n int) ([]Metric, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	var out []Metric
	for _, k := range []struct {
		name string
		key  any
		pub  any
		alg  jose.SignatureAlgorithm
	}{{"audit_oidc_signin_rs256_us", rsaKey, &rsaKey.PublicKey, jose.RS256}, {"audit_oidc_signin_es256_us", ecKey, &ecKey.PublicKey, jose.ES256}, {"audit_local_signin_us", nil, nil, ""}} {
		evs, err := signInEvents(n, k.key, k.pub, k.alg)
		if err != nil {
			return nil, err
		}
		var r vault.CustodyRules
		start := time.Now()
		for _, ev := range evs {
			if err := r.Check(ev); err != nil {
				return nil, fmt.Errorf("%s: event %d: %w", k.name, ev.Seq, err)
			}
		}
		signIns := len(evs) - 2 // the start and the enrolment
		out = append(out, Metric{k.name, float64(time.Since(start).Microseconds()) / float64(signIns), "us"})
	}
	return out, nil
}

// signInEvents is a log's start (recording oidc_id_tokens), one
// custodian's enrolment, and n sign-ins of theirs: through an OpenID
// provider with tokens key signs (alg), or with a local credential
// (key nil).
func signInEvents(n int, key, pub any, alg jose.SignatureAlgorithm) ([]*events.Event, error) {
	const issuer, client = "https://idp.example/", "custos"
	now := time.Now().UTC().Truncate(time.Second)
	at := events.FormatTime(now)
	var jwk []byte
	thumb := ""
	if key != nil {
		k := jose.JSONWebKey{Key: pub, Algorithm: string(alg), Use: "sig"}
		sum, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, err
		}
		thumb = base64.RawURLEncoding.EncodeToString(sum)
		if jwk, err = idtoken.PublicJWK(k); err != nil {
			return nil, err
		}
	}
	started, _ := json.Marshal(map[string]string{"session_ttl": "8h0m0s", "request_ttl": "72h0m0s", "identity_sources": "request",
		"oidc_key_pins": "request", "oidc_issuer": issuer, "oidc_keys": thumb, "oidc_client_id": client, "oidc_claim": "sub", "oidc_id_tokens": "recorded"})
	enrolled, _ := json.Marshal(vault.PersonEnrolled{Name: "dara", Role: vault.RoleCustodian, TokenSHA256: fmt.Sprintf("%064x", 1)})
	system := events.Actor{Person: "custos", Role: vault.RoleSystem, Auth: "server"}
	evs := []*events.Event{
		{Seq: 0, Type: vault.TypeServerStarted, Time: at, Actor: system, Data: started},
		{Seq: 1, Type: vault.TypePersonEnrolled, Time: at, Actor: system, Data: enrolled},
	}
	var signer jose.Signer
	if key != nil {
		var err error
		if signer, err = jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil); err != nil {
			return nil, err
		}
	}
	for i := range n {
		se := fmt.Sprintf("se_%024x", i)
		a := events.Actor{Person: "dara", Role: vault.RoleCustodian, Auth: "local", Session: se}
		d := vault.SessionOpened{Session: se, TokenSHA256: fmt.Sprintf("%064x", i+2), Expires: now.Add(8 * time.Hour).Format(time.RFC3339)}
		if key != nil {
			claims, _ := json.Marshal(map[string]any{"iss": issuer, "sub": "dara", "aud": client, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": se})
			jws, err := signer.Sign(claims)
			if err != nil {
				return nil, err
			}
			tok, _ := jws.CompactSerialize()
			a.Auth, a.Issuer, a.Subject = "oidc", issuer, "dara"
			d.Claim, d.ClientID, d.Key, d.IDToken, d.KeyJWK = "sub", client, thumb, tok, jwk
		}
		b, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		evs = append(evs, &events.Event{Seq: uint64(i + 2), Type: vault.TypeSessionOpened, Time: at, Actor: a, Data: b})
	}
	return evs, nil
}
