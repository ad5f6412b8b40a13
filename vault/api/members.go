package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// RemoveMemberRequest is the body of POST
// /v1/cases/{case}/members/{person}/remove.
type RemoveMemberRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RemoveMemberRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := h.v.RemoveMember(r.Context(), who, r.PathValue("case"), r.PathValue("person"), req.Reason); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"case": r.PathValue("case"), "person": r.PathValue("person")})
	return nil
}
