package web

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-vault/custos/vault"
)

func init() {
	register("GET "+Prefix+"cases/{case}", (*Handler).casePage)
	register("GET "+Prefix+"cases/{case}/upload", (*Handler).uploadPage)
	register("POST "+Prefix+"cases/{case}/items", (*Handler).upload)
	register("GET "+Prefix+"cases/{case}/held", (*Handler).held)
	register("POST "+Prefix+"cases/{case}/skipped", (*Handler).recordSkipped)
}

// PageSize is how many items a case page lists.
const PageSize = 50

type caseData struct {
	Case   *vault.CaseDetail
	Items  *vault.ItemPage
	Member bool
	Query  string
	// Waiting lists only the items still waiting for a classification,
	// as the triage queue does (?waiting=yes).
	Waiting   bool
	Page      int
	Pages     int
	From, To  int
	PrevURL   string
	NextURL   string
	CanManage bool
	CanAudit  bool
	// CanSeal offers the seal form; Choose, to the case's
	// investigators, a box on each item to choose it for a package.
	CanSeal, Choose bool
	// Chosen are the items ticked so far (?item=, repeated): the page's
	// boxes, its pager and its search are one form, so that ticks made on
	// one page stay as the person turns pages or searches; Elsewhere are
	// those not on this page, carried in the form unseen. Prev and Next
	// are the pages its pager's buttons ask for (0: none).
	Chosen     map[string]bool
	Elsewhere  []string
	Prev, Next int
	// Receives: a prosecutor or defence counsel, who sees the case's
	// packages sealed for them on their Packages page.
	Receives bool
}

// searchFilter reads the case page's one search box: 32, 40 or 64 hex
// digits search by MD5, SHA-1 or SHA-256, other runs of 8 or more hex
// digits by the start of the SHA-256; anything else is a name, a pattern
// if it has *, ? or [, otherwise a part of the name.
func searchFilter(q string) vault.ItemFilter {
	q = strings.TrimSpace(q)
	if q == "" {
		return vault.ItemFilter{}
	}
	if _, err := hex.DecodeString(q); err == nil || len(q)%2 == 1 && strings.Trim(strings.ToLower(q), "0123456789abcdef") == "" {
		switch {
		case len(q) == 64:
			return vault.ItemFilter{SHA256: q}
		case len(q) == 40:
			return vault.ItemFilter{SHA1: q}
		case len(q) == 32:
			return vault.ItemFilter{MD5: q}
		case len(q) >= 8 && len(q) < 64:
			// The start of a SHA-256, as the case page shows it.
			return vault.ItemFilter{SHA256Prefix: q}
		}
	}
	if !strings.ContainsAny(q, "*?[") {
		q = "*" + q + "*"
	}
	return vault.ItemFilter{Name: q}
}

func (h *Handler) casePage(w http.ResponseWriter, r *http.Request, s *session) error {
	caseID := r.PathValue("case")
	c, err := h.v.ShowCase(r.Context(), s.who, caseID)
	if err != nil {
		return err
	}
	d := caseData{Case: c, CanManage: s.who.Role == vault.RoleCustodian, CanAudit: s.who.Role == vault.RoleAuditor}
	d.Member = s.who.Role == vault.RoleInvestigator || s.who.Role == vault.RoleAnalyst
	d.CanSeal = mayOfferSeal(s.who.Role) && !c.Destroyed
	d.Receives = receivesPackages(s.who.Role)
	d.Choose = d.CanSeal && s.who.Role == vault.RoleInvestigator
	if d.Member {
		q := r.URL.Query()
		d.Query, d.Waiting = q.Get("q"), q.Get("waiting") == "yes"
		if q.Get("clear") == "yes" {
			// "Show all", a button of the page's form so that the
			// ticks go with it: the search and its filter end.
			d.Query, d.Waiting = "", false
		}
		d.Page, _ = strconv.Atoi(q.Get("page"))
		d.Page = min(max(1, d.Page), 1_000_000_000)
		f := searchFilter(d.Query)
		f.Unclassified = d.Waiting
		p, err := h.v.ItemsPage(r.Context(), s.who, caseID, f, (d.Page-1)*PageSize, PageSize)
		if err != nil {
			return err
		}
		d.Items = p
		d.Pages = max(1, (p.Total+PageSize-1)/PageSize)
		d.From, d.To = p.Offset+1, p.Offset+len(p.Items)
		link := func(page int) string {
			v := url.Values{"page": {strconv.Itoa(page)}}
			if d.Query != "" {
				v.Set("q", d.Query)
			}
			if d.Waiting {
				v.Set("waiting", "yes")
			}
			return Prefix + "cases/" + url.PathEscape(caseID) + "?" + v.Encode()
		}
		if d.Page > 1 {
			d.PrevURL, d.Prev = link(d.Page-1), d.Page-1
		}
		if d.Page < d.Pages {
			d.NextURL, d.Next = link(d.Page+1), d.Page+1
		}
		if d.Choose {
			if err := d.choose(q["item"]); err != nil {
				return err
			}
		}
	}
	return h.render(w, r, s, http.StatusOK, "case", s.lang.text("case.page.title", c.Case), d)
}

// choose reads the items ticked on earlier pages (ids, as the form sent
// them): those on this page are shown ticked, the others carried on.
// Only what has an item id's form is kept: the seal form asks the vault
// which of them are the case's.
func (d *caseData) choose(ids []string) error {
	ids, err := chosenItems(ids, "")
	if err != nil {
		return err
	}
	d.Chosen = map[string]bool{}
	for _, id := range ids {
		if itemIDForm.MatchString(id) {
			d.Chosen[id] = true
		}
	}
	for _, id := range ids {
		if d.Chosen[id] && !slices.ContainsFunc(d.Items.Items, func(it vault.ItemSummary) bool { return it.ID == id }) {
			d.Elsewhere = append(d.Elsewhere, id)
		}
	}
	return nil
}

// itemIDForm is the form of an item id (vault's itemIDPattern).
var itemIDForm = regexp.MustCompile(`^it_[0-9a-f]{24}$`)

type uploadData struct {
	Case *vault.CaseDetail
	// Report is the hotline report the files are captures for, if the
	// page was opened from one.
	Report string
}

func (h *Handler) uploadPage(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.v.ShowCase(r.Context(), s.who, r.PathValue("case"))
	if err != nil {
		return err
	}
	return h.render(w, r, s, http.StatusOK, "upload", s.lang.text("upload.title", c.Case), uploadData{Case: c, Report: r.URL.Query().Get("report")})
}

// held answers the upload page's question before it sends a file: does
// the case hold a file of this name (name) and SHA-256 (sha256, hashed
// by the browser) from this source (source, as the form gives it)
// already? {"item": ID} or {"item": ""}, as JSON. It is
// asked only to save sending a copy: the vault checks again at the
// deposit, by its own hash. The name is taken as upload takes it. Of a destroyed case it answers the deposit's
// refusal (409), on which the page stops.
func (h *Handler) held(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	item, err := h.v.HeldAs(r.Context(), s.who, r.PathValue("case"), vault.EscapeName([]byte(q.Get("name"))), q.Get("sha256"), q.Get("source"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"item": item})
	return nil
}

// upload deposits one file whose bytes are the request body, as POST
// /v1/cases/{case}/items does: name, note, source, report and
// expect_sha256 (an acquisition hash the vault checks) in the query. A
// file the case already holds under the same name with the same SHA-256
// and source is refused (nothing kept), as the CLI skips it, unless
// again=yes. The
// page's script sends one request per file, with the CSRF token in a
// header, and reads the JSON answer. A browser gives a file's name as
// text, which is recorded in the vault's form of names (vault.EscapeName,
// as custos deposit records it): a backslash, a newline or a
// right-to-left override in it is kept, escaped, and never refuses the
// file.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	res, err := h.v.Deposit(r.Context(), s.who, vault.DepositRequest{
		Case: r.PathValue("case"), Name: vault.EscapeName([]byte(q.Get("name"))), Note: q.Get("note"), Source: q.Get("source"), Report: q.Get("report"),
		Body:     r.Body,
		Expect:   vault.Hashes{SHA256: strings.ToLower(q.Get("expect_sha256"))},
		NotAgain: q.Get("again") != "yes",
	})
	var already *vault.AlreadyDeposited
	if errors.As(err, &already) {
		// Not a failure to the person uploading: the file is in the
		// case already, as the item named.
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error(), "already": already.Item})
		return nil
	}
	if err != nil {
		if r.Context().Err() != nil {
			h.log.Info("an upload was cancelled by its browser; nothing of it is kept", "case", r.PathValue("case"), "person", s.who.Name)
		}
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

// maxSkippedBody bounds the JSON of a statement of files not deposited
// (vault.MaxSkippedBytes of files, with room for the JSON around them).
const maxSkippedBody = 256 << 10

// recordSkipped records, as POST /v1/cases/{case}/skipped does, the
// upload page's statement of what a run found and did not store (a file
// the browser could not read, one the vault refused for its acquisition
// hash, one the pasted acquisition list names but that was not among the
// files chosen): a vault.DepositSkipped as JSON, sent by the page's
// script with the CSRF token in a header once the run ends. The answer is
// {"event": N}, the deposit.skipped event's position.
func (h *Handler) recordSkipped(w http.ResponseWriter, r *http.Request, s *session) error {
	var st vault.DepositSkipped
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSkippedBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("%w: the statement of files not deposited is not one this page writes: %v", vault.ErrBadInput, err)
	}
	seq, err := h.v.RecordSkipped(r.Context(), s.who, r.PathValue("case"), st)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]uint64{"event": seq})
	return nil
}
