package api

import (
	"net/http"
	"strconv"

	"github.com/custos-vault/custos/vault"
)

// exportHashes answers GET /v1/cases/{case}/hashes?format=F: the case's
// hash list, recorded (case.hashes.exported) before it is sent; its
// SHA-256 in Custos-Sha256 and the recording event in
// Custos-Access-Event (docs/formats.md).
func (h *Handler) exportHashes(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	list, err := h.v.ExportHashes(r.Context(), who, r.PathValue("case"), r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	ctype := "text/plain; charset=utf-8"
	switch list.Format {
	case "csv":
		ctype = "text/csv; charset=utf-8"
	case "vics":
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set(HeaderSHA256, list.SHA256)
	w.Header().Set(HeaderSize, strconv.Itoa(len(list.Body)))
	w.Header().Set(HeaderAccessEvent, strconv.FormatUint(list.Event, 10))
	w.Write(list.Body)
	return nil
}
