package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/custos-vault/custos/vault"
)

// Hashes are expected acquisition hashes of a deposit (hex).
type Hashes = vault.Hashes

// DepositResponse is the answer of POST /v1/cases/{case}/items, whose
// body is the file's bytes.
type DepositResponse = vault.DepositResult

func (h *Handler) deposit(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	res, err := h.v.Deposit(r.Context(), who, vault.DepositRequest{
		Case: r.PathValue("case"), Name: q.Get("name"), Note: q.Get("note"), Source: q.Get("source"), Report: q.Get("report"),
		Body:         r.Body,
		ClientSHA256: func() string { return r.Trailer.Get(HeaderContentSHA256) },
		Expect:       vault.Hashes{SHA256: q.Get("expect_sha256"), MD5: q.Get("expect_md5"), SHA1: q.Get("expect_sha1")},
	})
	if err != nil && r.Context().Err() != nil {
		// The depositor went away (Ctrl-C, a lost connection): nothing
		// was kept, and no backend failed.
		h.log.Info("a deposit was cancelled by its client; nothing of it is kept", "case", r.PathValue("case"), "person", who.Name, "source", clientIP(r))
		return err
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// getItem streams an item's plaintext (GET /v1/items/{item}).
func (h *Handler) getItem(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	q := r.URL.Query()
	reveal := q.Get("reveal_known")
	if reveal != "" && reveal != "true" && reveal != "false" {
		return fmt.Errorf("%w: reveal_known is true or false", vault.ErrBadInput)
	}
	rev, err := h.v.Open(r.Context(), who, vault.RevealRequest{Item: r.PathValue("item"), Purpose: q.Get("purpose"), RevealKnown: reveal == "true"})
	if err != nil {
		return err
	}
	if rev.Warning != "" {
		w.Header().Set(HeaderWarning, rev.Warning)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderSHA256, rev.Item.Deposit.SHA256)
	w.Header().Set(HeaderSize, strconv.FormatInt(rev.Item.Deposit.Size, 10))
	w.Header().Set(HeaderAccessEvent, strconv.FormatUint(rev.Access, 10))
	w.Header().Set("Content-Length", strconv.FormatInt(rev.Item.Deposit.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rev); err != nil {
		if rev.Failed() {
			rev.Finish(r.Context())
		} else {
			rev.Abort(r.Context(), err)
		}
		// Cut the connection: the client must see a broken transfer, never
		// a short body that looks complete.
		panic(http.ErrAbortHandler)
	}
	if err := rev.Finish(r.Context()); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}
