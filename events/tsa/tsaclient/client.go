// Package tsaclient asks an RFC 3161 time-stamping authority (TSA) for a
// time-stamp token over HTTP (RFC 3161 section 3.4). The token format
// and its verification are in the parent package, events/tsa, which the
// offline verifier imports without this one and so without the network.
package tsaclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"github.com/custos-vault/custos/events/tsa"
)

// Request asks the TSA at rawURL for a time-stamp token over message and
// returns it (a DER TimeStampToken, not the whole TimeStampResp):
//
//  1. it builds a TimeStampReq (tsa.NewRequest: SHA-256 imprint, random
//     64-bit nonce, certReq true) and POSTs it as
//     application/timestamp-query;
//  2. it reads at most tsa.MaxResponseSize bytes of the answer, which must
//     be HTTP 200;
//  3. it checks the TimeStampResp with tsa.Request.ParseResponse: status
//     granted or grantedWithMods (else a *tsa.StatusError), a well-formed
//     token whose signature verifies with the certificate it carries,
//     whose imprint is the message's (tsa.ErrWrongMessage) and whose
//     nonce is the request's (tsa.ErrWrongNonce).
//
// Whether the TSA is trusted is not checked here: that is tsa.Verify's
// job, with the user's certificates.
//
// client may be nil for http.DefaultClient; ctx bounds the whole
// exchange. A URL may carry credentials (https://user:password@host/),
// which net/http sends as basic authentication; every error names the URL
// without them, nor its query.
func Request(ctx context.Context, client *http.Client, rawURL string, message []byte) (tsa.Token, error) {
	if client == nil {
		client = http.DefaultClient
	}
	name := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("time-stamping authority %s: not an http or https URL", name)
	}
	req, err := tsa.NewRequest(message)
	if err != nil {
		return nil, err
	}
	body, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("failed to encode the time-stamp request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("time-stamping authority %s: %w", name, err)
	}
	hreq.Header.Set("Content-Type", "application/timestamp-query")
	hreq.Header.Set("Accept", "application/timestamp-reply")
	resp, err := client.Do(hreq)
	if err != nil {
		// *url.Error repeats the URL with its user name; keep the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("time-stamping authority %s: no answer: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("time-stamping authority %s: HTTP %s", name, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/timestamp-reply" && mt != "application/timestamp-response" {
			return nil, fmt.Errorf("time-stamping authority %s: answered with %q, not application/timestamp-reply", name, mt)
		}
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, tsa.MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("time-stamping authority %s: reading the answer: %w", name, err)
	}
	if len(der) > tsa.MaxResponseSize {
		return nil, fmt.Errorf("time-stamping authority %s: answer exceeds %d bytes", name, tsa.MaxResponseSize)
	}
	token, err := req.ParseResponse(der)
	if err != nil {
		return nil, fmt.Errorf("time-stamping authority %s: %w", name, err)
	}
	return token, nil
}

// Redact returns rawURL as errors and logs may show it: without user
// name, password, query or fragment, any of which may hold a credential.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "redacted", false
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
