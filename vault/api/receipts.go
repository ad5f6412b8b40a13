package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// ReceiptKeyRequest is the body of POST /v1/receipt-key: an OpenSSH
// public key line.
type ReceiptKeyRequest struct {
	Key string `json:"key"`
}

// ReceiptKeyResponse is its answer.
type ReceiptKeyResponse = vault.ReceiptKeySet

func (h *Handler) setReceiptKey(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req ReceiptKeyRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	d, info, err := h.v.SetReceiptKey(r.Context(), who, req.Key)
	if err != nil {
		return err
	}
	if info != nil {
		writeJSON(w, http.StatusAccepted, requestResponse(info, false))
		return nil
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// ReceiptRequest is the body of POST /v1/packages/{package}/receipt: the
// package file's SHA-256 and the armored SSH signature over
// vault.ReceiptMessage (docs/formats.md).
type ReceiptRequest struct {
	SHA256    string `json:"sha256"`
	Signature string `json:"signature"`
}

// ReceiptResponse is its answer: what was recorded.
type ReceiptResponse = vault.PackageReceived

func (h *Handler) receivePackage(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req ReceiptRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	d, err := h.v.ReceivePackage(r.Context(), who, r.PathValue("package"), req.SHA256, req.Signature)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}
