package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// PersonRequest is the body of POST /v1/persons.
type PersonRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// PersonResponse is the answer of POST /v1/persons: the person's new
// bearer token, shown once and stored nowhere.
type PersonResponse struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Token is the new bearer token, shown this once (revealed from its
	// secret type only here).
	Token string `json:"token"`
}

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PersonRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	token, err := h.v.EnrollBy(r.Context(), who, req.Name, req.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, PersonResponse{Name: req.Name, Role: req.Role, Token: token.Reveal()})
	return nil
}

// RecipientRequest is the body of POST /v1/recipient.
type RecipientRequest struct {
	Recipient string `json:"recipient"`
}

// RecipientResponse is the answer of POST /v1/recipient: the recipient in
// canonical form.
type RecipientResponse struct {
	Recipient string `json:"recipient"`
}

func (h *Handler) setRecipient(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RecipientRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	rec, err := h.v.SetRecipient(r.Context(), who, req.Recipient)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RecipientResponse{Recipient: rec})
	return nil
}
