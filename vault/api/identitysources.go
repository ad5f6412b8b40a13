package api

import (
	"context"
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// IdentitySourcesResponse answers GET /v1/identity-sources: whether a
// start guarded identity sources (false on a log no start of this release
// guarded yet, where every configured source signs people in), and each
// source configured or accepted.
type IdentitySourcesResponse struct {
	Guarded bool                   `json:"guarded"`
	Sources []vault.IdentitySource `json:"sources"`
}

func (h *Handler) listIdentitySources(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	list, guarded, err := h.v.IdentitySources(r.Context(), who)
	if err != nil {
		return err
	}
	if list == nil {
		list = []vault.IdentitySource{}
	}
	writeJSON(w, http.StatusOK, IdentitySourcesResponse{Guarded: guarded, Sources: list})
	return nil
}

// AcceptIdentitySourceRequest is the body of POST /v1/identity-sources
// (and of POST /v1/identity-sources/retire, naming an accepted source):
// the source ("oidc-key ISSUER THUMBPRINT", "ca SHA256", or "oidc
// ISSUER" where keys are not pinned yet) and why.
type AcceptIdentitySourceRequest struct {
	Reason string `json:"reason"`
	Source string `json:"source"`
}

func (h *Handler) retireIdentitySource(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	return h.askOfSource(w, r, who, h.v.RetireIdentitySource)
}

func (h *Handler) acceptIdentitySource(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	return h.askOfSource(w, r, who, h.v.AcceptIdentitySource)
}

// askOfSource answers a request about an identity source (accept or
// retire), opened by ask, 202.
func (h *Handler) askOfSource(w http.ResponseWriter, r *http.Request, who vault.Principal,
	ask func(context.Context, vault.Principal, string, string) (*vault.RequestInfo, error)) error {
	var req AcceptIdentitySourceRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	info, err := ask(r.Context(), who, req.Source, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, requestResponse(info, false))
	return nil
}
