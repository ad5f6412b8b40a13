package api

import (
	"net/http"
	"time"

	"github.com/custos-vault/custos/vault"
)

// PersonRequest is the body of POST /v1/persons: the person to enrol and,
// optionally, the identity-provider claim value and certificate name that
// sign them in (default: their name).
type PersonRequest struct {
	Name        string `json:"name"`
	Role        string `json:"role"`
	OIDC        string `json:"oidc,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	// Reason is why the person is enrolled (optional, recorded with the
	// request).
	Reason string `json:"reason,omitempty"`
}

// ReasonRequest is the optional body of POST
// /v1/persons/{person}/reissue and /reinstate: why it is asked, recorded
// with the request. No body asks without a reason.
type ReasonRequest struct {
	Reason string `json:"reason,omitempty"`
}

// readReason reads an optional ReasonRequest body: none (no bytes,
// whatever Content-Type says) gives "".
func readReason(w http.ResponseWriter, r *http.Request) (string, error) {
	if r.ContentLength == 0 {
		return "", nil
	}
	var req ReasonRequest
	if err := readJSON(w, r, &req); err != nil {
		return "", err
	}
	return req.Reason, nil
}

// RequestResponse answers a command that needs a custodian other than
// the requester (202 Accepted), and an approval or rejection (200): the
// request, and, where the decision issues an invitation, this
// custodian's half of it, shown this once.
type RequestResponse struct {
	Approved       bool      `json:"approved"`
	By             string    `json:"by"`
	Case           string    `json:"case,omitempty"`
	Expires        time.Time `json:"expires"`
	InvitationPart string    `json:"invitation_part,omitempty"`
	Kind           string    `json:"kind"`
	// Package is the sealed package of an approved package.seal request.
	Package *vault.SealedPackage `json:"package,omitempty"`
	// HashSet is the hash set an approved hashset.import put in use.
	HashSet *vault.HashSetImportResult `json:"hashset,omitempty"`
	// ClassificationPolicy is what an approved lowering of a case's
	// classification policy did to its items.
	ClassificationPolicy *vault.PolicyEffect `json:"classification_policy,omitempty"`
	Person               string              `json:"person,omitempty"`
	Request              string              `json:"request"`
	// Reason is why the requester asked, as they typed it (absent if
	// they gave none).
	Reason string `json:"reason,omitempty"`
	// Withdrawn is true in the answer of a rejection by the request's
	// own requester.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

func requestResponse(info *vault.RequestInfo, approved bool) RequestResponse {
	return RequestResponse{Request: info.ID, Kind: info.Kind, Case: info.Case, Person: info.Person, By: info.By,
		Expires: info.Expires, Approved: approved, Reason: info.Reason,
		// Revealed from its secret type only here: this custodian's half.
		InvitationPart: info.InvitationPart.Reveal()}
}

func (h *Handler) enroll(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PersonRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	info, err := h.v.EnrollBy(r.Context(), who, vault.Enrolment{Name: req.Name, Role: req.Role, OIDC: req.OIDC, Certificate: req.Certificate, Reason: req.Reason})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, requestResponse(info, false))
	return nil
}

// PersonsResponse is the answer of GET /v1/persons.
type PersonsResponse struct {
	Persons []vault.PersonInfo `json:"persons"`
	// Pending are the enrolments asked for that no second custodian has
	// decided yet, oldest first.
	Pending []vault.PendingEnrolment `json:"pending,omitempty"`
}

func (h *Handler) persons(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	ps, err := h.v.Persons(r.Context(), who)
	if err != nil {
		return err
	}
	pending, err := h.v.PendingEnrolments(r.Context(), who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PersonsResponse{Persons: append([]vault.PersonInfo{}, ps...), Pending: pending})
	return nil
}

func (h *Handler) reissue(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	reason, err := readReason(w, r)
	if err != nil {
		return err
	}
	info, err := h.v.Reissue(r.Context(), who, r.PathValue("person"), reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, requestResponse(info, false))
	return nil
}

func (h *Handler) reinstate(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	reason, err := readReason(w, r)
	if err != nil {
		return err
	}
	info, err := h.v.Reinstate(r.Context(), who, r.PathValue("person"), reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, requestResponse(info, false))
	return nil
}

// PersonStatusRequest is the body of POST /v1/persons/{person}/suspend and
// /remove.
type PersonStatusRequest struct {
	// LeavingFewerCustodians confirms the suspension or removal of a
	// custodian that leaves fewer than two active custodians (refused,
	// 409, without it).
	LeavingFewerCustodians bool   `json:"leaving_fewer_custodians,omitempty"`
	Reason                 string `json:"reason"`
}

// options are the vault's options of req.
func (req PersonStatusRequest) options() []vault.StatusOption {
	if req.LeavingFewerCustodians {
		return []vault.StatusOption{vault.LeavingFewerCustodians}
	}
	return nil
}

// PersonStatusResponse is their answer.
type PersonStatusResponse struct {
	Person string `json:"person"`
	// Recorded is false when the person was already in that state:
	// nothing was recorded, and the reason given was not kept.
	Recorded bool   `json:"recorded"`
	Status   string `json:"status"`
}

func (h *Handler) suspend(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PersonStatusRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	recorded, err := h.v.Suspend(r.Context(), who, r.PathValue("person"), req.Reason, req.options()...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PersonStatusResponse{Person: r.PathValue("person"), Status: "suspended", Recorded: recorded})
	return nil
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req PersonStatusRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	recorded, err := h.v.Remove(r.Context(), who, r.PathValue("person"), req.Reason, req.options()...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PersonStatusResponse{Person: r.PathValue("person"), Status: "removed", Recorded: recorded})
	return nil
}

// RecipientRequest is the body of POST /v1/recipient.
type RecipientRequest struct {
	Recipient string `json:"recipient"`
}

// RecipientResponse is the answer of POST /v1/recipient: the recipient in
// canonical form. A replacement of a registered recipient is answered 202
// with a RequestResponse instead.
type RecipientResponse struct {
	Recipient string `json:"recipient"`
}

func (h *Handler) setRecipient(w http.ResponseWriter, r *http.Request, who vault.Principal) error {
	var req RecipientRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	rec, info, err := h.v.SetRecipient(r.Context(), who, req.Recipient)
	if err != nil {
		return err
	}
	if info != nil {
		writeJSON(w, http.StatusAccepted, requestResponse(info, false))
		return nil
	}
	writeJSON(w, http.StatusOK, RecipientResponse{Recipient: rec})
	return nil
}
