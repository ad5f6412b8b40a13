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
		ExpectList:   expectList(q.Get("expect_list"), q.Get("expect_list_sha256"), q.Get("expect_list_entry")),
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

// expectList is the hash list a deposit's expected hashes were read
// from (expect_list, expect_list_sha256, expect_list_entry), nil when
// none is given; the vault checks them.
func expectList(name, sum, entry string) *vault.AcquisitionList {
	if name == "" && sum == "" && entry == "" {
		return nil
	}
	return &vault.AcquisitionList{Name: name, SHA256: sum, Entry: entry}
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
	ServeReveal(w, r, rev)
	return nil
}

// ServeReveal answers 200 with a reveal's plaintext, the headers that
// describe it (Custos-Sha256, Custos-Size, Custos-Access-Event, the
// welfare warning, Content-Length) added to those the caller set, and
// finishes the reveal. A failure midway cuts the connection: the client
// sees a broken transfer, never a short body that looks complete.
func ServeReveal(w http.ResponseWriter, r *http.Request, rev *vault.Reveal) {
	hd := w.Header()
	if rev.Warning != "" {
		hd.Set(HeaderWarning, rev.Warning)
	}
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set(HeaderSHA256, rev.Item.Deposit.SHA256)
	hd.Set(HeaderSize, strconv.FormatInt(rev.Item.Deposit.Size, 10))
	hd.Set(HeaderAccessEvent, strconv.FormatUint(rev.Access, 10))
	hd.Set("Content-Length", strconv.FormatInt(rev.Item.Deposit.Size, 10))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rev); err != nil {
		if rev.Failed() {
			rev.Finish(r.Context())
		} else {
			rev.Abort(r.Context(), err)
		}
		panic(http.ErrAbortHandler)
	}
	// Completed once the connection took the whole file, not while its
	// end is still in the server's buffers.
	if err := http.NewResponseController(w).Flush(); err != nil {
		rev.Abort(r.Context(), err)
		panic(http.ErrAbortHandler)
	}
	if err := rev.Finish(r.Context()); err != nil {
		panic(http.ErrAbortHandler)
	}
}
