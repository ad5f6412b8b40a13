package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/custos-vault/custos/vault"
)

// Sealing a package from the web application, as custos package seal
// does (docs/web.md section 2): the case's investigators and the
// custodians choose who it is for, why, and which items. The vault
// decides everything; the page only offers the form.
//
// Which items is said explicitly: "every item of the case" or "the
// items chosen", never inferred from an empty list, so that a choice
// lost on its way (a reloaded page, a form cut short) can never seal
// the whole case instead of the few items meant.

func init() {
	register("GET "+Prefix+"cases/{case}/seal", (*Handler).sealPage)
	register("POST "+Prefix+"cases/{case}/packages", (*Handler).sealPackage)
}

// maxSealChoice bounds how many items one form lists by name; more are
// sealed by choosing every item, or with custos package seal --items.
const maxSealChoice = 500

type sealItem struct {
	ID, Name, SHA256 string
	Size             int64
}

type sealData struct {
	Case *vault.CaseDetail
	// Chosen are the items chosen on the case page (?item=ID, repeated),
	// with their names where the person may list them.
	Chosen []sealItem
	// Recipients are the prosecutors and defence counsel a custodian,
	// who lists people, may pick from; an investigator types the name
	// (sealing is not a way to list people: security.md).
	Recipients []vault.PersonInfo
	// ApprovalNeeded: the case requires a custodian's approval of every
	// export, so the form opens a request.
	ApprovalNeeded bool
}

// mayOfferSeal mirrors the vault's rule of who seals (investigators and
// custodians); it only decides which links a page shows.
func mayOfferSeal(role string) bool {
	return role == vault.RoleInvestigator || role == vault.RoleCustodian
}

func (h *Handler) sealPage(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.v.MayAsk(r.Context(), s.who, "package.seal", r.PathValue("case")); err != nil {
		return err
	}
	c, err := h.v.ShowCase(r.Context(), s.who, r.PathValue("case"))
	if err != nil {
		return err
	}
	if c.Destroyed {
		return fmt.Errorf("%w: case %s was destroyed: nothing of it can be sealed", vault.ErrConflict, c.Case)
	}
	d := sealData{Case: c, ApprovalNeeded: c.ExportApproval}
	ids, err := chosenItems(r.URL.Query()["item"], "")
	if err != nil {
		return err
	}
	for _, id := range ids {
		it := sealItem{ID: id}
		if s.who.Role == vault.RoleInvestigator {
			// The vault answers only for items of this case the person
			// may list; an item of another case is refused by the
			// sealing itself, recorded there.
			if detail, err := h.v.ShowItem(r.Context(), s.who, id); err == nil && detail.Case == c.Case {
				it.Name, it.SHA256, it.Size = detail.Name, detail.SHA256, detail.Size
			}
		}
		d.Chosen = append(d.Chosen, it)
	}
	if s.who.Role == vault.RoleCustodian {
		ps, err := h.v.Persons(r.Context(), s.who)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if receivesPackages(p.Role) && p.Status == "active" {
				d.Recipients = append(d.Recipients, p)
			}
		}
	}
	return h.render(w, r, s, http.StatusOK, "seal", s.lang.text("seal.title", c.Case), d)
}

// chosenItems reads item ids from a form's repeated item fields and its
// free-text list (ids separated by spaces, commas or new lines), in the
// order given, without repeats. The vault checks each id (its form, its
// case); this only bounds the list.
func chosenItems(fields []string, text string) ([]string, error) {
	all := slices.Clone(fields)
	all = append(all, strings.FieldsFunc(text, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})...)
	var ids []string
	for _, id := range all {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) > maxSealChoice {
		return nil, fmt.Errorf("%w: %d items chosen; a form takes at most %d: choose every item of the case, or seal with custos package seal --items", vault.ErrBadInput, len(ids), maxSealChoice)
	}
	return ids, nil
}

// sealPackage seals a package (or, where the case requires approval of
// exports, opens the request for it) from the seal form: for, purpose,
// scope ("all" or "chosen"), item (repeated) and items (typed ids),
// disclose_others.
func (h *Handler) sealPackage(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := form(w, r); err != nil {
		return err
	}
	f := r.PostForm
	caseID := r.PathValue("case")
	req := vault.SealRequest{Case: caseID, For: strings.TrimSpace(f.Get("for")), Purpose: strings.TrimSpace(f.Get("purpose")),
		DiscloseOthers: f.Get("disclose_others") == "yes"}
	switch f.Get("scope") {
	case "all":
		// Items stays empty: the vault seals every item of the case.
	case "chosen":
		ids, err := chosenItems(f["item"], f.Get("items"))
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("%w: no item is chosen: tick the items to seal, type their ids, or choose every item of the case", vault.ErrBadInput)
		}
		req.Items = ids
	default:
		return fmt.Errorf("%w: say which items to seal: every item of the case, or the items chosen", vault.ErrBadInput)
	}
	p, err := h.v.SealPackage(r.Context(), s.who, req)
	if err != nil {
		return err
	}
	back := Prefix + "cases/" + caseID
	if p.Request != nil {
		return h.showRequest(w, r, s, p.Request, s.lang.text("decision.seal", caseID, req.For), back)
	}
	d := decisionData{Sealed: p, For: req.For, Back: back}
	return h.render(w, r, s, http.StatusOK, "decision", s.lang.text("decision.title.sealed"), d)
}
