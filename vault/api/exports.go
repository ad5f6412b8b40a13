package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	writeHashList(w, list)
	return nil
}

// writeHashList answers a recorded export: its bytes, with their SHA-256
// in Custos-Sha256, the recording event in Custos-Access-Event and how
// many items it lists in Custos-Items.
func writeHashList(w http.ResponseWriter, list *vault.HashList) {
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
	w.Header().Set(HeaderItems, strconv.Itoa(list.Items))
	w.Write(list.Body)
}

// custodyReport answers GET /v1/cases/{case}/report?format=pdf|text
// [&items=ID,...][&purpose=TEXT]: the custody report, recorded
// (custody.report) before it is made; its SHA-256 in Custos-Sha256, the
// recording event in Custos-Access-Event and the checkpoint it is proven
// in in Custos-Checkpoint-Size (docs/custody-report.md).
func (h *Handler) custodyReport(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = vault.FormatPDF
	}
	if format == vault.FormatCaseUCO {
		// The CASE/UCO record has its own route and rule: who may have
		// it is pointed there, anyone else refused (and recorded) as
		// that route refuses them.
		if err := h.v.MayExportCaseUCO(r.Context(), who, r.PathValue("case")); err != nil {
			return err
		}
		return fmt.Errorf("%w: the CASE/UCO record is not a custody report: ask the case's own route for it, GET /v1/cases/{case}/case-uco (custos export case-uco); this route gives format pdf or text", vault.ErrBadInput)
	}
	return h.document(w, r, who, format)
}

// exportCaseUCO answers GET /v1/cases/{case}/case-uco[?items=ID,...]
// [&purpose=TEXT]: the case's custody as CASE/UCO JSON-LD, recorded
// (case.caseuco.exported) before it is made (docs/formats.md).
func (h *Handler) exportCaseUCO(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	return h.document(w, r, who, vault.FormatCaseUCO)
}

func (h *Handler) document(w http.ResponseWriter, r *http.Request, who vault.Principal, format string) error {
	q := r.URL.Query()
	var items []string
	if s := q.Get("items"); s != "" {
		items = strings.Split(s, ",")
	}
	doc, err := h.v.CustodyDocument(r.Context(), who, vault.DocumentRequest{Case: r.PathValue("case"), Items: items, Format: format, Purpose: q.Get("purpose")})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", doc.ContentType)
	w.Header().Set(HeaderSHA256, doc.SHA256)
	w.Header().Set(HeaderSize, strconv.Itoa(len(doc.Body)))
	w.Header().Set(HeaderAccessEvent, strconv.FormatUint(doc.Event, 10))
	w.Header().Set(HeaderCheckpointSize, strconv.FormatUint(doc.Checkpoint, 10))
	w.Header().Set(HeaderItems, strconv.Itoa(doc.Items))
	w.Header().Set(HeaderEvents, strconv.Itoa(doc.Events))
	w.Write(doc.Body)
	return nil
}
