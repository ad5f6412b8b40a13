package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// RotateRequest is the body of POST /v1/admin/rotate-kek.
type RotateRequest struct {
	RetireOld bool `json:"retire_old,omitempty"`
}

// RotateResponse is the answer of POST /v1/admin/rotate-kek.
type RotateResponse = vault.RotateResult

func (h *Handler) rotateKEK(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RotateRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	res, err := h.v.RotateKEK(r.Context(), who, req.RetireOld)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
