package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// ScrubResponse is the answer of POST /v1/audit/scrub.
type ScrubResponse = vault.ScrubResult

func (h *Handler) scrub(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	res, err := h.v.Scrub(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
