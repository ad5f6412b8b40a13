package api

import (
	"io"
	"net/http"
	"strconv"

	"github.com/custos-vault/custos/vault"
)

// PackageRequest is the body of POST /v1/packages.
type PackageRequest struct {
	Case    string   `json:"case"`
	For     string   `json:"for"`
	Purpose string   `json:"purpose"`
	Items   []string `json:"items,omitempty"`
	// DiscloseOthers: the package's report states the other packages
	// the same items were sealed in.
	DiscloseOthers bool `json:"disclose_others,omitempty"`
}

// PackageResponse is the answer of POST /v1/packages.
type PackageResponse = vault.SealedPackage

func (h *Handler) sealPackage(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PackageRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	p, err := h.v.SealPackage(r.Context(), who, vault.SealRequest{Case: req.Case, For: req.For, Purpose: req.Purpose, Items: req.Items, DiscloseOthers: req.DiscloseOthers})
	if err != nil {
		return err
	}
	if p.Request != nil {
		writeJSON(w, http.StatusAccepted, requestResponse(p.Request, false))
		return nil
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

// fetchPackage streams a package file (GET /v1/packages/{package}).
func (h *Handler) fetchPackage(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	f, sealed, err := h.v.FetchPackage(r.Context(), who, r.PathValue("package"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set(HeaderSHA256, sealed.SHA256)
	w.Header().Set(HeaderSize, strconv.FormatInt(sealed.Size, 10))
	w.Header().Set("Content-Length", strconv.FormatInt(sealed.Size, 10))
	ServePackage(w, r, f)
	return nil
}

// ServePackage answers 200 with a package file, the headers the caller
// set, and records how the retrieval ended (vault.PackageFetch's Finish
// or Abort). A failure midway cuts the connection: the client sees a
// broken transfer, never a short file that looks complete.
//
// The file counts as sent once the connection took all of it: the
// response is flushed before the completion is recorded, so that a file
// whose end is still in the server's buffers is not recorded as sent.
func ServePackage(w http.ResponseWriter, r *http.Request, f *vault.PackageFetch) {
	defer f.Close()
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, f)
	if err == nil {
		err = http.NewResponseController(w).Flush()
	}
	if err != nil {
		f.Abort(r.Context(), err)
		panic(http.ErrAbortHandler)
	}
	if err := f.Finish(r.Context()); err != nil {
		panic(http.ErrAbortHandler)
	}
}
