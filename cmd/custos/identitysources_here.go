package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-vault/custos/internal/printable"
	"github.com/custos-vault/custos/vault"
	"github.com/custos-vault/custos/vault/api"
	"github.com/custos-vault/custos/vault/oidcauth"
)

// An OpenID provider's keys, as the server lists them, are what the
// provider's address answered the server: whoever runs the server also
// controls the names it resolves and the TLS roots it trusts, and could
// slip a key of their own among the provider's. So custodians check a
// key from their own computer before they ask to accept it or approve
// the request (docs/identity.md section 9.1).

// keysHere reads the keys each issuer serves as this computer reaches
// it: its thumbprints, or why they could not be read.
type keysHere struct {
	served map[string][]string
	failed map[string]error
}

// readKeysHere reads the keys of every provider whose keys srcs name
// ("oidc-key ISSUER THUMBPRINT"), each once, in at most 15 seconds for
// all.
func readKeysHere(srcs []string) keysHere {
	h := keysHere{served: map[string][]string{}, failed: map[string]error{}}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, src := range srcs {
		iss, _, ok := keySource(src)
		if !ok {
			continue
		}
		if _, done := h.served[iss]; done || h.failed[iss] != nil {
			continue
		}
		keys, err := oidcauth.ServedKeys(ctx, iss, nil)
		if err != nil {
			h.failed[iss] = err
			continue
		}
		h.served[iss] = keys
	}
	return h
}

// keySource splits "oidc-key ISSUER THUMBPRINT".
func keySource(src string) (issuer, thumb string, ok bool) {
	v, ok := strings.CutPrefix(src, "oidc-key ")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(v, ' ')
	if i <= 0 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}

// keySeen is what this computer sees of a provider's key.
type keySeen int

const (
	notAKey keySeen = iota // the source is not a provider's key
	seen                   // the provider serves it
	notSeen                // the provider answered, without it
	unknown                // the provider could not be asked
)

// check says what this computer sees of a key source, and, when it is
// unknown, why.
func (h keysHere) check(src string) (state keySeen, why error) {
	iss, thumb, ok := keySource(src)
	if !ok {
		return notAKey, nil
	}
	if err := h.failed[iss]; err != nil {
		return unknown, err
	}
	if slices.Contains(h.served[iss], thumb) {
		return seen, nil
	}
	return notSeen, nil
}

// note is what identity-source list adds to a key's line; accepted says
// whether the vault accepted the key.
func (h keysHere) note(src string, accepted bool) string {
	state, why := h.check(src)
	switch {
	case state == seen:
		return "; the provider serves it as this computer reaches it"
	case state == notSeen && accepted:
		return "; NOT served by the provider as this computer reaches it: if the provider no longer uses it, or it leaked, retire it (custos identity-source retire); if it should, ask the provider's administrators"
	case state == notSeen:
		return "; NOT served by the provider as this computer reaches it: do not accept it before the provider's administrators confirm its thumbprint (whoever runs the server controls what the provider's address answers the server)"
	case state == unknown:
		return "; not checked from this computer (" + printable.Terminal(why.Error()) + ")"
	}
	return ""
}

// refuseUnseen refuses to ask for, or approve, a provider's key that the
// provider, as this computer reaches it, does not serve; one it could
// not be asked about is let through with a warning on stderr.
func refuseUnseen(src, doing string) error {
	if _, _, ok := keySource(src); !ok {
		return nil
	}
	h := readKeysHere([]string{src})
	switch state, why := h.check(src); state {
	case notSeen:
		return fmt.Errorf("not %s %s: the provider, as this computer reaches it, does not serve this key. The server lists what the provider's address answered it, and whoever runs the server controls that; ask the provider's administrators for the thumbprint of their key, and accept only that (docs/identity.md section 9.1)", doing, src)
	case unknown:
		fmt.Fprintf(warnOut, "custos: warning: the provider's keys could not be read from this computer (%s): check the thumbprint with its administrators before you go on\n", printable.Terminal(why.Error()))
	}
	return nil
}

// checkSourceHere, before a request is approved, checks from this
// computer the provider's key an identity.source request names (the
// pending list says what it asks; other requests are let through).
func checkSourceHere(c *client, request string) error {
	var pending api.RequestsResponse
	if err := c.call("GET", "/v1/requests", nil, nil, &pending); err != nil {
		// The approval itself says what is wrong with the request.
		fmt.Fprintf(warnOut, "custos: warning: the pending requests could not be read to check a provider's key from this computer (%s)\n", printable.Terminal(err.Error()))
		return nil
	}
	for _, r := range pending.Requests {
		if r.ID != request || r.Kind != vault.KindIdentitySource {
			continue
		}
		src := r.Parameters().Source
		iss, _, ok := keySource(src)
		if !ok {
			return nil
		}
		// Only a provider the server knows is asked from this computer:
		// a request may name any address, and the approver's computer
		// is not there to fetch it.
		var known api.IdentitySourcesResponse
		if err := c.call("GET", "/v1/identity-sources", nil, nil, &known); err == nil && !slices.ContainsFunc(known.Sources, func(s vault.IdentitySource) bool {
			i, _, _ := keySource(s.Source)
			return i == iss
		}) {
			fmt.Fprintf(warnOut, "custos: warning: the request names a key of %s, a provider the server neither signs people in through nor lists: not read from this computer; check the thumbprint with its administrators\n", printable.Terminal(iss))
			return nil
		}
		return refuseUnseen(src, "approving")
	}
	return nil
}
