package api

import (
	"net/http"

	"github.com/custos-vault/custos/vault"
)

// RequestsResponse is the answer of GET /v1/requests: the pending
// two-person requests the caller may see, oldest first.
type RequestsResponse struct {
	Requests []vault.PendingRequest `json:"requests"`
	// Destructions are the cases' pending destruction requests, for
	// custodians: decided with POST /v1/cases/{case}/destruction/approve.
	Destructions []vault.PendingDestruction `json:"destructions,omitempty"`
	// Ended are the caller's own two-person requests that ended in the
	// last 30 days (vault.EndedShownFor), newest first: approved,
	// rejected, withdrawn or expired, with who decided and why.
	Ended []vault.EndedRequest `json:"ended,omitempty"`
}

func (h *Handler) requests(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	writeJSON(w, http.StatusOK, RequestsResponse{Requests: append([]vault.PendingRequest{}, h.v.Requests(who)...), Destructions: h.v.Destructions(who), Ended: h.v.EndedRequests(who)})
	return nil
}

func (h *Handler) approve(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	// An optional body gives the approver's reason (ReasonRequest).
	reason, err := readReason(w, r)
	if err != nil {
		return err
	}
	a, err := h.v.ApproveWithReason(r.Context(), who, r.PathValue("request"), reason)
	if err != nil {
		return err
	}
	resp := requestResponse(&a.RequestInfo, true)
	resp.Package, resp.HashSet, resp.ClassificationPolicy = a.Package, a.HashSet, a.ClassificationPolicy
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// RejectRequest is the body of POST /v1/requests/{request}/reject.
type RejectRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RejectRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	info, err := h.v.Reject(r.Context(), who, r.PathValue("request"), req.Reason)
	if err != nil {
		return err
	}
	out := requestResponse(info, false)
	out.Withdrawn = info.By == who.Name
	writeJSON(w, http.StatusOK, out)
	return nil
}

// PolicyRequest is the body of POST /v1/cases/{case}/policy.
type PolicyRequest struct {
	ExportApproval string `json:"export_approval"`
	// Reason is why (optional), recorded with the policy or the request.
	Reason string `json:"reason,omitempty"`
}

// PolicyResponse answers it when the policy took effect at once
// (requiring approval); dropping the requirement is answered 202 with a
// RequestResponse.
type PolicyResponse struct {
	Case           string `json:"case"`
	ExportApproval string `json:"export_approval"`
	// Recorded is false when the policy was in force already: nothing
	// was recorded, and the reason given was not kept.
	Recorded bool `json:"recorded"`
}

func (h *Handler) setPolicy(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PolicyRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	ch, err := h.v.SetCasePolicy(r.Context(), who, r.PathValue("case"), req.ExportApproval, req.Reason)
	if err != nil {
		return err
	}
	if ch.Request != nil {
		writeJSON(w, http.StatusAccepted, requestResponse(ch.Request, false))
		return nil
	}
	writeJSON(w, http.StatusOK, PolicyResponse{Case: r.PathValue("case"), ExportApproval: req.ExportApproval, Recorded: ch.Recorded})
	return nil
}
