package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/custos-vault/custos/vault"
)

// CaseRequest is the body of POST /v1/cases.
type CaseRequest struct {
	Case  string `json:"case"`
	Title string `json:"title"`
	// Retention, a Go duration ("87600h"), overrides the default.
	Retention string `json:"retention,omitempty"`
}

// CaseResponse is the answer of POST /v1/cases.
type CaseResponse struct {
	Case string `json:"case"`
}

func (h *Handler) openCase(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req CaseRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	var retention time.Duration
	if req.Retention != "" {
		d, err := time.ParseDuration(req.Retention)
		if err != nil {
			return fmt.Errorf("%w: retention %q is not a duration such as 87600h", vault.ErrBadInput, req.Retention)
		}
		retention = d
	}
	if err := h.v.OpenCaseWith(r.Context(), who, req.Case, req.Title, retention); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CaseResponse{Case: req.Case})
	return nil
}

// MemberRequest is the body of POST /v1/cases/{case}/members.
type MemberRequest struct {
	Person string `json:"person"`
	// Reason is why the person is assigned (optional, recorded with the
	// request).
	Reason string `json:"reason,omitempty"`
}

// MemberResponse is the answer of POST /v1/cases/{case}/members and of
// POST /v1/cases/{case}/members/{person}/remove.
type MemberResponse struct {
	Case   string `json:"case"`
	Person string `json:"person"`
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req MemberRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	info, err := h.v.AddMember(r.Context(), who, r.PathValue("case"), req.Person, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, requestResponse(info, false))
	return nil
}

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
	writeJSON(w, http.StatusOK, MemberResponse{Case: r.PathValue("case"), Person: r.PathValue("person")})
	return nil
}

// HoldRequest is the body of POST /v1/cases/{case}/hold.
type HoldRequest struct {
	// On places the hold (true) or lifts it (false); it must be given
	// (requestRules), so that a request that leaves it out lifts nothing.
	On     bool   `json:"on"`
	Reason string `json:"reason"`
}

// HoldResponse is the answer of POST /v1/cases/{case}/hold: the state the
// case is now in and how many objects got or lost the store's hold.
type HoldResponse struct {
	Case    string `json:"case"`
	Held    bool   `json:"held"`
	Objects int    `json:"objects"`
	// Recorded is false when the case was already in that state: nothing
	// was recorded, and the hold was applied to its objects again.
	Recorded bool `json:"recorded"`
	// Voided are the destruction requests the hold placed voided.
	Voided []string `json:"voided,omitempty"`
}

func (h *Handler) hold(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req HoldRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	res, err := h.v.SetHold(r.Context(), who, r.PathValue("case"), req.On, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, HoldResponse{Case: r.PathValue("case"), Held: req.On, Objects: res.Objects, Recorded: res.Recorded, Voided: res.Voided})
	return nil
}

// SkippedRequest is the body of POST /v1/cases/{case}/skipped: what a
// deposit left out (vault.RecordSkipped).
type SkippedRequest = vault.DepositSkipped

// SkippedResponse is the answer of POST /v1/cases/{case}/skipped: the
// deposit.skipped event's sequence number.
type SkippedResponse struct {
	Case  string `json:"case"`
	Event uint64 `json:"event"`
}

func (h *Handler) recordSkipped(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req SkippedRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	seq, err := h.v.RecordSkipped(r.Context(), who, r.PathValue("case"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SkippedResponse{Case: r.PathValue("case"), Event: seq})
	return nil
}

// DestructionRequest is the body of POST /v1/cases/{case}/destruction.
type DestructionRequest struct {
	Order  string `json:"order"`
	Reason string `json:"reason"`
}

// DestructionResponse is the answer of POST /v1/cases/{case}/destruction:
// the id of the request a second custodian approves.
type DestructionResponse struct {
	Case    string `json:"case"`
	Request string `json:"request"`
}

func (h *Handler) requestDestruction(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req DestructionRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	id, err := h.v.RequestDestruction(r.Context(), who, r.PathValue("case"), req.Order, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, DestructionResponse{Case: r.PathValue("case"), Request: id})
	return nil
}

// DestroyResponse is the answer of POST
// /v1/cases/{case}/destruction/{request}/approve.
type DestroyResponse = vault.DestroyResult

func (h *Handler) approveDestruction(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	res, err := h.v.ApproveDestruction(r.Context(), who, r.PathValue("case"), r.PathValue("request"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
