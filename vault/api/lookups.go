package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/custos-vault/custos/events"
	"github.com/custos-vault/custos/vault"
)

// Lookup is one line of GET /v1/log/lookups: the values a log store keeps
// beside an event's signed bytes, exactly as the store returns them, so
// that an auditor can check them against the bytes (they decide which
// events a case's timeline, an item's history and a package hold).
type Lookup struct {
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Case string `json:"case"`
	Item string `json:"item"`
}

// lookups streams one Lookup per event from position from on, in log
// order, as application/x-ndjson. Auditors only.
func (h *Handler) lookups(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	if err := h.v.AuditReader(r.Context(), who, "audit.lookups"); err != nil {
		return err
	}
	from, err := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
	if err != nil && r.URL.Query().Get("from") != "" {
		return fmt.Errorf("%w: from must be a number", vault.ErrBadInput)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	bw := newLineWriter(w)
	err = h.v.Store().Read(r.Context(), from, func(rec events.Record) error {
		b, err := json.Marshal(Lookup{Seq: rec.Seq, ID: rec.ID, Case: rec.Case, Item: rec.Item})
		if err != nil {
			return err
		}
		return bw.line(b)
	})
	if err == nil {
		err = bw.flush()
	}
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}
