package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// CasesResponse is the answer of GET /v1/cases.
type CasesResponse struct {
	Cases []vault.CaseSummary `json:"cases"`
}

func (h *Handler) listCases(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, CasesResponse{Cases: append([]vault.CaseSummary{}, h.v.Cases(who)...)})
	return nil
}

// CaseDetailResponse is the answer of GET /v1/cases/{case}.
type CaseDetailResponse = vault.CaseDetail

func (h *Handler) showCase(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	d, err := h.v.ShowCase(r.Context(), who, r.PathValue("case"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// ItemsResponse is the answer of GET /v1/cases/{case}/items.
type ItemsResponse struct {
	Items []vault.ItemSummary `json:"items"`
}

func (h *Handler) listItems(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	items, err := h.v.Items(r.Context(), who, r.PathValue("case"),
		vault.ItemFilter{Name: q.Get("name"), SHA256: q.Get("sha256"), MD5: q.Get("md5"), SHA1: q.Get("sha1")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ItemsResponse{Items: items})
	return nil
}

// ItemDetailResponse is the answer of GET /v1/items/{item}/details.
type ItemDetailResponse = vault.ItemDetail

func (h *Handler) showItem(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	d, err := h.v.ShowItem(r.Context(), who, r.PathValue("item"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// PackagesResponse is the answer of GET /v1/packages.
type PackagesResponse struct {
	Packages []vault.PackageSummary `json:"packages"`
}

func (h *Handler) listPackages(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, PackagesResponse{Packages: append([]vault.PackageSummary{}, h.v.Packages(who)...)})
	return nil
}
