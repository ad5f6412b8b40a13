package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/custos-vault/custos/vault"
)

// A client certificate is an ambient credential: the browser that holds a
// person's certificate presents it on every request to the vault,
// whatever page sent the request. A session's bearer token is not (a page
// of another site cannot read it, and the API never reads the web
// application's cookie), so only the requests a certificate signs in are
// checked here. Without these checks, a page of another site open in a
// custodian's browser could approve a two-person request or a
// destruction in their name with a plain HTML form, and an image tag
// could record views and refusals in it.

// signedInHere is the person a request names for the custody log: who,
// unless a client certificate signed the request in and another site's
// page may have sent it (crossSiteReason), then nil.
func signedInHere(r *http.Request, who vault.Principal) *vault.Principal {
	if who.Credential.Auth == "certificate" && crossSiteReason(r) != "" {
		return nil
	}
	return &who
}

// crossSiteReason says why a request signed in by a client certificate
// may have been sent by a page of another site ("" if it was not):
//   - it lacks HeaderClient, which a page of another site cannot send
//     (the vault answers no CORS preflight), whatever the browser's age;
//   - its Sec-Fetch-Site (Fetch Metadata, W3C) names another site;
//   - its Origin (RFC 6454) is not the vault's own.
//
// The last two are what browsers say of themselves, and only tighten the
// first.
func crossSiteReason(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return fmt.Sprintf("a request signed in by a client certificate was sent by a page of another site (Sec-Fetch-Site: %s)", shortTarget(site))
	}
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return fmt.Sprintf("a request signed in by a client certificate was sent by a page of another site (Origin: %s)", shortTarget(o))
		}
	}
	if r.Header.Get(HeaderClient) == "" {
		return "a request signed in by a client certificate lacks the " + HeaderClient + " header that the vault's own programs send"
	}
	return ""
}

// refuseCrossSite records and answers (403) a request refused by
// crossSiteReason. The refusal does not name the person whose
// certificate came with it: another site's page may have sent it, with a
// path of its choosing, and the log's actor says who acted. It is
// recorded as a request without valid credentials is, by source address
// (aggregated).
func (h *Handler) refuseCrossSite(w http.ResponseWriter, r *http.Request, action, reason string) {
	if err := h.refusals.note(r.Context(), nil, clientIP(r), action, shortTarget(r.URL.EscapedPath()), reason, vault.GroundsInput); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusForbidden, ErrorResponse{Error: "forbidden: " + reason +
		"; nothing was done. A program of yours signing in with a client certificate adds the header \"" + HeaderClient + ": <any value>\" (curl -H '" + HeaderClient + ": script'), as the custos program does; a browser page cannot send it, which is why it is asked for"})
}
